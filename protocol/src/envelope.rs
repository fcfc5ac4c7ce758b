//! Versioned JSON envelopes: every JSON message is `{"v":1,"type":...,...}`. [`encode`] writes the
//! `v`; [`decode`] checks it before anything else, so a message from a newer protocol is refused
//! as [`ProtocolError::UnsupportedVersion`] rather than as malformed.
//!
//! Messages by topic (see [`crate::topic`]):
//! - `up/case`: [`UpCase::Case`] with a [`CaseMsg`],
//! - `up/blob`: [`crate::blob::BlobMsg`] (JSON init / finish, binary chunks),
//! - `up/event`: [`EventMsg`] (heartbeat, lookup hit, refusal, stolen-index and decision requests),
//! - `down/ack`: [`DownMsg::Ack`], [`DownMsg::BlobAck`] (unsigned: the broker's ACL lets only the
//!   cloud publish there),
//! - `down/decision`, `down/stolen`, `stolen/head`: [`DownMsg::Signed`], a
//!   [`crate::sign::SignedEnvelope`] whose payload is an encoded [`SignedBody`],
//! - `status`: [`StatusMsg::Status`] with a [`Status`].

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::sign::SignedEnvelope;
use crate::stolen::{SnapshotPart, StolenDelta, StolenHead};
use crate::{KioskId, ProtocolError};

/// The envelope version this build writes and accepts.
pub const PROTOCOL_VERSION: u64 = 1;

#[derive(Serialize)]
struct Versioned<'a, T> {
    v: u64,
    #[serde(flatten)]
    body: &'a T,
}

/// Encode a message (one of the `type`-tagged enums or structs here) as `{"v":1,"type":...}`.
pub fn encode<T: Serialize>(msg: &T) -> Vec<u8> {
    // Serialising these plain data types into memory cannot fail (no maps with non-string keys).
    serde_json::to_vec(&Versioned {
        v: PROTOCOL_VERSION,
        body: msg,
    })
    .unwrap_or_default()
}

/// Decode a JSON envelope: check `v`, then the `type` and fields (unknown fields are refused).
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ProtocolError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(ProtocolError::malformed)?;
    let serde_json::Value::Object(mut map) = value else {
        return Err(ProtocolError::malformed("an envelope is a JSON object"));
    };
    match map.remove("v") {
        None => return Err(ProtocolError::malformed("missing envelope version `v`")),
        Some(v) => match v.as_u64() {
            Some(PROTOCOL_VERSION) => {}
            Some(other) => return Err(ProtocolError::UnsupportedVersion(other)),
            None => {
                return Err(ProtocolError::malformed(format_args!(
                    "bad envelope version {v}"
                )))
            }
        },
    }
    serde_json::from_value(serde_json::Value::Object(map)).map_err(ProtocolError::malformed)
}

/// A blob a case refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlobRef {
    /// SHA-256 of the bytes, 64 lower-case hex digits (also the blob's file name).
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// What the image is: `gd_copy`, `phone_box`, `cheque`, `image`, `annotated`.
    pub role: String,
}

/// `up/case` messages (one kind; an enum so the `type` tag is written and checked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum UpCase {
    /// A case.
    Case(CaseMsg),
}

/// One case from the kiosk's outbox (inside [`UpCase::Case`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseMsg {
    /// Per-kiosk outbox sequence, strictly increasing; the cloud stores (kiosk, seq) once.
    pub seq: u64,
    /// The report id printed on the citizen's receipt.
    pub case_id: String,
    /// `gd`, `cheque`, `image`, `box`, `lookup`.
    pub kind: String,
    /// When the case was recorded, unix seconds (kiosk clock).
    pub created_at: u64,
    /// What the person typed or picked: IMEIs, thana, district, theft location, …
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// The verdict `approve` / `review` / `reject`, when a report was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    /// Risk 0–100, when a report was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<u8>,
    /// The report summary (findings, fields) as `verify` wrote it.
    pub report: serde_json::Value,
    /// Images sent before the case on `up/blob`.
    pub blobs: Vec<BlobRef>,
}

/// `up/event` messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventMsg {
    /// Periodic health.
    Heartbeat(Heartbeat),
    /// A shop lookup hit a stolen IMEI.
    LookupHit(LookupHit),
    /// A downlink message the kiosk refused (bad signature, rollback, …).
    Refused(Refused),
    /// Ask for stolen-index deltas from `have` to `want` (or a snapshot).
    StolenRequest(StolenRequest),
    /// Ask for decisions from `from_seq` on (a gap was seen).
    DecisionRequest(DecisionRequest),
}

/// Health, sent every heartbeat interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// Kiosk time, unix seconds.
    pub at: u64,
    /// Unacked outbox rows.
    pub backlog: u64,
    /// Age of the oldest unacked row in seconds (`None` when the backlog is empty).
    pub oldest_unacked_age_s: Option<u64>,
    /// Stolen-index version held (0 = none yet).
    pub index_version: u64,
    /// Last decision sequence applied.
    pub decision_seq: u64,
    /// `jachai-sync` version.
    pub app_version: String,
}

/// A lookup that found a stolen IMEI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupHit {
    /// Kiosk time, unix seconds.
    pub at: u64,
    /// The IMEI, 15 digits.
    pub imei: String,
}

/// A downlink message refused by the kiosk, reported upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refused {
    /// Kiosk time, unix seconds.
    pub at: u64,
    /// The topic it came on.
    pub topic: String,
    /// [`ProtocolError::code`].
    pub code: String,
    /// The error in words.
    pub detail: String,
}

/// Ask the cloud for the stolen index on `down/stolen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StolenRequest {
    /// Version held (0 = none); the cloud answers with deltas after it or a snapshot.
    pub have: u64,
    /// State hash held (hex).
    pub have_hash: String,
    /// The head version the kiosk saw.
    pub want: u64,
    /// Ask for a full snapshot (the held state is unusable).
    pub snapshot: bool,
}

/// Ask the cloud to re-send decisions from `from_seq` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// The first decision sequence missing.
    pub from_seq: u64,
}

/// Downlink messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DownMsg {
    /// `down/ack`: case seqs durably stored by the cloud.
    Ack(Ack),
    /// `down/ack`: blob bytes durably stored up to a chunk.
    BlobAck(BlobAck),
    /// `down/decision`, `down/stolen`, `stolen/head`: a signed [`SignedBody`].
    Signed(SignedEnvelope),
}

/// The cloud stored these case seqs (database commit done).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ack {
    /// Outbox seqs now safe to forget.
    pub seqs: Vec<u64>,
}

/// The cloud stored a blob's chunks below `next_chunk`; `complete` once the whole blob was
/// checked against its SHA-256 and stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlobAck {
    /// The blob.
    pub sha256: String,
    /// First chunk the cloud does not hold.
    pub next_chunk: u32,
    /// Whole blob stored and checked.
    pub complete: bool,
}

/// What is inside a signed downlink envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SignedBody {
    /// An admin decision on a case.
    Decision(Decision),
    /// The latest stolen-index version.
    StolenHead(StolenHead),
    /// Changes from one version to the next.
    StolenDelta(StolenDelta),
    /// One part of a full snapshot.
    StolenSnapshot(SnapshotPart),
}

/// Approve or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionOutcome {
    /// The report is accepted; its IMEIs join the stolen index.
    Approved,
    /// The report is refused.
    Rejected,
}

/// An admin's decision on one case, for the kiosk that recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// The kiosk the case came from (checked against the topic and the receiver).
    pub kiosk: KioskId,
    /// Per-kiosk decision sequence, gap-free from 1.
    pub seq: u64,
    /// The case's outbox seq.
    pub case_seq: u64,
    /// The case's report id.
    pub case_id: String,
    /// Approve or reject.
    pub outcome: DecisionOutcome,
    /// Why, for the receipt desk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// When decided, unix seconds (cloud clock).
    pub decided_at: u64,
}

/// `status` messages (one kind; an enum so the `type` tag is written and checked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StatusMsg {
    /// Online or offline.
    Status(Status),
}

/// `status` (retained): online when connected, offline as the LWT (inside [`StatusMsg::Status`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Status {
    /// Online or offline.
    pub state: StatusState,
    /// `jachai-sync` version.
    pub app_version: String,
}

/// Kiosk connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusState {
    /// Connected.
    Online,
    /// Gone (clean shutdown or LWT).
    Offline,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_checked_first() {
        let err = decode::<DownMsg>(br#"{"v":2,"type":"whatever"}"#).expect_err("v2");
        assert_eq!(err, ProtocolError::UnsupportedVersion(2));
        let err = decode::<DownMsg>(br#"{"type":"ack","seqs":[]}"#).expect_err("no v");
        assert_eq!(err.code(), "malformed");
        let err = decode::<DownMsg>(br#"{"v":"1","type":"ack","seqs":[]}"#).expect_err("text v");
        assert_eq!(err.code(), "malformed");
        let err = decode::<DownMsg>(b"[1]").expect_err("array");
        assert_eq!(err.code(), "malformed");
    }

    #[test]
    fn unknown_fields_and_types_refused() {
        let ok = decode::<DownMsg>(br#"{"v":1,"type":"ack","seqs":[1,2]}"#);
        assert_eq!(ok, Ok(DownMsg::Ack(Ack { seqs: vec![1, 2] })));
        for bad in [
            &br#"{"v":1,"type":"ack","seqs":[1],"extra":true}"#[..],
            br#"{"v":1,"type":"nack","seqs":[1]}"#,
            br#"{"v":1,"seqs":[1]}"#,
            br#"{"v":1,"type":"ack","seqs":[-1]}"#,
        ] {
            let err = decode::<DownMsg>(bad).expect_err("refused");
            assert_eq!(err.code(), "malformed", "{}", String::from_utf8_lossy(bad));
        }
        let status = br#"{"v":1,"type":"status","state":"online","app_version":"1"}"#;
        assert!(decode::<StatusMsg>(status).is_ok());
        let status = br#"{"v":1,"type":"status","state":"online","app_version":"1","x":1}"#;
        assert!(decode::<StatusMsg>(status).is_err());
        let case = br#"{"v":1,"type":"case","seq":1,"case_id":"","kind":"","created_at":0,"claims":{},"report":{},"blobs":[]}"#;
        assert!(decode::<UpCase>(case).is_ok());
        let case = br#"{"v":1,"type":"cases","seq":1,"case_id":"","kind":"","created_at":0,"claims":{},"report":{},"blobs":[]}"#;
        assert!(decode::<UpCase>(case).is_err());
        let case = br#"{"v":1,"type":"case","seq":1,"case_id":"","kind":"","created_at":0,"claims":{},"report":{},"blobs":[],"x":0}"#;
        assert!(decode::<UpCase>(case).is_err());
    }
}
