//! The public IMEI lookup that buyers of second-hand phones use, `/healthz`, and the JSON 404.

use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::error::{Json, Query};
use super::metrics::AnswerLabels;
use super::{ApiError, AppState};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LookupQuery {
    /// 15 digits, Luhn-checked.
    pub imei: Option<String>,
}

/// Whether an IMEI is in the stolen index.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LookupAnswer {
    pub imei: String,
    /// `stolen` or `clear`.
    #[schema(example = "clear")]
    pub status: &'static str,
    /// `YYYY-MM-DD` the theft was reported (stolen only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_at: Option<String>,
    /// Where the phone was stolen (stolen only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theft_location: Option<String>,
}

/// Checks an IMEI as typed by a person: spaces and dashes are allowed between digits.
pub fn parse_imei(raw: &str) -> Result<String, ApiError> {
    let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.is_empty() {
        return Err(ApiError::bad(
            "malformed_imei",
            "give the IMEI to look up: ?imei= followed by its 15 digits",
        ));
    }
    if digits.len() != 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad(
            "malformed_imei",
            format!(
                "an IMEI is 15 digits (dial *#06# to see it); got {} characters",
                raw.chars().count()
            ),
        ));
    }
    jachai_protocol::imei::body_of(&digits).map_err(|_| {
        ApiError::bad(
            "malformed_imei",
            "this IMEI fails its check digit (Luhn); please check each digit",
        )
    })?;
    Ok(digits)
}

/// `GET /api/v1/lookup?imei=`: stolen or clear.
#[utoipa::path(get, path = "/api/v1/lookup", tag = "public", params(LookupQuery),
    responses(
        (status = 200, description = "The answer", body = LookupAnswer),
        (status = 400, description = "Missing or malformed IMEI", body = super::error::ErrorBody),
        (status = 429, description = "Too many requests from this client", body = super::error::ErrorBody),
    ))]
pub async fn lookup(
    State(state): State<AppState>,
    Query(q): Query<LookupQuery>,
) -> Result<Json<LookupAnswer>, ApiError> {
    let imei = parse_imei(q.imei.as_deref().unwrap_or(""))?;
    let answer = match state.ingest.stolen().lookup(&imei).await? {
        Some(e) => LookupAnswer {
            imei,
            status: "stolen",
            reported_at: Some(e.reported_at),
            theft_location: Some(e.theft_location),
        },
        None => LookupAnswer {
            imei,
            status: "clear",
            reported_at: None,
            theft_location: None,
        },
    };
    state
        .metrics
        .lookups
        .get_or_create(&AnswerLabels {
            status: answer.status.to_string(),
        })
        .inc();
    Ok(Json(answer))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    /// The stolen index's latest version.
    pub stolen_index_version: u64,
}

/// `GET /healthz`: the database answers.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "Healthy", body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let latest = state.ingest.stolen().latest().await?;
    Ok(Json(Health {
        status: "ok",
        stolen_index_version: latest.version,
    }))
}

/// `GET /livez`: the process answers (no database; the trivial route of the lookup benchmark).
#[utoipa::path(get, path = "/livez", tag = "ops",
    responses((status = 200, description = "Alive", content_type = "text/plain")))]
pub async fn livez() -> &'static str {
    "ok"
}

/// Any path that is not a route.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such page or endpoint".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expect: Result<&str, &str>) {
        let got = parse_imei(input).map_err(|e| match e {
            ApiError::BadRequest { code, .. } => code,
            other => panic!("{other:?}"),
        });
        assert_eq!(got.as_deref().map_err(|c| *c), expect, "{input:?}");
    }

    #[test]
    fn imeis() {
        check("490154203237518", Ok("490154203237518"));
        check("49-015420-323751-8", Ok("490154203237518"));
        check("4901 5420 3237 518", Ok("490154203237518"));
        check("", Err("malformed_imei"));
        check("490154203237519", Err("malformed_imei"));
        check("49015420323751", Err("malformed_imei"));
        check("49015420323751x", Err("malformed_imei"));
        check("৪৯০১৫৪২০৩২৩৭৫১৮", Err("malformed_imei"));
    }
}
