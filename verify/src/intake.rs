//! Intake: sniff the format from the bytes, check limits before decoding, decode, apply EXIF orientation.
//!
//! Order matters: the byte limit, then a cheap structural walk of the container (which also reads
//! the dimensions from the header and notices truncation that decoders hide by padding), then the
//! pixel limits, and only then the decoder, itself under [`image::Limits`].

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, RgbImage};

use crate::error::IntakeError;

mod structure;

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

    /// The matching `image` crate format.
    pub fn image_format(self) -> ImageFormat {
        match self {
            Format::Jpeg => ImageFormat::Jpeg,
            Format::Png => ImageFormat::Png,
            Format::Webp => ImageFormat::WebP,
            Format::Tiff => ImageFormat::Tiff,
        }
    }

    /// Human name for messages.
    fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
            Format::Webp => "WebP",
            Format::Tiff => "TIFF",
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

impl Limits {
    /// The allocation cap handed to the decoder: room for the largest allowed image at 16-bit
    /// RGBA (8 bytes a pixel), plus working space.
    pub fn decoder_alloc(&self) -> u64 {
        self.max_pixels
            .saturating_mul(8)
            .saturating_add(64 * 1024 * 1024)
    }

    fn check_pixels(&self, width: u32, height: u32) -> Result<(), IntakeError> {
        let pixels = u64::from(width) * u64::from(height);
        if width > self.max_side || height > self.max_side || pixels > self.max_pixels {
            return Err(IntakeError::TooManyPixels {
                width,
                height,
                limit_pixels: self.max_pixels,
                limit_side: self.max_side,
            });
        }
        if width == 0 || height == 0 {
            return Err(IntakeError::Corrupt(format!(
                "the header says the image is {width}×{height} pixels"
            )));
        }
        Ok(())
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
    /// Width and height as stored in the file, before orientation was applied.
    pub stored_dimensions: (u32, u32),
    /// Whether the source had an alpha channel (composited on white).
    pub had_alpha: bool,
    /// Bits per channel of the source (8, 16 or 32).
    pub source_bits: u16,
}

/// Read `bytes` into an upright RGB image, or say clearly why not.
pub fn intake(bytes: &[u8], limits: &Limits) -> Result<Decoded, IntakeError> {
    if bytes.is_empty() {
        return Err(IntakeError::Empty);
    }
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if size > limits.max_bytes {
        return Err(IntakeError::TooManyBytes {
            size,
            limit: limits.max_bytes,
        });
    }
    let format = sniff(bytes).ok_or_else(|| structure::refuse_unknown(bytes))?;

    // Structure and header dimensions, before any decoder sees the bytes.
    let header_dims = structure::check(format, bytes)?;
    if let Some((width, height)) = header_dims {
        limits.check_pixels(width, height)?;
    }

    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_image_width = Some(limits.max_side);
    decoder_limits.max_image_height = Some(limits.max_side);
    decoder_limits.max_alloc = Some(limits.decoder_alloc());
    reader.limits(decoder_limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| decode_error(e, format, header_dims, limits))?;
    let (width, height) = decoder.dimensions();
    limits.check_pixels(width, height)?;
    // A broken EXIF block must not stop the image: it is the metadata stage's finding.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let color = decoder.color_type();
    let image = DynamicImage::from_decoder(decoder)
        .map_err(|e| decode_error(e, format, Some((width, height)), limits))?;

    let had_alpha = color.has_alpha();
    let source_bits = color.bits_per_pixel() / u16::from(color.channel_count().max(1));
    let mut upright = DynamicImage::ImageRgb8(to_rgb8(image));
    upright.apply_orientation(orientation);
    Ok(Decoded {
        format,
        image: upright.into_rgb8(),
        orientation: u16::from(orientation.to_exif()),
        stored_dimensions: (width, height),
        had_alpha,
        source_bits,
    })
}

/// 8-bit RGB; alpha is composited on white, 16-bit and float samples are scaled.
fn to_rgb8(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let a = u32::from(a);
        let over_white = |c: u8| {
            let v = (u32::from(c) * a + 255 * (255 - a) + 127) / 255;
            u8::try_from(v).unwrap_or(u8::MAX)
        };
        image::Rgb([over_white(r), over_white(g), over_white(b)])
    })
}

/// Turn a decoder error into a clear intake error.
fn decode_error(
    e: ImageError,
    format: Format,
    dims: Option<(u32, u32)>,
    limits: &Limits,
) -> IntakeError {
    let name = format.name();
    match e {
        ImageError::Limits(l) => {
            let (width, height) = dims.unwrap_or((0, 0));
            if dims.is_some() || matches!(l.kind(), image::error::LimitErrorKind::DimensionError) {
                IntakeError::TooManyPixels {
                    width,
                    height,
                    limit_pixels: limits.max_pixels,
                    limit_side: limits.max_side,
                }
            } else {
                IntakeError::Corrupt(format!("{name} needs more memory than allowed: {l}"))
            }
        }
        ImageError::Unsupported(u) => {
            IntakeError::UnsupportedFormat(format!("a {name} variant this kiosk cannot read: {u}"))
        }
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            IntakeError::Truncated(format!("the {name} data ends early"))
        }
        other => {
            let msg = other.to_string();
            let lower = msg.to_ascii_lowercase();
            if [
                "eof",
                "end of file",
                "unexpected end",
                "truncat",
                "not enough data",
            ]
            .iter()
            .any(|w| lower.contains(w))
            {
                IntakeError::Truncated(format!("the {name} data ends early ({msg})"))
            } else {
                IntakeError::Corrupt(format!("the {name} data cannot be decoded ({msg})"))
            }
        }
    }
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
