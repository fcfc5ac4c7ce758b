//! Mobile-money confirmations (bKash, Nagad, Rocket) in the text of a screenshot: the amount,
//! counterpart number, fee, balance, transaction id and time, and what cannot be genuine about
//! them — a transaction id or time that no such message carries, figures that contradict each
//! other, a personal `01…` number presented as the service.
//!
//! The transaction-id shapes are what the services' own messages show (bKash `TrxID` 10 capital
//! letters and digits, Nagad `TxnID` 8, Rocket `TxnId` 10 digits); they are observed formats, not
//! published specifications, kept in [`SERVICES`] so that a change is one line. Whatever this
//! module says, a screenshot never proves a payment: only the receiver's own app does.

use std::sync::OnceLock;

use regex::Regex;

use super::phones::find_phones_in;
use crate::report::{Finding, Severity, Stage};

/// A mobile-money service and what its confirmations look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    /// `bKash`, `Nagad`, `Rocket`.
    pub name: &'static str,
    /// Lower-case names it is written as (English and Bengali).
    pub names: &'static [&'static str],
    /// Transaction id length.
    pub id_len: usize,
    /// Whether the id is digits only (else capital letters and digits, at least one letter).
    pub id_digits_only: bool,
    /// The service's own short code, the only number its messages come from.
    pub short_code: &'static str,
}

/// The services known, in the order they are tried.
pub const SERVICES: &[Service] = &[
    Service {
        name: "bKash",
        names: &["bkash", "বিকাশ"],
        id_len: 10,
        id_digits_only: false,
        short_code: "16247",
    },
    Service {
        name: "Nagad",
        names: &["nagad", "নগদ"],
        id_len: 8,
        id_digits_only: false,
        short_code: "16167",
    },
    Service {
        name: "Rocket",
        names: &["rocket", "রকেট", "dbbl"],
        id_len: 10,
        id_digits_only: true,
        short_code: "16216",
    },
];

/// Which way the money went, as the message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Received,
    Sent,
    CashIn,
    CashOut,
    Payment,
    Unknown,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Received => "received",
            Direction::Sent => "sent",
            Direction::CashIn => "cash_in",
            Direction::CashOut => "cash_out",
            Direction::Payment => "payment",
            Direction::Unknown => "unknown",
        }
    }
}

/// A date and time as written in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenTime {
    pub text: String,
    pub year: i32,
    pub month: u32,
    pub day: u32,
    /// 24-hour clock, when a time was written.
    pub hour: Option<u32>,
    pub minute: Option<u32>,
    pub second: Option<u32>,
    /// Why it cannot be a real time, if it cannot.
    pub impossible: Option<String>,
}

/// A mobile-money confirmation read from text. Amounts are in paisa.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    pub service: &'static Service,
    pub direction: Direction,
    pub amount: Option<u64>,
    /// The other party's number as written (digits only).
    pub counterpart: Option<String>,
    pub fee: Option<u64>,
    pub balance: Option<u64>,
    pub total: Option<u64>,
    /// The transaction id as written.
    pub trx_id: Option<String>,
    pub time: Option<WrittenTime>,
}

fn re(cell: &'static OnceLock<Option<Regex>>, pattern: &str) -> Option<&'static Regex> {
    // The patterns are constants: the tests catch one failing to compile, which at run time
    // would mean "not found".
    cell.get_or_init(|| Regex::new(pattern).ok()).as_ref()
}

const MONEY: &str = r"(?:tk\.?|৳|bdt|taka|টাকা)\s*:?\s*([0-9][0-9,]*(?:\.[0-9]{1,2})?)";

/// `text` with Bengali digits as ASCII digits (same characters otherwise).
fn ascii_digits(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '০'..='৯' => char::from(b'0' + (c as u32 - '০' as u32) as u8),
            _ => c,
        })
        .collect()
}

/// Paisa from `1,500.00`, `1500`, `1500.5`.
pub fn parse_taka(s: &str) -> Option<u64> {
    let s: String = s.chars().filter(|c| *c != ',').collect();
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    if whole.is_empty() || frac.len() > 2 {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let frac: u64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<u64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    whole.checked_mul(100)?.checked_add(frac)
}

fn money_after(text: &str, keyword: &str) -> Option<u64> {
    let pattern = format!(r"(?i)(?:{keyword})\s*:?\s*(?:{MONEY}|([0-9][0-9,]*\.[0-9]{{2}}))");
    let re = Regex::new(&pattern).ok()?;
    let c = re.captures(text)?;
    let v = c.get(1).or_else(|| c.get(2))?;
    parse_taka(v.as_str())
}

/// The service `text` names most often, if any.
pub fn service_named(text: &str) -> Option<&'static Service> {
    let lower = text.to_lowercase();
    SERVICES
        .iter()
        .map(|s| {
            (
                s,
                s.names
                    .iter()
                    .map(|n| lower.matches(n).count())
                    .sum::<usize>(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(_, n)| *n)
        .map(|(s, _)| s)
}

/// Reads a confirmation out of `text`, if it is one: a service is named and the text carries a
/// transaction id, or an amount together with a balance.
pub fn parse(text: &str) -> Option<Confirmation> {
    let text = ascii_digits(text);
    let lower = text.to_lowercase();
    // bKash's messages say `TrxID` and often do not name bKash (the sender shows it).
    let service = service_named(&text)
        .or_else(|| lower.contains("trxid").then(|| SERVICES.first()).flatten())?;

    static TRX: OnceLock<Option<Regex>> = OnceLock::new();
    let trx_id = re(
        &TRX,
        r"(?i)(?:trx\s*id|txn\s*id|trans(?:action)?\s*id|ট্রানজেকশন আইডি)\s*(?:no\.?)?\s*[:.\-]?\s*([A-Za-z0-9]{4,20})\b",
    )
    .and_then(|r| r.captures(&text))
    .and_then(|c| c.get(1))
    .map(|m| m.as_str().to_owned());

    let direction = if lower.contains("cash in") || lower.contains("cash-in") {
        Direction::CashIn
    } else if lower.contains("cash out") || lower.contains("cash-out") {
        Direction::CashOut
    } else if lower.contains("received") || lower.contains("পেয়েছেন") || lower.contains("পেয়েছেন")
    {
        Direction::Received
    } else if lower.contains("send money") || lower.contains("sent") || lower.contains("পাঠিয়েছেন")
    {
        Direction::Sent
    } else if lower.contains("payment") {
        Direction::Payment
    } else {
        Direction::Unknown
    };
    let amount = money_after(
        &text,
        r"received|amount|send money|sent|cash in|cash out|payment|পেয়েছেন|পরিমাণ",
    )
    .or_else(|| {
        static FIRST: OnceLock<Option<Regex>> = OnceLock::new();
        re(&FIRST, &format!("(?i){MONEY}"))
            .and_then(|r| r.captures(&text))
            .and_then(|c| c.get(1))
            .and_then(|m| parse_taka(m.as_str()))
    });
    let fee = money_after(&text, r"fee|charge|চার্জ|ফি");
    let balance = money_after(&text, r"balance|ব্যালেন্স");
    let total = money_after(&text, r"total");
    if trx_id.is_none() && !(amount.is_some() && balance.is_some()) {
        return None;
    }

    static PARTY: OnceLock<Option<Regex>> = OnceLock::new();
    let counterpart = re(
        &PARTY,
        r"(?i)(?:from|to|sender|receiver|recipient|a/c|account)\s*(?:no\.?)?\s*:?\s*(\+?(?:88)?0\s*1[0-9][0-9\-\s]{8,11})",
    )
    .and_then(|r| r.captures(&text))
    .and_then(|c| c.get(1))
    .map(|m| m.as_str().chars().filter(char::is_ascii_digit).collect::<String>());

    Some(Confirmation {
        service,
        direction,
        amount,
        counterpart,
        fee,
        balance,
        total,
        trx_id,
        time: find_time(&text),
    })
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn days_in(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// The first date (with its time, if written) in `text`: `06/12/2026 14:32`, `06-DEC-26
/// 02:32:15 pm`, `2026-12-06 14:32`.
pub fn find_time(text: &str) -> Option<WrittenTime> {
    static DATE: OnceLock<Option<Regex>> = OnceLock::new();
    let r = re(
        &DATE,
        r"(?i)\b(\d{1,4})[/\-.](\d{1,2}|[a-z]{3})[/\-.](\d{2,4})\b(?:[,\s]+(?:at\s+)?(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(am|pm)?)?",
    )?;
    let c = r.captures(text)?;
    let get = |i: usize| c.get(i).map(|m| m.as_str());
    let (a, b, y) = (get(1)?, get(2)?, get(3)?);
    let mut impossible = None;
    let month_of = |s: &str| -> Option<u32> {
        s.parse::<u32>().ok().or_else(|| {
            let l = s.to_ascii_lowercase();
            MONTHS.iter().position(|m| *m == l).map(|i| i as u32 + 1)
        })
    };
    let (year_s, month_s, day_s) = if a.len() == 4 { (a, b, y) } else { (y, b, a) };
    let mut year: i32 = year_s.parse().ok()?;
    if year_s.len() == 2 {
        year += 2000;
    }
    let month = month_of(month_s).unwrap_or(0);
    let day: u32 = day_s.parse().ok()?;
    if !(1..=12).contains(&month) {
        impossible = Some(format!("month {month_s}"));
    } else if day == 0 || day > days_in(year, month) {
        impossible = Some(format!("day {day} of month {month}"));
    }
    let mut hour: Option<u32> = get(4).and_then(|h| h.parse().ok());
    let minute: Option<u32> = get(5).and_then(|m| m.parse().ok());
    let second: Option<u32> = get(6).and_then(|s| s.parse().ok());
    let ampm = get(7).map(str::to_ascii_lowercase);
    if let Some(h) = hour {
        match ampm.as_deref() {
            Some(p) if h == 0 || h > 12 => {
                impossible.get_or_insert(format!("hour {h} {p}"));
            }
            Some("pm") => hour = Some(h % 12 + 12),
            Some(_) => hour = Some(h % 12),
            None if h > 23 => {
                impossible.get_or_insert(format!("hour {h}"));
            }
            None => {}
        }
    }
    if minute.is_some_and(|m| m > 59) || second.is_some_and(|s| s > 59) {
        impossible.get_or_insert("minute or second past 59".to_owned());
    }
    Some(WrittenTime {
        text: c.get(0).map_or("", |m| m.as_str()).to_owned(),
        year,
        month,
        day,
        hour,
        minute,
        second,
        impossible,
    })
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn taka(paisa: u64) -> String {
    format!("{}.{:02}", paisa / 100, paisa % 100)
}

/// Whether `id` has the shape of `service`'s transaction ids; `Err` says why not.
pub fn check_trx_id(service: &Service, id: &str) -> Result<(), String> {
    if id.chars().count() != service.id_len {
        return Err(format!(
            "{} transaction ids have {} characters, this one has {}",
            service.name,
            service.id_len,
            id.chars().count()
        ));
    }
    if service.id_digits_only {
        if !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("{} transaction ids are digits only", service.name));
        }
    } else if !id
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        || !id.chars().any(|c| c.is_ascii_uppercase())
    {
        return Err(format!(
            "{} transaction ids are capital letters and digits",
            service.name
        ));
    }
    Ok(())
}

fn finding(code: &str, severity: Severity, points: u32, en: String, bn: String) -> Finding {
    Finding::new(code, Stage::Fields, severity, points, en, bn)
}

/// The findings about a confirmation read from `text`, checked against "now" (`now_unix`), each
/// with the text it is about (to box on the image), when there is one.
pub fn findings(conf: &Confirmation, text: &str, now_unix: i64) -> Vec<(Finding, Option<String>)> {
    let s = conf.service;
    let mut out = vec![(finding(
        "payment_confirmation",
        Severity::Info,
        0,
        format!(
            "The picture shows a {} confirmation{}. A screenshot never proves a payment: check the \
             balance in your own {} app or dial the service.",
            s.name,
            conf.amount
                .map(|a| format!(" of Tk {}", taka(a)))
                .unwrap_or_default(),
            s.name
        ),
        format!(
            "ছবিতে একটি {} লেনদেনের বার্তা দেখা যাচ্ছে{}। স্ক্রিনশট কখনো টাকা পাঠানোর প্রমাণ নয়: নিজের {} অ্যাপে ব্যালেন্স দেখে নিন।",
            s.name,
            conf.amount
                .map(|a| format!(" (৳ {})", taka(a)))
                .unwrap_or_default(),
            s.name
        ),
    ), None)];
    if let Some(id) = &conf.trx_id {
        if let Err(why) = check_trx_id(s, id) {
            out.push((
                finding(
                    "trxid_invalid",
                    Severity::High,
                    35,
                    format!(
                        "The transaction id {id} cannot be a real {} id: {why}.",
                        s.name
                    ),
                    format!("লেনদেন আইডি {id} আসল {} আইডি হতে পারে না: এর গঠন ভুল।", s.name),
                ),
                Some(id.clone()),
            ));
        }
    }
    if let Some(t) = &conf.time {
        let when = if let Some(why) = &t.impossible {
            Some(format!("{} is not a real date or time ({why})", t.text))
        } else {
            let day = days_from_civil(t.year, t.month, t.day);
            let secs = day * 86_400
                + i64::from(t.hour.unwrap_or(0)) * 3600
                + i64::from(t.minute.unwrap_or(0)) * 60;
            // Bangladesh is UTC+6; a day of slack for the time zone and the phone's clock.
            (secs - 6 * 3600 > now_unix + 86_400).then(|| format!("{} is in the future", t.text))
        };
        if let Some(why) = when {
            out.push((
                finding(
                    "payment_time_invalid",
                    Severity::High,
                    30,
                    format!("The message's time {why}."),
                    format!("বার্তার সময় {} সম্ভব নয়।", t.text),
                ),
                Some(t.text.clone()),
            ));
        }
    }
    let mut inconsistent = Vec::new();
    if let (Some(a), Some(f)) = (conf.amount, conf.fee) {
        if f > a && a > 0 {
            inconsistent.push(format!(
                "the fee Tk {} is more than the amount Tk {}",
                taka(f),
                taka(a)
            ));
        }
        if let Some(t) = conf.total {
            if t != a + f {
                inconsistent.push(format!(
                    "Tk {} + fee Tk {} is not the total Tk {}",
                    taka(a),
                    taka(f),
                    taka(t)
                ));
            }
        }
    }
    if conf.direction == Direction::Received && conf.fee.is_some_and(|f| f > 0) {
        inconsistent.push("the receiver of money is never charged a fee".to_owned());
    }
    if !inconsistent.is_empty() {
        let why = inconsistent.join("; ");
        out.push((
            finding(
                "payment_figures_inconsistent",
                Severity::High,
                30,
                format!("The figures do not add up: {why}."),
                "বার্তার অঙ্কগুলো মেলে না (পরিমাণ, চার্জ ও মোট)।".to_owned(),
            ),
            None,
        ));
    }
    out.extend(impostor_numbers(s, conf.counterpart.as_deref(), text, true));
    out
}

/// A personal Bangladeshi mobile number presented as service `s`: on a line naming the service
/// together with "customer care", "helpline", "agent", "official" (or Bengali equivalents), or,
/// when `confirmation`, in the first two lines (the sender of an SMS). Real messages come from
/// the service's short code. `counterpart` (the other party of a transfer) is never flagged.
pub fn impostor_numbers(
    s: &Service,
    counterpart: Option<&str>,
    text: &str,
    confirmation: bool,
) -> Vec<(Finding, Option<String>)> {
    const ROLES: &[&str] = &[
        "customer care",
        "customer service",
        "helpline",
        "hotline",
        "official",
        "agent",
        "office",
        "কাস্টমার কেয়ার",
        "হেল্পলাইন",
        "অফিস",
        "এজেন্ট",
    ];
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let lower = line.to_lowercase();
        let names_service = s.names.iter().any(|n| lower.contains(n));
        let role = ROLES.iter().any(|r| lower.contains(r));
        let sender_line =
            confirmation && i < 2 && !lower.contains("from") && !lower.contains("to ");
        for p in find_phones_in(line, &[super::Region::BD]) {
            let digits: String = p.e164.chars().filter(char::is_ascii_digit).collect();
            let is_counterpart =
                counterpart.is_some_and(|c| digits.ends_with(c.trim_start_matches("88")));
            if p.country != "BD" || p.kind != "mobile" || is_counterpart {
                continue;
            }
            if (names_service && role) || sender_line {
                out.push((finding(
                    "personal_number_as_service",
                    Severity::High,
                    35,
                    format!(
                        "{} is a personal mobile number, but it is presented as {}. {} messages come only from {}, and its staff never call from personal numbers.",
                        p.text, s.name, s.name, s.short_code
                    ),
                    format!(
                        "{} একটি ব্যক্তিগত মোবাইল নম্বর, কিন্তু একে {} হিসেবে দেখানো হয়েছে। {}-এর বার্তা শুধু {} থেকে আসে।",
                        p.text, s.name, s.name, s.short_code
                    ),
                ), Some(p.text.clone())));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taka_amounts() {
        for (s, want) in [
            ("1,500.00", Some(150_000)),
            ("1500", Some(150_000)),
            ("12.5", Some(1250)),
            ("0.05", Some(5)),
            ("1.234", None),
            (".5", None),
        ] {
            assert_eq!(parse_taka(s), want, "{s}");
        }
    }

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 12, 6), 20_793);
    }
}
