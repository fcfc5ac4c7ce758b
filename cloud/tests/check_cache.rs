//! The check result cache against the real service (HTTP on port 0, a real Mosquitto, SQLite and
//! PostgreSQL): the same bytes uploaded again are answered at once from the finished check, anything
//! else runs the pipeline, failed checks are never reused, and web reports always run and are filed.

mod common;

use std::time::{Duration, Instant};

use common::http::{file_part, json, png, read_progress, start, upload_check, Server};
use sha2::{Digest, Sha256};

/// Uploads `bytes` as an image check; returns the `Started` answer.
async fn upload(s: &Server, bytes: Vec<u8>) -> serde_json::Value {
    let form = reqwest::multipart::Form::new().part("file", file_part(bytes, "picture.png"));
    let (st, started) = upload_check(s, form).await;
    assert_eq!(st, 202, "{started}");
    started
}

/// Follows a check to its end; returns its progress events and results.
async fn finish(s: &Server, id: &str) -> (Vec<serde_json::Value>, serde_json::Value) {
    let events = read_progress(s, id).await;
    let (st, results) = json(s.get(&format!("/api/checks/{id}/results")).await).await;
    assert_eq!(st, 200, "{results}");
    (events, results)
}

/// SHA-256 (hex) of a check's annotated image as served.
async fn annotated_sha(s: &Server, id: &str) -> String {
    let resp = s.get(&format!("/api/checks/{id}/image/annotated")).await;
    assert_eq!(resp.status().as_u16(), 200, "{id}");
    let bytes = resp.bytes().await.expect("annotated image");
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `jachai_cloud_checks_total` count for one outcome (0 when not yet exported).
async fn checks_metric(s: &Server, status: &str) -> u64 {
    let text = s.get("/metrics").await.text().await.expect("metrics");
    let prefix = format!("jachai_cloud_checks_total{{status=\"{status}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |n| n.trim().parse().expect("a count"))
}

/// [`checks_metric`] once it reaches `want` (a run is counted just after its last progress event),
/// or its value after 20 s.
async fn checks_metric_reaches(s: &Server, status: &str, want: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let n = checks_metric(s, status).await;
        if n >= want || Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_bytes_again_are_answered_from_the_cache_at_once() {
    for db in common::databases().await {
        let label = db.label;
        let s = start(&db, "").await;
        let picture = png(200, 120);

        let first = upload(&s, picture.clone()).await;
        assert_eq!(first["status"], "running", "{label}: {first}");
        let first_id = first["id"].as_str().expect("id").to_string();
        let (events, first_results) = finish(&s, &first_id).await;
        assert!(
            events.len() > 1,
            "{label}: the first check runs: {events:?}"
        );
        assert_eq!(first_results["status"], "done", "{label}: {first_results}");
        assert_eq!(checks_metric(&s, "cached").await, 0, "{label}");

        let second = upload(&s, picture.clone()).await;
        assert_eq!(
            second["status"], "done",
            "{label}: answered at once: {second}"
        );
        let second_id = second["id"].as_str().expect("id").to_string();
        assert_ne!(second_id, first_id, "{label}: a new check of its own");
        // Done before anyone listens: the stream is one final event and the results are there.
        let (st, at_once) = json(s.get(&format!("/api/checks/{second_id}/results")).await).await;
        assert_eq!(st, 200);
        assert_eq!(at_once["status"], "done", "{label}: {at_once}");
        let (events, second_results) = finish(&s, &second_id).await;
        assert_eq!(events.len(), 1, "{label}: {events:?}");
        assert_eq!(events[0]["status"], "done", "{label}: {events:?}");
        assert_eq!(events[0]["percentage"], 100, "{label}: {events:?}");
        assert_eq!(
            second_results["report"], first_results["report"],
            "{label}: the same report"
        );
        assert!(second_results["report"]["verdict"].is_string(), "{label}");
        assert_eq!(second_results["kind"], "image");
        assert!(second_results["annotated_url"].is_string(), "{label}");
        assert_eq!(
            annotated_sha(&s, &second_id).await,
            annotated_sha(&s, &first_id).await,
            "{label}: the same annotated image"
        );
        let original = s
            .get(&format!("/api/checks/{second_id}/image/original"))
            .await
            .bytes()
            .await
            .expect("original");
        assert_eq!(original.as_ref(), picture.as_slice(), "{label}");
        let store = db.open().await;
        let rows = store
            .count("SELECT COUNT(DISTINCT annotated_sha256) FROM checks WHERE annotated_sha256 IS NOT NULL")
            .await
            .expect("count");
        assert_eq!(rows, 1, "{label}: both rows name one annotated image");
        store.close().await;
        assert_eq!(checks_metric(&s, "cached").await, 1, "{label}");
        assert_eq!(
            checks_metric_reaches(&s, "done", 1).await,
            1,
            "{label}: one run"
        );

        // Other bytes run the pipeline.
        let other = upload(&s, png(201, 120)).await;
        assert_eq!(other["status"], "running", "{label}: {other}");
        let other_id = other["id"].as_str().expect("id").to_string();
        let (events, other_results) = finish(&s, &other_id).await;
        assert!(events.len() > 1, "{label}: {events:?}");
        assert_eq!(other_results["status"], "done", "{label}");
        assert_ne!(other_results["report"], first_results["report"], "{label}");
        assert_eq!(checks_metric(&s, "cached").await, 1, "{label}");
        assert_eq!(checks_metric_reaches(&s, "done", 2).await, 2, "{label}");

        s.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_check_is_not_reused() {
    for db in common::databases().await {
        let label = db.label;
        let s = start(&db, "").await;
        let picture = png(180, 100);
        // A check of these bytes that failed. Uploads that pass intake do not fail on their own, so
        // the row is written as the service writes a check that could not be finished.
        let key = verify::cache_key(
            &picture,
            verify::DocumentKind::Image,
            &verify::Config::default(),
        );
        let store = db.open().await;
        sqlx::query(
            "INSERT INTO checks (id, kind, status, created_at, original_sha256, error, cache_key) \
             VALUES ('c-failed', 'image', 'failed', 1, 'x', 'the object store was away', $1)",
        )
        .bind(&key)
        .execute(store.pool())
        .await
        .expect("insert a failed check");

        let started = upload(&s, picture.clone()).await;
        assert_eq!(started["status"], "running", "{label}: {started}");
        let id = started["id"].as_str().expect("id").to_string();
        let (events, results) = finish(&s, &id).await;
        assert!(events.len() > 1, "{label}: the pipeline ran: {events:?}");
        assert_eq!(results["status"], "done", "{label}: {results}");
        assert_eq!(checks_metric(&s, "cached").await, 0, "{label}");
        let stored: Option<String> =
            sqlx::query_scalar("SELECT cache_key FROM checks WHERE id = $1")
                .bind(&id)
                .fetch_one(store.pool())
                .await
                .expect("the new row");
        assert_eq!(
            stored.as_deref(),
            Some(key.as_str()),
            "{label}: the key the service stores is verify::cache_key"
        );

        // The check that ran is the one reused next time.
        let again = upload(&s, picture).await;
        assert_eq!(again["status"], "done", "{label}: {again}");
        let (_, again_results) = finish(&s, again["id"].as_str().expect("id")).await;
        assert_eq!(again_results["report"], results["report"], "{label}");
        assert_eq!(checks_metric(&s, "cached").await, 1, "{label}");
        store.close().await;
        s.stop().await;
        db.drop_db().await;
    }
}

/// Waits until a web report has left `verifying`; returns its status.
async fn report_settled(s: &Server, id: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (st, body) = json(s.get(&format!("/api/v1/reports/{id}/status")).await).await;
        assert_eq!(st, 200, "{body}");
        if body["status"] != "verifying" || Instant::now() > deadline {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_reports_are_never_answered_from_the_cache_and_are_always_filed() {
    for db in common::databases().await {
        let label = db.label;
        let s = start(&db, "").await;
        let copy = png(220, 160);
        // The same bytes checked as a GD copy first: a web report must still run and be filed.
        let form = reqwest::multipart::Form::new()
            .text("kind", "gd")
            .part("file", file_part(copy.clone(), "gd.png"));
        let (st, started) = upload_check(&s, form).await;
        assert_eq!(st, 202, "{label}: {started}");
        let (_, results) = finish(&s, started["id"].as_str().expect("id")).await;
        assert_eq!(results["status"], "done", "{label}: {results}");

        for n in 1..=2 {
            let form = reqwest::multipart::Form::new()
                .text("imei", "490154203237518")
                .text("theft_location", "Farmgate bus stand, Dhaka")
                .part("gd_copy", file_part(copy.clone(), "gd.png"));
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
            assert_eq!(started["status"], "verifying", "{label}");
            let id = started["id"].as_str().expect("id");
            let status = report_settled(&s, id).await;
            assert_eq!(status["status"], "in_review", "{label}: {status}");
            let store = db.open().await;
            let cases = store
                .count("SELECT COUNT(*) FROM cases WHERE kiosk = 'web'")
                .await
                .expect("count");
            assert_eq!(cases, n, "{label}: every web report is filed as a case");
            store.close().await;
        }
        assert_eq!(checks_metric(&s, "cached").await, 0, "{label}");
        assert_eq!(checks_metric_reaches(&s, "done", 3).await, 3, "{label}");
        s.stop().await;
        db.drop_db().await;
    }
}
