//! Tampering over read fields. Two sources of evidence:
//!
//! 1. A region located by the core forensics (ELA, copy-move, noise, double JPEG) that
//!    overlaps a field the decision rests on (IMEI, GD number, date) weighs far more than one
//!    elsewhere: it becomes `field_tampered`.
//! 2. Digits pasted over a field rarely match the page they sit on. Each field box is cut into
//!    chunks about two line-heights wide and compared with the text chunks around it (other
//!    lines and the rest of its own line) on paper noise, paper brightness, ink darkness and
//!    stroke sharpness. A chunk that stands out on a measure by far more than the page varies
//!    is `field_tampered` too. Neighbours, not the whole page, are the reference, so uneven
//!    light across a phone photo does not count.

use image::RgbImage;

use crate::forensics::copy_move::residual::{luma, residuals};
use crate::report::{Finding, Region, Severity, Stage};

/// Thresholds of the field consistency check.
#[derive(Debug, Clone)]
pub struct TamperConfig {
    /// Robust z-score (median/MAD of the neighbours) a chunk must exceed on some measure.
    pub min_z: f32,
    /// Neighbour chunks compared with (nearest first).
    pub neighbours: usize,
    /// Smallest relative drop in paper noise that counts (0.5 = half the neighbours' noise);
    /// a rise must be three times as large (dense digits on a JPEG ring more than text).
    pub min_noise_ratio: f32,
    /// Smallest change in the noise's neighbour correlation (grain) that counts.
    pub min_grain_step: f32,
    /// Smallest paper-brightness step that counts, in grey levels.
    pub min_paper_step: f32,
    /// Smallest relative difference in stroke sharpness that counts.
    pub min_sharpness_ratio: f32,
    /// Points of a `field_tampered` finding.
    pub points: u32,
    /// How much more a core-forensics region over a field weighs than elsewhere.
    pub overlap_factor: u32,
    /// Paper-noise correlation that makes a shape match over a field a clone.
    pub min_clone_correlation: f32,
    /// Several measures off together: the root of the sum of their squared (capped) z-scores
    /// that counts, and the least the second-strongest must show.
    pub min_joint_z: f32,
    pub min_second_cue: f32,
    /// A chunk as bright as the text around it whose paper noise is lower by at least this
    /// share (0.25 = a quarter), at a robust z-score of at least `min_quiet_z`: pasted digits
    /// on a flat fill lack the capture's noise.
    pub min_quiet_ratio: f32,
    pub min_quiet_z: f32,
}

impl Default for TamperConfig {
    fn default() -> Self {
        TamperConfig {
            min_z: 4.5,
            neighbours: 16,
            min_noise_ratio: 0.5,
            min_grain_step: 0.3,
            min_paper_step: 10.0,
            min_sharpness_ratio: 0.5,
            points: 45,
            overlap_factor: 3,
            min_clone_correlation: 0.45,
            min_joint_z: 4.5,
            min_second_cue: 1.5,
            min_quiet_ratio: 0.25,
            min_quiet_z: 1.5,
        }
    }
}

/// A field the decision rests on, in input-image coordinates.
#[derive(Debug, Clone)]
pub struct FieldBox {
    /// `imeis`, `gd_number`, `gd_date`.
    pub field: String,
    pub value: String,
    pub region: Region,
}

/// Measures of one chunk of text.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Measures {
    /// Lag-1 autocorrelation of the background residual (noise texture: natural capture noise
    /// is spatially correlated, noise added in an editor is white).
    grain: f32,
    noise: f32,
    paper: f32,
    ink: f32,
    sharpness: f32,
}

fn measure(img: &RgbImage, r: Region) -> Option<Measures> {
    let (iw, ih) = img.dimensions();
    if r.x == 0 || r.y == 0 || r.x + r.w + 1 >= iw || r.y + r.h + 1 >= ih || r.w < 6 || r.h < 6 {
        return None;
    }
    let (res, bg) = residuals(img, r.x, r.y, r.w, r.h);
    let bg_res: Vec<f32> = res
        .iter()
        .zip(&bg)
        .filter(|(_, b)| **b)
        .map(|(v, _)| *v)
        .collect();
    if bg_res.len() < 40 {
        return None;
    }
    let mean = bg_res.iter().sum::<f32>() / bg_res.len() as f32;
    let grain = {
        let (w, h) = (r.w as usize, r.h as usize);
        let (mut sab, mut saa, mut n) = (0f32, 0f32, 0usize);
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                if !bg[i] {
                    continue;
                }
                let a = res[i] - mean;
                saa += a * a;
                if x + 1 < w && bg[i + 1] {
                    sab += a * (res[i + 1] - mean);
                    n += 1;
                }
                if y + 1 < h && bg[i + w] {
                    sab += a * (res[i + w] - mean);
                    n += 1;
                }
            }
        }
        if n == 0 || saa <= 0.0 {
            0.0
        } else {
            (sab / n as f32) / (saa / bg_res.len() as f32)
        }
    };
    let noise =
        (bg_res.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / bg_res.len() as f32).sqrt();
    let mut values = Vec::with_capacity((r.w * r.h) as usize);
    let mut grads = Vec::with_capacity((r.w * r.h) as usize);
    for y in r.y..r.y + r.h {
        for x in r.x..r.x + r.w {
            values.push(luma(img, x, y));
            let gx = luma(img, x + 1, y) - luma(img, x - 1, y);
            let gy = luma(img, x, y + 1) - luma(img, x, y - 1);
            grads.push((gx * gx + gy * gy).sqrt());
        }
    }
    // Paper: the median of the flat background pixels, not a percentile of all of them (a tight
    // box around dense digits and a loose one around a slanted line of text hold very
    // different shares of ink and halo).
    let mut flat: Vec<f32> = values
        .iter()
        .zip(&bg)
        .filter(|(_, b)| **b)
        .map(|(v, _)| *v)
        .collect();
    values.sort_by(f32::total_cmp);
    grads.sort_by(f32::total_cmp);
    let pct = |v: &[f32], p: usize| v.get(v.len() * p / 100).copied().unwrap_or(0.0);
    let paper = median(&mut flat);
    let ink = pct(&values, 3);
    let contrast = (paper - ink).max(1.0);
    if contrast < 25.0 {
        return None; // no ink: not a text chunk
    }
    // Sharpness: the strongest edges, relative to the ink/paper contrast.
    let sharpness = pct(&grads, 97) / contrast;
    Some(Measures {
        grain,
        noise,
        paper,
        ink,
        sharpness,
    })
}

/// Cut `r` into chunks about two heights wide.
fn chunks(r: Region) -> Vec<Region> {
    let n = (r.w / (2 * r.h.max(1))).clamp(1, 12);
    let step = r.w / n;
    (0..n)
        .map(|i| {
            let w = if i + 1 == n { r.w - step * i } else { step };
            Region::new(r.x + step * i, r.y, w, r.h)
        })
        .collect()
}

fn median(v: &mut [f32]) -> f32 {
    v.sort_by(f32::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// The consistency check: `fields` against `lines` (every text line on the page, in
/// input-image coordinates; the fields' own lines may be among them).
pub fn consistency(
    img: &RgbImage,
    fields: &[FieldBox],
    lines: &[Region],
    cfg: &TamperConfig,
) -> Vec<Finding> {
    let reference: Vec<(Region, Measures)> = lines
        .iter()
        .flat_map(|l| chunks(*l))
        .filter(|c| !fields.iter().any(|f| f.region.overlap(c) * 2 > c.area()))
        .filter_map(|c| measure(img, c).map(|m| (c, m)))
        .collect();
    let mut out = Vec::new();
    for f in fields {
        let mut flagged: Vec<(Region, String)> = Vec::new();
        for chunk in chunks(f.region) {
            let Some(m) = measure(img, chunk) else {
                continue;
            };
            let (cx, cy) = (chunk.x + chunk.w / 2, chunk.y + chunk.h / 2);
            let mut near: Vec<&(Region, Measures)> = reference.iter().collect();
            near.sort_by_key(|(r, _)| {
                let dx = i64::from(r.x + r.w / 2) - i64::from(cx);
                let dy = i64::from(r.y + r.h / 2) - i64::from(cy);
                dx * dx + 4 * dy * dy
            });
            near.truncate(cfg.neighbours);
            if near.len() < 6 {
                continue;
            }
            if let Some((cue, why)) = outlier(&m, &near, cfg) {
                // A brighter or darker paper that goes on past the chunk on two sides is the
                // light (a shadow's edge, a glare patch), not a patch laid over the field.
                let mut near_paper: Vec<f32> = near.iter().map(|(_, n)| n.paper).collect();
                let near_paper = median(&mut near_paper);
                if cue == Cue::Paper && paper_continues(img, chunk, m.paper, near_paper, cfg) {
                    continue;
                }
                flagged.push((chunk, why));
            }
        }
        if let Some((_, why)) = flagged.first() {
            let regions: Vec<Region> = flagged.iter().map(|(r, _)| *r).collect();
            out.push(field_tampered(f, regions, why, cfg.points));
        }
    }
    out
}

/// Which measure made a chunk stand out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cue {
    Paper,
    Other,
}

/// Whether the paper right beside `chunk` (left, right, above, below, a little apart) has about
/// the chunk's own paper level `paper` on at least two sides: then the chunk's paper is not
/// confined to it (light, not a patch). "About" is relative to the step from the neighbours'
/// paper `near_paper`: light falls off across a lit patch, so a side 15 levels darker than a
/// chunk 90 levels above the text around it is the same light, while a patch's sides sit at
/// the page's level, the whole step away.
fn paper_continues(
    img: &RgbImage,
    chunk: Region,
    paper: f32,
    near_paper: f32,
    cfg: &TamperConfig,
) -> bool {
    let tolerance = (0.5 * cfg.min_paper_step).max(0.2 * (paper - near_paper).abs());
    let (iw, ih) = img.dimensions();
    let h = chunk.h.max(6);
    let gap = h / 2;
    let (x0, y0) = (i64::from(chunk.x), i64::from(chunk.y));
    let (x1, y1) = (x0 + i64::from(chunk.w), y0 + i64::from(chunk.h));
    let (g, t) = (i64::from(gap), i64::from(h));
    let sides = [
        (x0 - g - t, y0, t, i64::from(chunk.h)),
        (x1 + g, y0, t, i64::from(chunk.h)),
        (x0, y0 - g / 2 - t / 2, i64::from(chunk.w), t / 2),
        (x0, y1 + g / 2, i64::from(chunk.w), t / 2),
    ];
    let same = sides.iter().filter(|&&(x, y, w, bh)| {
        if x < 1 || y < 1 || x + w + 1 >= i64::from(iw) || y + bh + 1 >= i64::from(ih) || w < 4 {
            return false;
        }
        let r = Region::new(x as u32, y as u32, w as u32, bh as u32);
        let (_, bg) = residuals(img, r.x, r.y, r.w, r.h);
        let mut flat: Vec<f32> = (r.y..r.y + r.h)
            .flat_map(|yy| (r.x..r.x + r.w).map(move |xx| (xx, yy)))
            .zip(&bg)
            .filter(|(_, b)| **b)
            .map(|((xx, yy), _)| luma(img, xx, yy))
            .collect();
        flat.len() >= 20 && (median(&mut flat) - paper).abs() < tolerance
    });
    // Two sides: one band may fall inside a patch that is a little larger than the field.
    same.count() >= 2
}

/// Why `m` stands out from `near`, if it does, and on which measure.
fn outlier(
    m: &Measures,
    near: &[&(Region, Measures)],
    cfg: &TamperConfig,
) -> Option<(Cue, String)> {
    let robust = |get: fn(&Measures) -> f32| {
        let mut v: Vec<f32> = near.iter().map(|(_, n)| get(n)).collect();
        let med = median(&mut v);
        let mut dev: Vec<f32> = v.iter().map(|x| (x - med).abs()).collect();
        let mad = median(&mut dev) * 1.4826;
        (med, mad)
    };
    let (noise_med, noise_mad) = robust(|n| n.noise);
    let noise_z = (m.noise - noise_med) / noise_mad.max(0.15 * noise_med).max(0.1);
    // Pasted digits usually lack the page's noise; dense digits on a JPEG show a little more
    // residual (ringing at stroke edges) than running text, so "noisier" needs far more.
    let noise_ratio = (m.noise - noise_med) / noise_med.max(0.3);
    let noise_off = if noise_ratio < 0.0 {
        -noise_ratio > cfg.min_noise_ratio
    } else {
        noise_ratio > 3.0 * cfg.min_noise_ratio
    };
    if noise_z.abs() > cfg.min_z && noise_off {
        return Some((
            Cue::Other,
            format!(
                "its paper noise is {:.1} where the text around it has {:.1}",
                m.noise, noise_med
            ),
        ));
    }
    let (grain_med, grain_mad) = robust(|n| n.grain);
    let grain_z = (m.grain - grain_med) / grain_mad.max(0.04);
    if grain_z.abs() > cfg.min_z && (m.grain - grain_med).abs() > cfg.min_grain_step {
        return Some((
            Cue::Other,
            format!(
            "its paper grain differs from the text around it (noise correlation {:.2} against {:.2})",
            m.grain, grain_med
            ),
        ));
    }
    let (paper_med, paper_mad) = robust(|n| n.paper);
    let paper_z = (m.paper - paper_med) / paper_mad.max(1.5);
    if paper_z.abs() > cfg.min_z && (m.paper - paper_med).abs() > cfg.min_paper_step {
        return Some((
            Cue::Paper,
            format!(
                "its paper is {:.0} grey levels {} than around it",
                (m.paper - paper_med).abs(),
                if m.paper > paper_med {
                    "brighter"
                } else {
                    "darker"
                }
            ),
        ));
    }
    // Ink alone is weak evidence: the values of a form are often written or typed in another
    // ink or weight than its printed labels, and thin strokes read lighter than bold ones. A
    // darker or lighter ink counts only when the paper under it also stands out somewhat.
    let paper_half =
        paper_z.abs() > 0.5 * cfg.min_z && (m.paper - paper_med).abs() > 0.5 * cfg.min_paper_step;
    let noise_half = noise_z.abs() > 0.5 * cfg.min_z && noise_off;
    let grain_half =
        grain_z.abs() > 0.5 * cfg.min_z && (m.grain - grain_med).abs() > 0.5 * cfg.min_grain_step;
    let (ink_med, ink_mad) = robust(|n| n.ink);
    let ink_z = (m.ink - ink_med) / ink_mad.max(3.0);
    if (paper_half || noise_half || grain_half)
        && ink_z.abs() > cfg.min_z
        && (m.ink - ink_med).abs() > 2.0 * cfg.min_paper_step
    {
        return Some((
            Cue::Other,
            format!(
                "its ink is {:.0} grey levels {} than the text around it",
                (m.ink - ink_med).abs(),
                if m.ink > ink_med { "lighter" } else { "darker" }
            ),
        ));
    }
    let (sharp_med, sharp_mad) = robust(|n| n.sharpness);
    let sharp_z = (m.sharpness - sharp_med) / sharp_mad.max(0.05 * sharp_med).max(1e-3);
    let sharp_ratio = (m.sharpness - sharp_med).abs() / sharp_med.max(1e-3);
    if sharp_z.abs() > cfg.min_z && sharp_ratio > cfg.min_sharpness_ratio {
        return Some((
            Cue::Other,
            format!(
                "its strokes are {} than the text around it",
                if m.sharpness > sharp_med {
                    "sharper"
                } else {
                    "blurrier"
                }
            ),
        ));
    }
    // Quieter paper at the same brightness. Light changes the noise with the brightness (shot
    // noise; clipped glare has none), so only a chunk whose paper matches the text around it
    // counts; a region filled with a flat colour and fresh digits lacks the capture's noise
    // however well its colour was matched. On tuning seed 613, clean field chunks were never
    // more than 9 % quieter than their neighbours in 99 of 100; pasted ones were 26 % quieter
    // at the median.
    if noise_ratio < -cfg.min_quiet_ratio
        && noise_z < -cfg.min_quiet_z
        && (m.paper - paper_med).abs() < 0.5 * cfg.min_paper_step
    {
        return Some((
            Cue::Other,
            format!(
                "its paper noise is {:.1} where the text around it, on paper as bright, has {:.1}",
                m.noise, noise_med
            ),
        ));
    }
    // Several measures off at once, none far enough alone: a paste that was blended in (paper
    // level matched, some noise added) still leaves its noise (lower), grain and stroke
    // sharpness a little off together. Each measure counts with its z-score, capped where its step is
    // smaller than the single-measure minimum would ask (so a large z on a tiny step adds
    // little), and at least two must be clearly off.
    let capped = |z: f32, step: f32, min_step: f32| z.abs().min(cfg.min_z * step.abs() / min_step);
    // Only less noise counts here: dense digits in a JPEG ring more than running text, and on
    // tuning seed 614 a clean scan's IMEI showed twice its neighbours' noise with a grain step.
    let noise_cue = if noise_ratio < 0.0 {
        capped(noise_z, noise_ratio, cfg.min_noise_ratio)
    } else {
        0.0
    };
    let mut cues = [
        noise_cue,
        capped(grain_z, m.grain - grain_med, cfg.min_grain_step),
        capped(paper_z, m.paper - paper_med, cfg.min_paper_step),
        capped(sharp_z, sharp_ratio, cfg.min_sharpness_ratio),
    ];
    cues.sort_by(|a, b| b.total_cmp(a));
    let joint = cues.iter().map(|c| c * c).sum::<f32>().sqrt();
    if joint > cfg.min_joint_z && cues[1] >= cfg.min_second_cue {
        return Some((
            Cue::Other,
            format!(
            "its paper noise, grain and stroke sharpness together differ from the text around it (noise {:.1} against {:.1}, grain {:.2} against {:.2}, sharpness {:.2} against {:.2})",
            m.noise, noise_med, m.grain, grain_med, m.sharpness, sharp_med
            ),
        ));
    }
    None
}

fn field_name(field: &str) -> (&'static str, &'static str) {
    match field {
        "imeis" => ("IMEI", "আইএমইআই"),
        "gd_number" => ("GD number", "জিডি নম্বর"),
        "gd_date" => ("date", "তারিখ"),
        _ => ("field", "তথ্য"),
    }
}

fn field_tampered(f: &FieldBox, regions: Vec<Region>, why: &str, points: u32) -> Finding {
    let (en, bn) = field_name(&f.field);
    Finding::new(
        "field_tampered",
        Stage::Fields,
        Severity::High,
        points,
        format!(
            "The {en} {} looks pasted over: {why}. Check the original GD copy.",
            f.value
        ),
        format!(
            "{bn} {} অংশটি ওপরে বসানো বলে মনে হচ্ছে: চারপাশের লেখার সাথে কাগজ বা কালি মেলে না। মূল জিডি কপি মিলিয়ে দেখুন।",
            f.value
        ),
    )
    .with_regions(regions)
}

/// The pixel checks on the fields ([`consistency`] and [`field_clones`]) on the image as
/// captured. Both read text lines as running left to right; a page photographed turned a
/// quarter (lines running up or down the image) is measured on the image turned back a quarter
/// — a lossless reordering of pixels, so the paper noise survives — and the findings' regions
/// are given in the captured image's coordinates.
pub fn pixel_checks(
    img: &RgbImage,
    fields: &[FieldBox],
    lines: &[Region],
    cfg: &TamperConfig,
    deadline: &crate::deadline::Deadline,
) -> Vec<Finding> {
    let tall = lines.iter().filter(|l| l.h > l.w).count();
    if tall * 2 <= lines.len() {
        let mut out = consistency(img, fields, lines, cfg);
        out.extend(field_clones(img, fields, lines, cfg, deadline, &|r| r));
        return out;
    }
    let h = img.height();
    // rotate90 (clockwise): (x, y) → (h − 1 − y, x).
    let turn = |r: Region| Region::new(h.saturating_sub(r.y + r.h), r.x, r.h, r.w);
    let back = |r: Region| Region::new(r.y, h.saturating_sub(r.x + r.w), r.h, r.w);
    let turned = image::imageops::rotate90(img);
    let fields: Vec<FieldBox> = fields
        .iter()
        .map(|f| FieldBox {
            region: turn(f.region),
            ..f.clone()
        })
        .collect();
    let lines: Vec<Region> = lines.iter().map(|l| turn(*l)).collect();
    let mut out = consistency(&turned, &fields, &lines, cfg);
    out.extend(field_clones(&turned, &fields, &lines, cfg, deadline, &back));
    for f in &mut out {
        for r in &mut f.regions {
            *r = back(*r);
        }
    }
    out
}

/// Core-forensics findings whose regions overlap a field: one `field_tampered` finding each,
/// weighing `overlap_factor` times the original (the original finding stays in the report).
pub fn over_fields(findings: &[Finding], fields: &[FieldBox], cfg: &TamperConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in findings {
        if !super::route::is_forensic(f.stage) || f.regions.is_empty() || f.severity < Severity::Low
        {
            continue;
        }
        if f.code == "repeated_text" {
            continue;
        }
        for field in fields {
            let hit: Vec<Region> = f
                .regions
                .iter()
                .filter(|r| {
                    let ov = r.overlap(&field.region);
                    ov * 4 >= field.region.area().min(r.area())
                })
                .copied()
                .collect();
            if hit.is_empty() {
                continue;
            }
            let (en, bn) = field_name(&field.field);
            out.push(
                Finding::new(
                    "field_tampered",
                    Stage::Fields,
                    f.severity.max(Severity::High),
                    (f.points * cfg.overlap_factor).clamp(cfg.points, 100),
                    format!(
                        "The {} check found a suspicious region over the {en} {}. Check the original GD copy.",
                        f.stage.as_str(),
                        field.value
                    ),
                    format!(
                        "{} যাচাইয়ে {bn} {}-এর ওপর সন্দেহজনক অংশ পাওয়া গেছে। মূল জিডি কপি মিলিয়ে দেখুন।",
                        f.stage.as_str(),
                        field.value
                    ),
                )
                .with_regions(vec![field.region]),
            );
        }
    }
    out
}

/// A grey plane, downsampled by `k` (box average).
struct Small {
    w: usize,
    h: usize,
    v: Vec<f32>,
}

impl Small {
    fn of(img: &RgbImage, k: u32) -> Small {
        let (w, h) = ((img.width() / k) as usize, (img.height() / k) as usize);
        let mut v = vec![0f32; w * h];
        let n = (k * k) as f32;
        for sy in 0..h {
            for sx in 0..w {
                let mut s = 0.0;
                for dy in 0..k {
                    for dx in 0..k {
                        s += luma(img, sx as u32 * k + dx, sy as u32 * k + dy);
                    }
                }
                v[sy * w + sx] = s / n;
            }
        }
        Small { w, h, v }
    }

    /// Zero-mean normalised cross-correlation of the `tw × th` windows at `a` and `b`.
    fn zncc(&self, a: (usize, usize), b: (usize, usize), tw: usize, th: usize) -> f32 {
        let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0f32, 0f32, 0f32, 0f32, 0f32);
        for y in 0..th {
            let ra = (a.1 + y) * self.w + a.0;
            let rb = (b.1 + y) * self.w + b.0;
            for x in 0..tw {
                let (p, q) = (self.v[ra + x], self.v[rb + x]);
                sa += p;
                sb += q;
                saa += p * p;
                sbb += q * q;
                sab += p * q;
            }
        }
        let n = (tw * th) as f32;
        let va = saa - sa * sa / n;
        let vb = sbb - sb * sb / n;
        if va <= 1.0 || vb <= 1.0 {
            return 0.0;
        }
        (sab - sa * sb / n) / (va * vb).sqrt()
    }
}

/// How far from ink (pixels) the paper must be to count in the clone check's noise match.
const CLONE_CLEAR_OF_INK: u32 = 1;

/// Text cloned over a field: each chunk of a field box is looked for along every other text
/// line; a place that matches in shape (ZNCC) *and* in paper noise is where it was copied
/// from. The same words printed twice match in shape only.
pub fn field_clones(
    img: &RgbImage,
    fields: &[FieldBox],
    lines: &[Region],
    cfg: &TamperConfig,
    deadline: &crate::deadline::Deadline,
    to_input: &dyn Fn(Region) -> Region,
) -> Vec<Finding> {
    const K: u32 = 4;
    let small = Small::of(img, K);
    let mut out = Vec::new();
    for f in fields {
        let mut hits: Vec<(Region, Region, f32)> = Vec::new();
        for chunk in chunks(f.region) {
            if deadline.expired() {
                return out;
            }
            let (tw, th) = ((chunk.w / K) as usize, (chunk.h / K) as usize);
            if tw < 4 || th < 3 {
                continue;
            }
            let a = ((chunk.x / K) as usize, (chunk.y / K) as usize);
            if a.0 + tw > small.w || a.1 + th > small.h {
                continue;
            }
            let mut best: Option<(f32, (usize, usize))> = None;
            for l in lines {
                if l.h * 10 < chunk.h * 6 || l.h * 10 > chunk.h * 16 {
                    continue;
                }
                let y0 = (l.y / K) as usize;
                let y_lo = y0.saturating_sub(th / 2);
                let y_hi = (y0 + (l.h / K) as usize + th / 2)
                    .min(small.h)
                    .saturating_sub(th);
                let x_lo = (l.x / K) as usize;
                let x_hi = ((l.x + l.w) / K) as usize;
                let x_hi = x_hi.min(small.w).saturating_sub(tw);
                for by in y_lo..=y_hi {
                    for bx in x_lo..=x_hi {
                        // Not the chunk itself, nor overlapping it.
                        if bx + tw > a.0 && a.0 + tw > bx && by + th > a.1 && a.1 + th > by {
                            continue;
                        }
                        let c = small.zncc(a, (bx, by), tw, th);
                        if c > best.map_or(0.85, |b| b.0) {
                            best = Some((c, (bx, by)));
                        }
                    }
                }
            }
            let Some((_, (bx, by))) = best else {
                continue;
            };
            let source = Region::new(bx as u32 * K, by as u32 * K, chunk.w, chunk.h);
            // Refine at full resolution: the residual match searches ±2 px; cover ±K.
            let mut corr: Option<f32> = None;
            for dy in [-2i64, 2] {
                for dx in [-2i64, 2] {
                    let (Ok(x), Ok(y)) = (
                        u32::try_from(i64::from(source.x) + dx),
                        u32::try_from(i64::from(source.y) + dy),
                    ) else {
                        continue;
                    };
                    let s = Region::new(x, y, chunk.w, chunk.h);
                    if let crate::forensics::copy_move::residual::ResidualMatch::Correlation(r) =
                        crate::forensics::copy_move::residual::residual_match_clear(
                            img,
                            s,
                            chunk,
                            CLONE_CLEAR_OF_INK,
                        )
                    {
                        corr = Some(corr.map_or(r, |c: f32| c.max(r)));
                    }
                }
            }
            if let Some(r) = corr.filter(|r| *r >= cfg.min_clone_correlation) {
                hits.push((source, chunk, r));
            }
        }
        if let Some(&(source, _, r)) = hits.first() {
            let (en, bn) = field_name(&f.field);
            let at = to_input(source);
            let mut regions: Vec<Region> = hits.iter().map(|h| h.1).collect();
            regions.push(source);
            out.push(
                Finding::new(
                    "field_tampered",
                    Stage::Fields,
                    Severity::Critical,
                    cfg.points.max(60),
                    format!(
                        "Part of the {en} {} is a copy of the page at ({}, {}), paper grain included (correlation {r:.2}): it was pasted over from elsewhere on the page.",
                        f.value, at.x, at.y
                    ),
                    format!(
                        "{bn} {}-এর একটি অংশ পাতার ({}, {}) জায়গা থেকে কাগজের দানাসহ হুবহু কপি করা: এটি পাতার অন্য জায়গা থেকে এনে বসানো হয়েছে।",
                        f.value, at.x, at.y
                    ),
                )
                .with_regions(regions),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> i32 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) % 17) as i32 - 8
        }
    }

    /// A noisy page with 12 text lines of bar "glyphs"; returns the page and line boxes.
    fn page() -> (RgbImage, Vec<Region>) {
        let mut rng = Rng(11);
        let lines: Vec<Region> = (0..12)
            .map(|i| Region::new(40, 40 + i * 50, 520, 30))
            .collect();
        let img = RgbImage::from_fn(600, 680, |x, y| {
            let ink = lines.iter().any(|l| {
                x >= l.x + 4
                    && x < l.x + l.w - 4
                    && y >= l.y + 6
                    && y < l.y + l.h - 6
                    && (x / 7 + y / 11) % 3 == 0
            });
            let base: i32 = if ink { 45 } else { 228 - (x as i32) / 40 };
            let v = (base + rng.next()).clamp(0, 255) as u8;
            Rgb([v, v, v])
        });
        (img, lines)
    }

    /// Pasted digits: noiseless paper and ink over part of line 4 (x 300–420).
    fn paste_digits(img: &mut RgbImage) {
        for y in 240..270 {
            for x in 300..420 {
                let ink = y > 246 && y < 264 && (x / 5) % 3 == 0;
                let v = if ink { 40 } else { 221 };
                img.put_pixel(x, y, Rgb([v, v, v]));
            }
        }
    }

    fn field(region: Region) -> FieldBox {
        FieldBox {
            field: "imeis".into(),
            value: "356938035643809".into(),
            region,
        }
    }

    #[test]
    fn genuine_fields_pass() {
        let (img, lines) = page();
        let fields = [field(Region::new(200, 240, 300, 30)), field(lines[9])];
        let found = consistency(&img, &fields, &lines, &TamperConfig::default());
        assert!(found.is_empty(), "{found:#?}");
    }

    #[test]
    fn a_value_in_another_ink_on_the_same_paper_passes() {
        // A form's value written in a lighter pen (or a thinner face) than its printed labels:
        // same paper, same noise, only the ink differs.
        let (mut img, lines) = page();
        let mut rng = Rng(5);
        for y in 246..264 {
            for x in 300..420 {
                if (x / 7 + y / 11) % 3 == 0 {
                    let v = (110 + rng.next()).clamp(0, 255) as u8;
                    img.put_pixel(x, y, Rgb([v, v, v]));
                }
            }
        }
        let f = field(Region::new(200, 240, 300, 30));
        let found = consistency(&img, &[f], &lines, &TamperConfig::default());
        assert!(found.is_empty(), "{found:#?}");
    }

    #[test]
    fn clean_paste_over_a_field_is_flagged() {
        let (mut img, lines) = page();
        paste_digits(&mut img);
        let f = field(Region::new(200, 240, 300, 30));
        let found = consistency(&img, &[f], &lines, &TamperConfig::default());
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].code, "field_tampered");
        assert!(found[0]
            .regions
            .iter()
            .any(|r| r.x < 420 && r.x + r.w > 300));
    }

    #[test]
    fn light_across_the_page_is_no_patch_but_a_brighter_patch_is() {
        // (what is brightened by 30 grey levels, whether the field's paper goes on past it): a
        // strip of light down the whole page through the field (glare, a shadow's edge), a
        // band along the field's line, or only the field's box (a patch).
        for (band, continues) in [
            ((290, 430, 0, 680), true),
            ((0, 600, 228, 282), true),
            ((300, 420, 240, 270), false),
        ] {
            let (mut img, _) = page();
            let (x0, x1, y0, y1) = band;
            for y in y0..y1 {
                for x in x0..x1 {
                    let p = img.get_pixel(x, y).0[0];
                    if p > 150 {
                        let v = p.saturating_add(30);
                        img.put_pixel(x, y, Rgb([v, v, v]));
                    }
                }
            }
            let chunk = Region::new(330, 240, 60, 30);
            let paper = measure(&img, chunk).map(|m| m.paper).unwrap_or(0.0);
            assert!(paper > 240.0, "{band:?}: paper {paper}");
            let got = paper_continues(&img, chunk, paper, paper - 30.0, &TamperConfig::default());
            assert_eq!(got, continues, "{band:?}");
        }
    }

    #[test]
    fn a_shadow_that_fades_is_light_however_deep() {
        // A round shadow centred on the field, 60 levels deep there and fading by a level every
        // two pixels: the paper beside the field is some 10 levels lighter than in it, still far
        // nearer the field's paper than the page's.
        let (mut img, _) = page();
        for (x, y, p) in img.enumerate_pixels_mut() {
            let d = ((f32::from(u16::try_from(x).unwrap_or(0)) - 360.0).powi(2)
                + (f32::from(u16::try_from(y).unwrap_or(0)) - 255.0).powi(2))
            .sqrt();
            let dark = (60.0 - d / 2.0).max(0.0) as u8;
            let v = p.0[0].saturating_sub(dark);
            *p = Rgb([v, v, v]);
        }
        let chunk = Region::new(330, 240, 60, 30);
        let paper = measure(&img, chunk).map(|m| m.paper).unwrap_or(0.0);
        assert!(paper < 180.0, "paper {paper}");
        assert!(paper_continues(
            &img,
            chunk,
            paper,
            220.0,
            &TamperConfig::default()
        ));
    }

    #[test]
    fn text_cloned_over_a_field_is_found_and_reprints_are_not() {
        let (img, lines) = page();
        let f = field(Region::new(200, 240, 300, 30));
        let none = crate::deadline::Deadline::none();
        // Every line has the same bar pattern ("words printed twice") but its own noise.
        assert!(field_clones(
            &img,
            std::slice::from_ref(&f),
            &lines,
            &TamperConfig::default(),
            &none,
            &|r| r,
        )
        .is_empty());
        let mut cloned = img.clone();
        for y in 0..30 {
            for x in 0..140 {
                let p = *img.get_pixel(100 + x, 540 + y);
                cloned.put_pixel(300 + x, 240 + y, p);
            }
        }
        let found = field_clones(
            &cloned,
            &[f],
            &lines,
            &TamperConfig::default(),
            &none,
            &|r| r,
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Critical);
    }

    /// `r` of a `w`×`h` image in the image turned a quarter anticlockwise (`rotate270`).
    fn anticlockwise(r: Region, w: u32) -> Region {
        Region::new(r.y, w - r.x - r.w, r.h, r.w)
    }

    #[test]
    fn a_page_photographed_turned_a_quarter_is_checked_along_its_lines() {
        let none = crate::deadline::Deadline::none();
        let cfg = TamperConfig::default();
        let (img, lines) = page();
        let w = img.width();
        let f = field(Region::new(200, 240, 300, 30));
        let turned_lines: Vec<Region> = lines.iter().map(|l| anticlockwise(*l, w)).collect();
        let turned_field = FieldBox {
            region: anticlockwise(f.region, w),
            ..f.clone()
        };
        // Genuine: nothing, turned or not.
        let turned = image::imageops::rotate270(&img);
        let found = pixel_checks(
            &turned,
            std::slice::from_ref(&turned_field),
            &turned_lines,
            &cfg,
            &none,
        );
        assert!(found.is_empty(), "{found:#?}");
        // Pasted digits over the field: found, with regions over the field as captured.
        let mut pasted = img.clone();
        paste_digits(&mut pasted);
        let turned = image::imageops::rotate270(&pasted);
        let found = pixel_checks(
            &turned,
            std::slice::from_ref(&turned_field),
            &turned_lines,
            &cfg,
            &none,
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        let paste = anticlockwise(Region::new(300, 240, 120, 30), w);
        assert!(
            found[0]
                .regions
                .iter()
                .all(|r| r.overlap(&turned_field.region) > 0),
            "{found:#?}"
        );
        assert!(
            found[0].regions.iter().any(|r| r.overlap(&paste) > 0),
            "{found:#?}"
        );
    }

    /// The joint rule: two measures each a little off flag a chunk; either alone, or a large
    /// z-score on a negligible step, does not.
    #[test]
    fn several_small_differences_together_flag_a_chunk() {
        let base = Measures {
            grain: 0.12,
            noise: 2.0,
            paper: 230.0,
            ink: 60.0,
            sharpness: 0.9,
        };
        // Neighbours spread a little on every measure.
        let near: Vec<(Region, Measures)> = (0..12)
            .map(|i| {
                let d = (i % 5) as f32 - 2.0;
                let m = Measures {
                    grain: base.grain + 0.01 * d,
                    noise: base.noise + 0.05 * d,
                    paper: base.paper + 0.5 * d,
                    ink: base.ink + 2.0 * d,
                    sharpness: base.sharpness + 0.01 * d,
                };
                (Region::new(0, 0, 10, 10), m)
            })
            .collect();
        let near: Vec<&(Region, Measures)> = near.iter().collect();
        let cfg = TamperConfig::default();
        let with = |f: &dyn Fn(&mut Measures)| {
            let mut m = base;
            f(&mut m);
            outlier(&m, &near, &cfg)
        };
        type Edit = dyn Fn(&mut Measures);
        let cases: [(&str, &Edit, bool); 8] = [
            ("same", &|_| {}, false),
            // Noise down by 45 % (alone: needs 50 %), grain down by 0.25 (alone: 0.3).
            (
                "noise and grain",
                &|m| {
                    m.noise = 1.1;
                    m.grain = -0.13;
                },
                true,
            ),
            // Quieter by 30 % on paper as bright: a flat fill (alone: 25 %); by 20 %: no.
            ("noise alone", &|m| m.noise = 1.4, true),
            ("noise down a fifth", &|m| m.noise = 1.6, false),
            // Quieter by 30 % on paper 6 levels brighter: light, not a fill.
            (
                "noise down on brighter paper",
                &|m| {
                    m.noise = 1.4;
                    m.paper = 236.0;
                },
                false,
            ),
            ("grain alone", &|m| m.grain = -0.13, false),
            // Sharper by 40 % (alone: 50 %) with the grain step.
            (
                "sharpness and grain",
                &|m| {
                    m.sharpness = 1.26;
                    m.grain = -0.13;
                },
                true,
            ),
            // Tiny steps with large z-scores (tight neighbours) stay quiet.
            (
                "tiny steps",
                &|m| {
                    m.grain = 0.05;
                    m.paper = 232.0;
                },
                false,
            ),
        ];
        for (name, f, flagged) in cases {
            assert_eq!(with(f).is_some(), flagged, "{name}: {:?}", with(f));
        }
    }

    #[test]
    fn degenerate_boxes_are_skipped() {
        let (img, lines) = page();
        let fields = [
            field(Region::new(0, 0, 5, 5)),
            field(Region::new(590, 670, 100, 100)),
            field(Region::new(10, 10, 0, 0)),
        ];
        assert!(consistency(&img, &fields, &lines, &TamperConfig::default()).is_empty());
        assert!(consistency(&img, &fields, &[], &TamperConfig::default()).is_empty());
    }

    #[test]
    fn forensic_region_over_a_field_weighs_more() {
        let ela = Finding::new("ela", Stage::Ela, Severity::Medium, 15, "x", "x")
            .with_regions(vec![Region::new(210, 245, 60, 20)]);
        let elsewhere = Finding::new("ela", Stage::Ela, Severity::Medium, 15, "x", "x")
            .with_regions(vec![Region::new(10, 600, 60, 20)]);
        let content = Finding::new(
            "seal_missing",
            Stage::Structure,
            Severity::Medium,
            15,
            "x",
            "x",
        )
        .with_regions(vec![Region::new(210, 245, 60, 20)]);
        let f = [field(Region::new(200, 240, 300, 30))];
        let out = over_fields(&[ela, elsewhere, content], &f, &TamperConfig::default());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].code, "field_tampered");
        assert_eq!(out[0].points, 45);
        assert!(out[0].severity >= Severity::High);
    }
}
