//! Uplink ingest: a batch of MQTT messages in, database writes in one transaction, then the downlink
//! messages to publish (acks first of all). Nothing here talks MQTT: [`crate::service`] feeds batches in and
//! publishes what comes out, only after this returns — that is, after the commit.
//!
//! Idempotent by construction: a case is keyed by (kiosk, seq) and inserted with `ON CONFLICT DO NOTHING`;
//! a chunk by (sha256, index); a blob by its SHA-256. A message seen twice is stored once and acked twice.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bytes::Bytes;
use jachai_protocol::blob::{self, BlobJson, BlobMsg};
use jachai_protocol::envelope::{
    self, Ack, BlobAck, CaseMsg, DownMsg, EventMsg, Status, StatusMsg, UpCase,
};
use jachai_protocol::sign::Signer;
use jachai_protocol::{KioskId, ProtocolError, Topic};
use sqlx::{Any, Row, Transaction};

use crate::objects::{sha256_hex, ObjectError, Objects};
use crate::stolen::Stolen;
use crate::store::{now, Ctx, Store, StoreError};

/// One message as it came off the broker.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub topic: String,
    pub payload: Bytes,
}

/// One message to publish (QoS 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub topic: String,
    pub payload: Vec<u8>,
    pub retain: bool,
}

impl Outgoing {
    pub fn to(topic: Topic, payload: Vec<u8>) -> Outgoing {
        Outgoing {
            topic: topic.name(),
            payload,
            retain: false,
        }
    }
}

/// Why a batch could not be stored (the service retries it; nothing was acked).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Objects(#[from] ObjectError),
    #[error("stolen index: {0}")]
    Stolen(String),
    #[error("a worker task failed: {0}")]
    Task(String),
}

/// What one batch did, for logs, metrics and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchStats {
    pub cases_new: u64,
    pub cases_duplicate: u64,
    pub cases_conflicting: u64,
    pub chunks: u64,
    pub blobs_stored: u64,
    pub rejected: u64,
}

/// A message read off an uplink topic.
#[derive(Debug)]
enum Parsed {
    Case(KioskId, Box<CaseMsg>),
    BlobInit(KioskId, blob::BlobInit),
    BlobFinish(KioskId, blob::BlobFinish),
    Chunk(KioskId, blob::BlobChunk),
    Event(KioskId, EventMsg),
    Status(KioskId, Status),
}

fn parse(msg: &Incoming) -> Result<Parsed, (Option<KioskId>, ProtocolError)> {
    let topic = Topic::parse(&msg.topic).map_err(|e| (None, e))?;
    let p = &msg.payload[..];
    match topic {
        Topic::UpCase(k) => match envelope::decode::<UpCase>(p) {
            Ok(UpCase::Case(c)) => Ok(Parsed::Case(k, Box::new(c))),
            Err(e) => Err((Some(k), e)),
        },
        Topic::UpBlob(k) => match blob::decode(p) {
            Ok(BlobMsg::Json(BlobJson::BlobInit(i))) => Ok(Parsed::BlobInit(k, i)),
            Ok(BlobMsg::Json(BlobJson::BlobFinish(f))) => Ok(Parsed::BlobFinish(k, f)),
            Ok(BlobMsg::Chunk(c)) => Ok(Parsed::Chunk(k, c)),
            Err(e) => Err((Some(k), e)),
        },
        Topic::UpEvent(k) => match envelope::decode::<EventMsg>(p) {
            Ok(e) => Ok(Parsed::Event(k, e)),
            Err(e) => Err((Some(k), e)),
        },
        Topic::Status(k) => match envelope::decode::<StatusMsg>(p) {
            Ok(StatusMsg::Status(s)) => Ok(Parsed::Status(k, s)),
            Err(e) => Err((Some(k), e)),
        },
        other => Err((
            other.kiosk().cloned(),
            ProtocolError::Malformed(format!("the cloud does not consume {}", other.name())),
        )),
    }
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A blob the batch touched: which kiosk to answer, how many chunks it has, and whether the kiosk asked
/// where it stands (an init or a finish). Chunks alone get an answer only once the blob is complete, so a
/// kiosk does not write a progress row for every chunk.
#[derive(Debug, Clone)]
struct Touched {
    kiosk: KioskId,
    count: u32,
    asked: bool,
}

/// The ingest side of the cloud: store, objects, signing key, stolen index.
#[derive(Debug, Clone)]
pub struct Ingest {
    store: Store,
    objects: Objects,
    signer: Arc<Signer>,
    stolen: Stolen,
}

impl Ingest {
    pub fn new(store: Store, objects: Objects, signer: Arc<Signer>) -> Ingest {
        let stolen = Stolen::new(store.clone(), Arc::clone(&signer));
        Ingest {
            store,
            objects,
            signer,
            stolen,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn objects(&self) -> &Objects {
        &self.objects
    }

    pub fn signer(&self) -> &Arc<Signer> {
        &self.signer
    }

    pub fn stolen(&self) -> &Stolen {
        &self.stolen
    }

    /// Stores a batch in one transaction and returns what to publish once it is committed.
    pub async fn handle_batch(
        &self,
        batch: &[Incoming],
    ) -> Result<(Vec<Outgoing>, BatchStats), IngestError> {
        let mut stats = BatchStats::default();
        let mut parsed = Vec::with_capacity(batch.len());
        let mut rejected = Vec::new();
        for msg in batch {
            match parse(msg) {
                Ok(p) => parsed.push(p),
                Err((kiosk, e)) => {
                    tracing::warn!(topic = %msg.topic, kiosk = kiosk.as_ref().map(KioskId::as_str), code = e.code(), error = %e, "refused an uplink message");
                    rejected.push((kiosk, msg.topic.clone(), e, msg.payload.len()));
                }
            }
        }

        // Chunk bytes go to the object store first (concurrently); their rows commit with the batch.
        let mut checked: BTreeMap<String, bool> = BTreeMap::new();
        let mut puts = tokio::task::JoinSet::new();
        for p in &parsed {
            if let Parsed::Chunk(_, c) = p {
                let hex = jachai_protocol::hex::encode(&c.sha256);
                let stored = match checked.get(&hex) {
                    Some(&stored) => stored,
                    None => {
                        let stored = self.blob_stored(&hex).await?;
                        checked.insert(hex.clone(), stored);
                        stored
                    }
                };
                if !stored {
                    let objects = self.objects.clone();
                    let (index, data) = (c.index, Bytes::copy_from_slice(&c.data));
                    puts.spawn(async move { objects.put_chunk(&hex, index, data).await });
                }
            }
        }
        while let Some(r) = puts.join_next().await {
            r.map_err(|e| IngestError::Task(e.to_string()))??;
        }
        let complete: BTreeSet<String> = checked
            .into_iter()
            .filter(|(_, stored)| *stored)
            .map(|(h, _)| h)
            .collect();

        let mut acks: BTreeMap<KioskId, Vec<u64>> = BTreeMap::new();
        let mut touched: BTreeMap<String, Touched> = BTreeMap::new();
        let mut out = Vec::new();
        let mut requests = Vec::new();
        let received_at = now();
        let mut tx = self.store.begin().await?;
        for p in parsed {
            match p {
                Parsed::Case(k, c) => {
                    match insert_case(&mut tx, &k, &c, received_at).await? {
                        CaseOutcome::New => stats.cases_new += 1,
                        CaseOutcome::Duplicate => stats.cases_duplicate += 1,
                        CaseOutcome::Conflict => stats.cases_conflicting += 1,
                    }
                    acks.entry(k).or_default().push(c.seq);
                }
                Parsed::Chunk(k, c) => {
                    let hex = jachai_protocol::hex::encode(&c.sha256);
                    if !complete.contains(&hex) {
                        sqlx::query(
                            "INSERT INTO blob_chunks (sha256, idx, chunk_count, len) VALUES ($1, $2, $3, $4) \
                             ON CONFLICT (sha256, idx) DO NOTHING",
                        )
                        .bind(&hex)
                        .bind(i64::from(c.index))
                        .bind(i64::from(c.count))
                        .bind(i64::try_from(c.data.len()).unwrap_or(i64::MAX))
                        .execute(&mut *tx)
                        .await
                        .ctx("storing a chunk")?;
                    }
                    stats.chunks += 1;
                    let asked = touched.get(&hex).is_some_and(|t| t.asked);
                    touched.insert(
                        hex,
                        Touched {
                            kiosk: k,
                            count: c.count,
                            asked,
                        },
                    );
                }
                Parsed::BlobInit(k, i) => {
                    touched.insert(
                        i.sha256.clone(),
                        Touched {
                            kiosk: k,
                            count: i.chunks,
                            asked: true,
                        },
                    );
                }
                Parsed::BlobFinish(k, f) => {
                    touched.insert(
                        f.sha256.clone(),
                        Touched {
                            kiosk: k,
                            count: f.chunks,
                            asked: true,
                        },
                    );
                }
                Parsed::Status(k, s) => {
                    let state = match s.state {
                        envelope::StatusState::Online => "online",
                        envelope::StatusState::Offline => "offline",
                    };
                    sqlx::query(
                        "INSERT INTO kiosks (kiosk, state, last_seen, backlog, index_version, decision_seq, app_version) \
                         VALUES ($1, $2, $3, 0, 0, 0, $4) \
                         ON CONFLICT (kiosk) DO UPDATE SET state = excluded.state, last_seen = excluded.last_seen, \
                         app_version = excluded.app_version",
                    )
                    .bind(k.as_str())
                    .bind(state)
                    .bind(received_at)
                    .bind(&s.app_version)
                    .execute(&mut *tx)
                    .await
                    .ctx("storing a status")?;
                }
                Parsed::Event(k, e) => match e {
                    EventMsg::Heartbeat(h) => {
                        sqlx::query(
                            "INSERT INTO kiosks (kiosk, state, last_seen, backlog, index_version, decision_seq, app_version) \
                             VALUES ($1, 'online', $2, $3, $4, $5, $6) \
                             ON CONFLICT (kiosk) DO UPDATE SET state = 'online', last_seen = excluded.last_seen, \
                             backlog = excluded.backlog, index_version = excluded.index_version, \
                             decision_seq = excluded.decision_seq, app_version = excluded.app_version",
                        )
                        .bind(k.as_str())
                        .bind(received_at)
                        .bind(i64_of(h.backlog))
                        .bind(i64_of(h.index_version))
                        .bind(i64_of(h.decision_seq))
                        .bind(&h.app_version)
                        .execute(&mut *tx)
                        .await
                        .ctx("storing a heartbeat")?;
                        // A kiosk behind on decisions gets the missing ones again.
                        requests.push((k, Request::DecisionsAfter(h.decision_seq)));
                    }
                    EventMsg::LookupHit(hit) => {
                        let body = serde_json::to_string(&hit).unwrap_or_default();
                        insert_event(&mut tx, &k, hit.at, "lookup_hit", &body, received_at).await?;
                    }
                    EventMsg::Refused(r) => {
                        tracing::warn!(kiosk = %k, topic = %r.topic, code = %r.code, detail = %r.detail, "a kiosk refused a downlink message");
                        let body = serde_json::to_string(&r).unwrap_or_default();
                        insert_event(&mut tx, &k, r.at, "refused", &body, received_at).await?;
                    }
                    EventMsg::StolenRequest(r) => requests.push((k, Request::Stolen(r))),
                    EventMsg::DecisionRequest(r) => {
                        requests.push((k, Request::DecisionsAfter(r.from_seq.saturating_sub(1))));
                    }
                },
            }
        }
        for (kiosk, topic, e, size) in &rejected {
            sqlx::query("INSERT INTO rejected (kiosk, topic, error, size, received_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(kiosk.as_ref().map(KioskId::as_str).unwrap_or(""))
                .bind(topic)
                .bind(e.to_string())
                .bind(i64::try_from(*size).unwrap_or(i64::MAX))
                .bind(received_at)
                .execute(&mut *tx)
                .await
                .ctx("recording a refused message")?;
            stats.rejected += 1;
        }
        tx.commit().await.ctx("committing a batch")?;

        // Committed: now the acks may go out.
        for (kiosk, seqs) in acks {
            out.push(Outgoing::to(
                Topic::DownAck(kiosk),
                envelope::encode(&DownMsg::Ack(Ack { seqs })),
            ));
        }
        out.extend(self.blob_progress(touched, &mut stats).await?);
        for (kiosk, req) in requests {
            match req {
                Request::DecisionsAfter(seq) => {
                    out.extend(self.decisions_after(&kiosk, seq).await?)
                }
                Request::Stolen(r) => out.extend(self.stolen.answer(&kiosk, &r).await?),
            }
        }
        Ok((out, stats))
    }

    async fn blob_stored(&self, sha: &str) -> Result<bool, StoreError> {
        let found: Option<String> =
            sqlx::query_scalar("SELECT sha256 FROM blobs WHERE sha256 = $1")
                .bind(sha)
                .fetch_optional(self.store.pool())
                .await
                .ctx("looking a blob up")?;
        Ok(found.is_some())
    }

    /// Where each touched blob stands. Blobs whose chunks are all staged are assembled, checked against
    /// their SHA-256 and put; their rows then commit together in one transaction. Returns the blob acks:
    /// every complete blob, and where the others stand when the kiosk asked (an init or a finish).
    async fn blob_progress(
        &self,
        touched: BTreeMap<String, Touched>,
        stats: &mut BatchStats,
    ) -> Result<Vec<Outgoing>, IngestError> {
        let mut acks = Vec::new();
        let mut stored_now: Vec<(String, u32, i64, KioskId)> = Vec::new();
        let mut bad: Vec<(String, u32, KioskId)> = Vec::new();
        for (sha, t) in touched {
            let count = t.count.max(1);
            if self.blob_stored(&sha).await? {
                acks.push((
                    t.kiosk,
                    BlobAck {
                        sha256: sha,
                        next_chunk: count,
                        complete: true,
                    },
                ));
                continue;
            }
            let rows = sqlx::query("SELECT idx FROM blob_chunks WHERE sha256 = $1")
                .bind(&sha)
                .fetch_all(self.store.pool())
                .await
                .ctx("listing chunks")?;
            let mut have = BTreeSet::new();
            for r in &rows {
                let idx: i64 = r.try_get(0).ctx("reading a chunk index")?;
                have.insert(idx);
            }
            if let Some(next) = (0..i64::from(count)).find(|i| !have.contains(i)) {
                if t.asked {
                    let next_chunk = u32::try_from(next).unwrap_or(0);
                    acks.push((
                        t.kiosk,
                        BlobAck {
                            sha256: sha,
                            next_chunk,
                            complete: false,
                        },
                    ));
                }
                continue;
            }
            let bytes = self.objects.assemble(&sha, count).await?;
            let got = sha256_hex(&bytes);
            if got != sha {
                tracing::error!(sha256 = %sha, computed = %got, "assembled blob does not match its SHA-256; dropping its chunks");
                bad.push((sha, count, t.kiosk));
                continue;
            }
            let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
            self.objects.put_blob(&sha, bytes).await?;
            stored_now.push((sha, count, size, t.kiosk));
        }
        if !stored_now.is_empty() || !bad.is_empty() {
            let mut tx = self.store.begin().await?;
            let at = now();
            for (sha, _, size, _) in &stored_now {
                sqlx::query(
                    "INSERT INTO blobs (sha256, size, stored_at) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING",
                )
                .bind(sha)
                .bind(*size)
                .bind(at)
                .execute(&mut *tx)
                .await
                .ctx("storing a blob")?;
            }
            for sha in stored_now
                .iter()
                .map(|b| &b.0)
                .chain(bad.iter().map(|b| &b.0))
            {
                sqlx::query("DELETE FROM blob_chunks WHERE sha256 = $1")
                    .bind(sha)
                    .execute(&mut *tx)
                    .await
                    .ctx("dropping chunks")?;
            }
            tx.commit().await.ctx("committing blobs")?;
        }
        for (sha, count, _, kiosk) in stored_now {
            self.objects.drop_chunks(&sha, count).await?;
            stats.blobs_stored += 1;
            acks.push((
                kiosk,
                BlobAck {
                    sha256: sha,
                    next_chunk: count,
                    complete: true,
                },
            ));
        }
        for (sha, count, kiosk) in bad {
            self.objects.drop_chunks(&sha, count).await?;
            acks.push((
                kiosk,
                BlobAck {
                    sha256: sha,
                    next_chunk: 0,
                    complete: false,
                },
            ));
        }
        Ok(acks
            .into_iter()
            .map(|(kiosk, ack)| {
                Outgoing::to(
                    Topic::DownAck(kiosk),
                    envelope::encode(&DownMsg::BlobAck(ack)),
                )
            })
            .collect())
    }

    /// The signed decisions for `kiosk` after `seq`, as stored.
    async fn decisions_after(
        &self,
        kiosk: &KioskId,
        seq: u64,
    ) -> Result<Vec<Outgoing>, StoreError> {
        let rows =
            sqlx::query("SELECT signed FROM decisions WHERE kiosk = $1 AND seq > $2 ORDER BY seq")
                .bind(kiosk.as_str())
                .bind(i64_of(seq))
                .fetch_all(self.store.pool())
                .await
                .ctx("listing decisions")?;
        rows.iter()
            .map(|r| {
                let signed: String = r.try_get(0).ctx("reading a decision")?;
                Ok(Outgoing::to(
                    Topic::DownDecision(kiosk.clone()),
                    signed.into_bytes(),
                ))
            })
            .collect()
    }
}

#[derive(Debug)]
enum Request {
    DecisionsAfter(u64),
    Stolen(envelope::StolenRequest),
}

enum CaseOutcome {
    New,
    Duplicate,
    Conflict,
}

async fn insert_case(
    tx: &mut Transaction<'static, Any>,
    kiosk: &KioskId,
    c: &CaseMsg,
    received_at: i64,
) -> Result<CaseOutcome, StoreError> {
    let claims = serde_json::to_string(&c.claims).unwrap_or_default();
    let report = serde_json::to_string(&c.report).unwrap_or_default();
    let inserted = sqlx::query(
        "INSERT INTO cases (kiosk, seq, case_id, kind, created_at, verdict, risk, claims, report, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (kiosk, seq) DO NOTHING",
    )
    .bind(kiosk.as_str())
    .bind(i64_of(c.seq))
    .bind(&c.case_id)
    .bind(&c.kind)
    .bind(i64_of(c.created_at))
    .bind(c.verdict.clone())
    .bind(c.risk.map(i64::from))
    .bind(&claims)
    .bind(&report)
    .bind(received_at)
    .execute(&mut **tx)
    .await
    .ctx("storing a case")?
    .rows_affected();
    if inserted == 0 {
        let stored: String =
            sqlx::query_scalar("SELECT case_id FROM cases WHERE kiosk = $1 AND seq = $2")
                .bind(kiosk.as_str())
                .bind(i64_of(c.seq))
                .fetch_one(&mut **tx)
                .await
                .ctx("reading a stored case")?;
        if stored == c.case_id {
            return Ok(CaseOutcome::Duplicate);
        }
        tracing::error!(kiosk = %kiosk, seq = c.seq, stored = %stored, got = %c.case_id, "a kiosk reused a seq for another case; kept in case_conflicts");
        let body =
            String::from_utf8(envelope::encode(&UpCase::Case(c.clone()))).unwrap_or_default();
        sqlx::query(
            "INSERT INTO case_conflicts (kiosk, seq, case_id, body, received_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (kiosk, seq, case_id) DO NOTHING",
        )
        .bind(kiosk.as_str())
        .bind(i64_of(c.seq))
        .bind(&c.case_id)
        .bind(&body)
        .bind(received_at)
        .execute(&mut **tx)
        .await
        .ctx("storing a conflicting case")?;
        return Ok(CaseOutcome::Conflict);
    }
    for b in &c.blobs {
        sqlx::query(
            "INSERT INTO case_blobs (kiosk, seq, sha256, role, size) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (kiosk, seq, sha256, role) DO NOTHING",
        )
        .bind(kiosk.as_str())
        .bind(i64_of(c.seq))
        .bind(&b.sha256)
        .bind(&b.role)
        .bind(i64_of(b.size))
        .execute(&mut **tx)
        .await
        .ctx("storing a case's blob reference")?;
    }
    Ok(CaseOutcome::New)
}

async fn insert_event(
    tx: &mut Transaction<'static, Any>,
    kiosk: &KioskId,
    at: u64,
    kind: &str,
    body: &str,
    received_at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO events (kiosk, at, kind, body, received_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(kiosk.as_str())
    .bind(i64_of(at))
    .bind(kind)
    .bind(body)
    .bind(received_at)
    .execute(&mut **tx)
    .await
    .ctx("storing an event")?;
    Ok(())
}
