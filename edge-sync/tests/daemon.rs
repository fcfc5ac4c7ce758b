//! `jachai-sync`'s loop against a real Mosquitto (plain TCP on a free port) and a small cloud
//! written here with rumqttc that stores blobs and cases and acks only what it stored: the
//! backlog drains with nothing lost, a blob resumes from the last acked chunk, signed downlink is
//! applied and forged or rolled-back downlink is refused and reported upstream.

use std::collections::{BTreeMap, HashMap};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use jachai_edge_sync::daemon::{self, SyncConfig};
use jachai_edge_sync::index::{LoadMode, StolenIndex};
use jachai_edge_sync::store::{sha256_hex, NewCase, NewImage, Store, StoreOptions};
use jachai_protocol::blob::{self, BlobJson, BlobMsg};
use jachai_protocol::sign::{Signer, TrustedKeys};
use jachai_protocol::stolen::{SnapshotPart, StateHash, StolenDelta, StolenEntry, StolenHead};
use jachai_protocol::{
    decode, encode, Ack, BlobAck, CaseMsg, Decision, DecisionOutcome, DownMsg, EventMsg, KioskId,
    SignedBody, StatusMsg, StatusState, Topic, UpCase,
};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::sync::oneshot;

struct Mosquitto {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

impl Mosquitto {
    fn start() -> Self {
        Self::start_with(|_, _| String::new())
    }

    /// A broker with a plain listener on `port` and whatever `extra(dir, port)` adds.
    fn start_with(extra: impl FnOnce(&Path, u16) -> String) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let conf = dir.path().join("mosquitto.conf");
        let mut more = extra(dir.path(), port);
        // As root, mosquitto switches to user `mosquitto`, which cannot read the test's private
        // temp dir (certificates): keep it root there.
        let root = std::fs::read_to_string("/proc/self/status")
            .map(|s| {
                s.lines()
                    .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
            })
            .unwrap_or(false);
        if root {
            more.push_str("user root\n");
        }
        std::fs::write(
            &conf,
            format!("per_listener_settings true\npersistence false\nmax_queued_messages 100000\nlistener {port} 127.0.0.1\nallow_anonymous true\n{more}"),
        )
        .expect("conf");
        let child = spawn_broker(&conf, port);
        Self {
            child,
            port,
            _dir: dir,
        }
    }

    /// Kill the broker (its sessions and in-flight messages are lost: persistence is off).
    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Start it again on the same port with the same configuration.
    fn restart(&mut self) {
        self.child = spawn_broker(&self._dir.path().join("mosquitto.conf"), self.port);
    }
}

fn spawn_broker(conf: &Path, port: u16) -> Child {
    let exe = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("mosquitto");
    let child = Command::new(exe)
        .arg("-c")
        .arg(conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mosquitto runs (apt-get install mosquitto)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "mosquitto did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Default)]
struct Cloud {
    chunks: HashMap<String, BTreeMap<u32, Vec<u8>>>,
    chunk_msgs: Vec<(String, u32)>,
    complete: HashMap<String, Vec<u8>>,
    cases: BTreeMap<u64, CaseMsg>,
    case_msgs: u64,
    events: Vec<EventMsg>,
    status: Option<StatusState>,
}

/// A cloud good enough to test the kiosk: stores chunks, checks blobs, stores cases whose blobs
/// it holds and acks them.
async fn cloud(port: u16, state: Arc<Mutex<Cloud>>) -> AsyncClient {
    let mut opts = MqttOptions::new("cloud-test", "127.0.0.1", port);
    opts.set_max_packet_size(8 << 20, 8 << 20);
    opts.set_keep_alive(Duration::from_secs(5));
    let (client, mut el) = AsyncClient::new(opts, 100_000);
    let publisher = client.clone();
    tokio::spawn(async move {
        loop {
            let ev = match el.poll().await {
                Ok(ev) => ev,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            if let Event::Incoming(Packet::ConnAck(_)) = ev {
                // A clean session: subscribe again after every (re)connect.
                for filter in [
                    jachai_protocol::topic::ALL_UPLINK,
                    jachai_protocol::topic::ALL_STATUS,
                ] {
                    let _ = publisher.try_subscribe(filter, QoS::AtLeastOnce);
                }
                continue;
            }
            let Event::Incoming(Packet::Publish(p)) = ev else {
                continue;
            };
            let Ok(topic) = Topic::parse(&p.topic) else {
                continue;
            };
            let kiosk = topic.kiosk().cloned().expect("kiosk topics");
            let ack_topic = Topic::DownAck(kiosk).name();
            let mut replies: Vec<Vec<u8>> = Vec::new();
            {
                let mut s = state.lock().expect("lock");
                match topic {
                    Topic::UpBlob(_) => match blob::decode(&p.payload).expect("blob message") {
                        BlobMsg::Json(BlobJson::BlobInit(init)) => {
                            // Answer an init with where the cloud stands.
                            let complete = s.complete.contains_key(&init.sha256);
                            let held = s.chunks.entry(init.sha256.clone()).or_default();
                            let next = if complete {
                                init.chunks
                            } else {
                                (0..).find(|i| !held.contains_key(i)).unwrap_or(0)
                            };
                            replies.push(encode(&DownMsg::BlobAck(BlobAck {
                                sha256: init.sha256,
                                next_chunk: next,
                                complete,
                            })));
                        }
                        BlobMsg::Chunk(c) => {
                            let sha = jachai_protocol::hex::encode(&c.sha256);
                            s.chunk_msgs.push((sha.clone(), c.index));
                            let held = s.chunks.entry(sha.clone()).or_default();
                            held.insert(c.index, c.data);
                            let next = (0..).find(|i| !held.contains_key(i)).unwrap_or(0);
                            replies.push(encode(&DownMsg::BlobAck(BlobAck {
                                sha256: sha,
                                next_chunk: next,
                                complete: false,
                            })));
                        }
                        BlobMsg::Json(BlobJson::BlobFinish(f)) => {
                            let held = s.chunks.entry(f.sha256.clone()).or_default();
                            let next = (0..).find(|i| !held.contains_key(i)).unwrap_or(0);
                            let bytes: Vec<u8> = held.values().flatten().copied().collect();
                            let ok = next >= f.chunks && sha256_hex(&bytes) == f.sha256;
                            if ok {
                                s.complete.insert(f.sha256.clone(), bytes);
                            }
                            replies.push(encode(&DownMsg::BlobAck(BlobAck {
                                sha256: f.sha256,
                                next_chunk: next,
                                complete: ok,
                            })));
                        }
                    },
                    Topic::UpCase(_) => {
                        let UpCase::Case(msg) = decode(&p.payload).expect("case");
                        s.case_msgs += 1;
                        if msg.blobs.iter().all(|b| s.complete.contains_key(&b.sha256)) {
                            replies.push(encode(&DownMsg::Ack(Ack {
                                seqs: vec![msg.seq],
                            })));
                            s.cases.insert(msg.seq, msg);
                        }
                    }
                    Topic::UpEvent(_) => s.events.push(decode(&p.payload).expect("event")),
                    Topic::Status(_) => {
                        s.status = decode::<StatusMsg>(&p.payload)
                            .ok()
                            .map(|StatusMsg::Status(st)| st.state)
                    }
                    _ => {}
                }
            }
            for r in replies {
                let _ = publisher.try_publish(ack_topic.clone(), QoS::AtLeastOnce, false, r);
            }
        }
    });
    client
}

struct Kiosk {
    _dir: tempfile::TempDir,
    db: PathBuf,
    blobs: PathBuf,
    index: PathBuf,
}

impl Kiosk {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        Self {
            db: dir.path().join("kiosk.db"),
            blobs: dir.path().join("blobs"),
            index: dir.path().join("stolen"),
            _dir: dir,
        }
    }

    fn store(&self) -> Store {
        Store::open(&self.db, &self.blobs).expect("store")
    }

    fn config(&self, port: u16, trusted: TrustedKeys) -> SyncConfig {
        let mut cfg = SyncConfig::new(
            kiosk_id(),
            self.db.clone(),
            self.blobs.clone(),
            "127.0.0.1".into(),
            port,
        );
        cfg.index_dir = self.index.clone();
        cfg.trusted = trusted;
        cfg.heartbeat = Duration::from_secs(1);
        cfg.backoff_min = Duration::from_millis(50);
        cfg.backoff_max = Duration::from_millis(500);
        cfg.resend_after = Duration::from_secs(5);
        cfg.rerequest_after = Duration::from_secs(2);
        cfg.store = StoreOptions {
            orphan_grace: Duration::ZERO,
        };
        cfg
    }

    fn spawn(
        &self,
        cfg: SyncConfig,
    ) -> (
        oneshot::Sender<()>,
        tokio::task::JoinHandle<anyhow::Result<()>>,
    ) {
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(daemon::run(cfg, async move {
            let _ = rx.await;
        }));
        (tx, handle)
    }
}

fn kiosk_id() -> KioskId {
    KioskId::new("thana-7").expect("valid")
}

fn record(store: &mut Store, n: usize, size: usize, tag: &str) {
    use rand::{RngCore as _, SeedableRng as _};
    let mut rng = rand::rngs::StdRng::seed_from_u64(n as u64 * 31 + size as u64);
    for i in 0..n {
        let mut bytes = vec![0u8; size];
        rng.fill_bytes(&mut bytes);
        store
            .record_case(&NewCase {
                case_id: format!("{tag}-{i}"),
                kind: "gd".into(),
                created_at: 1_780_000_000,
                claims: serde_json::Map::new(),
                verdict: Some("review".into()),
                risk: Some(30),
                report: serde_json::json!({}),
                images: vec![NewImage {
                    role: "gd_copy".into(),
                    bytes,
                }],
            })
            .expect("record");
    }
}

async fn eventually(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backlog_drains_nothing_lost_and_status_goes_offline() {
    let broker = Mosquitto::start();
    let state = Arc::new(Mutex::new(Cloud::default()));
    let _cloud = cloud(broker.port, state.clone()).await;
    let k = Kiosk::new();
    let mut store = k.store();
    record(&mut store, 60, 200_000, "a");
    let (stop, handle) = k.spawn(k.config(broker.port, TrustedKeys::new()));
    eventually("the first 60 cases acked", Duration::from_secs(60), || {
        store.unacked_count().expect("count") == 0
    })
    .await;
    // Cases recorded while the daemon runs are picked up too.
    record(&mut store, 15, 150_000, "b");
    eventually("the next 15 acked", Duration::from_secs(60), || {
        store.unacked_count().expect("count") == 0
    })
    .await;
    // A lookup hit queued by the kiosk app goes up as an event.
    store
        .record_event(&EventMsg::LookupHit(jachai_protocol::LookupHit {
            at: 1_780_000_000,
            imei: "356938035643809".into(),
        }))
        .expect("queue");
    eventually("the hit reported", Duration::from_secs(10), || {
        state
            .lock()
            .expect("lock")
            .events
            .iter()
            .any(|e| matches!(e, EventMsg::LookupHit(h) if h.imei == "356938035643809"))
    })
    .await;
    eventually("no event left queued", Duration::from_secs(5), || {
        store.pending_events(10).expect("events").is_empty()
    })
    .await;
    eventually("online status", Duration::from_secs(5), || {
        state.lock().expect("lock").status == Some(StatusState::Online)
    })
    .await;
    stop.send(()).expect("daemon running");
    handle.await.expect("join").expect("clean exit");
    eventually("offline status", Duration::from_secs(5), || {
        state.lock().expect("lock").status == Some(StatusState::Offline)
    })
    .await;

    let s = state.lock().expect("lock");
    assert_eq!(
        s.cases.keys().copied().collect::<Vec<_>>(),
        (1..=75).collect::<Vec<_>>()
    );
    let rows = store.unacked(0, 10).expect("rows");
    assert!(rows.is_empty());
    for (seq, case) in &s.cases {
        assert_eq!(case.blobs.len(), 1, "case {seq}");
        let b = &case.blobs[0];
        let bytes = s.complete.get(&b.sha256).expect("blob stored");
        assert_eq!(bytes.len() as u64, b.size);
        assert_eq!(sha256_hex(bytes), b.sha256);
    }
    assert!(s.events.iter().any(
        |e| matches!(e, EventMsg::Heartbeat(h) if h.app_version == env!("CARGO_PKG_VERSION"))
    ));
}

/// A previous run got chunks 0..3 of a 5-chunk blob to the cloud; with `acked`, the cloud's ack
/// for them reached the kiosk's store, without it the kiosk only knows the transfer had started
/// and asks (the answer to its init). Either way only chunks 3 and 4 go again.
async fn check_resume(acked: bool) {
    let broker = Mosquitto::start();
    let state = Arc::new(Mutex::new(Cloud::default()));
    let _cloud = cloud(broker.port, state.clone()).await;
    let k = Kiosk::new();
    let mut store = k.store();
    record(&mut store, 1, 5 * 65536 - 100, "r");
    let b = store.blobs_of(1).expect("blobs")[0].clone();
    let bytes = store.read_blob(&b.sha256).expect("blob");
    {
        let mut s = state.lock().expect("lock");
        let held = s.chunks.entry(b.sha256.clone()).or_default();
        for i in 0..3u32 {
            let at = i as usize * 65536;
            held.insert(i, bytes[at..at + 65536].to_vec());
        }
    }
    store
        .mark_blobs_started(std::slice::from_ref(&b.sha256))
        .expect("started");
    if acked {
        store
            .set_blob_progress(&b.sha256, 3, false)
            .expect("progress");
    }
    let (stop, handle) = k.spawn(k.config(broker.port, TrustedKeys::new()));
    eventually("the case acked", Duration::from_secs(30), || {
        store.unacked_count().expect("count") == 0
    })
    .await;
    stop.send(()).expect("running");
    handle.await.expect("join").expect("clean exit");
    let s = state.lock().expect("lock");
    let sent: Vec<u32> = s
        .chunk_msgs
        .iter()
        .filter(|(sha, _)| *sha == b.sha256)
        .map(|(_, i)| *i)
        .collect();
    assert_eq!(
        sent,
        vec![3, 4],
        "acked={acked}: only what the cloud lacked was sent"
    );
    assert_eq!(
        s.complete.get(&b.sha256).map(|v| sha256_hex(v)),
        Some(b.sha256.clone())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_resumes_from_the_last_acked_chunk() {
    check_resume(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_blob_asks_the_cloud_where_it_stands() {
    check_resume(false).await;
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn entry(body: u64, loc: &str) -> StolenEntry {
    StolenEntry {
        imei: jachai_protocol::imei::from_body(body).expect("14 digits"),
        reported_at: "2026-05-01".into(),
        theft_location: loc.into(),
    }
}

fn refused_codes(state: &Arc<Mutex<Cloud>>) -> Vec<String> {
    state
        .lock()
        .expect("lock")
        .events
        .iter()
        .filter_map(|e| match e {
            EventMsg::Refused(r) => Some(r.code.clone()),
            _ => None,
        })
        .collect()
}

fn stolen_requests(state: &Arc<Mutex<Cloud>>) -> Vec<(u64, u64, bool)> {
    state
        .lock()
        .expect("lock")
        .events
        .iter()
        .filter_map(|e| match e {
            EventMsg::StolenRequest(r) => Some((r.have, r.want, r.snapshot)),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_downlink_is_applied_and_forgeries_and_rollbacks_are_refused() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let broker = Mosquitto::start();
    let state = Arc::new(Mutex::new(Cloud::default()));
    let cloud_client = cloud(broker.port, state.clone()).await;
    let signer = Signer::from_seed([3; 32]);
    let forger = Signer::from_seed([4; 32]);
    let mut trusted = TrustedKeys::new();
    trusted.add(signer.verifying_key());
    let k = Kiosk::new();
    let store = k.store();
    let (stop, handle) = k.spawn(k.config(broker.port, trusted));
    eventually("online", Duration::from_secs(10), || {
        state.lock().expect("lock").status == Some(StatusState::Online)
    })
    .await;
    // Let the subscriptions settle.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let send = |topic: Topic, retain: bool, payload: Vec<u8>| {
        cloud_client
            .try_publish(topic.name(), QoS::AtLeastOnce, retain, payload)
            .expect("queue");
    };
    let decision = |seq: u64| {
        SignedBody::Decision(Decision {
            kiosk: kiosk_id(),
            seq,
            case_seq: seq,
            case_id: format!("c-{seq}"),
            outcome: DecisionOutcome::Approved,
            note: None,
            decided_at: 1_780_000_000,
        })
    };
    let dtopic = Topic::DownDecision(kiosk_id());
    send(dtopic.clone(), false, signer.sign(&decision(1)));
    eventually("decision 1 applied", Duration::from_secs(10), || {
        store.decision_seq().expect("seq") == 1
    })
    .await;
    send(dtopic.clone(), false, forger.sign(&decision(2)));
    eventually("unknown key reported", Duration::from_secs(10), || {
        refused_codes(&state).contains(&"unknown_key".to_owned())
    })
    .await;
    let mut forged = forger.sign_bytes(&encode(&decision(2)));
    forged.key_id = signer.key_id().to_owned();
    send(dtopic.clone(), false, encode(&DownMsg::Signed(forged)));
    eventually("bad signature reported", Duration::from_secs(10), || {
        refused_codes(&state).contains(&"bad_signature".to_owned())
    })
    .await;
    let mut other = decision(2);
    if let SignedBody::Decision(d) = &mut other {
        d.kiosk = KioskId::new("thana-8").expect("valid");
    }
    send(dtopic.clone(), false, signer.sign(&other));
    eventually("wrong kiosk reported", Duration::from_secs(10), || {
        refused_codes(&state).contains(&"wrong_kiosk".to_owned())
    })
    .await;
    assert_eq!(
        store.decision_seq().expect("seq"),
        1,
        "nothing forged was applied"
    );
    // A gap: decision 3 waits and the kiosk asks for 2.
    send(dtopic.clone(), false, signer.sign(&decision(3)));
    eventually("decision request", Duration::from_secs(10), || {
        state
            .lock()
            .expect("lock")
            .events
            .iter()
            .any(|e| matches!(e, EventMsg::DecisionRequest(r) if r.from_seq == 2))
    })
    .await;
    send(dtopic.clone(), false, signer.sign(&decision(2)));
    eventually("decisions 2 and 3 applied", Duration::from_secs(10), || {
        store.decision_seq().expect("seq") == 3
    })
    .await;

    // Stolen index: head v1 → snapshot request → two signed parts → installed.
    let v1 = vec![
        entry(35693803564380, "Dhanmondi, Dhaka"),
        entry(1, "Mirpur, Dhaka"),
        entry(2, "Sylhet"),
    ];
    let h1 = StateHash::of(&v1).expect("valid");
    let head = |version: u64, hash: StateHash, count: u64| {
        SignedBody::StolenHead(StolenHead {
            version,
            hash: hash.to_hex(),
            count,
            signed_at: now_s() - 100 + version,
            expires_at: now_s() + 3600,
        })
    };
    send(Topic::StolenHead, true, signer.sign(&head(1, h1, 3)));
    eventually("snapshot request", Duration::from_secs(10), || {
        stolen_requests(&state).contains(&(0, 1, true))
    })
    .await;
    // Unanswered, the request is made again.
    eventually("snapshot request repeated", Duration::from_secs(10), || {
        stolen_requests(&state)
            .iter()
            .filter(|r| **r == (0, 1, true))
            .count()
            >= 2
    })
    .await;
    let stopic = Topic::DownStolen(kiosk_id());
    for (i, part) in [v1[..2].to_vec(), v1[2..].to_vec()].into_iter().enumerate() {
        let body = SignedBody::StolenSnapshot(SnapshotPart {
            version: 1,
            hash: h1.to_hex(),
            count: 3,
            part: i as u32,
            parts: 2,
            entries: part,
            signed_at: now_s(),
        });
        send(stopic.clone(), false, signer.sign(&body));
    }
    let index_dir = k.index.clone();
    eventually("snapshot installed", Duration::from_secs(10), || {
        StolenIndex::open(&index_dir, LoadMode::File)
            .map(|i| i.held().version == 1)
            .unwrap_or(false)
    })
    .await;
    // Head v2 → delta request → delta applied.
    let v2 = vec![
        entry(35693803564380, "Dhanmondi, Dhaka"),
        entry(2, "Sylhet"),
        entry(77, "Khulna"),
    ];
    let h2 = StateHash::of(&v2).expect("valid");
    send(Topic::StolenHead, true, signer.sign(&head(2, h2, 3)));
    eventually("delta request", Duration::from_secs(10), || {
        stolen_requests(&state).contains(&(1, 2, false))
    })
    .await;
    let delta = SignedBody::StolenDelta(StolenDelta {
        version: 2,
        base_version: 1,
        base_hash: h1.to_hex(),
        hash: h2.to_hex(),
        count: 3,
        added: vec![entry(77, "Khulna")],
        removed: vec![jachai_protocol::imei::from_body(1).expect("body")],
        signed_at: now_s(),
    });
    send(stopic.clone(), false, signer.sign(&delta));
    eventually("delta applied", Duration::from_secs(10), || {
        StolenIndex::open(&index_dir, LoadMode::File)
            .map(|i| i.held().version == 2)
            .unwrap_or(false)
    })
    .await;
    // Replayed delta and an old head: refused as rollbacks, index untouched.
    let before = refused_codes(&state)
        .iter()
        .filter(|c| *c == "rollback")
        .count();
    send(stopic.clone(), false, signer.sign(&delta));
    send(Topic::StolenHead, true, signer.sign(&head(1, h1, 3)));
    eventually("rollbacks reported", Duration::from_secs(10), || {
        refused_codes(&state)
            .iter()
            .filter(|c| *c == "rollback")
            .count()
            >= before + 2
    })
    .await;
    // A forged delta is refused.
    let mut forged_delta = delta.clone();
    if let SignedBody::StolenDelta(d) = &mut forged_delta {
        d.version = 3;
        d.base_version = 2;
        d.base_hash = h2.to_hex();
    }
    send(stopic, false, forger.sign(&forged_delta));
    eventually("forged delta refused", Duration::from_secs(10), || {
        refused_codes(&state)
            .iter()
            .filter(|c| *c == "unknown_key")
            .count()
            >= 2
    })
    .await;

    stop.send(()).expect("running");
    handle.await.expect("join").expect("clean exit");
    let index = StolenIndex::open(&index_dir, LoadMode::Memory).expect("index");
    assert_eq!(index.held().version, 2);
    assert_eq!(index.lookup(1).expect("lookup"), None);
    assert_eq!(
        index
            .lookup(77)
            .expect("lookup")
            .map(|h| h.theft_location)
            .as_deref(),
        Some("Khulna")
    );
    assert!(index
        .lookup_imei("356938035643809")
        .expect("lookup")
        .is_some());
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A test CA, a broker certificate for localhost / 127.0.0.1 and a client certificate whose CN
/// is the kiosk id, made with the openssl CLI.
fn make_certs(dir: &Path, kiosk: &str) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=jachai-test-ca",
        "-days",
        "2",
    ]);
    openssl(dir, &ca);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .expect("ext");
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").expect("ext");
    for (name, cn) in [
        ("server", "localhost".to_owned()),
        ("client", kiosk.to_owned()),
    ] {
        let mut req = vec!["req".to_owned()];
        req.extend(ec.iter().map(|s| s.to_string()));
        let subj = format!("/CN={cn}");
        req.extend([
            "-keyout".into(),
            format!("{name}.key"),
            "-out".into(),
            format!("{name}.csr"),
            "-subj".into(),
            subj,
        ]);
        openssl(dir, &req.iter().map(String::as_str).collect::<Vec<_>>());
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &format!("{name}.pem"),
                "-days",
                "2",
                "-extfile",
                &format!("{name}.ext"),
            ],
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_over_mutual_tls() {
    let tls_port = free_port();
    let broker = Mosquitto::start_with(|dir, _| {
        make_certs(dir, kiosk_id().as_str());
        format!(
            "listener {tls_port} 127.0.0.1\ncafile {d}/ca.pem\ncertfile {d}/server.pem\nkeyfile {d}/server.key\nrequire_certificate true\nuse_identity_as_username true\nallow_anonymous false\n",
            d = dir.display()
        )
    });
    let certs = broker._dir.path().to_owned();
    let state = Arc::new(Mutex::new(Cloud::default()));
    let _cloud = cloud(broker.port, state.clone()).await;
    let k = Kiosk::new();
    let mut store = k.store();
    record(&mut store, 5, 100_000, "t");
    let mut cfg = k.config(tls_port, TrustedKeys::new());
    cfg.tls = Some(daemon::TlsFiles {
        ca: certs.join("ca.pem"),
        cert: certs.join("client.pem"),
        key: certs.join("client.key"),
    });
    let (stop, handle) = k.spawn(cfg);
    eventually("5 cases acked over mTLS", Duration::from_secs(30), || {
        store.unacked_count().expect("count") == 0
    })
    .await;
    stop.send(()).expect("running");
    handle.await.expect("join").expect("clean exit");
    assert_eq!(state.lock().expect("lock").cases.len(), 5);

    // A bad key file is a clear start-up error, not a hang.
    let mut cfg = k.config(tls_port, TrustedKeys::new());
    cfg.tls = Some(daemon::TlsFiles {
        ca: certs.join("ca.pem"),
        cert: certs.join("client.pem"),
        key: certs.join("missing.key"),
    });
    let err = daemon::run(cfg, std::future::pending())
        .await
        .expect_err("missing key");
    assert!(format!("{err:#}").contains("missing.key"), "{err:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_notifies_systemd_stops_on_sigterm_and_its_will_says_offline_after_kill_9() {
    use std::os::unix::net::UnixDatagram;
    let broker = Mosquitto::start();
    let state = Arc::new(Mutex::new(Cloud::default()));
    let _cloud = cloud(broker.port, state.clone()).await;
    let k = Kiosk::new();
    record(&mut k.store(), 3, 10_000, "bin");
    let sock_dir = tempfile::tempdir().expect("tempdir");
    let sock_path = sock_dir.path().join("notify");
    let sock = UnixDatagram::bind(&sock_path).expect("notify socket");
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_jachai-sync"))
            .arg("--db")
            .arg(&k.db)
            .arg("--blobs")
            .arg(&k.blobs)
            .args([
                "--broker",
                &format!("127.0.0.1:{}", broker.port),
                "--kiosk",
                kiosk_id().as_str(),
                "--keep-alive-s",
                "2",
                "--heartbeat-s",
                "1",
            ])
            .env("NOTIFY_SOCKET", &sock_path)
            .env("WATCHDOG_USEC", "400000")
            .env("RUST_LOG", "warn")
            .stderr(Stdio::null())
            .spawn()
            .expect("jachai-sync runs")
    };
    let mut seen = String::new();
    let wait_for = |what: &str, seen: &mut String| {
        let mut buf = [0u8; 256];
        while !seen.contains(what) {
            let n = sock
                .recv(&mut buf)
                .unwrap_or_else(|e| panic!("no {what} from the daemon: {e}"));
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            seen.push('\n');
        }
    };
    let mut child = spawn();
    wait_for("READY=1", &mut seen);
    wait_for("WATCHDOG=1", &mut seen);
    let store = k.store();
    eventually(
        "backlog drained by the binary",
        Duration::from_secs(30),
        || store.unacked_count().expect("count") == 0,
    )
    .await;
    eventually("online", Duration::from_secs(5), || {
        state.lock().expect("lock").status == Some(StatusState::Online)
    })
    .await;
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let exit = child.wait().expect("exit");
    assert_eq!(exit.code(), Some(0), "SIGTERM is a clean shutdown");
    wait_for("STOPPING=1", &mut seen);
    eventually("offline after SIGTERM", Duration::from_secs(5), || {
        state.lock().expect("lock").status == Some(StatusState::Offline)
    })
    .await;

    let mut child = spawn();
    eventually("online again", Duration::from_secs(10), || {
        state.lock().expect("lock").status == Some(StatusState::Online)
    })
    .await;
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    eventually("the will says offline", Duration::from_secs(10), || {
        state.lock().expect("lock").status == Some(StatusState::Offline)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_outage_loses_nothing() {
    let mut broker = Mosquitto::start();
    let state = Arc::new(Mutex::new(Cloud::default()));
    let _cloud = cloud(broker.port, state.clone()).await;
    let k = Kiosk::new();
    let mut store = k.store();
    record(&mut store, 20, 120_000, "before");
    let (stop, handle) = k.spawn(k.config(broker.port, TrustedKeys::new()));
    eventually("some cases acked", Duration::from_secs(30), || {
        state.lock().expect("lock").cases.len() >= 5
    })
    .await;
    // The broker dies mid-drain, with messages in flight; cases keep being recorded.
    broker.stop();
    record(&mut store, 30, 90_000, "during");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(store.unacked_count().expect("count") > 0);
    broker.restart();
    eventually(
        "backlog drained after the outage",
        Duration::from_secs(60),
        || store.unacked_count().expect("count") == 0,
    )
    .await;
    stop.send(()).expect("running");
    handle.await.expect("join").expect("clean exit");
    let s = state.lock().expect("lock");
    assert_eq!(
        s.cases.keys().copied().collect::<Vec<_>>(),
        (1..=50).collect::<Vec<_>>(),
        "every case arrived (the cloud stores each seq once)"
    );
    for case in s.cases.values() {
        let b = &case.blobs[0];
        assert_eq!(
            s.complete.get(&b.sha256).map(|v| sha256_hex(v)).as_deref(),
            Some(b.sha256.as_str())
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_index_is_moved_aside_and_a_snapshot_requested() {
    let broker = Mosquitto::start();
    let state = Arc::new(Mutex::new(Cloud::default()));
    let cloud_client = cloud(broker.port, state.clone()).await;
    let signer = Signer::from_seed([5; 32]);
    let mut trusted = TrustedKeys::new();
    trusted.add(signer.verifying_key());
    let k = Kiosk::new();
    std::fs::create_dir_all(&k.index).expect("index dir");
    std::fs::write(k.index.join("base.idx"), b"JACHIDX1 but then garbage").expect("damage");
    let (stop, handle) = k.spawn(k.config(broker.port, trusted));
    eventually("online", Duration::from_secs(10), || {
        state.lock().expect("lock").status == Some(StatusState::Online)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let v3 = vec![entry(42, "Barishal")];
    let head = SignedBody::StolenHead(StolenHead {
        version: 3,
        hash: StateHash::of(&v3).expect("valid").to_hex(),
        count: 1,
        signed_at: now_s(),
        expires_at: now_s() + 600,
    });
    cloud_client
        .try_publish(
            Topic::StolenHead.name(),
            QoS::AtLeastOnce,
            true,
            signer.sign(&head),
        )
        .expect("queue");
    eventually(
        "snapshot requested from nothing",
        Duration::from_secs(10),
        || stolen_requests(&state).contains(&(0, 3, true)),
    )
    .await;
    stop.send(()).expect("running");
    handle.await.expect("join").expect("clean exit");
    let parent = k.index.parent().expect("parent");
    let aside = std::fs::read_dir(parent)
        .expect("dir")
        .filter_map(Result::ok)
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("stolen.corrupt-")
        });
    assert!(aside, "the damaged index is kept aside");
}
