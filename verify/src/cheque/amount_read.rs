//! The amount on a cheque from several readings of each side. OCR of handwriting is noisy, and
//! one reading of the figures and one of the words disagree on many honest cheques; so each side
//! is read more than once (the page read, then its box alone: the figures with an amount
//! character set, the words with each language model on its own), every reading that parses is
//! a candidate, and the two sides agree when any candidate of one equals any of the other. Only
//! when no pair agrees is the first candidate of each side reported, and `amount_mismatch`
//! follows from that.

use image::RgbImage;

use super::amount::{number_word_count, parse_figures, parse_words};
use crate::gd::ocr::{self, OcrConfig};
use crate::report::Region;

/// The least confidence (0–1) a re-read of a box needs to give a candidate.
pub const REREAD_MIN_CONFIDENCE: f32 = 0.4;

/// One candidate: paisa, and the box it was read in.
pub type Candidate = (u64, Region);

/// What was read of the amount: candidates for each side (paisa, and the box read) in order of
/// preference.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AmountReadings {
    pub figures: Vec<Candidate>,
    pub words: Vec<Candidate>,
}

/// Add an amount once.
fn push_value(list: &mut Vec<u64>, v: u64) {
    if !list.contains(&v) {
        list.push(v);
    }
}

/// Add a candidate once.
fn push<T>(list: &mut Vec<(u64, T)>, v: u64, at: T) {
    if !list.iter().any(|(x, _)| *x == v) {
        list.push((v, at));
    }
}

impl AmountReadings {
    pub fn add_figures(&mut self, v: u64, region: Region) {
        push(&mut self.figures, v, region);
    }

    pub fn add_words(&mut self, v: u64, region: Region) {
        push(&mut self.words, v, region);
    }

    /// Whether some candidate in figures equals some candidate in words.
    pub fn agree(&self) -> bool {
        self.figures
            .iter()
            .any(|f| self.words.iter().any(|w| w.0 == f.0))
    }

    /// The amount in figures and in words to report: an agreeing pair when one exists (the
    /// figures' most preferred candidate that some words candidate equals), else each side's
    /// first candidate.
    pub fn decide(&self) -> (Option<Candidate>, Option<Candidate>) {
        for f in &self.figures {
            if let Some(w) = self.words.iter().find(|w| w.0 == f.0) {
                return (Some(*f), Some(*w));
            }
        }
        (self.figures.first().copied(), self.words.first().copied())
    }
}

/// A figures reading shows the structure of an amount (a grouping or decimal mark) and parses:
/// a read that lost its separators is never taken a hundred times too large.
fn structured(t: &str) -> bool {
    (t.contains(',') || t.contains('.')) && parse_figures(t).is_some()
}

/// Amounts in figures read from `region` alone (digits, separators and currency marks only):
/// every confident structured reading, most confident first; and each such reading without its
/// first character when that is a digit and the rest is structured too, after all of them (the
/// taka sign `৳` is read as `6` or `8` by a model that has no such letter).
pub fn figures_in_box(img: &RgbImage, region: Region, cfg: &OcrConfig) -> Vec<u64> {
    // Every pass (no early stop): a structured reading of low confidence must not end the
    // search before a confident one.
    let readings = ocr::read_field_readings(img, region, cfg, ocr::Charset::Amount, &|_| false);
    let confident: Vec<&str> = readings
        .iter()
        .filter(|(t, conf)| *conf >= REREAD_MIN_CONFIDENCE && structured(t))
        .map(|(t, _)| t.as_str())
        .collect();
    let mut out: Vec<u64> = Vec::new();
    for t in &confident {
        if let Some(v) = parse_figures(t).filter(|&v| v > 0) {
            push_value(&mut out, v);
        }
    }
    for t in &confident {
        if let Some(v) = without_sign_misread(t).filter(|&v| v > 0) {
            push_value(&mut out, v);
        }
    }
    out
}

/// `t` without its first character, when that is a digit directly before more digits and the
/// rest is a structured amount (`672,000.00` → 72 000 taka); never zero.
pub fn without_sign_misread(t: &str) -> Option<u64> {
    let t = t.trim();
    let mut chars = t.chars();
    let first = chars.next()?;
    let rest = chars.as_str();
    (first.is_numeric() && rest.starts_with(|c: char| c.is_numeric()) && structured(rest))
        .then(|| parse_figures(rest))
        .flatten()
        .filter(|&v| v > 0)
}

/// The words of a reading that are not figures (`৳97,000.00`, `1,25,000/-`, `0700.`): the amount
/// in figures often sits on the same text line as the words, and its digits would be read as
/// numbers.
pub fn drop_figure_tokens(text: &str) -> String {
    let figure = |t: &str| t.chars().any(|c| c.is_numeric()) && t.contains([',', '.', '/', '৳']);
    text.split_whitespace()
        .filter(|t| !figure(t))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The amounts a reading of an amount in words may hold, most likely first: the reading as it
/// is (without figure tokens), then without tokens of digits alone (`Only` read as `0700`), then
/// without each single word in turn (one stray or misread word). Zero is never an amount.
pub fn word_candidates(text: &str) -> Vec<u64> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let plain: Vec<&str> = tokens
        .iter()
        .copied()
        .filter(|t| {
            !t.chars()
                .all(|c| c.is_numeric() || c.is_ascii_punctuation())
        })
        .collect();
    let mut texts = vec![drop_figure_tokens(text), plain.join(" ")];
    // Misread words after the last number word (`টাকা মাত্র` read as junk): the longest
    // beginning that leaves no number word behind.
    if let Some(end) = (1..=plain.len())
        .rev()
        .find(|&end| number_word_count(&plain[end - 1..].join(" ")) > 0)
    {
        texts.push(plain[..end].join(" "));
    }
    for skip in 0..plain.len() {
        let rest: Vec<&str> = plain
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != skip)
            .map(|(_, t)| *t)
            .collect();
        texts.push(rest.join(" "));
    }
    let mut out: Vec<u64> = Vec::new();
    for t in texts {
        if let Some(v) = parse_words(&drop_figure_tokens(&t)).filter(|&v| v > 0) {
            push_value(&mut out, v);
        }
    }
    out
}

/// Amounts in words read from `region` and as far again below it (where long words wrap onto
/// a second line) with each language model (see [`ocr::read_text_readings`]), most confident
/// reading first.
pub fn words_in_box(img: &RgbImage, region: Region, cfg: &OcrConfig) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    let area = Region::new(region.x, region.y, region.w, region.h.saturating_mul(2));
    for (t, conf) in ocr::read_text_readings(img, area, cfg) {
        if conf < REREAD_MIN_CONFIDENCE {
            continue;
        }
        for v in word_candidates(&t) {
            push_value(&mut out, v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_candidates_survive_one_stray_word() {
        // (reading, the amount that must be among the candidates (taka), the first candidate)
        let cases: &[(&str, u64, u64)] = &[
            ("Taka Seventeen Thousand Only", 17_000, 17_000),
            ("Taka Seventeen Thousand 0700. Only", 17_000, 17_000),
            ("Taka Seventeen Thousand 17 Only", 17_000, 17_017),
            ("Taka Sixty Thousand Only 12", 60_000, 60_012),
            (
                "Taka Six Lakh Fourteen Thousand Thirty Only",
                614_000,
                614_030,
            ),
            ("পঞ্চাশ হাজার টাকা মাত্র", 50_000, 50_000),
            ("চার হাজার ঢোব্গা মাত", 4_000, 4_000),
            ("এক লক্ষ পঁচিশ হাজার ৭ টাকা মাত্র", 125_000, 125_007),
        ];
        for &(t, want, first) in cases {
            let c = word_candidates(t);
            assert!(c.contains(&(want * 100)), "{t}: {c:?}");
            assert_eq!(c.first(), Some(&(first * 100)), "{t}: {c:?}");
        }
        assert!(word_candidates("Taka Only").is_empty());
        assert!(word_candidates("").is_empty());
    }

    #[test]
    fn an_agreeing_pair_wins_over_first_candidates() {
        // (figures, words, reported figures, reported words)
        type Case<'a> = (&'a [u64], &'a [u64], Option<u64>, Option<u64>);
        let cases: &[Case] = &[
            (&[], &[], None, None),
            (&[5], &[], Some(5), None),
            (&[], &[7], None, Some(7)),
            (&[672, 72], &[72], Some(72), Some(72)),
            (&[1, 2], &[3, 2, 1], Some(1), Some(1)),
            (&[100], &[200, 300], Some(100), Some(200)),
        ];
        let at = Region::new(0, 0, 1, 1);
        for &(f, w, want_f, want_w) in cases {
            let mut r = AmountReadings::default();
            for &v in f {
                r.add_figures(v, at);
            }
            for &v in w {
                r.add_words(v, at);
            }
            let (got_f, got_w) = r.decide();
            assert_eq!(
                (got_f.map(|c| c.0), got_w.map(|c| c.0)),
                (want_f, want_w),
                "{f:?} {w:?}"
            );
            assert_eq!(r.agree(), want_f.is_some() && want_f == want_w);
        }
    }

    #[test]
    fn a_sign_read_as_a_digit_is_dropped_only_before_a_structured_amount() {
        let cases: &[(&str, Option<u64>)] = &[
            ("672,000.00", Some(7_200_000)),
            ("66,79,000.00", Some(67_900_000)),
            ("6,79,000.00", None),
            ("Tk 72,000", None),
            ("8", None),
            ("6949000.61", Some(94_900_061)),
            ("60.00", None),
            ("", None),
        ];
        for &(t, want) in cases {
            assert_eq!(without_sign_misread(t), want, "{t}");
        }
    }

    #[test]
    fn figure_tokens_leave_the_words() {
        let cases = [
            (
                "Taka Seventeen Thousand 0700. Tk 17,000.00",
                "Taka Seventeen Thousand Tk",
            ),
            ("এক লক্ষ টাকা ৳1,00,000/-", "এক লক্ষ টাকা"),
            ("Taka Five Only", "Taka Five Only"),
        ];
        for (t, want) in cases {
            assert_eq!(drop_figure_tokens(t), want, "{t}");
        }
    }
}
