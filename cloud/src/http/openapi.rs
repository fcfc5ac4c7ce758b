//! The OpenAPI document (utoipa), built from the handlers' annotations and served at `/api/openapi.json`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;

use super::{admin, api, checks, enroll, error, metrics, reports, AppState};

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Jachai cloud API", description = "Stolen-phone lookup, theft reports, document checks and the review console of the Jachai cloud."),
    paths(
        api::lookup, api::healthz, api::livez, metrics::serve,
        reports::submit_report, reports::report_status, checks::upload, checks::progress, checks::results, checks::image,
        admin::login, admin::logout, admin::me, admin::queue, admin::approve, admin::reject, admin::search,
        admin::case_image, admin::fleet, admin::audit, admin::users, admin::add_user,
        enroll::enroll, enroll::issue_token, enroll::list_tokens, enroll::revoke_token,
    ),
    components(schemas(error::ErrorBody, checks::Progress)),
    tags(
        (name = "public", description = "For anyone: IMEI lookup and theft reports"),
        (name = "checks", description = "Document and image checks with live progress"),
        (name = "admin", description = "The review console (session cookie + X-CSRF-Token)"),
        (name = "ops", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

/// The document as JSON text (built once).
pub fn document() -> &'static str {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DOC.get_or_init(|| ApiDoc::openapi().to_pretty_json().unwrap_or_default())
}

/// `GET /api/openapi.json`.
pub async fn serve(State(_): State<AppState>) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        document(),
    )
        .into_response()
}
