//! Signed downlink from the cloud's database (SQLite, and PostgreSQL when available): the stolen-index
//! head, deltas that chain from what a kiosk holds, snapshots when it holds nothing usable, and decisions
//! numbered gap-free per kiosk, re-sent when a heartbeat shows the kiosk behind.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use bytes::Bytes;
use jachai_cloud::ingest::Incoming;
use jachai_cloud::objects::Objects;
use jachai_cloud::{Ingest, Outgoing};
use jachai_protocol::envelope::{
    self, CaseMsg, DecisionOutcome, EventMsg, Heartbeat, SignedBody, StolenRequest, UpCase,
};
use jachai_protocol::sign::{Signer, TrustedKeys};
use jachai_protocol::stolen::{
    check_delta, check_result, check_snapshot, Held, StateHash, StolenEntry,
};
use jachai_protocol::KioskId;

async fn ingest_for(db: &common::TestDb) -> (Ingest, TrustedKeys) {
    let store = db.open().await;
    let objects = Objects::local(&db.blob_dir()).expect("objects");
    let signer = Signer::generate();
    let mut keys = TrustedKeys::new();
    keys.add(signer.verifying_key());
    (Ingest::new(store, objects, Arc::new(signer)), keys)
}

/// A Luhn-valid IMEI from a 14-digit body.
fn imei(body: u64) -> String {
    let b = format!("{body:014}");
    let digits: Vec<u32> = b.chars().filter_map(|c| c.to_digit(10)).collect();
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    format!("{b}{}", (10 - sum % 10) % 10)
}

fn entry(body: u64, place: &str) -> StolenEntry {
    StolenEntry {
        imei: imei(body),
        reported_at: "2026-11-30".into(),
        theft_location: place.into(),
    }
}

fn open(keys: &TrustedKeys, o: &Outgoing) -> SignedBody {
    keys.open_payload(&o.payload)
        .expect("signed by the cloud's key")
}

/// What a kiosk would do with the answers: apply deltas / a snapshot under the protocol's rules.
fn apply(keys: &TrustedKeys, held: &mut (Held, HashSet<StolenEntry>), out: &[Outgoing]) {
    let mut snapshot: Vec<StolenEntry> = Vec::new();
    for o in out {
        match open(keys, o) {
            SignedBody::StolenDelta(d) => {
                check_delta(&held.0, &d).expect("delta follows the held state");
                for imei in &d.removed {
                    held.1.retain(|e| &e.imei != imei);
                }
                for e in &d.added {
                    held.1.retain(|x| x.imei != e.imei);
                    held.1.insert(e.clone());
                }
                let h = StateHash::of(held.1.iter()).expect("hash");
                check_result(&d.hash, h).expect("hash after delta");
                held.0 = Held {
                    version: d.version,
                    hash: h,
                };
            }
            SignedBody::StolenSnapshot(p) => {
                check_snapshot(&held.0, &p).expect("snapshot newer");
                snapshot.extend(p.entries.iter().cloned());
                if p.part + 1 == p.parts {
                    let h = StateHash::of(snapshot.iter()).expect("hash");
                    check_result(&p.hash, h).expect("snapshot hash");
                    held.1 = std::mem::take(&mut snapshot).into_iter().collect();
                    held.0 = Held {
                        version: p.version,
                        hash: h,
                    };
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn stolen_index_versions_chain_and_answer_requests() {
    for db in common::databases().await {
        let (ing, keys) = ingest_for(&db).await;
        let k = KioskId::new("kiosk-a").expect("id");
        let stolen = ing.stolen();
        let head = stolen.head().await.expect("head");
        assert!(head.retain && head.topic == "jachai/v1/stolen/head");
        let SignedBody::StolenHead(h) = open(&keys, &head) else {
            panic!("a head")
        };
        assert_eq!((h.version, h.count), (0, 0));
        assert!(h.expires_at > h.signed_at);

        let (v1, out) = stolen
            .apply(&[entry(1, "Mirpur"), entry(2, "Uttara")], &[])
            .await
            .expect("v1");
        assert_eq!(v1, 1);
        assert_eq!(out.len(), 1, "the new head");
        let (v2, _) = stolen
            .apply(
                &[entry(3, "Gulshan"), entry(1, "Mirpur, Dhaka")],
                &[imei(2)],
            )
            .await
            .expect("v2");
        assert_eq!(v2, 2);
        // Nothing new: no version.
        let (same, out) = stolen
            .apply(&[entry(3, "Gulshan")], &[imei(77)])
            .await
            .expect("noop");
        assert_eq!((same, out.len()), (2, 0));
        assert!(stolen
            .apply(
                &[StolenEntry {
                    imei: "123".into(),
                    reported_at: String::new(),
                    theft_location: String::new()
                }],
                &[]
            )
            .await
            .is_err());

        // A kiosk with nothing gets a snapshot; one at v1 gets the delta to v2; both end equal.
        let mut fresh = (Held::EMPTY, HashSet::new());
        let req = |have: u64, hash: StateHash, snapshot: bool| StolenRequest {
            have,
            have_hash: hash.to_hex(),
            want: 2,
            snapshot,
        };
        let out = stolen
            .answer(&k, &req(0, StateHash::EMPTY, false))
            .await
            .expect("answer");
        assert!(out
            .iter()
            .all(|o| o.topic == "jachai/v1/k/kiosk-a/down/stolen" && !o.retain));
        apply(&keys, &mut fresh, &out);
        assert_eq!(fresh.0.version, 2, "{}", db.label);
        let expected: HashSet<StolenEntry> = [entry(1, "Mirpur, Dhaka"), entry(3, "Gulshan")]
            .into_iter()
            .collect();
        assert_eq!(fresh.1, expected);

        let mut at_v1 = (Held::EMPTY, HashSet::new());
        let v1_entries: HashSet<StolenEntry> = [entry(1, "Mirpur"), entry(2, "Uttara")]
            .into_iter()
            .collect();
        at_v1.0 = Held {
            version: 1,
            hash: StateHash::of(v1_entries.iter()).expect("hash"),
        };
        at_v1.1 = v1_entries;
        let out = stolen
            .answer(&k, &req(1, at_v1.0.hash, false))
            .await
            .expect("answer");
        assert_eq!(out.len(), 1, "one delta");
        assert!(matches!(open(&keys, &out[0]), SignedBody::StolenDelta(_)));
        apply(&keys, &mut at_v1, &out);
        assert_eq!(at_v1, fresh);

        // A kiosk whose v1 diverged (other hash) gets a snapshot, as does one asking for it.
        let mut diverged = (
            Held {
                version: 1,
                hash: StateHash::EMPTY,
            },
            HashSet::new(),
        );
        let out = stolen
            .answer(&k, &req(1, StateHash::EMPTY, false))
            .await
            .expect("answer");
        assert!(matches!(
            open(&keys, &out[0]),
            SignedBody::StolenSnapshot(_)
        ));
        apply(&keys, &mut diverged, &out);
        assert_eq!(diverged.1, fresh.1);
        // Up to date: just the head.
        let out = stolen
            .answer(&k, &req(2, fresh.0.hash, false))
            .await
            .expect("answer");
        assert!(matches!(open(&keys, &out[0]), SignedBody::StolenHead(_)));
        db.drop_db().await;
    }
}

#[tokio::test]
async fn a_large_snapshot_comes_in_parts() {
    for db in common::databases().await {
        let (ing, keys) = ingest_for(&db).await;
        let entries: Vec<StolenEntry> = (0..4500)
            .map(|i| entry(35_000_000_000_000 + i, "Dhaka"))
            .collect();
        ing.stolen().apply(&entries, &[]).await.expect("apply");
        let k = KioskId::new("kiosk-a").expect("id");
        let req = StolenRequest {
            have: 0,
            have_hash: StateHash::EMPTY.to_hex(),
            want: 1,
            snapshot: true,
        };
        let out = ing.stolen().answer(&k, &req).await.expect("answer");
        assert_eq!(out.len(), 3, "2000 entries a part");
        assert!(
            out.iter().all(|o| o.payload.len() < 1 << 20),
            "each part fits the broker's packet limit"
        );
        let mut held = (Held::EMPTY, HashSet::new());
        apply(&keys, &mut held, &out);
        assert_eq!(held.1.len(), 4500, "{}", db.label);
        db.drop_db().await;
    }
}

#[tokio::test]
async fn decisions_are_numbered_per_kiosk_and_resent_to_a_kiosk_behind() {
    for db in common::databases().await {
        let (ing, keys) = ingest_for(&db).await;
        let claims = serde_json::from_str(&format!(
            r#"{{"imeis":["{}"],"theft_location":"Mirpur"}}"#,
            imei(42)
        ))
        .expect("json");
        let c = envelope::encode(&UpCase::Case(CaseMsg {
            seq: 7,
            case_id: "R-7".into(),
            kind: "gd".into(),
            created_at: 1_767_225_600,
            claims,
            verdict: Some("review".into()),
            risk: Some(50),
            report: serde_json::json!({}),
            blobs: vec![],
        }));
        let up = Incoming {
            topic: "jachai/v1/k/kiosk-a/up/case".into(),
            payload: Bytes::from(c),
        };
        let (_, stats) = ing.handle_batch(&[up]).await.expect("case");
        let why: Vec<String> = sqlx::query_scalar("SELECT error FROM rejected")
            .fetch_all(ing.store().pool())
            .await
            .expect("q");
        assert_eq!(stats.cases_new, 1, "{stats:?} {why:?}");
        let k = KioskId::new("kiosk-a").expect("id");
        assert!(
            ing.decide(&k, 99, DecisionOutcome::Approved, None)
                .await
                .is_err(),
            "no such case"
        );

        let out = ing
            .decide(&k, 7, DecisionOutcome::Rejected, Some("blurred".into()))
            .await
            .expect("decide");
        assert_eq!(out.len(), 1);
        let out2 = ing
            .decide(&k, 7, DecisionOutcome::Approved, None)
            .await
            .expect("decide");
        assert_eq!(out2.len(), 2, "the decision and the new stolen head");
        let SignedBody::Decision(d1) = open(&keys, &out[0]) else {
            panic!("decision")
        };
        let SignedBody::Decision(d2) = open(&keys, &out2[0]) else {
            panic!("decision")
        };
        assert_eq!((d1.seq, d2.seq), (1, 2), "{}", db.label);
        assert_eq!(d2.case_id, "R-7");
        assert_eq!(out[0].topic, "jachai/v1/k/kiosk-a/down/decision");
        let SignedBody::StolenHead(h) = open(&keys, &out2[1]) else {
            panic!("head")
        };
        assert_eq!((h.version, h.count), (1, 1));

        // A heartbeat saying the kiosk applied decision 1: decision 2 is sent again, byte for byte.
        let hb = envelope::encode(&EventMsg::Heartbeat(Heartbeat {
            at: 1,
            backlog: 0,
            oldest_unacked_age_s: None,
            index_version: 0,
            decision_seq: 1,
            app_version: "test".into(),
        }));
        let (out3, _) = ing
            .handle_batch(&[Incoming {
                topic: "jachai/v1/k/kiosk-a/up/event".into(),
                payload: Bytes::from(hb),
            }])
            .await
            .expect("heartbeat");
        assert_eq!(out3, vec![out2[0].clone()]);
        assert_eq!(
            ing.store()
                .count("SELECT backlog FROM kiosks WHERE kiosk = 'kiosk-a'")
                .await
                .expect("kiosk row"),
            0
        );
        db.drop_db().await;
    }
}

/// The in-memory copy behind the public lookup: this instance's changes are seen at once, another
/// instance's after a refresh, removals included.
#[tokio::test]
async fn lookups_follow_the_index_across_instances() {
    for db in common::databases().await {
        let (a, _) = ingest_for(&db).await;
        let (b, _) = ingest_for(&db).await;
        let entry = |body: u64| StolenEntry {
            imei: imei(body),
            reported_at: "2026-12-01".into(),
            theft_location: "Mirpur".into(),
        };
        assert_eq!(a.stolen().lookup(&imei(1)).await.expect("lookup"), None);
        assert_eq!(b.stolen().lookup(&imei(1)).await.expect("lookup"), None);
        a.stolen()
            .apply(&[entry(1), entry(2)], &[])
            .await
            .expect("apply");
        assert_eq!(
            a.stolen().lookup(&imei(1)).await.expect("lookup"),
            Some(entry(1)),
            "{}",
            db.label
        );
        // B has not looked again yet; after a refresh it has.
        assert_eq!(b.stolen().lookup(&imei(2)).await.expect("lookup"), None);
        b.stolen().refresh().await.expect("refresh");
        assert_eq!(
            b.stolen().lookup(&imei(2)).await.expect("lookup"),
            Some(entry(2))
        );
        // A change through B, on top of what A remembers: A reads it all again.
        b.stolen()
            .apply(&[entry(3)], &[imei(1)])
            .await
            .expect("apply");
        a.stolen().refresh().await.expect("refresh");
        assert_eq!(a.stolen().lookup(&imei(1)).await.expect("lookup"), None);
        assert_eq!(
            a.stolen().lookup(&imei(3)).await.expect("lookup"),
            Some(entry(3))
        );
        // And A's own change on top of that is applied in memory.
        a.stolen().apply(&[], &[imei(3)]).await.expect("apply");
        assert_eq!(a.stolen().lookup(&imei(3)).await.expect("lookup"), None);
        db.drop_db().await;
    }
}
