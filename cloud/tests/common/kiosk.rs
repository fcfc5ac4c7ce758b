//! The kiosk side of end-to-end tests (its real store, written as the kiosk app would) and the check that
//! the cloud holds exactly what the kiosk recorded: every case once, every image whole.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use jachai_edge_sync::store::{sha256_hex, NewCase, NewImage, Store};
use rand::RngCore;

use super::procs::{Proc, Site, KIOSK};

/// What the kiosk recorded: seq, case id, image SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Recorded {
    pub seq: u64,
    pub case_id: String,
    pub sha256: String,
}

pub struct Kiosk {
    pub store: Store,
    pub recorded: Vec<Recorded>,
}

impl Kiosk {
    pub fn open(site: &Site) -> Kiosk {
        let store = Store::open(&site.kiosk_db(), &site.kiosk_blobs()).expect("kiosk store");
        Kiosk {
            store,
            recorded: Vec::new(),
        }
    }

    /// Records `n` theft reports, each with one random image of `image_bytes`.
    pub fn record(&mut self, n: usize, image_bytes: usize) {
        let mut rng = rand::thread_rng();
        for _ in 0..n {
            let mut bytes = vec![0u8; image_bytes];
            rng.fill_bytes(&mut bytes);
            let sha256 = sha256_hex(&bytes);
            let case_id = format!("R-{:016x}", rng.next_u64());
            let claims = serde_json::from_str(
                r#"{"imeis":["490154203237518"],"thana":"Mirpur","district":"Dhaka"}"#,
            )
            .expect("json");
            let seq = self
                .store
                .record_case(&NewCase {
                    case_id: case_id.clone(),
                    kind: "gd".into(),
                    created_at: 1_767_225_600,
                    claims,
                    verdict: Some("review".into()),
                    risk: Some(40),
                    report: serde_json::json!({"findings": []}),
                    images: vec![NewImage {
                        role: "gd_copy".into(),
                        bytes,
                    }],
                })
                .expect("record a case");
            self.recorded.push(Recorded {
                seq,
                case_id,
                sha256,
            });
        }
    }

    pub fn backlog(&self) -> u64 {
        self.store.unacked_count().expect("backlog")
    }

    /// Waits until the kiosk's outbox is empty (every case acked by the cloud), checking the daemons
    /// stay up. Returns how long it took.
    pub fn wait_drained(&self, timeout: Duration, procs: &mut [&mut Proc]) -> Duration {
        let start = Instant::now();
        loop {
            let backlog = self.backlog();
            if backlog == 0 {
                return start.elapsed();
            }
            for p in procs.iter_mut() {
                p.assert_alive();
            }
            if start.elapsed() > timeout {
                let tails: Vec<String> = procs
                    .iter()
                    .map(|p| format!("--- {}:\n{}", p.name, p.log_tail()))
                    .collect();
                panic!(
                    "backlog still {backlog} after {timeout:?}\n{}",
                    tails.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The cloud holds exactly the recorded cases (no loss, no duplicate, same ids) and each image whole.
pub fn verify_cloud(site: &Site, recorded: &[Recorded]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let store = jachai_cloud::Store::open(&site.cloud_db_url)
            .await
            .expect("cloud db");
        let objects = jachai_cloud::objects::Objects::local(&site.cloud_blobs()).expect("objects");
        let got = store.cases_of(KIOSK).await.expect("cases");
        let want: Vec<(u64, String)> = recorded
            .iter()
            .map(|r| (r.seq, r.case_id.clone()))
            .collect();
        let missing: Vec<_> = want.iter().filter(|w| !got.contains(w)).collect();
        let extra: Vec<_> = got.iter().filter(|g| !want.contains(g)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "lost {} ({missing:?}), unexpected {} ({extra:?})",
            missing.len(),
            extra.len()
        );
        assert_eq!(got.len(), recorded.len(), "duplicates in the cloud");
        let ids: BTreeSet<&str> = got.iter().map(|(_, id)| id.as_str()).collect();
        assert_eq!(ids.len(), recorded.len(), "a case id stored under two seqs");
        let all = store
            .count("SELECT COUNT(*) FROM cases")
            .await
            .expect("count");
        assert_eq!(
            all,
            i64::try_from(recorded.len()).expect("n"),
            "rows in cases"
        );
        let refs = store
            .count("SELECT COUNT(*) FROM case_blobs")
            .await
            .expect("count");
        assert_eq!(refs, all, "one image reference per case");
        let blobs = store
            .count("SELECT COUNT(*) FROM blobs")
            .await
            .expect("count");
        assert_eq!(blobs, all, "one stored blob per case");
        assert_eq!(
            store
                .count("SELECT COUNT(*) FROM case_conflicts")
                .await
                .expect("count"),
            0
        );
        for r in recorded {
            let bytes = objects
                .get_blob(&r.sha256)
                .await
                .unwrap_or_else(|e| panic!("blob of case {}: {e}", r.seq));
            assert_eq!(
                sha256_hex(&bytes),
                r.sha256,
                "blob of case {} intact",
                r.seq
            );
        }
        store.close().await;
    });
}
