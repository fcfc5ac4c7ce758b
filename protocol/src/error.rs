//! The one error type of the protocol crate: what can be wrong with bytes from the network.

/// Why a message (or topic) was refused. Each variant has a stable [`code`](Self::code) that goes
/// upstream in a `refused` event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The ed25519 signature does not verify under the named key.
    #[error("bad signature (key {key_id})")]
    BadSignature {
        /// The key the message claimed to be signed with.
        key_id: String,
    },
    /// The message names a signing key the receiver does not trust.
    #[error("unknown signing key {key_id}")]
    UnknownKey {
        /// The unknown key id.
        key_id: String,
    },
    /// A version (or decision sequence) not newer than the one already held.
    #[error("rollback refused: holding version {held}, got {got}")]
    Rollback {
        /// The version held.
        held: u64,
        /// The version offered.
        got: u64,
    },
    /// A delta that does not follow the state held (other base version or hash).
    #[error("delta base mismatch: holding version {held_version} ({held_hash}), delta follows {base_version} ({base_hash})")]
    BaseMismatch {
        /// The version held.
        held_version: u64,
        /// The state hash held (hex).
        held_hash: String,
        /// The version the delta follows.
        base_version: u64,
        /// The state hash the delta follows (hex).
        base_hash: String,
    },
    /// The state after applying a delta or snapshot does not hash to what the signer promised.
    #[error("state hash mismatch: expected {expected}, computed {computed}")]
    HashMismatch {
        /// The hash the signed message names.
        expected: String,
        /// The hash of the state the receiver built.
        computed: String,
    },
    /// A signed message past its expiry (a freeze or replay of old data).
    #[error("expired at {expires_at} (now {now})")]
    Expired {
        /// Expiry, unix seconds.
        expires_at: u64,
        /// The receiver's time, unix seconds.
        now: u64,
    },
    /// An envelope `v` (or binary frame version) this build does not speak.
    #[error("unsupported protocol version {0}")]
    UnsupportedVersion(u64),
    /// A message for another kiosk than the topic or receiver names.
    #[error("message for kiosk {got} arrived for kiosk {expected}")]
    WrongKiosk {
        /// The kiosk the topic or receiver names.
        expected: String,
        /// The kiosk named inside the message.
        got: String,
    },
    /// Not a message of this protocol: bad JSON, missing or unknown fields, bad topic, too large.
    #[error("malformed message: {0}")]
    Malformed(String),
}

impl ProtocolError {
    /// A stable lower-case code for logs and `refused` events.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadSignature { .. } => "bad_signature",
            Self::UnknownKey { .. } => "unknown_key",
            Self::Rollback { .. } => "rollback",
            Self::BaseMismatch { .. } => "base_mismatch",
            Self::HashMismatch { .. } => "hash_mismatch",
            Self::Expired { .. } => "expired",
            Self::UnsupportedVersion(_) => "unsupported_version",
            Self::WrongKiosk { .. } => "wrong_kiosk",
            Self::Malformed(_) => "malformed",
        }
    }

    pub(crate) fn malformed(what: impl std::fmt::Display) -> Self {
        Self::Malformed(what.to_string())
    }
}
