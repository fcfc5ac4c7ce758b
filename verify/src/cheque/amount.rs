//! Cheque amounts and dates: figures (`Tk 1,25,000.00`, `৳১,২৫,০০০/-`) and words in English
//! ("Taka One Lakh Twenty Five Thousand Only") and Bengali ("এক লক্ষ পঁচিশ হাজার টাকা মাত্র"),
//! each to paisa; cheque dates (DD/MM/YYYY, boxed digits, Bengali digits) and their age.
//!
//! OCR typos are tolerated: letters read for digits in figures (`O`→0, `l`→1, `S`→5, `B`→8), a
//! comma read as a full stop, and in words one wrong letter (two in long words), judged against
//! the number vocabulary by edit distance.

use unicode_normalization::UnicodeNormalization;

/// ASCII value of an ASCII or Bengali digit.
fn digit(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '০'..='৯' => Some((c as u32 - '০' as u32) as u8),
        _ => None,
    }
}

/// Letters OCR reads for digits in a figure.
fn typo_digit(c: char) -> Option<u8> {
    match c {
        'O' | 'o' | 'D' | 'Q' => Some(0),
        'l' | 'I' | '|' | 'i' | '!' => Some(1),
        'Z' | 'z' => Some(2),
        'S' | 's' => Some(5),
        'G' | 'b' => Some(6),
        'B' => Some(8),
        'g' => Some(9),
        _ => None,
    }
}

/// Parse an amount in figures to paisa. Currency marks (`Tk`, `Tk.`, `BDT`, `৳`, `Taka`,
/// `টাকা`), a trailing `/-`, `/=`, `=`, `only` or `মাত্র` are ignored. Grouping must be lakh
/// (`1,25,000`) or western (`125,000`) or absent; up to two decimals.
pub fn parse_figures(text: &str) -> Option<u64> {
    let lower: String = text.nfc().collect::<String>();
    let mut s = lower.trim().to_owned();
    for mark in [
        "BDT",
        "bdt",
        "Tk.",
        "TK.",
        "tk.",
        "Tk",
        "TK",
        "tk",
        "Taka",
        "TAKA",
        "taka",
        "টাকা",
        "৳",
        "Rs.",
        "Rs",
        "মাত্র",
        "Only",
        "ONLY",
        "only",
    ] {
        s = s.replace(mark, " ");
    }
    let s = s.trim().trim_end_matches(['/', '-', '=', ' ', '*']).trim();
    let s = s.trim_start_matches([':', '*', '#', ' ']);
    if s.is_empty() {
        return None;
    }
    // Digits and separators; letters that OCR reads for digits only next to real digits.
    let chars: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
    let has_digit = chars.iter().any(|&c| digit(c).is_some());
    if !has_digit {
        return None;
    }
    let mut out = String::new();
    for &c in &chars {
        if let Some(d) = digit(c) {
            out.push(char::from(b'0' + d));
        } else if c == ',' || c == '.' || c == '\'' {
            out.push(c);
        } else if let Some(d) = typo_digit(c) {
            out.push(char::from(b'0' + d));
        } else {
            return None;
        }
    }
    // Decimal part: a final separator followed by one or two digits (`.` always; `,` only
    // when a grouping separator came before it, as in `1.25.000,50`, or it is `.` typed as `,`
    // after a thousands group: `1,25,000,00` → `.00`).
    let seps: Vec<usize> = out
        .char_indices()
        .filter(|(_, c)| !c.is_ascii_digit())
        .map(|(i, _)| i)
        .collect();
    let (int_part, frac) = match seps.last() {
        Some(&i) if out.len() - i - 1 <= 2 && out.len() - i > 1 => {
            let tail = &out[i + 1..];
            let is_decimal = out[i..].starts_with('.') || seps.len() >= 2;
            if is_decimal {
                (&out[..i], tail)
            } else {
                (out.as_str(), "")
            }
        }
        _ => (out.as_str(), ""),
    };
    let groups: Vec<&str> = int_part.split([',', '.', '\'']).collect();
    if groups
        .iter()
        .any(|g| g.is_empty() || !g.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    if groups.len() > 1 {
        let last_ok = groups.last().is_some_and(|g| g.len() == 3);
        let first_ok = groups.first().is_some_and(|g| (1..=3).contains(&g.len()));
        let middle = &groups[1..groups.len() - 1];
        let lakh = middle.iter().all(|g| g.len() == 2);
        let western = middle.iter().all(|g| g.len() == 3);
        if !(last_ok && first_ok && (lakh || western)) {
            return None;
        }
    }
    let whole: u64 = groups.concat().parse().ok()?;
    let paisa: u64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<u64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    whole.checked_mul(100)?.checked_add(paisa)
}

/// What one word of an amount in words means.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Word {
    Num(u64),
    Hundred,
    Thousand,
    Lakh,
    Crore,
    Million,
    Paisa,
    /// "and", "taka", "only", "মাত্র", …: carries no number.
    Filler,
    /// Joins taka and paisa ("and" / "ও").
    And,
}

const EN: &[(&str, Word)] = &[
    ("zero", Word::Num(0)),
    ("one", Word::Num(1)),
    ("two", Word::Num(2)),
    ("three", Word::Num(3)),
    ("four", Word::Num(4)),
    ("five", Word::Num(5)),
    ("six", Word::Num(6)),
    ("seven", Word::Num(7)),
    ("eight", Word::Num(8)),
    ("nine", Word::Num(9)),
    ("ten", Word::Num(10)),
    ("eleven", Word::Num(11)),
    ("twelve", Word::Num(12)),
    ("thirteen", Word::Num(13)),
    ("fourteen", Word::Num(14)),
    ("fifteen", Word::Num(15)),
    ("sixteen", Word::Num(16)),
    ("seventeen", Word::Num(17)),
    ("eighteen", Word::Num(18)),
    ("nineteen", Word::Num(19)),
    ("twenty", Word::Num(20)),
    ("thirty", Word::Num(30)),
    ("forty", Word::Num(40)),
    ("fourty", Word::Num(40)),
    ("fifty", Word::Num(50)),
    ("sixty", Word::Num(60)),
    ("seventy", Word::Num(70)),
    ("eighty", Word::Num(80)),
    ("ninety", Word::Num(90)),
    ("hundred", Word::Hundred),
    ("thousand", Word::Thousand),
    ("lakh", Word::Lakh),
    ("lakhs", Word::Lakh),
    ("lac", Word::Lakh),
    ("lacs", Word::Lakh),
    ("crore", Word::Crore),
    ("crores", Word::Crore),
    ("million", Word::Million),
    ("paisa", Word::Paisa),
    ("poisha", Word::Paisa),
    ("paise", Word::Paisa),
    ("and", Word::And),
    ("taka", Word::Filler),
    ("tk", Word::Filler),
    ("bdt", Word::Filler),
    ("only", Word::Filler),
    ("in", Word::Filler),
    ("words", Word::Filler),
    ("the", Word::Filler),
    ("sum", Word::Filler),
    ("of", Word::Filler),
];

/// Bengali number words 1–99, in order.
const BN_1_99: [&str; 99] = [
    "এক",
    "দুই",
    "তিন",
    "চার",
    "পাঁচ",
    "ছয়",
    "সাত",
    "আট",
    "নয়",
    "দশ",
    "এগারো",
    "বারো",
    "তেরো",
    "চৌদ্দ",
    "পনেরো",
    "ষোলো",
    "সতেরো",
    "আঠারো",
    "উনিশ",
    "বিশ",
    "একুশ",
    "বাইশ",
    "তেইশ",
    "চব্বিশ",
    "পঁচিশ",
    "ছাব্বিশ",
    "সাতাশ",
    "আটাশ",
    "ঊনত্রিশ",
    "ত্রিশ",
    "একত্রিশ",
    "বত্রিশ",
    "তেত্রিশ",
    "চৌত্রিশ",
    "পঁয়ত্রিশ",
    "ছত্রিশ",
    "সাঁইত্রিশ",
    "আটত্রিশ",
    "ঊনচল্লিশ",
    "চল্লিশ",
    "একচল্লিশ",
    "বিয়াল্লিশ",
    "তেতাল্লিশ",
    "চুয়াল্লিশ",
    "পঁয়তাল্লিশ",
    "ছেচল্লিশ",
    "সাতচল্লিশ",
    "আটচল্লিশ",
    "ঊনপঞ্চাশ",
    "পঞ্চাশ",
    "একান্ন",
    "বাহান্ন",
    "তিপ্পান্ন",
    "চুয়ান্ন",
    "পঞ্চান্ন",
    "ছাপ্পান্ন",
    "সাতান্ন",
    "আটান্ন",
    "ঊনষাট",
    "ষাট",
    "একষট্টি",
    "বাষট্টি",
    "তেষট্টি",
    "চৌষট্টি",
    "পঁয়ষট্টি",
    "ছেষট্টি",
    "সাতষট্টি",
    "আটষট্টি",
    "ঊনসত্তর",
    "সত্তর",
    "একাত্তর",
    "বাহাত্তর",
    "তিয়াত্তর",
    "চুয়াত্তর",
    "পঁচাত্তর",
    "ছিয়াত্তর",
    "সাতাত্তর",
    "আটাত্তর",
    "ঊনআশি",
    "আশি",
    "একাশি",
    "বিরাশি",
    "তিরাশি",
    "চুরাশি",
    "পঁচাশি",
    "ছিয়াশি",
    "সাতাশি",
    "অষ্টআশি",
    "ঊননব্বই",
    "নব্বই",
    "একানব্বই",
    "বিরানব্বই",
    "তিরানব্বই",
    "চুরানব্বই",
    "পঁচানব্বই",
    "ছিয়ানব্বই",
    "সাতানব্বই",
    "আটানব্বই",
    "নিরানব্বই",
];

const BN_OTHER: &[(&str, Word)] = &[
    ("শূন্য", Word::Num(0)),
    ("দুয়", Word::Num(2)),
    ("ছয়", Word::Num(6)),
    ("ছয়", Word::Num(6)),
    ("ষোল", Word::Num(16)),
    ("শত", Word::Hundred),
    ("শো", Word::Hundred),
    ("শ", Word::Hundred),
    ("একশ", Word::Num(100)),
    ("একশো", Word::Num(100)),
    ("একশত", Word::Num(100)),
    ("হাজার", Word::Thousand),
    ("লক্ষ", Word::Lakh),
    ("লাখ", Word::Lakh),
    ("কোটি", Word::Crore),
    ("পয়সা", Word::Paisa),
    ("টাকা", Word::Filler),
    ("মাত্র", Word::Filler),
    ("কথায়", Word::Filler),
    ("ও", Word::And),
    ("এবং", Word::And),
];

/// Letters (chars) two words differ by: Levenshtein distance.
fn edits(a: &str, b: &str) -> usize {
    strsim::levenshtein(a, b)
}

/// The whole vocabulary, NFC (`য়` and friends decompose under NFC, as OCR output does).
fn vocabulary() -> &'static [(String, Word)] {
    static VOCAB: std::sync::OnceLock<Vec<(String, Word)>> = std::sync::OnceLock::new();
    VOCAB.get_or_init(|| {
        let en = EN.iter().map(|(k, v)| (*k, *v));
        let bn = BN_1_99
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, Word::Num(i as u64 + 1)));
        let other = BN_OTHER.iter().map(|(k, v)| (*k, *v));
        en.chain(bn)
            .chain(other)
            .map(|(k, v)| (k.nfc().collect(), v))
            .collect()
    })
}

fn lookup_exact(w: &str) -> Option<Word> {
    vocabulary().iter().find(|(k, _)| k == w).map(|(_, v)| *v)
}

/// A word of the vocabulary, exactly or within one edit (two for words of 7+ letters); a
/// Bengali hundred written on its number (`পাঁচশত`, `দুইশো`) too.
fn lookup(w: &str) -> Option<Word> {
    if let Some(v) = lookup_exact(w) {
        return Some(v);
    }
    for suffix in ["শত", "শো", "শ"] {
        if let Some(head) = w.strip_suffix(suffix) {
            if let Some(Word::Num(n @ 1..=9)) = lookup_exact(head) {
                return Some(Word::Num(n * 100));
            }
        }
    }
    let n = w.chars().count();
    if n < 4 {
        return None;
    }
    let allowed = if n >= 7 { 2 } else { 1 };
    let mut best: Option<(usize, Word, bool)> = None;
    for (k, v) in vocabulary() {
        let (k, v) = (k.as_str(), *v);
        if k.chars().count() < 4 {
            continue;
        }
        let d = edits(w, k);
        if d > allowed {
            continue;
        }
        match best {
            Some((bd, bv, _)) if d == bd && bv != v => best = Some((d, v, true)),
            Some((bd, _, _)) if d >= bd => {}
            _ => best = Some((d, v, false)),
        }
    }
    // Two different meanings equally close: no guess.
    best.filter(|b| !b.2).map(|b| b.1)
}

/// The value of a run of number words (Indian system: hundred, thousand, lakh, crore).
fn value(words: &[Word]) -> Option<u64> {
    let mut total: u64 = 0;
    let mut current: u64 = 0;
    let mut any = false;
    for w in words {
        match *w {
            Word::Num(n) => {
                current = current.checked_add(n)?;
                any = true;
            }
            Word::Hundred => {
                current = current.max(1).checked_mul(100)?;
                any = true;
            }
            Word::Thousand => {
                total = total.checked_add(current.max(1).checked_mul(1_000)?)?;
                current = 0;
                any = true;
            }
            Word::Lakh => {
                total = total.checked_add(current.max(1).checked_mul(100_000)?)?;
                current = 0;
                any = true;
            }
            Word::Million => {
                total = total.checked_add(current.max(1).checked_mul(1_000_000)?)?;
                current = 0;
                any = true;
            }
            Word::Crore => {
                total = total.checked_add(current.max(1))?.checked_mul(10_000_000)?;
                current = 0;
                any = true;
            }
            Word::Paisa | Word::Filler | Word::And => {}
        }
    }
    any.then(|| total + current)
}

/// The words of `text`, NFC, lower case, split at anything that is neither a letter, a digit nor
/// a Bengali sign.
fn word_tokens(text: &str) -> Vec<String> {
    let norm: String = text.nfc().collect();
    let cleaned: String = norm
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || ('\u{0980}'..='\u{09FF}').contains(&c) {
                c
            } else {
                ' '
            }
        })
        .collect();
    cleaned
        .to_lowercase()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// How many words of `text` are number words (`one`, `lakh`, `পঁচিশ`, …; not `taka`, `only`,
/// `and`): how much of an amount in words a line holds, to join a line wrapped in two.
pub fn number_word_count(text: &str) -> usize {
    word_tokens(text)
        .iter()
        .filter(|t| {
            matches!(
                lookup(t),
                Some(
                    Word::Num(_)
                        | Word::Hundred
                        | Word::Thousand
                        | Word::Lakh
                        | Word::Crore
                        | Word::Million
                )
            )
        })
        .count()
}

/// Parse an amount in words (English or Bengali) to paisa. `None` when no number word is found
/// or more than one word is not understood.
pub fn parse_words(text: &str) -> Option<u64> {
    let mut words = Vec::new();
    let mut unknown = 0;
    for token in &word_tokens(text) {
        let token = token.as_str();
        // Bengali or ASCII digits written among the words: `১ লক্ষ`.
        if token.chars().all(|c| digit(c).is_some()) {
            let n = token.chars().filter_map(digit).fold(0u64, |a, d| {
                a.saturating_mul(10).saturating_add(u64::from(d))
            });
            words.push(Word::Num(n));
            continue;
        }
        match lookup(token) {
            Some(w) => words.push(w),
            None => unknown += 1,
        }
    }
    if unknown > 1 {
        return None;
    }
    // Paisa: the number words next to the paisa word, on the side away from the taka part.
    let (taka, paisa) = match words.iter().position(|w| *w == Word::Paisa) {
        Some(p) => {
            let after: Vec<Word> = words[p + 1..]
                .iter()
                .copied()
                .take_while(|w| matches!(w, Word::Num(_)))
                .collect();
            if !after.is_empty() {
                // "… and paisa fifty only"
                (words[..p].to_vec(), value(&after))
            } else {
                // "… and fifty paisa" / "… ও পঞ্চাশ পয়সা": back to the last "and" or filler.
                let start = words[..p]
                    .iter()
                    .rposition(|w| matches!(w, Word::And | Word::Filler))
                    .map_or(0, |i| i + 1);
                (words[..start].to_vec(), value(&words[start..p]))
            }
        }
        None => (words, None),
    };
    let paisa = paisa.unwrap_or(0);
    if paisa >= 100 {
        return None;
    }
    let taka = value(&taka);
    if taka.is_none() && paisa == 0 {
        return None;
    }
    taka.unwrap_or(0).checked_mul(100)?.checked_add(paisa)
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let dim = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
            2 => 28,
            _ => return None,
        };
        (1..=dim)
            .contains(&day)
            .then_some(Date { year, month, day })
    }

    /// The date `unix` seconds after the epoch falls on (UTC).
    pub fn from_unix(unix: i64) -> Date {
        let (y, m, d) = crate::metadata::civil_from_days(unix.div_euclid(86_400));
        Date {
            year: y as i32,
            month: m as u32,
            day: d as u32,
        }
    }

    /// The same day `n` months later (the month's last day when it has no such day).
    pub fn plus_months(self, n: u32) -> Date {
        let m0 = self.month - 1 + n;
        let year = self.year + (m0 / 12) as i32;
        let month = m0 % 12 + 1;
        let mut day = self.day;
        loop {
            if let Some(d) = Date::new(year, month, day) {
                return d;
            }
            day -= 1;
        }
    }

    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Parse a cheque date: `DD/MM/YYYY` (`/`, `-`, `.` or spaces), eight boxed digits `DDMMYYYY`,
/// two-digit years (20YY), `12 Jan 2026`; ASCII or Bengali digits.
pub fn parse_date(text: &str) -> Option<Date> {
    let norm: String = text.nfc().collect();
    let mapped: String = norm
        .chars()
        .map(|c| digit(c).map_or(c, |d| char::from(b'0' + d)))
        .collect();
    let lower = mapped.to_lowercase();
    // A month name.
    if let Some((mi, _)) = MONTHS.iter().enumerate().find(|(_, m)| lower.contains(*m)) {
        let nums: Vec<u32> = lower
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .collect();
        if let [d, y] = nums[..] {
            return Date::new(year_of(y)?, mi as u32 + 1, d);
        }
        return None;
    }
    let parts: Vec<&str> = lower
        .split(|c: char| c == '/' || c == '-' || c == '.' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect();
    if parts.iter().any(|p| !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let digits: String = parts.concat();
    let (d, m, y) = if parts.len() == 3 && parts[0].len() <= 2 && parts[1].len() <= 2 {
        (
            parts[0].parse().ok()?,
            parts[1].parse().ok()?,
            parts[2].parse().ok()?,
        )
    } else if digits.len() == 8 || digits.len() == 6 {
        (
            digits[..2].parse().ok()?,
            digits[2..4].parse().ok()?,
            digits[4..].parse().ok()?,
        )
    } else {
        return None;
    };
    Date::new(year_of(y)?, m, d)
}

fn year_of(y: u32) -> Option<i32> {
    match y {
        0..=99 => Some(2000 + y as i32),
        1900..=2199 => Some(y as i32),
        _ => None,
    }
}

/// How a cheque's date stands against today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateStatus {
    Current,
    /// More than six months old: the bank will not honour it.
    Stale,
    /// Dated after today.
    PostDated,
}

pub fn date_status(date: Date, today: Date) -> DateStatus {
    if date > today {
        DateStatus::PostDated
    } else if date.plus_months(6) < today {
        DateStatus::Stale
    } else {
        DateStatus::Current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_figures(text: &str, want: Option<u64>) {
        assert_eq!(parse_figures(text), want, "figures {text:?}");
    }

    fn check_words(text: &str, want: Option<u64>) {
        assert_eq!(parse_words(text), want, "words {text:?}");
    }

    #[test]
    fn figures() {
        let cases: &[(&str, Option<u64>)] = &[
            ("Tk 1,25,000.00", Some(12_500_000)),
            ("Tk. 1,25,000/-", Some(12_500_000)),
            ("৳১,২৫,০০০.০০", Some(12_500_000)),
            ("BDT 125000", Some(12_500_000)),
            ("125,000.00", Some(12_500_000)),
            ("1,00,00,000.00", Some(1_000_000_000)),
            ("12,34,567.89", Some(123_456_789)),
            ("5,000.5", Some(500_050)),
            ("Tk 500/=", Some(50_000)),
            ("৫০০ টাকা মাত্র", Some(50_000)),
            ("১২,৩৪৫.৬৭", Some(1_234_567)),
            ("Tk 1,25,OOO.OO", Some(12_500_000)), // O for 0
            ("Tk l,25,000.00", Some(12_500_000)), // l for 1
            ("Tk 1,2S,000.00", Some(12_500_000)), // S for 5
            ("Tk 1.25.000.00", Some(12_500_000)), // full stops for commas
            ("Tk 1,25,000,00", Some(12_500_000)), // comma for the decimal point
            ("** 75,000.00 **", Some(7_500_000)), // guard stars
            ("Tk 1,2,5000", None),                // no grouping fits
            ("Tk", None),
            ("", None),
            ("One lakh", None),
            ("Tk 12x,000", None),
        ];
        for (t, w) in cases {
            check_figures(t, *w);
        }
    }

    #[test]
    fn english_words() {
        let cases: &[(&str, Option<u64>)] = &[
            ("Taka One Lakh Twenty Five Thousand Only", Some(12_500_000)),
            ("One Lakh Twenty-Five Thousand Taka Only", Some(12_500_000)),
            ("Taka Five Hundred Only", Some(50_000)),
            ("Taka One Crore Only", Some(1_000_000_000)),
            ("Taka Two Crore Fifty Lakh Only", Some(2_500_000_000)),
            (
                "Taka Twelve Lakh Thirty Four Thousand Five Hundred Sixty Seven Only",
                Some(123_456_700),
            ),
            (
                "Taka Ninety Nine Thousand Nine Hundred Ninety Nine Only",
                Some(9_999_900),
            ),
            ("Taka One Thousand and Fifty Paisa Only", Some(100_050)),
            ("Taka Five Thousand and Paisa Fifty Only", Some(500_050)),
            ("Taka Seventy Five Paisa Only", Some(75)),
            ("One Hundred Twenty Five Thousand", Some(12_500_000)),
            ("Taka One Million Only", Some(100_000_000)),
            ("Taka Ten Lacs Only", Some(100_000_000)),
            ("Taka Eleven Thousand Only", Some(1_100_000)),
            ("TAKA FORTY THOUSAND ONLY", Some(4_000_000)),
            ("Taka Fourty Thousand Only", Some(4_000_000)),
            ("Taka One Lakh Twenty Five Thousnd Only", Some(12_500_000)), // OCR typo
            ("Taka One Lakh Twenty Fiue Thousand Only", Some(12_500_000)), // u for v
            ("Taka Twenfy Thousand Only", Some(2_000_000)),               // f for t
            ("Taka Thre Hundred Only", Some(30_000)),                     // letter lost
            ("Taka Seventeen Hundred Only", Some(170_000)),
            ("Taka 1 Lakh Only", Some(10_000_000)),
            ("Taka Only", None),
            ("", None),
            ("Pay to the order of John", None),
            ("Taka Ten and One Hundred Fifty Paisa", None), // paisa ≥ 100
        ];
        for (t, w) in cases {
            check_words(t, *w);
        }
    }

    #[test]
    fn bengali_words() {
        let cases: &[(&str, Option<u64>)] = &[
            ("এক লক্ষ পঁচিশ হাজার টাকা মাত্র", Some(12_500_000)),
            ("এক লাখ পঁচিশ হাজার টাকা মাত্র", Some(12_500_000)),
            ("পাঁচ শত টাকা মাত্র", Some(50_000)),
            ("পাঁচশত টাকা মাত্র", Some(50_000)),
            ("দুইশো টাকা", Some(20_000)),
            ("একশ টাকা মাত্র", Some(10_000)),
            ("এক কোটি টাকা মাত্র", Some(1_000_000_000)),
            ("দুই কোটি পঞ্চাশ লক্ষ টাকা মাত্র", Some(2_500_000_000)),
            ("নিরানব্বই হাজার নয় শত নিরানব্বই টাকা", Some(9_999_900)),
            ("বারো লক্ষ চৌত্রিশ হাজার পাঁচশত সাতষট্টি টাকা মাত্র", Some(123_456_700)),
            ("এক হাজার টাকা ও পঞ্চাশ পয়সা মাত্র", Some(100_050)),
            ("পঁচাত্তর হাজার টাকা মাত্র", Some(7_500_000)),
            ("তিন হাজার পাঁচ শত টাকা মাত্র", Some(350_000)),
            ("ছয় হাজার টাকা মাত্র", Some(600_000)),
            ("চল্লিশ হাজার টাকা মাত্র", Some(4_000_000)),
            ("এগারো হাজার টাকা মাত্র", Some(1_100_000)),
            ("৫ লক্ষ টাকা মাত্র", Some(50_000_000)),
            ("এক লক্ষ পচিশ হাজার টাকা মাত্র", Some(12_500_000)), // chandrabindu lost
            ("এক লক্ষ পঁচিশ হাজর টাকা মাত্র", Some(12_500_000)), // vowel sign lost
            ("টাকা মাত্র", None),
        ];
        for (t, w) in cases {
            check_words(t, *w);
        }
    }

    #[test]
    fn dates() {
        let d = |y, m, dd| Date::new(y, m, dd);
        let cases: &[(&str, Option<Date>)] = &[
            ("06/12/2026", d(2026, 12, 6)),
            ("6-12-2026", d(2026, 12, 6)),
            ("06.12.26", d(2026, 12, 6)),
            ("0 6 1 2 2 0 2 6", d(2026, 12, 6)),
            ("06122026", d(2026, 12, 6)),
            ("০৬/১২/২০২৬", d(2026, 12, 6)),
            ("6 Dec 2026", d(2026, 12, 6)),
            ("December 6, 2026", d(2026, 12, 6)),
            ("29/02/2028", d(2028, 2, 29)),
            ("29/02/2027", None),
            ("31/04/2026", None),
            ("13/13/2026", None),
            ("Date", None),
            ("", None),
        ];
        for (t, want) in cases {
            assert_eq!(parse_date(t), *want, "{t:?}");
        }
    }

    #[test]
    fn date_age() {
        let today = Date::new(2026, 12, 6).expect("a date");
        let cases = [
            ((2026, 12, 6), DateStatus::Current),
            ((2026, 6, 6), DateStatus::Current),
            ((2026, 6, 5), DateStatus::Stale),
            ((2025, 1, 1), DateStatus::Stale),
            ((2026, 12, 7), DateStatus::PostDated),
        ];
        for ((y, m, d), want) in cases {
            let date = Date::new(y, m, d).expect("a date");
            assert_eq!(date_status(date, today), want, "{date:?}");
        }
        assert_eq!(Date::from_unix(0), Date::new(1970, 1, 1).expect("a date"));
        assert_eq!(
            Date::from_unix(1_796_515_200),
            Date::new(2026, 12, 6).expect("a date")
        );
        assert_eq!(
            Date::new(2026, 8, 31).expect("a date").plus_months(6),
            Date::new(2027, 2, 28).expect("a date")
        );
    }
}
