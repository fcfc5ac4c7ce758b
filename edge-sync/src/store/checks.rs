//! What the kiosk keeps of its picture checks: the result cache (a report by `verify::cache_key`)
//! and the perceptual hashes of pictures checked here (the history behind `seen_before`).
//!
//! Both are bookkeeping whose loss is harmless (a lost entry means one check runs again, or a
//! copy counts once less), so they are written without fsync and bounded: the cache by entries
//! and bytes (least recently used out first: `used` is a counter, not a clock), the hash history by count (oldest out first).

use rusqlite::{params, OptionalExtension};

use super::{now_s, to_i64, Store, StoreError};

/// Most cached results kept.
pub const CACHE_MAX_ENTRIES: u64 = 500;
/// Most bytes (reports and annotated images together) the cache holds.
pub const CACHE_MAX_BYTES: u64 = 64 << 20;
/// An annotated image larger than this is not cached (the report still is).
const ANNOTATED_MAX_BYTES: usize = 4 << 20;
/// Hashes of checked pictures kept: the newest ones.
pub const CHECKED_IMAGES_KEPT: u64 = 100_000;

/// A cached check: the report as JSON and the annotated PNG when it was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedResult {
    pub report: String,
    pub annotated: Option<Vec<u8>>,
}

impl Store {
    /// The result stored under `key`, marked as just used.
    pub fn cached_result(&mut self, key: &str) -> Result<Option<CachedResult>, StoreError> {
        let found = self
            .conn
            .query_row(
                "SELECT report, annotated FROM result_cache WHERE key = ?1",
                params![key],
                |r| {
                    Ok(CachedResult {
                        report: r.get(0)?,
                        annotated: r.get(1)?,
                    })
                },
            )
            .optional()?;
        if found.is_some() {
            self.relaxed(|store| {
                store.conn.execute(
                    "UPDATE result_cache SET used = (SELECT MAX(used) + 1 FROM result_cache) \
                     WHERE key = ?1",
                    params![key],
                )?;
                Ok(())
            })?;
        }
        Ok(found)
    }

    /// Keep `report` (JSON) and its annotated PNG under `key`, replacing an older entry, then trim
    /// the cache to its bounds.
    pub fn cache_result(
        &mut self,
        key: &str,
        report: &str,
        annotated: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let annotated = annotated.filter(|a| a.len() <= ANNOTATED_MAX_BYTES);
        self.relaxed(|store| {
            let tx = store.conn.transaction()?;
            let now = to_i64(now_s());
            tx.execute(
                "INSERT OR REPLACE INTO result_cache (key, report, annotated, created_at, used) \
                 VALUES (?1, ?2, ?3, ?4, (SELECT COALESCE(MAX(used), 0) + 1 FROM result_cache))",
                params![key, report, annotated, now],
            )?;
            loop {
                let (entries, bytes): (i64, i64) = tx.query_row(
                    "SELECT COUNT(*), COALESCE(SUM(LENGTH(report) + COALESCE(LENGTH(annotated), 0)), 0) \
                     FROM result_cache",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                let over = entries > to_i64(CACHE_MAX_ENTRIES) || bytes > to_i64(CACHE_MAX_BYTES);
                if !over || entries <= 1 {
                    break;
                }
                tx.execute(
                    "DELETE FROM result_cache WHERE key = \
                     (SELECT key FROM result_cache ORDER BY used LIMIT 1)",
                    [],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Number of cached results.
    pub fn cached_count(&self) -> Result<u64, StoreError> {
        Ok(super::to_u64(self.conn.query_row(
            "SELECT COUNT(*) FROM result_cache",
            [],
            |r| r.get(0),
        )?))
    }

    /// Remember that a picture with this perceptual hash (16 hex digits) was checked here.
    pub fn record_checked_image(&mut self, phash: &str) -> Result<(), StoreError> {
        if phash.len() != 16 || !phash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::Invalid(format!(
                "a picture hash is 16 hex digits, not {phash:?}"
            )));
        }
        self.relaxed(|store| {
            let tx = store.conn.transaction()?;
            tx.execute(
                "INSERT INTO checked_images (phash, checked_at) VALUES (?1, ?2)",
                params![phash.to_ascii_lowercase(), to_i64(now_s())],
            )?;
            let last = tx.last_insert_rowid();
            tx.execute(
                "DELETE FROM checked_images WHERE id <= ?1",
                params![last - to_i64(CHECKED_IMAGES_KEPT)],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    /// The hashes of pictures checked here, oldest first (at most [`CHECKED_IMAGES_KEPT`]).
    pub fn checked_images(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT phash FROM checked_images ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<Vec<String>, _>>()?)
    }
}
