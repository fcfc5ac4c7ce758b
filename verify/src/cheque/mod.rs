//! Cheques: the MICR line (E-13B), its fields and routing numbers, amounts and dates.
//!
//! Data flow of [`analyze`] (`--kind cheque`): the MICR band is read from the bottom of the
//! image ([`micr`]), parsed into its fields ([`fields`]) and the routing number checked
//! ([`routing`]) — stage `fields`'s MICR half; the page text is read by the GD OCR
//! (`gd::ocr::read_page`, Bengali + English) and the amount in figures and in words, the date
//! and the payee are picked from its lines ([`amount`]); stage `structure` matches the design
//! against the bank templates ([`security`]) and, when the page text held no amount in figures,
//! re-reads the matched layout's figures box alone with an amount character set
//! (`gd::ocr::read_field_readings`); [`checks`] turns what was found into findings. Account
//! numbers are masked in every output.

pub mod amount;
pub mod amount_read;
pub mod e13b;
pub mod fields;
pub mod fraud;
pub mod micr;
pub mod routing;
pub mod security;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use image::RgbImage;

use crate::gd::ocr::{self, OcrConfig};
use crate::gd::text::{self, OcrLine, OcrPage};
use crate::pipeline::Runner;
use crate::report::{FieldValue, Finding, LocatedField, Region, Severity, Stage};
use amount::{
    date_status, number_word_count, parse_date, parse_figures, parse_words, Date, DateStatus,
};
use micr::{MicrConfig, MicrReader};
use routing::{classify, Directory, RoutingStatus};

/// Everything `--kind cheque` can be told.
#[derive(Debug, Clone)]
pub struct ChequeConfig {
    pub micr: MicrConfig,
    pub ocr: OcrConfig,
    /// Show account numbers in full (default: masked).
    pub show_account: bool,
    pub security: security::SecurityConfig,
    /// Reference designs (`DIR/BANK/template.png` + `layout.json`); the shipped ones when `None`.
    pub templates_dir: Option<PathBuf>,
    /// The fraud model (ONNX); the rule-based score when `None` or the file is missing.
    pub fraud_model: Option<PathBuf>,
}

impl Default for ChequeConfig {
    fn default() -> Self {
        ChequeConfig {
            micr: MicrConfig::default(),
            // Blue pen is ink on a cheque.
            ocr: OcrConfig {
                ink: ocr::InkModel::AnyDark,
                ..OcrConfig::default()
            },
            show_account: false,
            security: security::SecurityConfig::default(),
            templates_dir: None,
            fraud_model: Some(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/cheque-fraud.onnx"),
            ),
        }
    }
}

/// What was read from a cheque, before judging it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChequeFacts {
    /// MICR read in the transcript alphabet (empty: nothing read).
    pub micr_raw: String,
    pub micr: Option<fields::MicrFields>,
    pub routing: Option<RoutingStatus>,
    /// Paisa.
    pub amount_figures: Option<u64>,
    pub amount_words: Option<u64>,
    pub date: Option<Date>,
    pub payee: Option<String>,
}

/// What the cheque stages add to the report.
#[derive(Debug, Default)]
pub(crate) struct ChequeOutcome {
    pub fields: BTreeMap<String, FieldValue>,
    pub located: Vec<LocatedField>,
}

fn taka(paisa: u64) -> String {
    format!("{}.{:02}", paisa / 100, paisa % 100)
}

/// The MICR line: the lower third of the image first (where it is printed), the whole image
/// when that finds nothing.
fn read_micr(img: &RgbImage, reader: &MicrReader) -> Result<micr::MicrRead, crate::StageError> {
    let gray = image::imageops::grayscale(img);
    let (w, h) = gray.dimensions();
    let top = h * 2 / 3;
    let bottom = image::imageops::crop_imm(&gray, 0, top, w, h - top).to_image();
    let mut read = reader.read_line(&bottom)?;
    if read.raw.len() >= 6 {
        read.band = (read.band.0 + top as f32, read.band.1 + top as f32);
        return Ok(read);
    }
    read = reader.read_line(&gray)?;
    Ok(read)
}

/// The amount in words on line `i` (it holds `taka`, `only`, `টাকা` or `মাত্র`), joined with the
/// line above or below when the words wrap onto it: of the line alone and its joins with
/// neighbours that hold number words and no digits and sit close above or below, the reading
/// with the most number words wins (a wrapped English amount has `Taka` on its first line and
/// `Only` on its second; a Bengali one has `টাকা মাত্র` at its end).
fn words_amount(lines: &[OcrLine], i: usize) -> Option<(u64, Region, String)> {
    let cur = lines.get(i)?;
    let near = |other: &OcrLine| {
        let gap = other.region.y.abs_diff(cur.region.y);
        let h = cur.region.h.max(other.region.h).max(1);
        gap <= 4 * h
            && !other.text.chars().any(|c| c.is_numeric())
            && number_word_count(&other.text) > 0
    };
    let prev = i
        .checked_sub(1)
        .and_then(|j| lines.get(j))
        .filter(|l| near(l));
    let next = lines.get(i + 1).filter(|l| near(l));
    let joins: [(Option<&OcrLine>, Option<&OcrLine>); 4] =
        [(None, None), (prev, None), (None, next), (prev, next)];
    joins
        .into_iter()
        .filter_map(|(p, n)| {
            let parts: Vec<&OcrLine> = p.into_iter().chain([cur]).chain(n).collect();
            let text = parts
                .iter()
                .map(|l| amount_read::drop_figure_tokens(&l.text))
                .collect::<Vec<_>>()
                .join(" ");
            let v = parse_words(&text)?;
            let region = text::union(parts.iter().map(|l| l.region))?;
            Some((number_word_count(&text), v, region, text))
        })
        .max_by_key(|(count, ..)| *count)
        .map(|(_, v, region, text)| (v, region, text))
}

/// Amount in figures, amount in words, date and payee from the page text, with their boxes;
/// `words_text` gets the text the amount in words was read from.
fn pick_text_fields(
    page: &OcrPage,
    facts: &mut ChequeFacts,
    words_text: &mut Option<String>,
) -> Vec<(String, String, Region)> {
    let mut located = Vec::new();
    for (i, line) in page.lines.iter().enumerate() {
        let lower = line.text.to_lowercase();
        if facts.amount_words.is_none()
            && (lower.contains("taka")
                || lower.contains("only")
                || line.text.contains("টাকা")
                || line.text.contains("মাত্র"))
        {
            if let Some((v, region, text)) = words_amount(&page.lines, i) {
                facts.amount_words = Some(v);
                *words_text = Some(text);
                located.push(("amount_words".to_owned(), taka(v), region));
                continue;
            }
        }
        if facts.amount_figures.is_none() {
            // A word, or a word and the next (`Tk` `1,25,000.00`), in figures.
            let hit = line.words.iter().enumerate().find_map(|(i, w)| {
                let pair = line
                    .words
                    .get(i + 1)
                    .map(|n| format!("{} {}", w.text, n.text));
                let single = parse_figures(&w.text).filter(|_| {
                    w.text.contains(',') || w.text.contains('৳') || w.text.contains("/-")
                });
                single.map(|v| (v, w.region)).or_else(|| {
                    pair.filter(|p| {
                        let l = p.to_lowercase();
                        l.starts_with("tk") || l.starts_with("bdt") || p.starts_with('৳')
                    })
                    .and_then(|p| parse_figures(&p))
                    .map(|v| (v, w.region))
                })
            });
            if let Some((v, r)) = hit.filter(|h| h.0 > 0) {
                facts.amount_figures = Some(v);
                located.push(("amount_figures".to_owned(), taka(v), r));
                continue;
            }
        }
        if facts.date.is_none() {
            let hit = line
                .words
                .iter()
                .find_map(|w| parse_date(&w.text).map(|d| (d, w.region)))
                .or_else(|| {
                    let t = lower.split("date").nth(1)?;
                    parse_date(t.trim_start_matches([':', ' '])).map(|d| (d, line.region))
                });
            if let Some((d, r)) = hit {
                facts.date = Some(d);
                located.push(("date".to_owned(), d.iso(), r));
                continue;
            }
        }
        if facts.payee.is_none() {
            if let Some(rest) = lower.strip_prefix("pay") {
                let start = line.text.len() - rest.len();
                let name: String = line.text[start..]
                    .trim_start_matches([' ', ':'])
                    .trim_start_matches("to ")
                    .replace("or bearer", "")
                    .replace("or Bearer", "")
                    .replace("or order", "")
                    .trim()
                    .to_owned();
                if !name.is_empty() {
                    located.push(("payee".to_owned(), name.clone(), line.region));
                    facts.payee = Some(name);
                }
            }
        }
    }
    located
}

/// Every reading of the amount: the page read's (in `located`) first, then, unless those two
/// already agree, the matched layout's figures and words boxes read alone (the boxes come from
/// the template match).
fn read_amounts(
    img: &RgbImage,
    sec: &security::Security,
    facts: &ChequeFacts,
    words_text: Option<&str>,
    located: &[(String, String, Region)],
    cfg: &OcrConfig,
) -> amount_read::AmountReadings {
    let mut r = amount_read::AmountReadings::default();
    let page_box = |field: &str| {
        located
            .iter()
            .find(|(name, ..)| name == field)
            .map(|(_, _, region)| *region)
    };
    if let (Some(v), Some(b)) = (facts.amount_figures, page_box("amount_figures")) {
        r.add_figures(v, b);
        if let Some(v) = amount_read::without_sign_misread(&taka(v)) {
            r.add_figures(v, b);
        }
    }
    if let (Some(v), Some(b)) = (facts.amount_words, page_box("amount_words")) {
        r.add_words(v, b);
        for v in words_text
            .map(amount_read::word_candidates)
            .unwrap_or_default()
        {
            r.add_words(v, b);
        }
    }
    if r.agree() {
        return r;
    }
    let layout_box = |field: &str| {
        sec.fields
            .iter()
            .find(|(name, ..)| name == field)
            .map(|(_, _, region)| *region)
    };
    if let Some(b) = layout_box("amount_figures") {
        for v in amount_read::figures_in_box(img, b, cfg) {
            r.add_figures(v, b);
        }
    }
    if r.agree() {
        return r;
    }
    if let Some(b) = layout_box("amount_words") {
        for v in amount_read::words_in_box(img, b, cfg) {
            r.add_words(v, b);
        }
    }
    r
}

/// Run the cheque stages (OCR of the MICR band and the page, fields and checks).
pub(crate) fn analyze(
    runner: &mut Runner<'_>,
    img: &RgbImage,
    now_unix: i64,
    cfg: &ChequeConfig,
) -> ChequeOutcome {
    let mut out = ChequeOutcome::default();
    let mut facts = ChequeFacts::default();
    let mut located: Vec<(String, String, Region)> = Vec::new();

    let budget = std::time::Duration::from_secs(30);
    let read = runner.run(Stage::Ocr, budget, |deadline| {
        let reader = MicrReader::new(cfg.micr.clone())?;
        let micr = read_micr(img, &reader)?;
        let page = ocr::read_page(img, &cfg.ocr, deadline)?;
        Ok((micr, page))
    });
    let Some((micr_read, page)) = read else {
        return out;
    };
    let mut words_text: Option<String> = None;
    runner.run(Stage::Fields, budget, |_| {
        facts.micr_raw = micr_read.raw.clone();
        if !micr_read.raw.is_empty() {
            let f = fields::parse(&micr_read.raw);
            facts.routing = f
                .routing
                .as_deref()
                .map(|r| classify(r, Directory::built_in()));
            facts.micr = Some(f);
            let (x0, x1) = micr_read
                .chars
                .iter()
                .fold((f32::MAX, 0f32), |(a, b), c| (a.min(c.x0), b.max(c.x1)));
            if x1 > x0 {
                let (t, b) = micr_read.band;
                located.push((
                    "micr".to_owned(),
                    micr_read.raw.clone(),
                    Region::new(
                        x0 as u32,
                        t as u32,
                        (x1 - x0) as u32,
                        (b - t).max(1.0) as u32,
                    ),
                ));
            }
        }
        located.extend(pick_text_fields(&page, &mut facts, &mut words_text));
        Ok(())
    });
    let routing = facts.micr.as_ref().and_then(|m| m.routing.clone());
    let measured = runner.run(Stage::Structure, budget, |_| {
        let loaded;
        let templates = match &cfg.templates_dir {
            Some(dir) => {
                loaded = security::Templates::load_dir(dir)
                    .map_err(|e| crate::StageError::Failed(e.to_string()))?;
                &loaded
            }
            None => security::Templates::built_in(),
        };
        let sec = security::analyze(img, templates);
        let amounts = read_amounts(img, &sec, &facts, words_text.as_deref(), &located, &cfg.ocr);
        Ok((sec, amounts))
    });
    if let Some((_, amounts)) = &measured {
        let (fig, words) = amounts.decide();
        located.retain(|(name, ..)| name != "amount_figures" && name != "amount_words");
        facts.amount_figures = fig.map(|c| c.0);
        facts.amount_words = words.map(|c| c.0);
        for (name, c) in [("amount_figures", fig), ("amount_words", words)] {
            if let Some((v, r)) = c {
                located.push((name.to_owned(), taka(v), r));
            }
        }
    }
    let today = Date::from_unix(now_unix);
    runner.findings.extend(checks(&facts, today));
    out.fields = report_fields(&facts, cfg.show_account);
    if let Some((sec, _)) = measured {
        runner
            .findings
            .extend(security::findings(&sec, routing.as_deref(), &cfg.security));
        out.fields
            .insert("security".to_owned(), FieldValue::Map(sec.report_map()));
    }
    out.located = located
        .into_iter()
        .map(|(field, value, region)| LocatedField {
            field,
            value,
            region,
            confidence: micr_read.confidence(),
            note: None,
        })
        .collect();
    out
}

/// The report's `fields` for a cheque (`micr` as named parts; account masked unless allowed).
pub fn report_fields(facts: &ChequeFacts, show_account: bool) -> BTreeMap<String, FieldValue> {
    let mut out = BTreeMap::new();
    let mut micr = BTreeMap::new();
    micr.insert("raw".to_owned(), facts.micr_raw.clone());
    if let Some(f) = &facts.micr {
        let layout = match f.layout {
            fields::Layout::Bd => "bd",
            fields::Layout::Us => "us",
            fields::Layout::Unknown => "unknown",
        };
        micr.insert("layout".to_owned(), layout.to_owned());
        let mut put = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                micr.insert(k.to_owned(), v.clone());
            }
        };
        put("cheque_number", &f.cheque_number);
        put("routing", &f.routing);
        put("transaction_code", &f.transaction_code);
        if let Some(a) = &f.account {
            let shown = if show_account {
                a.clone()
            } else {
                fields::mask_account(a)
            };
            micr.insert("account".to_owned(), shown);
        }
        if let Some(a) = f.amount_minor {
            micr.insert("amount".to_owned(), taka(a));
        }
    }
    if let Some(r) = &facts.routing {
        micr.insert("routing_status".to_owned(), r.code().to_owned());
        match r {
            RoutingStatus::BdListed { bank, branch } => {
                micr.insert("bank".to_owned(), bank.clone());
                micr.insert("branch".to_owned(), branch.clone());
            }
            RoutingStatus::BdUnlisted { bank } => {
                micr.insert("bank".to_owned(), bank.clone());
            }
            _ => {}
        }
    }
    out.insert("micr".to_owned(), FieldValue::Map(micr));
    if let Some(v) = facts.amount_figures {
        out.insert("amount_figures".to_owned(), taka(v).into());
    }
    if let Some(v) = facts.amount_words {
        out.insert("amount_words".to_owned(), taka(v).into());
    }
    if let Some(d) = facts.date {
        out.insert("date".to_owned(), d.iso().into());
    }
    if let Some(p) = &facts.payee {
        out.insert("payee".to_owned(), p.clone().into());
    }
    out
}

/// Findings from what was read: MICR, routing, amounts, date.
pub fn checks(facts: &ChequeFacts, today: Date) -> Vec<Finding> {
    let mut out = Vec::new();
    let layout_known = facts
        .micr
        .as_ref()
        .is_some_and(|m| m.layout != fields::Layout::Unknown);
    if !layout_known {
        out.push(Finding::new(
            "micr_unreadable",
            Stage::Fields,
            Severity::Medium,
            15,
            "The MICR line at the bottom of the cheque could not be read as a Bangladeshi or US layout.",
            "চেকের নিচের MICR লাইনটি পড়া যায়নি।",
        ));
    }
    match &facts.routing {
        Some(RoutingStatus::Invalid) => out.push(Finding::new(
            "routing_invalid",
            Stage::Fields,
            Severity::High,
            35,
            "The routing number fails its check digit.",
            "রাউটিং নম্বরের চেক ডিজিট মেলেনি।",
        )),
        Some(RoutingStatus::BdUnlisted { .. }) | Some(RoutingStatus::BdUnknownBank) => {
            out.push(Finding::new(
                "routing_unlisted",
                Stage::Fields,
                Severity::Low,
                5,
                "The routing number is not in the branch directory this kiosk has.",
                "রাউটিং নম্বরটি এই কিয়স্কের শাখা তালিকায় নেই।",
            ))
        }
        _ => {}
    }
    match (facts.amount_figures, facts.amount_words) {
        (Some(f), Some(w)) if f != w => out.push(Finding::new(
            "amount_mismatch",
            Stage::Fields,
            Severity::High,
            40,
            format!(
                "The amount in figures (Tk {}) differs from the amount in words (Tk {}); the words prevail.",
                taka(f),
                taka(w)
            ),
            format!(
                "অঙ্কে লেখা টাকা ({}) কথায় লেখা টাকার ({}) সাথে মেলে না; কথায় লেখাটাই গণ্য।",
                taka(f),
                taka(w)
            ),
        )),
        (None, None) => out.push(Finding::new(
            "amount_unreadable",
            Stage::Fields,
            Severity::Medium,
            10,
            "Neither the amount in figures nor the amount in words could be read.",
            "অঙ্কে বা কথায় লেখা টাকার পরিমাণ পড়া যায়নি।",
        )),
        _ => {}
    }
    match facts.date.map(|d| date_status(d, today)) {
        Some(DateStatus::Stale) => out.push(Finding::new(
            "cheque_stale",
            Stage::Fields,
            Severity::High,
            30,
            "The cheque is dated more than six months ago and is no longer valid.",
            "চেকের তারিখ ছয় মাসের বেশি পুরনো; চেকটি আর বৈধ নয়।",
        )),
        Some(DateStatus::PostDated) => out.push(Finding::new(
            "cheque_post_dated",
            Stage::Fields,
            Severity::Medium,
            20,
            "The cheque is dated in the future (post-dated).",
            "চেকের তারিখ ভবিষ্যতের (পোস্ট-ডেটেড)।",
        )),
        None => out.push(Finding::new(
            "cheque_date_missing",
            Stage::Fields,
            Severity::Low,
            5,
            "The cheque's date could not be read.",
            "চেকের তারিখ পড়া যায়নি।",
        )),
        Some(DateStatus::Current) => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OCR lines at the given heights (40 px high, as read from a page).
    fn lines(rows: &[(&str, u32)]) -> Vec<OcrLine> {
        rows.iter()
            .map(|&(text, y)| OcrLine {
                text: text.to_owned(),
                region: Region::new(80, y, 900, 40),
                conf: 0.9,
                words: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn amounts_in_words_wrapped_onto_two_lines_are_joined() {
        // (lines with their tops, the marked line, paisa; None = nothing read)
        type Case<'a> = (&'a [(&'a str, u32)], usize, Option<u64>);
        let cases: &[Case] = &[
            (
                &[("Taka One Lakh Twenty", 300), ("Five Thousand Only", 380)],
                0,
                Some(12_500_000),
            ),
            (
                &[("এক লক্ষ পঁচিশ", 300), ("হাজার টাকা মাত্র", 380)],
                1,
                Some(12_500_000),
            ),
            (
                &[
                    ("Pay to Rahim Traders", 200),
                    ("Taka Five Thousand Only", 290),
                ],
                1,
                Some(500_000),
            ),
            (
                &[("Taka One Lakh Only", 300), ("Tk 1,00,000.00", 340)],
                0,
                Some(10_000_000),
            ),
            // Too far below to be the same amount: the first line alone (1,00,020).
            (
                &[("Taka One Lakh Twenty", 300), ("Five Thousand", 900)],
                0,
                Some(10_002_000),
            ),
            (&[("Taka Only", 300)], 0, None),
            (&[("দুই লক্ষ", 300), ("টাকা মাত্র", 370)], 1, Some(20_000_000)),
        ];
        for &(rows, i, want) in cases {
            let ls = lines(rows);
            let got = words_amount(&ls, i);
            assert_eq!(got.as_ref().map(|g| g.0), want, "{rows:?}");
            if let Some((_, region, _)) = got {
                assert!(region.overlap(&ls[i].region) > 0, "{rows:?}: {region:?}");
            }
        }
    }

    fn good() -> ChequeFacts {
        let raw = "C1234567C010010280A0123456789012C10".to_owned();
        let micr = fields::parse(&raw);
        ChequeFacts {
            routing: micr
                .routing
                .as_deref()
                .map(|r| classify(r, Directory::built_in())),
            micr_raw: raw,
            micr: Some(micr),
            amount_figures: Some(12_500_000),
            amount_words: Some(12_500_000),
            date: Date::new(2026, 11, 20),
            payee: Some("Rahim Uddin".to_owned()),
        }
    }

    fn check(change: impl FnOnce(&mut ChequeFacts), want: &[&str]) {
        let mut f = good();
        change(&mut f);
        let today = Date::new(2026, 12, 6).expect("a date");
        let got: Vec<String> = checks(&f, today).into_iter().map(|f| f.code).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_finding_per_problem() {
        check(|_| {}, &[]);
        check(
            |f| f.amount_figures = Some(12_000_000),
            &["amount_mismatch"],
        );
        check(
            |f| {
                f.amount_figures = None;
                f.amount_words = None;
            },
            &["amount_unreadable"],
        );
        check(|f| f.amount_figures = None, &[]);
        check(|f| f.date = Date::new(2026, 5, 1), &["cheque_stale"]);
        check(|f| f.date = Date::new(2027, 1, 1), &["cheque_post_dated"]);
        check(|f| f.date = None, &["cheque_date_missing"]);
        check(
            |f| {
                f.micr = Some(fields::parse(""));
                f.routing = None;
            },
            &["micr_unreadable"],
        );
        check(
            |f| f.routing = Some(RoutingStatus::Invalid),
            &["routing_invalid"],
        );
        check(
            |f| f.routing = Some(RoutingStatus::BdUnknownBank),
            &["routing_unlisted"],
        );
    }

    #[test]
    fn fields_mask_the_account() {
        let f = report_fields(&good(), false);
        let Some(FieldValue::Map(micr)) = f.get("micr") else {
            panic!("micr is a map: {f:?}");
        };
        assert_eq!(
            micr.get("account").map(String::as_str),
            Some("XXXXXXXXX9012")
        );
        assert_eq!(micr.get("routing").map(String::as_str), Some("010010280"));
        assert_eq!(
            micr.get("bank").map(String::as_str),
            Some("AGRANI BANK LIMITED")
        );
        assert_eq!(micr.get("layout").map(String::as_str), Some("bd"));
        assert_eq!(f.get("amount_words"), Some(&FieldValue::from("125000.00")));
        let full = report_fields(&good(), true);
        let Some(FieldValue::Map(micr)) = full.get("micr") else {
            panic!("micr is a map");
        };
        assert_eq!(
            micr.get("account").map(String::as_str),
            Some("0123456789012")
        );
    }
}
