//! GD copies end to end: generated documents (crate `gdgen`) through `verify --kind gd`.

use gdgen::{generate, Generated, Options, Variant};
use verify::gd::duplicates::MemoryIndex;
use verify::{Config, DocumentKind, ProgressEvent, ProgressSink, Report, Request, Verdict};

/// A flat scan of `variant` from `seed` (ASCII or Bengali digits as the seed draws).
fn scan(variant: Variant, seed: u64) -> Generated {
    let options = Options {
        photo_share: 0.0,
        ..Options::default().only(variant)
    };
    generate(seed, &options).expect("generator")
}

fn request(typed: &[String]) -> Request {
    Request {
        kind: DocumentKind::Gd,
        imeis: typed.to_vec(),
        now_unix: Some(1_900_000_000), // 2030: every generated GD date is in the past
        annotate: true,
    }
}

fn run(bytes: &[u8], typed: &[String]) -> Report {
    verify::verify(bytes, &request(typed), &Config::default(), &mut ()).expect("readable")
}

fn codes(r: &Report) -> Vec<&str> {
    r.findings.iter().map(|f| f.code.as_str()).collect()
}

fn imeis(r: &Report) -> Vec<String> {
    let mut v: Vec<String> = r
        .fields
        .get("imeis")
        .map(|v| v.as_list().into_iter().map(str::to_owned).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// The generated copy turned by `turn`, as a PNG (the page laid sideways or upside down).
fn turned_png(g: &Generated, turn: fn(&image::RgbImage) -> image::RgbImage) -> Vec<u8> {
    let img = image::load_from_memory(&g.bytes).expect("image").to_rgb8();
    let mut png = Vec::new();
    turn(&img)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode");
    png
}

#[test]
fn clean_scan_is_read_and_approved() {
    let g = scan(Variant::Clean, 3);
    let r = run(&g.bytes, &g.label.typed_imeis);
    let mut want = g.label.document_imeis.clone();
    want.sort();
    assert_eq!(imeis(&r), want, "{:#?}", r.findings);
    let text = |k: &str| r.fields.get(k).and_then(|v| v.as_text()).map(str::to_owned);
    assert_eq!(text("gd_number"), Some(g.label.gd_number.clone()));
    assert_eq!(text("gd_date"), Some(g.label.gd_date.clone()));
    assert_eq!(text("thana"), Some(g.label.thana_en.clone()));
    assert_eq!(
        r.verdict,
        Verdict::Approve,
        "{:?} {:#?}",
        r.explanation,
        r.findings
    );
    let why = r
        .explanation
        .as_ref()
        .expect("GD reports explain the verdict");
    assert!(why.en.starts_with("Approved") && why.bn.starts_with("অনুমোদিত"));
    // Every located field lies inside the image, with a confidence.
    for l in &r.located {
        assert!(
            l.region.x + l.region.w <= g.label.width && l.region.y + l.region.h <= g.label.height
        );
        assert!((0.0..=1.0).contains(&l.confidence), "{l:?}");
    }
    assert!(r.annotated_png.is_some());
}

#[test]
fn typed_imei_not_on_the_document_is_rejected_with_both_numbers() {
    let g = scan(Variant::Mismatch, 2);
    let r = run(&g.bytes, &g.label.typed_imeis);
    assert_eq!(r.verdict, Verdict::Reject, "{:#?}", r.findings);
    let f = r
        .findings
        .iter()
        .find(|f| f.code == "imei_mismatch")
        .expect("imei_mismatch");
    let typed_missing = g
        .label
        .typed_imeis
        .iter()
        .find(|t| !g.label.document_imeis.contains(t))
        .expect("a typed IMEI differs");
    assert!(f.en.contains(typed_missing.as_str()), "{}", f.en);
    assert!(
        g.label
            .document_imeis
            .iter()
            .any(|d| f.en.contains(d.as_str())),
        "shows the document's number too: {}",
        f.en
    );
}

#[test]
fn nothing_typed_goes_to_review() {
    let g = scan(Variant::Clean, 1);
    let r = run(&g.bytes, &[]);
    assert_eq!(r.verdict, Verdict::Review);
    assert!(r
        .explanation
        .expect("explained")
        .en
        .contains("no IMEI was typed"));
}

#[test]
fn the_same_copy_twice_is_a_duplicate() {
    let g = scan(Variant::Clean, 1);
    let mut index = MemoryIndex::new();
    let req = request(&g.label.typed_imeis);
    let first =
        verify::verify_with(&g.bytes, &req, &Config::default(), &index, &mut ()).expect("readable");
    assert!(!codes(&first).contains(&"duplicate"));
    index.record("case-1", &first);
    let again =
        verify::verify_with(&g.bytes, &req, &Config::default(), &index, &mut ()).expect("readable");
    let dups: Vec<_> = again
        .findings
        .iter()
        .filter(|f| f.code == "duplicate")
        .collect();
    assert!(
        dups.len() >= 2,
        "IMEI and page at least: {:#?}",
        again.findings
    );
    assert!(dups.iter().all(|f| f.en.contains("case-1")));
    assert_ne!(again.verdict, Verdict::Approve);
}

#[test]
fn a_page_laid_sideways_is_turned_and_read() {
    let g = scan(Variant::Clean, 1);
    let png = turned_png(&g, image::imageops::rotate90);
    let r = run(&png, &g.label.typed_imeis);
    let mut want = g.label.document_imeis.clone();
    want.sort();
    assert_eq!(imeis(&r), want, "{:#?}", r.findings);
    assert_eq!(
        r.fields.get("page_turned").and_then(|v| v.as_text()),
        Some("270")
    );
    // Boxes come back in the sideways input's coordinates.
    for l in r.located.iter().filter(|l| l.field == "imeis") {
        assert!(l.region.h > l.region.w, "a sideways IMEI is tall: {l:?}");
    }
}

#[derive(Default)]
struct Events(Vec<(String, u8)>);

impl ProgressSink for Events {
    fn event(&mut self, e: &ProgressEvent) {
        if let ProgressEvent::StageFinished {
            stage, progress, ..
        } = e
        {
            self.0.push((stage.as_str().to_owned(), *progress));
        }
    }
}

#[test]
fn gd_stages_report_progress_in_order() {
    let g = scan(Variant::Clean, 1);
    let mut events = Events::default();
    verify::verify(
        &g.bytes,
        &request(&g.label.typed_imeis),
        &Config::default(),
        &mut events,
    )
    .expect("readable");
    let names: Vec<&str> = events.0.iter().map(|(n, _)| n.as_str()).collect();
    for stage in ["geometry", "ocr", "fields", "structure", "duplicates"] {
        assert!(names.contains(&stage), "{names:?}");
    }
    assert!(
        events.0.windows(2).all(|w| w[0].1 <= w[1].1),
        "{:?}",
        events.0
    );
    assert_eq!(events.0.last().map(|e| e.1), Some(100));
}

#[test]
fn upside_down_text_reads_less_legibly_than_upright() {
    // The tie-breaker used when the ink profiles cannot tell up from down.
    use verify::gd::{ocr, orient};
    for seed in [2, 5] {
        let g = scan(Variant::Clean, seed);
        let page = image::load_from_memory(&g.bytes).expect("image").to_rgb8();
        let cfg = ocr::OcrConfig::default();
        let up = ocr::legibility(&page, &cfg, 6);
        let down = ocr::legibility(&orient::turned(&page, orient::Turn::Cw180), &cfg, 6);
        assert!(up > 0.6, "upright legibility {up}");
        assert!(up > down + 0.1, "upright {up} vs upside down {down}");
    }
}

#[test]
fn a_page_laid_upside_down_is_turned_and_read() {
    let g = scan(Variant::Clean, 4);
    let png = turned_png(&g, image::imageops::rotate180);
    let r = run(&png, &g.label.typed_imeis);
    let mut want = g.label.document_imeis.clone();
    want.sort();
    assert_eq!(imeis(&r), want, "{:#?}", r.findings);
    assert_eq!(
        r.fields.get("page_turned").and_then(|v| v.as_text()),
        Some("180")
    );
}
