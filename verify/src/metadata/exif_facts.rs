//! EXIF via kamadak-exif: the facts the metadata rules need, and whether the block is damaged.

use std::io::Cursor;

use exif::{Exif, In, Tag, Value};

use super::dates::Stamp;
use super::xmp::clean;

/// Tags a camera or phone writes for every shot; an image with few of them has lost its
/// camera EXIF or never had one.
pub const CAMERA_TAGS: [Tag; 8] = [
    Tag::Make,
    Tag::Model,
    Tag::DateTimeOriginal,
    Tag::ExposureTime,
    Tag::FNumber,
    Tag::PhotographicSensitivity,
    Tag::FocalLength,
    Tag::Flash,
];

/// What the EXIF block says.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub fields: usize,
    pub make: Option<String>,
    pub model: Option<String>,
    pub software: Option<String>,
    pub original: Option<Stamp>,
    pub digitized: Option<Stamp>,
    pub modified: Option<Stamp>,
    /// Latitude and longitude in degrees.
    pub gps: Option<(f64, f64)>,
    /// How many of [`CAMERA_TAGS`] are present.
    pub camera_tags: usize,
    pub user_comment: Option<String>,
}

/// The EXIF block: absent, read, or damaged (with what could still be read).
#[derive(Debug, Clone)]
pub enum ExifState {
    Absent,
    Read(Facts),
    Malformed { facts: Option<Facts>, why: String },
}

/// Read EXIF from a JPEG, PNG (eXIf), WebP or TIFF file.
pub fn read(bytes: &[u8]) -> ExifState {
    let result = exif::Reader::new()
        .continue_on_error(true)
        .read_from_container(&mut Cursor::new(bytes));
    let oversized = |exif: &Exif| oversized_field(exif.buf(), exif.little_endian());
    match result {
        Ok(exif) => match oversized(&exif) {
            Some(why) => ExifState::Malformed { facts: None, why },
            None => ExifState::Read(facts(&exif)),
        },
        Err(exif::Error::NotFound(_)) => ExifState::Absent,
        Err(exif::Error::PartialResult(partial)) => {
            let (exif, errors) = partial.into_inner();
            if let Some(why) = oversized(&exif) {
                return ExifState::Malformed { facts: None, why };
            }
            let why = errors
                .first()
                .map_or_else(|| "damaged entries".to_owned(), ToString::to_string);
            let facts = facts(&exif);
            ExifState::Malformed {
                facts: (facts.fields > 0).then_some(facts),
                why,
            }
        }
        Err(e) => ExifState::Malformed {
            facts: None,
            why: e.to_string(),
        },
    }
}

/// Largest value this stage reads from one EXIF field; camera names, dates and comments are
/// far smaller, and the reader copies each value it reads.
const MAX_FIELD_BYTES: u64 = 64 * 1024;

/// Tags read by [`facts`] (numbers, in IFD0, the Exif IFD and the GPS IFD).
const READ_TAGS: [u16; 22] = [
    0x010F, 0x0110, 0x0131, 0x0132, 0x829A, 0x829D, 0x8827, 0x9003, 0x9004, 0x9010, 0x9011, 0x9012,
    0x9209, 0x920A, 0x9286, 0x0001, 0x0002, 0x0003, 0x0004, 0x8769, 0x8825, 0xA005,
];

/// Before any value is read: does a field we read claim an implausibly large value? Walks
/// IFD0 and its Exif and GPS sub-IFDs (entry headers only), so hostile counts cannot make the
/// reader copy the whole file once per field.
fn oversized_field(buf: &[u8], le: bool) -> Option<String> {
    let u16_at = |at: usize| -> Option<u16> {
        let s = buf.get(at..at.checked_add(2)?)?;
        Some(if le {
            u16::from_le_bytes([s[0], s[1]])
        } else {
            u16::from_be_bytes([s[0], s[1]])
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let s = buf.get(at..at.checked_add(4)?)?;
        let a = [s[0], s[1], s[2], s[3]];
        Some(if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    };
    let mut ifds = vec![usize::try_from(u32_at(4)?).ok()?];
    let mut walked = 0;
    while let Some(ifd) = ifds.pop() {
        walked += 1;
        if walked > 3 {
            break;
        }
        let count = usize::from(u16_at(ifd).unwrap_or(0));
        for i in 0..count {
            let Some(e) = ifd.checked_add(2 + i * 12) else {
                break;
            };
            let (Some(tag), Some(typ), Some(n)) = (u16_at(e), u16_at(e + 2), u32_at(e + 4)) else {
                break;
            };
            if !READ_TAGS.contains(&tag) {
                continue;
            }
            let unit: u64 = match typ {
                3 | 8 => 2,
                4 | 9 | 11 => 4,
                5 | 10 | 12 => 8,
                _ => 1,
            };
            let size = unit * u64::from(n);
            if size > MAX_FIELD_BYTES {
                return Some(format!("field 0x{tag:04x} claims {size} bytes"));
            }
            if matches!(tag, 0x8769 | 0x8825) && walked == 1 {
                if let Some(sub) = u32_at(e + 8).and_then(|o| usize::try_from(o).ok()) {
                    ifds.push(sub);
                }
            }
        }
    }
    None
}

fn ascii(exif: &Exif, tag: Tag) -> Option<String> {
    let field = exif.get_field(tag, In::PRIMARY)?;
    let Value::Ascii(ref parts) = field.value else {
        return None;
    };
    let s = clean(&String::from_utf8_lossy(parts.first()?));
    (!s.is_empty()).then_some(s)
}

fn raw_ascii(exif: &Exif, tag: Tag) -> Option<Vec<u8>> {
    let field = exif.get_field(tag, In::PRIMARY)?;
    match field.value {
        Value::Ascii(ref parts) => parts.first().cloned(),
        _ => None,
    }
}

fn stamp(exif: &Exif, tag: Tag, offset: Tag) -> Option<Stamp> {
    let value = raw_ascii(exif, tag)?;
    let offset = raw_ascii(exif, offset);
    Stamp::from_exif(&value, offset.as_deref())
}

fn degrees(exif: &Exif, tag: Tag, reference: Tag, negative: u8) -> Option<f64> {
    let field = exif.get_field(tag, In::PRIMARY)?;
    let Value::Rational(ref v) = field.value else {
        return None;
    };
    let part = |i: usize| v.get(i).map_or(0.0, |r| r.to_f64());
    let d = part(0) + part(1) / 60.0 + part(2) / 3600.0;
    let sign = match raw_ascii(exif, reference) {
        Some(r) if r.first().map(u8::to_ascii_uppercase) == Some(negative) => -1.0,
        _ => 1.0,
    };
    d.is_finite().then_some(sign * d)
}

fn user_comment(exif: &Exif) -> Option<String> {
    let field = exif.get_field(Tag::UserComment, In::PRIMARY)?;
    let Value::Undefined(ref raw, _) = field.value else {
        return None;
    };
    let raw = &raw[..raw.len().min(64 * 1024)];
    let (code, body) = raw.split_at(raw.len().min(8));
    let text = if code.starts_with(b"UNICODE") {
        // UTF-16; writers disagree on the byte order, so take the reading that looks like text.
        let decode = |le: bool| -> String {
            let units = body.chunks_exact(2).map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            });
            char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        };
        let score = |s: &str| s.chars().filter(char::is_ascii_alphanumeric).count();
        let (le, be) = (decode(true), decode(false));
        if score(&le) >= score(&be) {
            le
        } else {
            be
        }
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    let text = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!text.is_empty()).then(|| text.to_owned())
}

fn facts(exif: &Exif) -> Facts {
    let gps = match (
        degrees(exif, Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S'),
        degrees(exif, Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W'),
    ) {
        (Some(lat), Some(lon)) if lat.abs() <= 90.0 && lon.abs() <= 180.0 => Some((lat, lon)),
        _ => None,
    };
    Facts {
        fields: exif.fields().len(),
        make: ascii(exif, Tag::Make),
        model: ascii(exif, Tag::Model),
        software: ascii(exif, Tag::Software),
        original: stamp(exif, Tag::DateTimeOriginal, Tag::OffsetTimeOriginal),
        digitized: stamp(exif, Tag::DateTimeDigitized, Tag::OffsetTimeDigitized),
        modified: stamp(exif, Tag::DateTime, Tag::OffsetTime),
        gps,
        camera_tags: CAMERA_TAGS
            .iter()
            .filter(|t| exif.get_field(**t, In::PRIMARY).is_some())
            .count(),
        user_comment: user_comment(exif),
    }
}
