//! The store's picture-check bookkeeping: the result cache (kept, replaced, bounded by entries and
//! bytes, least recently used out first, kept across a reopen) and the history of checked
//! picture hashes (validated, newest kept).

use jachai_edge_sync::store::{Store, StoreError, CACHE_MAX_BYTES, CACHE_MAX_ENTRIES};

fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("kiosk.db"), &dir.path().join("blobs")).expect("store")
}

#[test]
fn a_cached_result_is_found_by_its_key_and_survives_a_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut store = open(&dir);
        assert_eq!(store.cached_result("image/v/r/aa").expect("lookup"), None);
        store
            .cache_result("image/v/r/aa", r#"{"risk":40}"#, Some(b"png bytes"))
            .expect("cache");
        store
            .cache_result("image/v/r/bb", r#"{"risk":0}"#, None)
            .expect("cache");
        // The same key again replaces the entry.
        store
            .cache_result("image/v/r/aa", r#"{"risk":41}"#, Some(b"png 2"))
            .expect("cache");
        assert_eq!(store.cached_count().expect("count"), 2);
    }
    let mut store = open(&dir);
    let hit = store
        .cached_result("image/v/r/aa")
        .expect("lookup")
        .expect("a hit");
    assert_eq!(hit.report, r#"{"risk":41}"#);
    assert_eq!(hit.annotated.as_deref(), Some(&b"png 2"[..]));
    let plain = store
        .cached_result("image/v/r/bb")
        .expect("lookup")
        .expect("a hit");
    assert_eq!(plain.annotated, None);
    assert_eq!(store.cached_result("image/v/r/cc").expect("lookup"), None);
}

#[test]
fn the_cache_keeps_its_bounds_least_recently_used_out_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = open(&dir);
    let n = CACHE_MAX_ENTRIES + 20;
    for i in 0..n {
        store
            .cache_result(&format!("k{i}"), "{}", None)
            .expect("cache");
        if i == CACHE_MAX_ENTRIES - 1 {
            // Just before the cache overflows, using k0 makes it the most recently used.
            store.cached_result("k0").expect("lookup").expect("k0");
        }
    }
    assert_eq!(store.cached_count().expect("count"), CACHE_MAX_ENTRIES);
    assert!(
        store.cached_result("k0").expect("lookup").is_some(),
        "k0 was used"
    );
    assert!(
        store.cached_result("k1").expect("lookup").is_none(),
        "k1 is the oldest unused"
    );
    assert!(store
        .cached_result(&format!("k{}", n - 1))
        .expect("lookup")
        .is_some());

    // Bytes: a few annotated images over the byte bound push the oldest out.
    let big = vec![7u8; 3 << 20];
    let fit = CACHE_MAX_BYTES / (3 << 20);
    for i in 0..fit + 3 {
        store
            .cache_result(&format!("big{i}"), "{}", Some(&big))
            .expect("cache");
    }
    assert!(store.cached_result("big0").expect("lookup").is_none());
    assert!(store
        .cached_result(&format!("big{}", fit + 2))
        .expect("lookup")
        .is_some());
    // An annotated image over 4 MiB is left out; the report is kept.
    let huge = vec![1u8; 5 << 20];
    store
        .cache_result("huge", "{}", Some(&huge))
        .expect("cache");
    let hit = store.cached_result("huge").expect("lookup").expect("a hit");
    assert_eq!(hit.annotated, None);
}

#[test]
fn checked_picture_hashes_are_validated_and_kept_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut store = open(&dir);
        for bad in [
            "",
            "123",
            "zzzzzzzzzzzzzzzz",
            "0123456789abcdef0",
            "0123456789abcdeg",
        ] {
            assert!(
                matches!(store.record_checked_image(bad), Err(StoreError::Invalid(_))),
                "{bad:?} accepted"
            );
        }
        store
            .record_checked_image("0123456789ABCDEF")
            .expect("record");
        store
            .record_checked_image("fedcba9876543210")
            .expect("record");
        store
            .record_checked_image("0123456789abcdef")
            .expect("record");
    }
    let store = open(&dir);
    assert_eq!(
        store.checked_images().expect("hashes"),
        ["0123456789abcdef", "fedcba9876543210", "0123456789abcdef"]
    );
}
