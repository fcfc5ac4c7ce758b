//! The cloud's HTTP side (axum): the public API (IMEI lookup, web reports, checks with live progress),
//! the admin API and console, the public check pages, `/healthz`, Prometheus `/metrics` and the OpenAPI
//! document. It runs inside [`crate::Service`] on the same database, object store and signing key;
//! decisions go to the service's main loop as [`crate::Command::Decide`], which signs, stores and
//! publishes them to the reporting kiosk exactly as before.
//!
//! Every client mistake is a 4xx with a JSON body `{"error": code, "message": text}`; internal causes
//! are logged once here and the client gets a generic 500 body.

pub mod admin;
pub mod api;
pub mod checks;
pub mod enroll;
pub mod enroll_pages;
pub mod error;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod reports;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::config::HttpConfig;
use crate::ingest::Ingest;
use crate::service::Command;
use crate::users::Users;

pub use error::ApiError;

/// Everything a handler needs; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub ingest: Ingest,
    pub users: Users,
    pub cfg: HttpConfig,
    pub commands: mpsc::Sender<Command>,
    pub api_limiter: DefaultKeyedRateLimiter<IpAddr>,
    pub login_limiter: DefaultKeyedRateLimiter<IpAddr>,
    pub metrics: metrics::Metrics,
    pub checks: checks::Live,
    pub verify: verify::Config,
    /// Held from "is this case still open?" to the decision's commit, so two reviewers of this instance
    /// cannot both decide one case.
    pub decide_lock: tokio::sync::Mutex<()>,
    pub notifier: crate::notify::Notifier,
    /// The kiosk CA, enrollment tokens and what an enrolled kiosk is told.
    pub enroller: Arc<crate::enroll::Enroller>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl AppState {
    pub fn new(
        ingest: Ingest,
        cfg: HttpConfig,
        notify: Option<crate::config::NotifyConfig>,
        commands: mpsc::Sender<Command>,
        enroller: Arc<crate::enroll::Enroller>,
    ) -> AppState {
        let users = Users::new(ingest.store().clone());
        let notifier = crate::notify::Notifier::new(ingest.store().clone(), notify);
        let mut verify = verify::Config::default();
        verify.limits.max_bytes = cfg.max_upload_bytes;
        verify.limits.max_pixels = cfg.max_pixels;
        AppState(Arc::new(Inner {
            users,
            api_limiter: RateLimiter::keyed(per_minute(cfg.api_per_minute)),
            login_limiter: RateLimiter::keyed(per_minute(cfg.login_per_minute)),
            metrics: metrics::Metrics::new(),
            checks: checks::Live::new(cfg.verify_workers),
            verify,
            decide_lock: tokio::sync::Mutex::new(()),
            notifier,
            enroller,
            commands,
            ingest,
            cfg,
        }))
    }
}

/// The peer's IP (the listener is served with connect info).
pub(crate) fn peer_ip(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// Per-client limit on the public API: 429 with `Retry-After` once the client's quota is spent.
async fn api_rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ip = peer_ip(&req);
    if let Err(not_until) = state.api_limiter.check_key(&ip) {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        state.metrics.rate_limited.inc();
        return ApiError::RateLimited {
            retry_after_s: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        }
        .into_response();
    }
    next.run(req).await
}

/// Counts requests by route and status, and times them.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().to_string();
    let started = Instant::now();
    let resp = next.run(req).await;
    state.metrics.observe(
        &method,
        &route,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    resp
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let limit = usize::try_from(state.cfg.max_upload_bytes).unwrap_or(usize::MAX);
    let public = Router::new()
        .route("/api/v1/lookup", get(api::lookup))
        .route("/api/v1/reports", post(reports::submit_report))
        .route("/api/v1/reports/{id}/status", get(reports::report_status))
        .route("/api/checks/upload", post(checks::upload))
        .route("/api/checks/{id}/progress", get(checks::progress))
        .route("/api/checks/{id}/results", get(checks::results))
        .route("/api/checks/{id}/image/{which}", get(checks::image))
        .route(jachai_protocol::enroll::ENROLL_PATH, post(enroll::enroll))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            api_rate_limit,
        ));
    Router::new()
        .merge(public)
        .route("/healthz", get(api::healthz))
        .route("/livez", get(api::livez))
        .route("/metrics", get(metrics::serve))
        .route("/api/openapi.json", get(openapi::serve))
        .route("/api/v1/auth/login", post(admin::login))
        .route("/api/v1/auth/logout", post(admin::logout))
        .route("/api/v1/auth/me", get(admin::me))
        .route("/api/v1/admin/queue", get(admin::queue))
        .route("/api/v1/admin/queue/{id}/approve", post(admin::approve))
        .route("/api/v1/admin/queue/{id}/reject", post(admin::reject))
        .route("/api/v1/admin/cases", get(admin::search))
        .route(
            "/api/v1/admin/cases/{id}/image/{role}",
            get(admin::case_image),
        )
        .route("/api/v1/admin/fleet", get(admin::fleet))
        .route("/api/v1/admin/audit", get(admin::audit))
        .route(
            "/api/v1/admin/users",
            get(admin::users).post(admin::add_user),
        )
        .route(
            "/api/v1/admin/enroll-tokens",
            get(enroll::list_tokens).post(enroll::issue_token),
        )
        .route(
            "/api/v1/admin/enroll-tokens/{id}/revoke",
            post(enroll::revoke_token),
        )
        .merge(pages::routes())
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            checks::content_length_limit,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then lets requests in flight finish.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Another instance's changes to the stolen index reach this one's lookups within a second.
    let stolen = state.ingest.stolen().clone();
    let refresher = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tick.tick().await;
            if let Err(e) = stolen.refresh().await {
                tracing::warn!(error = %e, "could not refresh the in-memory stolen index");
            }
        }
    });
    // The notification outbox: due rows are sent every second.
    let notifier = state.notifier.clone();
    let sender = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tick.tick().await;
            if let Err(e) = notifier.deliver_due().await {
                tracing::warn!(error = %e, "could not work through the notification outbox");
            }
        }
    });
    let served = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    refresher.abort();
    sender.abort();
    served
}
