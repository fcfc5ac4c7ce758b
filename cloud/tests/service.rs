//! The service against a real Mosquitto (mTLS + the repo's ACL): acks only for stored cases, the signed
//! head retained on connect, several instances splitting the uplink through the shared subscription,
//! and a clean stop.

mod common;

use std::time::Duration;

use jachai_cloud::config::MqttConfig;
use jachai_cloud::{Command, Config, Service};
use jachai_protocol::envelope::{self, Ack, CaseMsg, DecisionOutcome, DownMsg, UpCase};
use jachai_protocol::sign::TrustedKeys;
use jachai_testkit::Broker;
use tokio::sync::{mpsc, oneshot};

fn config(b: &Broker, db: &common::TestDb, client_id: &str) -> Config {
    let id = b.identity("cloud").expect("cloud cert");
    let text = format!(
        "database_url = {:?}\nblob_dir = {:?}\nsigning_key = {:?}\nbatch_max = 64\n[mqtt]\nhost = \"localhost\"\nport = {}\nca = {:?}\ncert = {:?}\nkey = {:?}\nclient_id = {:?}\nkeep_alive_s = 5\n",
        db.url,
        db.blob_dir(),
        db.dir.path().join("signing.key"),
        b.port(),
        b.pki().ca_path(),
        id.cert,
        id.key,
        client_id,
    );
    let path = db.dir.path().join(format!("{client_id}.toml"));
    std::fs::write(&path, text).expect("write config");
    let cfg = Config::load(&path).expect("config");
    let _: &MqttConfig = &cfg.mqtt;
    cfg
}

struct Running {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    commands: mpsc::Sender<Command>,
}

impl Running {
    async fn start(cfg: Config) -> Running {
        let service = Service::open(cfg).await.expect("open");
        let (stop, stopped) = oneshot::channel::<()>();
        let (commands, rx) = mpsc::channel(4);
        let task = tokio::spawn(async move {
            service
                .run(
                    async {
                        let _ = stopped.await;
                    },
                    rx,
                )
                .await
                .expect("service ran");
        });
        Running {
            stop: Some(stop),
            task,
            commands,
        }
    }

    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("stops within 10 s")
            .expect("joined");
    }
}

fn case(seq: u64) -> Vec<u8> {
    envelope::encode(&UpCase::Case(CaseMsg {
        seq,
        case_id: format!("R-{seq}"),
        kind: "gd".into(),
        created_at: 1_767_225_600,
        claims: serde_json::Map::new(),
        verdict: None,
        risk: None,
        report: serde_json::json!({}),
        blobs: vec![],
    }))
}

fn acked_seqs(msgs: &[jachai_testkit::Message]) -> Vec<u64> {
    let mut seqs: Vec<u64> = msgs
        .iter()
        .filter_map(|m| match envelope::decode::<DownMsg>(&m.payload) {
            Ok(DownMsg::Ack(Ack { seqs })) => Some(seqs),
            _ => None,
        })
        .flatten()
        .collect();
    seqs.sort_unstable();
    seqs.dedup();
    seqs
}

/// Publishes with `mosquitto_pub` off the async runtime.
async fn publish(b: &Broker, who: &str, topic: &str, payload: Vec<u8>) {
    let id = b.identity(who).expect("cert");
    let out = tokio::task::block_in_place(|| b.publish(Some(&id), topic, &payload, false))
        .expect("mosquitto_pub");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_are_stored_and_acked_and_the_head_is_retained() {
    for db in common::databases().await {
        let b = Broker::start().expect("broker");
        let cfg = config(&b, &db, "cloud-1");
        let running = Running::start(cfg).await;
        let kiosk = b.identity("kiosk-a").expect("cert");
        let sub = tokio::task::block_in_place(|| {
            b.subscribe(
                Some(&kiosk),
                &["jachai/v1/k/kiosk-a/down/#", "jachai/v1/stolen/head"],
            )
        })
        .expect("sub");
        // The head arrives (retained) once the cloud is connected.
        let got =
            tokio::task::block_in_place(|| sub.wait_for(1, Duration::from_secs(15))).expect("head");
        let head = got
            .iter()
            .find(|m| m.topic == "jachai/v1/stolen/head")
            .expect("a head");
        let mut keys = TrustedKeys::new();
        let public = std::fs::read_to_string(db.dir.path().join("signing.key.pub"))
            .expect("public key beside the key");
        keys.add_hex(&public).expect("public key");
        keys.open_payload(&head.payload)
            .expect("the head is signed by that key");

        for seq in 1..=5 {
            publish(&b, "kiosk-a", "jachai/v1/k/kiosk-a/up/case", case(seq)).await;
        }
        // A case published by another kiosk's certificate under kiosk-a's topic never arrives.
        publish(&b, "kiosk-b", "jachai/v1/k/kiosk-a/up/case", case(6)).await;
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let mut seqs = Vec::new();
        while std::time::Instant::now() < deadline {
            seqs = acked_seqs(&sub.messages().expect("messages"));
            if seqs.len() >= 5 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(seqs, vec![1, 2, 3, 4, 5], "{}", db.label);
        let store = db.open().await;
        let stored: Vec<u64> = store
            .cases_of("kiosk-a")
            .await
            .expect("cases")
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(stored, vec![1, 2, 3, 4, 5]);

        // A decision through the running service reaches the kiosk, signed.
        let (done, reply) = oneshot::channel();
        running
            .commands
            .send(Command::Decide {
                kiosk: jachai_protocol::KioskId::new("kiosk-a").expect("id"),
                case_seq: 2,
                outcome: DecisionOutcome::Rejected,
                note: None,
                done,
            })
            .await
            .expect("send");
        reply.await.expect("reply").expect("decided");
        let is_decision =
            |m: &jachai_testkit::Message| m.topic == "jachai/v1/k/kiosk-a/down/decision";
        let got = tokio::task::block_in_place(|| {
            sub.wait_until(Duration::from_secs(10), |ms| ms.iter().any(is_decision))
        })
        .expect("decision");
        let d = got
            .iter()
            .find(|m| is_decision(m))
            .expect("decision delivered");
        keys.open_payload(&d.payload).expect("signed");
        running.stop().await;
        store.close().await;
        db.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_split_the_uplink_and_store_each_case_once() {
    let db = common::databases()
        .await
        .into_iter()
        .next_back()
        .expect("a database");
    let b = Broker::start().expect("broker");
    let one = Running::start(config(&b, &db, "cloud-1")).await;
    let two = Running::start(config(&b, &db, "cloud-2")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let kiosk = b.identity("kiosk-a").expect("cert");
    let sub = tokio::task::block_in_place(|| {
        b.subscribe(Some(&kiosk), &["jachai/v1/k/kiosk-a/down/ack"])
    })
    .expect("sub");
    for seq in 1..=30 {
        publish(&b, "kiosk-a", "jachai/v1/k/kiosk-a/up/case", case(seq)).await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while acked_seqs(&sub.messages().expect("m")).len() < 30 && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        acked_seqs(&sub.messages().expect("m")),
        (1..=30).collect::<Vec<_>>(),
        "{}",
        db.label
    );
    one.stop().await;
    two.stop().await;
    let store = db.open().await;
    assert_eq!(store.cases_of("kiosk-a").await.expect("cases").len(), 30);
    // Both instances took part (round-robin shared subscription).
    let log = b.log();
    assert!(log.contains("cloud-1") && log.contains("cloud-2"), "{log}");
    store.close().await;
    db.drop_db().await;
}
