//! `verify::gd::ocr` on pages composed from rendered Bengali/English lines: line order,
//! character error rates, digit and amount re-reads, empty pages and missing language data.

use gdgen::render::Renderer;
use image::{imageops, Rgb, RgbImage};
use unicode_normalization::UnicodeNormalization;
use verify::cheque::amount::parse_figures;
use verify::cheque::amount_read;
use verify::deadline::Deadline;
use verify::error::StageError;
use verify::gd::ocr::{read_digits, read_field_readings, read_page, Charset, InkModel, OcrConfig};
use verify::report::Region;

/// Something drawn over a page after the text.
#[derive(Debug, Clone, Copy)]
enum Mark {
    /// A purple stamp ring centred on a row's first cell.
    PurpleRing { row: usize },
    /// A blue pen stroke through a row.
    BlueStroke { row: usize },
    /// A black table frame around all rows, with a rule under each row touching its lowest
    /// strokes.
    Table,
}

/// A test page: rows of cells (a second cell starts at mid-page), the font, marks, and whether
/// to add grain, uneven light and blur.
struct PageCase {
    name: &'static str,
    rows: &'static [&'static [&'static str]],
    family: &'static str,
    px: f32,
    marks: &'static [Mark],
    degrade: bool,
}

const CASES: &[PageCase] = &[
    PageCase {
        name: "clean sans, two columns",
        rows: &[
            &["বাংলাদেশ পুলিশ"],
            &["সাধারণ ডায়েরি"],
            &["জিডি নং ৭৮৯", "থানা: ধানমন্ডি"],
            &["IMEI 1: 356938035643809"],
        ],
        family: "Noto Sans Bengali",
        px: 32.0,
        marks: &[],
        degrade: false,
    },
    PageCase {
        name: "sans in a ruled table, degraded",
        rows: &[
            &["সাধারণ ডায়েরি"],
            &["থানা: ধানমন্ডি", "জেলা: ঢাকা"],
            &["IMEI 1: 356938035643809"],
        ],
        family: "Noto Sans Bengali",
        px: 30.0,
        marks: &[Mark::Table],
        degrade: true,
    },
    PageCase {
        name: "serif, stamp and signature over text, degraded",
        rows: &[
            &["বাংলাদেশ পুলিশ"],
            &["সাধারণ ডায়েরি"],
            &["জিডি নং ৭৮৯"],
            &["IMEI 1: 356938035643809", "জেলা: ঢাকা"],
        ],
        family: "Noto Serif Bengali",
        px: 30.0,
        marks: &[Mark::PurpleRing { row: 1 }, Mark::BlueStroke { row: 3 }],
        degrade: true,
    },
    PageCase {
        name: "lohit, small text, degraded",
        rows: &[
            &["সাধারণ ডায়েরি"],
            &["বাংলাদেশ পুলিশ", "জিডি নং ৭৮৯"],
            &["IMEI 1: 356938035643809"],
        ],
        family: "Lohit Bengali",
        px: 22.0,
        marks: &[Mark::PurpleRing { row: 2 }],
        degrade: true,
    },
];

/// Lay `case` out on a white page; returns the page and each row's expected text.
fn compose(r: &mut Renderer, case: &PageCase) -> (RgbImage, Vec<String>) {
    let (w, h) = (1400u32, 200 + case.rows.len() as u32 * (case.px as u32 * 3));
    let mut page = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    let mut row_mid = Vec::new();
    let mut row_bottom = Vec::new();
    let mut y = 80u32;
    for cells in case.rows {
        let mut row_h = 0;
        for (ci, text) in cells.iter().enumerate() {
            // Latin text in the Bengali family falls back to a Latin font.
            let img = r.line(text, case.family, case.px, false);
            let x = if ci == 0 { 80 } else { w / 2 + 40 };
            for (ix, iy, p) in img.enumerate_pixels() {
                if x + ix < w && y + iy < h {
                    let v = p.0[0];
                    page.put_pixel(x + ix, y + iy, Rgb([v, v, v]));
                }
            }
            row_h = row_h.max(img.height());
        }
        row_mid.push(y + row_h / 2);
        row_bottom.push(y + row_h);
        y += row_h + case.px as u32;
    }
    for mark in case.marks {
        match *mark {
            Mark::PurpleRing { row } => {
                let cy = row_mid[row] as f32;
                let (cx, rad) = (260.0f32, case.px * 2.2);
                for (px, py, p) in page.enumerate_pixels_mut() {
                    let d = ((px as f32 - cx).powi(2) + (py as f32 - cy).powi(2)).sqrt();
                    if (d - rad).abs() < 4.0 {
                        p.0 = [p.0[0].min(140), p.0[1].min(60), p.0[2].min(175)];
                    }
                }
            }
            Mark::Table => {
                let black = Rgb([0, 0, 0]);
                let (x0, x1) = (40u32, w - 40);
                let (y0, y1) = (40u32, row_bottom.last().copied().unwrap_or(60) + 20);
                for t in 0..2 {
                    for x in x0..x1 {
                        page.put_pixel(x, y0 + t, black);
                        page.put_pixel(x, y1 + t, black);
                    }
                    for y in y0..y1 {
                        page.put_pixel(x0 + t, y, black);
                        page.put_pixel(x1 - 1 - t, y, black);
                    }
                }
                // Rules just under each row's ink (rendered lines have a margin of px / 4
                // under the lowest strokes; these cut into it).
                for &b in &row_bottom {
                    let y = b.saturating_sub((case.px / 4.0) as u32 + 1);
                    for x in x0..x1 {
                        page.put_pixel(x, y, black);
                        page.put_pixel(x, y + 1, black);
                    }
                }
            }
            Mark::BlueStroke { row } => {
                let cy = row_mid[row] as f32;
                for t in 0..500u32 {
                    let x = 100 + t;
                    let yy = (cy + case.px * 0.4 * (t as f32 / 30.0).sin()) as u32;
                    for dy in 0..3 {
                        // Ink over print darkens it: black stays black.
                        if let Some(p) = page.get_pixel_mut_checked(x, yy + dy) {
                            p.0 = [p.0[0].min(30), p.0[1].min(50), p.0[2].min(170)];
                        }
                    }
                }
            }
        }
    }
    if case.degrade {
        for (px, py, p) in page.enumerate_pixels_mut() {
            let shade = 1.0 - 0.3 * (px as f32 / w as f32);
            let grain = ((px * 7919 + py * 104_729) % 21) as f32 - 10.0;
            for c in &mut p.0 {
                *c = (f32::from(*c) * shade + grain).clamp(0.0, 255.0) as u8;
            }
        }
        page = imageops::blur(&page, 0.8);
    }
    let expected = case.rows.iter().map(|cells| cells.join(" ")).collect();
    (page, expected)
}

/// NFC without white space (spacing is not what these tests judge).
fn norm(s: &str) -> Vec<char> {
    s.nfc().filter(|c| !c.is_whitespace()).collect()
}

/// Character error rate of `got` against `want` (Levenshtein / length of `want`).
fn cer(got: &str, want: &str) -> f64 {
    let (a, b) = (norm(got), norm(want));
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()] as f64 / b.len().max(1) as f64
}

/// Bengali digits as ASCII, everything but digits dropped.
fn ascii_digits(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(c),
            '০'..='৯' => char::from_digit(c as u32 - '০' as u32, 10),
            _ => None,
        })
        .collect()
}

#[test]
fn reads_composed_pages() {
    let mut r = Renderer::new().expect("fonts installed");
    let cfg = OcrConfig::default();
    for case in CASES {
        let (page, expected) = compose(&mut r, case);
        let got = read_page(&page, &cfg, &Deadline::none())
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(got.width, page.width());
        assert_eq!(got.height, page.height());
        assert_eq!(
            got.lines.len(),
            expected.len(),
            "{}: lines {:#?}",
            case.name,
            got.text()
        );
        for (i, (line, want)) in got.lines.iter().zip(&expected).enumerate() {
            let e = cer(&line.text, want);
            if want.contains("IMEI") {
                assert!(
                    ascii_digits(&line.text).contains("356938035643809"),
                    "{}: row {i}: {:?}",
                    case.name,
                    line.text
                );
            }
            assert!(
                e < 0.10,
                "{}: row {i}: CER {e:.3}: {:?} vs {want:?}",
                case.name,
                line.text
            );
            assert!((0.0..=1.0).contains(&line.conf));
            // Boxes are on the page and in reading order.
            for pair in line.words.windows(2) {
                assert!(pair[0].region.x <= pair[1].region.x);
            }
            for w in &line.words {
                assert!(w.region.x + w.region.w <= page.width());
                assert!(w.region.y + w.region.h <= page.height());
            }
        }
        for pair in got.lines.windows(2) {
            assert!(pair[0].region.y < pair[1].region.y, "{}: order", case.name);
        }
    }
}

/// A white page with `text` rendered in `family` at `px` at (100, 60), and the text's box.
fn page_with_line(r: &mut Renderer, text: &str, family: &str, px: f32) -> (RgbImage, Region) {
    let line = r.line(text, family, px, false);
    let mut page = RgbImage::from_pixel(900, 200, Rgb([255, 255, 255]));
    let (x0, y0) = (100u32, 60u32);
    for (x, y, p) in line.enumerate_pixels() {
        if x + x0 < 900 && y + y0 < 200 {
            let v = p.0[0];
            page.put_pixel(x + x0, y + y0, Rgb([v, v, v]));
        }
    }
    (
        page,
        Region::new(x0, y0, line.width().min(800), line.height()),
    )
}

#[test]
fn read_digits_on_number_fields() {
    let cases: &[(&str, &str, &str)] = &[
        ("৩৫৬৯৩৮ ০৩৫৬৪৩ ৮০৯", "Noto Sans Bengali", "356938035643809"),
        ("৩৫-৬৯৩৮০৩-৫৬৪৩৮০-৯", "Lohit Bengali", "356938035643809"),
        ("35-693803-564380-9", "Noto Sans", "356938035643809"),
        ("490154203237518", "DejaVu Sans", "490154203237518"),
    ];
    let mut r = Renderer::new().expect("fonts installed");
    let cfg = OcrConfig::default();
    for &(text, family, want) in cases {
        let (page, region) = page_with_line(&mut r, text, family, 30.0);
        let (got, conf) =
            read_digits(&page, region, &cfg).unwrap_or_else(|| panic!("{text}: nothing read"));
        assert_eq!(ascii_digits(&got), want, "{text} → {got:?}");
        assert!((0.0..=1.0).contains(&conf));
    }
}

#[test]
fn amounts_in_figures_are_read_from_their_box() {
    // (text as written on a cheque, font, paisa)
    let cases: &[(&str, &str, u64)] = &[
        ("Tk 1,25,000.00", "Noto Serif", 12_500_000),
        ("৳12,500.00", "Noto Serif", 1_250_000),
        ("45,000.00/-", "Noto Serif", 4_500_000),
        ("Tk 3,07,45,000.50", "DejaVu Sans", 3_074_500_050),
        // Not read from the box yet (Bengali digits): `৳৫,২০,০০০.০০` (the Bengali model reads
        // `৫১,২০,০০০.০০` with confidence 0, the English one `6,20,000.00`) and `৫,২০,০০০.০০/-`
        // (`৫১২০১০০০.০০/-`, 0.50).
    ];
    let mut r = Renderer::new().expect("fonts installed");
    let cfg = OcrConfig::default();
    let good = |t: &str| parse_figures(t).is_some();
    for &(text, family, want) in cases {
        let (page, region) = page_with_line(&mut r, text, family, 32.0);
        let readings = read_field_readings(&page, region, &cfg, Charset::Amount, &good);
        assert!(!readings.is_empty(), "{text}: nothing read");
        for (_, conf) in &readings {
            assert!((0.0..=1.0).contains(conf));
        }
        // The cheque's candidates from the box: the amount is among them (a `৳` the English
        // model reads as `6` gives `612,500.00` first and `12,500.00` after it).
        let got = amount_read::figures_in_box(&page, region, &cfg);
        assert!(got.contains(&want), "{text} → {got:?} from {readings:?}");
    }
}

/// A light-blue cheque background with fine diagonal security lines, `text` written on it in
/// blue pen; the text's box.
fn cheque_line(r: &mut Renderer, text: &str) -> (RgbImage, Region) {
    let line = r.line(text, "Noto Serif", 32.0, false);
    let (w, h) = (1000u32, 200u32);
    let mut page = RgbImage::from_fn(w, h, |x, y| {
        if (x + y) % 9 == 0 {
            Rgb([170, 185, 230])
        } else {
            Rgb([222, 230, 248])
        }
    });
    let (x0, y0) = (60u32, 70u32);
    let pen = [25.0f32, 35.0, 150.0];
    for (x, y, p) in line.enumerate_pixels() {
        if x + x0 < w && y + y0 < h {
            let a = 1.0 - f32::from(p.0[0]) / 255.0;
            let bg = page.get_pixel(x + x0, y + y0).0;
            let mix = |i: usize| (f32::from(bg[i]) * (1.0 - a) + pen[i] * a) as u8;
            page.put_pixel(x + x0, y + y0, Rgb([mix(0), mix(1), mix(2)]));
        }
    }
    (
        page,
        Region::new(x0, y0, line.width().min(w - x0), line.height()),
    )
}

#[test]
fn blue_pen_on_a_security_background_reads_only_as_any_dark_ink() {
    let mut r = Renderer::new().expect("fonts installed");
    let cases: &[(&str, u64)] = &[
        ("Taka Eighty Five Thousand Only", 8_500_000),
        ("Taka One Lakh Twenty Five Thousand Only", 12_500_000),
    ];
    for &(text, want) in cases {
        let (page, region) = cheque_line(&mut r, text);
        let any_dark = OcrConfig {
            ink: InkModel::AnyDark,
            ..OcrConfig::default()
        };
        let got = amount_read::words_in_box(&page, region, &any_dark);
        assert!(got.contains(&want), "{text}: {got:?}");
        // The GD copies' ink model fades coloured ink: the pen is gone.
        let drop_colour = OcrConfig::default();
        assert!(
            amount_read::words_in_box(&page, region, &drop_colour).is_empty(),
            "{text}"
        );
    }
}

#[test]
fn empty_and_degenerate_inputs() {
    let cfg = OcrConfig::default();
    let cases: &[(u32, u32)] = &[(0, 0), (1, 1), (300, 200), (1700, 2400)];
    for &(w, h) in cases {
        let page = RgbImage::from_pixel(w, h, Rgb([250, 250, 250]));
        let got = read_page(&page, &cfg, &Deadline::none()).expect("blank page");
        assert!(got.lines.is_empty(), "{w}×{h}");
        assert_eq!((got.width, got.height), (w, h));
        let off_page = [
            Region::new(0, 0, 0, 0),
            Region::new(w + 10, h + 10, 50, 20),
            Region::new(0, 0, u32::MAX, u32::MAX),
        ];
        for region in off_page {
            assert_eq!(read_digits(&page, region, &cfg), None, "{w}×{h} {region:?}");
        }
    }
}

#[test]
fn missing_language_data_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    // (tessdata folder, None = an empty temporary one; page languages; whether the digit
    // models are missing too)
    let cases: &[(Option<&str>, &str, bool)] = &[
        (None, "ben+eng", true),
        (Some("/nonexistent/tessdata"), "ben+eng", true),
        (
            Some("/usr/share/tesseract-ocr/5/tessdata"),
            "ben+xyz",
            false,
        ),
    ];
    let mut page = RgbImage::from_pixel(400, 100, Rgb([255, 255, 255]));
    for x in 50..300 {
        for y in 40..60 {
            page.put_pixel(x, y, Rgb([0, 0, 0]));
        }
    }
    for &(tessdata, langs, digits_missing) in cases {
        let cfg = OcrConfig {
            tessdata: Some(tessdata.map_or_else(|| dir.path().to_owned(), Into::into)),
            languages: langs.to_owned(),
            ..OcrConfig::default()
        };
        match read_page(&page, &cfg, &Deadline::none()) {
            Err(StageError::Failed(msg)) => {
                assert!(msg.contains("not found in"), "{msg}");
                assert!(msg.contains("install tesseract-ocr-"), "{msg}");
            }
            other => panic!("{tessdata:?} {langs}: {other:?}"),
        }
        if digits_missing {
            assert_eq!(read_digits(&page, Region::new(0, 0, 400, 100), &cfg), None);
        }
    }
}

#[test]
fn expired_deadline_times_out() {
    let mut r = Renderer::new().expect("fonts installed");
    let (page, _) = compose(&mut r, &CASES[0]);
    let past = Deadline::after(std::time::Duration::ZERO);
    assert_eq!(
        read_page(&page, &OcrConfig::default(), &past),
        Err(StageError::Timeout)
    );
}
