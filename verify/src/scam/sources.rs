//! The offline source check: is this picture a near-duplicate of a known scam image (reference
//! data, updatable by the cloud) or of images this kiosk has checked before?
//!
//! `verify` keeps no store: [`Sources`] is the in-memory structure (two [`HashIndex`]es) that the
//! kiosk fills from its own store at start-up (the reference file plus the `image_phash` field of
//! reports it kept) and extends with [`Sources::record_checked`] after each check. The pipeline
//! asks through the [`SourceIndex`] trait before the caller records the image, so a picture is
//! never its own duplicate.

use std::sync::OnceLock;

use super::index::HashIndex;

const SHIPPED: &str = include_str!("../../data/scam/known-scam-hashes.tsv");

/// Hamming radius (of 64 bits) within which two dHashes are taken for the same picture: a
/// resized, recompressed copy stays within about 6 bits, unrelated pictures are 16 or more apart
/// (decision 0030).
pub const DEFAULT_RADIUS: u32 = 10;

/// A known scam image the query is near.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownMatch {
    /// What the reference data calls it, e.g. `fake bKash cashback 2026-10`.
    pub label: String,
    /// Where the reference entry came from (`cloud-review`, `bd-cert-advisory`, …).
    pub source: String,
    /// Hamming distance, 0 to 64.
    pub distance: u32,
}

/// What the source check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceMatch {
    /// Known scam images within the radius, nearest first.
    pub known: Vec<KnownMatch>,
    /// How many images checked here before are within the radius.
    pub seen_here: usize,
    /// The smallest distance among those.
    pub nearest_seen: Option<u32>,
}

/// What the pipeline asks. Implementations must answer quickly (an index lookup).
pub trait SourceIndex {
    /// Known scam images and earlier checks within `radius` bits of `hash`.
    fn lookup(&self, hash: u64, radius: u32) -> SourceMatch;
}

/// Knows nothing (no reference data, no history): the default of [`crate::verify`].
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSources;

impl SourceIndex for NoSources {
    fn lookup(&self, _hash: u64, _radius: u32) -> SourceMatch {
        SourceMatch::default()
    }
}

/// One line of the reference file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KnownScam {
    label: String,
    source: String,
}

/// Known scam images and images checked here, each in its own near-duplicate index.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The reference file's version (`none` for an empty [`Sources::new`]).
    pub version: String,
    known: HashIndex,
    labels: Vec<KnownScam>,
    checked: HashIndex,
}

impl Sources {
    /// No reference data and no history.
    pub fn new() -> Sources {
        Sources {
            version: "none".to_owned(),
            ..Sources::default()
        }
    }

    /// Reads reference data: a `# … version V` comment line, then `hash<TAB>label<TAB>source`
    /// lines, the hash as 16 hex digits ([`super::index::phash`]).
    pub fn parse_reference(text: &str) -> Result<Sources, String> {
        let mut out = Sources::new();
        let (version, rows) = super::versioned_tsv(text);
        for (n, cols) in rows {
            let [hash, label, source] = cols.as_slice() else {
                return Err(format!(
                    "known scam hashes line {}: want 3 tab-separated columns",
                    n
                ));
            };
            let hash = parse_hash(hash)
                .ok_or_else(|| format!("known scam hashes line {}: bad hash {hash:?}", n))?;
            if label.trim().is_empty() {
                return Err(format!("known scam hashes line {}: empty label", n));
            }
            out.known.insert(hash);
            out.labels.push(KnownScam {
                label: label.trim().to_owned(),
                source: source.trim().to_owned(),
            });
        }
        out.version = version.ok_or("known scam hashes: no `version` comment line")?;
        Ok(out)
    }

    /// The reference data shipped with this build (the cloud sends newer versions).
    pub fn shipped() -> &'static Sources {
        static SHIPPED_SOURCES: OnceLock<Sources> = OnceLock::new();
        // A broken embedded file is caught by the tests; at run time it means "nothing known".
        SHIPPED_SOURCES.get_or_init(|| Sources::parse_reference(SHIPPED).unwrap_or_default())
    }

    /// Remembers one checked image (each check counts, the same picture twice is two sightings).
    pub fn record_checked(&mut self, hash: u64) {
        self.checked.insert(hash);
    }

    /// Remembers one checked image from a report's `image_phash` field (16 hex digits); `false`
    /// when the value is malformed.
    pub fn record_checked_hex(&mut self, hex: &str) -> bool {
        match parse_hash(hex) {
            Some(h) => {
                self.checked.insert(h);
                true
            }
            None => false,
        }
    }

    /// How many known scam images and checked images it holds.
    pub fn len(&self) -> (usize, usize) {
        (self.known.len(), self.checked.len())
    }
}

impl SourceIndex for Sources {
    fn lookup(&self, hash: u64, radius: u32) -> SourceMatch {
        let known = self
            .known
            .within(hash, radius)
            .into_iter()
            .filter_map(|n| {
                let k = self.labels.get(n.id as usize)?;
                Some(KnownMatch {
                    label: k.label.clone(),
                    source: k.source.clone(),
                    distance: n.distance,
                })
            })
            .collect();
        let seen = self.checked.within(hash, radius);
        SourceMatch {
            known,
            seen_here: seen.len(),
            nearest_seen: seen.first().map(|n| n.distance),
        }
    }
}

/// The hash as 16 lower-case hex digits, as reported under `fields.image_phash`.
pub fn hash_hex(hash: u64) -> String {
    format!("{hash:016x}")
}

/// Parses [`hash_hex`]'s form.
pub fn parse_hash(hex: &str) -> Option<u64> {
    let hex = hex.trim();
    (hex.len() == 16)
        .then(|| u64::from_str_radix(hex, 16).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_reference_parses() {
        let s = Sources::parse_reference(SHIPPED).expect("the shipped file parses");
        assert!(s.version.starts_with("2026-"), "{}", s.version);
        assert_eq!(Sources::shipped().version, s.version);
    }

    #[test]
    fn reference_lines_are_checked() {
        for bad in [
            "# version 1\n0123\tx\ty\n",
            "# version 1\n0123456789abcdef\tx\n",
            "# version 1\n0123456789abcdeg\tx\ty\n",
            "# version 1\n0123456789abcdef\t \ty\n",
            "0123456789abcdef\tx\ty\n",
        ] {
            assert!(Sources::parse_reference(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn known_and_checked_are_counted_apart() {
        let text = "# v version 7\n00000000000000ff\tfake bKash cashback\tcloud-review\n\
                    ffffffff00000000\tlottery poster\tcloud-review\n";
        let mut s = Sources::parse_reference(text).expect("parses");
        assert_eq!(s.version, "7");
        s.record_checked(0x0f);
        s.record_checked(0x0f);
        assert!(s.record_checked_hex("00000000000000fe"));
        assert!(!s.record_checked_hex("zz"));
        assert_eq!(s.len(), (2, 3));
        let m = s.lookup(0xff, 4);
        assert_eq!(m.known.len(), 1);
        assert_eq!(m.known[0].label, "fake bKash cashback");
        assert_eq!(m.known[0].distance, 0);
        assert_eq!(m.seen_here, 3);
        assert_eq!(m.nearest_seen, Some(1));
        assert_eq!(s.lookup(0x00ff_00ff_00ff_00ff, 4), SourceMatch::default());
        assert_eq!(hash_hex(0xff), "00000000000000ff");
        assert_eq!(parse_hash(&hash_hex(u64::MAX)), Some(u64::MAX));
    }
}
