//! Double-JPEG stage: spliced photos are found and located, clean photos are left alone,
//! other formats and broken files are refused cleanly.

mod common;

use std::time::Instant;

use common::{clean_photos, data_dir, decode, jpeg, paste};
use image::{ImageDecoder, RgbImage};
use proptest::prelude::*;
use verify::forensics::double_jpeg::{analyze, DoubleJpegConfig};
use verify::{Deadline, Finding, Region, Severity, StageError};

/// A MICC original resampled to 7/8 of its size: a real photo without any JPEG history.
fn fresh(name: &str) -> RgbImage {
    let img = common::micc(name);
    let (w, h) = (img.width() * 7 / 8, img.height() * 7 / 8);
    image::imageops::resize(&img, w, h, image::imageops::FilterType::CatmullRom)
}

/// Every eleventh MICC original, in name order (a fixed rule, not a hand-picked set).
fn photos() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir().join("micc-f220"))
        .expect("the MICC-F220 folder")
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .to_string()
        })
        .filter(|n| n.ends_with("_scale.jpg"))
        .collect();
    names.sort();
    names.into_iter().step_by(11).collect()
}

/// A 160×128 area, block-aligned, at a position that moves with `i`.
fn spot(img: &RgbImage, i: usize) -> Region {
    let (pw, ph) = (160, 128);
    let x = ((i * 37 % 100) as u32 * (img.width() - pw) / 100) & !7;
    let y = ((i * 53 % 100) as u32 * (img.height() - ph) / 100) & !7;
    Region::new(x, y, pw, ph)
}

/// The decoded image as the pipeline hands it over: EXIF orientation applied.
fn upright(bytes: &[u8]) -> RgbImage {
    let mut img = image::load_from_memory(bytes).expect("decodes");
    if let Ok(mut d) = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(bytes)) {
        if let Ok(o) = d.orientation() {
            img.apply_orientation(o);
        }
    }
    img.to_rgb8()
}

fn run(bytes: &[u8]) -> Result<Vec<Finding>, StageError> {
    run_with(bytes, &DoubleJpegConfig::default())
}

fn run_with(bytes: &[u8], cfg: &DoubleJpegConfig) -> Result<Vec<Finding>, StageError> {
    analyze(bytes, &upright(bytes), cfg, &Deadline::none())
}

#[derive(Debug)]
enum Expect {
    /// A regional finding with a box overlapping this one by at least a quarter of it.
    Located(Region),
    /// No finding with regions (an info finding about resaving is fine).
    NoRegion,
    NotApplicable,
}

fn located(findings: &[Finding], truth: &Region) -> bool {
    findings.iter().any(|f| {
        f.regions
            .iter()
            .any(|r| r.overlap(truth) * 4 >= truth.area().min(r.area()))
    })
}

fn check(label: &str, bytes: &[u8], expect: Expect) {
    check_with(label, bytes, &DoubleJpegConfig::default(), expect);
}

fn check_with(label: &str, bytes: &[u8], cfg: &DoubleJpegConfig, expect: Expect) {
    let out = run_with(bytes, cfg);
    for f in out.iter().flatten() {
        assert_eq!(f.code, "double_jpeg", "{label}");
        assert!(f.points <= 15, "{label}: {f:?}");
        assert!(!f.en.is_empty() && !f.bn.is_empty(), "{label}");
        if f.regions.is_empty() {
            assert_eq!(f.severity, Severity::Info, "{label}: {f:?}");
        }
    }
    match expect {
        Expect::Located(truth) => {
            let f = out.unwrap_or_else(|e| panic!("{label}: {e}"));
            assert!(located(&f, &truth), "{label}: {truth:?} not in {f:#?}");
            assert!(f.iter().any(|f| f.en.contains("quality")), "{label}");
        }
        Expect::NoRegion => {
            let f = out.unwrap_or_else(|e| panic!("{label}: {e}"));
            assert!(f.iter().all(|f| f.regions.is_empty()), "{label}: {f:#?}");
        }
        Expect::NotApplicable => {
            assert!(
                matches!(out, Err(StageError::NotApplicable(_))),
                "{label}: {out:?}"
            );
        }
    }
}

const QUALITIES: [(u8, u8); 4] = [(60, 90), (70, 92), (75, 95), (65, 93)];

#[test]
fn once_compressed_area_in_a_twice_compressed_photo_is_located() {
    for (i, name) in photos().iter().enumerate() {
        let base = fresh(name);
        let (q1, q2) = QUALITIES[i % QUALITIES.len()];
        let t = spot(&base, i);
        let mut img = decode(&jpeg(&base, q1));
        paste(&mut img, &base, (t.x, t.y), (t.x, t.y), (t.w, t.h));
        let bytes = jpeg(&img, q2);
        check(&format!("{name} q{q1}→q{q2}"), &bytes, Expect::Located(t));
        // The path for images too large to decode whole: sampled calibration, no grid check.
        let capped = DoubleJpegConfig {
            max_blocks: 2_000,
            ..DoubleJpegConfig::default()
        };
        check_with(
            &format!("{name} q{q1}→q{q2} capped"),
            &bytes,
            &capped,
            Expect::Located(t),
        );
    }
}

#[test]
fn area_pasted_off_grid_from_the_same_jpeg_is_located() {
    for (i, name) in photos().iter().enumerate() {
        let base = fresh(name);
        let (q1, q2) = QUALITIES[(i + 1) % QUALITIES.len()];
        let t = spot(&base, i + 3);
        let once = decode(&jpeg(&base, q1));
        let mut img = once.clone();
        // Copied from 3 px right and 4 px down of where it lands: its blocks sit off the grid.
        let src = (
            (t.x + 3).min(base.width() - t.w),
            (t.y + 4).min(base.height() - t.h),
        );
        paste(&mut img, &once, src, (t.x, t.y), (t.w, t.h));
        check(
            &format!("{name} shifted q{q1}→q{q2}"),
            &jpeg(&img, q2),
            Expect::Located(t),
        );
    }
}

#[test]
fn twice_compressed_area_in_a_once_compressed_photo_is_located() {
    for (i, name) in photos().iter().enumerate() {
        let base = fresh(name);
        let (q1, q2) = QUALITIES[(i + 2) % QUALITIES.len()];
        // A larger area (about 14 % of the photo): the comb must show in the histograms.
        let t = spot(&base, i + 7);
        let t = Region::new(
            t.x.min(base.width() - 240) & !7,
            t.y.min(base.height() - 192) & !7,
            240,
            192,
        );
        let once = decode(&jpeg(&base, q1));
        let mut img = base.clone();
        paste(&mut img, &once, (t.x, t.y), (t.x, t.y), (t.w, t.h));
        check(
            &format!("{name} area q{q1}→q{q2}"),
            &jpeg(&img, q2),
            Expect::Located(t),
        );
    }
}

/// An area from a JPEG, off the grid, pasted into a photo with no JPEG history: only the grid
/// check can see it, and only where the earlier compression was coarse enough to survive.
#[test]
fn off_grid_jpeg_area_in_a_fresh_photo_is_often_located() {
    let mut found = 0;
    let mut cases = 0;
    for (i, name) in photos().iter().enumerate() {
        let base = fresh(name);
        for (q1, q2) in [(65u8, 95u8), (60, 92)] {
            let t = spot(&base, i + 5);
            let once = decode(&jpeg(&base, q1));
            let mut img = base.clone();
            let src = (
                (t.x + 3).min(base.width() - t.w),
                (t.y + 4).min(base.height() - t.h),
            );
            paste(&mut img, &once, src, (t.x, t.y), (t.w, t.h));
            let f = run(&jpeg(&img, q2)).expect("a JPEG");
            cases += 1;
            if located(&f, &t) {
                found += 1;
            }
        }
    }
    eprintln!("off-grid area in a fresh photo: located in {found} of {cases}");
    assert!(found * 4 >= cases, "located in only {found} of {cases}");
}

#[test]
fn singly_compressed_photos_get_no_regional_finding() {
    for (i, name) in photos().iter().enumerate() {
        let base = fresh(name);
        for q in [75, 85, 92, 95] {
            check(&format!("{name} q{q}"), &jpeg(&base, q), Expect::NoRegion);
        }
        // Saved twice at one quality: nothing to see either.
        let q = [80, 90][i % 2];
        let twice = jpeg(&decode(&jpeg(&base, q)), q);
        check(&format!("{name} q{q} twice"), &twice, Expect::NoRegion);
    }
}

#[test]
fn resaved_photo_gets_an_info_finding_with_both_qualities() {
    let name = &photos()[0];
    let bytes = jpeg(&decode(&jpeg(&fresh(name), 70)), 92);
    let f = run(&bytes).expect("a JPEG");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].severity, Severity::Info);
    assert!(f[0].regions.is_empty());
    assert!(f[0].points <= 3);
    assert!(f[0].en.contains("quality 92"), "{}", f[0].en);
    assert!(f[0].en.contains("about quality 70"), "{}", f[0].en);
}

fn png(img: &RgbImage) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    img.write_to(&mut buf, image::ImageFormat::Png)
        .expect("png encodes");
    buf.into_inner()
}

fn webp(img: &RgbImage) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img.clone())
        .to_rgba8()
        .write_to(&mut buf, image::ImageFormat::WebP)
        .expect("webp encodes");
    buf.into_inner()
}

/// The same JPEG with its SOF0 marker relabelled (progressive, arithmetic): headers only.
fn relabel(bytes: &[u8], sof: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let at = out
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline frame");
    out[at + 1] = sof;
    out
}

#[test]
fn other_formats_and_unusable_jpegs_are_not_applicable() {
    let img = fresh(&photos()[1]);
    let small = image::imageops::resize(&img, 160, 120, image::imageops::FilterType::Triangle);
    let cfg = DoubleJpegConfig::default();
    let na = |label: &str, bytes: &[u8]| {
        let out = analyze(bytes, &small, &cfg, &Deadline::none());
        assert!(
            matches!(out, Err(StageError::NotApplicable(_))),
            "{label}: {out:?}"
        );
    };
    check("png", &png(&img), Expect::NotApplicable);
    check("webp", &webp(&img), Expect::NotApplicable);
    let j = jpeg(&small, 90);
    na("progressive", &relabel(&j, 0xC2));
    na("arithmetic", &relabel(&j, 0xC9));
    na("empty", b"");
    na("truncated header", &j[..20]);
    na("wrong size", &jpeg(&img, 90));
    let tiny = image::imageops::resize(&img, 40, 30, image::imageops::FilterType::Triangle);
    check("tiny", &jpeg(&tiny, 90), Expect::NotApplicable);
}

/// `bytes` with an EXIF APP1 segment carrying `orientation` inserted after SOI.
fn with_orientation(bytes: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"II*\0\x08\0\0\0\x01\0".to_vec();
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = bytes[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(app1.len() + 2).expect("small").to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&bytes[2..]);
    out
}

#[test]
fn regions_follow_the_exif_orientation() {
    let name = &photos()[2];
    let base = fresh(name);
    let t = spot(&base, 7);
    let mut img = decode(&jpeg(&base, 65));
    paste(&mut img, &base, (t.x, t.y), (t.x, t.y), (t.w, t.h));
    let stored = jpeg(&img, 92);
    let (w, h) = base.dimensions();
    // Orientation 6: shown turned 90° clockwise, so stored (x, y) lands at (h − 1 − y, x).
    let rotated = Region::new(h - t.y - t.h, t.x, t.h, t.w);
    let bytes = with_orientation(&stored, 6);
    assert_eq!(upright(&bytes).dimensions(), (h, w));
    check("orientation 6", &bytes, Expect::Located(rotated));
    // Orientation 3: turned 180°.
    let turned = Region::new(w - t.x - t.w, h - t.y - t.h, t.w, t.h);
    check(
        "orientation 3",
        &with_orientation(&stored, 3),
        Expect::Located(turned),
    );
}

/// Every clean photo (EXIF samples and MICC-F220 originals): regional findings on at most 3 %,
/// none above 15 points; prints the count and the time for an 800×600 photo.
#[test]
fn clean_photos_rarely_get_a_regional_finding() {
    let files = clean_photos();
    let mut regional = Vec::new();
    let mut info = 0;
    let mut skipped = 0;
    for p in &files {
        let bytes = std::fs::read(p).expect("a readable file");
        let Ok(decoded) = image::load_from_memory(&bytes) else {
            skipped += 1;
            continue;
        };
        drop(decoded);
        match run(&bytes) {
            Ok(f) => {
                for x in &f {
                    assert!(x.points <= 15, "{}: {x:?}", p.display());
                }
                if f.iter().any(|x| !x.regions.is_empty()) {
                    regional.push(p.display().to_string());
                } else if !f.is_empty() {
                    info += 1;
                }
            }
            Err(StageError::NotApplicable(_)) => skipped += 1,
            Err(e) => panic!("{}: {e}", p.display()),
        }
    }
    eprintln!(
        "clean photos: {} of {} with a regional finding {regional:?}, {info} resaved (info), \
         {skipped} not applicable",
        regional.len(),
        files.len()
    );
    assert!(regional.len() * 100 <= files.len() * 3, "{regional:?}");

    let photo = image::imageops::resize(
        &common::micc(&photos()[0]),
        800,
        600,
        image::imageops::FilterType::Triangle,
    );
    let bytes = jpeg(&decode(&jpeg(&photo, 70)), 92);
    let img = decode(&bytes);
    let cfg = DoubleJpegConfig::default();
    let started = Instant::now();
    for _ in 0..5 {
        analyze(&bytes, &img, &cfg, &Deadline::none()).expect("a JPEG");
    }
    eprintln!("800×600: {:?} per image", started.elapsed() / 5);

    // A 24-megapixel photo, past the cap on blocks decoded whole.
    let big = image::imageops::resize(&photo, 6000, 4000, image::imageops::FilterType::Triangle);
    let bytes = jpeg(&big, 90);
    let img = decode(&bytes);
    let started = Instant::now();
    analyze(&bytes, &img, &cfg, &Deadline::none()).expect("a JPEG");
    eprintln!("6000×4000: {:?}", started.elapsed());
}

#[test]
fn a_spent_deadline_stops_the_stage() {
    let bytes = jpeg(&fresh(&photos()[0]), 90);
    let img = decode(&bytes);
    let out = analyze(
        &bytes,
        &img,
        &DoubleJpegConfig::default(),
        &Deadline::after(std::time::Duration::ZERO),
    );
    assert_eq!(out, Err(StageError::Timeout));
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Damaged JPEGs never panic: flipped bytes and cuts anywhere in the file.
    #[test]
    fn damaged_jpegs_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let img = RgbImage::from_fn(96, 80, |x, y| image::Rgb([(x * 3) as u8, (y * 5) as u8, ((x ^ y) * 7) as u8]));
        let mut bytes = jpeg(&img, 80);
        for (at, v) in flips {
            let i = at.index(bytes.len());
            bytes[i] = v;
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        let _ = analyze(&bytes, &img, &DoubleJpegConfig::default(), &Deadline::none());
    }
}
