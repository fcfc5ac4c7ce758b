//! IMEIs read off pictures (`verify::imei::scan`): Code-128 barcodes drawn by rxing's encoder on
//! a box label, and `*#06#` screens rendered with the generator's fonts and read by tesseract.

use gdgen::render::Renderer;
use image::{imageops, GrayImage, Luma, RgbImage};
use rxing::{BarcodeFormat, MultiFormatWriter, Writer};
use verify::deadline::Deadline;
use verify::gd::ocr::OcrConfig;
use verify::imei::scan::{scan, ScanSource};

const IMEI1: &str = "356938035643809";
const IMEI2: &str = "356938035643817";

fn ocr() -> OcrConfig {
    OcrConfig {
        languages: "eng".to_owned(),
        ..OcrConfig::default()
    }
}

/// A Code-128 of `text`, `module` pixels per bar module, `height` pixels tall.
fn code128(text: &str, module: u32, height: u32) -> GrayImage {
    let bits = MultiFormatWriter
        .encode(text, &BarcodeFormat::CODE_128, 0, 1)
        .expect("encodes");
    let w = bits.width();
    GrayImage::from_fn(w * module, height, |x, _| {
        if bits.get(x / module, 0) {
            Luma([20])
        } else {
            Luma([245])
        }
    })
}

/// A white box label with `parts` pasted at their offsets, as an RGB photo-like picture.
fn label(w: u32, h: u32, parts: &[(GrayImage, i64, i64)]) -> RgbImage {
    let mut page = GrayImage::from_pixel(w, h, Luma([235]));
    for (img, x, y) in parts {
        imageops::overlay(&mut page, img, *x, *y);
    }
    let page = imageops::blur(&page, 0.8);
    image::DynamicImage::ImageLuma8(page).into_rgb8()
}

fn text_line(r: &mut Renderer, text: &str, px: f32) -> GrayImage {
    r.line(text, "Noto Sans", px, false)
}

#[test]
fn box_label_with_two_imei_barcodes_and_a_serial() {
    let mut r = Renderer::new().expect("fonts (scripts/env.sh installs them)");
    let page = label(
        1400,
        900,
        &[
            (text_line(&mut r, "IMEI1", 30.0), 80, 60),
            (code128(IMEI1, 3, 120), 80, 110),
            (text_line(&mut r, "IMEI2", 30.0), 80, 320),
            (code128(IMEI2, 3, 120), 80, 370),
            (text_line(&mut r, "S/N", 30.0), 80, 580),
            (code128("R58N71ABCDE", 3, 120), 80, 630),
        ],
    );
    let found = scan(&page, &ocr(), &Deadline::none()).expect("scan");
    let imeis: Vec<&str> = found.iter().map(|s| s.imei.as_str()).collect();
    assert!(imeis.contains(&IMEI1), "{found:?}");
    assert!(imeis.contains(&IMEI2), "{found:?}");
    assert_eq!(
        imeis.len(),
        2,
        "the serial number is not an IMEI: {found:?}"
    );
    assert!(found.iter().all(|s| s.source == ScanSource::Barcode));
}

#[test]
fn a_barcode_photographed_sideways_is_read() {
    let page = label(700, 1200, &[]);
    let mut gray = image::DynamicImage::ImageRgb8(page).into_luma8();
    let bar = imageops::rotate90(&code128(IMEI1, 3, 140));
    imageops::overlay(&mut gray, &bar, 250, 200);
    let page = image::DynamicImage::ImageLuma8(gray).into_rgb8();
    let found = scan(&page, &ocr(), &Deadline::none()).expect("scan");
    assert_eq!(
        found.first().map(|s| s.imei.as_str()),
        Some(IMEI1),
        "{found:?}"
    );
}

/// A phone screen after `*#06#`: a dialog titled IMEI with the number(s), light or dark.
fn screen(lines: &[&str], dark: bool) -> RgbImage {
    let mut r = Renderer::new().expect("fonts");
    let mut page = GrayImage::from_pixel(720, 1280, Luma([255]));
    let mut y = 300;
    for line in lines {
        let img = text_line(&mut r, line, 44.0);
        imageops::overlay(&mut page, &img, 60, y);
        y += i64::from(img.height()) + 20;
    }
    if dark {
        imageops::invert(&mut page);
    }
    image::DynamicImage::ImageLuma8(page).into_rgb8()
}

#[test]
fn star_hash_06_screens_light_and_dark() {
    let cases: &[(&[&str], bool, &[&str])] = &[
        (&["IMEI", IMEI1], false, &[IMEI1]),
        (&["IMEI1", IMEI1, "IMEI2", IMEI2], true, &[IMEI1, IMEI2]),
        (
            &["IMEI1: 35 693803 564380 9", "IMEI SV: 01"],
            false,
            &[IMEI1],
        ),
    ];
    for (lines, dark, want) in cases {
        let found = scan(&screen(lines, *dark), &ocr(), &Deadline::none()).expect("scan");
        let imeis: Vec<&str> = found.iter().map(|s| s.imei.as_str()).collect();
        assert_eq!(imeis, *want, "{lines:?} dark={dark}");
        assert!(found.iter().all(|s| s.source == ScanSource::Text));
    }
}

#[test]
fn pictures_without_an_imei_give_none() {
    let blank = RgbImage::from_pixel(640, 480, image::Rgb([200, 200, 200]));
    assert_eq!(
        scan(&blank, &ocr(), &Deadline::none()).expect("scan"),
        vec![]
    );
    // A wrong check digit on screen is not "repaired" into some other number.
    let wrong = screen(&["IMEI", "356938035643808"], false);
    assert_eq!(
        scan(&wrong, &ocr(), &Deadline::none()).expect("scan"),
        vec![]
    );
    let tiny = RgbImage::new(1, 1);
    assert_eq!(
        scan(&tiny, &ocr(), &Deadline::none()).expect("scan"),
        vec![]
    );
}
