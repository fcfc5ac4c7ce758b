//! Table tests for payment confirmations (bKash, Nagad, Rocket) and Thai slip / PromptPay QR
//! codes: what is read, and which findings say it cannot be genuine.

mod scam_support;

use image::{Rgb, RgbImage};
use verify::report::FieldValue;
use verify::scam::check::{read_payment, read_qr};
use verify::scam::ocr::ScreenText;
use verify::scam::payment::{parse, Direction};
use verify::scam::qr::{classify, expected_crc, QrKind};

/// 2026-12-06 12:00 UTC.
const NOW: i64 = 1_796_558_400;

fn screen(text: &str) -> ScreenText {
    ScreenText {
        text: text.to_owned(),
        ..ScreenText::default()
    }
}

/// Finding codes for `text` read as a screenshot, in order.
fn codes(text: &str) -> Vec<String> {
    read_payment(&screen(text), NOW)
        .1
        .into_iter()
        .map(|f| f.code)
        .collect()
}

const BKASH_OK: &str = "You have received Tk 1,500.00 from 01712345678. Fee Tk 0.00. Balance Tk 2,345.67. TrxID BFC4K2M9QX at 05/12/2026 14:32";

#[test]
fn confirmations_are_read() {
    let c = parse(BKASH_OK).expect("a bKash confirmation");
    assert_eq!(c.service.name, "bKash");
    assert_eq!(c.direction, Direction::Received);
    assert_eq!(c.amount, Some(150_000));
    assert_eq!(c.counterpart.as_deref(), Some("01712345678"));
    assert_eq!(c.fee, Some(0));
    assert_eq!(c.balance, Some(234_567));
    assert_eq!(c.trx_id.as_deref(), Some("BFC4K2M9QX"));
    let t = c.time.expect("a time");
    assert_eq!(
        (t.year, t.month, t.day, t.hour, t.minute),
        (2026, 12, 5, Some(14), Some(32))
    );

    let nagad = "Money Received.\nAmount: Tk 500.00\nSender: 01812345678\nTxnID: 71JDR3FA\nBalance: Tk 1,000.00\n06/12/2026 10:15 Nagad";
    let c = parse(nagad).expect("a Nagad confirmation");
    assert_eq!(
        (c.service.name, c.amount, c.balance),
        ("Nagad", Some(50_000), Some(100_000))
    );
    assert_eq!(c.counterpart.as_deref(), Some("01812345678"));

    let rocket = "Rocket: Tk500.00 received from A/C:01912345678 Fee:Tk0.00, Your A/C Balance: Tk1,000.00 TxnId:3142815412 Date:05-DEC-26 02:32:15 pm";
    let c = parse(rocket).expect("a Rocket confirmation");
    assert_eq!(c.service.name, "Rocket");
    assert_eq!(c.trx_id.as_deref(), Some("3142815412"));
    let t = c.time.expect("a time");
    assert_eq!((t.year, t.month, t.day, t.hour), (2026, 12, 5, Some(14)));

    let bengali = "বিকাশ: আপনি ৳৫০০.০০ পেয়েছেন 01712345678 থেকে। ফি ৳০.০০। ব্যালেন্স ৳১,২০০.০০। TrxID BFC4K2M9QX ০৫/১২/২০২৬ ১৪:৩২";
    let c = parse(bengali).expect("a Bengali bKash confirmation");
    assert_eq!(
        (c.amount, c.fee, c.balance),
        (Some(50_000), Some(0), Some(120_000))
    );
    assert_eq!(c.direction, Direction::Received);

    for not_one in [
        "Congratulations! You have won a bKash prize",
        "Tk 500 balance",
        "Meeting at 5 pm",
    ] {
        assert_eq!(parse(not_one), None, "{not_one}");
    }
}

#[test]
fn what_cannot_be_genuine() {
    let t = |s: &str| s.to_owned();
    let cases: Vec<(String, &[&str])> = vec![
        (t(BKASH_OK), &["payment_confirmation"]),
        (BKASH_OK.replace("BFC4K2M9QX", "bfc4k2m9qx"), &["payment_confirmation", "trxid_invalid"]),
        (BKASH_OK.replace("BFC4K2M9QX", "8AB1CD"), &["payment_confirmation", "trxid_invalid"]),
        (BKASH_OK.replace("BFC4K2M9QX", "1234567890"), &["payment_confirmation", "trxid_invalid"]),
        (BKASH_OK.replace("05/12/2026", "05/12/2027"), &["payment_confirmation", "payment_time_invalid"]),
        (BKASH_OK.replace("05/12/2026", "31/02/2026"), &["payment_confirmation", "payment_time_invalid"]),
        (BKASH_OK.replace("14:32", "25:10"), &["payment_confirmation", "payment_time_invalid"]),
        (BKASH_OK.replace("14:32", "14:75"), &["payment_confirmation", "payment_time_invalid"]),
        (BKASH_OK.replace("Fee Tk 0.00", "Fee Tk 10.00"), &["payment_confirmation", "payment_figures_inconsistent"]),
        (
            t("Send Money Tk 500.00 to 01712345678 successful. Fee Tk 5.00. Total Tk 510.00. Balance Tk 1,000.00. TrxID BFC4K2M9QX at 03/11/2026 21:04 bKash"),
            &["payment_confirmation", "payment_figures_inconsistent"],
        ),
        (
            t("Send Money Tk 500.00 to 01712345678 successful. Fee Tk 5.00. Total Tk 505.00. Balance Tk 1,000.00. TrxID BFC4K2M9QX at 03/11/2026 21:04 bKash"),
            &["payment_confirmation"],
        ),
        (
            t("Cash Out Tk 50.00 successful. Fee Tk 92.50. Balance Tk 10.00. TrxID BFC4K2M9QX at 03/11/2026 21:04 bKash"),
            &["payment_confirmation", "payment_figures_inconsistent"],
        ),
        (
            t("Money Received. Amount: Tk 500.00 Sender: 01812345678 TxnID: 71JDR3FA12 Balance: Tk 1,000.00 06/12/2026 10:15 Nagad"),
            &["payment_confirmation", "trxid_invalid"],
        ),
        (
            t("Rocket: Tk500.00 received from A/C:01912345678 Fee:Tk0.00, Your A/C Balance: Tk1,000.00 TxnId:31428A5412 Date:05-DEC-26 02:32:15 pm"),
            &["payment_confirmation", "trxid_invalid"],
        ),
        (
            t("Rocket: Tk500.00 received from A/C:01912345678 Fee:Tk0.00, Your A/C Balance: Tk1,000.00 TxnId:3142815412 Date:05-DEC-26 13:32:15 pm"),
            &["payment_confirmation", "payment_time_invalid"],
        ),
        (
            format!("01712345678\n{}", BKASH_OK.replace("01712345678", "01812345678")),
            &["payment_confirmation", "personal_number_as_service"],
        ),
        (
            t("bKash customer care: 01712345678\nYour account will be blocked, call now"),
            &["personal_number_as_service"],
        ),
        (t("বিকাশ হেল্পলাইন ০১৭১২৩৪৫৬৭৮ এ কল করুন"), &["personal_number_as_service"]),
        (t("Call bKash at 16247 or visit bkash.com"), &[]),
        (t("Nagad agent point, Mirpur 10"), &[]),
    ];
    for (text, want) in &cases {
        assert_eq!(codes(text), *want, "{text}");
    }
}

#[test]
fn every_confirmation_says_a_screenshot_proves_nothing() {
    let (fields, findings) = read_payment(&screen(BKASH_OK), NOW);
    let f = &findings[0];
    assert!(f.en.contains("never proves a payment"), "{}", f.en);
    assert!(f.bn.contains("স্ক্রিনশট কখনো"), "{}", f.bn);
    let Some(FieldValue::Map(p)) = fields.get("payment") else {
        panic!("a payment field: {fields:?}");
    };
    assert_eq!(p.get("amount").map(String::as_str), Some("1500.00"));
    assert_eq!(p.get("trx_id").map(String::as_str), Some("BFC4K2M9QX"));
    assert_eq!(p.get("service").map(String::as_str), Some("bKash"));
}

fn tlv(tag: &str, value: &str) -> String {
    format!("{tag}{:02}{value}", value.len())
}

/// A payload with its CRC field (`crc_tag`) appended.
fn with_crc(body: &str, crc_tag: &str) -> String {
    let head = format!("{body}{crc_tag}04");
    let crc = expected_crc(&format!("{head}0000")).expect("crc");
    format!("{head}{crc}")
}

fn slip(reference: &str) -> String {
    let head = tlv(
        "00",
        &format!(
            "{}{}{}",
            tlv("00", "000001"),
            tlv("01", "004"),
            tlv("02", reference)
        ),
    );
    with_crc(&format!("{head}{}", tlv("51", "TH")), "91")
}

fn promptpay(phone: &str, amount: Option<&str>) -> String {
    let acct = tlv(
        "29",
        &format!("{}{}", tlv("00", "A000000677010111"), tlv("01", phone)),
    );
    let mut body = format!(
        "{}{}{acct}{}{}",
        tlv("00", "01"),
        tlv("01", "12"),
        tlv("53", "764"),
        tlv("58", "TH")
    );
    if let Some(a) = amount {
        body.push_str(&tlv("54", a));
    }
    with_crc(&body, "63")
}

#[test]
fn qr_payloads_are_classified_and_crc_checked() {
    let good = slip("015339123456ABC01234");
    // One character of the reference changed, CRC left as it was.
    let edited = good.replacen("0153391", "0153392", 1);
    let cases: Vec<(String, &str, Option<bool>)> = vec![
        (good.clone(), "slip", Some(true)),
        (edited, "slip", Some(false)),
        (promptpay("0066812345678", None), "promptpay", Some(true)),
        (
            promptpay("0066812345678", Some("500.00")),
            "promptpay",
            Some(true),
        ),
        (
            promptpay("0066812345678", Some("500.00")).replace("500.00", "900.00"),
            "promptpay",
            Some(false),
        ),
        ("https://bkash-bonus.com/claim".to_owned(), "other", None),
        ("000201".to_owned(), "other", None),
    ];
    for (payload, kind, crc) in cases {
        let fact = classify(&payload);
        let got = match fact.kind {
            QrKind::Slip { .. } => "slip",
            QrKind::PromptPay { .. } => "promptpay",
            QrKind::Other => "other",
        };
        assert_eq!((got, fact.crc_ok), (kind, crc), "{payload}");
    }
    match classify(&good).kind {
        QrKind::Slip { bank, reference } => {
            assert_eq!(
                (bank.as_str(), reference.as_str()),
                ("004", "015339123456ABC01234")
            );
        }
        other => panic!("{other:?}"),
    }
}

/// `payload` as a QR code on a white slip-like picture.
fn qr_picture(payload: &str) -> RgbImage {
    let code = qrcode::QrCode::new(payload.as_bytes()).expect("encodable");
    let w = code.width() as u32;
    let colors = code.to_colors();
    let (module, quiet) = (6u32, 4u32);
    let side = (w + 2 * quiet) * module;
    let mut img = RgbImage::from_pixel(side + 200, side + 300, Rgb([250, 250, 250]));
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (mx, my) = (i as u32 % w, i as u32 / w);
            for dy in 0..module {
                for dx in 0..module {
                    img.put_pixel(
                        100 + (quiet + mx) * module + dx,
                        150 + (quiet + my) * module + dy,
                        Rgb([10, 10, 10]),
                    );
                }
            }
        }
    }
    img
}

#[test]
fn qr_codes_on_a_picture_are_decoded_and_judged() {
    let good = slip("015339123456ABC01234");
    let (fields, findings) = read_qr(&qr_picture(&good));
    let codes: Vec<&str> = findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["thai_slip_qr"]);
    assert_eq!(
        fields.get("slip_bank").and_then(FieldValue::as_text),
        Some("004")
    );
    assert_eq!(
        fields.get("qr_codes").map(FieldValue::as_list),
        Some(vec![good.as_str()])
    );

    let edited = good.replacen("0153391", "0153392", 1);
    let (_, findings) = read_qr(&qr_picture(&edited));
    let codes: Vec<&str> = findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["thai_slip_qr", "qr_checksum_invalid"]);

    let (_, findings) = read_qr(&qr_picture(&promptpay("0066812345678", Some("500.00"))));
    let codes: Vec<&str> = findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["promptpay_request"]);

    let (fields, findings) = read_qr(&RgbImage::from_pixel(300, 300, Rgb([255, 255, 255])));
    assert!(fields.is_empty() && findings.is_empty());
}
