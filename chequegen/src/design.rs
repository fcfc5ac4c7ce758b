//! A bank's printed, unfilled cheque: tint, guilloche background, security and microprint
//! lines, watermark and layout; the reference templates `verify::cheque::security` matches
//! against are written from it.

use gdgen::ink;
use gdgen::render::Renderer;
use image::{Rgb, RgbImage};

use crate::{field_layout, put_text, with_renderer, Bank, Error, Rect, BANKS, PAGE_H, PAGE_W};

/// A design: bank colours and pattern, or a made-up one for a counterfeit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Design {
    pub(crate) bank: Bank,
    /// Pattern contrast (0–1).
    pub(crate) contrast: f32,
}

/// The printed, unfilled cheque of `design`.
pub(crate) fn blank(r: &mut Renderer, d: &Design, branch: &str) -> RgbImage {
    let b = &d.bank;
    let (period, angle, wave) = b.pattern;
    let (sa, ca) = angle.to_radians().sin_cos();
    let lay = field_layout(b.layout);
    let micr_top = lay.micr.y.saturating_sub(10);
    let mut page = RgbImage::from_fn(PAGE_W, PAGE_H, |x, y| {
        if y >= micr_top {
            // The MICR clear band: plain paper.
            return Rgb([250, 250, 248]);
        }
        let (xf, yf) = (x as f32, y as f32);
        let u = xf * ca + yf * sa + wave * (xf * 0.02).sin();
        let line = (u * std::f32::consts::TAU / period).cos();
        // Fine lines: ink where the cosine is near its top.
        let a = ((line - 0.6) / 0.4).clamp(0.0, 1.0) * d.contrast;
        Rgb(std::array::from_fn(|c| {
            let paper = f32::from(b.tint[c]);
            let inkc = f32::from(b.ink[c]);
            (paper * (1.0 - a) + inkc * a * 0.6 + paper * a * 0.4) as u8
        }))
    });
    // Watermark: the short name, large and faint, in the middle.
    let wm = r.line(b.short, "Noto Sans", 150.0, true);
    put_text(&mut page, &wm, 380, 300, b.ink, 0.07);
    // Header.
    let name = r.line(b.name, "Noto Serif", 34.0, true);
    put_text(&mut page, &name, 40, 45, b.ink, 0.95);
    let br = r.line(&format!("{branch} Branch"), "Noto Sans", 18.0, false);
    put_text(&mut page, &br, 42, 82, [60, 60, 60], 0.9);
    // Labels and writing lines; the lines under payee and amount are microprint.
    let micro_unit = format!("{}BANKLIMITED", b.short);
    let micro = r.line(&micro_unit.repeat(40), "Noto Sans", 7.0, false);
    let label = |page: &mut RgbImage, r: &mut Renderer, t: &str, x: i32, cy: i32| {
        let m = r.line(t, "Noto Sans", 20.0, true);
        put_text(page, &m, x, cy, [50, 50, 50], 0.95);
    };
    label(&mut page, r, "Date", lay.date.x as i32 - 60, 62);
    ink::hline(
        &mut page,
        lay.date.x,
        lay.date.x + lay.date.w,
        80,
        1,
        b.ink,
        true,
    );
    label(&mut page, r, "PAY", 40, 150);
    put_text(&mut page, &micro, lay.payee.x as i32, 166, b.ink, 0.9);
    label(&mut page, r, "or Bearer", 1210, 150);
    label(&mut page, r, "TAKA", 40, lay.amount_words.y as i32 + 40);
    put_text(
        &mut page,
        &micro,
        lay.amount_words.x as i32,
        lay.amount_words.y as i32 + 56,
        b.ink,
        0.9,
    );
    ink::hline(
        &mut page,
        60,
        1010,
        lay.amount_words.y + 126,
        1,
        b.ink,
        false,
    );
    // Amount box with parallel security lines inside.
    let fb = lay.amount_figures;
    for k in 0..3 {
        ink::hline(&mut page, fb.x, fb.x + fb.w, fb.y + 3 * k, 1, b.ink, false);
        ink::hline(
            &mut page,
            fb.x,
            fb.x + fb.w,
            fb.y + fb.h - 1 - 3 * k,
            1,
            b.ink,
            false,
        );
    }
    ink::vline(&mut page, fb.x, fb.y, fb.y + fb.h, 2, b.ink);
    ink::vline(&mut page, fb.x + fb.w - 2, fb.y, fb.y + fb.h, 2, b.ink);
    // Account line and signature line (microprint) and caption.
    label(&mut page, r, "A/C No.", 40, 400);
    put_text(&mut page, &micro, lay.signature.x as i32, 478, b.ink, 0.9);
    let cap = r.line("Authorised Signature", "Noto Sans", 16.0, false);
    put_text(
        &mut page,
        &cap,
        lay.signature.x as i32 + 110,
        500,
        [60, 60, 60],
        0.9,
    );
    page
}

/// The blank design of bank `bank` at full page size: a reference template.
pub fn design(bank: &Bank) -> Result<RgbImage, Error> {
    let d = Design {
        bank: *bank,
        contrast: 0.35,
    };
    with_renderer(|r| blank(r, &d, "Principal"))
}

/// The slug of a bank's template folder: `sonali-bank-limited`.
pub fn slug(name: &str) -> String {
    name.to_lowercase().replace(' ', "-")
}

/// Write every bank's reference template under `dir`: `SLUG/template.png` (the blank design,
/// downscaled to 350×160) and `SLUG/layout.json` (field boxes as fractions of the page).
pub fn write_templates(dir: &std::path::Path) -> anyhow::Result<()> {
    for bank in &BANKS {
        let d = dir.join(slug(bank.name));
        std::fs::create_dir_all(&d)?;
        let img = design(bank)?;
        let small = image::imageops::resize(
            &img,
            PAGE_W / 4,
            PAGE_H / 4,
            image::imageops::FilterType::Triangle,
        );
        small.save(d.join("template.png"))?;
        let lay = field_layout(bank.layout);
        let frac = |r: Rect| {
            [
                r.x as f32 / PAGE_W as f32,
                r.y as f32 / PAGE_H as f32,
                r.w as f32 / PAGE_W as f32,
                r.h as f32 / PAGE_H as f32,
            ]
        };
        let layout = serde_json::json!({
            "bank": bank.name,
            "routing_bank_code": bank.code,
            "fields": {
                "date": frac(lay.date),
                "payee": frac(lay.payee),
                "amount_words": frac(lay.amount_words),
                "amount_figures": frac(lay.amount_figures),
                "signature": frac(lay.signature),
                "micr": frac(lay.micr),
            }
        });
        std::fs::write(
            d.join("layout.json"),
            serde_json::to_string_pretty(&layout)?,
        )?;
    }
    Ok(())
}
