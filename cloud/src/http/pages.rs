//! Server-rendered pages (maud), in English and Bengali (`?lang=bn`): the public check pages (upload with
//! a little plain JS that checks type and size, streams progress over SSE, then shows the result) and
//! the admin console (log in, review queue with images side by side, approve/reject with a reason, case
//! search, fleet, audit log, users; enrollment in `enroll_pages.rs`). Console forms carry the session's CSRF
//! token.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::cookie::CookieJar;
use jachai_protocol::envelope::DecisionOutcome;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Deserialize;

use super::admin::{self, CaseView, PeerIp};
use super::error::{Form, Path, Query};
use super::{ApiError, AppState};
use crate::users::{Role, Session};

/// The page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Bn,
}

#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    pub lang: Option<String>,
}

impl LangQuery {
    pub(super) fn lang(&self) -> Lang {
        if self.lang.as_deref() == Some("bn") {
            Lang::Bn
        } else {
            Lang::En
        }
    }
}

impl Lang {
    pub(super) fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Bn => "bn",
        }
    }

    /// `text` in this language (`(english, bengali)`).
    pub(super) fn t(self, text: (&'static str, &'static str)) -> &'static str {
        match self {
            Lang::En => text.0,
            Lang::Bn => text.1,
        }
    }
}

const TITLE: (&str, &str) = ("Jachai document check", "যাচাই নথি পরীক্ষা");
const CHECK_INTRO: (&str, &str) = (
    "Check a cheque, a GD copy or any image for tampering. Drop a file here, or take a photo.",
    "চেক, জিডি কপি বা যেকোনো ছবি জালিয়াতির জন্য পরীক্ষা করুন। ফাইল এখানে ছেড়ে দিন, অথবা ছবি তুলুন।",
);
const KIND: (&str, &str) = ("Document type", "নথির ধরন");
const CHOOSE: (&str, &str) = ("Choose a file or take a photo", "ফাইল বাছুন বা ছবি তুলুন");
const SEND: (&str, &str) = ("Check it", "পরীক্ষা করুন");
const VERDICT: (&str, &str) = ("Verdict", "সিদ্ধান্ত");
const RISK: (&str, &str) = ("Risk", "ঝুঁকি");
const FINDINGS: (&str, &str) = ("Findings", "পর্যবেক্ষণ");
const FIELDS: (&str, &str) = ("Fields read", "পড়া তথ্য");
const ORIGINAL: (&str, &str) = ("Original", "মূল ছবি");
const ANNOTATED: (&str, &str) = ("Annotated", "চিহ্নিত ছবি");
const RAW: (&str, &str) = ("Download raw JSON", "JSON ডাউনলোড");
const SHARE: (&str, &str) = ("Share link", "শেয়ার লিংক");
const RUNNING: (&str, &str) = ("Checking…", "পরীক্ষা চলছে…");
const CONSOLE: (&str, &str) = ("Jachai review console", "যাচাই পর্যালোচনা কনসোল");
const LOGIN: (&str, &str) = ("Log in", "লগ ইন");
const USER: (&str, &str) = ("User name", "ব্যবহারকারীর নাম");
const PASSWORD: (&str, &str) = ("Password", "পাসওয়ার্ড");
const QUEUE: (&str, &str) = ("Review queue", "পর্যালোচনার তালিকা");
const SEARCH: (&str, &str) = ("Search", "খুঁজুন");
const FLEET: (&str, &str) = ("Fleet", "কিয়স্ক");
const AUDIT: (&str, &str) = ("Audit log", "নিরীক্ষা লগ");
const USERS: (&str, &str) = ("Users", "ব্যবহারকারী");
const LOGOUT: (&str, &str) = ("Log out", "লগ আউট");
const APPROVE: (&str, &str) = ("Approve", "অনুমোদন");
const REJECT: (&str, &str) = ("Reject", "প্রত্যাখ্যান");
const REASON: (&str, &str) = ("Reason", "কারণ");
const EMPTY_QUEUE: (&str, &str) = ("Nothing waits for review.", "পর্যালোচনার জন্য কিছু নেই।");
const CLAIMS: (&str, &str) = ("Claims", "দাবি");
const LINKED: (&str, &str) = (
    "Same IMEI or GD number elsewhere",
    "অন্য জায়গায় একই IMEI বা জিডি নম্বর",
);

const STYLE: &str = "body{font-family:system-ui,'Noto Sans Bengali',sans-serif;margin:0;padding:1rem;max-width:70rem;margin:auto;line-height:1.4}\
nav a{margin-right:1rem}.drop{border:2px dashed #888;border-radius:8px;padding:2rem;text-align:center}\
.drop.over{background:#eef}.pair{display:flex;flex-wrap:wrap;gap:1rem}.pair figure{flex:1 1 20rem;margin:0}\
.pair img{max-width:100%;border:1px solid #ccc}progress{width:100%;height:1.5rem}table{border-collapse:collapse}\
td,th{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}.case{border:1px solid #ccc;border-radius:8px;padding:1rem;margin:1rem 0}\
.err{color:#b00}.verdict-approve{color:#070}.verdict-review{color:#a60}.verdict-reject{color:#b00}textarea{width:100%}";

pub(super) fn page(lang: Lang, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
}

pub(super) fn lang_switch(lang: Lang, path: &str) -> Markup {
    html! {
        p {
            @if lang == Lang::En { a href={ (path) "?lang=bn" } { "বাংলা" } }
            @else { a href={ (path) "?lang=en" } { "English" } }
        }
    }
}

/// The public and console pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/check") }))
        .route("/check", get(check_page))
        .route("/check/{id}", get(result_page))
        .route("/report", get(report_page))
        .route("/report/{id}", get(report_status_page))
        .route("/admin", get(queue_page))
        .route("/admin/login", get(login_page).post(login_submit))
        .route("/admin/logout", post(logout_submit))
        .route("/admin/cases/{id}/decide", post(decide_submit))
        .route("/admin/search", get(search_page))
        .route("/admin/fleet", get(fleet_page))
        .route("/admin/audit", get(audit_page))
        .route("/admin/users", get(users_page).post(users_submit))
        .merge(super::enroll_pages::routes())
}

const CHECK_JS: &str = r#"
const form = document.getElementById('upload');
const drop = document.getElementById('drop');
const input = document.getElementById('file');
const bar = document.getElementById('bar');
const stage = document.getElementById('stage');
const err = document.getElementById('error');
const max = Number(form.dataset.max);
const lang = form.dataset.lang;
const types = ['image/jpeg', 'image/png', 'image/webp', 'image/tiff'];
function fail(msg) { err.textContent = msg; form.querySelector('button').disabled = false; }
drop.addEventListener('dragover', e => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', e => { e.preventDefault(); drop.classList.remove('over'); input.files = e.dataTransfer.files; });
form.addEventListener('submit', async e => {
  e.preventDefault();
  err.textContent = '';
  const f = input.files[0];
  if (!f) { return fail(form.dataset.msgNone); }
  if (f.type && !types.includes(f.type)) { return fail(form.dataset.msgType); }
  if (f.size > max) { return fail(form.dataset.msgSize); }
  form.querySelector('button').disabled = true;
  const data = new FormData();
  data.append('kind', document.getElementById('kind').value);
  data.append('file', f);
  const r = await fetch('/api/checks/upload', { method: 'POST', body: data });
  const body = await r.json();
  if (r.status !== 202) { return fail(body.message || ('HTTP ' + r.status)); }
  document.getElementById('progress').hidden = false;
  const es = new EventSource(body.progress_url);
  es.addEventListener('progress', ev => {
    const p = JSON.parse(ev.data);
    bar.value = p.percentage;
    bar.textContent = p.percentage + '%';
    stage.textContent = p.percentage + '% · ' + p.message;
    if (p.status === 'done' || p.status === 'failed') {
      es.close();
      // Let the full bar be seen before the result page replaces it.
      setTimeout(() => { location.href = '/check/' + body.id + '?lang=' + lang; }, 400);
    }
  });
  es.onerror = () => { es.close(); location.href = '/check/' + body.id + '?lang=' + lang; };
});
"#;

async fn check_page(State(state): State<AppState>, Query(q): Query<LangQuery>) -> Markup {
    let lang = q.lang();
    let max = state.cfg.max_upload_bytes;
    page(
        lang,
        lang.t(TITLE),
        html! {
            (lang_switch(lang, "/check"))
            h1 { (lang.t(TITLE)) }
            p { (lang.t(CHECK_INTRO)) }
            form id="upload" data-max=(max) data-lang=(lang.code())
                data-msg-none=(lang.t(("Choose a file first.", "আগে একটি ফাইল বাছুন।")))
                data-msg-type=(lang.t(("Only JPEG, PNG, WebP or TIFF images.", "শুধু JPEG, PNG, WebP বা TIFF ছবি।")))
                data-msg-size=(format!("{} {} MB", lang.t(("The file is larger than", "ফাইলটি এর চেয়ে বড়:")), max / (1024 * 1024))) {
                p {
                    label for="kind" { (lang.t(KIND)) " " }
                    select id="kind" name="kind" {
                        option value="cheque" { (lang.t(("Cheque", "চেক"))) }
                        option value="gd" { (lang.t(("GD copy", "জিডি কপি"))) }
                        option value="image" { (lang.t(("Image or screenshot", "ছবি বা স্ক্রিনশট"))) }
                        option value="box" { (lang.t(("Phone box", "ফোনের বাক্স"))) }
                    }
                }
                div id="drop" class="drop" {
                    label for="file" { (lang.t(CHOOSE)) }
                    br;
                    input id="file" name="file" type="file" accept="image/jpeg,image/png,image/webp,image/tiff" capture="environment";
                }
                p { button type="submit" id="send" { (lang.t(SEND)) } }
                p id="error" class="err" role="alert" {}
            }
            div id="progress" hidden {
                p { (lang.t(RUNNING)) }
                progress id="bar" max="100" value="0" { "0%" }
                p id="stage" aria-live="polite" {}
            }
            script { (PreEscaped(CHECK_JS)) }
        },
    )
}

const REPORT_TITLE: (&str, &str) = ("Report a stolen phone", "চুরি হওয়া ফোনের রিপোর্ট");
const REPORT_INTRO: (&str, &str) = (
    "Attach the Police GD copy, give the phone's IMEI (dial *#06#) and where it was stolen. A reviewer checks every report before the IMEI is listed as stolen.",
    "পুলিশের জিডি কপি যুক্ত করুন, ফোনের IMEI (*#06# ডায়াল করুন) এবং কোথায় চুরি হয়েছে তা লিখুন। IMEI চুরি হিসেবে তালিকাভুক্ত করার আগে প্রতিটি রিপোর্ট যাচাই করা হয়।",
);

const REPORT_JS: &str = r#"
const form = document.getElementById('report');
const err = document.getElementById('error');
const max = Number(form.dataset.max);
form.addEventListener('submit', async e => {
  e.preventDefault();
  err.textContent = '';
  const imei = form.imei.value.replace(/[\s-]/g, '');
  if (!/^[0-9]{15}$/.test(imei)) { err.textContent = form.dataset.msgImei; return; }
  for (const f of [form.gd_copy.files[0], form.phone_box.files[0]]) {
    if (f && f.size > max) { err.textContent = form.dataset.msgSize; return; }
  }
  form.querySelector('button').disabled = true;
  const r = await fetch('/api/v1/reports', { method: 'POST', body: new FormData(form) });
  const body = await r.json();
  if (r.status !== 202) { err.textContent = body.message || ('HTTP ' + r.status); form.querySelector('button').disabled = false; return; }
  location.href = '/report/' + body.id + '?lang=' + form.dataset.lang;
});
"#;

async fn report_page(State(state): State<AppState>, Query(q): Query<LangQuery>) -> Markup {
    let lang = q.lang();
    let max = state.cfg.max_upload_bytes;
    page(
        lang,
        lang.t(REPORT_TITLE),
        html! {
            (lang_switch(lang, "/report"))
            h1 { (lang.t(REPORT_TITLE)) }
            p { (lang.t(REPORT_INTRO)) }
            form id="report" data-max=(max) data-lang=(lang.code())
                data-msg-imei=(lang.t(("An IMEI is 15 digits.", "IMEI ১৫ অঙ্কের।")))
                data-msg-size=(format!("{} {} MB", lang.t(("A file is larger than", "একটি ফাইল এর চেয়ে বড়:")), max / (1024 * 1024))) {
                p { label for="imei" { "IMEI" } br; input id="imei" name="imei" inputmode="numeric" autocomplete="off" required; }
                p { label for="theft_location" { (lang.t(("Where was it stolen?", "কোথায় চুরি হয়েছে?"))) } br; input id="theft_location" name="theft_location" maxlength="200" required; }
                p { label for="gd_copy" { (lang.t(("GD copy (photo or scan)", "জিডি কপি (ছবি বা স্ক্যান)"))) } br; input id="gd_copy" name="gd_copy" type="file" accept="image/jpeg,image/png,image/webp,image/tiff" capture="environment" required; }
                p { label for="phone_box" { (lang.t(("Phone box label (optional)", "ফোনের বাক্সের লেবেল (ঐচ্ছিক)"))) } br; input id="phone_box" name="phone_box" type="file" accept="image/jpeg,image/png,image/webp,image/tiff" capture="environment"; }
                p { label for="phone" { (lang.t(("Mobile number for SMS updates (optional)", "এসএমএস আপডেটের জন্য মোবাইল নম্বর (ঐচ্ছিক)"))) } br; input id="phone" name="phone" type="tel" inputmode="tel" autocomplete="tel" placeholder="01XXXXXXXXX"; }
                p { button type="submit" id="send" { (lang.t(SEND)) } }
                p id="error" class="err" role="alert" {}
            }
            script { (PreEscaped(REPORT_JS)) }
        },
    )
}

async fn report_status_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Markup, ApiError> {
    let lang = q.lang();
    let super::error::Json(st) =
        super::reports::report_status(State(state), Path(id.clone())).await?;
    let words = match st.status.as_str() {
        "verifying" => lang.t(("The GD copy is being checked…", "জিডি কপি পরীক্ষা করা হচ্ছে…")),
        "in_review" => lang.t(("Waiting for a reviewer.", "পর্যালোচনার অপেক্ষায়।")),
        "approved" => lang.t((
            "Approved: the IMEI is listed as stolen.",
            "অনুমোদিত: IMEI চুরি হিসেবে তালিকাভুক্ত।",
        )),
        "rejected" => lang.t(("Rejected by a reviewer.", "পর্যালোচক প্রত্যাখ্যান করেছেন।")),
        _ => lang.t((
            "The GD copy could not be read; please send a clearer photo.",
            "জিডি কপি পড়া যায়নি; আরও পরিষ্কার ছবি পাঠান।",
        )),
    };
    let path = format!("/report/{id}");
    Ok(page(
        lang,
        lang.t(REPORT_TITLE),
        html! {
            (lang_switch(lang, &path))
            h1 { (lang.t(REPORT_TITLE)) }
            p { strong { (id) } }
            p id="status" data-status=(st.status) { (words) }
            @if st.status == "verifying" {
                script { (PreEscaped("setTimeout(() => location.reload(), 2000);")) }
            }
            p { a href=(path) { (lang.t(SHARE)) } }
        },
    ))
}

fn report_block(lang: Lang, report: &serde_json::Value) -> Markup {
    let verdict = report["verdict"].as_str().unwrap_or("");
    let key = if lang == Lang::Bn { "bn" } else { "en" };
    html! {
        p id="verdict" class={ "verdict-" (verdict) } {
            strong { (lang.t(VERDICT)) ": " } (verdict) " · " strong { (lang.t(RISK)) ": " } (report["risk"].as_u64().unwrap_or(0)) "/100"
        }
        @if let Some(e) = report["explanation"][key].as_str() { p { (e) } }
        h2 { (lang.t(FINDINGS)) }
        @let findings = report["findings"].as_array().cloned().unwrap_or_default();
        @if findings.is_empty() { p { "—" } }
        ul id="findings" {
            @for f in &findings {
                li { code { (f["code"].as_str().unwrap_or("")) } " (" (f["severity"].as_str().unwrap_or("")) ", +" (f["points"].as_u64().unwrap_or(0)) "): " (f[key].as_str().unwrap_or("")) }
            }
        }
        h2 { (lang.t(FIELDS)) }
        table id="fields" {
            @if let Some(fields) = report["fields"].as_object() {
                @for (k, v) in fields {
                    tr { th { (k) } td { (match v { serde_json::Value::String(s) => s.clone(), other => other.to_string() }) } }
                }
            }
        }
    }
}

async fn result_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Markup, ApiError> {
    let lang = q.lang();
    let axum::Json(r) = super::checks::results(State(state), Path(id.clone()))
        .await
        .map(|super::error::Json(v)| axum::Json(v))?;
    let path = format!("/check/{id}");
    Ok(page(
        lang,
        lang.t(TITLE),
        html! {
            (lang_switch(lang, &path))
            h1 { (lang.t(TITLE)) }
            @match r.status.as_str() {
                "done" => {
                    @if let Some(report) = &r.report { (report_block(lang, report)) }
                    div class="pair" {
                        figure { figcaption { (lang.t(ORIGINAL)) } img id="original" src=(r.original_url) alt=(lang.t(ORIGINAL)); }
                        @if let Some(a) = &r.annotated_url {
                            figure { figcaption { (lang.t(ANNOTATED)) } img id="annotated" src=(a) alt=(lang.t(ANNOTATED)); }
                        }
                    }
                    p {
                        a id="raw" href={ "/api/checks/" (id) "/results" } download={ (id) ".json" } { (lang.t(RAW)) }
                        " · "
                        a id="share" href=(path) { (lang.t(SHARE)) }
                    }
                }
                "failed" => {
                    p class="err" id="failed" { (r.error.clone().unwrap_or_default()) }
                }
                _ => {
                    p { (lang.t(RUNNING)) }
                    progress id="bar" max="100" value="0" {}
                    p id="stage" {}
                    script { (PreEscaped(format!(
                        "const es=new EventSource('/api/checks/{id}/progress');es.addEventListener('progress',ev=>{{const p=JSON.parse(ev.data);document.getElementById('bar').value=p.percentage;document.getElementById('stage').textContent=p.percentage+'% · '+p.message;if(p.status==='done'||p.status==='failed'){{es.close();location.reload();}}}});"
                    ))) }
                }
            }
            p { a href={ "/check?lang=" (lang.code()) } { (lang.t(("Check another", "আরেকটি পরীক্ষা করুন"))) } }
        },
    ))
}

pub(super) fn console_nav(lang: Lang, s: &Session) -> Markup {
    let l = lang.code();
    html! {
        nav {
            a href={ "/admin?lang=" (l) } { (lang.t(QUEUE)) }
            a href={ "/admin/search?lang=" (l) } { (lang.t(SEARCH)) }
            a href={ "/admin/fleet?lang=" (l) } { (lang.t(FLEET)) }
            a href={ "/admin/audit?lang=" (l) } { (lang.t(AUDIT)) }
            @if s.role == Role::Admin { a href={ "/admin/users?lang=" (l) } { (lang.t(USERS)) } }
            @if s.role == Role::Admin { a href={ "/admin/enroll?lang=" (l) } { (lang.t(super::enroll_pages::ENROLL)) } }
            form method="post" action={ "/admin/logout?lang=" (l) } style="display:inline" {
                input type="hidden" name="csrf" value=(s.csrf);
                (s.username) " (" (s.role) ") "
                button type="submit" id="logout" { (lang.t(LOGOUT)) }
            }
        }
    }
}

/// The session, or a redirect to the login page.
pub(super) async fn console_session(
    state: &AppState,
    jar: &CookieJar,
    lang: Lang,
) -> Result<Session, Response> {
    match admin::session_of(state, jar).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => {
            Err(Redirect::to(&format!("/admin/login?lang={}", lang.code())).into_response())
        }
        Err(e) => Err(e.into_response()),
    }
}

async fn login_page(Query(q): Query<LangQuery>) -> Markup {
    login_markup(q.lang(), None)
}

fn login_markup(lang: Lang, error: Option<String>) -> Markup {
    page(
        lang,
        lang.t(CONSOLE),
        html! {
            (lang_switch(lang, "/admin/login"))
            h1 { (lang.t(CONSOLE)) }
            @if let Some(e) = error { p class="err" id="error" role="alert" { (e) } }
            form method="post" action={ "/admin/login?lang=" (lang.code()) } {
                p { label for="username" { (lang.t(USER)) } br; input id="username" name="username" autocomplete="username" required; }
                p { label for="password" { (lang.t(PASSWORD)) } br; input id="password" name="password" type="password" autocomplete="current-password" required; }
                p { button type="submit" id="login" { (lang.t(LOGIN)) } }
            }
        },
    )
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

async fn login_submit(
    State(state): State<AppState>,
    PeerIp(ip): PeerIp,
    Query(q): Query<LangQuery>,
    jar: CookieJar,
    Form(f): Form<LoginForm>,
) -> Response {
    let lang = q.lang();
    match admin::log_in(&state, ip, &f.username, &f.password).await {
        Ok((cookie, _)) => (
            jar.add(cookie),
            Redirect::to(&format!("/admin?lang={}", lang.code())),
        )
            .into_response(),
        Err(e @ (ApiError::Unauthorized(_) | ApiError::RateLimited { .. })) => {
            let status = match &e {
                ApiError::RateLimited { .. } => axum::http::StatusCode::TOO_MANY_REQUESTS,
                _ => axum::http::StatusCode::UNAUTHORIZED,
            };
            (status, login_markup(lang, Some(e.to_string()))).into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout_submit(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    jar: CookieJar,
    Form(f): Form<CsrfForm>,
) -> Response {
    let lang = q.lang();
    let s = match console_session(&state, &jar, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(e) = admin::Auth(s).require_csrf(Some(&f.csrf)) {
        return e.into_response();
    }
    match admin::log_out(&state, jar).await {
        Ok(jar) => (
            jar,
            Redirect::to(&format!("/admin/login?lang={}", lang.code())),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

fn case_markup(lang: Lang, s: &Session, c: &CaseView, decide: bool) -> Markup {
    let l = lang.code();
    html! {
        section class="case" id={ "case-" (c.id) } {
            h2 { (c.id) " · " (c.kiosk) " #" (c.seq) " · " (c.kind) }
            p class={ "verdict-" (c.verdict.clone().unwrap_or_default()) } {
                strong { (lang.t(VERDICT)) ": " } (c.verdict.clone().unwrap_or_else(|| "—".into()))
                " · " strong { (lang.t(RISK)) ": " } (c.risk.map(|r| r.to_string()).unwrap_or_else(|| "—".into()))
                @if let Some(d) = &c.decision { " · " strong { (d) } }
            }
            div class="pair" {
                @for role in &c.images {
                    figure { figcaption { (role) } img src={ "/api/v1/admin/cases/" (c.id) "/image/" (role) } alt=(role) loading="lazy"; }
                }
            }
            h3 { (lang.t(CLAIMS)) }
            table {
                @if let Some(o) = c.claims.as_object() {
                    @for (k, v) in o { tr { th { (k) } td { (match v { serde_json::Value::String(s) => s.clone(), other => other.to_string() }) } } }
                }
            }
            @if c.report.get("verdict").is_some() || c.report.get("findings").is_some() {
                h3 { (lang.t(FINDINGS)) }
                ul {
                    @for f in c.report["findings"].as_array().cloned().unwrap_or_default() {
                        li { code { (f["code"].as_str().unwrap_or("")) } " " (f[if lang == Lang::Bn { "bn" } else { "en" }].as_str().unwrap_or("")) }
                    }
                }
                @if let Some(fields) = c.report["fields"].as_object() {
                    h3 { (lang.t(FIELDS)) }
                    table { @for (k, v) in fields { tr { th { (k) } td { (match v { serde_json::Value::String(s) => s.clone(), other => other.to_string() }) } } } }
                }
            }
            @if !c.linked.is_empty() {
                h3 { (lang.t(LINKED)) }
                ul class="linked" { @for k in &c.linked { li { (k.id) " (" (k.kiosk) ", " (k.by) " " (k.value) ")" } } }
            }
            @if decide && s.role.can_decide() && c.decision.is_none() {
                form method="post" action={ "/admin/cases/" (c.id) "/decide?lang=" (l) } {
                    input type="hidden" name="csrf" value=(s.csrf);
                    label { (lang.t(REASON)) textarea name="reason" rows="2" {} }
                    button type="submit" name="outcome" value="approve" class="approve" { (lang.t(APPROVE)) }
                    " "
                    button type="submit" name="outcome" value="reject" class="reject" { (lang.t(REJECT)) }
                }
            }
        }
    }
}

async fn queue_page(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    jar: CookieJar,
) -> Response {
    let lang = q.lang();
    let s = match console_session(&state, &jar, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let cases = match admin::open_cases(&state).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    page(
        lang,
        lang.t(QUEUE),
        html! {
            (lang_switch(lang, "/admin"))
            (console_nav(lang, &s))
            h1 { (lang.t(QUEUE)) " (" (cases.len()) ")" }
            @if cases.is_empty() { p id="empty" { (lang.t(EMPTY_QUEUE)) } }
            @for c in &cases { (case_markup(lang, &s, c, true)) }
        },
    )
    .into_response()
}

#[derive(Debug, Deserialize)]
struct DecideForm {
    csrf: String,
    outcome: String,
    #[serde(default)]
    reason: String,
}

async fn decide_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    jar: CookieJar,
    Form(f): Form<DecideForm>,
) -> Response {
    let lang = q.lang();
    let s = match console_session(&state, &jar, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let auth = admin::Auth(s.clone());
    let outcome = match f.outcome.as_str() {
        "approve" => DecisionOutcome::Approved,
        "reject" => DecisionOutcome::Rejected,
        _ => return ApiError::bad("bad_outcome", "approve or reject").into_response(),
    };
    let r = async {
        auth.require(Role::Reviewer)?;
        auth.require_csrf(Some(&f.csrf))?;
        admin::decide_case(&state, &s, &id, outcome, Some(f.reason)).await
    }
    .await;
    match r {
        Ok(_) => Redirect::to(&format!("/admin?lang={}", lang.code())).into_response(),
        Err(e) => {
            let status = e.status();
            (
                status,
                page(
                    lang,
                    lang.t(QUEUE),
                    html! {
                        (console_nav(lang, &s))
                        p class="err" id="error" role="alert" { (e.to_string()) }
                        p { a href={ "/admin?lang=" (lang.code()) } { (lang.t(QUEUE)) } }
                    },
                ),
            )
                .into_response()
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct SearchQ {
    lang: Option<String>,
    q: Option<String>,
}

async fn search_page(
    State(state): State<AppState>,
    Query(q): Query<SearchQ>,
    jar: CookieJar,
) -> Response {
    let lang = LangQuery {
        lang: q.lang.clone(),
    }
    .lang();
    let s = match console_session(&state, &jar, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let term = q.q.clone().unwrap_or_default();
    let digits: String = term.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let found = if term.trim().is_empty() {
        Ok(Vec::new())
    } else if digits.len() == 15 && digits.bytes().all(|b| b.is_ascii_digit()) {
        admin::search_cases(&state, Some(&term), None).await
    } else {
        admin::search_cases(&state, None, Some(&term)).await
    };
    page(
        lang,
        lang.t(SEARCH),
        html! {
            (lang_switch(lang, "/admin/search"))
            (console_nav(lang, &s))
            h1 { (lang.t(SEARCH)) }
            form method="get" action="/admin/search" {
                input type="hidden" name="lang" value=(lang.code());
                input name="q" value=(term) placeholder="IMEI / GD";
                " " button type="submit" { (lang.t(SEARCH)) }
            }
            @match &found {
                Ok(cases) => { @for c in cases { (case_markup(lang, &s, c, false)) } }
                Err(e) => { p class="err" { (e.to_string()) } }
            }
        },
    )
    .into_response()
}

pub(super) fn when(unix: i64) -> String {
    let date = crate::decisions::ymd(u64::try_from(unix).unwrap_or(0));
    let s = unix.rem_euclid(86_400);
    format!("{date} {:02}:{:02} UTC", s / 3600, (s % 3600) / 60)
}

async fn fleet_page(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    jar: CookieJar,
) -> Response {
    let lang = q.lang();
    let s = match console_session(&state, &jar, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let kiosks = match admin::fleet_of(&state).await {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    page(
        lang,
        lang.t(FLEET),
        html! {
            (lang_switch(lang, "/admin/fleet"))
            (console_nav(lang, &s))
            h1 { (lang.t(FLEET)) }
            table id="fleet" {
                tr { th { "kiosk" } th { "state" } th { "last seen" } th { "backlog" } th { "index" } th { "decisions" } th { "app" } th { "lookup hits" } }
                @for k in &kiosks {
                    tr { td { (k.kiosk) } td { (k.state) } td { (when(k.last_seen)) } td { (k.backlog) } td { (k.index_version) } td { (k.decision_seq) } td { (k.app_version) } td { (k.lookup_hits) } }
                }
            }
        },
    )
    .into_response()
}

async fn audit_page(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    jar: CookieJar,
) -> Response {
    let lang = q.lang();
    let s = match console_session(&state, &jar, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let entries = match state.users.audit_log(500).await {
        Ok(e) => e,
        Err(e) => return ApiError::from(e).into_response(),
    };
    page(
        lang,
        lang.t(AUDIT),
        html! {
            (lang_switch(lang, "/admin/audit"))
            (console_nav(lang, &s))
            h1 { (lang.t(AUDIT)) }
            table id="audit" {
                tr { th { "when" } th { "who" } th { "what" } th { "case / user" } th { "detail" } }
                @for e in &entries { tr { td { (when(e.at)) } td { (e.actor) } td { (e.action) } td { (e.target) } td { (e.detail) } } }
            }
        },
    )
    .into_response()
}

async fn users_page(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    jar: CookieJar,
) -> Response {
    let lang = q.lang();
    let s = match console_session(&state, &jar, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    users_markup(&state, lang, &s, None).await
}

async fn users_markup(state: &AppState, lang: Lang, s: &Session, note: Option<String>) -> Response {
    if let Err(e) = admin::Auth(s.clone()).require(Role::Admin) {
        return e.into_response();
    }
    let users = match state.users.list().await {
        Ok(u) => u,
        Err(e) => return ApiError::from(e).into_response(),
    };
    page(
        lang,
        lang.t(USERS),
        html! {
            (lang_switch(lang, "/admin/users"))
            (console_nav(lang, s))
            h1 { (lang.t(USERS)) }
            @if let Some(n) = note { p role="status" { (n) } }
            table { @for (name, role, _) in &users { tr { td { (name) } td { (role) } } } }
            form method="post" action={ "/admin/users?lang=" (lang.code()) } {
                input type="hidden" name="csrf" value=(s.csrf);
                input name="username" placeholder=(lang.t(USER)) required;
                " " input name="password" type="password" placeholder=(lang.t(PASSWORD)) required;
                " " select name="role" { option value="viewer" { "viewer" } option value="reviewer" { "reviewer" } option value="admin" { "admin" } }
                " " button type="submit" { "+" }
            }
        },
    )
    .into_response()
}

#[derive(Debug, Deserialize)]
struct UserForm {
    csrf: String,
    username: String,
    password: String,
    role: Role,
}

async fn users_submit(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    jar: CookieJar,
    Form(f): Form<UserForm>,
) -> Response {
    let lang = q.lang();
    let s = match console_session(&state, &jar, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let auth = admin::Auth(s.clone());
    if let Err(e) = auth
        .require(Role::Admin)
        .and_then(|()| auth.require_csrf(Some(&f.csrf)))
    {
        return e.into_response();
    }
    let note = match admin::add_user_as(
        &state,
        &s,
        admin::NewUser {
            username: f.username,
            password: f.password,
            role: f.role,
        },
    )
    .await
    {
        Ok(u) => format!("+ {} ({})", u.username, u.role),
        Err(e) => e.to_string(),
    };
    users_markup(&state, lang, &s, Some(note)).await
}
