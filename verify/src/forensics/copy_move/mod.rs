//! Copy-move detection: regions copied within the image, also rotated and scaled.
//!
//! Keypoint method after Amerini et al. 2011, with dense verification:
//! 1. the image is turned grey and bounded to a working size ([`features`]);
//! 2. SIFT keypoints (scale- and rotation-invariant) with a low contrast threshold, so flat
//!    regions still get some;
//! 3. the keypoints are matched against each other with the g2NN test ([`matching`]);
//! 4. matched pairs are clustered by where both ends lie, and each cluster gets a RANSAC
//!    similarity/affine fit with at least four inliers ([`geometry`]);
//! 5. each fit is checked densely: the source is warped onto the target and the local
//!    correlation must hold over a real area, which separates clones from genuine look-alikes
//!    ([`dense`]).

mod dense;
mod features;
mod geometry;
mod matching;
mod pyramid;
pub mod residual;
mod sift;

use image::RgbImage;

use crate::deadline::Deadline;
use crate::error::StageError;
use crate::report::{Finding, Region, Severity, Stage};

use dense::{BoxF, DenseParams};
use geometry::{Affine, Pt, RansacParams};

/// Knobs for this stage. Distances are in working-image pixels (after downscaling).
#[derive(Debug, Clone)]
pub struct CopyMoveConfig {
    /// Images are downscaled (never enlarged) to at most this many pixels …
    pub max_pixels: u64,
    /// … and at most this long on either side.
    pub max_side: u32,
    /// Below this on the shorter working side the stage does not apply.
    pub min_side: u32,
    /// SIFT contrast threshold on the 0–1 scale (OpenCV's default 0.04; lower finds
    /// keypoints in flat areas).
    pub contrast_threshold: f32,
    /// Start SIFT from a 2× upsampled image (finer keypoints for small clones; slower).
    pub upsample: bool,
    /// At most this many of the strongest keypoints are matched.
    pub max_keypoints: usize,
    /// g2NN ratio: neighbour k matches while d_k / d_(k+1) is below this.
    pub g2nn_ratio: f32,
    /// Keypoints closer than this are never matched with each other.
    pub min_match_distance: f32,
    /// Pairs whose two ends both lie within this share of the image diagonal join a cluster.
    pub cluster_radius: f64,
    /// RANSAC hypotheses per cluster.
    pub ransac_iterations: usize,
    /// RANSAC inlier tolerance.
    pub ransac_tolerance: f64,
    /// Fewest inliers a fit needs.
    pub min_inliers: usize,
    /// At most this many fits are checked (largest clusters first), which bounds the time
    /// spent on images full of look-alikes.
    pub max_fits: usize,
    /// Largest scale change between copy and original (and its inverse the smallest).
    pub max_scale: f64,
    /// Largest ratio of the two axis scales of an affine fit.
    pub max_anisotropy: f64,
    /// A copy must be moved at least this far.
    pub min_shift: f64,
    /// Confirm each fit densely (warp source onto target, correlate pixel by pixel, reject
    /// periodic structure). Off, every fit with enough inliers counts: the plain keypoint
    /// method, kept as the benchmark's baseline.
    pub dense_verification: bool,
    /// Half-size of the dense correlation window.
    pub zncc_radius: usize,
    /// Local variance (grey levels², after a light blur) below which a pixel is flat.
    pub min_variance: f32,
    /// Local correlation at which a textured pixel counts as copied.
    pub min_zncc: f32,
    /// Share of the textured pixels around the target keypoints that must correlate.
    pub min_support: f64,
    /// Mean local correlation of the fine detail (high-pass) the copied region must reach:
    /// a clone copies the detail too, a look-alike only the shapes.
    pub min_detail_zncc: f64,
    /// Fewest correlated pixels a clone must cover, as a share of the working image …
    pub min_area_share: f64,
    /// … and in absolute working pixels.
    pub min_area_px: usize,
    /// Largest share of the copy's pixels that may lie on its own source (more is a texture
    /// that repeats into itself, not a copy).
    pub max_overlap: f64,
    /// Largest area, relative to the clone, that one more step of the same transform may
    /// still match (more means a periodic structure: windows, fences, tiles).
    pub max_periodic: f64,
    /// The image is a printed document: a same-size, unrotated match must also copy the
    /// paper's noise ([`residual`]) to count as a clone; otherwise it is the same words
    /// printed twice and reported as `repeated_text` (info).
    pub text_document: bool,
    /// Background-residual correlation a clone on a text document must reach.
    pub min_residual_correlation: f32,
}

impl Default for CopyMoveConfig {
    fn default() -> Self {
        CopyMoveConfig {
            max_pixels: 1024 * 768,
            max_side: 2048,
            min_side: 48,
            contrast_threshold: 0.02,
            upsample: true,
            max_keypoints: 4000,
            g2nn_ratio: 0.5,
            min_match_distance: 10.0,
            cluster_radius: 0.06,
            ransac_iterations: 300,
            ransac_tolerance: 3.0,
            min_inliers: 4,
            max_fits: 24,
            max_scale: 3.0,
            max_anisotropy: 2.0,
            min_shift: 16.0,
            dense_verification: true,
            zncc_radius: 3,
            min_variance: 4.0,
            min_zncc: 0.75,
            min_support: 0.5,
            min_detail_zncc: 0.5,
            min_area_share: 0.001,
            min_area_px: 64,
            max_overlap: 0.2,
            max_periodic: 0.3,
            text_document: false,
            min_residual_correlation: 0.45,
        }
    }
}

/// One candidate clone: a fitted transform and what the dense check said about it.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Source box, in pixels of the image passed in.
    pub source: Region,
    /// Target box, in pixels of the image passed in.
    pub target: Region,
    /// Rotation from source to target, degrees, positive = clockwise.
    pub rotation_deg: f64,
    /// Scale from source to target (√|det| of the affine).
    pub scale: f64,
    pub inliers: usize,
    /// Correlated area in working pixels (0 without dense verification).
    pub area: usize,
    /// Share of the textured pixels around the target keypoints that correlate.
    pub support: f64,
    /// Mean local correlation of the fine detail over the region.
    pub detail_zncc: f64,
    /// Area one more step of the transform still matches, relative to `area`.
    pub periodic: f64,
    /// Share of the copy's pixels that lie on its own source.
    pub overlap: f64,
    /// Passed every test.
    pub accepted: bool,
    /// 0–1, from inliers and dense evidence.
    pub confidence: f64,
}

/// Analyse `img`; each located source/target pair comes back as a `copy_move` finding.
pub fn analyze(
    img: &RgbImage,
    cfg: &CopyMoveConfig,
    deadline: &Deadline,
) -> Result<Vec<Finding>, StageError> {
    Ok(detect(img, cfg, deadline)?
        .iter()
        .filter(|c| c.accepted)
        .map(|c| {
            if !cfg.text_document {
                return finding(c);
            }
            if c.rotation_deg.abs() >= 2.0 || (c.scale - 1.0).abs() >= 0.03 {
                // Print at another size or angle (a heading, or perspective in a photo): the
                // same glyphs, not an edit; a cloned line keeps its size.
                return repeated_text(c, residual::ResidualMatch::Indeterminate);
            }
            match residual::residual_match(img, c.source, c.target) {
                residual::ResidualMatch::Correlation(r) if r >= cfg.min_residual_correlation => {
                    finding(c)
                }
                other => repeated_text(c, other),
            }
        })
        .collect())
}

/// A match on a printed document that did not copy the paper's noise: the same words
/// printed twice (e.g. two IMEIs of one phone, which share their first digits).
fn repeated_text(c: &Candidate, evidence: residual::ResidualMatch) -> Finding {
    let why = match evidence {
        residual::ResidualMatch::Correlation(r) => {
            format!("the paper noise differs (correlation {r:.2})")
        }
        residual::ResidualMatch::Indeterminate
            if (c.scale - 1.0).abs() >= 0.03 || c.rotation_deg.abs() >= 2.0 =>
        {
            "it is printed at another size or angle".to_owned()
        }
        residual::ResidualMatch::Indeterminate => "the paper is too clean to compare".to_owned(),
    };
    Finding::new(
        "repeated_text",
        Stage::CopyMove,
        Severity::Info,
        0,
        format!("The same print appears twice on the page; {why}, so it reads as repeated text, not a copied region."),
        "একই লেখা পাতায় দুইবার আছে; কাগজের দানা আলাদা, তাই এটি কপি করা অংশ নয়, পুনরাবৃত্ত লেখা বলে মনে হচ্ছে।",
    )
    .with_regions(vec![c.source, c.target])
}

/// Images the dense check works on.
struct DenseInput {
    /// Lightly smoothed grey image.
    smooth: features::Gray,
    /// Grey minus smoothed: the fine detail.
    detail: features::Gray,
}

/// What the dense check concluded for one fit.
struct Verdict {
    transform: Affine,
    source: BoxF,
    target: BoxF,
    area: usize,
    support: f64,
    detail_zncc: f64,
    periodic: f64,
    /// Share of the copy's pixels that lie on its own source.
    overlap: f64,
}

/// Dense verification of one fit: correlate, refine the transform on the correlated
/// region, correlate again, and test whether the same step repeats (periodic structure).
fn verify_fit(
    inp: &DenseInput,
    fit: &geometry::Fit,
    cfg: &CopyMoveConfig,
    prm: &DenseParams,
) -> Option<Verdict> {
    let plausible = |t: &Affine| t.plausible(cfg.max_scale, cfg.max_anisotropy);
    let (sm, detail) = (&inp.smooth, &inp.detail);
    // Verify `t` around the target ends of `pairs`, then once more after refining it.
    let refined = |t: &Affine, pairs: &[(Pt, Pt)]| -> Option<(Affine, dense::Dense)> {
        let d = dense::verify(sm, detail, t, pairs, prm)?;
        let better = dense::align(sm, t, &d.pixels, 10)
            .filter(plausible)
            .and_then(|t2| Some((t2, dense::verify(sm, detail, &t2, pairs, prm)?)))
            .filter(|(_, d2)| d2.area >= d.area / 2);
        Some(better.unwrap_or((*t, d)))
    };
    let (t, d) = refined(&fit.transform, &fit.inliers)?;
    // One more step forward from the target, and one back from the source.
    let step_area = |pairs: Vec<(Pt, Pt)>| {
        refined(&t, &pairs)
            .filter(|(_, p)| p.support >= cfg.min_support)
            .map_or(0, |(_, p)| p.area)
    };
    let fwd: Vec<(Pt, Pt)> = fit.inliers.iter().map(|&(_, q)| (q, t.apply(q))).collect();
    let bwd: Vec<(Pt, Pt)> = t.inverse().map_or_else(Vec::new, |inv| {
        fit.inliers
            .iter()
            .map(|&(p, _)| (inv.apply(p), p))
            .collect()
    });
    let repeat = step_area(fwd).max(step_area(bwd));
    // Pixels of the copy that lie on its own source.
    let (w, h) = (sm.w, sm.h);
    let mut src_mask = vec![false; w * h];
    let inv = t.inverse()?;
    for &x in &d.pixels {
        let s = inv.apply(x);
        for (sx, sy) in [
            (s.0.floor(), s.1.floor()),
            (s.0.ceil(), s.1.ceil()),
            (s.0.floor(), s.1.ceil()),
            (s.0.ceil(), s.1.floor()),
        ] {
            if sx >= 0.0 && sy >= 0.0 && (sx as usize) < w && (sy as usize) < h {
                src_mask[sy as usize * w + sx as usize] = true;
            }
        }
    }
    let on_source = d
        .pixels
        .iter()
        .filter(|p| src_mask[p.1 as usize * w + p.0 as usize])
        .count();
    Some(Verdict {
        overlap: on_source as f64 / d.pixels.len().max(1) as f64,

        transform: t,
        source: d.source,
        target: d.target,
        area: d.area,
        support: d.support,
        detail_zncc: d.detail_local,
        periodic: repeat as f64 / d.area.max(1) as f64,
    })
}

/// Every candidate clone, accepted or not (for the benchmark and tests); accepted ones are
/// merged so that one clone is reported once.
pub fn detect(
    img: &RgbImage,
    cfg: &CopyMoveConfig,
    deadline: &Deadline,
) -> Result<Vec<Candidate>, StageError> {
    let scale = features::working_scale(img.width(), img.height(), cfg.max_pixels, cfg.max_side);
    let short = f64::from(img.width().min(img.height())) * scale;
    if short < f64::from(cfg.min_side) {
        return Err(StageError::NotApplicable(
            "image too small for copy-move analysis",
        ));
    }
    let gray = features::working_gray(img, scale);
    deadline.check()?;
    let feats = sift::detect_and_describe(
        &gray.px,
        gray.w,
        gray.h,
        &sift::SiftParams {
            n_layers: 3,
            sigma: 1.6,
            contrast_threshold: cfg.contrast_threshold,
            edge_threshold: 10.0,
            upsample: cfg.upsample,
            max_keypoints: cfg.max_keypoints,
        },
    );
    deadline.check()?;
    let pairs = matching::g2nn(&feats, cfg.g2nn_ratio, cfg.min_match_distance, deadline)?;
    let pts: Vec<(Pt, Pt)> = pairs
        .iter()
        .map(|&(i, j)| {
            let (a, b) = (feats.keypoints[i], feats.keypoints[j]);
            (
                (f64::from(a.x), f64::from(a.y)),
                (f64::from(b.x), f64::from(b.y)),
            )
        })
        .collect();
    let diag = ((gray.w * gray.w + gray.h * gray.h) as f64).sqrt();
    let groups = geometry::cluster(&pts, (cfg.cluster_radius * diag).max(16.0), deadline)?;
    let prm = RansacParams {
        iterations: cfg.ransac_iterations,
        tolerance: cfg.ransac_tolerance,
        min_inliers: cfg.min_inliers,
        max_scale: cfg.max_scale,
        max_anisotropy: cfg.max_anisotropy,
        min_shift: cfg.min_shift,
    };
    let dprm = DenseParams {
        radius: cfg.zncc_radius,
        min_variance: cfg.min_variance,
        min_zncc: cfg.min_zncc,
        min_shift: cfg.min_shift,
    };
    let dense_input = cfg.dense_verification.then(|| {
        let smooth = gray.smoothed();
        let detail = features::Gray {
            w: gray.w,
            h: gray.h,
            px: gray.px.iter().zip(&smooth.px).map(|(a, b)| a - b).collect(),
        };
        DenseInput { smooth, detail }
    });
    let min_area = ((gray.w * gray.h) as f64 * cfg.min_area_share).max(cfg.min_area_px as f64);
    let to_full = 1.0 / scale;
    let (fw, fh) = (img.width(), img.height());

    // Largest clusters first; the work is bounded by `max_fits`.
    let mut order: Vec<usize> = (0..groups.len())
        .filter(|&g| groups[g].len() >= cfg.min_inliers)
        .collect();
    order.sort_by_key(|&g| std::cmp::Reverse(groups[g].len()));
    let mut fits = 0usize;
    let mut found: Vec<(Candidate, BoxF, BoxF)> = Vec::new();
    for g in order {
        let group = &groups[g];
        if fits >= cfg.max_fits {
            break;
        }
        let mut rest: Vec<(Pt, Pt)> = group
            .iter()
            .map(|&(i, flip)| if flip { (pts[i].1, pts[i].0) } else { pts[i] })
            .collect();
        // Sequential RANSAC: a cluster may hold more than one clone.
        for round in 0..3u64 {
            deadline.check()?;
            let Some(fit) = geometry::ransac(&rest, &prm, ((g as u64) << 8) | round) else {
                break;
            };
            fits += 1;
            rest.retain(|pq| {
                !fit.inliers
                    .iter()
                    .any(|io| (io.0 == pq.0 && io.1 == pq.1) || (io.0 == pq.1 && io.1 == pq.0))
            });
            let v = match &dense_input {
                Some(inp) => verify_fit(inp, &fit, cfg, &dprm),
                None => {
                    let (mut s, mut t) = (BoxF::empty(), BoxF::empty());
                    for &(p, q) in &fit.inliers {
                        s.add(p);
                        t.add(q);
                    }
                    Some(Verdict {
                        transform: fit.transform,
                        source: s,
                        target: t,
                        area: 0,
                        support: 0.0,
                        detail_zncc: 0.0,
                        periodic: 0.0,
                        overlap: 0.0,
                    })
                }
            };
            if let Some(v) = v {
                let overlap = v.overlap;
                let accepted = !cfg.dense_verification
                    || (v.support >= cfg.min_support
                        && v.area as f64 >= min_area
                        && v.detail_zncc >= cfg.min_detail_zncc
                        && v.periodic <= cfg.max_periodic
                        && overlap <= cfg.max_overlap);
                let (t, sbox, tbox) = orient(v.transform, v.source, v.target);
                let inliers = fit.inliers.len();
                found.push((
                    Candidate {
                        source: to_region(&sbox, to_full, fw, fh),
                        target: to_region(&tbox, to_full, fw, fh),
                        rotation_deg: t.rotation_deg(),
                        scale: t.scale(),
                        inliers,
                        area: v.area,
                        support: v.support,
                        detail_zncc: v.detail_zncc,
                        periodic: v.periodic,
                        overlap,
                        accepted,
                        confidence: confidence(inliers, &v, cfg.dense_verification),
                    },
                    sbox,
                    tbox,
                ));
            }
            if rest.len() < cfg.min_inliers || fits >= cfg.max_fits {
                break;
            }
        }
    }
    Ok(merge(found))
}

/// Report a clone from the smaller to the larger copy (the usual edit enlarges), or left to
/// right when sizes match.
fn orient(t: Affine, s: BoxF, d: BoxF) -> (Affine, BoxF, BoxF) {
    let scale = t.scale();
    let swap = if (scale - 1.0).abs() > 0.03 {
        scale < 1.0
    } else {
        let (cs, cd) = (s.centre(), d.centre());
        (cs.0, cs.1) > (cd.0, cd.1)
    };
    match (swap, t.inverse()) {
        (true, Some(inv)) => (inv, d, s),
        _ => (t, s, d),
    }
}

fn confidence(inliers: usize, v: &Verdict, dense: bool) -> f64 {
    let by_inliers = ((inliers as f64 - 4.0) / 16.0).clamp(0.0, 1.0);
    if dense {
        let by_support = ((v.support - 0.5) / 0.4).clamp(0.0, 1.0);
        let by_detail = ((v.detail_zncc - 0.5) / 0.3).clamp(0.0, 1.0);
        (by_inliers + by_support + by_detail) / 3.0
    } else {
        by_inliers
    }
}

fn to_region(b: &BoxF, k: f64, w: u32, h: u32) -> Region {
    if b.is_empty() {
        return Region::new(0, 0, 0, 0);
    }
    let x0 = ((b.x0 * k).floor().max(0.0) as u32).min(w);
    let y0 = ((b.y0 * k).floor().max(0.0) as u32).min(h);
    let x1 = ((b.x1 * k).ceil().max(0.0) as u32).min(w);
    let y1 = ((b.y1 * k).ceil().max(0.0) as u32).min(h);
    Region::new(x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0))
}

/// Whether two boxes mostly cover each other (half of the smaller one).
fn same_place(a: &BoxF, b: &BoxF) -> bool {
    let small = a.area().min(b.area());
    small > 0.0 && a.intersection(b) >= 0.5 * small
}

/// Drop accepted candidates that repeat a stronger one (same pair of places, either way).
fn merge(mut found: Vec<(Candidate, BoxF, BoxF)>) -> Vec<Candidate> {
    found.sort_by(|a, b| {
        b.0.accepted
            .cmp(&a.0.accepted)
            .then(b.0.area.cmp(&a.0.area))
            .then(b.0.inliers.cmp(&a.0.inliers))
    });
    let mut kept: Vec<(Candidate, BoxF, BoxF)> = Vec::new();
    for (c, s, t) in found {
        let dup = c.accepted
            && kept.iter().any(|(k, ks, kt)| {
                k.accepted
                    && ((same_place(&s, ks) && same_place(&t, kt))
                        || (same_place(&s, kt) && same_place(&t, ks)))
            });
        if !dup {
            kept.push((c, s, t));
        }
    }
    kept.into_iter().map(|(c, _, _)| c).collect()
}

/// Digits in Bengali script.
fn bn_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(0x09E6 + d).unwrap_or(c),
            None => c,
        })
        .collect()
}

fn finding(c: &Candidate) -> Finding {
    let centre = |r: &Region| (r.x + r.w / 2, r.y + r.h / 2);
    let (s, t) = (centre(&c.source), centre(&c.target));
    let mut en = format!(
        "A region appears copied from ({}, {}) to ({}, {})",
        s.0, s.1, t.0, t.1
    );
    let mut bn = format!(
        "ছবির ({}, {}) জায়গার একটি অংশ ({}, {}) জায়গায় কপি করে বসানো হয়েছে বলে মনে হচ্ছে",
        s.0, s.1, t.0, t.1
    );
    let rot = c.rotation_deg.round();
    if rot.abs() >= 3.0 {
        let (en_dir, bn_dir) = if rot > 0.0 {
            ("clockwise", "ঘড়ির কাঁটার দিকে")
        } else {
            ("anticlockwise", "ঘড়ির কাঁটার উল্টো দিকে")
        };
        en.push_str(&format!(", rotated {}° {en_dir}", rot.abs()));
        bn.push_str(&format!(", {bn_dir} {}° ঘুরিয়ে", rot.abs()));
    }
    if (c.scale - 1.0).abs() >= 0.05 {
        en.push_str(&format!(", scaled {:.1}×", c.scale));
        if c.scale > 1.0 {
            bn.push_str(&format!(", {:.1} গুণ বড় করে", c.scale));
        } else {
            bn.push_str(&format!(", {:.1} গুণ ছোট করে", 1.0 / c.scale));
        }
    }
    en.push_str(". Check both places for duplicated content.");
    bn.push_str("। দুটি জায়গাই মিলিয়ে দেখুন।");
    let points = 40 + (20.0 * c.confidence).round() as u32;
    let severity = if c.confidence >= 0.5 {
        Severity::Critical
    } else {
        Severity::High
    };
    Finding::new(
        "copy_move",
        Stage::CopyMove,
        severity,
        points.min(60),
        en,
        bn_digits(&bn),
    )
    .with_regions(vec![c.source, c.target])
}
