//! The kiosk store: one transaction per case, blob files durable before commit, orphans cleaned at
//! open, migrations idempotent, kill -9 while recording leaves a consistent store, decisions
//! applied gap-free.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use jachai_edge_sync::store::{
    sha256_hex, DecisionOutcome, NewCase, NewImage, Store, StoreError, StoreOptions,
};
use jachai_protocol::{decode, Decision, DecisionOutcome as Outcome, KioskId, UpCase};

fn case(id: &str, images: &[&[u8]]) -> NewCase {
    NewCase {
        case_id: id.into(),
        kind: "gd".into(),
        created_at: 1_780_000_000,
        claims: serde_json::Map::new(),
        verdict: Some("approve".into()),
        risk: Some(5),
        report: serde_json::json!({"findings": []}),
        images: images
            .iter()
            .enumerate()
            .map(|(i, b)| NewImage {
                role: if i == 0 {
                    "gd_copy".into()
                } else {
                    "phone_box".into()
                },
                bytes: b.to_vec(),
            })
            .collect(),
    }
}

fn no_grace() -> StoreOptions {
    StoreOptions {
        orphan_grace: Duration::ZERO,
    }
}

fn blob_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("blob dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn record_and_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, blobs) = (dir.path().join("k.db"), dir.path().join("blobs"));
    let mut store = Store::open(&db, &blobs).expect("open");
    let a = store
        .record_case(&case("c-1", &[b"first image", b"box"]))
        .expect("record");
    let b = store
        .record_case(&case("c-2", &[b"first image"]))
        .expect("record, shared image");
    assert_eq!((a, b), (1, 2));
    drop(store);

    let store = Store::open_with(&db, &blobs, &no_grace()).expect("reopen");
    assert_eq!(store.case_count().expect("count"), 2);
    assert_eq!(store.unacked_count().expect("unacked"), 2);
    let rows = store.unacked(0, 10).expect("rows");
    assert_eq!(rows.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 2]);
    let UpCase::Case(msg) = decode(&rows[0].payload).expect("outbox payload is a case envelope");
    assert_eq!(msg.seq, 1);
    assert_eq!(msg.blobs.len(), 2);
    assert_eq!(msg.blobs[0].sha256, sha256_hex(b"first image"));
    assert_eq!(rows[0].blobs.len(), 2);
    assert!(!rows[0].blobs[0].complete);
    for b in &rows[0].blobs {
        assert_eq!(
            store.read_blob(&b.sha256).expect("file").len() as u64,
            b.size
        );
    }
    assert_eq!(blob_files(&blobs).len(), 2, "a shared image is one file");
    assert!(store
        .unacked(1, 10)
        .expect("after 1")
        .iter()
        .all(|r| r.seq == 2));
}

#[test]
fn acks_and_blob_progress() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("k.db"), &dir.path().join("b")).expect("open");
    for i in 0..5 {
        store
            .record_case(&case(&format!("c-{i}"), &[format!("img {i}").as_bytes()]))
            .expect("record");
    }
    let sha = sha256_hex(b"img 2");
    assert!(store.set_blob_progress(&sha, 3, false).expect("progress"));
    assert!(!store
        .set_blob_progress(&"00".repeat(32), 1, true)
        .expect("unknown blob"));
    let row = &store.unacked(2, 1).expect("row 3")[0];
    assert_eq!(
        (
            row.blobs[0].next_chunk,
            row.blobs[0].complete,
            row.blobs[0].started
        ),
        (3, false, false)
    );
    store
        .mark_blobs_started(std::slice::from_ref(&sha))
        .expect("started");
    assert!(store.unacked(2, 1).expect("row 3")[0].blobs[0].started);
    assert_eq!(store.ack(&[1, 3, 3, 99]).expect("ack"), 2);
    assert_eq!(store.unacked_count().expect("count"), 3);
    assert_eq!(store.case_count().expect("cases stay"), 5);
    assert!(store.oldest_unacked_age().expect("age").is_some());
    store.ack(&[2, 4, 5]).expect("ack rest");
    assert_eq!(store.oldest_unacked_age().expect("age"), None);
}

#[test]
fn a_failed_transaction_leaves_no_rows_and_its_files_are_cleaned_at_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, blobs) = (dir.path().join("k.db"), dir.path().join("blobs"));
    let mut store = Store::open(&db, &blobs).expect("open");
    store.record_case(&case("dup", &[b"one"])).expect("first");
    // Same case id: the UNIQUE constraint fails after the new image file was written.
    let err = store
        .record_case(&case("dup", &[b"two"]))
        .expect_err("duplicate id");
    assert!(matches!(err, StoreError::Db(_)), "{err}");
    assert_eq!(store.case_count().expect("count"), 1);
    assert_eq!(store.unacked_count().expect("unacked"), 1);
    assert_eq!(
        blob_files(&blobs).len(),
        2,
        "the failed case's file is still there until reopen"
    );
    std::fs::write(blobs.join(".tmp-crash-debris"), b"half").expect("debris");
    drop(store);
    // A young orphan may belong to another process's open transaction: kept with the default grace.
    drop(Store::open(&db, &blobs).expect("reopen"));
    assert_eq!(blob_files(&blobs).len(), 3);
    drop(Store::open_with(&db, &blobs, &no_grace()).expect("reopen"));
    assert_eq!(blob_files(&blobs), vec![sha256_hex(b"one")]);

    // A blob that cannot be written: nothing recorded.
    let mut store = Store::open(&db, &blobs).expect("reopen");
    std::fs::create_dir(blobs.join(sha256_hex(b"blocked")))
        .expect("a directory where the file goes");
    assert!(matches!(
        store.record_case(&case("c-blocked", &[b"blocked"])),
        Err(StoreError::Io { .. })
    ));
    assert_eq!(store.case_count().expect("count"), 1);
    assert!(
        store.record_case(&case("", &[])).is_err(),
        "a case needs an id"
    );
}

#[test]
fn migrations_are_idempotent_and_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, blobs) = (dir.path().join("k.db"), dir.path().join("blobs"));
    for _ in 0..3 {
        let mut store = Store::open(&db, &blobs).expect("open");
        assert_eq!(store.schema_version().expect("version"), 4);
        store
            .record_case(&case(&format!("c-{}", store.case_count().expect("n")), &[]))
            .expect("record");
    }
    assert_eq!(
        Store::open(&db, &blobs)
            .expect("open")
            .case_count()
            .expect("count"),
        3
    );
    rusqlite::Connection::open(&db)
        .and_then(|c| c.pragma_update(None, "user_version", 99))
        .expect("bump the schema version as a newer build would");
    match Store::open(&db, &blobs) {
        Err(StoreError::SchemaTooNew {
            found: 99,
            supported: 4,
        }) => {}
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

fn decision(seq: u64, case_seq: u64, outcome: Outcome) -> Decision {
    Decision {
        kiosk: KioskId::new("k1").expect("valid"),
        seq,
        case_seq,
        case_id: format!("c-{case_seq}"),
        outcome,
        note: None,
        decided_at: 1_780_000_000 + seq,
    }
}

#[test]
fn decisions_apply_in_order_without_gaps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("k.db"), &dir.path().join("b")).expect("open");
    let offer = |store: &mut Store, d: &Decision| store.offer_decision(d).expect("db");
    assert_eq!(
        offer(&mut store, &decision(1, 10, Outcome::Approved)),
        Ok(DecisionOutcome::Applied(vec![1]))
    );
    assert_eq!(
        offer(&mut store, &decision(3, 12, Outcome::Approved)),
        Ok(DecisionOutcome::Waiting { missing_from: 2 })
    );
    assert_eq!(
        offer(&mut store, &decision(5, 14, Outcome::Rejected)),
        Ok(DecisionOutcome::Waiting { missing_from: 2 })
    );
    assert_eq!(store.decision_gap().expect("gap"), Some(2));
    assert_eq!(store.decision_seq().expect("seq"), 1);
    assert_eq!(
        offer(&mut store, &decision(2, 11, Outcome::Rejected)),
        Ok(DecisionOutcome::Waiting { missing_from: 4 })
    );
    assert_eq!(store.decision_seq().expect("seq"), 3);
    assert_eq!(
        offer(&mut store, &decision(4, 13, Outcome::Approved)),
        Ok(DecisionOutcome::Applied(vec![4, 5]))
    );
    assert_eq!(store.decision_gap().expect("gap"), None);
    assert_eq!(
        store.decision(5).expect("db"),
        Some((14, "rejected".to_owned()))
    );
    // Redelivery is fine; other content under an applied seq is a rollback.
    assert_eq!(
        offer(&mut store, &decision(2, 11, Outcome::Rejected)),
        Ok(DecisionOutcome::Duplicate)
    );
    let err = offer(&mut store, &decision(2, 11, Outcome::Approved)).expect_err("changed decision");
    assert_eq!(err.code(), "rollback");
    assert_eq!(
        offer(&mut store, &decision(0, 1, Outcome::Approved)).map_err(|e| e.code()),
        Err("malformed")
    );
}

#[test]
fn kill_9_while_recording_leaves_a_consistent_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, blobs) = (dir.path().join("k.db"), dir.path().join("blobs"));
    let exe = env!("CARGO_BIN_EXE_jachai-sync");
    for round in 0..6u64 {
        let mut child = Command::new(exe)
            .args([
                "record",
                "--count",
                "100000",
                "--image-bytes",
                "20000",
                "--prefix",
                &format!("r{round}"),
            ])
            .arg("--db")
            .arg(&db)
            .arg("--blobs")
            .arg(&blobs)
            .env("RUST_LOG", "off")
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn recorder");
        std::thread::sleep(Duration::from_millis(150 + 97 * round));
        child.kill().expect("kill -9");
        child.wait().expect("reap");
    }
    let store = Store::open_with(&db, &blobs, &no_grace()).expect("reopen after crashes");
    let n = store.case_count().expect("count");
    assert!(n > 0, "the recorder got some cases in");
    assert_eq!(
        store.unacked_count().expect("unacked"),
        n,
        "every case has its outbox row"
    );
    let rows = store.unacked(0, usize::MAX).expect("rows");
    let seqs: Vec<u64> = rows.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "seqs have no gaps");
    let mut referenced = Vec::new();
    for row in &rows {
        let UpCase::Case(msg) = decode(&row.payload).expect("payload");
        assert_eq!(msg.seq, row.seq);
        assert_eq!(row.blobs.len(), 1);
        let bytes = store
            .read_blob(&row.blobs[0].sha256)
            .expect("committed case has its intact file");
        assert_eq!(bytes.len(), 20000);
        referenced.push(row.blobs[0].sha256.clone());
    }
    referenced.sort();
    assert_eq!(
        blob_files(&blobs),
        referenced,
        "no orphan or temp file survives the reopen"
    );
}
