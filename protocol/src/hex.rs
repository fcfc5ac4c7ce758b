//! Lower-case hex for SHA-256 digests and key ids (the wire writes digests as 64 hex digits).

use crate::ProtocolError;

/// Lower-case hex of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// Exactly `N` bytes from `2 * N` hex digits (either case).
pub fn decode<const N: usize>(text: &str) -> Result<[u8; N], ProtocolError> {
    let text = text.as_bytes();
    if text.len() != 2 * N {
        return Err(ProtocolError::malformed(format_args!(
            "expected {} hex digits, found {}",
            2 * N,
            text.len()
        )));
    }
    let mut out = [0u8; N];
    for (i, pair) in text.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Ok(out)
}

fn nibble(c: u8) -> Result<u8, ProtocolError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(ProtocolError::malformed(format_args!(
            "not a hex digit: {:?}",
            char::from(c)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        assert_eq!(encode(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(decode::<3>("00ABff"), Ok([0x00, 0xab, 0xff]));
        assert!(decode::<3>("00abf").is_err());
        assert!(decode::<2>("0g00").is_err());
    }
}
