//! IMEI check digits (Luhn), IMEI construction from a TAC, and the ways a GD copy prints digits.

use rand::Rng;

/// The Luhn check digit for the 14 digits of an IMEI body (`body` holds ASCII digits).
///
/// # Panics
/// Panics if `body` holds anything but ASCII digits.
pub fn luhn_check_digit(body: &str) -> u8 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            assert!(b.is_ascii_digit(), "IMEI body must be ASCII digits");
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let dd = d * 2;
                dd / 10 + dd % 10
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Whether `imei` is 15 ASCII digits with a correct Luhn check digit.
pub fn is_valid_imei(imei: &str) -> bool {
    imei.len() == 15
        && imei.bytes().all(|b| b.is_ascii_digit())
        && luhn_check_digit(&imei[..14]) == imei.as_bytes()[14] - b'0'
}

/// Append the Luhn check digit to a 14-digit body.
pub fn complete(body: &str) -> String {
    format!("{body}{}", luhn_check_digit(body))
}

/// A valid IMEI: the 8-digit `tac`, a random 6-digit serial number and the check digit.
pub fn imei_from_tac<R: Rng + ?Sized>(tac: &str, rng: &mut R) -> String {
    let serial: u32 = rng.gen_range(0..1_000_000);
    complete(&format!("{tac}{serial:06}"))
}

/// A valid IMEI that keeps the first `keep` digits of `imei` (at most 14) and differs from it.
pub fn vary_suffix<R: Rng + ?Sized>(imei: &str, keep: usize, rng: &mut R) -> String {
    let keep = keep.min(14);
    loop {
        let mut body = imei[..keep].to_owned();
        while body.len() < 14 {
            body.push(char::from(b'0' + rng.gen_range(0..10u8)));
        }
        let out = complete(&body);
        if out != imei {
            return out;
        }
    }
}

/// Bengali digits ০-৯ for ASCII digits; other characters unchanged.
pub fn to_bengali_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) if c.is_ascii_digit() => char::from_u32(0x09E6 + d).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// ASCII digits for Bengali digits ০-৯; other characters unchanged.
pub fn to_ascii_digits(s: &str) -> String {
    s.chars()
        .map(|c| match u32::from(c) {
            v @ 0x09E6..=0x09EF => char::from(b'0' + (v - 0x09E6) as u8),
            _ => c,
        })
        .collect()
}

/// How an IMEI's 15 digits are grouped on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// `356789012345678`
    Plain,
    /// `35 678901 234567 8` (the TAC / serial split of the IMEI itself).
    Structured(char),
    /// `3567 8901 2345 678`
    Fours(char),
}

/// `imei` (15 ASCII digits) as printed: grouped, and in Bengali digits if `bengali`.
pub fn format_imei(imei: &str, grouping: Grouping, bengali: bool) -> String {
    let groups: Vec<&str> = match grouping {
        Grouping::Plain => vec![imei],
        Grouping::Structured(_) => vec![&imei[..2], &imei[2..8], &imei[8..14], &imei[14..]],
        Grouping::Fours(_) => vec![&imei[..4], &imei[4..8], &imei[8..12], &imei[12..]],
    };
    let sep = match grouping {
        Grouping::Plain => String::new(),
        Grouping::Structured(c) | Grouping::Fours(c) => c.to_string(),
    };
    let s = groups.join(&sep);
    if bengali {
        to_bengali_digits(&s)
    } else {
        s
    }
}

/// The byte offset in `printed` (from [`format_imei`]) where the digit with index `digit` starts.
pub fn printed_offset(printed: &str, digit: usize) -> usize {
    printed
        .char_indices()
        .filter(|(_, c)| c.is_ascii_digit() || ('\u{09E6}'..='\u{09EF}').contains(c))
        .nth(digit)
        .map_or(printed.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn known_imei_is_valid() {
        // The example IMEI from the GSMA's IMEI allocation guidelines.
        assert!(is_valid_imei("490154203237518"));
        assert!(!is_valid_imei("490154203237519"));
    }

    #[test]
    fn generated_and_varied_imeis_are_valid() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..100 {
            let a = imei_from_tac("35267011", &mut rng);
            assert!(is_valid_imei(&a) && a.starts_with("35267011"));
            let b = vary_suffix(&a, 9, &mut rng);
            assert!(is_valid_imei(&b) && b != a && b[..9] == a[..9]);
        }
    }

    #[test]
    fn formatting_round_trips() {
        let p = format_imei("490154203237518", Grouping::Structured('-'), true);
        assert_eq!(p, "৪৯-০১৫৪২০-৩২৩৭৫১-৮");
        assert_eq!(to_ascii_digits(&p).replace('-', ""), "490154203237518");
        assert_eq!(&p[printed_offset(&p, 14)..], "৮");
    }
}
