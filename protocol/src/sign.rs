//! ed25519 signing of downlink messages (ed25519-dalek 2).
//!
//! The signer encodes a [`SignedBody`] as a versioned JSON envelope, signs those exact bytes and
//! ships them base64-encoded inside a [`SignedEnvelope`] with the key id and signature, so the
//! receiver checks the signature over the very bytes it then parses: no canonical-JSON rules to
//! get wrong on either side.
//!
//! Key files are text: 64 hex digits (a signing key's 32-byte seed, or a public key).

use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::envelope::{DownMsg, SignedBody};
use crate::{hex, ProtocolError};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A signed downlink message (`"type":"signed"` inside [`DownMsg`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedEnvelope {
    /// [`key_id`] of the signing key.
    pub key_id: String,
    /// Base64 of the exact signed bytes: an encoded [`SignedBody`] envelope.
    pub payload: String,
    /// Base64 of the 64-byte ed25519 signature over the payload bytes.
    pub sig: String,
}

/// A key's id: hex of the first 8 bytes of SHA-256 of the 32-byte public key.
pub fn key_id(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    hex::encode(&digest[..8])
}

/// The cloud's signing key.
pub struct Signer {
    key: SigningKey,
    key_id: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A fresh random key (from the OS's random source).
    pub fn generate() -> Self {
        Self::from_seed(SigningKey::generate(&mut rand::rngs::OsRng).to_bytes())
    }

    /// The key of a 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let key = SigningKey::from_bytes(&seed);
        let key_id = key_id(&key.verifying_key());
        Self { key, key_id }
    }

    /// Read a key file's text: 64 hex digits of the seed.
    pub fn from_hex(text: &str) -> Result<Self, ProtocolError> {
        Ok(Self::from_seed(hex::decode::<32>(text.trim())?))
    }

    /// The seed as 64 hex digits (the key file's text). Keep it secret.
    pub fn seed_hex(&self) -> String {
        hex::encode(&self.key.to_bytes())
    }

    /// The public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The public key as 64 hex digits (a trusted-key file's text).
    pub fn public_hex(&self) -> String {
        hex::encode(self.key.verifying_key().as_bytes())
    }

    /// The key id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Sign raw payload bytes into an envelope (tests use this to sign hand-made payloads).
    pub fn sign_bytes(&self, payload: &[u8]) -> SignedEnvelope {
        let sig: Signature = self.key.sign(payload);
        SignedEnvelope {
            key_id: self.key_id.clone(),
            payload: B64.encode(payload),
            sig: B64.encode(sig.to_bytes()),
        }
    }

    /// Encode and sign `body`; the result is the MQTT payload (`{"v":1,"type":"signed",...}`).
    pub fn sign(&self, body: &SignedBody) -> Vec<u8> {
        let payload = crate::encode(body);
        crate::encode(&DownMsg::Signed(self.sign_bytes(&payload)))
    }
}

/// The public keys a kiosk accepts downlink messages from.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys {
    keys: Vec<(String, VerifyingKey)>,
}

impl TrustedKeys {
    /// No keys: every signed message is refused as [`ProtocolError::UnknownKey`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Trust `key`.
    pub fn add(&mut self, key: VerifyingKey) {
        let id = key_id(&key);
        if !self.keys.iter().any(|(k, _)| *k == id) {
            self.keys.push((id, key));
        }
    }

    /// Trust the public key in a key file's text (64 hex digits).
    pub fn add_hex(&mut self, text: &str) -> Result<(), ProtocolError> {
        let bytes = hex::decode::<32>(text.trim())?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|e| {
            ProtocolError::malformed(format_args!("not an ed25519 public key: {e}"))
        })?;
        self.add(key);
        Ok(())
    }

    /// Whether any key is trusted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Check `envelope`'s signature and decode what it carries.
    pub fn open(&self, envelope: &SignedEnvelope) -> Result<SignedBody, ProtocolError> {
        let key = self
            .keys
            .iter()
            .find(|(id, _)| *id == envelope.key_id)
            .map(|(_, key)| key)
            .ok_or_else(|| ProtocolError::UnknownKey {
                key_id: envelope.key_id.clone(),
            })?;
        let bad = || ProtocolError::BadSignature {
            key_id: envelope.key_id.clone(),
        };
        let payload = B64
            .decode(&envelope.payload)
            .map_err(|e| ProtocolError::malformed(format_args!("signed payload: {e}")))?;
        let sig_bytes = B64.decode(&envelope.sig).map_err(|_| bad())?;
        let sig = Signature::from_slice(&sig_bytes).map_err(|_| bad())?;
        key.verify_strict(&payload, &sig).map_err(|_| bad())?;
        crate::decode(&payload)
    }

    /// Decode a signed downlink MQTT payload, check it and return what it carries.
    pub fn open_payload(&self, bytes: &[u8]) -> Result<SignedBody, ProtocolError> {
        match crate::decode::<DownMsg>(bytes)? {
            DownMsg::Signed(envelope) => self.open(&envelope),
            other => Err(ProtocolError::malformed(format_args!(
                "expected a signed message, got {}",
                match other {
                    DownMsg::Ack(_) => "ack",
                    DownMsg::BlobAck(_) => "blob_ack",
                    DownMsg::Signed(_) => "signed",
                }
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::{Decision, DecisionOutcome};
    use crate::KioskId;

    fn decision() -> SignedBody {
        SignedBody::Decision(Decision {
            kiosk: KioskId::new("k1").expect("valid"),
            seq: 1,
            case_seq: 7,
            case_id: "k1-7".into(),
            outcome: DecisionOutcome::Approved,
            note: None,
            decided_at: 1_700_000_000,
        })
    }

    fn check(keys: &TrustedKeys, payload: &[u8], expect: Result<SignedBody, &str>) {
        match (keys.open_payload(payload), expect) {
            (Ok(got), Ok(want)) => assert_eq!(got, want),
            (Err(err), Err(code)) => assert_eq!(err.code(), code, "{err}"),
            (got, want) => panic!("got {got:?}, expected {want:?}"),
        }
    }

    #[test]
    fn sign_and_open() {
        let signer = Signer::from_seed([1; 32]);
        let other = Signer::from_seed([2; 32]);
        let mut keys = TrustedKeys::new();
        keys.add_hex(&signer.public_hex()).expect("hex key");
        let good = signer.sign(&decision());
        check(&keys, &good, Ok(decision()));
        check(&TrustedKeys::new(), &good, Err("unknown_key"));
        check(&keys, &other.sign(&decision()), Err("unknown_key"));

        // Another key claiming the trusted key's id.
        let mut forged = other.sign_bytes(&crate::encode(&decision()));
        forged.key_id = signer.key_id().to_owned();
        check(
            &keys,
            &crate::encode(&DownMsg::Signed(forged)),
            Err("bad_signature"),
        );

        // The payload changed after signing.
        let mut env = signer.sign_bytes(&crate::encode(&decision()));
        let mut changed = decision();
        if let SignedBody::Decision(d) = &mut changed {
            d.outcome = DecisionOutcome::Rejected;
        }
        env.payload = B64.encode(crate::encode(&changed));
        check(
            &keys,
            &crate::encode(&DownMsg::Signed(env.clone())),
            Err("bad_signature"),
        );
        env.sig = "not base64!".into();
        check(
            &keys,
            &crate::encode(&DownMsg::Signed(env)),
            Err("bad_signature"),
        );

        // Signed bytes that are not a message.
        let junk = signer.sign_bytes(b"{\"v\":1,\"type\":\"nothing\"}");
        check(
            &keys,
            &crate::encode(&DownMsg::Signed(junk)),
            Err("malformed"),
        );
        let v9 = signer.sign_bytes(b"{\"v\":9,\"type\":\"decision\"}");
        check(
            &keys,
            &crate::encode(&DownMsg::Signed(v9)),
            Err("unsupported_version"),
        );
        check(
            &keys,
            br#"{"v":1,"type":"ack","seqs":[1]}"#,
            Err("malformed"),
        );
    }

    #[test]
    fn key_files_round_trip() {
        let signer = Signer::generate();
        let again = Signer::from_hex(&format!("{}\n", signer.seed_hex())).expect("seed hex");
        assert_eq!(again.public_hex(), signer.public_hex());
        assert_eq!(signer.key_id().len(), 16);
        assert!(TrustedKeys::new().add_hex("abcd").is_err());
        assert!(format!("{signer:?}").contains("key_id"));
        assert!(!format!("{signer:?}").contains(&signer.seed_hex()));
    }
}
