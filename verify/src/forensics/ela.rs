//! Error level analysis: recompress once at a fixed quality and look for regions whose error is
//! out of line with what the same recompression does to the rest of the image's texture.
//!
//! Plain ELA brightness follows content (edges, text, fine texture light up in clean images), so
//! the error of each block is compared with the error that blocks of the *same texture energy*
//! show elsewhere in the image. Only blocks far above that expectation, in connected groups of a
//! useful size, become a finding, and the points stay modest: ELA corroborates, it does not decide.

use image::RgbImage;

use crate::deadline::Deadline;
use crate::error::StageError;
use crate::report::{Finding, Region, Severity, Stage};

use crate::forensics::blockmap::{components, median_mad, scaled_points, BlockMap, Plane};

/// Knobs for this stage.
#[derive(Debug, Clone)]
pub struct ElaConfig {
    /// JPEG quality of the recompression.
    pub quality: u8,
    /// Side of the analysis cells in pixels (a multiple of 8 keeps cells on the JPEG grid).
    pub block: u32,
    /// Images above this many pixels are box-downscaled first (keeps the stage fast; a
    /// downscaled JPEG loses most of its compression traces, so this errs towards silence).
    pub max_pixels: u64,
    /// Robust z-score (over the texture-corrected error) a cell needs to be flagged.
    pub z_threshold: f32,
    /// Mean absolute error (grey levels) a cell needs, whatever its z-score.
    pub min_error: f32,
    /// A flagged group needs at least this many cells.
    pub min_cells: usize,
    /// When more than this share of the cells is flagged the image is uniformly "hot" and ELA
    /// says nothing about a region.
    pub max_flagged_share: f32,
    /// Most points a finding from this stage can carry.
    pub max_points: u32,
}

impl Default for ElaConfig {
    fn default() -> Self {
        ElaConfig {
            quality: 90,
            block: 16,
            max_pixels: 4_000_000,
            z_threshold: 4.0,
            min_error: 1.0,
            min_cells: 10,
            max_flagged_share: 0.25,
            max_points: 20,
        }
    }
}

/// Per-cell ELA statistics, exposed to the crate for tests and tools.
#[derive(Debug, Clone)]
pub(crate) struct ElaMaps {
    /// Mean absolute recompression error per cell.
    pub error: BlockMap,
    /// Robust z-score of the texture-corrected error (smoothed over 3×3 cells).
    pub z: BlockMap,
    /// Downscale factor applied before analysis (1 = none).
    pub scale: u32,
}

/// Analyse `img`; located regions come back as findings.
pub fn analyze(
    img: &RgbImage,
    cfg: &ElaConfig,
    deadline: &Deadline,
) -> Result<Vec<Finding>, StageError> {
    let block = cfg.block.max(8) as usize;
    if (img.width() as usize) < block * 4 || (img.height() as usize) < block * 4 {
        return Err(StageError::NotApplicable(
            "image too small for error level analysis",
        ));
    }
    let maps = ela_maps(img, cfg, deadline)?;
    deadline.check()?;
    Ok(findings_from(&maps, img, cfg))
}

/// Compute the per-cell maps.
pub(crate) fn ela_maps(
    img: &RgbImage,
    cfg: &ElaConfig,
    deadline: &Deadline,
) -> Result<ElaMaps, StageError> {
    let block = cfg.block.max(8) as usize;
    let pixels = u64::from(img.width()) * u64::from(img.height());
    let scale = if pixels > cfg.max_pixels.max(1) {
        (pixels as f64 / cfg.max_pixels.max(1) as f64).sqrt().ceil() as u32
    } else {
        1
    };
    let small;
    let work = if scale > 1 {
        small = image::imageops::thumbnail(img, img.width() / scale, img.height() / scale);
        &small
    } else {
        img
    };

    let recompressed = recompress(work, cfg.quality)?;
    deadline.check()?;

    // Error plane: largest channel difference per pixel.
    let (w, h) = (work.width() as usize, work.height() as usize);
    let mut diff = Plane {
        w,
        h,
        data: Vec::with_capacity(w * h),
    };
    for (a, b) in work.pixels().zip(recompressed.pixels()) {
        let d = (0..3)
            .map(|c| (i16::from(a[c]) - i16::from(b[c])).unsigned_abs())
            .max()
            .unwrap_or(0);
        diff.data.push(f32::from(d));
    }
    let error = BlockMap::mean_of(&diff, block);
    deadline.check()?;

    // Texture plane: absolute luma residual after a 3×3 mean, the fine detail that a JPEG
    // quantiser removes.
    let texture = BlockMap::mean_of(&high_pass(&Plane::luma(work)), block);
    deadline.check()?;

    let residual = texture_corrected(&error, &texture);
    let smooth = residual.smoothed();
    let (med, mad) = median_mad(&smooth.values);
    let spread = mad.max(0.15);
    let mut z = smooth;
    for v in &mut z.values {
        *v = (*v - med) / spread;
    }
    Ok(ElaMaps { error, z, scale })
}

/// Recompress `img` as JPEG at `quality` with `image`'s encoder and decode it again.
fn recompress(img: &RgbImage, quality: u8) -> Result<RgbImage, StageError> {
    let mut buf = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, quality.clamp(1, 100))
        .encode_image(img)
        .map_err(|e| StageError::Failed(format!("jpeg recompression: {e}")))?;
    let decoded = image::load_from_memory_with_format(&buf, image::ImageFormat::Jpeg)
        .map_err(|e| StageError::Failed(format!("decoding the recompressed jpeg: {e}")))?
        .to_rgb8();
    if decoded.dimensions() != img.dimensions() {
        return Err(StageError::Failed(
            "recompressed image changed size".to_owned(),
        ));
    }
    Ok(decoded)
}

/// |p − mean of its 3×3 neighbourhood| (0 on the one-pixel border).
pub(crate) fn high_pass(p: &Plane) -> Plane {
    let (w, h) = (p.w, p.h);
    let mut out = Plane {
        w,
        h,
        data: vec![0.0; w * h],
    };
    if w < 3 || h < 3 {
        return out;
    }
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let mut s = 0.0;
            for row in [y - 1, y, y + 1] {
                let r = &p.data[row * w + x - 1..row * w + x + 2];
                s += r[0] + r[1] + r[2];
            }
            out.data[y * w + x] = (p.at(x, y) - s / 9.0).abs();
        }
    }
    out
}

/// ln(error) minus the ln(error) that cells of the same texture energy show in this image.
fn texture_corrected(error: &BlockMap, texture: &BlockMap) -> BlockMap {
    let log_e: Vec<f32> = error.values.iter().map(|e| (e + 0.25).ln()).collect();
    let mut out = BlockMap::new(error.bw, error.bh, error.block);
    out.values = crate::forensics::blockmap::residual_by_bins(&log_e, &texture.values, None);
    out
}

fn findings_from(maps: &ElaMaps, img: &RgbImage, cfg: &ElaConfig) -> Vec<Finding> {
    let z = &maps.z;
    let (med_err, _) = median_mad(&maps.error.values);
    let mask: Vec<bool> = z
        .values
        .iter()
        .zip(&maps.error.values)
        .map(|(&zv, &e)| zv >= cfg.z_threshold && e >= cfg.min_error && e >= 1.5 * med_err)
        .collect();
    let flagged = mask.iter().filter(|&&m| m).count();
    if flagged == 0 || flagged as f32 > cfg.max_flagged_share * mask.len() as f32 {
        return Vec::new();
    }
    let mut groups: Vec<(f32, Region)> = components(&mask, z.bw, z.bh)
        .into_iter()
        .filter(|c| c.cells.len() >= cfg.min_cells)
        .map(|c| {
            let block = z.block * maps.scale as usize;
            (
                c.mean(&z.values),
                c.region(block, img.width(), img.height()),
            )
        })
        .collect();
    if groups.is_empty() {
        return Vec::new();
    }
    groups.sort_by(|a, b| b.0.total_cmp(&a.0));
    groups.truncate(5);
    let top = groups[0].0;
    // Strength 0 at the threshold, 1 at three times it.
    let strength = (top - cfg.z_threshold) / (2.0 * cfg.z_threshold);
    let points = scaled_points(strength, 6, cfg.max_points);
    let severity = if strength >= 0.5 {
        Severity::Medium
    } else {
        Severity::Low
    };
    let n = groups.len();
    let (en, bn) = if n == 1 {
        (
            "One area reacts to recompression much more strongly than the rest of the picture \
             (error level analysis). It may have been pasted in or edited after the photo was \
             taken; compare it with the original."
                .to_owned(),
            "ছবির একটি অংশ পুনরায় সংকোচনে বাকি ছবির তুলনায় অনেক বেশি পরিবর্তিত হয় (এরর লেভেল \
             বিশ্লেষণ)। অংশটি পরে বসানো বা সম্পাদনা করা হয়ে থাকতে পারে; মূল কাগজের সঙ্গে মিলিয়ে দেখুন।"
                .to_owned(),
        )
    } else {
        (
            format!(
                "{n} areas react to recompression much more strongly than the rest of the \
                 picture (error level analysis). They may have been pasted in or edited after \
                 the photo was taken; compare them with the original."
            ),
            format!(
                "ছবির {n}টি অংশ পুনরায় সংকোচনে বাকি ছবির তুলনায় অনেক বেশি পরিবর্তিত হয় (এরর লেভেল \
                 বিশ্লেষণ)। অংশগুলো পরে বসানো বা সম্পাদনা করা হয়ে থাকতে পারে; মূল কাগজের সঙ্গে মিলিয়ে দেখুন।"
            ),
        )
    };
    vec![Finding::new("ela", Stage::Ela, severity, points, en, bn)
        .with_regions(groups.into_iter().map(|(_, r)| r).collect())]
}
