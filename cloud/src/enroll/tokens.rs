//! One-time enrollment tokens (only their SHA-256 is stored; single use, with an expiry, revocable) and
//! the record of every certificate issued. A token is claimed by one conditional `UPDATE` in the
//! transaction that records the certificate, so two requests racing with one token cannot both get a
//! certificate, on SQLite or PostgreSQL.

use jachai_protocol::KioskId;
use serde::Serialize;
use sqlx::Row;

use super::ca::{random_serial, Issued};
use crate::objects::sha256_hex;
use crate::store::{Ctx, Store, StoreError};

/// What a presented token turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenState {
    /// No such token.
    Unknown,
    Used,
    Revoked,
    Expired,
    /// Good for one enrollment of this kiosk.
    Pending {
        kiosk: String,
        hash: String,
    },
}

/// A token as the console lists it (never the token itself).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    /// The token's public id (for revoking).
    pub id: String,
    pub kiosk: String,
    pub label: String,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// `pending`, `used`, `expired` or `revoked`.
    pub state: String,
    pub used_at: Option<i64>,
}

/// A freshly issued token: shown once, then only its hash exists.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub id: String,
    pub token: String,
    pub expires_at: i64,
}

/// Why a token could not be issued or revoked.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Conflict(String),
    #[error("no enrollment token {0:?}")]
    NotFound(String),
}

/// Tokens and enrollments in the cloud database.
#[derive(Debug, Clone)]
pub struct Enrollments {
    store: Store,
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Enrollments {
    pub fn new(store: Store) -> Enrollments {
        Enrollments { store }
    }

    /// Issues a token for `kiosk` valid `ttl_s` seconds. Refused (conflict) while the kiosk has a pending
    /// token or was enrolled before, unless `replace`: then its pending tokens are revoked and the new
    /// enrollment will stand beside the old certificate until that one expires.
    pub async fn issue_token(
        &self,
        kiosk: &KioskId,
        label: &str,
        created_by: &str,
        ttl_s: u64,
        replace: bool,
        now: i64,
    ) -> Result<NewToken, TokenError> {
        let mut tx = self.store.begin().await?;
        let pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM enroll_tokens WHERE kiosk = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(kiosk.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .ctx("counting pending tokens")?;
        let enrolled: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM enrollments WHERE kiosk = $1")
            .bind(kiosk.as_str())
            .fetch_one(&mut *tx)
            .await
            .ctx("counting enrollments")?;
        if !replace && pending > 0 {
            return Err(TokenError::Conflict(format!(
                "kiosk {kiosk} already has a pending enrollment token; revoke it, or ask with \"replace\": true"
            )));
        }
        if !replace && enrolled > 0 {
            return Err(TokenError::Conflict(format!(
                "kiosk {kiosk} is enrolled already; to enroll it again (new SD card, new key) ask with \"replace\": true"
            )));
        }
        if replace {
            sqlx::query("UPDATE enroll_tokens SET revoked_at = $1 WHERE kiosk = $2 AND used_at IS NULL AND revoked_at IS NULL")
                .bind(now)
                .bind(kiosk.as_str())
                .execute(&mut *tx)
                .await
                .ctx("revoking pending tokens")?;
        }
        let token = crate::users::random_token();
        let (_, id) = random_serial();
        let id = id[..16].to_string();
        let expires_at = now.saturating_add(i64::try_from(ttl_s).unwrap_or(i64::MAX));
        sqlx::query(
            "INSERT INTO enroll_tokens (token_sha256, id, kiosk, label, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(sha256_hex(token.as_bytes()))
        .bind(&id)
        .bind(kiosk.as_str())
        .bind(label)
        .bind(created_by)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await
        .ctx("storing a token")?;
        tx.commit().await.ctx("committing a token")?;
        Ok(NewToken {
            id,
            token,
            expires_at,
        })
    }

    /// What `token` is, at `now`.
    pub async fn check(&self, token: &str, now: i64) -> Result<TokenState, StoreError> {
        if token.is_empty() || token.len() > jachai_protocol::enroll::MAX_TOKEN_LEN {
            return Ok(TokenState::Unknown);
        }
        let hash = sha256_hex(token.as_bytes());
        let row = sqlx::query(
            "SELECT token_sha256, kiosk, expires_at, used_at, revoked_at FROM enroll_tokens WHERE token_sha256 = $1",
        )
        .bind(&hash)
        .fetch_optional(self.store.pool())
        .await
        .ctx("reading a token")?;
        let Some(row) = row else {
            return Ok(TokenState::Unknown);
        };
        let stored: String = row.try_get(0).ctx("reading a token")?;
        if !constant_time_eq(stored.as_bytes(), hash.as_bytes()) {
            return Ok(TokenState::Unknown);
        }
        let used: Option<i64> = row.try_get(3).ctx("reading a token")?;
        let revoked: Option<i64> = row.try_get(4).ctx("reading a token")?;
        let expires_at: i64 = row.try_get(2).ctx("reading a token")?;
        Ok(if used.is_some() {
            TokenState::Used
        } else if revoked.is_some() {
            TokenState::Revoked
        } else if expires_at <= now {
            TokenState::Expired
        } else {
            TokenState::Pending {
                kiosk: row.try_get(1).ctx("reading a token")?,
                hash,
            }
        })
    }

    /// Claims the token (still pending at `now`) and records the certificate, in one transaction.
    /// `false` when another request claimed it first (or it was revoked or expired meanwhile).
    pub async fn claim(
        &self,
        hash: &str,
        kiosk: &str,
        issued: &Issued,
        peer: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.store.begin().await?;
        let claimed = sqlx::query(
            "UPDATE enroll_tokens SET used_at = $1 WHERE token_sha256 = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(hash)
        .execute(&mut *tx)
        .await
        .ctx("claiming a token")?
        .rows_affected();
        if claimed != 1 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO enrollments (serial, kiosk, token_sha256, enrolled_at, not_after, peer, cert_pem) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&issued.serial)
        .bind(kiosk)
        .bind(hash)
        .bind(now)
        .bind(issued.not_after)
        .bind(peer)
        .bind(&issued.pem)
        .execute(&mut *tx)
        .await
        .ctx("recording an enrollment")?;
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(now)
        .bind(format!("kiosk:{kiosk}"))
        .bind("kiosk_enrolled")
        .bind(kiosk)
        .bind(format!("serial {} from {peer}", issued.serial))
        .execute(&mut *tx)
        .await
        .ctx("auditing an enrollment")?;
        tx.commit().await.ctx("committing an enrollment")?;
        Ok(true)
    }

    /// Every token, newest first (at most 500).
    pub async fn list(&self, now: i64) -> Result<Vec<TokenView>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kiosk, label, created_by, created_at, expires_at, used_at, revoked_at FROM enroll_tokens ORDER BY created_at DESC, id LIMIT 500",
        )
        .fetch_all(self.store.pool())
        .await
        .ctx("listing tokens")?;
        rows.iter()
            .map(|r| {
                let expires_at: i64 = r.try_get(5).ctx("reading a token")?;
                let used_at: Option<i64> = r.try_get(6).ctx("reading a token")?;
                let revoked_at: Option<i64> = r.try_get(7).ctx("reading a token")?;
                let state = match (used_at, revoked_at) {
                    (Some(_), _) => "used",
                    (None, Some(_)) => "revoked",
                    _ if expires_at <= now => "expired",
                    _ => "pending",
                };
                Ok(TokenView {
                    id: r.try_get(0).ctx("reading a token")?,
                    kiosk: r.try_get(1).ctx("reading a token")?,
                    label: r.try_get(2).ctx("reading a token")?,
                    created_by: r.try_get(3).ctx("reading a token")?,
                    created_at: r.try_get(4).ctx("reading a token")?,
                    expires_at,
                    state: state.to_string(),
                    used_at,
                })
            })
            .collect()
    }

    /// Revokes a pending token by id; returns its kiosk.
    pub async fn revoke(&self, id: &str, now: i64) -> Result<String, TokenError> {
        let mut tx = self.store.begin().await?;
        let row = sqlx::query("SELECT kiosk, used_at FROM enroll_tokens WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .ctx("reading a token")?;
        let Some(row) = row else {
            return Err(TokenError::NotFound(id.to_string()));
        };
        let kiosk: String = row.try_get(0).ctx("reading a token")?;
        let used: Option<i64> = row.try_get(1).ctx("reading a token")?;
        if used.is_some() {
            return Err(TokenError::Conflict(format!(
                "token {id} was used already; the kiosk's certificate stays valid until it expires"
            )));
        }
        sqlx::query(
            "UPDATE enroll_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .ctx("revoking a token")?;
        tx.commit().await.ctx("committing a revocation")?;
        Ok(kiosk)
    }
}
