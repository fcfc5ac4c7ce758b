//! `--kind image` end to end on pictures made here: phone screenshots (light, dark, coloured
//! header) and camera photos of them, in English, Bengali and Thai. A test per finding code of the
//! scam stages (`lookalike_domain`, `punycode_domain`, `high_risk_phrase`, `known_scam_image`,
//! `seen_before`, `stage_timeout`, `stage_failed`), with the fields and boxes they carry.

mod scam_support;

use std::time::Duration;

use scam_support::{camera_photo, png, renderer, screenshot, Look};
use verify::gd::duplicates::NoIndex;
use verify::report::{FieldValue, Region, Report, StageStatus};
use verify::scam::{index::phash, sources::hash_hex, NoSources, SourceIndex, Sources};
use verify::{verify_with_sources, Config, DocumentKind, Request, Stage};

fn request() -> Request {
    Request {
        kind: DocumentKind::Image,
        ..Request::default()
    }
}

fn check_with(bytes: &[u8], config: &Config, sources: &dyn SourceIndex) -> Report {
    verify_with_sources(bytes, &request(), config, &NoIndex, sources, &mut ())
        .expect("a readable picture")
}

fn check(bytes: &[u8]) -> Report {
    check_with(bytes, &Config::default(), &NoSources)
}

fn codes(r: &Report) -> Vec<&str> {
    r.findings.iter().map(|f| f.code.as_str()).collect()
}

fn list<'r>(r: &'r Report, field: &str) -> Vec<&'r str> {
    r.fields
        .get(field)
        .map(FieldValue::as_list)
        .unwrap_or_default()
}

fn stage(r: &Report, s: Stage) -> StageStatus {
    r.stages
        .iter()
        .find(|x| x.name == s)
        .map(|x| x.status)
        .unwrap_or_else(|| panic!("no stage {s:?} in {:?}", r.stages))
}

/// The finding with `code` whose boxes overlap `line`.
fn boxed_on(r: &Report, code: &str, line: Region) -> bool {
    r.findings
        .iter()
        .filter(|f| f.code == code)
        .any(|f| f.regions.iter().any(|b| b.overlap(&line) > 0))
}

const PRIZE: &[&str] = &[
    "bKash Cashback Offer",
    "Congratulations! You have won 5000 Tk",
    "Claim now at bkash-bonus.com/login",
    "Helpline 01712-345678",
];

#[test]
fn a_prize_screenshot_gives_text_urls_phones_and_boxed_findings() {
    let mut r = renderer();
    let (img, lines) = screenshot(&mut r, PRIZE, Look::default());
    let report = check(&png(&img));
    assert_eq!(stage(&report, Stage::Ocr), StageStatus::Ok);
    let text = report
        .fields
        .get("text")
        .and_then(FieldValue::as_text)
        .unwrap_or("");
    assert!(text.contains("Cashback"), "{text}");
    assert_eq!(list(&report, "urls"), ["bkash-bonus.com/login"], "{text}");
    assert_eq!(list(&report, "phones"), ["+8801712345678"], "{text}");
    assert!(
        boxed_on(&report, "lookalike_domain", lines[2]),
        "{:#?}",
        report.findings
    );
    assert!(
        boxed_on(&report, "high_risk_phrase", lines[1]),
        "{:#?}",
        report.findings
    );
    assert!(report.fields.contains_key("image_phash"));
    assert!(
        report.risk >= 30,
        "risk {} {:?}",
        report.risk,
        codes(&report)
    );
    let why = report.explanation.as_ref().expect("an explanation");
    assert!(why.en.contains("bkash-bonus.com"), "{}", why.en);
    assert!(why.en.contains("never proves a payment"), "{}", why.en);
    assert!(why.bn.contains("স্ক্রিনশট কখনো"), "{}", why.bn);
}

#[test]
fn dark_mode_and_a_coloured_header_read_the_same() {
    let mut r = renderer();
    let look = Look {
        dark: true,
        header: Some([226, 19, 110]),
        ..Look::default()
    };
    let (img, lines) = screenshot(&mut r, PRIZE, look);
    let report = check(&png(&img));
    assert!(
        boxed_on(&report, "lookalike_domain", lines[2]),
        "{:?}",
        report.fields.get("text")
    );
    assert!(
        boxed_on(&report, "high_risk_phrase", lines[1]),
        "{:?}",
        report.fields.get("text")
    );
}

#[test]
fn a_camera_photo_of_the_screen_still_shows_the_lookalike() {
    let mut r = renderer();
    let (img, _) = screenshot(&mut r, PRIZE, Look::default());
    let report = check(&camera_photo(&img, 7));
    assert!(
        codes(&report).contains(&"lookalike_domain"),
        "{:?}",
        report.fields.get("text")
    );
    assert_eq!(list(&report, "urls"), ["bkash-bonus.com/login"]);
}

#[test]
fn bengali_and_thai_phrases_are_boxed() {
    let mut r = renderer();
    let lines = [
        "অভিনন্দন! আপনি জিতেছেন",
        "บัญชีของคุณถูกระงับ",
        "Visit nagad.com.bd",
    ];
    let (img, boxes) = screenshot(&mut r, &lines, Look::default());
    let report = check(&png(&img));
    let text = report
        .fields
        .get("text")
        .and_then(FieldValue::as_text)
        .unwrap_or("");
    assert!(boxed_on(&report, "high_risk_phrase", boxes[0]), "{text}");
    assert!(boxed_on(&report, "high_risk_phrase", boxes[1]), "{text}");
    assert_eq!(list(&report, "urls"), ["nagad.com.bd"], "{text}");
    assert!(
        !codes(&report).contains(&"lookalike_domain"),
        "the real domain"
    );
}

#[test]
fn a_punycode_link_is_a_finding() {
    let mut r = renderer();
    let lines = ["Your parcel is waiting", "http://xn--80ak6aa92e.com/track"];
    let (img, boxes) = screenshot(&mut r, &lines, Look::default());
    let report = check(&png(&img));
    assert!(
        boxed_on(&report, "punycode_domain", boxes[1]),
        "{:?}",
        report.fields.get("text")
    );
}

#[test]
fn a_known_scam_image_and_earlier_sightings_are_evidence() {
    let mut r = renderer();
    let (img, _) = screenshot(&mut r, PRIZE, Look::default());
    // The reference entry is of the screenshot itself, the picture checked a copy of it.
    let hash = phash(&image::DynamicImage::ImageRgb8(img.clone()));
    let reference = format!(
        "# known scam images · version test-1\n{}\tfake bKash cashback\tcloud-review\n",
        hash_hex(hash)
    );
    let mut sources = Sources::parse_reference(&reference).expect("reference data");
    // Forwarded through a messenger: smaller and recompressed.
    let small = image::imageops::resize(
        &img,
        img.width() * 3 / 4,
        img.height() * 3 / 4,
        image::imageops::FilterType::Triangle,
    );
    let photo = scam_support::jpeg(&small, 70);
    let report = check_with(&photo, &Config::default(), &sources);
    assert!(
        codes(&report).contains(&"known_scam_image"),
        "{:?}",
        codes(&report)
    );
    assert!(!codes(&report).contains(&"seen_before"));
    let seen = report
        .fields
        .get("image_phash")
        .and_then(FieldValue::as_text)
        .expect("hash");
    for _ in 0..3 {
        assert!(sources.record_checked_hex(seen));
    }
    let again = check_with(&photo, &Config::default(), &sources);
    let f = again
        .findings
        .iter()
        .find(|f| f.code == "seen_before")
        .expect("seen_before");
    assert!(f.en.contains("3 times"), "{}", f.en);
    assert_eq!(
        again.fields.get("seen_count").and_then(FieldValue::as_text),
        Some("3")
    );
    // An unrelated picture matches neither.
    let (other, _) = screenshot(
        &mut r,
        &["Meeting at 5 pm", "See you there"],
        Look::default(),
    );
    let clean = check_with(&png(&other), &Config::default(), &sources);
    assert!(!codes(&clean)
        .iter()
        .any(|c| *c == "known_scam_image" || *c == "seen_before"));
}

#[test]
fn ocr_past_its_budget_is_a_stage_timeout_and_the_check_goes_on() {
    let mut r = renderer();
    let (img, _) = screenshot(&mut r, PRIZE, Look::default());
    let mut config = Config::default();
    config.scam.budgets.ocr = Duration::from_millis(1);
    let report = check_with(&png(&img), &config, &NoSources);
    assert_eq!(stage(&report, Stage::Ocr), StageStatus::Timeout);
    assert!(codes(&report).contains(&"stage_timeout"));
    assert_eq!(
        stage(&report, Stage::Duplicates),
        StageStatus::Ok,
        "later stages run"
    );
    assert_eq!(
        report.verdict,
        verify::Verdict::Review,
        "a hole in the report is never approved"
    );
}

#[test]
fn missing_language_data_is_a_stage_failure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut r = renderer();
    let (img, _) = screenshot(&mut r, PRIZE, Look::default());
    let mut config = Config::default();
    config.scam.ocr.tessdata = Some(dir.path().to_owned());
    let report = check_with(&png(&img), &config, &NoSources);
    assert_eq!(stage(&report, Stage::Ocr), StageStatus::Failed);
    assert!(codes(&report).contains(&"stage_failed"));
    assert!(!report.fields.contains_key("text"));
}
