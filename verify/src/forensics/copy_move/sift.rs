//! A compact SIFT (Lowe 2004, following OpenCV's choices): Gaussian/DoG pyramid, refined
//! scale-space extrema, dominant orientations and 128-D descriptors quantised to `u8`.
//!
//! Hand-written rather than taken from `kornia-imgproc` because that crate's CPU loops use
//! `f32::mul_add`, which is a libm call per tap on x86-64 builds without FMA (see
//! `docs/decisions/0002-copy-move.md`). These loops are plain multiply-adds over rows and
//! vectorise on x86-64 and on the Raspberry Pi's NEON alike.

use rayon::prelude::*;

use super::pyramid::{blur, downsample, upsample, Plane};

/// Length of one descriptor.
pub const DESC_LEN: usize = 128;
/// Scale-space extrema closer than this to an octave's border are ignored.
const BORDER: usize = 5;
const MAX_INTERP_STEPS: usize = 5;
const ORI_BINS: usize = 36;
const ORI_SIG_FCTR: f32 = 1.5;
const ORI_RADIUS: f32 = 3.0 * ORI_SIG_FCTR;
const ORI_PEAK_RATIO: f32 = 0.8;
const DESCR_WIDTH: usize = 4;
const DESCR_BINS: usize = 8;
const DESCR_SCL_FCTR: f32 = 3.0;
const DESCR_MAG_THR: f32 = 0.2;
const INIT_SIGMA: f32 = 0.5;

/// Detector settings.
#[derive(Debug, Clone, Copy)]
pub struct SiftParams {
    pub n_layers: usize,
    pub sigma: f32,
    /// Contrast threshold on the 0–1 scale (OpenCV's default is 0.04).
    pub contrast_threshold: f32,
    pub edge_threshold: f32,
    /// Build the first octave from a 2× upsampled image.
    pub upsample: bool,
    pub max_keypoints: usize,
}

/// One keypoint: position (input pixels), diameter, orientation (degrees), contrast.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Keypoint {
    pub x: f32,
    pub y: f32,
    pub size: f32,
    pub angle: f32,
    pub response: f32,
}

/// Keypoints and their descriptors (row-major, [`DESC_LEN`] per keypoint).
#[derive(Debug, Clone, Default)]
pub struct Features {
    pub keypoints: Vec<Keypoint>,
    pub descriptors: Vec<u8>,
}

/// One octave: Gaussian layers and their differences.
struct Octave {
    gauss: Vec<Plane>,
    dog: Vec<Plane>,
}

/// A refined extremum, in octave coordinates.
#[derive(Debug, Clone, Copy)]
struct Extremum {
    octave: usize,
    layer: usize,
    x: f32,
    y: f32,
    /// Scale relative to the octave (σ of the refined layer).
    scl: f32,
    response: f32,
}

/// Solve the 3×3 system `h · x = b` (Cramer's rule); `None` when singular.
fn solve3(h: [[f32; 3]; 3], b: [f32; 3]) -> Option<[f32; 3]> {
    let det = |m: [[f32; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(h);
    if !d.is_finite() || d.abs() < 1e-12 {
        return None;
    }
    let mut x = [0.0f32; 3];
    for (c, xc) in x.iter_mut().enumerate() {
        let mut m = h;
        for r in 0..3 {
            m[r][c] = b[r];
        }
        *xc = det(m) / d;
    }
    Some(x)
}

/// Derivatives of the DoG at (layer, x, y), scaled to the 0–1 image range.
fn derivatives(dog: &[Plane], l: usize, x: usize, y: usize) -> ([f32; 3], [[f32; 3]; 3]) {
    const IMG_SCALE: f32 = 1.0 / 255.0;
    let (p, c, n) = (&dog[l - 1], &dog[l], &dog[l + 1]);
    let ds = IMG_SCALE * 0.5;
    let cs = IMG_SCALE * 0.25;
    let v2 = c.at(x, y) * 2.0;
    let g = [
        (c.at(x + 1, y) - c.at(x - 1, y)) * ds,
        (c.at(x, y + 1) - c.at(x, y - 1)) * ds,
        (n.at(x, y) - p.at(x, y)) * ds,
    ];
    let dxx = (c.at(x + 1, y) + c.at(x - 1, y) - v2) * IMG_SCALE;
    let dyy = (c.at(x, y + 1) + c.at(x, y - 1) - v2) * IMG_SCALE;
    let dss = (n.at(x, y) + p.at(x, y) - v2) * IMG_SCALE;
    let dxy =
        (c.at(x + 1, y + 1) - c.at(x - 1, y + 1) - c.at(x + 1, y - 1) + c.at(x - 1, y - 1)) * cs;
    let dxs = (n.at(x + 1, y) - n.at(x - 1, y) - p.at(x + 1, y) + p.at(x - 1, y)) * cs;
    let dys = (n.at(x, y + 1) - n.at(x, y - 1) - p.at(x, y + 1) + p.at(x, y - 1)) * cs;
    (g, [[dxx, dxy, dxs], [dxy, dyy, dys], [dxs, dys, dss]])
}

/// Refine a discrete extremum to sub-pixel, sub-layer accuracy; drop low contrast and edges.
fn refine(
    dog: &[Plane],
    octave: usize,
    mut l: usize,
    mut x: usize,
    mut y: usize,
    prm: &SiftParams,
) -> Option<Extremum> {
    let (w, h) = (dog[0].w, dog[0].h);
    let mut step = 0;
    let (g, off) = loop {
        let (g, hm) = derivatives(dog, l, x, y);
        let s = solve3(hm, g)?;
        let off = [-s[0], -s[1], -s[2]];
        if off.iter().all(|v| v.abs() < 0.5) {
            break (g, off);
        }
        if off.iter().any(|v| !v.is_finite() || v.abs() > 1e6) {
            return None;
        }
        step += 1;
        if step >= MAX_INTERP_STEPS {
            return None;
        }
        let nx = x as isize + off[0].round() as isize;
        let ny = y as isize + off[1].round() as isize;
        let nl = l as isize + off[2].round() as isize;
        if nl < 1
            || nl > prm.n_layers as isize
            || nx < BORDER as isize
            || ny < BORDER as isize
            || nx >= (w - BORDER) as isize
            || ny >= (h - BORDER) as isize
        {
            return None;
        }
        (x, y, l) = (nx as usize, ny as usize, nl as usize);
    };
    let contrast = dog[l].at(x, y) / 255.0 + 0.5 * (g[0] * off[0] + g[1] * off[1] + g[2] * off[2]);
    if contrast.abs() * (prm.n_layers as f32) < prm.contrast_threshold {
        return None;
    }
    let (_, hm) = derivatives(dog, l, x, y);
    let (tr, det) = (
        hm[0][0] + hm[1][1],
        hm[0][0] * hm[1][1] - hm[0][1] * hm[0][1],
    );
    let e = prm.edge_threshold;
    if det <= 0.0 || tr * tr * e >= (e + 1.0) * (e + 1.0) * det {
        return None;
    }
    Some(Extremum {
        octave,
        layer: l,
        x: x as f32 + off[0],
        y: y as f32 + off[1],
        scl: prm.sigma * 2f32.powf((l as f32 + off[2]) / prm.n_layers as f32),
        response: contrast.abs(),
    })
}

/// Scale-space extrema of one octave.
fn extrema(oct: &Octave, octave: usize, prm: &SiftParams) -> Vec<Extremum> {
    let dog = &oct.dog;
    let (w, h) = (dog[0].w, dog[0].h);
    if w <= 2 * BORDER || h <= 2 * BORDER {
        return Vec::new();
    }
    let threshold = 0.5 * prm.contrast_threshold / prm.n_layers as f32 * 255.0;
    (1..=prm.n_layers)
        .flat_map(|l| (BORDER..h - BORDER).map(move |y| (l, y)))
        .collect::<Vec<_>>()
        .par_iter()
        .flat_map_iter(|&(l, y)| {
            let mut out = Vec::new();
            let (p, c, n) = (&dog[l - 1], &dog[l], &dog[l + 1]);
            for x in BORDER..w - BORDER {
                let v = c.at(x, y);
                if v.abs() <= threshold {
                    continue;
                }
                let mut is_max = v > 0.0;
                let mut is_min = v < 0.0;
                'scan: for plane in [p, c, n] {
                    for yy in y - 1..=y + 1 {
                        let row = &plane.px[yy * w + x - 1..yy * w + x + 2];
                        for &u in row {
                            is_max &= v >= u;
                            is_min &= v <= u;
                            if !is_max && !is_min {
                                break 'scan;
                            }
                        }
                    }
                }
                if is_max || is_min {
                    if let Some(e) = refine(dog, octave, l, x, y, prm) {
                        out.push(e);
                    }
                }
            }
            out
        })
        .collect()
}

/// `atan2(y, x)` in degrees 0..360, to about 0.01° (OpenCV's `fastAtan2` polynomial).
#[inline]
fn fast_atan2(y: f32, x: f32) -> f32 {
    const K: f32 = 180.0 / std::f32::consts::PI;
    const P1: f32 = 0.999_787_84 * K;
    const P3: f32 = -0.325_808_4 * K;
    const P5: f32 = 0.155_578_65 * K;
    const P7: f32 = -0.044_326_556 * K;
    let (ax, ay) = (x.abs(), y.abs());
    let mut a = if ax >= ay {
        let c = ay / (ax + f32::EPSILON);
        let c2 = c * c;
        (((P7 * c2 + P5) * c2 + P3) * c2 + P1) * c
    } else {
        let c = ax / (ay + f32::EPSILON);
        let c2 = c * c;
        90.0 - (((P7 * c2 + P5) * c2 + P3) * c2 + P1) * c
    };
    if x < 0.0 {
        a = 180.0 - a;
    }
    if y < 0.0 {
        a = 360.0 - a;
    }
    a
}

/// Gradient (dx, dy) with y pointing up, at an interior pixel.
#[inline]
fn gradient(img: &Plane, x: usize, y: usize) -> (f32, f32) {
    (
        img.at(x + 1, y) - img.at(x - 1, y),
        img.at(x, y - 1) - img.at(x, y + 1),
    )
}

/// Dominant gradient orientations (degrees) around an extremum.
fn orientations(img: &Plane, e: &Extremum) -> Vec<f32> {
    let (w, h) = (img.w as isize, img.h as isize);
    let (px, py) = (e.x.round() as isize, e.y.round() as isize);
    let sigma = ORI_SIG_FCTR * e.scl;
    let radius = (ORI_RADIUS * e.scl).round() as isize;
    let exp_scale = -1.0 / (2.0 * sigma * sigma);
    // The Gaussian weight is separable: exp(-(i² + j²)·s) = e[i]·e[j].
    let ex: Vec<f32> = (-radius..=radius)
        .map(|k| (((k * k) as f32) * exp_scale).exp())
        .collect();
    let mut hist = [0.0f32; ORI_BINS];
    for i in -radius..=radius {
        let y = py + i;
        if y <= 0 || y >= h - 1 {
            continue;
        }
        let wi = ex[(i + radius) as usize];
        for j in -radius..=radius {
            let x = px + j;
            if x <= 0 || x >= w - 1 {
                continue;
            }
            let (dx, dy) = gradient(img, x as usize, y as usize);
            let wgt = wi * ex[(j + radius) as usize];
            let mag = (dx * dx + dy * dy).sqrt();
            // Rounding by truncation: the angle is never negative (and `floor`/`round` are
            // library calls on baseline x86-64).
            let bin = (fast_atan2(dy, dx) * ORI_BINS as f32 / 360.0 + 0.5) as usize % ORI_BINS;
            hist[bin] += wgt * mag;
        }
    }
    let n = ORI_BINS;
    let smooth: Vec<f32> = (0..n)
        .map(|i| {
            let at = |d: isize| hist[(i as isize + d).rem_euclid(n as isize) as usize];
            (at(-2) + at(2)) * (1.0 / 16.0) + (at(-1) + at(1)) * (4.0 / 16.0) + at(0) * (6.0 / 16.0)
        })
        .collect();
    let max = smooth.iter().copied().fold(0.0f32, f32::max);
    if max <= 0.0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for j in 0..n {
        let (l, r) = (smooth[(j + n - 1) % n], smooth[(j + 1) % n]);
        let v = smooth[j];
        if v > l && v > r && v >= ORI_PEAK_RATIO * max {
            let mut bin = j as f32 + 0.5 * (l - r) / (l - 2.0 * v + r);
            if bin < 0.0 {
                bin += n as f32;
            } else if bin >= n as f32 {
                bin -= n as f32;
            }
            out.push(bin * 360.0 / n as f32);
        }
    }
    out
}

/// Integer columns `j` (a superset, one either side) for which both `j·cos − i·sin` and
/// `j·sin + i·cos` lie in (−l, l); `None` when there are none.
fn grid_columns(i: f32, cos_t: f32, sin_t: f32, l: f32) -> Option<(isize, isize)> {
    let (mut lo, mut hi) = (f32::NEG_INFINITY, f32::INFINITY);
    // a·j + b ∈ (−l, l)
    for (a, b) in [(cos_t, -i * sin_t), (sin_t, i * cos_t)] {
        if a.abs() < 1e-6 {
            if b.abs() >= l {
                return None;
            }
            continue;
        }
        let (p, q) = ((-l - b) / a, (l - b) / a);
        lo = lo.max(p.min(q));
        hi = hi.min(p.max(q));
    }
    if lo > hi {
        return None;
    }
    let clamp = |v: f32| v.clamp(-1.0e6, 1.0e6) as isize;
    Some((clamp(lo) - 1, clamp(hi) + 1))
}

/// The 128-D descriptor of an extremum at orientation `ori` (degrees), as bytes.
fn descriptor(img: &Plane, e: &Extremum, ori: f32, out: &mut [u8]) {
    const D: usize = DESCR_WIDTH;
    const N: usize = DESCR_BINS;
    let (w, h) = (img.w as isize, img.h as isize);
    let (px, py) = (e.x.round() as isize, e.y.round() as isize);
    let (sin_t, cos_t) = ori.to_radians().sin_cos();
    let bins_per_deg = N as f32 / 360.0;
    let exp_scale = -1.0 / (D as f32 * D as f32 * 0.5);
    let hist_width = DESCR_SCL_FCTR * e.scl;
    let diag = ((w * w + h * h) as f32).sqrt();
    let radius = (hist_width * std::f32::consts::SQRT_2 * (D as f32 + 1.0) * 0.5)
        .round()
        .min(diag) as isize;
    let (cos_t, sin_t) = (cos_t / hist_width, sin_t / hist_width);
    // exp(-(c_rot² + r_rot²)/(D²/2)) with c_rot² + r_rot² = (i² + j²)/hist_width²: separable.
    let ex: Vec<f32> = (-radius..=radius)
        .map(|k| ((k * k) as f32 / (hist_width * hist_width) * exp_scale).exp())
        .collect();
    let mut hist = [0.0f32; (D + 2) * (D + 2) * (N + 2)];
    for i in -radius..=radius {
        let y = py + i;
        if y <= 0 || y >= h - 1 {
            continue;
        }
        let wi = ex[(i + radius) as usize];
        // Only the columns whose rotated coordinates can land in the histogram grid.
        let Some((jlo, jhi)) = grid_columns(i as f32, cos_t, sin_t, D as f32 / 2.0 + 0.5) else {
            continue;
        };
        let jlo = jlo.max(-radius).max(1 - px);
        let jhi = jhi.min(radius).min(w - 2 - px);
        for j in jlo..=jhi {
            let x = px + j;
            let c_rot = j as f32 * cos_t - i as f32 * sin_t;
            let r_rot = j as f32 * sin_t + i as f32 * cos_t;
            let rbin = r_rot + D as f32 / 2.0 - 0.5;
            let cbin = c_rot + D as f32 / 2.0 - 0.5;
            if !(rbin > -1.0 && rbin < D as f32 && cbin > -1.0 && cbin < D as f32) {
                continue;
            }
            let (dx, dy) = gradient(img, x as usize, y as usize);
            let wgt = wi * ex[(j + radius) as usize];
            let mag = (dx * dx + dy * dy).sqrt() * wgt;
            let obin = (fast_atan2(dy, dx) - ori) * bins_per_deg;
            // Floors by truncation of shifted, positive values (rbin, cbin > −1; obin > −N).
            let r0 = (rbin + 1.0) as usize;
            let c0 = (cbin + 1.0) as usize;
            let o0 = (obin + N as f32) as usize;
            let (fr, fc, fo) = (
                rbin + 1.0 - r0 as f32,
                cbin + 1.0 - c0 as f32,
                obin + N as f32 - o0 as f32,
            );
            let o0 = o0 % N;
            let v_r1 = mag * fr;
            let v_r0 = mag - v_r1;
            for (dr, vr) in [(0, v_r0), (1, v_r1)] {
                let v_c1 = vr * fc;
                let v_c0 = vr - v_c1;
                for (dc, vc) in [(0, v_c0), (1, v_c1)] {
                    let v_o1 = vc * fo;
                    // r0, c0 already include the +1 border offset of the histogram.
                    let idx = ((r0 + dr) * (D + 2) + c0 + dc) * (N + 2) + o0;
                    hist[idx] += vc - v_o1;
                    hist[idx + 1] += v_o1;
                }
            }
        }
    }
    let mut raw = [0.0f32; DESC_LEN];
    for r in 0..D {
        for c in 0..D {
            let base = ((r + 1) * (D + 2) + c + 1) * (N + 2);
            for o in 0..N {
                let mut v = hist[base + o];
                if o < 2 {
                    v += hist[base + N + o];
                }
                raw[(r * D + c) * N + o] = v;
            }
        }
    }
    let norm = raw.iter().map(|v| v * v).sum::<f32>().sqrt();
    let thr = norm * DESCR_MAG_THR;
    let mut norm2 = 0.0f32;
    for v in &mut raw {
        *v = v.min(thr);
        norm2 += *v * *v;
    }
    let scale = 512.0 / norm2.sqrt().max(f32::EPSILON);
    for (o, v) in out.iter_mut().zip(raw) {
        *o = (v * scale).round().clamp(0.0, 255.0) as u8;
    }
}

/// SIFT keypoints and descriptors of a grey image (`px` row-major, values 0–255).
pub fn detect_and_describe(px: &[f32], w: usize, h: usize, prm: &SiftParams) -> Features {
    if w < 16 || h < 16 || px.len() < w * h || prm.n_layers == 0 {
        return Features::default();
    }
    let src = Plane {
        w,
        h,
        px: px[..w * h].to_vec(),
    };
    let (base, init) = if prm.upsample {
        (upsample(&src), 2.0 * INIT_SIGMA)
    } else {
        (src, INIT_SIGMA)
    };
    let base_sigma = (prm.sigma * prm.sigma - init * init).max(0.01).sqrt();
    let base = blur(&base, base_sigma);

    let n_gauss = prm.n_layers + 3;
    let k = 2f32.powf(1.0 / prm.n_layers as f32);
    let incr: Vec<f32> = (1..n_gauss)
        .map(|i| {
            let prev = k.powi(i as i32 - 1) * prm.sigma;
            let total = prev * k;
            (total * total - prev * prev).sqrt()
        })
        .collect();
    let min_side = base.w.min(base.h) as f32;
    let n_oct = ((min_side.log2() - 2.0).round() as usize).max(1);

    let mut octaves: Vec<Octave> = Vec::new();
    let mut found: Vec<Extremum> = Vec::new();
    let mut first = base;
    for o in 0..n_oct {
        if first.w < 2 * BORDER + 6 || first.h < 2 * BORDER + 6 {
            break;
        }
        let mut gauss = vec![first];
        for s in &incr {
            let next = blur(gauss.last().expect("the octave has its base layer"), *s);
            gauss.push(next);
        }
        let dog: Vec<Plane> = gauss
            .par_windows(2)
            .map(|p| Plane {
                w: p[0].w,
                h: p[0].h,
                px: p[1].px.iter().zip(&p[0].px).map(|(b, a)| b - a).collect(),
            })
            .collect();
        let oct = Octave { gauss, dog };
        found.extend(extrema(&oct, o, prm));
        first = downsample(&oct.gauss[prm.n_layers]);
        octaves.push(Octave {
            gauss: oct.gauss,
            dog: Vec::new(),
        });
    }

    // Keep the strongest, then orient and describe.
    found.sort_by(|a, b| b.response.total_cmp(&a.response));
    found.truncate(prm.max_keypoints);
    let oriented: Vec<(Extremum, f32)> = found
        .par_iter()
        .flat_map_iter(|e| {
            let img = &octaves[e.octave].gauss[e.layer];
            orientations(img, e).into_iter().map(move |a| (*e, a))
        })
        .collect();
    let mut oriented = oriented;
    oriented.truncate(prm.max_keypoints);
    let mut descriptors = vec![0u8; oriented.len() * DESC_LEN];
    descriptors
        .par_chunks_mut(DESC_LEN)
        .zip(oriented.par_iter())
        .for_each(|(out, (e, a))| descriptor(&octaves[e.octave].gauss[e.layer], e, *a, out));
    let to_input = if prm.upsample { 0.5 } else { 1.0 };
    let keypoints = oriented
        .iter()
        .map(|(e, a)| {
            let f = 2f32.powi(e.octave as i32) * to_input;
            Keypoint {
                x: e.x * f,
                y: e.y * f,
                size: e.scl * 2.0 * f,
                angle: *a,
                response: e.response,
            }
        })
        .collect();
    Features {
        keypoints,
        descriptors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forensics::copy_move::pyramid::reflect;

    fn params() -> SiftParams {
        SiftParams {
            n_layers: 3,
            sigma: 1.6,
            contrast_threshold: 0.02,
            edge_threshold: 10.0,
            upsample: false,
            max_keypoints: 5000,
        }
    }

    /// A few bright blobs on a dark ground.
    fn blobs(w: usize, h: usize, centres: &[(f32, f32, f32)]) -> Vec<f32> {
        let mut px = vec![20.0f32; w * h];
        for y in 0..h {
            for x in 0..w {
                for &(cx, cy, r) in centres {
                    let d2 = (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2);
                    px[y * w + x] += 200.0 * (-d2 / (2.0 * r * r)).exp();
                }
            }
        }
        px
    }

    #[test]
    fn finds_blobs_at_their_centres() {
        let px = blobs(128, 96, &[(40.0, 40.0, 4.0), (90.0, 60.0, 6.0)]);
        let f = detect_and_describe(&px, 128, 96, &params());
        assert_eq!(f.descriptors.len(), f.keypoints.len() * DESC_LEN);
        for &(cx, cy) in &[(40.0f32, 40.0f32), (90.0, 60.0)] {
            assert!(
                f.keypoints
                    .iter()
                    .any(|k| (k.x - cx).abs() < 1.5 && (k.y - cy).abs() < 1.5),
                "no keypoint near {cx},{cy}: {:?}",
                f.keypoints
            );
        }
    }

    #[test]
    fn flat_and_tiny_images_give_nothing() {
        let f = detect_and_describe(&vec![0.0; 64 * 64], 64, 64, &params());
        assert!(f.keypoints.is_empty());
        let f = detect_and_describe(&[1.0], 1, 1, &params());
        assert!(f.keypoints.is_empty());
        let f = detect_and_describe(&[1.0; 10], 100, 100, &params());
        assert!(f.keypoints.is_empty());
    }

    #[test]
    fn fast_atan2_is_close() {
        for i in 0..360 {
            let a = (i as f32).to_radians();
            let (y, x) = a.sin_cos();
            let got = fast_atan2(y, x);
            let diff = (got - i as f32).abs().min(360.0 - (got - i as f32).abs());
            assert!(diff < 0.02, "{i}: {got}");
        }
    }

    #[test]
    fn reflect_stays_inside() {
        assert_eq!(reflect(-1, 5), 1);
        assert_eq!(reflect(5, 5), 3);
        assert_eq!(reflect(-7, 3), 1);
        assert_eq!(reflect(3, 1), 0);
    }
}
