//! Seen before? The pipeline asks a caller-provided [`DuplicateIndex`] whether this IMEI, this
//! GD number (per thana and year) or a near-identical page image was reported already.
//!
//! `verify` keeps no store of its own: the kiosk answers from its SQLite store, the cloud from
//! its database; [`MemoryIndex`] is the in-memory version for tests, benchmarks and batches.

use std::collections::HashMap;

use image::RgbImage;
use image_hasher::{HashAlg, HasherConfig, ImageHash};

use crate::report::{FieldValue, Report};

/// Which earlier report matched, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The earlier report's reference (report id, case id or file name), as the index knows it.
    pub reference: String,
    /// For images: Hamming distance between the two fingerprints (0 = identical).
    pub distance: Option<u32>,
}

/// A GD number is unique per thana and year: `(thana, year, number)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GdKey {
    /// Canonical (English) thana name, lower case.
    pub thana: String,
    pub year: i32,
    /// The number as written, ASCII digits (e.g. `789`, `567/24`).
    pub number: String,
}

impl GdKey {
    /// The key for a GD number written on a copy from `thana` dated in `year`.
    pub fn new(thana: &str, year: i32, number: &str) -> Self {
        GdKey {
            thana: thana.trim().to_lowercase(),
            year,
            number: number
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_uppercase(),
        }
    }
}

/// A perceptual fingerprint of a page: a 1024-bit gradient hash (32 × 32 grid) of the rectified
/// page. A re-encoded or resized copy of the same page lands within a few bits; a coarser
/// 256-bit DCT hash could not tell two different GD copies of the same layout apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(ImageHash);

impl Fingerprint {
    /// Hash `img`.
    pub fn of(img: &RgbImage) -> Self {
        let hasher = HasherConfig::new()
            .hash_size(32, 32)
            .hash_alg(HashAlg::Gradient)
            .to_hasher();
        Fingerprint(hasher.hash_image(img))
    }

    /// Bits that differ.
    pub fn distance(&self, other: &Fingerprint) -> u32 {
        self.0.dist(&other.0)
    }

    /// Base64 form, as stored under the report's `fields.image_hash`.
    pub fn to_base64(&self) -> String {
        self.0.to_base64()
    }

    /// Parse the base64 form; `None` when malformed.
    pub fn from_base64(s: &str) -> Option<Self> {
        ImageHash::from_base64(s).ok().map(Fingerprint)
    }
}

/// What the pipeline asks. Implementations must answer quickly (an index lookup), and must
/// not count the document being verified as its own duplicate: the pipeline asks before the
/// caller records it.
pub trait DuplicateIndex {
    /// An earlier report naming this IMEI (15 ASCII digits).
    fn imei(&self, imei: &str) -> Option<Seen>;
    /// An earlier report with this GD number from the same thana and year.
    fn gd_number(&self, key: &GdKey) -> Option<Seen>;
    /// The closest earlier page within `max_distance` bits.
    fn similar_image(&self, fingerprint: &Fingerprint, max_distance: u32) -> Option<Seen>;
}

/// An index that has seen nothing (the default when the caller has no store).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoIndex;

impl DuplicateIndex for NoIndex {
    fn imei(&self, _imei: &str) -> Option<Seen> {
        None
    }
    fn gd_number(&self, _key: &GdKey) -> Option<Seen> {
        None
    }
    fn similar_image(&self, _fingerprint: &Fingerprint, _max_distance: u32) -> Option<Seen> {
        None
    }
}

/// An in-memory index: record reports as they are accepted, ask before recording the next.
#[derive(Debug, Default)]
pub struct MemoryIndex {
    imeis: HashMap<String, String>,
    gd_numbers: HashMap<GdKey, String>,
    images: Vec<(Fingerprint, String)>,
}

impl MemoryIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Remember what `report` read (its `imeis`, GD number with thana and date, and
    /// `image_hash`) under `reference`. The first report to name something keeps it.
    pub fn record(&mut self, reference: &str, report: &Report) {
        let text = |k: &str| report.fields.get(k).and_then(FieldValue::as_text);
        if let Some(v) = report.fields.get("imeis") {
            for imei in v.as_list() {
                self.imeis
                    .entry(imei.to_owned())
                    .or_insert_with(|| reference.to_owned());
            }
        }
        if let (Some(number), Some(thana), Some(date)) =
            (text("gd_number"), text("thana"), text("gd_date"))
        {
            if let Some(year) = date.get(..4).and_then(|y| y.parse().ok()) {
                self.gd_numbers
                    .entry(GdKey::new(thana, year, number))
                    .or_insert_with(|| reference.to_owned());
            }
        }
        if let Some(fp) = text("image_hash").and_then(Fingerprint::from_base64) {
            self.images.push((fp, reference.to_owned()));
        }
    }

    /// How many distinct IMEIs, GD numbers and images it holds.
    pub fn len(&self) -> (usize, usize, usize) {
        (self.imeis.len(), self.gd_numbers.len(), self.images.len())
    }
}

impl DuplicateIndex for MemoryIndex {
    fn imei(&self, imei: &str) -> Option<Seen> {
        self.imeis.get(imei).map(|r| Seen {
            reference: r.clone(),
            distance: None,
        })
    }

    fn gd_number(&self, key: &GdKey) -> Option<Seen> {
        self.gd_numbers.get(key).map(|r| Seen {
            reference: r.clone(),
            distance: None,
        })
    }

    fn similar_image(&self, fingerprint: &Fingerprint, max_distance: u32) -> Option<Seen> {
        self.images
            .iter()
            .map(|(fp, r)| (fp.distance(fingerprint), r))
            .filter(|(d, _)| *d <= max_distance)
            .min_by_key(|(d, _)| *d)
            .map(|(d, r)| Seen {
                reference: r.clone(),
                distance: Some(d),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    fn page(seed: u32) -> RgbImage {
        // A page with text-like bars whose layout depends on `seed`.
        RgbImage::from_fn(400, 560, |x, y| {
            let line = y / 24;
            let len = 120 + (line * 37 + seed * 53) % 240;
            let ink =
                y % 24 > 8 && y % 24 < 18 && x > 30 && x < 30 + len && (x / 9 + line) % 5 != 0;
            if ink {
                Rgb([20, 20, 30])
            } else {
                Rgb([245, 244, 240])
            }
        })
    }

    #[test]
    fn same_page_reencoded_is_near_and_other_page_is_far() {
        let a = page(1);
        let resized = image::imageops::resize(&a, 300, 420, image::imageops::FilterType::Triangle);
        let other = page(7);
        let fa = Fingerprint::of(&a);
        assert!(fa.distance(&Fingerprint::of(&resized)) <= 30);
        assert!(fa.distance(&Fingerprint::of(&other)) > 150);
        let back = Fingerprint::from_base64(&fa.to_base64()).expect("round trip");
        assert_eq!(back.distance(&fa), 0);
        assert!(Fingerprint::from_base64("not base64 !!").is_none());
    }

    #[test]
    fn gd_key_normalises() {
        assert_eq!(
            GdKey::new(" Dhanmondi ", 2024, "567 / 24"),
            GdKey::new("dhanmondi", 2024, "567/24")
        );
    }

    #[test]
    fn memory_index_records_and_answers() {
        let mut report = Report {
            sha256: String::new(),
            kind: crate::report::DocumentKind::Gd,
            verdict: crate::report::Verdict::Approve,
            risk: 0,
            findings: Vec::new(),
            fields: Default::default(),
            located: Vec::new(),
            explanation: None,
            stages: Vec::new(),
            annotated_png: None,
        };
        let fp = Fingerprint::of(&page(3));
        report
            .fields
            .insert("imeis".into(), vec!["356938035643809".to_owned()].into());
        report.fields.insert("gd_number".into(), "789".into());
        report.fields.insert("thana".into(), "Dhanmondi".into());
        report.fields.insert("gd_date".into(), "2024-03-12".into());
        report
            .fields
            .insert("image_hash".into(), fp.to_base64().into());
        let mut index = MemoryIndex::new();
        assert_eq!(index.imei("356938035643809"), None);
        index.record("case-1", &report);
        index.record("case-2", &report);
        assert_eq!(index.len(), (1, 1, 2));
        assert_eq!(
            index.imei("356938035643809").map(|s| s.reference),
            Some("case-1".to_owned())
        );
        assert!(index.imei("490154203237518").is_none());
        assert!(index
            .gd_number(&GdKey::new("DHANMONDI", 2024, "789"))
            .is_some());
        assert!(index
            .gd_number(&GdKey::new("Dhanmondi", 2023, "789"))
            .is_none());
        let seen = index.similar_image(&fp, 10).expect("same image");
        assert_eq!(seen.distance, Some(0));
        assert!(index
            .similar_image(&Fingerprint::of(&page(9)), 10)
            .is_none());
    }
}
