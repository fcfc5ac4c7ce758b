//! IMEIs on the wire: 15 ASCII digits with a correct Luhn digit. The index keeps only the
//! 14-digit body (the Luhn digit is implied), which fits in 47 bits.

use crate::ProtocolError;

/// The Luhn check digit of a 14-digit body given as digit values.
pub fn luhn_digit(body: &[u8; 14]) -> u8 {
    let mut sum = 0u32;
    for (i, &d) in body.iter().rev().enumerate() {
        let d = u32::from(d);
        sum += if i % 2 == 0 {
            let x = d * 2;
            if x > 9 {
                x - 9
            } else {
                x
            }
        } else {
            d
        };
    }
    // `(10 - sum % 10) % 10` is below 10.
    u8::try_from((10 - sum % 10) % 10).unwrap_or(0)
}

/// The 14-digit body of a wire IMEI (15 ASCII digits, Luhn-checked) as an integer.
pub fn body_of(imei: &str) -> Result<u64, ProtocolError> {
    let bytes = imei.as_bytes();
    if bytes.len() != 15 || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(ProtocolError::malformed(format_args!(
            "an IMEI is 15 ASCII digits: {imei:?}"
        )));
    }
    let mut body = [0u8; 14];
    let mut value = 0u64;
    for (slot, &c) in body.iter_mut().zip(bytes) {
        *slot = c - b'0';
        value = value * 10 + u64::from(*slot);
    }
    if luhn_digit(&body) != bytes[14] - b'0' {
        return Err(ProtocolError::malformed(format_args!(
            "IMEI {imei} fails its Luhn check"
        )));
    }
    Ok(value)
}

/// The 15-digit IMEI (body and Luhn digit) of a 14-digit body; `None` when `body` has more than
/// 14 digits.
pub fn from_body(body: u64) -> Option<String> {
    if body >= 100_000_000_000_000 {
        return None;
    }
    let mut digits = [0u8; 14];
    let mut rest = body;
    for slot in digits.iter_mut().rev() {
        // `rest % 10` is a single digit.
        *slot = u8::try_from(rest % 10).unwrap_or(0);
        rest /= 10;
    }
    let mut out: String = digits.iter().map(|&d| char::from(b'0' + d)).collect();
    out.push(char::from(b'0' + luhn_digit(&digits)));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_imeis() {
        assert_eq!(body_of("356938035643809"), Ok(35693803564380));
        assert_eq!(
            from_body(35693803564380).as_deref(),
            Some("356938035643809")
        );
        assert!(body_of("356938035643808").is_err());
        assert!(body_of("35693803564380").is_err());
        assert!(body_of("35693803564380x").is_err());
        assert_eq!(from_body(100_000_000_000_000), None);
    }

    proptest::proptest! {
        #[test]
        fn body_round_trip(body in 0u64..100_000_000_000_000) {
            let imei = from_body(body).expect("a 14-digit body");
            proptest::prop_assert_eq!(body_of(&imei), Ok(body));
        }
    }
}
