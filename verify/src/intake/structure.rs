//! Cheap structural walks of JPEG, PNG, WebP and TIFF containers, before any decoding.
//!
//! Each walk is a single linear pass that allocates nothing: it reads the dimensions from the
//! header and refuses files that end early (decoders pad a cut JPEG with grey and say nothing),
//! plus a guess at what an unsupported file is, for the message.

use crate::error::IntakeError;
use crate::intake::Format;
use crate::jpeg::{self, WalkError};

/// Walk the container; `Ok(Some((w, h)))` when the header gave the dimensions.
pub(super) fn check(format: Format, bytes: &[u8]) -> Result<Option<(u32, u32)>, IntakeError> {
    match format {
        Format::Jpeg => jpeg(bytes).map(Some),
        Format::Png => png(bytes).map(Some),
        Format::Webp => webp(bytes),
        Format::Tiff => tiff(bytes),
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn truncated(what: &str) -> IntakeError {
    IntakeError::Truncated(what.to_owned())
}

fn corrupt(what: &str) -> IntakeError {
    IntakeError::Corrupt(what.to_owned())
}

/// JPEG: walk the marker segments to the end-of-image marker, skipping entropy-coded data.
fn jpeg(b: &[u8]) -> Result<(u32, u32), IntakeError> {
    let mut dims: Option<(u32, u32)> = None;
    let mut scans = 0usize;
    for seg in jpeg::segments(b) {
        let seg = seg.map_err(|e| match e {
            WalkError::Truncated(what) => truncated(what),
            WalkError::Corrupt(what) => corrupt(what),
        })?;
        if jpeg::is_sof(seg.marker) && dims.is_none() {
            let (Some(h), Some(w)) = (be16(seg.data, 1), be16(seg.data, 3)) else {
                return Err(corrupt("the JPEG frame header is too short"));
            };
            dims = Some((u32::from(w), u32::from(h)));
        } else if seg.marker == 0xDA {
            if dims.is_none() {
                return Err(corrupt("the JPEG has image data before its frame header"));
            }
            scans += 1;
        }
    }
    match dims {
        None => Err(corrupt("the JPEG has no frame header")),
        Some(_) if scans == 0 => Err(corrupt("the JPEG has no image data")),
        Some(d) => Ok(d),
    }
}

/// PNG: walk the chunks to IEND; IHDR first, at least one IDAT.
fn png(b: &[u8]) -> Result<(u32, u32), IntakeError> {
    let mut pos = 8;
    let mut dims = None;
    let mut idat = false;
    loop {
        let (Some(len), Some(kind)) = (be32(b, pos), b.get(pos + 4..pos + 8)) else {
            return Err(truncated(
                "the PNG ends before its IEND chunk (the picture is cut off)",
            ));
        };
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > 0x7FFF_FFFF {
            return Err(corrupt("a PNG chunk has an impossible length"));
        }
        let data_end = (pos + 8).saturating_add(len);
        if data_end.saturating_add(4) > b.len() {
            return Err(truncated("the PNG ends inside a chunk"));
        }
        let data = &b[pos + 8..data_end];
        if dims.is_none() && kind != b"IHDR" {
            return Err(corrupt("the PNG does not start with an IHDR chunk"));
        }
        match kind {
            b"IHDR" => {
                if dims.is_some() {
                    return Err(corrupt("the PNG has two IHDR chunks"));
                }
                let (Some(w), Some(h)) = (be32(data, 0), be32(data, 4)) else {
                    return Err(corrupt("the PNG IHDR chunk is too short"));
                };
                dims = Some((w, h));
            }
            b"IDAT" => idat = true,
            b"IEND" => break,
            _ => {}
        }
        pos = data_end + 4;
    }
    if !idat {
        return Err(corrupt("the PNG has no image data (no IDAT chunk)"));
    }
    dims.ok_or_else(|| corrupt("the PNG has no IHDR chunk"))
}

/// WebP: the RIFF size must fit the file, and every chunk must fit the RIFF.
fn webp(b: &[u8]) -> Result<Option<(u32, u32)>, IntakeError> {
    let Some(riff) = le32(b, 4) else {
        return Err(truncated("the WebP header is cut off"));
    };
    let riff_end = usize::try_from(riff)
        .unwrap_or(usize::MAX)
        .saturating_add(8);
    if riff_end > b.len() {
        return Err(truncated(
            "the WebP file is shorter than its header says (the picture is cut off)",
        ));
    }
    let mut pos = 12;
    let mut chunks = 0usize;
    let mut dims = None;
    while pos < riff_end {
        let Some(len) = le32(b, pos + 4) else {
            return Err(corrupt("a WebP chunk header runs past the end of the file"));
        };
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let end = (pos + 8).saturating_add(len);
        if end > riff_end {
            return Err(truncated("a WebP chunk runs past the end of the file"));
        }
        if dims.is_none() {
            dims = webp_dims(&b[pos..pos + 4], &b[pos + 8..end]);
        }
        chunks += 1;
        pos = end + (len & 1);
    }
    if chunks == 0 {
        return Err(corrupt("the WebP file has no image data"));
    }
    Ok(dims)
}

/// Canvas or frame size from a VP8X, VP8L or VP8 chunk.
fn webp_dims(kind: &[u8], d: &[u8]) -> Option<(u32, u32)> {
    let u24 = |at: usize| -> Option<u32> {
        let s = d.get(at..at + 3)?;
        Some(u32::from(s[0]) | u32::from(s[1]) << 8 | u32::from(s[2]) << 16)
    };
    match kind {
        b"VP8X" => Some((u24(4)? + 1, u24(7)? + 1)),
        b"VP8L" if d.first() == Some(&0x2F) => {
            let bits = le32(d, 1)?;
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8 " if d.get(3..6) == Some(&[0x9D, 0x01, 0x2A]) => {
            let w = u32::from(u16::from_le_bytes([*d.get(6)?, *d.get(7)?]) & 0x3FFF);
            let h = u32::from(u16::from_le_bytes([*d.get(8)?, *d.get(9)?]) & 0x3FFF);
            Some((w, h))
        }
        _ => None,
    }
}

/// TIFF: read the first IFD; the image's strips or tiles must lie inside the file.
fn tiff(b: &[u8]) -> Result<Option<(u32, u32)>, IntakeError> {
    let le = b.starts_with(b"II");
    let u16_at = |at: usize| -> Option<u16> {
        let s = b.get(at..at.checked_add(2)?)?;
        Some(if le {
            u16::from_le_bytes([s[0], s[1]])
        } else {
            u16::from_be_bytes([s[0], s[1]])
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let s = b.get(at..at.checked_add(4)?)?;
        let a = [s[0], s[1], s[2], s[3]];
        Some(if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    };
    let Some(ifd) = u32_at(4).and_then(|o| usize::try_from(o).ok()) else {
        return Err(truncated("the TIFF header is cut off"));
    };
    let Some(count) = u16_at(ifd) else {
        return Err(truncated(
            "the TIFF file ends before its first image directory",
        ));
    };
    let count = usize::from(count);
    if ifd.saturating_add(2).saturating_add(count * 12) > b.len() {
        return Err(truncated("the TIFF image directory is cut off"));
    }
    // (tag, type, count, value-or-offset position)
    let mut width = None;
    let mut height = None;
    let mut offsets = None;
    let mut lengths = None;
    for i in 0..count {
        let e = ifd + 2 + i * 12;
        let (Some(tag), Some(typ), Some(n)) = (u16_at(e), u16_at(e + 2), u32_at(e + 4)) else {
            return Err(truncated("the TIFF image directory is cut off"));
        };
        let field = (typ, usize::try_from(n).unwrap_or(usize::MAX), e + 8);
        let first = match typ {
            3 => u16_at(e + 8).map(u32::from),
            4 => u32_at(e + 8),
            _ => None,
        };
        match tag {
            256 => width = first,
            257 => height = first,
            273 | 324 => offsets = Some(field),
            279 | 325 => lengths = Some(field),
            _ => {}
        }
    }
    // Where the n values of a SHORT/LONG field live, and one value read from there.
    let values = |(typ, n, at): (u16, usize, usize)| -> Result<(usize, usize, usize), IntakeError> {
        let size = match typ {
            3 => 2,
            4 => 4,
            _ => return Err(corrupt("a TIFF strip table has an unexpected type")),
        };
        let total = n.saturating_mul(size);
        let start = if total <= 4 {
            at
        } else {
            u32_at(at)
                .and_then(|o| usize::try_from(o).ok())
                .ok_or_else(|| truncated("the TIFF image directory is cut off"))?
        };
        if start.saturating_add(total) > b.len() {
            return Err(truncated(
                "the TIFF strip table lies past the end of the file",
            ));
        }
        Ok((start, n, size))
    };
    let read = |start: usize, size: usize, i: usize| -> u64 {
        let at = start + i * size;
        let v = if size == 2 {
            u16_at(at).map(u32::from)
        } else {
            u32_at(at)
        };
        u64::from(v.unwrap_or(0))
    };
    if let (Some(o), Some(l)) = (offsets, lengths) {
        let (os, on, osz) = values(o)?;
        let (ls, ln, lsz) = values(l)?;
        let len = u64::try_from(b.len()).unwrap_or(u64::MAX);
        for i in 0..on.min(ln) {
            if read(os, osz, i).saturating_add(read(ls, lsz, i)) > len {
                return Err(truncated(
                    "the TIFF image data lies past the end of the file (the picture is cut off)",
                ));
            }
        }
    }
    Ok(width.zip(height))
}

/// Name what an unsupported file looks like, from its magic bytes.
pub(super) fn refuse_unknown(b: &[u8]) -> IntakeError {
    let starts = |m: &[u8]| b.starts_with(m);
    let at = |i: usize, m: &[u8]| b.get(i..i + m.len()) == Some(m);
    if b.len() >= 4 && &b[1..4] == b"PNG" {
        return IntakeError::Corrupt("the PNG signature is damaged".to_owned());
    }
    if starts(&[0xFF, 0xD8]) {
        return IntakeError::Corrupt("the JPEG header is damaged".to_owned());
    }
    let what = if starts(b"%PDF-") {
        "a PDF document; please photograph or scan the page instead".to_owned()
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "a GIF image".to_owned()
    } else if starts(b"BM") && b.len() >= 14 {
        "a BMP image".to_owned()
    } else if at(4, b"ftyp") {
        let brand = b.get(8..12).unwrap_or_default();
        match brand {
            b"heic" | b"heix" | b"hevc" | b"heim" | b"heis" | b"mif1" | b"msf1" => {
                "a HEIC/HEIF photo (set the phone camera to \"Most compatible\" / JPEG)".to_owned()
            }
            b"avif" | b"avis" => "an AVIF image".to_owned(),
            b"crx " => "a Canon raw photo (CR3)".to_owned(),
            _ => "a video or other ISO media file".to_owned(),
        }
    } else if starts(b"\0\0\x01\0") {
        "an icon (ICO)".to_owned()
    } else if starts(b"8BPS") {
        "a Photoshop document (PSD)".to_owned()
    } else if starts(&[0xFF, 0x0A]) || starts(b"\0\0\0\x0cJXL ") {
        "a JPEG XL image".to_owned()
    } else if starts(b"II+\0") || starts(b"MM\0+") {
        "a BigTIFF image".to_owned()
    } else if starts(b"II") && (at(2, &[0x52, 0x4F]) || at(2, &[0x55, 0x00])) {
        "a camera raw photo".to_owned()
    } else if starts(b"RIFF") {
        "a RIFF file that is not WebP (audio or video)".to_owned()
    } else if starts(b"PK\x03\x04") {
        "a ZIP archive or office document".to_owned()
    } else if starts(&[0xD0, 0xCF, 0x11, 0xE0]) {
        "an old Microsoft Office document".to_owned()
    } else if starts(&[0x1F, 0x8B]) {
        "a gzip archive".to_owned()
    } else if starts(b"\x7fELF") || starts(b"MZ") {
        "a program, not an image".to_owned()
    } else if looks_like_text(b) {
        let head = String::from_utf8_lossy(&b[..b.len().min(256)]).to_ascii_lowercase();
        if head.contains("<svg") {
            "an SVG drawing".to_owned()
        } else {
            "a text file".to_owned()
        }
    } else {
        let head: Vec<String> = b.iter().take(8).map(|x| format!("{x:02x}")).collect();
        format!("unrecognised data (starts {})", head.join(" "))
    };
    IntakeError::UnsupportedFormat(format!(
        "{what}; only JPEG, PNG, WebP and TIFF images are accepted"
    ))
}

fn looks_like_text(b: &[u8]) -> bool {
    let head = &b[..b.len().min(512)];
    let utf8 = match std::str::from_utf8(head) {
        Ok(_) => true,
        // Only a character cut at the 512-byte mark.
        Err(e) => e.error_len().is_none(),
    };
    utf8 && head
        .iter()
        .all(|&c| c == b'\n' || c == b'\r' || c == b'\t' || (0x20..0x7F).contains(&c) || c >= 0x80)
}
