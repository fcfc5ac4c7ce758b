//! The receipt: the report id as a QR code (for the screen) and as ESC/POS bytes for a thermal
//! printer (device path in the configuration).

use std::io::Write;
use std::path::Path;

use image::GrayImage;
use qrcode::{Color, EcLevel, QrCode};

use crate::controller::Receipt;

/// What the QR code carries: the report id, prefixed so a scanner app knows what it is.
pub fn qr_payload(case_id: &str) -> String {
    format!("JACHAI:{case_id}")
}

/// The QR code of `text`, `scale` pixels per module, with the standard 4-module quiet zone.
pub fn qr_image(text: &str, scale: u32) -> Result<GrayImage, qrcode::types::QrError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?;
    let modules = u32::try_from(code.width()).unwrap_or(0);
    let colors = code.to_colors();
    let quiet = 4;
    let side = (modules + 2 * quiet) * scale;
    Ok(GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / scale, y / scale);
        let dark = mx >= quiet
            && my >= quiet
            && mx < modules + quiet
            && my < modules + quiet
            && colors[((my - quiet) * modules + (mx - quiet)) as usize] == Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    }))
}

/// The receipt as ESC/POS: initialise, a few lines of text (ASCII: thermal printers carry no
/// Bengali font), the QR code through the printer's own `GS ( k` generator, feed and cut.
pub fn escpos(receipt: &Receipt, kiosk_id: &str) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"\x1b@"); // initialise
    out.extend_from_slice(b"\x1ba\x01"); // centre
    out.extend_from_slice(b"\x1bE\x01JACHAI\n\x1bE\x00");
    out.extend_from_slice(b"Stolen phone report\n\n");
    out.extend_from_slice(b"\x1ba\x00"); // left
    let ascii = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii() && !c.is_ascii_control() {
                    c
                } else {
                    '?'
                }
            })
            .collect()
    };
    let mut line = |k: &str, v: &str| {
        out.extend_from_slice(format!("{k:<10}{}\n", ascii(v)).as_bytes());
    };
    line("Report", &receipt.case_id);
    line("Verdict", &receipt.verdict);
    line("Thana", &receipt.thana_en);
    line("District", &receipt.district_en);
    for imei in &receipt.imeis {
        line("IMEI", imei);
    }
    line("Kiosk", kiosk_id);
    out.extend_from_slice(b"\n\x1ba\x01");
    let data = qr_payload(&receipt.case_id);
    let len = data.len() + 3;
    let (pl, ph) = ((len % 256) as u8, (len / 256) as u8);
    out.extend_from_slice(b"\x1d(k\x04\x001A2\x00"); // model 2
    out.extend_from_slice(b"\x1d(k\x03\x001C\x06"); // module size 6
    out.extend_from_slice(b"\x1d(k\x03\x001E1"); // error correction M
    out.extend_from_slice(&[0x1d, b'(', b'k', pl, ph, b'1', b'P', b'0']);
    out.extend_from_slice(data.as_bytes());
    out.extend_from_slice(b"\x1d(k\x03\x001Q0"); // print the symbol
    out.extend_from_slice(b"\n\n\n\x1dV\x01"); // feed, partial cut
    out
}

/// Print `receipt` to the printer device at `device` (e.g. `/dev/usb/lp0`).
pub fn print(device: &Path, receipt: &Receipt, kiosk_id: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(false)
        .open(device)?;
    f.write_all(&escpos(receipt, kiosk_id))?;
    f.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt() -> Receipt {
        Receipt {
            case_id: "K1-20261206-0001".into(),
            verdict: "review".into(),
            district_en: "Dhaka".into(),
            thana_en: "Mirpur".into(),
            imeis: vec!["490154203237518".into()],
        }
    }

    #[test]
    fn qr_code_has_finder_patterns_and_quiet_zone() {
        let img = qr_image("JACHAI:K1-20261206-0001", 3).expect("short text encodes");
        let side = img.width();
        assert_eq!(side, img.height());
        assert_eq!(side % 3, 0);
        // Quiet zone white, top-left finder pattern's outer ring dark.
        assert_eq!(img.get_pixel(0, 0).0[0], 255);
        assert_eq!(img.get_pixel(4 * 3, 4 * 3).0[0], 0);
        assert_eq!(img.get_pixel(4 * 3 + 6 * 3, 4 * 3).0[0], 0);
        assert_eq!(
            img.get_pixel(4 * 3 + 3, 4 * 3 + 3).0[0],
            255,
            "finder ring is hollow"
        );
    }

    #[test]
    fn escpos_carries_the_id_the_qr_and_a_cut() {
        let bytes = escpos(&receipt(), "K1");
        let text = String::from_utf8_lossy(&bytes);
        assert!(bytes.starts_with(b"\x1b@"));
        assert!(text.contains("Report    K1-20261206-0001"));
        assert!(text.contains("Thana     Mirpur"));
        assert!(text.contains("JACHAI:K1-20261206-0001"));
        assert!(bytes.ends_with(b"\x1dV\x01"));
    }

    #[test]
    fn printing_to_a_missing_device_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(print(&dir.path().join("lp0"), &receipt(), "K1").is_err());
        let dev = dir.path().join("lp1");
        std::fs::write(&dev, b"").expect("create");
        print(&dev, &receipt(), "K1").expect("writable device file");
        assert_eq!(std::fs::read(&dev).expect("read"), escpos(&receipt(), "K1"));
    }
}
