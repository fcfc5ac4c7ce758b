//! Renditions of a page: a flat scan, or a phone photo of the page on a desk.

use image::{Rgb, RgbImage};
use imageproc::geometric_transformations::Projection;
use rand::Rng;
use rayon::prelude::*;

/// A finished image and how page pixels map into it.
#[derive(Debug)]
pub struct Rendered {
    /// The output pixels.
    pub img: RgbImage,
    /// Page pixel → output pixel.
    pub fwd: Projection,
    /// The page's corners in the output (top-left, top-right, bottom-right, bottom-left).
    pub corners: [(f32, f32); 4],
}

/// A cheap per-pixel hash to noise: roughly N(0, 1), per `seed`, pixel and channel `c` (the
/// cheque generator draws its sensor noise from it too).
#[inline]
pub fn gauss(seed: u64, x: u32, y: u32, c: u32) -> f32 {
    let mut z = seed ^ (u64::from(y) << 32 | u64::from(x)) ^ (u64::from(c) << 61);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^= z >> 31;
    // Sum of four 16-bit uniforms: mean 2, variance 4/12.
    let s: f32 = (0..4)
        .map(|i| ((z >> (16 * i)) & 0xffff) as f32 / 65535.0)
        .sum();
    (s - 2.0) * 1.732
}

/// Bilinear sample of `img` at `(u, v)` (pixel centres at integers), clamped at the edges.
#[inline]
fn sample(img: &RgbImage, u: f32, v: f32) -> [f32; 3] {
    let (w, h) = (img.width() as i32, img.height() as i32);
    let (x0, y0) = (u.floor() as i32, v.floor() as i32);
    let (fx, fy) = (u - x0 as f32, v - y0 as f32);
    let px = |x: i32, y: i32| {
        img.get_pixel(x.clamp(0, w - 1) as u32, y.clamp(0, h - 1) as u32)
            .0
    };
    let (a, b, c, d) = (
        px(x0, y0),
        px(x0 + 1, y0),
        px(x0, y0 + 1),
        px(x0 + 1, y0 + 1),
    );
    let mut out = [0.0; 3];
    for k in 0..3 {
        let top = f32::from(a[k]) * (1.0 - fx) + f32::from(b[k]) * fx;
        let bot = f32::from(c[k]) * (1.0 - fx) + f32::from(d[k]) * fx;
        out[k] = top * (1.0 - fy) + bot * fy;
    }
    out
}

/// Draw `page` through `inv` (output → page) over `out`, with anti-aliased page edges,
/// `light` (a per-pixel multiplier) applied everywhere, and an optional motion blur (a
/// page-space step averaged over `taps` samples).
fn compose(
    out: &mut RgbImage,
    page: &RgbImage,
    inv: &Projection,
    light: &(dyn Fn(f32, f32) -> [f32; 3] + Sync),
    motion: (f32, f32),
    taps: u32,
) {
    let width = out.width() as usize;
    let (pw, ph) = (page.width() as f32, page.height() as f32);
    out.par_chunks_mut(width * 3)
        .enumerate()
        .for_each(|(y, row)| {
            for x in 0..width {
                let (u, v) = inv * &(x as f32 + 0.5, y as f32 + 0.5);
                let inside = (u + 0.5).min(pw + 0.5 - u).min(v + 0.5).min(ph + 0.5 - v);
                let px = &mut row[x * 3..x * 3 + 3];
                let mut c = [f32::from(px[0]), f32::from(px[1]), f32::from(px[2])];
                if inside > -0.5 {
                    let a = (inside + 0.5).clamp(0.0, 1.0);
                    let mut s = [0.0f32; 3];
                    for t in 0..taps {
                        let k = t as f32 - (taps - 1) as f32 / 2.0;
                        let p = sample(page, u - 0.5 + k * motion.0, v - 0.5 + k * motion.1);
                        for i in 0..3 {
                            s[i] += p[i] / taps as f32;
                        }
                    }
                    for i in 0..3 {
                        c[i] = c[i] * (1.0 - a) + s[i] * a;
                    }
                }
                let l = light(x as f32, y as f32);
                for i in 0..3 {
                    px[i] = (c[i] * l[i]).clamp(0.0, 255.0) as u8;
                }
            }
        });
}

/// Add per-pixel noise: `sigma` per channel plus `luma` shared by the channels.
fn add_noise(img: &mut RgbImage, seed: u64, sigma: f32, luma: f32) {
    let width = img.width() as usize;
    img.par_chunks_mut(width * 3)
        .enumerate()
        .for_each(|(y, row)| {
            for x in 0..width {
                let l = gauss(seed, x as u32, y as u32, 3) * luma;
                for c in 0..3 {
                    let n = gauss(seed, x as u32, y as u32, c as u32) * sigma + l;
                    let v = &mut row[x * 3 + c];
                    *v = (f32::from(*v) + n).clamp(0.0, 255.0) as u8;
                }
            }
        });
}

fn corners(fwd: &Projection, w: f32, h: f32) -> [(f32, f32); 4] {
    [
        fwd * &(0.0, 0.0),
        fwd * &(w, 0.0),
        fwd * &(w, h),
        fwd * &(0.0, h),
    ]
}

/// A flat-bed scan: the page turned by less than 2°, on the scanner's lid colour, with a
/// paper tint, slight softness and noise.
pub fn scan<R: Rng + ?Sized>(page: &RgbImage, rng: &mut R) -> Rendered {
    let (w, h) = (page.width() as f32, page.height() as f32);
    let theta = rng.gen_range(-1.9f32..1.9).to_radians();
    let (tx, ty) = (rng.gen_range(-8.0..8.0f32), rng.gen_range(-8.0..8.0f32));
    let fwd = Projection::translate(-w / 2.0, -h / 2.0)
        .and_then(Projection::rotate(theta))
        .and_then(Projection::translate(w / 2.0 + tx, h / 2.0 + ty));
    let inv = fwd.invert();
    let lid = rng.gen_range(225..250u8);
    let mut out = RgbImage::from_pixel(page.width(), page.height(), Rgb([lid, lid, lid]));
    let tint = [
        rng.gen_range(0.97..1.0f32),
        rng.gen_range(0.96..1.0f32),
        rng.gen_range(0.95..1.0f32),
    ];
    let fade = rng.gen_range(0.0..0.05f32);
    let light = move |_x: f32, y: f32| {
        let k = 1.0 - fade * (y / h);
        [tint[0] * k, tint[1] * k, tint[2] * k]
    };
    compose(&mut out, page, &inv, &light, (0.0, 0.0), 1);
    if rng.gen_bool(0.6) {
        out = imageproc::filter::gaussian_blur_f32(&out, rng.gen_range(0.35..0.7));
    }
    add_noise(
        &mut out,
        rng.gen(),
        rng.gen_range(1.0..3.0),
        rng.gen_range(0.5..2.5),
    );
    Rendered {
        corners: corners(&fwd, w, h),
        img: out,
        fwd,
    }
}

/// A desk surface: a base colour with smooth blotches and grain (wood, laminate, cloth).
fn desk<R: Rng + ?Sized>(w: u32, h: u32, rng: &mut R) -> RgbImage {
    let bases: [[f32; 3]; 5] = [
        [70.0, 45.0, 30.0],
        [40.0, 40.0, 45.0],
        [95.0, 70.0, 50.0],
        [30.0, 45.0, 40.0],
        [55.0, 55.0, 60.0],
    ];
    let base = bases[rng.gen_range(0..bases.len())];
    let grid = 9usize;
    let field: Vec<f32> = (0..grid * grid)
        .map(|_| rng.gen_range(0.75..1.25))
        .collect();
    let stripes = rng.gen_bool(0.5);
    let (freq, phase, slant) = (
        rng.gen_range(0.02..0.08f32),
        rng.gen_range(0.0..std::f32::consts::TAU),
        rng.gen_range(-0.2..0.2f32),
    );
    let seed: u64 = rng.gen();
    let mut img = RgbImage::new(w, h);
    let width = w as usize;
    img.par_chunks_mut(width * 3)
        .enumerate()
        .for_each(|(y, row)| {
            let gy = y as f32 / h as f32 * (grid - 1) as f32;
            let (iy, fy) = ((gy as usize).min(grid - 2), gy.fract());
            for x in 0..width {
                let gx = x as f32 / w as f32 * (grid - 1) as f32;
                let (ix, fx) = ((gx as usize).min(grid - 2), gx.fract());
                let f = |i: usize, j: usize| field[j * grid + i];
                let v = (f(ix, iy) * (1.0 - fx) + f(ix + 1, iy) * fx) * (1.0 - fy)
                    + (f(ix, iy + 1) * (1.0 - fx) + f(ix + 1, iy + 1) * fx) * fy;
                let s = if stripes {
                    1.0 + 0.12 * ((y as f32 + slant * x as f32) * freq + phase).sin()
                } else {
                    1.0
                };
                let g = gauss(seed, x as u32, y as u32, 0) * 4.0;
                for c in 0..3 {
                    row[x * 3 + c] = (base[c] * v * s + g).clamp(0.0, 255.0) as u8;
                }
            }
        });
    img
}

/// A phone photo: the page in perspective on a desk covering 45–85 % of the frame,
/// uneven light (gradient, vignette, sometimes a shadow), blur and sensor noise.
pub fn photo<R: Rng + ?Sized>(page: &RgbImage, rng: &mut R) -> Rendered {
    let sizes = [(1600u32, 1200u32), (2000, 1500), (2048, 1536), (2400, 1800)];
    let (mut fw, mut fh) = sizes[rng.gen_range(0..sizes.len())];
    if rng.gen_bool(0.5) {
        std::mem::swap(&mut fw, &mut fh);
    }
    let (w, h) = (page.width() as f32, page.height() as f32);
    let (fwf, fhf) = (fw as f32, fh as f32);
    // Sideways when the frame is landscape (mostly), else upright; a few degrees off.
    let sideways = fw > fh && rng.gen_bool(0.8);
    let base_rot = if sideways {
        if rng.gen_bool(0.5) {
            std::f32::consts::FRAC_PI_2
        } else {
            -std::f32::consts::FRAC_PI_2
        }
    } else {
        0.0
    };
    let rot = base_rot + rng.gen_range(-6.0f32..6.0).to_radians();
    let mut frac = rng.gen_range(0.45..0.85f32);
    let src = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
    let (cos, sin) = (rot.cos(), rot.sin());
    let mut quad = src;
    for attempt in 0..200 {
        let s = (frac * fwf * fhf / (w * h)).sqrt();
        let jitter = 0.05 * s * (w + h) / 2.0 * (1.0 - attempt as f32 / 200.0);
        let (cx, cy) = (
            fwf / 2.0 + rng.gen_range(-0.1..0.1) * fwf,
            fhf / 2.0 + rng.gen_range(-0.1..0.1) * fhf,
        );
        for (q, &(x, y)) in quad.iter_mut().zip(&src) {
            let (dx, dy) = ((x - w / 2.0) * s, (y - h / 2.0) * s);
            *q = (
                cx + dx * cos - dy * sin + rng.gen_range(-1.0..1.0) * jitter,
                cy + dx * sin + dy * cos + rng.gen_range(-1.0..1.0) * jitter,
            );
        }
        let margin = 0.01 * fwf.min(fhf);
        if quad
            .iter()
            .all(|&(x, y)| x > margin && y > margin && x < fwf - margin && y < fhf - margin)
        {
            break;
        }
        frac = (frac * 0.97).max(0.3);
    }
    let fwd = Projection::from_control_points(src, quad)
        .unwrap_or_else(|| Projection::scale(fwf / w * 0.6, fhf / h * 0.6));
    let inv = fwd.invert();
    let mut out = desk(fw, fh, rng);

    // Light: a linear gradient, a vignette, a warm or cool cast, sometimes a soft shadow.
    let (gx, gy) = (rng.gen_range(-0.25..0.25f32), rng.gen_range(-0.25..0.25f32));
    let level = rng.gen_range(0.8..1.02f32);
    let vig = rng.gen_range(0.1..0.4f32);
    let cast = [
        rng.gen_range(0.95..1.05f32),
        rng.gen_range(0.97..1.02f32),
        rng.gen_range(0.88..1.02f32),
    ];
    let shadow = rng.gen_bool(0.4).then(|| {
        let a = rng.gen_range(0.0..std::f32::consts::TAU);
        let (nx, ny) = (a.cos(), a.sin());
        let off = rng.gen_range(0.2..0.45) * (fwf + fhf) / 2.0;
        let depth = rng.gen_range(0.2..0.45f32);
        let soft = rng.gen_range(30.0..120.0f32);
        (nx, ny, off, depth, soft)
    });
    let light = move |x: f32, y: f32| {
        let (u, v) = (x / fwf - 0.5, y / fhf - 0.5);
        let mut k =
            level * (1.0 + gx * u * 2.0 + gy * v * 2.0) * (1.0 - vig * (u * u + v * v) * 2.0);
        if let Some((nx, ny, off, depth, soft)) = shadow {
            let dist = (x - fwf / 2.0) * nx + (y - fhf / 2.0) * ny - off;
            let t = (0.5 - dist / soft).clamp(0.0, 1.0);
            k *= 1.0 - depth * t;
        }
        [k * cast[0], k * cast[1], k * cast[2]]
    };
    let (motion, taps) = if rng.gen_bool(0.3) {
        let a = rng.gen_range(0.0..std::f32::consts::PI);
        let len = rng.gen_range(0.6..1.4f32) / (fwf / w);
        ((a.cos() * len, a.sin() * len), 3)
    } else {
        ((0.0, 0.0), 1)
    };
    compose(&mut out, page, &inv, &light, motion, taps);
    out = imageproc::filter::gaussian_blur_f32(&out, rng.gen_range(0.5..1.5));
    add_noise(
        &mut out,
        rng.gen(),
        rng.gen_range(2.0..5.0),
        rng.gen_range(1.5..4.0),
    );
    Rendered {
        corners: corners(&fwd, w, h),
        img: out,
        fwd,
    }
}
