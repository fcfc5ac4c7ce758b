//! IMEIs off a picture, for the kiosk's "check an IMEI" and "report a stolen phone" flows: the
//! barcodes on a phone's box (Code-128, sometimes EAN/UPC-style 1D codes, read with `rxing`) and
//! the screen a phone shows after `*#06#` (read with the OCR of [`crate::gd::ocr`]).
//!
//! Only numbers that pass the Luhn check are returned. A photo may hold other Luhn-valid
//! 15-digit numbers (one in ten random ones is), so the caller shows what was read and lets the
//! person confirm it; nothing here decides on its own.

use image::{GrayImage, RgbImage};
use rxing::{BarcodeFormat, DecodeHints};

use super::{digit_value, imei_windows, luhn_check_digit, repair_ocr};
use crate::deadline::Deadline;
use crate::error::StageError;
use crate::gd::ocr::OcrConfig;

/// Where a scanned IMEI came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanSource {
    /// A 1D barcode (Code-128 on phone boxes).
    Barcode,
    /// Text read by OCR (the `*#06#` screen, or the digits printed under a barcode).
    Text,
}

/// One IMEI found on a picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedImei {
    /// 15 ASCII digits, Luhn-valid.
    pub imei: String,
    pub source: ScanSource,
}

/// The longest side a picture is scaled down to before the barcode search: a box photo from the
/// kiosk camera is 1–2k pixels wide; larger ones only cost time.
const MAX_SIDE: u32 = 2000;

/// The IMEIs on `img`: barcodes first, and when no barcode holds one, the text (OCR in
/// `ocr.languages`; English is enough for digits). In the order found, without repeats.
///
/// Errors: those of the OCR ([`StageError::Failed`] without language data,
/// [`StageError::Timeout`] past `deadline`). A picture without any IMEI is `Ok(vec![])`.
pub fn scan(
    img: &RgbImage,
    ocr: &OcrConfig,
    deadline: &Deadline,
) -> Result<Vec<ScannedImei>, StageError> {
    let gray = gray_scaled(img);
    let mut out: Vec<ScannedImei> = Vec::new();
    for text in barcodes(&gray) {
        push_all(&mut out, imeis_in_barcode(&text), ScanSource::Barcode);
    }
    if !out.is_empty() {
        return Ok(out);
    }
    deadline.check()?;
    let text = crate::scam::ocr::read_image(img, ocr, deadline)?;
    push_all(&mut out, imeis_in_text(&text.text), ScanSource::Text);
    Ok(out)
}

fn push_all(out: &mut Vec<ScannedImei>, imeis: Vec<String>, source: ScanSource) {
    for imei in imeis {
        if !out.iter().any(|s| s.imei == imei) {
            out.push(ScannedImei { imei, source });
        }
    }
}

/// Grey, at most [`MAX_SIDE`] pixels on its longer side.
fn gray_scaled(img: &RgbImage) -> GrayImage {
    let gray = image::DynamicImage::ImageRgb8(img.clone()).into_luma8();
    let long = gray.width().max(gray.height());
    if long <= MAX_SIDE {
        return gray;
    }
    let scale = MAX_SIDE as f32 / long as f32;
    let w = ((gray.width() as f32 * scale).round() as u32).max(1);
    let h = ((gray.height() as f32 * scale).round() as u32).max(1);
    image::imageops::resize(&gray, w, h, image::imageops::FilterType::Triangle)
}

/// The text of every 1D barcode `rxing` finds on `gray` (Code-128, Code-39, EAN/UPC, ITF,
/// Codabar), searched harder (rotated by 90° too).
pub fn barcodes(gray: &GrayImage) -> Vec<String> {
    let (w, h) = gray.dimensions();
    if w == 0 || h == 0 {
        return Vec::new();
    }
    let mut hints = DecodeHints {
        PossibleFormats: Some(
            [
                BarcodeFormat::CODE_128,
                BarcodeFormat::CODE_39,
                BarcodeFormat::EAN_13,
                BarcodeFormat::UPC_A,
                BarcodeFormat::ITF,
                BarcodeFormat::CODABAR,
            ]
            .into_iter()
            .collect(),
        ),
        TryHarder: Some(true),
        ..DecodeHints::default()
    };
    let found =
        rxing::helpers::detect_multiple_in_luma_with_hints(gray.as_raw().clone(), w, h, &mut hints);
    let mut texts: Vec<String> = match found {
        Ok(results) => results.iter().map(|r| r.getText().to_owned()).collect(),
        Err(_) => Vec::new(),
    };
    texts.dedup();
    texts
}

/// The IMEI a barcode's text holds: its digits when they are exactly one Luhn-valid 15-digit
/// number, possibly behind a label (`IMEI:`, `IMEI1 `). A 14-digit body with the Luhn digit
/// left off (some boxes encode it so) gets its check digit. Anything else (serial numbers,
/// EANs) holds none.
pub fn imeis_in_barcode(text: &str) -> Vec<String> {
    let digits: Vec<u8> = text
        .trim()
        .trim_start_matches(|c: char| c.is_ascii_alphabetic() || c == ':' || c == ' ')
        .trim_start_matches(['1', '2'])
        .chars()
        .filter_map(digit_value)
        .collect();
    let whole: Vec<u8> = text.chars().filter_map(digit_value).collect();
    let mut out = Vec::new();
    for d in [whole, digits] {
        let imei = match d.len() {
            15 if luhn_check_digit(&d[..14]) == d[14] => d,
            14 if text.chars().all(|c| c.is_ascii_digit()) => {
                let mut d = d;
                d.push(luhn_check_digit(&d));
                d
            }
            _ => continue,
        };
        let s: String = imei.iter().map(|d| char::from(b'0' + d)).collect();
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// The Luhn-valid IMEIs in OCR text, line by line: every 15-digit window of a line's digit
/// groups (see the GD reader's windows: groups split at spaces and dashes, a label digit like
/// the `1` of `IMEI1` is its own group), and each whitespace-separated token of 15 digit-like
/// characters the look-alike repair ([`repair_ocr`]) makes valid. An IMEISV (16 digits after
/// an `SV` label) is not an IMEI and is skipped.
pub fn imeis_in_text(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    for line in text.lines() {
        let upper = line.to_uppercase();
        if upper.contains("SV") && !upper.contains("IMEI") {
            continue;
        }
        for w in imei_windows(line) {
            if w.len() == 15 && luhn_check_digit(&w[..14]) == w[14] {
                push(w.iter().map(|d| char::from(b'0' + d)).collect());
            }
        }
        for token in line.split(|c: char| c.is_whitespace() || c == ':') {
            if token.chars().any(|c| digit_value(c).is_none()) {
                if let Ok(r) = repair_ocr(token) {
                    push(r.imei);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn barcode_texts() {
        let cases: &[(&str, &[&str])] = &[
            ("356938035643809", &["356938035643809"]),
            ("IMEI:356938035643809", &["356938035643809"]),
            ("IMEI1 356938035643809", &["356938035643809"]),
            ("IMEI 356938035643809", &["356938035643809"]),
            // Luhn digit left off: added.
            ("35693803564380", &["356938035643809"]),
            // Wrong Luhn digit: not an IMEI.
            ("356938035643808", &[]),
            // An EAN-13 and a serial number.
            ("8806094219451", &[]),
            ("R58N71ABCDE", &[]),
            ("", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(imeis_in_barcode(text), *want, "{text:?}");
        }
    }

    #[test]
    fn screen_texts() {
        let cases: &[(&str, &[&str])] = &[
            ("IMEI\n356938035643809", &["356938035643809"]),
            (
                "IMEI1: 356938035643809\nIMEI2: 356938035643817",
                &["356938035643809", "356938035643817"],
            ),
            ("IMEI1 356938035643809", &["356938035643809"]),
            ("35 693803 564380 9", &["356938035643809"]),
            ("IMEI 35693BO35643809", &["356938035643809"]),
            ("MEID 35693803564380", &[]),
            ("IMEI SV 01\n356938035643808", &[]),
            ("SV: 12", &[]),
            ("", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(imeis_in_text(text), *want, "{text:?}");
        }
    }
}
