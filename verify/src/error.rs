//! Errors: only unreadable input is an error; everything else is a finding in the report.

/// Why an input could not be read at all. Each variant has a stable [`IntakeError::code`].
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("the input is empty")]
    Empty,
    #[error("unsupported format: {0}")]
    UnsupportedFormat(String),
    #[error("input is {size} bytes, more than the {limit}-byte limit")]
    TooManyBytes { size: u64, limit: u64 },
    #[error("image is {width}×{height} pixels, over the limit of {limit_pixels} pixels or {limit_side} per side")]
    TooManyPixels {
        width: u32,
        height: u32,
        limit_pixels: u64,
        limit_side: u32,
    },
    #[error("the file is truncated: {0}")]
    Truncated(String),
    #[error("the file is corrupt: {0}")]
    Corrupt(String),
}

impl IntakeError {
    /// Stable machine code for the JSON contract.
    pub fn code(&self) -> &'static str {
        match self {
            IntakeError::Empty => "empty_input",
            IntakeError::UnsupportedFormat(_) => "unsupported_format",
            IntakeError::TooManyBytes { .. } => "too_many_bytes",
            IntakeError::TooManyPixels { .. } => "too_many_pixels",
            IntakeError::Truncated(_) => "truncated",
            IntakeError::Corrupt(_) => "corrupt",
        }
    }
}

/// Why a stage produced no result. The pipeline turns these into findings, never into errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageError {
    /// The stage does not apply to this input (e.g. JPEG analysis of a PNG).
    #[error("not applicable: {0}")]
    NotApplicable(&'static str),
    #[error("ran past its time budget")]
    Timeout,
    #[error("failed: {0}")]
    Failed(String),
}
