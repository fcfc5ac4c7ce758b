//! Round thana seal and handwritten signature detection on the rectified page image.
//!
//! Both work on a copy of the page scaled to [`SealConfig::work_width`] and on ink masks made
//! relative to the local paper colour (a coarse grid of bright-percentile paper samples,
//! interpolated), so uneven light and a colour cast do not read as ink:
//!
//! * **Seal**: stamp ink is saturated (purple, blue, red, green) where printed text is black.
//!   The coloured mask is dilated and split into connected groups; each group of plausible
//!   size seeds a circle (Kåsa least-squares fit to the outermost ink point in each of 72
//!   angular bins, iterated), and the circle is judged on *all* coloured ink near it, so a
//!   stamp broken into arcs by fading still counts: `coverage` (share of bins whose outermost
//!   ink lies on the circle) and `spread` (median radial deviation / radius, small for a ring,
//!   large for a rectangle or a scribble).
//! * **Signature**: dark or coloured ink components that are wider than tall, thin-stroked,
//!   sparse, not made of long straight runs (table rules, the headline of Bengali print), not
//!   read as confident OCR words and not sitting on a baseline with neighbours like text.

use image::{GrayImage, Luma, RgbImage};
use imageproc::distance_transform::Norm;
use imageproc::region_labelling::{connected_components, Connectivity};

use crate::deadline::Deadline;
use crate::error::StageError;
use crate::report::Region;

/// Tuning of seal and signature detection. Fractions are of the page width.
#[derive(Debug, Clone, PartialEq)]
pub struct SealConfig {
    /// Width of the working copy in pixels (smaller pages are used as they are).
    pub work_width: u32,
    /// Least chroma (0–255, after dividing by the paper colour) of stamp ink.
    pub min_chroma: f32,
    /// A faded or thinly inked stamp, blurred in a photo, can stay under `min_chroma`
    /// everywhere. When no seal is found, the search runs again on the chroma averaged over
    /// 3×3 pixels (sensor noise averages out, a stamp's colour stays) above this many times
    /// the page's own chroma noise (its 99th percentile) and at least `min_faint_chroma`.
    pub faint_noise_factor: f32,
    pub min_faint_chroma: f32,
    /// Seal diameter range.
    pub min_diameter: f32,
    pub max_diameter: f32,
    /// Least share of angular bins whose outermost ink lies on the circle.
    pub min_coverage: f32,
    /// Most median radial deviation of the outermost ink, relative to the radius.
    pub max_spread: f32,
    /// Least seal score (coverage weighed by roundness).
    pub min_seal_score: f32,
    /// Ring search (when the outermost ink does not fit a circle): least share of angular bins
    /// with ink on the ring, and most share with ink just outside it.
    pub min_ring_presence: f32,
    pub max_ring_clutter: f32,
    /// Signature block size range (width; height is checked against `max_signature_height`).
    pub min_signature_width: f32,
    pub max_signature_width: f32,
    pub max_signature_height: f32,
    /// Least signature score.
    pub min_signature_score: f32,
}

impl Default for SealConfig {
    fn default() -> Self {
        SealConfig {
            work_width: 1000,
            min_chroma: 30.0,
            faint_noise_factor: 1.75,
            min_faint_chroma: 14.0,
            min_diameter: 0.06,
            max_diameter: 0.35,
            min_coverage: 0.45,
            max_spread: 0.06,
            min_seal_score: 0.35,
            min_ring_presence: 0.55,
            max_ring_clutter: 0.25,
            min_signature_width: 0.05,
            max_signature_width: 0.5,
            max_signature_height: 0.2,
            min_signature_score: 0.45,
        }
    }
}

/// A round seal found on the page (page coordinates).
#[derive(Debug, Clone, PartialEq)]
pub struct SealCandidate {
    pub cx: f32,
    pub cy: f32,
    pub radius: f32,
    pub region: Region,
    /// Share of angular bins whose outermost ink lies on the circle, 0–1.
    pub coverage: f32,
    /// Median radial deviation of the outermost ink / radius.
    pub spread: f32,
    /// 0–1.
    pub score: f32,
}

/// A handwriting-like ink block (page coordinates).
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureCandidate {
    pub region: Region,
    /// 0–1.
    pub score: f32,
}

/// Ink masks of the working copy (255 = ink).
#[derive(Debug, Clone)]
pub struct InkMasks {
    /// Page pixels per working pixel.
    pub scale: f32,
    /// Saturated (stamp / ballpoint) ink.
    pub colour: GrayImage,
    /// Faintly coloured ink: see [`SealConfig::faint_noise_factor`]. Holds `colour`'s ink too.
    pub faint: GrayImage,
    /// Dark ink of any colour.
    pub dark: GrayImage,
    /// Hue of coloured ink, 0–255 for 0–360°, after dividing by the paper colour.
    pub hue: GrayImage,
    /// Brightness after dividing by the paper colour (255 = paper).
    pub lum: GrayImage,
}

/// Scale the page to the working width and make the colour and dark ink masks.
pub fn ink_masks(page: &RgbImage, cfg: &SealConfig) -> InkMasks {
    let (w, h) = page.dimensions();
    let target = cfg.work_width.max(64);
    let (work, scale) = if w > target {
        let nh = ((u64::from(h) * u64::from(target)) / u64::from(w.max(1))).max(1) as u32;
        (
            image::imageops::resize(page, target, nh, image::imageops::FilterType::Triangle),
            w as f32 / target as f32,
        )
    } else {
        (page.clone(), 1.0)
    };
    let paper = PaperModel::estimate(&work);
    let (ww, wh) = work.dimensions();
    let mut colour = GrayImage::new(ww, wh);
    let mut dark = GrayImage::new(ww, wh);
    let mut hue = GrayImage::new(ww, wh);
    let mut lum_img = GrayImage::new(ww, wh);
    let mut norm = RgbImage::new(ww, wh);
    for (x, y, p) in work.enumerate_pixels() {
        let bg = paper.at(x, y);
        let c: [f32; 3] =
            std::array::from_fn(|k| (f32::from(p.0[k]) * 255.0 / bg[k].max(1.0)).min(255.0));
        norm.put_pixel(x, y, image::Rgb(c.map(|v| v as u8)));
        let max = c[0].max(c[1]).max(c[2]);
        let min = c[0].min(c[1]).min(c[2]);
        let lum = (c[0] + c[1] + c[2]) / 3.0;
        lum_img.put_pixel(x, y, Luma([lum.clamp(0.0, 255.0) as u8]));
        if max - min >= cfg.min_chroma && min < 230.0 {
            colour.put_pixel(x, y, Luma([255]));
            hue.put_pixel(x, y, Luma([hue_byte(c)]));
        }
        if lum < 150.0 || (max - min >= cfg.min_chroma && lum < 200.0) {
            dark.put_pixel(x, y, Luma([255]));
        }
    }
    let faint = faint_mask(&norm, &colour, &mut hue, cfg);
    InkMasks {
        scale,
        colour,
        faint,
        dark,
        hue,
        lum: lum_img,
    }
}

/// The faint-ink mask of the paper-normalised working copy `norm` (see
/// [`SealConfig::faint_noise_factor`]): `colour`'s ink and every pixel whose 3×3 mean colour is
/// as saturated as the threshold and not paper-white, and itself at least half as saturated
/// (the blurred halo round a strongly coloured pen stroke is not faint ink); `hue` gets the hue
/// of the pixels added.
fn faint_mask(
    norm: &RgbImage,
    colour: &GrayImage,
    hue: &mut GrayImage,
    cfg: &SealConfig,
) -> GrayImage {
    let (w, h) = norm.dimensions();
    let smooth: [GrayImage; 3] = std::array::from_fn(|k| {
        let chan = GrayImage::from_fn(w, h, |x, y| Luma([norm.get_pixel(x, y).0[k]]));
        imageproc::filter::box_filter(&chan, 1, 1)
    });
    let at = |x: u32, y: u32| -> [f32; 3] {
        std::array::from_fn(|k| f32::from(smooth[k].get_pixel(x, y).0[0]))
    };
    let mut hist = [0u64; 256];
    for y in 0..h {
        for x in 0..w {
            let c = at(x, y);
            let chroma = c[0].max(c[1]).max(c[2]) - c[0].min(c[1]).min(c[2]);
            hist[(chroma as usize).min(255)] += 1;
        }
    }
    let total: u64 = hist.iter().sum();
    let mut acc = 0u64;
    let mut noise = 255.0f32;
    for (v, &n) in hist.iter().enumerate() {
        acc += n;
        if acc * 100 >= total * 99 {
            noise = v as f32;
            break;
        }
    }
    let threshold = (cfg.faint_noise_factor * noise).max(cfg.min_faint_chroma);
    let mut faint = colour.clone();
    if threshold >= cfg.min_chroma {
        return faint;
    }
    for y in 0..h {
        for x in 0..w {
            let c = at(x, y);
            let (max, min) = (c[0].max(c[1]).max(c[2]), c[0].min(c[1]).min(c[2]));
            let own = norm.get_pixel(x, y).0;
            let own_chroma =
                own.iter().max().copied().unwrap_or(0) - own.iter().min().copied().unwrap_or(0);
            if max - min >= threshold
                && min < 235.0
                && f32::from(own_chroma) >= 0.5 * threshold
                && colour.get_pixel(x, y).0[0] == 0
            {
                faint.put_pixel(x, y, Luma([255]));
                hue.put_pixel(x, y, Luma([hue_byte(c)]));
            }
        }
    }
    faint
}

/// Hue of an RGB colour as 0–255 for 0–360°.
fn hue_byte(c: [f32; 3]) -> u8 {
    let [r, g, b] = c;
    let max = r.max(g).max(b);
    let d = max - r.min(g).min(b);
    if d <= 0.0 {
        return 0;
    }
    let h = if max == r {
        ((g - b) / d).rem_euclid(6.0)
    } else if max == g {
        (b - r) / d + 2.0
    } else {
        (r - g) / d + 4.0
    };
    ((h / 6.0 * 256.0) as u32).min(255) as u8
}

/// Distance between two hue bytes on the colour circle (0–128).
fn hue_distance(a: u8, b: u8) -> u16 {
    let d = u16::from(a.abs_diff(b));
    d.min(256 - d)
}

/// Paper colour over the page: bright-percentile colour per grid cell, the brightest of each
/// cell's 3×3 neighbourhood (so ink-heavy cells borrow from their neighbours), interpolated.
#[derive(Debug)]
struct PaperModel {
    cell: u32,
    cols: u32,
    rows: u32,
    colours: Vec<[f32; 3]>,
}

impl PaperModel {
    fn estimate(img: &RgbImage) -> PaperModel {
        let (w, h) = img.dimensions();
        let cell = (w.max(h) / 24).max(16);
        let cols = w.div_ceil(cell).max(1);
        let rows = h.div_ceil(cell).max(1);
        let mut raw = vec![[245.0f32; 3]; (cols * rows) as usize];
        for r in 0..rows {
            for c in 0..cols {
                let (x0, y0) = (c * cell, r * cell);
                let (x1, y1) = ((x0 + cell).min(w), (y0 + cell).min(h));
                let mut hist = [0u32; 256];
                for y in y0..y1 {
                    for x in x0..x1 {
                        hist[luma(img.get_pixel(x, y)) as usize] += 1;
                    }
                }
                let n: u32 = hist.iter().sum();
                if n == 0 {
                    continue;
                }
                // The 90th percentile of brightness and the mean colour above it.
                let mut acc = 0;
                let mut cut = 255usize;
                for (v, &k) in hist.iter().enumerate().rev() {
                    acc += k;
                    if acc * 10 >= n {
                        cut = v;
                        break;
                    }
                }
                let mut sum = [0.0f32; 3];
                let mut m = 0.0f32;
                for y in y0..y1 {
                    for x in x0..x1 {
                        let p = img.get_pixel(x, y);
                        if luma(p) as usize >= cut {
                            for (acc, &v) in sum.iter_mut().zip(&p.0) {
                                *acc += f32::from(v);
                            }
                            m += 1.0;
                        }
                    }
                }
                if m > 0.0 {
                    if let Some(slot) = raw.get_mut((r * cols + c) as usize) {
                        *slot = sum.map(|s| s / m);
                    }
                }
            }
        }
        let bright = |c: &[f32; 3]| c[0] + c[1] + c[2];
        let mut colours = raw.clone();
        for r in 0..rows {
            for c in 0..cols {
                let mut best = raw
                    .get((r * cols + c) as usize)
                    .copied()
                    .unwrap_or([245.0; 3]);
                for dr in -1i64..=1 {
                    for dc in -1i64..=1 {
                        let (rr, cc) = (i64::from(r) + dr, i64::from(c) + dc);
                        if rr < 0 || cc < 0 || rr >= i64::from(rows) || cc >= i64::from(cols) {
                            continue;
                        }
                        if let Some(v) = raw.get((rr * i64::from(cols) + cc) as usize) {
                            if bright(v) > bright(&best) {
                                best = *v;
                            }
                        }
                    }
                }
                if let Some(slot) = colours.get_mut((r * cols + c) as usize) {
                    *slot = best;
                }
            }
        }
        PaperModel {
            cell,
            cols,
            rows,
            colours,
        }
    }

    /// Bilinear interpolation between cell centres.
    fn at(&self, x: u32, y: u32) -> [f32; 3] {
        let fx = ((x as f32 + 0.5) / self.cell as f32 - 0.5).clamp(0.0, (self.cols - 1) as f32);
        let fy = ((y as f32 + 0.5) / self.cell as f32 - 0.5).clamp(0.0, (self.rows - 1) as f32);
        let (c0, r0) = (fx.floor() as u32, fy.floor() as u32);
        let (c1, r1) = ((c0 + 1).min(self.cols - 1), (r0 + 1).min(self.rows - 1));
        let (tx, ty) = (fx - c0 as f32, fy - r0 as f32);
        let get = |c: u32, r: u32| {
            self.colours
                .get((r * self.cols + c) as usize)
                .copied()
                .unwrap_or([245.0; 3])
        };
        let (a, b, c, d) = (get(c0, r0), get(c1, r0), get(c0, r1), get(c1, r1));
        std::array::from_fn(|k| {
            (a[k] * (1.0 - tx) + b[k] * tx) * (1.0 - ty) + (c[k] * (1.0 - tx) + d[k] * tx) * ty
        })
    }
}

fn luma(p: &image::Rgb<u8>) -> u8 {
    ((u32::from(p.0[0]) * 77 + u32::from(p.0[1]) * 150 + u32::from(p.0[2]) * 29) >> 8) as u8
}

/// A labelled image (0 = background).
type Labels = image::ImageBuffer<Luma<u32>, Vec<u32>>;

/// Bounding box and pixel count of each label of a labelled image (index = label).
#[derive(Debug, Clone, Copy)]
struct Blob {
    x0: u32,
    y0: u32,
    x1: u32,
    y1: u32,
    n: u32,
}

fn blobs(labels: &Labels) -> Vec<Blob> {
    let mut out: Vec<Blob> = Vec::new();
    for (x, y, l) in labels.enumerate_pixels() {
        let l = l.0[0] as usize;
        if l == 0 {
            continue;
        }
        if out.len() <= l {
            out.resize(
                l + 1,
                Blob {
                    x0: u32::MAX,
                    y0: u32::MAX,
                    x1: 0,
                    y1: 0,
                    n: 0,
                },
            );
        }
        if let Some(b) = out.get_mut(l) {
            b.x0 = b.x0.min(x);
            b.y0 = b.y0.min(y);
            b.x1 = b.x1.max(x);
            b.y1 = b.y1.max(y);
            b.n += 1;
        }
    }
    out
}

const BINS: usize = 72;

/// Round seals on the page, best first.
pub fn find_seals(
    page: &RgbImage,
    cfg: &SealConfig,
    deadline: &Deadline,
) -> Result<Vec<SealCandidate>, StageError> {
    let masks = ink_masks(page, cfg);
    find_seals_in(&masks, cfg, deadline)
}

/// [`find_seals`] on masks already made.
pub fn find_seals_in(
    masks: &InkMasks,
    cfg: &SealConfig,
    deadline: &Deadline,
) -> Result<Vec<SealCandidate>, StageError> {
    let mut found = seals_on(&masks.colour, cfg, deadline)?;
    if found.is_empty() {
        found = seals_on(&masks.faint, cfg, deadline)?;
    }
    let s = masks.scale;
    let mut out: Vec<SealCandidate> = found
        .into_iter()
        .map(|f| {
            let (cx, cy, r) = (f.cx * s, f.cy * s, f.radius * s);
            let x0 = (cx - r).max(0.0);
            let y0 = (cy - r).max(0.0);
            SealCandidate {
                cx,
                cy,
                radius: r,
                region: Region::new(x0 as u32, y0 as u32, (2.0 * r) as u32, (2.0 * r) as u32),
                ..f
            }
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    Ok(out)
}

/// Round seals in the ink of `mask` (working coordinates), in the order found.
fn seals_on(
    mask: &GrayImage,
    cfg: &SealConfig,
    deadline: &Deadline,
) -> Result<Vec<SealCandidate>, StageError> {
    let (w, h) = mask.dimensions();
    if w < 16 || h < 16 {
        return Ok(Vec::new());
    }
    let wf = w as f32;
    let k = (w / 250).clamp(2, 255) as u8;
    let joined = imageproc::morphology::dilate(mask, Norm::LInf, k);
    let labels = connected_components(&joined, Connectivity::Eight, Luma([0u8]));
    let (rmin, rmax) = (cfg.min_diameter * wf / 2.0, cfg.max_diameter * wf / 2.0);
    let mut found: Vec<SealCandidate> = Vec::new();
    for (label, b) in blobs(&labels).iter().enumerate().skip(1) {
        deadline.check()?;
        if b.n == 0 {
            continue;
        }
        let (bw, bh) = ((b.x1 - b.x0 + 1) as f32, (b.y1 - b.y0 + 1) as f32);
        let side = bw.max(bh);
        if side < rmin || side > 2.6 * rmax {
            continue;
        }
        let mut c = ((b.x0 + b.x1) as f32 / 2.0, (b.y0 + b.y1) as f32 / 2.0);
        let mut r = side / 2.0;
        let mut ok = true;
        for iter in 0..4 {
            let only = (iter == 0).then_some((&labels, label as u32));
            let limit = if iter == 0 { f32::MAX } else { 1.25 * r };
            let outer = outer_points(mask, c, limit, only);
            if outer.iter().flatten().count() < BINS / 6 {
                ok = false;
                break;
            }
            let pts: Vec<(f32, f32)> = outer.iter().flatten().map(|&(x, y, _)| (x, y)).collect();
            match robust_circle(&pts) {
                Some((cx, cy, rr)) if rr.is_finite() && rr > 1.0 => {
                    c = (cx, cy);
                    r = rr;
                }
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        let fitted = (ok && r >= rmin && r <= rmax).then(|| {
            let outer = outer_points(mask, c, 1.2 * r, None);
            let radii: Vec<f32> = outer.iter().flatten().map(|p| p.2).collect();
            let on_ring = radii
                .iter()
                .filter(|&&d| d >= 0.85 * r && d <= 1.1 * r)
                .count();
            let coverage = on_ring as f32 / BINS as f32;
            let mut dev: Vec<f32> = radii.iter().map(|d| (d - r).abs() / r).collect();
            dev.sort_by(f32::total_cmp);
            let spread = dev.get(dev.len() / 2).copied().unwrap_or(1.0);
            let score = coverage.min(1.0) * (1.0 - (spread / (2.0 * cfg.max_spread)).min(1.0));
            (c, r, coverage, spread, score)
        });
        let accepted = fitted.filter(|&(_, _, coverage, spread, score)| {
            coverage >= cfg.min_coverage && spread <= cfg.max_spread && score >= cfg.min_seal_score
        });
        // The outermost ink fits a stamp drawn over (or under) a signature, another stamp or
        // print badly: search for the ring itself.
        let Some((c, r, coverage, spread, score)) =
            accepted.or_else(|| ring_search(mask, b, rmin, rmax, cfg))
        else {
            continue;
        };
        if found
            .iter()
            .any(|f| (f.cx - c.0).hypot(f.cy - c.1) < 0.5 * f.radius.max(r) && f.score >= score)
        {
            continue;
        }
        found.retain(|f| (f.cx - c.0).hypot(f.cy - c.1) >= 0.5 * f.radius.max(r));
        found.push(SealCandidate {
            cx: c.0,
            cy: c.1,
            radius: r,
            region: Region::new(0, 0, 0, 0),
            coverage,
            spread,
            score,
        });
    }
    Ok(found)
}

/// A circle judged: (centre, radius, coverage, spread, score).
type CircleFit = ((f32, f32), f32, f32, f32, f32);

/// The best ring of a search: its score, centre, radius, and the shares of angular bins with
/// ink on it and just outside it.
#[derive(Debug, Clone, Copy)]
struct Ring {
    score: f32,
    centre: (f32, f32),
    radius: f32,
    presence: f32,
    clutter: f32,
}

/// Radius bins of the ring search.
const RING_BINS: usize = 128;

/// The best ring over `centres` and radii
/// `rmin..=rmax` (see [`ring_search`]); `rstep` is the radius bin size.
fn best_ring(
    pts: &[(f32, f32)],
    centres: &[(f32, f32)],
    rmin: f32,
    rmax: f32,
    rstep: f32,
) -> Option<Ring> {
    let reach = rstep * RING_BINS as f32;
    let upto = |k: usize| -> u128 {
        if k >= 127 {
            u128::MAX
        } else {
            (1u128 << (k + 1)) - 1
        }
    };
    let band = |lo: f32, hi: f32| -> u128 {
        let a = ((lo / rstep) as usize).min(RING_BINS - 1);
        let z = ((hi / rstep).ceil() as usize).min(RING_BINS - 1);
        upto(z) & !(if a == 0 { 0 } else { upto(a - 1) })
    };
    let mut best: Option<Ring> = None;
    let mut occ = [0u128; BINS];
    for &(cx, cy) in centres {
        occ.fill(0);
        for &(x, y) in pts {
            let (dx, dy) = (x - cx, y - cy);
            let d = dx.hypot(dy);
            if d >= reach || d < 1.0 {
                continue;
            }
            let a = dy.atan2(dx) + std::f32::consts::PI;
            let bin = ((a / std::f32::consts::TAU * BINS as f32) as usize).min(BINS - 1);
            let rb = ((d / rstep) as usize).min(RING_BINS - 1);
            occ[bin] |= 1u128 << rb;
        }
        let mut r = rmin;
        while r <= rmax {
            let ring = band(0.93 * r, 1.05 * r);
            let outside = band(1.15 * r, 1.35 * r);
            let presence = occ.iter().filter(|o| *o & ring != 0).count() as f32 / BINS as f32;
            let clutter = occ.iter().filter(|o| *o & outside != 0).count() as f32 / BINS as f32;
            // Among centres that see the same ring, the one whose ink lies closest on it.
            let tight = band(0.975 * r, 1.025 * r);
            let on_line = occ.iter().filter(|o| *o & tight != 0).count() as f32 / BINS as f32;
            let score = presence - clutter + 0.25 * on_line;
            if best.as_ref().is_none_or(|b| score > b.score) {
                best = Some(Ring {
                    score,
                    centre: (cx, cy),
                    radius: r,
                    presence,
                    clutter,
                });
            }
            r += (0.5 * rstep).max(0.5);
        }
    }
    best
}

/// A seal ring inside blob `b` of `mask` found by search rather than by fitting the outermost
/// ink: every centre on a grid over the blob and every radius in `rmin..=rmax` is scored by the
/// share of angular bins with ink on a thin band at that radius (`presence`) less the share
/// with ink just outside it (`clutter`: a ring stands on clear paper, a block of handwriting or
/// print does not). Overlapping ink breaks the outermost-point fit but hides only a few bins
/// of the ring. Returns (centre, radius, coverage, spread, score) when the best ring is clear.
fn ring_search(
    mask: &GrayImage,
    b: &Blob,
    rmin: f32,
    rmax: f32,
    cfg: &SealConfig,
) -> Option<CircleFit> {
    let (w, h) = mask.dimensions();
    let reach = 1.4 * rmax;
    let (bx0, by0, bx1, by1) = (b.x0 as f32, b.y0 as f32, b.x1 as f32, b.y1 as f32);
    let x0 = (bx0 - 0.4 * rmax).max(0.0) as u32;
    let y0 = (by0 - 0.4 * rmax).max(0.0) as u32;
    let x1 = ((bx1 + 0.4 * rmax) as u32).min(w.saturating_sub(1));
    let y1 = ((by1 + 0.4 * rmax) as u32).min(h.saturating_sub(1));
    let mut pts: Vec<(f32, f32)> = Vec::new();
    for y in y0..=y1 {
        for x in x0..=x1 {
            if mask.get_pixel(x, y).0[0] > 0 {
                pts.push((x as f32, y as f32));
            }
        }
    }
    if pts.len() < BINS {
        return None;
    }
    // Enough points to see every bin of a ring, few enough to stay fast.
    let keep = pts.len().div_ceil(30_000);
    let pts: Vec<(f32, f32)> = pts.into_iter().step_by(keep).collect();
    let rstep = reach / RING_BINS as f32;
    let step = (rmin / 5.0).max(2.0);
    // Coarse grid over the blob, then every pixel around the best centre.
    let mut centres = Vec::new();
    let mut cy = by0;
    while cy <= by1 {
        let mut cx = bx0;
        while cx <= bx1 {
            centres.push((cx, cy));
            cx += step;
        }
        cy += step;
    }
    let coarse = best_ring(&pts, &centres, rmin, rmax, rstep)?;
    let (cx, cy) = coarse.centre;
    let k = step.ceil() as i32;
    let fine: Vec<(f32, f32)> = (-k..=k)
        .flat_map(|dy| (-k..=k).map(move |dx| (cx + dx as f32, cy + dy as f32)))
        .collect();
    let (lo, hi) = (
        (coarse.radius * 0.9).max(rmin),
        (coarse.radius * 1.1).min(rmax),
    );
    let best = best_ring(&pts, &fine, lo, hi, rstep);
    let Ring {
        centre: c,
        radius: r,
        presence,
        clutter,
        ..
    } = best?;
    let score = presence - clutter;
    if presence < cfg.min_ring_presence || clutter > cfg.max_ring_clutter || score < 0.45 {
        return None;
    }
    // Spread: how far the ring's ink strays from the circle, as the fit reports it.
    let mut dev: Vec<f32> = pts
        .iter()
        .map(|&(x, y)| ((x - c.0).hypot(y - c.1) - r).abs() / r)
        .filter(|&d| d <= 0.07)
        .collect();
    dev.sort_by(f32::total_cmp);
    let spread = dev.get(dev.len() / 2).copied().unwrap_or(0.0);
    Some((c, r, presence, spread, score))
}

/// For each of [`BINS`] angular bins around `c`: the ink pixel farthest from `c` within
/// `limit` (x, y, distance), optionally only pixels of one label.
fn outer_points(
    mask: &GrayImage,
    c: (f32, f32),
    limit: f32,
    only: Option<(&Labels, u32)>,
) -> Vec<Option<(f32, f32, f32)>> {
    let (w, h) = mask.dimensions();
    let mut out: Vec<Option<(f32, f32, f32)>> = vec![None; BINS];
    let reach = if limit.is_finite() {
        limit.ceil()
    } else {
        w.max(h) as f32
    };
    let x0 = (c.0 - reach).max(0.0) as u32;
    let y0 = (c.1 - reach).max(0.0) as u32;
    let x1 = ((c.0 + reach).max(0.0) as u32).min(w.saturating_sub(1));
    let y1 = ((c.1 + reach).max(0.0) as u32).min(h.saturating_sub(1));
    for y in y0..=y1 {
        for x in x0..=x1 {
            if mask.get_pixel(x, y).0[0] == 0 {
                continue;
            }
            if let Some((labels, l)) = only {
                if labels.get_pixel(x, y).0[0] != l {
                    continue;
                }
            }
            let (dx, dy) = (x as f32 - c.0, y as f32 - c.1);
            let d = dx.hypot(dy);
            if d > limit || d < 1.0 {
                continue;
            }
            let a = dy.atan2(dx) + std::f32::consts::PI;
            let bin = ((a / std::f32::consts::TAU * BINS as f32) as usize).min(BINS - 1);
            if let Some(slot) = out.get_mut(bin) {
                if slot.is_none_or(|s| s.2 < d) {
                    *slot = Some((x as f32, y as f32, d));
                }
            }
        }
    }
    out
}

/// A circle through most of `pts` (in order around the centre): deterministic RANSAC over
/// spread-out triples, then a least-squares refit on the inliers. Arcs of a faded stamp and
/// stray ink in some bins do not pull it the way a plain least-squares fit would be pulled.
fn robust_circle(pts: &[(f32, f32)]) -> Option<(f32, f32, f32)> {
    let n = pts.len();
    if n < 3 {
        return None;
    }
    let inliers = |c: (f32, f32, f32)| {
        pts.iter()
            .filter(|p| ((p.0 - c.0).hypot(p.1 - c.1) - c.2).abs() <= 0.04 * c.2 + 1.5)
            .count()
    };
    let mut best: Option<((f32, f32, f32), usize)> = None;
    for step in [n / 6, n / 4, n / 3] {
        let step = step.max(1);
        for i in 0..n {
            let (Some(a), Some(b), Some(c)) = (
                pts.get(i),
                pts.get((i + step) % n),
                pts.get((i + 2 * step) % n),
            ) else {
                continue;
            };
            let Some(circle) = circle_through(*a, *b, *c) else {
                continue;
            };
            let k = inliers(circle);
            if best.is_none_or(|(_, bk)| k > bk) {
                best = Some((circle, k));
            }
        }
    }
    let (c, _) = best?;
    kasa_fit(
        pts.iter()
            .filter(|p| ((p.0 - c.0).hypot(p.1 - c.1) - c.2).abs() <= 0.04 * c.2 + 1.5)
            .copied(),
    )
}

/// The circle through three points, `None` when they are (nearly) on a line.
fn circle_through(a: (f32, f32), b: (f32, f32), c: (f32, f32)) -> Option<(f32, f32, f32)> {
    let d = 2.0 * (a.0 * (b.1 - c.1) + b.0 * (c.1 - a.1) + c.0 * (a.1 - b.1));
    if d.abs() < 1e-3 {
        return None;
    }
    let (a2, b2, c2) = (
        a.0 * a.0 + a.1 * a.1,
        b.0 * b.0 + b.1 * b.1,
        c.0 * c.0 + c.1 * c.1,
    );
    let ux = (a2 * (b.1 - c.1) + b2 * (c.1 - a.1) + c2 * (a.1 - b.1)) / d;
    let uy = (a2 * (c.0 - b.0) + b2 * (a.0 - c.0) + c2 * (b.0 - a.0)) / d;
    Some((ux, uy, (a.0 - ux).hypot(a.1 - uy)))
}

/// Least-squares circle through points (Kåsa): centre and radius.
fn kasa_fit(points: impl Iterator<Item = (f32, f32)>) -> Option<(f32, f32, f32)> {
    let pts: Vec<(f64, f64)> = points.map(|(x, y)| (f64::from(x), f64::from(y))).collect();
    let n = pts.len() as f64;
    if n < 3.0 {
        return None;
    }
    let (mx, my) = (
        pts.iter().map(|p| p.0).sum::<f64>() / n,
        pts.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let (mut suu, mut svv, mut suv, mut suuu, mut svvv, mut suvv, mut svuu) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for &(x, y) in &pts {
        let (u, v) = (x - mx, y - my);
        suu += u * u;
        svv += v * v;
        suv += u * v;
        suuu += u * u * u;
        svvv += v * v * v;
        suvv += u * v * v;
        svuu += v * u * u;
    }
    let det = suu * svv - suv * suv;
    if det.abs() < 1e-9 {
        return None;
    }
    let bu = 0.5 * (suuu + suvv);
    let bv = 0.5 * (svvv + svuu);
    let uc = (bu * svv - bv * suv) / det;
    let vc = (suu * bv - suv * bu) / det;
    let r = (uc * uc + vc * vc + (suu + svv) / n).sqrt();
    Some(((uc + mx) as f32, (vc + my) as f32, r as f32))
}

/// The most common hue of the coloured ink on a seal's outer ring.
fn ring_hue(masks: &InkMasks, c: (f32, f32), r: f32) -> (u8, u8) {
    let mut hist = [0u32; 256];
    let mut lums = Vec::new();
    let (w, h) = masks.colour.dimensions();
    let reach = 1.1 * r;
    let x0 = (c.0 - reach).max(0.0) as u32;
    let y0 = (c.1 - reach).max(0.0) as u32;
    let x1 = ((c.0 + reach).max(0.0) as u32).min(w.saturating_sub(1));
    let y1 = ((c.1 + reach).max(0.0) as u32).min(h.saturating_sub(1));
    for y in y0..=y1 {
        for x in x0..=x1 {
            let d = (x as f32 - c.0).hypot(y as f32 - c.1);
            if d >= 0.88 * r && d <= 1.08 * r && masks.colour.get_pixel(x, y).0[0] > 0 {
                hist[masks.hue.get_pixel(x, y).0[0] as usize] += 1;
                lums.push(masks.lum.get_pixel(x, y).0[0]);
            }
        }
    }
    // Smoothed mode of the hue; median brightness.
    let hue = (0..256usize)
        .max_by_key(|&i| (0..7).map(|k| hist[(i + 256 - 3 + k) % 256]).sum::<u32>())
        .unwrap_or(0) as u8;
    lums.sort_unstable();
    let lum = lums.get(lums.len() / 2).copied().unwrap_or(0);
    (hue, lum)
}

/// Handwriting-like ink blocks, best first. `text` are regions (page coordinates) of words
/// OCR read confidently; ink mostly inside them is print. `seals` are removed from the
/// coloured ink first so a stamp's ring does not join a signature drawn across it.
pub fn find_signatures(
    page: &RgbImage,
    text: &[Region],
    seals: &[SealCandidate],
    cfg: &SealConfig,
    deadline: &Deadline,
) -> Result<Vec<SignatureCandidate>, StageError> {
    let masks = ink_masks(page, cfg);
    find_signatures_in(&masks, text, seals, cfg, deadline)
}

/// [`find_signatures`] on masks already made.
pub fn find_signatures_in(
    masks: &InkMasks,
    text: &[Region],
    seals: &[SealCandidate],
    cfg: &SealConfig,
    deadline: &Deadline,
) -> Result<Vec<SignatureCandidate>, StageError> {
    let s = masks.scale.max(1e-3);
    let mut ink = masks.dark.clone();
    let (w, h) = ink.dimensions();
    if w < 16 || h < 16 {
        return Ok(Vec::new());
    }
    let wf = w as f32;
    for seal in seals {
        let (cx, cy, r) = (seal.cx / s, seal.cy / s, seal.radius / s * 1.1);
        let (seal_hue, seal_lum) = ring_hue(masks, (cx, cy), seal.radius / s);
        // Pen ink written across the stamp is far darker than the stamp's own ink even when
        // their hues are alike (a navy ballpoint over a blue stamp): keep it.
        let pen_below = seal_lum.saturating_sub(40);
        let x0 = (cx - r).max(0.0) as u32;
        let y0 = (cy - r).max(0.0) as u32;
        let x1 = ((cx + r).max(0.0) as u32).min(w - 1);
        let y1 = ((cy + r).max(0.0) as u32).min(h - 1);
        for y in y0..=y1 {
            for x in x0..=x1 {
                if (x as f32 - cx).hypot(y as f32 - cy) <= r
                    && masks.colour.get_pixel(x, y).0[0] > 0
                    && hue_distance(masks.hue.get_pixel(x, y).0[0], seal_hue) <= 14
                    && masks.lum.get_pixel(x, y).0[0] >= pen_below
                {
                    ink.put_pixel(x, y, Luma([0]));
                }
            }
        }
    }
    // Erase confidently read print (with a pixel of margin for anti-aliased edges) so that a
    // signature written over or against a printed label ("ডিউটি অফিসার") is not joined to it.
    for t in text {
        let x0 = ((t.x as f32 / s) as u32).saturating_sub(1);
        let y0 = ((t.y as f32 / s) as u32).saturating_sub(1);
        let x1 = (((t.x.saturating_add(t.w)) as f32 / s).ceil() as u32 + 1).min(w);
        let y1 = (((t.y.saturating_add(t.h)) as f32 / s).ceil() as u32 + 1).min(h);
        for y in y0..y1 {
            for x in x0..x1 {
                ink.put_pixel(x, y, Luma([0]));
            }
        }
    }
    let text_work: Vec<Region> = text
        .iter()
        .map(|r| {
            Region::new(
                (r.x as f32 / s) as u32,
                (r.y as f32 / s) as u32,
                (r.w as f32 / s).ceil() as u32,
                (r.h as f32 / s).ceil() as u32,
            )
        })
        .collect();
    let long_run = ((0.03 * wf) as u32).max(8);
    let mut out = Vec::new();
    // Pen strokes join at a small dilation; a signature written in separate strokes (initials,
    // a lifted pen) joins only at a larger one, so both are tried and the best block wins.
    let k = (w / 500).clamp(1, 85) as u8;
    for k in [k, 3 * k] {
        let joined = imageproc::morphology::dilate(&ink, Norm::LInf, k);
        let labels = connected_components(&joined, Connectivity::Eight, Luma([0u8]));
        let all = blobs(&labels);
        for (label, b) in all.iter().enumerate().skip(1) {
            deadline.check()?;
            if b.n == 0 {
                continue;
            }
            let (bw, bh) = (b.x1 - b.x0 + 1, b.y1 - b.y0 + 1);
            let (fw, fh) = (bw as f32 / wf, bh as f32 / wf);
            if fw < cfg.min_signature_width
                || fw > cfg.max_signature_width
                || fh > cfg.max_signature_height
                || fh < 0.012
                || (bw as f32) < 0.8 * bh as f32
            {
                continue;
            }
            let rect = Region::new(b.x0, b.y0, bw, bh);
            let covered: u64 = text_work.iter().map(|t| t.overlap(&rect)).sum();
            if covered * 2 > rect.area() {
                continue;
            }
            // Ink of this component only (the label covers the dilated ink).
            let mut n = 0u32;
            let mut edge = 0u32;
            let mut straight = 0u32;
            let is_ink = |x: u32, y: u32| {
                x < w
                    && y < h
                    && ink.get_pixel(x, y).0[0] > 0
                    && labels.get_pixel(x, y).0[0] == label as u32
            };
            for y in b.y0..=b.y1 {
                let mut run = 0u32;
                for x in b.x0..=b.x1 + 1 {
                    if x <= b.x1 && is_ink(x, y) {
                        n += 1;
                        run += 1;
                        let border = x == 0
                            || y == 0
                            || !is_ink(x - 1, y)
                            || !is_ink(x + 1, y)
                            || !is_ink(x, y - 1)
                            || !is_ink(x, y + 1);
                        edge += u32::from(border);
                    } else {
                        if run >= long_run {
                            straight += run;
                        }
                        run = 0;
                    }
                }
            }
            for x in b.x0..=b.x1 {
                let mut run = 0u32;
                for y in b.y0..=b.y1 + 1 {
                    if y <= b.y1 && is_ink(x, y) {
                        run += 1;
                    } else {
                        if run >= long_run {
                            straight += run;
                        }
                        run = 0;
                    }
                }
            }
            if n == 0 {
                continue;
            }
            let fill = n as f32 / (bw * bh) as f32;
            let stroke = 2.0 * n as f32 / edge.max(1) as f32;
            let straight = straight as f32 / n as f32;
            // Text sits on a baseline with neighbours of its height; a signature stands alone.
            let neighbours = all
                .iter()
                .enumerate()
                .skip(1)
                .filter(|&(ol, o)| {
                    o.n > 0
                        && ol != label
                        && {
                            let oh = (o.y1 - o.y0 + 1) as f32;
                            (oh - bh as f32).abs() < 0.35 * bh as f32
                        }
                        && (((o.y0 + o.y1) as f32 - (b.y0 + b.y1) as f32) / 2.0).abs()
                            < 0.25 * bh as f32
                        && {
                            let gap = if o.x0 > b.x1 {
                                o.x0 - b.x1
                            } else {
                                b.x0.saturating_sub(o.x1)
                            };
                            (gap as f32) < 1.5 * bh as f32
                        }
                })
                .count();
            let thin = (1.0 - stroke / (0.008 * wf).max(2.0)).clamp(0.0, 1.0);
            let sparse = (1.0 - fill / 0.4).clamp(0.0, 1.0);
            // Rules and frames are nearly all straight runs; a signature may carry a straight
            // underline stroke, so only a mostly straight block loses.
            let curvy = (1.0 - (straight - 0.3) / 0.6).clamp(0.0, 1.0);
            let alone = match neighbours {
                0 => 1.0,
                1 => 0.6,
                _ => 0.0,
            };
            let score = (thin * sparse * curvy * alone).powf(0.25);
            if score < cfg.min_signature_score {
                continue;
            }
            out.push(SignatureCandidate {
                region: Region::new(
                    (b.x0 as f32 * s) as u32,
                    (b.y0 as f32 * s) as u32,
                    (bw as f32 * s).ceil() as u32,
                    (bh as f32 * s).ceil() as u32,
                ),
                score,
            });
        }
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page with a thin double ring of `ink` mixed into the paper at `opacity`, blurred a
    /// little, with the same sensor noise (σ 3 per channel, a fixed pseudo-random sequence) on
    /// every page.
    fn page_with_faint_ring(ink: [f32; 3], opacity: f32) -> RgbImage {
        let paper = [236.0f32, 232.0, 222.0];
        let sharp = RgbImage::from_fn(1000, 1400, |x, y| {
            let d = (x as f32 - 400.0).hypot(y as f32 - 900.0);
            let on = (d - 95.0).abs() < 1.2 || (d - 84.0).abs() < 0.8;
            let k = if on { opacity } else { 0.0 };
            image::Rgb(std::array::from_fn(|c| {
                (paper[c] * (1.0 - k) + ink[c] * k) as u8
            }))
        });
        let mut page = imageproc::filter::gaussian_blur_f32(&sharp, 1.0);
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for p in page.pixels_mut() {
            for v in &mut p.0 {
                // Sum of four uniform draws: roughly normal, σ about 3.
                let mut n = 0.0f32;
                for _ in 0..4 {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    n += (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                }
                *v = (f32::from(*v) + 5.2 * n).clamp(0.0, 255.0) as u8;
            }
        }
        page
    }

    #[test]
    fn a_faded_stamp_is_found_and_grey_print_is_not() {
        // (ink, opacity, a seal wanted): violet and blue stamp ink faded until the blurred ring
        // is under `min_chroma` everywhere; the same ring in grey ink is print, not a stamp.
        let cases: [([f32; 3], f32, bool); 5] = [
            ([120.0, 40.0, 150.0], 0.16, true),
            ([40.0, 60.0, 170.0], 0.14, true),
            ([180.0, 40.0, 60.0], 0.14, true),
            ([90.0, 90.0, 90.0], 0.5, false),
            ([236.0, 232.0, 222.0], 1.0, false),
        ];
        let cfg = SealConfig::default();
        for (ink, opacity, want) in cases {
            let page = page_with_faint_ring(ink, opacity);
            let masks = ink_masks(&page, &cfg);
            let strong = masks.colour.pixels().filter(|p| p.0[0] > 0).count();
            let found = find_seals_in(&masks, &cfg, &Deadline::none()).expect("runs");
            assert_eq!(!found.is_empty(), want, "{ink:?} at {opacity}: {found:?}");
            if want {
                // Too few stamp-ink pixels for the first search to find the ring.
                assert!(strong < 30, "{ink:?}: the ring is not faint ({strong} px)");
                let best = &found[0];
                assert!(
                    (best.cx - 400.0).abs() < 8.0 && (best.cy - 900.0).abs() < 8.0,
                    "{best:?}"
                );
                assert!((best.radius - 95.0).abs() < 10.0, "{best:?}");
            }
        }
    }

    #[test]
    fn kasa_fits_points_on_a_circle() {
        let pts = (0..20).map(|i| {
            let a = i as f32 * 0.3;
            (50.0 + 10.0 * a.cos(), 40.0 + 10.0 * a.sin())
        });
        let (cx, cy, r) = kasa_fit(pts).expect("a fit");
        assert!((cx - 50.0).abs() < 0.01 && (cy - 40.0).abs() < 0.01 && (r - 10.0).abs() < 0.01);
    }

    /// A paper page with a purple seal ring (a third of it faded away) at (500, 600), radius
    /// 90, crossed by a blue pen signature and a second, square stamp touching it.
    fn page_with_overlapped_seal() -> RgbImage {
        RgbImage::from_fn(1000, 1400, |x, y| {
            let (dx, dy) = (x as f32 - 500.0, y as f32 - 600.0);
            let d = dx.hypot(dy);
            let a = dy.atan2(dx);
            let ring =
                ((d - 90.0).abs() < 2.5 || (d - 80.0).abs() < 1.5) && !(0.3..2.4).contains(&a);
            // Signature: a wavy pen line from far left into the seal.
            let sx = x as f32;
            let wave = 560.0 + 25.0 * (sx / 17.0).sin();
            let signature = (330.0..540.0).contains(&sx) && (y as f32 - wave).abs() < 1.5;
            // A square "RECEIVED" stamp overlapping the ring's upper right.
            let square = (560..700).contains(&x)
                && (420..520).contains(&y)
                && ((560..564).contains(&x)
                    || (696..700).contains(&x)
                    || (420..424).contains(&y)
                    || (516..520).contains(&y));
            if ring {
                image::Rgb([120, 60, 170])
            } else if signature {
                image::Rgb([40, 60, 170])
            } else if square {
                image::Rgb([60, 90, 200])
            } else {
                image::Rgb([242, 240, 232])
            }
        })
    }

    #[test]
    fn a_seal_under_a_signature_and_another_stamp_is_found() {
        let page = page_with_overlapped_seal();
        let found = find_seals(&page, &SealConfig::default(), &Deadline::none()).expect("runs");
        let best = found.first().expect("a seal");
        assert!(
            (best.cx - 500.0).abs() < 8.0 && (best.cy - 600.0).abs() < 8.0,
            "{best:?}"
        );
        assert!((best.radius - 90.0).abs() < 10.0, "{best:?}");
    }

    /// A mask holding a ring at (200, 200), radius 80, with a quarter missing, and `extra`.
    fn ring_mask(extra: impl Fn(u32, u32) -> bool) -> GrayImage {
        GrayImage::from_fn(400, 400, |x, y| {
            let (dx, dy) = (x as f32 - 200.0, y as f32 - 200.0);
            let on = (dx.hypot(dy) - 80.0).abs() < 2.0 && !(dx > 0.0 && dy > 0.0);
            Luma([if on || extra(x, y) { 255 } else { 0 }])
        })
    }

    fn whole(mask: &GrayImage) -> Blob {
        Blob {
            x0: 0,
            y0: 0,
            x1: mask.width() - 1,
            y1: mask.height() - 1,
            n: 1,
        }
    }

    #[test]
    fn ring_search_finds_a_ring_whose_outermost_ink_is_a_scribble() {
        // Pen strokes leave the ring outwards on the left and at the top: the outermost ink of
        // those bins is far off the circle, but the ring is still there.
        let mask = ring_mask(|x, y| {
            ((y as i32 - 200).abs() < 2 && x < 140) || ((x as i32 - 190).abs() < 2 && y < 140)
        });
        let (c, r, ..) =
            ring_search(&mask, &whole(&mask), 30.0, 150.0, &SealConfig::default()).expect("a ring");
        assert!(
            (c.0 - 200.0).abs() < 6.0 && (c.1 - 200.0).abs() < 6.0,
            "{c:?}"
        );
        assert!((r - 80.0).abs() < 6.0, "{r}");
    }

    #[test]
    fn ring_search_refuses_a_block_of_handwriting() {
        // Ink everywhere at every radius: no clear paper outside any ring.
        let mask = GrayImage::from_fn(400, 400, |x, y| {
            Luma([if (x + 2 * y) % 23 < 2 || (3 * x + y) % 29 < 2 {
                255
            } else {
                0
            }])
        });
        assert!(ring_search(&mask, &whole(&mask), 30.0, 150.0, &SealConfig::default()).is_none());
    }

    #[test]
    fn a_signature_alone_is_no_seal() {
        let page = RgbImage::from_fn(1000, 1400, |x, y| {
            let sx = x as f32;
            let wave = 560.0 + 25.0 * (sx / 17.0).sin();
            if (250.0..620.0).contains(&sx) && (y as f32 - wave).abs() < 1.5 {
                image::Rgb([40, 60, 170])
            } else {
                image::Rgb([242, 240, 232])
            }
        });
        let found = find_seals(&page, &SealConfig::default(), &Deadline::none()).expect("runs");
        assert!(found.is_empty(), "{found:?}");
    }

    /// A 1000 × 1400 page with a wavy pen signature at y ≈ 1100 written in `pieces` strokes
    /// with the pen lifted for `gap` pixels between them, 360 px wide in all.
    fn page_with_signature(pieces: u32, gap: f32) -> RgbImage {
        let piece = (360.0 - gap * (pieces - 1) as f32) / pieces as f32;
        RgbImage::from_fn(1000, 1400, |x, y| {
            let sx = x as f32 - 300.0;
            let k = (sx / (piece + gap)).floor();
            let within = sx >= 0.0 && k < pieces as f32 && sx - k * (piece + gap) < piece;
            let wave = 1100.0 + 22.0 * (sx / 13.0).sin();
            if within && (y as f32 - wave).abs() < 1.5 {
                image::Rgb([30, 30, 60])
            } else {
                image::Rgb([242, 240, 232])
            }
        })
    }

    #[test]
    fn a_signature_in_separate_strokes_is_one_signature() {
        let cfg = SealConfig::default();
        let d = Deadline::none();
        // (strokes, pen-lift gap in px): one stroke, and three or four too narrow alone
        // (each under 5 % of the page width) with gaps wider than the small dilation joins.
        for (pieces, gap) in [(1, 0.0), (3, 6.0), (4, 5.0)] {
            let page = page_with_signature(pieces, gap);
            let found = find_signatures(&page, &[], &[], &cfg, &d).expect("runs");
            let best = found
                .first()
                .unwrap_or_else(|| panic!("{pieces} strokes: none"));
            assert!(
                best.region.w >= 300 && best.region.x <= 310,
                "{pieces} strokes: {best:?}"
            );
        }
    }

    #[test]
    fn tiny_and_blank_pages_have_nothing() {
        let cfg = SealConfig::default();
        for (w, h) in [(1, 1), (10, 300), (300, 200)] {
            let img = RgbImage::from_pixel(w, h, image::Rgb([240, 240, 235]));
            let d = Deadline::none();
            assert!(find_seals(&img, &cfg, &d).expect("runs").is_empty());
            assert!(find_signatures(&img, &[], &[], &cfg, &d)
                .expect("runs")
                .is_empty());
        }
    }
}
