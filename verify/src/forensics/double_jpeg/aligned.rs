//! Aligned double-JPEG evidence per block (after Bianchi & Piva 2012): per-frequency histograms
//! of the stored coefficients, a mixture of "quantised once with Q2" and "quantised with Q1,
//! then Q2" fitted for each candidate Q1 step, and a per-block likelihood ratio.

use crate::deadline::Deadline;
use crate::error::StageError;
use crate::forensics::blockmap::Plane;

use super::blocks::{Dct8, LumaBlocks};
use super::header::{ijg_table, ZIGZAG};

/// Knobs of the aligned model.
#[derive(Debug, Clone)]
pub(crate) struct AlignedParams {
    /// AC frequencies used, in zig-zag order from 1.
    pub frequencies: usize,
    /// Largest |coefficient| modelled; larger ones carry no evidence.
    pub max_level: usize,
    /// Largest first-compression step tried.
    pub max_q1: u16,
    /// Spread of the rounding noise between the two compressions, in DCT units.
    pub noise_sigma: f32,
    /// Blocks sampled for the calibrated (grid-shifted) histograms.
    pub calibration_blocks: usize,
    /// A frequency counts when the mixture beats "single" by this many nats per coefficient …
    pub min_gain_per_coeff: f32,
    /// … and by this many nats in all.
    pub min_gain: f32,
}

/// The fitted model of one frequency.
#[derive(Debug, Clone)]
pub(crate) struct FreqFit {
    /// Natural index of the frequency.
    pub nat: usize,
    pub q1: u16,
    /// Share of coefficients the mixture gives to "compressed twice".
    pub alpha: f32,
    /// Coefficients in the histogram.
    pub count: u32,
    /// ln(p_double / p_single) for |c| = 1..=max_level (index |c| − 1).
    pub llr: Vec<f32>,
}

/// The per-block outcome.
#[derive(Debug, Clone)]
pub(crate) struct AlignedMap {
    /// Frequencies where double compression explains the histogram.
    pub fits: Vec<FreqFit>,
    /// Sum of per-coefficient log-likelihood ratios ("twice" over "once") for each block.
    pub llr: Vec<f32>,
    /// How many coefficients of each block carried evidence.
    pub terms: Vec<u16>,
}

impl AlignedMap {
    /// Coefficient-weighted share of blocks that look compressed twice.
    pub fn alpha(&self) -> f32 {
        let n: f32 = self.fits.iter().map(|f| f.count as f32).sum();
        if n <= 0.0 {
            return 0.0;
        }
        self.fits
            .iter()
            .map(|f| f.alpha * f.count as f32)
            .sum::<f32>()
            / n
    }

    /// The IJG quality whose table best matches the estimated first steps, if any fits well.
    pub fn primary_quality(&self) -> Option<u32> {
        if self.fits.len() < 2 {
            return None;
        }
        let mut best = (0, f32::MAX);
        for q in 1..=100 {
            let t = ijg_table(q);
            let err: f32 = self
                .fits
                .iter()
                .map(|f| {
                    let a = f32::from(t[f.nat]);
                    (a - f32::from(f.q1)).abs() / a
                })
                .sum::<f32>()
                / self.fits.len() as f32;
            if err < best.1 {
                best = (q, err);
            }
        }
        (best.1 <= 0.15).then_some(best.0)
    }
}

/// Standard normal CDF (Abramowitz & Stegun 7.1.26; error < 1.5e-7).
fn phi(x: f32) -> f32 {
    let z = f64::from(x) / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    let erf = if z >= 0.0 { erf } else { -erf };
    (0.5 * (1.0 + erf)) as f32
}

/// Pixels (level-shifted, natural order) of the block whose top-left corner is (4 + 8·cx,
/// 4 + 8·cy): the block on the grid shifted by (4, 4).
pub(crate) trait ShiftedBlocks {
    /// Shifted blocks across and down.
    fn dims(&self) -> (usize, usize);
    fn block(&self, cx: usize, cy: usize) -> [f32; 64];
}

impl ShiftedBlocks for Plane {
    fn dims(&self) -> (usize, usize) {
        (self.w.saturating_sub(4) / 8, self.h.saturating_sub(4) / 8)
    }

    fn block(&self, cx: usize, cy: usize) -> [f32; 64] {
        let mut px = [0.0f32; 64];
        for y in 0..8 {
            let row = &self.data[(4 + cy * 8 + y) * self.w + 4 + cx * 8..][..8];
            for x in 0..8 {
                px[y * 8 + x] = row[x] - 128.0;
            }
        }
        px
    }
}

/// |DCT| values of blocks on the grid shifted by (4, 4): the image's coefficients with the
/// file's quantisation lattice blurred away (Fridrich's calibration). Sorted, per frequency.
fn calibration(
    source: &dyn ShiftedBlocks,
    nats: &[usize],
    max_blocks: usize,
    deadline: &Deadline,
) -> Result<Vec<Vec<f32>>, StageError> {
    let (cw, ch) = source.dims();
    let total = cw * ch;
    // Grid-aligned subsampling: every `step`-th shifted block in each direction.
    let mut step = 1;
    while total / (step * step) > max_blocks.max(1) {
        step += 1;
    }
    let dct = Dct8::new();
    let mut out: Vec<Vec<f32>> = vec![Vec::with_capacity(total / (step * step) + 1); nats.len()];
    for cy in (0..ch).step_by(step) {
        if cy % 32 == 0 {
            deadline.check()?;
        }
        for cx in (0..cw).step_by(step) {
            let co = dct.forward(&source.block(cx, cy));
            for (o, &nat) in out.iter_mut().zip(nats) {
                o.push(co[nat].abs());
            }
        }
    }
    for o in &mut out {
        o.sort_by(f32::total_cmp);
    }
    Ok(out)
}

/// Share of the sorted values `v` that fall in [lo, hi).
fn share(v: &[f32], lo: f32, hi: f32) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    let a = v.partition_point(|&x| x < lo);
    let b = v.partition_point(|&x| x < hi);
    (b.saturating_sub(a)) as f32 / v.len() as f32
}

fn normalise(p: &mut [f32]) {
    let s: f32 = p.iter().sum();
    if s > 0.0 {
        for x in p.iter_mut() {
            *x /= s;
        }
    }
}

/// Fit one frequency: the best first step and its mixture weight.
fn fit(
    hist: &[f32],
    calib: &[f32],
    q2: u16,
    p: &AlignedParams,
) -> Option<(u16, f32, f32, Vec<f32>)> {
    let r = hist.len();
    let n: f32 = hist.iter().sum();
    if n < 50.0 || calib.len() < 50 {
        return None;
    }
    let q2f = f32::from(q2);
    // Once: the calibrated values quantised with Q2. A small floor keeps logs finite.
    let floor = 0.5 / calib.len() as f32;
    let mut p0: Vec<f32> = (1..=r)
        .map(|m| share(calib, (m as f32 - 0.5) * q2f, (m as f32 + 0.5) * q2f) + floor)
        .collect();
    normalise(&mut p0);
    let ll = |probs: &dyn Fn(usize) -> f32| -> f32 {
        hist.iter()
            .enumerate()
            .filter(|(_, &h)| h > 0.0)
            .map(|(i, &h)| h * probs(i).max(1e-12).ln())
            .sum()
    };
    let ll0 = ll(&|i| p0[i]);
    let mut best: Option<(u16, f32, f32, Vec<f32>)> = None;
    for q1 in 1..=p.max_q1 {
        if q1 == q2 || q2.is_multiple_of(q1) {
            continue; // no double-quantisation pattern to see
        }
        let q1f = f32::from(q1);
        // Twice: calibrated values quantised with Q1, rounded noisily, quantised with Q2.
        let jmax = (((r as f32 + 1.0) * q2f) / q1f).ceil() as usize + 2;
        let mut p1 = vec![floor; r];
        for j in 0..=jmax {
            let lo = if j == 0 { 0.0 } else { (j as f32 - 0.5) * q1f };
            let pj = share(calib, lo, (j as f32 + 0.5) * q1f);
            if pj <= 0.0 {
                continue;
            }
            let mu = j as f32 * q1f;
            for (m, slot) in p1.iter_mut().enumerate() {
                let m = (m + 1) as f32;
                let a = phi(((m - 0.5) * q2f - mu) / p.noise_sigma);
                let b = phi(((m + 0.5) * q2f - mu) / p.noise_sigma);
                *slot += pj * (b - a);
            }
        }
        normalise(&mut p1);
        // EM for the mixture weight.
        let mut alpha = 0.5f32;
        for _ in 0..40 {
            let resp: f32 = hist
                .iter()
                .zip(p0.iter().zip(&p1))
                .map(|(&h, (&a, &b))| {
                    let mix = alpha * b + (1.0 - alpha) * a;
                    if mix > 0.0 {
                        h * alpha * b / mix
                    } else {
                        0.0
                    }
                })
                .sum();
            alpha = (resp / n).clamp(0.0, 1.0);
        }
        let gain = ll(&|i| alpha * p1[i] + (1.0 - alpha) * p0[i]) - ll0;
        if best.as_ref().is_none_or(|b| gain > b.2) {
            let llr = p1
                .iter()
                .zip(&p0)
                .map(|(&b, &a)| (b / a).ln().clamp(-3.0, 3.0))
                .collect();
            best = Some((q1, alpha, gain, llr));
        }
    }
    best
}

/// Fit the model and score every block.
pub(crate) fn analyse(
    blocks: &LumaBlocks,
    pixels: &dyn ShiftedBlocks,
    p: &AlignedParams,
    deadline: &Deadline,
) -> Result<AlignedMap, StageError> {
    let nats: Vec<usize> = ZIGZAG.iter().skip(1).take(p.frequencies).copied().collect();
    let calib = calibration(pixels, &nats, p.calibration_blocks, deadline)?;
    let r = p.max_level;
    let mut fits = Vec::new();
    for (k, &nat) in nats.iter().enumerate() {
        deadline.check()?;
        let q2 = blocks.table[nat];
        let mut hist = vec![0.0f32; r];
        for b in &blocks.coeffs {
            let m = usize::from(b[nat].unsigned_abs());
            if (1..=r).contains(&m) {
                hist[m - 1] += 1.0;
            }
        }
        let count = hist.iter().sum::<f32>() as u32;
        if let Some((q1, alpha, gain, llr)) = fit(&hist, &calib[k], q2, p) {
            if gain >= p.min_gain && gain >= p.min_gain_per_coeff * count as f32 {
                fits.push(FreqFit {
                    nat,
                    q1,
                    alpha,
                    count,
                    llr,
                });
            }
        }
    }
    let mut llr = vec![0.0f32; blocks.coeffs.len()];
    let mut terms = vec![0u16; blocks.coeffs.len()];
    for (i, b) in blocks.coeffs.iter().enumerate() {
        for f in &fits {
            let m = usize::from(b[f.nat].unsigned_abs());
            if (1..=r).contains(&m) {
                llr[i] += f.llr[m - 1];
                terms[i] += 1;
            }
        }
    }
    Ok(AlignedMap { fits, llr, terms })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phi_is_a_cdf() {
        assert!((phi(0.0) - 0.5).abs() < 1e-6);
        assert!((phi(1.96) - 0.975).abs() < 1e-3);
        assert!(phi(-8.0) < 1e-6 && phi(8.0) > 1.0 - 1e-6);
    }
}
