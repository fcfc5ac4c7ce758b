//! The offline stolen-IMEI index: snapshots, deltas on the version chain, compaction, reopen,
//! refusals that leave the files untouched, and a model check against a plain map.

use std::collections::BTreeMap;
use std::path::Path;

use jachai_edge_sync::index::{BaseBuilder, Hit, IndexError, LoadMode, StolenIndex, OVERLAY_FILE};
use jachai_protocol::imei;
use jachai_protocol::stolen::{StateHash, StolenDelta, StolenEntry};
use proptest::prelude::*;

fn entry(body: u64, at: &str, loc: &str) -> StolenEntry {
    StolenEntry {
        imei: imei::from_body(body).expect("14 digits"),
        reported_at: at.into(),
        theft_location: loc.into(),
    }
}

/// A delta from `index`'s state that the model says leads to `after`.
fn delta_for(
    index: &StolenIndex,
    after: &BTreeMap<u64, (String, String)>,
    added: Vec<StolenEntry>,
    removed: Vec<u64>,
) -> StolenDelta {
    let held = index.held();
    let entries: Vec<StolenEntry> = after.iter().map(|(b, (a, l))| entry(*b, a, l)).collect();
    StolenDelta {
        version: held.version + 1,
        base_version: held.version,
        base_hash: held.hash.to_hex(),
        hash: StateHash::of(&entries).expect("valid").to_hex(),
        count: entries.len() as u64,
        added,
        removed: removed
            .into_iter()
            .map(|b| imei::from_body(b).expect("14 digits"))
            .collect(),
        signed_at: 1,
    }
}

fn hit(index: &StolenIndex, body: u64) -> Option<Hit> {
    index.lookup(body).expect("lookup")
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn snapshot_then_deltas_then_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut index = StolenIndex::open(dir.path(), LoadMode::Memory).expect("open empty");
    assert_eq!(index.held().version, 0);
    assert!(index.is_empty());
    let snap = vec![
        entry(35693803564380, "2026-01-01", "Dhanmondi, Dhaka"),
        entry(1, "2026-01-02", "Kotwali, Chattogram"),
    ];
    let hash = StateHash::of(&snap).expect("valid").to_hex();
    index.install_snapshot(3, &hash, snap).expect("snapshot");
    assert_eq!(index.held().version, 3);
    assert_eq!(
        index
            .lookup_imei("356938035643809")
            .expect("lookup")
            .map(|h| h.theft_location)
            .as_deref(),
        Some("Dhanmondi, Dhaka")
    );
    assert_eq!(hit(&index, 2), None);

    let mut model: BTreeMap<u64, (String, String)> = BTreeMap::new();
    model.insert(
        35693803564380,
        ("2026-01-01".into(), "Dhanmondi, Dhaka".into()),
    );
    model.insert(1, ("2026-01-02".into(), "Kotwali, Chattogram".into()));
    // Change one, add one, remove one.
    model.insert(1, ("2026-02-01".into(), "Mirpur, Dhaka".into()));
    model.insert(99_999_999_999_999, ("2026-02-02".into(), "Sylhet".into()));
    model.remove(&35693803564380);
    let d = delta_for(
        &index,
        &model,
        vec![
            entry(1, "2026-02-01", "Mirpur, Dhaka"),
            entry(99_999_999_999_999, "2026-02-02", "Sylhet"),
        ],
        vec![35693803564380, 12345],
    );
    index.apply_delta(&d).expect("delta");
    assert_eq!(index.held().version, 4);
    assert_eq!(index.len(), 2);
    assert_eq!(hit(&index, 35693803564380), None);
    assert_eq!(
        hit(&index, 1).map(|h| h.theft_location).as_deref(),
        Some("Mirpur, Dhaka")
    );
    assert!(dir.path().join(OVERLAY_FILE).exists());

    // A second handle (the kiosk app) sees that the daemon's handle changed the files.
    let reader = StolenIndex::open(dir.path(), LoadMode::Memory).expect("reader");
    assert!(!reader.is_stale());
    let mut model2 = model.clone();
    model2.insert(5, ("2026-02-03".into(), "Rajshahi".into()));
    let d2 = delta_for(
        &index,
        &model2,
        vec![entry(5, "2026-02-03", "Rajshahi")],
        vec![],
    );
    index.apply_delta(&d2).expect("delta 2");
    assert!(reader.is_stale());
    assert!(
        !index.is_stale(),
        "its own writes do not make a handle stale"
    );
    for mode in [LoadMode::Memory, LoadMode::File] {
        let again = StolenIndex::open(dir.path(), mode).expect("reopen");
        assert_eq!(again.held(), index.held());
        assert_eq!(again.len(), 3);
        assert!(hit(&again, 5).is_some());
        assert_eq!(
            hit(&again, 1).map(|h| h.reported_at).as_deref(),
            Some("2026-02-01")
        );
        assert_eq!(hit(&again, 35693803564380), None);
        assert!(hit(&again, 99_999_999_999_999).is_some());
    }
}

#[test]
fn refusals_change_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut index = StolenIndex::open(dir.path(), LoadMode::Memory).expect("open");
    let snap = vec![entry(10, "2026-01-01", "A")];
    index
        .install_snapshot(
            5,
            &StateHash::of(&snap).expect("valid").to_hex(),
            snap.clone(),
        )
        .expect("snapshot");
    let before = files(dir.path());
    let mut model = BTreeMap::new();
    model.insert(10u64, ("2026-01-01".to_owned(), "A".to_owned()));
    model.insert(11u64, ("2026-01-03".to_owned(), "B".to_owned()));
    let good = delta_for(&index, &model, vec![entry(11, "2026-01-03", "B")], vec![]);

    let check = |index: &mut StolenIndex, d: &StolenDelta, code: &str| {
        match index.apply_delta(d) {
            Err(IndexError::Refused(err)) => assert_eq!(err.code(), code, "{err}"),
            other => panic!("expected {code}, got {other:?}"),
        }
        assert_eq!(index.held().version, 5);
        assert_eq!(files(dir.path()), before, "nothing written");
    };
    let mut wrong_base = good.clone();
    wrong_base.base_hash = StateHash::EMPTY.to_hex();
    check(&mut index, &wrong_base, "base_mismatch");
    let mut old = good.clone();
    old.version = 5;
    old.base_version = 4;
    check(&mut index, &old, "rollback");
    let mut wrong_result = good.clone();
    wrong_result.hash = StateHash::EMPTY.to_hex();
    check(&mut index, &wrong_result, "hash_mismatch");
    let mut bad_imei = good.clone();
    bad_imei.added[0].imei = "356938035643808".into();
    check(&mut index, &bad_imei, "malformed");

    match index.install_snapshot(5, &StateHash::EMPTY.to_hex(), vec![]) {
        Err(IndexError::Refused(err)) => assert_eq!(err.code(), "rollback"),
        other => panic!("expected a rollback refusal, got {other:?}"),
    }
    let twice = vec![entry(10, "2026-01-01", "A"), entry(10, "2026-01-01", "B")];
    match index.install_snapshot(6, &StateHash::of(&twice).expect("valid").to_hex(), twice) {
        Err(IndexError::Refused(err)) => assert_eq!(err.code(), "malformed"),
        other => panic!("expected a malformed refusal, got {other:?}"),
    }
    assert_eq!(files(dir.path()), before);
    index
        .apply_delta(&good)
        .expect("the good delta still applies");
    assert_eq!(index.held().version, 6);
}

#[test]
fn compaction_merges_the_overlay_into_a_new_base() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut index = StolenIndex::open(dir.path(), LoadMode::File).expect("open");
    index.compact_min = 8;
    let mut model = BTreeMap::new();
    for round in 0..10u64 {
        let mut added = Vec::new();
        for i in 0..3 {
            let body = round * 1_000_003 + i * (1 << 33);
            model.insert(
                body,
                (format!("2026-03-{:02}", round + 1), format!("thana {i}")),
            );
            added.push(entry(
                body,
                &format!("2026-03-{:02}", round + 1),
                &format!("thana {i}"),
            ));
        }
        let removed: Vec<u64> = if round % 3 == 2 {
            vec![(round - 1) * 1_000_003]
        } else {
            vec![]
        };
        for r in &removed {
            model.remove(r);
        }
        let d = delta_for(&index, &model, added, removed);
        index.apply_delta(&d).expect("delta");
    }
    assert_eq!(index.len(), model.len() as u64);
    let again = StolenIndex::open(dir.path(), LoadMode::Memory).expect("reopen");
    for (body, (at, loc)) in &model {
        let h = hit(&again, *body).expect("listed");
        assert_eq!((&h.reported_at, &h.theft_location), (at, loc));
    }
    assert_eq!(hit(&again, 1_000_003), None, "removed in round 2");
}

#[test]
fn a_stale_overlay_is_ignored_and_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut index = StolenIndex::open(dir.path(), LoadMode::Memory).expect("open");
    let snap = vec![entry(10, "2026-01-01", "A")];
    index
        .install_snapshot(1, &StateHash::of(&snap).expect("valid").to_hex(), snap)
        .expect("snapshot");
    let mut model = BTreeMap::new();
    model.insert(10u64, ("2026-01-01".to_owned(), "A".to_owned()));
    model.insert(20u64, ("2026-01-02".to_owned(), "B".to_owned()));
    let d = delta_for(&index, &model, vec![entry(20, "2026-01-02", "B")], vec![]);
    index.apply_delta(&d).expect("delta");
    let overlay = std::fs::read(dir.path().join(OVERLAY_FILE)).expect("overlay");
    // A snapshot at version 3 replaces the base; put the old overlay back as if a crash had
    // happened between the base rename and the overlay removal.
    let snap3 = vec![entry(30, "2026-01-03", "C")];
    index
        .install_snapshot(3, &StateHash::of(&snap3).expect("valid").to_hex(), snap3)
        .expect("snapshot 3");
    std::fs::write(dir.path().join(OVERLAY_FILE), overlay).expect("restore");
    let again = StolenIndex::open(dir.path(), LoadMode::File).expect("reopen");
    assert_eq!(again.held().version, 3);
    assert_eq!(hit(&again, 20), None);
    assert!(hit(&again, 30).is_some());
    assert!(!dir.path().join(OVERLAY_FILE).exists());
}

#[test]
fn damaged_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut b = BaseBuilder::new();
    for body in [5u64, 7, 1 << 40] {
        b.push(body, "2026-01-01", "X").expect("push");
    }
    b.write(dir.path(), 2).expect("write");
    let path = dir.path().join("base.idx");
    let bytes = std::fs::read(&path).expect("read");
    for cut in [0, 10, 127, 200, bytes.len() - 1] {
        std::fs::write(&path, &bytes[..cut]).expect("truncate");
        match StolenIndex::open(dir.path(), LoadMode::Memory) {
            Err(IndexError::Corrupt { .. }) => {}
            other => panic!("cut at {cut}: expected Corrupt, got {other:?}"),
        }
    }
    let mut bad = bytes.clone();
    bad[0] = b'X';
    std::fs::write(&path, &bad).expect("write");
    assert!(matches!(
        StolenIndex::open(dir.path(), LoadMode::File),
        Err(IndexError::Corrupt { .. })
    ));
    std::fs::write(&path, &bytes).expect("restore");
    let index = StolenIndex::open(dir.path(), LoadMode::File).expect("intact again");
    assert!(hit(&index, 1 << 40).is_some());
    assert_eq!(hit(&index, 6), None);
}

#[derive(Debug, Clone)]
enum Op {
    Add(u64, u8, u8),
    Remove(u64),
}

fn op() -> impl Strategy<Value = Op> {
    // A small key space, spread over several buckets, so adds, changes and removes collide.
    let key = (0u64..40).prop_map(|k| (k % 8) * (1 << 32) + k * 7919);
    prop_oneof![
        3 => (key.clone(), 0u8..3, 0u8..3).prop_map(|(k, a, l)| Op::Add(k, a, l)),
        1 => key.prop_map(Op::Remove),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]
    #[test]
    fn matches_a_map_model(deltas in proptest::collection::vec(proptest::collection::vec(op(), 0..12), 1..8),
                           memory: bool, compact_min in 0usize..20) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mode = if memory { LoadMode::Memory } else { LoadMode::File };
        let mut index = StolenIndex::open(dir.path(), mode).expect("open");
        index.compact_min = compact_min;
        let mut model: BTreeMap<u64, (String, String)> = BTreeMap::new();
        for ops in deltas {
            let mut added: BTreeMap<u64, StolenEntry> = BTreeMap::new();
            let mut removed = Vec::new();
            for op in ops {
                match op {
                    Op::Add(k, a, l) => { added.insert(k, entry(k, &format!("2026-01-0{}", a + 1), &format!("loc {l}"))); }
                    Op::Remove(k) => { if !added.contains_key(&k) { removed.push(k); } }
                }
            }
            for k in &removed { model.remove(k); }
            for (k, e) in &added { model.insert(*k, (e.reported_at.clone(), e.theft_location.clone())); }
            let d = delta_for(&index, &model, added.into_values().collect(), removed);
            index.apply_delta(&d).expect("delta applies");
            prop_assert_eq!(index.len(), model.len() as u64);
        }
        let again = StolenIndex::open(dir.path(), mode).expect("reopen");
        prop_assert_eq!(again.held(), index.held());
        for k in (0u64..40).map(|k| (k % 8) * (1 << 32) + k * 7919) {
            let got = hit(&again, k).map(|h| (h.reported_at, h.theft_location));
            prop_assert_eq!(got, model.get(&k).cloned());
        }
    }
}
