//! Metadata: EXIF (kamadak-exif), XMP and PNG text chunks, turned into facts and scored findings.

use std::collections::BTreeMap;

use crate::intake::Format;
use crate::report::Finding;

/// Knobs for the metadata stage.
#[derive(Debug, Clone, Default)]
pub struct MetadataConfig {}

/// What the metadata stage read and concluded.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    /// Facts for the report's `fields` (make, model, dates, GPS, software, device type …).
    pub fields: BTreeMap<String, String>,
    pub findings: Vec<Finding>,
}

/// Read all metadata in `bytes`. Never fails: malformed metadata is itself a finding.
/// `now_unix` is the current time (seconds since the epoch), for future-date checks.
pub fn analyze(_bytes: &[u8], _format: Format, _cfg: &MetadataConfig, _now_unix: i64) -> Metadata {
    Metadata::default()
}
