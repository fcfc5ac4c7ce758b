//! Noise inconsistency: a block map of the local noise level, and the connected regions that are
//! much grainier than blocks of the same texture elsewhere in the picture, or much smoother than
//! the picture's own noise floor.
//!
//! One photo comes from one sensor and one processing chain, so its grain follows brightness and
//! local structure but not the position in the frame. A patch pasted from another picture, an
//! area with noise added to hide an edit, or an airbrushed / cloned-smooth area breaks that.
//!
//! * Noise of a 32-pixel block: Immerkær's estimate (the 3×3 mask that cancels linear and
//!   separable structure), averaged only over the half of the block's pixels with the lowest
//!   Sobel gradient, so edges are left out and the grain stays in (Tai & Yang, made local).
//! * Texture that survives that estimate is told apart from noise across scales: white noise
//!   gives the same estimate on the luma and on its 2×2 box average (scaled back), natural
//!   texture gives more at the coarser scale. Under additive noise σ² = n² + τ² at both scales,
//!   so √(σ₂² − σ₁²) measures texture alone and added noise leaves it unchanged.
//! * Grainier: log noise minus the median of blocks of similar texture, then of similar
//!   brightness, smoothed over 3×3 blocks; groups need a core of blocks well above the ratio.
//! * Smoother: only in photos whose flattest mid-tone blocks carry visible grain (the floor);
//!   groups of mid-tone blocks far below that floor.
//! * Large images are box-downscaled by a whole factor only above `max_pixels` (downscaling
//!   averages noise away), and a picture uneven all over gives no finding.

use image::RgbImage;

use crate::deadline::Deadline;
use crate::error::StageError;
use crate::forensics::blockmap::{components, median, median_mad, scaled_points, Plane};
use crate::report::{Finding, Region, Severity, Stage};

/// Knobs for this stage.
#[derive(Debug, Clone)]
pub struct NoiseConfig {
    /// Side of a block in pixels (a multiple of 8 keeps blocks on the JPEG grid).
    pub block: u32,
    /// Images above this many pixels are box-downscaled by a whole factor first. Downscaling
    /// averages noise away, so the cap is generous: most photos are analysed at full size.
    pub max_pixels: u64,
    /// Share of each block's pixels (those with the lowest gradient) the noise is measured on.
    pub flat_share: f32,
    /// A block is at the core of a "noisier" group when its noise (smoothed over its
    /// neighbours) is at least this many times what blocks of the same texture show.
    pub core_ratio: f32,
    /// Neighbouring blocks at least this many times noisier join the group.
    pub grow_ratio: f32,
    /// A block is at the core of a "smoother" group when the image's noise floor is at least
    /// this many times its own noise (it joins at the square root of this).
    pub quiet_ratio: f32,
    /// "Too smooth" only counts where the photo's mid-tones carry at least this much noise
    /// (grey levels): in a clean, low-noise photo smooth areas are normal.
    pub min_visible_noise: f32,
    /// A group needs at least this many core blocks.
    pub min_core_cells: usize,
    /// More core blocks than this share: the picture is uneven all over, not locally edited.
    pub max_flagged_share: f32,
    /// Most points a finding from this stage can carry.
    pub max_points: u32,
}

impl Default for NoiseConfig {
    fn default() -> Self {
        NoiseConfig {
            block: 32,
            max_pixels: 4_000_000,
            flat_share: 0.5,
            core_ratio: 1.8,
            grow_ratio: 1.35,
            quiet_ratio: 2.0,
            min_visible_noise: 1.2,
            min_core_cells: 10,
            max_flagged_share: 0.2,
            max_points: 20,
        }
    }
}

/// Blocks are compared with blocks of similar texture in this many bins …
const TEXTURE_BINS: usize = 8;
/// … and then of similar brightness in this many.
const BRIGHTNESS_BINS: usize = 4;
/// Brightness range (mean luma) where "too smooth" is judged: near black and near white the
/// grain is clipped or crushed by the JPEG quantiser in any photo.
const MIDTONES: std::ops::RangeInclusive<f32> = 20.0..=235.0;
/// Log-domain offset (grey levels) that keeps ratios of near-zero noise levels meaningful.
const LOG_OFFSET: f32 = 0.5;

/// Immerkær's factor: σ = √(π/2) / 6 · mean |mask * image| for white Gaussian noise.
const IMMERKAER: f32 = 0.208_876_6;

/// Per-block statistics of the analysed (possibly downscaled) luma.
#[derive(Debug, Clone)]
struct NoiseMaps {
    bw: usize,
    bh: usize,
    /// Block side in analysed pixels.
    block: usize,
    /// Downscale factor applied before analysis (1 = none).
    scale: u32,
    /// Noise estimate (grey levels).
    sigma: Vec<f32>,
    /// Texture left once noise is discounted: √(σ₂² − σ₁²), σ₂ measured at half resolution.
    texture: Vec<f32>,
    /// Mean luma.
    brightness: Vec<f32>,
    /// Not clipped and fully measured.
    usable: Vec<bool>,
}

/// Analyse `img`; located regions come back as findings.
pub fn analyze(
    img: &RgbImage,
    cfg: &NoiseConfig,
    deadline: &Deadline,
) -> Result<Vec<Finding>, StageError> {
    let block = (cfg.block.clamp(8, 256) / 4 * 4) as usize;
    let pixels = u64::from(img.width()) * u64::from(img.height());
    let scale = if pixels > cfg.max_pixels.max(1) {
        (pixels as f64 / cfg.max_pixels.max(1) as f64).sqrt().ceil() as u32
    } else {
        1
    };
    let (w, h) = (img.width() / scale, img.height() / scale);
    if (w as usize) < block * 4 || (h as usize) < block * 4 {
        return Err(StageError::NotApplicable(
            "image too small for noise analysis",
        ));
    }
    let luma = box_luma(img, scale, deadline)?;
    let maps = noise_maps(&luma, block, scale, cfg, deadline)?;
    deadline.check()?;
    Ok(findings_from(&maps, img, cfg))
}

/// The luma of `img`, averaged over `scale`×`scale` boxes (partial boxes at the edges dropped).
fn box_luma(img: &RgbImage, scale: u32, deadline: &Deadline) -> Result<Plane, StageError> {
    if scale <= 1 {
        return Ok(Plane::luma(img));
    }
    let s = scale as usize;
    let (w, h) = (
        (img.width() / scale) as usize,
        (img.height() / scale) as usize,
    );
    let mut data = vec![0.0f32; w * h];
    let raw = img.as_raw();
    let stride = img.width() as usize * 3;
    let norm = 1.0 / (s * s) as f32;
    for y in 0..h * s {
        if y % 256 == 0 {
            deadline.check()?;
        }
        let row = &raw[y * stride..y * stride + w * s * 3];
        let out = &mut data[(y / s) * w..(y / s + 1) * w];
        for (x, px) in row.chunks_exact(3).enumerate() {
            let l = 0.299 * f32::from(px[0]) + 0.587 * f32::from(px[1]) + 0.114 * f32::from(px[2]);
            out[x / s] += l * norm;
        }
    }
    Ok(Plane { w, h, data })
}

/// Mean of `s`×`s` boxes of `p`.
fn box_down(p: &Plane, s: usize) -> Plane {
    let (w, h) = (p.w / s, p.h / s);
    let mut data = vec![0.0f32; w * h];
    let norm = 1.0 / (s * s) as f32;
    for y in 0..h * s {
        let row = &p.data[y * p.w..y * p.w + w * s];
        let out = &mut data[(y / s) * w..(y / s + 1) * w];
        for (x, v) in row.iter().enumerate() {
            out[x / s] += v * norm;
        }
    }
    Plane { w, h, data }
}

/// |Gx| + |Gy| of the 3×3 Sobel operator at an interior pixel.
fn sobel(p: &Plane, x: usize, y: usize) -> f32 {
    let w = p.w;
    let d = &p.data;
    let (u, c, b) = ((y - 1) * w + x, y * w + x, (y + 1) * w + x);
    let gx = (d[u + 1] + 2.0 * d[c + 1] + d[b + 1]) - (d[u - 1] + 2.0 * d[c - 1] + d[b - 1]);
    let gy = (d[b - 1] + 2.0 * d[b] + d[b + 1]) - (d[u - 1] + 2.0 * d[u] + d[u + 1]);
    gx.abs() + gy.abs()
}

/// Immerkær's mask [1 −2 1; −2 4 −2; 1 −2 1] at an interior pixel.
fn immerkaer(p: &Plane, x: usize, y: usize) -> f32 {
    let w = p.w;
    let d = &p.data;
    let line = |r: usize| d[r - 1] - 2.0 * d[r] + d[r + 1];
    line((y - 1) * w + x) - 2.0 * line(y * w + x) + line((y + 1) * w + x)
}

fn noise_maps(
    luma: &Plane,
    block: usize,
    scale: u32,
    cfg: &NoiseConfig,
    deadline: &Deadline,
) -> Result<NoiseMaps, StageError> {
    let bw = luma.w / block;
    let bh = luma.h / block;
    let n = bw * bh;
    let mut maps = NoiseMaps {
        bw,
        bh,
        block,
        scale,
        sigma: vec![0.0; n],
        texture: vec![0.0; n],
        brightness: vec![0.0; n],
        usable: vec![false; n],
    };
    let flat_share = cfg.flat_share.clamp(0.05, 1.0);
    let (fine, ok) = block_sigma(luma, block, bw, bh, flat_share, deadline)?;
    let half = box_down(luma, 2);
    deadline.check()?;
    let (coarse, _) = block_sigma(&half, block / 2, bw, bh, flat_share, deadline)?;
    maps.sigma.clone_from(&fine);
    // A box average of 2×2 pixels halves white noise: scale back so that pure white noise gives
    // the same value at both scales and natural texture (stronger at coarser scales) gives more.
    // Under additive white noise σ_s² = n² + τ_s² at every scale, so the difference of squares
    // measures texture only: added noise leaves this key where it was.
    maps.texture = coarse
        .iter()
        .zip(&fine)
        .map(|(c, f)| {
            let c2 = 2.0 * c;
            (c2 * c2 - f * f).max(0.0).sqrt()
        })
        .collect();
    for by in 0..bh {
        for bx in 0..bw {
            let (x0, y0) = (bx * block, by * block);
            let mut sum = 0.0;
            let mut clipped = 0usize;
            for y in y0..y0 + block {
                for &v in &luma.data[y * luma.w + x0..y * luma.w + x0 + block] {
                    sum += v;
                    if !(3.0..=252.0).contains(&v) {
                        clipped += 1;
                    }
                }
            }
            let k = by * bw + bx;
            maps.brightness[k] = sum / (block * block) as f32;
            maps.usable[k] = ok[k] && clipped * 4 < block * block;
        }
    }
    Ok(maps)
}

/// Immerkær noise estimate of every `block`×`block` cell of `p` (the first `bw`×`bh` cells),
/// over the `flat_share` of its pixels with the lowest Sobel gradient; and whether the cell had
/// enough interior pixels to measure.
fn block_sigma(
    p: &Plane,
    block: usize,
    bw: usize,
    bh: usize,
    flat_share: f32,
    deadline: &Deadline,
) -> Result<(Vec<f32>, Vec<bool>), StageError> {
    let mut sigma = vec![0.0; bw * bh];
    let mut ok = vec![false; bw * bh];
    let mut pairs: Vec<(f32, f32)> = Vec::with_capacity(block * block);
    for by in 0..bh {
        deadline.check()?;
        for bx in 0..bw {
            pairs.clear();
            let (x0, y0) = (bx * block, by * block);
            for y in y0.max(1)..(y0 + block).min(p.h.saturating_sub(1)) {
                for x in x0.max(1)..(x0 + block).min(p.w.saturating_sub(1)) {
                    pairs.push((sobel(p, x, y), immerkaer(p, x, y).abs()));
                }
            }
            if pairs.len() * 2 < block * block {
                continue;
            }
            let keep = ((pairs.len() as f32 * flat_share).ceil() as usize).clamp(1, pairs.len());
            if keep < pairs.len() {
                pairs.select_nth_unstable_by(keep - 1, |a, b| a.0.total_cmp(&b.0));
            }
            let s: f32 = pairs[..keep].iter().map(|p| p.1).sum();
            let k = by * bw + bx;
            sigma[k] = IMMERKAER * s / keep as f32;
            ok[k] = true;
        }
    }
    Ok((sigma, ok))
}

/// `value[i]` minus the median `value` of the usable cells whose `key` is similar (ranked by key
/// and cut into `bins` equal bins); 0 for unusable cells.
fn residual_by_key(value: &[f32], key: &[f32], usable: &[bool], bins: usize) -> Vec<f32> {
    let mut order: Vec<usize> = (0..value.len().min(key.len()).min(usable.len()))
        .filter(|&i| usable[i])
        .collect();
    order.sort_by(|&a, &b| key[a].total_cmp(&key[b]));
    let n = order.len();
    let mut out = vec![0.0; value.len()];
    let bins = bins.clamp(1, n.max(1));
    let mut vals = Vec::with_capacity(n / bins + 1);
    for b in 0..bins {
        let (lo, hi) = (b * n / bins, ((b + 1) * n / bins).min(n));
        if lo >= hi {
            continue;
        }
        vals.clear();
        vals.extend(order[lo..hi].iter().map(|&i| value[i]));
        let expect = median(&mut vals);
        for &i in &order[lo..hi] {
            out[i] = value[i] - expect;
        }
    }
    out
}

/// Mean of the usable cells in the 3×3 neighbourhood of every cell.
fn smooth(v: &[f32], usable: &[bool], bw: usize, bh: usize) -> Vec<f32> {
    let mut out = vec![0.0; v.len()];
    for by in 0..bh {
        for bx in 0..bw {
            let (mut s, mut n) = (0.0, 0.0);
            for y in by.saturating_sub(1)..(by + 2).min(bh) {
                for x in bx.saturating_sub(1)..(bx + 2).min(bw) {
                    if usable[y * bw + x] {
                        s += v[y * bw + x];
                        n += 1.0;
                    }
                }
            }
            if n > 0.0 {
                out[by * bw + bx] = s / n;
            }
        }
    }
    out
}

/// A connected group of inconsistent blocks.
#[derive(Debug, Clone)]
struct Group {
    /// Mean log ratio of the group's core blocks (positive: noisier, negative: smoother).
    log_ratio: f32,
    core: usize,
    region: Region,
}

/// Connected groups of blocks with `score ≥ grow`, kept when at least `min_core` of their blocks
/// reach `core`.
fn groups(
    score: &[f32],
    allowed: &[bool],
    maps: &NoiseMaps,
    (grow, core, min_core): (f32, f32, usize),
    img: &RgbImage,
) -> Vec<Group> {
    let mask: Vec<bool> = (0..score.len())
        .map(|k| allowed[k] && score[k] >= grow)
        .collect();
    let block_px = maps.block * maps.scale as usize;
    components(&mask, maps.bw, maps.bh)
        .into_iter()
        .filter_map(|c| {
            let core_cells: Vec<f32> = c
                .cells
                .iter()
                .map(|&i| score[i])
                .filter(|&v| v >= core)
                .collect();
            (core_cells.len() >= min_core.max(1)).then(|| Group {
                log_ratio: core_cells.iter().sum::<f32>() / core_cells.len() as f32,
                core: core_cells.len(),
                region: c.region(block_px, img.width(), img.height()),
            })
        })
        .collect()
}

fn findings_from(maps: &NoiseMaps, img: &RgbImage, cfg: &NoiseConfig) -> Vec<Finding> {
    let usable_n = maps.usable.iter().filter(|&&u| u).count();
    if usable_n < 24 {
        return Vec::new();
    }
    // Noisier: log noise against blocks of the same texture, then the same brightness.
    let logs: Vec<f32> = maps.sigma.iter().map(|s| (s + LOG_OFFSET).ln()).collect();
    let by_texture = residual_by_key(&logs, &maps.texture, &maps.usable, TEXTURE_BINS);
    let resid = residual_by_key(&by_texture, &maps.brightness, &maps.usable, BRIGHTNESS_BINS);
    let mut louder = smooth(&resid, &maps.usable, maps.bw, maps.bh);
    let vals: Vec<f32> = louder
        .iter()
        .zip(&maps.usable)
        .filter(|(_, &u)| u)
        .map(|(&v, _)| v)
        .collect();
    let (med, _) = median_mad(&vals);
    for v in &mut louder {
        *v -= med;
    }
    let core = cfg.core_ratio.max(1.01).ln();
    let grow = cfg.grow_ratio.clamp(1.0, cfg.core_ratio.max(1.01)).ln();
    let mut found = groups(
        &louder,
        &maps.usable,
        maps,
        (grow, core, cfg.min_core_cells),
        img,
    );

    // Smoother: against the noise floor, the median noise of the flattest fifth of the
    // mid-tone blocks. In a photo with visible grain even its flattest areas carry it; in a
    // clean, low-noise photo the floor is near zero and smooth areas are normal.
    let midtone: Vec<bool> = (0..maps.usable.len())
        .map(|k| maps.usable[k] && MIDTONES.contains(&maps.brightness[k]))
        .collect();
    let mut by_texture: Vec<usize> = (0..midtone.len()).filter(|&k| midtone[k]).collect();
    by_texture.sort_by(|&a, &b| maps.texture[a].total_cmp(&maps.texture[b]));
    let mut flat: Vec<f32> = by_texture[..by_texture.len() / 5]
        .iter()
        .map(|&k| maps.sigma[k])
        .collect();
    let floor = if flat.len() >= 8 {
        median(&mut flat)
    } else {
        0.0
    };
    if floor >= cfg.min_visible_noise {
        let lf = (floor + LOG_OFFSET).ln();
        let below: Vec<f32> = logs.iter().map(|l| lf - l).collect();
        let quiet = smooth(&below, &midtone, maps.bw, maps.bh);
        let qcore = cfg.quiet_ratio.max(1.01).ln();
        let qgrow = (cfg.quiet_ratio.max(1.01).sqrt()).ln();
        for mut g in groups(
            &quiet,
            &midtone,
            maps,
            (qgrow, qcore, cfg.min_core_cells),
            img,
        ) {
            g.log_ratio = -g.log_ratio;
            found.push(g);
        }
    }
    let flagged: usize = found.iter().map(|g| g.core).sum();
    if found.is_empty() || flagged as f32 > cfg.max_flagged_share * usable_n as f32 {
        return Vec::new();
    }
    found.sort_by(|a, b| {
        (b.log_ratio.abs() * b.core as f32).total_cmp(&(a.log_ratio.abs() * a.core as f32))
    });
    found.truncate(5);
    // Strength 0 at the core threshold, 1 at three times it (as a log ratio).
    let top = &found[0];
    let threshold = if top.log_ratio > 0.0 {
        core
    } else {
        cfg.quiet_ratio.max(1.01).ln()
    };
    let strength = (top.log_ratio.abs() - threshold) / (2.0 * threshold);
    let points = scaled_points(strength, 6, cfg.max_points);
    let severity = if strength >= 0.5 {
        Severity::Medium
    } else {
        Severity::Low
    };
    let groups: Vec<(f32, Region, bool)> = found
        .iter()
        .map(|g| (g.log_ratio.abs(), g.region, g.log_ratio > 0.0))
        .collect();
    let any_louder = groups.iter().any(|g| g.2);
    let any_quieter = groups.iter().any(|g| !g.2);
    let (what_en, what_bn) = match (any_louder, any_quieter) {
        (true, false) => ("noticeably grainier", "স্পষ্টভাবে বেশি দানাদার (নয়েজ বেশি)"),
        (false, true) => ("unnaturally smooth", "অস্বাভাবিক রকম মসৃণ (নয়েজ কম)"),
        _ => ("grainier or smoother", "বেশি দানাদার বা বেশি মসৃণ"),
    };
    let n = groups.len();
    let en = if n == 1 {
        format!(
            "One area is {what_en} than the rest of the photo. A single camera shot has even \
             grain, so this area may have been pasted in or retouched."
        )
    } else {
        format!(
            "{n} areas are {what_en} than the rest of the photo. A single camera shot has even \
             grain, so these areas may have been pasted in or retouched."
        )
    };
    let bn = if n == 1 {
        format!(
            "ছবির একটি অংশ বাকি ছবির তুলনায় {what_bn}। একবারে তোলা ছবিতে দানা সমান থাকে, তাই এই অংশটি \
             পরে বসানো বা ঘষামাজা করা হয়ে থাকতে পারে।"
        )
    } else {
        format!(
            "ছবির {n}টি অংশ বাকি ছবির তুলনায় {what_bn}। একবারে তোলা ছবিতে দানা সমান থাকে, তাই এই অংশগুলো \
             পরে বসানো বা ঘষামাজা করা হয়ে থাকতে পারে।"
        )
    };
    vec![Finding::new(
        "noise_inconsistency",
        Stage::Noise,
        severity,
        points,
        en,
        bn,
    )
    .with_regions(groups.into_iter().map(|g| g.1).collect())]
}
