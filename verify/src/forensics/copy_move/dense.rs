//! Dense verification: warp the source onto the target with the fitted transform and measure
//! local zero-mean normalised cross-correlation (ZNCC) pixel by pixel.
//!
//! A real clone correlates almost perfectly over its whole area, textured pixels included; two
//! genuine look-alikes (windows, leaves, letters) agree at a few keypoints but not pixel for
//! pixel. Flat pixels say nothing either way and are left out of the counts.

use std::collections::VecDeque;

use super::features::Gray;
use super::geometry::{Affine, Pt};

/// Tolerances of the dense check.
#[derive(Debug, Clone, Copy)]
pub struct DenseParams {
    /// Half-size of the correlation window (window = (2r+1)²).
    pub radius: usize,
    /// Smallest local variance (grey levels², on the smoothed image) that counts as texture.
    pub min_variance: f32,
    /// Local ZNCC at or above which a textured pixel counts as copied.
    pub min_zncc: f32,
    /// Pixels whose source lies closer than this are not compared (self-match).
    pub min_shift: f64,
}

/// Axis-aligned box in working pixels, inclusive-exclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxF {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl BoxF {
    pub fn empty() -> Self {
        BoxF {
            x0: f64::INFINITY,
            y0: f64::INFINITY,
            x1: f64::NEG_INFINITY,
            y1: f64::NEG_INFINITY,
        }
    }

    pub fn add(&mut self, p: Pt) {
        self.x0 = self.x0.min(p.0);
        self.y0 = self.y0.min(p.1);
        self.x1 = self.x1.max(p.0 + 1.0);
        self.y1 = self.y1.max(p.1 + 1.0);
    }

    pub fn is_empty(&self) -> bool {
        !(self.x1 > self.x0 && self.y1 > self.y0)
    }

    pub fn area(&self) -> f64 {
        if self.is_empty() {
            0.0
        } else {
            (self.x1 - self.x0) * (self.y1 - self.y0)
        }
    }

    pub fn intersection(&self, o: &BoxF) -> f64 {
        let w = self.x1.min(o.x1) - self.x0.max(o.x0);
        let h = self.y1.min(o.y1) - self.y0.max(o.y0);
        if w <= 0.0 || h <= 0.0 {
            0.0
        } else {
            w * h
        }
    }

    pub fn centre(&self) -> Pt {
        ((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0)
    }
}

/// What the dense check found for one fitted transform.
#[derive(Debug, Clone)]
pub struct Dense {
    /// Bounding box of the correlated pixels connected to the target keypoints.
    pub target: BoxF,
    /// The same pixels mapped back through the transform.
    pub source: BoxF,
    /// Number of correlated pixels in that region.
    pub area: usize,
    /// Share of the textured pixels around the target keypoints that correlate.
    pub support: f64,
    /// Mean local ZNCC of the fine detail over the region's detailed pixels.
    pub detail_local: f64,
    /// The region's pixels (target side), for refining the transform.
    pub pixels: Vec<Pt>,
}

/// Running-sum box filter along rows, then along columns (zero outside), radius `r`.
fn box_sum(src: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let mut tmp = vec![0.0f32; w * h];
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        let out = &mut tmp[y * w..(y + 1) * w];
        let mut s: f32 = row[..r.min(w)].iter().sum();
        for x in 0..w {
            if x + r < w {
                s += row[x + r];
            }
            out[x] = s;
            if x >= r {
                s -= row[x - r];
            }
        }
    }
    let mut out = vec![0.0f32; w * h];
    let mut s = vec![0.0f32; w];
    for y in 0..r.min(h) {
        for (acc, v) in s.iter_mut().zip(&tmp[y * w..(y + 1) * w]) {
            *acc += v;
        }
    }
    for y in 0..h {
        if y + r < h {
            for (acc, v) in s.iter_mut().zip(&tmp[(y + r) * w..(y + r + 1) * w]) {
                *acc += v;
            }
        }
        out[y * w..(y + 1) * w].copy_from_slice(&s);
        if y >= r {
            for (acc, v) in s.iter_mut().zip(&tmp[(y - r) * w..(y - r + 1) * w]) {
                *acc -= v;
            }
        }
    }
    out
}

/// Pixel states of the correlation map.
const UNTEXTURED: u8 = 0;
const TEXTURED: u8 = 1;
const COPIED: u8 = 2;

/// Check `t` (source → target) densely around the target ends of `inliers`.
pub fn verify(
    g: &Gray,
    detail: &Gray,
    t: &Affine,
    inliers: &[(Pt, Pt)],
    prm: &DenseParams,
) -> Option<Dense> {
    let inv = t.inverse()?;
    let mut kp_box = BoxF::empty();
    for &(_, q) in inliers {
        kp_box.add(q);
    }
    if kp_box.is_empty() || g.w < 3 || g.h < 3 {
        return None;
    }
    let side = (kp_box.x1 - kp_box.x0).max(kp_box.y1 - kp_box.y0).max(16.0);
    let margin = side.max(32.0);
    let clampx = |v: f64| v.clamp(0.0, g.w as f64) as usize;
    let clampy = |v: f64| v.clamp(0.0, g.h as f64) as usize;
    let (wx0, wx1) = (clampx(kp_box.x0 - margin), clampx(kp_box.x1 + margin));
    let (wy0, wy1) = (clampy(kp_box.y0 - margin), clampy(kp_box.y1 + margin));
    let (ww, wh) = (wx1.saturating_sub(wx0), wy1.saturating_sub(wy0));
    if ww < 2 * prm.radius + 1 || wh < 2 * prm.radius + 1 {
        return None;
    }

    // Target values, warped source values and validity, centred on 128 for f32 accuracy.
    let n = ww * wh;
    let (mut m, mut st, mut sw) = (vec![0.0f32; n], vec![0.0f32; n], vec![0.0f32; n]);
    let (mut stt, mut sww, mut stw) = (vec![0.0f32; n], vec![0.0f32; n], vec![0.0f32; n]);
    let (mut ht, mut hw) = (vec![0.0f32; n], vec![0.0f32; n]);
    let min_shift2 = prm.min_shift * prm.min_shift;
    for y in 0..wh {
        for x in 0..ww {
            let (gx, gy) = ((wx0 + x) as f64, (wy0 + y) as f64);
            let s = inv.apply((gx, gy));
            if (s.0 - gx).powi(2) + (s.1 - gy).powi(2) < min_shift2 {
                continue;
            }
            let Some(wv) = g.sample(s.0 as f32, s.1 as f32) else {
                continue;
            };
            let i = y * ww + x;
            let (tv, wv) = (g.at(wx0 + x, wy0 + y) - 128.0, wv - 128.0);
            let Some(dv) = detail.sample(s.0 as f32, s.1 as f32) else {
                continue;
            };
            ht[i] = detail.at(wx0 + x, wy0 + y);
            hw[i] = dv;
            m[i] = 1.0;
            st[i] = tv;
            sw[i] = wv;
            stt[i] = tv * tv;
            sww[i] = wv * wv;
            stw[i] = tv * wv;
        }
    }
    let r = prm.radius;
    let htt: Vec<f32> = ht.iter().map(|v| v * v).collect();
    let hww: Vec<f32> = hw.iter().map(|v| v * v).collect();
    let htw: Vec<f32> = ht.iter().zip(&hw).map(|(a, b)| a * b).collect();
    let [bht, bhw, bhtt, bhww, bhtw] = [&ht, &hw, &htt, &hww, &htw].map(|a| box_sum(a, ww, wh, r));
    let [m, st, sw, stt, sww, stw] = [m, st, sw, stt, sww, stw].map(|a| box_sum(&a, ww, wh, r));
    let full = ((2 * r + 1) * (2 * r + 1)) as f32;
    let mut state = vec![UNTEXTURED; n];
    for i in 0..n {
        let cnt = m[i];
        if cnt < 0.8 * full {
            continue;
        }
        let (mt, mw) = (st[i] / cnt, sw[i] / cnt);
        let vt = stt[i] / cnt - mt * mt;
        let vw = sww[i] / cnt - mw * mw;
        if vt < prm.min_variance || vw < prm.min_variance {
            continue;
        }
        let z = (stw[i] / cnt - mt * mw) / (vt * vw).sqrt();
        state[i] = if z >= prm.min_zncc { COPIED } else { TEXTURED };
    }

    // Support: how much of the texture around the target keypoints correlates.
    let (mut tex, mut cop) = (0usize, 0usize);
    let kx0 = clampx(kp_box.x0 - 4.0).max(wx0) - wx0;
    let kx1 = clampx(kp_box.x1 + 4.0).min(wx1) - wx0;
    let ky0 = clampy(kp_box.y0 - 4.0).max(wy0) - wy0;
    let ky1 = clampy(kp_box.y1 + 4.0).min(wy1) - wy0;
    for y in ky0..ky1 {
        for x in kx0..kx1 {
            match state[y * ww + x] {
                COPIED => {
                    cop += 1;
                    tex += 1;
                }
                TEXTURED => tex += 1,
                _ => {}
            }
        }
    }
    let support = if tex == 0 {
        0.0
    } else {
        cop as f64 / tex as f64
    };

    // The copied region: 8-connected copied pixels reachable from near a target keypoint.
    let mut seen = vec![false; n];
    let mut queue = VecDeque::new();
    for &(_, q) in inliers {
        let (qx, qy) = (
            q.0.round() as i64 - wx0 as i64,
            q.1.round() as i64 - wy0 as i64,
        );
        enqueue_copied_around(qx, qy, 3, (ww, wh), &state, &mut seen, &mut queue);
    }
    let (mut target, mut source) = (BoxF::empty(), BoxF::empty());
    let mut area = 0usize;
    let (mut lsum, mut lcount) = (0.0f64, 0usize);
    let mut pixels = Vec::new();
    while let Some(i) = queue.pop_front() {
        let (x, y) = (i % ww, i / ww);
        let cnt = m[i];
        let (mt, mw) = (bht[i] / cnt, bhw[i] / cnt);
        let vt = bhtt[i] / cnt - mt * mt;
        let vw = bhww[i] / cnt - mw * mw;
        if vt >= 1.0 && vw >= 1.0 {
            lsum += f64::from((bhtw[i] / cnt - mt * mw) / (vt * vw).sqrt());
            lcount += 1;
        }
        let p = ((wx0 + x) as f64, (wy0 + y) as f64);
        pixels.push(p);
        target.add(p);
        source.add(inv.apply(p));
        area += 1;
        enqueue_copied_around(
            x as i64,
            y as i64,
            1,
            (ww, wh),
            &state,
            &mut seen,
            &mut queue,
        );
    }
    Some(Dense {
        target,
        source,
        area,
        support,
        detail_local: if lcount == 0 {
            0.0
        } else {
            lsum / lcount as f64
        },
        pixels,
    })
}

/// Solve `a · x = b` (n ≤ 8) by Gaussian elimination with partial pivoting.
fn solve(mut a: [[f64; 8]; 8], mut b: [f64; 8]) -> Option<[f64; 8]> {
    const N: usize = 8;
    for col in 0..N {
        let piv = (col..N).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        // NaN pivots fail this test too.
        if a[piv][col].abs().partial_cmp(&1e-12) != Some(std::cmp::Ordering::Greater) {
            return None;
        }
        a.swap(col, piv);
        b.swap(col, piv);
        let pivot_row = a[col];
        for row in col + 1..N {
            let f = a[row][col] / pivot_row[col];
            for (v, p) in a[row].iter_mut().zip(&pivot_row).skip(col) {
                *v -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0f64; N];
    for row in (0..N).rev() {
        let s: f64 = (row + 1..N).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Refine `t` (source → target) so the warped source matches the target over `pixels`
/// (Gauss–Newton on the affine and a gain/offset, least squares on the smoothed image).
/// Keypoint fits are good to about a pixel; fine detail only lines up after this.
pub fn align(g: &Gray, t: &Affine, pixels: &[Pt], iterations: usize) -> Option<Affine> {
    if pixels.len() < 16 {
        return None;
    }
    let step = (pixels.len() / 4000).max(1);
    let pts: Vec<Pt> = pixels.iter().step_by(step).copied().collect();
    let n = pts.len() as f64;
    let c = (
        pts.iter().map(|p| p.0).sum::<f64>() / n,
        pts.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let b = t.inverse()?;
    let sc = b.apply(c);
    // s = M·(x − c) + sc, intensity model T ≈ α·S(s) + β.
    let mut p = [b.a, b.b, b.c, b.d, sc.0, sc.1, 1.0, 0.0];
    for _ in 0..iterations {
        let mut jtj = [[0.0f64; 8]; 8];
        let mut jtr = [0.0f64; 8];
        let mut used = 0usize;
        for &x in &pts {
            let (dx, dy) = (x.0 - c.0, x.1 - c.1);
            let (sx, sy) = (p[0] * dx + p[1] * dy + p[4], p[2] * dx + p[3] * dy + p[5]);
            let (sx, sy) = (sx as f32, sy as f32);
            let (Some(v), Some(l), Some(r), Some(u), Some(d)) = (
                g.sample(sx, sy),
                g.sample(sx - 1.0, sy),
                g.sample(sx + 1.0, sy),
                g.sample(sx, sy - 1.0),
                g.sample(sx, sy + 1.0),
            ) else {
                continue;
            };
            let tv = f64::from(g.at(x.0 as usize, x.1 as usize));
            let (v, gx, gy) = (f64::from(v), f64::from(r - l) * 0.5, f64::from(d - u) * 0.5);
            let res = tv - (p[6] * v + p[7]);
            let j = [
                p[6] * gx * dx,
                p[6] * gx * dy,
                p[6] * gy * dx,
                p[6] * gy * dy,
                p[6] * gx,
                p[6] * gy,
                v,
                1.0,
            ];
            for a in 0..8 {
                jtr[a] += j[a] * res;
                for b in a..8 {
                    jtj[a][b] += j[a] * j[b];
                }
            }
            used += 1;
        }
        if used < 16 {
            return None;
        }
        // Mirror the upper triangle.
        for a in 1..8 {
            let (upper, lower) = jtj.split_at_mut(a);
            for (b, row) in upper.iter().enumerate() {
                lower[0][b] = row[a];
            }
        }
        let delta = solve(jtj, jtr)?;
        for (pi, d) in p.iter_mut().zip(delta) {
            *pi += d;
        }
        if delta[4].abs() < 1e-3 && delta[5].abs() < 1e-3 {
            break;
        }
    }
    let b = Affine {
        a: p[0],
        b: p[1],
        c: p[2],
        d: p[3],
        tx: p[4] - (p[0] * c.0 + p[1] * c.1),
        ty: p[5] - (p[2] * c.0 + p[3] * c.1),
    };
    b.inverse()
}

/// Queue the not-yet-seen `COPIED` pixels within `radius` of (`cx`, `cy`) in a `w × h` window.
fn enqueue_copied_around(
    cx: i64,
    cy: i64,
    radius: i64,
    (w, h): (usize, usize),
    state: &[u8],
    seen: &mut [bool],
    queue: &mut VecDeque<usize>,
) {
    for y in (cy - radius).max(0)..=(cy + radius).min(h as i64 - 1) {
        for x in (cx - radius).max(0)..=(cx + radius).min(w as i64 - 1) {
            let i = y as usize * w + x as usize;
            if state[i] == COPIED && !seen[i] {
                seen[i] = true;
                queue.push_back(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_sum_matches_naive() {
        let (w, h, r) = (7usize, 5usize, 2usize);
        let src: Vec<f32> = (0..w * h).map(|i| (i * 37 % 11) as f32).collect();
        let got = box_sum(&src, w, h, r);
        for y in 0..h {
            for x in 0..w {
                let mut s = 0.0;
                for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                    for xx in x.saturating_sub(r)..(x + r + 1).min(w) {
                        s += src[yy * w + xx];
                    }
                }
                assert!((got[y * w + x] - s).abs() < 1e-3, "at {x},{y}");
            }
        }
    }
}
