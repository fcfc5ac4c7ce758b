//! The working image: grey, bounded in size, with sampling and smoothing helpers.

use image::RgbImage;
use rayon::prelude::*;

/// A grey image in `f32` (0–255), row-major.
#[derive(Debug, Clone)]
pub struct Gray {
    pub w: usize,
    pub h: usize,
    pub px: Vec<f32>,
}

impl Gray {
    /// The value at integer coordinates (caller keeps them in range).
    #[inline]
    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.px[y * self.w + x]
    }

    /// Bilinear sample; `None` outside the image.
    #[inline]
    pub fn sample(&self, x: f32, y: f32) -> Option<f32> {
        if !(x >= 0.0 && y >= 0.0) {
            return None;
        }
        let (x0, y0) = (x.floor(), y.floor());
        let (xi, yi) = (x0 as usize, y0 as usize);
        if xi + 1 >= self.w || yi + 1 >= self.h {
            // The last row/column: allow exact hits only.
            if xi < self.w && yi < self.h && x == x0 && y == y0 {
                return Some(self.at(xi, yi));
            }
            return None;
        }
        let (fx, fy) = (x - x0, y - y0);
        let i = yi * self.w + xi;
        let top = self.px[i] + (self.px[i + 1] - self.px[i]) * fx;
        let bot = self.px[i + self.w] + (self.px[i + self.w + 1] - self.px[i + self.w]) * fx;
        Some(top + (bot - top) * fy)
    }

    /// A copy smoothed with the 5-tap binomial kernel (σ ≈ 1), borders clamped.
    pub fn smoothed(&self) -> Gray {
        const K: [f32; 5] = [1.0 / 16.0, 4.0 / 16.0, 6.0 / 16.0, 4.0 / 16.0, 1.0 / 16.0];
        let (w, h) = (self.w, self.h);
        let mut tmp = vec![0.0f32; w * h];
        tmp.par_chunks_mut(w.max(1))
            .zip(self.px.par_chunks(w.max(1)))
            .for_each(|(out, row)| {
                for (x, o) in out.iter_mut().enumerate() {
                    let mut s = 0.0;
                    for (k, kv) in K.iter().enumerate() {
                        let xx = (x + k).saturating_sub(2).min(w - 1);
                        s += kv * row[xx];
                    }
                    *o = s;
                }
            });
        let mut px = vec![0.0f32; w * h];
        px.par_chunks_mut(w.max(1))
            .enumerate()
            .for_each(|(y, out)| {
                for (k, kv) in K.iter().enumerate() {
                    let yy = (y + k).saturating_sub(2).min(h - 1);
                    let row = &tmp[yy * w..(yy + 1) * w];
                    for (o, v) in out.iter_mut().zip(row) {
                        *o += kv * v;
                    }
                }
            });
        Gray { w, h, px }
    }
}

/// The scale that brings `w`×`h` within `max_pixels` and `max_side` (never enlarges).
pub fn working_scale(w: u32, h: u32, max_pixels: u64, max_side: u32) -> f64 {
    let pixels = f64::from(w) * f64::from(h);
    let by_area = (max_pixels as f64 / pixels.max(1.0)).sqrt();
    let by_side = f64::from(max_side) / f64::from(w.max(h).max(1));
    by_area.min(by_side).min(1.0)
}

/// Luma of `img`, area-averaged down by `scale` (≤ 1).
pub fn working_gray(img: &RgbImage, scale: f64) -> Gray {
    let (sw, sh) = (img.width() as usize, img.height() as usize);
    let w = ((sw as f64 * scale).round() as usize).clamp(1, sw.max(1));
    let h = ((sh as f64 * scale).round() as usize).clamp(1, sh.max(1));
    let raw = img.as_raw();
    let luma = |x: usize, y: usize| -> f32 {
        let i = (y * sw + x) * 3;
        0.299 * f32::from(raw[i]) + 0.587 * f32::from(raw[i + 1]) + 0.114 * f32::from(raw[i + 2])
    };
    let mut px = vec![0.0f32; w * h];
    if w == sw && h == sh {
        px.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
            for (x, o) in row.iter_mut().enumerate() {
                *o = luma(x, y);
            }
        });
        return Gray { w, h, px };
    }
    // Each output pixel averages the source pixels whose index maps into it.
    let x_span = |x: usize| (x * sw / w, ((x + 1) * sw / w).max(x * sw / w + 1).min(sw));
    px.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        let (y0, y1) = (y * sh / h, ((y + 1) * sh / h).max(y * sh / h + 1).min(sh));
        for (x, o) in row.iter_mut().enumerate() {
            let (x0, x1) = x_span(x);
            let mut s = 0.0f32;
            for yy in y0..y1 {
                for xx in x0..x1 {
                    s += luma(xx, yy);
                }
            }
            *o = s / ((y1 - y0) * (x1 - x0)) as f32;
        }
    });
    Gray { w, h, px }
}
