//! Console users, sessions and the audit log, in the cloud database. Passwords are argon2id PHC strings;
//! a session cookie carries a random token of which only the SHA-256 is stored, beside a per-session CSRF
//! token. Hashing runs on a blocking thread (it is deliberately slow).

use std::fmt;
use std::str::FromStr;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::objects::sha256_hex;
use crate::store::{now, Ctx, Store, StoreError};

/// What a user may do: admins manage users and decide, reviewers decide, viewers read.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Reviewer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may approve or reject cases.
    pub fn can_decide(self) -> bool {
        self >= Role::Reviewer
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "reviewer" => Ok(Role::Reviewer),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role {other:?} (admin, reviewer, viewer)")),
        }
    }
}

/// Why a user could not be added.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a user name is 1-64 of [a-z0-9._-]: {0:?}")]
    BadName(String),
    #[error("a password is 10-256 characters")]
    BadPassword,
    #[error("user {0:?} already exists")]
    Exists(String),
    #[error("hashing the password: {0}")]
    Hash(String),
}

/// A logged-in user as a request sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub username: String,
    pub role: Role,
    pub csrf: String,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

/// An argon2id PHC string of `password` with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, UserError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UserError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string (a malformed stored hash never matches).
pub fn password_matches(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random URL-safe token (32 bytes).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A PHC string no password matches, verified when the user does not exist so that a login for an
/// unknown name takes as long as one for a known name.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

/// Users, sessions and the audit log.
#[derive(Debug, Clone)]
pub struct Users {
    store: Store,
}

impl Users {
    pub fn new(store: Store) -> Users {
        Users { store }
    }

    /// Adds a user (hashing on a blocking thread).
    pub async fn add(&self, username: &str, password: &str, role: Role) -> Result<(), UserError> {
        if !valid_name(username) {
            return Err(UserError::BadName(username.to_string()));
        }
        let chars = password.chars().count();
        if !(10..=256).contains(&chars) {
            return Err(UserError::BadPassword);
        }
        let pw = password.to_string();
        let phc = tokio::task::spawn_blocking(move || hash_password(&pw))
            .await
            .map_err(|e| UserError::Hash(e.to_string()))??;
        let inserted = sqlx::query(
            "INSERT INTO users (username, password_hash, role, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (username) DO NOTHING",
        )
        .bind(username)
        .bind(&phc)
        .bind(role.as_str())
        .bind(now())
        .execute(self.store.pool())
        .await
        .ctx("adding a user")?
        .rows_affected();
        if inserted == 0 {
            return Err(UserError::Exists(username.to_string()));
        }
        Ok(())
    }

    /// The role of `username` when `password` is right; `None` otherwise (same time either way).
    pub async fn check_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Role>, StoreError> {
        let row = sqlx::query("SELECT password_hash, role FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(self.store.pool())
            .await
            .ctx("reading a user")?;
        let (phc, role) = match row {
            Some(r) => {
                let phc: String = r.try_get(0).ctx("reading a user")?;
                let role: String = r.try_get(1).ctx("reading a user")?;
                (phc, Role::from_str(&role).ok())
            }
            None => (decoy_hash().to_string(), None),
        };
        let pw = password.to_string();
        let ok = tokio::task::spawn_blocking(move || password_matches(&pw, &phc))
            .await
            .unwrap_or(false);
        Ok(if ok { role } else { None })
    }

    /// Starts a session; returns the cookie token and the session.
    pub async fn start_session(
        &self,
        username: &str,
        role: Role,
        lifetime_s: u64,
    ) -> Result<(String, Session), StoreError> {
        let token = random_token();
        let csrf = random_token();
        let at = now();
        let expires = at.saturating_add(i64::try_from(lifetime_s).unwrap_or(i64::MAX / 2));
        // Expired sessions go whenever a new one starts.
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(at)
            .execute(self.store.pool())
            .await
            .ctx("dropping expired sessions")?;
        sqlx::query(
            "INSERT INTO sessions (token_sha256, username, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(sha256_hex(token.as_bytes()))
        .bind(username)
        .bind(&csrf)
        .bind(at)
        .bind(expires)
        .execute(self.store.pool())
        .await
        .ctx("storing a session")?;
        Ok((
            token,
            Session {
                username: username.to_string(),
                role,
                csrf,
            },
        ))
    }

    /// The live session of a cookie token, with the user's current role.
    pub async fn session(&self, token: &str) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(
            "SELECT s.username, s.csrf, u.role FROM sessions s JOIN users u ON u.username = s.username \
             WHERE s.token_sha256 = $1 AND s.expires_at >= $2",
        )
        .bind(sha256_hex(token.as_bytes()))
        .bind(now())
        .fetch_optional(self.store.pool())
        .await
        .ctx("reading a session")?;
        let Some(row) = row else { return Ok(None) };
        let role: String = row.try_get(2).ctx("reading a session")?;
        let Ok(role) = Role::from_str(&role) else {
            return Ok(None);
        };
        Ok(Some(Session {
            username: row.try_get(0).ctx("reading a session")?,
            csrf: row.try_get(1).ctx("reading a session")?,
            role,
        }))
    }

    pub async fn end_session(&self, token: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_sha256 = $1")
            .bind(sha256_hex(token.as_bytes()))
            .execute(self.store.pool())
            .await
            .ctx("ending a session")?;
        Ok(())
    }

    /// All users: (name, role, created_at).
    pub async fn list(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows = sqlx::query("SELECT username, role, created_at FROM users ORDER BY username")
            .fetch_all(self.store.pool())
            .await
            .ctx("listing users")?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get(0).ctx("reading a user")?,
                    r.try_get(1).ctx("reading a user")?,
                    r.try_get(2).ctx("reading a user")?,
                ))
            })
            .collect()
    }

    /// Appends to the audit log.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(now())
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(detail)
        .execute(self.store.pool())
        .await
        .ctx("writing the audit log")?;
        Ok(())
    }

    /// The latest audit entries, newest first.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, actor, action, target, detail FROM audit_log ORDER BY at DESC, target DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.store.pool())
        .await
        .ctx("reading the audit log")?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    at: r.try_get(0).ctx("reading the audit log")?,
                    actor: r.try_get(1).ctx("reading the audit log")?,
                    action: r.try_get(2).ctx("reading the audit log")?,
                    target: r.try_get(3).ctx("reading the audit log")?,
                    detail: r.try_get(4).ctx("reading the audit log")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for (name, ok) in [
            ("admin", true),
            ("a.b_c-1", true),
            ("", false),
            ("Admin", false),
            ("a b", false),
            (&"x".repeat(65), false),
        ] {
            assert_eq!(valid_name(name), ok, "{name:?}");
        }
    }

    #[test]
    fn hashes_verify_only_their_password() {
        let h = hash_password("correct horse").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(password_matches("correct horse", &h));
        assert!(!password_matches("correct horsf", &h));
        assert!(!password_matches("correct horse", "not a phc string"));
    }

    #[test]
    fn roles() {
        for (s, r, decide) in [
            ("viewer", Role::Viewer, false),
            ("reviewer", Role::Reviewer, true),
            ("admin", Role::Admin, true),
        ] {
            assert_eq!(Role::from_str(s), Ok(r));
            assert_eq!(r.as_str(), s);
            assert_eq!(r.can_decide(), decide);
        }
        assert!(Role::from_str("root").is_err());
    }
}
