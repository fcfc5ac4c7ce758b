//! Helpers shared by the verify integration tests: the shared data folder, clean photos, JPEG
//! round trips, splicing, synthetic documents and PNG chunks.
#![allow(dead_code)]

use std::path::PathBuf;

use image::RgbImage;

/// The shared test data folder (`JACHAI_SHARED_DATA` overrides it).
pub fn data_dir() -> PathBuf {
    std::env::var_os("JACHAI_SHARED_DATA").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")),
        PathBuf::from,
    )
}

/// Clean photos: the EXIF sample JPEGs and the un-tampered MICC-F220 originals.
pub fn clean_photos() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let exif = data_dir().join("exif-samples/jpg");
    let micc = data_dir().join("micc-f220");
    for (dir, keep) in [
        (exif, (|_: &str| true) as fn(&str) -> bool),
        (micc, |n: &str| n.ends_with("_scale.jpg")),
    ] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .filter(|p| {
                let name = p
                    .file_name()
                    .expect("a file name")
                    .to_string_lossy()
                    .to_string();
                name.ends_with(".jpg") && keep(&name)
            })
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

pub fn micc(name: &str) -> RgbImage {
    let path = data_dir().join("micc-f220").join(name);
    image::open(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8()
}

pub fn jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut buf = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, quality)
        .encode_image(img)
        .expect("jpeg encodes");
    buf
}

pub fn decode(bytes: &[u8]) -> RgbImage {
    image::load_from_memory(bytes)
        .expect("image decodes")
        .to_rgb8()
}

/// `img` saved as JPEG at `quality` and read back.
pub fn round_trip(img: &RgbImage, quality: u8) -> RgbImage {
    decode(&jpeg(img, quality))
}

/// Copy `src`'s `w`×`h` patch at (`sx`, `sy`) into `dst` at (`dx`, `dy`).
pub fn paste(
    dst: &mut RgbImage,
    src: &RgbImage,
    (sx, sy): (u32, u32),
    (dx, dy): (u32, u32),
    (w, h): (u32, u32),
) {
    for y in 0..h {
        for x in 0..w {
            dst.put_pixel(dx + x, dy + y, *src.get_pixel(sx + x, sy + y));
        }
    }
}

/// A tiny deterministic generator (tests must not depend on a random seed).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_f32(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as f32) / ((1u64 << 31) as f32)
    }

    /// Roughly standard normal (sum of uniforms).
    pub fn gauss(&mut self) -> f32 {
        (0..12).map(|_| self.next_f32()).sum::<f32>() - 6.0
    }
}

/// A synthetic scanned page: off-white paper with slight noise, lines of black 8×8-font text
/// drawn at 2× and a ruled box, slightly blurred like a scanner's optics.
pub fn scanned_page(w: u32, h: u32) -> RgbImage {
    use font8x8::legacy::BASIC_LEGACY;
    let mut rng = Lcg(7);
    let mut img = RgbImage::from_fn(w, h, |_, _| {
        let v = (246.0 + 2.0 * rng.gauss()).clamp(0.0, 255.0) as u8;
        image::Rgb([v, v, v.saturating_sub(4)])
    });
    let text = "POLICE GENERAL DIARY No 1234 DATE 12/03/2024 IMEI 356789012345678 SIGNED";
    let mut y = 40;
    while y + 20 < h - 40 {
        let mut x = 40;
        for ch in text.chars().cycle().skip((y as usize) % 17) {
            if x + 16 >= w - 40 {
                break;
            }
            let glyph = BASIC_LEGACY[ch as usize & 0x7f];
            for (gy, row) in glyph.iter().enumerate() {
                for gx in 0..8 {
                    if row & (1 << gx) != 0 {
                        for (oy, ox) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                            img.put_pixel(
                                x + 2 * gx + ox,
                                y + 2 * gy as u32 + oy,
                                image::Rgb([20, 20, 30]),
                            );
                        }
                    }
                }
            }
            x += 16;
        }
        y += 36;
    }
    for x in 20..w - 20 {
        for t in 0..2 {
            img.put_pixel(x, 20 + t, image::Rgb([30, 30, 30]));
            img.put_pixel(x, h - 22 + t, image::Rgb([30, 30, 30]));
        }
    }
    image::imageops::blur(&img, 0.6)
}

/// Append a PNG chunk (length, type, data, CRC) to `out`.
pub fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).expect("short").to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}
