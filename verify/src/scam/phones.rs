//! Phone numbers in OCR text, parsed and validated with the `phonenumber` crate (libphonenumber's
//! metadata) for Bangladesh (+880, `01…`) and Thailand (+66, `0…`). Bengali and Thai digits are
//! read as ASCII digits first.

use std::sync::OnceLock;

pub use phonenumber::country::Id as Region;
use phonenumber::{Mode, Type};
use regex::Regex;

/// A valid phone number found in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundPhone {
    /// Byte range in the text.
    pub span: std::ops::Range<usize>,
    /// As written.
    pub text: String,
    /// E.164 form, e.g. `+8801712345678`.
    pub e164: String,
    /// `BD`, `TH`, or another ISO code for an international number.
    pub country: String,
    /// `mobile`, `fixed_line`, `fixed_line_or_mobile`, `toll_free`, `premium_rate`, `voip`, …
    pub kind: &'static str,
}

/// The regions a number without a `+` is tried in. Bangladeshi mobiles (`01…`, 11 digits) and
/// Thai mobiles (`06…`, `08…`, `09…`, 10 digits) do not overlap, but a Thai mobile is also a valid
/// Bangladeshi fixed line (`081…` is Cumilla): a mobile reading wins, then the first region.
pub const HOME_REGIONS: [Region; 2] = [Region::BD, Region::TH];

fn candidates() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    // A `+` or a digit, then digits with single separators; 8 to 15 digits in all (checked
    // after). Digits in Bengali (০-৯) and Thai (๐-๙) script count. The pattern is constant: the
    // tests catch it failing to compile, which at run time would mean "no phone numbers".
    RE.get_or_init(|| Regex::new(r"\+?[0-9০-৯๐-๙](?:[ \-.]?\(?[0-9০-৯๐-๙]\)?){7,18}").ok())
        .as_ref()
}

/// The ASCII digit for a Bengali or Thai digit, or the character itself.
fn ascii_digit(c: char) -> char {
    match c {
        '০'..='৯' => char::from(b'0' + (c as u32 - '০' as u32) as u8),
        '๐'..='๙' => char::from(b'0' + (c as u32 - '๐' as u32) as u8),
        _ => c,
    }
}

/// Valid Bangladeshi and Thai numbers (and `+`-prefixed international ones) in `text`.
pub fn find_phones(text: &str) -> Vec<FoundPhone> {
    find_phones_in(text, &HOME_REGIONS)
}

/// [`find_phones`] with numbers without a `+` tried in `regions` (earlier ones win a tie).
pub fn find_phones_in(text: &str, regions: &[Region]) -> Vec<FoundPhone> {
    let mut out = Vec::new();
    let Some(re) = candidates() else {
        return out;
    };
    for m in re.find_iter(text) {
        let raw = m.as_str().trim_end_matches([' ', '-', '.']);
        let ascii: String = raw.chars().map(ascii_digit).collect();
        let digits = ascii.chars().filter(char::is_ascii_digit).count();
        if !(8..=15).contains(&digits) {
            continue;
        }
        // Glued to Latin letters or more digits (an account number or a TrxID), it is not a
        // phone number; glued to Bengali or Thai words (`โทร0812345678`) it still is.
        let glued = |c: char| c.is_ascii_alphanumeric() || c.is_numeric();
        let before = text.get(..m.start()).and_then(|s| s.chars().next_back());
        let after = text
            .get(m.start() + raw.len()..)
            .and_then(|s| s.chars().next());
        if before.is_some_and(glued) || after.is_some_and(glued) {
            continue;
        }
        if let Some(p) = parse_phone_in(&ascii, regions) {
            out.push(FoundPhone {
                span: m.start()..m.start() + raw.len(),
                text: raw.to_owned(),
                ..p
            });
        }
    }
    out
}

/// Parses one number (ASCII digits): international with `+`, else in the home regions.
pub fn parse_phone(number: &str) -> Option<FoundPhone> {
    parse_phone_in(number, &HOME_REGIONS)
}

/// [`parse_phone`] with numbers without a `+` tried in `regions`: a mobile reading wins, then
/// the earliest region.
pub fn parse_phone_in(number: &str, regions: &[Region]) -> Option<FoundPhone> {
    let regions: Vec<Option<Region>> = if number.trim_start().starts_with('+') {
        vec![None]
    } else {
        regions.iter().copied().map(Some).collect()
    };
    let mut readings = Vec::new();
    for region in regions {
        let Ok(parsed) = phonenumber::parse(region, number) else {
            continue;
        };
        if !phonenumber::is_valid(&parsed) {
            continue;
        }
        let country = parsed.country().id().map_or_else(
            || format!("+{}", parsed.code().value()),
            |id| format!("{id:?}"),
        );
        let kind = match parsed.number_type(&phonenumber::metadata::DATABASE) {
            Type::Mobile => "mobile",
            Type::FixedLine => "fixed_line",
            Type::FixedLineOrMobile => "fixed_line_or_mobile",
            Type::TollFree => "toll_free",
            Type::PremiumRate => "premium_rate",
            Type::SharedCost => "shared_cost",
            Type::PersonalNumber => "personal",
            Type::Voip => "voip",
            Type::Pager => "pager",
            Type::Uan => "uan",
            _ => "other",
        };
        readings.push(FoundPhone {
            span: 0..number.len(),
            text: number.to_owned(),
            e164: parsed.format().mode(Mode::E164).to_string(),
            country,
            kind,
        });
    }
    let mobile = readings.iter().position(|p| p.kind == "mobile");
    let pick = mobile.unwrap_or(0);
    (pick < readings.len()).then(|| readings.swap_remove(pick))
}
