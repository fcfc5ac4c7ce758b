//! The annotated image: decodes, keeps the input's size, boxes change the border and nothing else.

mod common;

use image::RgbImage;
use verify::annotate::annotate;
use verify::{Finding, Region, Severity, Stage};

fn finding(code: &str, stage: Stage, severity: Severity, regions: Vec<Region>) -> Finding {
    Finding::new(code, stage, severity, 10, "en", "bn").with_regions(regions)
}

fn decode_png(png: &[u8]) -> RgbImage {
    image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .expect("a png")
        .to_rgb8()
}

fn check(img: &RgbImage, findings: &[Finding], changed: &[(u32, u32)], unchanged: &[(u32, u32)]) {
    let out = decode_png(&annotate(img, findings).expect("annotates"));
    assert_eq!(out.dimensions(), img.dimensions());
    for &(x, y) in changed {
        assert_ne!(
            out.get_pixel(x, y),
            img.get_pixel(x, y),
            "({x}, {y}) should change"
        );
    }
    for &(x, y) in unchanged {
        assert_eq!(
            out.get_pixel(x, y),
            img.get_pixel(x, y),
            "({x}, {y}) should not change"
        );
    }
}

#[test]
fn box_border_changes_and_far_pixels_do_not() {
    let img = common::micc("CRW_4809_scale.jpg");
    let ela = finding(
        "ela",
        Stage::Ela,
        Severity::Medium,
        vec![Region::new(200, 150, 180, 120)],
    );
    check(
        &img,
        &[ela],
        &[(200, 200), (201, 200), (379, 200), (300, 150), (300, 269)],
        &[(290, 210), (20, 400), (700, 20), (600, 450)],
    );
}

#[test]
fn copy_move_pairs_and_clipped_regions() {
    let img = RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let cm = finding(
        "copy_move",
        Stage::CopyMove,
        Severity::High,
        vec![
            Region::new(40, 60, 100, 80),
            Region::new(400, 300, 100, 80),
            Region::new(10, 5, 50, 50),
            Region::new(600, 440, 200, 200), // runs off the image
        ],
    );
    let noise = finding(
        "noise_inconsistency",
        Stage::Noise,
        Severity::Low,
        vec![Region::new(300, 40, 60, 60)],
    );
    let no_regions = finding("exif_missing", Stage::Metadata, Severity::Low, vec![]);
    check(
        &img,
        &[cm, noise, no_regions],
        &[(40, 100), (499, 340), (639, 460), (300, 70)],
        &[(200, 200), (80, 100), (330, 70)],
    );
    if let Some(path) = std::env::var_os("PX_ANNOTATE_SAMPLE") {
        let photo = common::micc("CRW_4809_scale.jpg");
        let cm = finding(
            "copy_move",
            Stage::CopyMove,
            Severity::High,
            vec![Region::new(40, 60, 100, 80), Region::new(400, 300, 100, 80)],
        );
        let ela = finding(
            "ela",
            Stage::Ela,
            Severity::Medium,
            vec![Region::new(200, 150, 180, 120)],
        );
        let dj = finding(
            "double_jpeg",
            Stage::DoubleJpeg,
            Severity::Low,
            vec![Region::new(0, 0, 120, 90)],
        );
        std::fs::write(path, annotate(&photo, &[cm, ela, dj]).expect("annotates")).expect("writes");
    }
}

#[test]
fn degenerate_inputs_do_not_panic() {
    let tiny = RgbImage::new(1, 1);
    let odd = vec![
        Region::new(0, 0, 0, 0),
        Region::new(5, 5, 10, 10),
        Region::new(u32::MAX / 2, 3, u32::MAX / 2, 9),
        Region::new(0, 0, 1, 1),
    ];
    let f = finding("ela", Stage::Ela, Severity::Critical, odd);
    for img in [tiny, RgbImage::new(3000, 2), RgbImage::new(2, 3000)] {
        let out = decode_png(&annotate(&img, std::slice::from_ref(&f)).expect("annotates"));
        assert_eq!(out.dimensions(), img.dimensions());
    }
    let big = RgbImage::new(1200, 900);
    let out = decode_png(&annotate(&big, &[]).expect("annotates"));
    assert_eq!(out, big);
}
