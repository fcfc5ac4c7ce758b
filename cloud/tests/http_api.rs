//! The HTTP API against the real service (HTTP on port 0, a real Mosquitto, SQLite and PostgreSQL):
//! every endpoint and every client error (400/401/403/404/409/413/429), bodies as insta snapshots.

mod common;

use std::time::{Duration, Instant};

use common::http::{file_part, json, login, png, read_progress, start, upload_check, Server};
use jachai_cloud::users::{Role, Users};
use jachai_cloud::Command;
use jachai_protocol::envelope::{self, CaseMsg, UpCase};
use jachai_protocol::sign::TrustedKeys;
use jachai_protocol::stolen::StolenEntry;
use tokio::sync::oneshot;

const STOLEN: &str = "490154203237518";
const OTHER: &str = "356938035643809";
const PASSWORD: &str = "a long enough password";

async fn add_stolen(s: &Server, imei: &str) {
    let (done, reply) = oneshot::channel();
    s.commands
        .send(Command::Stolen {
            added: vec![StolenEntry {
                imei: imei.into(),
                reported_at: "2026-11-30".into(),
                theft_location: "Mirpur, Dhaka".into(),
            }],
            removed: vec![],
            done,
        })
        .await
        .expect("send");
    reply.await.expect("reply").expect("applied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_health_openapi_metrics_and_not_found() {
    for db in common::databases().await {
        let s = start(&db, "").await;
        add_stolen(&s, STOLEN).await;
        let label = db.label;

        let (st, body) = json(s.get("/healthz").await).await;
        assert_eq!(st, 200, "{label}");
        insta::assert_json_snapshot!("healthz", body);

        let (st, body) = json(s.get(&format!("/api/v1/lookup?imei={STOLEN}")).await).await;
        assert_eq!(st, 200, "{label}");
        insta::assert_json_snapshot!("lookup_stolen", body);
        let (st, body) = json(s.get(&format!("/api/v1/lookup?imei={OTHER}")).await).await;
        assert_eq!(st, 200, "{label}");
        insta::assert_json_snapshot!("lookup_clear", body);
        // Typed with dashes, as printed on a box.
        let (st, body) = json(s.get("/api/v1/lookup?imei=49-015420-323751-8").await).await;
        assert_eq!(
            (st, body["status"].as_str()),
            (200, Some("stolen")),
            "{label}"
        );

        for (name, query) in [
            ("lookup_missing", ""),
            ("lookup_empty", "?imei="),
            ("lookup_short", "?imei=12345"),
            ("lookup_letters", "?imei=49015420323751x"),
            ("lookup_luhn", "?imei=490154203237519"),
        ] {
            let (st, body) = json(s.get(&format!("/api/v1/lookup{query}")).await).await;
            assert_eq!(st, 400, "{label} {name}");
            insta::assert_json_snapshot!(name, body);
        }

        let (st, body) = json(s.get("/no/such/page").await).await;
        assert_eq!(st, 404);
        insta::assert_json_snapshot!("not_found", body);

        let (st, doc) = json(s.get("/api/openapi.json").await).await;
        assert_eq!(st, 200);
        let paths: Vec<&str> = doc["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .map(String::as_str)
            .collect();
        insta::assert_json_snapshot!("openapi_paths", paths);

        let metrics = s.get("/metrics").await;
        assert_eq!(metrics.status().as_u16(), 200);
        let text = metrics.text().await.expect("metrics");
        for want in [
            "jachai_cloud_lookups_total{status=\"stolen\"} 2",
            "jachai_cloud_lookups_total{status=\"clear\"} 1",
            "jachai_cloud_stolen_entries 1",
            "jachai_cloud_http_requests_total{method=\"GET\",route=\"/api/v1/lookup\",status=\"400\"} 5",
            "# EOF",
        ] {
            assert!(text.contains(want), "{label}: {want} not in\n{text}");
        }
        s.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_past_the_client_quota_get_429_with_retry_after() {
    let db = common::databases().await.remove(0);
    let s = start(&db, "api_per_minute = 3").await;
    for _ in 0..3 {
        let st = s
            .get(&format!("/api/v1/lookup?imei={OTHER}"))
            .await
            .status();
        assert_eq!(st.as_u16(), 200);
    }
    let resp = s.get(&format!("/api/v1/lookup?imei={OTHER}")).await;
    let retry: u64 = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=20).contains(&retry), "retry after {retry}");
    let (st, body) = json(resp).await;
    assert_eq!(st, 429);
    insta::assert_json_snapshot!("rate_limited", body, {".message" => "[retry]"});
    // Health and metrics are not held to the public quota.
    assert_eq!(s.get("/healthz").await.status().as_u16(), 200);
    s.stop().await;
    db.drop_db().await;
}

/// A kiosk's theft report published on its uplink, as the kiosk's sync daemon does.
async fn kiosk_case(s: &Server, kiosk: &str, seq: u64, case_id: &str, imei: &str, gd: &str) {
    let claims = serde_json::json!({"imeis": [imei], "thana": "Mirpur", "district": "Dhaka", "gd_number": gd});
    let payload = envelope::encode(&UpCase::Case(CaseMsg {
        seq,
        case_id: case_id.into(),
        kind: "gd".into(),
        created_at: 1_764_460_800,
        claims: claims.as_object().expect("object").clone(),
        verdict: Some("review".into()),
        risk: Some(45),
        report: serde_json::json!({"findings": [{"code": "gd_number_unreadable"}]}),
        blobs: vec![],
    }));
    let id = s.broker.identity(kiosk).expect("cert");
    let topic = format!("jachai/v1/k/{kiosk}/up/case");
    let out = tokio::task::block_in_place(|| s.broker.publish(Some(&id), &topic, &payload, false))
        .expect("mosquitto_pub");
    assert!(out.status.success());
}

async fn wait_queue(s: &Server, cookie: &str, n: usize) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (st, body) = json(
            s.http
                .get(s.url("/api/v1/admin/queue"))
                .header("cookie", cookie)
                .send()
                .await
                .expect("queue"),
        )
        .await;
        assert_eq!(st, 200);
        if body["cases"].as_array().map_or(0, Vec::len) >= n || Instant::now() > deadline {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn post_decision(
    s: &Server,
    cookie: Option<&str>,
    csrf: Option<&str>,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut req = s.http.post(s.url(path));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    if let Some(t) = csrf {
        req = req.header("x-csrf-token", t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    json(req.send().await.expect("POST")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewers_approve_and_reject_through_the_signed_path_and_the_lookup_changes() {
    for db in common::databases().await {
        let label = db.label;
        let s = start(&db, "login_per_minute = 8").await;
        common::http::users(&db).await;
        let kiosk = s.broker.identity("kiosk-a").expect("cert");
        let sub = tokio::task::block_in_place(|| {
            s.broker
                .subscribe(Some(&kiosk), &["jachai/v1/k/kiosk-a/down/decision"])
        })
        .expect("subscribe");
        kiosk_case(&s, "kiosk-a", 1, "R-approve", STOLEN, "GD-101").await;
        kiosk_case(&s, "kiosk-a", 2, "R-reject", OTHER, "GD-102").await;
        // The same GD number at another kiosk: linked for the reviewer.
        kiosk_case(&s, "kiosk-b", 1, "R-elsewhere", "352099001761481", "GD-101").await;

        // 401: no session, wrong password.
        let (st, body) = json(s.get("/api/v1/admin/queue").await).await;
        assert_eq!(st, 401, "{label}");
        insta::assert_json_snapshot!("queue_unauthenticated", body);
        let (st, body) = login(&s, "rafi", "wrong password!")
            .await
            .err()
            .expect("refused");
        assert_eq!(st, 401);
        insta::assert_json_snapshot!("login_wrong", body);
        let (st, body) = login(&s, "nobody", PASSWORD).await.err().expect("refused");
        assert_eq!(st, 401);
        assert_eq!(body["error"], "unauthorized");

        let reviewer = login(&s, "rafi", PASSWORD).await.expect("reviewer logs in");
        let viewer = login(&s, "vera", PASSWORD).await.expect("viewer logs in");
        let admin = login(&s, "ana", PASSWORD).await.expect("admin logs in");

        let queue = wait_queue(&s, &reviewer.cookie, 3).await;
        insta::assert_json_snapshot!("queue", queue, {".cases[].received_at" => "[time]"});

        let approve = "/api/v1/admin/queue/R-approve/approve";
        let reject = "/api/v1/admin/queue/R-reject/reject";
        // 401 / 403 (role) / 403 (CSRF) / 404 / 400.
        let (st, _) = post_decision(&s, None, None, approve, None).await;
        assert_eq!(st, 401);
        let (st, body) =
            post_decision(&s, Some(&viewer.cookie), Some(&viewer.csrf), approve, None).await;
        assert_eq!(st, 403);
        insta::assert_json_snapshot!("approve_as_viewer", body);
        let (st, body) = post_decision(&s, Some(&reviewer.cookie), None, approve, None).await;
        assert_eq!(st, 403);
        insta::assert_json_snapshot!("approve_without_csrf", body);
        let (st, body) =
            post_decision(&s, Some(&reviewer.cookie), Some("forged"), approve, None).await;
        assert_eq!(st, 403);
        insta::assert_json_snapshot!("approve_forged_csrf", body);
        let (st, body) = post_decision(
            &s,
            Some(&reviewer.cookie),
            Some(&reviewer.csrf),
            "/api/v1/admin/queue/R-nope/approve",
            None,
        )
        .await;
        assert_eq!(st, 404);
        insta::assert_json_snapshot!("approve_unknown", body);
        let (st, body) = post_decision(
            &s,
            Some(&reviewer.cookie),
            Some(&reviewer.csrf),
            reject,
            None,
        )
        .await;
        assert_eq!(st, 400);
        insta::assert_json_snapshot!("reject_without_reason", body);

        // Before: clear.
        let (_, before) = json(s.get(&format!("/api/v1/lookup?imei={STOLEN}")).await).await;
        assert_eq!(before["status"], "clear", "{label}");

        let (st, body) = post_decision(
            &s,
            Some(&reviewer.cookie),
            Some(&reviewer.csrf),
            approve,
            Some(serde_json::json!({"reason": "GD copy checked by phone with Mirpur thana"})),
        )
        .await;
        assert_eq!(st, 200, "{label}: {body}");
        insta::assert_json_snapshot!("approved", body);
        let (st, body) = post_decision(
            &s,
            Some(&admin.cookie),
            Some(&admin.csrf),
            reject,
            Some(serde_json::json!({"reason": "the GD number belongs to another case"})),
        )
        .await;
        assert_eq!(st, 200, "{label}: {body}");
        insta::assert_json_snapshot!("rejected", body);
        let (st, body) = post_decision(
            &s,
            Some(&reviewer.cookie),
            Some(&reviewer.csrf),
            approve,
            None,
        )
        .await;
        assert_eq!(st, 409);
        insta::assert_json_snapshot!("approve_twice", body);

        // After: the approved IMEI is stolen; the rejected one stays clear.
        let (_, after) = json(s.get(&format!("/api/v1/lookup?imei={STOLEN}")).await).await;
        insta::assert_json_snapshot!("lookup_after_approval", after);
        let (_, other) = json(s.get(&format!("/api/v1/lookup?imei={OTHER}")).await).await;
        assert_eq!(other["status"], "clear");

        // Both decisions reached the reporting kiosk, signed by the cloud's key.
        let got = tokio::task::block_in_place(|| sub.wait_for(2, Duration::from_secs(15)))
            .expect("decisions");
        let mut keys = TrustedKeys::new();
        let public =
            std::fs::read_to_string(db.dir.path().join("signing.key.pub")).expect("public key");
        keys.add_hex(&public).expect("key");
        let mut outcomes = Vec::new();
        for m in got.iter().take(2) {
            let body = keys.open_payload(&m.payload).expect("signed by the cloud");
            outcomes.push(format!("{body:?}").contains("Approved"));
        }
        outcomes.sort_unstable();
        assert_eq!(outcomes, vec![false, true], "{label}");

        // The queue holds only the linked case now; the audit log has both decisions.
        let queue = wait_queue(&s, &viewer.cookie, 1).await;
        let ids: Vec<&str> = queue["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .filter_map(|c| c["id"].as_str())
            .collect();
        assert_eq!(ids, vec!["R-elsewhere"]);
        let (st, audit) = json(
            s.http
                .get(s.url("/api/v1/admin/audit"))
                .header("cookie", &viewer.cookie)
                .send()
                .await
                .expect("audit"),
        )
        .await;
        assert_eq!(st, 200);
        let decisions: Vec<(String, String, String)> = audit["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter(|e| e["action"] == "approved" || e["action"] == "rejected")
            .map(|e| {
                (
                    e["actor"].as_str().unwrap_or("").to_string(),
                    e["action"].as_str().unwrap_or("").to_string(),
                    e["target"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        assert_eq!(decisions.len(), 2, "{audit}");
        assert!(decisions.contains(&("rafi".into(), "approved".into(), "R-approve".into())));
        assert!(decisions.contains(&("ana".into(), "rejected".into(), "R-reject".into())));

        // Search, fleet, users (admin only).
        let (st, found) = json(
            s.http
                .get(s.url("/api/v1/admin/cases?gd=GD-101"))
                .header("cookie", &viewer.cookie)
                .send()
                .await
                .expect("search"),
        )
        .await;
        assert_eq!(st, 200);
        assert_eq!(found["cases"].as_array().map(Vec::len), Some(2));
        let (st, body) = json(
            s.http
                .get(s.url("/api/v1/admin/cases"))
                .header("cookie", &viewer.cookie)
                .send()
                .await
                .expect("search"),
        )
        .await;
        assert_eq!(st, 400);
        insta::assert_json_snapshot!("search_without_query", body);
        let (st, _) = json(
            s.http
                .get(s.url("/api/v1/admin/fleet"))
                .header("cookie", &viewer.cookie)
                .send()
                .await
                .expect("fleet"),
        )
        .await;
        assert_eq!(st, 200);
        let (st, body) = json(
            s.http
                .get(s.url("/api/v1/admin/users"))
                .header("cookie", &reviewer.cookie)
                .send()
                .await
                .expect("users"),
        )
        .await;
        assert_eq!(st, 403);
        insta::assert_json_snapshot!("users_as_reviewer", body);
        let new_user =
            serde_json::json!({"username": "nila", "password": PASSWORD, "role": "reviewer"});
        let (st, body) = json(
            s.http
                .post(s.url("/api/v1/admin/users"))
                .header("cookie", &admin.cookie)
                .header("x-csrf-token", &admin.csrf)
                .json(&new_user)
                .send()
                .await
                .expect("add user"),
        )
        .await;
        assert_eq!(st, 201, "{body}");
        let (st, body) = json(
            s.http
                .post(s.url("/api/v1/admin/users"))
                .header("cookie", &admin.cookie)
                .header("x-csrf-token", &admin.csrf)
                .json(&new_user)
                .send()
                .await
                .expect("add user"),
        )
        .await;
        assert_eq!(st, 409);
        insta::assert_json_snapshot!("user_exists", body);

        // The login limit (8 a minute from one address): wrong passwords get 401 until it is spent,
        // then 429 with Retry-After, even for the right password.
        let mut statuses = Vec::new();
        while statuses.last() != Some(&429) && statuses.len() < 30 {
            statuses.push(
                login(&s, "rafi", "wrong password!")
                    .await
                    .err()
                    .map_or(200, |e| e.0),
            );
        }
        assert_eq!(statuses.last(), Some(&429), "{label}: {statuses:?}");
        assert!(statuses[..statuses.len() - 1].iter().all(|&s| s == 401));
        let (st, body) = login(&s, "rafi", PASSWORD).await.err().expect("limited");
        assert_eq!(st, 429);
        insta::assert_json_snapshot!("login_rate_limited", body, {".message" => "[retry]"});

        // Logging out ends the session.
        let resp = s
            .http
            .post(s.url("/api/v1/auth/logout"))
            .header("cookie", &reviewer.cookie)
            .header("x-csrf-token", &reviewer.csrf)
            .send()
            .await
            .expect("logout");
        assert_eq!(resp.status().as_u16(), 204);
        let (st, _) = json(
            s.http
                .get(s.url("/api/v1/auth/me"))
                .header("cookie", &reviewer.cookie)
                .send()
                .await
                .expect("me"),
        )
        .await;
        assert_eq!(st, 401);
        s.stop().await;
        db.drop_db().await;
    }
}

/// A flat PNG: tiny on disk, however many pixels.
fn flat_png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([200, 200, 200]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_streams_progress_to_100_and_serves_its_results_and_images() {
    for db in common::databases().await {
        let label = db.label;
        let s = start(&db, "").await;
        let form = reqwest::multipart::Form::new()
            .text("kind", "cheque")
            .part("file", file_part(png(480, 220), "cheque.png"));
        let (st, started) = upload_check(&s, form).await;
        assert_eq!(st, 202, "{label}: {started}");
        insta::assert_json_snapshot!("check_started", started, {
            ".id" => "[id]", ".progress_url" => "[url]", ".results_url" => "[url]"
        });
        let id = started["id"].as_str().expect("id").to_string();
        let events = read_progress(&s, &id).await;
        let pct: Vec<u64> = events
            .iter()
            .map(|e| e["percentage"].as_u64().expect("percentage"))
            .collect();
        assert!(pct.windows(2).all(|w| w[0] <= w[1]), "{pct:?}");
        assert_eq!(pct.last(), Some(&100), "{label}: {events:?}");
        let last = events.last().expect("events");
        assert_eq!(last["status"], "done", "{last}");
        assert!(
            events.iter().any(|e| e["stage"] == "copy_move"),
            "stages are named: {events:?}"
        );

        let (st, results) = json(s.get(&format!("/api/checks/{id}/results")).await).await;
        assert_eq!(st, 200);
        assert_eq!(results["status"], "done");
        assert_eq!(results["report"]["kind"], "cheque");
        assert!(results["report"]["verdict"].is_string());
        assert!(results["report"]["findings"].is_array());
        // A finished check's stream is one final event.
        let again = read_progress(&s, &id).await;
        assert_eq!(again.len(), 1);
        assert_eq!(again[0]["status"], "done");

        for (which, ty) in [("original", "image/png"), ("annotated", "image/png")] {
            let resp = s.get(&format!("/api/checks/{id}/image/{which}")).await;
            assert_eq!(resp.status().as_u16(), 200, "{which}");
            assert_eq!(
                resp.headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok()),
                Some(ty)
            );
            let bytes = resp.bytes().await.expect("image");
            let img = image::load_from_memory(&bytes).expect("a decodable image");
            assert_eq!((img.width(), img.height()), (480, 220), "{which}");
        }
        for (name, path) in [
            (
                "check_unknown",
                "/api/checks/c-000000000000000000000000/results".to_string(),
            ),
            (
                "check_bad_id",
                "/api/checks/..%2F..%2Fetc/results".to_string(),
            ),
            (
                "check_bad_image",
                format!("/api/checks/{id}/image/thumbnail"),
            ),
            (
                "check_unknown_progress",
                "/api/checks/c-0/progress".to_string(),
            ),
        ] {
            let (st, body) = json(s.get(&path).await).await;
            assert_eq!(st, 404, "{name}");
            insta::assert_json_snapshot!(name, body);
        }
        s.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_over_the_limits_get_413_and_bad_uploads_400() {
    let db = common::databases().await.remove(0);
    let s = start(&db, "max_upload_bytes = 300000\nmax_pixels = 250000").await;
    let post = |form: reqwest::multipart::Form| {
        let req = s.http.post(s.url("/api/checks/upload")).multipart(form);
        async move { json(req.send().await.expect("upload")).await }
    };
    // Over the byte limit (random bytes do not compress).
    let big: Vec<u8> = (0..400_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let (st, body) =
        post(reqwest::multipart::Form::new().part("file", file_part(big, "big.png"))).await;
    assert_eq!(st, 413);
    insta::assert_json_snapshot!("upload_too_many_bytes", body);
    // Under the byte limit, over the pixel limit.
    let (st, body) = post(
        reqwest::multipart::Form::new().part("file", file_part(flat_png(600, 600), "wide.png")),
    )
    .await;
    assert_eq!(st, 413);
    insta::assert_json_snapshot!("upload_too_many_pixels", body);
    for (name, form) in [
        (
            "upload_missing_file",
            reqwest::multipart::Form::new().text("kind", "image"),
        ),
        (
            "upload_bad_kind",
            reqwest::multipart::Form::new()
                .text("kind", "passport")
                .part("file", file_part(png(40, 40), "a.png")),
        ),
        (
            "upload_not_an_image",
            reqwest::multipart::Form::new()
                .part("file", file_part(b"hello, world".to_vec(), "a.png")),
        ),
        (
            "upload_empty_file",
            reqwest::multipart::Form::new().part("file", file_part(Vec::new(), "a.png")),
        ),
    ] {
        let (st, body) = post(form).await;
        assert_eq!(st, 400, "{name}: {body}");
        insta::assert_json_snapshot!(name, body);
    }
    // Not multipart at all.
    let (st, body) = json(
        s.http
            .post(s.url("/api/checks/upload"))
            .body("x")
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_eq!(st, 400);
    insta::assert_json_snapshot!("upload_not_multipart", body);
    s.stop().await;
    db.drop_db().await;
}

fn gd_copy() -> Vec<u8> {
    let options = gdgen::Options {
        photo_share: 0.0,
        bengali_digit_share: 0.0,
        ..gdgen::Options::default().only(gdgen::Variant::Clean)
    };
    gdgen::generate(7, &options).expect("a GD copy").bytes
}

/// What a webhook or SMS gateway received: (path, event id header, body).
type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, String, String)>>>;

/// A webhook receiver and SMS gateway on port 0 that answer the first webhook call with 500.
async fn receiver() -> (String, Received) {
    use axum::http::{HeaderMap, StatusCode, Uri};
    let got: Received = Default::default();
    let seen = got.clone();
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: String| {
        let seen = seen.clone();
        async move {
            let id = headers
                .get("x-jachai-event-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let mut seen = seen.lock().expect("lock");
            let first_webhook = uri.path() == "/hook" && !seen.iter().any(|r| r.0 == "/hook");
            seen.push((uri.path().to_string(), id, body));
            if first_webhook {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::OK
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), got)
}

async fn wait_received(
    got: &Received,
    pred: impl Fn(&[(String, String, String)]) -> bool,
) -> Vec<(String, String, String)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = got.lock().expect("lock").clone();
        if pred(&now) || Instant::now() > deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_report_is_verified_then_queued_for_review() {
    for db in common::databases().await {
        let label = db.label;
        let (recv, got) = receiver().await;
        let s = start(
            &db,
            &format!("\n[notify]\nwebhook_url = \"{recv}/hook\"\nsms_url = \"{recv}/sms\"\nsms_token = \"t0ken\"\n"),
        )
        .await;
        let users = Users::new(db.open().await);
        users
            .add("rafi", PASSWORD, Role::Reviewer)
            .await
            .expect("user");
        let form = reqwest::multipart::Form::new()
            .text("imei", STOLEN)
            .text("theft_location", "Farmgate bus stand, Dhaka")
            .text("phone", "017-1234-5678")
            .part("gd_copy", file_part(gd_copy(), "gd.png"));
        let (st, started) = json(
            s.http
                .post(s.url("/api/v1/reports"))
                .multipart(form)
                .send()
                .await
                .expect("report"),
        )
        .await;
        assert_eq!(st, 202, "{label}: {started}");
        let id = started["id"].as_str().expect("id").to_string();
        let status_path = format!("/api/v1/reports/{id}/status");
        let deadline = Instant::now() + Duration::from_secs(180);
        let status = loop {
            let (st, body) = json(s.get(&status_path).await).await;
            assert_eq!(st, 200);
            if body["status"] != "verifying" || Instant::now() > deadline {
                break body;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(status["status"], "in_review", "{label}: {status}");
        assert!(status["verdict"].is_string());

        let reviewer = login(&s, "rafi", PASSWORD).await.expect("login");
        let queue = wait_queue(&s, &reviewer.cookie, 1).await;
        let case = &queue["cases"][0];
        assert_eq!(case["id"], id.as_str());
        assert_eq!(case["kiosk"], "web");
        assert_eq!(case["claims"]["imeis"][0], STOLEN);
        assert_eq!(
            case["claims"]["theft_location"],
            "Farmgate bus stand, Dhaka"
        );
        let images: Vec<&str> = case["images"]
            .as_array()
            .expect("images")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert_eq!(images, vec!["annotated", "gd_copy"]);
        let img = s
            .http
            .get(s.url(&format!("/api/v1/admin/cases/{id}/image/gd_copy")))
            .header("cookie", &reviewer.cookie)
            .send()
            .await
            .expect("image");
        assert_eq!(img.status().as_u16(), 200);

        let (st, body) = post_decision(
            &s,
            Some(&reviewer.cookie),
            Some(&reviewer.csrf),
            &format!("/api/v1/admin/queue/{id}/approve"),
            Some(serde_json::json!({"reason": "thana confirmed"})),
        )
        .await;
        assert_eq!(st, 200, "{body}");
        let (_, status) = json(s.get(&status_path).await).await;
        assert_eq!(status["status"], "approved");
        let (_, lookup) = json(s.get(&format!("/api/v1/lookup?imei={STOLEN}")).await).await;
        assert_eq!(lookup["status"], "stolen");
        assert_eq!(lookup["theft_location"], "Farmgate bus stand, Dhaka");

        // Notifications: the webhook got both events (the first try failed and was retried with the same
        // event id); the reporter got two SMS through the gateway.
        let seen = wait_received(&got, |r| {
            r.iter().filter(|x| x.0 == "/hook").count() >= 3
                && r.iter().filter(|x| x.0 == "/sms").count() >= 2
        })
        .await;
        let hooks: Vec<serde_json::Value> = seen
            .iter()
            .filter(|r| r.0 == "/hook")
            .map(|r| serde_json::from_str(&r.2).expect("webhook JSON"))
            .collect();
        assert_eq!(hooks.len(), 3, "{label}: {seen:?}");
        assert_eq!(
            seen.iter()
                .filter(|r| r.0 == "/hook")
                .map(|r| &r.1)
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            2
        );
        let events: std::collections::BTreeSet<(String, String)> = hooks
            .iter()
            .map(|h| {
                (
                    h["event"].as_str().unwrap_or("").to_string(),
                    h["status"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        assert_eq!(
            events,
            [
                ("case.decided".to_string(), "approved".to_string()),
                ("report.in_review".to_string(), "in_review".to_string())
            ]
            .into_iter()
            .collect()
        );
        let sms: Vec<&str> = seen
            .iter()
            .filter(|r| r.0 == "/sms")
            .map(|r| r.2.as_str())
            .collect();
        assert_eq!(sms.len(), 2, "{sms:?}");
        assert!(
            sms.iter().all(|b| b.contains("to=%2B8801712345678")),
            "{sms:?}"
        );
        assert!(sms.iter().any(|b| b.contains("approved")), "{sms:?}");

        // Bad reports.
        for (name, form) in [
            (
                "report_bad_imei",
                reqwest::multipart::Form::new()
                    .text("imei", "12345")
                    .text("theft_location", "Dhaka")
                    .part("gd_copy", file_part(png(40, 40), "gd.png")),
            ),
            (
                "report_missing_location",
                reqwest::multipart::Form::new()
                    .text("imei", STOLEN)
                    .part("gd_copy", file_part(png(40, 40), "gd.png")),
            ),
            (
                "report_bad_phone",
                reqwest::multipart::Form::new()
                    .text("imei", STOLEN)
                    .text("theft_location", "Dhaka")
                    .text("phone", "12345")
                    .part("gd_copy", file_part(png(40, 40), "gd.png")),
            ),
            (
                "report_missing_gd_copy",
                reqwest::multipart::Form::new()
                    .text("imei", STOLEN)
                    .text("theft_location", "Dhaka"),
            ),
        ] {
            let (st, body) = json(
                s.http
                    .post(s.url("/api/v1/reports"))
                    .multipart(form)
                    .send()
                    .await
                    .expect("report"),
            )
            .await;
            assert_eq!(st, 400, "{name}");
            insta::assert_json_snapshot!(name, body);
        }
        let (st, body) = json(s.get("/api/v1/reports/w-0/status").await).await;
        assert_eq!(st, 404);
        insta::assert_json_snapshot!("report_unknown", body);
        s.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_in_both_languages_and_console_forms_keep_the_rules() {
    let db = common::databases().await.remove(0);
    let s = start(&db, "").await;
    Users::new(db.open().await)
        .add("vera", PASSWORD, Role::Viewer)
        .await
        .expect("user");
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for (path, en, bn) in [
        ("/check", "Jachai document check", "যাচাই নথি পরীক্ষা"),
        ("/report", "Report a stolen phone", "চুরি হওয়া ফোনের রিপোর্ট"),
        ("/admin/login", "Jachai review console", "যাচাই পর্যালোচনা কনসোল"),
    ] {
        for (lang, want) in [("en", en), ("bn", bn)] {
            let resp = s.get(&format!("{path}?lang={lang}")).await;
            assert_eq!(resp.status().as_u16(), 200, "{path}");
            let html = resp.text().await.expect("html");
            assert!(html.contains(want), "{path} {lang}");
            assert!(
                html.contains(&format!("<html lang=\"{lang}\">")),
                "{path} {lang}"
            );
        }
    }
    // The console sends a stranger to the login page.
    let resp = no_redirect
        .get(s.url("/admin"))
        .send()
        .await
        .expect("admin");
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(
        resp.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/admin/login?lang=en")
    );
    // A wrong password is a 401 page; the right one sets the cookie and goes to the queue.
    let resp = no_redirect
        .post(s.url("/admin/login"))
        .form(&[("username", "vera"), ("password", "not the password")])
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status().as_u16(), 401);
    assert!(resp
        .text()
        .await
        .expect("html")
        .contains("wrong user name or password"));
    let resp = no_redirect
        .post(s.url("/admin/login"))
        .form(&[("username", "vera"), ("password", PASSWORD)])
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status().as_u16(), 303);
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("a session cookie")
        .to_string();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    let cookie = cookie.split(';').next().expect("name=value").to_string();
    let html = no_redirect
        .get(s.url("/admin"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("queue")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("Review queue (0)") && html.contains("vera (viewer)"),
        "{html}"
    );
    // A console form without the session's CSRF token is refused, and so is a viewer's decision.
    let resp = no_redirect
        .post(s.url("/admin/cases/R-1/decide"))
        .header("cookie", &cookie)
        .form(&[("csrf", "forged"), ("outcome", "approve"), ("reason", "x")])
        .send()
        .await
        .expect("decide");
    assert_eq!(resp.status().as_u16(), 403);
    for page in ["/admin/search?q=GD-1", "/admin/fleet", "/admin/audit"] {
        let resp = no_redirect
            .get(s.url(page))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("page");
        assert_eq!(resp.status().as_u16(), 200, "{page}");
    }
    let resp = no_redirect
        .get(s.url("/admin/users"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("users");
    assert_eq!(resp.status().as_u16(), 403, "users are for admins");
    s.stop().await;
    db.drop_db().await;
}
