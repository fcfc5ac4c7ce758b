//! QR codes on a picture: decoded offline (`rqrr`), and when they carry Thai EMVCo-style TLV
//! data — a bank transfer slip's verification code or a PromptPay payment request — parsed and
//! their CRC checked.
//!
//! Both are strings of `tag(2 digits) length(2 digits) value` fields; the last field (tag `91`
//! on slips, `63` on PromptPay) holds a CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF)
//! of everything before its four hex digits, the field's own tag and length included. A code
//! whose CRC does not match was typed up or edited: no bank app produces one.
//!
//! A slip's code has in tag `00` the sub-fields `00` (API id `000001`), `01` (sending bank code)
//! and `02` (transaction reference), and `51` = `TH`. A PromptPay request has `00` = `01`, a
//! merchant account in tag `29` (or `30`, bill payment) whose sub-field `00` is the PromptPay AID
//! `A000000677010111` (`…12` bills), and `58` = `TH`. What the code says can only be confirmed
//! with the bank (the slip-verification service needs the network): here only its form is.

use crc::{Crc, CRC_16_IBM_3740};
use image::GrayImage;

/// CRC-16/CCITT-FALSE (the EMVCo QR CRC; catalogued as CRC-16/IBM-3740).
const EMV_CRC: Crc<u16> = Crc::<u16>::new(&CRC_16_IBM_3740);

/// Every QR code rqrr finds and decodes in `img`.
pub fn decode(img: &GrayImage) -> Vec<String> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        img.get_pixel(x as u32, y as u32).0[0]
    });
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, content)| content))
        .collect()
}

/// One `tag length value` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlv {
    pub tag: String,
    pub value: String,
}

/// Splits `s` into TLV fields; `None` when it is not TLV all the way to its end.
pub fn parse_tlv(s: &str) -> Option<Vec<Tlv>> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let tag = rest.get(..2)?;
        let len: usize = rest.get(2..4)?.parse().ok()?;
        if !tag.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let value = rest.get(4..4 + len)?;
        out.push(Tlv {
            tag: tag.to_owned(),
            value: value.to_owned(),
        });
        rest = rest.get(4 + len..)?;
    }
    Some(out)
}

fn field<'t>(fields: &'t [Tlv], tag: &str) -> Option<&'t str> {
    fields
        .iter()
        .find(|f| f.tag == tag)
        .map(|f| f.value.as_str())
}

/// The CRC the code should carry: CRC-16/CCITT-FALSE of all but its last four characters.
pub fn expected_crc(payload: &str) -> Option<String> {
    let body = payload.get(..payload.len().checked_sub(4)?)?;
    Some(format!("{:04X}", EMV_CRC.checksum(body.as_bytes())))
}

/// What a QR code holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrKind {
    /// A Thai transfer slip's verification code.
    Slip {
        /// Sending bank code (`004` Kasikorn, `014` SCB, …).
        bank: String,
        /// Transaction reference.
        reference: String,
    },
    /// A PromptPay payment request (scanning it pays someone).
    PromptPay {
        /// The account: phone number, national id or e-wallet id as encoded.
        account: String,
        /// Amount in the request, when fixed.
        amount: Option<String>,
    },
    /// Something else (a link, text).
    Other,
}

/// A decoded QR code and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrFact {
    pub payload: String,
    pub kind: QrKind,
    /// For slips and PromptPay codes: whether the CRC matches (`None`: no CRC field at all).
    pub crc_ok: Option<bool>,
}

/// Classifies a decoded payload.
pub fn classify(payload: &str) -> QrFact {
    let other = QrFact {
        payload: payload.to_owned(),
        kind: QrKind::Other,
        crc_ok: None,
    };
    let Some(fields) = parse_tlv(payload) else {
        return other;
    };
    let crc_field = fields.last().filter(|f| f.tag == "91" || f.tag == "63");
    let crc_ok = crc_field
        .map(|f| expected_crc(payload).is_some_and(|want| want.eq_ignore_ascii_case(&f.value)));
    let sub = |tag: &str| field(&fields, tag).and_then(parse_tlv);
    if let Some(head) = sub("00") {
        if field(&head, "00") == Some("000001") && field(&fields, "51") == Some("TH") {
            return QrFact {
                payload: payload.to_owned(),
                kind: QrKind::Slip {
                    bank: field(&head, "01").unwrap_or("").to_owned(),
                    reference: field(&head, "02").unwrap_or("").to_owned(),
                },
                crc_ok,
            };
        }
    }
    for tag in ["29", "30"] {
        if let Some(acct) = sub(tag) {
            if field(&acct, "00").is_some_and(|aid| aid.starts_with("A00000067701011")) {
                let account = ["01", "02", "03", "04"]
                    .iter()
                    .find_map(|t| field(&acct, t))
                    .unwrap_or("")
                    .to_owned();
                return QrFact {
                    payload: payload.to_owned(),
                    kind: QrKind::PromptPay {
                        account,
                        amount: field(&fields, "54").map(str::to_owned),
                    },
                    crc_ok,
                };
            }
        }
    }
    other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_is_ccitt_false() {
        // The catalogue check value of CRC-16/CCITT-FALSE.
        assert_eq!(EMV_CRC.checksum(b"123456789"), 0x29B1);
    }

    #[test]
    fn tlv_must_run_to_the_end() {
        assert_eq!(
            parse_tlv("0002015802TH"),
            Some(vec![
                Tlv {
                    tag: "00".into(),
                    value: "01".into()
                },
                Tlv {
                    tag: "58".into(),
                    value: "TH".into()
                }
            ])
        );
        for bad in ["0002015803TH", "00", "0x0201", "AB0201"] {
            assert_eq!(parse_tlv(bad), None, "{bad}");
        }
    }
}
