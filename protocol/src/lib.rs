//! The Jachai wire protocol: the only types that cross MQTT between a kiosk and the cloud.
//!
//! - [`topic`]: topic names under `jachai/v1/` and a parser that extracts and checks the kiosk id.
//! - [`envelope`]: versioned JSON envelopes `{"v":1,"type":...}` for every message; an unknown `v`
//!   is refused with [`ProtocolError::UnsupportedVersion`].
//! - [`blob`]: resumable image transfer; chunks (≤ 64 KiB) travel in a small binary frame.
//! - [`sign`]: ed25519 signing and checking of downlink messages over their exact payload bytes.
//! - [`enroll`]: the HTTPS enrollment exchange (one-time token + CSR in; id, certificate, CA,
//!   signing key and broker out).
//! - [`stolen`]: the stolen-IMEI index as a signed version chain (head, delta, snapshot parts),
//!   the incremental state hash and the chain rules.
//!
//! Nothing here does I/O: bytes in, typed values or a [`ProtocolError`] out.

pub mod blob;
pub mod enroll;
pub mod envelope;
mod error;
pub mod hex;
pub mod imei;
pub mod sign;
pub mod stolen;
pub mod topic;

pub use envelope::{
    decode, encode, Ack, BlobAck, CaseMsg, Decision, DecisionOutcome, DecisionRequest, DownMsg,
    EventMsg, Heartbeat, LookupHit, Refused, SignedBody, Status, StatusMsg, StatusState,
    StolenRequest, UpCase, PROTOCOL_VERSION,
};
pub use error::ProtocolError;
pub use topic::{KioskId, Topic};
