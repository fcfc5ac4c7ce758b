//! The report: findings with points, regions and bilingual messages, stages, risk and verdict.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What kind of document the caller says it is; decides which stages run after the shared ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// Any image or screenshot (the scam-image check).
    #[default]
    Image,
    /// A Police General Diary copy.
    Gd,
    /// A bank cheque.
    Cheque,
    /// A phone box label.
    Box,
}

impl DocumentKind {
    /// The wire name (`image`, `gd`, `cheque`, `box`).
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Image => "image",
            DocumentKind::Gd => "gd",
            DocumentKind::Cheque => "cheque",
            DocumentKind::Box => "box",
        }
    }
}

impl std::str::FromStr for DocumentKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "image" => Ok(DocumentKind::Image),
            "gd" => Ok(DocumentKind::Gd),
            "cheque" => Ok(DocumentKind::Cheque),
            "box" => Ok(DocumentKind::Box),
            other => Err(format!(
                "unknown document kind `{other}` (image, gd, cheque, box)"
            )),
        }
    }
}

/// A pipeline stage. The order here is the order they run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Intake,
    /// GD/cheque capture: find the page, warp it flat, deskew, quality gate.
    Geometry,
    Metadata,
    Ela,
    CopyMove,
    Noise,
    DoubleJpeg,
    /// Text lines found and read (tesseract, Bengali + English).
    Ocr,
    /// Fields parsed from the text (IMEIs, GD number, date, thana …) and cross-checked.
    Fields,
    /// Document structure: header, thana/district, seal, signature block.
    Structure,
    /// Seen before: same IMEI, same GD number, near-identical image.
    Duplicates,
    /// The on-device AI-image model (`--kind image`).
    AiModel,
    Score,
    Annotate,
}

impl Stage {
    /// Snake-case name used in JSON and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Intake => "intake",
            Stage::Geometry => "geometry",
            Stage::Metadata => "metadata",
            Stage::Ela => "ela",
            Stage::CopyMove => "copy_move",
            Stage::Noise => "noise",
            Stage::DoubleJpeg => "double_jpeg",
            Stage::Ocr => "ocr",
            Stage::Fields => "fields",
            Stage::Structure => "structure",
            Stage::Duplicates => "duplicates",
            Stage::AiModel => "ai_model",
            Stage::Score => "score",
            Stage::Annotate => "annotate",
        }
    }
}

/// How much a finding matters to a human reviewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

/// An axis-aligned box in the (orientation-corrected) image, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Region {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl Region {
    pub fn new(x: u32, y: u32, w: u32, h: u32) -> Self {
        Region { x, y, w, h }
    }

    /// Area in pixels.
    pub fn area(&self) -> u64 {
        u64::from(self.w) * u64::from(self.h)
    }

    /// Area of the intersection with `other`.
    pub fn overlap(&self, other: &Region) -> u64 {
        let x0 = self.x.max(other.x);
        let y0 = self.y.max(other.y);
        let x1 = (self.x + self.w).min(other.x + other.w);
        let y1 = (self.y + self.h).min(other.y + other.h);
        if x1 <= x0 || y1 <= y0 {
            0
        } else {
            u64::from(x1 - x0) * u64::from(y1 - y0)
        }
    }

    /// Whether the centre of `self` lies inside `other`.
    pub fn centre_inside(&self, other: &Region) -> bool {
        let cx = self.x + self.w / 2;
        let cy = self.y + self.h / 2;
        cx >= other.x && cx < other.x + other.w && cy >= other.y && cy < other.y + other.h
    }
}

/// One piece of evidence: what was seen, where, how much it weighs, in English and Bengali.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable machine code, e.g. `copy_move`, `exif_missing`.
    pub code: String,
    pub stage: Stage,
    pub severity: Severity,
    /// Contribution to the risk score (0–100 scale; the total is capped at 100).
    pub points: u32,
    pub regions: Vec<Region>,
    pub en: String,
    pub bn: String,
}

impl Finding {
    /// A finding without regions; add them with [`Finding::with_regions`].
    pub fn new(
        code: &str,
        stage: Stage,
        severity: Severity,
        points: u32,
        en: impl Into<String>,
        bn: impl Into<String>,
    ) -> Self {
        Finding {
            code: code.to_owned(),
            stage,
            severity,
            points,
            regions: Vec::new(),
            en: en.into(),
            bn: bn.into(),
        }
    }

    pub fn with_regions(mut self, regions: Vec<Region>) -> Self {
        self.regions = regions;
        self
    }
}

/// How a stage ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    Ok,
    /// The stage does not apply to this input (e.g. double JPEG on a PNG).
    Skipped,
    Failed,
    Timeout,
}

/// One line of the stage log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    pub name: Stage,
    pub status: StageStatus,
    pub ms: u64,
}

/// The verdict the pipeline routes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Review,
    Reject,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Approve => "approve",
            Verdict::Review => "review",
            Verdict::Reject => "reject",
        }
    }
}

/// A value under `fields`: a string, a list of strings (`imeis`), or named parts (`micr`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    Text(String),
    List(Vec<String>),
    Map(BTreeMap<String, String>),
}

impl FieldValue {
    /// The string, when this is a single value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            FieldValue::Text(s) => Some(s),
            FieldValue::List(_) | FieldValue::Map(_) => None,
        }
    }

    /// The values as a list (a single value is a list of one).
    pub fn as_list(&self) -> Vec<&str> {
        match self {
            FieldValue::Text(s) => vec![s.as_str()],
            FieldValue::List(v) => v.iter().map(String::as_str).collect(),
            FieldValue::Map(m) => m.values().map(String::as_str).collect(),
        }
    }
}

impl From<String> for FieldValue {
    fn from(s: String) -> Self {
        FieldValue::Text(s)
    }
}

impl From<&str> for FieldValue {
    fn from(s: &str) -> Self {
        FieldValue::Text(s.to_owned())
    }
}

impl From<Vec<String>> for FieldValue {
    fn from(v: Vec<String>) -> Self {
        FieldValue::List(v)
    }
}

/// Where a field value was read on the document, and how sure the reading is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocatedField {
    /// The field's name under `fields` (`imeis`, `gd_number`, …).
    pub field: String,
    /// The value as reported (one IMEI for `imeis`).
    pub value: String,
    /// Its box in the input image.
    pub region: Region,
    /// OCR confidence, 0–1.
    pub confidence: f32,
    /// What was done to the text to get the value (e.g. `repaired O→0 at 7`), if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Why the verdict is what it is, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub en: String,
    pub bn: String,
}

/// Everything the pipeline concluded about one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Lower-case hex SHA-256 of the input bytes.
    pub sha256: String,
    pub kind: DocumentKind,
    pub verdict: Verdict,
    /// Weighted risk, 0–100.
    pub risk: u32,
    pub findings: Vec<Finding>,
    /// Facts read from the document (format, size, camera, dates, GD fields …).
    pub fields: BTreeMap<String, FieldValue>,
    /// Where each field read from the page was found, with its OCR confidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub located: Vec<LocatedField>,
    /// Why the verdict (document kinds that route on rules: GD copies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
    pub stages: Vec<StageRecord>,
    /// The input with every located region boxed and labelled, PNG-encoded.
    #[serde(skip)]
    pub annotated_png: Option<Vec<u8>>,
}
