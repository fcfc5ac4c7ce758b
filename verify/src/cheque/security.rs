//! Cheque security features: the periodic background pattern (global 2-D FFT peak, and a
//! per-tile map of how much of that period each 32×32 tile still carries: a pasted patch or an
//! erased field breaks it), parallel security lines, microprint density, and matching against
//! reference designs (a directory per bank: `template.png` + `layout.json` with the field
//! boxes; `no_template_match` when none is close).
//!
//! Everything is measured on the cheque cut out of the image (the bright paper area) and
//! resized to a canonical [`CANON_W`]×[`CANON_H`] page; field boxes come from the matched
//! template's layout and are mapped back to image pixels for findings.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use image::{GrayImage, Luma, RgbImage};
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use serde::Deserialize;

use crate::report::{Finding, Region, Severity, Stage};

/// Canonical page width in pixels.
pub const CANON_W: u32 = 1400;
/// Canonical page height in pixels.
pub const CANON_H: u32 = 640;
/// Tile side for the pattern map.
const TILE: usize = 32;
/// Rows of the canonical page above the MICR clear band.
const PATTERN_ROWS: u32 = 512;

/// The fields a layout places, in the order features use them.
pub const LAYOUT_FIELDS: [&str; 6] = [
    "date",
    "payee",
    "amount_words",
    "amount_figures",
    "signature",
    "micr",
];

/// A reference design.
#[derive(Debug, Clone)]
pub struct Template {
    /// Bank name (as in the routing directory).
    pub bank: String,
    /// The routing number's bank code (three digits).
    pub routing_bank_code: String,
    /// The blank design, any size (compared after resizing).
    pub image: RgbImage,
    /// Field boxes as fractions of the page: x, y, w, h.
    pub fields: BTreeMap<String, [f32; 4]>,
}

#[derive(Debug, Deserialize)]
struct LayoutFile {
    bank: String,
    routing_bank_code: String,
    fields: BTreeMap<String, [f32; 4]>,
}

/// Why templates could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("reading {0}: {1}")]
    Io(String, std::io::Error),
    #[error("template image {0}: {1}")]
    Image(String, image::ImageError),
    #[error("layout {0}: {1}")]
    Layout(String, serde_json::Error),
}

impl Template {
    /// A template from its image bytes and `layout.json` text.
    pub fn from_parts(name: &str, png: &[u8], layout: &str) -> Result<Template, TemplateError> {
        let image = image::load_from_memory(png)
            .map_err(|e| TemplateError::Image(name.to_owned(), e))?
            .to_rgb8();
        let l: LayoutFile =
            serde_json::from_str(layout).map_err(|e| TemplateError::Layout(name.to_owned(), e))?;
        Ok(Template {
            bank: l.bank,
            routing_bank_code: l.routing_bank_code,
            image,
            fields: l.fields,
        })
    }
}

/// A set of reference designs.
#[derive(Debug, Clone, Default)]
pub struct Templates(pub Vec<Template>);

macro_rules! built_in {
    ($($slug:literal),*) => {
        &[$((
            $slug,
            include_bytes!(concat!("../../data/cheque-templates/", $slug, "/template.png")).as_slice(),
            include_str!(concat!("../../data/cheque-templates/", $slug, "/layout.json")),
        )),*]
    };
}

/// The designs shipped in `verify/data/cheque-templates` (made by `jachai-chequegen --templates`).
const BUILT_IN: &[(&str, &[u8], &str)] = built_in!(
    "sonali-bank-limited",
    "agrani-bank-limited",
    "janata-bank-limited",
    "rupali-bank-limited",
    "pubali-bank-limited",
    "brac-bank-limited"
);

impl Templates {
    /// The shipped designs.
    pub fn built_in() -> &'static Templates {
        static T: std::sync::OnceLock<Templates> = std::sync::OnceLock::new();
        T.get_or_init(|| {
            Templates(
                BUILT_IN
                    .iter()
                    .filter_map(|(n, png, layout)| Template::from_parts(n, png, layout).ok())
                    .collect(),
            )
        })
    }

    /// Every `DIR/*/template.png` with its `layout.json`.
    pub fn load_dir(dir: &Path) -> Result<Templates, TemplateError> {
        let io = |p: &Path, e| TemplateError::Io(p.display().to_string(), e);
        let mut dirs: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| io(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("template.png").is_file())
            .collect();
        dirs.sort();
        let mut out = Vec::new();
        for d in dirs {
            let png = std::fs::read(d.join("template.png")).map_err(|e| io(&d, e))?;
            let layout = std::fs::read_to_string(d.join("layout.json")).map_err(|e| io(&d, e))?;
            out.push(Template::from_parts(
                &d.display().to_string(),
                &png,
                &layout,
            )?);
        }
        Ok(Templates(out))
    }
}

/// Thresholds of the security checks.
#[derive(Debug, Clone)]
pub struct SecurityConfig {
    /// A design matches at or above this score (0–1).
    pub min_template_score: f32,
    /// A field's pattern strength below this share of the page's median is a break.
    pub max_break_ratio: f32,
    /// The background pattern counts as present at or above this log10 peak-to-median ratio.
    pub min_pattern_peak: f32,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            min_template_score: 0.2,
            max_break_ratio: 0.25,
            min_pattern_peak: 1.6,
        }
    }
}

/// What the security checks measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Security {
    /// The cheque's box in the image.
    pub page: Option<Region>,
    /// The best design: bank, routing bank code, score.
    pub template: Option<(String, String, f32)>,
    /// Best template score (0 when there are no templates).
    pub template_score: f32,
    /// log10 of the FFT peak over the median power in the 4–24 px period band.
    pub pattern_peak: f32,
    /// Period of that peak, pixels of the canonical page.
    pub pattern_period: f32,
    /// Median share of tile energy at the pattern's frequency.
    pub tile_median: f32,
    /// Share of tiles whose pattern strength is under a third of the median.
    pub low_tiles: f32,
    /// Per layout field: its pattern strength over the median, and its box in the image.
    pub fields: Vec<(String, f32, Region)>,
    /// Most horizontal lines in one closely spaced parallel group.
    pub parallel_lines: u32,
    /// Dark/light transitions per 100 px on the densest row (microprint reaches 25+).
    pub microprint: f32,
}

fn luma(p: &image::Rgb<u8>) -> f32 {
    0.299 * f32::from(p.0[0]) + 0.587 * f32::from(p.0[1]) + 0.114 * f32::from(p.0[2])
}

/// The longest run of indices where `on` holds.
fn longest_run(on: &[bool]) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    let mut start = None;
    for (i, &v) in on.iter().chain(std::iter::once(&false)).enumerate() {
        match (v, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if best.is_none_or(|(a, b)| i - s > b - a) {
                    best = Some((s, i));
                }
                start = None;
            }
            _ => {}
        }
    }
    best
}

/// The bright paper area (Otsu on luma; the longest run of rows and of columns that are at
/// least 40 % paper).
pub fn find_page(img: &RgbImage) -> Option<Region> {
    let (w, h) = img.dimensions();
    if w < 32 || h < 32 {
        return None;
    }
    let gray = GrayImage::from_fn(w, h, |x, y| Luma([luma(img.get_pixel(x, y)) as u8]));
    let t = imageproc::contrast::otsu_level(&gray);
    let bright = |x: u32, y: u32| gray.get_pixel(x, y).0[0] > t;
    let rows: Vec<bool> = (0..h)
        .map(|y| (0..w).filter(|&x| bright(x, y)).count() as f32 > 0.4 * w as f32)
        .collect();
    let (y0, y1) = longest_run(&rows)?;
    let cols: Vec<bool> = (0..w)
        .map(|x| {
            (y0 as u32..y1 as u32).filter(|&y| bright(x, y)).count() as f32 > 0.4 * (y1 - y0) as f32
        })
        .collect();
    let (x0, x1) = longest_run(&cols)?;
    let r = Region::new(x0 as u32, y0 as u32, (x1 - x0) as u32, (y1 - y0) as u32);
    // Too small to be the cheque: take the whole image.
    if r.area() * 4 < u64::from(w) * u64::from(h) {
        return Some(Region::new(0, 0, w, h));
    }
    Some(r)
}

/// A 2-D FFT of `data` (`w`×`h`, row-major), in place.
fn fft2(
    data: &mut [Complex<f32>],
    w: usize,
    h: usize,
    row: &Arc<dyn Fft<f32>>,
    col: &Arc<dyn Fft<f32>>,
) {
    for r in data.chunks_mut(w) {
        row.process(r);
    }
    let mut column = vec![Complex::new(0.0, 0.0); h];
    for x in 0..w {
        for (y, c) in column.iter_mut().enumerate() {
            *c = data[y * w + x];
        }
        col.process(&mut column);
        for (y, c) in column.iter().enumerate() {
            data[y * w + x] = *c;
        }
    }
}

fn hann(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / (n - 1) as f32).cos())
        .collect()
}

/// Mean-removed, Hann-windowed block of `g` at (`x0`, `y0`), `w`×`h`.
fn windowed(
    g: &[f32],
    gw: usize,
    (x0, y0): (usize, usize),
    (w, h): (usize, usize),
    wx: &[f32],
    wy: &[f32],
) -> Vec<Complex<f32>> {
    let mut sum = 0.0;
    for y in 0..h {
        for x in 0..w {
            sum += g[(y0 + y) * gw + x0 + x];
        }
    }
    let mean = sum / (w * h) as f32;
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            out.push(Complex::new(
                (g[(y0 + y) * gw + x0 + x] - mean) * wx[x] * wy[y],
                0.0,
            ));
        }
    }
    out
}

/// Signed frequency of bin `k` of an `n`-point FFT, cycles per pixel.
fn freq(k: usize, n: usize) -> f32 {
    if k <= n / 2 {
        k as f32 / n as f32
    } else {
        (k as f32 - n as f32) / n as f32
    }
}

/// The page pattern's strongest frequency (fx, fy) in cycles/px and log10 peak/median.
fn global_pattern(g: &[f32], gw: usize, planner: &mut FftPlanner<f32>) -> ((f32, f32), f32) {
    let (w, h) = (1024usize, 512usize);
    let x0 = (gw - w) / 2;
    let (wx, wy) = (hann(w), hann(h));
    let mut data = windowed(g, gw, (x0, 0), (w, h), &wx, &wy);
    let (row, col) = (planner.plan_fft_forward(w), planner.plan_fft_forward(h));
    fft2(&mut data, w, h, &row, &col);
    let mut band = Vec::new();
    let mut best = (0.0f32, (0.0, 0.0));
    for v in 0..h {
        for u in 0..w / 2 + 1 {
            let (fx, fy) = (freq(u, w), freq(v, h));
            let f = (fx * fx + fy * fy).sqrt();
            if !(1.0 / 24.0..=1.0 / 4.0).contains(&f) {
                continue;
            }
            let p = data[v * w + u].norm_sqr();
            band.push(p);
            if p > best.0 {
                best = (p, (fx, fy));
            }
        }
    }
    if band.is_empty() {
        return ((0.0, 0.0), 0.0);
    }
    let mid = band.len() / 2;
    let median = *band.select_nth_unstable_by(mid, f32::total_cmp).1;
    (best.1, (best.0 / median.max(1e-12)).log10())
}

/// Per-tile share of the tile's (non-DC) energy at the pattern's frequency.
fn tile_map(
    g: &[f32],
    gw: usize,
    f: (f32, f32),
    planner: &mut FftPlanner<f32>,
) -> (usize, usize, Vec<f32>) {
    let (tw, th) = (gw / TILE, PATTERN_ROWS as usize / TILE);
    let win = hann(TILE);
    let fft = planner.plan_fft_forward(TILE);
    let bu = (f.0 * TILE as f32).round() as i32;
    let bv = (f.1 * TILE as f32).round() as i32;
    let mut out = Vec::with_capacity(tw * th);
    for ty in 0..th {
        for tx in 0..tw {
            let mut data = windowed(g, gw, (tx * TILE, ty * TILE), (TILE, TILE), &win, &win);
            fft2(&mut data, TILE, TILE, &fft, &fft);
            let total: f32 = data.iter().skip(1).map(|c| c.norm_sqr()).sum();
            let mut at = 0.0;
            for (su, sv) in [(bu, bv), (-bu, -bv)] {
                for dv in -1..=1 {
                    for du in -1..=1 {
                        let u = (su + du).rem_euclid(TILE as i32) as usize;
                        let v = (sv + dv).rem_euclid(TILE as i32) as usize;
                        if u != 0 || v != 0 {
                            at += data[v * TILE + u].norm_sqr();
                        }
                    }
                }
            }
            out.push(if total > 0.0 { at / total } else { 0.0 });
        }
    }
    (tw, th, out)
}

/// Lines: rows whose longest dark run exceeds 200 px, grouped; the largest group of lines
/// spaced at most 5 px apart.
fn parallel_lines(g: &[f32], gw: usize, gh: usize) -> u32 {
    let line_rows: Vec<bool> = (0..gh)
        .map(|y| {
            let row = &g[y * gw..(y + 1) * gw];
            let mut sorted = row.to_vec();
            let mid = sorted.len() / 2;
            let median = *sorted.select_nth_unstable_by(mid, f32::total_cmp).1;
            let (mut run, mut best) = (0, 0);
            for &v in row {
                if v < median - 35.0 {
                    run += 1;
                    best = best.max(run);
                } else {
                    run = 0;
                }
            }
            best > 200
        })
        .collect();
    // Lines: runs of line rows; centres.
    let mut centres = Vec::new();
    let mut y = 0;
    while y < gh {
        if line_rows[y] {
            let s = y;
            while y < gh && line_rows[y] {
                y += 1;
            }
            centres.push((s + y) as f32 / 2.0);
        } else {
            y += 1;
        }
    }
    let (mut best, mut cur) = (u32::from(!centres.is_empty()), 1u32);
    for p in centres.windows(2) {
        if p[1] - p[0] <= 5.0 {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 1;
        }
    }
    best
}

/// Transitions per 100 px on the row with most of them (3-row mean), above the MICR band.
fn microprint(g: &[f32], gw: usize) -> f32 {
    let per_row: Vec<f32> = (0..PATTERN_ROWS as usize)
        .map(|y| {
            let row = &g[y * gw..(y + 1) * gw];
            let mean = row.iter().sum::<f32>() / gw as f32;
            let t = mean - 30.0;
            let flips = row.windows(2).filter(|p| (p[0] < t) != (p[1] < t)).count();
            flips as f32 * 100.0 / gw as f32
        })
        .collect();
    per_row
        .windows(3)
        .map(|w| w.iter().sum::<f32>() / 3.0)
        .fold(0.0, f32::max)
}

fn blurred_small(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    let small = image::imageops::resize(img, w, h, image::imageops::FilterType::Triangle);
    imageproc::filter::gaussian_blur_f32(&small, 1.5)
}

/// How alike a page and a template are: per-channel normalised cross-correlation of the
/// blurred, downscaled images, times a penalty for a different paper colour.
fn template_score(page: &RgbImage, t: &Template) -> f32 {
    let (w, h) = (175u32, 80u32);
    let a = blurred_small(page, w, h);
    let b = blurred_small(&t.image, w, h);
    let mut ncc = 0.0;
    for c in 0..3 {
        let va: Vec<f32> = a.pixels().map(|p| f32::from(p.0[c])).collect();
        let vb: Vec<f32> = b.pixels().map(|p| f32::from(p.0[c])).collect();
        let (ma, mb) = (
            va.iter().sum::<f32>() / va.len() as f32,
            vb.iter().sum::<f32>() / vb.len() as f32,
        );
        let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
        for (x, y) in va.iter().zip(&vb) {
            sab += (x - ma) * (y - mb);
            saa += (x - ma) * (x - ma);
            sbb += (y - mb) * (y - mb);
        }
        ncc += sab / (saa * sbb).sqrt().max(1e-6) / 3.0;
    }
    // Paper colour: the median of each channel, after scaling both to the same brightness.
    let median = |img: &RgbImage, c: usize| {
        let mut v: Vec<u8> = img.pixels().map(|p| p.0[c]).collect();
        let mid = v.len() / 2;
        f32::from(*v.select_nth_unstable(mid).1)
    };
    let pa: Vec<f32> = (0..3).map(|c| median(&a, c)).collect();
    let pb: Vec<f32> = (0..3).map(|c| median(&b, c)).collect();
    let (sa, sb) = (
        pa.iter().sum::<f32>().max(1.0),
        pb.iter().sum::<f32>().max(1.0),
    );
    let dist: f32 = pa
        .iter()
        .zip(&pb)
        .map(|(x, y)| (x / sa - y / sb).abs() * 765.0)
        .sum();
    ncc.max(0.0) * (-dist / 40.0).exp()
}

/// Measure the security features of the cheque in `img` against `templates`.
pub fn analyze(img: &RgbImage, templates: &Templates) -> Security {
    let mut s = Security::default();
    let Some(page_box) = find_page(img) else {
        return s;
    };
    s.page = Some(page_box);
    let crop =
        image::imageops::crop_imm(img, page_box.x, page_box.y, page_box.w, page_box.h).to_image();
    let canon = image::imageops::resize(
        &crop,
        CANON_W,
        CANON_H,
        image::imageops::FilterType::Triangle,
    );
    let (gw, gh) = (CANON_W as usize, CANON_H as usize);
    let g: Vec<f32> = canon.pixels().map(luma).collect();

    let best = templates
        .0
        .iter()
        .map(|t| (t, template_score(&canon, t)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((t, score)) = best {
        s.template = Some((t.bank.clone(), t.routing_bank_code.clone(), score));
        s.template_score = score;
    }

    let mut planner = FftPlanner::new();
    let (f, peak) = global_pattern(&g, gw, &mut planner);
    s.pattern_peak = peak;
    let fl = (f.0 * f.0 + f.1 * f.1).sqrt();
    s.pattern_period = if fl > 0.0 { 1.0 / fl } else { 0.0 };
    let (tw, th, tiles) = tile_map(&g, gw, f, &mut planner);
    let mut sorted = tiles.clone();
    let mid = sorted.len() / 2;
    let median = if sorted.is_empty() {
        0.0
    } else {
        *sorted.select_nth_unstable_by(mid, f32::total_cmp).1
    };
    s.tile_median = median;
    s.low_tiles =
        tiles.iter().filter(|&&p| p < median / 3.0).count() as f32 / tiles.len().max(1) as f32;

    // Field boxes: the best template's layout (any bank's layouts are close).
    let layout = best.map(|(t, _)| t.fields.clone()).unwrap_or_default();
    let sx = page_box.w as f32 / CANON_W as f32;
    let sy = page_box.h as f32 / CANON_H as f32;
    for name in LAYOUT_FIELDS {
        let Some(&[fx, fy, fw, fh]) = layout.get(name) else {
            continue;
        };
        let (cx0, cy0) = (fx * CANON_W as f32, fy * CANON_H as f32);
        let (cx1, cy1) = (cx0 + fw * CANON_W as f32, cy0 + fh * CANON_H as f32);
        let mut vals = Vec::new();
        for ty in 0..th {
            for tx in 0..tw {
                let (mx, my) = (
                    ((tx * TILE) + TILE / 2) as f32,
                    ((ty * TILE) + TILE / 2) as f32,
                );
                if mx >= cx0 && mx < cx1 && my >= cy0 && my < cy1 {
                    vals.push(tiles[ty * tw + tx]);
                }
            }
        }
        let ratio = if vals.is_empty() || median <= 0.0 {
            1.0
        } else {
            vals.iter().sum::<f32>() / vals.len() as f32 / median
        };
        let region = Region::new(
            page_box.x + (cx0 * sx) as u32,
            page_box.y + (cy0 * sy) as u32,
            ((cx1 - cx0) * sx).max(1.0) as u32,
            ((cy1 - cy0) * sy).max(1.0) as u32,
        );
        s.fields.push((name.to_owned(), ratio, region));
    }
    s.parallel_lines = parallel_lines(&g, gw, gh);
    s.microprint = microprint(&g, gw);
    s
}

/// Findings from the security features: no matching design, a design of another bank than the
/// routing number's, no background pattern, a broken pattern on the amount, payee or date.
pub fn findings(s: &Security, routing: Option<&str>, cfg: &SecurityConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    match &s.template {
        Some((bank, code, score)) if *score >= cfg.min_template_score => {
            if let Some(r) = routing.filter(|r| r.len() == 9 && !r.starts_with(code.as_str())) {
                out.push(Finding::new(
                    "template_bank_mismatch",
                    Stage::Structure,
                    Severity::High,
                    30,
                    format!("The cheque's design is {bank}'s, but its routing number {r} belongs to another bank."),
                    format!("চেকের নকশা {bank}-এর, কিন্তু রাউটিং নম্বর {r} অন্য ব্যাংকের।"),
                ));
            }
        }
        _ => out.push(Finding::new(
            "no_template_match",
            Stage::Structure,
            Severity::Medium,
            20,
            "The cheque does not match any known bank's cheque design.",
            "চেকটি কোনো পরিচিত ব্যাংকের চেকের নকশার সাথে মেলে না।",
        )),
    }
    if s.page.is_some() && s.pattern_peak < cfg.min_pattern_peak {
        out.push(Finding::new(
            "pattern_missing",
            Stage::Structure,
            Severity::Medium,
            15,
            "The cheque's periodic background security pattern was not found.",
            "চেকের পটভূমির নিরাপত্তা নকশা পাওয়া যায়নি।",
        ));
    } else {
        for (name, ratio, region) in &s.fields {
            if !["date", "payee", "amount_words", "amount_figures"].contains(&name.as_str()) {
                continue;
            }
            if *ratio < cfg.max_break_ratio {
                out.push(
                    Finding::new(
                        "pattern_break",
                        Stage::Structure,
                        Severity::High,
                        30,
                        format!("The background security pattern is broken under the {}: the area may have been pasted over or erased.", name.replace('_', " ")),
                        "পটভূমির নিরাপত্তা নকশা এই ঘরে ভাঙা: জায়গাটি ঢেকে বা মুছে ফেলা হয়ে থাকতে পারে।",
                    )
                    .with_regions(vec![*region]),
                );
            }
        }
    }
    out
}

impl Security {
    /// The pattern-strength ratio of layout field `name` (1 when not measured).
    pub fn field_ratio(&self, name: &str) -> f32 {
        self.fields
            .iter()
            .find(|(n, _, _)| n == name)
            .map_or(1.0, |f| f.1)
    }

    /// What the report shows under `fields.security`.
    pub fn report_map(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        if let Some((bank, code, score)) = &self.template {
            m.insert("template_bank".to_owned(), bank.clone());
            m.insert("template_bank_code".to_owned(), code.clone());
            m.insert("template_score".to_owned(), format!("{score:.3}"));
        }
        m.insert(
            "pattern_peak".to_owned(),
            format!("{:.3}", self.pattern_peak),
        );
        m.insert(
            "pattern_period".to_owned(),
            format!("{:.2}", self.pattern_period),
        );
        m.insert(
            "pattern_tile_median".to_owned(),
            format!("{:.4}", self.tile_median),
        );
        m.insert(
            "pattern_low_tiles".to_owned(),
            format!("{:.4}", self.low_tiles),
        );
        for (name, ratio, r) in &self.fields {
            m.insert(format!("pattern_{name}"), format!("{ratio:.3}"));
            m.insert(
                format!("box_{name}"),
                format!("{},{},{},{}", r.x, r.y, r.w, r.h),
            );
        }
        m.insert("parallel_lines".to_owned(), self.parallel_lines.to_string());
        m.insert("microprint".to_owned(), format!("{:.2}", self.microprint));
        m
    }
}
