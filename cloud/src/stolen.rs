//! The cloud's side of the stolen-IMEI index: the authoritative set in the database, a version chain
//! (`stolen_versions`, one signed delta per version), the signed head (retained on `stolen/head`, signed
//! fresh each time it is published so its expiry moves on), and answers to a kiosk's request: the deltas
//! after the version it holds, or a full snapshot in signed parts when it holds nothing usable.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use jachai_protocol::envelope::{SignedBody, StolenRequest};
use jachai_protocol::sign::Signer;
use jachai_protocol::stolen::{SnapshotPart, StateHash, StolenDelta, StolenEntry, StolenHead};
use jachai_protocol::{KioskId, Topic};
use sqlx::Row;

use crate::ingest::{IngestError, Outgoing};
use crate::store::{now, Backend, Ctx, Store, StoreError};

/// How long a published head stays valid on a kiosk (it is re-signed far more often than this).
pub const HEAD_LIFETIME_S: u64 = 7 * 24 * 3600;
/// Entries per snapshot part (≈ 100 bytes each in JSON, base64 inside the signed envelope: well under
/// the broker's 1 MiB packet limit).
pub const SNAPSHOT_PART: usize = 2000;
/// More deltas than this behind: answer with a snapshot instead.
pub const MAX_DELTAS: u64 = 500;

fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The latest version, its hash and count (version 0, empty, when nothing was ever added).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latest {
    pub version: u64,
    pub hash: StateHash,
    pub count: u64,
}

/// The index held in memory for lookups: the entries at `version` (`None`: not loaded, or another
/// writer moved the chain on and it must be read again).
#[derive(Debug, Default)]
struct Cache {
    version: Option<u64>,
    entries: HashMap<String, (String, String)>,
}

/// The stolen index in the cloud database.
#[derive(Debug, Clone)]
pub struct Stolen {
    store: Store,
    signer: Arc<Signer>,
    cache: Arc<RwLock<Cache>>,
    /// The newest version this process committed. A refresh that read the index just before that
    /// commit can install an older copy after [`Stolen::remember`] ran; a lookup seeing the copy
    /// behind this reads the index again instead of answering from it.
    committed: Arc<AtomicU64>,
}

impl Stolen {
    pub fn new(store: Store, signer: Arc<Signer>) -> Stolen {
        Stolen {
            store,
            signer,
            cache: Arc::new(RwLock::new(Cache::default())),
            committed: Arc::new(AtomicU64::new(0)),
        }
    }

    /// One IMEI in the index, from memory. Changes made through this process are seen at once (they
    /// update the memory copy as they commit); another instance's within one [`Stolen::refresh`].
    pub async fn lookup(&self, imei: &str) -> Result<Option<StolenEntry>, StoreError> {
        let committed = self.committed.load(Ordering::SeqCst);
        if self.cached_version().is_none_or(|v| v < committed) {
            self.refresh().await?;
        }
        let cache = self.cache.read().map_err(|_| poisoned())?;
        Ok(cache.entries.get(imei).map(|(at, loc)| StolenEntry {
            imei: imei.to_string(),
            reported_at: at.clone(),
            theft_location: loc.clone(),
        }))
    }

    fn cached_version(&self) -> Option<u64> {
        self.cache.read().ok().and_then(|c| c.version)
    }

    /// Reads the whole index again when the database holds a version the memory copy does not.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let latest = self.latest().await?;
        if self.cached_version() == Some(latest.version) {
            return Ok(());
        }
        let mut tx = self.store.begin().await?;
        if self.store.backend() == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut *tx)
                .await
                .ctx("snapshot isolation")?;
        }
        let latest = Self::latest_in(&mut *tx).await?;
        let rows = sqlx::query("SELECT imei, reported_at, theft_location FROM stolen_imeis")
            .fetch_all(&mut *tx)
            .await
            .ctx("reading the index")?;
        tx.commit().await.ctx("ending the index read")?;
        let mut entries = HashMap::with_capacity(rows.len());
        for r in rows {
            entries.insert(
                r.try_get(0).ctx("reading an entry")?,
                (
                    r.try_get(1).ctx("reading an entry")?,
                    r.try_get(2).ctx("reading an entry")?,
                ),
            );
        }
        let mut cache = self.cache.write().map_err(|_| poisoned())?;
        if cache.version.is_none_or(|v| v < latest.version) {
            *cache = Cache {
                version: Some(latest.version),
                entries,
            };
        }
        Ok(())
    }

    /// Applies a committed version to the memory copy when it follows the copy's version; otherwise
    /// marks the copy for a full read.
    fn remember(&self, base: u64, version: u64, added: &[StolenEntry], removed: &[String]) {
        let Ok(mut cache) = self.cache.write() else {
            return;
        };
        if cache.version != Some(base) {
            cache.version = None;
            return;
        }
        for e in added {
            cache.entries.insert(
                e.imei.clone(),
                (e.reported_at.clone(), e.theft_location.clone()),
            );
        }
        for imei in removed {
            cache.entries.remove(imei);
        }
        cache.version = Some(version);
    }

    async fn latest_in<'e, E>(exec: E) -> Result<Latest, StoreError>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        let row = sqlx::query(
            "SELECT version, state_hash, entry_count FROM stolen_versions ORDER BY version DESC LIMIT 1",
        )
        .fetch_optional(exec)
        .await
        .ctx("reading the stolen-index head")?;
        let Some(row) = row else {
            return Ok(Latest {
                version: 0,
                hash: StateHash::EMPTY,
                count: 0,
            });
        };
        let version: i64 = row.try_get(0).ctx("reading a version")?;
        let hash: String = row.try_get(1).ctx("reading a hash")?;
        let count: i64 = row.try_get(2).ctx("reading a count")?;
        let hash = StateHash::from_hex(&hash)
            .map_err(|e| StoreError::Inconsistent(format!("stored state hash: {e}")))?;
        Ok(Latest {
            version: u64_of(version),
            hash,
            count: u64_of(count),
        })
    }

    /// The latest version.
    pub async fn latest(&self) -> Result<Latest, StoreError> {
        Self::latest_in(self.store.pool()).await
    }

    /// The head, signed now, as the retained message for `stolen/head`.
    pub async fn head(&self) -> Result<Outgoing, StoreError> {
        let l = self.latest().await?;
        let signed_at = u64_of(now());
        let head = StolenHead {
            version: l.version,
            hash: l.hash.to_hex(),
            count: l.count,
            signed_at,
            expires_at: signed_at + HEAD_LIFETIME_S,
        };
        Ok(Outgoing {
            topic: Topic::StolenHead.name(),
            payload: self.signer.sign(&SignedBody::StolenHead(head)),
            retain: true,
        })
    }

    /// Adds (or updates) and removes entries as one new version; returns the new version and the head to
    /// publish. Nothing changes (and no version is made) when the entries are already exactly so.
    pub async fn apply(
        &self,
        added: &[StolenEntry],
        removed: &[String],
    ) -> Result<(u64, Vec<Outgoing>), IngestError> {
        for e in added {
            e.validate()
                .map_err(|err| IngestError::Stolen(format!("refused entry: {err}")))?;
        }
        for attempt in 0..5 {
            match self.try_apply(added, removed).await {
                Ok(Some(version)) => return Ok((version, vec![self.head().await?])),
                Ok(None) => return Ok((self.latest().await?.version, Vec::new())),
                Err(e) if attempt < 4 => {
                    // Another instance took the same version number: read the new state and try again.
                    tracing::warn!(error = %e, "stolen-index version raced; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(50 * (attempt + 1))).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(IngestError::Stolen("could not make a new version".into()))
    }

    async fn try_apply(
        &self,
        added: &[StolenEntry],
        removed: &[String],
    ) -> Result<Option<u64>, StoreError> {
        let mut tx = self.store.begin().await?;
        let base = Self::latest_in(&mut *tx).await?;
        let mut hash = base.hash;
        let mut count = base.count;
        let mut really_added = Vec::new();
        let mut really_removed = Vec::new();
        let version = base.version + 1;
        // Later entries for the same IMEI win within one call.
        let mut wanted: BTreeMap<&str, &StolenEntry> = BTreeMap::new();
        for e in added {
            wanted.insert(e.imei.as_str(), e);
        }
        for e in wanted.values() {
            let old =
                sqlx::query("SELECT reported_at, theft_location FROM stolen_imeis WHERE imei = $1")
                    .bind(&e.imei)
                    .fetch_optional(&mut *tx)
                    .await
                    .ctx("reading an entry")?;
            if let Some(old) = old {
                let old = StolenEntry {
                    imei: e.imei.clone(),
                    reported_at: old.try_get(0).ctx("reading an entry")?,
                    theft_location: old.try_get(1).ctx("reading an entry")?,
                };
                if &old == *e {
                    continue;
                }
                hash.remove(&digest(&old)?);
                count = count.saturating_sub(1);
            }
            sqlx::query(
                "INSERT INTO stolen_imeis (imei, reported_at, theft_location, version) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (imei) DO UPDATE SET reported_at = excluded.reported_at, \
                 theft_location = excluded.theft_location, version = excluded.version",
            )
            .bind(&e.imei)
            .bind(&e.reported_at)
            .bind(&e.theft_location)
            .bind(i64_of(version))
            .execute(&mut *tx)
            .await
            .ctx("storing an entry")?;
            hash.add(&digest(e)?);
            count += 1;
            really_added.push((*e).clone());
        }
        for imei in removed {
            if wanted.contains_key(imei.as_str()) {
                continue;
            }
            let old =
                sqlx::query("SELECT reported_at, theft_location FROM stolen_imeis WHERE imei = $1")
                    .bind(imei)
                    .fetch_optional(&mut *tx)
                    .await
                    .ctx("reading an entry")?;
            let Some(old) = old else { continue };
            let old = StolenEntry {
                imei: imei.clone(),
                reported_at: old.try_get(0).ctx("reading an entry")?,
                theft_location: old.try_get(1).ctx("reading an entry")?,
            };
            sqlx::query("DELETE FROM stolen_imeis WHERE imei = $1")
                .bind(imei)
                .execute(&mut *tx)
                .await
                .ctx("removing an entry")?;
            hash.remove(&digest(&old)?);
            count = count.saturating_sub(1);
            really_removed.push(imei.clone());
        }
        if really_added.is_empty() && really_removed.is_empty() {
            return Ok(None);
        }
        let (delta_added, delta_removed) = (really_added.clone(), really_removed.clone());
        let delta = StolenDelta {
            version,
            base_version: base.version,
            base_hash: base.hash.to_hex(),
            hash: hash.to_hex(),
            count,
            added: really_added,
            removed: really_removed,
            signed_at: u64_of(now()),
        };
        let signed = String::from_utf8(self.signer.sign(&SignedBody::StolenDelta(delta)))
            .map_err(|e| StoreError::Inconsistent(format!("signed delta is not UTF-8: {e}")))?;
        sqlx::query(
            "INSERT INTO stolen_versions (version, state_hash, entry_count, signed_delta, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(i64_of(version))
        .bind(hash.to_hex())
        .bind(i64_of(count))
        .bind(&signed)
        .bind(now())
        .execute(&mut *tx)
        .await
        .ctx("storing a stolen-index version")?;
        tx.commit().await.ctx("committing a stolen-index version")?;
        self.committed.fetch_max(version, Ordering::SeqCst);
        self.remember(base.version, version, &delta_added, &delta_removed);
        tracing::info!(version, count, "stolen index: new version");
        Ok(Some(version))
    }

    /// Answers a kiosk's request on its `down/stolen`: the stored deltas after what it holds when that is a
    /// version of this chain with the same hash, otherwise a full snapshot.
    pub async fn answer(
        &self,
        kiosk: &KioskId,
        req: &StolenRequest,
    ) -> Result<Vec<Outgoing>, IngestError> {
        let latest = self.latest().await?;
        let topic = Topic::DownStolen(kiosk.clone());
        if latest.version == 0 || req.have >= latest.version {
            // Nothing newer to give (or the kiosk claims more than exists: the head will put it right).
            return Ok(vec![self.head().await?]);
        }
        let usable = !req.snapshot && req.have > 0 && latest.version - req.have <= MAX_DELTAS && {
            let stored: Option<String> =
                sqlx::query_scalar("SELECT state_hash FROM stolen_versions WHERE version = $1")
                    .bind(i64_of(req.have))
                    .fetch_optional(self.store.pool())
                    .await
                    .ctx("reading a version")?;
            stored.is_some_and(|h| h == req.have_hash)
        };
        if usable {
            let rows = sqlx::query(
                "SELECT signed_delta FROM stolen_versions WHERE version > $1 ORDER BY version",
            )
            .bind(i64_of(req.have))
            .fetch_all(self.store.pool())
            .await
            .ctx("listing deltas")?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let signed: String = r.try_get(0).ctx("reading a delta")?;
                out.push(Outgoing::to(topic.clone(), signed.into_bytes()));
            }
            return Ok(out);
        }
        self.snapshot(&topic).await
    }

    /// The whole set at the latest version in signed parts, read in one consistent transaction.
    async fn snapshot(&self, topic: &Topic) -> Result<Vec<Outgoing>, IngestError> {
        let mut tx = self.store.begin().await?;
        if self.store.backend() == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut *tx)
                .await
                .ctx("snapshot isolation")?;
        }
        let latest = Self::latest_in(&mut *tx).await?;
        let rows =
            sqlx::query("SELECT imei, reported_at, theft_location FROM stolen_imeis ORDER BY imei")
                .fetch_all(&mut *tx)
                .await
                .ctx("reading the index")?;
        tx.commit().await.ctx("ending the snapshot read")?;
        let mut entries = Vec::with_capacity(rows.len());
        for r in rows {
            entries.push(StolenEntry {
                imei: r.try_get(0).ctx("reading an entry")?,
                reported_at: r.try_get(1).ctx("reading an entry")?,
                theft_location: r.try_get(2).ctx("reading an entry")?,
            });
        }
        let computed = StateHash::of(&entries)
            .map_err(|e| IngestError::Stolen(format!("stored entry: {e}")))?;
        if computed != latest.hash {
            return Err(IngestError::Stolen(format!(
                "stored entries hash to {} but version {} says {}",
                computed.to_hex(),
                latest.version,
                latest.hash.to_hex()
            )));
        }
        let parts: Vec<&[StolenEntry]> = if entries.is_empty() {
            vec![&[][..]]
        } else {
            entries.chunks(SNAPSHOT_PART).collect()
        };
        let n = u32::try_from(parts.len()).unwrap_or(u32::MAX);
        let signed_at = u64_of(now());
        Ok(parts
            .into_iter()
            .enumerate()
            .map(|(i, part)| {
                let body = SignedBody::StolenSnapshot(SnapshotPart {
                    version: latest.version,
                    hash: latest.hash.to_hex(),
                    count: latest.count,
                    part: u32::try_from(i).unwrap_or(u32::MAX),
                    parts: n,
                    entries: part.to_vec(),
                    signed_at,
                });
                Outgoing::to(topic.clone(), self.signer.sign(&body))
            })
            .collect())
    }
}

fn poisoned() -> StoreError {
    StoreError::Inconsistent("the in-memory stolen index was poisoned by a panic".into())
}

fn digest(e: &StolenEntry) -> Result<[u8; 32], StoreError> {
    e.digest()
        .map_err(|err| StoreError::Inconsistent(format!("entry {}: {err}", e.imei)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(imei: &str) -> StolenEntry {
        StolenEntry {
            imei: imei.into(),
            reported_at: "2026-11-30".into(),
            theft_location: "Mirpur, Dhaka".into(),
        }
    }

    /// A refresh that read the index just before a commit installs its older copy after the
    /// commit updated memory: lookups must not answer "clear" from that copy.
    #[tokio::test]
    async fn a_copy_older_than_the_last_commit_is_read_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite:{}", dir.path().join("cloud.db").display());
        let store = Store::open(&url).await.expect("store");
        let stolen = Stolen::new(store, Arc::new(Signer::from_seed([7; 32])));
        // The copy as a refresh read it before anything was added: version 0, empty.
        stolen.refresh().await.expect("refresh");
        let (version, _) = stolen
            .apply(&[entry("490154203237518")], &[])
            .await
            .expect("apply");
        assert_eq!(version, 1);
        assert!(stolen
            .lookup("490154203237518")
            .await
            .expect("lookup")
            .is_some());
        // The race: the stale copy lands after the commit.
        if let Ok(mut cache) = stolen.cache.write() {
            *cache = Cache {
                version: Some(0),
                entries: HashMap::new(),
            };
        }
        let found = stolen.lookup("490154203237518").await.expect("lookup");
        assert_eq!(found, Some(entry("490154203237518")));
        assert_eq!(
            stolen.lookup("356938035643809").await.expect("lookup"),
            None
        );
    }
}
