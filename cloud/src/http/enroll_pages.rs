//! The console's enrollment page (admins): issue a one-time token for a new kiosk (shown once, with the
//! command to run on the kiosk), list tokens with their state, revoke a pending one. The same
//! functions as the admin API (`enroll.rs`), so roles, CSRF and the audit log behave alike.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::cookie::CookieJar;
use maud::html;
use serde::Deserialize;

use super::admin::Auth;
use super::enroll::{issue_token_as, revoke_token_as, NewTokenAnswer, NewTokenRequest};
use super::error::{Form, Path, Query};
use super::pages::{console_nav, console_session, lang_switch, page, when, Lang, LangQuery};
use super::AppState;
use crate::users::{Role, Session};

pub(super) const ENROLL: (&str, &str) = ("Enroll a kiosk", "কিয়স্ক যুক্ত করুন");
const KIOSK_ID: (&str, &str) = ("Kiosk id (a-z, 0-9, -)", "কিয়স্ক আইডি (a-z, 0-9, -)");
const LABEL: (&str, &str) = ("Where it stands (thana, shop)", "অবস্থান (থানা, দোকান)");
const HOURS: (&str, &str) = ("Token good for (hours)", "টোকেনের মেয়াদ (ঘণ্টা)");
const REPLACE: (&str, &str) = (
    "Enroll this id again (new SD card)",
    "এই আইডি আবার যুক্ত করুন (নতুন SD কার্ড)",
);
const ISSUE: (&str, &str) = ("Issue a token", "টোকেন দিন");
const ONCE: (&str, &str) = (
    "This token is shown once. On the kiosk, run:",
    "এই টোকেন একবারই দেখানো হবে। কিয়স্কে চালান:",
);
const REVOKE: (&str, &str) = ("Revoke", "বাতিল");

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/enroll", get(enroll_page).post(enroll_submit))
        .route("/admin/enroll/{id}/revoke", post(revoke_submit))
}

/// The console's own origin, for the command shown (`Host` as the browser sent it).
fn origin(headers: &HeaderMap, secure: bool) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("CLOUD");
    format!("{}://{host}", if secure { "https" } else { "http" })
}

async fn markup(
    state: &AppState,
    lang: Lang,
    s: &Session,
    headers: &HeaderMap,
    issued: Option<&NewTokenAnswer>,
    note: Option<String>,
) -> Response {
    if let Err(e) = Auth(s.clone()).require(Role::Admin) {
        return e.into_response();
    }
    let tokens = match state.enroller.enrollments.list(crate::store::now()).await {
        Ok(t) => t,
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let l = lang.code();
    let cloud = origin(headers, state.cfg.secure_cookies);
    page(
        lang,
        lang.t(ENROLL),
        html! {
            (lang_switch(lang, "/admin/enroll"))
            (console_nav(lang, s))
            h1 { (lang.t(ENROLL)) }
            @if let Some(n) = note { p class="err" role="alert" id="error" { (n) } }
            @if let Some(t) = issued {
                div class="case" id="issued" {
                    p { (lang.t(ONCE)) }
                    pre { "sudo jachai-sync enroll --cloud " (cloud) " --kiosk " (t.kiosk) " --group jachai" }
                    p { "token: " code id="token" { (t.token) } }
                    p { "kiosk " (t.kiosk) ", until " (when(t.expires_at)) ", signing key " code { (t.signing_key_id) } }
                }
            }
            form method="post" action={ "/admin/enroll?lang=" (l) } {
                input type="hidden" name="csrf" value=(s.csrf);
                input name="kiosk" placeholder=(lang.t(KIOSK_ID)) required pattern="[a-z0-9-]{1,32}";
                " " input name="label" placeholder=(lang.t(LABEL));
                " " label { (lang.t(HOURS)) " " input name="hours" type="number" min="1" max="168" value="24"; }
                " " label { input name="replace" type="checkbox" value="true"; " " (lang.t(REPLACE)) }
                " " button type="submit" id="issue" { (lang.t(ISSUE)) }
            }
            table id="tokens" {
                tr { th { "kiosk" } th { "label" } th { "state" } th { "by" } th { "until" } th {} }
                @for t in &tokens {
                    tr {
                        td { (t.kiosk) } td { (t.label) } td { (t.state) } td { (t.created_by) } td { (when(t.expires_at)) }
                        td {
                            @if t.state == "pending" {
                                form method="post" action={ "/admin/enroll/" (t.id) "/revoke?lang=" (l) } {
                                    input type="hidden" name="csrf" value=(s.csrf);
                                    button type="submit" { (lang.t(REVOKE)) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}

async fn enroll_page(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    jar: CookieJar,
    headers: HeaderMap,
) -> Response {
    let lang = q.lang();
    match console_session(&state, &jar, lang).await {
        Ok(s) => markup(&state, lang, &s, &headers, None, None).await,
        Err(r) => r,
    }
}

#[derive(Debug, Deserialize)]
struct IssueForm {
    csrf: String,
    kiosk: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    hours: Option<u64>,
    #[serde(default)]
    replace: Option<String>,
}

/// A session that is an admin and sent its CSRF token, or the error page.
async fn admin_session(
    state: &AppState,
    jar: &CookieJar,
    lang: Lang,
    csrf: &str,
) -> Result<Session, Response> {
    let s = console_session(state, jar, lang).await?;
    let auth = Auth(s.clone());
    auth.require(Role::Admin)
        .and_then(|()| auth.require_csrf(Some(csrf)))
        .map_err(IntoResponse::into_response)?;
    Ok(s)
}

async fn enroll_submit(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(f): Form<IssueForm>,
) -> Response {
    let lang = q.lang();
    let s = match admin_session(&state, &jar, lang, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let req = NewTokenRequest {
        kiosk: f.kiosk,
        label: Some(f.label),
        ttl_s: f.hours.map(|h| h.saturating_mul(3600)),
        replace: f.replace.is_some(),
    };
    match issue_token_as(&state, &s, req).await {
        Ok(t) => markup(&state, lang, &s, &headers, Some(&t), None).await,
        Err(e) => markup(&state, lang, &s, &headers, None, Some(e.to_string())).await,
    }
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn revoke_submit(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let lang = q.lang();
    let s = match admin_session(&state, &jar, lang, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let note = revoke_token_as(&state, &s, &id)
        .await
        .err()
        .map(|e| e.to_string());
    markup(&state, lang, &s, &headers, None, note).await
}
