//! Checks: an upload is size-checked (413), read by `verify`'s intake (pixel limit: 413;
//! unreadable: 400), stored in the object store, and run through the pipeline on a blocking thread with
//! at most `verify_workers` at once. Progress goes to a `watch` channel per check that the SSE endpoint
//! streams; the result (report JSON, annotated PNG) is stored with the check under its
//! `verify::cache_key`, so the same bytes uploaded again are answered from that row at once. Web theft
//! reports (`reports`) are GD checks started here whose result `run_check` files as a case.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Multipart, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream::{self, Stream};
use serde::Serialize;
use sqlx::Row;
use tokio::sync::{watch, Semaphore};

use super::error::{Json, Path};
use super::metrics::AnswerLabels;
use super::reports::{file_web_report, WebReport};
use super::{ApiError, AppState};
use crate::objects::sha256_hex;
use crate::store::{now, Ctx};

/// Where a check stands, as the SSE stream sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Progress {
    /// The stage running or last finished (`queued` before the first).
    pub stage: String,
    /// 0–100 over the whole pipeline.
    pub percentage: u8,
    pub message: String,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
}

impl Progress {
    fn queued() -> Progress {
        Progress {
            stage: "queued".into(),
            percentage: 0,
            message: "waiting for a free worker".into(),
            status: "queued".into(),
        }
    }

    fn finished(ok: bool, message: &str) -> Progress {
        Progress {
            stage: if ok { "done" } else { "failed" }.into(),
            percentage: 100,
            message: message.into(),
            status: if ok { "done" } else { "failed" }.into(),
        }
    }
}

/// Checks running now (their progress channels) and the worker limit.
#[derive(Debug)]
pub struct Live {
    running: Mutex<HashMap<String, watch::Receiver<Progress>>>,
    workers: Arc<Semaphore>,
}

impl Live {
    pub fn new(workers: usize) -> Live {
        Live {
            running: Mutex::new(HashMap::new()),
            workers: Arc::new(Semaphore::new(workers.max(1))),
        }
    }

    fn get(&self, id: &str) -> Option<watch::Receiver<Progress>> {
        self.running.lock().ok().and_then(|m| m.get(id).cloned())
    }

    fn insert(&self, id: &str, rx: watch::Receiver<Progress>) {
        if let Ok(mut m) = self.running.lock() {
            m.insert(id.to_string(), rx);
        }
    }

    fn remove(&self, id: &str) {
        if let Ok(mut m) = self.running.lock() {
            m.remove(id);
        }
    }
}

/// Refuses a body whose declared length is over the limit before reading it (413, JSON).
pub async fn content_length_limit(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Multipart framing adds a little; the file itself is held to the limit by intake.
    let limit = state.cfg.max_upload_bytes.saturating_add(64 * 1024);
    if declared.is_some_and(|n| n > limit) {
        return ApiError::TooLarge(format!(
            "the upload is larger than the {}-byte limit",
            state.cfg.max_upload_bytes
        ))
        .into_response();
    }
    next.run(req).await
}

/// The image type of stored bytes, from their magic numbers.
pub fn sniff_type(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        "image/tiff"
    } else {
        "application/octet-stream"
    }
}

/// A random id: a prefix and 24 hex digits.
pub(super) fn new_id(prefix: &str) -> String {
    use rand::RngCore;
    let mut b = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut b);
    format!("{prefix}-{}", jachai_protocol::hex::encode(&b))
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Reads the intake of `bytes` (on a blocking thread): 413 over the pixel or byte limit, 400 unreadable.
pub(super) async fn intake_check(state: &AppState, bytes: Bytes) -> Result<(), ApiError> {
    let limits = state.verify.limits.clone();
    let r =
        tokio::task::spawn_blocking(move || verify::intake::intake(&bytes, &limits).map(|_| ()))
            .await
            .map_err(ApiError::internal)?;
    match r {
        Ok(()) => Ok(()),
        Err(
            e @ (verify::IntakeError::TooManyPixels { .. }
            | verify::IntakeError::TooManyBytes { .. }),
        ) => Err(ApiError::TooLarge(e.to_string())),
        Err(e) => Err(ApiError::bad(
            e.code(),
            format!("the image cannot be read: {e}"),
        )),
    }
}

/// The fields of an upload form.
#[derive(Debug, Default)]
pub(super) struct Form {
    pub(super) files: HashMap<String, Bytes>,
    pub(super) text: HashMap<String, String>,
}

pub(super) async fn read_form(
    state: &AppState,
    mut mp: Multipart,
    files: &[&str],
) -> Result<Form, ApiError> {
    let limit = state.cfg.max_upload_bytes;
    let mut form = Form::default();
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| super::error::multipart(e, limit))?
    {
        let name = field.name().unwrap_or("").to_string();
        if files.contains(&name.as_str()) {
            let data = field
                .bytes()
                .await
                .map_err(|e| super::error::multipart(e, limit))?;
            if u64::try_from(data.len()).unwrap_or(u64::MAX) > limit {
                return Err(ApiError::TooLarge(format!(
                    "{name} is {} bytes, more than the {limit}-byte limit",
                    data.len()
                )));
            }
            form.files.insert(name, data);
        } else {
            let text = field
                .text()
                .await
                .map_err(|e| super::error::multipart(e, limit))?;
            if text.chars().count() > 1000 {
                return Err(ApiError::bad(
                    "field_too_long",
                    format!("{name} is longer than 1000 characters"),
                ));
            }
            form.text.insert(name, text);
        }
    }
    Ok(form)
}

/// How a check began: running now, or answered from the result cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Begun {
    Running,
    Cached,
}

impl Begun {
    /// The `status` an upload answers with.
    fn status(self) -> &'static str {
        match self {
            Begun::Running => "running",
            Begun::Cached => "done",
        }
    }
}

/// A finished check's result under a cache key: (report JSON, annotated image's SHA-256).
async fn cached_result(
    state: &AppState,
    key: &str,
) -> Result<Option<(String, Option<String>)>, ApiError> {
    let row = sqlx::query(
        "SELECT report, annotated_sha256 FROM checks WHERE cache_key = $1 AND status = 'done' AND report IS NOT NULL \
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(key)
    .fetch_optional(state.ingest.store().pool())
    .await
    .ctx("reading the check cache")?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some((
        row.try_get(0).ctx("reading the check cache")?,
        row.try_get(1).ctx("reading the check cache")?,
    )))
}

/// Stores the original, records the check and starts the pipeline; returns at once. A check whose
/// bytes, kind, pipeline version and reference data match a finished check (`verify::cache_key`) is
/// recorded as done with that check's report and annotated image, without running the pipeline.
pub(super) async fn start_check(
    state: &AppState,
    id: &str,
    kind: verify::DocumentKind,
    bytes: Bytes,
    imeis: Vec<String>,
    report: Option<WebReport>,
) -> Result<Begun, ApiError> {
    let sha = sha256_hex(&bytes);
    state
        .ingest
        .objects()
        .put_blob(&sha, bytes.to_vec())
        .await?;
    // Web reports neither use nor fill the cache: their report depends on the claimed IMEIs, which
    // the key does not cover, and a verified report must still be filed as a case, which only
    // `run_check` does. Running them again is the simplest way to keep both right. (The cloud checks
    // with no `SourceIndex`, so the `seen_before` history the key leaves out does not arise here.)
    let key = (report.is_none() && imeis.is_empty())
        .then(|| verify::cache_key(&bytes, kind, &state.verify));
    if let Some(key) = &key {
        if let Some((json, annotated)) = cached_result(state, key).await? {
            sqlx::query(
                "INSERT INTO checks (id, kind, status, created_at, original_sha256, annotated_sha256, report, cache_key) \
                 VALUES ($1, $2, 'done', $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(kind.as_str())
            .bind(now())
            .bind(&sha)
            .bind(&annotated)
            .bind(&json)
            .bind(key)
            .execute(state.ingest.store().pool())
            .await
            .ctx("recording a cached check")?;
            state
                .metrics
                .checks
                .get_or_create(&AnswerLabels {
                    status: "cached".into(),
                })
                .inc();
            return Ok(Begun::Cached);
        }
    }
    sqlx::query(
        "INSERT INTO checks (id, kind, status, created_at, original_sha256, cache_key) VALUES ($1, $2, 'running', $3, $4, $5)",
    )
    .bind(id)
    .bind(kind.as_str())
    .bind(now())
    .bind(&sha)
    .bind(&key)
    .execute(state.ingest.store().pool())
    .await
    .ctx("recording a check")?;
    let (tx, rx) = watch::channel(Progress::queued());
    state.checks.insert(id, rx);
    let state = state.clone();
    let id = id.to_string();
    tokio::spawn(async move {
        let outcome = run_check(&state, &id, kind, bytes, imeis, tx, report).await;
        if let Err(e) = &outcome {
            tracing::error!(check = %id, error = %e, "a check could not be finished");
            let _ = sqlx::query("UPDATE checks SET status = 'failed', error = $1 WHERE id = $2")
                .bind(e.to_string())
                .bind(&id)
                .execute(state.ingest.store().pool())
                .await;
        }
        state
            .metrics
            .checks
            .get_or_create(&AnswerLabels {
                status: if outcome.is_ok() { "done" } else { "failed" }.into(),
            })
            .inc();
        state.checks.remove(&id);
    });
    Ok(Begun::Running)
}

async fn run_check(
    state: &AppState,
    id: &str,
    kind: verify::DocumentKind,
    bytes: Bytes,
    imeis: Vec<String>,
    tx: watch::Sender<Progress>,
    report: Option<WebReport>,
) -> Result<(), ApiError> {
    let permit = state
        .checks
        .workers
        .clone()
        .acquire_owned()
        .await
        .map_err(ApiError::internal)?;
    let cfg = state.verify.clone();
    let sink_tx = tx.clone();
    let original = bytes.clone();
    let result = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let request = verify::Request {
            kind,
            imeis,
            now_unix: None,
            annotate: true,
        };
        let mut sink = |e: &verify::ProgressEvent| {
            let p = match e {
                verify::ProgressEvent::StageStarted { stage, progress } => Progress {
                    stage: stage.as_str().into(),
                    percentage: *progress,
                    message: format!("{} …", stage.as_str().replace('_', " ")),
                    status: "running".into(),
                },
                verify::ProgressEvent::StageFinished {
                    stage,
                    status,
                    ms,
                    progress,
                } => Progress {
                    stage: stage.as_str().into(),
                    percentage: (*progress).min(99),
                    message: format!(
                        "{}: {} in {ms} ms",
                        stage.as_str().replace('_', " "),
                        serde_json::to_value(status)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default()
                    ),
                    status: "running".into(),
                },
            };
            let _ = sink_tx.send(p);
        };
        verify::verify(&original, &request, &cfg, &mut sink)
    })
    .await
    .map_err(ApiError::internal)?;
    let report_obj = match result {
        Ok(r) => r,
        Err(e) => {
            sqlx::query("UPDATE checks SET status = 'failed', error = $1 WHERE id = $2")
                .bind(e.to_string())
                .bind(id)
                .execute(state.ingest.store().pool())
                .await
                .ctx("recording a failed check")?;
            let _ = tx.send(Progress::finished(false, &e.to_string()));
            return Ok(());
        }
    };
    let annotated_sha = match &report_obj.annotated_png {
        Some(png) => {
            let sha = sha256_hex(png);
            state.ingest.objects().put_blob(&sha, png.clone()).await?;
            Some(sha)
        }
        None => None,
    };
    let json = serde_json::to_string(&report_obj).map_err(ApiError::internal)?;
    if let Some(web) = report {
        file_web_report(
            state,
            id,
            &bytes,
            annotated_sha.as_deref(),
            &report_obj,
            &json,
            web,
        )
        .await?;
    }
    sqlx::query(
        "UPDATE checks SET status = 'done', report = $1, annotated_sha256 = $2 WHERE id = $3",
    )
    .bind(&json)
    .bind(&annotated_sha)
    .bind(id)
    .execute(state.ingest.store().pool())
    .await
    .ctx("storing a check's result")?;
    let _ = tx.send(Progress::finished(
        true,
        &format!("{}: risk {}", report_obj.verdict.as_str(), report_obj.risk),
    ));
    Ok(())
}

/// The answer to an upload.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Started {
    pub id: String,
    /// `running`, or `done` when the same bytes were checked before (answered from the result cache).
    pub status: String,
    pub progress_url: String,
    pub results_url: String,
}

/// `POST /api/checks/upload` (multipart: `file`, optional `kind` = image|cheque|gd|box). The same bytes
/// of the same kind checked before by this pipeline version with this reference data are answered
/// from the result cache: the check is `done` at once with the earlier report.
#[utoipa::path(post, path = "/api/checks/upload", tag = "checks",
    request_body(content_type = "multipart/form-data", description = "`file`: the image; `kind`: image, cheque, gd or box (default image)"),
    responses(
        (status = 202, description = "Accepted; follow the progress stream (`done` at once when answered from the result cache)", body = Started),
        (status = 400, description = "No file, an unknown kind, or an unreadable image", body = super::error::ErrorBody),
        (status = 413, description = "Over the size or pixel limit", body = super::error::ErrorBody),
        (status = 429, description = "Too many requests from this client", body = super::error::ErrorBody),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, Json<Started>), ApiError> {
    let form = read_form(&state, mp?, &["file"]).await?;
    let kind = match form.text.get("kind").map(|s| s.trim()) {
        None | Some("") => verify::DocumentKind::Image,
        Some(k) => k
            .parse::<verify::DocumentKind>()
            .map_err(|e| ApiError::bad("bad_kind", e))?,
    };
    let Some(file) = form.files.get("file").cloned() else {
        return Err(ApiError::bad(
            "missing_file",
            "attach the image as the form field `file`",
        ));
    };
    intake_check(&state, file.clone()).await?;
    let id = new_id("c");
    let begun = start_check(&state, &id, kind, file, Vec::new(), None).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Started {
            progress_url: format!("/api/checks/{id}/progress"),
            results_url: format!("/api/checks/{id}/results"),
            status: begun.status().into(),
            id,
        }),
    ))
}

/// The stored row of a check.
pub(super) struct CheckRow {
    pub(super) kind: String,
    pub(super) status: String,
    pub(super) original: String,
    pub(super) annotated: Option<String>,
    pub(super) report: Option<String>,
    pub(super) error: Option<String>,
}

pub(super) async fn check_row(state: &AppState, id: &str) -> Result<CheckRow, ApiError> {
    if !valid_id(id) {
        return Err(ApiError::NotFound(format!("no check {id:?}")));
    }
    let row = sqlx::query(
        "SELECT kind, status, original_sha256, annotated_sha256, report, error FROM checks WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(state.ingest.store().pool())
    .await
    .ctx("reading a check")?
    .ok_or_else(|| ApiError::NotFound(format!("no check {id:?}")))?;
    Ok(CheckRow {
        kind: row.try_get(0).ctx("reading a check")?,
        status: row.try_get(1).ctx("reading a check")?,
        original: row.try_get(2).ctx("reading a check")?,
        annotated: row.try_get(3).ctx("reading a check")?,
        report: row.try_get(4).ctx("reading a check")?,
        error: row.try_get(5).ctx("reading a check")?,
    })
}

/// `GET /api/checks/{id}/progress`: Server-Sent Events (`progress`), ending with `done` or `failed`.
#[utoipa::path(get, path = "/api/checks/{id}/progress", tag = "checks",
    params(("id" = String, Path, description = "Check id")),
    responses(
        (status = 200, description = "An SSE stream of Progress objects", content_type = "text/event-stream"),
        (status = 404, description = "No such check", body = super::error::ErrorBody),
    ))]
pub async fn progress(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let row = check_row(&state, &id).await?;
    let rx = state.checks.get(&id);
    let first = match (&rx, row.status.as_str()) {
        (Some(rx), _) => rx.borrow().clone(),
        (None, "done") => Progress::finished(true, "finished"),
        (None, "failed") => Progress::finished(false, row.error.as_deref().unwrap_or("failed")),
        // Running in another instance, or lost in a restart: say so and end.
        (None, _) => {
            Progress::finished(false, "this check is not running here; reload the results")
        }
    };
    let event = |p: &Progress| {
        Event::default()
            .event("progress")
            .json_data(p)
            .unwrap_or_else(|_| Event::default().event("progress"))
    };
    // State: the progress to send next (if any), the receiver, and whether the stream is over.
    let s = stream::unfold(
        (Some(first), rx, false),
        move |(next, mut rx, over)| async move {
            if over {
                return None;
            }
            if let Some(p) = next {
                let end = p.status == "done" || p.status == "failed";
                return Some((Ok(event(&p)), (None, if end { None } else { rx }, end)));
            }
            let r = rx.as_mut()?;
            match r.changed().await {
                Ok(()) => {
                    let p = r.borrow_and_update().clone();
                    let end = p.status == "done" || p.status == "failed";
                    Some((Ok(event(&p)), (None, if end { None } else { rx }, end)))
                }
                Err(_) => {
                    // The worker is gone: its last state is final.
                    let p = r.borrow().clone();
                    let p = if p.status == "done" || p.status == "failed" {
                        p
                    } else {
                        Progress::finished(false, "the check stopped")
                    };
                    Some((Ok(event(&p)), (None, None, true)))
                }
            }
        },
    );
    Ok(Sse::new(s).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// A check's result.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckResult {
    pub id: String,
    pub kind: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    /// The pipeline's report (verdict, risk, findings, fields) once done.
    #[schema(value_type = Object)]
    pub report: Option<serde_json::Value>,
    pub error: Option<String>,
    pub original_url: String,
    /// Present once the annotated image exists.
    pub annotated_url: Option<String>,
}

/// `GET /api/checks/{id}/results`.
#[utoipa::path(get, path = "/api/checks/{id}/results", tag = "checks",
    params(("id" = String, Path, description = "Check id")),
    responses(
        (status = 200, description = "Where the check stands, with its report once done", body = CheckResult),
        (status = 404, description = "No such check", body = super::error::ErrorBody),
    ))]
pub async fn results(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<CheckResult>, ApiError> {
    let row = check_row(&state, &id).await?;
    Ok(Json(CheckResult {
        original_url: format!("/api/checks/{id}/image/original"),
        annotated_url: row
            .annotated
            .as_ref()
            .map(|_| format!("/api/checks/{id}/image/annotated")),
        report: row
            .report
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok()),
        id,
        kind: row.kind,
        status: row.status,
        error: row.error,
    }))
}

/// `GET /api/checks/{id}/image/{original|annotated}`.
#[utoipa::path(get, path = "/api/checks/{id}/image/{which}", tag = "checks",
    params(("id" = String, Path, description = "Check id"), ("which" = String, Path, description = "original or annotated")),
    responses(
        (status = 200, description = "The image", content_type = "image/*"),
        (status = 404, description = "No such check or image (yet)", body = super::error::ErrorBody),
    ))]
pub async fn image(
    State(state): State<AppState>,
    Path((id, which)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let row = check_row(&state, &id).await?;
    let sha = match which.as_str() {
        "original" => row.original,
        "annotated" => row.annotated.ok_or_else(|| {
            ApiError::NotFound(format!("check {id:?} has no annotated image (yet)"))
        })?,
        other => {
            return Err(ApiError::NotFound(format!(
                "no image {other:?} (original or annotated)"
            )))
        }
    };
    let bytes = state.ingest.objects().get_blob(&sha).await?;
    Ok((
        [
            (header::CONTENT_TYPE, sniff_type(&bytes)),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        bytes,
    )
        .into_response())
}
