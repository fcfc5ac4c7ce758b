//! The admin API: log in (argon2 hashes, a session cookie, a per-session CSRF token, a per-IP login
//! limit), the review queue, approve/reject (through the service's signed-decision path), case search,
//! the fleet, the audit log and user management. Roles: viewer reads, reviewer decides, admin manages
//! users.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use governor::clock::{Clock, DefaultClock};
use jachai_protocol::envelope::DecisionOutcome;
use jachai_protocol::KioskId;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use tokio::sync::oneshot;

use super::error::{Json, Path, Query};
use super::{ApiError, AppState};
use crate::service::Command;
use crate::store::Ctx;
use crate::users::{AuditEntry, Role, Session, UserError};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "jachai_session";
/// The header a state-changing API call carries its session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The client's IP address (from the listener's connect info).
#[derive(Debug, Clone, Copy)]
pub struct PeerIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
                .unwrap_or(IpAddr::from([0, 0, 0, 0])),
        ))
    }
}

/// The session of a request's cookie, if it has a live one.
pub async fn session_of(state: &AppState, jar: &CookieJar) -> Result<Option<Session>, ApiError> {
    let Some(c) = jar.get(SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(state.users.session(c.value()).await?)
}

/// A logged-in user (401 otherwise).
#[derive(Debug, Clone)]
pub struct Auth(pub Session);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let jar = CookieJar::from_headers(&parts.headers);
        match session_of(state, &jar).await? {
            Some(s) => Ok(Auth(s)),
            None => Err(ApiError::Unauthorized(
                "log in first (POST /api/v1/auth/login)".into(),
            )),
        }
    }
}

impl Auth {
    /// 403 unless the user has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.0.role >= role {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this needs the {role} role; {} is a {}",
                self.0.username, self.0.role
            )))
        }
    }

    /// 403 unless `token` is this session's CSRF token.
    pub fn require_csrf(&self, token: Option<&str>) -> Result<(), ApiError> {
        match token {
            Some(t) if constant_time_eq(t.as_bytes(), self.0.csrf.as_bytes()) => Ok(()),
            Some(_) => Err(ApiError::Forbidden("the CSRF token is wrong".into())),
            None => Err(ApiError::Forbidden(
                "missing CSRF token (send it in X-CSRF-Token)".into(),
            )),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn csrf_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub username: String,
    pub role: Role,
    /// Send this in `X-CSRF-Token` with every state-changing call.
    pub csrf_token: String,
}

/// Checks the login limit and the password; returns the session cookie and the session.
pub async fn log_in(
    state: &AppState,
    ip: IpAddr,
    username: &str,
    password: &str,
) -> Result<(Cookie<'static>, Session), ApiError> {
    if let Err(not_until) = state.login_limiter.check_key(&ip) {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        state.metrics.rate_limited.inc();
        return Err(ApiError::RateLimited {
            retry_after_s: wait.as_secs() + 1,
        });
    }
    if username.len() > 64 || password.len() > 256 {
        return Err(ApiError::Unauthorized("wrong user name or password".into()));
    }
    let Some(role) = state.users.check_password(username, password).await? else {
        tracing::info!(username, %ip, "failed login");
        return Err(ApiError::Unauthorized("wrong user name or password".into()));
    };
    let (token, session) = state
        .users
        .start_session(username, role, state.cfg.session_s)
        .await?;
    state
        .users
        .audit(username, "login", username, &ip.to_string())
        .await?;
    let cookie = Cookie::build((SESSION_COOKIE, token))
        .http_only(true)
        .secure(state.cfg.secure_cookies)
        .same_site(SameSite::Strict)
        .path("/")
        .build();
    Ok((cookie, session))
}

/// `POST /api/v1/auth/login`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "admin", request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; the session cookie is set", body = Me),
        (status = 400, description = "Malformed body", body = super::error::ErrorBody),
        (status = 401, description = "Wrong user name or password", body = super::error::ErrorBody),
        (status = 429, description = "Too many attempts from this client", body = super::error::ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    PeerIp(ip): PeerIp,
    jar: CookieJar,
    Json(req): Json<LoginRequest>,
) -> Result<(CookieJar, Json<Me>), ApiError> {
    let (cookie, s) = log_in(&state, ip, &req.username, &req.password).await?;
    Ok((
        jar.add(cookie),
        Json(Me {
            username: s.username,
            role: s.role,
            csrf_token: s.csrf,
        }),
    ))
}

/// Ends the session of the cookie and clears it.
pub async fn log_out(state: &AppState, jar: CookieJar) -> Result<CookieJar, ApiError> {
    if let Some(c) = jar.get(SESSION_COOKIE) {
        state.users.end_session(c.value()).await?;
    }
    Ok(jar.remove(Cookie::build(SESSION_COOKIE).path("/").build()))
}

/// `POST /api/v1/auth/logout`.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "admin",
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Not logged in", body = super::error::ErrorBody),
        (status = 403, description = "Missing or wrong CSRF token", body = super::error::ErrorBody),
    ))]
pub async fn logout(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<(StatusCode, CookieJar), ApiError> {
    auth.require_csrf(csrf_header(&headers))?;
    Ok((StatusCode::NO_CONTENT, log_out(&state, jar).await?))
}

/// `GET /api/v1/auth/me`.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "admin",
    responses(
        (status = 200, description = "The logged-in user", body = Me),
        (status = 401, description = "Not logged in", body = super::error::ErrorBody),
    ))]
pub async fn me(Auth(s): Auth) -> Json<Me> {
    Json(Me {
        username: s.username,
        role: s.role,
        csrf_token: s.csrf,
    })
}

/// Another case that names the same IMEI or GD number.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Linked {
    pub id: String,
    pub kiosk: String,
    /// `imei` or `gd_number`.
    pub by: String,
    pub value: String,
}

/// A case as the console shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    /// The case id (the kiosk's, or the web report's).
    pub id: String,
    pub kiosk: String,
    pub seq: u64,
    pub kind: String,
    pub created_at: i64,
    pub received_at: i64,
    pub verdict: Option<String>,
    pub risk: Option<i64>,
    /// What the reporter claimed (IMEIs, GD number, thana …).
    #[schema(value_type = Object)]
    pub claims: serde_json::Value,
    /// The pipeline's report (findings, fields …).
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    /// Image roles stored for the case (`gd_copy`, `phone_box`, `annotated` …).
    pub images: Vec<String>,
    /// `approved`, `rejected`, or none while open.
    pub decision: Option<String>,
    /// Cases elsewhere with the same IMEI or GD number.
    pub linked: Vec<Linked>,
}

const CASE_COLUMNS: &str = "c.kiosk, c.seq, c.case_id, c.kind, c.created_at, c.received_at, c.verdict, c.risk, c.claims, c.report, \
     (SELECT d.outcome FROM decisions d WHERE d.kiosk = c.kiosk AND d.case_seq = c.seq ORDER BY d.seq DESC LIMIT 1)";

const OPEN: &str =
    "NOT EXISTS (SELECT 1 FROM decisions d WHERE d.kiosk = c.kiosk AND d.case_seq = c.seq) \
     AND (c.verdict IS NULL OR c.verdict = 'review' OR c.kiosk = 'web')";

fn case_of(r: &sqlx::any::AnyRow) -> Result<CaseView, ApiError> {
    let claims: String = r.try_get(8).ctx("reading a case")?;
    let report: String = r.try_get(9).ctx("reading a case")?;
    let seq: i64 = r.try_get(1).ctx("reading a case")?;
    Ok(CaseView {
        kiosk: r.try_get(0).ctx("reading a case")?,
        seq: u64::try_from(seq).unwrap_or(0),
        id: r.try_get(2).ctx("reading a case")?,
        kind: r.try_get(3).ctx("reading a case")?,
        created_at: r.try_get(4).ctx("reading a case")?,
        received_at: r.try_get(5).ctx("reading a case")?,
        verdict: r.try_get(6).ctx("reading a case")?,
        risk: r.try_get(7).ctx("reading a case")?,
        claims: serde_json::from_str(&claims).unwrap_or(serde_json::Value::Null),
        report: serde_json::from_str(&report).unwrap_or(serde_json::Value::Null),
        decision: r.try_get(10).ctx("reading a case")?,
        images: Vec::new(),
        linked: Vec::new(),
    })
}

/// The IMEIs and GD number a case claims.
fn keys_of(claims: &serde_json::Value) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    match claims.get("imeis") {
        Some(serde_json::Value::Array(a)) => {
            for v in a.iter().filter_map(|v| v.as_str()) {
                out.push(("imei", v.to_string()));
            }
        }
        Some(serde_json::Value::String(s)) => out.push(("imei", s.clone())),
        _ => {}
    }
    if let Some(gd) = claims.get("gd_number").and_then(|v| v.as_str()) {
        if !gd.trim().is_empty() {
            out.push(("gd_number", gd.trim().to_string()));
        }
    }
    out
}

fn like_pattern(value: &str) -> String {
    let escaped: String = value
        .chars()
        .filter(|c| !matches!(c, '%' | '_' | '\\'))
        .collect();
    format!("%{escaped}%")
}

/// Cases whose claims name `value` under `by` (a LIKE prefilter on the JSON text, confirmed parsed).
async fn cases_naming(
    state: &AppState,
    by: &str,
    value: &str,
    limit: i64,
) -> Result<Vec<CaseView>, ApiError> {
    let rows = sqlx::query(&format!(
        "SELECT {CASE_COLUMNS} FROM cases c WHERE c.claims LIKE $1 ORDER BY c.received_at DESC LIMIT $2"
    ))
    .bind(like_pattern(value))
    .bind(limit)
    .fetch_all(state.ingest.store().pool())
    .await
    .ctx("searching cases")?;
    let mut out = Vec::new();
    for r in &rows {
        let c = case_of(r)?;
        if keys_of(&c.claims)
            .iter()
            .any(|(k, v)| *k == by && v == value)
        {
            out.push(c);
        }
    }
    Ok(out)
}

/// Fills in images and links.
async fn complete(state: &AppState, mut cases: Vec<CaseView>) -> Result<Vec<CaseView>, ApiError> {
    for c in &mut cases {
        let rows =
            sqlx::query("SELECT role FROM case_blobs WHERE kiosk = $1 AND seq = $2 ORDER BY role")
                .bind(&c.kiosk)
                .bind(i64::try_from(c.seq).unwrap_or(i64::MAX))
                .fetch_all(state.ingest.store().pool())
                .await
                .ctx("listing a case's images")?;
        let roles: BTreeSet<String> = rows
            .iter()
            .filter_map(|r| r.try_get::<String, _>(0).ok())
            .collect();
        c.images = roles.into_iter().collect();
        let mut linked = Vec::new();
        for (by, value) in keys_of(&c.claims) {
            for other in cases_naming(state, by, &value, 50).await? {
                if other.kiosk == c.kiosk && other.seq == c.seq {
                    continue;
                }
                linked.push(Linked {
                    id: other.id,
                    kiosk: other.kiosk,
                    by: by.to_string(),
                    value: value.clone(),
                });
            }
        }
        c.linked = linked;
    }
    Ok(cases)
}

/// The open cases, oldest first (at most 200).
pub async fn open_cases(state: &AppState) -> Result<Vec<CaseView>, ApiError> {
    let rows = sqlx::query(&format!(
        "SELECT {CASE_COLUMNS} FROM cases c WHERE {OPEN} ORDER BY c.received_at, c.kiosk, c.seq LIMIT 200"
    ))
    .fetch_all(state.ingest.store().pool())
    .await
    .ctx("listing the queue")?;
    let cases = rows.iter().map(case_of).collect::<Result<Vec<_>, _>>()?;
    complete(state, cases).await
}

pub async fn open_queue_len(state: &AppState) -> Result<i64, ApiError> {
    Ok(
        sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM cases c WHERE {OPEN}"))
            .fetch_one(state.ingest.store().pool())
            .await
            .ctx("counting the queue")?,
    )
}

/// One case by id (404 when none, 409 when two kiosks used the same id).
pub async fn case_by_id(state: &AppState, id: &str) -> Result<CaseView, ApiError> {
    let rows = sqlx::query(&format!(
        "SELECT {CASE_COLUMNS} FROM cases c WHERE c.case_id = $1"
    ))
    .bind(id)
    .fetch_all(state.ingest.store().pool())
    .await
    .ctx("reading a case")?;
    match rows.as_slice() {
        [] => Err(ApiError::NotFound(format!("no case {id:?}"))),
        [one] => Ok(complete(state, vec![case_of(one)?])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::internal("a case vanished"))?),
        _ => Err(ApiError::Conflict(format!(
            "{} kiosks sent a case {id:?}; decide it from the kiosk's own records",
            rows.len()
        ))),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Queue {
    pub cases: Vec<CaseView>,
}

/// `GET /api/v1/admin/queue`: cases waiting for a reviewer.
#[utoipa::path(get, path = "/api/v1/admin/queue", tag = "admin",
    responses(
        (status = 200, description = "The open cases", body = Queue),
        (status = 401, description = "Not logged in", body = super::error::ErrorBody),
    ))]
pub async fn queue(State(state): State<AppState>, _auth: Auth) -> Result<Json<Queue>, ApiError> {
    Ok(Json(Queue {
        cases: open_cases(&state).await?,
    }))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct DecideRequest {
    /// Why (required to reject; at most 500 characters).
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DecideAnswer {
    pub id: String,
    /// `approved` or `rejected`.
    pub outcome: String,
    pub decided_by: String,
    /// The stolen index's version after the decision.
    pub stolen_index_version: u64,
}

/// Records a decision through the service (signed, stored, published to the reporting kiosk; an
/// approved theft report's IMEIs enter the stolen index) and the audit log.
pub async fn decide_case(
    state: &AppState,
    session: &Session,
    id: &str,
    outcome: DecisionOutcome,
    reason: Option<String>,
) -> Result<DecideAnswer, ApiError> {
    let reason = reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if let Some(r) = &reason {
        if r.chars().count() > 500 {
            return Err(ApiError::bad(
                "bad_reason",
                "a reason is at most 500 characters",
            ));
        }
    }
    if outcome == DecisionOutcome::Rejected && reason.is_none() {
        return Err(ApiError::bad(
            "reason_required",
            "give a reason for rejecting a case",
        ));
    }
    let _one_at_a_time = state.decide_lock.lock().await;
    let case = case_by_id(state, id).await?;
    if let Some(d) = &case.decision {
        return Err(ApiError::Conflict(format!("case {id:?} is already {d}")));
    }
    let kiosk = KioskId::new(case.kiosk.clone()).map_err(ApiError::internal)?;
    let (done, reply) = oneshot::channel();
    state
        .commands
        .send(Command::Decide {
            kiosk,
            case_seq: case.seq,
            outcome,
            note: reason.clone(),
            done,
        })
        .await
        .map_err(|_| ApiError::internal("the service loop is gone"))?;
    reply
        .await
        .map_err(|_| ApiError::internal("the service loop dropped a decision"))?
        .map_err(ApiError::Internal)?;
    let word = match outcome {
        DecisionOutcome::Approved => "approved",
        DecisionOutcome::Rejected => "rejected",
    };
    state
        .users
        .audit(&session.username, word, id, reason.as_deref().unwrap_or(""))
        .await?;
    state.metrics.decisions.inc();
    let phone: Option<String> =
        sqlx::query_scalar("SELECT phone FROM report_contacts WHERE case_id = $1")
            .bind(id)
            .fetch_optional(state.ingest.store().pool())
            .await
            .ctx("reading a reporter's contact")?;
    state
        .notifier
        .announce(
            &crate::notify::Event {
                event: "case.decided",
                id: id.to_string(),
                kiosk: case.kiosk.clone(),
                status: word.to_string(),
                at: crate::store::now(),
            },
            phone.as_deref(),
        )
        .await?;
    Ok(DecideAnswer {
        id: id.to_string(),
        outcome: word.to_string(),
        decided_by: session.username.clone(),
        stolen_index_version: state.ingest.stolen().latest().await?.version,
    })
}

async fn decide_api(
    state: AppState,
    auth: Auth,
    headers: HeaderMap,
    id: String,
    body: Option<DecideRequest>,
    outcome: DecisionOutcome,
) -> Result<Json<DecideAnswer>, ApiError> {
    auth.require(Role::Reviewer)?;
    auth.require_csrf(csrf_header(&headers))?;
    let reason = body.and_then(|b| b.reason);
    Ok(Json(
        decide_case(&state, &auth.0, &id, outcome, reason).await?,
    ))
}

/// An optional JSON body (an empty body is none).
async fn optional_body(
    headers: &HeaderMap,
    body: axum::body::Bytes,
) -> Result<Option<DecideRequest>, ApiError> {
    if body.is_empty() {
        return Ok(None);
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Err(ApiError::bad(
            "not_json",
            "send the body as application/json",
        ));
    }
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|e| ApiError::bad("bad_json", format!("the body is not a decision: {e}")))
}

/// `POST /api/v1/admin/queue/{id}/approve`.
#[utoipa::path(post, path = "/api/v1/admin/queue/{id}/approve", tag = "admin",
    params(("id" = String, Path, description = "Case id")), request_body(content = DecideRequest),
    responses(
        (status = 200, description = "Approved", body = DecideAnswer),
        (status = 400, description = "Malformed body", body = super::error::ErrorBody),
        (status = 401, description = "Not logged in", body = super::error::ErrorBody),
        (status = 403, description = "Not a reviewer, or no CSRF token", body = super::error::ErrorBody),
        (status = 404, description = "No such case", body = super::error::ErrorBody),
        (status = 409, description = "Already decided", body = super::error::ErrorBody),
    ))]
pub async fn approve(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<DecideAnswer>, ApiError> {
    let body = optional_body(&headers, body).await?;
    decide_api(state, auth, headers, id, body, DecisionOutcome::Approved).await
}

/// `POST /api/v1/admin/queue/{id}/reject`.
#[utoipa::path(post, path = "/api/v1/admin/queue/{id}/reject", tag = "admin",
    params(("id" = String, Path, description = "Case id")), request_body(content = DecideRequest),
    responses(
        (status = 200, description = "Rejected", body = DecideAnswer),
        (status = 400, description = "No reason, or a malformed body", body = super::error::ErrorBody),
        (status = 401, description = "Not logged in", body = super::error::ErrorBody),
        (status = 403, description = "Not a reviewer, or no CSRF token", body = super::error::ErrorBody),
        (status = 404, description = "No such case", body = super::error::ErrorBody),
        (status = 409, description = "Already decided", body = super::error::ErrorBody),
    ))]
pub async fn reject(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<DecideAnswer>, ApiError> {
    let body = optional_body(&headers, body).await?;
    decide_api(state, auth, headers, id, body, DecisionOutcome::Rejected).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    pub imei: Option<String>,
    pub gd: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Found {
    pub cases: Vec<CaseView>,
}

/// Cases by IMEI or GD number.
pub async fn search_cases(
    state: &AppState,
    imei: Option<&str>,
    gd: Option<&str>,
) -> Result<Vec<CaseView>, ApiError> {
    let imei = imei.map(str::trim).filter(|s| !s.is_empty());
    let gd = gd.map(str::trim).filter(|s| !s.is_empty());
    let found = match (imei, gd) {
        (Some(i), _) => {
            let i = super::api::parse_imei(i)?;
            cases_naming(state, "imei", &i, 100).await?
        }
        (None, Some(g)) => {
            if g.chars().count() > 64 {
                return Err(ApiError::bad(
                    "bad_gd_number",
                    "a GD number is at most 64 characters",
                ));
            }
            cases_naming(state, "gd_number", g, 100).await?
        }
        (None, None) => return Err(ApiError::bad("missing_query", "search by ?imei= or ?gd=")),
    };
    complete(state, found).await
}

/// `GET /api/v1/admin/cases?imei=|gd=`: case search.
#[utoipa::path(get, path = "/api/v1/admin/cases", tag = "admin", params(SearchQuery),
    responses(
        (status = 200, description = "Matching cases", body = Found),
        (status = 400, description = "No or a malformed query", body = super::error::ErrorBody),
        (status = 401, description = "Not logged in", body = super::error::ErrorBody),
    ))]
pub async fn search(
    State(state): State<AppState>,
    _auth: Auth,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Found>, ApiError> {
    Ok(Json(Found {
        cases: search_cases(&state, q.imei.as_deref(), q.gd.as_deref()).await?,
    }))
}

/// The bytes of a case's image by role.
pub async fn case_image_bytes(
    state: &AppState,
    id: &str,
    role: &str,
) -> Result<Response, ApiError> {
    let case = case_by_id(state, id).await?;
    let sha: Option<String> = sqlx::query_scalar(
        "SELECT sha256 FROM case_blobs WHERE kiosk = $1 AND seq = $2 AND role = $3 ORDER BY sha256 LIMIT 1",
    )
    .bind(&case.kiosk)
    .bind(i64::try_from(case.seq).unwrap_or(i64::MAX))
    .bind(role)
    .fetch_optional(state.ingest.store().pool())
    .await
    .ctx("finding a case's image")?;
    let Some(sha) = sha else {
        return Err(ApiError::NotFound(format!(
            "case {id:?} has no {role:?} image"
        )));
    };
    let bytes = match state.ingest.objects().get_blob(&sha).await {
        Ok(b) => b,
        Err(_) => {
            return Err(ApiError::NotFound(format!(
                "the {role:?} image of case {id:?} has not arrived yet"
            )))
        }
    };
    Ok((
        [(header::CONTENT_TYPE, super::checks::sniff_type(&bytes))],
        bytes,
    )
        .into_response())
}

/// `GET /api/v1/admin/cases/{id}/image/{role}`.
#[utoipa::path(get, path = "/api/v1/admin/cases/{id}/image/{role}", tag = "admin",
    params(("id" = String, Path, description = "Case id"), ("role" = String, Path, description = "gd_copy, phone_box, annotated …")),
    responses(
        (status = 200, description = "The image", content_type = "image/*"),
        (status = 401, description = "Not logged in", body = super::error::ErrorBody),
        (status = 404, description = "No such case or image", body = super::error::ErrorBody),
    ))]
pub async fn case_image(
    State(state): State<AppState>,
    _auth: Auth,
    Path((id, role)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    case_image_bytes(&state, &id, &role).await
}

/// One kiosk as the fleet page shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KioskView {
    pub kiosk: String,
    pub state: String,
    pub last_seen: i64,
    pub backlog: i64,
    pub index_version: i64,
    pub decision_seq: i64,
    pub app_version: String,
    pub lookup_hits: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Fleet {
    pub kiosks: Vec<KioskView>,
}

pub async fn fleet_of(state: &AppState) -> Result<Vec<KioskView>, ApiError> {
    let pool = state.ingest.store().pool();
    let hits =
        sqlx::query("SELECT kiosk, COUNT(*) FROM events WHERE kind = 'lookup_hit' GROUP BY kiosk")
            .fetch_all(pool)
            .await
            .ctx("counting lookup hits")?;
    let mut by_kiosk: BTreeMap<String, i64> = BTreeMap::new();
    for r in &hits {
        by_kiosk.insert(
            r.try_get(0).ctx("reading hits")?,
            r.try_get(1).ctx("reading hits")?,
        );
    }
    let rows = sqlx::query(
        "SELECT kiosk, state, last_seen, backlog, index_version, decision_seq, app_version FROM kiosks ORDER BY kiosk",
    )
    .fetch_all(pool)
    .await
    .ctx("listing kiosks")?;
    rows.iter()
        .map(|r| {
            let kiosk: String = r.try_get(0).ctx("reading a kiosk")?;
            Ok(KioskView {
                lookup_hits: by_kiosk.get(&kiosk).copied().unwrap_or(0),
                kiosk,
                state: r.try_get(1).ctx("reading a kiosk")?,
                last_seen: r.try_get(2).ctx("reading a kiosk")?,
                backlog: r.try_get(3).ctx("reading a kiosk")?,
                index_version: r.try_get(4).ctx("reading a kiosk")?,
                decision_seq: r.try_get(5).ctx("reading a kiosk")?,
                app_version: r.try_get(6).ctx("reading a kiosk")?,
            })
        })
        .collect()
}

/// `GET /api/v1/admin/fleet`: kiosks, last seen, backlog, versions, lookup hits.
#[utoipa::path(get, path = "/api/v1/admin/fleet", tag = "admin",
    responses(
        (status = 200, description = "The kiosks", body = Fleet),
        (status = 401, description = "Not logged in", body = super::error::ErrorBody),
    ))]
pub async fn fleet(State(state): State<AppState>, _auth: Auth) -> Result<Json<Fleet>, ApiError> {
    Ok(Json(Fleet {
        kiosks: fleet_of(&state).await?,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Audit {
    pub entries: Vec<AuditEntry>,
}

/// `GET /api/v1/admin/audit`: the latest 500 entries, newest first.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin",
    responses(
        (status = 200, description = "The audit log", body = Audit),
        (status = 401, description = "Not logged in", body = super::error::ErrorBody),
    ))]
pub async fn audit(State(state): State<AppState>, _auth: Auth) -> Result<Json<Audit>, ApiError> {
    Ok(Json(Audit {
        entries: state.users.audit_log(500).await?,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub username: String,
    pub role: String,
    pub created_at: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserList {
    pub users: Vec<UserView>,
}

/// `GET /api/v1/admin/users` (admin).
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin",
    responses(
        (status = 200, description = "The users", body = UserList),
        (status = 401, description = "Not logged in", body = super::error::ErrorBody),
        (status = 403, description = "Not an admin", body = super::error::ErrorBody),
    ))]
pub async fn users(State(state): State<AppState>, auth: Auth) -> Result<Json<UserList>, ApiError> {
    auth.require(Role::Admin)?;
    Ok(Json(UserList {
        users: state
            .users
            .list()
            .await?
            .into_iter()
            .map(|(username, role, created_at)| UserView {
                username,
                role,
                created_at,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: Role,
}

/// Adds a user as `actor` (an admin), audited.
pub async fn add_user_as(
    state: &AppState,
    actor: &Session,
    u: NewUser,
) -> Result<UserView, ApiError> {
    match state.users.add(&u.username, &u.password, u.role).await {
        Ok(()) => {}
        Err(UserError::Exists(n)) => {
            return Err(ApiError::Conflict(format!("user {n:?} already exists")))
        }
        Err(e @ (UserError::BadName(_) | UserError::BadPassword)) => {
            return Err(ApiError::bad("bad_user", e.to_string()))
        }
        Err(e) => return Err(ApiError::internal(e)),
    }
    state
        .users
        .audit(&actor.username, "user_added", &u.username, u.role.as_str())
        .await?;
    Ok(UserView {
        username: u.username,
        role: u.role.as_str().to_string(),
        created_at: crate::store::now(),
    })
}

/// `POST /api/v1/admin/users` (admin).
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", request_body = NewUser,
    responses(
        (status = 201, description = "Added", body = UserView),
        (status = 400, description = "Bad name, password or role", body = super::error::ErrorBody),
        (status = 401, description = "Not logged in", body = super::error::ErrorBody),
        (status = 403, description = "Not an admin, or no CSRF token", body = super::error::ErrorBody),
        (status = 409, description = "The user exists", body = super::error::ErrorBody),
    ))]
pub async fn add_user(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Json(u): Json<NewUser>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    auth.require(Role::Admin)?;
    auth.require_csrf(csrf_header(&headers))?;
    Ok((
        StatusCode::CREATED,
        Json(add_user_as(&state, &auth.0, u).await?),
    ))
}
