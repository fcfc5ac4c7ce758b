//! Page geometry for GD copies: find the paper in a kiosk photo, warp it flat and upright,
//! deskew its text, and gate the capture's quality.
//!
//! How [`rectify`] works:
//!
//! 1. **Detection image.** The input is area-averaged down to ~600 px on its long side as a
//!    "paper score": luma minus a share of colourfulness (paper is bright and grey; wood, skin and
//!    cloth are coloured), then lightly blurred.
//! 2. **Paper blob.** Otsu's threshold splits paper from desk; a hysteresis step lets shadowed
//!    parts of the paper (above a lower threshold, connected to the bright core) join. The
//!    component holding most bright pixels is the candidate page.
//! 3. **Scan or photo.** If that component covers most of a ring just inside the frame, the paper
//!    fills the frame: a [`CaptureKind::FlatScan`], passed through untouched except for deskew.
//!    If nothing stands out from the surround at all, the input is treated the same way.
//! 4. **Quadrilateral.** The component's outer boundary points give a convex hull; the largest
//!    quadrilateral on the hull's vertices is the first guess; each side is then re-fitted as a
//!    trimmed least-squares line through the boundary points near it (so rounded or occluded
//!    corners come from line intersections), and finally at full resolution through the
//!    strongest bright-to-dark step found along normals to each side.
//! 5. **Warp.** The page's aspect ratio comes from the quad, with the camera's focal length
//!    estimated from the perspective (Zhang & He's whiteboard method; falling back to mean side
//!    lengths), and the page is warped (bilinear) to ~2200 px on its long side, never enlarging
//!    more than 1.5×.
//! 6. **Deskew.** The text skew is the angle maximising the energy of the projection profile of
//!    ink pixels (locally dark) on a ~1000 px working page, ±5° in 0.25° then 0.05° steps. Skews
//!    above 0.3° are removed in the same warp; a flat scan with no skew is returned bit-identical.
//! 7. **Quality gate.** On the rectified page: edge sharpness (Laplacian over gradient on edge
//!    pixels, ≈ 0.8 / blur σ, independent of how much text there is), paper brightness, clipped
//!    texture-free glare blobs, and from the quad: cut off by the frame, too small to read.
//!
//! Coordinates are "pixel edge" coordinates: pixel `(i, j)` covers `[i, i+1) × [j, j+1)`, so a
//! [`Region`] and a quad corner use the same convention and a frame `W` wide spans `0..=W`.

use image::RgbImage;
use rayon::prelude::*;

use crate::deadline::Deadline;
use crate::error::StageError;
use crate::report::{Finding, Region, Severity, Stage};

/// Tunables of [`rectify`]. Every threshold of the quality gate is here; [`Default`] gives the
/// values the kiosk uses.
#[derive(Debug, Clone, PartialEq)]
pub struct GeometryConfig {
    /// Long side (px) of the image the page is searched in. Default 600.
    pub detect_long_side: u32,
    /// Share of colourfulness (max − min channel) subtracted from luma to score "paper-ness".
    /// Default 0.75.
    pub chroma_weight: f32,
    /// Smallest difference (levels) between the mean score above and below the paper/desk
    /// threshold for a page to be told from its surround. Default 25.
    pub min_page_contrast: f32,
    /// The page component covering at least this fraction of a ring 2 % inside the frame means
    /// the paper fills the frame: a flat scan. Default 0.7.
    pub flat_scan_ring_fraction: f32,
    /// Smallest page component, as a fraction of the frame; below it nothing is taken for a page
    /// and the input is passed through. Default 0.01.
    pub min_component_fraction: f32,
    /// Long side (px) of a rectified photo page. Default 2200.
    pub output_long_side: u32,
    /// Largest enlargement of the page relative to its size in the photo. Default 1.5.
    pub max_upscale: f32,
    /// Long side (px) of the working page for deskew and the quality gate. Default 1000.
    pub work_long_side: u32,
    /// Largest skew searched, degrees either way. Default 5.
    pub max_skew_degrees: f32,
    /// Coarse step of the skew search, degrees. Default 0.25.
    pub skew_coarse_step: f32,
    /// Fine step of the skew search around the coarse best, degrees. Default 0.05.
    pub skew_fine_step: f32,
    /// Skews at or below this (degrees) are left alone. Default 0.3.
    pub min_skew_degrees: f32,
    /// Smallest ratio of the best projection-profile energy to the median over the searched
    /// angles for a skew to be trusted (a page without text lines has a flat curve). Default 1.1.
    pub min_skew_peak_ratio: f32,
    /// `photo_blurred` below this edge sharpness (Σ|Laplacian| / Σ|gradient| over edge pixels of
    /// the working page; a step blurred by a Gaussian of σ px scores ≈ 0.8/σ). Default 0.45.
    pub min_sharpness: f32,
    /// Smallest gradient (levels/px) for an edge pixel in the sharpness measure. Default 6.
    pub min_edge_gradient: f32,
    /// `photo_too_dark` when the paper level (75th percentile of the page's luma; ink, stamp and
    /// signature cover far less than a quarter of a GD page) is below this. Default 90.
    pub min_paper_luma: f32,
    /// Luma at or above which a pixel counts as clipped for glare. Default 248.
    pub glare_min_luma: u8,
    /// Glare must also be this much brighter than the paper (25th percentile of luma), so that a
    /// clean white scan is not glare. Default 15.
    pub glare_min_contrast: f32,
    /// `photo_glare` when the largest texture-free clipped blob covers this fraction of the page.
    /// Default 0.01.
    pub glare_min_fraction: f32,
    /// `page_cut_off` when a page corner lies within this fraction of the frame's short side from
    /// the frame edge, or outside it. Default 0.005.
    pub cut_off_margin_fraction: f32,
    /// `page_too_small` when the page covers less than this fraction of a photo. Default 0.15.
    pub min_page_area_fraction: f32,
    /// `page_too_small` when the page's short side (its width for a portrait page) spans fewer
    /// input pixels than this: about 75 dpi on A4, where body text is still ~20 px tall and
    /// reads; a page that nevertheless yields no text is caught by the OCR stage. Default 600.
    pub min_page_short_side: f32,
    /// A photographed page is turned a quarter when the ink's column profile is this many times
    /// more peaked than its row profile (its text lines run down the page). Default 1.5.
    pub min_sideways_ratio: f32,
    /// Points of `photo_blurred`. Default 20.
    pub points_blurred: u32,
    /// Points of `photo_too_dark`. Default 20.
    pub points_too_dark: u32,
    /// Points of `photo_glare`. Default 15.
    pub points_glare: u32,
    /// Points of `page_cut_off`. Default 20.
    pub points_cut_off: u32,
    /// Points of `page_too_small`. Default 15.
    pub points_too_small: u32,
}

impl Default for GeometryConfig {
    fn default() -> Self {
        GeometryConfig {
            detect_long_side: 600,
            chroma_weight: 0.75,
            min_page_contrast: 25.0,
            flat_scan_ring_fraction: 0.7,
            min_component_fraction: 0.01,
            output_long_side: 2200,
            max_upscale: 1.5,
            work_long_side: 1000,
            max_skew_degrees: 5.0,
            skew_coarse_step: 0.25,
            skew_fine_step: 0.05,
            min_skew_degrees: 0.3,
            min_skew_peak_ratio: 1.1,
            min_sharpness: 0.45,
            min_edge_gradient: 6.0,
            min_paper_luma: 90.0,
            glare_min_luma: 248,
            glare_min_contrast: 15.0,
            glare_min_fraction: 0.01,
            cut_off_margin_fraction: 0.005,
            min_page_area_fraction: 0.15,
            min_page_short_side: 600.0,
            min_sideways_ratio: 1.5,
            points_blurred: 20,
            points_too_dark: 20,
            points_glare: 15,
            points_cut_off: 20,
            points_too_small: 15,
        }
    }
}

/// How the document was captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureKind {
    /// The paper fills the frame (a scanner, or nothing distinct from a surround): passed through
    /// except for deskew.
    FlatScan,
    /// A camera photo of the page on a darker surface: found, perspective-corrected and cropped.
    Photo,
}

/// A plane projective transform, a row-major 3×3 matrix acting on `(x, y, 1)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Homography {
    m: [f64; 9],
}

impl Homography {
    /// The identity.
    pub fn identity() -> Self {
        Homography {
            m: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
        }
    }

    /// From a row-major matrix; `None` unless every entry is finite.
    pub fn from_matrix(m: [f64; 9]) -> Option<Self> {
        m.iter().all(|v| v.is_finite()).then_some(Homography { m })
    }

    /// The row-major matrix.
    pub fn matrix(&self) -> [f64; 9] {
        self.m
    }

    /// The transform taking each `from[i]` to `to[i]`; `None` when three points are collinear or
    /// the system is otherwise degenerate.
    pub fn from_points(from: [(f64, f64); 4], to: [(f64, f64); 4]) -> Option<Self> {
        // Hartley normalisation keeps the 8×8 system well conditioned at any image size.
        let (tf, _) = normaliser(&from)?;
        let (tt, tt_inv) = normaliser(&to)?;
        let f: Vec<(f64, f64)> = from.iter().filter_map(|&(x, y)| tf.map(x, y)).collect();
        let t: Vec<(f64, f64)> = to.iter().filter_map(|&(x, y)| tt.map(x, y)).collect();
        if f.len() != 4 || t.len() != 4 {
            return None;
        }
        let mut a = [[0.0f64; 9]; 8];
        for i in 0..4 {
            let (x, y) = f[i];
            let (u, v) = t[i];
            a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
            a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
        }
        let h = solve8(a)?;
        let hn = Homography {
            m: [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0],
        };
        let out = tf.then(&hn).then(&tt_inv);
        Homography::from_matrix(out.m).map(|h| h.normalised())
    }

    /// Where `(x, y)` goes; `None` on the line sent to infinity.
    pub fn map(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        let m = &self.m;
        let w = m[6] * x + m[7] * y + m[8];
        if w.abs() < 1e-12 {
            return None;
        }
        let u = (m[0] * x + m[1] * y + m[2]) / w;
        let v = (m[3] * x + m[4] * y + m[5]) / w;
        (u.is_finite() && v.is_finite()).then_some((u, v))
    }

    /// The inverse transform; `None` when singular.
    pub fn inverse(&self) -> Option<Self> {
        let m = &self.m;
        let c0 = m[4] * m[8] - m[5] * m[7];
        let c1 = m[5] * m[6] - m[3] * m[8];
        let c2 = m[3] * m[7] - m[4] * m[6];
        let det = m[0] * c0 + m[1] * c1 + m[2] * c2;
        let scale = m.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        if !det.is_finite() || det.abs() <= 1e-15 * scale.powi(3) {
            return None;
        }
        let inv = [
            c0 / det,
            (m[2] * m[7] - m[1] * m[8]) / det,
            (m[1] * m[5] - m[2] * m[4]) / det,
            c1 / det,
            (m[0] * m[8] - m[2] * m[6]) / det,
            (m[2] * m[3] - m[0] * m[5]) / det,
            c2 / det,
            (m[1] * m[6] - m[0] * m[7]) / det,
            (m[0] * m[4] - m[1] * m[3]) / det,
        ];
        Homography::from_matrix(inv).map(|h| h.normalised())
    }

    /// `self` first, then `next`.
    pub fn then(&self, next: &Homography) -> Homography {
        let (a, b) = (&next.m, &self.m);
        let mut m = [0.0; 9];
        for r in 0..3 {
            for c in 0..3 {
                m[r * 3 + c] = (0..3).map(|k| a[r * 3 + k] * b[k * 3 + c]).sum();
            }
        }
        Homography { m }
    }

    fn normalised(self) -> Self {
        let s = self.m[8];
        if s.abs() > 1e-12 && s.is_finite() {
            Homography {
                m: self.m.map(|v| v / s),
            }
        } else {
            self
        }
    }

    fn translate(tx: f64, ty: f64) -> Self {
        Homography {
            m: [1.0, 0.0, tx, 0.0, 1.0, ty, 0.0, 0.0, 1.0],
        }
    }

    fn scale(sx: f64, sy: f64) -> Self {
        Homography {
            m: [sx, 0.0, 0.0, 0.0, sy, 0.0, 0.0, 0.0, 1.0],
        }
    }
}

/// A similarity moving `pts` to centroid 0 and mean distance √2, and its inverse.
fn normaliser(pts: &[(f64, f64); 4]) -> Option<(Homography, Homography)> {
    let cx = pts.iter().map(|p| p.0).sum::<f64>() / 4.0;
    let cy = pts.iter().map(|p| p.1).sum::<f64>() / 4.0;
    let d = pts
        .iter()
        .map(|p| ((p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sqrt())
        .sum::<f64>()
        / 4.0;
    if !(d.is_finite() && d > 1e-9) {
        return None;
    }
    let s = std::f64::consts::SQRT_2 / d;
    let fwd = Homography::translate(-cx, -cy).then(&Homography::scale(s, s));
    let back = Homography::scale(1.0 / s, 1.0 / s).then(&Homography::translate(cx, cy));
    Some((fwd, back))
}

/// Solves an 8×8 system given as an augmented 8×9 matrix (partial pivoting).
fn solve8(mut a: [[f64; 9]; 8]) -> Option<[f64; 8]> {
    for col in 0..8 {
        let pivot = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-10 {
            return None;
        }
        a.swap(col, pivot);
        let pivot_row = a[col];
        for (row, r) in a.iter_mut().enumerate() {
            if row != col {
                let f = r[col] / pivot_row[col];
                if f != 0.0 {
                    for (v, p) in r.iter_mut().zip(&pivot_row).skip(col) {
                        *v -= f * p;
                    }
                }
            }
        }
    }
    let mut x = [0.0; 8];
    for (i, xi) in x.iter_mut().enumerate() {
        *xi = a[i][8] / a[i][i];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// What the quality gate measured on the page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityMetrics {
    /// Edge sharpness of the working page (≈ 0.8 / blur σ in working-page pixels); `None` when
    /// the page shows no ink at all to judge it by.
    pub sharpness: Option<f32>,
    /// The paper's brightness: 75th percentile of the page's luma, 0–255.
    pub paper_luma: f32,
    /// Largest texture-free clipped blob, as a fraction of the page.
    pub glare_fraction: f32,
    /// The page's area as a fraction of the input frame (1 for a flat scan).
    pub page_area_fraction: f32,
    /// The page's short side in input pixels (mean of the two sides across the page).
    pub page_short_side: f32,
    /// Whether a page corner lies on or beyond the frame edge (photos only).
    pub cut_off: bool,
}

/// A rectified capture: the flat, upright page for OCR and how it relates to the input.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The flat, deskewed page.
    pub page: RgbImage,
    /// Scan or photo.
    pub kind: CaptureKind,
    /// The page's corners in the input (pixel-edge coordinates), top-left, top-right,
    /// bottom-right, bottom-left as the page is upright in the output (before deskew). A flat
    /// scan's quad is the frame.
    pub quad: [(f32, f32); 4],
    /// Text skew found on the page, degrees; positive when lines descend to the right
    /// (clockwise on screen). The page was rotated back by it when above
    /// [`GeometryConfig::min_skew_degrees`].
    pub skew_degrees: f32,
    /// Whether the page was rotated to remove the skew.
    pub deskewed: bool,
    /// The quality gate's findings (stage [`Stage::Geometry`]).
    pub findings: Vec<Finding>,
    /// What the quality gate measured.
    pub metrics: QualityMetrics,
    page_to_input: Homography,
    input_to_page: Homography,
    input_size: (u32, u32),
}

impl Capture {
    /// The transform from page to input coordinates (pixel-edge convention).
    pub fn page_to_input_transform(&self) -> Homography {
        self.page_to_input
    }

    /// The transform from input to page coordinates (pixel-edge convention).
    pub fn input_to_page_transform(&self) -> Homography {
        self.input_to_page
    }

    /// The input's width and height.
    pub fn input_size(&self) -> (u32, u32) {
        self.input_size
    }

    /// A point on the page mapped into the input.
    pub fn page_point_to_input(&self, x: f32, y: f32) -> Option<(f32, f32)> {
        self.page_to_input
            .map(f64::from(x), f64::from(y))
            .map(|(u, v)| (u as f32, v as f32))
    }

    /// A point in the input mapped onto the page.
    pub fn input_point_to_page(&self, x: f32, y: f32) -> Option<(f32, f32)> {
        self.input_to_page
            .map(f64::from(x), f64::from(y))
            .map(|(u, v)| (u as f32, v as f32))
    }

    /// A box on the page as the bounding box of its mapped corners in the input, clamped to the
    /// input (empty when it maps wholly outside).
    pub fn page_to_input(&self, r: Region) -> Region {
        map_region(&self.page_to_input, r, self.input_size)
    }

    /// A box in the input as the bounding box of its mapped corners on the page, clamped to the
    /// page (empty when it maps wholly outside).
    pub fn input_to_page(&self, r: Region) -> Region {
        map_region(&self.input_to_page, r, self.page.dimensions())
    }

    /// The page box `r` resampled straight from the captured `input` at `scale` times the
    /// page's resolution, bicubic: one resampling of the camera's pixels instead of the page's
    /// bilinear warp enlarged again, which keeps more of the strokes of small, blurred print.
    /// Empty when the box is empty or off the page.
    pub fn resample_from_input(&self, input: &RgbImage, r: Region, scale: f32) -> RgbImage {
        let (pw, ph) = self.page.dimensions();
        let x1 = (r.x + r.w).min(pw);
        let y1 = (r.y + r.h).min(ph);
        if x1 <= r.x || y1 <= r.y || input.width() == 0 || input.height() == 0 {
            return RgbImage::new(0, 0);
        }
        let s = f64::from(scale.clamp(0.25, 8.0));
        let ow = ((f64::from(x1 - r.x) * s).round() as u32).max(1);
        let oh = ((f64::from(y1 - r.y) * s).round() as u32).max(1);
        let (w, h) = (input.width() as usize, input.height() as usize);
        let raw = input.as_raw();
        RgbImage::from_fn(ow, oh, |x, y| {
            let px = f64::from(r.x) + (f64::from(x) + 0.5) / s;
            let py = f64::from(r.y) + (f64::from(y) + 0.5) / s;
            let v = self
                .page_to_input
                .map(px, py)
                .map(|(sx, sy)| sample_rgb_cubic(raw, w, h, sx, sy).map(|c| c.round() as u8))
                .unwrap_or([255, 255, 255]);
            image::Rgb(v)
        })
    }
}

fn map_region(h: &Homography, r: Region, (w, hgt): (u32, u32)) -> Region {
    let (x0, y0) = (f64::from(r.x), f64::from(r.y));
    let (x1, y1) = (x0 + f64::from(r.w), y0 + f64::from(r.h));
    let pts: Vec<(f64, f64)> = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        .iter()
        .filter_map(|&(x, y)| h.map(x, y))
        .collect();
    if pts.is_empty() {
        return Region::new(0, 0, 0, 0);
    }
    let fold = |f: fn(f64, f64) -> f64, init: f64, sel: fn(&(f64, f64)) -> f64| {
        pts.iter().map(sel).fold(init, f)
    };
    let lo_x = fold(f64::min, f64::INFINITY, |p| p.0);
    let hi_x = fold(f64::max, f64::NEG_INFINITY, |p| p.0);
    let lo_y = fold(f64::min, f64::INFINITY, |p| p.1);
    let hi_y = fold(f64::max, f64::NEG_INFINITY, |p| p.1);
    let clamp = |v: f64, max: u32| v.clamp(0.0, f64::from(max)) as u32;
    let (ax, bx) = (clamp(lo_x.floor(), w), clamp(hi_x.ceil(), w));
    let (ay, by) = (clamp(lo_y.floor(), hgt), clamp(hi_y.ceil(), hgt));
    Region::new(ax, ay, bx - ax, by - ay)
}

/// Finds the page in `img`, warps it flat and upright, deskews it and gates the capture's
/// quality. Only an empty image or a spent `deadline` is an error; poor captures are findings.
pub fn rectify(
    img: &RgbImage,
    cfg: &GeometryConfig,
    deadline: &Deadline,
) -> Result<Capture, StageError> {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return Err(StageError::Failed("the image has no pixels".into()));
    }
    deadline.check()?;
    let (dw, dh) = fit(w, h, cfg.detect_long_side);
    let k = cfg.chroma_weight;
    let det = area_downscale(img, dw, dh, |p| {
        let (r, g, b) = (f32::from(p[0]), f32::from(p[1]), f32::from(p[2]));
        let chroma = r.max(g).max(b) - r.min(g).min(b);
        0.299 * r + 0.587 * g + 0.114 * b - k * chroma
    });
    deadline.check()?;
    let found = find_page(&det, img, cfg, deadline)?;
    deadline.check()?;
    match found {
        Some(quad) => {
            let quad = upright_quad(img, quad, cfg, deadline)?;
            rectify_photo(img, quad, cfg, deadline)
        }
        None => rectify_scan(img, cfg, deadline),
    }
}

/// The paper fills the frame: deskew only.
fn rectify_scan(
    img: &RgbImage,
    cfg: &GeometryConfig,
    deadline: &Deadline,
) -> Result<Capture, StageError> {
    let (w, h) = img.dimensions();
    let (ww, wh) = fit(w, h, cfg.work_long_side);
    let work = area_downscale(img, ww, wh, luma);
    deadline.check()?;
    let skew = estimate_skew(&work, cfg, deadline)?;
    let (wf, hf) = (f64::from(w), f64::from(h));
    let frame = [(0.0, 0.0), (wf, 0.0), (wf, hf), (0.0, hf)];
    let (page, page_to_input, deskewed) = if skew.abs() > cfg.min_skew_degrees {
        let fill = paper_colour(img, &Homography::identity(), (wf, hf));
        let (ow, oh, rot) = rotation(wf, hf, f64::from(skew));
        let page = warp_rgb(img, ow, oh, &rot, (wf, hf), &Homography::identity(), fill);
        (page, rot, true)
    } else {
        (img.clone(), Homography::identity(), false)
    };
    deadline.check()?;
    let input_to_page = page_to_input.inverse().unwrap_or_else(Homography::identity);
    let mut capture = Capture {
        page,
        kind: CaptureKind::FlatScan,
        quad: frame.map(|(x, y)| (x as f32, y as f32)),
        skew_degrees: skew,
        deskewed,
        findings: Vec::new(),
        metrics: QualityMetrics {
            sharpness: None,
            paper_luma: 0.0,
            glare_fraction: 0.0,
            page_area_fraction: 1.0,
            page_short_side: w.min(h) as f32,
            cut_off: false,
        },
        page_to_input,
        input_to_page,
        input_size: (w, h),
    };
    quality_gate(&mut capture, cfg, deadline)?;
    Ok(capture)
}

/// A photo with the page at `quad` (input coordinates, TL, TR, BR, BL).
fn rectify_photo(
    img: &RgbImage,
    quad: [(f64, f64); 4],
    cfg: &GeometryConfig,
    deadline: &Deadline,
) -> Result<Capture, StageError> {
    let (w, h) = img.dimensions();
    let aspect = page_aspect(&quad, f64::from(w), f64::from(h));
    let side = |a: usize, b: usize| dist(quad[a], quad[b]);
    let (top, right, bottom, left) = (side(0, 1), side(1, 2), side(2, 3), side(3, 0));
    let long_nat = top.max(right).max(bottom).max(left);
    let short_nat = if aspect <= 1.0 {
        (top + bottom) / 2.0
    } else {
        (left + right) / 2.0
    };
    let out_long = (f64::from(cfg.output_long_side))
        .min(long_nat * f64::from(cfg.max_upscale))
        .max(1.0);
    let (pw, ph) = if aspect <= 1.0 {
        ((out_long * aspect).round().max(1.0), out_long.round())
    } else {
        (out_long.round(), (out_long / aspect).round().max(1.0))
    };
    let page_rect = [(0.0, 0.0), (pw, 0.0), (pw, ph), (0.0, ph)];
    let Some(to_input) = Homography::from_points(page_rect, quad) else {
        return rectify_scan(img, cfg, deadline);
    };

    // Skew on a small warp of the page's luma.
    let (ww, wh) = fit(pw as u32, ph as u32, cfg.work_long_side);
    let work_to_input = Homography::scale(pw / f64::from(ww), ph / f64::from(wh)).then(&to_input);
    let work = warp_luma(img, ww, wh, &work_to_input);
    deadline.check()?;
    let skew = estimate_skew(&work, cfg, deadline)?;
    deadline.check()?;

    let fill = paper_colour(img, &to_input, (pw, ph));
    let (page, to_page0, deskewed) = if skew.abs() > cfg.min_skew_degrees {
        let (ow, oh, rot) = rotation(pw, ph, f64::from(skew));
        (
            warp_rgb(img, ow, oh, &rot, (pw, ph), &to_input, fill),
            rot,
            true,
        )
    } else {
        let id = Homography::identity();
        (
            warp_rgb(img, pw as u32, ph as u32, &id, (pw, ph), &to_input, fill),
            id,
            false,
        )
    };
    deadline.check()?;
    let page_to_input = to_page0.then(&to_input);
    let Some(input_to_page) = page_to_input.inverse() else {
        return rectify_scan(img, cfg, deadline);
    };
    let area = polygon_area(&quad);
    let margin = (f64::from(cfg.cut_off_margin_fraction) * f64::from(w.min(h))).max(1.5);
    let cut_off = quad.iter().any(|&(x, y)| {
        x < margin || y < margin || x > f64::from(w) - margin || y > f64::from(h) - margin
    });
    let mut capture = Capture {
        page,
        kind: CaptureKind::Photo,
        quad: quad.map(|(x, y)| (x as f32, y as f32)),
        skew_degrees: skew,
        deskewed,
        findings: Vec::new(),
        metrics: QualityMetrics {
            sharpness: None,
            paper_luma: 0.0,
            glare_fraction: 0.0,
            page_area_fraction: (area / (f64::from(w) * f64::from(h))) as f32,
            page_short_side: short_nat as f32,
            cut_off,
        },
        page_to_input,
        input_to_page,
        input_size: (w, h),
    };
    quality_gate(&mut capture, cfg, deadline)?;
    Ok(capture)
}

/// The page quad (TL, TR, BR, BL as seen on screen) turned so that its text lines run across
/// the page: a portrait page photographed sideways (a landscape frame without an orientation
/// tag) comes out with vertical text otherwise, which OCR cannot read.
///
/// Text direction: on a quick warp, the projection profile of ink pixels along rows is compared
/// with the one along columns (text lines make one of them strongly peaked). When the columns
/// win clearly, the page is turned a quarter; which way comes from the print itself (see
/// [`headline_side`]): the side the letters' headlines and cap lines face is the top.
fn upright_quad(
    img: &RgbImage,
    quad: [(f64, f64); 4],
    cfg: &GeometryConfig,
    deadline: &Deadline,
) -> Result<[(f64, f64); 4], StageError> {
    let (w, h) = img.dimensions();
    let aspect = page_aspect(&quad, f64::from(w), f64::from(h));
    let long = f64::from(cfg.work_long_side.max(64)) * 1.4;
    let (pw, ph) = if aspect <= 1.0 {
        ((long * aspect).round().max(1.0), long.round())
    } else {
        (long.round(), (long / aspect).round().max(1.0))
    };
    let rect = [(0.0, 0.0), (pw, 0.0), (pw, ph), (0.0, ph)];
    let Some(to_input) = Homography::from_points(rect, quad) else {
        return Ok(quad);
    };
    let work = warp_luma(img, pw as u32, ph as u32, &to_input);
    deadline.check()?;
    let ink = ink_mask(&work);
    let (rows, cols) = profile_energies(&ink, work.w, work.h);
    if cols.partial_cmp(&(rows * f64::from(cfg.min_sideways_ratio)))
        != Some(std::cmp::Ordering::Greater)
    {
        return Ok(quad);
    }
    deadline.check()?;
    // Text runs down the page: the top of the text faces left or right.
    Ok(match headline_side(&ink, work.w, work.h) {
        // Top of the text on the left: the page's top-left corner is the quad's bottom-left.
        s if s > 0.0 => [quad[3], quad[0], quad[1], quad[2]],
        _ => [quad[1], quad[2], quad[3], quad[0]],
    })
}

/// Locally dark pixels of `p` (ink), by a box mean of radius 10 px.
fn ink_mask(p: &Plane) -> Vec<bool> {
    let (w, h) = (p.w, p.h);
    let mut ii = vec![0.0f64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0.0;
        for x in 0..w {
            row += f64::from(p.at(x, y));
            ii[(y + 1) * (w + 1) + x + 1] = ii[y * (w + 1) + x + 1] + row;
        }
    }
    let r = 10usize;
    let mut out = vec![false; w * h];
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let s = ii[y1 * (w + 1) + x1] - ii[y0 * (w + 1) + x1] - ii[y1 * (w + 1) + x0]
                + ii[y0 * (w + 1) + x0];
            let mean = s / ((y1 - y0) * (x1 - x0)).max(1) as f64;
            out[y * w + x] = f64::from(p.at(x, y)) < mean - 12.0;
        }
    }
    out
}

/// Energies (Σ count², normalised by the ink count²) of the ink's row and column profiles,
/// leaving out a 4 % margin (page edges, shadows).
fn profile_energies(ink: &[bool], w: usize, h: usize) -> (f64, f64) {
    let (mx, my) = (w * 4 / 100, h * 4 / 100);
    let mut rows = vec![0u64; h];
    let mut cols = vec![0u64; w];
    for y in my..h.saturating_sub(my) {
        for x in mx..w.saturating_sub(mx) {
            if ink[y * w + x] {
                rows[y] += 1;
                cols[x] += 1;
            }
        }
    }
    let n: u64 = rows.iter().sum();
    if n < 300 {
        return (1.0, 0.0);
    }
    let e = |v: &[u64], len: usize| {
        // Per unit length, so a landscape and a portrait warp compare fairly.
        v.iter().map(|&c| (c as f64).powi(2)).sum::<f64>() * len as f64 / (n as f64).powi(2)
    };
    (e(&rows, h), e(&cols, w))
}

/// Which side the top of vertical text lines faces: positive for the left, negative for the
/// right. Print has long straight strokes at the top of its letters — the headline (মাত্রা)
/// of Bengali, the cap line of Latin capitals and of table headings — with the letters'
/// bodies hanging from them. For every long vertical ink run (a turned headline) this sums the
/// ink just beyond it on the right minus the ink just beyond it on the left: the letter bodies
/// lie below the headline, i.e. on the right when the text's top faces left.
fn headline_side(ink: &[bool], w: usize, h: usize) -> f64 {
    let min_run = (h / 70).max(6);
    let (gap, reach) = (2usize, (w / 150).max(4));
    let at = |x: usize, y: usize| ink.get(y * w + x).copied().unwrap_or(false);
    let mut score = 0.0f64;
    for x in reach + gap..w.saturating_sub(reach + gap) {
        let mut y = 0;
        while y < h {
            if !at(x, y) {
                y += 1;
                continue;
            }
            let start = y;
            while y < h && at(x, y) {
                y += 1;
            }
            // A headline spans a word; longer runs are rules or frames.
            if y - start < min_run || y - start > h / 8 {
                continue;
            }
            let mut right = 0u32;
            let mut left = 0u32;
            for yy in (start..y).step_by(2) {
                for d in gap..gap + reach {
                    right += u32::from(at(x + d, yy));
                    left += u32::from(at(x - d, yy));
                }
            }
            score += f64::from(right) - f64::from(left);
        }
    }
    score
}

/// The output size of a `w`×`h` page rotated back by `skew` degrees, and the map from output
/// to page coordinates.
fn rotation(w: f64, h: f64, skew_deg: f64) -> (u32, u32, Homography) {
    let a = skew_deg.to_radians();
    let (s, c) = a.sin_cos();
    let ow = (w * c.abs() + h * s.abs()).ceil().max(1.0);
    let oh = (w * s.abs() + h * c.abs()).ceil().max(1.0);
    let (cx, cy) = (w / 2.0, h / 2.0);
    let (ox, oy) = (ow / 2.0, oh / 2.0);
    let m = [
        c,
        -s,
        cx - (c * ox - s * oy),
        s,
        c,
        cy - (s * ox + c * oy),
        0.0,
        0.0,
        1.0,
    ];
    (ow as u32, oh as u32, Homography { m })
}

// ---------------------------------------------------------------------------------------------
// Working planes

/// A single-channel float image.
#[derive(Debug, Clone)]
struct Plane {
    w: usize,
    h: usize,
    data: Vec<f32>,
}

impl Plane {
    fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.w + x]
    }
}

fn luma(p: &[u8]) -> f32 {
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

/// `w`×`h` shrunk to fit `long` on its long side (never enlarged, never below 1).
fn fit(w: u32, h: u32, long: u32) -> (u32, u32) {
    let m = w.max(h);
    if m <= long || long == 0 {
        return (w.max(1), h.max(1));
    }
    let s = f64::from(long) / f64::from(m);
    let f = |v: u32| ((f64::from(v) * s).round() as u32).clamp(1, v.max(1));
    (f(w), f(h))
}

/// Area-averages `f(pixel)` over `img` into an `ow`×`oh` plane (`ow ≤ w`, `oh ≤ h`).
fn area_downscale(img: &RgbImage, ow: u32, oh: u32, f: impl Fn(&[u8]) -> f32 + Sync) -> Plane {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (ow, oh) = (ow as usize, oh as usize);
    let xmap: Vec<usize> = (0..w).map(|x| (x * ow / w).min(ow - 1)).collect();
    let mut counts = vec![0u32; ow];
    for &o in &xmap {
        counts[o] += 1;
    }
    let raw = img.as_raw();
    let mut data = vec![0.0f32; ow * oh];
    data.par_chunks_mut(ow).enumerate().for_each(|(oy, row)| {
        let y0 = oy * h / oh;
        let y1 = ((oy + 1) * h / oh).max(y0 + 1).min(h);
        let mut acc = vec![0.0f32; ow];
        for y in y0..y1 {
            let line = &raw[y * w * 3..(y + 1) * w * 3];
            for (x, px) in line.chunks_exact(3).enumerate() {
                acc[xmap[x]] += f(px);
            }
        }
        let rows = (y1 - y0) as f32;
        for ((o, a), &c) in row.iter_mut().zip(&acc).zip(&counts) {
            *o = a / (rows * c.max(1) as f32);
        }
    });
    Plane { w: ow, h: oh, data }
}

/// Box blur of radius `r`, edges clamped.
fn box_blur(p: &Plane, r: usize) -> Plane {
    let (w, h) = (p.w, p.h);
    let mut tmp = vec![0.0f32; w * h];
    let norm = 1.0 / (2 * r + 1) as f32;
    for y in 0..h {
        for x in 0..w {
            let mut s = 0.0;
            for d in 0..=2 * r {
                let xx = (x + d).saturating_sub(r).min(w - 1);
                s += p.data[y * w + xx];
            }
            tmp[y * w + x] = s * norm;
        }
    }
    let mut out = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut s = 0.0;
            for d in 0..=2 * r {
                let yy = (y + d).saturating_sub(r).min(h - 1);
                s += tmp[yy * w + x];
            }
            out[y * w + x] = s * norm;
        }
    }
    Plane { w, h, data: out }
}

/// Histogram of a plane's values rounded into 0–255.
fn histogram(values: impl Iterator<Item = f32>) -> [u64; 256] {
    let mut hist = [0u64; 256];
    for v in values {
        hist[v.round().clamp(0.0, 255.0) as usize] += 1;
    }
    hist
}

/// The level at fraction `q` (0–1) of a histogram.
fn percentile(hist: &[u64; 256], q: f64) -> f32 {
    let total: u64 = hist.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let target = (q * total as f64).ceil().max(1.0) as u64;
    let mut acc = 0;
    for (i, &c) in hist.iter().enumerate() {
        acc += c;
        if acc >= target {
            return i as f32;
        }
    }
    255.0
}

/// Otsu's threshold of a histogram: values `> t` are the bright class.
fn otsu(hist: &[u64; 256]) -> usize {
    let total: f64 = hist.iter().map(|&c| c as f64).sum();
    let sum_all: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * c as f64)
        .sum();
    let (mut w0, mut sum0) = (0.0, 0.0);
    let (mut best, mut best_t) = (-1.0, 0);
    for (t, &c) in hist.iter().enumerate() {
        w0 += c as f64;
        sum0 += t as f64 * c as f64;
        let w1 = total - w0;
        if w0 == 0.0 || w1 == 0.0 {
            continue;
        }
        let (m0, m1) = (sum0 / w0, (sum_all - sum0) / w1);
        let between = w0 * w1 * (m0 - m1).powi(2);
        if between > best {
            best = between;
            best_t = t;
        }
    }
    best_t
}

// ---------------------------------------------------------------------------------------------
// Page detection

/// Finds the page quad (input pixel-edge coordinates, TL, TR, BR, BL) in a photo; `None` for a
/// flat scan or when no page stands out.
fn find_page(
    det: &Plane,
    img: &RgbImage,
    cfg: &GeometryConfig,
    deadline: &Deadline,
) -> Result<Option<[(f64, f64); 4]>, StageError> {
    let (w, h) = (det.w, det.h);
    if w < 16 || h < 16 {
        return Ok(None);
    }
    let blurred = box_blur(&box_blur(det, 1), 1);
    let hist = histogram(blurred.data.iter().copied());
    let t = otsu(&hist);
    let mean_range = |range: std::ops::Range<usize>| {
        let (n, s) = range.fold((0.0, 0.0), |(n, s), i| {
            (n + hist[i] as f64, s + (i as f64) * hist[i] as f64)
        });
        (n > 0.0).then(|| s / n)
    };
    let (Some(dark), Some(bright)) = (mean_range(0..t + 1), mean_range(t + 1..256)) else {
        return Ok(None);
    };
    if ((bright - dark) as f32) < cfg.min_page_contrast {
        return Ok(None);
    }
    let strong_t = t as f32;
    let weak_t = (t as f64 - 0.3 * (t as f64 - dark)) as f32;
    let weak: Vec<bool> = blurred.data.iter().map(|&v| v > weak_t).collect();
    let weak = dilate(&erode(&weak, w, h), w, h);
    deadline.check()?;

    // Components of the weak mask; keep the one holding most strong pixels.
    let mut label = vec![0u32; w * h];
    let mut best = (0usize, 0u32, 0usize); // (strong count, label, area)
    let mut next = 0u32;
    let mut stack = Vec::new();
    for start in 0..w * h {
        if !weak[start] || label[start] != 0 {
            continue;
        }
        next += 1;
        label[start] = next;
        stack.push(start);
        let (mut strong, mut area) = (0usize, 0usize);
        while let Some(i) = stack.pop() {
            area += 1;
            if blurred.data[i] > strong_t {
                strong += 1;
            }
            let (x, y) = (i % w, i / w);
            let mut push = |j: usize| {
                if weak[j] && label[j] == 0 {
                    label[j] = next;
                    stack.push(j);
                }
            };
            if x > 0 {
                push(i - 1);
            }
            if x + 1 < w {
                push(i + 1);
            }
            if y > 0 {
                push(i - w);
            }
            if y + 1 < h {
                push(i + w);
            }
        }
        if strong > best.0 {
            best = (strong, next, area);
        }
    }
    let (_, page_label, area) = best;
    if page_label == 0 || (area as f32) < cfg.min_component_fraction * (w * h) as f32 {
        return Ok(None);
    }
    let inside = |x: usize, y: usize| label[y * w + x] == page_label;

    // Flat scan: the paper covers the ring 2 % inside the frame.
    let (ix, iy) = (
        ((w as f32 * 0.02).round() as usize).min(w / 2),
        ((h as f32 * 0.02).round() as usize).min(h / 2),
    );
    let (mut ring, mut ring_in) = (0usize, 0usize);
    for x in ix..w - ix {
        for y in [iy, h - 1 - iy] {
            ring += 1;
            ring_in += usize::from(inside(x, y));
        }
    }
    for y in iy..h - iy {
        for x in [ix, w - 1 - ix] {
            ring += 1;
            ring_in += usize::from(inside(x, y));
        }
    }
    if ring > 0 && ring_in as f32 >= cfg.flat_scan_ring_fraction * ring as f32 {
        return Ok(None);
    }

    // Thin bright things attached to the page (fingers, a sleeve, a cable) are cut off by an
    // opening with a radius of 5 % of the page's size; the first quad comes from what is left,
    // the side fits from the whole component's boundary.
    let page_mask: Vec<bool> = label.iter().map(|&l| l == page_label).collect();
    let radius = ((area as f64).sqrt() * 0.05).round().max(2.0) as u32;
    let core = largest_component(
        &open_mask(&fill_holes(&page_mask, w, h), w, h, radius),
        w,
        h,
    );
    let boundary = boundary_points(&page_mask, w, h);
    let core_boundary = boundary_points(&core, w, h);
    deadline.check()?;
    let hull = convex_hull(if core_boundary.len() >= 8 {
        &core_boundary
    } else {
        &boundary
    });
    let Some(first) = max_area_quad(&hull) else {
        return Ok(None);
    };
    let first_area = polygon_area(&first);
    let quad = refit_sides(&first, &boundary, |a, b| {
        let len = dist(a, b);
        (2.0f64).max(0.03 * len)
    })
    .filter(|q| {
        let a = polygon_area(q);
        is_convex(q) && a > 0.7 * first_area && a < 1.4 * first_area
    })
    .unwrap_or(first);

    // To input coordinates, then refine on the full-resolution edges.
    let fx = f64::from(img.width()) / w as f64;
    let fy = f64::from(img.height()) / h as f64;
    let quad = quad.map(|(x, y)| (x * fx, y * fy));
    let quad = refine_full_res(img, &quad, 2.5 * fx.max(fy) + 2.0).unwrap_or(quad);
    Ok(Some(order_corners(quad)))
}

/// Outer boundary points of a mask (pixel-edge coordinates): each row's and column's extremes.
fn boundary_points(mask: &[bool], w: usize, h: usize) -> Vec<(f64, f64)> {
    let inside = |x: usize, y: usize| mask[y * w + x];
    let mut out = Vec::new();
    for y in 0..h {
        if let Some(x0) = (0..w).find(|&x| inside(x, y)) {
            let x1 = (0..w).rev().find(|&x| inside(x, y)).unwrap_or(x0);
            out.push((x0 as f64, y as f64 + 0.5));
            out.push((x1 as f64 + 1.0, y as f64 + 0.5));
        }
    }
    for x in 0..w {
        if let Some(y0) = (0..h).find(|&y| inside(x, y)) {
            let y1 = (0..h).rev().find(|&y| inside(x, y)).unwrap_or(y0);
            out.push((x as f64 + 0.5, y0 as f64));
            out.push((x as f64 + 0.5, y1 as f64 + 1.0));
        }
    }
    out
}

/// Chessboard distance from each pixel of `mask` to the nearest pixel outside it (0 outside);
/// beyond the frame counts as inside, so nothing erodes from the frame edge.
fn chessboard_distance(mask: &[bool], w: usize, h: usize) -> Vec<u32> {
    let big = u32::MAX / 2;
    let mut d: Vec<u32> = mask.iter().map(|&m| if m { big } else { 0 }).collect();
    let get = |d: &[u32], x: isize, y: isize| -> u32 {
        if x < 0 || y < 0 || x >= w as isize || y >= h as isize {
            big
        } else {
            d[y as usize * w + x as usize]
        }
    };
    for y in 0..h as isize {
        for x in 0..w as isize {
            let i = y as usize * w + x as usize;
            if d[i] > 0 {
                let m = get(&d, x - 1, y)
                    .min(get(&d, x - 1, y - 1))
                    .min(get(&d, x, y - 1))
                    .min(get(&d, x + 1, y - 1));
                d[i] = d[i].min(m.saturating_add(1));
            }
        }
    }
    for y in (0..h as isize).rev() {
        for x in (0..w as isize).rev() {
            let i = y as usize * w + x as usize;
            if d[i] > 0 {
                let m = get(&d, x + 1, y)
                    .min(get(&d, x + 1, y + 1))
                    .min(get(&d, x, y + 1))
                    .min(get(&d, x - 1, y + 1));
                d[i] = d[i].min(m.saturating_add(1));
            }
        }
    }
    d
}

/// Morphological opening with a (2r+1)² square.
fn open_mask(mask: &[bool], w: usize, h: usize, r: u32) -> Vec<bool> {
    let eroded: Vec<bool> = chessboard_distance(mask, w, h)
        .iter()
        .map(|&d| d > r)
        .collect();
    let outside: Vec<bool> = eroded.iter().map(|&e| !e).collect();
    chessboard_distance(&outside, w, h)
        .iter()
        .map(|&d| d <= r)
        .collect()
}

/// The mask with every hole (unset pixels not connected to the frame edge) set: text and
/// stamps inside the page.
fn fill_holes(mask: &[bool], w: usize, h: usize) -> Vec<bool> {
    let mut outside = vec![false; w * h];
    let mut stack: Vec<usize> = (0..w)
        .flat_map(|x| [x, (h - 1) * w + x])
        .chain((0..h).flat_map(|y| [y * w, y * w + w - 1]))
        .filter(|&i| !mask[i])
        .collect();
    for &i in &stack {
        outside[i] = true;
    }
    while let Some(i) = stack.pop() {
        let (x, y) = (i % w, i / w);
        let nb = [
            (x > 0).then(|| i - 1),
            (x + 1 < w).then(|| i + 1),
            (y > 0).then(|| i - w),
            (y + 1 < h).then(|| i + w),
        ];
        for j in nb.into_iter().flatten() {
            if !mask[j] && !outside[j] {
                outside[j] = true;
                stack.push(j);
            }
        }
    }
    outside.iter().map(|&o| !o).collect()
}

/// The largest 4-connected component of a mask.
fn largest_component(mask: &[bool], w: usize, h: usize) -> Vec<bool> {
    let mut label = vec![0u32; w * h];
    let (mut best, mut best_n, mut next) = (0u32, 0usize, 0u32);
    let mut stack = Vec::new();
    for s in 0..w * h {
        if !mask[s] || label[s] != 0 {
            continue;
        }
        next += 1;
        label[s] = next;
        stack.push(s);
        let mut n = 0;
        while let Some(i) = stack.pop() {
            n += 1;
            let (x, y) = (i % w, i / w);
            let nb = [
                (x > 0).then(|| i - 1),
                (x + 1 < w).then(|| i + 1),
                (y > 0).then(|| i - w),
                (y + 1 < h).then(|| i + w),
            ];
            for j in nb.into_iter().flatten() {
                if mask[j] && label[j] == 0 {
                    label[j] = next;
                    stack.push(j);
                }
            }
        }
        if n > best_n {
            (best, best_n) = (next, n);
        }
    }
    label.iter().map(|&l| l != 0 && l == best).collect()
}

/// 3×3 erosion of a mask (outside counts as set, so the frame edge does not eat the page).
fn erode(m: &[bool], w: usize, h: usize) -> Vec<bool> {
    morph(m, w, h, true)
}

/// 3×3 dilation of a mask.
fn dilate(m: &[bool], w: usize, h: usize) -> Vec<bool> {
    morph(m, w, h, false)
}

fn morph(m: &[bool], w: usize, h: usize, erode: bool) -> Vec<bool> {
    let mut out = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut acc = erode;
            for yy in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                for xx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                    if erode {
                        acc &= m[yy * w + xx];
                    } else {
                        acc |= m[yy * w + xx];
                    }
                }
            }
            out[y * w + x] = acc;
        }
    }
    out
}

fn dist(a: (f64, f64), b: (f64, f64)) -> f64 {
    ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
}

fn cross(o: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
}

/// Convex hull (Andrew's monotone chain), without collinear points.
fn convex_hull(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut p: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|q| q.0.is_finite() && q.1.is_finite())
        .collect();
    p.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    p.dedup();
    if p.len() < 3 {
        return p;
    }
    let mut hull: Vec<(f64, f64)> = Vec::with_capacity(2 * p.len());
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &(f64, f64)>> = if pass == 0 {
            Box::new(p.iter())
        } else {
            Box::new(p.iter().rev())
        };
        for &q in iter {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], q) <= 0.0
            {
                hull.pop();
            }
            hull.push(q);
        }
        hull.pop();
    }
    hull
}

/// Signed-area-free polygon area (shoelace, absolute).
fn polygon_area(p: &[(f64, f64)]) -> f64 {
    let n = p.len();
    if n < 3 {
        return 0.0;
    }
    let s: f64 = (0..n)
        .map(|i| {
            let (a, b) = (p[i], p[(i + 1) % n]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum();
    s.abs() / 2.0
}

fn is_convex(q: &[(f64, f64); 4]) -> bool {
    let signs: Vec<f64> = (0..4)
        .map(|i| cross(q[i], q[(i + 1) % 4], q[(i + 2) % 4]))
        .collect();
    signs.iter().all(|&s| s > 0.0) || signs.iter().all(|&s| s < 0.0)
}

/// The largest-area quadrilateral with its corners on the hull's vertices.
fn max_area_quad(hull: &[(f64, f64)]) -> Option<[(f64, f64); 4]> {
    let mut v = hull.to_vec();
    if v.len() > 160 {
        let step = v.len() as f64 / 160.0;
        v = (0..160)
            .filter_map(|i| hull.get((i as f64 * step) as usize).copied())
            .collect();
    }
    let n = v.len();
    if n < 4 {
        return None;
    }
    let tri = |a: usize, b: usize, c: usize| cross(v[a], v[b], v[c]).abs() / 2.0;
    let mut best = (0.0, [0usize; 4]);
    for i in 0..n {
        for k in i + 2..n {
            if i == 0 && k == n - 1 {
                continue;
            }
            let (mut bj, mut aj) = (i + 1, 0.0);
            for j in i + 1..k {
                let a = tri(i, j, k);
                if a > aj {
                    (aj, bj) = (a, j);
                }
            }
            let (mut bl, mut al) = ((k + 1) % n, 0.0);
            for l in k + 1..n + i {
                let l = l % n;
                let a = tri(k, l, i);
                if a > al {
                    (al, bl) = (a, l);
                }
            }
            if aj + al > best.0 {
                best = (aj + al, [i, bj, k, bl]);
            }
        }
    }
    (best.0 > 0.0).then(|| best.1.map(|i| v[i]))
}

/// A line `n·p = c` with unit normal `n`.
#[derive(Debug, Clone, Copy)]
struct Line {
    n: (f64, f64),
    c: f64,
}

impl Line {
    fn through(a: (f64, f64), b: (f64, f64)) -> Option<Line> {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = (dx * dx + dy * dy).sqrt();
        if len < 1e-9 {
            return None;
        }
        let n = (-dy / len, dx / len);
        Some(Line {
            n,
            c: n.0 * a.0 + n.1 * a.1,
        })
    }

    fn distance(&self, p: (f64, f64)) -> f64 {
        self.n.0 * p.0 + self.n.1 * p.1 - self.c
    }

    fn intersect(&self, o: &Line) -> Option<(f64, f64)> {
        let det = self.n.0 * o.n.1 - self.n.1 * o.n.0;
        if det.abs() < 1e-6 {
            return None;
        }
        let x = (self.c * o.n.1 - self.n.1 * o.c) / det;
        let y = (self.n.0 * o.c - self.c * o.n.0) / det;
        (x.is_finite() && y.is_finite()).then_some((x, y))
    }
}

/// Total-least-squares line through `pts`, refitted twice without points far from the fit.
fn fit_line_trimmed(pts: &[(f64, f64)]) -> Option<Line> {
    let mut keep: Vec<(f64, f64)> = pts.to_vec();
    let mut line = fit_line(&keep)?;
    for _ in 0..3 {
        let mut res: Vec<f64> = keep.iter().map(|&p| line.distance(p).abs()).collect();
        res.sort_by(f64::total_cmp);
        let med = res.get(res.len() / 2).copied().unwrap_or(0.0);
        let tol = (2.5 * med).max(0.75);
        let next: Vec<(f64, f64)> = keep
            .iter()
            .copied()
            .filter(|&p| line.distance(p).abs() <= tol)
            .collect();
        if next.len() < 4 || next.len() == keep.len() {
            break;
        }
        keep = next;
        line = fit_line(&keep)?;
    }
    Some(line)
}

fn fit_line(pts: &[(f64, f64)]) -> Option<Line> {
    if pts.len() < 2 {
        return None;
    }
    let n = pts.len() as f64;
    let (mx, my) = pts
        .iter()
        .fold((0.0, 0.0), |(a, b), p| (a + p.0 / n, b + p.1 / n));
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for p in pts {
        let (dx, dy) = (p.0 - mx, p.1 - my);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    // Direction of the largest eigenvector of the scatter matrix.
    let theta = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    let (dy, dx) = theta.sin_cos();
    let nrm = (-dy, dx);
    let line = Line {
        n: nrm,
        c: nrm.0 * mx + nrm.1 * my,
    };
    (line.c.is_finite() && (sxx + syy) > 1e-12).then_some(line)
}

/// Re-fits each side of `quad` to the points near it and intersects neighbouring sides.
fn refit_sides(
    quad: &[(f64, f64); 4],
    pts: &[(f64, f64)],
    tol: impl Fn((f64, f64), (f64, f64)) -> f64,
) -> Option<[(f64, f64); 4]> {
    let mut lines = Vec::with_capacity(4);
    for i in 0..4 {
        let (a, b) = (quad[i], quad[(i + 1) % 4]);
        let base = Line::through(a, b)?;
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len2 = dx * dx + dy * dy;
        let t = tol(a, b);
        let near: Vec<(f64, f64)> = pts
            .iter()
            .copied()
            .filter(|&p| {
                let u = ((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2;
                (0.04..=0.96).contains(&u) && base.distance(p).abs() <= t
            })
            .collect();
        let line = if near.len() >= 6 {
            fit_line_trimmed(&near).unwrap_or(base)
        } else {
            base
        };
        lines.push(line);
    }
    let mut out = [(0.0, 0.0); 4];
    for (i, o) in out.iter_mut().enumerate() {
        *o = lines[(i + 3) % 4].intersect(&lines[i])?;
    }
    Some(out)
}

/// Bilinear luma at pixel-edge coordinates `(x, y)`; `None` outside the image.
fn luma_at(img: &RgbImage, x: f64, y: f64) -> Option<f32> {
    let (w, h) = (f64::from(img.width()), f64::from(img.height()));
    let (cx, cy) = (x - 0.5, y - 0.5);
    if !(cx >= 0.0 && cy >= 0.0 && cx <= w - 1.0 && cy <= h - 1.0) {
        return None;
    }
    let (x0, y0) = (cx.floor(), cy.floor());
    let (ax, ay) = ((cx - x0) as f32, (cy - y0) as f32);
    let (x0, y0) = (x0 as u32, y0 as u32);
    let x1 = (x0 + 1).min(img.width() - 1);
    let y1 = (y0 + 1).min(img.height() - 1);
    let l = |x: u32, y: u32| luma(&img.get_pixel(x, y).0);
    let top = l(x0, y0) * (1.0 - ax) + l(x1, y0) * ax;
    let bot = l(x0, y1) * (1.0 - ax) + l(x1, y1) * ax;
    Some(top * (1.0 - ay) + bot * ay)
}

/// Moves each side of `quad` onto the strongest bright-inside/dark-outside step found within
/// `reach` pixels along its normals, at full resolution.
fn refine_full_res(img: &RgbImage, quad: &[(f64, f64); 4], reach: f64) -> Option<[(f64, f64); 4]> {
    let centre = (
        quad.iter().map(|p| p.0).sum::<f64>() / 4.0,
        quad.iter().map(|p| p.1).sum::<f64>() / 4.0,
    );
    let steps = reach.ceil() as i32;
    let mut lines = Vec::with_capacity(4);
    for i in 0..4 {
        let (a, b) = (quad[i], quad[(i + 1) % 4]);
        let base = Line::through(a, b)?;
        let len = dist(a, b);
        let t = ((b.0 - a.0) / len, (b.1 - a.1) / len);
        // Outward normal: away from the centre.
        let n = if base.distance(centre) < 0.0 {
            base.n
        } else {
            (-base.n.0, -base.n.1)
        };
        let mut found = Vec::new();
        for k in 0..32 {
            let u = 0.1 + 0.8 * (k as f64 + 0.5) / 32.0;
            let p = (a.0 + u * (b.0 - a.0), a.1 + u * (b.1 - a.1));
            let profile: Vec<Option<f32>> = (-steps - 1..=steps + 1)
                .map(|s| {
                    let mut acc = 0.0;
                    for tau in [-1.0, 0.0, 1.0] {
                        let q = (
                            p.0 + f64::from(s) * n.0 + tau * t.0,
                            p.1 + f64::from(s) * n.1 + tau * t.1,
                        );
                        acc += luma_at(img, q.0, q.1)?;
                    }
                    Some(acc / 3.0)
                })
                .collect();
            // Derivative along the outward normal at offsets -steps..=steps.
            let deriv: Vec<Option<f32>> = (1..profile.len() - 1)
                .map(|j| Some(profile[j + 1]? - profile[j - 1]?))
                .collect();
            let best = deriv
                .iter()
                .enumerate()
                .filter_map(|(j, d)| d.map(|d| (j, d)))
                .min_by(|x, y| x.1.total_cmp(&y.1));
            let Some((j, d)) = best else { continue };
            if d > -16.0 {
                continue;
            }
            let mut off = j as f64 - f64::from(steps);
            if let (Some(Some(dl)), Some(Some(dr))) =
                (deriv.get(j.wrapping_sub(1)), deriv.get(j + 1))
            {
                let denom = f64::from(dl - 2.0 * d + dr);
                if denom.abs() > 1e-6 {
                    off += (0.5 * f64::from(dl - dr) / denom).clamp(-0.5, 0.5);
                }
            }
            found.push((p.0 + off * n.0, p.1 + off * n.1));
        }
        let line = if found.len() >= 10 {
            let l = fit_line_trimmed(&found).unwrap_or(base);
            if l.distance(a).abs() <= reach + 1.0 && l.distance(b).abs() <= reach + 1.0 {
                l
            } else {
                base
            }
        } else {
            base
        };
        lines.push(line);
    }
    let mut out = [(0.0, 0.0); 4];
    for (i, o) in out.iter_mut().enumerate() {
        *o = lines[(i + 3) % 4].intersect(&lines[i])?;
    }
    let moved_ok = out
        .iter()
        .zip(quad)
        .all(|(p, q)| dist(*p, *q) <= 3.0 * reach + 2.0);
    (moved_ok && is_convex(&out)).then_some(out)
}

/// Orders four corners clockwise on screen starting at the top-left.
fn order_corners(q: [(f64, f64); 4]) -> [(f64, f64); 4] {
    let cx = q.iter().map(|p| p.0).sum::<f64>() / 4.0;
    let cy = q.iter().map(|p| p.1).sum::<f64>() / 4.0;
    let mut v = q.to_vec();
    // Increasing atan2 in y-down coordinates runs clockwise on screen.
    v.sort_by(|a, b| {
        (a.1 - cy)
            .atan2(a.0 - cx)
            .total_cmp(&(b.1 - cy).atan2(b.0 - cx))
    });
    let start = (0..4)
        .min_by(|&i, &j| (v[i].0 + v[i].1).total_cmp(&(v[j].0 + v[j].1)))
        .unwrap_or(0);
    [
        v[start],
        v[(start + 1) % 4],
        v[(start + 2) % 4],
        v[(start + 3) % 4],
    ]
}

/// Width / height of the page seen as `quad` (TL, TR, BR, BL) in a `w`×`h` frame: from the
/// perspective with the focal length estimated (principal point at the centre, square pixels;
/// Zhang & He 2007), else from mean opposite side lengths.
fn page_aspect(quad: &[(f64, f64); 4], w: f64, h: f64) -> f64 {
    let side = |a: usize, b: usize| dist(quad[a], quad[b]);
    let simple = (side(0, 1) + side(3, 2)) / (side(0, 3) + side(1, 2)).max(1e-9);
    let (u0, v0) = (w / 2.0, h / 2.0);
    let hv = |p: (f64, f64)| [p.0 - u0, p.1 - v0, 1.0];
    let (m1, m2, m3, m4) = (hv(quad[0]), hv(quad[1]), hv(quad[3]), hv(quad[2]));
    let cr = |a: [f64; 3], b: [f64; 3]| {
        [
            a[1] * b[2] - a[2] * b[1],
            a[2] * b[0] - a[0] * b[2],
            a[0] * b[1] - a[1] * b[0],
        ]
    };
    let dot = |a: [f64; 3], b: [f64; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let k2 = dot(cr(m1, m4), m3) / dot(cr(m2, m4), m3);
    let k3 = dot(cr(m1, m4), m2) / dot(cr(m3, m4), m2);
    let n2 = [k2 * m2[0] - m1[0], k2 * m2[1] - m1[1], k2 * m2[2] - m1[2]];
    let n3 = [k3 * m3[0] - m1[0], k3 * m3[1] - m1[1], k3 * m3[2] - m1[2]];
    let denom = n2[2] * n3[2];
    let diag = (w * w + h * h).sqrt();
    let f2 = -(n2[0] * n3[0] + n2[1] * n3[1]) / denom;
    // Near-frontal views leave f undetermined: use the affine ratio then.
    let ratio2 = if denom.abs() > 1e-9
        && f2.is_finite()
        && f2 > (0.3 * diag).powi(2)
        && f2 < (8.0 * diag).powi(2)
    {
        (n2[0] * n2[0] + n2[1] * n2[1] + f2 * n2[2] * n2[2])
            / (n3[0] * n3[0] + n3[1] * n3[1] + f2 * n3[2] * n3[2])
    } else {
        (n2[0] * n2[0] + n2[1] * n2[1]) / (n3[0] * n3[0] + n3[1] * n3[1])
    };
    let persp = ratio2.sqrt();
    if persp.is_finite() && persp > 0.0 && (persp / simple - 1.0).abs() < 0.25 {
        persp
    } else if simple.is_finite() && simple > 0.0 {
        simple
    } else {
        1.0
    }
}

// ---------------------------------------------------------------------------------------------
// Warping

/// Bilinear RGB at pixel-edge coordinates, clamped to the image.
fn sample_rgb(raw: &[u8], w: usize, h: usize, x: f64, y: f64) -> [f32; 3] {
    let cx = (x - 0.5).clamp(0.0, (w - 1) as f64);
    let cy = (y - 0.5).clamp(0.0, (h - 1) as f64);
    let (x0, y0) = (cx.floor() as usize, cy.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (ax, ay) = ((cx - x0 as f64) as f32, (cy - y0 as f64) as f32);
    let px = |x: usize, y: usize| {
        let i = (y * w + x) * 3;
        [raw[i], raw[i + 1], raw[i + 2]].map(f32::from)
    };
    let (a, b, c, d) = (px(x0, y0), px(x1, y0), px(x0, y1), px(x1, y1));
    let mut out = [0.0; 3];
    for k in 0..3 {
        let top = a[k] + (b[k] - a[k]) * ax;
        let bot = c[k] + (d[k] - c[k]) * ax;
        out[k] = top + (bot - top) * ay;
    }
    out
}

/// Catmull-Rom weights of the four samples round a point `t` (0–1) past the second.
fn cubic_weights(t: f32) -> [f32; 4] {
    let (t2, t3) = (t * t, t * t * t);
    [
        0.5 * (-t3 + 2.0 * t2 - t),
        0.5 * (3.0 * t3 - 5.0 * t2 + 2.0),
        0.5 * (-3.0 * t3 + 4.0 * t2 + t),
        0.5 * (t3 - t2),
    ]
}

/// Bicubic (Catmull-Rom) RGB at pixel-edge coordinates, clamped to the image.
fn sample_rgb_cubic(raw: &[u8], w: usize, h: usize, x: f64, y: f64) -> [f32; 3] {
    let cx = (x - 0.5).clamp(0.0, (w - 1) as f64);
    let cy = (y - 0.5).clamp(0.0, (h - 1) as f64);
    let (x0, y0) = (cx.floor() as i64, cy.floor() as i64);
    let wx = cubic_weights((cx - x0 as f64) as f32);
    let wy = cubic_weights((cy - y0 as f64) as f32);
    let (wi, hi) = (w as i64 - 1, h as i64 - 1);
    let mut out = [0.0f32; 3];
    for (j, &ky) in wy.iter().enumerate() {
        let yy = (y0 + j as i64 - 1).clamp(0, hi) as usize;
        for (i, &kx) in wx.iter().enumerate() {
            let xx = (x0 + i as i64 - 1).clamp(0, wi) as usize;
            let k = kx * ky;
            let at = (yy * w + xx) * 3;
            for (c, o) in out.iter_mut().enumerate() {
                *o += k * f32::from(raw[at + c]);
            }
        }
    }
    out.map(|v| v.clamp(0.0, 255.0))
}

/// Output pixel → page (via `to_page`, must stay in `0..pw × 0..ph`, else `fill`) → input (via
/// `to_input`), bilinear.
fn warp_rgb(
    img: &RgbImage,
    ow: u32,
    oh: u32,
    to_page: &Homography,
    (pw, ph): (f64, f64),
    to_input: &Homography,
    fill: [u8; 3],
) -> RgbImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let raw = img.as_raw();
    let mut out = vec![0u8; ow as usize * oh as usize * 3];
    out.par_chunks_mut((ow as usize * 3).max(1))
        .enumerate()
        .for_each(|(y, row)| {
            let py = y as f64 + 0.5;
            for (x, px) in row.chunks_exact_mut(3).enumerate() {
                let p = to_page.map(x as f64 + 0.5, py);
                let v = p
                    .filter(|&(u, v)| u >= 0.0 && v >= 0.0 && u <= pw && v <= ph)
                    .and_then(|(u, v)| to_input.map(u, v))
                    .map(|(sx, sy)| sample_rgb(raw, w, h, sx, sy).map(|c| c.round() as u8));
                px.copy_from_slice(&v.unwrap_or(fill));
            }
        });
    RgbImage::from_raw(ow, oh, out).unwrap_or_else(|| RgbImage::new(ow, oh))
}

/// The luma of the page `0..ow × 0..oh` mapped into the input by `to_input`.
fn warp_luma(img: &RgbImage, ow: u32, oh: u32, to_input: &Homography) -> Plane {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let raw = img.as_raw();
    let (ow, oh) = (ow as usize, oh as usize);
    let mut data = vec![0.0f32; ow * oh];
    data.par_chunks_mut(ow.max(1))
        .enumerate()
        .for_each(|(y, row)| {
            for (x, o) in row.iter_mut().enumerate() {
                *o = to_input
                    .map(x as f64 + 0.5, y as f64 + 0.5)
                    .map(|(sx, sy)| {
                        let c = sample_rgb(raw, w, h, sx, sy);
                        0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
                    })
                    .unwrap_or(0.0);
            }
        });
    Plane { w: ow, h: oh, data }
}

/// Median colour of the page (`0..pw × 0..ph` mapped by `to_input`), from a sparse grid.
fn paper_colour(img: &RgbImage, to_input: &Homography, (pw, ph): (f64, f64)) -> [u8; 3] {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let raw = img.as_raw();
    let mut ch: [Vec<u8>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for j in 0..24 {
        for i in 0..24 {
            let u = pw * (0.1 + 0.8 * (f64::from(i) + 0.5) / 24.0);
            let v = ph * (0.1 + 0.8 * (f64::from(j) + 0.5) / 24.0);
            if let Some((x, y)) = to_input.map(u, v) {
                let c = sample_rgb(raw, w, h, x, y);
                for k in 0..3 {
                    ch[k].push(c[k].round() as u8);
                }
            }
        }
    }
    ch.map(|mut v| {
        v.sort_unstable();
        v.get(v.len() / 2).copied().unwrap_or(255)
    })
}

// ---------------------------------------------------------------------------------------------
// Deskew

/// Text skew in degrees (positive: lines descend to the right) by projection-profile energy of
/// locally dark pixels; 0 when the page has too little text or no clear peak.
fn estimate_skew(p: &Plane, cfg: &GeometryConfig, deadline: &Deadline) -> Result<f32, StageError> {
    let (w, h) = (p.w, p.h);
    if w < 64 || h < 64 {
        return Ok(0.0);
    }
    // Local mean through an integral image.
    let r = 10usize;
    let mut ii = vec![0.0f64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0.0;
        for x in 0..w {
            row += f64::from(p.at(x, y));
            ii[(y + 1) * (w + 1) + x + 1] = ii[y * (w + 1) + x + 1] + row;
        }
    }
    let (mx, my) = (w * 4 / 100, h * 4 / 100);
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let mut pts: Vec<(f32, f32)> = Vec::new();
    for y in my..h - my {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in mx..w - mx {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let s = ii[y1 * (w + 1) + x1] - ii[y0 * (w + 1) + x1] - ii[y1 * (w + 1) + x0]
                + ii[y0 * (w + 1) + x0];
            let mean = s / ((y1 - y0) * (x1 - x0)) as f64;
            if f64::from(p.at(x, y)) < mean - 12.0 {
                pts.push((x as f32 - cx, y as f32 - cy));
            }
        }
    }
    if pts.len() < 300 {
        return Ok(0.0);
    }
    if pts.len() > 200_000 {
        let step = pts.len().div_ceil(200_000);
        pts = pts.into_iter().step_by(step).collect();
    }
    let half = ((w * w + h * h) as f32).sqrt() / 2.0 + 2.0;
    let nbins = (2.0 * half) as usize + 2;
    let mut hist = vec![0u32; nbins];
    let mut energy = |deg: f32| -> f64 {
        hist.iter_mut().for_each(|v| *v = 0);
        let (s, c) = deg.to_radians().sin_cos();
        for &(x, y) in &pts {
            let b = (y * c - x * s + half) as usize;
            if let Some(v) = hist.get_mut(b) {
                *v += 1;
            }
        }
        hist.iter().map(|&v| f64::from(v) * f64::from(v)).sum()
    };
    let max = cfg.max_skew_degrees.abs();
    let coarse = cfg.skew_coarse_step.max(0.01);
    let fine = cfg.skew_fine_step.max(0.005);
    let n_coarse = (max / coarse).floor() as i32;
    let mut scores = Vec::new();
    for i in -n_coarse..=n_coarse {
        deadline.check()?;
        let a = i as f32 * coarse;
        scores.push((a, energy(a)));
    }
    let Some(&(best_c, best_e)) = scores.iter().max_by(|a, b| a.1.total_cmp(&b.1)) else {
        return Ok(0.0);
    };
    let mut sorted: Vec<f64> = scores.iter().map(|s| s.1).collect();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(best_e);
    if median <= 0.0 || best_e / median < f64::from(cfg.min_skew_peak_ratio) {
        return Ok(0.0);
    }
    let n_fine = (coarse / fine).ceil() as i32;
    let mut fines = Vec::new();
    for i in -n_fine..=n_fine {
        let a = best_c + i as f32 * fine;
        if a.abs() <= max + 1e-3 {
            fines.push((a, energy(a)));
        }
    }
    deadline.check()?;
    let Some(bi) = (0..fines.len()).max_by(|&a, &b| fines[a].1.total_cmp(&fines[b].1)) else {
        return Ok(best_c);
    };
    let mut angle = fines[bi].0;
    if bi > 0 && bi + 1 < fines.len() {
        let (l, c, r) = (fines[bi - 1].1, fines[bi].1, fines[bi + 1].1);
        let denom = l - 2.0 * c + r;
        if denom.abs() > 1e-9 {
            angle += (0.5 * (l - r) / denom).clamp(-0.5, 0.5) as f32 * fine;
        }
    }
    Ok(angle)
}

// ---------------------------------------------------------------------------------------------
// Quality gate

const BLURRED_EN: &str = "The photo is blurred; please hold the document still and take it again.";
const BLURRED_BN: &str = "ছবিটি ঝাপসা; অনুগ্রহ করে কাগজটি স্থির রেখে আবার ছবি তুলুন।";
const DARK_EN: &str =
    "The photo is too dark to read; please add light or move to a brighter place and take it again.";
const DARK_BN: &str = "ছবিটি খুব অন্ধকার; অনুগ্রহ করে আরও আলোতে রেখে আবার ছবি তুলুন।";
const GLARE_EN: &str = "Light glare hides part of the document; please tilt the paper or move it away from the lamp and take it again.";
const GLARE_BN: &str =
    "আলোর ঝলকে কাগজের কিছু অংশ দেখা যাচ্ছে না; অনুগ্রহ করে কাগজটি একটু কাত করে বা আলো থেকে সরিয়ে আবার ছবি তুলুন।";
const CUT_EN: &str = "Part of the document is outside the photo; please place the whole page inside the frame and take it again.";
const CUT_BN: &str =
    "কাগজের কিছু অংশ ছবির বাইরে রয়ে গেছে; অনুগ্রহ করে পুরো পাতাটি ফ্রেমের ভেতরে রেখে আবার ছবি তুলুন।";
const SMALL_EN: &str = "The document is too small in the photo to read; please bring it closer to the camera and take it again.";
const SMALL_BN: &str =
    "ছবিতে কাগজটি পড়ার জন্য খুব ছোট; অনুগ্রহ করে কাগজটি ক্যামেরার আরও কাছে এনে আবার ছবি তুলুন।";

/// Measures the page and adds the quality findings to `cap`.
fn quality_gate(
    cap: &mut Capture,
    cfg: &GeometryConfig,
    deadline: &Deadline,
) -> Result<(), StageError> {
    let (pw, ph) = cap.page.dimensions();
    let (ww, wh) = fit(pw, ph, cfg.work_long_side);
    let work = area_downscale(&cap.page, ww, wh, luma);
    deadline.check()?;
    let hist = histogram(work.data.iter().copied());
    let paper = percentile(&hist, 0.75);
    let paper_low = percentile(&hist, 0.25);
    cap.metrics.paper_luma = paper;
    cap.metrics.sharpness = sharpness(&work, cfg, paper);
    deadline.check()?;
    let (glare_frac, glare_box) = glare(&work, cfg, paper_low);
    cap.metrics.glare_fraction = glare_frac;

    let whole_page = cap.page_to_input(Region::new(0, 0, pw, ph));
    let medium = |code: &str, points: u32, en: &str, bn: &str, r: Region| {
        Finding::new(code, Stage::Geometry, Severity::Medium, points, en, bn).with_regions(vec![r])
    };
    let m = cap.metrics;
    if m.sharpness.is_some_and(|s| s < cfg.min_sharpness) {
        cap.findings.push(medium(
            "photo_blurred",
            cfg.points_blurred,
            BLURRED_EN,
            BLURRED_BN,
            whole_page,
        ));
    }
    if m.paper_luma < cfg.min_paper_luma {
        cap.findings.push(medium(
            "photo_too_dark",
            cfg.points_too_dark,
            DARK_EN,
            DARK_BN,
            whole_page,
        ));
    }
    if glare_frac >= cfg.glare_min_fraction {
        let sx = f64::from(pw) / work.w as f64;
        let sy = f64::from(ph) / work.h as f64;
        let (x0, y0, x1, y1) = glare_box;
        let r = Region::new(
            (x0 as f64 * sx) as u32,
            (y0 as f64 * sy) as u32,
            ((x1 - x0) as f64 * sx).ceil() as u32,
            ((y1 - y0) as f64 * sy).ceil() as u32,
        );
        let r = cap.page_to_input(r);
        cap.findings.push(medium(
            "photo_glare",
            cfg.points_glare,
            GLARE_EN,
            GLARE_BN,
            r,
        ));
    }
    if m.cut_off {
        cap.findings.push(medium(
            "page_cut_off",
            cfg.points_cut_off,
            CUT_EN,
            CUT_BN,
            whole_page,
        ));
    }
    let small_area =
        cap.kind == CaptureKind::Photo && m.page_area_fraction < cfg.min_page_area_fraction;
    if small_area || m.page_short_side < cfg.min_page_short_side {
        cap.findings.push(medium(
            "page_too_small",
            cfg.points_too_small,
            SMALL_EN,
            SMALL_BN,
            whole_page,
        ));
    }
    Ok(())
}

/// Σ|Laplacian| / Σ|gradient| over edge pixels, 3 % in from the page's edges. A step blurred
/// by a Gaussian of σ px scores about 0.8/σ whatever its contrast or how many edges there are.
/// `Some(0)` when there is ink but no edge at all (extreme blur), `None` for a blank page.
fn sharpness(p: &Plane, cfg: &GeometryConfig, paper: f32) -> Option<f32> {
    let (w, h) = (p.w, p.h);
    if w < 16 || h < 16 {
        return None;
    }
    let (mx, my) = ((w * 3 / 100).max(1), (h * 3 / 100).max(1));
    let mut grads = Vec::with_capacity((w - 2 * mx) * (h - 2 * my));
    let mut ink = 0usize;
    for y in my..h - my {
        for x in mx..w - mx {
            let a =
                |dx: isize, dy: isize| p.at((x as isize + dx) as usize, (y as isize + dy) as usize);
            let gx =
                (a(1, -1) + 2.0 * a(1, 0) + a(1, 1) - a(-1, -1) - 2.0 * a(-1, 0) - a(-1, 1)) / 8.0;
            let gy =
                (a(-1, 1) + 2.0 * a(0, 1) + a(1, 1) - a(-1, -1) - 2.0 * a(0, -1) - a(1, -1)) / 8.0;
            let lap = a(1, 0) + a(-1, 0) + a(0, 1) + a(0, -1) - 4.0 * a(0, 0);
            grads.push(((gx * gx + gy * gy).sqrt(), lap.abs()));
            if a(0, 0) < paper - 40.0 {
                ink += 1;
            }
        }
    }
    let mut mags: Vec<f32> = grads.iter().map(|g| g.0).collect();
    let k = mags.len() * 995 / 1000;
    let p995 = if k < mags.len() {
        *mags.select_nth_unstable_by(k, f32::total_cmp).1
    } else {
        0.0
    };
    let thresh = cfg.min_edge_gradient.max(0.2 * p995);
    let (mut sl, mut sg, mut n) = (0.0f64, 0.0f64, 0usize);
    for &(g, l) in &grads {
        if g >= thresh {
            sl += f64::from(l);
            sg += f64::from(g);
            n += 1;
        }
    }
    let area = grads.len().max(1);
    if n < 100 || sg <= 0.0 {
        // No edges: blank paper, or text blurred beyond any edge.
        return (ink * 1000 >= area).then_some(0.0);
    }
    Some((sl / sg) as f32)
}

/// Largest 4-connected blob of 8×8 cells that are ≥ 90 % clipped and brighter than the paper:
/// its fraction of the page and its box (working-page pixels, x0, y0, x1, y1).
fn glare(p: &Plane, cfg: &GeometryConfig, paper: f32) -> (f32, (usize, usize, usize, usize)) {
    let level = f32::from(cfg.glare_min_luma).max(paper + cfg.glare_min_contrast);
    let c = 8usize;
    let (cw, ch) = (p.w / c, p.h / c);
    if cw == 0 || ch == 0 {
        return (0.0, (0, 0, 0, 0));
    }
    let mut cells = vec![false; cw * ch];
    for cy in 0..ch {
        for cx in 0..cw {
            let mut n = 0;
            for y in cy * c..(cy + 1) * c {
                for x in cx * c..(cx + 1) * c {
                    n += usize::from(p.at(x, y) >= level);
                }
            }
            cells[cy * cw + cx] = n * 10 >= c * c * 9;
        }
    }
    let mut seen = vec![false; cw * ch];
    let mut best = (0usize, (0, 0, 0, 0));
    let mut stack = Vec::new();
    for s in 0..cw * ch {
        if !cells[s] || seen[s] {
            continue;
        }
        seen[s] = true;
        stack.push(s);
        let (mut n, mut bx) = (0usize, (usize::MAX, usize::MAX, 0, 0));
        while let Some(i) = stack.pop() {
            n += 1;
            let (x, y) = (i % cw, i / cw);
            bx = (bx.0.min(x), bx.1.min(y), bx.2.max(x + 1), bx.3.max(y + 1));
            let nb = [
                (x > 0).then(|| i - 1),
                (x + 1 < cw).then(|| i + 1),
                (y > 0).then(|| i - cw),
                (y + 1 < ch).then(|| i + cw),
            ];
            for j in nb.into_iter().flatten() {
                if cells[j] && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        if n > best.0 {
            best = (n, (bx.0 * c, bx.1 * c, bx.2 * c, bx.3 * c));
        }
    }
    // Glare is a hot spot: the paper elsewhere must be clearly less bright. On a page that is
    // just brightly lit (or a white sheet overexposed evenly) the paper around the blob is as
    // clipped as the blob itself.
    let (x0, y0, x1, y1) = best.1;
    let mut outside = [0u64; 256];
    for y in 0..p.h {
        for x in 0..p.w {
            if !(x >= x0 && x < x1 && y >= y0 && y < y1) {
                outside[p.at(x, y).clamp(0.0, 255.0) as usize] += 1;
            }
        }
    }
    let n_out: u64 = outside.iter().sum();
    if best.0 == 0 || n_out * 20 < (p.w * p.h) as u64 {
        return (0.0, best.1);
    }
    let surround = percentile(&outside, 0.75);
    if surround > level - cfg.glare_min_contrast / 3.0 {
        return (0.0, best.1);
    }
    let frac = (best.0 * c * c) as f32 / (p.w * p.h) as f32;
    (frac, best.1)
}
