//! Putting ink on paper: text masks, lines, rubber stamps (round seals, received stamps) and
//! handwritten signatures, all multiplied onto the page like ink.

use image::{GrayImage, Luma, RgbImage};
use imageproc::geometric_transformations::{rotate_about_center, Border, Interpolation};
use rand::Rng;

use crate::render::Renderer;

/// An ink colour.
pub type Ink = [u8; 3];

/// Multiply ink onto one pixel with coverage `a` in 0..=1.
#[inline]
fn blend(p: &mut image::Rgb<u8>, ink: Ink, a: f32) {
    for (v, &i) in p.0.iter_mut().zip(&ink) {
        let k = 1.0 - a * (1.0 - f32::from(i) / 255.0);
        *v = (f32::from(*v) * k).round() as u8;
    }
}

/// Multiply a black-on-white `mask` (as [`Renderer::line`] makes) onto `page` at `(x, y)`.
pub fn put_mask(page: &mut RgbImage, mask: &GrayImage, x: i32, y: i32, ink: Ink, opacity: f32) {
    put(page, mask, x, y, ink, opacity, |v| 255 - v);
}

/// Multiply a coverage image (255 = full ink) onto `page` at `(x, y)`.
pub fn put_coverage(page: &mut RgbImage, cov: &GrayImage, x: i32, y: i32, ink: Ink, opacity: f32) {
    put(page, cov, x, y, ink, opacity, |v| v);
}

fn put(
    page: &mut RgbImage,
    m: &GrayImage,
    x: i32,
    y: i32,
    ink: Ink,
    opacity: f32,
    cov: impl Fn(u8) -> u8,
) {
    let (pw, ph) = (page.width() as i32, page.height() as i32);
    for (mx, my, v) in m.enumerate_pixels() {
        let c = cov(v.0[0]);
        if c == 0 {
            continue;
        }
        let (px, py) = (x + mx as i32, y + my as i32);
        if px < 0 || py < 0 || px >= pw || py >= ph {
            continue;
        }
        blend(
            page.get_pixel_mut(px as u32, py as u32),
            ink,
            f32::from(c) / 255.0 * opacity,
        );
    }
}

/// The bounding box `(x0, y0, x1, y1)` (exclusive ends) of the ink in a black-on-white mask.
pub fn ink_bbox(mask: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, v) in mask.enumerate_pixels() {
        if v.0[0] < 160 {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x + 1);
            y1 = y1.max(y + 1);
        }
    }
    (x0 < x1).then_some((x0, y0, x1, y1))
}

/// A horizontal line from `x0` to `x1` at `y`, `thick` pixels, solid or dotted.
pub fn hline(page: &mut RgbImage, x0: u32, x1: u32, y: u32, thick: u32, ink: Ink, dotted: bool) {
    for x in x0..x1.min(page.width()) {
        if dotted && (x / 3) % 2 == 1 {
            continue;
        }
        for t in 0..thick {
            if y + t < page.height() {
                blend(page.get_pixel_mut(x, y + t), ink, 0.85);
            }
        }
    }
}

/// A vertical line.
pub fn vline(page: &mut RgbImage, x: u32, y0: u32, y1: u32, thick: u32, ink: Ink) {
    for y in y0..y1.min(page.height()) {
        for t in 0..thick {
            if x + t < page.width() {
                blend(page.get_pixel_mut(x + t, y), ink, 0.85);
            }
        }
    }
}

/// Add an anti-aliased disc of radius `r` at `(cx, cy)` to a coverage image (max).
fn disc(cov: &mut GrayImage, cx: f32, cy: f32, r: f32) {
    let (w, h) = (cov.width() as i32, cov.height() as i32);
    let x0 = ((cx - r - 1.0).floor() as i32).max(0);
    let x1 = ((cx + r + 1.0).ceil() as i32).min(w - 1);
    let y0 = ((cy - r - 1.0).floor() as i32).max(0);
    let y1 = ((cy + r + 1.0).ceil() as i32).min(h - 1);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
            let a = (r + 0.5 - d).clamp(0.0, 1.0);
            if a > 0.0 {
                let p = cov.get_pixel_mut(x as u32, y as u32);
                p.0[0] = p.0[0].max((a * 255.0) as u8);
            }
        }
    }
}

fn cubic(p: [(f32, f32); 4], t: f32) -> (f32, f32) {
    let u = 1.0 - t;
    let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
    (
        a * p[0].0 + b * p[1].0 + c * p[2].0 + d * p[3].0,
        a * p[0].1 + b * p[1].1 + c * p[2].1 + d * p[3].1,
    )
}

/// A handwritten-looking signature: a few loopy strokes of chained cubic Béziers with
/// varying pen pressure, and often an underline flourish; a coverage image `w`×`h`.
pub fn signature<R: Rng + ?Sized>(rng: &mut R, w: u32, h: u32, pen: f32) -> GrayImage {
    let mut cov = GrayImage::new(w, h);
    let (wf, hf) = (w as f32, h as f32);
    let strokes = rng.gen_range(1..=3);
    let mut x = wf * rng.gen_range(0.03..0.12);
    for s in 0..strokes {
        let segs = rng.gen_range(3..7);
        let mut p0 = (x, hf * rng.gen_range(0.3..0.7));
        let span = wf * rng.gen_range(0.5..0.9) / strokes as f32;
        for _ in 0..segs {
            let step = span / segs as f32;
            let p3 = (
                (p0.0 + step * rng.gen_range(0.6..1.4)).min(wf * 0.97),
                hf * rng.gen_range(0.15..0.85),
            );
            let p1 = (
                p0.0 + rng.gen_range(-0.8..1.2) * step,
                hf * rng.gen_range(-0.1..1.1),
            );
            let p2 = (
                p3.0 + rng.gen_range(-1.2..0.8) * step,
                hf * rng.gen_range(-0.1..1.1),
            );
            let n = 60;
            for i in 0..=n {
                let t = i as f32 / n as f32;
                let (px, py) = cubic([p0, p1, p2, p3], t);
                let pressure = 0.65 + 0.35 * (t * std::f32::consts::PI).sin();
                disc(&mut cov, px, py, pen * pressure);
            }
            p0 = p3;
        }
        x = p0.0 + wf * rng.gen_range(0.0..0.08);
        if s + 1 == strokes && rng.gen_bool(0.6) {
            // Underline flourish.
            let y = hf * rng.gen_range(0.75..0.92);
            let a = (wf * rng.gen_range(0.0..0.2), y);
            let d = (
                wf * rng.gen_range(0.7..0.98),
                y + hf * rng.gen_range(-0.1..0.05),
            );
            let b = (wf * 0.4, y + hf * rng.gen_range(-0.2..0.15));
            let c = (wf * 0.7, y + hf * rng.gen_range(-0.15..0.15));
            for i in 0..=80 {
                let t = i as f32 / 80.0;
                let (px, py) = cubic([a, b, c, d], t);
                disc(&mut cov, px, py, pen * (0.9 - 0.5 * t));
            }
        }
    }
    cov
}

/// Roughen a stamp's coverage: uneven ink (patchy pressure) and small dropouts.
fn grain<R: Rng + ?Sized>(cov: &mut GrayImage, rng: &mut R) {
    let (w, h) = cov.dimensions();
    // Low-frequency pressure field: a few random linear ramps.
    let (gx, gy, g0) = (
        rng.gen_range(-0.6..0.6) / w as f32,
        rng.gen_range(-0.6..0.6) / h as f32,
        rng.gen_range(0.75..1.0),
    );
    let mut state: u64 = rng.gen();
    for (x, y, p) in cov.enumerate_pixels_mut() {
        if p.0[0] == 0 {
            continue;
        }
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let r = (state >> 40) as f32 / (1u64 << 24) as f32;
        let pressure = (g0 + gx * x as f32 + gy * y as f32).clamp(0.35, 1.0);
        let drop = if r < 0.06 { 0.35 } else { 1.0 };
        p.0[0] = (f32::from(p.0[0]) * pressure * drop * (0.85 + 0.15 * r)) as u8;
    }
}

/// Copy a black-on-white text mask into a coverage image at `(x, y)` (max).
fn add_text(cov: &mut GrayImage, mask: &GrayImage, x: i32, y: i32) {
    for (mx, my, v) in mask.enumerate_pixels() {
        let (px, py) = (x + mx as i32, y + my as i32);
        if px >= 0 && py >= 0 && (px as u32) < cov.width() && (py as u32) < cov.height() {
            let p = cov.get_pixel_mut(px as u32, py as u32);
            p.0[0] = p.0[0].max(255 - v.0[0]);
        }
    }
}

/// A round thana seal, diameter `d`: two concentric rings, `ring_text` set around the top
/// between them (shaped as one line, then bent onto the arc), and `centre` lines inside.
/// Rotated by `angle` radians and grained; a coverage image.
#[allow(clippy::too_many_arguments)]
pub fn round_seal<R: Rng + ?Sized>(
    r: &mut Renderer,
    rng: &mut R,
    d: u32,
    ring_text: &str,
    centre: &[&str],
    family: &str,
    angle: f32,
) -> GrayImage {
    let mut cov = GrayImage::new(d, d);
    let c = d as f32 / 2.0;
    let r_out = c - 2.0;
    let t_out = (d as f32 * 0.022).max(2.0);
    let r_in = r_out * 0.66;
    let t_in = (d as f32 * 0.012).max(1.5);
    // The band for the ring text.
    let band = r_out - t_out - r_in - t_in;
    let text_px = band * 0.62;
    let text = r.line(ring_text, family, text_px, true);
    let bbox = ink_bbox(&text).unwrap_or((0, 0, text.width(), text.height()));
    let (tx0, ty0, tx1, ty1) = bbox;
    let (tw, th) = ((tx1 - tx0) as f32, (ty1 - ty0).max(1) as f32);
    let r_mid = (r_out - t_out + r_in + t_in) / 2.0;
    let max_arc = 1.75 * std::f32::consts::PI * r_mid;
    let k = (tw / max_arc).max(1.0); // shrink the text if it does not fit
    let arc = tw / k / r_mid; // radians the text spans
    let band_hi = r_out - t_out - band * 0.12;
    let band_lo = r_in + t_in + band * 0.12;
    for y in 0..d {
        for x in 0..d {
            let (dx, dy) = (x as f32 + 0.5 - c, y as f32 + 0.5 - c);
            let rad = (dx * dx + dy * dy).sqrt();
            let mut a = 0.0f32;
            a = a.max((t_out / 2.0 + 0.5 - (rad - (r_out - t_out / 2.0)).abs()).clamp(0.0, 1.0));
            a = a.max((t_in / 2.0 + 0.5 - (rad - (r_in + t_in / 2.0)).abs()).clamp(0.0, 1.0));
            if rad > band_lo && rad < band_hi {
                // Angle from the top, clockwise.
                let phi = dx.atan2(-dy);
                if phi.abs() <= arc / 2.0 {
                    let sx = tx0 as f32 + (phi + arc / 2.0) / arc * tw;
                    let sy = ty0 as f32 + (band_hi - rad) / (band_hi - band_lo) * th;
                    if (sx as u32) < text.width() && (sy as u32) < text.height() {
                        let v = text.get_pixel(sx as u32, sy as u32).0[0];
                        a = a.max(f32::from(255 - v) / 255.0);
                    }
                }
            }
            if a > 0.0 {
                cov.put_pixel(x, y, Luma([(a * 255.0) as u8]));
            }
        }
    }
    // Lines in the middle, sized to the inner circle.
    let n = centre.len().max(1) as f32;
    let px = (r_in * 1.3 / n / 1.5).min(r_in * 0.32);
    let masks: Vec<GrayImage> = centre.iter().map(|s| r.line(s, family, px, true)).collect();
    let total_h: f32 = masks.iter().map(|m| m.height() as f32 * 0.8).sum();
    let mut y = c - total_h / 2.0;
    for m in &masks {
        let scale_ok = (m.width() as f32) < r_in * 1.8;
        let m = if scale_ok {
            m.clone()
        } else {
            let f = r_in * 1.8 / m.width() as f32;
            image::imageops::resize(
                m,
                (m.width() as f32 * f) as u32,
                (m.height() as f32 * f).max(1.0) as u32,
                image::imageops::FilterType::Triangle,
            )
        };
        add_text(&mut cov, &m, (c - m.width() as f32 / 2.0) as i32, y as i32);
        y += m.height() as f32 * 0.8;
    }
    grain(&mut cov, rng);
    rotate_about_center(
        &cov,
        angle,
        Interpolation::Bilinear,
        Border::Constant(Luma([0])),
    )
}

/// A rectangular "received" stamp: a double border and `lines` inside; coverage image.
pub fn rect_stamp<R: Rng + ?Sized>(
    r: &mut Renderer,
    rng: &mut R,
    lines: &[&str],
    family: &str,
    px: f32,
    angle: f32,
) -> GrayImage {
    let masks: Vec<GrayImage> = lines.iter().map(|s| r.line(s, family, px, true)).collect();
    let w = masks.iter().map(GrayImage::width).max().unwrap_or(10) + (px * 1.2) as u32;
    let h = masks
        .iter()
        .map(|m| (m.height() as f32 * 0.78) as u32)
        .sum::<u32>()
        + px as u32;
    // Room for the rotation.
    let side = ((w * w + h * h) as f32).sqrt().ceil() as u32 + 4;
    let mut cov = GrayImage::new(side, side);
    let (ox, oy) = ((side - w) / 2, (side - h) / 2);
    let t = (px / 9.0).max(2.0) as u32;
    for (i, inset) in [0u32, t * 2].iter().enumerate() {
        let th = if i == 0 { t } else { (t / 2).max(1) };
        for x in ox + inset..ox + w - inset {
            for k in 0..th {
                cov.put_pixel(x, oy + inset + k, Luma([255]));
                cov.put_pixel(x, oy + h - inset - 1 - k, Luma([255]));
            }
        }
        for y in oy + inset..oy + h - inset {
            for k in 0..th {
                cov.put_pixel(ox + inset + k, y, Luma([255]));
                cov.put_pixel(ox + w - inset - 1 - k, y, Luma([255]));
            }
        }
    }
    let mut y = oy as f32 + px * 0.35;
    for m in &masks {
        add_text(&mut cov, m, (ox + (w - m.width()) / 2) as i32, y as i32);
        y += m.height() as f32 * 0.78;
    }
    grain(&mut cov, rng);
    rotate_about_center(
        &cov,
        angle,
        Interpolation::Bilinear,
        Border::Constant(Luma([0])),
    )
}
