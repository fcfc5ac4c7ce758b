//! Police GD (General Diary) copies: page geometry, OCR, fields, IMEI match, structure, seal,
//! duplicates, tampering over fields, and routing.
//!
//! Data flow: [`geometry`] finds the page and warps it flat → [`ocr`] finds the text lines and
//! reads them into a [`text::OcrPage`] (page coordinates) → [`fields`] parses IMEIs, GD number,
//! date, thana, district, brand/model → [`structure`] checks header, thana ↔ district
//! ([`geo`]), seal and signature ([`seal`]) → [`duplicates`] asks the caller's index →
//! [`route`] decides. Every box is mapped back to input-image coordinates for the report.

pub mod checks;
pub mod duplicates;
pub mod fields;
pub mod geo;
pub mod geometry;
pub mod glyphs;
pub mod ocr;
pub mod orient;
pub mod route;
pub mod seal;
pub mod structure;
pub mod tamper;
pub mod text;

use std::collections::BTreeMap;
use std::time::Duration;

use image::RgbImage;

use crate::imei;
use crate::pipeline::Runner;
use crate::report::{FieldValue, Finding, LocatedField, Region, Severity, Stage};

use duplicates::{DuplicateIndex, Fingerprint};
use fields::GdFields;
use geometry::Capture;
use tamper::FieldBox;

/// Every knob of the GD stages.
#[derive(Debug, Clone)]
pub struct GdConfig {
    pub geometry: geometry::GeometryConfig,
    pub ocr: ocr::OcrConfig,
    pub structure: structure::StructureConfig,
    pub tamper: tamper::TamperConfig,
    pub glyphs: glyphs::GlyphConfig,
    pub route: route::RouteConfig,
    /// Largest fingerprint distance (of 1024 bits) that counts as the same page.
    pub max_image_distance: u32,
    /// Fewest text lines a readable GD copy has.
    pub min_text_lines: usize,
    pub budgets: GdBudgets,
}

impl Default for GdConfig {
    fn default() -> Self {
        GdConfig {
            geometry: geometry::GeometryConfig::default(),
            ocr: ocr::OcrConfig::default(),
            structure: structure::StructureConfig::default(),
            tamper: tamper::TamperConfig::default(),
            glyphs: glyphs::GlyphConfig::default(),
            route: route::RouteConfig::default(),
            max_image_distance: 60,
            min_text_lines: 4,
            budgets: GdBudgets::default(),
        }
    }
}

/// Time budget per GD stage (generous: a Raspberry Pi is several times slower than a PC).
#[derive(Debug, Clone)]
pub struct GdBudgets {
    pub geometry: Duration,
    pub ocr: Duration,
    pub fields: Duration,
    pub structure: Duration,
    pub duplicates: Duration,
}

impl Default for GdBudgets {
    fn default() -> Self {
        GdBudgets {
            geometry: Duration::from_secs(5),
            ocr: Duration::from_secs(40),
            fields: Duration::from_secs(10),
            structure: Duration::from_secs(10),
            duplicates: Duration::from_secs(3),
        }
    }
}

/// Lines read each way up when the ink profiles cannot tell up from down.
const LEGIBILITY_LINES: usize = 6;

/// What the GD stages add to the report.
#[derive(Debug, Default)]
pub(crate) struct GdOutcome {
    pub fields: BTreeMap<String, FieldValue>,
    pub located: Vec<LocatedField>,
    pub facts: route::Facts,
}

/// Maps boxes on the upright page to input-image boxes: undo the quarter turn, then the
/// rectification.
struct Mapper<'a> {
    capture: Option<&'a Capture>,
    turn: orient::Turn,
    /// The upright page's size.
    size: (u32, u32),
}

impl Mapper<'_> {
    /// The identity (boxes already in the coordinates wanted).
    fn identity() -> Mapper<'static> {
        Mapper {
            capture: None,
            turn: orient::Turn::None,
            size: (0, 0),
        }
    }

    fn to_input(&self, r: Region) -> Region {
        let r = self.turn.unturn(r, self.size.0, self.size.1);
        self.capture.map_or(r, |c| c.page_to_input(r))
    }

    fn finding(&self, f: Finding) -> Finding {
        let regions = f.regions.iter().map(|r| self.to_input(*r)).collect();
        f.with_regions(regions)
    }
}

/// Run the page stages (geometry has run; the forensic findings are in `runner.findings`).
pub(crate) fn analyze(
    runner: &mut Runner<'_>,
    img: &RgbImage,
    capture: Option<&Capture>,
    typed: &[String],
    now_unix: i64,
    cfg: &GdConfig,
    index: &dyn DuplicateIndex,
) -> GdOutcome {
    let mut out = GdOutcome::default();
    let flat = capture.map_or(img, |c| &c.page);
    let guess = orient::guess(flat);
    let mut turn = guess.turn;
    if guess.uncertain() {
        // Too few headline votes to tell up from down: read a few lines both ways.
        let one = ocr::legibility(
            &orient::turned(flat, guess.turn),
            &cfg.ocr,
            LEGIBILITY_LINES,
        );
        let other = ocr::legibility(
            &orient::turned(flat, guess.flipped),
            &cfg.ocr,
            LEGIBILITY_LINES,
        );
        if other > one {
            turn = guess.flipped;
        }
    }
    let upright = orient::turned(flat, turn);
    let page = &upright;
    let map = Mapper {
        capture,
        turn,
        size: page.dimensions(),
    };
    if turn != orient::Turn::None {
        out.fields
            .insert("page_turned".into(), turn.degrees().to_string().into());
    }
    let typed: Vec<String> = typed
        .iter()
        .map(|t| imei::normalize(t).unwrap_or_else(|_| t.trim().to_owned()))
        .collect();
    out.facts.typed = typed.len();

    let ocr = runner
        .run(Stage::Ocr, cfg.budgets.ocr, |d| {
            ocr::read_page(page, &cfg.ocr, d)
        })
        .unwrap_or_default();
    if ocr.lines.len() < cfg.min_text_lines {
        runner.findings.push(unreadable(ocr.lines.len()));
    }

    let forensic: Vec<Finding> = runner
        .findings
        .iter()
        .filter(|f| route::is_forensic(f.stage))
        .cloned()
        .collect();
    let read = runner.run(Stage::Fields, cfg.budgets.fields, |d| {
        // The same field box can be asked for twice (a label's value and its candidate).
        let mut reread_cache: std::collections::HashMap<Region, Vec<(String, f32)>> =
            std::collections::HashMap::new();
        let mut read = fields::extract(&ocr, &mut |r| {
            reread_cache
                .entry(r)
                .or_insert_with(|| {
                    let mut readings = ocr::read_digit_readings(page, r, &cfg.ocr);
                    if !readings.iter().any(|(t, _)| ocr::holds_valid_imei(t)) {
                        readings.extend(reread_from_photo(img, capture, turn, page, r, &cfg.ocr));
                    }
                    readings
                })
                .clone()
        });
        // A GD number or date read from a search area beside its label (its value was missing
        // from the line) has that area as its box, far wider than the value: the box becomes
        // the value's ink, so the located field and the pixel checks cover the value only.
        for f in [&mut read.gd_number, &mut read.gd_date]
            .into_iter()
            .flatten()
        {
            if f.region.w >= SEARCH_AREA_ASPECT * f.region.h.max(1) {
                if let Some(b) = ocr::ink_box(page, f.region) {
                    f.region = b;
                }
            }
        }
        // Page coordinates: the cross-checks and the glyph alignment on the rectified page.
        let mut on_page = checks::imeis(&typed, &read);
        on_page.extend(checks::dates_and_numbers(&read, now_unix));
        let page_lines: Vec<Region> = ocr.lines.iter().map(|l| l.region).collect();
        // Glyph alignment compares digits with digits: a date written with its month in
        // letters (`23 জুলাই 2021`) has letters with headlines and vowel signs above and below.
        let digit_boxes: Vec<FieldBox> = field_boxes(&read, &Mapper::identity())
            .into_iter()
            .filter(|b| letters_over(&ocr, b.region) < 3)
            .collect();
        on_page.extend(glyphs::alignment(
            page,
            &digit_boxes,
            &page_lines,
            &cfg.glyphs,
        ));
        // Input coordinates: pixel evidence on the image as captured.
        let boxes = field_boxes(&read, &map);
        let lines: Vec<Region> = ocr.lines.iter().map(|l| map.to_input(l.region)).collect();
        let mut on_input = tamper::over_fields(&forensic, &boxes, &cfg.tamper);
        on_input.extend(tamper::pixel_checks(img, &boxes, &lines, &cfg.tamper, d));
        Ok((read, on_page, on_input))
    });
    let read = match read {
        Some((read, on_page, on_input)) => {
            runner
                .findings
                .extend(on_page.into_iter().map(|f| map.finding(f)));
            runner.findings.extend(on_input);
            read
        }
        None => GdFields::default(),
    };
    out.facts.matched = typed
        .iter()
        .filter(|t| read.imeis.iter().any(|r| &r.imei == *t))
        .count();
    record_fields(&read, &map, &mut out);

    let thana_raw = read.thana.as_ref().map(|f| f.value.as_str());
    let district_raw = read.district.as_ref().map(|f| f.value.as_str());
    let structure = runner.run(Stage::Structure, cfg.budgets.structure, |d| {
        structure::check(page, &ocr, thana_raw, district_raw, &cfg.structure, d)
    });
    let mut thana_canonical = None;
    if let Some(s) = structure {
        if let Some(t) = s.thana.as_ref().and_then(|t| t.matches.first()) {
            thana_canonical = Some(t.name_en.clone());
            out.fields.insert("thana".into(), t.name_en.clone().into());
            out.fields
                .insert("thana_bn".into(), t.name_bn.clone().into());
        }
        if let Some(d) = s.district.as_ref().and_then(|d| d.matches.first()) {
            out.fields
                .insert("district".into(), d.name_en.clone().into());
            out.fields
                .insert("district_bn".into(), d.name_bn.clone().into());
        }
        if let Some(seal) = s.seals.first() {
            out.located.push(located(
                "seal",
                "round seal",
                map.to_input(seal.region),
                seal.score,
            ));
        }
        if let Some(sig) = &s.signature {
            out.located.push(located(
                "signature",
                "signature",
                map.to_input(sig.region),
                sig.score,
            ));
        }
        runner
            .findings
            .extend(s.findings.into_iter().map(|f| map.finding(f)));
    }

    let fingerprint = Fingerprint::of(page);
    out.fields
        .insert("image_hash".into(), fingerprint.to_base64().into());
    if let Some(found) = runner.run(Stage::Duplicates, cfg.budgets.duplicates, |_| {
        Ok(checks::duplicates(
            &read,
            thana_canonical.as_deref(),
            &fingerprint,
            cfg.max_image_distance,
            index,
        ))
    }) {
        runner
            .findings
            .extend(found.into_iter().map(|f| map.finding(f)));
    }
    let read_all = out.facts.matched == out.facts.typed
        && out.facts.typed > 0
        && read.gd_number.is_some()
        && read.gd_date.is_some()
        && thana_canonical.is_some();
    if read_all {
        glare_read_past(&mut runner.findings);
    }
    out
}

/// Glare is a reason to retake only when it hid something: when every typed IMEI was found and
/// the GD number, date and thana were read, and nothing else on the page (seal, signature,
/// header) is missing, a bright patch over blank or still-legible paper is information, not a
/// reason for review. The finding stays, with its box, so an officer can still see it.
fn glare_read_past(findings: &mut [Finding]) {
    let other_document_problem = findings.iter().any(|f| {
        f.code != "photo_glare" && !route::is_forensic(f.stage) && f.severity > Severity::Low
    });
    if other_document_problem {
        return;
    }
    for f in findings.iter_mut().filter(|f| f.code == "photo_glare") {
        f.severity = Severity::Info;
        f.points = 0;
        f.en = "Light glare on part of the page, but everything needed was read.".into();
        f.bn = "পাতার একাংশে আলোর ঝলক আছে, তবে প্রয়োজনীয় সবকিছু পড়া গেছে।".into();
    }
}

fn located(field: &str, value: &str, region: Region, confidence: f32) -> LocatedField {
    LocatedField {
        field: field.to_owned(),
        value: value.to_owned(),
        region,
        confidence,
        note: None,
    }
}

/// How many letters (not digits) OCR read in the words lying mostly inside `r`.
fn letters_over(ocr: &text::OcrPage, r: Region) -> usize {
    ocr.lines
        .iter()
        .flat_map(|l| &l.words)
        .filter(|w| w.region.overlap(&r) * 2 > w.region.area())
        .flat_map(|w| w.text.chars())
        .filter(|c| c.is_alphabetic())
        .count()
}

/// Width over height from which a GD number's or date's box is a search area, not the value's
/// own box (`১৮ মার্চ ২০২২` is about six heights wide).
const SEARCH_AREA_ASPECT: u32 = 9;

/// The fields the decision rests on, in input coordinates, for the tamper checks.
fn field_boxes(read: &GdFields, map: &Mapper<'_>) -> Vec<FieldBox> {
    let mut boxes: Vec<FieldBox> = read
        .imeis
        .iter()
        .map(|r| FieldBox {
            field: "imeis".into(),
            value: r.imei.clone(),
            region: map.to_input(r.region),
        })
        .collect();
    for (name, f) in [("gd_number", &read.gd_number), ("gd_date", &read.gd_date)] {
        if let Some(f) = f {
            boxes.push(FieldBox {
                field: name.into(),
                value: f.value.clone(),
                region: map.to_input(f.region),
            });
        }
    }
    boxes
}

fn record_fields(read: &GdFields, map: &Mapper<'_>, out: &mut GdOutcome) {
    let imeis: Vec<String> = read.imeis.iter().map(|r| r.imei.clone()).collect();
    out.fields.insert("imeis".into(), imeis.into());
    for r in &read.imeis {
        out.located.push(LocatedField {
            field: "imeis".into(),
            value: r.imei.clone(),
            region: map.to_input(r.region),
            confidence: r.confidence,
            note: r.note.clone(),
        });
    }
    let singles = [
        ("gd_number", &read.gd_number),
        ("gd_date", &read.gd_date),
        ("thana", &read.thana),
        ("district", &read.district),
        ("brand", &read.brand),
        ("model", &read.model),
    ];
    for (name, f) in singles {
        if let Some(f) = f {
            out.fields.insert(name.into(), f.value.clone().into());
            out.located.push(LocatedField {
                field: name.into(),
                value: f.value.clone(),
                region: map.to_input(f.region),
                confidence: f.confidence,
                note: None,
            });
        }
    }
}

/// How much finer than the page a number field is resampled from a phone photo to be read
/// again.
const PHOTO_REREAD_SCALE: f32 = 2.5;

/// The digit readings of the number field `r` (upright page coordinates) resampled straight
/// from the captured photo ([`geometry::Capture::resample_from_input`]) at
/// [`PHOTO_REREAD_SCALE`], with a margin of the field's height round it: a second chance for a
/// field the rectified page left too blurred to read. Empty for a flat scan.
fn reread_from_photo(
    input: &RgbImage,
    capture: Option<&Capture>,
    turn: orient::Turn,
    page: &RgbImage,
    r: Region,
    cfg: &ocr::OcrConfig,
) -> Vec<(String, f32)> {
    let Some(c) = capture.filter(|c| c.kind == geometry::CaptureKind::Photo) else {
        return Vec::new();
    };
    let (pw, ph) = page.dimensions();
    let pad = r.h.max(4);
    let x0 = r.x.saturating_sub(pad);
    let y0 = r.y.saturating_sub(pad);
    let x1 = (r.x + r.w + pad).min(pw);
    let y1 = (r.y + r.h + pad).min(ph);
    if x1 <= x0 || y1 <= y0 {
        return Vec::new();
    }
    let padded = Region::new(x0, y0, x1 - x0, y1 - y0);
    let flat = turn.unturn(padded, pw, ph);
    let crop = orient::turned(
        &c.resample_from_input(input, flat, PHOTO_REREAD_SCALE),
        turn,
    );
    let s = PHOTO_REREAD_SCALE;
    let inner = Region::new(
        ((r.x - x0) as f32 * s) as u32,
        ((r.y - y0) as f32 * s) as u32,
        (r.w as f32 * s) as u32,
        (r.h as f32 * s) as u32,
    );
    ocr::read_digit_readings(&crop, inner, cfg)
}

fn unreadable(lines: usize) -> Finding {
    Finding::new(
        "ocr_unreadable",
        Stage::Ocr,
        Severity::High,
        30,
        format!("Only {lines} line(s) of text could be read; please lay the whole GD copy flat under the camera and take the photo again."),
        format!("মাত্র {}টি লাইন পড়া গেছে; অনুগ্রহ করে পুরো জিডি কপিটি ক্যামেরার নিচে সমান করে রেখে আবার ছবি তুলুন।", route::bn_digits(lines)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(code: &str, stage: Stage, severity: Severity, points: u32) -> Finding {
        Finding::new(code, stage, severity, points, code, code)
    }

    #[test]
    fn glare_that_hid_nothing_is_information() {
        let mut f = vec![
            finding("photo_glare", Stage::Geometry, Severity::Medium, 15),
            finding("exif_missing", Stage::Metadata, Severity::Low, 5),
            finding("ela", Stage::Ela, Severity::Medium, 10),
        ];
        glare_read_past(&mut f);
        assert_eq!(f[0].severity, Severity::Info);
        assert_eq!(f[0].points, 0);
        assert!(f[0].en.contains("everything needed was read"));
        assert_eq!(f[2].points, 10, "other findings untouched");
    }

    #[test]
    fn glare_stays_when_something_else_is_missing() {
        for other in ["seal_missing", "signature_missing", "header_missing"] {
            let mut f = vec![
                finding("photo_glare", Stage::Geometry, Severity::Medium, 15),
                finding(other, Stage::Structure, Severity::Medium, 20),
            ];
            glare_read_past(&mut f);
            assert_eq!(f[0].severity, Severity::Medium, "{other}");
            assert_eq!(f[0].points, 15, "{other}");
        }
    }
}
