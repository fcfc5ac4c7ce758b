//! schemathesis (PyPI) against the OpenAPI document the real service serves: every operation, with
//! generated inputs, as a logged-in admin (session cookie + CSRF token), must never get a 5xx.
//!
//! `scripts/test.sh` (CI) and `scripts/schemathesis.sh` install schemathesis in a virtualenv and set
//! `JACHAI_SCHEMATHESIS` to its `st`; without it this test says so and passes, except under `CI=true`,
//! where it fails.

mod common;

use std::process::Command as Proc;

use common::http::{login, start};
use jachai_cloud::users::{Role, Users};
use jachai_cloud::Command;
use jachai_protocol::stolen::StolenEntry;
use tokio::sync::oneshot;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_requests_never_get_a_5xx() {
    let Ok(st) = std::env::var("JACHAI_SCHEMATHESIS") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "JACHAI_SCHEMATHESIS is required under CI (scripts/test.sh sets it)"
        );
        eprintln!("schemathesis not run: set JACHAI_SCHEMATHESIS (scripts/schemathesis.sh does)");
        return;
    };
    let examples = std::env::var("JACHAI_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "60".into());
    let db = common::databases().await.remove(0);
    let s = start(
        &db,
        "api_per_minute = 1000000\nlogin_per_minute = 1000000\nmax_upload_bytes = 2000000",
    )
    .await;
    Users::new(db.open().await)
        .add("ana", "a long enough password", Role::Admin)
        .await
        .expect("admin");
    let (done, reply) = oneshot::channel();
    s.commands
        .send(Command::Stolen {
            added: vec![StolenEntry {
                imei: "490154203237518".into(),
                reported_at: "2026-11-30".into(),
                theft_location: "Mirpur".into(),
            }],
            removed: vec![],
            done,
        })
        .await
        .expect("send");
    reply.await.expect("reply").expect("seeded");
    let admin = login(&s, "ana", "a long enough password")
        .await
        .expect("admin logs in");
    let schema = s.url("/api/openapi.json");
    let base = s.base.clone();
    let report = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("..")
        .join("schemathesis");
    let out = tokio::task::spawn_blocking(move || {
        Proc::new(&st)
            .args([
                "run",
                &schema,
                "--url",
                &base,
                "--checks",
                "not_a_server_error",
                "--max-examples",
                &examples,
                "--request-timeout",
                "60",
                "--seed",
                "7",
                // Logging out would end the session the other operations run in.
                "--exclude-path",
                "/api/v1/auth/logout",
                "--report",
                "junit",
                "--report-dir",
                &report.to_string_lossy(),
                "-H",
                &format!("Cookie: {}", admin.cookie),
                "-H",
                &format!("X-CSRF-Token: {}", admin.csrf),
            ])
            .env("NO_COLOR", "1")
            .output()
            .expect("run schemathesis")
    })
    .await
    .expect("schemathesis");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "schemathesis found failures:\n{text}");
    s.stop().await;
    db.drop_db().await;
}
