//! Tampering on the final pixels: pasting new digits over a field, or cloning a block of the
//! same image over it.

use image::RgbImage;
use imageproc::geometric_transformations::Projection;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::doc::RectF;
use crate::ink;
use crate::render::Renderer;

/// A rectangle in output-image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    /// Left.
    pub x: u32,
    /// Top.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

impl Region {
    /// Whether the region lies inside a `w`×`h` image and is not empty.
    pub fn inside(&self, w: u32, h: u32) -> bool {
        self.w > 0 && self.h > 0 && self.x + self.w <= w && self.y + self.h <= h
    }
}

/// The bounding box in the output of a page rectangle, padded by `pad` page pixels and
/// clamped to the `w`×`h` image.
pub fn map_rect(fwd: &Projection, r: RectF, pad: f32, w: u32, h: u32) -> Region {
    let pts = [
        (r.x0 - pad, r.y0 - pad),
        (r.x1 + pad, r.y0 - pad),
        (r.x1 + pad, r.y1 + pad),
        (r.x0 - pad, r.y1 + pad),
    ]
    .map(|p| fwd * &p);
    let x0 = pts
        .iter()
        .map(|p| p.0)
        .fold(f32::MAX, f32::min)
        .floor()
        .max(0.0) as u32;
    let y0 = pts
        .iter()
        .map(|p| p.1)
        .fold(f32::MAX, f32::min)
        .floor()
        .max(0.0) as u32;
    let x1 = (pts.iter().map(|p| p.0).fold(f32::MIN, f32::max).ceil() as u32).min(w);
    let y1 = (pts.iter().map(|p| p.1).fold(f32::MIN, f32::max).ceil() as u32).min(h);
    let x0 = x0.min(w.saturating_sub(1));
    let y0 = y0.min(h.saturating_sub(1));
    Region {
        x: x0,
        y: y0,
        w: x1.saturating_sub(x0).max(1),
        h: y1.saturating_sub(y0).max(1),
    }
}

fn luma(p: &image::Rgb<u8>) -> f32 {
    0.299 * f32::from(p.0[0]) + 0.587 * f32::from(p.0[1]) + 0.114 * f32::from(p.0[2])
}

/// The paper colour along one side: the mean of the brighter half of the pixels.
fn paper(pixels: &[image::Rgb<u8>]) -> [f32; 3] {
    if pixels.is_empty() {
        return [235.0; 3];
    }
    let mut l: Vec<f32> = pixels.iter().map(luma).collect();
    l.sort_by(f32::total_cmp);
    let median = l[l.len() / 2];
    let bright: Vec<&image::Rgb<u8>> = pixels.iter().filter(|p| luma(p) >= median).collect();
    let n = bright.len().max(1) as f32;
    let mut out = [0.0; 3];
    for p in bright {
        for (o, &v) in out.iter_mut().zip(&p.0) {
            *o += f32::from(v) / n;
        }
    }
    out
}

/// Replace `reg` with newly rendered `text` on a background estimated from the pixels
/// around it (a blend of the four sides' paper colours), in an ink colour estimated from
/// the darkest pixels it covers; sometimes softened and noised to blend in.
pub fn paste<R: Rng + ?Sized>(
    img: &mut RgbImage,
    reg: Region,
    text: &str,
    family: &str,
    r: &mut Renderer,
    rng: &mut R,
) {
    let (w, h) = img.dimensions();
    // Ink: the darkest 4 % inside.
    let mut inside: Vec<image::Rgb<u8>> = Vec::new();
    for y in reg.y..reg.y + reg.h {
        for x in reg.x..reg.x + reg.w {
            inside.push(*img.get_pixel(x, y));
        }
    }
    inside.sort_by(|a, b| luma(a).total_cmp(&luma(b)));
    let k = (inside.len() / 25).max(1);
    let mut ink_c = [0.0f32; 3];
    for p in &inside[..k] {
        for (o, &v) in ink_c.iter_mut().zip(&p.0) {
            *o += f32::from(v) / k as f32;
        }
    }
    // Paper on each side, 3 pixels out.
    let band = 3;
    let side = |xs: std::ops::Range<u32>, ys: std::ops::Range<u32>| -> [f32; 3] {
        let mut v = Vec::new();
        for y in ys {
            for x in xs.clone() {
                if x < w && y < h {
                    v.push(*img.get_pixel(x, y));
                }
            }
        }
        paper(&v)
    };
    let (x0, y0, x1, y1) = (reg.x, reg.y, reg.x + reg.w, reg.y + reg.h);
    let left = side(x0.saturating_sub(band)..x0, y0..y1);
    let right = side(x1..x1 + band, y0..y1);
    let top = side(x0..x1, y0.saturating_sub(band)..y0);
    let bottom = side(x0..x1, y1..y1 + band);
    let noise = rng.gen_range(0.0..3.0f32);
    for y in y0..y1 {
        let fy = (y - y0) as f32 / reg.h.max(1) as f32;
        for x in x0..x1 {
            let fx = (x - x0) as f32 / reg.w.max(1) as f32;
            let n = rng.gen_range(-1.0..1.0f32) * noise;
            let p = img.get_pixel_mut(x, y);
            for c in 0..3 {
                let hz = left[c] * (1.0 - fx) + right[c] * fx;
                let vt = top[c] * (1.0 - fy) + bottom[c] * fy;
                p.0[c] = ((hz + vt) / 2.0 + n).clamp(0.0, 255.0) as u8;
            }
        }
    }
    // The new digits, fitted to the region's height (and width if needed).
    let px = reg.h as f32 * rng.gen_range(0.95..1.2);
    let mask = r.line(text, family, px, false);
    if let Some((bx0, by0, bx1, by1)) = ink::ink_bbox(&mask) {
        let (tw, th) = (bx1 - bx0, by1 - by0);
        let scale = ((reg.w as f32 * 0.98) / tw as f32)
            .min(reg.h as f32 * rng.gen_range(0.75..0.9) / th as f32);
        let crop = image::imageops::crop_imm(&mask, bx0, by0, tw, th).to_image();
        let nw = ((tw as f32 * scale).round() as u32).max(1);
        let nh = ((th as f32 * scale).round() as u32).max(1);
        let m = image::imageops::resize(&crop, nw, nh, image::imageops::FilterType::Triangle);
        let ox = reg.x + rng.gen_range(0..=(reg.w - nw.min(reg.w)).min(3));
        let oy = reg.y + (reg.h - nh.min(reg.h)) / 2;
        let ink = [
            ink_c[0].clamp(0.0, 255.0) as u8,
            ink_c[1].clamp(0.0, 255.0) as u8,
            ink_c[2].clamp(0.0, 255.0) as u8,
        ];
        // Lerp to the ink colour by coverage.
        for (mx, my, v) in m.enumerate_pixels() {
            let a = f32::from(255 - v.0[0]) / 255.0;
            let (x, y) = (ox + mx, oy + my);
            if a > 0.0 && x < w && y < h {
                let p = img.get_pixel_mut(x, y);
                for (v, &i) in p.0.iter_mut().zip(&ink) {
                    *v = (f32::from(*v) * (1.0 - a) + f32::from(i) * a) as u8;
                }
            }
        }
    }
    if rng.gen_bool(0.5) {
        let sub = image::imageops::crop_imm(img, reg.x, reg.y, reg.w, reg.h).to_image();
        let b = imageproc::filter::gaussian_blur_f32(&sub, rng.gen_range(0.4..0.9));
        image::imageops::replace(img, &b, i64::from(reg.x), i64::from(reg.y));
    }
}

/// Copy the `w`×`h` block at `src` over `dst` (both top-left corners) in the same image.
pub fn clone_block(img: &mut RgbImage, src: (u32, u32), dst: (u32, u32), w: u32, h: u32) {
    let block = image::imageops::crop_imm(img, src.0, src.1, w, h).to_image();
    image::imageops::replace(img, &block, i64::from(dst.0), i64::from(dst.1));
}

/// The brightest, flattest `w`×`h` block among random candidates (blank paper), away from
/// `avoid`.
pub fn blank_block<R: Rng + ?Sized>(
    img: &RgbImage,
    w: u32,
    h: u32,
    within: Region,
    avoid: Region,
    rng: &mut R,
) -> Option<(u32, u32)> {
    let mut best: Option<((u32, u32), f32)> = None;
    for _ in 0..60 {
        if within.w <= w || within.h <= h {
            return None;
        }
        let x = within.x + rng.gen_range(0..within.w - w);
        let y = within.y + rng.gen_range(0..within.h - h);
        let overlaps =
            x < avoid.x + avoid.w && avoid.x < x + w && y < avoid.y + avoid.h && avoid.y < y + h;
        if overlaps {
            continue;
        }
        let mut min = f32::MAX;
        let mut sum = 0.0;
        let mut n = 0.0;
        for yy in (y..y + h).step_by(2) {
            for xx in (x..x + w).step_by(2) {
                let l = luma(img.get_pixel(xx, yy));
                min = min.min(l);
                sum += l;
                n += 1.0;
            }
        }
        let score = sum / n + min;
        if best.is_none_or(|(_, s)| score > s) {
            best = Some(((x, y), score));
        }
    }
    best.map(|(p, _)| p)
}
