//! The `--kind image` stages after the shared ones: OCR (Bengali, English, Thai), what the text
//! says (links, phones, phrases), and the source check (near-duplicates of known scam images and
//! of images checked here); then the bilingual explanation of the weighted risk.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use image::{DynamicImage, RgbImage};

use super::ai_model::{self, AiModel};
use super::domains::DomainList;
use super::findings::{fields as text_fields, findings_located};
use super::index::phash;
use super::lexicon::Lexicon;
use super::ocr::{self, ScreenText};
use super::payment;
use super::qr::{self, QrKind};
use super::sources::{hash_hex, SourceIndex, SourceMatch, DEFAULT_RADIUS};
use super::text::analyse_with;
use crate::error::StageError;
use crate::gd::ocr::OcrConfig;
use crate::pipeline::Runner;
use crate::report::{Explanation, FieldValue, Finding, Severity, Stage};

/// Time budget of each scam stage. A stage past its budget is recorded as `timeout` with a
/// `stage_timeout` finding, and the check goes on without it.
#[derive(Debug, Clone)]
pub struct ScamBudgets {
    pub ocr: Duration,
    /// Text checks, payment confirmations and QR codes.
    pub fields: Duration,
    pub sources: Duration,
    /// The AI-image model (three crops through tract).
    pub ai_model: Duration,
}

impl Default for ScamBudgets {
    fn default() -> Self {
        ScamBudgets {
            ocr: Duration::from_millis(2500),
            fields: Duration::from_millis(600),
            sources: Duration::from_millis(200),
            ai_model: Duration::from_millis(400),
        }
    }
}

/// Everything the scam check can be told.
#[derive(Debug, Clone)]
pub struct ScamConfig {
    /// OCR settings; languages `ben+eng+tha` by default.
    pub ocr: OcrConfig,
    pub budgets: ScamBudgets,
    /// Real bank and mobile-money domains; the shipped list when `None`.
    pub domains: Option<Arc<DomainList>>,
    /// High-risk phrases; the shipped lexicon when `None`.
    pub lexicon: Option<Arc<Lexicon>>,
    /// Hamming radius of the near-duplicate lookup.
    pub radius: u32,
}

impl Default for ScamConfig {
    fn default() -> Self {
        ScamConfig {
            ocr: ocr::default_config(),
            budgets: ScamBudgets::default(),
            domains: None,
            lexicon: None,
            radius: DEFAULT_RADIUS,
        }
    }
}

impl ScamConfig {
    /// The domain list in use.
    pub fn domains(&self) -> &DomainList {
        self.domains.as_deref().unwrap_or(DomainList::shipped())
    }

    /// The lexicon in use.
    pub fn lexicon(&self) -> &Lexicon {
        self.lexicon.as_deref().unwrap_or(Lexicon::shipped())
    }

    /// The versions of the reference data in use, for the result cache key.
    pub fn reference_versions(&self) -> String {
        format!(
            "domains={};lexicon={}",
            self.domains().version,
            self.lexicon().version
        )
    }
}

/// What the scam stages add to the report.
#[derive(Debug, Default)]
pub(crate) struct ScamOutcome {
    pub fields: BTreeMap<String, FieldValue>,
}

/// Runs the OCR, fields (text, payment, QR) and source stages on `img`.
pub(crate) fn analyze(
    runner: &mut Runner<'_>,
    img: &RgbImage,
    sources: &dyn SourceIndex,
    now_unix: i64,
    cfg: &ScamConfig,
) -> ScamOutcome {
    let mut out = ScamOutcome::default();
    // Without text (OCR failed or ran out of time) the QR codes are still read.
    let screen = runner
        .run(Stage::Ocr, cfg.budgets.ocr, |deadline| {
            ocr::read_image(img, &cfg.ocr, deadline)
        })
        .unwrap_or_default();
    let (fields, findings) = runner
        .run(Stage::Fields, cfg.budgets.fields, |deadline| {
            let (mut fields, mut findings) = read_text(&screen, cfg);
            let (f, x) = read_payment(&screen, now_unix);
            fields.extend(f);
            findings.extend(x);
            deadline.check()?;
            let (f, x) = read_qr(img);
            fields.extend(f);
            findings.extend(x);
            Ok((fields, findings))
        })
        .unwrap_or_default();
    out.fields.extend(fields);
    runner.findings.extend(findings);
    let checked = runner.run(Stage::Duplicates, cfg.budgets.sources, |_| {
        let hash = phash(&DynamicImage::ImageRgb8(img.clone()));
        Ok((hash, sources.lookup(hash, cfg.radius)))
    });
    if let Some((hash, found)) = checked {
        out.fields
            .insert("image_phash".into(), hash_hex(hash).into());
        if found.seen_here > 0 {
            out.fields
                .insert("seen_count".into(), found.seen_here.to_string().into());
        }
        runner.findings.extend(source_findings(&found));
    }
    ai_model_stage(runner, img, cfg, &mut out);
    out
}

/// The AI-image model on camera pictures; screenshots and pictures under one crop are skipped
/// (see `ai_model`'s limits).
fn ai_model_stage(
    runner: &mut Runner<'_>,
    img: &RgbImage,
    cfg: &ScamConfig,
    out: &mut ScamOutcome,
) {
    let screenshot = ocr::looks_like_screenshot(img);
    let scored = runner.run(Stage::AiModel, cfg.budgets.ai_model, |_| {
        if screenshot {
            return Err(StageError::NotApplicable("not run on screenshots"));
        }
        let model = AiModel::shipped().map_err(StageError::Failed)?;
        model
            .score(img)
            .map_err(StageError::Failed)?
            .ok_or(StageError::NotApplicable("picture smaller than one crop"))
    });
    if let Some(score) = scored {
        out.fields.insert(
            "ai_model_probability".into(),
            format!("{:.3}", score.probability).into(),
        );
        runner.findings.extend(ai_model::finding(&score));
    }
}

/// Fields and findings from the text read off the image.
pub fn read_text(
    screen: &ScreenText,
    cfg: &ScamConfig,
) -> (BTreeMap<String, FieldValue>, Vec<Finding>) {
    let facts = analyse_with(&screen.text, cfg.domains(), cfg.lexicon());
    let fields = text_fields(&screen.text, &facts);
    let findings = findings_located(&facts, &|span| screen.regions(span));
    (fields, findings)
}

/// The `payment` field and the payment findings, when the text is a mobile-money confirmation.
pub fn read_payment(
    screen: &ScreenText,
    now_unix: i64,
) -> (BTreeMap<String, FieldValue>, Vec<Finding>) {
    let mut fields = BTreeMap::new();
    let boxed = |found: Vec<(Finding, Option<String>)>| -> Vec<Finding> {
        found
            .into_iter()
            .map(|(f, needle)| {
                let regions = needle
                    .and_then(|n| screen.text.find(&n).map(|i| i..i + n.len()))
                    .map(|span| screen.regions(&span))
                    .unwrap_or_default();
                f.with_regions(regions)
            })
            .collect()
    };
    let Some(conf) = payment::parse(&screen.text) else {
        // Not a confirmation, but a "customer care" number may still pose as the service.
        let found = payment::service_named(&screen.text)
            .map(|s| payment::impostor_numbers(s, None, &screen.text, false))
            .unwrap_or_default();
        return (fields, boxed(found));
    };
    let mut map = BTreeMap::new();
    map.insert("service".to_owned(), conf.service.name.to_owned());
    map.insert("direction".to_owned(), conf.direction.as_str().to_owned());
    let taka = |p: u64| format!("{}.{:02}", p / 100, p % 100);
    for (k, v) in [
        ("amount", conf.amount),
        ("fee", conf.fee),
        ("balance", conf.balance),
        ("total", conf.total),
    ] {
        if let Some(v) = v {
            map.insert(k.to_owned(), taka(v));
        }
    }
    if let Some(c) = &conf.counterpart {
        map.insert("counterpart".to_owned(), c.clone());
    }
    if let Some(t) = &conf.trx_id {
        map.insert("trx_id".to_owned(), t.clone());
    }
    if let Some(t) = &conf.time {
        map.insert("time".to_owned(), t.text.clone());
    }
    fields.insert("payment".to_owned(), FieldValue::Map(map));
    let findings = boxed(payment::findings(&conf, &screen.text, now_unix));
    (fields, findings)
}

/// QR codes on the picture: `qr_codes` (their contents), and for Thai slip and PromptPay codes
/// `thai_slip_qr` / `promptpay_request`, and `qr_checksum_invalid` when the CRC is wrong.
pub fn read_qr(img: &RgbImage) -> (BTreeMap<String, FieldValue>, Vec<Finding>) {
    let gray = image::imageops::grayscale(img);
    let mut fields = BTreeMap::new();
    let mut findings = Vec::new();
    let payloads = qr::decode(&gray);
    if payloads.is_empty() {
        return (fields, findings);
    }
    fields.insert(
        "qr_codes".to_owned(),
        FieldValue::List(
            payloads
                .iter()
                .map(|p| p.chars().take(300).collect())
                .collect(),
        ),
    );
    for p in &payloads {
        let fact = qr::classify(p);
        match &fact.kind {
            QrKind::Slip { bank, reference } => {
                fields.insert("slip_bank".to_owned(), bank.clone().into());
                fields.insert("slip_reference".to_owned(), reference.clone().into());
                findings.push(Finding::new(
                    "thai_slip_qr",
                    Stage::Fields,
                    Severity::Info,
                    0,
                    format!(
                        "The picture carries a Thai transfer slip's QR code (bank {bank}, reference {reference}).                          Only the receiving bank can confirm the transfer: check your own account."
                    ),
                    format!(
                        "ছবিতে থাই ব্যাংক স্লিপের কিউআর কোড আছে (ব্যাংক {bank}, রেফারেন্স {reference})। শুধু প্রাপকের ব্যাংকই লেনদেন নিশ্চিত করতে পারে।"
                    ),
                ));
            }
            QrKind::PromptPay { account, amount } => {
                let amount_en = amount
                    .as_deref()
                    .map(|a| format!(" for {a} baht"))
                    .unwrap_or_default();
                findings.push(Finding::new(
                    "promptpay_request",
                    Stage::Fields,
                    Severity::Low,
                    10,
                    format!(
                        "This QR code is a PromptPay payment request to {account}{amount_en}, not a receipt:                          scanning it sends money, it never receives any."
                    ),
                    format!(
                        "এই কিউআর কোডটি {account}-কে PromptPay-তে টাকা পাঠানোর অনুরোধ, রসিদ নয়: স্ক্যান করলে টাকা চলে যায়।"
                    ),
                ));
            }
            QrKind::Other => {}
        }
        if fact.crc_ok == Some(false) {
            findings.push(Finding::new(
                "qr_checksum_invalid",
                Stage::Fields,
                Severity::High,
                40,
                "The QR code's checksum does not match its content: it was typed up or edited, no bank app made it.",
                "কিউআর কোডের চেকসাম এর তথ্যের সঙ্গে মেলে না: এটি বানানো বা বদলানো, কোনো ব্যাংকের অ্যাপ এটি তৈরি করেনি।",
            ));
        }
    }
    (fields, findings)
}

/// `known_scam_image` for each known scam image near this one; `seen_before` when images
/// checked here before are near it ("seen N times" is evidence that a picture circulates).
pub fn source_findings(found: &SourceMatch) -> Vec<Finding> {
    let mut out = Vec::new();
    for k in found.known.iter().take(3) {
        out.push(Finding::new(
            "known_scam_image",
            Stage::Duplicates,
            Severity::High,
            50,
            format!(
                "This picture matches a known scam image (\"{}\", reported by {}; {} of 64 bits differ).",
                k.label, k.source, k.distance
            ),
            format!(
                "ছবিটি একটি পরিচিত প্রতারণার ছবির সঙ্গে মিলে যায় (\"{}\", জানিয়েছে {}; ৬৪টির মধ্যে {}টি বিট আলাদা)।",
                k.label, k.source, k.distance
            ),
        ));
    }
    let n = found.seen_here;
    if n > 0 {
        let (severity, points) = match n {
            1 => (Severity::Info, 5),
            2..=4 => (Severity::Low, 10),
            _ => (Severity::Medium, 20),
        };
        out.push(Finding::new(
            "seen_before",
            Stage::Duplicates,
            severity,
            points,
            format!(
                "This kiosk has checked this picture (or a near copy) {n} time{} before: it is circulating. \
                 Scam messages are sent to many people at once.",
                if n == 1 { "" } else { "s" }
            ),
            format!(
                "এই কিয়স্কে ছবিটি (বা প্রায় একই ছবি) আগে {n} বার যাচাই করা হয়েছে: ছবিটি ছড়াচ্ছে। \
                 প্রতারণার বার্তা একসঙ্গে অনেককে পাঠানো হয়।"
            ),
        ));
    }
    out
}

/// The sentence every scam-check explanation ends with.
pub const NO_PROOF_EN: &str =
    "A screenshot never proves a payment: only the receiver's own app or bank statement does.";
/// The same in Bengali.
pub const NO_PROOF_BN: &str =
    "স্ক্রিনশট কখনো টাকা পাঠানোর প্রমাণ নয়: শুধু প্রাপকের নিজের অ্যাপ বা ব্যাংক স্টেটমেন্টই তা দেখায়।";

/// The explanation of an image check: the risk, the strongest evidence (up to three findings,
/// by points), and [`NO_PROOF_EN`].
pub fn explain(risk: u32, findings: &[Finding]) -> Explanation {
    let mut top: Vec<&Finding> = findings.iter().filter(|f| f.points > 0).collect();
    top.sort_by_key(|f| std::cmp::Reverse(f.points));
    top.truncate(3);
    let (level_en, level_bn) = match risk {
        70.. => ("High risk", "উচ্চ ঝুঁকি"),
        30..=69 => ("Some risk", "কিছু ঝুঁকি"),
        _ => ("Low risk", "কম ঝুঁকি"),
    };
    let mut en = format!("{level_en} ({risk}/100).");
    let mut bn = format!("{level_bn} ({risk}/১০০)।");
    if top.is_empty() {
        en.push_str(" No scam signs were found, which does not make the picture genuine.");
        bn.push_str(" প্রতারণার কোনো চিহ্ন পাওয়া যায়নি, তবে এতে ছবিটি আসল প্রমাণ হয় না।");
    } else {
        en.push_str(" Evidence:");
        bn.push_str(" প্রমাণ:");
        for f in top {
            en.push_str(&format!(" {} (+{})", f.en, f.points));
            bn.push_str(&format!(" {} (+{})", f.bn, f.points));
        }
    }
    en.push(' ');
    en.push_str(NO_PROOF_EN);
    bn.push(' ');
    bn.push_str(NO_PROOF_BN);
    Explanation { en, bn }
}
