//! The kiosk's durable store: one SQLite file (WAL, `synchronous=FULL`) and a directory of image
//! files named by their SHA-256.
//!
//! A case, its blobs and its outbox row are recorded in one transaction; blob files are written
//! and fsynced *before* it commits, so a committed case never points at a missing file. Files a
//! crash left without a row (and temp files) are removed when the store is opened. Outbox rows
//! leave only when the cloud's application-level ack names them.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use jachai_protocol::envelope::BlobRef;
use jachai_protocol::{encode, CaseMsg, Decision, EventMsg, UpCase};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest as _, Sha256};

use crate::fsutil;

mod checks;

pub use checks::{CachedResult, CACHE_MAX_BYTES, CACHE_MAX_ENTRIES, CHECKED_IMAGES_KEPT};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// A blob file could not be written or read.
    #[error("blob file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database was written by a newer build.
    #[error("database schema version {found} is newer than this build's {supported}")]
    SchemaTooNew {
        /// `PRAGMA user_version` found.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// A blob file no longer matches its name (disk corruption or tampering).
    #[error("blob {sha256} is corrupt on disk")]
    CorruptBlob {
        /// The blob.
        sha256: String,
    },
    /// A bad argument (empty case id, …).
    #[error("{0}")]
    Invalid(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Migrations in order; `PRAGMA user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "CREATE TABLE cases (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        claims TEXT NOT NULL,
        verdict TEXT,
        risk INTEGER,
        report TEXT NOT NULL
    );
    CREATE TABLE blobs (
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE case_blobs (
        seq INTEGER NOT NULL REFERENCES cases(seq),
        ord INTEGER NOT NULL,
        sha256 TEXT NOT NULL REFERENCES blobs(sha256),
        role TEXT NOT NULL,
        PRIMARY KEY (seq, ord)
    ) WITHOUT ROWID;
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY REFERENCES cases(seq),
        payload BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        sent_at INTEGER,
        send_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE blob_progress (
        sha256 TEXT PRIMARY KEY REFERENCES blobs(sha256),
        next_chunk INTEGER NOT NULL,
        complete INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE decisions (
        seq INTEGER PRIMARY KEY,
        case_seq INTEGER NOT NULL,
        case_id TEXT NOT NULL,
        outcome TEXT NOT NULL,
        note TEXT,
        decided_at INTEGER NOT NULL,
        applied_at INTEGER NOT NULL
    );
    CREATE TABLE decisions_waiting (
        seq INTEGER PRIMARY KEY,
        body TEXT NOT NULL
    );
    CREATE TABLE stolen_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        head_version INTEGER NOT NULL,
        head_signed_at INTEGER NOT NULL
    );
    CREATE TABLE stolen_snapshot_parts (
        version INTEGER NOT NULL,
        part INTEGER NOT NULL,
        parts INTEGER NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (version, part)
    ) WITHOUT ROWID;",
    // 2: whether a blob's transfer ever started (a restarted transfer asks the cloud where it
    // stands before sending chunks).
    "ALTER TABLE blob_progress ADD COLUMN started INTEGER NOT NULL DEFAULT 0;",
    // 3: events waiting to go up (lookup hits), sent by the daemon.
    "CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        payload BLOB NOT NULL,
        created_at INTEGER NOT NULL
    );",
    // 4: the result cache of picture checks and the hashes of pictures checked here (`checks`).
    "CREATE TABLE result_cache (
        key TEXT PRIMARY KEY,
        report TEXT NOT NULL,
        annotated BLOB,
        created_at INTEGER NOT NULL,
        used INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX result_cache_used ON result_cache (used);
    CREATE TABLE checked_images (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        phash TEXT NOT NULL,
        checked_at INTEGER NOT NULL
    );",
];

/// An image to record with a case.
#[derive(Debug, Clone)]
pub struct NewImage {
    /// `gd_copy`, `phone_box`, …
    pub role: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// A case to record.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// The report id on the receipt (unique).
    pub case_id: String,
    /// `gd`, `cheque`, `image`, `box`, `lookup`.
    pub kind: String,
    /// Unix seconds.
    pub created_at: u64,
    /// What was typed or picked.
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// Verdict, if a report was made.
    pub verdict: Option<String>,
    /// Risk, if a report was made.
    pub risk: Option<u8>,
    /// The report summary.
    pub report: serde_json::Value,
    /// Images.
    pub images: Vec<NewImage>,
}

/// An outbox row still waiting for the cloud's ack.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    /// The seq.
    pub seq: u64,
    /// The encoded [`UpCase::Case`], exactly as published.
    pub payload: Vec<u8>,
    /// When recorded, unix seconds.
    pub created_at: u64,
    /// Its blobs and how far each got.
    pub blobs: Vec<BlobState>,
}

/// A blob of an outbox row and its transfer progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobState {
    /// SHA-256 hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Role.
    pub role: String,
    /// First chunk the cloud has not acked.
    pub next_chunk: u32,
    /// The cloud has the whole blob.
    pub complete: bool,
    /// Its transfer was started before (by this or an earlier run).
    pub started: bool,
}

/// Options for [`Store::open_with`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Blob files without a row older than this are removed at open (younger ones may belong to
    /// a transaction another process is about to commit).
    pub orphan_grace: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            orphan_grace: Duration::from_secs(600),
        }
    }
}

/// What happened to a decision offered to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionOutcome {
    /// Applied, with these seqs (the decision and any waiting ones it unblocked).
    Applied(Vec<u64>),
    /// Already applied with the same content (a redelivery).
    Duplicate,
    /// Ahead of a gap; kept waiting. Ask for decisions from `missing_from`.
    Waiting {
        /// The first missing decision seq.
        missing_from: u64,
    },
}

/// The kiosk store.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    blob_dir: PathBuf,
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// SHA-256 hex of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    jachai_protocol::hex::encode(&Sha256::digest(bytes))
}

impl Store {
    /// Open (creating if needed) the store with default options.
    pub fn open(db: &Path, blob_dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(db, blob_dir, &StoreOptions::default())
    }

    /// Open (creating if needed), migrate, and clean orphan blob files.
    pub fn open_with(db: &Path, blob_dir: &Path, opts: &StoreOptions) -> Result<Self, StoreError> {
        fs::create_dir_all(blob_dir).map_err(io_err(blob_dir))?;
        if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        let mut conn = Connection::open(db)?;
        conn.busy_timeout(Duration::from_secs(30))?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Invalid(format!(
                "could not switch {} to WAL (got {mode})",
                db.display()
            )));
        }
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")?;
        migrate(&mut conn)?;
        let store = Self {
            conn,
            blob_dir: blob_dir.to_owned(),
        };
        store.clean_orphans(opts.orphan_grace)?;
        Ok(store)
    }

    /// The schema version (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// The directory of blob files.
    pub fn blob_dir(&self) -> &Path {
        &self.blob_dir
    }

    /// Path of a blob file.
    pub fn blob_path(&self, sha256: &str) -> PathBuf {
        self.blob_dir.join(sha256)
    }

    fn clean_orphans(&self, grace: Duration) -> Result<(), StoreError> {
        let known: HashSet<String> = {
            let mut stmt = self.conn.prepare("SELECT sha256 FROM blobs")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let entries = fs::read_dir(&self.blob_dir).map_err(io_err(&self.blob_dir))?;
        let now = SystemTime::now();
        let mut removed = 0usize;
        for entry in entries {
            let entry = entry.map_err(io_err(&self.blob_dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if known.contains(&name) {
                continue;
            }
            // A file another process is writing right now (a temporary file renamed away, or a
            // blob whose case is not committed yet) is young or already gone: never an orphan.
            let old_enough = entry
                .metadata()
                .and_then(|m| m.modified())
                .map(|t| now.duration_since(t).unwrap_or_default() >= grace)
                .unwrap_or(false);
            if old_enough && entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
                let path = entry.path();
                match fs::remove_file(&path) {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_err(&path)(e)),
                }
            }
        }
        if removed > 0 {
            tracing::info!(removed, "removed blob files left without a case by a crash");
            fsutil::sync_dir(&self.blob_dir).map_err(io_err(&self.blob_dir))?;
        }
        Ok(())
    }

    fn write_blob(&self, sha256: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let path = self.blob_path(sha256);
        if let Ok(meta) = fs::metadata(&path) {
            if meta.len() == bytes.len() as u64 {
                return Ok(());
            }
        }
        fsutil::write_bytes_atomic(&path, bytes).map_err(io_err(&path))
    }

    /// Read a blob file and check it against its name.
    pub fn read_blob(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.blob_path(sha256);
        let bytes = fs::read(&path).map_err(io_err(&path))?;
        if sha256_hex(&bytes) != sha256 {
            return Err(StoreError::CorruptBlob {
                sha256: sha256.to_owned(),
            });
        }
        Ok(bytes)
    }

    /// Record a case, its images and its outbox row in one transaction; returns the case's seq.
    pub fn record_case(&mut self, case: &NewCase) -> Result<u64, StoreError> {
        if case.case_id.is_empty() {
            return Err(StoreError::Invalid("a case needs an id".into()));
        }
        // Files first, durable before the rows that name them commit.
        let mut refs = Vec::with_capacity(case.images.len());
        for image in &case.images {
            let sha256 = sha256_hex(&image.bytes);
            self.write_blob(&sha256, &image.bytes)?;
            refs.push(BlobRef {
                sha256,
                size: image.bytes.len() as u64,
                role: image.role.clone(),
            });
        }
        let claims = serde_json::Value::Object(case.claims.clone()).to_string();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO cases (case_id, kind, created_at, claims, verdict, risk, report)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                case.case_id,
                case.kind,
                to_i64(case.created_at),
                claims,
                case.verdict,
                case.risk,
                case.report.to_string()
            ],
        )?;
        let seq = to_u64(tx.last_insert_rowid());
        for (ord, r) in refs.iter().enumerate() {
            tx.execute(
                "INSERT OR IGNORE INTO blobs (sha256, size) VALUES (?1, ?2)",
                params![r.sha256, to_i64(r.size)],
            )?;
            tx.execute(
                "INSERT INTO case_blobs (seq, ord, sha256, role) VALUES (?1, ?2, ?3, ?4)",
                params![to_i64(seq), ord, r.sha256, r.role],
            )?;
            tx.execute(
                "INSERT OR IGNORE INTO blob_progress (sha256, next_chunk, complete) VALUES (?1, 0, 0)",
                params![r.sha256],
            )?;
        }
        let msg = CaseMsg {
            seq,
            case_id: case.case_id.clone(),
            kind: case.kind.clone(),
            created_at: case.created_at,
            claims: case.claims.clone(),
            verdict: case.verdict.clone(),
            risk: case.risk,
            report: case.report.clone(),
            blobs: refs,
        };
        tx.execute(
            "INSERT INTO outbox (seq, payload, created_at) VALUES (?1, ?2, ?3)",
            params![to_i64(seq), encode(&UpCase::Case(msg)), to_i64(now_s())],
        )?;
        tx.commit()?;
        Ok(seq)
    }

    /// Queue an event for the cloud (a lookup hit): durable (fsynced) until the daemon hands it
    /// to the broker.
    pub fn record_event(&mut self, event: &EventMsg) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO events (payload, created_at) VALUES (?1, ?2)",
            params![encode(event), to_i64(now_s())],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Up to `limit` queued events, oldest first: (id, encoded payload).
    pub fn pending_events(&self, limit: usize) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, payload FROM events ORDER BY id LIMIT ?1")?;
        let rows = stmt.query_map(params![to_i64(limit as u64)], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        let events = rows.collect::<Result<Vec<_>, _>>()?;
        Ok(events)
    }

    /// Forget events handed to the broker.
    pub fn delete_events(&mut self, ids: &[i64]) -> Result<(), StoreError> {
        self.relaxed(|store| {
            let tx = store.conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached("DELETE FROM events WHERE id = ?1")?;
                for id in ids {
                    stmt.execute(params![id])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Number of cases recorded.
    pub fn case_count(&self) -> Result<u64, StoreError> {
        Ok(to_u64(self.conn.query_row(
            "SELECT COUNT(*) FROM cases",
            [],
            |r| r.get(0),
        )?))
    }

    /// Outbox rows not yet acked by the cloud.
    pub fn unacked_count(&self) -> Result<u64, StoreError> {
        Ok(to_u64(self.conn.query_row(
            "SELECT COUNT(*) FROM outbox",
            [],
            |r| r.get(0),
        )?))
    }

    /// Age in seconds of the oldest unacked row.
    pub fn oldest_unacked_age(&self) -> Result<Option<u64>, StoreError> {
        let oldest: Option<i64> =
            self.conn
                .query_row("SELECT MIN(created_at) FROM outbox", [], |r| r.get(0))?;
        Ok(oldest.map(|t| now_s().saturating_sub(to_u64(t))))
    }

    /// Up to `limit` unacked rows with seq above `after`, in seq order, with their blobs.
    pub fn unacked(&self, after: u64, limit: usize) -> Result<Vec<OutboxRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, payload, created_at FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![to_i64(after), to_i64(limit as u64)], |r| {
                Ok(OutboxRow {
                    seq: to_u64(r.get(0)?),
                    payload: r.get(1)?,
                    created_at: to_u64(r.get(2)?),
                    blobs: Vec::new(),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for mut row in rows {
            row.blobs = self.blobs_of(row.seq)?;
            out.push(row);
        }
        Ok(out)
    }

    /// The blobs of case `seq` with their progress.
    pub fn blobs_of(&self, seq: u64) -> Result<Vec<BlobState>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT cb.sha256, b.size, cb.role, COALESCE(p.next_chunk, 0), COALESCE(p.complete, 0),
                    COALESCE(p.started, 0)
             FROM case_blobs cb JOIN blobs b ON b.sha256 = cb.sha256
             LEFT JOIN blob_progress p ON p.sha256 = cb.sha256
             WHERE cb.seq = ?1 ORDER BY cb.ord",
        )?;
        let rows = stmt.query_map(params![to_i64(seq)], |r| {
            Ok(BlobState {
                sha256: r.get(0)?,
                size: to_u64(r.get(1)?),
                role: r.get(2)?,
                next_chunk: u32::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                complete: r.get::<_, i64>(4)? != 0,
                started: r.get::<_, i64>(5)? != 0,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Note that the transfer of these blobs started (not fsynced: if lost, a restarted transfer
    /// streams from its stored progress instead of asking the cloud first).
    pub fn mark_blobs_started(&mut self, shas: &[String]) -> Result<(), StoreError> {
        self.relaxed(|store| {
            let tx = store.conn.transaction()?;
            {
                let mut stmt =
                    tx.prepare_cached("UPDATE blob_progress SET started = 1 WHERE sha256 = ?1")?;
                for sha in shas {
                    stmt.execute(params![sha])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Note that rows were published (for the heartbeat and diagnostics; not for durability).
    pub fn mark_sent(&mut self, seqs: &[u64]) -> Result<(), StoreError> {
        self.relaxed(|store| store.mark_sent_inner(seqs))
    }

    /// Run `f` with `synchronous=NORMAL`: its commits are not fsynced (WAL stays consistent; a
    /// power cut may undo them). Only for bookkeeping whose loss is harmless: a lost ack or
    /// progress row means something is sent again and the cloud stores it once.
    fn relaxed<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.conn.execute_batch("PRAGMA synchronous=NORMAL")?;
        let result = f(self);
        let restored = self.conn.execute_batch("PRAGMA synchronous=FULL");
        let value = result?;
        restored?;
        Ok(value)
    }

    fn mark_sent_inner(&mut self, seqs: &[u64]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE outbox SET sent_at = ?2, send_count = send_count + 1 WHERE seq = ?1",
            )?;
            let now = to_i64(now_s());
            for &seq in seqs {
                stmt.execute(params![to_i64(seq), now])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The cloud stored these seqs: their outbox rows go. Returns how many rows left. (Not
    /// fsynced: should a power cut undo it, the rows are sent again and the cloud keeps one.)
    pub fn ack(&mut self, seqs: &[u64]) -> Result<usize, StoreError> {
        self.relaxed(|store| store.ack_inner(seqs))
    }

    fn ack_inner(&mut self, seqs: &[u64]) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let mut n = 0;
        {
            let mut stmt = tx.prepare_cached("DELETE FROM outbox WHERE seq = ?1")?;
            for &seq in seqs {
                n += stmt.execute(params![to_i64(seq)])?;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// Record the cloud's blob progress (it may go back when the cloud lost chunks). Not
    /// fsynced: progress lost to a power cut only means chunks are sent again.
    pub fn set_blob_progress(
        &mut self,
        sha256: &str,
        next_chunk: u32,
        complete: bool,
    ) -> Result<bool, StoreError> {
        self.relaxed(|store| {
            let n = store.conn.execute(
                "UPDATE blob_progress SET next_chunk = ?2, complete = ?3 WHERE sha256 = ?1",
                params![sha256, next_chunk, complete],
            )?;
            Ok(n > 0)
        })
    }

    /// The last decision seq applied (0 = none).
    pub fn decision_seq(&self) -> Result<u64, StoreError> {
        let seq: Option<i64> = self
            .conn
            .query_row("SELECT MAX(seq) FROM decisions", [], |r| r.get(0))?;
        Ok(seq.map(to_u64).unwrap_or(0))
    }

    /// A decision by seq.
    pub fn decision(&self, seq: u64) -> Result<Option<(u64, String)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT case_seq, outcome FROM decisions WHERE seq = ?1",
                params![to_i64(seq)],
                |r| Ok((to_u64(r.get(0)?), r.get(1)?)),
            )
            .optional()?)
    }

    /// Offer a verified decision: applied in seq order with no gaps. A decision ahead of a gap
    /// waits; a seq already applied with other content is refused as a rollback.
    pub fn offer_decision(
        &mut self,
        d: &Decision,
    ) -> Result<Result<DecisionOutcome, jachai_protocol::ProtocolError>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let last: u64 = tx
            .query_row("SELECT MAX(seq) FROM decisions", [], |r| {
                r.get::<_, Option<i64>>(0)
            })?
            .map(to_u64)
            .unwrap_or(0);
        if d.seq == 0 {
            return Ok(Err(jachai_protocol::ProtocolError::Malformed(
                "decision seq starts at 1".into(),
            )));
        }
        if d.seq <= last {
            let same: Option<(i64, String, i64)> = tx
                .query_row(
                    "SELECT case_seq, outcome, decided_at FROM decisions WHERE seq = ?1",
                    params![to_i64(d.seq)],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let outcome = outcome_text(d);
            let identical = same.is_some_and(|(case_seq, o, at)| {
                to_u64(case_seq) == d.case_seq && o == outcome && to_u64(at) == d.decided_at
            });
            return Ok(if identical {
                Ok(DecisionOutcome::Duplicate)
            } else {
                Err(jachai_protocol::ProtocolError::Rollback {
                    held: last,
                    got: d.seq,
                })
            });
        }
        if d.seq > last + 1 {
            tx.execute(
                "INSERT OR REPLACE INTO decisions_waiting (seq, body) VALUES (?1, ?2)",
                params![
                    to_i64(d.seq),
                    String::from_utf8_lossy(&encode(d)).into_owned()
                ],
            )?;
            tx.commit()?;
            return Ok(Ok(DecisionOutcome::Waiting {
                missing_from: last + 1,
            }));
        }
        let mut applied = vec![d.seq];
        insert_decision(&tx, d)?;
        let mut next = d.seq + 1;
        loop {
            let body: Option<String> = tx
                .query_row(
                    "SELECT body FROM decisions_waiting WHERE seq = ?1",
                    params![to_i64(next)],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(body) = body else { break };
            tx.execute(
                "DELETE FROM decisions_waiting WHERE seq = ?1",
                params![to_i64(next)],
            )?;
            if let Ok(waiting) = jachai_protocol::decode::<Decision>(body.as_bytes()) {
                insert_decision(&tx, &waiting)?;
                applied.push(next);
                next += 1;
            } else {
                break;
            }
        }
        tx.execute(
            "DELETE FROM decisions_waiting WHERE seq < ?1",
            params![to_i64(next)],
        )?;
        let missing: Option<i64> =
            tx.query_row("SELECT MIN(seq) FROM decisions_waiting", [], |r| r.get(0))?;
        tx.commit()?;
        if missing.is_some() {
            return Ok(Ok(DecisionOutcome::Waiting { missing_from: next }));
        }
        Ok(Ok(DecisionOutcome::Applied(applied)))
    }

    /// The first decision seq missing while later ones wait, if any.
    pub fn decision_gap(&self) -> Result<Option<u64>, StoreError> {
        let waiting: Option<i64> =
            self.conn
                .query_row("SELECT MIN(seq) FROM decisions_waiting", [], |r| r.get(0))?;
        Ok(match waiting {
            Some(_) => Some(self.decision_seq()? + 1),
            None => None,
        })
    }

    /// The newest stolen-index head accepted: (version, signed_at).
    pub fn stolen_head(&self) -> Result<Option<(u64, u64)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT head_version, head_signed_at FROM stolen_state WHERE id = 1",
                [],
                |r| Ok((to_u64(r.get(0)?), to_u64(r.get(1)?))),
            )
            .optional()?)
    }

    /// Remember an accepted head.
    pub fn set_stolen_head(&mut self, version: u64, signed_at: u64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO stolen_state (id, head_version, head_signed_at) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET head_version = ?1, head_signed_at = ?2",
            params![to_i64(version), to_i64(signed_at)],
        )?;
        Ok(())
    }

    /// Keep a verified snapshot part until all parts are in; returns the parts of `version` held.
    pub fn put_snapshot_part(
        &mut self,
        version: u64,
        part: u32,
        parts: u32,
        body: &[u8],
    ) -> Result<u32, StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM stolen_snapshot_parts WHERE version <> ?1",
            params![to_i64(version)],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO stolen_snapshot_parts (version, part, parts, body)
             VALUES (?1, ?2, ?3, ?4)",
            params![to_i64(version), part, parts, body],
        )?;
        let held: i64 = tx.query_row(
            "SELECT COUNT(*) FROM stolen_snapshot_parts WHERE version = ?1 AND parts = ?2",
            params![to_i64(version), parts],
            |r| r.get(0),
        )?;
        tx.commit()?;
        Ok(u32::try_from(held).unwrap_or(0))
    }

    /// The stored parts of a snapshot, in part order.
    pub fn snapshot_parts(&self, version: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT body FROM stolen_snapshot_parts WHERE version = ?1 ORDER BY part")?;
        let rows = stmt.query_map(params![to_i64(version)], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Forget staged snapshot parts.
    pub fn clear_snapshot_parts(&mut self) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM stolen_snapshot_parts", [])?;
        Ok(())
    }
}

fn outcome_text(d: &Decision) -> &'static str {
    match d.outcome {
        jachai_protocol::DecisionOutcome::Approved => "approved",
        jachai_protocol::DecisionOutcome::Rejected => "rejected",
    }
}

fn insert_decision(tx: &rusqlite::Transaction<'_>, d: &Decision) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO decisions (seq, case_seq, case_id, outcome, note, decided_at, applied_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            to_i64(d.seq),
            to_i64(d.case_seq),
            d.case_id,
            outcome_text(d),
            d.note,
            to_i64(d.decided_at),
            to_i64(now_s())
        ],
    )?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let supported = MIGRATIONS.len() as i64;
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
    }
    tx.commit()?;
    Ok(())
}
