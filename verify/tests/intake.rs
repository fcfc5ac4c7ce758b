//! Intake tests: formats, limits checked before decoding (bombs), truncation, corruption,
//! orientation and colour conversion, on PngSuite, the EXIF samples and generated files.

mod common;

use std::io::{Cursor, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use image::{ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
use proptest::prelude::*;
use verify::intake::{intake, sniff, Format, Limits};

fn read(rel: &str) -> Vec<u8> {
    let path = common::data_dir().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// What intake should make of an input.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Decodes to this upright size.
    Size(u32, u32),
    /// Decodes (size not checked).
    Decodes,
    /// Refused with this error code.
    Refused(&'static str),
    /// Refused, any code.
    AnyRefusal,
}

/// The one helper every case goes through.
fn check(name: &str, bytes: &[u8], limits: &Limits, expect: Expect) {
    let started = Instant::now();
    let got = intake(bytes, limits);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "{name}: intake took {took:?}"
    );
    match (expect, &got) {
        (Expect::Size(w, h), Ok(d)) => {
            assert_eq!(d.image.dimensions(), (w, h), "{name}: upright size");
        }
        (Expect::Decodes, Ok(_)) | (Expect::AnyRefusal, Err(_)) => {}
        (Expect::Refused(code), Err(e)) => {
            assert_eq!(e.code(), code, "{name}: refused for the wrong reason: {e}");
            assert!(!e.to_string().is_empty());
        }
        (_, Ok(d)) => panic!(
            "{name}: expected {expect:?}, but it decoded ({:?})",
            d.format
        ),
        (_, Err(e)) => panic!("{name}: expected {expect:?}, got {} ({e})", e.code()),
    }
}

// ---------- byte builders ----------

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(data).expect("writing to a Vec");
    z.finish().expect("writing to a Vec")
}

/// A greyscale 8-bit PNG with the given header size and raw (filtered) scanline data.
fn raw_png(width: u32, height: u32, idat_raw: &[u8]) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    common::png_chunk(&mut out, b"IHDR", &ihdr);
    common::png_chunk(&mut out, b"IDAT", &zlib(idat_raw));
    common::png_chunk(&mut out, b"IEND", &[]);
    out
}

fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([
            u8::try_from(x * 255 / w.max(1)).unwrap_or(0),
            u8::try_from(y * 255 / h.max(1)).unwrap_or(0),
            128,
        ])
    })
}

fn encode_jpeg(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(img)
        .expect("jpeg encoding");
    out
}

fn encode_png(img: &image::DynamicImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png encoding");
    out.into_inner()
}

fn encode_webp(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("webp encoding");
    out
}

fn encode_tiff(img: &RgbImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image::codecs::tiff::TiffEncoder::new(&mut out)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("tiff encoding");
    out.into_inner()
}

/// Patch the first SOF marker of a JPEG to claim `w`×`h`.
fn with_sof_size(jpeg: &[u8], w: u16, h: u16) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    let at = out
        .windows(2)
        .position(|m| m[0] == 0xFF && (m[1] == 0xC0 || m[1] == 0xC2))
        .expect("a SOF marker");
    out[at + 5..at + 7].copy_from_slice(&h.to_be_bytes());
    out[at + 7..at + 9].copy_from_slice(&w.to_be_bytes());
    out
}

// ---------- PngSuite ----------

#[test]
fn pngsuite_broken_files_are_refused_and_the_rest_decode() {
    let dir = common::data_dir().join("pngsuite");
    let mut seen = (0, 0);
    for entry in std::fs::read_dir(&dir).expect("pngsuite directory") {
        let path = entry.expect("directory entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if !name.ends_with(".png") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("reading a PngSuite file");
        if name.starts_with('x') {
            seen.0 += 1;
            check(&name, &bytes, &Limits::default(), Expect::AnyRefusal);
        } else {
            seen.1 += 1;
            check(&name, &bytes, &Limits::default(), Expect::Decodes);
        }
    }
    assert_eq!(seen.0, 14, "the PngSuite has 14 broken files");
    assert!(seen.1 > 100, "only {} good PngSuite files found", seen.1);
}

#[test]
fn pngsuite_refusals_say_why() {
    let cases = [
        ("xs1n0g01.png", "corrupt"), // damaged signature
        ("xcrn0g04.png", "corrupt"), // CR/LF conversion
        ("xhdn0g08.png", "corrupt"), // bad IHDR CRC
        ("xcsn0g01.png", "corrupt"), // bad IDAT CRC
        ("xdtn0g01.png", "corrupt"), // no IDAT
        ("xd0n2c08.png", "corrupt"), // bit depth 0
    ];
    for (name, code) in cases {
        check(
            name,
            &read(&format!("pngsuite/{name}")),
            &Limits::default(),
            Expect::Refused(code),
        );
    }
}

// ---------- colour ----------

#[test]
fn alpha_is_composited_on_white_and_16_bit_is_scaled() {
    let rgba = RgbaImage::from_fn(3, 1, |x, _| match x {
        0 => Rgba([0, 0, 0, 0]),
        1 => Rgba([255, 0, 0, 255]),
        _ => Rgba([0, 0, 0, 128]),
    });
    let d = intake(
        &encode_png(&image::DynamicImage::ImageRgba8(rgba)),
        &Limits::default(),
    )
    .expect("rgba png");
    assert_eq!(d.image.get_pixel(0, 0).0, [255, 255, 255]);
    assert_eq!(d.image.get_pixel(1, 0).0, [255, 0, 0]);
    assert_eq!(d.image.get_pixel(2, 0).0, [127, 127, 127]);
    assert!(d.had_alpha);

    let deep = image::ImageBuffer::<Rgb<u16>, _>::from_fn(2, 1, |x, _| {
        if x == 0 {
            Rgb([65535, 0, 32896])
        } else {
            Rgb([257, 514, 0])
        }
    });
    let d = intake(
        &encode_png(&image::DynamicImage::ImageRgb16(deep)),
        &Limits::default(),
    )
    .expect("16-bit png");
    assert_eq!(d.image.get_pixel(0, 0).0, [255, 0, 128]);
    assert_eq!(d.image.get_pixel(1, 0).0, [1, 2, 0]);
    assert_eq!(d.source_bits, 16);
}

// ---------- orientation ----------

#[test]
fn exif_orientation_is_applied() {
    for n in 1..=8u16 {
        for (kind, landscape) in [("landscape", true), ("portrait", false)] {
            let name = format!("exif-samples/jpg/orientation/{kind}_{n}.jpg");
            let d = intake(&read(&name), &Limits::default()).expect("orientation sample");
            assert_eq!(d.orientation, n, "{name}");
            let (w, h) = d.image.dimensions();
            assert_eq!(w > h, landscape, "{name}: upright {w}×{h}");
            // Every sample shows the same upright picture, so the top-left corner
            // matches orientation 1's.
            let reference = intake(
                &read(&format!("exif-samples/jpg/orientation/{kind}_1.jpg")),
                &Limits::default(),
            )
            .expect("reference sample");
            let (a, b) = (d.image.get_pixel(5, 5).0, reference.image.get_pixel(5, 5).0);
            let diff: i32 = a
                .iter()
                .zip(b.iter())
                .map(|(x, y)| (i32::from(*x) - i32::from(*y)).abs())
                .sum();
            assert!(diff < 60, "{name}: corner {a:?} vs {b:?}");
        }
    }
}

// ---------- formats ----------

#[test]
fn every_accepted_format_decodes() {
    let img = gradient(40, 30);
    let cases: [(&str, Vec<u8>, Format); 4] = [
        ("jpeg", encode_jpeg(&img), Format::Jpeg),
        (
            "png",
            encode_png(&image::DynamicImage::ImageRgb8(img.clone())),
            Format::Png,
        ),
        ("webp", encode_webp(&img), Format::Webp),
        ("tiff", encode_tiff(&img), Format::Tiff),
    ];
    for (name, bytes, format) in cases {
        assert_eq!(sniff(&bytes), Some(format), "{name}");
        check(name, &bytes, &Limits::default(), Expect::Size(40, 30));
    }
}

#[test]
fn other_formats_are_named_and_refused() {
    let cases: [(&str, &[u8], &str); 10] = [
        ("pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        ("gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00", "GIF"),
        (
            "bmp",
            b"BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00",
            "BMP",
        ),
        (
            "heic",
            b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
            "HEIC",
        ),
        ("avif", b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00", "AVIF"),
        ("psd", b"8BPS\x00\x01\x00\x00\x00\x00\x00\x00", "Photoshop"),
        ("zip", b"PK\x03\x04\x14\x00\x00\x00", "ZIP"),
        (
            "svg",
            b"<?xml version=\"1.0\"?><svg xmlns=\"x\"></svg>",
            "SVG",
        ),
        ("text", b"hello, this is not a picture\n", "text"),
        (
            "noise",
            b"\x00\x13\x37\x42\x99\x10\x20\x30\x40",
            "unrecognised",
        ),
    ];
    for (name, bytes, says) in cases {
        check(
            name,
            bytes,
            &Limits::default(),
            Expect::Refused("unsupported_format"),
        );
        let msg = intake(bytes, &Limits::default())
            .map(|_| ())
            .expect_err("refused")
            .to_string();
        assert!(
            msg.contains(says),
            "{name}: message {msg:?} should name {says}"
        );
    }
    check(
        "empty",
        b"",
        &Limits::default(),
        Expect::Refused("empty_input"),
    );
}

// ---------- limits and bombs ----------

/// Peak resident memory of this process in kB (Linux), if readable.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn limits_are_checked_before_decoding() {
    let before = peak_rss_kb();
    // 50 000 × 50 000 greyscale: 2.5 GB of pixels behind a valid IHDR and a small IDAT.
    let zeros = vec![0u8; 1 << 20];
    let bomb = raw_png(50_000, 50_000, &zeros);
    assert!(bomb.len() < 10_000, "the bomb itself is small");
    let started = Instant::now();
    check(
        "png bomb",
        &bomb,
        &Limits::default(),
        Expect::Refused("too_many_pixels"),
    );
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "the bomb took {took:?} to refuse"
    );

    // Within the side limit but over the pixel budget.
    let wide = raw_png(16_000, 16_000, &zeros);
    check(
        "png wide",
        &wide,
        &Limits::default(),
        Expect::Refused("too_many_pixels"),
    );

    // A JPEG whose frame header claims 60 000 × 60 000 (and one 16 000 × 16 000).
    let jpeg = encode_jpeg(&gradient(64, 64));
    for (w, h) in [(60_000, 60_000), (16_000, 16_000), (65_535, 1)] {
        check(
            &format!("jpeg sof {w}x{h}"),
            &with_sof_size(&jpeg, w, h),
            &Limits::default(),
            Expect::Refused("too_many_pixels"),
        );
    }

    // Caller limits are honoured.
    let tight = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    check("bytes", &jpeg, &tight, Expect::Refused("too_many_bytes"));
    let tight = Limits {
        max_pixels: 1_000,
        ..Limits::default()
    };
    check("pixels", &jpeg, &tight, Expect::Refused("too_many_pixels"));
    let tight = Limits {
        max_side: 63,
        ..Limits::default()
    };
    check("side", &jpeg, &tight, Expect::Refused("too_many_pixels"));
    for (name, bytes) in [
        ("webp", encode_webp(&gradient(64, 64))),
        ("tiff", encode_tiff(&gradient(64, 64))),
    ] {
        check(name, &bytes, &tight, Expect::Refused("too_many_pixels"));
    }

    if let (Some(a), Some(b)) = (before, peak_rss_kb()) {
        assert!(
            b.saturating_sub(a) < 100 * 1024,
            "peak memory grew by {} kB",
            b - a
        );
    }
}

#[test]
fn png_whose_data_inflates_past_its_size_is_bounded() {
    // 64 × 64 greyscale needs 64 × 65 bytes; give it 64 MiB of zeros (about 64 KiB compressed).
    let zeros = vec![0u8; 64 << 20];
    let overfull = raw_png(64, 64, &zeros);
    assert!(overfull.len() < 200_000);
    let started = Instant::now();
    let got = intake(&overfull, &Limits::default());
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    // Either refused as corrupt, or the surplus is ignored; never a 64 MiB buffer.
    match got {
        Ok(d) => assert_eq!(d.image.dimensions(), (64, 64)),
        Err(e) => assert_eq!(e.code(), "corrupt", "{e}"),
    }
    // And too little data is refused.
    let short = raw_png(64, 64, &zeros[..64 * 10]);
    check("short idat", &short, &Limits::default(), Expect::AnyRefusal);
}

// ---------- truncation ----------

fn samples() -> Vec<(String, Vec<u8>)> {
    let img = gradient(48, 40);
    let mut out = vec![
        ("gen.jpg".to_owned(), encode_jpeg(&img)),
        ("gen.webp".to_owned(), encode_webp(&img)),
        ("gen.tiff".to_owned(), encode_tiff(&img)),
        (
            "gen.png".to_owned(),
            encode_png(&image::DynamicImage::ImageRgb8(img)),
        ),
    ];
    for rel in [
        "pngsuite/basn2c08.png",
        "pngsuite/basi6a16.png",
        "pngsuite/basn3p04.png",
        "exif-samples/jpg/Canon_40D.jpg",
        "exif-samples/jpg/orientation/portrait_6.jpg",
        "exif-samples/jpg/hdr/iphone_hdr_YES.jpg",
    ] {
        out.push((rel.to_owned(), read(rel)));
    }
    out
}

#[test]
fn truncated_files_are_refused() {
    for (name, bytes) in samples() {
        check(&name, &bytes, &Limits::default(), Expect::Decodes);
        let n = bytes.len();
        let cuts = [
            1,
            2,
            3,
            7,
            8,
            12,
            20,
            33,
            100,
            n / 4,
            n / 2,
            3 * n / 4,
            n - 100,
            n - 2,
            n - 1,
        ];
        for cut in cuts {
            let head = &bytes[..cut.min(n - 1)];
            let expect = if cut > 100 {
                Expect::Refused("truncated")
            } else {
                Expect::AnyRefusal
            };
            check(
                &format!("{name} cut at {}", head.len()),
                head,
                &Limits::default(),
                expect,
            );
        }
    }
}

#[test]
fn exif_samples_all_decode_or_refuse_cleanly() {
    fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("samples directory").flatten() {
            let p = entry.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg"))
            {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&common::data_dir().join("exif-samples"), &mut files);
    assert!(files.len() > 50);
    let mut decoded = 0;
    for p in &files {
        let bytes = std::fs::read(p).expect("sample");
        if intake(&bytes, &Limits::default()).is_ok() {
            decoded += 1;
        }
    }
    assert!(
        decoded * 10 >= files.len() * 8,
        "{decoded} of {} decode",
        files.len()
    );
}

// ---------- random bytes ----------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        prop_assert!(intake(&bytes, &Limits::default()).is_err());
    }

    #[test]
    fn random_bytes_behind_a_magic_never_panic(
        magic in 0usize..5,
        tail in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        let head: &[u8] = match magic {
            0 => b"\xff\xd8\xff\xe0",
            1 => b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR",
            2 => b"RIFF\x00\x10\x00\x00WEBPVP8 ",
            3 => b"II*\x00\x08\x00\x00\x00",
            _ => b"MM\x00*\x00\x00\x00\x08",
        };
        let mut bytes = head.to_vec();
        bytes.extend_from_slice(&tail);
        let _ = intake(&bytes, &Limits::default());
    }

    #[test]
    fn damaged_real_files_never_panic(
        which in 0usize..4,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
    ) {
        let img = gradient(24, 16);
        let mut bytes = match which {
            0 => encode_jpeg(&img),
            1 => encode_png(&image::DynamicImage::ImageRgb8(img)),
            2 => encode_webp(&img),
            _ => encode_tiff(&img),
        };
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = intake(&bytes, &Limits::default());
    }
}
