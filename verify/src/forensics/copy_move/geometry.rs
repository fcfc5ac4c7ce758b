//! Geometry of a clone: affine transforms, clustering of matched pairs, and RANSAC fits.

use crate::deadline::Deadline;
use crate::error::StageError;

/// A point in working-image pixels.
pub type Pt = (f64, f64);

/// `x' = a·x + b·y + tx`, `y' = c·x + d·y + ty`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub d: f64,
    pub tx: f64,
    pub ty: f64,
}

impl Affine {
    #[inline]
    pub fn apply(&self, p: Pt) -> Pt {
        (
            self.a * p.0 + self.b * p.1 + self.tx,
            self.c * p.0 + self.d * p.1 + self.ty,
        )
    }

    pub fn det(&self) -> f64 {
        self.a * self.d - self.b * self.c
    }

    pub fn inverse(&self) -> Option<Affine> {
        let det = self.det();
        if !det.is_finite() || det.abs() < 1e-9 {
            return None;
        }
        let (a, b, c, d) = (self.d / det, -self.b / det, -self.c / det, self.a / det);
        Some(Affine {
            a,
            b,
            c,
            d,
            tx: -(a * self.tx + b * self.ty),
            ty: -(c * self.tx + d * self.ty),
        })
    }

    /// Singular values of the linear part, largest first.
    pub fn singular_values(&self) -> (f64, f64) {
        let (a, b, c, d) = (self.a, self.b, self.c, self.d);
        let s = a * a + b * b + c * c + d * d;
        let det = (a * d - b * c).abs();
        let disc = (s * s - 4.0 * det * det).max(0.0).sqrt();
        (
            ((s + disc) / 2.0).sqrt(),
            ((s - disc) / 2.0).max(0.0).sqrt(),
        )
    }

    /// Rotation of the closest similarity, degrees, positive = clockwise on screen (y down).
    pub fn rotation_deg(&self) -> f64 {
        (self.c - self.b).atan2(self.a + self.d).to_degrees()
    }

    /// Isotropic scale: √|det|.
    pub fn scale(&self) -> f64 {
        self.det().abs().sqrt()
    }

    /// A plausible clone transform: no reflection, no collapse, bounded scale and shear.
    pub fn plausible(&self, max_scale: f64, max_anisotropy: f64) -> bool {
        if ![self.a, self.b, self.c, self.d, self.tx, self.ty]
            .iter()
            .all(|v| v.is_finite())
            || self.det() <= 0.0
        {
            return false;
        }
        let (s1, s2) = self.singular_values();
        s2 > 0.0 && s1 <= max_scale && s2 >= 1.0 / max_scale && s1 / s2 <= max_anisotropy
    }
}

/// Exact similarity (rotation, uniform scale, translation) taking `p0→q0`, `p1→q1`.
pub fn similarity_from_two(p0: Pt, q0: Pt, p1: Pt, q1: Pt) -> Option<Affine> {
    let (dpx, dpy) = (p1.0 - p0.0, p1.1 - p0.1);
    let (dqx, dqy) = (q1.0 - q0.0, q1.1 - q0.1);
    let n = dpx * dpx + dpy * dpy;
    if n < 1e-6 {
        return None;
    }
    // (a + i·c) = dq / dp as complex numbers.
    let a = (dqx * dpx + dqy * dpy) / n;
    let c = (dqy * dpx - dqx * dpy) / n;
    let (b, d) = (-c, a);
    Some(Affine {
        a,
        b,
        c,
        d,
        tx: q0.0 - (a * p0.0 + b * p0.1),
        ty: q0.1 - (c * p0.0 + d * p0.1),
    })
}

fn centroid(pts: impl Iterator<Item = Pt> + Clone) -> Pt {
    let n = pts.clone().count().max(1) as f64;
    let (sx, sy) = pts.fold((0.0, 0.0), |(sx, sy), p| (sx + p.0, sy + p.1));
    (sx / n, sy / n)
}

/// Least-squares similarity over `pairs` (`None` when degenerate).
pub fn fit_similarity(pairs: &[(Pt, Pt)]) -> Option<Affine> {
    if pairs.len() < 2 {
        return None;
    }
    let cp = centroid(pairs.iter().map(|pq| pq.0));
    let cq = centroid(pairs.iter().map(|pq| pq.1));
    let (mut sxx, mut sa, mut sc) = (0.0, 0.0, 0.0);
    for &(p, q) in pairs {
        let (px, py) = (p.0 - cp.0, p.1 - cp.1);
        let (qx, qy) = (q.0 - cq.0, q.1 - cq.1);
        sxx += px * px + py * py;
        sa += px * qx + py * qy;
        sc += px * qy - py * qx;
    }
    if sxx < 1e-6 {
        return None;
    }
    let (a, c) = (sa / sxx, sc / sxx);
    let (b, d) = (-c, a);
    Some(Affine {
        a,
        b,
        c,
        d,
        tx: cq.0 - (a * cp.0 + b * cp.1),
        ty: cq.1 - (c * cp.0 + d * cp.1),
    })
}

/// Least-squares affine over `pairs` (`None` when degenerate, e.g. collinear points).
pub fn fit_affine(pairs: &[(Pt, Pt)]) -> Option<Affine> {
    if pairs.len() < 3 {
        return None;
    }
    let cp = centroid(pairs.iter().map(|pq| pq.0));
    let cq = centroid(pairs.iter().map(|pq| pq.1));
    // Normal equations on centred coordinates: [sxx sxy; sxy syy] · [a b]ᵀ = [sxu syu]ᵀ, etc.
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    let (mut sxu, mut syu, mut sxv, mut syv) = (0.0, 0.0, 0.0, 0.0);
    for &(p, q) in pairs {
        let (x, y) = (p.0 - cp.0, p.1 - cp.1);
        let (u, v) = (q.0 - cq.0, q.1 - cq.1);
        sxx += x * x;
        sxy += x * y;
        syy += y * y;
        sxu += x * u;
        syu += y * u;
        sxv += x * v;
        syv += y * v;
    }
    let det = sxx * syy - sxy * sxy;
    // Relative test: the point spread must be two-dimensional.
    if det <= 1e-6 * (sxx + syy).powi(2) || det <= 1e-9 {
        return None;
    }
    let a = (sxu * syy - syu * sxy) / det;
    let b = (syu * sxx - sxu * sxy) / det;
    let c = (sxv * syy - syv * sxy) / det;
    let d = (syv * sxx - sxv * sxy) / det;
    Some(Affine {
        a,
        b,
        c,
        d,
        tx: cq.0 - (a * cp.0 + b * cp.1),
        ty: cq.1 - (c * cp.0 + d * cp.1),
    })
}

#[inline]
fn dist2(p: Pt, q: Pt) -> f64 {
    (p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)
}

/// Groups of matched pairs whose two ends lie near each other's (single linkage within
/// `radius`). Pairs are oriented within a group so that their first ends are on the same side;
/// each group comes back as (pair index, flipped).
pub fn cluster(
    pairs: &[(Pt, Pt)],
    radius: f64,
    deadline: &Deadline,
) -> Result<Vec<Vec<(usize, bool)>>, StageError> {
    let r2 = radius * radius;
    let mut visited = 0usize;
    let n = pairs.len();
    let mut flipped: Vec<Option<bool>> = vec![None; n];
    let mut groups = Vec::new();
    for start in 0..n {
        if flipped[start].is_some() {
            continue;
        }
        flipped[start] = Some(false);
        let mut group = vec![(start, false)];
        let mut queue = vec![start];
        while let Some(i) = queue.pop() {
            visited += 1;
            if visited.is_multiple_of(256) {
                deadline.check()?;
            }
            let fi = flipped[i].unwrap_or(false);
            let (pi, qi) = if fi {
                (pairs[i].1, pairs[i].0)
            } else {
                pairs[i]
            };
            for (j, f) in flipped.iter_mut().enumerate() {
                if f.is_some() {
                    continue;
                }
                let (pj, qj) = pairs[j];
                let link = if dist2(pi, pj) < r2 && dist2(qi, qj) < r2 {
                    Some(false)
                } else if dist2(pi, qj) < r2 && dist2(qi, pj) < r2 {
                    Some(true)
                } else {
                    None
                };
                if let Some(flip) = link {
                    *f = Some(flip);
                    group.push((j, flip));
                    queue.push(j);
                }
            }
        }
        groups.push(group);
    }
    Ok(groups)
}

/// A transform fitted to part of a group, with its inliers oriented source → target.
#[derive(Debug, Clone)]
pub struct Fit {
    pub transform: Affine,
    pub inliers: Vec<(Pt, Pt)>,
}

/// RANSAC limits and tolerances.
#[derive(Debug, Clone, Copy)]
pub struct RansacParams {
    pub iterations: usize,
    pub tolerance: f64,
    pub min_inliers: usize,
    pub max_scale: f64,
    pub max_anisotropy: f64,
    /// Smallest shift of the inliers' centre, so a region is not "copied" onto itself.
    pub min_shift: f64,
}

/// Small deterministic generator (SplitMix64) so results do not vary run to run.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Orient each pair by whichever direction `t` explains; `None` for outliers.
fn inliers_of(t: &Affine, pairs: &[(Pt, Pt)], tol2: f64) -> Vec<(Pt, Pt)> {
    pairs
        .iter()
        .filter_map(|&(p, q)| {
            if dist2(t.apply(p), q) <= tol2 {
                Some((p, q))
            } else if dist2(t.apply(q), p) <= tol2 {
                Some((q, p))
            } else {
                None
            }
        })
        .collect()
}

fn refine(t: Affine, pairs: &[(Pt, Pt)], prm: &RansacParams) -> Option<Fit> {
    let tol2 = prm.tolerance * prm.tolerance;
    let mut best = Fit {
        transform: t,
        inliers: inliers_of(&t, pairs, tol2),
    };
    for _ in 0..3 {
        let refit = if best.inliers.len() >= 6 {
            fit_affine(&best.inliers)
        } else {
            fit_similarity(&best.inliers)
        };
        let Some(t) = refit.filter(|t| t.plausible(prm.max_scale, prm.max_anisotropy)) else {
            break;
        };
        let inliers = inliers_of(&t, pairs, tol2);
        if inliers.len() < best.inliers.len() {
            break;
        }
        best = Fit {
            transform: t,
            inliers,
        };
    }
    Some(best)
}

/// One RANSAC fit over `pairs` (similarity hypotheses from two pairs, refined to an affine
/// by least squares), or `None` when nothing reaches `min_inliers`.
pub fn ransac(pairs: &[(Pt, Pt)], prm: &RansacParams, seed: u64) -> Option<Fit> {
    let n = pairs.len();
    if n < prm.min_inliers.max(2) {
        return None;
    }
    let tol2 = prm.tolerance * prm.tolerance;
    let mut rng = Rng(seed);
    let mut best: Option<(usize, Affine)> = None;
    // Few pairs: try every two; otherwise sample.
    let exhaustive = n * (n - 1) / 2 <= prm.iterations;
    let mut samples = Vec::new();
    if exhaustive {
        for i in 0..n {
            for j in i + 1..n {
                samples.push((i, j));
            }
        }
    } else {
        for _ in 0..prm.iterations {
            let i = rng.below(n);
            let j = (i + 1 + rng.below(n - 1)) % n;
            samples.push((i, j));
        }
    }
    for (i, j) in samples {
        let ((p0, q0), (p1, q1)) = (pairs[i], pairs[j]);
        let Some(t) = similarity_from_two(p0, q0, p1, q1) else {
            continue;
        };
        if !t.plausible(prm.max_scale, prm.max_anisotropy) {
            continue;
        }
        let count = pairs
            .iter()
            .filter(|&&(p, q)| dist2(t.apply(p), q) <= tol2 || dist2(t.apply(q), p) <= tol2)
            .count();
        if best.is_none_or(|(c, _)| count > c) {
            best = Some((count, t));
        }
    }
    let (count, t) = best?;
    if count < prm.min_inliers {
        return None;
    }
    let fit = refine(t, pairs, prm)?;
    if fit.inliers.len() < prm.min_inliers {
        return None;
    }
    let c = centroid(fit.inliers.iter().map(|pq| pq.0));
    if dist2(fit.transform.apply(c), c) < prm.min_shift * prm.min_shift {
        return None;
    }
    Some(fit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rot_scale(theta_deg: f64, s: f64, tx: f64, ty: f64) -> Affine {
        let (sn, cs) = theta_deg.to_radians().sin_cos();
        Affine {
            a: s * cs,
            b: -s * sn,
            c: s * sn,
            d: s * cs,
            tx,
            ty,
        }
    }

    fn params() -> RansacParams {
        RansacParams {
            iterations: 200,
            tolerance: 2.0,
            min_inliers: 4,
            max_scale: 3.0,
            max_anisotropy: 2.0,
            min_shift: 10.0,
        }
    }

    #[test]
    fn recovers_rotation_and_scale() {
        let t = rot_scale(30.0, 1.2, 200.0, 40.0);
        let src: Vec<Pt> = (0..12)
            .map(|i| (10.0 + f64::from(i * 7 % 50), 20.0 + f64::from(i * 13 % 40)))
            .collect();
        let mut pairs: Vec<(Pt, Pt)> = src.iter().map(|&p| (p, t.apply(p))).collect();
        // Some flipped and some outliers.
        pairs[3] = (pairs[3].1, pairs[3].0);
        pairs.push(((5.0, 5.0), (300.0, 300.0)));
        pairs.push(((50.0, 7.0), (10.0, 290.0)));
        let fit = ransac(&pairs, &params(), 1).expect("a fit");
        assert_eq!(fit.inliers.len(), 12);
        assert!((fit.transform.rotation_deg() - 30.0).abs() < 0.01);
        assert!((fit.transform.scale() - 1.2).abs() < 1e-3);
    }

    #[test]
    fn inverse_round_trips() {
        let t = rot_scale(-50.0, 0.8, 3.0, -7.0);
        let inv = t.inverse().expect("invertible");
        let p = (12.5, -3.0);
        let back = inv.apply(t.apply(p));
        assert!(dist2(back, p) < 1e-12);
    }

    #[test]
    fn affine_fit_handles_anisotropic_scale() {
        let t = Affine {
            a: 1.3,
            b: 0.0,
            c: 0.0,
            d: 1.2,
            tx: 100.0,
            ty: 5.0,
        };
        let pairs: Vec<(Pt, Pt)> = [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0), (7.0, 3.0)]
            .iter()
            .map(|&p| (p, t.apply(p)))
            .collect();
        let fit = fit_affine(&pairs).expect("fit");
        assert!((fit.a - 1.3).abs() < 1e-9 && (fit.d - 1.2).abs() < 1e-9);
        assert!(fit_affine(&pairs[..2]).is_none());
        let collinear: Vec<(Pt, Pt)> = (0..5)
            .map(|i| ((f64::from(i), f64::from(i)), (f64::from(i), 0.0)))
            .collect();
        assert!(fit_affine(&collinear).is_none());
    }

    #[test]
    fn clusters_link_flipped_pairs() {
        let pairs = vec![
            ((10.0, 10.0), (200.0, 10.0)),
            ((205.0, 15.0), (15.0, 15.0)),
            ((500.0, 500.0), (600.0, 400.0)),
        ];
        let groups = cluster(&pairs, 20.0, &Deadline::none()).expect("no deadline");
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0], vec![(0, false), (1, true)]);
    }

    #[test]
    fn near_identity_is_rejected() {
        let t = rot_scale(0.0, 1.0, 3.0, 0.0);
        let pairs: Vec<(Pt, Pt)> = (0..8)
            .map(|i| {
                let p = (f64::from(i * 9), f64::from(i * i));
                (p, t.apply(p))
            })
            .collect();
        assert!(ransac(&pairs, &params(), 1).is_none());
    }
}
