//! Kiosk enrollment over HTTP: admins issue, list and revoke one-time tokens
//! (`/api/v1/admin/enroll-tokens`, admin role + CSRF like the other admin actions); a new kiosk trades a
//! token and a CSR for its certificate at the public `POST /api/v1/enroll` (rate-limited like the rest of
//! the public API). Bad tokens are 401, used / expired / revoked ones 410, a bad CSR 400.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use jachai_protocol::enroll::{EnrollRequest, EnrollResponse};
use jachai_protocol::KioskId;
use serde::{Deserialize, Serialize};

use super::admin::{csrf_header, Auth, PeerIp};
use super::error::{Json, Path};
use super::{ApiError, AppState};
use crate::enroll::{CsrError, TokenError, TokenState, TokenView, RESERVED_IDS};
use crate::users::{Role, Session};

/// Shortest and longest token lifetime an admin may ask for, seconds.
const TTL_RANGE: std::ops::RangeInclusive<u64> = 60..=7 * 86_400;

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> ApiError {
        match e {
            TokenError::Store(e) => ApiError::internal(e),
            TokenError::Conflict(m) => ApiError::Conflict(m),
            e @ TokenError::NotFound(_) => ApiError::NotFound(e.to_string()),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenRequest {
    /// The new kiosk's id: 1-32 of `[a-z0-9-]`, not `cloud` or `web`.
    pub kiosk: String,
    /// Where it stands (thana, shop), for people; at most 200 characters.
    #[serde(default)]
    pub label: Option<String>,
    /// Lifetime in seconds, 60 to 604800 (default from the configuration, 24 h).
    #[serde(default)]
    pub ttl_s: Option<u64>,
    /// Enroll a kiosk id again (a new SD card): revokes its pending tokens; its old certificate stays
    /// valid until it expires.
    #[serde(default)]
    pub replace: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NewTokenAnswer {
    /// The token's public id (for listing and revoking).
    pub id: String,
    pub kiosk: String,
    /// The token itself. Shown this once; only its hash is kept.
    pub token: String,
    pub expires_at: i64,
    /// The downlink signing key's id, which `jachai-sync enroll` prints, for comparing by eye.
    pub signing_key_id: String,
}

/// Issues a token as `actor` (an admin), audited.
pub async fn issue_token_as(
    state: &AppState,
    actor: &Session,
    req: NewTokenRequest,
) -> Result<NewTokenAnswer, ApiError> {
    let kiosk = KioskId::new(req.kiosk.trim()).map_err(|_| {
        ApiError::bad(
            "bad_kiosk_id",
            format!("a kiosk id is 1-32 of [a-z0-9-]: {:?}", req.kiosk),
        )
    })?;
    if RESERVED_IDS.contains(&kiosk.as_str()) {
        return Err(ApiError::bad(
            "reserved_kiosk_id",
            format!("{:?} is reserved; pick another kiosk id", kiosk.as_str()),
        ));
    }
    let label = req.label.unwrap_or_default().trim().to_string();
    if label.chars().count() > 200 || label.chars().any(char::is_control) {
        return Err(ApiError::bad(
            "bad_label",
            "a label is one line of at most 200 characters",
        ));
    }
    let ttl_s = req.ttl_s.unwrap_or(state.enroller.token_ttl_s);
    if !TTL_RANGE.contains(&ttl_s) {
        return Err(ApiError::bad(
            "bad_ttl",
            format!(
                "a token lives {} to {} seconds",
                TTL_RANGE.start(),
                TTL_RANGE.end()
            ),
        ));
    }
    let now = crate::store::now();
    let t = state
        .enroller
        .enrollments
        .issue_token(&kiosk, &label, &actor.username, ttl_s, req.replace, now)
        .await?;
    let detail = format!(
        "token {}{}{}",
        t.id,
        if req.replace { ", replacing" } else { "" },
        if label.is_empty() {
            String::new()
        } else {
            format!(", {label}")
        }
    );
    state
        .users
        .audit(
            &actor.username,
            "enroll_token_issued",
            kiosk.as_str(),
            &detail,
        )
        .await?;
    Ok(NewTokenAnswer {
        id: t.id,
        kiosk: kiosk.to_string(),
        token: t.token,
        expires_at: t.expires_at,
        signing_key_id: state.enroller.signing_key_id.clone(),
    })
}

/// `POST /api/v1/admin/enroll-tokens` (admin).
#[utoipa::path(post, path = "/api/v1/admin/enroll-tokens", tag = "admin", request_body = NewTokenRequest,
    responses(
        (status = 201, description = "Issued; the token is in this answer only", body = NewTokenAnswer),
        (status = 400, description = "Bad kiosk id, label or lifetime", body = super::error::ErrorBody),
        (status = 401, description = "Not logged in", body = super::error::ErrorBody),
        (status = 403, description = "Not an admin, or no CSRF token", body = super::error::ErrorBody),
        (status = 409, description = "The kiosk has a pending token or is enrolled (ask with replace)", body = super::error::ErrorBody),
    ))]
pub async fn issue_token(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Json(req): Json<NewTokenRequest>,
) -> Result<(StatusCode, Json<NewTokenAnswer>), ApiError> {
    auth.require(Role::Admin)?;
    auth.require_csrf(csrf_header(&headers))?;
    Ok((
        StatusCode::CREATED,
        Json(issue_token_as(&state, &auth.0, req).await?),
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenView>,
}

/// `GET /api/v1/admin/enroll-tokens` (admin): every token, newest first, never the token itself.
#[utoipa::path(get, path = "/api/v1/admin/enroll-tokens", tag = "admin",
    responses(
        (status = 200, description = "The tokens", body = TokenList),
        (status = 401, description = "Not logged in", body = super::error::ErrorBody),
        (status = 403, description = "Not an admin", body = super::error::ErrorBody),
    ))]
pub async fn list_tokens(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<TokenList>, ApiError> {
    auth.require(Role::Admin)?;
    Ok(Json(TokenList {
        tokens: state.enroller.enrollments.list(crate::store::now()).await?,
    }))
}

/// Revokes a pending token as `actor`, audited.
pub async fn revoke_token_as(state: &AppState, actor: &Session, id: &str) -> Result<(), ApiError> {
    // Ids are 16 hex digits; anything else is no token (and never reaches the database).
    if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::NotFound(format!("no enrollment token {id:?}")));
    }
    let kiosk = state
        .enroller
        .enrollments
        .revoke(id, crate::store::now())
        .await?;
    state
        .users
        .audit(
            &actor.username,
            "enroll_token_revoked",
            &kiosk,
            &format!("token {id}"),
        )
        .await?;
    Ok(())
}

/// `POST /api/v1/admin/enroll-tokens/{id}/revoke` (admin).
#[utoipa::path(post, path = "/api/v1/admin/enroll-tokens/{id}/revoke", tag = "admin",
    params(("id" = String, Path, description = "Token id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Not logged in", body = super::error::ErrorBody),
        (status = 403, description = "Not an admin, or no CSRF token", body = super::error::ErrorBody),
        (status = 404, description = "No such token", body = super::error::ErrorBody),
        (status = 409, description = "The token was used already", body = super::error::ErrorBody),
    ))]
pub async fn revoke_token(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.require(Role::Admin)?;
    auth.require_csrf(csrf_header(&headers))?;
    revoke_token_as(&state, &auth.0, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/enroll`: a one-time token and a CSR in, the kiosk's certificate and settings out.
#[utoipa::path(post, path = "/api/v1/enroll", tag = "public", request_body = EnrollRequest,
    responses(
        (status = 200, description = "Enrolled: certificate, broker CA, broker address, signing key", body = EnrollResponse),
        (status = 400, description = "Malformed body or CSR", body = super::error::ErrorBody),
        (status = 401, description = "Unknown token", body = super::error::ErrorBody),
        (status = 410, description = "The token was used, has expired or was revoked", body = super::error::ErrorBody),
        (status = 429, description = "Too many requests from this client", body = super::error::ErrorBody),
    ))]
pub async fn enroll(
    State(state): State<AppState>,
    PeerIp(ip): PeerIp,
    Json(req): Json<EnrollRequest>,
) -> Result<Json<EnrollResponse>, ApiError> {
    let e = &state.enroller;
    let now = crate::store::now();
    let gone = |code, what: &str| ApiError::Gone {
        code,
        message: format!("this enrollment token {what}; ask an admin for a new one"),
    };
    let (kiosk, hash) = match e.enrollments.check(req.token.trim(), now).await? {
        TokenState::Unknown => {
            tracing::info!(%ip, "enrollment with an unknown token");
            return Err(ApiError::Unauthorized("unknown enrollment token".into()));
        }
        TokenState::Used => return Err(gone("token_used", "was used already")),
        TokenState::Expired => return Err(gone("token_expired", "has expired")),
        TokenState::Revoked => return Err(gone("token_revoked", "was revoked")),
        TokenState::Pending { kiosk, hash } => (kiosk, hash),
    };
    let kiosk = KioskId::new(kiosk).map_err(ApiError::internal)?;
    // Everything that can fail on the server's side fails before the token is spent.
    let broker_ca_pem = e.broker_ca_pem().map_err(ApiError::internal)?;
    let issued = match e.ca.issue(&kiosk, &req.csr_pem, e.cert_days, now) {
        Ok(i) => i,
        Err(err @ (CsrError::TooLarge(_) | CsrError::Unreadable(_))) => {
            return Err(ApiError::bad("bad_csr", err.to_string()))
        }
        Err(err @ CsrError::Sign(_)) => return Err(ApiError::internal(err)),
    };
    if !e
        .enrollments
        .claim(&hash, kiosk.as_str(), &issued, &ip.to_string(), now)
        .await?
    {
        return Err(gone("token_used", "was used already"));
    }
    tracing::info!(%kiosk, %ip, serial = %issued.serial, "kiosk enrolled");
    Ok(Json(EnrollResponse {
        kiosk,
        certificate_pem: issued.pem,
        broker_ca_pem,
        broker: e.broker.clone(),
        signing_key: e.signing_key.clone(),
        signing_key_id: e.signing_key_id.clone(),
        not_after: issued.not_after,
    }))
}
