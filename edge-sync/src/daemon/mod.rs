//! The MQTT store-and-forward loop behind `jachai-sync`.
//!
//! Two tasks, kept apart as `research/sync.md` advises: the *poller* owns rumqttc's event loop,
//! reconnects with exponential backoff and jitter, and forwards what arrives over an unbounded
//! channel; the *main loop* owns the store, decides what to publish with non-blocking
//! `try_publish` (so it can never deadlock against the poller), handles downlink messages, sends
//! heartbeats and pings the systemd watchdog from inside its `select!`.
//!
//! Durability: the SQLite outbox is the truth. Neither rumqttc's in-RAM session nor the broker's
//! is trusted; after every (re)connect every unacked row is sent again, and a row leaves the
//! outbox only when the cloud's application-level ack names it. A case is published once each of
//! its blobs has been acked complete; blobs go in ≤ 64 KiB chunks from the last chunk the cloud
//! acked, so a restart resumes a transfer. A flight with no ack for `resend_after` is sent again.

mod plan;
pub mod tls;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use jachai_protocol::blob::{self, BlobFinish, BlobInit, BlobJson};
use jachai_protocol::sign::TrustedKeys;
use jachai_protocol::stolen::{check_snapshot, plan_head, HeadPlan};
use jachai_protocol::{
    decode, encode, DecisionRequest, DownMsg, EventMsg, Heartbeat, KioskId, ProtocolError, Refused,
    SignedBody, Status, StatusMsg, StatusState, StolenRequest, Topic,
};
use rumqttc::{AsyncClient, Event, EventLoop, LastWill, MqttOptions, Packet, QoS};
use tokio::sync::mpsc;

use crate::index::{IndexError, LoadMode, SnapshotBuilder, StolenIndex};
use crate::store::{DecisionOutcome, Store, StoreOptions};

pub use plan::Backoff;

/// Where the broker's TLS files are (PEM).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// CA certificate(s) the broker's certificate must chain to.
    pub ca: PathBuf,
    /// This kiosk's client certificate (CN = kiosk id).
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
}

/// Everything the daemon needs.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// This kiosk.
    pub kiosk: KioskId,
    /// SQLite file.
    pub db: PathBuf,
    /// Blob directory.
    pub blobs: PathBuf,
    /// Stolen-index directory.
    pub index_dir: PathBuf,
    /// Broker host.
    pub broker_host: String,
    /// Broker port.
    pub broker_port: u16,
    /// mTLS files; `None` = plain TCP (tests on a local broker only).
    pub tls: Option<TlsFiles>,
    /// Keys downlink messages must be signed with.
    pub trusted: TrustedKeys,
    /// Heartbeat period.
    pub heartbeat: Duration,
    /// MQTT keep-alive (half-open connections are noticed within ~1.5× this).
    pub keep_alive: Duration,
    /// Most cases in flight (sent, not yet acked).
    pub window: usize,
    /// Send a flight again when nothing about it was acked for this long.
    pub resend_after: Duration,
    /// Ask again for stolen-index data or missing decisions when a request got no answer for
    /// this long (checked at each heartbeat).
    pub rerequest_after: Duration,
    /// Reconnect backoff bounds.
    pub backoff_min: Duration,
    /// See `backoff_min`.
    pub backoff_max: Duration,
    /// Store options (orphan grace).
    pub store: StoreOptions,
    /// Reported in heartbeats and status.
    pub app_version: String,
}

impl SyncConfig {
    /// Defaults for everything but where and who.
    pub fn new(
        kiosk: KioskId,
        db: PathBuf,
        blobs: PathBuf,
        broker_host: String,
        broker_port: u16,
    ) -> Self {
        let index_dir = db
            .parent()
            .map(|p| p.join("stolen"))
            .unwrap_or_else(|| PathBuf::from("stolen"));
        Self {
            kiosk,
            db,
            blobs,
            index_dir,
            broker_host,
            broker_port,
            tls: None,
            trusted: TrustedKeys::new(),
            heartbeat: Duration::from_secs(60),
            keep_alive: Duration::from_secs(20),
            window: 64,
            resend_after: Duration::from_secs(10),
            rerequest_after: Duration::from_secs(120),
            backoff_min: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            store: StoreOptions::default(),
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// Largest packet the kiosk accepts (snapshot parts) and sends (a 64 KiB chunk + header).
pub const MAX_INCOMING_PACKET: usize = 4 << 20;
/// See [`MAX_INCOMING_PACKET`].
pub const MAX_OUTGOING_PACKET: usize = 256 << 10;

enum Net {
    Connected { session_present: bool },
    Message { topic: String, payload: Vec<u8> },
    Disconnected(String),
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// One blob of a flight.
#[derive(Debug)]
struct BlobFlight {
    sha256: String,
    raw_sha: [u8; 32],
    size: u64,
    role: String,
    chunks: u32,
    /// The cloud has chunks below this.
    acked: u32,
    complete: bool,
    /// Next chunk to publish in this round (`None`: not streaming yet).
    next: Option<u32>,
    /// The init of this round was published.
    init_sent: bool,
    finish_sent: bool,
    /// The transfer started before (this run or an earlier one): ask the cloud where it stands
    /// (the answer to the init) before streaming, unless a chunk ack already says.
    started: bool,
}

/// A case in flight.
#[derive(Debug)]
struct Flight {
    seq: u64,
    payload: Vec<u8>,
    blobs: Vec<BlobFlight>,
    data: BTreeMap<String, Arc<Vec<u8>>>,
    case_sent: bool,
    last_activity: Instant,
}

impl Flight {
    fn reset(&mut self) {
        for b in &mut self.blobs {
            b.next = None;
            b.init_sent = false;
            b.finish_sent = false;
        }
        self.case_sent = false;
        self.last_activity = Instant::now();
    }
}

struct Daemon {
    cfg: SyncConfig,
    store: Store,
    index: StolenIndex,
    client: AsyncClient,
    connected: bool,
    window: BTreeMap<u64, Flight>,
    loaded_through: u64,
    /// The last stolen-index request not yet satisfied: (want, snapshot, last activity).
    stolen_request: Option<(u64, bool, Instant)>,
    /// When decisions were last asked for because of a gap.
    decision_request_at: Option<Instant>,
}

/// Run the daemon until `shutdown` completes; then publish `offline`, disconnect cleanly and
/// return. Errors only for start-up failures (store, TLS files); network trouble is retried.
pub async fn run(cfg: SyncConfig, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let store = Store::open_with(&cfg.db, &cfg.blobs, &cfg.store)
        .with_context(|| format!("opening the store {}", cfg.db.display()))?;
    let index = open_index(&cfg.index_dir)?;
    let mut opts = MqttOptions::new(cfg.kiosk.as_str(), cfg.broker_host.clone(), cfg.broker_port);
    opts.set_keep_alive(cfg.keep_alive);
    opts.set_clean_session(false);
    opts.set_max_packet_size(MAX_INCOMING_PACKET, MAX_OUTGOING_PACKET);
    opts.set_inflight(100);
    let offline = Status {
        state: StatusState::Offline,
        app_version: cfg.app_version.clone(),
    };
    opts.set_last_will(LastWill::new(
        Topic::Status(cfg.kiosk.clone()).name(),
        encode(&StatusMsg::Status(offline.clone())),
        QoS::AtLeastOnce,
        true,
    ));
    if let Some(files) = &cfg.tls {
        opts.set_transport(tls::transport(files)?);
    }
    let (client, eventloop) = AsyncClient::new(opts, 1024);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let stop = Arc::new(AtomicBool::new(false));
    let poller = tokio::spawn(poll(
        eventloop,
        tx,
        Backoff::new(cfg.backoff_min, cfg.backoff_max),
        stop.clone(),
    ));
    let mut d = Daemon {
        cfg,
        store,
        index,
        client,
        connected: false,
        window: BTreeMap::new(),
        loaded_through: 0,
        stolen_request: None,
        decision_request_at: None,
    };
    tracing::info!(kiosk = %d.cfg.kiosk, backlog = d.store.unacked_count()?, index_version = d.index.held().version, "jachai-sync started");
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
    let mut watchdog_usec = 0u64;
    let watchdog = if sd_notify::watchdog_enabled(false, &mut watchdog_usec) {
        Duration::from_micros(watchdog_usec / 2).max(Duration::from_millis(100))
    } else {
        Duration::from_secs(3600)
    };
    let mut watchdog_tick = tokio::time::interval(watchdog);
    let mut heartbeat = tokio::time::interval(d.cfg.heartbeat);
    let mut pump = tokio::time::interval(Duration::from_millis(50));
    pump.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            msg = rx.recv() => match msg {
                Some(Net::Connected { session_present }) => d.on_connected(session_present)?,
                Some(Net::Message { topic, payload }) => d.on_message(&topic, &payload)?,
                Some(Net::Disconnected(why)) => {
                    if d.connected {
                        tracing::warn!(%why, "disconnected from the broker");
                    } else {
                        tracing::debug!(%why, "broker still unreachable");
                    }
                    d.connected = false;
                }
                None => anyhow::bail!("the MQTT poller stopped"),
            },
            _ = heartbeat.tick() => d.heartbeat()?,
            _ = watchdog_tick.tick() => {
                let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
            }
            _ = pump.tick() => {}
        }
        d.pump()?;
    }
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
    tracing::info!("shutting down");
    if d.connected {
        let _ = d.client.try_publish(
            Topic::Status(d.cfg.kiosk.clone()).name(),
            QoS::AtLeastOnce,
            true,
            encode(&StatusMsg::Status(offline.clone())),
        );
    }
    stop.store(true, Ordering::SeqCst);
    let _ = d.client.try_disconnect();
    if tokio::time::timeout(Duration::from_secs(3), poller)
        .await
        .is_err()
    {
        tracing::warn!("the MQTT connection did not close within 3 s");
    }
    Ok(())
}

/// Open the stolen index; a damaged one is moved aside (kept for inspection) and the kiosk starts
/// from the empty index, which makes the next head ask for a snapshot.
fn open_index(dir: &std::path::Path) -> anyhow::Result<StolenIndex> {
    match StolenIndex::open(dir, LoadMode::File) {
        Err(IndexError::Corrupt { path, why }) => {
            let aside = dir.with_extension(format!("corrupt-{}", now_s()));
            tracing::error!(path = %path.display(), %why, aside = %aside.display(), "stolen index damaged; moving it aside and starting empty");
            std::fs::rename(dir, &aside)
                .with_context(|| format!("moving {} aside", dir.display()))?;
            Ok(StolenIndex::open(dir, LoadMode::File)?)
        }
        other => other.with_context(|| format!("opening the stolen index {}", dir.display())),
    }
}

async fn poll(
    mut eventloop: EventLoop,
    tx: mpsc::UnboundedSender<Net>,
    mut backoff: Backoff,
    stop: Arc<AtomicBool>,
) {
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                backoff.reset();
                if tx
                    .send(Net::Connected {
                        session_present: ack.session_present,
                    })
                    .is_err()
                {
                    return;
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                let msg = Net::Message {
                    topic: p.topic,
                    payload: p.payload.to_vec(),
                };
                if tx.send(msg).is_err() {
                    return;
                }
            }
            Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) if stop.load(Ordering::SeqCst) => {
                return
            }
            Ok(_) => {}
            Err(err) => {
                if stop.load(Ordering::SeqCst)
                    || tx.send(Net::Disconnected(err.to_string())).is_err()
                {
                    return;
                }
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }
}

impl Daemon {
    fn publish(&self, topic: Topic, retain: bool, payload: Vec<u8>) -> bool {
        match self
            .client
            .try_publish(topic.name(), QoS::AtLeastOnce, retain, payload)
        {
            Ok(()) => true,
            Err(err) => {
                tracing::trace!(%err, "request queue full; publishing later");
                false
            }
        }
    }

    fn on_connected(&mut self, session_present: bool) -> anyhow::Result<()> {
        self.connected = true;
        tracing::info!(session_present, "connected to the broker");
        let kiosk = &self.cfg.kiosk;
        for filter in [
            jachai_protocol::topic::kiosk_downlink_filter(kiosk),
            jachai_protocol::topic::STOLEN_HEAD.to_owned(),
        ] {
            if let Err(err) = self.client.try_subscribe(filter, QoS::AtLeastOnce) {
                tracing::warn!(%err, "could not queue a subscription");
            }
        }
        let online = Status {
            state: StatusState::Online,
            app_version: self.cfg.app_version.clone(),
        };
        self.publish(
            Topic::Status(kiosk.clone()),
            true,
            encode(&StatusMsg::Status(online)),
        );
        // Whatever was in flight may or may not have arrived: send it all again.
        for flight in self.window.values_mut() {
            flight.reset();
        }
        if let Some(from_seq) = self.store.decision_gap()? {
            self.decision_request_at = Some(Instant::now());
            self.event(&EventMsg::DecisionRequest(DecisionRequest { from_seq }));
        }
        self.heartbeat()
    }

    fn event(&self, msg: &EventMsg) -> bool {
        self.connected && self.publish(Topic::UpEvent(self.cfg.kiosk.clone()), false, encode(msg))
    }

    fn heartbeat(&mut self) -> anyhow::Result<()> {
        if !self.connected {
            return Ok(());
        }
        let hb = Heartbeat {
            at: now_s(),
            backlog: self.store.unacked_count()?,
            oldest_unacked_age_s: self.store.oldest_unacked_age()?,
            index_version: self.index.held().version,
            decision_seq: self.store.decision_seq()?,
            app_version: self.cfg.app_version.clone(),
        };
        self.event(&EventMsg::Heartbeat(hb));
        self.rerequest()
    }

    /// Requests that got no answer in time are sent again (the cloud may have been down or the
    /// answer lost with a broker restart).
    fn rerequest(&mut self) -> anyhow::Result<()> {
        let after = self.cfg.rerequest_after;
        let late = move |at: Instant| at.elapsed() >= after;
        if let Some((want, snapshot, at)) = self.stolen_request {
            if self.index.held().version >= want {
                self.stolen_request = None;
            } else if late(at) {
                tracing::info!(want, snapshot, "no stolen-index answer; asking again");
                self.request_stolen(want, snapshot);
            }
        }
        match self.store.decision_gap()? {
            None => self.decision_request_at = None,
            Some(from_seq) => {
                if self.decision_request_at.is_none_or(late) {
                    self.decision_request_at = Some(Instant::now());
                    self.event(&EventMsg::DecisionRequest(DecisionRequest { from_seq }));
                }
            }
        }
        Ok(())
    }

    /// Fill the window from the outbox and publish what each flight needs next.
    fn pump(&mut self) -> anyhow::Result<()> {
        if !self.connected {
            return Ok(());
        }
        if self.window.len() < self.cfg.window {
            let rows = self
                .store
                .unacked(self.loaded_through, self.cfg.window - self.window.len())?;
            for row in rows {
                self.loaded_through = row.seq;
                let mut blobs = Vec::with_capacity(row.blobs.len());
                for b in row.blobs {
                    let raw_sha = jachai_protocol::hex::decode::<32>(&b.sha256)?;
                    blobs.push(BlobFlight {
                        chunks: blob::chunk_count(b.size),
                        sha256: b.sha256,
                        raw_sha,
                        size: b.size,
                        role: b.role,
                        acked: b.next_chunk,
                        complete: b.complete,
                        next: None,
                        init_sent: false,
                        finish_sent: false,
                        started: b.started,
                    });
                }
                self.window.insert(
                    row.seq,
                    Flight {
                        seq: row.seq,
                        payload: row.payload,
                        blobs,
                        data: BTreeMap::new(),
                        case_sent: false,
                        last_activity: Instant::now(),
                    },
                );
            }
        }
        // Queued events (lookup hits) first: they are small and time-sensitive.
        let events = self.store.pending_events(64)?;
        let mut handed = Vec::with_capacity(events.len());
        for (id, payload) in events {
            if !self.publish(Topic::UpEvent(self.cfg.kiosk.clone()), false, payload) {
                break;
            }
            handed.push(id);
        }
        if !handed.is_empty() {
            self.store.delete_events(&handed)?;
        }
        let now = Instant::now();
        let mut sent_cases = Vec::new();
        let mut stuck = Vec::new();
        let mut started: Vec<String> = Vec::new();
        let kiosk = self.cfg.kiosk.clone();
        let seqs: Vec<u64> = self.window.keys().copied().collect();
        'flights: for seq in seqs {
            let Some(flight) = self.window.get_mut(&seq) else {
                continue;
            };
            if now.duration_since(flight.last_activity) > self.cfg.resend_after {
                tracing::debug!(seq, "no ack in time; sending again");
                for b in &mut flight.blobs {
                    if b.init_sent && b.next.is_none() {
                        // No answer to the init: stream from what is known instead of waiting.
                        b.started = false;
                    }
                }
                flight.reset();
            }
            for i in 0..flight.blobs.len() {
                let b = &mut flight.blobs[i];
                if b.complete || b.finish_sent {
                    continue;
                }
                let start = match b.next {
                    Some(n) => n,
                    None if b.init_sent => continue, // waiting for the cloud's answer
                    None => {
                        let init = BlobJson::BlobInit(BlobInit {
                            sha256: b.sha256.clone(),
                            size: b.size,
                            role: b.role.clone(),
                            case_seq: flight.seq,
                            chunks: b.chunks,
                        });
                        if !publish_on(&self.client, Topic::UpBlob(kiosk.clone()), encode(&init)) {
                            break 'flights;
                        }
                        b.init_sent = true;
                        if b.started && b.acked == 0 {
                            // A restarted transfer: the answer to the init says where to go on.
                            continue;
                        }
                        if !b.started {
                            b.started = true;
                            started.push(b.sha256.clone());
                        }
                        b.next = Some(b.acked.min(b.chunks));
                        b.acked.min(b.chunks)
                    }
                };
                if start < b.chunks {
                    let data = match flight.data.get(&b.sha256) {
                        Some(d) => d.clone(),
                        None => match self.store.read_blob(&b.sha256) {
                            Ok(bytes) => {
                                let bytes = Arc::new(bytes);
                                flight.data.insert(b.sha256.clone(), bytes.clone());
                                bytes
                            }
                            Err(err) => {
                                // A damaged or missing file must not stop the rest of the
                                // backlog; the row stays in the outbox (visible in the
                                // heartbeat's backlog) and is tried again after a restart.
                                tracing::error!(seq, sha256 = %b.sha256, %err, "cannot read a blob; skipping its case until restart");
                                stuck.push(seq);
                                continue 'flights;
                            }
                        },
                    };
                    let b = &mut flight.blobs[i];
                    for index in start..b.chunks {
                        let at = blob::MAX_CHUNK * index as usize;
                        let end = (at + blob::MAX_CHUNK).min(data.len());
                        let frame = blob::encode_chunk(
                            &b.raw_sha,
                            index,
                            b.chunks,
                            data.get(at..end).unwrap_or(&[]),
                        );
                        if !publish_on(&self.client, Topic::UpBlob(kiosk.clone()), frame) {
                            break 'flights;
                        }
                        b.next = Some(index + 1);
                    }
                }
                let b = &mut flight.blobs[i];
                let finish = BlobJson::BlobFinish(BlobFinish {
                    sha256: b.sha256.clone(),
                    chunks: b.chunks,
                });
                if !publish_on(&self.client, Topic::UpBlob(kiosk.clone()), encode(&finish)) {
                    break 'flights;
                }
                b.finish_sent = true;
            }
            if !flight.case_sent && flight.blobs.iter().all(|b| b.complete) {
                if !publish_on(
                    &self.client,
                    Topic::UpCase(kiosk.clone()),
                    flight.payload.clone(),
                ) {
                    break;
                }
                flight.case_sent = true;
                flight.last_activity = now;
                flight.data.clear();
                sent_cases.push(seq);
            }
        }
        for seq in stuck {
            self.window.remove(&seq);
        }
        if !sent_cases.is_empty() {
            self.store.mark_sent(&sent_cases)?;
        }
        if !started.is_empty() {
            self.store.mark_blobs_started(&started)?;
        }
        Ok(())
    }

    fn on_message(&mut self, topic_name: &str, payload: &[u8]) -> anyhow::Result<()> {
        let topic = match Topic::parse(topic_name) {
            Ok(t) => t,
            Err(err) => {
                tracing::warn!(topic = topic_name, %err, "message on an unknown topic");
                return Ok(());
            }
        };
        if let Some(k) = topic.kiosk() {
            if *k != self.cfg.kiosk {
                let err = ProtocolError::WrongKiosk {
                    expected: self.cfg.kiosk.to_string(),
                    got: k.to_string(),
                };
                self.refuse(topic_name, &err);
                return Ok(());
            }
        }
        let result = match &topic {
            Topic::DownAck(_) => self.on_ack(payload),
            Topic::DownDecision(_) | Topic::DownStolen(_) | Topic::StolenHead => {
                match self.cfg.trusted.open_payload(payload) {
                    Ok(body) => self.on_signed(&topic, body, payload),
                    Err(err) => Ok(Err(err)),
                }
            }
            _ => Ok(Ok(())),
        }?;
        if let Err(err) = result {
            self.refuse(topic_name, &err);
        }
        Ok(())
    }

    fn refuse(&self, topic: &str, err: &ProtocolError) {
        tracing::warn!(topic, code = err.code(), %err, "refused a downlink message");
        self.event(&EventMsg::Refused(Refused {
            at: now_s(),
            topic: topic.to_owned(),
            code: err.code().to_owned(),
            detail: err.to_string(),
        }));
    }

    fn on_ack(&mut self, payload: &[u8]) -> anyhow::Result<Result<(), ProtocolError>> {
        match decode::<DownMsg>(payload) {
            Ok(DownMsg::Ack(ack)) => {
                let removed = self.store.ack(&ack.seqs)?;
                for seq in &ack.seqs {
                    self.window.remove(seq);
                }
                tracing::debug!(acked = ack.seqs.len(), removed, "cloud acked cases");
                Ok(Ok(()))
            }
            Ok(DownMsg::BlobAck(a)) => {
                let next = a.next_chunk;
                self.store.set_blob_progress(&a.sha256, next, a.complete)?;
                for flight in self.window.values_mut() {
                    let mut touched = false;
                    for b in flight.blobs.iter_mut().filter(|b| b.sha256 == a.sha256) {
                        b.acked = next;
                        b.complete = a.complete;
                        if b.init_sent && b.next.is_none() {
                            // The answer to a restarted transfer's init: go on from there.
                            b.next = Some(next.min(b.chunks));
                        }
                        touched = true;
                    }
                    if touched {
                        flight.last_activity = Instant::now();
                    }
                }
                Ok(Ok(()))
            }
            Ok(DownMsg::Signed(_)) => Ok(Err(ProtocolError::Malformed(
                "a signed message on the ack topic".into(),
            ))),
            Err(err) => Ok(Err(err)),
        }
    }

    fn on_signed(
        &mut self,
        topic: &Topic,
        body: SignedBody,
        payload: &[u8],
    ) -> anyhow::Result<Result<(), ProtocolError>> {
        let misplaced = |what: &str| {
            Ok(Err(ProtocolError::Malformed(format!(
                "a {what} on {topic}"
            ))))
        };
        match (topic, body) {
            (Topic::DownDecision(_), SignedBody::Decision(d)) => {
                if d.kiosk != self.cfg.kiosk {
                    return Ok(Err(ProtocolError::WrongKiosk {
                        expected: self.cfg.kiosk.to_string(),
                        got: d.kiosk.to_string(),
                    }));
                }
                match self.store.offer_decision(&d)? {
                    Ok(DecisionOutcome::Applied(seqs)) => {
                        tracing::info!(?seqs, "applied decisions")
                    }
                    Ok(DecisionOutcome::Duplicate) => {
                        tracing::debug!(seq = d.seq, "decision already applied")
                    }
                    Ok(DecisionOutcome::Waiting { missing_from }) => {
                        tracing::info!(
                            seq = d.seq,
                            missing_from,
                            "decision ahead of a gap; asking for the missing ones"
                        );
                        self.decision_request_at = Some(Instant::now());
                        self.event(&EventMsg::DecisionRequest(DecisionRequest {
                            from_seq: missing_from,
                        }));
                    }
                    Err(err) => return Ok(Err(err)),
                }
                Ok(Ok(()))
            }
            (Topic::StolenHead, SignedBody::StolenHead(head)) => {
                let held = self.index.held();
                let last = self.store.stolen_head()?.map(|(_, at)| at);
                match plan_head(&held, &head, now_s(), last) {
                    Err(err) => Ok(Err(err)),
                    Ok(plan) => {
                        self.store.set_stolen_head(head.version, head.signed_at)?;
                        let request = match plan {
                            HeadPlan::UpToDate => None,
                            HeadPlan::Deltas { want } => Some((want, false)),
                            HeadPlan::Snapshot { want } => Some((want, true)),
                        };
                        if let Some((want, snapshot)) = request {
                            self.request_stolen(want, snapshot);
                        }
                        Ok(Ok(()))
                    }
                }
            }
            (Topic::DownStolen(_), SignedBody::StolenDelta(delta)) => {
                self.stolen_activity();
                match self.index.apply_delta(&delta) {
                    Ok(()) => {
                        tracing::info!(
                            version = delta.version,
                            added = delta.added.len(),
                            removed = delta.removed.len(),
                            "applied a stolen-index delta"
                        );
                        Ok(Ok(()))
                    }
                    Err(IndexError::Refused(err)) => {
                        if matches!(
                            err,
                            ProtocolError::BaseMismatch { .. } | ProtocolError::HashMismatch { .. }
                        ) {
                            let want = self
                                .stolen_request
                                .map_or(delta.version, |(w, _, _)| w)
                                .max(delta.version);
                            self.request_stolen(want, true);
                        }
                        Ok(Err(err))
                    }
                    Err(other) => Err(other.into()),
                }
            }
            (Topic::DownStolen(_), SignedBody::StolenSnapshot(part)) => {
                self.stolen_activity();
                if let Err(err) = check_snapshot(&self.index.held(), &part) {
                    return Ok(Err(err));
                }
                let held =
                    self.store
                        .put_snapshot_part(part.version, part.part, part.parts, payload)?;
                if held < part.parts {
                    return Ok(Ok(()));
                }
                let parts = self.store.snapshot_parts(part.version)?;
                // Parts are checked again as they are read back; entries are gathered compactly.
                let mut snapshot = SnapshotBuilder::new();
                for bytes in &parts {
                    let entries = match self.cfg.trusted.open_payload(bytes) {
                        Ok(SignedBody::StolenSnapshot(p))
                            if p.version == part.version && p.hash == part.hash =>
                        {
                            p.entries
                        }
                        Ok(_) => {
                            self.store.clear_snapshot_parts()?;
                            return Ok(Err(ProtocolError::Malformed(
                                "snapshot parts disagree".into(),
                            )));
                        }
                        Err(err) => {
                            self.store.clear_snapshot_parts()?;
                            return Ok(Err(err));
                        }
                    };
                    for e in &entries {
                        match snapshot.add(e) {
                            Ok(()) => {}
                            Err(IndexError::Refused(err)) => {
                                self.store.clear_snapshot_parts()?;
                                return Ok(Err(err));
                            }
                            Err(other) => return Err(other.into()),
                        }
                    }
                }
                drop(parts);
                let result = self
                    .index
                    .install_snapshot_from(part.version, &part.hash, snapshot);
                self.store.clear_snapshot_parts()?;
                match result {
                    Ok(()) => {
                        tracing::info!(
                            version = part.version,
                            count = self.index.len(),
                            "installed a stolen-index snapshot"
                        );
                        Ok(Ok(()))
                    }
                    Err(IndexError::Refused(err)) => Ok(Err(err)),
                    Err(other) => Err(other.into()),
                }
            }
            (_, SignedBody::Decision(_)) => misplaced("decision"),
            (_, SignedBody::StolenHead(_)) => misplaced("stolen head"),
            (_, SignedBody::StolenDelta(_)) => misplaced("stolen delta"),
            (_, SignedBody::StolenSnapshot(_)) => misplaced("snapshot part"),
        }
    }

    /// An answer to a stolen-index request is arriving: do not ask again yet.
    fn stolen_activity(&mut self) {
        if let Some((_, _, at)) = &mut self.stolen_request {
            *at = Instant::now();
        }
    }

    fn request_stolen(&mut self, want: u64, snapshot: bool) {
        self.stolen_request = Some((want, snapshot, Instant::now()));
        let held = self.index.held();
        self.event(&EventMsg::StolenRequest(StolenRequest {
            have: held.version,
            have_hash: held.hash.to_hex(),
            want,
            snapshot,
        }));
    }
}

fn publish_on(client: &AsyncClient, topic: Topic, payload: Vec<u8>) -> bool {
    match client.try_publish(topic.name(), QoS::AtLeastOnce, false, payload) {
        Ok(()) => true,
        Err(err) => {
            tracing::trace!(%err, "request queue full; publishing later");
            false
        }
    }
}
