//! `jachai-sync enqueue`: a real case (a `verify --json` report and its image files) recorded in
//! one transaction with its outbox row; refused reports and missing images record nothing. And the
//! manual page.

use std::path::Path;
use std::process::Command;

use jachai_edge_sync::store::{sha256_hex, Store};
use jachai_protocol::{decode, UpCase};

fn enqueue(db: &Path, blobs: &Path, extra: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_jachai-sync"))
        .arg("enqueue")
        .arg("--db")
        .arg(db)
        .arg("--blobs")
        .arg(blobs)
        .args(extra)
        .env("RUST_LOG", "off")
        .output()
        .expect("run jachai-sync enqueue")
}

#[test]
fn enqueue_records_the_report_and_its_images() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, blobs) = (dir.path().join("k.db"), dir.path().join("blobs"));
    let report = dir.path().join("r.json");
    std::fs::write(
        &report,
        r#"{"file":"gd.jpg","sha256":"abcdef0123456789abcdef","kind":"gd","verdict":"review","risk":40,"findings":[]}"#,
    )
    .expect("write report");
    let (img1, img2) = (dir.path().join("gd.jpg"), dir.path().join("extra.png"));
    std::fs::write(&img1, b"first image bytes").expect("write image");
    std::fs::write(&img2, b"second image").expect("write image");

    let out = enqueue(
        &db,
        &blobs,
        &[
            "--report".as_ref(),
            report.as_os_str(),
            "--image".as_ref(),
            img1.as_os_str(),
            "--image".as_ref(),
            img2.as_os_str(),
            "--imei".as_ref(),
            "356938035643809".as_ref(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1");

    let store = Store::open(&db, &blobs).expect("open");
    assert_eq!(store.case_count().expect("count"), 1);
    assert_eq!(store.unacked_count().expect("unacked"), 1);
    let rows = store.unacked(0, 10).expect("outbox");
    assert_eq!(rows.len(), 1);
    let UpCase::Case(msg) = decode::<UpCase>(&rows[0].payload).expect("decode outbox payload");
    assert_eq!(msg.case_id, "gd-abcdef0123456789");
    assert_eq!(msg.kind, "gd");
    assert_eq!(msg.verdict.as_deref(), Some("review"));
    assert_eq!(msg.risk, Some(40));
    assert_eq!(msg.report["file"], "gd.jpg");
    assert_eq!(msg.claims["imeis"], serde_json::json!(["356938035643809"]));
    let roles: Vec<_> = rows[0].blobs.iter().map(|b| b.role.as_str()).collect();
    assert_eq!(roles, ["gd_copy", "extra"]);
    assert_eq!(rows[0].blobs[0].sha256, sha256_hex(b"first image bytes"));
    assert_eq!(
        store.read_blob(&sha256_hex(b"second image")).expect("blob"),
        b"second image"
    );
}

#[test]
fn enqueue_refuses_error_reports_and_missing_images() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, blobs) = (dir.path().join("k.db"), dir.path().join("blobs"));
    let img = dir.path().join("x.png");
    std::fs::write(&img, b"png").expect("write image");
    let refused = dir.path().join("refused.json");
    std::fs::write(
        &refused,
        r#"{"file":"x.png","error":{"code":"corrupt","message":"bad"}}"#,
    )
    .expect("write report");
    let out = enqueue(
        &db,
        &blobs,
        &[
            "--report".as_ref(),
            refused.as_os_str(),
            "--image".as_ref(),
            img.as_os_str(),
        ],
    );
    assert!(!out.status.success());

    let ok = dir.path().join("ok.json");
    std::fs::write(&ok, r#"{"kind":"image","verdict":"approve","risk":0}"#).expect("write");
    let missing = dir.path().join("missing.jpg");
    let out = enqueue(
        &db,
        &blobs,
        &[
            "--report".as_ref(),
            ok.as_os_str(),
            "--image".as_ref(),
            missing.as_os_str(),
        ],
    );
    assert!(!out.status.success());

    let store = Store::open(&db, &blobs).expect("open");
    assert_eq!(store.case_count().expect("count"), 0, "nothing recorded");
}

#[test]
fn the_manual_page_covers_the_options_and_subcommands() {
    let exe = Path::new(env!("CARGO_BIN_EXE_jachai-sync"));
    let mentions = ["\\-\\-broker", "jachai\\-sync\\-enroll(1)"];
    jachai_testkit::check_man_page(exe, "jachai-sync", &mentions).expect("manual page");
}
