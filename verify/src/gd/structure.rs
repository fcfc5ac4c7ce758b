//! Structure checks of a GD copy: heading, thana ↔ district ([`super::geo`]), round seal and
//! duty officer signature ([`super::seal`]), from the OCR text and the rectified page.
//!
//! Each missing or inconsistent part is one finding (English + Bengali) with the regions it
//! concerns; weights are in [`StructureConfig`].

use image::RgbImage;

use super::geo::{self, DistrictMatch, ThanaMatch};
use super::seal::{self, SealCandidate, SealConfig, SignatureCandidate};
use super::text::{OcrLine, OcrPage};
use crate::deadline::Deadline;
use crate::error::StageError;
use crate::report::{Finding, Region, Severity, Stage};

/// Weights and tuning of the structure checks.
#[derive(Debug, Clone, PartialEq)]
pub struct StructureConfig {
    /// Share of the page height (from the top) searched for the heading.
    pub header_zone: f32,
    /// Share of the page height (from the bottom) where a signature may stand without a label.
    pub signature_zone: f32,
    /// Least similarity (0–1) of a heading phrase or label to the OCR text.
    pub min_phrase_similarity: f32,
    /// OCR words at least this confident are print (not a signature)...
    pub min_text_conf: f32,
    /// ... when no taller than this many times the median height of surely read words ...
    pub max_text_height_ratio: f32,
    /// ... or at least this confident, whatever their height.
    pub sure_text_conf: f32,
    /// A thana matched at least this well places the document on its own: an unreadable
    /// district beside it is not reported.
    pub sure_thana_score: f32,
    pub header_missing_points: u32,
    pub thana_missing_points: u32,
    pub thana_unknown_points: u32,
    pub district_unknown_points: u32,
    pub thana_district_mismatch_points: u32,
    pub seal_missing_points: u32,
    pub signature_missing_points: u32,
    pub seal: SealConfig,
}

impl Default for StructureConfig {
    fn default() -> Self {
        StructureConfig {
            header_zone: 0.3,
            signature_zone: 0.45,
            min_phrase_similarity: 0.75,
            min_text_conf: 0.5,
            max_text_height_ratio: 1.35,
            sure_text_conf: 0.85,
            sure_thana_score: 0.9,
            header_missing_points: 20,
            thana_missing_points: 15,
            thana_unknown_points: 20,
            district_unknown_points: 10,
            thana_district_mismatch_points: 30,
            seal_missing_points: 20,
            signature_missing_points: 15,
            seal: SealConfig::default(),
        }
    }
}

/// A place name as read and what it matched.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceRead<M> {
    /// The text the name was taken from.
    pub raw: String,
    /// Where it was read (none when the caller passed the name and it was not found again).
    pub region: Option<Region>,
    /// Matches, best first (a thana name may exist in several districts).
    pub matches: Vec<M>,
}

/// What the structure check found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StructureReport {
    /// Heading lines found (Bangladesh Police / General Diary / GD).
    pub header: Vec<Region>,
    pub thana: Option<PlaceRead<ThanaMatch>>,
    pub district: Option<PlaceRead<DistrictMatch>>,
    /// Whether the thana belongs to the district (`None` when either is unknown).
    pub thana_in_district: Option<bool>,
    /// Round seals, best first.
    pub seals: Vec<SealCandidate>,
    /// The signature block chosen, if any.
    pub signature: Option<SignatureCandidate>,
    pub findings: Vec<Finding>,
}

/// Heading phrases (any one is enough).
const HEADER_PHRASES: &[&str] = &[
    "বাংলাদেশ পুলিশ",
    "bangladesh police",
    "সাধারণ ডায়েরি",
    "সাধারণ ডায়েরী",
    "general diary",
    "জিডি",
    "gd",
];

/// Labels of the signature block.
const SIGNATURE_LABELS: &[&str] = &[
    "স্বাক্ষর",
    "signature",
    "ডিউটি অফিসার",
    "duty officer",
    "অফিসার ইনচার্জ",
    "officer in charge",
    "ভারপ্রাপ্ত কর্মকর্তা",
];

/// Labels in front of a thana name.
const THANA_LABELS: &[&str] = &["থানা", "থানার নাম", "thana", "police station", "ps"];

/// Labels in front of a district name.
const DISTRICT_LABELS: &[&str] = &["জেলা", "district", "zila"];

/// Run the structure checks. `thana_raw` / `district_raw` are the names field parsing read
/// (searched for in the text when `None`).
pub fn check(
    page_img: &RgbImage,
    ocr: &OcrPage,
    thana_raw: Option<&str>,
    district_raw: Option<&str>,
    cfg: &StructureConfig,
    deadline: &Deadline,
) -> Result<StructureReport, StageError> {
    let mut rep = StructureReport::default();
    let page_h = if ocr.height > 0 {
        ocr.height
    } else {
        page_img.height()
    };

    // Heading.
    let top = (page_h as f32 * cfg.header_zone) as u32;
    rep.header = ocr
        .lines
        .iter()
        .filter(|l| l.region.y <= top)
        .filter(|l| {
            // The bare abbreviation (জিডি / GD) is a heading only on a short line of its own,
            // not in "জিডি নং ১২৩৪ তারিখ …".
            let short = plain_words(&l.text).len() <= 3;
            HEADER_PHRASES.iter().any(|p| {
                (short || p.chars().count() > 4)
                    && contains_phrase(&l.text, p, cfg.min_phrase_similarity)
            })
        })
        .map(|l| l.region)
        .collect();
    if rep.header.is_empty() {
        rep.findings.push(Finding::new(
            "header_missing",
            Stage::Structure,
            Severity::Medium,
            cfg.header_missing_points,
            "No 'Bangladesh Police' / 'General Diary' heading at the top of the page.",
            "পৃষ্ঠার উপরে 'বাংলাদেশ পুলিশ' / 'সাধারণ ডায়েরি' শিরোনাম পাওয়া যায়নি।",
        ));
    }
    deadline.check()?;

    // Thana and district.
    rep.thana = read_thana(ocr, thana_raw, cfg);
    let homes: Vec<String> = rep
        .thana
        .iter()
        .flat_map(|t| &t.matches)
        .map(|m| m.district_en.clone())
        .collect();
    rep.district = read_district(ocr, district_raw, &homes, cfg);
    match &rep.thana {
        None => rep.findings.push(Finding::new(
            "thana_missing",
            Stage::Structure,
            Severity::Medium,
            cfg.thana_missing_points,
            "No police station (thana) name could be read.",
            "থানার নাম পড়া যায়নি।",
        )),
        Some(t) if t.matches.is_empty() => rep.findings.push(
            Finding::new(
                "thana_unknown",
                Stage::Structure,
                Severity::Medium,
                cfg.thana_unknown_points,
                format!("'{}' is not a known police station (thana).", t.raw),
                format!("'{}' কোনো পরিচিত থানার নাম নয়।", t.raw),
            )
            .with_regions(t.region.into_iter().collect()),
        ),
        Some(_) => {}
    }
    // A district name that matches nothing does not outweigh a thana that was read well: the
    // thana alone places the document.
    let thana_sure = rep
        .thana
        .as_ref()
        .and_then(|t| t.matches.first())
        .is_some_and(|m| m.score >= cfg.sure_thana_score);
    if let Some(d) = &rep.district {
        if d.matches.is_empty() && !thana_sure {
            rep.findings.push(
                Finding::new(
                    "district_unknown",
                    Stage::Structure,
                    Severity::Low,
                    cfg.district_unknown_points,
                    format!("'{}' is not a known district.", d.raw),
                    format!("'{}' কোনো পরিচিত জেলার নাম নয়।", d.raw),
                )
                .with_regions(d.region.into_iter().collect()),
            );
        }
    }
    if let (Some(t), Some(d)) = (&rep.thana, &rep.district) {
        if let (Some(top), Some(dm)) = (t.matches.first(), d.matches.first()) {
            let inside = t
                .matches
                .iter()
                .filter(|m| m.score >= top.score - 0.05)
                .any(|m| m.district_en == dm.name_en);
            rep.thana_in_district = Some(inside);
            if !inside {
                let homes: Vec<&str> = t
                    .matches
                    .iter()
                    .filter(|m| m.score >= top.score - 0.05)
                    .map(|m| m.district_en.as_str())
                    .collect();
                rep.findings.push(
                    Finding::new(
                        "thana_district_mismatch",
                        Stage::Structure,
                        Severity::High,
                        cfg.thana_district_mismatch_points,
                        format!(
                            "Police station {} is in {}, not in {} as written.",
                            top.name_en,
                            homes.join(" / "),
                            dm.name_en
                        ),
                        format!(
                            "{} থানা {} জেলায় নয় ({} জেলার থানা)।",
                            top.name_bn, dm.name_bn, top.district_bn
                        ),
                    )
                    .with_regions(t.region.into_iter().chain(d.region).collect()),
                );
            }
        }
    }
    deadline.check()?;

    // Seal and signature.
    let masks = seal::ink_masks(page_img, &cfg.seal);
    rep.seals = seal::find_seals_in(&masks, &cfg.seal, deadline)?;
    if rep.seals.is_empty() {
        rep.findings.push(Finding::new(
            "seal_missing",
            Stage::Structure,
            Severity::Medium,
            cfg.seal_missing_points,
            "No round police station seal found.",
            "থানার গোল সিল পাওয়া যায়নি।",
        ));
    }
    // Print: words read confidently. Tesseract also reads a scribble as a short "word" with
    // middling confidence; such a box stands taller than the page's print, so a middling word
    // counts as print only at about the height of the rest.
    let mut heights: Vec<u32> = ocr
        .lines
        .iter()
        .flat_map(|l| &l.words)
        .filter(|w| w.conf >= cfg.sure_text_conf)
        .map(|w| w.region.h)
        .collect();
    heights.sort_unstable();
    let typical = heights.get(heights.len() / 2).copied().unwrap_or(0) as f32;
    let text: Vec<Region> = ocr
        .lines
        .iter()
        .flat_map(|l| &l.words)
        .filter(|w| {
            // A scribble read as a few letters is also far wider per letter than print. Letters
            // are counted without their combining marks: a Bengali vowel sign or virama adds no
            // width (`স্পা)` read off a signature is three letters, not five).
            let chars = w
                .text
                .chars()
                .filter(|&c| !unicode_normalization::char::is_combining_mark(c))
                .count()
                .max(1) as f32;
            w.conf >= cfg.sure_text_conf
                || (w.conf >= cfg.min_text_conf
                    && (typical == 0.0
                        || (w.region.h as f32 <= cfg.max_text_height_ratio * typical
                            && w.region.w as f32 / chars <= MAX_PRINT_WIDTH_PER_CHAR * typical)))
        })
        .map(|w| w.region)
        .collect();
    let sigs = seal::find_signatures_in(&masks, &text, &rep.seals, &cfg.seal, deadline)?;
    // The top third of a GD copy is its heading and the addressee ("বরাবর, অফিসার ইনচার্জ …",
    // "To, The Officer-in-Charge"): the same words as a signature label, but no one signs there.
    let top = page_h / 3;
    let labels: Vec<Region> = ocr
        .lines
        .iter()
        .filter(|l| l.region.y + l.region.h / 2 >= top)
        .filter(|l| {
            SIGNATURE_LABELS
                .iter()
                .any(|p| contains_phrase(&l.text, p, cfg.min_phrase_similarity))
        })
        .map(|l| l.region)
        .collect();
    let low = (page_h as f32 * (1.0 - cfg.signature_zone)) as u32;
    rep.signature = sigs
        .into_iter()
        .filter(|s| s.region.y + s.region.h / 2 >= low || labels.iter().any(|l| near(&s.region, l)))
        .max_by(|a, b| a.score.total_cmp(&b.score));
    if rep.signature.is_none() {
        rep.findings.push(
            Finding::new(
                "signature_missing",
                Stage::Structure,
                Severity::Medium,
                cfg.signature_missing_points,
                "No duty officer signature found.",
                "ডিউটি অফিসারের স্বাক্ষর পাওয়া যায়নি।",
            )
            .with_regions(labels),
        );
    }
    Ok(rep)
}

/// Widest a middling-confidence word may be per letter (combining marks not counted), in text
/// heights, to count as print: print runs about half a height per letter, a wide capital under
/// one; OCR words read off signatures on tuning photos ran 1.2 (`ANV`) to 1.8 (`wy`).
const MAX_PRINT_WIDTH_PER_CHAR: f32 = 1.0;

/// Whether `a` is within a few of `label`'s heights of it (above, below or beside).
fn near(a: &Region, label: &Region) -> bool {
    let m = i64::from(label.h.max(8)) * 4;
    let (ax0, ay0) = (i64::from(a.x), i64::from(a.y));
    let (ax1, ay1) = (ax0 + i64::from(a.w), ay0 + i64::from(a.h));
    let (lx0, ly0) = (i64::from(label.x) - m, i64::from(label.y) - m);
    let (lx1, ly1) = (
        i64::from(label.x + label.w) + m,
        i64::from(label.y + label.h) + m,
    );
    ax0 < lx1 && lx0 < ax1 && ay0 < ly1 && ly0 < ay1
}

/// Whether `text` holds `phrase` up to OCR noise: a run of as many words as the phrase whose
/// letters (spaces and punctuation dropped) are `min_sim` similar. Short phrases (GD, জিডি)
/// must match a whole word exactly.
fn contains_phrase(text: &str, phrase: &str, min_sim: f32) -> bool {
    let words = plain_words(text);
    let target: Vec<char> = plain_words(phrase).concat().chars().collect();
    let n = plain_words(phrase).len().max(1);
    if target.is_empty() {
        return false;
    }
    (0..words.len()).any(|i| {
        (n.saturating_sub(1).max(1)..=n + 1).any(|len| {
            let Some(run) = words.get(i..(i + len).min(words.len())) else {
                return false;
            };
            let q: Vec<char> = run.concat().chars().collect();
            if target.len() <= 4 {
                return q == target;
            }
            let d = strsim::generic_levenshtein(&q, &target);
            1.0 - d as f32 / q.len().max(target.len()) as f32 >= min_sim
        })
    })
}

/// Lower-case NFC words with punctuation (and the visarga used as a colon) removed.
fn plain_words(text: &str) -> Vec<String> {
    use unicode_normalization::UnicodeNormalization;
    let s: String = text
        .nfc()
        .flat_map(char::to_lowercase)
        .map(|c| {
            if c == 'ঃ' || !(c.is_alphanumeric() || ('\u{0980}'..='\u{09ff}').contains(&c)) {
                ' '
            } else {
                c
            }
        })
        .collect();
    s.split_whitespace().map(str::to_owned).collect()
}

/// The words after a label in `line` (label matched fuzzily), up to the next label or comma.
fn after_label(line: &OcrLine, labels: &[&str], min_sim: f32) -> Option<(String, Region)> {
    let words = &line.words;
    for i in 0..words.len() {
        // A label may carry its colon/visarga and the value in the same word: "থানাঃধানমন্ডি".
        for label in labels {
            let n = plain_words(label).len();
            let Some(run) = words.get(i..i + n) else {
                continue;
            };
            let run_text: Vec<&str> = run.iter().map(|w| w.text.as_str()).collect();
            let joined = run_text.join(" ");
            let plain = plain_words(&joined);
            let first = plain.first().map(String::as_str).unwrap_or_default();
            let lab = plain_words(label);
            let exact_first = lab.first().is_some_and(|l| l == first);
            if !(exact_first || contains_phrase(&joined, label, min_sim)) || plain.len() > n {
                continue;
            }
            let rest: Vec<&super::text::OcrWord> = words
                .iter()
                .skip(i + n)
                .take_while(|w| !w.text.starts_with(','))
                .take(4)
                .collect();
            if rest.is_empty() {
                continue;
            }
            let mut text = String::new();
            let mut taken = Vec::new();
            for w in rest {
                let stop = w.text.ends_with(',') || w.text.ends_with(';');
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(w.text.trim_end_matches([',', ';']));
                taken.push(w.region);
                if stop {
                    break;
                }
            }
            let region = super::text::union(taken)?;
            return Some((text, region));
        }
    }
    None
}

/// The thana: the caller's name, a labelled value, or a thana name anywhere in the text.
fn read_thana(
    ocr: &OcrPage,
    raw: Option<&str>,
    cfg: &StructureConfig,
) -> Option<PlaceRead<ThanaMatch>> {
    // The thana is named several times on a GD copy (heading, addressee, the duty officer's
    // block): when the reading field parsing took names no thana (a garbled word), a name
    // written before its label elsewhere wins; with none, that reading is reported.
    let given = raw.filter(|r| !r.trim().is_empty()).map(|raw| PlaceRead {
        raw: raw.to_owned(),
        region: locate(ocr, raw),
        matches: geo::find_thana(raw),
    });
    if let Some(given) = given {
        if given.matches.is_empty() {
            return Some(name_before_label(ocr).unwrap_or(given));
        }
        return Some(given);
    }
    for line in &ocr.lines {
        if let Some((text, region)) = after_label(line, THANA_LABELS, cfg.min_phrase_similarity) {
            // The value may be followed by the district on the same line: keep the longest
            // prefix that names a thana.
            let words: Vec<&str> = text.split_whitespace().collect();
            let matches = (1..=words.len())
                .rev()
                .map(|n| geo::find_thana(&words.get(..n).unwrap_or_default().join(" ")))
                .find(|m| !m.is_empty())
                .unwrap_or_default();
            return Some(PlaceRead {
                raw: text,
                region: Some(region),
                matches,
            });
        }
    }
    name_before_label(ocr)
}

/// A thana named before its label anywhere on the page (`ধানমন্ডি মডেল থানা`, `Mirpur Police
/// Station`). Only a name before the label: in `নকলা থানা, শেরপুর` the district after it is
/// also the name of a thana elsewhere.
fn name_before_label(ocr: &OcrPage) -> Option<PlaceRead<ThanaMatch>> {
    let is_label = |w: &str| {
        plain_words(w)
            .first()
            .is_some_and(|p| ["থানা", "thana", "police", "station"].contains(&p.as_str()))
    };
    for line in &ocr.lines {
        let words: Vec<&str> = line.words.iter().map(|w| w.text.as_str()).collect();
        let Some(label) = words.iter().position(|w| is_label(w)) else {
            continue;
        };
        // The mention may take the label in (`পূর্বধলা থানা`) but must start before it.
        if let Some(m) = geo::search_words(&words)
            .into_iter()
            .find(|m| !m.thanas.is_empty() && m.start < label)
        {
            let region = super::text::union(
                line.words
                    .get(m.start..m.end)
                    .unwrap_or_default()
                    .iter()
                    .map(|w| w.region),
            );
            return Some(PlaceRead {
                raw: words.get(m.start..m.end).unwrap_or_default().join(" "),
                region,
                matches: m.thanas,
            });
        }
    }
    None
}

/// The district: the caller's name, a labelled value, or a district named on a thana line.
fn read_district(
    ocr: &OcrPage,
    raw: Option<&str>,
    homes: &[String],
    cfg: &StructureConfig,
) -> Option<PlaceRead<DistrictMatch>> {
    let given = raw.filter(|r| !r.trim().is_empty()).map(|raw| PlaceRead {
        raw: raw.to_owned(),
        region: locate(ocr, raw),
        matches: geo::find_district(raw).into_iter().collect(),
    });
    match given {
        Some(g) if !g.matches.is_empty() => Some(g),
        // What was handed over names no district (field parsing may pass the thana or a piece
        // of the address): read the district from the page itself, else report the raw text.
        Some(g) => district_in_text(ocr, homes, cfg).or(Some(g)),
        None => district_in_text(ocr, homes, cfg),
    }
}

/// The district as the page writes it: a labelled value (জেলা / District) that names one, else
/// the district the page mentions most often (address lines, the thana line, the seal's text).
/// Unlabelled mentions are weak evidence (an applicant may live elsewhere), so one naming a
/// district of the thana (`homes`) is preferred to more frequent others.
fn district_in_text(
    ocr: &OcrPage,
    homes: &[String],
    cfg: &StructureConfig,
) -> Option<PlaceRead<DistrictMatch>> {
    let mut unmatched = None;
    for line in &ocr.lines {
        if let Some((text, region)) = after_label(line, DISTRICT_LABELS, cfg.min_phrase_similarity)
        {
            let words: Vec<&str> = text.split_whitespace().collect();
            let matches: Vec<DistrictMatch> = (1..=words.len())
                .rev()
                .find_map(|n| geo::find_district(&words.get(..n).unwrap_or_default().join(" ")))
                .into_iter()
                .collect();
            let read = PlaceRead {
                raw: text,
                region: Some(region),
                matches,
            };
            if !read.matches.is_empty() {
                return Some(read);
            }
            unmatched.get_or_insert(read);
        }
    }
    // Mentions: (district, count, first place seen).
    let mut seen: Vec<(DistrictMatch, usize, Option<Region>, String)> = Vec::new();
    for line in &ocr.lines {
        let words: Vec<&str> = line.words.iter().map(|w| w.text.as_str()).collect();
        for m in geo::search_words(&words) {
            let Some(d) = m.district else {
                continue;
            };
            if let Some(e) = seen.iter_mut().find(|e| e.0.name_en == d.name_en) {
                e.1 += 1;
                continue;
            }
            let region = super::text::union(
                line.words
                    .get(m.start..m.end)
                    .unwrap_or_default()
                    .iter()
                    .map(|w| w.region),
            );
            let raw = words.get(m.start..m.end).unwrap_or_default().join(" ");
            seen.push((d, 1, region, raw));
        }
    }
    // Most mentioned; the first seen wins a tie.
    let best = seen
        .into_iter()
        .enumerate()
        .max_by(|(ia, a), (ib, b)| {
            let home = |d: &DistrictMatch| homes.contains(&d.name_en);
            home(&a.0)
                .cmp(&home(&b.0))
                .then(a.1.cmp(&b.1))
                .then(ib.cmp(ia))
        })
        .map(|(_, e)| e);
    match best {
        Some((d, _, region, raw)) => Some(PlaceRead {
            raw,
            region,
            matches: vec![d],
        }),
        None => unmatched,
    }
}

/// Where `raw` was read: the line whose words best contain it.
fn locate(ocr: &OcrPage, raw: &str) -> Option<Region> {
    let want = plain_words(raw).concat();
    if want.is_empty() {
        return None;
    }
    ocr.lines.iter().find_map(|l| {
        let n = plain_words(raw).len().max(1);
        (0..l.words.len()).find_map(|i| {
            let run = l.words.get(i..(i + n).min(l.words.len()))?;
            let text: Vec<&str> = run.iter().map(|w| w.text.as_str()).collect();
            (plain_words(&text.join(" ")).concat() == want)
                .then(|| super::text::union(run.iter().map(|w| w.region)))
                .flatten()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_match_through_ocr_noise() {
        let cases: &[(&str, &str, bool)] = &[
            ("বাংলাদেশ পুলিশ", "বাংলাদেশ পুলিশ", true),
            ("বাংলাদেস পুলিশ", "বাংলাদেশ পুলিশ", true),
            ("BANGLADESH P0LICE", "bangladesh police", true),
            ("General Diary (GD)", "gd", true),
            ("Gadget shop", "gd", false),
            ("Mobile phone lost", "general diary", false),
        ];
        for (text, phrase, want) in cases {
            assert_eq!(
                contains_phrase(text, phrase, 0.75),
                *want,
                "{text} / {phrase}"
            );
        }
    }
}
