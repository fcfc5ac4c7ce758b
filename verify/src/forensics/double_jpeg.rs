//! Double JPEG compression evidence, located; reads the quantisation tables from the bytes.
//!
//! Three pieces of evidence, all on the file's own luma blocks (read exactly with `dct-io`):
//! - the quality the file was saved at, from its quantisation table (IJG scaling);
//! - aligned double compression (after Bianchi & Piva 2012): the histograms of the first AC
//!   coefficients show the comb left by an earlier, coarser quantisation; a per-block
//!   likelihood ratio then says which areas carry that comb and which do not;
//! - grid alignment: blocking left by an earlier compression on a grid shifted from the file's.
//!
//! An image compressed twice all over is only resaved (an info finding without regions); an
//! area that disagrees with the rest is what points at splicing.

mod aligned;
mod blocks;
mod grid;
mod header;

use std::io::Cursor;

use image::{ImageDecoder, RgbImage};

use crate::deadline::Deadline;
use crate::error::StageError;
use crate::forensics::blockmap::{components, scaled_points, Component};
use crate::report::{Finding, Region, Severity, Stage};

use aligned::{AlignedMap, AlignedParams};
use grid::{GridMap, GridParams};
use header::HeaderError;

/// Knobs for this stage.
#[derive(Debug, Clone)]
pub struct DoubleJpegConfig {
    /// AC frequencies (zig-zag order) whose histograms are modelled.
    pub frequencies: usize,
    /// Blocks (8×8) analysed at most; larger images are analysed on a grid-aligned subsample
    /// of the pixels for the calibration and grid checks.
    pub max_blocks: usize,
    /// Half-side, in blocks, of the window that pools the per-block evidence.
    pub pool_radius: usize,
    /// Mean log-likelihood ratio per coefficient beyond which a window is called.
    pub llr_threshold: f32,
    /// Mean ratio an area must reach, as a whole, to be reported.
    pub min_region_llr: f32,
    /// Smallest flagged area, in 8×8 blocks.
    pub min_blocks: usize,
    /// A flagged area larger than this share of the image is not "local".
    pub max_region_share: f32,
    /// Share of the image that must look compressed twice before the rest is compared with it.
    pub min_double_share: f32,
    /// Grid check: side of the window in blocks, and the z-score of a phase's votes that counts.
    pub grid_window: usize,
    pub grid_strength: f32,
    /// Smallest area of shifted-grid windows, in 8×8 blocks.
    pub min_grid_windows: usize,
    /// Most points a regional finding can carry.
    pub max_points: u32,
}

impl Default for DoubleJpegConfig {
    fn default() -> Self {
        DoubleJpegConfig {
            frequencies: 9,
            max_blocks: 65_536,
            pool_radius: 3,
            llr_threshold: 0.25,
            min_region_llr: 0.65,
            min_blocks: 40,
            max_region_share: 0.4,
            min_double_share: 0.5,
            grid_window: 8,
            grid_strength: 6.0,
            min_grid_windows: 64,
            max_points: 15,
        }
    }
}

/// Analyse a JPEG's bytes and decoded pixels. `Err(NotApplicable)` for other formats.
pub fn analyze(
    bytes: &[u8],
    img: &RgbImage,
    cfg: &DoubleJpegConfig,
    deadline: &Deadline,
) -> Result<Vec<Finding>, StageError> {
    let head = header::parse(bytes).map_err(|e| match e {
        HeaderError::NotJpeg => StageError::NotApplicable("not a JPEG"),
        HeaderError::Unusable(why) => StageError::NotApplicable(why),
    })?;
    match head.sof {
        0xC0 | 0xC1 => {}
        0xC2 | 0xC6 => return Err(StageError::NotApplicable("progressive JPEG")),
        _ => {
            return Err(StageError::NotApplicable(
                "lossless, hierarchical or arithmetic-coded JPEG",
            ))
        }
    }
    let orientation = exif_orientation(bytes);
    let (sw, sh) = (head.width, head.height);
    let upright = if orientation >= 5 { (sh, sw) } else { (sw, sh) };
    if upright != img.dimensions() {
        return Err(StageError::NotApplicable(
            "the decoded picture does not match the JPEG's frame size",
        ));
    }
    if u64::from(sw) * u64::from(sh) > 1 << 28 {
        return Err(StageError::NotApplicable(
            "the JPEG is too large for this check",
        ));
    }
    let luma_blocks = blocks::read(bytes, &head)?;
    if luma_blocks.bw < 8 || luma_blocks.bh < 8 {
        return Err(StageError::NotApplicable(
            "the picture is too small for this check",
        ));
    }
    deadline.check()?;
    let (quality, exact) = header::estimate_quality(&luma_blocks.table);
    let params = AlignedParams {
        frequencies: cfg.frequencies.clamp(1, 20),
        max_level: 24,
        max_q1: 40,
        noise_sigma: 0.7,
        calibration_blocks: 20_000,
        min_gain_per_coeff: 0.004,
        min_gain: 30.0,
    };
    // Pixels are decoded whole only up to `max_blocks`; past that the calibration decodes the
    // blocks it samples and the grid check (which needs every pixel) is left out.
    let whole = luma_blocks.coeffs.len() <= cfg.max_blocks;
    let (map, grid) = if whole {
        let luma = blocks::decode_luma(&luma_blocks, deadline)?;
        let map = aligned::analyse(&luma_blocks, &luma, &params, deadline)?;
        let grid = grid::analyse(
            &luma,
            &GridParams {
                window: cfg.grid_window.max(2),
                min_energy: 2.0,
            },
            deadline,
        )?;
        (map, Some(grid))
    } else {
        let source = blocks::OnDemand {
            blocks: &luma_blocks,
            dct: blocks::Dct8::new(),
        };
        (
            aligned::analyse(&luma_blocks, &source, &params, deadline)?,
            None,
        )
    };

    let frame = Frame {
        orientation,
        stored: (sw, sh),
    };
    let saved = Saved { quality, exact };
    let mut findings = Vec::new();
    let local = aligned_regions(&map, luma_blocks.bw, luma_blocks.bh, cfg);
    let shifted = grid
        .as_ref()
        .map_or_else(Vec::new, |g| grid_regions(g, cfg));
    if let Some(f) = regional_finding(&local, &shifted, &map, saved, &frame, cfg) {
        findings.push(f);
    } else if !map.fits.is_empty() && map.alpha() >= cfg.min_double_share {
        findings.push(resaved_finding(&map, saved));
    }
    Ok(findings)
}

/// The quality the file was last saved at.
#[derive(Debug, Clone, Copy)]
struct Saved {
    quality: u32,
    /// Whether the table is exactly an IJG one (else the quality is only the closest).
    exact: bool,
}

/// An area that disagrees with the rest, in stored (not yet oriented) pixels.
#[derive(Debug, Clone)]
struct Local {
    region: Region,
    cells: usize,
    /// Strength, 0 at the threshold and 1 well beyond it.
    score: f32,
    /// True when the area looks compressed twice in an image that otherwise does not.
    double: bool,
    /// Grid shift of the area, for the grid check.
    shift: Option<(u8, u8)>,
}

fn stored_region(c: &Component, block: usize, w: usize, h: usize) -> Region {
    c.region(
        block,
        u32::try_from(w).unwrap_or(u32::MAX),
        u32::try_from(h).unwrap_or(u32::MAX),
    )
}

/// Pool the block evidence and find areas that disagree with the image as a whole.
fn aligned_regions(map: &AlignedMap, bw: usize, bh: usize, cfg: &DoubleJpegConfig) -> Vec<Local> {
    if map.fits.is_empty() {
        return Vec::new();
    }
    let r = cfg.pool_radius;
    // Window sums by integral images of the log-likelihood ratios and of the term counts.
    let iw = bw + 1;
    let mut il = vec![0.0f64; iw * (bh + 1)];
    let mut it = vec![0.0f64; iw * (bh + 1)];
    for y in 0..bh {
        let (mut rl, mut rt) = (0.0f64, 0.0f64);
        for x in 0..bw {
            rl += f64::from(map.llr[y * bw + x]);
            rt += f64::from(map.terms[y * bw + x]);
            il[(y + 1) * iw + x + 1] = il[y * iw + x + 1] + rl;
            it[(y + 1) * iw + x + 1] = it[y * iw + x + 1] + rt;
        }
    }
    let rect = |ii: &[f64], x0: usize, y0: usize, x1: usize, y1: usize| {
        ii[y1 * iw + x1] - ii[y0 * iw + x1] - ii[y1 * iw + x0] + ii[y0 * iw + x0]
    };
    // Mean ratio per coefficient; windows with little evidence are pulled towards zero.
    let min_terms = ((2 * r + 1) * (2 * r + 1)) as f64;
    let mut mean = vec![0.0f32; bw * bh];
    for y in 0..bh {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(bh));
        for x in 0..bw {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(bw));
            let l = rect(&il, x0, y0, x1, y1);
            let t = rect(&it, x0, y0, x1, y1);
            mean[y * bw + x] = (l / t.max(min_terms)) as f32;
        }
    }
    let th = cfg.llr_threshold;
    let single: Vec<bool> = mean.iter().map(|&m| m < -th).collect();
    let double: Vec<bool> = mean.iter().map(|&m| m > th).collect();
    let n_double = double.iter().filter(|&&b| b).count();
    let total = (bw * bh) as f32;
    // The image's own history decides which kind of area is the odd one out.
    let background_double = map.alpha() >= cfg.min_double_share && n_double as f32 >= 0.3 * total;
    // Otherwise the comb is confined to part of the picture: look for that part.
    let (mask, is_double) = if background_double {
        (single, false)
    } else {
        (double, true)
    };
    components(&mask, bw, bh)
        .into_iter()
        .filter(|c| c.cells.len() >= cfg.min_blocks)
        .filter(|c| (c.cells.len() as f32) <= cfg.max_region_share * total)
        .filter_map(|c| {
            let m = c.mean(&mean).abs();
            // A weak disagreement is more often flat or saturated content than splicing.
            (m >= cfg.min_region_llr).then(|| Local {
                region: stored_region(&c, 8, bw * 8, bh * 8),
                cells: c.cells.len(),
                score: ((m - cfg.min_region_llr) / cfg.min_region_llr).clamp(0.0, 1.0),
                double: is_double,
                shift: None,
            })
        })
        .collect()
}

/// Areas whose blocking sits on a grid shifted from the file's and from the image's own.
fn grid_regions(g: &GridMap, cfg: &DoubleJpegConfig) -> Vec<Local> {
    let th = cfg.grid_strength;
    // A shift that most of the picture shares is the picture's own history (a cropped photo).
    let own_x = (g.global.zx >= th && g.global.fx >= 0.3).then_some(g.global.kx);
    let own_y = (g.global.zy >= th && g.global.fy >= 0.3).then_some(g.global.ky);
    // Both axes must show the earlier grid clearly: stripes and other 1-D textures do not.
    let key = |p: &grid::Phase| -> Option<(u8, u8)> {
        let ok = p.zx.min(p.zy) >= th
            && p.kx != 0
            && p.ky != 0
            && (Some(p.kx) != own_x || Some(p.ky) != own_y);
        ok.then_some((p.kx, p.ky))
    };
    let keys: Vec<Option<(u8, u8)>> = g.cells.iter().map(key).collect();
    let mut distinct: Vec<(u8, u8)> = keys.iter().flatten().copied().collect();
    distinct.sort_unstable();
    distinct.dedup();
    let total = (g.cw * g.ch) as f32;
    let mut out = Vec::new();
    for k in distinct {
        let mask: Vec<bool> = keys.iter().map(|&c| c == Some(k)).collect();
        for c in components(&mask, g.cw, g.ch) {
            if c.cells.len() < cfg.min_grid_windows
                || c.cells.len() as f32 > cfg.max_region_share * total
            {
                continue;
            }
            let s = c
                .cells
                .iter()
                .map(|&i| g.cells[i].zx.min(g.cells[i].zy))
                .sum::<f32>()
                / c.cells.len() as f32;
            out.push(Local {
                region: stored_region(&c, 8, g.cw * 8, g.ch * 8),
                cells: c.cells.len(),
                score: ((s - th) / (2.0 * th)).clamp(0.0, 1.0),
                double: true,
                shift: Some(k),
            });
        }
    }
    out
}

/// How the stored frame maps to the upright image.
#[derive(Debug, Clone, Copy)]
struct Frame {
    orientation: u16,
    stored: (u32, u32),
}

impl Frame {
    /// A stored-frame box in the upright image (EXIF orientations 1–8, as `image` applies them).
    fn upright(&self, r: Region) -> Region {
        let (w, h) = self.stored;
        let map = |x: u32, y: u32| -> (u32, u32) {
            let (fx, fy) = (
                w.saturating_sub(1).saturating_sub(x),
                h.saturating_sub(1).saturating_sub(y),
            );
            match self.orientation {
                2 => (fx, y),
                3 => (fx, fy),
                4 => (x, fy),
                5 => (y, x),
                6 => (fy, x),
                7 => (fy, fx),
                8 => (y, fx),
                _ => (x, y),
            }
        };
        let a = map(r.x, r.y);
        let b = map((r.x + r.w).saturating_sub(1), (r.y + r.h).saturating_sub(1));
        let (x0, x1) = (a.0.min(b.0), a.0.max(b.0));
        let (y0, y1) = (a.1.min(b.1), a.1.max(b.1));
        Region::new(x0, y0, x1 - x0 + 1, y1 - y0 + 1)
    }
}

/// The EXIF orientation (1 when absent or unreadable), the same way intake reads it.
fn exif_orientation(bytes: &[u8]) -> u16 {
    image::codecs::jpeg::JpegDecoder::new(Cursor::new(bytes))
        .ok()
        .and_then(|mut d| d.orientation().ok())
        .map_or(1, |o| u16::from(o.to_exif()))
}

fn quality_text(s: Saved) -> (String, String) {
    let q = s.quality;
    if s.exact {
        (format!("quality {q}"), format!("মান {q}"))
    } else {
        (format!("about quality {q}"), format!("আনুমানিক মান {q}"))
    }
}

fn earlier_text(map: &AlignedMap) -> (String, String) {
    match map.primary_quality() {
        Some(q) => (
            format!(", and before that at about quality {q}"),
            format!(", তার আগে আনুমানিক মান {q}-এ"),
        ),
        None => (String::new(), String::new()),
    }
}

fn regional_finding(
    local: &[Local],
    shifted: &[Local],
    map: &AlignedMap,
    saved: Saved,
    frame: &Frame,
    cfg: &DoubleJpegConfig,
) -> Option<Finding> {
    let mut all: Vec<&Local> = local.iter().chain(shifted).collect();
    if all.is_empty() {
        return None;
    }
    all.sort_by(|a, b| (b.score * b.cells as f32).total_cmp(&(a.score * a.cells as f32)));
    all.truncate(4);
    let top = all[0].score;
    let both = !local.is_empty() && !shifted.is_empty();
    let strength = if both { (top + 0.3).min(1.0) } else { top };
    let points = scaled_points(strength, 6, cfg.max_points.min(15));
    let severity = if strength >= 0.5 {
        Severity::Medium
    } else {
        Severity::Low
    };
    let (q_en, q_bn) = quality_text(saved);
    let (e_en, e_bn) = earlier_text(map);
    let what_en = if all[0].shift.is_some() {
        "its JPEG block pattern sits on a shifted grid, as if it was cut from another JPEG and \
         pasted in"
    } else if all[0].double {
        "it carries traces of an earlier JPEG compression that the rest of the picture lacks"
    } else {
        "it lacks the traces of an earlier JPEG compression that the rest of the picture carries"
    };
    let what_bn = if all[0].shift.is_some() {
        "এর JPEG ব্লকের নকশা সরে যাওয়া গ্রিডে বসানো, যেন অন্য কোনো JPEG থেকে কেটে এনে বসানো হয়েছে"
    } else if all[0].double {
        "এতে আগের একটি JPEG সংকোচনের চিহ্ন আছে যা বাকি ছবিতে নেই"
    } else {
        "এতে আগের JPEG সংকোচনের সেই চিহ্ন নেই যা বাকি ছবিতে আছে"
    };
    let n = all.len();
    let (en, bn) = if n == 1 {
        (
            format!(
                "One area of the picture was compressed differently from the rest: {what_en}. \
                 The file was saved at {q_en}{e_en}. The area may have been pasted in; compare \
                 it with the original."
            ),
            format!(
                "ছবির একটি অংশ বাকি অংশের চেয়ে ভিন্নভাবে সংকুচিত: {what_bn}। ফাইলটি {q_bn}-এ \
                 সংরক্ষিত{e_bn}। অংশটি পরে বসানো হয়ে থাকতে পারে; মূল কাগজের সঙ্গে মিলিয়ে দেখুন।"
            ),
        )
    } else {
        (
            format!(
                "{n} areas of the picture were compressed differently from the rest; in the \
                 clearest, {what_en}. The file was saved at {q_en}{e_en}. The areas may have \
                 been pasted in; compare them with the original."
            ),
            format!(
                "ছবির {n}টি অংশ বাকি অংশের চেয়ে ভিন্নভাবে সংকুচিত; সবচেয়ে স্পষ্টটিতে {what_bn}। \
                 ফাইলটি {q_bn}-এ সংরক্ষিত{e_bn}। অংশগুলো পরে বসানো হয়ে থাকতে পারে; মূল কাগজের \
                 সঙ্গে মিলিয়ে দেখুন।"
            ),
        )
    };
    let regions = all.iter().map(|l| frame.upright(l.region)).collect();
    Some(
        Finding::new("double_jpeg", Stage::DoubleJpeg, severity, points, en, bn)
            .with_regions(regions),
    )
}

fn resaved_finding(map: &AlignedMap, saved: Saved) -> Finding {
    let (q_en, q_bn) = quality_text(saved);
    let (e_en, e_bn) = earlier_text(map);
    Finding::new(
        "double_jpeg",
        Stage::DoubleJpeg,
        Severity::Info,
        2,
        format!(
            "The whole picture was saved as JPEG at least twice (last at {q_en}{e_en}). That \
             happens whenever a photo is edited or forwarded, and no single area stands out."
        ),
        format!(
            "পুরো ছবিটি অন্তত দুবার JPEG হিসেবে সংরক্ষিত হয়েছে (শেষবার {q_bn}-এ{e_bn})। ছবি \
             সম্পাদনা বা অন্যকে পাঠানোর সময় এমন হয়; আলাদা করে কোনো অংশ চোখে পড়েনি।"
        ),
    )
}
