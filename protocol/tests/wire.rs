//! The wire JSON of every message, as snapshots: a change here is a protocol change the cloud
//! and every deployed kiosk must agree on. Also proptest round trips through encode/decode.

use jachai_protocol::blob::{self, BlobFinish, BlobInit, BlobJson, BlobMsg};
use jachai_protocol::envelope::BlobRef;
use jachai_protocol::sign::Signer;
use jachai_protocol::stolen::{SnapshotPart, StateHash, StolenDelta, StolenEntry, StolenHead};
use jachai_protocol::{
    decode, encode, Ack, BlobAck, CaseMsg, Decision, DecisionOutcome, DecisionRequest, DownMsg,
    EventMsg, Heartbeat, KioskId, LookupHit, Refused, SignedBody, Status, StatusMsg, StatusState,
    StolenRequest, UpCase,
};
use proptest::prelude::*;

fn json(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("JSON is UTF-8")
}

fn entry(imei: &str, at: &str, loc: &str) -> StolenEntry {
    StolenEntry {
        imei: imei.into(),
        reported_at: at.into(),
        theft_location: loc.into(),
    }
}

fn case() -> CaseMsg {
    let mut claims = serde_json::Map::new();
    claims.insert("imeis".into(), serde_json::json!(["356938035643809"]));
    claims.insert("thana".into(), serde_json::json!("Dhanmondi"));
    CaseMsg {
        seq: 42,
        case_id: "dhaka-01-000042".into(),
        kind: "gd".into(),
        created_at: 1_780_000_000,
        claims,
        verdict: Some("review".into()),
        risk: Some(35),
        report: serde_json::json!({"findings":[{"code":"seal_missing","points":15}]}),
        blobs: vec![BlobRef {
            sha256: "ab".repeat(32),
            size: 200_000,
            role: "gd_copy".into(),
        }],
    }
}

#[test]
fn uplink_wire_json() {
    insta::assert_snapshot!("case", json(&encode(&UpCase::Case(case()))));
    let init = BlobJson::BlobInit(BlobInit {
        sha256: "ab".repeat(32),
        size: 200_000,
        role: "gd_copy".into(),
        case_seq: 42,
        chunks: blob::chunk_count(200_000),
    });
    insta::assert_snapshot!("blob_init", json(&encode(&init)));
    let finish = BlobJson::BlobFinish(BlobFinish {
        sha256: "ab".repeat(32),
        chunks: 4,
    });
    insta::assert_snapshot!("blob_finish", json(&encode(&finish)));
    let events = [
        EventMsg::Heartbeat(Heartbeat {
            at: 1_780_000_100,
            backlog: 3,
            oldest_unacked_age_s: Some(95),
            index_version: 17,
            decision_seq: 4,
            app_version: "0.1.0".into(),
        }),
        EventMsg::LookupHit(LookupHit {
            at: 1_780_000_200,
            imei: "356938035643809".into(),
        }),
        EventMsg::Refused(Refused {
            at: 1_780_000_300,
            topic: "jachai/v1/stolen/head".into(),
            code: "rollback".into(),
            detail: "rollback refused: holding version 17, got 16".into(),
        }),
        EventMsg::StolenRequest(StolenRequest {
            have: 17,
            have_hash: StateHash::EMPTY.to_hex(),
            want: 19,
            snapshot: false,
        }),
        EventMsg::DecisionRequest(DecisionRequest { from_seq: 5 }),
    ];
    let lines: Vec<String> = events.iter().map(|e| json(&encode(e))).collect();
    insta::assert_snapshot!("events", lines.join("\n"));
    let status = Status {
        state: StatusState::Offline,
        app_version: "0.1.0".into(),
    };
    insta::assert_snapshot!("status", json(&encode(&StatusMsg::Status(status))));
}

#[test]
fn downlink_wire_json() {
    let ack = DownMsg::Ack(Ack { seqs: vec![41, 42] });
    let blob_ack = DownMsg::BlobAck(BlobAck {
        sha256: "ab".repeat(32),
        next_chunk: 2,
        complete: false,
    });
    insta::assert_snapshot!(
        "acks",
        format!("{}\n{}", json(&encode(&ack)), json(&encode(&blob_ack)))
    );

    let e1 = entry("356938035643809", "2026-03-12", "Dhanmondi, Dhaka");
    let e2 = entry("490154203237518", "2026-03-13", "Kotwali, Chattogram");
    let h1 = StateHash::of([&e1]).expect("valid");
    let h2 = StateHash::of([&e1, &e2]).expect("valid");
    let bodies = [
        SignedBody::Decision(Decision {
            kiosk: KioskId::new("dhaka-01").expect("valid"),
            seq: 5,
            case_seq: 42,
            case_id: "dhaka-01-000042".into(),
            outcome: DecisionOutcome::Approved,
            note: Some("GD copy checked by phone with the thana".into()),
            decided_at: 1_780_001_000,
        }),
        SignedBody::StolenHead(StolenHead {
            version: 2,
            hash: h2.to_hex(),
            count: 2,
            signed_at: 1_780_001_000,
            expires_at: 1_780_605_800,
        }),
        SignedBody::StolenDelta(StolenDelta {
            version: 2,
            base_version: 1,
            base_hash: h1.to_hex(),
            hash: h2.to_hex(),
            count: 2,
            added: vec![e2.clone()],
            removed: vec![],
            signed_at: 1_780_001_000,
        }),
        SignedBody::StolenSnapshot(SnapshotPart {
            version: 2,
            hash: h2.to_hex(),
            count: 2,
            part: 0,
            parts: 1,
            entries: vec![e1, e2],
            signed_at: 1_780_001_000,
        }),
    ];
    let lines: Vec<String> = bodies.iter().map(|b| json(&encode(b))).collect();
    insta::assert_snapshot!("signed_bodies", lines.join("\n"));
    // A deterministic key, so the signature in the snapshot is stable (ed25519 is deterministic).
    let signer = Signer::from_seed([9; 32]);
    insta::assert_snapshot!("signed_decision", json(&signer.sign(&bodies[0])));
}

#[test]
fn chunk_frame_layout() {
    let frame = blob::encode_chunk(&[0xab; 32], 1, 4, b"\x00\x01\xff");
    assert_eq!(&frame[..4], b"JCH1");
    assert_eq!(&frame[36..40], &[0, 0, 0, 1]);
    assert_eq!(&frame[40..44], &[0, 0, 0, 4]);
    assert_eq!(&frame[44..], b"\x00\x01\xff");
    assert!(matches!(blob::decode(&frame), Ok(BlobMsg::Chunk(_))));
    let init = encode(&BlobJson::BlobFinish(BlobFinish {
        sha256: "ab".repeat(32),
        chunks: 4,
    }));
    assert!(matches!(
        blob::decode(&init),
        Ok(BlobMsg::Json(BlobJson::BlobFinish(_)))
    ));
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,20}"
}

fn valid_imei() -> impl Strategy<Value = String> {
    (0u64..100_000_000_000_000)
        .prop_map(|b| jachai_protocol::imei::from_body(b).expect("14 digits"))
}

proptest! {
    #[test]
    fn case_round_trip(seq in any::<u64>(), id in text(), kind in text(), created_at in any::<u64>(),
                       risk in proptest::option::of(0u8..=100), note in text()) {
        let mut msg = case();
        msg.seq = seq;
        msg.case_id = id;
        msg.kind = kind;
        msg.created_at = created_at;
        msg.risk = risk;
        msg.claims.insert("note".into(), serde_json::Value::String(note));
        let wire = UpCase::Case(msg);
        prop_assert_eq!(decode::<UpCase>(&encode(&wire)), Ok(wire));
    }

    #[test]
    fn events_round_trip(at in any::<u64>(), backlog in any::<u64>(), age in proptest::option::of(any::<u64>()),
                         v in any::<u64>(), version in text()) {
        let msg = EventMsg::Heartbeat(Heartbeat {
            at, backlog, oldest_unacked_age_s: age, index_version: v, decision_seq: v / 2, app_version: version,
        });
        prop_assert_eq!(decode::<EventMsg>(&encode(&msg)), Ok(msg));
    }

    #[test]
    fn acks_round_trip(seqs in proptest::collection::vec(any::<u64>(), 0..50), next in any::<u32>(), complete: bool) {
        let ack = DownMsg::Ack(Ack { seqs });
        prop_assert_eq!(decode::<DownMsg>(&encode(&ack)), Ok(ack));
        let b = DownMsg::BlobAck(BlobAck { sha256: "cd".repeat(32), next_chunk: next, complete });
        prop_assert_eq!(decode::<DownMsg>(&encode(&b)), Ok(b));
    }

    #[test]
    fn signed_delta_round_trip(added in proptest::collection::vec((valid_imei(), text(), text()), 0..20),
                               removed in proptest::collection::vec(valid_imei(), 0..5),
                               version in 1u64..u64::MAX, seed in proptest::array::uniform32(any::<u8>())) {
        let added: Vec<StolenEntry> = added.into_iter().map(|(i, a, l)| entry(&i, &a, &l)).collect();
        let hash = StateHash::of(&added).expect("valid");
        let body = SignedBody::StolenDelta(StolenDelta {
            version, base_version: version - 1, base_hash: StateHash::EMPTY.to_hex(), hash: hash.to_hex(),
            count: added.len() as u64, added, removed, signed_at: 7,
        });
        let signer = Signer::from_seed(seed);
        let mut keys = jachai_protocol::sign::TrustedKeys::new();
        keys.add(signer.verifying_key());
        prop_assert_eq!(keys.open_payload(&signer.sign(&body)), Ok(body));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode::<DownMsg>(&bytes);
        let _ = decode::<EventMsg>(&bytes);
        let _ = decode::<UpCase>(&bytes);
        let _ = decode::<StatusMsg>(&bytes);
        let _ = blob::decode(&bytes);
    }
}
