//! Report fields and findings from what the text says ([`TextFacts`]): `fields.text`,
//! `fields.urls`, `fields.phones`, and the findings `lookalike_domain`, `punycode_domain` and
//! `high_risk_phrase`. The `--kind image` pipeline calls [`findings_located`] with the OCR text,
//! so each finding boxes the words it is about.

use std::collections::BTreeMap;
use std::ops::Range;

use super::domains::LookalikeKind;
use super::text::TextFacts;
use crate::report::{FieldValue, Finding, Region, Severity, Stage};

/// `text` (the OCR text as read), `urls` (links as written) and `phones` (E.164), each only when
/// there is something to say.
pub fn fields(text: &str, facts: &TextFacts) -> BTreeMap<String, FieldValue> {
    let mut out = BTreeMap::new();
    if !text.trim().is_empty() {
        out.insert("text".to_owned(), FieldValue::Text(text.trim().to_owned()));
    }
    if !facts.links.is_empty() {
        let urls = facts.links.iter().map(|l| l.link.text.clone()).collect();
        out.insert("urls".to_owned(), FieldValue::List(urls));
    }
    if !facts.phones.is_empty() {
        let phones = facts.phones.iter().map(|p| p.e164.clone()).collect();
        out.insert("phones".to_owned(), FieldValue::List(phones));
    }
    out
}

/// One finding per look-alike link, per punycode link that imitates nothing listed, and per
/// high-risk phrase, without boxes (text that was not read off an image).
pub fn findings(facts: &TextFacts) -> Vec<Finding> {
    findings_located(facts, &|_| Vec::new())
}

/// [`findings`], each boxed where `regions` says its text span lies on the image.
pub fn findings_located(
    facts: &TextFacts,
    regions: &dyn Fn(&Range<usize>) -> Vec<Region>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for l in &facts.links {
        let host = &l.link.host;
        if let Some(look) = &l.lookalike {
            let (points, how_en, how_bn) = match look.kind {
                LookalikeKind::Homoglyph => {
                    (40, "letters that only look the same", "দেখতে একই রকম অক্ষর")
                }
                LookalikeKind::TypoSquat => (35, "a misspelling", "বানান সামান্য বদলে"),
                LookalikeKind::BrandEmbedded => (
                    30,
                    "the brand's name in someone else's domain",
                    "অন্য কারও ডোমেইনে ব্র্যান্ডের নাম",
                ),
            };
            out.push(Finding::new(
                "lookalike_domain",
                Stage::Fields,
                Severity::High,
                points,
                format!(
                    "The link {host} imitates {}'s real domain {} ({how_en}). Do not open it and never enter a PIN or OTP there.",
                    look.brand, look.target
                ),
                format!(
                    "লিংক {host} আসল {} ডোমেইন {}-এর নকল ({how_bn})। এটি খুলবেন না, সেখানে কখনো পিন বা ওটিপি দেবেন না।",
                    look.brand, look.target
                ),
            ).with_regions(regions(&l.link.span)));
        } else if l.link.punycode && l.official.is_none() {
            out.push(Finding::new(
                "punycode_domain",
                Stage::Fields,
                Severity::Medium,
                10,
                format!("The link {host} uses an internationalised (punycode) domain, a common disguise."),
                format!("লিংক {host} একটি আন্তর্জাতিক (পিউনিকোড) ডোমেইন, যা প্রায়ই ছদ্মবেশে ব্যবহৃত হয়।"),
            ).with_regions(regions(&l.link.span)));
        }
    }
    for p in &facts.phrases {
        let severity = if p.weight >= 8 {
            Severity::Medium
        } else {
            Severity::Low
        };
        out.push(
            Finding::new(
                "high_risk_phrase",
                Stage::Fields,
                severity,
                u32::from(p.weight) * 2,
                format!(
                    "The text says \"{}\", wording typical of scams ({}).",
                    p.text,
                    p.category.replace('_', " ")
                ),
                format!("লেখায় আছে \"{}\", যা প্রতারণার বার্তায় সাধারণ।", p.text),
            )
            .with_regions(regions(&p.span)),
        );
    }
    out
}
