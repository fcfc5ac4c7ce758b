//! Digit entry for the on-screen keypad: accepts Bengali (০–৯) and ASCII (0–9) digits, shows
//! them in either script, and grades what was typed (IMEI with live Luhn, Bangladeshi mobile).

use verify::imei::{digit_value, luhn_check_digit};

/// Which digits to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    Bengali,
    Latin,
}

/// Digits typed so far (values 0–9), at most `max` of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitEntry {
    digits: Vec<u8>,
    max: usize,
}

/// Why a key or a typed text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("not a digit: {0:?}")]
    NotADigit(char),
    #[error("at most {0} digits")]
    TooLong(usize),
}

impl DigitEntry {
    /// An empty entry that holds at most `max` digits.
    pub fn new(max: usize) -> Self {
        DigitEntry {
            digits: Vec::with_capacity(max),
            max,
        }
    }

    /// Append the digits of `key` (one keypad key, or pasted text). Spaces and dashes are
    /// skipped; anything else refuses the whole key and leaves the entry as it was.
    pub fn press(&mut self, key: &str) -> Result<(), EntryError> {
        let mut add = Vec::new();
        for c in key.chars() {
            if c.is_whitespace() || c == '-' {
                continue;
            }
            add.push(digit_value(c).ok_or(EntryError::NotADigit(c))?);
        }
        if self.digits.len() + add.len() > self.max {
            return Err(EntryError::TooLong(self.max));
        }
        self.digits.extend(add);
        Ok(())
    }

    /// Replace everything with `text` (typing into the field through accessibility).
    pub fn set_text(&mut self, text: &str) -> Result<(), EntryError> {
        let mut next = DigitEntry::new(self.max);
        next.press(text)?;
        self.clear();
        *self = next;
        Ok(())
    }

    /// Remove the last digit.
    pub fn backspace(&mut self) {
        if let Some(d) = self.digits.last_mut() {
            *d = 0;
        }
        self.digits.pop();
    }

    /// Forget everything, overwriting the digits first.
    pub fn clear(&mut self) {
        self.digits.iter_mut().for_each(|d| *d = 0);
        self.digits.clear();
    }

    /// The digit values.
    pub fn digits(&self) -> &[u8] {
        &self.digits
    }

    pub fn len(&self) -> usize {
        self.digits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.digits.is_empty()
    }

    /// ASCII digits.
    pub fn ascii(&self) -> String {
        render(&self.digits, Script::Latin)
    }

    /// The digits in `script`, in groups (IMEI: 2-6-6-1, mobile: 5-6) for reading back.
    pub fn display(&self, script: Script, groups: &[usize]) -> String {
        let mut out = String::new();
        let mut rest: &[u8] = &self.digits;
        for &g in groups {
            if rest.is_empty() {
                break;
            }
            let (head, tail) = rest.split_at(g.min(rest.len()));
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&render(head, script));
            rest = tail;
        }
        if !rest.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&render(rest, script));
        }
        out
    }
}

/// Digits in a script.
pub fn render(digits: &[u8], script: Script) -> String {
    digits
        .iter()
        .map(|&d| match script {
            Script::Latin => char::from(b'0' + d),
            Script::Bengali => char::from_u32(u32::from('০') + u32::from(d)).unwrap_or('?'),
        })
        .collect()
}

/// An ASCII number in a script (counts, ids, dates on screen).
pub fn localise_digits(text: &str, script: Script) -> String {
    text.chars()
        .map(|c| match (script, c) {
            (Script::Bengali, '0'..='9') => {
                char::from_u32(u32::from('০') + (u32::from(c) - u32::from('0'))).unwrap_or(c)
            }
            _ => c,
        })
        .collect()
}

/// IMEI digit groups on screen: TAC (8) serial (6) check (1).
pub const IMEI_GROUPS: &[usize] = &[8, 6, 1];
/// Mobile number groups on screen: 01XXX XXXXXX.
pub const MOBILE_GROUPS: &[usize] = &[5, 6];

/// Live feedback while an IMEI is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LuhnState {
    /// Fewer than 15 digits.
    Incomplete,
    /// 15 digits, check digit right.
    Valid,
    /// 15 digits, check digit wrong; the one that would be right.
    Invalid { expected: u8 },
}

/// Grade an IMEI being typed.
pub fn imei_state(digits: &[u8]) -> LuhnState {
    if digits.len() < 15 {
        return LuhnState::Incomplete;
    }
    let expected = luhn_check_digit(&digits[..14]);
    if digits[14] == expected {
        LuhnState::Valid
    } else {
        LuhnState::Invalid { expected }
    }
}

/// Feedback on a Bangladeshi mobile number: 11 digits, `01`, then an operator digit 3–9.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MobileState {
    Empty,
    Incomplete,
    Valid,
    Invalid,
}

/// Grade a mobile number being typed.
pub fn mobile_state(digits: &[u8]) -> MobileState {
    let prefix_ok = digits
        .iter()
        .zip([Some(0u8), Some(1), None])
        .all(|(&d, want)| match want {
            Some(w) => d == w,
            None => (3..=9).contains(&d),
        });
    match digits.len() {
        0 => MobileState::Empty,
        _ if !prefix_ok => MobileState::Invalid,
        1..=10 => MobileState::Incomplete,
        11 => MobileState::Valid,
        _ => MobileState::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(keys: &[&str]) -> DigitEntry {
        let mut e = DigitEntry::new(15);
        for k in keys {
            e.press(k).expect("test keys are digits");
        }
        e
    }

    #[test]
    fn both_digit_sets_are_the_same_digits() {
        for (keys, ascii) in [
            (&["3", "5"][..], "35"),
            (&["৩", "৫"][..], "35"),
            (&["৩", "5", "০"][..], "350"),
            (&["4 9-0"][..], "490"),
        ] {
            assert_eq!(typed(keys).ascii(), ascii, "{keys:?}");
        }
    }

    #[test]
    fn non_digits_and_overflow_are_refused_without_change() {
        let mut e = typed(&["1", "2"]);
        assert_eq!(e.press("a"), Err(EntryError::NotADigit('a')));
        assert_eq!(e.press("3x"), Err(EntryError::NotADigit('x')));
        assert_eq!(e.ascii(), "12");
        let mut full = DigitEntry::new(3);
        full.press("123").expect("fits");
        assert_eq!(full.press("4"), Err(EntryError::TooLong(3)));
        assert_eq!(full.ascii(), "123");
    }

    #[test]
    fn backspace_clear_and_set_text() {
        let mut e = typed(&["1", "2", "3"]);
        e.backspace();
        assert_eq!(e.ascii(), "12");
        e.set_text("৯৮৭").expect("digits");
        assert_eq!(e.ascii(), "987");
        assert!(e.set_text("98z").is_err());
        assert_eq!(e.ascii(), "987", "a refused text keeps the old one");
        e.clear();
        assert!(e.is_empty());
        e.backspace();
        assert!(e.is_empty());
    }

    #[test]
    fn display_groups_in_either_script() {
        let e = typed(&["490154203237518"]);
        assert_eq!(e.display(Script::Latin, IMEI_GROUPS), "49015420 323751 8");
        assert_eq!(e.display(Script::Bengali, IMEI_GROUPS), "৪৯০১৫৪২০ ৩২৩৭৫১ ৮");
        assert_eq!(typed(&["4901"]).display(Script::Latin, IMEI_GROUPS), "4901");
        assert_eq!(typed(&[]).display(Script::Latin, IMEI_GROUPS), "");
        assert_eq!(localise_digits("K-2026-07", Script::Bengali), "K-২০২৬-০৭");
    }

    #[test]
    fn live_luhn() {
        let check = |s: &str, want: LuhnState| {
            assert_eq!(imei_state(typed(&[s]).digits()), want, "{s}");
        };
        check("", LuhnState::Incomplete);
        check("49015420323751", LuhnState::Incomplete);
        check("490154203237518", LuhnState::Valid);
        check("৪৯০১৫৪২০৩২৩৭৫১৮", LuhnState::Valid);
        check("490154203237519", LuhnState::Invalid { expected: 8 });
        check("356938035643809", LuhnState::Valid);
    }

    #[test]
    fn mobile_numbers() {
        let check = |s: &str, want: MobileState| {
            let mut e = DigitEntry::new(11);
            e.press(s).expect("digits");
            assert_eq!(mobile_state(e.digits()), want, "{s}");
        };
        check("", MobileState::Empty);
        check("0", MobileState::Incomplete);
        check("017", MobileState::Incomplete);
        check("01712345678", MobileState::Valid);
        check("০১৯১২৩৪৫৬৭৮", MobileState::Valid);
        check("1", MobileState::Invalid);
        check("02", MobileState::Invalid);
        check("012", MobileState::Invalid);
        check("01212345678", MobileState::Invalid);
    }
}
