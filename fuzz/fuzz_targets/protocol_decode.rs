//! Fuzz target: every decoder of bytes that arrive over MQTT must return a value or a
//! `ProtocolError`, never panic: envelopes of each kind, blob frames, signed downlink (checked
//! against a fixed key, so forged signatures exercise the refusal paths), topic names, and the DER
//! readers of enrollment (a kiosk's CSR, the cloud's certificate).
#![no_main]

use jachai_protocol::blob;
use jachai_protocol::sign::{Signer, TrustedKeys};
use jachai_protocol::{decode, DownMsg, EventMsg, StatusMsg, Topic, UpCase};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = decode::<UpCase>(bytes);
    let _ = decode::<EventMsg>(bytes);
    let _ = decode::<DownMsg>(bytes);
    let _ = decode::<StatusMsg>(bytes);
    let _ = jachai_protocol::enroll::parse_csr(bytes);
    let _ = jachai_protocol::enroll::parse_certificate(bytes);
    if let Ok(blob::BlobMsg::Chunk(c)) = blob::decode(bytes) {
        assert!(c.data.len() <= blob::MAX_CHUNK && c.index < c.count);
    }
    let mut keys = TrustedKeys::new();
    keys.add(Signer::from_seed([7; 32]).verifying_key());
    if let Err(e) = keys.open_payload(bytes) {
        assert!(!e.code().is_empty());
    }
    if let Ok(name) = std::str::from_utf8(bytes) {
        if let Ok(topic) = Topic::parse(name) {
            assert_eq!(topic.name(), name);
        }
    }
});
