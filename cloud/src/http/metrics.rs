//! Prometheus metrics (`prometheus-client`): requests by route and status, their latency, lookups by
//! answer, rate-limit refusals, checks by outcome (`done`, `failed`, `cached`: answered from the result
//! cache without a run), and at scrape time the stolen-index size and queue length.

use std::sync::atomic::AtomicU64;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::{ApiError, AppState};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AnswerLabels {
    pub status: String,
}

/// The registry and the handles the handlers update.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RouteLabels, Histogram>,
    pub lookups: Family<AnswerLabels, Counter>,
    pub rate_limited: Counter,
    pub checks: Family<AnswerLabels, Counter>,
    pub stolen_entries: Gauge<i64, std::sync::atomic::AtomicI64>,
    pub queue_open: Gauge<i64, std::sync::atomic::AtomicI64>,
    pub decisions: Counter<u64, AtomicU64>,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("jachai_cloud");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let lookups = Family::<AnswerLabels, Counter>::default();
        let rate_limited = Counter::default();
        let checks = Family::<AnswerLabels, Counter>::default();
        let stolen_entries = Gauge::default();
        let queue_open = Gauge::default();
        let decisions = Counter::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register("lookups", "Public IMEI lookups by answer", lookups.clone());
        registry.register(
            "rate_limited",
            "Requests refused with 429",
            rate_limited.clone(),
        );
        registry.register(
            "checks",
            "Checks finished, by outcome (done, failed, or cached: answered from the result cache)",
            checks.clone(),
        );
        registry.register(
            "stolen_entries",
            "Entries in the stolen-IMEI index",
            stolen_entries.clone(),
        );
        registry.register(
            "review_queue_open",
            "Cases waiting for a reviewer",
            queue_open.clone(),
        );
        registry.register(
            "decisions",
            "Decisions made through the admin API",
            decisions.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            lookups,
            rate_limited,
            checks,
            stolen_entries,
            queue_open,
            decisions,
        }
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_string(),
            })
            .observe(seconds);
    }

    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// `GET /metrics`: the Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
pub async fn serve(State(state): State<AppState>) -> Result<Response, ApiError> {
    let latest = state.ingest.stolen().latest().await?;
    state
        .metrics
        .stolen_entries
        .set(i64::try_from(latest.count).unwrap_or(i64::MAX));
    state
        .metrics
        .queue_open
        .set(super::admin::open_queue_len(&state).await?);
    let body = state.metrics.encode().map_err(ApiError::internal)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response())
}
