//! Scale-space primitives for SIFT: an `f32` plane, separable Gaussian blur with reflected
//! borders, 2× up- and down-sampling.

use rayon::prelude::*;

/// A single-channel `f32` plane.
#[derive(Debug, Clone)]
pub(super) struct Plane {
    pub(super) w: usize,
    pub(super) h: usize,
    pub(super) px: Vec<f32>,
}

impl Plane {
    #[inline]
    pub(super) fn at(&self, x: usize, y: usize) -> f32 {
        self.px[y * self.w + x]
    }
}

/// Index `i` reflected into `0..n` (OpenCV's BORDER_REFLECT_101).
pub(super) fn reflect(mut i: isize, n: usize) -> usize {
    let n = n as isize;
    if n <= 1 {
        return 0;
    }
    loop {
        if i < 0 {
            i = -i;
        } else if i >= n {
            i = 2 * n - 2 - i;
        } else {
            return i as usize;
        }
    }
}

/// Half of a normalised Gaussian kernel: `k[0]` is the centre tap, radius ⌈3σ⌉.
pub(super) fn half_kernel(sigma: f32) -> Vec<f32> {
    let r = ((3.0 * sigma).ceil() as usize).max(1);
    let mut k: Vec<f32> = (0..=r)
        .map(|i| (-((i * i) as f32) / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum = k[0] + 2.0 * k[1..].iter().sum::<f32>();
    for v in &mut k {
        *v /= sum;
    }
    k
}

/// Separable Gaussian blur with reflected borders.
pub(super) fn blur(src: &Plane, sigma: f32) -> Plane {
    let (w, h) = (src.w, src.h);
    let k = half_kernel(sigma);
    let r = k.len() - 1;
    let mut tmp = vec![0.0f32; w * h];
    tmp.par_chunks_mut(w)
        .zip(src.px.par_chunks(w))
        .for_each_init(
            || vec![0.0f32; w + 2 * r],
            |pad, (out, row)| {
                for (i, p) in pad.iter_mut().enumerate() {
                    *p = row[reflect(i as isize - r as isize, w)];
                }
                for (o, p) in out.iter_mut().zip(&pad[r..r + w]) {
                    *o = k[0] * p;
                }
                for (j, &kj) in k.iter().enumerate().skip(1) {
                    let (a, b) = (&pad[r - j..r - j + w], &pad[r + j..r + j + w]);
                    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
                        *o += kj * (x + y);
                    }
                }
            },
        );
    let mut px = vec![0.0f32; w * h];
    px.par_chunks_mut(w).enumerate().for_each(|(y, out)| {
        for (o, p) in out.iter_mut().zip(&tmp[y * w..(y + 1) * w]) {
            *o = k[0] * p;
        }
        for (j, &kj) in k.iter().enumerate().skip(1) {
            let ya = reflect(y as isize - j as isize, h);
            let yb = reflect(y as isize + j as isize, h);
            let (a, b) = (&tmp[ya * w..(ya + 1) * w], &tmp[yb * w..(yb + 1) * w]);
            for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
                *o += kj * (x + y);
            }
        }
    });
    Plane { w, h, px }
}

/// Bilinear 2× upsample.
pub(super) fn upsample(src: &Plane) -> Plane {
    let (w, h) = (src.w * 2, src.h * 2);
    let mut px = vec![0.0f32; w * h];
    px.par_chunks_mut(w).enumerate().for_each(|(y, out)| {
        let sy = ((y as f32 + 0.5) / 2.0 - 0.5).max(0.0);
        let y0 = (sy as usize).min(src.h - 1);
        let y1 = (y0 + 1).min(src.h - 1);
        let fy = sy - y0 as f32;
        for (x, o) in out.iter_mut().enumerate() {
            let sx = ((x as f32 + 0.5) / 2.0 - 0.5).max(0.0);
            let x0 = (sx as usize).min(src.w - 1);
            let x1 = (x0 + 1).min(src.w - 1);
            let fx = sx - x0 as f32;
            let top = src.at(x0, y0) + (src.at(x1, y0) - src.at(x0, y0)) * fx;
            let bot = src.at(x0, y1) + (src.at(x1, y1) - src.at(x0, y1)) * fx;
            *o = top + (bot - top) * fy;
        }
    });
    Plane { w, h, px }
}

/// Every second pixel of every second row.
pub(super) fn downsample(src: &Plane) -> Plane {
    let (w, h) = (src.w / 2, src.h / 2);
    let mut px = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            px.push(src.at(2 * x, 2 * y));
        }
    }
    Plane { w, h, px }
}
