//! IMEI numbers: normalise typed input (ASCII or Bengali digits, spaces, dashes) and check the Luhn digit.

/// Why a typed IMEI is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImeiError {
    #[error("an IMEI has only digits; found `{0}`")]
    NotADigit(char),
    #[error("an IMEI has 15 digits; this has {0}")]
    WrongLength(usize),
    #[error("the check digit is wrong (Luhn): the last digit should be {expected}")]
    BadCheckDigit { expected: u8 },
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

/// Normalise `input` to 15 ASCII digits with a valid Luhn check digit.
pub fn normalize(input: &str) -> Result<String, ImeiError> {
    let mut digits = Vec::with_capacity(15);
    for c in input.chars() {
        if c.is_whitespace() || c == '-' || c == '/' {
            continue;
        }
        digits.push(digit_value(c).ok_or(ImeiError::NotADigit(c))?);
    }
    if digits.len() != 15 {
        return Err(ImeiError::WrongLength(digits.len()));
    }
    let expected = luhn_check_digit(&digits[..14]);
    if digits[14] != expected {
        return Err(ImeiError::BadCheckDigit { expected });
    }
    Ok(digits.iter().map(|d| char::from(b'0' + d)).collect())
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
}
