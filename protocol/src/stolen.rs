//! The stolen-IMEI index as a signed version chain.
//!
//! - Versions are u64, strictly increasing; version 0 is the empty index every kiosk starts with.
//! - The state hash is an order-independent *sum* of per-entry SHA-256 digests (four u64 lanes,
//!   wrapping), so a delta updates it in O(delta) instead of rehashing ten million entries. It
//!   detects divergence between the kiosk's copy and the cloud's; authenticity comes from the
//!   ed25519 signature on every head, delta and snapshot part.
//! - A head names the latest version and hash, with `signed_at` and `expires_at`.
//! - A delta names the version and hash it follows; it applies only to exactly that state.
//! - A snapshot is the full set in parts, each signed; it replaces any older state.
//!
//! The rules are pure functions ([`plan_head`], [`check_delta`], [`check_snapshot`],
//! [`check_result`]); storage lives in `jachai-edge-sync`.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::{hex, ProtocolError};

/// Longest `reported_at` / `theft_location` accepted, in bytes.
pub const MAX_TEXT: usize = 256;

/// One stolen phone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StolenEntry {
    /// 15 ASCII digits, Luhn-valid.
    pub imei: String,
    /// Date of the report, `YYYY-MM-DD`.
    pub reported_at: String,
    /// Where the phone was stolen (thana, district).
    pub theft_location: String,
}

impl StolenEntry {
    /// Check the fields: a valid IMEI and bounded texts.
    pub fn validate(&self) -> Result<u64, ProtocolError> {
        let body = crate::imei::body_of(&self.imei)?;
        if self.reported_at.len() > MAX_TEXT || self.theft_location.len() > MAX_TEXT {
            return Err(ProtocolError::malformed(format_args!(
                "stolen entry {} has a text longer than {MAX_TEXT} bytes",
                self.imei
            )));
        }
        Ok(body)
    }

    /// This entry's digest (see [`entry_digest`]); the IMEI must be valid.
    pub fn digest(&self) -> Result<[u8; 32], ProtocolError> {
        let body = self.validate()?;
        Ok(entry_digest(body, &self.reported_at, &self.theft_location))
    }
}

/// SHA-256 of one entry: a domain tag, the IMEI body (u64 big-endian) and the two texts, each
/// length-prefixed (u32 big-endian).
pub fn entry_digest(imei_body: u64, reported_at: &str, theft_location: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"jachai-stolen-entry-v1\0");
    h.update(imei_body.to_be_bytes());
    for text in [reported_at, theft_location] {
        h.update(u32::try_from(text.len()).unwrap_or(u32::MAX).to_be_bytes());
        h.update(text.as_bytes());
    }
    h.finalize().into()
}

/// The state hash: the lane-wise wrapping sum of every entry's digest (zero for the empty set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StateHash([u64; 4]);

impl StateHash {
    /// The empty index.
    pub const EMPTY: Self = Self([0; 4]);

    fn lanes(digest: &[u8; 32]) -> [u64; 4] {
        let mut lanes = [0u64; 4];
        for (lane, bytes) in lanes.iter_mut().zip(digest.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(bytes);
            *lane = u64::from_be_bytes(b);
        }
        lanes
    }

    /// Add an entry's digest.
    pub fn add(&mut self, digest: &[u8; 32]) {
        for (a, b) in self.0.iter_mut().zip(Self::lanes(digest)) {
            *a = a.wrapping_add(b);
        }
    }

    /// Take an entry's digest away.
    pub fn remove(&mut self, digest: &[u8; 32]) {
        for (a, b) in self.0.iter_mut().zip(Self::lanes(digest)) {
            *a = a.wrapping_sub(b);
        }
    }

    /// The hash of a whole set of entries (each must be valid).
    pub fn of<'a>(
        entries: impl IntoIterator<Item = &'a StolenEntry>,
    ) -> Result<Self, ProtocolError> {
        let mut h = Self::EMPTY;
        for e in entries {
            h.add(&e.digest()?);
        }
        Ok(h)
    }

    /// 32 bytes, big-endian lanes.
    pub fn to_bytes(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (chunk, lane) in out.chunks_exact_mut(8).zip(self.0) {
            chunk.copy_from_slice(&lane.to_be_bytes());
        }
        out
    }

    /// From 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(Self::lanes(bytes))
    }

    /// 64 hex digits (as on the wire).
    pub fn to_hex(self) -> String {
        hex::encode(&self.to_bytes())
    }

    /// From 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, ProtocolError> {
        Ok(Self::from_bytes(&hex::decode::<32>(text)?))
    }
}

/// The latest index version (retained on `stolen/head`, signed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StolenHead {
    /// Latest version.
    pub version: u64,
    /// State hash at that version, hex.
    pub hash: String,
    /// Number of entries at that version.
    pub count: u64,
    /// When signed, unix seconds (cloud clock).
    pub signed_at: u64,
    /// Refuse the head after this time, unix seconds (a frozen head cannot hide new thefts for
    /// longer than this).
    pub expires_at: u64,
}

/// Changes from `base_version` to `version` (`version > base_version`; usually +1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StolenDelta {
    /// The version after the delta.
    pub version: u64,
    /// The version the delta follows.
    pub base_version: u64,
    /// State hash the delta follows, hex.
    pub base_hash: String,
    /// State hash after the delta, hex.
    pub hash: String,
    /// Entry count after the delta.
    pub count: u64,
    /// New (or changed: same IMEI, new date/location) entries.
    pub added: Vec<StolenEntry>,
    /// IMEIs no longer stolen (recovered, report withdrawn).
    pub removed: Vec<String>,
    /// When signed, unix seconds.
    pub signed_at: u64,
}

/// One part of a full snapshot at `version`; the kiosk collects `parts` of them, then checks the
/// hash of the whole set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotPart {
    /// The snapshot's version.
    pub version: u64,
    /// State hash of the whole snapshot, hex.
    pub hash: String,
    /// Entry count of the whole snapshot.
    pub count: u64,
    /// This part's index from 0.
    pub part: u32,
    /// Number of parts.
    pub parts: u32,
    /// This part's entries.
    pub entries: Vec<StolenEntry>,
    /// When signed, unix seconds.
    pub signed_at: u64,
}

/// What a kiosk holds: a version and its state hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    /// Version (0 = empty).
    pub version: u64,
    /// State hash.
    pub hash: StateHash,
}

impl Held {
    /// The empty index at version 0.
    pub const EMPTY: Self = Self {
        version: 0,
        hash: StateHash::EMPTY,
    };
}

/// What to do about a (verified) head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadPlan {
    /// The held state is the head.
    UpToDate,
    /// Ask for deltas from the held version to `want`.
    Deltas {
        /// The head's version.
        want: u64,
    },
    /// Ask for a full snapshot at `want` (nothing held, or the held state diverged).
    Snapshot {
        /// The head's version.
        want: u64,
    },
}

/// Decide what a verified head asks for. Refused: an expired head, one older than the held
/// version (rollback), or one whose `signed_at` is older than a head already accepted.
pub fn plan_head(
    held: &Held,
    head: &StolenHead,
    now: u64,
    last_signed_at: Option<u64>,
) -> Result<HeadPlan, ProtocolError> {
    if head.expires_at < now {
        return Err(ProtocolError::Expired {
            expires_at: head.expires_at,
            now,
        });
    }
    if head.version < held.version {
        return Err(ProtocolError::Rollback {
            held: held.version,
            got: head.version,
        });
    }
    if let Some(last) = last_signed_at {
        if head.signed_at < last {
            return Err(ProtocolError::Rollback {
                held: last,
                got: head.signed_at,
            });
        }
    }
    let head_hash = StateHash::from_hex(&head.hash)?;
    if head.version == held.version {
        return Ok(if head_hash == held.hash {
            HeadPlan::UpToDate
        } else {
            HeadPlan::Snapshot { want: head.version }
        });
    }
    Ok(if held.version == 0 {
        HeadPlan::Snapshot { want: head.version }
    } else {
        HeadPlan::Deltas { want: head.version }
    })
}

/// A delta applies only to exactly the state it names, and only moves forward.
pub fn check_delta(held: &Held, delta: &StolenDelta) -> Result<(), ProtocolError> {
    if delta.version <= held.version || delta.version <= delta.base_version {
        return Err(ProtocolError::Rollback {
            held: held.version,
            got: delta.version,
        });
    }
    let base_hash = StateHash::from_hex(&delta.base_hash)?;
    if delta.base_version != held.version || base_hash != held.hash {
        return Err(ProtocolError::BaseMismatch {
            held_version: held.version,
            held_hash: held.hash.to_hex(),
            base_version: delta.base_version,
            base_hash: delta.base_hash.clone(),
        });
    }
    StateHash::from_hex(&delta.hash)?;
    Ok(())
}

/// A snapshot part must be newer than the held state and well-formed.
pub fn check_snapshot(held: &Held, part: &SnapshotPart) -> Result<(), ProtocolError> {
    if part.version <= held.version {
        return Err(ProtocolError::Rollback {
            held: held.version,
            got: part.version,
        });
    }
    if part.parts == 0 || part.part >= part.parts {
        return Err(ProtocolError::malformed(format_args!(
            "snapshot part {} of {}",
            part.part, part.parts
        )));
    }
    StateHash::from_hex(&part.hash)?;
    Ok(())
}

/// After building the new state: its hash must be the one the signed message promised.
pub fn check_result(expected_hex: &str, computed: StateHash) -> Result<(), ProtocolError> {
    let expected = StateHash::from_hex(expected_hex)?;
    if expected == computed {
        Ok(())
    } else {
        Err(ProtocolError::HashMismatch {
            expected: expected_hex.to_owned(),
            computed: computed.to_hex(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(imei_body: u64, loc: &str) -> StolenEntry {
        StolenEntry {
            imei: crate::imei::from_body(imei_body).expect("14 digits"),
            reported_at: "2026-01-02".into(),
            theft_location: loc.into(),
        }
    }

    #[test]
    fn hash_is_order_independent_and_incremental() {
        let a = entry(35693803564380, "Dhanmondi, Dhaka");
        let b = entry(35693803564381, "Kotwali, Chattogram");
        let ab = StateHash::of([&a, &b]).expect("valid");
        let ba = StateHash::of([&b, &a]).expect("valid");
        assert_eq!(ab, ba);
        let mut h = ab;
        h.remove(&b.digest().expect("valid"));
        assert_eq!(h, StateHash::of([&a]).expect("valid"));
        h.remove(&a.digest().expect("valid"));
        assert_eq!(h, StateHash::EMPTY);
        assert_eq!(StateHash::from_hex(&ab.to_hex()), Ok(ab));
        assert_ne!(
            StateHash::of([&entry(35693803564380, "Dhanmondi")]).expect("valid"),
            StateHash::of([&a]).expect("valid")
        );
    }

    fn head(version: u64, hash: StateHash, signed_at: u64) -> StolenHead {
        StolenHead {
            version,
            hash: hash.to_hex(),
            count: 1,
            signed_at,
            expires_at: 2000,
        }
    }

    #[test]
    fn head_rules() {
        let h1 = StateHash::of([&entry(1, "x")]).expect("valid");
        let held = Held {
            version: 5,
            hash: h1,
        };
        let check = |head: StolenHead, last: Option<u64>, expect: Result<HeadPlan, &str>| match (
            plan_head(&held, &head, 1000, last),
            expect,
        ) {
            (Ok(got), Ok(want)) => assert_eq!(got, want),
            (Err(err), Err(code)) => assert_eq!(err.code(), code),
            (got, want) => panic!("{head:?}: got {got:?}, want {want:?}"),
        };
        check(head(5, h1, 900), Some(900), Ok(HeadPlan::UpToDate));
        check(
            head(5, StateHash::EMPTY, 900),
            None,
            Ok(HeadPlan::Snapshot { want: 5 }),
        );
        check(
            head(7, StateHash::EMPTY, 950),
            Some(900),
            Ok(HeadPlan::Deltas { want: 7 }),
        );
        check(head(4, h1, 950), None, Err("rollback"));
        check(head(7, h1, 800), Some(900), Err("rollback"));
        let mut expired = head(7, h1, 950);
        expired.expires_at = 999;
        check(expired, None, Err("expired"));
        let mut bad_hash = head(7, h1, 950);
        bad_hash.hash = "zz".into();
        check(bad_hash, None, Err("malformed"));
        assert_eq!(
            plan_head(&Held::EMPTY, &head(3, h1, 1), 1000, None),
            Ok(HeadPlan::Snapshot { want: 3 })
        );
    }

    fn delta(version: u64, base_version: u64, base_hash: StateHash) -> StolenDelta {
        StolenDelta {
            version,
            base_version,
            base_hash: base_hash.to_hex(),
            hash: StateHash::EMPTY.to_hex(),
            count: 0,
            added: vec![],
            removed: vec![],
            signed_at: 1,
        }
    }

    #[test]
    fn delta_and_snapshot_rules() {
        let h1 = StateHash::of([&entry(1, "x")]).expect("valid");
        let held = Held {
            version: 5,
            hash: h1,
        };
        let check = |d: StolenDelta, expect: Result<(), &str>| {
            let got = check_delta(&held, &d).map_err(|e| e.code());
            assert_eq!(got, expect, "{d:?}");
        };
        check(delta(6, 5, h1), Ok(()));
        check(delta(9, 5, h1), Ok(()));
        check(delta(5, 4, h1), Err("rollback"));
        check(delta(3, 2, h1), Err("rollback"));
        check(delta(6, 4, h1), Err("base_mismatch"));
        check(delta(6, 5, StateHash::EMPTY), Err("base_mismatch"));
        check(delta(6, 6, h1), Err("rollback"));

        let part = |version, part, parts| SnapshotPart {
            version,
            hash: h1.to_hex(),
            count: 1,
            part,
            parts,
            entries: vec![],
            signed_at: 1,
        };
        assert_eq!(check_snapshot(&held, &part(6, 0, 1)), Ok(()));
        assert_eq!(
            check_snapshot(&held, &part(5, 0, 1)).map_err(|e| e.code()),
            Err("rollback")
        );
        assert_eq!(
            check_snapshot(&held, &part(6, 1, 1)).map_err(|e| e.code()),
            Err("malformed")
        );
        assert_eq!(
            check_snapshot(&held, &part(6, 0, 0)).map_err(|e| e.code()),
            Err("malformed")
        );

        assert_eq!(check_result(&h1.to_hex(), h1), Ok(()));
        assert_eq!(
            check_result(&h1.to_hex(), StateHash::EMPTY).map_err(|e| e.code()),
            Err("hash_mismatch")
        );
    }

    #[test]
    fn entry_validation() {
        assert!(entry(1, "x").validate().is_ok());
        let mut bad = entry(1, "x");
        bad.imei
            .replace_range(14..15, if bad.imei.ends_with('0') { "1" } else { "0" });
        assert_eq!(bad.validate().map_err(|e| e.code()), Err("malformed"));
        let long = entry(1, &"x".repeat(MAX_TEXT + 1));
        assert!(long.validate().is_err());
    }
}
