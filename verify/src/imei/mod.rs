//! IMEI numbers: normalise typed input (ASCII or Bengali digits, spaces, dashes), check the Luhn
//! digit, convert IMEISV to IMEI, relate two IMEIs of one dual-SIM phone, repair OCR letter/digit
//! confusions when the Luhn digit confirms exactly one reading, look up the TAC ([`tac`]), and read
//! IMEIs off a box's barcode or a `*#06#` screen ([`scan`]).

pub mod scan;
pub mod tac;

/// Why a typed IMEI is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImeiError {
    /// A character that is neither a digit nor a separator.
    #[error("an IMEI has only digits; found `{0}`")]
    NotADigit(char),
    /// Not 15 digits (or 14 for a body, 16 for an IMEISV).
    #[error("an IMEI has 15 digits; this has {0}")]
    WrongLength(usize),
    /// The Luhn check digit does not match.
    #[error("the check digit is wrong (Luhn): the last digit should be {expected}")]
    BadCheckDigit {
        /// The check digit the first 14 digits call for.
        expected: u8,
    },
}

/// Map an ASCII or Bengali digit to its value.
pub fn digit_value(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '০'..='৯' => u8::try_from(u32::from(c) - u32::from('০')).ok(),
        _ => None,
    }
}

/// The Luhn check digit for `digits` (the IMEI without its last digit).
pub fn luhn_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    u8::try_from((10 - sum % 10) % 10).unwrap_or(0)
}

/// Digit values of `input`, skipping whitespace, `-` and `/`.
fn digits_of(input: &str) -> Result<Vec<u8>, ImeiError> {
    let mut digits = Vec::with_capacity(16);
    for c in input.chars() {
        if c.is_whitespace() || c == '-' || c == '/' {
            continue;
        }
        digits.push(digit_value(c).ok_or(ImeiError::NotADigit(c))?);
    }
    Ok(digits)
}

fn to_ascii(digits: &[u8]) -> String {
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

/// Normalise `input` to 15 ASCII digits with a valid Luhn check digit.
pub fn normalize(input: &str) -> Result<String, ImeiError> {
    let digits = digits_of(input)?;
    if digits.len() != 15 {
        return Err(ImeiError::WrongLength(digits.len()));
    }
    let expected = luhn_check_digit(&digits[..14]);
    if digits[14] != expected {
        return Err(ImeiError::BadCheckDigit { expected });
    }
    Ok(to_ascii(&digits))
}

/// The check digit for a 14-digit IMEI body (ASCII or Bengali digits; spaces and dashes skipped).
pub fn check_digit(body: &str) -> Result<u8, ImeiError> {
    let digits = digits_of(body)?;
    if digits.len() != 14 {
        return Err(ImeiError::WrongLength(digits.len()));
    }
    Ok(luhn_check_digit(&digits))
}

/// Whether `input` is a 15-digit IMEI with a correct Luhn digit (see [`normalize`]).
pub fn is_valid(input: &str) -> bool {
    normalize(input).is_ok()
}

/// The IMEI of an IMEISV: an IMEISV is the 14-digit body followed by a 2-digit software version
/// (no check digit); the IMEI is the body followed by its Luhn digit.
pub fn from_imeisv(input: &str) -> Result<String, ImeiError> {
    let digits = digits_of(input)?;
    if digits.len() != 16 {
        return Err(ImeiError::WrongLength(digits.len()));
    }
    let mut imei = digits[..14].to_vec();
    imei.push(luhn_check_digit(&imei));
    Ok(to_ascii(&imei))
}

/// Digit sequences a reading may hold an IMEI in: its digits split into groups at spaces and
/// dashes (anything else ends a group too), and every run of whole neighbouring groups with 14 to
/// 16 digits (a slot number or a stray mark read as a digit makes its own group).
fn imei_windows(reading: &str) -> Vec<Vec<u8>> {
    let mut groups: Vec<Vec<Vec<u8>>> = vec![vec![]];
    let mut cur: Vec<u8> = Vec::new();
    for c in reading.chars().chain(std::iter::once('\u{0}')) {
        if let Some(d) = digit_value(c) {
            cur.push(d);
            continue;
        }
        let line = groups.last_mut();
        if !cur.is_empty() {
            if let Some(line) = line {
                line.push(std::mem::take(&mut cur));
            }
        }
        if !(c.is_whitespace() || c == '-' || c == '–') {
            groups.push(Vec::new());
        }
    }
    let mut out = Vec::new();
    for run in &groups {
        for i in 0..run.len() {
            let mut seq: Vec<u8> = Vec::new();
            for g in run.iter().skip(i) {
                seq.extend(g);
                if seq.len() > 16 {
                    break;
                }
                if seq.len() >= 14 {
                    out.push(seq.clone());
                }
            }
        }
    }
    out
}

/// The Luhn-valid IMEIs one OCR slip away from `digits`: one digit changed (exactly one value per
/// position passes the Luhn check), one digit too many dropped, or one missing put back.
fn one_slip_away(digits: &[u8]) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let mut push = |d: &[u8]| {
        if d.len() == 15 && luhn_check_digit(&d[..14]) == d[14] {
            out.insert(to_ascii(d));
        }
    };
    match digits.len() {
        15 => {
            for i in 0..15 {
                let mut d = digits.to_vec();
                for v in 0..10 {
                    if v != digits[i] {
                        d[i] = v;
                        push(&d);
                    }
                }
            }
        }
        16 => {
            for i in 0..16 {
                let mut d = digits.to_vec();
                d.remove(i);
                push(&d);
            }
        }
        14 => {
            for i in 0..=14 {
                for v in 0..10 {
                    let mut d = digits.to_vec();
                    d.insert(i, v);
                    push(&d);
                }
            }
        }
        _ => {}
    }
    out
}

/// The one IMEI two independent readings of the same number agree on when neither is valid: the
/// only Luhn-valid IMEI within one OCR slip (a changed, an extra or a missing digit) of *both*.
/// Readings that slipped at different places pin the true number down; readings with the same
/// slip, readings that differ only in one digit both got wrong, or readings agreeing on nothing
/// give `None`. A reading that is itself a valid IMEI is left to
/// the caller.
pub fn consensus(a: &str, b: &str) -> Option<String> {
    let (wa, wb) = (imei_windows(a), imei_windows(b));
    let near = |ws: &[Vec<u8>]| {
        ws.iter()
            .flat_map(|w| one_slip_away(w))
            .collect::<std::collections::BTreeSet<String>>()
    };
    let (na, nb) = (near(&wa), near(&wb));
    let mut both = na.intersection(&nb);
    let one = match (both.next(), both.next()) {
        (Some(one), None) => one.clone(),
        _ => return None,
    };
    // Two readings that differ in one digit only, both wrong there, say little: the page may
    // hold another slip both made. The slips must be at different places.
    let x: Vec<u8> = one.bytes().map(|c| c - b'0').collect();
    let changed_at = |w: &[u8]| {
        let diff: Vec<usize> = (0..w.len().min(15)).filter(|&i| w[i] != x[i]).collect();
        (w.len() == 15 && diff.len() == 1).then(|| diff[0])
    };
    let slips = |ws: &[Vec<u8>]| {
        ws.iter()
            .filter(|w| one_slip_away(w).contains(&one))
            .map(|w| changed_at(w))
            .collect::<Vec<_>>()
    };
    let (sa, sb) = (slips(&wa), slips(&wb));
    let apart = sa
        .iter()
        .any(|p| sb.iter().any(|q| p.is_none() || q.is_none() || p != q));
    apart.then_some(one)
}

/// The one Luhn-valid IMEI within one OCR slip (a changed, an extra or a missing digit) of
/// `reading` whose 8-digit TAC `known` accepts (a TAC in the TAC table, or the TAC of the
/// phone's other IMEI on the page), when there is exactly one.
///
/// One reading that slipped is not enough on its own: every position has one digit that
/// passes the Luhn check. But a slip inside the TAC leaves a TAC no phone has, and of the few
/// neighbours that change a TAC digit, a random one lands on an allocated TAC about one time
/// in five hundred (some 25 000 of 10⁸ TACs are in the table; far more often near a maker's
/// other TACs, so callers use the TAC of the phone's other IMEI). A slip in the serial keeps a
/// known TAC at every serial position, so several candidates remain and none is chosen.
pub fn known_tac_neighbour(reading: &str, known: impl Fn(&str) -> bool) -> Option<String> {
    let mut found = std::collections::BTreeSet::new();
    for w in imei_windows(reading) {
        for x in one_slip_away(&w) {
            if x.get(..8).is_some_and(&known) {
                found.insert(x);
            }
        }
        if found.len() > 1 {
            return None;
        }
    }
    let mut it = found.into_iter();
    match (it.next(), it.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

/// How well a reading supports `imei`: 2 when one of its IMEI-sized digit windows is exactly
/// it, 1 when one is a single OCR slip away from it (a changed, an extra or a missing digit),
/// 0 otherwise.
pub fn reading_support(reading: &str, imei: &str) -> u8 {
    let mut best = 0;
    for w in imei_windows(reading) {
        if to_ascii(&w) == imei {
            return 2;
        }
        if best == 0 && one_slip_away(&w).contains(imei) {
            best = 1;
        }
    }
    best
}

/// The most the 6-digit serials of the two slots of one dual-SIM phone are taken to differ by.
///
/// Heuristic: makers that number both slots from one TAC mostly give consecutive serials or
/// serials a few apart (interleaved numbering). Two phones of one production batch can also be
/// this close, so this is a hint, never proof.
pub const DUAL_SIM_MAX_SERIAL_GAP: u32 = 16;

/// How two IMEIs relate (see [`pair_relation`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairRelation {
    /// Both are the same IMEI.
    Identical,
    /// Same TAC and serials at most [`DUAL_SIM_MAX_SERIAL_GAP`] apart: looks like the two
    /// slots of one dual-SIM phone.
    LikelyDualSim {
        /// |serial(a) − serial(b)|.
        serial_gap: u32,
    },
    /// Same TAC (same model) but serials far apart: more likely two phones of one model.
    SameModel {
        /// |serial(a) − serial(b)|.
        serial_gap: u32,
    },
    /// Different TACs: different models (some makers give the second slot another TAC, so
    /// this is not proof of two phones either).
    DifferentTac,
    /// At least one is not a valid IMEI.
    Invalid,
}

/// Whether two IMEIs look like the two slots of one dual-SIM phone.
///
/// Heuristic (documented, not a standard): same 8-digit TAC and 6-digit serials (digits 9–14)
/// no more than [`DUAL_SIM_MAX_SERIAL_GAP`] apart.
pub fn pair_relation(a: &str, b: &str) -> PairRelation {
    let (Ok(a), Ok(b)) = (normalize(a), normalize(b)) else {
        return PairRelation::Invalid;
    };
    if a == b {
        return PairRelation::Identical;
    }
    if a.get(..8) != b.get(..8) {
        return PairRelation::DifferentTac;
    }
    let serial = |s: &str| s.get(8..14).and_then(|x| x.parse::<u32>().ok());
    let (Some(sa), Some(sb)) = (serial(&a), serial(&b)) else {
        return PairRelation::Invalid;
    };
    let serial_gap = sa.abs_diff(sb);
    if serial_gap <= DUAL_SIM_MAX_SERIAL_GAP {
        PairRelation::LikelyDualSim { serial_gap }
    } else {
        PairRelation::SameModel { serial_gap }
    }
}

/// One character of an OCR token read as a digit other than itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CharRepair {
    /// 1-based position among the 15 digits.
    pub position: usize,
    /// What OCR read.
    pub from: char,
    /// The ASCII digit it was taken to be.
    pub to: char,
}

/// An IMEI read from an OCR token, with what was repaired to make it valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcrImei {
    /// 15 ASCII digits, Luhn-valid.
    pub imei: String,
    /// The characters read as other digits (empty when the token was clean).
    pub repairs: Vec<CharRepair>,
}

impl OcrImei {
    /// A short note for the report, e.g. `repaired O→0 at 7, l→1 at 12`; `None` without repairs.
    pub fn note(&self) -> Option<String> {
        if self.repairs.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .repairs
            .iter()
            .map(|r| format!("{}→{} at {}", r.from, r.to, r.position))
            .collect();
        Some(format!("repaired {}", parts.join(", ")))
    }
}

/// Why an OCR token was not taken as an IMEI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OcrImeiError {
    /// Not 15 digit-like characters.
    #[error("an IMEI has 15 digits; the token has {0} digit-like characters")]
    WrongLength(usize),
    /// A character that is neither a digit nor a known look-alike.
    #[error("`{0}` is not a digit or a known look-alike")]
    Unreadable(char),
    /// More look-alike characters than [`MAX_OCR_REPAIRS`].
    #[error("too many look-alike characters ({0}) to trust a repair")]
    TooManyRepairs(usize),
    /// No reading passes the Luhn check: the number as read (ASCII digits, look-alikes mapped).
    #[error("no reading passes the Luhn check (read `{read}`)")]
    LuhnFails {
        /// The most likely reading.
        read: String,
    },
    /// More than one reading passes the Luhn check: not guessed.
    #[error("{0} readings pass the Luhn check; not guessing")]
    Ambiguous(usize),
}

/// The most look-alike characters an OCR token may have and still be repaired.
pub const MAX_OCR_REPAIRS: usize = 3;

/// Which digits a token is mostly written in: a digit of the other script that looks like one
/// of these is as likely a misread of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    /// Mostly ASCII digits: `৪` (4) may be an `8`, `৭` (7) a `9`.
    Ascii,
    /// Mostly Bengali digits: `8` may be a `৪` (4), `9` a `৭` (7).
    Bengali,
    /// Neither (no digits, or as many of each).
    Unknown,
}

impl Script {
    fn of(chars: &[char]) -> Script {
        let ascii = chars.iter().filter(|c| c.is_ascii_digit()).count();
        let bengali = chars.iter().filter(|c| ('০'..='৯').contains(*c)).count();
        match ascii.cmp(&bengali) {
            std::cmp::Ordering::Greater => Script::Ascii,
            std::cmp::Ordering::Less => Script::Bengali,
            std::cmp::Ordering::Equal => Script::Unknown,
        }
    }
}

/// Digits a look-alike character may stand for, most likely first, in a token mostly written
/// in `script`.
fn lookalike(c: char, script: Script) -> Option<&'static [u8]> {
    Some(match c {
        'O' | 'o' | 'D' | 'Q' | 'U' | '°' | 'ο' | 'О' | 'о' => &[0],
        'I' | 'l' | '|' | 'i' | '!' | 'L' | 'j' | 'J' | 'í' | 'ı' => &[1],
        'Z' | 'z' => &[2],
        'S' | 's' | '$' => &[5],
        'G' | 'b' => &[6],
        'T' => &[7],
        'B' => &[8],
        'g' | 'q' => &[9],
        'A' => &[4],
        // Bengali digits that look like other ASCII digits: ৪ (4) like 8, ৭ (7) like 9 — and
        // the other way round among Bengali digits (the English model reads ৪ as 8).
        '৪' if script == Script::Ascii => &[4, 8],
        '৭' if script == Script::Ascii => &[7, 9],
        '8' if script == Script::Bengali => &[4, 8],
        '9' if script == Script::Bengali => &[7, 9],
        _ => return None,
    })
}

/// Whether `c` is a letter or sign OCR often reads in place of a digit (`O`, `l`, `S`, `B` …;
/// see [`repair_ocr`]). Digits themselves are not look-alikes.
pub fn is_lookalike(c: char) -> bool {
    digit_value(c).is_none() && lookalike(c, Script::Ascii).is_some()
}

/// Read an OCR token as an IMEI, repairing letter/digit look-alikes (O→0, l→1, S→5, B→8 …)
/// only when the Luhn digit confirms exactly one reading.
///
/// Spaces and dashes are skipped. An all-digit token that fails the Luhn check is never
/// "repaired": any single wrong digit has several Luhn-valid replacements, so it is reported as
/// [`OcrImeiError::LuhnFails`]. A token with two readings that both pass is
/// [`OcrImeiError::Ambiguous`].
pub fn repair_ocr(token: &str) -> Result<OcrImei, OcrImeiError> {
    let chars: Vec<char> = token
        .chars()
        .filter(|c| !(c.is_whitespace() || *c == '-' || *c == '–'))
        .collect();
    if chars.len() != 15 {
        return Err(OcrImeiError::WrongLength(chars.len()));
    }
    let script = Script::of(&chars);
    // Per position: the candidate digits, and whether it is a look-alike.
    let mut options: Vec<(&[u8], bool)> = Vec::with_capacity(15);
    const DIGITS: [[u8; 1]; 10] = [[0], [1], [2], [3], [4], [5], [6], [7], [8], [9]];
    for &c in &chars {
        if let Some(alts) = lookalike(c, script) {
            options.push((alts, true));
        } else if let Some(d) = digit_value(c) {
            options.push((&DIGITS[usize::from(d)], false));
        } else {
            return Err(OcrImeiError::Unreadable(c));
        }
    }
    let repairs = options.iter().filter(|(_, l)| *l).count();
    if repairs > MAX_OCR_REPAIRS {
        return Err(OcrImeiError::TooManyRepairs(repairs));
    }
    // Enumerate every reading (at most 2^MAX_OCR_REPAIRS) and keep the Luhn-valid ones.
    let mut valid: Vec<Vec<u8>> = Vec::new();
    let mut current = vec![0u8; 15];
    enumerate(&options, 0, &mut current, &mut valid);
    match valid.len() {
        0 => Err(OcrImeiError::LuhnFails {
            read: to_ascii(&options.iter().map(|(o, _)| o[0]).collect::<Vec<_>>()),
        }),
        1 => {
            let digits = &valid[0];
            let repairs = chars
                .iter()
                .zip(digits)
                .enumerate()
                .filter(|(_, (c, d))| digit_value(**c) != Some(**d))
                .map(|(i, (c, d))| CharRepair {
                    position: i + 1,
                    from: *c,
                    to: char::from(b'0' + d),
                })
                .collect();
            Ok(OcrImei {
                imei: to_ascii(digits),
                repairs,
            })
        }
        n => Err(OcrImeiError::Ambiguous(n)),
    }
}

fn enumerate(options: &[(&[u8], bool)], i: usize, current: &mut [u8], out: &mut Vec<Vec<u8>>) {
    let Some((alts, _)) = options.get(i) else {
        if luhn_check_digit(&current[..14]) == current[14] {
            out.push(current.to_vec());
        }
        return;
    };
    for &d in alts.iter() {
        current[i] = d;
        enumerate(options, i + 1, current, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expect: Result<&str, ImeiError>) {
        assert_eq!(normalize(input), expect.map(str::to_owned), "{input}");
    }

    #[test]
    fn table() {
        check("490154203237518", Ok("490154203237518"));
        check("49-015420-323751-8", Ok("490154203237518"));
        check("৪৯০১৫৪২০৩২৩৭৫১৮", Ok("490154203237518"));
        check("356938035643809", Ok("356938035643809"));
        check(
            "490154203237519",
            Err(ImeiError::BadCheckDigit { expected: 8 }),
        );
        check("49015420323751", Err(ImeiError::WrongLength(14)));
        check("4901542032375180", Err(ImeiError::WrongLength(16)));
        check("49015420323751x", Err(ImeiError::NotADigit('x')));
        check("", Err(ImeiError::WrongLength(0)));
    }

    #[test]
    fn check_digit_and_validity() {
        for (body, expect) in [
            ("49015420323751", Ok(8)),
            ("35693803564380", Ok(9)),
            ("35-209900-176148", Ok(1)),
            ("৩৫২০৯৯০০১৭৬১৪৮", Ok(1)),
            ("3520990017614", Err(ImeiError::WrongLength(13))),
            ("35209900176148a", Err(ImeiError::NotADigit('a'))),
        ] {
            assert_eq!(check_digit(body), expect, "{body}");
        }
        for (s, ok) in [
            ("352099001761481", true),
            ("352099001761482", false),
            ("35209900176148", false),
            ("3520990017614811", false),
            ("৩৫২০ ৯৯০০ ১৭৬১ ৪৮১", true),
            ("", false),
        ] {
            assert_eq!(is_valid(s), ok, "{s}");
        }
    }

    #[test]
    fn imeisv() {
        for (sv, expect) in [
            ("3520990017614823", Ok("352099001761481")),
            ("35-209900-176148-23", Ok("352099001761481")),
            ("4901542032375100", Ok("490154203237518")),
            ("352099001761481", Err(ImeiError::WrongLength(15))),
            ("35209900176148x3", Err(ImeiError::NotADigit('x'))),
        ] {
            assert_eq!(from_imeisv(sv), expect.map(str::to_owned), "{sv}");
        }
    }

    #[test]
    fn pairs() {
        use PairRelation::*;
        for (a, b, expect) in [
            ("352099001761481", "352099001761481", Identical),
            (
                "352099001761481",
                "352099001761499",
                LikelyDualSim { serial_gap: 1 },
            ),
            (
                "352099001761481",
                "352099001761564",
                LikelyDualSim { serial_gap: 8 },
            ),
            (
                "352099001761481",
                "352099009999992",
                SameModel { serial_gap: 823851 },
            ),
            ("352099001761481", "490154203237518", DifferentTac),
            ("352099001761482", "352099001761499", Invalid),
            ("", "352099001761499", Invalid),
        ] {
            assert_eq!(pair_relation(a, b), expect, "{a} {b}");
            assert_eq!(pair_relation(b, a), expect, "{b} {a}");
        }
    }

    fn repaired(token: &str) -> Result<(String, Option<String>), OcrImeiError> {
        repair_ocr(token).map(|r| {
            let note = r.note();
            (r.imei, note)
        })
    }

    #[test]
    fn ocr_repair_table() {
        let ok = |s: &str, n: Option<&str>| Ok((s.to_owned(), n.map(str::to_owned)));
        for (token, expect) in [
            ("352099001761481", ok("352099001761481", None)),
            ("35-209900-176148-1", ok("352099001761481", None)),
            ("৩৫২০ ৯৯০০ ১৭৬১ ৪৮১", ok("352099001761481", None)),
            (
                "352O99001761481",
                ok("352099001761481", Some("repaired O→0 at 4")),
            ),
            (
                "352099OO1761481",
                ok("352099001761481", Some("repaired O→0 at 7, O→0 at 8")),
            ),
            (
                "35209900l76l48l",
                ok(
                    "352099001761481",
                    Some("repaired l→1 at 9, l→1 at 12, l→1 at 15"),
                ),
            ),
            (
                "3S2099001761481",
                ok("352099001761481", Some("repaired S→5 at 2")),
            ),
            (
                "49O1542O3237S18",
                ok(
                    "490154203237518",
                    Some("repaired O→0 at 3, O→0 at 8, S→5 at 13"),
                ),
            ),
            // ৪ in an otherwise ASCII token: 4 fails Luhn, 8 passes.
            (
                "49015420323751৪",
                ok("490154203237518", Some("repaired ৪→8 at 15")),
            ),
            // The other way round: an ASCII 8 or 9 among Bengali digits is a misread ৪ or ৭.
            (
                "৩৫৯০ ৩৮০৫ ৯৩০৩ ০৫8",
                ok("359038059303054", Some("repaired 8→4 at 15")),
            ),
            (
                "৪৯০১৫৪২০৩২৩9৫১৮",
                ok("490154203237518", Some("repaired 9→7 at 12")),
            ),
            // Four look-alikes: too many to trust.
            ("4OO154OO3237518", Err(OcrImeiError::TooManyRepairs(4))),
            // One wrong digit: never repaired.
            (
                "352099001761482",
                Err(OcrImeiError::LuhnFails {
                    read: "352099001761482".into(),
                }),
            ),
            (
                "352O99001761482",
                Err(OcrImeiError::LuhnFails {
                    read: "352099001761482".into(),
                }),
            ),
            ("35209900176148", Err(OcrImeiError::WrongLength(14))),
            ("3520990017614811", Err(OcrImeiError::WrongLength(16))),
            ("35209900176148?", Err(OcrImeiError::Unreadable('?'))),
            ("", Err(OcrImeiError::WrongLength(0))),
        ] {
            assert_eq!(repaired(token), expect, "{token}");
        }
    }

    #[test]
    fn ocr_repair_refuses_ambiguous() {
        // Two Bengali look-alikes in an ASCII token: 4/8 at two positions. Build a body where
        // both (4,8) and (8,4) pass: swapping them keeps the Luhn sum when both positions
        // have the same weight, so exactly two readings pass.
        let token = "3520990017৪1৪8";
        assert_eq!(token.chars().count(), 14);
        let mut hits = 0;
        for last in '0'..='9' {
            let t = format!("{token}{last}");
            if let Err(OcrImeiError::Ambiguous(n)) = repair_ocr(&t) {
                assert!(n >= 2);
                hits += 1;
            }
        }
        assert!(
            hits > 0,
            "some check digit makes the swapped readings both valid"
        );
    }

    #[test]
    fn reading_support_table() {
        const A: &str = "860563064703925";
        for (reading, want) in [
            ("8605 6306 4703 925", 2),
            ("IMEI: ৮৬০৫-৬৩০৬-৪৭০৩-৯২৫ (slot 1)", 2),
            // One changed, one extra, one missing digit.
            ("8605 6306 4763 925", 1),
            ("8605 63066 4703 925", 1),
            ("8605 6306 4703 92", 1),
            // Two slips, another number, nothing.
            ("8605 6306 4763 935", 0),
            ("3520 9900 1761 481", 0),
            ("", 0),
        ] {
            assert_eq!(reading_support(reading, A), want, "{reading}");
        }
    }

    #[test]
    fn consensus_table() {
        const A: &str = "860563064703925";
        assert!(is_valid(A));
        for (a, b, want) in [
            // One changed digit in one reading, one extra digit in the other.
            ("৮৬০৫ -৬৩০৬- ৪৭ ৬৩-৯২৫", "১ ৮৬০৫-৬৩৩০৬-৪৭০৩-৯২৫", Some(A)),
            // Changed digits at different places.
            ("860563064763925", "860563064703935", Some(A)),
            // Two slips in the second: nothing within one slip of both.
            ("860563064763925", "860563064703835", None),
            ("860563064763925", "861563064703925", Some(A)),
            // A missing digit in one, a changed one in the other.
            ("86056306470392", "860563064703928", Some(A)),
            // The same slip twice: every neighbour agrees, nothing is pinned down.
            ("860563064763925", "860563064763925", None),
            // Both wrong at the same one place only: another shared slip cannot be ruled out.
            ("860563064703926", "860563064703927", None),
            // Nothing in common.
            ("860563064763925", "352099001761482", None),
            ("", "", None),
            ("IMEI", "৮৬০৫", None),
        ] {
            assert_eq!(consensus(a, b).as_deref(), want, "{a} / {b}");
        }
    }

    #[test]
    fn known_tac_neighbour_table() {
        // The phone's other IMEI on the page has TAC 86945875.
        let page = |tac: &str| tac == "86945875";
        const A: &str = "869458758557201";
        assert!(is_valid(A));
        for (reading, want) in [
            // The leading digit lost, a TAC digit misread, an extra digit inside the TAC.
            ("/69458758557 201", Some(A)),
            ("৮৬৯৪৫৮৭৬৮৫৫৭২০১", Some(A)),
            ("8694598758557201", Some(A)),
            // A slip in the serial: every serial position has a valid neighbour with the known
            // TAC, so nothing is chosen.
            ("869458758557202", None),
            // Two slips in the TAC, another number, nothing.
            ("869658768557201", None),
            ("352099001761481", None),
            ("", None),
        ] {
            assert_eq!(
                known_tac_neighbour(reading, page).as_deref(),
                want,
                "{reading}"
            );
        }
    }

    fn luhn_valid_imei() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        proptest::collection::vec(0u8..10, 14).prop_map(|mut d| {
            d.push(luhn_check_digit(&d));
            to_ascii(&d)
        })
    }

    proptest::proptest! {
        #[test]
        fn generated_imeis_are_valid(imei in luhn_valid_imei()) {
            proptest::prop_assert!(is_valid(&imei));
            proptest::prop_assert_eq!(normalize(&imei), Ok(imei.clone()));
            proptest::prop_assert_eq!(check_digit(&imei[..14]), Ok(imei.as_bytes()[14] - b'0'));
        }

        #[test]
        fn any_single_digit_change_is_caught(imei in luhn_valid_imei(), pos in 0usize..15, delta in 1u8..10) {
            let mut d: Vec<u8> = imei.bytes().map(|b| b - b'0').collect();
            d[pos] = (d[pos] + delta) % 10;
            let bad = to_ascii(&d);
            proptest::prop_assert!(!is_valid(&bad));
            // …and an all-digit token that fails is never "repaired".
            let is_luhn_fail = matches!(repair_ocr(&bad), Err(OcrImeiError::LuhnFails { .. }));
            proptest::prop_assert!(is_luhn_fail);
        }

        #[test]
        fn a_tac_slip_is_pinned_down_by_the_known_tac(imei in luhn_valid_imei(), pos in 0usize..8, delta in 1u8..10) {
            let mut d: Vec<u8> = imei.bytes().map(|b| b - b'0').collect();
            d[pos] = (d[pos] + delta) % 10;
            let tac = imei[..8].to_owned();
            let found = known_tac_neighbour(&to_ascii(&d), |t| t == tac);
            // Only the changed TAC digit, put back, restores the TAC (a change elsewhere
            // leaves the TAC wrong), so the truth is the one neighbour.
            proptest::prop_assert_eq!(found, Some(imei));
        }

        #[test]
        fn imeisv_round_trip(imei in luhn_valid_imei(), svn in 0u8..100) {
            let sv = format!("{}{:02}", &imei[..14], svn);
            proptest::prop_assert_eq!(from_imeisv(&sv), Ok(imei));
        }

        #[test]
        fn letter_repair_recovers_the_imei(imei in luhn_valid_imei(), pos in 0usize..15) {
            let c = imei.as_bytes()[pos];
            let letter = match c { b'0' => 'O', b'1' => 'l', b'5' => 'S', b'8' => 'B', b'2' => 'Z', b'6' => 'G', _ => return Ok(()) };
            let mut token: Vec<char> = imei.chars().collect();
            token[pos] = letter;
            let token: String = token.into_iter().collect();
            let r = repair_ocr(&token);
            proptest::prop_assert_eq!(r.as_ref().map(|r| r.imei.clone()), Ok(imei));
            proptest::prop_assert_eq!(r.map(|r| r.repairs.len()), Ok(1));
        }

        #[test]
        fn two_readings_slipped_at_different_places_agree_on_the_truth(
            imei in luhn_valid_imei(), i in 0usize..15, j in 0usize..15, x in 1u8..10, y in 1u8..10,
        ) {
            proptest::prop_assume!(i != j);
            let slip = |k: usize, by: u8| {
                let mut d: Vec<u8> = imei.bytes().map(|b| b - b'0').collect();
                d[k] = (d[k] + by) % 10;
                to_ascii(&d)
            };
            // Both slips together could be a valid number too: then two candidates, no answer.
            let mut both: Vec<u8> = slip(i, x).bytes().map(|b| b - b'0').collect();
            both[j] = (both[j] + y) % 10;
            let want = (!is_valid(&to_ascii(&both))).then(|| imei.clone());
            proptest::prop_assert_eq!(consensus(&slip(i, x), &slip(j, y)), want);
        }

        #[test]
        fn consensus_is_valid_or_nothing(a in "[0-9০-৯ -]{0,20}", b in "[0-9০-৯ -]{0,20}") {
            if let Some(c) = consensus(&a, &b) {
                proptest::prop_assert!(is_valid(&c));
            }
        }

        #[test]
        fn repair_never_panics(s in "\\PC{0,20}") {
            let _ = repair_ocr(&s);
            let _ = normalize(&s);
            let _ = from_imeisv(&s);
            let _ = pair_relation(&s, "352099001761481");
        }

        #[test]
        fn repair_result_is_always_valid(s in "[0-9OolISBGZ৪৭ -]{13,18}") {
            if let Ok(r) = repair_ocr(&s) {
                proptest::prop_assert!(is_valid(&r.imei));
                proptest::prop_assert!(r.repairs.len() <= MAX_OCR_REPAIRS);
            }
        }
    }
}
