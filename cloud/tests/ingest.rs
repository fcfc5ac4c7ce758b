//! Ingest against a real database (SQLite always, PostgreSQL too when available): idempotent cases,
//! blobs from chunks in any order, acks only for what is stored, bad input refused without harm.

mod common;

use std::sync::Arc;

use bytes::Bytes;
use jachai_cloud::ingest::Incoming;
use jachai_cloud::objects::{sha256_hex, Objects};
use jachai_cloud::{Ingest, Outgoing};
use jachai_protocol::blob::{self, BlobFinish, BlobInit, BlobJson};
use jachai_protocol::envelope::{self, Ack, BlobAck, BlobRef, CaseMsg, DownMsg, UpCase};
use jachai_protocol::sign::Signer;

async fn ingest_for(db: &common::TestDb) -> Ingest {
    let store = db.open().await;
    let objects = Objects::local(&db.blob_dir()).expect("objects");
    Ingest::new(store, objects, Arc::new(Signer::generate()))
}

fn msg(topic: &str, payload: Vec<u8>) -> Incoming {
    Incoming {
        topic: topic.to_string(),
        payload: Bytes::from(payload),
    }
}

fn case(seq: u64, id: &str, blobs: Vec<BlobRef>) -> Vec<u8> {
    let claims = serde_json::from_str(
        r#"{"imeis":["490154203237518"],"thana":"Mirpur","district":"Dhaka"}"#,
    )
    .expect("json");
    envelope::encode(&UpCase::Case(CaseMsg {
        seq,
        case_id: id.to_string(),
        kind: "gd".into(),
        created_at: 1_767_225_600,
        claims,
        verdict: Some("review".into()),
        risk: Some(42),
        report: serde_json::json!({"findings": []}),
        blobs,
    }))
}

fn acks(out: &[Outgoing], topic: &str) -> Vec<DownMsg> {
    out.iter()
        .filter(|o| o.topic == topic)
        .map(|o| envelope::decode::<DownMsg>(&o.payload).expect("an ack decodes"))
        .collect()
}

/// The blob's messages: init, chunks, finish.
fn blob_msgs(data: &[u8]) -> (String, Vec<Vec<u8>>) {
    let sha = sha256_hex(data);
    let raw: [u8; 32] = jachai_protocol::hex::decode::<32>(&sha).expect("hex");
    let count = blob::chunk_count(data.len() as u64);
    let mut msgs = vec![envelope::encode(&BlobJson::BlobInit(BlobInit {
        sha256: sha.clone(),
        size: data.len() as u64,
        role: "gd_copy".into(),
        case_seq: 1,
        chunks: count,
    }))];
    let chunks: Vec<&[u8]> = if data.is_empty() {
        vec![&[][..]]
    } else {
        data.chunks(blob::MAX_CHUNK).collect()
    };
    for (i, c) in chunks.iter().enumerate() {
        msgs.push(blob::encode_chunk(&raw, i as u32, count, c));
    }
    msgs.push(envelope::encode(&BlobJson::BlobFinish(BlobFinish {
        sha256: sha.clone(),
        chunks: count,
    })));
    (sha, msgs)
}

fn image(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

const UP_CASE: &str = "jachai/v1/k/kiosk-a/up/case";
const UP_BLOB: &str = "jachai/v1/k/kiosk-a/up/blob";
const DOWN_ACK: &str = "jachai/v1/k/kiosk-a/down/ack";

#[tokio::test]
async fn a_case_is_stored_once_and_acked_every_time() {
    for db in common::databases().await {
        let ing = ingest_for(&db).await;
        let batch = vec![
            msg(UP_CASE, case(1, "R-1", vec![])),
            msg(UP_CASE, case(2, "R-2", vec![])),
        ];
        let (out, stats) = ing.handle_batch(&batch).await.expect("batch");
        assert_eq!(stats.cases_new, 2, "{}", db.label);
        assert_eq!(
            acks(&out, DOWN_ACK),
            vec![DownMsg::Ack(Ack { seqs: vec![1, 2] })]
        );
        // Sent again (the kiosk missed the ack): stored once, acked again.
        let (out, stats) = ing.handle_batch(&batch[..1]).await.expect("again");
        assert_eq!((stats.cases_new, stats.cases_duplicate), (0, 1));
        assert_eq!(
            acks(&out, DOWN_ACK),
            vec![DownMsg::Ack(Ack { seqs: vec![1] })]
        );
        // The same seq with another case id (a reinstalled kiosk): kept aside, not dropped, acked.
        let (out, stats) = ing
            .handle_batch(&[msg(UP_CASE, case(1, "R-OTHER", vec![]))])
            .await
            .expect("conflict");
        assert_eq!(stats.cases_conflicting, 1);
        assert_eq!(acks(&out, DOWN_ACK).len(), 1);
        let store = ing.store();
        assert_eq!(
            store.cases_of("kiosk-a").await.expect("cases"),
            vec![(1, "R-1".into()), (2, "R-2".into())]
        );
        assert_eq!(
            store
                .count("SELECT COUNT(*) FROM case_conflicts")
                .await
                .expect("count"),
            1
        );
        // Another kiosk's seq 1 is another case.
        let (_, stats) = ing
            .handle_batch(&[msg("jachai/v1/k/kiosk-b/up/case", case(1, "R-B1", vec![]))])
            .await
            .expect("b");
        assert_eq!(stats.cases_new, 1);
        db.drop_db().await;
    }
}

#[tokio::test]
async fn a_blob_is_assembled_from_chunks_in_any_order_and_checked() {
    for db in common::databases().await {
        let ing = ingest_for(&db).await;
        let data = image(200_000, 7);
        let (sha, msgs) = blob_msgs(&data);
        assert_eq!(msgs.len(), 6, "init, 4 chunks, finish");
        // Init: nothing yet, resume from chunk 0.
        let (out, _) = ing
            .handle_batch(&[msg(UP_BLOB, msgs[0].clone())])
            .await
            .expect("init");
        assert_eq!(
            acks(&out, DOWN_ACK),
            vec![DownMsg::BlobAck(BlobAck {
                sha256: sha.clone(),
                next_chunk: 0,
                complete: false
            })]
        );
        // Chunks 0, 2 and 0 again: no answer for chunks alone until the blob is complete...
        let batch = [
            msg(UP_BLOB, msgs[1].clone()),
            msg(UP_BLOB, msgs[3].clone()),
            msg(UP_BLOB, msgs[1].clone()),
        ];
        let (out, _) = ing.handle_batch(&batch).await.expect("chunks");
        assert!(out.is_empty(), "{out:?}");
        // ...but a kiosk that starts again (init) learns to resume from 1.
        let (out, _) = ing
            .handle_batch(&[msg(UP_BLOB, msgs[0].clone())])
            .await
            .expect("init again");
        assert_eq!(
            acks(&out, DOWN_ACK),
            vec![DownMsg::BlobAck(BlobAck {
                sha256: sha.clone(),
                next_chunk: 1,
                complete: false
            })]
        );
        // The rest (and the finish): complete.
        let batch = [
            msg(UP_BLOB, msgs[4].clone()),
            msg(UP_BLOB, msgs[2].clone()),
            msg(UP_BLOB, msgs[5].clone()),
        ];
        let (out, stats) = ing.handle_batch(&batch).await.expect("rest");
        assert_eq!(stats.blobs_stored, 1, "{}", db.label);
        assert_eq!(
            acks(&out, DOWN_ACK),
            vec![DownMsg::BlobAck(BlobAck {
                sha256: sha.clone(),
                next_chunk: 4,
                complete: true
            })]
        );
        assert_eq!(
            &ing.objects().get_blob(&sha).await.expect("stored")[..],
            &data[..]
        );
        assert_eq!(
            ing.store()
                .count("SELECT COUNT(*) FROM blob_chunks")
                .await
                .expect("count"),
            0,
            "staging cleared"
        );
        // After a kiosk restart it sends the init again: told it is complete.
        let (out, stats) = ing
            .handle_batch(&[msg(UP_BLOB, msgs[0].clone()), msg(UP_BLOB, msgs[2].clone())])
            .await
            .expect("again");
        assert_eq!(stats.blobs_stored, 0);
        assert_eq!(
            acks(&out, DOWN_ACK),
            vec![DownMsg::BlobAck(BlobAck {
                sha256: sha.clone(),
                next_chunk: 4,
                complete: true
            })]
        );
        // An empty blob is one empty chunk.
        let (sha0, msgs0) = blob_msgs(b"");
        let batch: Vec<Incoming> = msgs0.into_iter().map(|m| msg(UP_BLOB, m)).collect();
        let (out, _) = ing.handle_batch(&batch).await.expect("empty blob");
        assert_eq!(
            acks(&out, DOWN_ACK),
            vec![DownMsg::BlobAck(BlobAck {
                sha256: sha0,
                next_chunk: 1,
                complete: true
            })]
        );
        db.drop_db().await;
    }
}

#[tokio::test]
async fn chunks_that_do_not_hash_to_the_blob_are_dropped_and_resent() {
    for db in common::databases().await {
        let ing = ingest_for(&db).await;
        let data = image(100_000, 3);
        let (sha, msgs) = blob_msgs(&data);
        let raw: [u8; 32] = jachai_protocol::hex::decode::<32>(&sha).expect("hex");
        let bad = blob::encode_chunk(&raw, 1, 2, &image(100_000 - blob::MAX_CHUNK, 99));
        let (out, stats) = ing
            .handle_batch(&[
                msg(UP_BLOB, msgs[1].clone()),
                msg(UP_BLOB, bad),
                msg(UP_BLOB, msgs[3].clone()),
            ])
            .await
            .expect("bad");
        assert_eq!(stats.blobs_stored, 0);
        assert_eq!(
            acks(&out, DOWN_ACK),
            vec![DownMsg::BlobAck(BlobAck {
                sha256: sha.clone(),
                next_chunk: 0,
                complete: false
            })]
        );
        assert!(
            ing.objects().get_blob(&sha).await.is_err(),
            "nothing stored under a hash it does not have"
        );
        let (out, _) = ing
            .handle_batch(&[msg(UP_BLOB, msgs[1].clone()), msg(UP_BLOB, msgs[2].clone())])
            .await
            .expect("good");
        assert_eq!(
            acks(&out, DOWN_ACK),
            vec![DownMsg::BlobAck(BlobAck {
                sha256: sha.clone(),
                next_chunk: 2,
                complete: true
            })]
        );
        assert_eq!(
            &ing.objects().get_blob(&sha).await.expect("stored")[..],
            &data[..]
        );
        db.drop_db().await;
    }
}

#[tokio::test]
async fn bad_input_is_refused_and_recorded_never_acked() {
    for db in common::databases().await {
        let ing = ingest_for(&db).await;
        let batch = vec![
            msg(UP_CASE, b"not json".to_vec()),
            msg(UP_CASE, br#"{"v":2,"type":"case","seq":9}"#.to_vec()),
            msg(UP_CASE, br#"{"v":1,"type":"case","seq":-1}"#.to_vec()),
            msg(UP_BLOB, b"JCH1 short".to_vec()),
            msg("jachai/v1/k/Bad_Id/up/case", case(5, "R-5", vec![])),
            msg("jachai/v1/k/kiosk-a/down/ack", b"{}".to_vec()),
            msg(
                "jachai/v1/k/kiosk-a/up/event",
                br#"{"v":1,"type":"nonsense"}"#.to_vec(),
            ),
            // A good case in the same batch is stored and acked regardless.
            msg(UP_CASE, case(3, "R-3", vec![])),
        ];
        let (out, stats) = ing.handle_batch(&batch).await.expect("batch");
        assert_eq!(stats.rejected, 7, "{}", db.label);
        assert_eq!(stats.cases_new, 1);
        assert_eq!(
            acks(&out, DOWN_ACK),
            vec![DownMsg::Ack(Ack { seqs: vec![3] })]
        );
        assert_eq!(out.len(), 1, "nothing else goes out: {out:?}");
        let errors = ing
            .store()
            .count(
                "SELECT COUNT(*) FROM rejected WHERE error LIKE '%unsupported protocol version 2%'",
            )
            .await
            .expect("count");
        assert_eq!(errors, 1);
        db.drop_db().await;
    }
}

#[tokio::test]
async fn a_case_names_its_blobs() {
    for db in common::databases().await {
        let ing = ingest_for(&db).await;
        let data = image(1000, 1);
        let r = BlobRef {
            sha256: sha256_hex(&data),
            size: 1000,
            role: "gd_copy".into(),
        };
        ing.handle_batch(&[msg(UP_CASE, case(1, "R-1", vec![r.clone()]))])
            .await
            .expect("case");
        ing.handle_batch(&[msg(UP_CASE, case(1, "R-1", vec![r.clone()]))])
            .await
            .expect("again");
        let n = ing
            .store()
            .count("SELECT COUNT(*) FROM case_blobs WHERE role = 'gd_copy'")
            .await
            .expect("count");
        assert_eq!(n, 1);
        db.drop_db().await;
    }
}

#[tokio::test]
async fn migrations_run_once_on_reopen() {
    for db in common::databases().await {
        let a = db.open().await;
        let b = db.open().await;
        assert_eq!(
            b.count("SELECT COUNT(*) FROM cloud_migrations")
                .await
                .expect("count"),
            5,
            "{}",
            db.label
        );
        a.close().await;
        b.close().await;
        db.drop_db().await;
    }
}

/// The labelled export: decided cases only, with their label, note, report and the images that arrived.
#[tokio::test]
async fn decided_cases_export_as_a_labelled_data_set() {
    use jachai_protocol::envelope::DecisionOutcome;
    use jachai_protocol::KioskId;
    for db in common::databases().await {
        let ing = ingest_for(&db).await;
        let data = image(5000, 3);
        let (sha, blob) = blob_msgs(&data);
        let r = BlobRef {
            sha256: sha.clone(),
            size: 5000,
            role: "gd_copy".into(),
        };
        let mut batch: Vec<Incoming> = blob.into_iter().map(|b| msg(UP_BLOB, b)).collect();
        batch.push(msg(UP_CASE, case(1, "R-1", vec![r])));
        batch.push(msg(UP_CASE, case(2, "R-2", vec![])));
        batch.push(msg(UP_CASE, case(3, "R-3", vec![])));
        ing.handle_batch(&batch).await.expect("stored");
        let kiosk = KioskId::new("kiosk-a").expect("id");
        ing.decide(
            &kiosk,
            1,
            DecisionOutcome::Approved,
            Some("thana confirmed".into()),
        )
        .await
        .expect("decide");
        ing.decide(
            &kiosk,
            2,
            DecisionOutcome::Rejected,
            Some("forged seal".into()),
        )
        .await
        .expect("decide");
        let out = tempfile::tempdir().expect("tempdir");
        let stats = jachai_cloud::export::export(&ing, out.path())
            .await
            .expect("export");
        assert_eq!(
            (stats.cases, stats.images, stats.images_missing),
            (2, 1, 0),
            "{}",
            db.label
        );
        let text = std::fs::read_to_string(out.path().join("cases.jsonl")).expect("jsonl");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        let labels: Vec<(&str, &str, &str)> = lines
            .iter()
            .map(|l| {
                (
                    l["id"].as_str().unwrap_or(""),
                    l["label"].as_str().unwrap_or(""),
                    l["note"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            labels,
            vec![
                ("R-1", "approved", "thana confirmed"),
                ("R-2", "rejected", "forged seal")
            ]
        );
        let file = lines[0]["images"][0]["file"].as_str().expect("image file");
        let bytes = std::fs::read(out.path().join(file)).expect("image");
        assert_eq!(sha256_hex(&bytes), sha);
        db.drop_db().await;
    }
}
