//! GD structure: thana/district table and matching, seal and signature detection on drawn
//! pages, and the structure findings on OCR pages built from strings.

mod common;

use verify::gd::geo;

#[test]
fn thana_lookup_is_tolerant() {
    // (raw, expected district among the best matches, or None for no match)
    let cases: &[(&str, Option<&str>)] = &[
        ("Dhanmondi", Some("Dhaka")),
        ("ধানমন্ডি মডেল থানা", Some("Dhaka")),
        ("থানাঃ ধানমণ্ডি", Some("Dhaka")),
        ("Mirpur Model P.S.", Some("Dhaka")),
        ("Mirpur Model P.S.", Some("Kushtia")),
        ("Pallabi Police Station", Some("Dhaka")),
        ("পল্লবী", Some("Dhaka")),
        ("Kotwali", Some("Chattogram")),
        ("কোতয়ালী", Some("Chattogram")),
        ("কোতোয়ালি থানা", Some("Sylhet")),
        ("Kotowali", Some("Barishal")),
        ("Double Mooring", Some("Chattogram")),
        ("Doublemooring", Some("Chattogram")),
        ("Boalia", Some("Rajshahi")),
        ("Savar", Some("Dhaka")),
        ("সাভার", Some("Dhaka")),
        ("Comilla Sadar", Some("Cumilla")),
        ("Cumilla Sadar", Some("Cumilla")),
        ("Sonadanga", Some("Khulna")),
        ("Sonadnga", Some("Khulna")), // one OCR edit
        ("Uttara West", Some("Dhaka")),
        ("Xyzzyville", None),
        ("", None),
        ("থানা", None),
        ("ঢাকা", None),
    ];
    for (raw, want) in cases {
        let got = geo::find_thana(raw);
        match want {
            None => assert!(got.is_empty(), "{raw}: {got:?}"),
            Some(d) => {
                let top = got.first().map_or(0.0, |m| m.score);
                assert!(
                    got.iter()
                        .any(|m| m.score >= top - 0.05 && m.district_en == *d),
                    "{raw} → {d}: {got:?}"
                );
            }
        }
    }
}

#[test]
fn district_lookup_is_tolerant() {
    let cases: &[(&str, Option<&str>)] = &[
        ("Dhaka", Some("Dhaka")),
        ("ঢাকা জেলা", Some("Dhaka")),
        ("Chittagong", Some("Chattogram")),
        ("Chattogram District", Some("Chattogram")),
        ("চট্টগ্রাম", Some("Chattogram")),
        ("Comilla", Some("Cumilla")),
        ("Barisal", Some("Barishal")),
        ("বরিশাল", Some("Barishal")),
        ("Jessore", Some("Jashore")),
        ("Bogra", Some("Bogura")),
        ("Narayangonj", Some("Narayanganj")),
        ("নারায়নগঞ্জ", Some("Narayanganj")),
        ("Khulna", Some("Khulna")),
        ("Atlantis", None),
        ("", None),
    ];
    for (raw, want) in cases {
        let got = geo::find_district(raw).map(|d| d.name_en);
        assert_eq!(got.as_deref(), *want, "{raw}");
    }
}

#[test]
fn thana_district_membership() {
    let cases: &[(&str, &str, bool)] = &[
        ("Dhanmondi", "Dhaka", true),
        ("Dhanmondi", "Khulna", false),
        ("Kotwali", "Chattogram", true),
        ("Kotwali", "Chittagong", true),
        ("কোতোয়ালী", "চট্টগ্রাম", true),
        ("Kotwali", "Khulna", false),
        ("Boalia", "Rajshahi", true),
        ("Pallabi", "Sylhet", false),
        ("Savar", "Dhaka", true),
        ("Sadar", "Bogra", true),
        ("Nowhere", "Dhaka", false),
        ("Dhanmondi", "Nowhere", false),
    ];
    for (t, d, want) in cases {
        assert_eq!(geo::thana_in_district(t, d), *want, "{t} in {d}");
    }
}

#[test]
fn search_text_finds_mentions() {
    let cases: &[(&str, Option<&str>, Option<&str>)] = &[
        ("থানাঃ ধানমন্ডি মডেল থানা, ঢাকা", Some("Dhanmondi"), Some("Dhaka")),
        (
            "Police Station: Double Mooring, Chattogram",
            Some("Double Mooring"),
            Some("Chattogram"),
        ),
        ("the phone was lost on the bus", None, None),
    ];
    for (text, thana, district) in cases {
        let m = geo::search_text(text);
        let t = m
            .iter()
            .find_map(|m| m.thanas.first())
            .map(|t| t.name_en.as_str());
        let d = m
            .iter()
            .find_map(|m| m.district.as_ref())
            .map(|d| d.name_en.as_str());
        assert_eq!(t, *thana, "{text}: {m:?}");
        assert_eq!(d, *district, "{text}: {m:?}");
    }
}

/// The committed tables are what the builder makes from the shared CSVs (when present).
#[test]
fn table_matches_shared_csvs() {
    let dir = common::data_dir().join("bd-geo");
    if !dir.join("upazilas.csv").exists() {
        eprintln!("skipped: {} not found", dir.display());
        return;
    }
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).expect("readable CSV");
    let geo_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/geo/");
    let metro = std::fs::read_to_string(format!("{geo_dir}metro_thanas.tsv")).expect("metro");
    let (districts, thanas) = geo::build_tables(
        &read("divisions.csv"),
        &read("districts.csv"),
        &read("upazilas.csv"),
        &metro,
    )
    .expect("tables build");
    let committed = |n: &str| std::fs::read_to_string(format!("{geo_dir}{n}")).expect("table");
    assert_eq!(districts, committed("districts.tsv"));
    assert_eq!(thanas, committed("thanas.tsv"));
    assert_eq!(geo::districts().len(), 64);
    // Every upazila of the CSV is a thana of its district.
    let upazilas = read("upazilas.csv");
    assert!(upazilas.lines().count() >= 490);
    for line in upazilas.lines() {
        let f: Vec<&str> = line.split(',').map(|f| f.trim_matches('"')).collect();
        let bn = f.get(3).expect("bn name").trim();
        assert!(
            geo::thanas()
                .iter()
                .any(|t| t.name_bn == *bn && t.source == "upazila"),
            "{line}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Seal and signature detection on drawn pages.

use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_rect_mut, draw_hollow_circle_mut, draw_line_segment_mut};
use imageproc::rect::Rect;
use verify::deadline::Deadline;
use verify::gd::seal::{self, SealConfig};

const PAGE_W: u32 = 1240;
const PAGE_H: u32 = 1754;

/// Blend a grey text rendering onto `img` at (x, y) in `ink` with `alpha` (0–1).
fn blit_text(
    img: &mut RgbImage,
    text: &image::GrayImage,
    (x, y): (i64, i64),
    ink: [u8; 3],
    alpha: f32,
) {
    for (tx, ty, p) in text.enumerate_pixels() {
        let a = alpha * (255.0 - f32::from(p.0[0])) / 255.0;
        let (px, py) = (x + i64::from(tx), y + i64::from(ty));
        if a <= 0.0
            || px < 0
            || py < 0
            || px >= i64::from(img.width())
            || py >= i64::from(img.height())
        {
            continue;
        }
        let q = img.get_pixel_mut(px as u32, py as u32);
        for (c, &i) in q.0.iter_mut().zip(&ink) {
            *c = (f32::from(*c) * (1.0 - a) + f32::from(i) * a) as u8;
        }
    }
}

/// Paper with a light gradient (uneven light) and lines of black Bengali/English print.
fn page_with_text(r: &mut gdgen::render::Renderer) -> RgbImage {
    page_and_lines(r).0
}

/// [`page_with_text`] and the boxes of its print lines (what OCR would read).
fn page_and_lines(r: &mut gdgen::render::Renderer) -> (RgbImage, Vec<Region>) {
    let mut boxes = Vec::new();
    let mut img = RgbImage::from_fn(PAGE_W, PAGE_H, |x, y| {
        let shade = 248.0 - 30.0 * (x as f32 / PAGE_W as f32) - 15.0 * (y as f32 / PAGE_H as f32);
        Rgb([shade as u8, shade as u8, (shade - 6.0) as u8])
    });
    let lines = [
        ("বাংলাদেশ পুলিশ", true),
        ("সাধারণ ডায়েরি", true),
        ("থানাঃ ধানমন্ডি মডেল থানা, জেলাঃ ঢাকা", false),
        ("জিডি নং ১২৩৪ তারিখ ১২/০৩/২০২৪", false),
        ("আমার ব্যবহৃত মোবাইল ফোন হারিয়ে গিয়েছে।", false),
        ("IMEI 356789012345678 Samsung Galaxy A12", false),
        ("বিষয়টি সাধারণ ডায়েরিভুক্ত করার জন্য অনুরোধ করছি।", false),
    ];
    let mut y = 80i64;
    for (i, (text, bold)) in lines.iter().cycle().take(16).enumerate() {
        let g = r.line(
            text,
            "Noto Sans Bengali",
            if i < 2 { 40.0 } else { 28.0 },
            *bold,
        );
        blit_text(&mut img, &g, (100, y), [25, 25, 30], 1.0);
        boxes.push(Region::new(100, y as u32, g.width(), g.height()));
        y += i64::from(g.height()) + 14;
    }
    (img, boxes)
}

#[derive(Debug, Clone, Copy)]
enum Mark {
    /// Round seal: colour, radius, fade (alpha), share of the ring erased, centre.
    Seal([u8; 3], i32, f32, f32, (i32, i32)),
    /// A ballpoint scribble (signature) in a colour at a place.
    Scribble([u8; 3], (i32, i32)),
    /// A black table grid.
    Grid,
    /// A rectangular stamp in a colour.
    RectStamp([u8; 3]),
}

fn ring(img: &mut RgbImage, c: (i32, i32), r: i32, ink: [u8; 3], alpha: f32, erase: f32) {
    let mut layer = image::GrayImage::from_pixel(img.width(), img.height(), image::Luma([255]));
    for t in 0..4 {
        draw_hollow_circle_mut(&mut layer, c, r - t, image::Luma([0]));
        draw_hollow_circle_mut(
            &mut layer,
            c,
            (r as f32 * 0.72) as i32 - t / 2,
            image::Luma([0]),
        );
    }
    // Erase a wedge (a faded part of the stamp).
    if erase > 0.0 {
        for (x, y, p) in layer.enumerate_pixels_mut() {
            let a = (y as f32 - c.1 as f32).atan2(x as f32 - c.0 as f32) + std::f32::consts::PI;
            if a < erase * std::f32::consts::TAU {
                p.0[0] = 255;
            }
        }
    }
    blit_text(img, &layer, (0, 0), ink, alpha);
}

fn draw(img: &mut RgbImage, r: &mut gdgen::render::Renderer, mark: Mark) {
    match mark {
        Mark::Seal(ink, rad, alpha, erase, c) => {
            ring(img, c, rad, ink, alpha, erase);
            let g = r.line("ধানমন্ডি থানা", "Noto Sans Bengali", rad as f32 * 0.28, true);
            let (gx, gy) = (c.0 - g.width() as i32 / 2, c.1 - g.height() as i32 / 2);
            blit_text(img, &g, (i64::from(gx), i64::from(gy)), ink, alpha);
        }
        Mark::Scribble(ink, (x0, y0)) => {
            let mut prev = None;
            for i in 0..400 {
                let t = i as f32 / 400.0;
                let x = x0 as f32 + 260.0 * t + 18.0 * (t * 40.0).sin();
                let y = y0 as f32 + 30.0 * (t * 13.0).sin() + 12.0 * (t * 37.0).cos();
                if let Some((px, py)) = prev {
                    for o in 0..3 {
                        let o = o as f32 * 0.7;
                        draw_line_segment_mut(img, (px, py + o), (x, y + o), Rgb(ink));
                    }
                }
                prev = Some((x, y));
            }
        }
        Mark::Grid => {
            for i in 0..8 {
                let y = 900 + i * 50;
                draw_filled_rect_mut(img, Rect::at(100, y).of_size(900, 3), Rgb([20, 20, 20]));
            }
            for j in 0..6 {
                let x = 100 + j * 180;
                draw_filled_rect_mut(img, Rect::at(x, 900).of_size(3, 353), Rgb([20, 20, 20]));
            }
        }
        Mark::RectStamp(ink) => {
            for t in 0..4 {
                let rect =
                    Rect::at(700 + t, 1200 + t).of_size(320 - 2 * t as u32, 200 - 2 * t as u32);
                imageproc::drawing::draw_hollow_rect_mut(img, rect, Rgb(ink));
            }
            let g = r.line("OFFICER IN CHARGE", "Noto Sans", 30.0, true);
            blit_text(img, &g, (720, 1280), ink, 1.0);
        }
    }
}

const PURPLE: [u8; 3] = [110, 50, 160];
const BLUE: [u8; 3] = [40, 60, 170];
const RED: [u8; 3] = [190, 40, 50];
const GREEN: [u8; 3] = [40, 130, 70];

#[test]
fn seal_detection_on_drawn_pages() {
    let Ok(mut r) = gdgen::render::Renderer::new() else {
        eprintln!("skipped: fonts missing");
        return;
    };
    // (name, marks, expect a seal centred near)
    type Case<'a> = (&'a str, &'a [Mark], Option<(i32, i32)>);
    let cases: &[Case] = &[
        (
            "purple seal",
            &[Mark::Seal(PURPLE, 120, 1.0, 0.0, (900, 1400))],
            Some((900, 1400)),
        ),
        (
            "blue seal",
            &[Mark::Seal(BLUE, 100, 0.9, 0.0, (300, 1450))],
            Some((300, 1450)),
        ),
        (
            "red seal",
            &[Mark::Seal(RED, 140, 0.9, 0.0, (800, 1300))],
            Some((800, 1300)),
        ),
        (
            "green seal",
            &[Mark::Seal(GREEN, 110, 0.8, 0.0, (600, 1500))],
            Some((600, 1500)),
        ),
        (
            "faded purple seal, a third erased",
            &[Mark::Seal(PURPLE, 120, 0.45, 0.33, (900, 1400))],
            Some((900, 1400)),
        ),
        (
            "seal over the text",
            &[Mark::Seal(BLUE, 150, 0.7, 0.0, (500, 300))],
            Some((500, 300)),
        ),
        (
            "seal with a signature across it",
            &[
                Mark::Seal(PURPLE, 120, 0.8, 0.0, (900, 1400)),
                Mark::Scribble(BLUE, (780, 1380)),
            ],
            Some((900, 1400)),
        ),
        ("black text only", &[], None),
        ("blue scribble", &[Mark::Scribble(BLUE, (700, 1400))], None),
        ("black table grid", &[Mark::Grid], None),
        ("purple rectangle stamp", &[Mark::RectStamp(PURPLE)], None),
    ];
    let cfg = SealConfig::default();
    let mut hits = 0;
    for (name, marks, want) in cases {
        let mut img = page_with_text(&mut r);
        for m in *marks {
            draw(&mut img, &mut r, *m);
        }
        let got = seal::find_seals(&img, &cfg, &Deadline::none()).expect("runs");
        eprintln!(
            "{name}: {:?}",
            got.iter()
                .map(|s| (
                    s.cx as i32,
                    s.cy as i32,
                    s.radius as i32,
                    s.coverage,
                    s.spread,
                    s.score
                ))
                .collect::<Vec<_>>()
        );
        match want {
            Some((x, y)) => {
                let best = got.first().unwrap_or_else(|| panic!("{name}: no seal"));
                assert!(
                    (best.cx - *x as f32).hypot(best.cy - *y as f32) < 15.0,
                    "{name}: {best:?}"
                );
                hits += 1;
            }
            None => assert!(got.is_empty(), "{name}: {got:?}"),
        }
    }
    assert_eq!(hits, 7);
}

#[test]
fn signature_detection_on_drawn_pages() {
    let Ok(mut r) = gdgen::render::Renderer::new() else {
        eprintln!("skipped: fonts missing");
        return;
    };
    let cases: &[(&str, &[Mark], bool)] = &[
        ("blue signature", &[Mark::Scribble(BLUE, (800, 1500))], true),
        (
            "black signature",
            &[Mark::Scribble([30, 30, 35], (200, 1550))],
            true,
        ),
        (
            "signature across a seal",
            &[
                Mark::Seal(PURPLE, 120, 0.8, 0.0, (900, 1400)),
                Mark::Scribble(BLUE, (780, 1380)),
            ],
            true,
        ),
        ("text only", &[], false),
        ("table grid", &[Mark::Grid], false),
        (
            "seal only",
            &[Mark::Seal(PURPLE, 120, 0.8, 0.0, (900, 1400))],
            false,
        ),
    ];
    let cfg = SealConfig::default();
    for (name, marks, want) in cases {
        let (mut img, lines) = page_and_lines(&mut r);
        for m in *marks {
            draw(&mut img, &mut r, *m);
        }
        let d = Deadline::none();
        let seals = seal::find_seals(&img, &cfg, &d).expect("runs");
        // Print is read by OCR: its lines are the text regions.
        let got = seal::find_signatures(&img, &lines, &seals, &cfg, &d).expect("runs");
        eprintln!("{name}: {got:?}");
        assert_eq!(!got.is_empty(), *want, "{name}: {got:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Structure findings on OCR pages built from strings.

use verify::gd::structure::{self, StructureConfig};
use verify::gd::text::{OcrLine, OcrPage, OcrWord};
use verify::report::Region;

/// An OCR page from lines of text: words 18 px per character wide, lines 60 px apart.
fn ocr_page(lines: &[&str]) -> OcrPage {
    let lines = lines
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let mut x = 100u32;
            let y = 60 + 60 * i as u32;
            let words = text
                .split_whitespace()
                .map(|w| {
                    let width = 18 * w.chars().count() as u32;
                    let word = OcrWord {
                        text: w.to_owned(),
                        region: Region::new(x, y, width, 30),
                        conf: 0.9,
                    };
                    x += width + 18;
                    word
                })
                .collect();
            OcrLine::from_words(words)
        })
        .collect();
    OcrPage {
        width: PAGE_W,
        height: PAGE_H,
        lines,
    }
}

/// Paper with a seal and a signature at the bottom (or not).
fn stamped_page(seal: bool, signature: bool) -> RgbImage {
    let mut img = RgbImage::from_pixel(PAGE_W, PAGE_H, Rgb([240, 238, 230]));
    if seal {
        ring(&mut img, (950, 1450), 120, PURPLE, 0.9, 0.0);
    }
    if signature {
        let mut never = gdgen_or_none();
        if let Some(r) = never.as_mut() {
            draw(&mut img, r, Mark::Scribble(BLUE, (250, 1500)));
        }
    }
    img
}

fn gdgen_or_none() -> Option<gdgen::render::Renderer> {
    gdgen::render::Renderer::new().ok()
}

#[test]
fn a_scribble_by_the_addressee_is_no_signature() {
    let Some(mut r) = gdgen_or_none() else {
        eprintln!("skipped: fonts missing");
        return;
    };
    let lines = [
        "বাংলাদেশ পুলিশ",
        "সাধারণ ডায়েরি",
        "বরাবর, অফিসার ইনচার্জ",
        "ধানমন্ডি মডেল থানা, ঢাকা",
        "জিডি নং ১২৩৪ তারিখ ১২/০৩/২০২৪",
        "আমার ব্যবহৃত মোবাইল ফোন হারিয়ে গিয়েছে।",
    ];
    // (where the pen mark is, whether it counts as the duty officer's signature)
    for (at, signed) in [((560, 150), false), ((250, 1500), true)] {
        let mut img = stamped_page(true, false);
        draw(&mut img, &mut r, Mark::Scribble(BLUE, at));
        let rep = structure::check(
            &img,
            &ocr_page(&lines),
            None,
            None,
            &StructureConfig::default(),
            &Deadline::none(),
        )
        .expect("runs");
        let missing = rep.findings.iter().any(|f| f.code == "signature_missing");
        assert_eq!(missing, !signed, "pen mark at {at:?}: {rep:#?}");
    }
}

/// The structure check with default settings, no thana or district typed.
fn check_defaults(img: &RgbImage, ocr: &OcrPage) -> structure::StructureReport {
    structure::check(
        img,
        ocr,
        None,
        None,
        &StructureConfig::default(),
        &Deadline::none(),
    )
    .expect("runs")
}

#[test]
fn a_signature_read_as_a_short_word_is_still_a_signature() {
    let Some(mut r) = gdgen_or_none() else {
        eprintln!("skipped: fonts missing");
        return;
    };
    let lines = ["বাংলাদেশ পুলিশ", "সাধারণ ডায়েরি", "জিডি নং ১২৩৪ তারিখ ১২/০৩/২০২৪"];
    let mut img = stamped_page(true, false);
    draw(&mut img, &mut r, Mark::Scribble(BLUE, (250, 1500)));
    // Large print (75 px words), and OCR read the whole scribble as a short word with middling
    // confidence: a box little taller than the print, but far wider per letter. (What OCR read
    // off signatures on phone photos, the box scaled to this print size.)
    let rows: [(&str, u32, u32, f32); 3] = [
        ("wy", 300, 100, 0.55),
        // Three letters and two combining marks.
        ("স\u{9cd}প\u{9be})", 384, 98, 0.56),
        ("ANV", 268, 86, 0.59),
    ];
    for (text, w, h, conf) in rows {
        let mut ocr = ocr_page(&lines);
        for w in ocr.lines.iter_mut().flat_map(|l| l.words.iter_mut()) {
            w.region.h = 75;
        }
        ocr.lines.push(OcrLine::from_words(vec![OcrWord {
            text: text.into(),
            region: Region::new(240, 1450, w, h),
            conf,
        }]));
        let rep = check_defaults(&img, &ocr);
        assert!(
            !rep.findings.iter().any(|f| f.code == "signature_missing"),
            "{text}: {rep:#?}"
        );
    }
}

#[test]
fn a_signature_with_an_underline_is_a_signature() {
    let lines = ["বাংলাদেশ পুলিশ", "সাধারণ ডায়েরি", "জিডি নং ১২৩৪ তারিখ ১২/০৩/২০২৪"];
    let mut img = stamped_page(true, false);
    // A small flourish running into a long straight stroke: mostly straight ink, still a pen's.
    let mut prev = None;
    for i in 0..200 {
        let t = i as f32 / 200.0;
        let x = 250.0 + 40.0 * t;
        let y = 1500.0 - 25.0 * (t * 6.0).sin().abs();
        if let Some((px, py)) = prev {
            for o in 0..3 {
                let o = o as f32 * 0.7;
                draw_line_segment_mut(&mut img, (px, py + o), (x, y + o), Rgb(BLUE));
            }
        }
        prev = Some((x, y));
    }
    for o in 0..3 {
        let o = o as f32 * 0.7;
        draw_line_segment_mut(
            &mut img,
            (290.0, 1500.0 + o),
            (560.0, 1505.0 + o),
            Rgb(BLUE),
        );
    }
    let rep = check_defaults(&img, &ocr_page(&lines));
    assert!(
        !rep.findings.iter().any(|f| f.code == "signature_missing"),
        "{rep:#?}"
    );
}

#[test]
fn structure_findings() {
    let complete = [
        "বাংলাদেশ পুলিশ",
        "সাধারণ ডায়েরি",
        "থানাঃ ধানমন্ডি মডেল থানা, জেলাঃ ঢাকা",
        "জিডি নং ১২৩৪ তারিখ ১২/০৩/২০২৪",
        "আমার ব্যবহৃত মোবাইল ফোন হারিয়ে গিয়েছে।",
        "ডিউটি অফিসারের স্বাক্ষর",
    ];
    // (name, lines, thana, district, seal, signature, expected finding codes)
    type Case<'a> = (
        &'a str,
        Vec<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        bool,
        bool,
        &'a [&'a str],
    );
    let with = |i: usize, line: &'static str| {
        let mut l = complete.to_vec();
        if let Some(slot) = l.get_mut(i) {
            *slot = line;
        }
        l
    };
    let cases: Vec<Case> = vec![
        (
            "complete, names from the text",
            complete.to_vec(),
            None,
            None,
            true,
            true,
            &[],
        ),
        (
            "complete, names from fields",
            complete.to_vec(),
            Some("Dhanmondi"),
            Some("Dhaka"),
            true,
            true,
            &[],
        ),
        (
            "missing header",
            complete.get(2..).unwrap_or_default().to_vec(),
            None,
            None,
            true,
            true,
            &["header_missing"],
        ),
        (
            "english header with OCR noise",
            with(0, "BANGLADESH P0LICE"),
            None,
            None,
            true,
            true,
            &[],
        ),
        (
            "unknown thana",
            with(2, "থানাঃ ঝিকিমিকিপুর, জেলাঃ ঢাকা"),
            None,
            None,
            true,
            true,
            &["thana_unknown"],
        ),
        (
            "garbled thana from fields, named before its label elsewhere",
            with(2, "বরাবর, অফিসার ইনচার্জ, নকলা থানা, শেরপুর"),
            Some("FEM"),
            Some("শেরপুর"),
            true,
            true,
            &[],
        ),
        (
            "garbled thana from fields: the district after the label is no thana",
            with(2, "বরাবর, অফিসার ইনচার্জ, খখখ থানা, শেরপুর"),
            Some("খখখ"),
            Some("শেরপুর"),
            true,
            true,
            &["thana_unknown"],
        ),
        (
            "no thana",
            with(2, "জেলাঃ ঢাকা"),
            None,
            None,
            true,
            true,
            &["thana_missing"],
        ),
        (
            "thana not in district",
            complete.to_vec(),
            Some("Dhanmondi"),
            Some("Khulna"),
            true,
            true,
            &["thana_district_mismatch"],
        ),
        (
            "thana not in district, from the text",
            with(2, "থানাঃ ধানমন্ডি মডেল থানা, জেলাঃ খুলনা"),
            None,
            None,
            true,
            true,
            &["thana_district_mismatch"],
        ),
        (
            "thana handed over as district: district read from the page",
            complete.to_vec(),
            Some("Dhanmondi"),
            Some("Dhanmondi"),
            true,
            true,
            &[],
        ),
        (
            "unmatched district beside a sure thana",
            with(2, "থানাঃ ধানমন্ডি মডেল থানা"),
            Some("Dhanmondi"),
            Some("Xyzzyq"),
            true,
            true,
            &[],
        ),
        (
            "thana handed as district, page names another district",
            with(2, "থানাঃ ধানমন্ডি মডেল থানা, জেলাঃ খুলনা"),
            Some("Dhanmondi"),
            Some("Dhanmondi"),
            true,
            true,
            &["thana_district_mismatch"],
        ),
        (
            "Kotwali in Chattogram",
            with(2, "Police Station: Kotwali, District: Chittagong"),
            None,
            None,
            true,
            true,
            &[],
        ),
        (
            "no seal",
            complete.to_vec(),
            None,
            None,
            false,
            true,
            &["seal_missing"],
        ),
        (
            "no signature",
            complete.to_vec(),
            None,
            None,
            true,
            false,
            &["signature_missing"],
        ),
    ];
    let fonts = gdgen_or_none().is_some();
    for (name, lines, thana, district, has_seal, has_sig, want) in cases {
        if has_sig && !fonts {
            eprintln!("skipped {name}: fonts missing");
            continue;
        }
        let page = ocr_page(&lines);
        let img = stamped_page(has_seal, has_sig);
        let rep = structure::check(
            &img,
            &page,
            thana,
            district,
            &StructureConfig::default(),
            &Deadline::none(),
        )
        .expect("runs");
        let mut codes: Vec<&str> = rep.findings.iter().map(|f| f.code.as_str()).collect();
        codes.sort_unstable();
        assert_eq!(codes, want.to_vec(), "{name}: {rep:#?}");
        for f in &rep.findings {
            assert!(!f.en.is_empty() && !f.bn.is_empty(), "{name}: {f:?}");
        }
    }
}

#[test]
fn structure_survives_empty_input() {
    let img = RgbImage::new(1, 1);
    let rep = structure::check(
        &img,
        &OcrPage::default(),
        Some(""),
        Some("   "),
        &StructureConfig::default(),
        &Deadline::none(),
    )
    .expect("runs");
    let codes: Vec<&str> = rep.findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "header_missing",
            "thana_missing",
            "seal_missing",
            "signature_missing"
        ]
    );
}
