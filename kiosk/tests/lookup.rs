//! `jachai-kiosk lookup`: offline answers in the seed's JSON shape; malformed IMEIs and a missing
//! index are clear errors with exit code 2.

use std::path::Path;
use std::process::{Command, Output};

use jachai_edge_sync::index::BaseBuilder;
use jachai_protocol::imei;

fn lookup(args: &[&str], index: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jachai-kiosk"))
        .arg("lookup")
        .args(args)
        .arg("--index")
        .arg(index)
        .env("RUST_LOG", "off")
        .output()
        .expect("jachai-kiosk runs")
}

fn stdout_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("one JSON object on stdout")
}

fn check(index: &Path, imei: &str, code: i32, expect: serde_json::Value) {
    let out = lookup(&[imei], index);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{imei}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = stdout_json(&out);
    if expect.get("error").is_some() {
        assert_eq!(
            got["error"]["code"], expect["error"]["code"],
            "{imei}: {got}"
        );
        assert!(
            !String::from_utf8_lossy(&out.stderr).is_empty(),
            "a clear message on stderr"
        );
    } else {
        assert_eq!(got, expect, "{imei}");
    }
}

#[test]
fn answers_offline_in_the_seed_shape() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut b = BaseBuilder::new();
    b.push(35693803564380, "2026-03-12", "Dhanmondi, Dhaka")
        .expect("push");
    b.push(49015420323751, "2026-04-01", "Kotwali, Chattogram")
        .expect("push");
    b.write(dir.path(), 7).expect("write index");
    let stolen = imei::from_body(35693803564380).expect("imei");
    assert_eq!(stolen, "356938035643809");
    check(
        dir.path(),
        "356938035643809",
        0,
        serde_json::json!({"imei":"356938035643809","status":"stolen","reported_at":"2026-03-12","theft_location":"Dhanmondi, Dhaka"}),
    );
    // Bengali digits and separators are accepted.
    check(
        dir.path(),
        "৩৫৬৯৩৮-০৩৫৬৪৩৮০৯",
        0,
        serde_json::json!({"imei":"356938035643809","status":"stolen","reported_at":"2026-03-12","theft_location":"Dhanmondi, Dhaka"}),
    );
    check(
        dir.path(),
        "490154203237518",
        0,
        serde_json::json!({"imei":"490154203237518","status":"stolen","reported_at":"2026-04-01","theft_location":"Kotwali, Chattogram"}),
    );
    let clear = imei::from_body(35693803564381).expect("imei");
    check(
        dir.path(),
        &clear,
        0,
        serde_json::json!({"imei": clear, "status":"clear"}),
    );
    check(
        dir.path(),
        "356938035643808",
        2,
        serde_json::json!({"error":{"code":"imei_bad_check_digit"}}),
    );
    check(
        dir.path(),
        "35693803564380",
        2,
        serde_json::json!({"error":{"code":"imei_wrong_length"}}),
    );
    check(
        dir.path(),
        "35693803564380x",
        2,
        serde_json::json!({"error":{"code":"imei_not_a_digit"}}),
    );
}

#[test]
fn a_missing_index_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = lookup(&["356938035643809"], &dir.path().join("absent"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no stolen-IMEI index"));
    // An index directory with nothing synced yet is the empty list: every IMEI is clear.
    let out = lookup(&["356938035643809"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_json(&out)["status"], "clear");
}

#[test]
fn a_hit_is_queued_for_the_cloud_when_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = dir.path().join("stolen");
    let mut b = BaseBuilder::new();
    b.push(35693803564380, "2026-03-12", "Dhanmondi, Dhaka")
        .expect("push");
    b.write(&index, 1).expect("write index");
    let db = dir.path().join("kiosk.db");
    let db_arg = db.display().to_string();
    for imei in ["356938035643809", "356938035643817"] {
        let out = lookup(&[imei, "--report-db", &db_arg], &index);
        assert_eq!(out.status.code(), Some(0));
    }
    let store =
        jachai_edge_sync::store::Store::open(&db, &dir.path().join("blobs")).expect("store");
    let events = store.pending_events(10).expect("events");
    assert_eq!(events.len(), 1, "only the hit is queued");
    match jachai_protocol::decode::<jachai_protocol::EventMsg>(&events[0].1).expect("event") {
        jachai_protocol::EventMsg::LookupHit(hit) => assert_eq!(hit.imei, "356938035643809"),
        other => panic!("expected a lookup hit, got {other:?}"),
    }
}
