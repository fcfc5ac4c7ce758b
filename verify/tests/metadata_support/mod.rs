//! Builders for the metadata tests: EXIF IFDs, JPEG segments, XMP packets and PNG chunks made by hand.

use std::io::{Cursor, Write};

pub use crate::common::png_chunk;

use image::{ImageEncoder, Rgb, RgbImage};

/// One IFD entry: tag, TIFF type, count and the raw value bytes (little-endian).
pub struct Entry(pub u16, pub u16, pub u32, pub Vec<u8>);

pub fn ascii(tag: u16, s: &str) -> Entry {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    Entry(tag, 2, u32::try_from(v.len()).expect("short"), v)
}

pub fn rational(tag: u16, n: u32, d: u32) -> Entry {
    let mut v = n.to_le_bytes().to_vec();
    v.extend_from_slice(&d.to_le_bytes());
    Entry(tag, 5, 1, v)
}

pub fn short(tag: u16, n: u16) -> Entry {
    Entry(tag, 3, 1, n.to_le_bytes().to_vec())
}

/// Lay out one IFD at `at`; values over 4 bytes go right after it.
pub fn ifd(entries: &[Entry], at: u32) -> Vec<u8> {
    let n = u32::try_from(entries.len()).expect("few entries");
    let mut data_at = at + 2 + 12 * n + 4;
    let mut head = u16::try_from(n).expect("few").to_le_bytes().to_vec();
    let mut data = Vec::new();
    for Entry(tag, typ, count, value) in entries {
        head.extend_from_slice(&tag.to_le_bytes());
        head.extend_from_slice(&typ.to_le_bytes());
        head.extend_from_slice(&count.to_le_bytes());
        if value.len() <= 4 {
            let mut v = value.clone();
            v.resize(4, 0);
            head.extend_from_slice(&v);
        } else {
            head.extend_from_slice(&data_at.to_le_bytes());
            data.extend_from_slice(value);
            if value.len() % 2 == 1 {
                data.push(0);
            }
            data_at += u32::try_from(value.len() + value.len() % 2).expect("short");
        }
    }
    head.extend_from_slice(&0u32.to_le_bytes());
    head.extend_from_slice(&data);
    head
}

/// A little-endian TIFF/EXIF block with IFD0 entries and Exif sub-IFD entries.
pub fn exif_block(ifd0: Vec<Entry>, sub: Vec<Entry>) -> Vec<u8> {
    let mut ifd0 = ifd0;
    let mut out = b"II*\0\x08\0\0\0".to_vec();
    if sub.is_empty() {
        out.extend(ifd(&ifd0, 8));
        return out;
    }
    ifd0.push(Entry(0x8769, 4, 1, vec![0; 4]));
    let first = ifd(&ifd0, 8);
    let sub_at = 8 + u32::try_from(first.len()).expect("short");
    ifd0.pop();
    ifd0.push(Entry(0x8769, 4, 1, sub_at.to_le_bytes().to_vec()));
    out.extend(ifd(&ifd0, 8));
    out.extend(ifd(&sub, sub_at));
    out
}

/// Camera EXIF with the given software and dates (EXIF `YYYY:MM:DD HH:MM:SS`).
pub fn camera_exif(software: Option<&str>, original: &str, modified: &str) -> Vec<u8> {
    let mut ifd0 = vec![ascii(0x010F, "Canon"), ascii(0x0110, "Canon EOS 40D")];
    if let Some(s) = software {
        ifd0.push(ascii(0x0131, s));
    }
    ifd0.push(ascii(0x0132, modified));
    let sub = vec![
        rational(0x829A, 1, 125),
        rational(0x829D, 56, 10),
        short(0x8827, 200),
        ascii(0x9003, original),
        ascii(0x9004, original),
        short(0x9209, 16),
        rational(0x920A, 50, 1),
    ];
    exif_block(ifd0, sub)
}

pub fn small_jpeg() -> Vec<u8> {
    let img = RgbImage::from_fn(32, 24, |x, y| {
        Rgb([
            u8::try_from(x * 8).unwrap_or(0),
            u8::try_from(y * 10).unwrap_or(0),
            90,
        ])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&img)
        .expect("jpeg encoding");
    out
}

/// A JPEG with the given APPn segments inserted right after SOI.
pub fn jpeg_with(segments: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let base = small_jpeg();
    let mut out = base[..2].to_vec();
    for (marker, payload) in segments {
        out.extend_from_slice(&[0xFF, *marker]);
        out.extend_from_slice(
            &u16::try_from(payload.len() + 2)
                .expect("short")
                .to_be_bytes(),
        );
        out.extend_from_slice(payload);
    }
    out.extend_from_slice(&base[2..]);
    out
}

pub fn app1_exif(tiff: &[u8]) -> (u8, Vec<u8>) {
    let mut p = b"Exif\0\0".to_vec();
    p.extend_from_slice(tiff);
    (0xE1, p)
}

pub fn app1_xmp(body: &str) -> (u8, Vec<u8>) {
    let mut p = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    p.extend_from_slice(xmp_packet(body).as_bytes());
    (0xE1, p)
}

pub fn xmp_packet(description: &str) -> String {
    format!(
        r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" {description}</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"#
    )
}

pub fn zlib(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(data).expect("writing to a Vec");
    z.finish().expect("writing to a Vec")
}

/// A real PNG (from the `image` encoder) with extra chunks inserted after IHDR.
pub fn png_with(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    let img = RgbImage::from_pixel(8, 8, Rgb([200, 100, 50]));
    let mut base = Cursor::new(Vec::new());
    image::codecs::png::PngEncoder::new(&mut base)
        .write_image(img.as_raw(), 8, 8, image::ExtendedColorType::Rgb8)
        .expect("png encoding");
    let base = base.into_inner();
    let ihdr_end = 8 + 12 + 13;
    let mut out = base[..ihdr_end].to_vec();
    for (kind, data) in chunks {
        png_chunk(&mut out, kind, data);
    }
    out.extend_from_slice(&base[ihdr_end..]);
    out
}

pub fn text_chunk(key: &str, text: &str) -> (&'static [u8; 4], Vec<u8>) {
    let mut d = key.as_bytes().to_vec();
    d.push(0);
    d.extend_from_slice(text.as_bytes());
    (b"tEXt", d)
}

pub fn ztxt_chunk(key: &str, text: &[u8]) -> (&'static [u8; 4], Vec<u8>) {
    let mut d = key.as_bytes().to_vec();
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(&zlib(text));
    (b"zTXt", d)
}

pub fn itxt_chunk(key: &str, text: &str, compressed: bool) -> (&'static [u8; 4], Vec<u8>) {
    let mut d = key.as_bytes().to_vec();
    d.extend_from_slice(&[0, u8::from(compressed), 0, 0, 0]);
    if compressed {
        d.extend_from_slice(&zlib(text.as_bytes()));
    } else {
        d.extend_from_slice(text.as_bytes());
    }
    (b"iTXt", d)
}

// ---------- the sample corpus ----------

/// PNG signature and IHDR only.
pub fn small_png_head() -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    png_chunk(&mut out, b"IHDR", &[0, 0, 0, 8, 0, 0, 0, 8, 8, 2, 0, 0, 0]);
    out
}
