//! Web theft reports: a citizen's GD copy (and phone box) sent from the public page. The copy is a GD
//! check (`checks`) whose verified result is filed as a case of the reserved kiosk id `web`, so it
//! enters the review queue and the decision path like any kiosk's case; the status endpoint tells the
//! reporter how it goes.

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::checks::{check_row, intake_check, new_id, read_form, start_check};
use super::error::{Json, Path};
use super::{ApiError, AppState};
use crate::objects::sha256_hex;
use crate::store::{now, Ctx};

/// The kiosk id web reports are filed under (reserved: no kiosk certificate may carry it).
pub const WEB_KIOSK: &str = "web";

/// What a web report adds to its check: it becomes a case once verified.
#[derive(Debug, Clone)]
pub(super) struct WebReport {
    imei: String,
    theft_location: String,
    phone_box: Option<Bytes>,
    /// `+8801…`, to tell the reporter by SMS how the report goes.
    phone: Option<String>,
}

/// Files a verified web report as a case of the `web` kiosk (next seq), with its images.
pub(super) async fn file_web_report(
    state: &AppState,
    id: &str,
    gd_copy: &Bytes,
    annotated_sha: Option<&str>,
    report: &verify::Report,
    report_json: &str,
    web: WebReport,
) -> Result<(), ApiError> {
    let mut claims = serde_json::Map::new();
    claims.insert("imeis".into(), serde_json::json!([web.imei]));
    claims.insert("theft_location".into(), web.theft_location.clone().into());
    if let Some(gd) = report.fields.get("gd_number").and_then(|v| v.as_text()) {
        claims.insert("gd_number".into(), gd.into());
    }
    let claims = serde_json::Value::Object(claims).to_string();
    let mut images = vec![("gd_copy".to_string(), sha256_hex(gd_copy), gd_copy.len())];
    if let Some(sha) = annotated_sha {
        let size = report.annotated_png.as_ref().map_or(0, Vec::len);
        images.push(("annotated".into(), sha.to_string(), size));
    }
    if let Some(b) = &web.phone_box {
        let sha = sha256_hex(b);
        state.ingest.objects().put_blob(&sha, b.to_vec()).await?;
        images.push(("phone_box".into(), sha, b.len()));
    }
    for attempt in 0..5 {
        let mut tx = state.ingest.store().begin().await?;
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM cases WHERE kiosk = $1")
            .bind(WEB_KIOSK)
            .fetch_one(&mut *tx)
            .await
            .ctx("numbering a web report")?;
        let seq = last.unwrap_or(0) + 1;
        let at = now();
        let ins = sqlx::query(
            "INSERT INTO cases (kiosk, seq, case_id, kind, created_at, verdict, risk, claims, report, received_at) \
             VALUES ($1, $2, $3, 'gd', $4, $5, $6, $7, $8, $9)",
        )
        .bind(WEB_KIOSK)
        .bind(seq)
        .bind(id)
        .bind(at)
        .bind(report.verdict.as_str())
        .bind(i64::from(report.risk))
        .bind(&claims)
        .bind(report_json)
        .bind(at)
        .execute(&mut *tx)
        .await;
        if let Err(e) = ins {
            if attempt < 4 {
                tracing::warn!(error = %e, "web report seq raced; retrying");
                continue;
            }
            return Err(ApiError::internal(e));
        }
        for (role, sha, size) in &images {
            sqlx::query(
                "INSERT INTO blobs (sha256, size, stored_at) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING",
            )
            .bind(sha)
            .bind(i64::try_from(*size).unwrap_or(i64::MAX))
            .bind(at)
            .execute(&mut *tx)
            .await
            .ctx("recording a blob")?;
            sqlx::query(
                "INSERT INTO case_blobs (kiosk, seq, sha256, role, size) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (kiosk, seq, sha256, role) DO NOTHING",
            )
            .bind(WEB_KIOSK)
            .bind(seq)
            .bind(sha)
            .bind(role)
            .bind(i64::try_from(*size).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await
            .ctx("recording a case image")?;
        }
        if let Some(phone) = &web.phone {
            sqlx::query("INSERT INTO report_contacts (case_id, phone) VALUES ($1, $2)")
                .bind(id)
                .bind(phone)
                .execute(&mut *tx)
                .await
                .ctx("recording a reporter's contact")?;
        }
        tx.commit().await.ctx("filing a web report")?;
        state
            .notifier
            .announce(
                &crate::notify::Event {
                    event: "report.in_review",
                    id: id.to_string(),
                    kiosk: WEB_KIOSK.to_string(),
                    status: "in_review".into(),
                    at,
                },
                web.phone.as_deref(),
            )
            .await?;
        return Ok(());
    }
    Err(ApiError::internal("could not number a web report"))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ReportStarted {
    pub id: String,
    pub status: String,
    pub status_url: String,
    pub progress_url: String,
}

/// `POST /api/v1/reports` (multipart: `gd_copy`, `imei`, `theft_location`, optional `phone_box`).
#[utoipa::path(post, path = "/api/v1/reports", tag = "public",
    request_body(content_type = "multipart/form-data", description = "`gd_copy` (image), `imei`, `theft_location`, optional `phone_box` (image) and `phone` (for SMS updates)"),
    responses(
        (status = 202, description = "Accepted: the GD copy is being verified", body = ReportStarted),
        (status = 400, description = "A missing or malformed field, or an unreadable image", body = super::error::ErrorBody),
        (status = 413, description = "Over the size or pixel limit", body = super::error::ErrorBody),
        (status = 429, description = "Too many requests from this client", body = super::error::ErrorBody),
    ))]
pub async fn submit_report(
    State(state): State<AppState>,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, Json<ReportStarted>), ApiError> {
    let form = read_form(&state, mp?, &["gd_copy", "phone_box"]).await?;
    let imei = super::api::parse_imei(form.text.get("imei").map(String::as_str).unwrap_or(""))?;
    let location = form
        .text
        .get("theft_location")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    if location.is_empty() {
        return Err(ApiError::bad(
            "missing_theft_location",
            "say where the phone was stolen (theft_location)",
        ));
    }
    if location.chars().count() > 200 {
        return Err(ApiError::bad(
            "bad_theft_location",
            "theft_location is at most 200 characters",
        ));
    }
    let Some(gd) = form.files.get("gd_copy").cloned() else {
        return Err(ApiError::bad(
            "missing_gd_copy",
            "attach the GD copy as the form field `gd_copy`",
        ));
    };
    intake_check(&state, gd.clone()).await?;
    let phone = match form.text.get("phone").map(|p| p.trim()) {
        None | Some("") => None,
        Some(p) => Some(crate::notify::normalize_phone(p).ok_or_else(|| {
            ApiError::bad(
                "bad_phone",
                "a phone number for updates is a Bangladeshi mobile number (01XXXXXXXXX)",
            )
        })?),
    };
    let phone_box = form.files.get("phone_box").cloned();
    if let Some(b) = &phone_box {
        intake_check(&state, b.clone()).await?;
    }
    let id = new_id("w");
    start_check(
        &state,
        &id,
        verify::DocumentKind::Gd,
        gd,
        vec![imei.clone()],
        Some(WebReport {
            imei,
            theft_location: location,
            phone_box,
            phone,
        }),
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ReportStarted {
            status_url: format!("/api/v1/reports/{id}/status"),
            progress_url: format!("/api/checks/{id}/progress"),
            status: "verifying".into(),
            id,
        }),
    ))
}

/// Where a web report stands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportStatus {
    pub id: String,
    /// `verifying`, `failed` (unreadable), `in_review`, `approved` or `rejected`.
    pub status: String,
    pub verdict: Option<String>,
    pub risk: Option<i64>,
}

/// `GET /api/v1/reports/{id}/status`.
#[utoipa::path(get, path = "/api/v1/reports/{id}/status", tag = "public",
    params(("id" = String, Path, description = "Report id")),
    responses(
        (status = 200, description = "Where the report stands", body = ReportStatus),
        (status = 404, description = "No such report", body = super::error::ErrorBody),
        (status = 429, description = "Too many requests from this client", body = super::error::ErrorBody),
    ))]
pub async fn report_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ReportStatus>, ApiError> {
    if !id.starts_with("w-") {
        return Err(ApiError::NotFound(format!("no report {id:?}")));
    }
    let row = check_row(&state, &id).await?;
    let case = sqlx::query(
        "SELECT c.verdict, c.risk, (SELECT d.outcome FROM decisions d WHERE d.kiosk = c.kiosk AND d.case_seq = c.seq ORDER BY d.seq DESC LIMIT 1) \
         FROM cases c WHERE c.kiosk = $1 AND c.case_id = $2",
    )
    .bind(WEB_KIOSK)
    .bind(&id)
    .fetch_optional(state.ingest.store().pool())
    .await
    .ctx("reading a web report")?;
    let (status, verdict, risk) = match case {
        Some(r) => {
            let decision: Option<String> = r.try_get(2).ctx("reading a web report")?;
            (
                decision.unwrap_or_else(|| "in_review".into()),
                r.try_get(0).ctx("reading a web report")?,
                r.try_get(1).ctx("reading a web report")?,
            )
        }
        None if row.status == "failed" => ("failed".into(), None, None),
        None => ("verifying".into(), None, None),
    };
    Ok(Json(ReportStatus {
        id,
        status,
        verdict,
        risk,
    }))
}
