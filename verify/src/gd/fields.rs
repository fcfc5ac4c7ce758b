//! GD fields from OCR text: IMEIs, GD number, date, thana, district, brand and model.
//!
//! Pure text work over an [`OcrPage`] (noisy Bengali and English OCR). Every value keeps the box
//! of the characters it was read from (page coordinates; a part of a word gets the matching
//! horizontal share of the word's box) and the mean confidence of those words.
//!
//! Labels are found on a "squeezed" copy of each line (NFC, lower case, spaces, dots, dashes,
//! colons and the visarga `ঃ` left out), so `G.D. No :`, `জি ডি নংঃ` and `I M E I` all match.
//! IMEIs are digit runs (ASCII or Bengali digits, grouped with spaces or dashes); a labelled run
//! may carry OCR look-alike letters that [`imei::repair_ocr`] repairs only when the Luhn digit
//! confirms one reading; an unlabelled run counts only as 15 clean, Luhn-valid digits.

use unicode_normalization::UnicodeNormalization;

use crate::gd::text::{OcrPage, OcrWord};
use crate::imei;
use crate::report::Region;

/// One IMEI read from the page.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadImei {
    /// 15 ASCII digits, Luhn-valid.
    pub imei: String,
    /// The digits' box (page coordinates).
    pub region: Region,
    /// 0–1.
    pub confidence: f32,
    /// What was done to read it, e.g. `repaired O→0 at 7`, `from IMEISV`, `re-read`.
    pub note: Option<String>,
    /// The label it was written after (`IMEI`, `IMEI 1`, `IMEI 2`, `IMEISV`); `None` for a
    /// bare 15-digit Luhn-valid run.
    pub label: Option<String>,
}

/// A labelled IMEI that could not be read as a valid one (wrong length or Luhn check fails,
/// also after a digit-only re-read).
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidImei {
    /// The digits as read (ASCII; look-alike letters kept as read).
    pub value: String,
    /// Where it was read.
    pub region: Region,
    /// 0–1.
    pub confidence: f32,
    /// Why it is not valid, in English.
    pub reason: String,
    /// The label it was written after.
    pub label: Option<String>,
    /// Every reading made of it (the line's, then the digit-only re-reads; none for an
    /// IMEISV), to try again once the page's other IMEIs are known.
    pub readings: Vec<String>,
}

/// A text field: value, where it was read, and how sure OCR was.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The value (see each field of [`GdFields`] for its form).
    pub value: String,
    /// The value's box (page coordinates).
    pub region: Region,
    /// 0–1.
    pub confidence: f32,
}

/// Everything parsed from a GD copy's text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GdFields {
    /// Valid IMEIs, page order, no duplicates.
    pub imeis: Vec<ReadImei>,
    /// Labelled IMEIs that are not valid (the pipeline reports `imei_invalid`).
    pub invalid_imeis: Vec<InvalidImei>,
    /// A valid IMEI written again, under a label, at another place on the page (the pipeline
    /// reports `imei_repeated`).
    pub repeated_imeis: Vec<ReadImei>,
    /// GD number, ASCII digits with `/` or `-` between parts (`1234`, `567/24`, `1234/2024`);
    /// a `GD-` prefix is dropped.
    pub gd_number: Option<Field>,
    /// GD date, ISO 8601 `YYYY-MM-DD`, a real calendar date.
    pub gd_date: Option<Field>,
    /// Thana (police station) name as written (`মিরপুর মডেল`, `Mirpur Model`).
    pub thana: Option<Field>,
    /// District name as written (`ঢাকা`, `Dhaka`).
    pub district: Option<Field>,
    /// Phone brand as written (`Samsung`).
    pub brand: Option<Field>,
    /// Phone model as written (`Galaxy A12`).
    pub model: Option<Field>,
}

/// Parse the fields of a GD copy.
///
/// `reread(region)` is asked for a labelled IMEI whose first reading is not a valid IMEI, and
/// for a labelled GD number or date that did not parse: it should OCR that page region again
/// with digit-only settings and return its readings (text, confidence 0–1), best first, or none.
/// A valid re-read replaces the first reading (note `re-read`).
pub fn extract(page: &OcrPage, reread: &mut dyn FnMut(Region) -> Vec<(String, f32)>) -> GdFields {
    let lines: Vec<Line> = page.lines.iter().map(|l| Line::new(&l.words)).collect();
    let mut out = GdFields::default();
    extract_imeis(&lines, reread, &mut out);
    out.gd_number = first(&lines, gd_number).or_else(|| gd_number_reread(&lines, reread));
    out.gd_date = gd_date(&lines, reread);
    if out.gd_number.is_none() {
        out.gd_number = out
            .gd_date
            .as_ref()
            .and_then(|d| gd_number_by_year(&lines, d));
    }
    let (thana, district) = thana_district(&lines);
    out.thana = thana;
    out.district = district;
    let (brand, model) = brand_model(&lines);
    out.brand = brand;
    out.model = model;
    out
}

// ---------------------------------------------------------------------------------------------
// Lines: characters with the word they came from.

/// A line as characters (NFC), each with its word and its index within the word.
#[derive(Debug)]
struct Line<'a> {
    chars: Vec<char>,
    /// Per char: (word index, index in word); `None` for the joining spaces.
    at: Vec<Option<(usize, usize)>>,
    words: &'a [OcrWord],
    /// Chars per word (after NFC).
    word_len: Vec<usize>,
}

impl<'a> Line<'a> {
    fn new(words: &'a [OcrWord]) -> Self {
        let mut chars = Vec::new();
        let mut at = Vec::new();
        let mut word_len = Vec::new();
        for (wi, w) in words.iter().enumerate() {
            if wi > 0 {
                chars.push(' ');
                at.push(None);
            }
            let mut n = 0;
            for (k, c) in w.text.nfc().enumerate() {
                // Zero-width joiners carry no meaning for parsing.
                if c == '\u{200c}' || c == '\u{200d}' {
                    continue;
                }
                chars.push(c);
                at.push(Some((wi, k)));
                n = k + 1;
            }
            word_len.push(n);
        }
        Line {
            chars,
            at,
            words,
            word_len,
        }
    }

    fn text(&self, start: usize, end: usize) -> String {
        self.chars
            .get(start..end.min(self.chars.len()))
            .map(|s| s.iter().collect())
            .unwrap_or_default()
    }

    /// The box of chars `start..end`: the touched words, cut to the share of a word's
    /// characters the span covers.
    fn region(&self, start: usize, end: usize) -> Option<Region> {
        let mut span: Vec<(usize, usize, usize)> = Vec::new(); // (word, first k, last k)
        for a in self.at.get(start..end.min(self.at.len()))?.iter().flatten() {
            match span.last_mut() {
                Some(s) if s.0 == a.0 => s.2 = a.1,
                _ => span.push((a.0, a.1, a.1)),
            }
        }
        let boxes = span.iter().filter_map(|&(wi, k0, k1)| {
            let w = self.words.get(wi)?;
            let n = u64::try_from(*self.word_len.get(wi)?).ok()?.max(1);
            let (k0, k1) = (u64::try_from(k0).ok()?, u64::try_from(k1).ok()? + 1);
            let (x, width) = (u64::from(w.region.x), u64::from(w.region.w));
            let x0 = u32::try_from(x + width * k0.min(n) / n).ok()?;
            let x1 = u32::try_from(x + width * k1.min(n) / n).ok()?;
            Some(Region::new(
                x0,
                w.region.y,
                x1.saturating_sub(x0).max(1),
                w.region.h,
            ))
        });
        crate::gd::text::union(boxes)
    }

    /// Mean confidence of the words chars `start..end` touch.
    fn conf(&self, start: usize, end: usize) -> f32 {
        let mut seen: Vec<usize> = self
            .at
            .get(start..end.min(self.at.len()))
            .unwrap_or_default()
            .iter()
            .flatten()
            .map(|a| a.0)
            .collect();
        seen.dedup();
        let confs: Vec<f32> = seen
            .iter()
            .filter_map(|&wi| self.words.get(wi).map(|w| w.conf))
            .collect();
        if confs.is_empty() {
            0.0
        } else {
            confs.iter().sum::<f32>() / confs.len() as f32
        }
    }

    fn field(&self, value: String, start: usize, end: usize) -> Option<Field> {
        Some(Field {
            value,
            region: self.region(start, end)?,
            confidence: self.conf(start, end),
        })
    }
}

fn first(lines: &[Line], f: impl Fn(&Line) -> Option<Field>) -> Option<Field> {
    lines.iter().find_map(f)
}

// ---------------------------------------------------------------------------------------------
// Labels.

/// Characters left out when matching labels.
fn squeezed_out(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '.' | '-' | '–' | '—' | '_' | ':' | 'ঃ' | ',' | '\'' | '’'
        )
}

/// Fold OCR look-alikes for Latin labels: `l`, `1`, `|`, `!`, `í` read as `i`.
fn fold_latin(c: char) -> char {
    match c {
        'l' | '1' | '|' | '!' | 'í' | 'ì' | 'ï' | 'j' | ']' | '[' | '}' | '{' => 'i',
        'é' | 'è' => 'e',
        '0' => 'o',
        c => c,
    }
}

/// A label occurrence: chars `start..end` of the line.
#[derive(Debug, Clone, Copy)]
struct Hit {
    start: usize,
    end: usize,
}

/// Occurrences of any of `patterns` in `line`, ignoring case, spaces and punctuation. A Latin
/// pattern must not be preceded or followed by a Latin letter (so `date` is not found in
/// `updated`). Longest pattern first; hits do not overlap.
fn find_labels(line: &Line, patterns: &[&str]) -> Vec<Hit> {
    let squeezed: Vec<(char, usize)> = line
        .chars
        .iter()
        .enumerate()
        .filter(|(_, c)| !squeezed_out(**c))
        .flat_map(|(i, c)| c.to_lowercase().map(move |l| (l, i)))
        .collect();
    let mut pats: Vec<(Vec<char>, bool)> = patterns
        .iter()
        .map(|p| {
            let latin = p.is_ascii();
            let chars: Vec<char> = p
                .nfc()
                .filter(|c| !squeezed_out(*c))
                .flat_map(char::to_lowercase)
                .map(|c| if latin { fold_latin(c) } else { c })
                .collect();
            (chars, latin)
        })
        .collect();
    pats.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    let mut hits: Vec<Hit> = Vec::new();
    let mut i = 0;
    'outer: while i < squeezed.len() {
        for (p, latin) in &pats {
            let Some(window) = squeezed.get(i..i + p.len()) else {
                continue;
            };
            let same = window.iter().zip(p).all(
                |(&(c, _), &q)| {
                    if *latin {
                        fold_latin(c) == q
                    } else {
                        c == q
                    }
                },
            );
            if !same || p.is_empty() {
                continue;
            }
            let (Some(&(_, s)), Some(&(_, e))) = (window.first(), window.last()) else {
                continue;
            };
            if *latin {
                let letter = |c: Option<&char>| c.is_some_and(|c| c.is_ascii_alphabetic());
                let before = s.checked_sub(1).and_then(|j| line.chars.get(j));
                if letter(before) || letter(line.chars.get(e + 1)) {
                    continue;
                }
            }
            hits.push(Hit {
                start: s,
                end: e + 1,
            });
            i += p.len();
            continue 'outer;
        }
        i += 1;
    }
    hits
}

const IMEI_LABELS: &[&str] = &[
    "imei",
    "imeisv",
    "imei/sv",
    "আইএমইআই",
    "আই এম ই আই",
    "আইএমই",
    "ইএমইআই",
    "ইমেই",
    "ইমেইআই",
];
const GD_LABELS: &[&str] = &[
    "gd no",
    "gd number",
    "gd nr",
    "gd nº",
    "gd #",
    "general diary no",
    "general diary number",
    "জিডি নং",
    "জিডি নম্বর",
    "জিডি নাম্বার",
    "জিডি নঃ",
    // OCR drops a vowel sign of a small label (`জডি নং` for জিডি নং).
    "জডি নং",
    "জডি নম্বর",
    "জিড নং",
    "জিডি",
    "gd",
    "সাধারণ ডায়েরি নং",
    "সাধারণ ডায়েরি নম্বর",
    "সাধারণ ডায়রি নং",
];
const DATE_LABELS: &[&str] = &["তারিখ", "তাং", "তারিক", "date", "dated", "dt"];
const THANA_LABELS: &[&str] = &["থানা", "থানার নাম", "thana", "police station", "ps"];
const DISTRICT_LABELS: &[&str] = &["জেলা", "জেলার নাম", "district", "dist", "zila", "zilla"];
const BRAND_LABELS: &[&str] = &[
    "ব্র্যান্ড",
    "ব্রান্ড",
    "ব্রেন্ড",
    "ব্র্যান্ডের নাম",
    "brand",
    "brand name",
    "make",
    "manufacturer",
];
const MODEL_LABELS: &[&str] = &["মডেল", "মডেল নং", "model", "model no", "model name"];
const MOBILE_LABELS: &[&str] = &[
    "mobile",
    "mobile phone",
    "mobile set",
    "handset",
    "phone",
    "মোবাইল",
    "মোবাইল ফোন",
    "মোবাইল সেট",
    "মোবাইল ফোনের",
    "হ্যান্ডসেট",
];

/// Every label start in the line (a value ends where the next label begins). Brand, model and
/// phone labels, which can be words of a name (`মিরপুর মডেল থানা`), count only when a `:`,
/// `ঃ` or `-` follows them.
fn label_starts(line: &Line) -> Vec<usize> {
    let strong = [
        IMEI_LABELS,
        GD_LABELS,
        DATE_LABELS,
        THANA_LABELS,
        DISTRICT_LABELS,
    ];
    let weak = [BRAND_LABELS, MODEL_LABELS, MOBILE_LABELS];
    let mut v: Vec<usize> = strong
        .iter()
        .flat_map(|p| find_labels(line, p))
        .map(|h| h.start)
        .collect();
    v.extend(
        weak.iter()
            .flat_map(|p| find_labels(line, p))
            .filter(|h| {
                let mut j = h.end;
                while line.chars.get(j).is_some_and(|c| c.is_whitespace()) {
                    j += 1;
                }
                matches!(line.chars.get(j), Some(':' | 'ঃ' | '-'))
            })
            .map(|h| h.start),
    );
    v.sort_unstable();
    v
}

/// Separators between a label and its value.
fn is_label_sep(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            ':' | 'ঃ' | '-' | '–' | '—' | '.' | '#' | '=' | ';' | '(' | ')' | '[' | ']' | ',' | '|'
        )
}

fn skip_seps(line: &Line, mut i: usize) -> usize {
    while line.chars.get(i).is_some_and(|&c| is_label_sep(c)) {
        i += 1;
    }
    i
}

/// After a label: skip separators and a following "No"/"নং"/"Number"/"নম্বর" word.
fn value_start(line: &Line, end: usize) -> usize {
    let i = skip_seps(line, end);
    for word in ["number", "no", "নং", "নম্বর", "নাম্বার", "nº"] {
        let w: Vec<char> = word.chars().collect();
        let got: Vec<char> = line
            .chars
            .get(i..i + w.len())
            .unwrap_or_default()
            .iter()
            .flat_map(|c| c.to_lowercase())
            .collect();
        let next = line.chars.get(i + w.len());
        if got == w && next.is_none_or(|&c| is_label_sep(c)) {
            return skip_seps(line, i + w.len());
        }
    }
    i
}

// ---------------------------------------------------------------------------------------------
// IMEIs.

/// A group of digit-like characters (digits and look-alike letters) with no separator inside.
#[derive(Debug, Clone, Copy)]
struct Group {
    start: usize,
    end: usize,
}

/// Runs of groups separated by spaces or a dash: `35-209900-176148-1`, `৩৫২০ ৯৯০০ ১৭৬১ ৪৮১`.
/// A group needs at least one real digit and no more look-alikes than digits; look-alikes
/// glued to a word (`IMEI352…`) are left to the word.
fn digit_runs(chars: &[char]) -> Vec<Vec<Group>> {
    let digitish = |c: char| imei::digit_value(c).is_some() || imei::is_lookalike(c);
    let mut groups: Vec<Group> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars.get(i).is_some_and(|&c| digitish(c)) {
            i += 1;
            continue;
        }
        let mut start = i;
        while chars.get(i).is_some_and(|&c| digitish(c)) {
            i += 1;
        }
        let mut end = i;
        let letter = |c: Option<&char>| c.is_some_and(|c| c.is_alphabetic() && !digitish(*c));
        if letter(start.checked_sub(1).and_then(|j| chars.get(j))) {
            while start < end && chars.get(start).is_some_and(|&c| imei::is_lookalike(c)) {
                start += 1;
            }
        }
        if letter(chars.get(end)) {
            while end > start && chars.get(end - 1).is_some_and(|&c| imei::is_lookalike(c)) {
                end -= 1;
            }
        }
        let part = chars.get(start..end).unwrap_or_default();
        let digits = part
            .iter()
            .filter(|c| imei::digit_value(**c).is_some())
            .count();
        if digits > 0 && digits * 2 >= part.len() {
            groups.push(Group { start, end });
        }
    }
    let mut runs: Vec<Vec<Group>> = Vec::new();
    for g in groups {
        let joined = runs.last().and_then(|r| r.last()).is_some_and(|prev| {
            let gap = chars.get(prev.end..g.start).unwrap_or_default();
            !gap.is_empty()
                && gap.len() <= 3
                && gap.iter().filter(|c| matches!(c, '-' | '–')).count() <= 1
                && gap.iter().all(|&c| c == ' ' || c == '-' || c == '–')
        });
        match runs.last_mut() {
            Some(r) if joined => r.push(g),
            _ => runs.push(vec![g]),
        }
    }
    runs
}

fn group_len(g: &Group, chars: &[char]) -> usize {
    chars.get(g.start..g.end).map_or(0, <[char]>::len)
}

/// Consecutive groups of a run making up exactly `target` digit-like characters, left to
/// right, not overlapping: `(start, end)` char spans.
fn imei_spans(run: &[Group], chars: &[char], target: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < run.len() {
        let mut acc = 0;
        let mut j = i;
        while j < run.len() && acc < target {
            acc += run.get(j).map_or(0, |g| group_len(g, chars));
            j += 1;
        }
        if acc == target {
            if let (Some(a), Some(b)) = (run.get(i), run.get(j - 1)) {
                out.push((a.start, b.end));
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// An IMEI label: where it ends, its canonical name, and whether it is an IMEISV.
#[derive(Debug, Clone)]
struct ImeiLabel {
    start: usize,
    end: usize,
    value_from: usize,
    name: String,
    sv: bool,
}

/// `IMEI` written in Latin letters and misread by one character (`IME]I`, `INEI`, `IMFI`): a
/// run of Latin letters (and the marks OCR reads `I` as) one edit from `imei` after folding
/// look-alikes, not overlapping an exact label.
fn misread_imei_labels(line: &Line, exact: &[Hit]) -> Vec<Hit> {
    let labelish =
        |c: char| c.is_ascii_alphabetic() || matches!(c, ']' | '[' | '}' | '{' | '|' | '!');
    let mut out = Vec::new();
    let mut i = 0;
    while i < line.chars.len() {
        if !line.chars.get(i).is_some_and(|&c| labelish(c)) {
            i += 1;
            continue;
        }
        let start = i;
        while line.chars.get(i).is_some_and(|&c| labelish(c)) {
            i += 1;
        }
        let run = line.chars.get(start..i).unwrap_or_default();
        let letters = run.iter().filter(|c| c.is_ascii_alphabetic()).count();
        let folded: Vec<char> = run
            .iter()
            .flat_map(|c| c.to_lowercase())
            .map(fold_latin)
            .collect();
        let near = (4..=5).contains(&folded.len())
            && letters >= 2
            && strsim::generic_levenshtein(&folded, &['i', 'm', 'e', 'i']) <= 1;
        let taken = exact.iter().any(|h| h.start < i && start < h.end);
        if near && !taken {
            out.push(Hit { start, end: i });
        }
    }
    out
}

fn imei_labels(line: &Line) -> Vec<ImeiLabel> {
    let mut hits = find_labels(line, IMEI_LABELS);
    let misread = misread_imei_labels(line, &hits);
    hits.extend(misread);
    hits.sort_by_key(|h| h.start);
    hits.into_iter()
        .map(|h| {
            let label: String = line.text(h.start, h.end).to_lowercase();
            let sv = label.contains("sv");
            let mut i = value_start(line, h.end);
            let mut name = if sv { "IMEISV" } else { "IMEI" }.to_owned();
            // A slot number right after the label: `IMEI 1:`, `IMEI-2`, `আইএমইআই ১ঃ`.
            if let Some(&c) = line.chars.get(i) {
                let slot = match c {
                    '1' | '১' => Some('1'),
                    '2' | '২' => Some('2'),
                    _ => None,
                };
                let next = line.chars.get(i + 1).copied();
                let alone = next.is_none_or(|n| {
                    imei::digit_value(n).is_none() && (is_label_sep(n) || !n.is_alphanumeric())
                });
                if let (Some(s), true) = (slot, alone) {
                    name = format!("{name} {s}");
                    i = skip_seps(line, i + 1);
                }
            }
            ImeiLabel {
                start: h.start,
                end: h.end,
                value_from: i,
                name,
                sv,
            }
        })
        .collect()
}

/// One IMEI candidate before validation.
struct Candidate {
    text: String,
    region: Option<Region>,
    /// What to re-read when the first reading is no IMEI: the label's whole value (digits
    /// at its ends may have been read as something else), else the candidate itself.
    value_region: Option<Region>,
    conf: f32,
    label: Option<ImeiLabel>,
    /// The whole run of digit groups when it holds more digits than the candidate takes.
    crowded: Option<String>,
}

fn extract_imeis(
    lines: &[Line],
    reread: &mut dyn FnMut(Region) -> Vec<(String, f32)>,
    out: &mut GdFields,
) {
    let mut pending: Vec<ImeiLabel> = Vec::new(); // labels of the previous line with no value
    for line in lines {
        let labels = imei_labels(line);
        let runs = digit_runs(&line.chars);
        let mut used_label = vec![false; labels.len()];
        let mut candidates = Vec::new();
        let mut nth_bare = 0;
        for run in &runs {
            let Some(first) = run.first() else { continue };
            let own = labels
                .iter()
                .enumerate()
                .rev()
                .find(|(_, l)| l.end <= first.start);
            // The slot number after a label (`IMEI 2 35…`) is not part of the IMEI.
            let run: Vec<Group> = match own {
                Some((_, l)) => run
                    .iter()
                    .copied()
                    .filter(|g| g.start >= l.value_from)
                    .collect(),
                None => run.clone(),
            };
            let Some(first) = run.first() else { continue };
            let starts_line = line
                .chars
                .get(..first.start)
                .unwrap_or_default()
                .iter()
                .all(|c| !c.is_alphabetic());
            let label = match own {
                Some((k, l)) => {
                    if let Some(u) = used_label.get_mut(k) {
                        *u = true;
                    }
                    Some(l.clone())
                }
                None if starts_line && !pending.is_empty() => {
                    let l = pending.get(nth_bare).or(pending.last()).cloned();
                    nth_bare += 1;
                    l
                }
                None => None,
            };
            let own_value = own.and_then(|(_, l)| value_region(line, &labels, l));
            let target = if label.as_ref().is_some_and(|l| l.sv) {
                16
            } else {
                15
            };
            let spans = imei_spans(&run, &line.chars, target);
            let total: usize = run.iter().map(|g| group_len(g, &line.chars)).sum();
            if spans.is_empty() && label.is_some() && (10..=20).contains(&total) {
                // A labelled number that is not 15 long: read the whole run, marked invalid
                // unless a re-read fixes it.
                if let (Some(a), Some(b)) = (run.first(), run.last()) {
                    candidates.push(Candidate {
                        text: line.text(a.start, b.end),
                        region: line.region(a.start, b.end),
                        value_region: own_value,
                        conf: line.conf(a.start, b.end),
                        label: label.clone(),
                        crowded: None,
                    });
                }
            }
            // More digits in the run than the span takes (`৪86-781102-299540-3`: the dash
            // after the label read as a digit): the span passes the Luhn check one time in ten
            // by chance, so a re-read has the last word.
            let crowded = total > target;
            for (s, e) in spans {
                candidates.push(Candidate {
                    text: line.text(s, e),
                    region: line.region(s, e),
                    value_region: own_value,
                    conf: line.conf(s, e),
                    label: label.clone(),
                    crowded: crowded.then(|| {
                        let (a, b) = (
                            run.first().map_or(s, |g| g.start),
                            run.last().map_or(e, |g| g.end),
                        );
                        line.text(a, b)
                    }),
                });
            }
        }
        for c in candidates {
            judge(c, reread, out);
        }
        // A label whose value gave no IMEI (its digits read as letters or split oddly): read
        // the value again with digit-only settings.
        for l in &labels {
            let Some(region) = value_region(line, &labels, l) else {
                continue;
            };
            let found = out.imeis.iter().any(|i| i.region.overlap(&region) > 0);
            let digitish = digits_in(line.chars.get(l.value_from..).unwrap_or_default());
            if found || digitish < 4 {
                continue;
            }
            let first_read = line
                .chars
                .get(l.value_from..)
                .unwrap_or_default()
                .iter()
                .collect::<String>();
            let Some((imei, note, conf)) =
                reread_or_agree(&first_read, reread(region), l.sv, &out.imeis)
            else {
                continue;
            };
            out.invalid_imeis.retain(|i| i.region.overlap(&region) == 0);
            if let Some(u) = labels.iter().position(|x| x.start == l.start) {
                if let Some(u) = used_label.get_mut(u) {
                    *u = true;
                }
            }
            if !out.imeis.iter().any(|i| i.imei == imei) {
                out.imeis.push(ReadImei {
                    imei,
                    region,
                    confidence: conf,
                    note,
                    label: Some(l.name.clone()),
                });
            }
        }
        // Labels with nothing after them label the next line's numbers (table layouts).
        pending = labels
            .iter()
            .zip(&used_label)
            .filter(|(_, u)| !**u)
            .map(|(l, _)| l.clone())
            .collect();
    }
    retry_with_page_tacs(out);
    sibling_imeis(lines, reread, out);
}

/// A labelled IMEI none of whose readings was valid, read again once the page's other IMEIs
/// are known: a phone's IMEIs share their TAC, so a reading that slipped inside the TAC has
/// one neighbour with the TAC of its sibling ([`reread_or_agree`]). The IMEI read first on a
/// page had no sibling to lean on when it was judged.
fn retry_with_page_tacs(out: &mut GdFields) {
    if out.imeis.is_empty() {
        return;
    }
    let mut keep = Vec::with_capacity(out.invalid_imeis.len());
    for inv in std::mem::take(&mut out.invalid_imeis) {
        let found = inv.readings.split_first().and_then(|(first, again)| {
            let again = again.iter().map(|t| (t.clone(), inv.confidence)).collect();
            reread_or_agree(first, again, false, &out.imeis)
        });
        match found {
            Some((imei, note, conf)) if !out.imeis.iter().any(|i| i.imei == imei) => {
                out.imeis.push(ReadImei {
                    imei,
                    region: inv.region,
                    confidence: conf,
                    note,
                    label: inv.label,
                });
            }
            _ => keep.push(inv),
        }
    }
    out.invalid_imeis = keep;
}

/// Fewest and most digit-like characters a line beside an IMEI line must hold to be read again
/// as the phone's other IMEI (15 digits, give or take misreads and a slot number).
const SIBLING_DIGITS: std::ops::RangeInclusive<usize> = 9..=22;

/// A dual-SIM phone's second IMEI is written on the line right above or below the first, in
/// the same column, under its own label. When that label was misread (`MELT`, `1861`), the
/// line yields nothing; its value column is read again with digit-only settings. A read counts
/// only when it passes the Luhn check **and** its TAC is one a phone on this page already has,
/// or one in the TAC table: a chance Luhn match (one in ten) on some other number almost
/// never carries a real TAC.
fn sibling_imeis(
    lines: &[Line],
    reread: &mut dyn FnMut(Region) -> Vec<(String, f32)>,
    out: &mut GdFields,
) {
    let whole = |l: &Line| l.region(0, l.chars.len());
    // The value column of every line that holds an IMEI label.
    let mut anchors: Vec<(usize, Region)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, line)| {
            let labels = imei_labels(line);
            let value = labels.iter().find_map(|l| value_region(line, &labels, l))?;
            Some((i, value))
        })
        .collect();
    // And of every line an IMEI was read on without a legible label (both labels of a table's
    // two rows misread: the one read gives the column the other is in).
    for r in &out.imeis {
        let cy = r.region.y + r.region.h / 2;
        let on = lines.iter().position(|l| {
            whole(l).is_some_and(|w| w.y <= cy && cy < w.y + w.h && w.overlap(&r.region) > 0)
        });
        if let Some(i) = on {
            if !anchors.iter().any(|a| a.0 == i) {
                anchors.push((i, r.region));
            }
        }
    }
    for &(i, value) in &anchors {
        // The next line up or down; a table's ruling read as a line of junk may stand between.
        for j in [i.wrapping_sub(1), i + 1, i.wrapping_sub(2), i + 2] {
            let Some(line) = lines.get(j) else { continue };
            if anchors.iter().any(|a| a.0 == j) {
                continue;
            }
            let Some(row) = whole(line) else { continue };
            let taken = out
                .imeis
                .iter()
                .map(|r| r.region)
                .chain(out.invalid_imeis.iter().map(|r| r.region))
                .any(|r| r.overlap(&row) > 0);
            if taken {
                continue;
            }
            // Beside the anchor: no more than two line heights apart.
            let gap = (i64::from(row.y) + i64::from(row.h) / 2
                - i64::from(value.y)
                - i64::from(value.h) / 2)
                .unsigned_abs();
            if gap > 2 * u64::from(value.h.max(row.h)) {
                continue;
            }
            let digits = digits_in(&line.chars);
            if !SIBLING_DIGITS.contains(&digits) {
                continue;
            }
            // The anchor's value column, on this line.
            let x0 = value.x.saturating_sub(value.h);
            let x1 = row.x.saturating_add(row.w);
            if x1 <= x0 + value.h {
                continue;
            }
            let region = Region::new(x0, row.y, x1 - x0, row.h);
            let first: String = line.chars.iter().collect();
            let Some((imei, note, conf)) =
                reread_or_agree(&first, reread(region), false, &out.imeis)
            else {
                continue;
            };
            let tac = imei.get(..8).unwrap_or_default();
            let known_tac = out.imeis.iter().any(|r| r.imei.get(..8) == Some(tac))
                || imei::tac::lookup_imei(&imei).is_some();
            if !known_tac || out.imeis.iter().any(|r| r.imei == imei) {
                continue;
            }
            let note = match note {
                Some(n) => format!("{n}; its label was not legible"),
                None => "re-read; its label was not legible".to_owned(),
            };
            // Its box: the words in the column that hold digits (the column itself reaches
            // into the table's rulings, which the glyph checks would take for the digits).
            let digit_words = line.words.iter().filter(|w| {
                w.region.x.saturating_add(w.region.w) > x0
                    && w.text.chars().any(|c| imei::digit_value(c).is_some())
            });
            let tight = crate::gd::text::union(digit_words.map(|w| w.region)).unwrap_or(region);
            out.imeis.push(ReadImei {
                imei,
                region: tight,
                confidence: conf,
                note: Some(note),
                label: Some("IMEI".to_owned()),
            });
        }
    }
}

/// The box of a label's value: from the value's start to the next IMEI label or the end of the
/// line; `None` when nothing follows the label.
fn value_region(line: &Line, labels: &[ImeiLabel], label: &ImeiLabel) -> Option<Region> {
    let end = labels
        .iter()
        .map(|l| l.start)
        .filter(|&s| s > label.end)
        .min()
        .unwrap_or(line.chars.len());
    let mut e = end;
    while e > label.value_from && line.chars.get(e - 1).is_some_and(|c| c.is_whitespace()) {
        e -= 1;
    }
    if e <= label.value_from {
        return None;
    }
    line.region(label.value_from, e)
}

/// A candidate's digits as an IMEI, or why not.
fn read_imei(text: &str, labelled: bool, sv: bool) -> Result<(String, Option<String>), String> {
    if sv {
        return imei::from_imeisv(text)
            .map(|i| (i, Some("from IMEISV".to_owned())))
            .map_err(|e| e.to_string());
    }
    if labelled {
        return imei::repair_ocr(text)
            .map(|r| {
                let note = r.note();
                (r.imei, note)
            })
            .map_err(|e| e.to_string());
    }
    imei::normalize(text)
        .map(|i| (i, None))
        .map_err(|e| e.to_string())
}

fn judge(c: Candidate, reread: &mut dyn FnMut(Region) -> Vec<(String, f32)>, out: &mut GdFields) {
    let Some(region) = c.region else { return };
    let sv = c.label.as_ref().is_some_and(|l| l.sv);
    let name = c.label.as_ref().map(|l| l.name.clone());
    let first = read_imei(&c.text, c.label.is_some(), sv);
    // The re-read of a label's value may hold the phone's other IMEI too (its own label
    // misread): kept when it shares the TAC.
    let mut companions: Option<String> = None;
    let (imei, note, conf) = match first {
        Ok((imei, note)) => match (&c.crowded, &c.label) {
            (Some(whole), Some(_)) => reread_keeping(
                &mut companions,
                whole,
                reread(c.value_region.unwrap_or(region)),
                sv,
                &out.imeis,
            )
            .unwrap_or((imei, note, c.conf)),
            // A TAC no phone has: a wrong reading passes the Luhn check one time in ten, so
            // the digit-only re-reads get a say (the first reading wins a tie).
            _ if !sv && !tac_known(&imei, &out.imeis) => {
                let again = std::iter::once((c.text.clone(), c.conf))
                    .chain(reread(c.value_region.unwrap_or(region)))
                    .collect();
                reread_or_agree("", again, false, &out.imeis)
                    .filter(|found| found.0 != imei)
                    .unwrap_or((imei, note, c.conf))
            }
            _ => (imei, note, c.conf),
        },
        Err(_) if c.label.is_none() && !imei_shaped(&c.text) => return,
        // Unlabelled (its label misread) but written the way IMEIs are: trust only a re-read.
        Err(_) if c.label.is_none() => {
            match reread_or_agree(
                &c.text,
                reread(c.value_region.unwrap_or(region)),
                false,
                &out.imeis,
            ) {
                Some(found) => found,
                None => return,
            }
        }
        Err(reason) => {
            let again = reread(c.value_region.unwrap_or(region));
            let readings: Vec<String> = std::iter::once(c.text.clone())
                .chain(again.iter().map(|r| r.0.clone()))
                .collect();
            match reread_keeping(&mut companions, &c.text, again, sv, &out.imeis) {
                Some(found) => found,
                None => {
                    let value: String = c
                        .text
                        .chars()
                        .filter(|ch| !ch.is_whitespace() && *ch != '-' && *ch != '–')
                        .map(|ch| imei::digit_value(ch).map_or(ch, |d| char::from(b'0' + d)))
                        .collect();
                    if !out.invalid_imeis.iter().any(|i| i.value == value) {
                        out.invalid_imeis.push(InvalidImei {
                            value,
                            region,
                            confidence: c.conf,
                            reason,
                            label: name,
                            readings: if sv { Vec::new() } else { readings },
                        });
                    }
                    return;
                }
            }
        }
    };
    if let Some(first) = out.imeis.iter().find(|i| i.imei == imei) {
        // The same number again somewhere else on the page (not a second reading of the same
        // place): kept aside, since one phone's two IMEIs never match.
        if first.region.overlap(&region) == 0 && name.is_some() {
            out.repeated_imeis.push(ReadImei {
                imei,
                region,
                confidence: conf,
                note,
                label: name,
            });
        }
        return;
    }
    let tac = imei.get(..8).map(str::to_owned);
    out.imeis.push(ReadImei {
        imei,
        region,
        confidence: conf,
        note,
        label: name,
    });
    for other in companions
        .as_deref()
        .map(valid_imeis_in)
        .unwrap_or_default()
    {
        if other.get(..8) == tac.as_deref() && !out.imeis.iter().any(|i| i.imei == other) {
            out.imeis.push(ReadImei {
                imei: other,
                region,
                confidence: conf,
                note: Some("re-read".to_owned()),
                label: None,
            });
        }
    }
}

/// Whether `imei`'s TAC is in the TAC table or is the TAC of an IMEI already read on the page.
fn tac_known(imei: &str, page: &[ReadImei]) -> bool {
    let tac = imei.get(..8);
    imei::tac::lookup_imei(imei).is_some() || page.iter().any(|p| p.imei.get(..8) == tac)
}

/// Every valid IMEI written whole in `text` (group-aligned 15-digit spans).
fn valid_imeis_in(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.nfc().collect();
    digit_runs(&chars)
        .iter()
        .flat_map(|run| imei_spans(run, &chars, 15))
        .filter_map(|(s, e)| imei::normalize(&chars.get(s..e)?.iter().collect::<String>()).ok())
        .collect()
}

/// Whether `text` is written the way IMEIs are on GD copies: 15 digits in at least three groups
/// (of two or more but the check digit), split by spaces or dashes (`8605-6306-9914-402`, `86 056306 991440 2`) — a
/// shape that running text (phone numbers, dates, amounts) does not have.
fn imei_shaped(text: &str) -> bool {
    let mut groups = Vec::new();
    let mut n = 0usize;
    for ch in text.chars().chain(std::iter::once(' ')) {
        if imei::digit_value(ch).is_some() {
            n += 1;
        } else if matches!(ch, ' ' | '-' | '–') {
            if n > 0 {
                groups.push(n);
            }
            n = 0;
        } else {
            return false;
        }
    }
    // Only the check digit may stand alone (`35 209900 176148 1`).
    let body = groups.split_last().map_or(&[][..], |(_, b)| b);
    groups.iter().sum::<usize>() == 15 && groups.len() >= 3 && body.iter().all(|&g| g >= 2)
}

/// [`reread_or_agree`], keeping the best re-read's text in `kept`.
fn reread_keeping(
    kept: &mut Option<String>,
    first: &str,
    again: Vec<(String, f32)>,
    sv: bool,
    page_imeis: &[ReadImei],
) -> Option<(String, Option<String>, f32)> {
    *kept = again.first().map(|r| r.0.clone());
    reread_or_agree(first, again, sv, page_imeis)
}

/// What digit-only re-reads add to a first reading that held no valid IMEI.
///
/// Every valid IMEI any re-read holds, and the one each pair of readings (the first included)
/// agrees on when both slipped ([`imei::consensus`]), is a candidate, and so is the one IMEI
/// with the TAC of an IMEI already read on the page one slip from a single reading
/// ([`imei::known_tac_neighbour`]: a slip inside the TAC). Each candidate is scored
/// by how many readings support it ([`imei::reading_support`]: written whole counts two, one
/// OCR slip away one), plus one when its TAC is in the TAC table and two when it shares its TAC
/// with an IMEI already read on the page (a phone's IMEIs share their TAC). A wrong reading
/// passes the Luhn check one time in ten, so the first valid re-read alone is not trusted when
/// the other readings point elsewhere; beside an IMEI already read, a candidate with another
/// TAC that is not in the table is dropped. The best candidate wins when it stands alone at the
/// top; a tie keeps the first valid re-read, as before.
fn reread_or_agree(
    first: &str,
    again: Vec<(String, f32)>,
    sv: bool,
    page_imeis: &[ReadImei],
) -> Option<(String, Option<String>, f32)> {
    let mut direct: Vec<(String, Option<String>, f32)> = again
        .iter()
        .flat_map(|(text, conf)| reread_imeis(text, sv, *conf))
        .collect();
    if sv {
        return direct.into_iter().next();
    }
    let page_tacs: Vec<&str> = page_imeis.iter().filter_map(|i| i.imei.get(..8)).collect();
    // Beside an IMEI already read, a candidate with another TAC that no phone in the table has
    // is a chance Luhn match on a misreading (`২২ ৮৬৬৩৬-…`, the slot number read into it), not
    // the phone's other slot.
    let stray = |x: &str| {
        !page_tacs.is_empty()
            && !page_tacs.contains(&x.get(..8).unwrap_or_default())
            && imei::tac::lookup_imei(x).is_none()
    };
    direct.retain(|d| !stray(&d.0));
    let conf = again.first().map_or(0.0, |r| r.1);
    let readings: Vec<&str> = std::iter::once(first)
        .chain(again.iter().map(|(t, _)| t.as_str()))
        .collect();
    let mut agreed: Vec<String> = Vec::new();
    for (i, a) in readings.iter().enumerate() {
        for b in readings.iter().skip(i + 1) {
            if let Some(x) = imei::consensus(a, b) {
                if !agreed.contains(&x) && !stray(&x) {
                    agreed.push(x);
                }
            }
        }
    }
    // One reading that slipped inside the TAC: the one neighbour with the TAC of the phone's
    // other IMEI. Not any TAC in the table: a maker's TACs lie close together (Apple's
    // `3544xx06`), so a reading with two slips often has a neighbour on another of them.
    let sibling = |tac: &str| page_tacs.contains(&tac);
    let mut neighbours: Vec<String> = Vec::new();
    for r in &readings {
        if let Some(x) = imei::known_tac_neighbour(r, sibling) {
            if !agreed.contains(&x) && !neighbours.contains(&x) {
                neighbours.push(x);
            }
        }
    }
    let score = |x: &str| -> u32 {
        let support: u32 = readings
            .iter()
            .map(|r| u32::from(imei::reading_support(r, x)))
            .sum();
        let tac = x.get(..8).unwrap_or_default();
        let known = u32::from(imei::tac::lookup_imei(x).is_some());
        let companion = 2 * u32::from(page_tacs.contains(&tac));
        support + known + companion
    };
    let mut scored: Vec<(u32, usize)> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for x in direct
        .iter()
        .map(|d| d.0.as_str())
        .chain(agreed.iter().map(String::as_str))
        .chain(neighbours.iter().map(String::as_str))
    {
        if !names.contains(&x) {
            names.push(x);
            scored.push((score(x), names.len() - 1));
        }
    }
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let best = match scored.as_slice() {
        [] => return None,
        [(_, i)] => *i,
        [(s0, i), (s1, _), ..] if s0 > s1 => *i,
        // A tie at the top: the first valid re-read, else nothing.
        _ => return direct.into_iter().next(),
    };
    let name = names[best];
    if let Some(d) = direct.iter().find(|d| d.0 == name) {
        return Some(d.clone());
    }
    let note = if agreed.iter().any(|a| a == name) {
        "repaired: two readings agree on it"
    } else {
        SIBLING_TAC
    };
    Some((name.to_owned(), Some(note.to_owned()), conf))
}

/// The note of an IMEI put back from one reading by its sibling's TAC.
const SIBLING_TAC: &str =
    "repaired: the one valid IMEI with its sibling's TAC one OCR slip from a reading";

/// Every valid IMEI in a digit-only re-read, left to right.
fn reread_imeis(text: &str, sv: bool, conf: f32) -> Vec<(String, Option<String>, f32)> {
    let chars: Vec<char> = text.nfc().collect();
    let target = if sv { 16 } else { 15 };
    digit_runs(&chars)
        .iter()
        .flat_map(|run| {
            // More digits than an IMEI (a slot number, a digit read twice): a window of them
            // that passes the Luhn check by chance (one in ten) must at least carry a known TAC.
            // A 1 or 2 standing first is the slot number of `IMEI 1: …` read into the value,
            // alone or with the `ঃ`/`:` after it read as a digit (`১৪ ৮৬…`, `1 8 86…`).
            let total = run.iter().map(|g| group_len(g, &chars)).sum::<usize>();
            let first_len = run.first().map_or(0, |g| group_len(g, &chars));
            let slot = run.len() > 1
                && (1..=2).contains(&first_len)
                && run.first().is_some_and(|g| {
                    chars
                        .get(g.start)
                        .and_then(|&c| imei::digit_value(c))
                        .is_some_and(|d| d == 1 || d == 2)
                });
            let slot = slot && total == target + first_len;
            let longer = total > target && !slot;
            let run = if slot {
                run.get(1..).unwrap_or_default()
            } else {
                run
            };
            imei_spans(run, &chars, target)
                .into_iter()
                .map(move |span| (span, longer))
        })
        .filter_map(|((s, e), longer)| {
            let t: String = chars.get(s..e)?.iter().collect();
            let (imei, note) = read_imei(&t, true, sv).ok()?;
            if longer && imei::tac::lookup_imei(&imei).is_none() {
                return None;
            }
            let note = match note {
                Some(n) => format!("re-read, {n}"),
                None => "re-read".to_owned(),
            };
            Some((imei, Some(note), conf))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// GD number.

fn gd_number(line: &Line) -> Option<Field> {
    for hit in find_labels(line, GD_LABELS) {
        let mut i = value_start(line, hit.end);
        // `GD No: GD-1234/2024`: drop the repeated prefix.
        for prefix in find_labels(line, &["gd", "জিডি"]) {
            if prefix.start == i {
                i = skip_seps(line, prefix.end);
            }
        }
        if let Some((value, end)) = number_at(line, i) {
            return line.field(value, i, end);
        }
        // `জিডি aes ২২৮/২৪`: the `নং` after the label misread as a short word.
        let after = garbled_word_end(line, i);
        if let Some((value, end)) = after.and_then(|j| number_at(line, j)) {
            return line.field(value, after.unwrap_or(i), end);
        }
    }
    None
}

/// Past a short word (at most 4 letters, no digit) at `i` and the separators after it: where a
/// value starts when OCR turned the `নং` / `No.` between a label and its value into noise.
fn garbled_word_end(line: &Line, i: usize) -> Option<usize> {
    let mut j = i;
    while line
        .chars
        .get(j)
        .is_some_and(|&c| !c.is_whitespace() && imei::digit_value(c).is_none())
    {
        j += 1;
    }
    let len = j - i;
    let ends_in_space = line.chars.get(j).is_some_and(|c| c.is_whitespace());
    ((1..=4).contains(&len) && ends_in_space).then(|| skip_seps(line, j))
}

/// A labelled value that did not parse, read again with digit-only settings: the region from
/// `from` to the next label (or the line's end), at most `max_chars` characters, re-read and
/// parsed by `parse` as a one-word line. The value's box is the re-read region.
fn reread_value(
    line: &Line,
    from: usize,
    max_chars: usize,
    reread: &mut dyn FnMut(Region) -> Vec<(String, f32)>,
    parse: &dyn Fn(&Line) -> Option<String>,
) -> Option<Field> {
    let next = label_starts(line)
        .into_iter()
        .find(|&s| s > from)
        .unwrap_or(line.chars.len())
        .min(from + max_chars);
    let mut end = next;
    while end > from && line.chars.get(end - 1).is_some_and(|c| c.is_whitespace()) {
        end -= 1;
    }
    let region = line.region(from, end)?;
    first_parsed(region, reread, parse)
}

/// A GD number whose label was not legible (`ভিডি ate 1100/24` for `জিডি নং 1100/24`): on
/// the GD date's line or the one above or below it, a number written `N/YY` (the form thanas
/// number their diaries in) whose `YY` is the GD date's year. Nothing else on a GD copy is
/// written that way with that year: dates have three parts, phone and IMEI numbers no slash.
fn gd_number_by_year(lines: &[Line], date: &Field) -> Option<Field> {
    let yy = date.value.get(2..4)?;
    let dy = |l: &Line| -> Option<u32> {
        let r = l.region(0, l.chars.len())?;
        let (a, b) = (r.y + r.h / 2, date.region.y + date.region.h / 2);
        Some(a.abs_diff(b))
    };
    let near = lines
        .iter()
        .filter(|l| dy(l).is_some_and(|d| d <= 2 * date.region.h.max(1)));
    for line in near {
        for i in 0..line.chars.len() {
            let starts = i == 0 || line.chars.get(i - 1).is_some_and(|c| !c.is_alphanumeric());
            if !starts
                || line
                    .chars
                    .get(i)
                    .and_then(|&c| imei::digit_value(c))
                    .is_none()
            {
                continue;
            }
            let Some((value, end)) = number_at(line, i) else {
                continue;
            };
            let Some((n, y)) = value.split_once('/') else {
                continue;
            };
            if y != yy || n.is_empty() || n.len() > 5 || !n.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let Some(f) = line.field(value.clone(), i, end) else {
                continue;
            };
            if f.region.overlap(&date.region) == 0 {
                return Some(f);
            }
        }
    }
    None
}

/// The GD number re-read after a label whose value did not parse.
fn gd_number_reread(
    lines: &[Line],
    reread: &mut dyn FnMut(Region) -> Vec<(String, f32)>,
) -> Option<Field> {
    for line in lines {
        for hit in find_labels(line, GD_LABELS) {
            let i = value_start(line, hit.end);
            let digitish = line
                .chars
                .get(i..(i + 12).min(line.chars.len()))
                .unwrap_or_default()
                .iter()
                .filter(|&&c| imei::digit_value(c).is_some() || c.is_ascii_alphanumeric())
                .count();
            if digitish == 0 {
                continue;
            }
            let parse = |l: &Line| number_at(l, skip_seps(l, 0)).map(|(v, _)| v);
            if let Some(f) = reread_value(line, i, 12, reread, &parse) {
                return Some(f);
            }
        }
    }
    None
}

/// The GD date re-read after a date label whose value did not parse.
fn gd_date_reread(
    lines: &[Line],
    reread: &mut dyn FnMut(Region) -> Vec<(String, f32)>,
) -> Option<Field> {
    let parse = |l: &Line| dates_in(l, 0).into_iter().next().map(|(v, _, _)| v);
    for line in lines {
        for hit in find_labels(line, DATE_LABELS) {
            let i = value_start(line, hit.end);
            let value = date_value(line, i);
            let set_off = line
                .chars
                .get(hit.end..i)
                .unwrap_or_default()
                .iter()
                .any(|&c| matches!(c, ':' | 'ঃ' | '-' | '–'));
            // A field label with nothing after it: the value may have been left out of the
            // line (merged into the box of the line above); its place on the page is read.
            if value.iter().all(|c| !c.is_alphanumeric()) {
                if let Some(f) = reread_beside(line, hit.end, reread, &parse) {
                    return Some(f);
                }
                continue;
            }
            // A date has digits: `তারিখ` in running text (`… তারিখ আনুমানিক`) is not re-read.
            // After `Date:` Bengali digits read by the English model come out as letters
            // (`৯ VR BVA`), so there ASCII letters count too.
            let digitish = value
                .iter()
                .filter(|&&c| {
                    imei::digit_value(c).is_some() || (set_off && c.is_ascii_alphanumeric())
                })
                .count();
            if digitish < 4 {
                continue;
            }
            if let Some(f) = reread_value(line, i, DATE_VALUE_CHARS, reread, &parse) {
                return Some(f);
            }
        }
    }
    None
}

/// The first digit-only re-read of `region` that `parse` takes, as a field in that region.
fn first_parsed(
    region: Region,
    reread: &mut dyn FnMut(Region) -> Vec<(String, f32)>,
    parse: &dyn Fn(&Line) -> Option<String>,
) -> Option<Field> {
    reread(region).into_iter().find_map(|(text, conf)| {
        let words = [OcrWord { text, region, conf }];
        let value = parse(&Line::new(&words))?;
        Some(Field {
            value,
            region,
            confidence: conf,
        })
    })
}

/// Re-read the place right of a label that ends at `end` on `line` (as wide as a date written
/// at the line's height), for a label whose value is missing from the line.
fn reread_beside(
    line: &Line,
    end: usize,
    reread: &mut dyn FnMut(Region) -> Vec<(String, f32)>,
    parse: &dyn Fn(&Line) -> Option<String>,
) -> Option<Field> {
    let label = line.region(0, end)?;
    let h = label.h.max(8);
    let region = Region::new(label.x + label.w + h / 2, label.y, 10 * h, h);
    first_parsed(region, reread, parse)
}

/// `1234`, `৫৬৭/২৪`, `1234-2024` at `i`: ASCII value and end.
fn number_at(line: &Line, i: usize) -> Option<(String, usize)> {
    let mut value = String::new();
    let mut j = i;
    let mut parts = 0;
    loop {
        let start = j;
        while let Some(d) = line.chars.get(j).and_then(|&c| imei::digit_value(c)) {
            value.push(char::from(b'0' + d));
            j += 1;
        }
        if j == start {
            // A separator with no digits after it is not part of the number.
            if parts > 0 {
                value.pop();
                j -= 1;
            }
            break;
        }
        parts += 1;
        match line.chars.get(j) {
            Some(&c @ ('/' | '-')) if parts < 3 => {
                value.push(c);
                j += 1;
            }
            _ => break,
        }
    }
    // A number glued to letters (`123abc`) or a phone-length run is not a GD number.
    let glued = line.chars.get(j).is_some_and(|c| c.is_alphanumeric());
    let digits = value.chars().filter(char::is_ascii_digit).count();
    (parts > 0 && !glued && digits <= 12).then_some((value, j))
}

// ---------------------------------------------------------------------------------------------
// Dates.

const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("jan", 1),
    ("february", 2),
    ("feb", 2),
    ("march", 3),
    ("mar", 3),
    ("april", 4),
    ("apr", 4),
    ("may", 5),
    ("june", 6),
    ("jun", 6),
    ("july", 7),
    ("jul", 7),
    ("august", 8),
    ("aug", 8),
    ("september", 9),
    ("sept", 9),
    ("sep", 9),
    ("october", 10),
    ("oct", 10),
    ("november", 11),
    ("nov", 11),
    ("december", 12),
    ("dec", 12),
    ("জানুয়ারি", 1),
    ("জানুয়ারী", 1),
    ("জানুয়ারি", 1),
    ("ফেব্রুয়ারি", 2),
    ("ফেব্রুয়ারী", 2),
    ("ফেব্রুয়ারি", 2),
    ("মার্চ", 3),
    ("এপ্রিল", 4),
    ("মে", 5),
    ("জুন", 6),
    ("জুলাই", 7),
    ("আগস্ট", 8),
    ("আগষ্ট", 8),
    ("সেপ্টেম্বর", 9),
    ("অক্টোবর", 10),
    ("নভেম্বর", 11),
    ("ডিসেম্বর", 12),
];

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        _ => 0,
    }
}

/// `YYYY-MM-DD` when (y, m, d) is a real date between 1971 and 2099 (two-digit years are
/// 20YY).
fn iso(y: u32, m: u32, d: u32, year_digits: usize) -> Option<String> {
    let y = if year_digits == 2 { 2000 + y } else { y };
    if year_digits != 2 && year_digits != 4 {
        return None;
    }
    ((1971..=2099).contains(&y) && d >= 1 && d <= days_in_month(y, m))
        .then(|| format!("{y:04}-{m:02}-{d:02}"))
}

/// Digits at `i` (ASCII or Bengali): value, count, end.
fn digits_at(chars: &[char], i: usize) -> Option<(u32, usize, usize)> {
    let mut v = 0u32;
    let mut j = i;
    while let Some(d) = chars.get(j).and_then(|&c| imei::digit_value(c)) {
        v = v.saturating_mul(10).saturating_add(u32::from(d));
        j += 1;
    }
    (j > i).then_some((v, j - i, j))
}

fn month_at(chars: &[char], i: usize) -> Option<(u32, usize)> {
    let mut best: Option<(u32, usize)> = None;
    for (name, m) in MONTHS {
        let name: Vec<char> = name.nfc().collect();
        let got: Vec<char> = chars
            .get(i..i + name.len())
            .unwrap_or_default()
            .iter()
            .flat_map(|c| c.to_lowercase())
            .collect();
        let end = i + name.len();
        // A whole word: `mar` must not be the start of `market`.
        let whole = chars
            .get(end)
            .is_none_or(|c| !c.is_alphabetic() || !c.is_ascii());
        let whole = whole
            && (name.iter().all(char::is_ascii)
                || chars.get(end).is_none_or(|c| !c.is_alphabetic()));
        if got == name && whole && best.is_none_or(|(_, e)| end > e) {
            best = Some((*m, end));
        }
    }
    best
}

fn skip_date_sep(chars: &[char], mut i: usize) -> usize {
    while chars
        .get(i)
        .is_some_and(|&c| c == ' ' || c == ',' || c == '-' || c == '.' || c == '/')
    {
        i += 1;
    }
    i
}

/// A date starting at `i`: ISO value and end.
fn date_at(chars: &[char], i: usize) -> Option<(String, usize)> {
    let numeric_sep = |j: usize| -> Option<usize> {
        let mut k = j;
        while chars.get(k) == Some(&' ') {
            k += 1;
        }
        if !matches!(chars.get(k), Some('/' | '-' | '.')) {
            return None;
        }
        k += 1;
        while chars.get(k) == Some(&' ') {
            k += 1;
        }
        Some(k)
    };
    if let Some((a, na, j)) = digits_at(chars, i) {
        // D/M/Y or Y-M-D.
        if let Some(k) = numeric_sep(j) {
            if let Some((b, nb, k2)) = digits_at(chars, k) {
                if let Some(k3) = numeric_sep(k2) {
                    if let Some((c, nc, end)) = digits_at(chars, k3) {
                        let glued = chars.get(end).is_some_and(|c| c.is_alphanumeric());
                        if !glued && nb <= 2 {
                            if na <= 2 {
                                return iso(c, b, a, nc).map(|v| (v, end));
                            }
                            if na == 4 && nc <= 2 {
                                return iso(a, b, c, 4).map(|v| (v, end));
                            }
                        }
                        return None;
                    }
                }
            }
        }
        // D Month Y (`12 March 2024`, `১২ মার্চ, ২০২৪`, `12th Mar 2024`).
        if na <= 2 {
            let mut j2 = j;
            for suffix in ["st", "nd", "rd", "th"] {
                if chars
                    .get(j..j + 2)
                    .is_some_and(|s| s.iter().collect::<String>().to_lowercase() == suffix)
                {
                    j2 = j + 2;
                }
            }
            let k = skip_date_sep(chars, j2);
            if let Some((m, k2)) = month_at(chars, k) {
                let k3 = skip_date_sep(chars, k2);
                if let Some((y, ny, end)) = digits_at(chars, k3) {
                    return iso(y, m, a, ny).map(|v| (v, end));
                }
            }
        }
        return None;
    }
    // Month D, Y (`March 12, 2024`).
    let (m, k) = month_at(chars, i)?;
    let k = skip_date_sep(chars, k);
    let (d, nd, k2) = digits_at(chars, k)?;
    let k3 = skip_date_sep(chars, k2);
    let (y, ny, end) = digits_at(chars, k3)?;
    (nd <= 2).then_some(())?;
    iso(y, m, d, ny).map(|v| (v, end))
}

/// Every date in a line from char `from`: (value, start, end).
fn dates_in(line: &Line, from: usize) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut i = from;
    while i < line.chars.len() {
        let boundary = i
            .checked_sub(1)
            .and_then(|j| line.chars.get(j))
            .is_none_or(|c| !c.is_alphanumeric());
        if boundary {
            if let Some((v, end)) = date_at(&line.chars, i) {
                out.push((v, i, end));
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// The GD date: after a date label; else a date on the GD number's line; else the first date.
fn gd_date(lines: &[Line], reread: &mut dyn FnMut(Region) -> Vec<(String, f32)>) -> Option<Field> {
    for line in lines {
        for hit in find_labels(line, DATE_LABELS) {
            let i = value_start(line, hit.end);
            if let Some((v, s, e)) = dates_in(line, i).into_iter().next() {
                if s <= i + 2 {
                    return line.field(v, s, e);
                }
            }
        }
    }
    // A labelled date that did not parse (`14- 11-2U2U0`) is read again before any other date
    // on the page (the day of the loss is often in the body) is taken for it.
    if let Some(f) = gd_date_reread(lines, reread) {
        return Some(f);
    }
    let gd_line = lines.iter().find(|l| gd_number(l).is_some());
    // The GD number's own date label holds words or nothing, not a date (text or blank paper
    // pasted or cloned over it): the date is missing. Another date on the page (the day of the loss, in the body) is not
    // the GD's date and must not stand in for it.
    if gd_line.is_some_and(date_label_holds_words) {
        return None;
    }
    // The same for a date label that starts a line of its own (`তারিখঃ` under the GD number)
    // and is set off by a separator or ends the line: that is the form's date field, not the
    // word in running text (`… ১৪/০৫/২০২৪ তারিখ আনুমানিক`, wrapped to a new line).
    if lines.iter().any(|l| date_field_line_holds_words(l)) {
        return None;
    }
    gd_line.into_iter().chain(lines.iter()).find_map(|line| {
        let (v, s, e) = dates_in(line, 0).into_iter().next()?;
        line.field(v, s, e)
    })
}

/// How many characters after a date label hold its value (`২৯ নভেম্বর ২০২২`, `12/03/2024`).
const DATE_VALUE_CHARS: usize = 14;

/// The characters of a date label's value starting at `i`.
fn date_value<'l>(line: &'l Line, i: usize) -> &'l [char] {
    line.chars
        .get(i..(i + DATE_VALUE_CHARS).min(line.chars.len()))
        .unwrap_or_default()
}

/// How many of `chars` are digits (ASCII or Bengali).
fn digits_in(chars: &[char]) -> usize {
    chars
        .iter()
        .filter(|&&c| imei::digit_value(c).is_some())
        .count()
}

/// Whether a date label on `line` is followed by words (three letters or more) with at most one
/// digit in its value ([`DATE_VALUE_CHARS`]), or by nothing at all: no date, however badly read, looks
/// like that.
fn date_label_holds_words(line: &Line) -> bool {
    find_labels(line, DATE_LABELS).iter().any(|hit| {
        let value = date_value(line, value_start(line, hit.end));
        if value.iter().all(|c| !c.is_alphanumeric()) {
            return true;
        }
        let digits = digits_in(value);
        let letters = value
            .iter()
            .filter(|&&c| c.is_alphabetic() && imei::digit_value(c).is_none())
            .count();
        digits <= 1 && letters >= 3
    })
}

/// Whether `line` opens with a date label set off as a form field (a separator after it, or
/// nothing) whose value holds words or nothing ([`date_label_holds_words`]).
fn date_field_line_holds_words(line: &Line) -> bool {
    let first_text = line.chars.iter().position(|c| c.is_alphanumeric());
    let Some(hit) = find_labels(line, DATE_LABELS)
        .into_iter()
        .find(|h| Some(h.start) == first_text)
    else {
        return false;
    };
    let mut j = hit.end;
    while line.chars.get(j).is_some_and(|c| c.is_whitespace()) {
        j += 1;
    }
    let set_off = match line.chars.get(j) {
        None => true,
        Some(&c) => matches!(c, ':' | 'ঃ' | '-' | '–' | '—' | '=' | '.'),
    };
    set_off && date_label_holds_words(line)
}

// ---------------------------------------------------------------------------------------------
// Names: thana, district, brand, model.

/// Ends of a name value: commas, semicolons, the Bengali full stop, brackets.
fn is_name_stop(c: char) -> bool {
    matches!(
        c,
        ',' | ';' | '।' | '|' | '(' | ')' | '[' | ']' | '\n' | '/'
    )
}

/// A name after a label: from `i` to the next stop or label, at most `max_words` words,
/// trimmed of punctuation. `None` when empty or when it starts with a digit.
fn name_after(line: &Line, i: usize, stops: &[usize], max_words: usize) -> Option<Field> {
    let next_label = stops.iter().copied().find(|&s| s > i).unwrap_or(usize::MAX);
    let mut end = i;
    while end < line.chars.len()
        && end < next_label
        && !line.chars.get(end).is_some_and(|&c| is_name_stop(c))
    {
        end += 1;
    }
    name_field(line, i, end, max_words, false)
}

/// The name in chars `start..end`: trimmed, at most `max_words` words (the last ones when
/// `from_end`).
fn name_field(
    line: &Line,
    start: usize,
    end: usize,
    max_words: usize,
    from_end: bool,
) -> Option<Field> {
    let trim = |c: char| c.is_whitespace() || is_label_sep(c) || is_name_stop(c) || c == '"';
    let (mut s, mut e) = (start, end.min(line.chars.len()));
    while s < e && line.chars.get(s).is_some_and(|&c| trim(c)) {
        s += 1;
    }
    while e > s && line.chars.get(e - 1).is_some_and(|&c| trim(c)) {
        e -= 1;
    }
    // Word bounds inside s..e.
    let mut words: Vec<(usize, usize)> = Vec::new();
    let mut k = s;
    while k < e {
        while k < e && line.chars.get(k).is_some_and(|c| c.is_whitespace()) {
            k += 1;
        }
        let ws = k;
        while k < e && line.chars.get(k).is_some_and(|c| !c.is_whitespace()) {
            k += 1;
        }
        if k > ws {
            words.push((ws, k));
        }
    }
    let keep = if from_end {
        words.get(words.len().saturating_sub(max_words)..)?
    } else {
        words.get(..max_words.min(words.len()))?
    };
    let (a, b) = (keep.first()?.0, keep.last()?.1);
    make_name(line, a, b)
}

fn make_name(line: &Line, a: usize, b: usize) -> Option<Field> {
    let mut a = a;
    while a < b
        && line.chars.get(a).is_some_and(|&c| {
            matches!(c, '"' | '\'' | '”' | '’' | '“' | '‘' | '(' | '|' | '_') || c.is_whitespace()
        })
    {
        a += 1;
    }
    let mut b = b;
    while b > a
        && line.chars.get(b - 1).is_some_and(|&c| {
            matches!(
                c,
                '.' | ':' | 'ঃ' | '-' | '"' | '\'' | '”' | '’' | '“' | '‘' | ')' | '|' | '।'
            )
        })
    {
        b -= 1;
    }
    let value = line.text(a, b);
    let first = value.chars().next()?;
    if imei::digit_value(first).is_some() || !first.is_alphabetic() {
        return None;
    }
    line.field(value, a, b)
}

/// Words before a suffix label (`মিরপুর মডেল থানা`, `Mirpur Police Station`) back to the
/// previous stop, dropping an addressee (`অফিসার ইনচার্জ`, `Officer-in-Charge`, `OC`).
fn name_before(line: &Line, label_start: usize, stops: &[usize]) -> Option<Field> {
    let mut s = label_start;
    while s > 0
        && !line
            .chars
            .get(s - 1)
            .is_some_and(|&c| is_name_stop(c) || c == ':' || c == 'ঃ')
    {
        s -= 1;
    }
    if let Some(&prev) = stops.iter().rev().find(|&&x| x < label_start) {
        s = s.max(prev);
    }
    let text = line.text(s, label_start).to_lowercase();
    for addressee in [
        "অফিসার ইনচার্জ",
        "অফিসার-ইন-চার্জ",
        "ভারপ্রাপ্ত কর্মকর্তা",
        "officer-in-charge",
        "officer in charge",
        "oc",
    ] {
        let a: String = addressee.nfc().collect();
        if let Some(p) = text.find(&a) {
            let skip = text.get(..p + a.len()).map_or(0, |t| t.chars().count());
            s += skip;
        }
    }
    name_field(line, s, label_start, 3, true)
}

fn thana_district(lines: &[Line]) -> (Option<Field>, Option<Field>) {
    let (mut thana_label, mut thana_suffix, mut district_label, mut district_addr) =
        (None, None, None, None);
    for (n, line) in lines.iter().enumerate() {
        let stops = label_starts(line);
        for hit in find_labels(line, THANA_LABELS) {
            let after = value_start(line, hit.end);
            let colon = line
                .chars
                .get(hit.end..after)
                .unwrap_or_default()
                .iter()
                .any(|&c| matches!(c, ':' | 'ঃ' | '-'));
            let before = name_before(line, hit.start, &stops);
            if before.is_some() && !colon {
                if thana_suffix.is_none() {
                    thana_suffix = before;
                }
                if district_addr.is_none() {
                    district_addr = district_after_suffix(lines, n, hit.end, &stops);
                }
            } else if thana_label.is_none() {
                // A name after the label is the thana only in the label form (`থানা: মিরপুর`,
                // `Police Station - Mirpur`, or the label first on its line). After `<garbled>
                // থানা, দিনাজপুর` it is the district.
                let first = line
                    .chars
                    .get(..hit.start)
                    .unwrap_or_default()
                    .iter()
                    .all(|c| !c.is_alphanumeric());
                let comma = line
                    .chars
                    .get(hit.end..after)
                    .unwrap_or_default()
                    .contains(&',');
                if colon || (first && !comma) {
                    thana_label = name_after(line, after, &stops, 4);
                } else if district_addr.is_none() {
                    district_addr = district_after_suffix(lines, n, hit.end, &stops);
                }
            }
        }
        for hit in find_labels(line, DISTRICT_LABELS) {
            let after = value_start(line, hit.end);
            if district_label.is_none() {
                let colon = line
                    .chars
                    .get(hit.end..after)
                    .unwrap_or_default()
                    .iter()
                    .any(|&c| matches!(c, ':' | 'ঃ' | '-'));
                let v = if colon {
                    name_after(line, after, &stops, 3)
                } else {
                    None
                };
                district_label = v
                    .or_else(|| name_before(line, hit.start, &stops))
                    .or_else(|| name_after(line, after, &stops, 3));
            }
        }
    }
    (
        thana_label.or(thana_suffix),
        district_label.or(district_addr),
    )
}

/// The district after `<X> থানা` ending at `end` of line `n`: `…, <X> থানা, <Y>` gives `Y`; a
/// thana label at the end of its line (`Porsha Police Station,`) gives a short next line (an
/// address block). A piece after `/` or in brackets is the thana again in another script
/// (`পোরশা থানা / Porsha Police Station`), not a district.
fn district_after_suffix(lines: &[Line], n: usize, end: usize, stops: &[usize]) -> Option<Field> {
    let line = lines.get(n)?;
    let mut j = end;
    while line.chars.get(j).is_some_and(|c| !is_name_stop(*c)) {
        j += 1;
    }
    let rest_empty = line
        .chars
        .get(j + 1..)
        .unwrap_or_default()
        .iter()
        .all(|&c| is_label_sep(c) || is_name_stop(c));
    match line.chars.get(j) {
        Some(',' | ';') if !rest_empty => name_after(line, j + 1, stops, 3),
        // (A line with `/` before the label is a bilingual heading, not an address.)
        Some(',' | ';' | '।') if rest_empty => next_line_name(lines, n),
        None if !line.chars.get(..end).unwrap_or_default().contains(&'/') => {
            next_line_name(lines, n)
        }
        _ => None,
    }
}

/// A short line after line `n` (an address block's next line) as a name.
fn next_line_name(lines: &[Line], n: usize) -> Option<Field> {
    lines.get(n + 1).and_then(|l| {
        let short = l.words.len() <= 3
            && !l
                .chars
                .iter()
                .any(|c| imei::digit_value(*c).is_some() || *c == ':' || *c == 'ঃ');
        if short {
            name_after(l, 0, &label_starts(l), 3)
        } else {
            None
        }
    })
}

fn brand_model(lines: &[Line]) -> (Option<Field>, Option<Field>) {
    let (mut brand, mut model, mut mobile_brand, mut mobile_model) = (None, None, None, None);
    let mut brand_rest = None;
    for line in lines {
        let stops = label_starts(line);
        for hit in find_labels(line, BRAND_LABELS) {
            if brand.is_none() && introduces_value(line, hit) {
                let i = value_start(line, hit.end);
                // `Brand: Samsung Galaxy A12`: the maker's name is the brand, the rest a model.
                match leading_maker(line, i) {
                    Some((b, rest)) => {
                        brand = Some(b);
                        if brand_rest.is_none() {
                            brand_rest = model_after(line, rest, &stops);
                        }
                    }
                    None => brand = name_after(line, i, &stops, 3),
                }
            }
        }
        for hit in find_labels(line, MODEL_LABELS) {
            if model.is_none() && introduces_value(line, hit) {
                let mut i = value_start(line, hit.end);
                // `Brand/Model: Samsung Galaxy A12`, `Model: Samsung Galaxy A12`: a maker's name
                // first is the brand (kept when no brand was read yet), the rest the model.
                if let Some((b, rest)) = leading_maker(line, i) {
                    let same = brand
                        .as_ref()
                        .is_none_or(|x| imei::tac::maker(&x.value) == imei::tac::maker(&b.value));
                    if same && model_after(line, rest, &stops).is_some() {
                        if brand.is_none() {
                            brand = Some(b);
                        }
                        i = rest;
                    }
                }
                model = model_after(line, i, &stops);
            }
        }
        for hit in find_labels(line, MOBILE_LABELS) {
            if mobile_brand.is_some() {
                break;
            }
            let mut i = skip_seps(line, hit.end);
            // `মোবাইল ফোন (Samsung A12)`: the brackets hold the phone.
            let open = line
                .chars
                .get(hit.end..i)
                .unwrap_or_default()
                .contains(&'(');
            let end = if open {
                let mut e = i;
                while line.chars.get(e).is_some_and(|&c| c != ')') {
                    e += 1;
                }
                e
            } else {
                let next_label = stops.iter().copied().find(|&s| s > i).unwrap_or(usize::MAX);
                let mut e = i;
                while e < line.chars.len()
                    && e < next_label
                    && !line.chars.get(e).is_some_and(|&c| is_name_stop(c))
                {
                    e += 1;
                }
                e
            };
            // Only Latin names: `মোবাইল নং ০১৭…`, `মোবাইল ফোন হারানো` are not phones.
            let Some((b0, b1)) = word_span(line, i) else {
                continue;
            };
            let word = line.text(b0, b1);
            if !word.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
                continue;
            }
            if word.eq_ignore_ascii_case("no") || word.eq_ignore_ascii_case("number") {
                continue;
            }
            mobile_brand = line.field(word, b0, b1);
            i = skip_seps(line, b1);
            if i < end {
                mobile_model = name_field(line, i, end, 4, false).or_else(|| {
                    let (m0, _) = word_span(line, i)?;
                    let mut m1 = end;
                    while m1 > m0 && line.chars.get(m1 - 1).is_some_and(|c| c.is_whitespace()) {
                        m1 -= 1;
                    }
                    line.field(line.text(m0, m1), m0, m1)
                });
            }
        }
    }
    (
        brand.or(mobile_brand),
        model.or(brand_rest).or(mobile_model),
    )
}

/// A model name from `i`: up to four words to the next stop or label, or the one word there
/// when it starts with a digit (`1100`).
fn model_after(line: &Line, i: usize, stops: &[usize]) -> Option<Field> {
    name_after(line, i, stops, 4).or_else(|| {
        // Models are often all digits and letters like `A12`, `1100`: allow digits.
        let (_, end) = word_span(line, i)?;
        line.field(line.text(i, end), i, end)
    })
}

/// A maker's name (`Samsung`, `স্যামসাং`) as the word at `i`: its field and where the rest of
/// the value starts.
fn leading_maker(line: &Line, i: usize) -> Option<(Field, usize)> {
    let i = skip_seps(line, i);
    let (b0, b1) = word_span(line, i)?;
    let word = line.text(b0, b1);
    imei::tac::maker(&word)?;
    let field = line.field(word, b0, b1)?;
    Some((field, skip_seps(line, b1)))
}

/// Whether a brand or model label introduces a value: a `:`, `ঃ`, `-` or `=` follows it, or a
/// Latin letter or digit does (`Model A12`), not a comma or a Bengali word (`মিরপুর মডেল, …`).
fn introduces_value(line: &Line, hit: Hit) -> bool {
    let mut j = hit.end;
    while line.chars.get(j).is_some_and(|c| c.is_whitespace()) {
        j += 1;
    }
    line.chars
        .get(j)
        .is_some_and(|&c| matches!(c, ':' | 'ঃ' | '-' | '=') || c.is_ascii_alphanumeric())
}

/// The word (no spaces) starting at `i`.
fn word_span(line: &Line, i: usize) -> Option<(usize, usize)> {
    let mut e = i;
    while line
        .chars
        .get(e)
        .is_some_and(|&c| !c.is_whitespace() && !is_name_stop(c) && c != ':' && c != 'ঃ')
    {
        e += 1;
    }
    (e > i).then_some((i, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gd::text::OcrLine;

    /// A page from text lines: words laid out left to right, 12 px per char, 40 px per line.
    fn page(text: &str) -> OcrPage {
        let lines = text
            .lines()
            .enumerate()
            .map(|(n, l)| {
                let mut x = 10;
                let y = 10 + 40 * u32::try_from(n).unwrap_or(0);
                let words = l
                    .split_whitespace()
                    .map(|w| {
                        let width = 12 * u32::try_from(w.chars().count()).unwrap_or(1);
                        let word = OcrWord {
                            text: w.to_owned(),
                            region: Region::new(x, y, width, 30),
                            conf: 0.9,
                        };
                        x += width + 12;
                        word
                    })
                    .collect();
                OcrLine::from_words(words)
            })
            .collect();
        OcrPage {
            width: 2000,
            height: 3000,
            lines,
        }
    }

    fn no_reread(_: Region) -> Vec<(String, f32)> {
        Vec::new()
    }

    fn fields(text: &str) -> GdFields {
        extract(&page(text), &mut no_reread)
    }

    fn imeis(text: &str) -> Vec<(String, Option<String>, Option<String>)> {
        fields(text)
            .imeis
            .into_iter()
            .map(|i| (i.imei, i.label, i.note))
            .collect()
    }

    fn s(x: &str) -> Option<String> {
        Some(x.to_owned())
    }

    #[test]
    fn imei_table() {
        const A: &str = "352099001761481";
        const B: &str = "352099001761499";
        for (text, expect) in [
            ("IMEI: 352099001761481", vec![(A, s("IMEI"), None)]),
            ("IMEI1: 352099001761481", vec![(A, s("IMEI 1"), None)]),
            ("IMEI-1: 35-209900-176148-1", vec![(A, s("IMEI 1"), None)]),
            ("IMEI 2 352099001761499", vec![(B, s("IMEI 2"), None)]),
            ("IMEI No. 352099001761481", vec![(A, s("IMEI"), None)]),
            ("IMEI No: ৩৫২০ ৯৯০০ ১৭৬১ ৪৮১", vec![(A, s("IMEI"), None)]),
            ("আইএমইআই ১ঃ ৩৫২০৯৯০০১৭৬১৪৮১", vec![(A, s("IMEI 1"), None)]),
            ("আই এম ই আই নং: 352099001761481", vec![(A, s("IMEI"), None)]),
            ("ইমেই নম্বর 352099001761481", vec![(A, s("IMEI"), None)]),
            ("lMEl: 352099001761481", vec![(A, s("IMEI"), None)]),
            ("IME] 2: 352099001761499", vec![(B, s("IMEI 2"), None)]),
            ("IME]I-1: 352099001761481", vec![(A, s("IMEI 1"), None)]),
            ("INEI 2: 352099001761499", vec![(B, s("IMEI 2"), None)]),
            ("IME} 1 352099001761481", vec![(A, s("IMEI 1"), None)]),
            ("IMFI: 352099001761481", vec![(A, s("IMEI"), None)]),
            // Words one edit from `imei` that are 3 letters or 6+ are not labels; a bare valid
            // number is still found, unlabelled.
            ("TIME 352099001761481", vec![(A, None, None)]),
            ("[MEI: 352099001761481", vec![(A, s("IMEI"), None)]),
            ("IMEI352099001761481", vec![(A, s("IMEI"), None)]),
            (
                "IMEI : 352O99001761481",
                vec![(A, s("IMEI"), s("repaired O→0 at 4"))],
            ),
            (
                "IMEI 1: 352099001761481 IMEI 2: 352099001761499",
                vec![(A, s("IMEI 1"), None), (B, s("IMEI 2"), None)],
            ),
            (
                "IMEI: 352099001761481, 352099001761499",
                vec![(A, s("IMEI"), None), (B, s("IMEI"), None)],
            ),
            (
                "IMEISV: 3520990017614823",
                vec![(A, s("IMEISV"), s("from IMEISV"))],
            ),
            ("IMEI 1\n352099001761481", vec![(A, s("IMEI 1"), None)]),
            // One digit too many (a Bengali glyph read as two digits): the deletion that gives
            // a Luhn-valid IMEI with the page's other IMEI's TAC.
            (
                "IMEI 1: 352099001761481\nIMEI 2: ৩৫২০ ৯৪৯০০ ১৭৬১ ৪৯৯",
                vec![(A, s("IMEI 1"), None), (B, s("IMEI 2"), s(SIBLING_TAC))],
            ),
            // The first IMEI's leading digit lost: put back once the second one is read.
            (
                "IMEI 1: 52099001761481\nIMEI 2: 352099001761499",
                vec![(B, s("IMEI 2"), None), (A, s("IMEI 1"), s(SIBLING_TAC))],
            ),
            // A slip in the serial has a neighbour with the sibling's TAC at every serial
            // position: not guessed.
            (
                "IMEI 1: 352099001761482\nIMEI 2: 352099001761499",
                vec![(B, s("IMEI 2"), None)],
            ),
            // … but not without another IMEI of the same TAC on the page.
            (
                "IMEI 1: 490154203237518\nIMEI 2: 3520949001761499",
                vec![("490154203237518", s("IMEI 1"), None)],
            ),
            ("হারানো ফোনের নম্বর 352099001761481 ছিল", vec![(A, None, None)]),
            // The same IMEI twice is one IMEI.
            (
                "IMEI: 352099001761481\nIMEI 352099001761481",
                vec![(A, s("IMEI"), None)],
            ),
            // Negatives: a non-Luhn 15-digit number, NID numbers, a mobile number.
            ("Phone 880171234567890", vec![]),
            ("Phone +880 1712 345678 90", vec![]),
            ("NID: 1234567890", vec![]),
            ("NID: 19902691234567891", vec![]),
            ("জাতীয় পরিচয়পত্র নং ১৯৯০২৬৯১২৩৪৫৬৭৮৯", vec![]),
            ("NID 1990269123456", vec![]),
            ("মোবাইল নং 01712345678", vec![]),
            // Unlabelled look-alikes are not repaired.
            ("352O99001761481", vec![]),
            ("", vec![]),
        ] {
            let want: Vec<(String, Option<String>, Option<String>)> = expect
                .into_iter()
                .map(|(i, l, n)| (i.to_owned(), l, n))
                .collect();
            assert_eq!(imeis(text), want, "{text}");
        }
    }

    #[test]
    fn a_valid_span_of_a_longer_run_is_re_read() {
        // `IMEI 1 - 86-781102-299540-3` with the dash read as `৪`: the first fifteen digits pass
        // the Luhn check by chance.
        const LINE: &str = "IMEI 1 ৪86-781102-299540-3";
        for (reread, expect) in [
            (Some("86-781102-299540-3"), "867811022995403"),
            // Nothing better in the re-read: what was read stays.
            (None, "486781102299540"),
        ] {
            let mut asked = 0;
            let got = extract(&page(LINE), &mut |_| {
                asked += 1;
                reread.map(|t| (t.to_owned(), 0.9)).into_iter().collect()
            });
            let imeis: Vec<&str> = got.imeis.iter().map(|i| i.imei.as_str()).collect();
            assert_eq!(imeis, vec![expect], "{reread:?}");
            assert_eq!(asked, 1, "{reread:?}");
        }
        // A run of exactly fifteen digits is not re-read.
        let mut asked = 0;
        let got = extract(&page("IMEI 1 86-781102-299540-3"), &mut |_| {
            asked += 1;
            vec![]
        });
        assert_eq!(got.imeis.len(), 1);
        assert_eq!(asked, 0);
    }

    #[test]
    fn an_imei_shaped_number_whose_label_was_misread_is_re_read() {
        const A: &str = "352099001761481";
        // (line, what the digit re-read returns, IMEI expected)
        for (text, reread, expect) in [
            // `IMEI 1` read as `17161 1`; the digits misread; the re-read has them right.
            (
                "17161 1: ৩৫২০-৯৯০০-১৭৬১-৪৮২",
                s("3520-9900-1761-481"),
                Some(A),
            ),
            ("Xx 35 209900 176148 2", s("35 209900 176148 1"), Some(A)),
            // The re-read finds no valid IMEI either: nothing (and no `imei_invalid`).
            ("17161 1: ৩৫২০-৯৯০০-১৭৬১-৪৮২", s("3520-9900-1761-482"), None),
            // Not IMEI-shaped (one block, or two): not re-read.
            ("নম্বর 352099001761482", s("352099001761481"), None),
            ("নম্বর 3520990 01761482", s("352099001761481"), None),
        ] {
            let mut asked = 0;
            let got = extract(&page(text), &mut |_| {
                asked += 1;
                reread.clone().map(|t| (t, 0.9)).into_iter().collect()
            });
            let want: Vec<&str> = expect.into_iter().collect();
            let imeis: Vec<&str> = got.imeis.iter().map(|i| i.imei.as_str()).collect();
            assert_eq!(imeis, want, "{text}");
            assert!(got.invalid_imeis.is_empty(), "{text}");
            if let Some(i) = got.imeis.first() {
                assert_eq!(i.note.as_deref(), Some("re-read"), "{text}");
                assert_eq!(i.label, None, "{text}");
            }
            assert!(asked <= 1, "{text}: asked {asked} times");
        }
    }

    #[test]
    fn a_second_imei_whose_label_was_misread_is_read_in_the_first_ones_column() {
        const A: &str = "352099001761481";
        const B: &str = "352099001761556"; // same TAC as A
                                           // (lines, what the digit re-read of the sibling returns, IMEIs expected)
        for (text, reread, expect) in [
            // `IMEI 2` read as `MELT`, a glyph split in two: the re-read has it.
            (
                "IMEI 1: 35 209900 176148 1\nMELT ৩৫২০ ৯৯০০ ১৭৬১ ৫৫ 8 1",
                "৩৫ ২০৯৯০০ ১৭৬১৫৫ ৬",
                vec![A, B],
            ),
            // A table's ruling read as a junk line between the two.
            (
                "IMEI-1: 352099001761481\n| 1 77\n17157-2: ৩৫২০৯৯০০ ১৭৬১৫৫ ৯",
                "৩৫২০৯৯০০১৭৬১৫৫৬",
                vec![A, B],
            ),
            // Luhn-valid (999999912345671), but no phone has that TAC: not taken.
            (
                "IMEI 1: 35 209900 176148 1\nMELT 9999 9991 2345 6 7 2 1",
                "99 999991 234567 1",
                vec![A],
            ),
            // The re-read finds nothing valid.
            (
                "IMEI 1: 35 209900 176148 1\nMELT ৩৫ ২০৯৯০০ ১৭৬১৫৫ 8",
                "৩৫ ২০৯৯০০ ১৭৬১৫৫ ৭",
                vec![A],
            ),
            // Too few digits to be an IMEI (a phone number line): not re-read.
            ("IMEI 1: 35 209900 176148 1\nMobile: 0190 1275", B, vec![A]),
            // Both rows' labels misread (`আইএমইআই ১:` as `8741 1:`), the first IMEI's `3` as
            // `#`: the IMEI read on the second row gives the column to read the first in.
            (
                "8741 1: #520 9900 1761 481\n11 2: 3520 9900 1761 556",
                "3520 9900 1761 481",
                vec![B, A],
            ),
            // The same with a number whose TAC neither matches nor is known: not taken.
            (
                "8741 1: #999 9991 2345 671\n11 2: 3520 9900 1761 556",
                "9999 9991 2345 671",
                vec![B],
            ),
        ] {
            let got = extract(&page(text), &mut |_| vec![(reread.to_owned(), 0.9)]);
            let imeis: Vec<&str> = got.imeis.iter().map(|i| i.imei.as_str()).collect();
            assert_eq!(imeis, expect, "{text}: {:?}", got.imeis);
            if let Some(second) = got.imeis.get(1) {
                assert!(
                    second
                        .note
                        .as_deref()
                        .is_some_and(|n| n.contains("re-read")),
                    "{text}: {:?}",
                    second.note
                );
            }
        }
    }

    #[test]
    fn a_slot_number_read_into_a_re_read_is_left_out() {
        // (re-read text, IMEIs found)
        for (text, expect) in [
            ("১ ৮৬ ৪৮৯৫০২ ১৫৮০৬৬ ৫", vec!["864895021580665"]),
            ("2 86 489502 158066 5", vec!["864895021580665"]),
            // The `ঃ` after the slot number read as a digit.
            ("১৪ ৮৬২৪১৯৯৩১৮৮৭২৯২", vec!["862419931887292"]),
            ("১৪ ৮৬ ৪৮৯৫০২ ১৫৮০৬৬ ৫", vec!["864895021580665"]),
            // Two digits first, but no slot number (5) and no known TAC: not trusted.
            ("৫৪ ৮৬২৪১৯৯৩১৮৮৭২৯২", vec![]),
            ("৮৬ ৪৮৯৫০২ ১৫৮০৬৬ ৫", vec!["864895021580665"]),
            // Not a slot number (3), and the TAC is in no table: a longer run is not trusted.
            ("3 86 489502 158066 5", vec![]),
            // Two digits too many: no slot number.
            ("1 2 86 489502 158066 5", vec![]),
        ] {
            let got: Vec<String> = reread_imeis(text, false, 0.9)
                .into_iter()
                .map(|r| r.0)
                .collect();
            assert_eq!(got, expect, "{text}");
        }
    }

    #[test]
    fn two_slipped_readings_agree_on_one_imei() {
        const A: &str = "860563064703925";
        for (text, reread, expect) in [
            // A changed digit in the first reading, an extra one in the re-read.
            (
                "IMEI 2: ৮৬০৫ -৬৩০৬- ৪৭ ৬৩-৯২৫",
                "১ ৮৬০৫-৬৩৩০৬-৪৭০৩-৯২৫",
                Some(A),
            ),
            ("IME] 2: 8605 6306 4763 925", "8605-6306-4703-935", Some(A)),
            // The same slip in both: no repair, the reading stays invalid.
            ("IMEI: 8605 6306 4763 925", "8605-6306-4763-925", None),
        ] {
            let got = extract(&page(text), &mut |_| vec![(reread.to_owned(), 0.5)]);
            match expect {
                Some(want) => {
                    let i = got.imeis.first().expect("an IMEI");
                    assert_eq!(i.imei, want, "{text}");
                    assert!(
                        i.note.as_deref().is_some_and(|n| n.starts_with("repaired")),
                        "{text}: {:?}",
                        i.note
                    );
                    assert!(got.invalid_imeis.is_empty(), "{text}");
                }
                None => {
                    assert!(got.imeis.is_empty(), "{text}");
                    assert_eq!(got.invalid_imeis.len(), 1, "{text}");
                }
            }
        }
    }

    #[test]
    fn a_re_read_passing_luhn_by_chance_loses_to_readings_that_agree() {
        const A: &str = "860563064703925";
        // The first re-read is valid but wrong (two digits off; one wrong reading in ten passes
        // the Luhn check); the first reading and two more re-reads each slipped once from A.
        let rereads = [
            ("8605 6306 4005 925", 0.6),
            ("8605-6306-4703-935", 0.5),
            ("৮৬০৫ ৬৩০৬ ৪৭০৩ ৯২", 0.4),
        ];
        let got = extract(&page("IMEI 1: 8605 6306 4763 925"), &mut |_| {
            rereads.iter().map(|(t, c)| ((*t).to_owned(), *c)).collect()
        });
        let i = got.imeis.first().expect("an IMEI");
        assert_eq!(i.imei, A);
        // With only the wrong one and one slipped re-read, the tie keeps the valid re-read.
        let got = extract(&page("IMEI 1: 8605 6306 4763 925"), &mut |_| {
            vec![("8605 6306 4005 925".to_owned(), 0.6)]
        });
        assert_eq!(
            got.imeis.first().map(|i| i.imei.as_str()),
            Some("860563064005925")
        );
    }

    #[test]
    fn the_other_imei_in_a_re_read_is_kept_when_it_shares_the_tac() {
        // `IMEI 2` read as `161 2`: one label's value holds both numbers.
        let line = "IME! 1 ৩৫২ ১৬৭০৫৬৫৯৮৯০৭১ 161 2 - ৩৫ ২১৬৭ ০৫ 6৯৭ ৯৯৩৬";
        for (reread, want) in [
            (
                "৩৫২১৬৭০৫৬৫৮৯০৭১ 11861 2- ৩৫২১৬৭০৫৪৯৭৯৯৩৬",
                vec!["352167056589071", "352167054979936"],
            ),
            // Another phone's IMEI (another TAC) is not taken along.
            (
                "৩৫২১৬৭০৫৬৫৮৯০৭১ 11861 2- 352099001761481",
                vec!["352167056589071"],
            ),
        ] {
            let got = extract(&page(line), &mut |_| vec![(reread.to_owned(), 0.6)]);
            let imeis: Vec<&str> = got.imeis.iter().map(|i| i.imei.as_str()).collect();
            assert_eq!(imeis, want, "{reread}");
        }
    }

    #[test]
    fn garbled_number_and_date_values_are_re_read() {
        // (line, what the re-read returns, GD number, date)
        for (text, reread, number, date) in [
            ("জিডি aes ২২৮/২৪", "", s("228/24"), None),
            (
                "GD No. 2817 Date 14- 11-2U2U0",
                "14-11-2020",
                s("2817"),
                s("2020-11-14"),
            ),
            ("GD No.: ২৭ই৮", "২৭৮", s("278"), None),
            ("তারিখঃ ১৪ ০১ ২০৭২৭", "১৪/০১/২০২২", None, s("2022-01-14")),
            // Running text with `তারিখ` and no digits after it: nothing re-read, nothing made up.
            ("গত রাতে তারিখ আনুমানিক বিকেলে", "১৪/০১/২০২২", None, None),
            // A re-read that still does not parse gives nothing.
            ("Date: 1x-1y-20zz", "1-1-", None, None),
        ] {
            let f = extract(&page(text), &mut |_| {
                if reread.is_empty() {
                    Vec::new()
                } else {
                    vec![(reread.to_owned(), 0.7)]
                }
            });
            assert_eq!(f.gd_number.map(|f| f.value), number, "{text}");
            assert_eq!(f.gd_date.map(|f| f.value), date, "{text}");
        }
    }

    #[test]
    fn invalid_imei_table() {
        for (text, expect) in [
            ("IMEI: 352099001761482", vec!["352099001761482"]),
            ("IMEI: 35209900176148", vec!["35209900176148"]),
            ("IMEI 1: 3520990017614811", vec!["3520990017614811"]),
            ("আইএমইআই: ৩৫২০৯৯০০১৭৬১৪৮২", vec!["352099001761482"]),
            ("IMEI: 352099001761481", vec![]),
            ("Phone 880171234567890", vec![]),
        ] {
            let got: Vec<String> = fields(text)
                .invalid_imeis
                .into_iter()
                .map(|i| i.value)
                .collect();
            assert_eq!(got, expect, "{text}");
        }
    }

    #[test]
    fn reread_replaces_an_invalid_first_read() {
        let p = page("IMEI: 352099001761482");
        let mut asked = Vec::new();
        let mut reread = |r: Region| {
            asked.push(r);
            vec![("352099001761481".to_owned(), 0.8)]
        };
        let f = extract(&p, &mut reread);
        assert_eq!(asked.len(), 1);
        assert_eq!(f.imeis.len(), 1);
        assert_eq!(f.imeis[0].imei, "352099001761481");
        assert_eq!(f.imeis[0].note.as_deref(), Some("re-read"));
        assert!((f.imeis[0].confidence - 0.8).abs() < 1e-6);
        assert!(f.invalid_imeis.is_empty());
        // The re-read box is the digits' word, not the label.
        assert_eq!(asked[0], Region::new(82, 10, 180, 30));
    }

    #[test]
    fn reread_of_a_label_value_read_as_letters() {
        // The digits were read as letters and split: no candidate, but the label's value is
        // read again, up to the next label.
        let p = page("IMEI 1: ৮5 ak 15১ 36) S7/771R IMEI 2: 352099001761499");
        let mut asked = Vec::new();
        let mut reread = |r: Region| {
            asked.push(r);
            vec![("35 209900 176148 1".to_owned(), 0.7)]
        };
        let f = extract(&p, &mut reread);
        let got: Vec<(&str, Option<&str>)> = f
            .imeis
            .iter()
            .map(|i| (i.imei.as_str(), i.label.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("352099001761499", Some("IMEI 2")),
                ("352099001761481", Some("IMEI 1"))
            ]
        );
        assert_eq!(asked.len(), 1);
        // Up to the second label, which is not re-read.
        let end = asked[0].x + asked[0].w;
        assert!(end < 500, "{:?}", asked[0]);
        assert!(f.invalid_imeis.is_empty());
    }

    #[test]
    fn reread_covers_digits_read_as_symbols() {
        // The last digit was read as `&`: the whole value is re-read, not just 14 digits.
        let p = page("IMEI-1: ৩৫ ২০৯৯০০ ১৭৬১৪৮ &");
        let mut asked = Vec::new();
        let mut reread = |r: Region| {
            asked.push(r);
            vec![("৩৫ ২০৯৯০০ ১৭৬১৪৮ ১".to_owned(), 0.7)]
        };
        let f = extract(&p, &mut reread);
        assert_eq!(f.imeis.len(), 1);
        assert_eq!(f.imeis[0].imei, "352099001761481");
        let last_word_end = 10 + [7, 2, 6, 6, 1].iter().map(|n| 12 * n + 12).sum::<u32>() - 12;
        assert_eq!(asked[0].x + asked[0].w, last_word_end);
    }

    #[test]
    fn reread_that_fails_keeps_the_invalid_read() {
        let p = page("IMEI: 352099001761482");
        let mut reread = |_: Region| vec![("352099001761483".to_owned(), 0.8)];
        let f = extract(&p, &mut reread);
        assert!(f.imeis.is_empty());
        assert_eq!(f.invalid_imeis.len(), 1);
        // A valid first read is never re-read.
        let mut calls = 0;
        let mut count = |_: Region| {
            calls += 1;
            Vec::new()
        };
        let _ = extract(&page("IMEI: 352099001761481"), &mut count);
        assert_eq!(calls, 0);
    }

    #[test]
    fn a_stray_tac_beside_a_read_imei_is_not_taken() {
        // The second IMEI's re-read passes the Luhn check by chance with a TAC no phone has
        // (the slot number read into it), beside an IMEI already read: left invalid.
        assert!(imei::is_valid("228663458272102"));
        assert!(imei::tac::lookup_imei("228663458272102").is_none());
        let p = page("IMEI 1: 352099001761481\nIMEI 2: ২২ ৮৬৬৩৬ ৫৮ ২৭২ ১০২ ৯৮");
        let mut reread = |_: Region| vec![("২২ ৮৬৬৩৪৫৮২৭২১০২".to_owned(), 0.5)];
        let f = extract(&p, &mut reread);
        let got: Vec<&str> = f.imeis.iter().map(|i| i.imei.as_str()).collect();
        assert_eq!(got, vec!["352099001761481"]);
        assert_eq!(f.invalid_imeis.len(), 1);
        // Alone on its page it is taken (nothing says it is not the phone's).
        let alone = extract(&page("IMEI: ২২ ৮৬৬৩৬ ৫৮ ২৭২ ১০২ ৯৮"), &mut reread);
        let got: Vec<&str> = alone.imeis.iter().map(|i| i.imei.as_str()).collect();
        assert_eq!(got, vec!["228663458272102"]);
    }

    #[test]
    fn date_reread_table() {
        // (page text, what a digit-only re-read of the asked region gives, GD date, whether
        // the region asked lies right of the label)
        for (text, again, want, beside) in [
            // Bengali digits read by the English model as letters after `Date:`.
            (
                "GD No.: 1088\nDate: ৯ VR BVA",
                "১৪-০২-২০২২",
                s("2022-02-14"),
                false,
            ),
            // The value left out of the label's line: the place right of the label is read.
            (
                "জিডি নংঃ 1192/24\nতারিখঃ",
                "26/12/2024",
                s("2024-12-26"),
                true,
            ),
            // … and nothing there (blank paper over the date) leaves the date missing.
            (
                "জিডি নংঃ 1192/24\nতারিখঃ\nগত 21/12/2024 তারিখ আনুমানিক",
                "",
                None,
                true,
            ),
            // Words after the label in running text are not re-read.
            ("on this date the phone was lost", "12/03/2024", None, false),
        ] {
            let p = page(text);
            let mut asked = Vec::new();
            let mut reread = |r: Region| {
                asked.push(r);
                if again.is_empty() {
                    Vec::new()
                } else {
                    vec![(again.to_owned(), 0.8)]
                }
            };
            let f = extract(&p, &mut reread);
            assert_eq!(f.gd_date.map(|d| d.value), want, "{text}");
            if want.is_some() || beside {
                let Some(r) = asked.last().copied() else {
                    panic!("{text}: nothing re-read");
                };
                let alone = p.lines.iter().find(|l| l.words.len() == 1);
                if let (true, Some(l)) = (beside, alone.and_then(|l| l.words.first())) {
                    let l = l.region;
                    assert!(r.x >= l.x + l.w && r.y == l.y, "{text}: {r:?} beside {l:?}");
                }
            }
        }
    }

    #[test]
    fn imei_region_covers_the_digits() {
        let f = fields("IMEI: 35-209900-176148-1");
        assert_eq!(f.imeis[0].region, Region::new(82, 10, 216, 30));
        let f = fields("IMEI:352099001761481");
        // Label and digits in one word: the digits' share of the word.
        let r = f.imeis[0].region;
        assert_eq!((r.x, r.w), (10 + 12 * 5, 12 * 15));
    }

    fn one(text: &str, get: fn(&GdFields) -> &Option<Field>) -> Option<String> {
        get(&fields(text)).as_ref().map(|f| f.value.clone())
    }

    #[test]
    fn gd_number_table() {
        for (text, expect) in [
            ("জিডি নং ১২৩৪", s("1234")),
            ("জি.ডি নং: ৫৬৭/২৪", s("567/24")),
            ("জিডি নম্বরঃ ৮৯০", s("890")),
            ("জডি নং: 835 তারিখ: 16 নভেম্বর 2023", s("835")),
            ("জিড নং ৪৪", s("44")),
            ("জি ডি নং- ১২৩৪ তারিখ ১২/০৩/২০২৪", s("1234")),
            ("GD No. 1234", s("1234")),
            ("GD No: GD-1234/2024", s("1234/2024")),
            ("G.D. No 77", s("77")),
            ("GD Number : 4321", s("4321")),
            ("GD-1234/2024", s("1234/2024")),
            ("সাধারণ ডায়েরি নং ৪৫", s("45")),
            ("GD copy", None),
            ("GD No: abc", None),
            ("No 1234", None),
            // The label misread: an `N/YY` beside the GD date, of the date's year.
            ("ভিডি ate 1100/24 wfee: 09/08/2024", s("1100/24")),
            ("ভিডি ate ৫৬৭/২৩\nতারিখঃ ১২/০৩/২০২৩", s("567/23")),
            ("ভিডি ate 1100/23 wfee: 09/08/2024", None),
            ("ভিডি ate 1100 wfee: 09/08/2024", None),
            // Far from the date (the body, a dozen lines on): not the GD number.
            ("তারিখঃ ১২/০৩/২০২৩\nক\nখ\nগ\nঘ\nঙ\nচ\nছ\nমামলা ৫৬৭/২৩", None),
        ] {
            assert_eq!(one(text, |f| &f.gd_number), expect, "{text}");
        }
    }

    #[test]
    fn gd_date_table() {
        for (text, expect) in [
            ("তারিখ: ১২/০৩/২০২৪", s("2024-03-12")),
            ("তারিখঃ ১২-০৩-২০২৪", s("2024-03-12")),
            ("Date: 12.03.2024", s("2024-03-12")),
            ("Date : 2024-03-12", s("2024-03-12")),
            ("Date: 12 March 2024", s("2024-03-12")),
            ("Date: 1st Sept, 2023", s("2023-09-01")),
            ("Dated March 12, 2024", s("2024-03-12")),
            ("তারিখ: ১২ মার্চ ২০২৪", s("2024-03-12")),
            ("তারিখ: ৫ জানুয়ারি, ২০২৩", s("2023-01-05")),
            ("তাং ২৯/০২/২০২৪", s("2024-02-29")),
            ("তারিখ - ০৫.১১.২০২৩ ইং", s("2023-11-05")),
            ("Date: 29/02/2000", s("2000-02-29")),
            ("Date: 29/02/2100", None),
            ("Date: 12/03/24", s("2024-03-12")),
            ("জিডি নং ১২৩৪ ১২/০৩/২০২৪", s("2024-03-12")),
            ("জিডি নং ১২৩৪\nতারিখ ০১/০১/২০২৪", s("2024-01-01")),
            // Not dates.
            ("তারিখ: ৩১/০২/২০২৪", None),
            ("Date: 29/02/2023", None),
            ("Date: 12/13/2024", None),
            ("Date: 00/01/2024", None),
            ("updated 12/03/2024x", None),
            ("Date:", None),
            // The GD number's date label holds words (text cloned over the date): the day of
            // the loss in the body does not stand in for it.
            (
                "জিডি নং: ৯৭০ তারিখ: প্রজাতন্ত্রী বাংলাদেশ\nগত ২৭/১১/২০২২ তারিখ আনুমানিক",
                None,
            ),
            (
                "GD No. 970 Date: Bangladesh Police\non 27/11/2022 at about",
                None,
            ),
            // … or nothing (blank paper cloned over it).
            ("GD No. 970 Date:\non 27/11/2022 at about", None),
            // A date label on a line of its own, holding words or nothing.
            ("জিডি নং: ৬৩\nতারিখ:\nগত ১৪/০৪/২০১৯ তারিখ আনুমানিক", None),
            (
                "জিডি নংঃ ৫১/২৪\nতারিখঃ রী প্রদীপ pa\nগত ১৪/০৫/২০২৪ তারিখ আনুমানিক",
                None,
            ),
            ("GD No. 51/24\nDate -\non 14/05/2024 at about", None),
            // Running text that wraps before the word তারিখ is no date field.
            (
                "জিডি নং: ৬৩\nগত ১৪/০৪/২০১৯\nতারিখ আনুমানিক ১১ ঘটিকার সময়",
                s("2019-04-14"),
            ),
            // A badly read date still has digits: the body's date is the fallback.
            (
                "জিডি নং: ৯৭০ তারিখ: ২৯ নভেম ২o২২\nগত ২৭/১১/২০২২ তারিখ আনুমানিক",
                s("2022-11-27"),
            ),
        ] {
            assert_eq!(one(text, |f| &f.gd_date), expect, "{text}");
        }
    }

    #[test]
    fn thana_district_table() {
        type Row = (&'static str, Option<&'static str>, Option<&'static str>);
        let rows: Vec<Row> = vec![
            ("থানাঃ মিরপুর, জেলাঃ ঢাকা", Some("মিরপুর"), Some("ঢাকা")),
            ("থানা: মিরপুর মডেল জেলা: ঢাকা", Some("মিরপুর মডেল"), Some("ঢাকা")),
            (
                "অফিসার ইনচার্জ, মিরপুর মডেল থানা, ঢাকা।",
                Some("মিরপুর মডেল"),
                Some("ঢাকা"),
            ),
            (
                "বরাবর\nঅফিসার ইনচার্জ\nকোতোয়ালী থানা\nচট্টগ্রাম।",
                Some("কোতোয়ালী"),
                Some("চট্টগ্রাম"),
            ),
            (
                "Officer-in-Charge, Mirpur Model Police Station, Dhaka",
                Some("Mirpur Model"),
                Some("Dhaka"),
            ),
            (
                "Thana: Kotwali District: Chattogram",
                Some("Kotwali"),
                Some("Chattogram"),
            ),
            ("P.S.: Savar, Dist. Dhaka", Some("Savar"), Some("Dhaka")),
            (
                "পোরশা থানা / Porsha Police Station\nTo,\nPorsha Police Station,\nNaogaon.",
                Some("পোরশা"),
                Some("Naogaon"),
            ),
            ("Police Station : Gulshan", Some("Gulshan"), None),
            ("জেলাঃ সিলেট", None, Some("সিলেট")),
            ("জিডি নং ১২৩৪", None, None),
            ("থানাঃ ১২৩", None, None),
            // The thana's name garbled before the label: the name after it is the district,
            // not the thana.
            ("81101 Police Station, Dinajpur", None, Some("Dinajpur")),
            ("_ ‘ থানা, দিনাজপুর”", None, Some("দিনাজপুর")),
            (
                "81101 Police Station, Dinajpur\n'বিরল থানা,\nদিনাজপুর",
                Some("বিরল"),
                Some("Dinajpur"),
            ),
        ];
        for (text, thana, district) in rows {
            let f = fields(text);
            assert_eq!(f.thana.map(|x| x.value).as_deref(), thana, "thana: {text}");
            assert_eq!(
                f.district.map(|x| x.value).as_deref(),
                district,
                "district: {text}"
            );
        }
    }

    #[test]
    fn brand_model_table() {
        type Row = (&'static str, Option<&'static str>, Option<&'static str>);
        let rows: Vec<Row> = vec![
            ("Brand: Samsung", Some("Samsung"), None),
            (
                "ব্র্যান্ডঃ Xiaomi, মডেলঃ Redmi Note 9",
                Some("Xiaomi"),
                Some("Redmi Note 9"),
            ),
            (
                "Brand: Samsung Model: Galaxy A12",
                Some("Samsung"),
                Some("Galaxy A12"),
            ),
            (
                "Mobile: Samsung Galaxy A12",
                Some("Samsung"),
                Some("Galaxy A12"),
            ),
            (
                "মোবাইল ফোন (Samsung A12) হারিয়ে গেছে",
                Some("Samsung"),
                Some("A12"),
            ),
            ("Model: 1100", None, Some("1100")),
            (
                "Brand/Model - Samsung Galaxy A12",
                Some("Samsung"),
                Some("Galaxy A12"),
            ),
            (
                "ব্র্যান্ড/মডেলঃ Xiaomi Redmi Note 9",
                Some("Xiaomi"),
                Some("Redmi Note 9"),
            ),
            ("Brand: Nokia 105", Some("Nokia"), Some("105")),
            (
                "Brand: Samsung, Model: Samsung Galaxy A12",
                Some("Samsung"),
                Some("Galaxy A12"),
            ),
            ("Model: Galaxy A12", None, Some("Galaxy A12")),
            (
                "ব্র্যান্ড ও মডেলঃ স্যামসাং Galaxy A12",
                Some("স্যামসাং"),
                Some("Galaxy A12"),
            ),
            ("মোবাইল নং 01712345678", None, None),
            ("মোবাইল ফোন হারানো", None, None),
            ("Mobile No: 01712345678", None, None),
        ];
        for (text, brand, model) in rows {
            let f = fields(text);
            assert_eq!(f.brand.map(|x| x.value).as_deref(), brand, "brand: {text}");
            assert_eq!(f.model.map(|x| x.value).as_deref(), model, "model: {text}");
        }
    }

    #[test]
    fn whole_gd_in_bengali() {
        let text = "বাংলাদেশ পুলিশ\n\
            থানাঃ মিরপুর মডেল, জেলাঃ ঢাকা\n\
            জিডি নং- ৫৬৭/২৪ তারিখঃ ১২ মার্চ ২০২৪\n\
            বিষয়: মোবাইল ফোন হারানো প্রসঙ্গে।\n\
            মোবাইল ফোন (Samsung Galaxy A12)\n\
            আইএমইআই ১ঃ ৩৫২০ ৯৯০০ ১৭৬১ ৪৮১\n\
            আইএমইআই ২ঃ ৩৫২০৯৯০০১৭৬১৪৯৯\n\
            আমার মোবাইল নং ০১৭১২৩৪৫৬৭৮";
        let f = fields(text);
        assert_eq!(f.gd_number.map(|x| x.value).as_deref(), Some("567/24"));
        assert_eq!(f.gd_date.map(|x| x.value).as_deref(), Some("2024-03-12"));
        assert_eq!(f.thana.map(|x| x.value).as_deref(), Some("মিরপুর মডেল"));
        assert_eq!(f.district.map(|x| x.value).as_deref(), Some("ঢাকা"));
        assert_eq!(f.brand.map(|x| x.value).as_deref(), Some("Samsung"));
        assert_eq!(f.model.map(|x| x.value).as_deref(), Some("Galaxy A12"));
        let got: Vec<(&str, Option<&str>)> = f
            .imeis
            .iter()
            .map(|i| (i.imei.as_str(), i.label.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("352099001761481", Some("IMEI 1")),
                ("352099001761499", Some("IMEI 2"))
            ]
        );
        assert!(f.invalid_imeis.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,80}") {
            let _ = fields(&text);
        }

        #[test]
        fn never_panics_on_gd_like_text(text in "(IMEI|জিডি নং|তারিখ|থানা|জেলা|Model|মোবাইল|[০-৯0-9OlS:ঃ/., -]){0,20}") {
            let _ = fields(&text);
        }
    }
}
