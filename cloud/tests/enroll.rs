//! Kiosk enrollment against the real service (HTTP on port 0, a real Mosquitto with mTLS whose client CA
//! bundle holds the cloud's kiosk CA, SQLite and PostgreSQL): an admin issues a token, the real
//! `jachai-sync enroll` enrolls a fresh kiosk directory, and `jachai-sync` run on exactly those files syncs
//! a case into the cloud. Then every refusal: wrong, used, expired and revoked tokens, a garbage CSR, a CSR
//! claiming another identity, tokens asked for by non-admins, and one token raced by many requests.

mod common;

use std::time::{Duration, Instant};

use common::enroll::*;
use common::http::{json, login, users, Session, PASSWORD};
use common::procs::Proc;
use jachai_cloud::users::Users;
use jachai_edge_sync::store::{NewCase, NewImage, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_from_the_console_enrolls_a_fresh_kiosk_which_then_syncs_a_case_over_mtls() {
    for db in common::databases().await {
        let label = db.label;
        let s = start(&db).await;
        users(&db).await;
        let ana = login(&s, "ana", PASSWORD).await.expect("admin login");
        let (st, body) = issue(
            &s,
            Some(&ana),
            serde_json::json!({"kiosk": "mirpur-1", "label": "Mirpur model thana, Dhaka"}),
        )
        .await;
        assert_eq!(st, 201, "{label}: {body}");
        let token = body["token"].as_str().expect("token").to_string();
        assert_eq!(body["kiosk"], "mirpur-1");

        // A fresh kiosk: an empty configuration directory and an empty store.
        let kiosk_dir = tempfile::tempdir().expect("tempdir");
        let etc = kiosk_dir.path().join("etc");
        let (ok, stdout, stderr) =
            tokio::task::block_in_place(|| run_enroll(&s, &token, &etc, &["--kiosk", "mirpur-1"]));
        assert!(ok, "{label}: enroll failed: {stderr}");
        let printed: serde_json::Value = serde_json::from_str(stdout.trim()).expect("JSON out");
        assert_eq!(printed["kiosk"], "mirpur-1");
        assert_eq!(printed["signing_key_id"], body["signing_key_id"]);
        assert_eq!(mode(&etc.join("kiosk.key")), 0o600, "the key is private");
        for f in ["kiosk.crt", "ca.crt", "cloud-signing.pub", "sync.env"] {
            assert_eq!(mode(&etc.join(f)), 0o644, "{f}");
        }
        let cert = std::fs::read_to_string(etc.join("kiosk.crt")).expect("cert");
        assert_eq!(common_names(&cert), ["mirpur-1"]);
        let env = env_file(&etc.join("sync.env"));
        assert_eq!(env["JACHAI_KIOSK_ID"], "mirpur-1");
        assert_eq!(
            env["JACHAI_BROKER"],
            format!("localhost:{}", s.broker.port())
        );
        assert_eq!(
            std::fs::read_to_string(etc.join("cloud-signing.pub")).expect("pub"),
            std::fs::read_to_string(jachai_cloud::signing::public_key_path(
                &db.dir.path().join("signing.key")
            ))
            .expect("cloud pub"),
        );

        // The kiosk app records a case; the daemon, started exactly as jachai-sync.service would from
        // the enrolled files, syncs it through Mosquitto with mTLS.
        let db_path = kiosk_dir.path().join("kiosk.db");
        let blobs = kiosk_dir.path().join("blobs");
        let mut store = Store::open(&db_path, &blobs).expect("kiosk store");
        let seq = store
            .record_case(&NewCase {
                case_id: "R-enrolled-1".into(),
                kind: "gd".into(),
                created_at: 1_767_225_600,
                claims: serde_json::from_str(r#"{"imeis":["490154203237518"]}"#).expect("json"),
                verdict: Some("review".into()),
                risk: Some(40),
                report: serde_json::json!({"findings": []}),
                images: vec![NewImage {
                    role: "gd_copy".into(),
                    bytes: vec![7u8; 100_000],
                }],
            })
            .expect("record");
        let f = |n: &str| etc.join(n).display().to_string();
        let cmd: Vec<String> = vec![
            sync_bin().display().to_string(),
            "--db".into(),
            db_path.display().to_string(),
            "--blobs".into(),
            blobs.display().to_string(),
            "--kiosk".into(),
            env["JACHAI_KIOSK_ID"].clone(),
            "--broker".into(),
            env["JACHAI_BROKER"].clone(),
            "--ca".into(),
            f("ca.crt"),
            "--cert".into(),
            f("kiosk.crt"),
            "--key".into(),
            f("kiosk.key"),
            "--trusted-key".into(),
            f("cloud-signing.pub"),
        ];
        let mut sync = Proc::new("jachai-sync", cmd, kiosk_dir.path().join("sync.log"));
        let deadline = Instant::now() + Duration::from_secs(60);
        while store.unacked_count().expect("backlog") > 0 {
            sync.assert_alive();
            assert!(
                Instant::now() < deadline,
                "{label}: not synced in 60 s:\n{}\nbroker:\n{}",
                sync.log_tail(),
                s.broker.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let cloud = db.open().await;
        assert_eq!(
            cloud.cases_of("mirpur-1").await.expect("cases"),
            [(seq, "R-enrolled-1".to_string())],
            "{label}"
        );
        sync.kill9();

        // What the cloud remembers: the enrollment, the used token, the audit trail.
        assert_eq!(
            cloud
                .count("SELECT COUNT(*) FROM enrollments WHERE kiosk = 'mirpur-1'")
                .await
                .expect("count"),
            1
        );
        let resp = s
            .http
            .get(s.url("/api/v1/admin/enroll-tokens"))
            .header("cookie", &ana.cookie)
            .send()
            .await
            .expect("GET");
        let (st, list) = json(resp).await;
        assert_eq!(st, 200);
        assert_eq!(list["tokens"][0]["state"], "used", "{list}");
        assert_eq!(list["tokens"][0]["label"], "Mirpur model thana, Dhaka");
        assert!(
            !list.to_string().contains(&token),
            "the token itself is never listed"
        );
        let audit: Vec<String> = Users::new(cloud.clone())
            .audit_log(50)
            .await
            .expect("audit")
            .into_iter()
            .map(|e| format!("{} {} {}", e.actor, e.action, e.target))
            .collect();
        assert!(
            audit.contains(&"ana enroll_token_issued mirpur-1".to_string()),
            "{audit:?}"
        );
        assert!(
            audit.contains(&"kiosk:mirpur-1 kiosk_enrolled mirpur-1".to_string()),
            "{audit:?}"
        );

        // Enrolling again into the same directory is refused without --force, and a refused
        // enrollment (the token is used) leaves the kiosk's files as they were.
        let before: Vec<Vec<u8>> = ["kiosk.key", "kiosk.crt", "sync.env"]
            .iter()
            .map(|n| std::fs::read(etc.join(n)).expect("read"))
            .collect();
        let (ok, _, stderr) = tokio::task::block_in_place(|| run_enroll(&s, &token, &etc, &[]));
        assert!(!ok && stderr.contains("--force"), "{stderr}");
        let (ok, _, stderr) =
            tokio::task::block_in_place(|| run_enroll(&s, &token, &etc, &["--force"]));
        assert!(
            !ok && stderr.contains("410") && stderr.contains("token_used"),
            "{stderr}"
        );
        let after: Vec<Vec<u8>> = ["kiosk.key", "kiosk.crt", "sync.env"]
            .iter()
            .map(|n| std::fs::read(etc.join(n)).expect("read"))
            .collect();
        assert!(
            before == after,
            "a refused enrollment changed the kiosk's files"
        );
        assert!(
            !etc.join(".kiosk.key.pending").exists(),
            "a refused enrollment leaves no key behind"
        );

        cloud.close().await;
        s.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_and_csrs_are_refused_and_the_cloud_names_the_kiosk_itself() {
    for db in common::databases().await {
        let label = db.label;
        let s = start(&db).await;
        users(&db).await;
        let ana = login(&s, "ana", PASSWORD).await.expect("admin login");
        let (_, good_csr) = csr("anything");

        // An unknown token, an empty one, an absurdly long one: 401, no detail.
        for t in ["not-a-token", "", &"x".repeat(10_000)] {
            let (st, body) = enroll_raw(&s, t, &good_csr).await;
            assert_eq!(st, 401, "{label}: {body}");
            insta::assert_json_snapshot!("enroll_unknown_token", body);
        }

        // A garbage CSR (or one whose signature does not match its key) is 400 and does not use the token.
        let token = token_for(&s, &ana, "gulshan-2").await;
        let (st, body) = enroll_raw(
            &s,
            &token,
            "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
        )
        .await;
        assert_eq!(st, 400, "{label}: {body}");
        insta::assert_json_snapshot!("enroll_garbage_csr", body);
        let tampered = {
            use base64::Engine as _;
            use rustls::pki_types::pem::PemObject as _;
            let mut bytes = rustls::pki_types::CertificateSigningRequestDer::from_pem_slice(
                good_csr.as_bytes(),
            )
            .expect("csr")
            .as_ref()
            .to_vec();
            let n = bytes.len();
            bytes[n - 5] ^= 0x55;
            let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
            format!(
                "-----BEGIN CERTIFICATE REQUEST-----\n{b64}\n-----END CERTIFICATE REQUEST-----\n"
            )
        };
        let (st, body) = enroll_raw(&s, &token, &tampered).await;
        assert_eq!(st, 400, "{label}: {body}");
        assert_eq!(body["error"], "bad_csr");
        let resp = s
            .http
            .post(s.url("/api/v1/enroll"))
            .header("content-type", "application/json")
            .body("{\"token\": 5}")
            .send()
            .await
            .expect("POST");
        assert_eq!(json(resp).await.0, 400);

        // A CSR asking to be `cloud` (the aggregator's broker identity) gets a certificate for the
        // token's kiosk and nothing else.
        let (key, claiming) = csr("cloud");
        let (st, body) = enroll_raw(&s, &token, &claiming).await;
        assert_eq!(st, 200, "{label}: {body}");
        assert_eq!(body["kiosk"], "gulshan-2");
        let cert = body["certificate_pem"].as_str().expect("cert");
        assert_eq!(common_names(cert), ["gulshan-2"]);
        let parts = jachai_protocol::enroll::parse_certificate(&cert_der(cert)).expect("cert");
        assert_eq!(parts.spki, key.public_key_der());
        assert!(
            !cert_der(cert).windows(12).any(|w| w == b"evil.example"),
            "no SAN copied from the CSR"
        );
        let mut shape = body.clone();
        for k in [
            "certificate_pem",
            "broker_ca_pem",
            "broker",
            "signing_key",
            "signing_key_id",
            "not_after",
        ] {
            assert!(shape.get(k).is_some(), "{k}");
            shape[k] = serde_json::json!("[redacted]");
        }
        insta::assert_json_snapshot!("enroll_ok", shape);

        // Used: 410.
        let (st, body) = enroll_raw(&s, &token, &good_csr).await;
        assert_eq!(st, 410, "{label}");
        insta::assert_json_snapshot!("enroll_token_used", body);

        // Expired: 410.
        let token = token_for(&s, &ana, "banani-3").await;
        let store = db.open().await;
        sqlx::query("UPDATE enroll_tokens SET expires_at = 1 WHERE kiosk = 'banani-3'")
            .execute(store.pool())
            .await
            .expect("expire");
        let (st, body) = enroll_raw(&s, &token, &good_csr).await;
        assert_eq!(st, 410, "{label}");
        insta::assert_json_snapshot!("enroll_token_expired", body);

        // Revoked: 410; a used token cannot be revoked (409); an unknown id is 404.
        let (st, issued) = issue(
            &s,
            Some(&ana),
            serde_json::json!({"kiosk": "uttara-4", "ttl_s": 600}),
        )
        .await;
        assert_eq!(st, 201);
        let revoke = |id: String| {
            let req = s
                .http
                .post(s.url(&format!("/api/v1/admin/enroll-tokens/{id}/revoke")))
                .header("cookie", &ana.cookie)
                .header("x-csrf-token", &ana.csrf);
            async move { req.send().await.expect("POST").status().as_u16() }
        };
        assert_eq!(revoke(issued["id"].as_str().expect("id").into()).await, 204);
        let (st, body) = enroll_raw(&s, issued["token"].as_str().expect("token"), &good_csr).await;
        assert_eq!(st, 410, "{label}");
        insta::assert_json_snapshot!("enroll_token_revoked", body);
        let list = s
            .http
            .get(s.url("/api/v1/admin/enroll-tokens"))
            .header("cookie", &ana.cookie)
            .send()
            .await
            .expect("GET");
        let (_, list) = json(list).await;
        let used_id = list["tokens"]
            .as_array()
            .expect("tokens")
            .iter()
            .find(|t| t["kiosk"] == "gulshan-2")
            .expect("gulshan token")["id"]
            .as_str()
            .expect("id")
            .to_string();
        assert_eq!(revoke(used_id).await, 409);
        assert_eq!(revoke("0123456789abcdef".into()).await, 404);
        assert_eq!(
            store
                .count("SELECT COUNT(*) FROM enrollments")
                .await
                .expect("count"),
            1,
            "{label}: only the one good enrollment"
        );
        store.close().await;
        s.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_issue_tokens_and_only_for_ids_a_kiosk_may_have() {
    for db in common::databases().await {
        let label = db.label;
        let s = start(&db).await;
        users(&db).await;
        let ana = login(&s, "ana", PASSWORD).await.expect("admin");
        let rafi = login(&s, "rafi", PASSWORD).await.expect("reviewer");
        let vera = login(&s, "vera", PASSWORD).await.expect("viewer");
        let body = serde_json::json!({"kiosk": "motijheel-5"});

        let (st, b) = issue(&s, None, body.clone()).await;
        assert_eq!(st, 401, "{label}");
        insta::assert_json_snapshot!("issue_unauthenticated", b);
        let (st, b) = issue(&s, Some(&rafi), body.clone()).await;
        assert_eq!(st, 403, "{label}");
        insta::assert_json_snapshot!("issue_as_reviewer", b);
        let (st, _) = issue(&s, Some(&vera), body.clone()).await;
        assert_eq!(st, 403);
        let no_csrf = Session {
            cookie: ana.cookie.clone(),
            csrf: "forged".into(),
        };
        let (st, _) = issue(&s, Some(&no_csrf), body.clone()).await;
        assert_eq!(st, 403);
        let resp = s
            .http
            .get(s.url("/api/v1/admin/enroll-tokens"))
            .header("cookie", &vera.cookie)
            .send()
            .await
            .expect("GET");
        assert_eq!(resp.status().as_u16(), 403);

        for (kiosk, code) in [
            ("cloud", "reserved_kiosk_id"),
            ("web", "reserved_kiosk_id"),
            ("Kiosk 1", "bad_kiosk_id"),
            ("", "bad_kiosk_id"),
            ("a-very-long-kiosk-id-that-is-too-long", "bad_kiosk_id"),
            ("../etc", "bad_kiosk_id"),
        ] {
            let (st, b) = issue(&s, Some(&ana), serde_json::json!({"kiosk": kiosk})).await;
            assert_eq!(
                (st, b["error"].as_str()),
                (400, Some(code)),
                "{kiosk:?}: {b}"
            );
        }
        insta::assert_json_snapshot!(
            "issue_reserved",
            issue(&s, Some(&ana), serde_json::json!({"kiosk": "cloud"}))
                .await
                .1
        );
        for ttl in [0, 59, 604_801] {
            let (st, b) = issue(
                &s,
                Some(&ana),
                serde_json::json!({"kiosk": "k1", "ttl_s": ttl}),
            )
            .await;
            assert_eq!((st, b["error"].as_str()), (400, Some("bad_ttl")), "{ttl}");
        }
        for label in [
            "a\u{0}b".to_string(),
            "two\nlines".to_string(),
            "x".repeat(201),
        ] {
            let (st, b) = issue(
                &s,
                Some(&ana),
                serde_json::json!({"kiosk": "k1", "label": label}),
            )
            .await;
            assert_eq!(
                (st, b["error"].as_str()),
                (400, Some("bad_label")),
                "{label:?}"
            );
        }
        let (st, b) = issue(
            &s,
            Some(&ana),
            serde_json::json!({"kiosk": "k1", "extra": 1}),
        )
        .await;
        assert_eq!(st, 400, "{b}");

        // One pending token per kiosk; `replace` revokes the old one.
        let (st, first) = issue(&s, Some(&ana), body.clone()).await;
        assert_eq!(st, 201);
        let (st, b) = issue(&s, Some(&ana), body.clone()).await;
        assert_eq!(st, 409, "{b}");
        let (st, second) = issue(
            &s,
            Some(&ana),
            serde_json::json!({"kiosk": "motijheel-5", "replace": true}),
        )
        .await;
        assert_eq!(st, 201, "{second}");
        let (_, csr_pem) = csr("x");
        let (st, b) = enroll_raw(&s, first["token"].as_str().expect("t"), &csr_pem).await;
        assert_eq!((st, b["error"].as_str()), (410, Some("token_revoked")));
        let (st, _) = enroll_raw(&s, second["token"].as_str().expect("t"), &csr_pem).await;
        assert_eq!(st, 200);
        // Enrolled: a new token needs `replace`.
        let (st, _) = issue(&s, Some(&ana), body.clone()).await;
        assert_eq!(st, 409);
        s.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_token_raced_by_many_requests_enrolls_once() {
    for db in common::databases().await {
        let label = db.label;
        let s = start(&db).await;
        users(&db).await;
        let ana = login(&s, "ana", PASSWORD).await.expect("admin");
        let token = token_for(&s, &ana, "race-6").await;
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let http = s.http.clone();
            let url = s.url("/api/v1/enroll");
            let (_, pem) = csr("race");
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                http.post(url)
                    .json(&serde_json::json!({"token": token, "csr_pem": pem}))
                    .send()
                    .await
                    .expect("POST")
                    .status()
                    .as_u16()
            }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.expect("joined"));
        }
        statuses.sort_unstable();
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{label}: {statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 410),
            "{label}: {statuses:?}"
        );
        let store = db.open().await;
        assert_eq!(
            store
                .count("SELECT COUNT(*) FROM enrollments")
                .await
                .expect("count"),
            1
        );
        store.close().await;
        s.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_page_issues_a_token_once_lists_it_and_revokes_it() {
    let mut dbs = common::databases().await;
    let db = dbs.remove(0);
    for other in dbs {
        other.drop_db().await;
    }
    let s = start(&db).await;
    users(&db).await;
    let ana = login(&s, "ana", PASSWORD).await.expect("admin");
    let rafi = login(&s, "rafi", PASSWORD).await.expect("reviewer");
    let page = |who: &Session| {
        s.http
            .get(s.url("/admin/enroll"))
            .header("cookie", &who.cookie)
            .send()
    };
    let resp = page(&rafi).await.expect("GET");
    assert_eq!(
        resp.status().as_u16(),
        403,
        "reviewers do not enroll kiosks"
    );
    let html = page(&ana).await.expect("GET").text().await.expect("body");
    assert!(html.contains("Enroll a kiosk") && html.contains("id=\"tokens\""));

    let post = |form: Vec<(&'static str, String)>| {
        s.http
            .post(s.url("/admin/enroll"))
            .header("cookie", &ana.cookie)
            .form(&form)
            .send()
    };
    let resp = post(vec![
        ("csrf", "forged".into()),
        ("kiosk", "sylhet-7".into()),
    ])
    .await
    .expect("POST");
    assert_eq!(
        resp.status().as_u16(),
        403,
        "a forged CSRF token is refused"
    );
    let html = post(vec![
        ("csrf", ana.csrf.clone()),
        ("kiosk", "sylhet-7".into()),
        ("label", "Sylhet Kotwali".into()),
        ("hours", "2".into()),
    ])
    .await
    .expect("POST")
    .text()
    .await
    .expect("body");
    let token = html
        .split("id=\"token\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the token is shown")
        .to_string();
    assert!(
        html.contains("jachai-sync enroll --cloud http://127.0.0.1:"),
        "{html}"
    );
    assert!(html.contains("Sylhet Kotwali") && html.contains("pending"));
    // Shown once: the list never shows it again.
    let html = page(&ana).await.expect("GET").text().await.expect("body");
    assert!(!html.contains(&token));
    // The token works until revoked from the page.
    let store = db.open().await;
    let id: String = sqlx::query_scalar("SELECT id FROM enroll_tokens WHERE kiosk = 'sylhet-7'")
        .fetch_one(store.pool())
        .await
        .expect("id");
    let html = s
        .http
        .post(s.url(&format!("/admin/enroll/{id}/revoke")))
        .header("cookie", &ana.cookie)
        .form(&[("csrf", ana.csrf.as_str())])
        .send()
        .await
        .expect("POST")
        .text()
        .await
        .expect("body");
    assert!(html.contains("revoked"), "{html}");
    let (_, pem) = csr("x");
    let (st, _) = enroll_raw(&s, &token, &pem).await;
    assert_eq!(st, 410);
    store.close().await;
    s.stop().await;
}
