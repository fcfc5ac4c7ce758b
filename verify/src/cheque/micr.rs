//! Reading an E-13B MICR line: tesseract's E-13B model reads the line, a per-glyph classifier
//! reads it again glyph by glyph, and the two reads are combined.
//!
//! Flow of [`MicrReader::read_line`]:
//!
//! 1. **Band.** Otsu's threshold (MICR is dark print on light paper; the band is small enough
//!    for one global threshold), connected components; the glyph height is the median height of
//!    the tall ones, the band runs from the median top to the median bottom of the glyphs.
//! 2. **Tesseract** (`e13b` model, single-line mode, the 14-character whitelist) reads the line
//!    image as given (a taller strip or a whole cheque is cut down to the band with a margin
//!    like the model's training lines); its characters and confidences are kept.
//! 3. **Prepare** for the classifier: specks and marks off the band (handwriting, a signature
//!    stroke, the edge of the cheque) are dropped, the slope of the glyph bottoms (Theil–Sen) is
//!    removed by rotation, and the kept components are drawn black on white, scaled so the
//!    glyph height is [`MicrConfig::target_height`] pixels.
//! 4. **Glyph cells.** The prepared line is cut into cells from its column projection
//!    ([`e13b::cells`]; E-13B is printed on a fixed pitch) and each cell is classified by
//!    nearest prototype ([`e13b::Classifier`]), with a margin saying how sure it is.
//! 5. **Combine** ([`combine`]): the two reads are aligned as strings (edit distance), not by
//!    tesseract's loose LSTM character boxes; where they disagree the classifier wins only when
//!    it is sure, a glyph tesseract skipped is added, and a character tesseract invented where
//!    the cutting found no glyph is dropped when tesseract was unsure.
//!
//! Measured held out on `../shared/data/e13b/lines` (MICR bench): tesseract alone 94.25 %,
//! combined 97.0 % line-exact on 400 lines at the same time per line.
//!
//! `raw` is in the transcript alphabet of `../shared/data/e13b`: `0-9`, `A` transit, `B` amount,
//! `C` on-us, `D` dash, no spaces.

use std::cell::RefCell;
use std::ffi::CString;
use std::path::{Path, PathBuf};

use image::imageops::{self, FilterType};
use image::{GrayImage, Luma};
use imageproc::contrast::otsu_level;
use imageproc::geometric_transformations::{rotate_about_center, Border, Interpolation};
use imageproc::region_labelling::{connected_components, Connectivity};
use tesseract::plumbing::TessBaseApi;
use tesseract::PageSegMode;

use super::e13b::{self, Classifier, Guess, DIMS};
use crate::error::StageError;

/// The characters tesseract may answer.
const WHITELIST: &str = "0123456789ABCD";

/// How to read MICR lines.
#[derive(Debug, Clone, PartialEq)]
pub struct MicrConfig {
    /// Folder holding `e13b.traineddata` (the repository ships one in `models/e13b/`).
    pub tessdata: PathBuf,
    /// Glyph height, in pixels, the line is scaled to before reading.
    pub target_height: u32,
    /// Combine tesseract's read with the built-in per-glyph classifier (on by default; off
    /// reads with tesseract alone).
    pub second_opinion: bool,
    /// When the classifier overrules tesseract.
    pub arbiter: Arbiter,
}

/// When the glyph classifier overrules tesseract ([`combine`]). Margins are the classifier's
/// (squared distance to the nearest other class over the nearest distance); confidences are
/// tesseract's, 0–1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arbiter {
    /// Margin above which a disagreeing tesseract character is replaced.
    pub margin_replace: f32,
    /// The same when tesseract was below `conf_unsure`.
    pub margin_replace_unsure: f32,
    pub conf_unsure: f32,
    /// Margin above which a cell tesseract skipped is added.
    pub margin_insert: f32,
    /// A tesseract character with no glyph cell under it is dropped below this confidence
    /// (only when every cell was cut cleanly).
    pub conf_drop: f32,
    /// The most the two reads may differ in length before the cutting is not trusted.
    pub max_count_gap: usize,
}

impl Default for Arbiter {
    fn default() -> Self {
        Arbiter {
            margin_replace: 2.0,
            margin_replace_unsure: 1.3,
            conf_unsure: 0.97,
            margin_insert: 3.0,
            conf_drop: 0.9,
            max_count_gap: 2,
        }
    }
}

impl Default for MicrConfig {
    fn default() -> Self {
        MicrConfig {
            tessdata: Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/e13b"),
            target_height: 28,
            second_opinion: true,
            arbiter: Arbiter::default(),
        }
    }
}

/// One character of a read line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MicrChar {
    /// A byte of [`e13b::ALPHABET`].
    pub ch: u8,
    /// Left and right edge in input-image pixels.
    pub x0: f32,
    pub x1: f32,
    /// 0–1: tesseract's confidence, or the classifier's when it supplied the character.
    pub conf: f32,
    /// The classifier changed or added this character.
    pub corrected: bool,
}

/// A read MICR line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MicrRead {
    /// Transcript alphabet, no spaces.
    pub raw: String,
    pub chars: Vec<MicrChar>,
    /// What tesseract alone read on the prepared line.
    pub tesseract: String,
    /// Glyph band in input pixels: top and bottom row.
    pub band: (f32, f32),
}

impl MicrRead {
    /// How many characters the classifier changed or added.
    pub fn corrections(&self) -> usize {
        self.chars.iter().filter(|c| c.corrected).count()
    }

    /// Mean character confidence (0 for an empty read).
    pub fn confidence(&self) -> f32 {
        if self.chars.is_empty() {
            0.0
        } else {
            self.chars.iter().map(|c| c.conf).sum::<f32>() / self.chars.len() as f32
        }
    }
}

/// Reads MICR lines; cheap to share, engines live per thread.
#[derive(Debug, Clone)]
pub struct MicrReader {
    config: MicrConfig,
    classifier: Option<Classifier>,
}

impl MicrReader {
    /// A reader with the built-in glyph model. `Err` when the model or the tesseract data
    /// cannot be read.
    pub fn new(config: MicrConfig) -> Result<MicrReader, StageError> {
        let classifier = if config.second_opinion {
            let c = Classifier::built_in()
                .map_err(|e| StageError::Failed(format!("e13b glyph model: {e}")))?;
            Some(c)
        } else {
            None
        };
        MicrReader::with_classifier(config, classifier)
    }

    /// A reader with this glyph model (`None`: tesseract only).
    pub fn with_classifier(
        config: MicrConfig,
        classifier: Option<Classifier>,
    ) -> Result<MicrReader, StageError> {
        let model = config.tessdata.join("e13b.traineddata");
        if !model.is_file() {
            return Err(StageError::Failed(format!(
                "MICR model {} not found (the repository ships models/e13b/e13b.traineddata)",
                model.display()
            )));
        }
        Ok(MicrReader { config, classifier })
    }

    pub fn config(&self) -> &MicrConfig {
        &self.config
    }

    /// Read one MICR line image (the band alone, or a strip or whole cheque holding it): the
    /// band is found and cut out with a margin like the model's training lines, then read by
    /// tesseract limited to the alphabet. With a glyph model the prepared line is also cut into
    /// glyph cells and classified, and the two reads are combined ([`MicrReader::finish`]).
    pub fn read_line(&self, gray: &GrayImage) -> Result<MicrRead, StageError> {
        let Some(parts) = self.read_parts(gray)? else {
            return Ok(MicrRead::default());
        };
        Ok(self.finish(&parts, &self.config.arbiter))
    }

    /// Tesseract's read of the line and the classifier's answer per glyph cell (`None`: no
    /// line found). With [`MicrReader::finish`] this is [`MicrReader::read_line`] in two steps,
    /// so a tool can try several arbiters on one read.
    pub fn read_parts(&self, gray: &GrayImage) -> Result<Option<Parts>, StageError> {
        let Some(band) = find_band(gray) else {
            return Ok(None);
        };
        let rows = (band.top, band.bottom);
        let margin = 0.4 * band.glyph_h;
        // A line image is read as it is (cutting it tighter measured worse); a strip or a
        // whole cheque is cut down to the band.
        let chars = if gray.height() as f32 > 4.0 * band.glyph_h {
            let y0 = (band.top - margin).max(0.0) as u32;
            let y1 = ((band.bottom + margin) as u32).min(gray.height());
            let crop = imageops::crop_imm(gray, 0, y0, gray.width(), y1 - y0).to_image();
            read_variant(&crop, Variant::Whitelist, &self.config.tessdata, 0)?
        } else {
            read_variant(gray, Variant::Whitelist, &self.config.tessdata, 0)?
        };
        let cells = match &self.classifier {
            Some(model) if !model.is_empty() => prepare(gray, self.config.target_height)
                .map(|prep| {
                    prep.guesses(model)
                        .into_iter()
                        .map(|(c, g)| GlyphCell {
                            x0: prep.to_input_x(c.x0 as f32),
                            x1: prep.to_input_x(c.x1 as f32),
                            guess: g,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        Ok(Some(Parts {
            tesseract: chars,
            cells,
            band: rows,
        }))
    }

    /// Combine tesseract's read with the classifier's cells under `arbiter` ([`combine`]).
    pub fn finish(&self, parts: &Parts, arbiter: &Arbiter) -> MicrRead {
        let tesseract: String = parts.tesseract.iter().map(|c| char::from(c.ch)).collect();
        let chars = if parts.cells.is_empty() {
            parts.tesseract.clone()
        } else {
            combine(&parts.tesseract, &parts.cells, arbiter)
        };
        MicrRead {
            raw: chars.iter().map(|c| char::from(c.ch)).collect(),
            chars,
            tesseract,
            band: parts.band,
        }
    }
}

/// One glyph cell of a line with the classifier's answer, in input pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlyphCell {
    pub x0: f32,
    pub x1: f32,
    /// `None` for a cell too wide for one glyph (touching glyphs, a smear).
    pub guess: Option<Guess>,
}

/// The two independent reads of one line, before they are combined.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parts {
    /// Tesseract's characters, boxes in input pixels.
    pub tesseract: Vec<MicrChar>,
    /// Glyph cells left to right (empty without a glyph model or when the line did not cut).
    pub cells: Vec<GlyphCell>,
    /// Glyph band rows in input pixels.
    pub band: (f32, f32),
}

/// Grey with any transparency laid on white paper.
pub fn gray_on_white(img: &image::DynamicImage) -> GrayImage {
    let rgba = img.to_rgba8();
    let mut out = GrayImage::new(rgba.width(), rgba.height());
    for (o, p) in out.pixels_mut().zip(rgba.pixels()) {
        let [r, g, b, a] = p.0;
        let y = (299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b)) / 1000;
        let a = u32::from(a);
        o.0 = [((y * a + 255 * (255 - a)) / 255) as u8];
    }
    out
}

/// Ways of showing a line to tesseract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The image as given, no whitelist (what `tesseract -l e13b --psm 7` does).
    Raw,
    /// The image as given, answers limited to the alphabet.
    Whitelist,
    /// Otsu-binarised, same geometry.
    Otsu,
    /// Scaled up 1.5×.
    Up,
    /// Band found, deskewed, specks dropped, normalised ([`prepare`]).
    Prepared,
}

impl Variant {
    pub const ALL: [Variant; 5] = [
        Variant::Raw,
        Variant::Whitelist,
        Variant::Otsu,
        Variant::Up,
        Variant::Prepared,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Raw => "raw",
            Variant::Whitelist => "whitelist",
            Variant::Otsu => "otsu",
            Variant::Up => "up1.5",
            Variant::Prepared => "prepared",
        }
    }
}

/// The lowest character confidence of a read (0 for an empty read).
pub fn min_conf(chars: &[MicrChar]) -> f32 {
    if chars.is_empty() {
        0.0
    } else {
        chars.iter().map(|c| c.conf).fold(1.0, f32::min)
    }
}

/// Read `gray` shown to tesseract as `variant`; boxes in `gray`'s pixels (approximate for
/// [`Variant::Prepared`]).
pub fn read_variant(
    gray: &GrayImage,
    variant: Variant,
    tessdata: &Path,
    target_h: u32,
) -> Result<Vec<MicrChar>, StageError> {
    let single = PageSegMode::PsmSingleLine;
    match variant {
        Variant::Raw => with_engine(tessdata, |api| recognise(api, gray, single, false))?,
        Variant::Whitelist => with_engine(tessdata, |api| recognise(api, gray, single, true))?,
        Variant::Otsu => {
            let t = otsu_level(gray);
            let mut bin = gray.clone();
            for p in bin.pixels_mut() {
                p.0 = [if p.0[0] <= t { 0 } else { 255 }];
            }
            with_engine(tessdata, |api| recognise(api, &bin, single, true))?
        }
        Variant::Up => {
            let (w, h) = gray.dimensions();
            let up = imageops::resize(gray, w * 3 / 2, h * 3 / 2, FilterType::Triangle);
            let chars = with_engine(tessdata, |api| recognise(api, &up, single, true))??;
            Ok(chars
                .into_iter()
                .map(|c| MicrChar {
                    x0: c.x0 / 1.5,
                    x1: c.x1 / 1.5,
                    ..c
                })
                .collect())
        }
        Variant::Prepared => {
            let Some(prep) = prepare(gray, target_h) else {
                return Ok(Vec::new());
            };
            let chars = with_engine(tessdata, |api| recognise(api, &prep.image, single, true))??;
            Ok(chars
                .into_iter()
                .map(|c| MicrChar {
                    x0: prep.to_input_x(c.x0),
                    x1: prep.to_input_x(c.x1),
                    ..c
                })
                .collect())
        }
    }
}

/// Plain tesseract on the unprepared image, as `tesseract IMG - -l e13b --psm 7` would read it
/// but in-process (for the benchmark's second baseline). Whitespace removed.
pub fn plain_tesseract(gray: &GrayImage, tessdata: &Path) -> Result<String, StageError> {
    let chars = with_engine(tessdata, |api| {
        recognise(api, gray, PageSegMode::PsmSingleLine, false)
    })??;
    Ok(chars.iter().map(|c| char::from(c.ch)).collect())
}

// ---------------------------------------------------------------------------------------------
// Preparation

/// A line ready for reading: binary, level, scaled, padded.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Black glyphs on white.
    pub image: GrayImage,
    /// `image` as a mask (true = ink).
    pub ink: Vec<bool>,
    /// Glyph height in `image` pixels.
    pub glyph_h: f32,
    /// Glyph band rows in `image` pixels.
    pub band: (f32, f32),
    /// `input_x = x_origin + (x - pad) / scale`.
    x_origin: f32,
    scale: f32,
    pad: u32,
}

impl Prepared {
    fn to_input_x(&self, x: f32) -> f32 {
        self.x_origin + (x - self.pad as f32) / self.scale
    }

    /// Glyph cells of this line.
    pub fn cells(&self) -> Vec<e13b::Cell> {
        let (w, h) = self.image.dimensions();
        e13b::cells(&self.ink, w as usize, h as usize, self.glyph_h)
    }

    /// Feature vector of one cell.
    pub fn features(&self, cell: &e13b::Cell) -> [f32; DIMS] {
        let (w, h) = self.image.dimensions();
        e13b::features(&self.ink, w as usize, h as usize, cell, self.band)
    }

    /// Each cell with the classifier's answer (`None` for a wide cell).
    pub fn guesses(&self, model: &Classifier) -> Vec<(e13b::Cell, Option<Guess>)> {
        self.cells()
            .into_iter()
            .map(|c| {
                let g = if c.wide {
                    None
                } else {
                    model.classify(&self.features(&c))
                };
                (c, g)
            })
            .collect()
    }

    /// Labelled cells for training: `None` unless the line cuts into exactly as many ordinary
    /// cells as `transcript` has characters (spaces ignored).
    pub fn labelled(&self, transcript: &str) -> Option<Vec<(u8, [f32; DIMS])>> {
        let label: Vec<u8> = transcript
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        if label.iter().any(|b| !e13b::ALPHABET.contains(b)) {
            return None;
        }
        let cells = self.cells();
        if cells.len() != label.len() || cells.iter().any(|c| c.wide) {
            return None;
        }
        Some(
            label
                .into_iter()
                .zip(&cells)
                .map(|(l, c)| (l, self.features(c)))
                .collect(),
        )
    }
}

/// Bounding box and size of one connected component.
#[derive(Debug, Clone, Copy)]
struct Comp {
    x0: u32,
    y0: u32,
    x1: u32,
    y1: u32,
    area: u32,
}

impl Comp {
    fn h(&self) -> u32 {
        self.y1 - self.y0
    }
    fn cy(&self) -> f32 {
        (self.y0 + self.y1) as f32 / 2.0
    }
}

/// What the band search found on a (possibly rotated) grey image.
struct Band {
    labels: image::ImageBuffer<Luma<u32>, Vec<u32>>,
    keep: Vec<bool>,
    comps: Vec<Comp>,
    glyph_h: f32,
    top: f32,
    bottom: f32,
}

fn median(mut v: Vec<f32>) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    Some(v[v.len() / 2])
}

fn find_band(gray: &GrayImage) -> Option<Band> {
    let (w, h) = gray.dimensions();
    if w < 8 || h < 8 {
        return None;
    }
    let (lo, hi) = gray
        .as_raw()
        .iter()
        .fold((255u8, 0u8), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if hi.saturating_sub(lo) < 40 {
        return None;
    }
    let t = otsu_level(gray);
    let mut mask = GrayImage::new(w, h);
    for (m, g) in mask.pixels_mut().zip(gray.pixels()) {
        m.0 = [if g.0[0] <= t { 255 } else { 0 }];
    }
    let labels = connected_components(&mask, Connectivity::Eight, Luma([0u8]));
    let mut comps: Vec<Comp> = Vec::new();
    for (x, y, l) in labels.enumerate_pixels() {
        let l = l.0[0] as usize;
        if l == 0 {
            continue;
        }
        if comps.len() < l {
            comps.resize(
                l,
                Comp {
                    x0: u32::MAX,
                    y0: u32::MAX,
                    x1: 0,
                    y1: 0,
                    area: 0,
                },
            );
        }
        let c = &mut comps[l - 1];
        c.x0 = c.x0.min(x);
        c.y0 = c.y0.min(y);
        c.x1 = c.x1.max(x + 1);
        c.y1 = c.y1.max(y + 1);
        c.area += 1;
    }
    let sized: Vec<&Comp> = comps.iter().filter(|c| c.area >= 6).collect();
    let mut hs: Vec<f32> = sized.iter().map(|c| c.h() as f32).collect();
    hs.sort_by(f32::total_cmp);
    let p90 = *hs.get(hs.len() * 9 / 10)?;
    let glyph_h = median(hs.into_iter().filter(|&v| v >= 0.5 * p90).collect())?;
    if glyph_h < 6.0 {
        return None;
    }
    let tall: Vec<&&Comp> = sized
        .iter()
        .filter(|c| (c.h() as f32) >= 0.75 * glyph_h && (c.h() as f32) <= 1.3 * glyph_h)
        .collect();
    // The band: the row of glyphs holding most tall components (a whole cheque has other text).
    let centres: Vec<f32> = tall.iter().map(|c| c.cy()).collect();
    let best_cy = centres
        .iter()
        .copied()
        .max_by_key(|&cy| {
            centres
                .iter()
                .filter(|&&o| (o - cy).abs() < 0.3 * glyph_h)
                .count()
        })
        .unwrap_or(h as f32 / 2.0);
    let row: Vec<&&&Comp> = tall
        .iter()
        .filter(|c| (c.cy() - best_cy).abs() < 0.3 * glyph_h)
        .collect();
    let top = median(row.iter().map(|c| c.y0 as f32).collect())?;
    let bottom = median(row.iter().map(|c| c.y1 as f32).collect())?;
    let min_area = (0.01 * glyph_h * glyph_h).max(3.0);
    let keep: Vec<bool> = comps
        .iter()
        .map(|c| {
            let cy = c.cy();
            c.area as f32 >= min_area
                && cy >= top - 0.15 * glyph_h
                && cy <= bottom + 0.15 * glyph_h
                && (c.h() as f32) <= 1.6 * glyph_h
        })
        .collect();
    Some(Band {
        labels,
        keep,
        comps,
        glyph_h: bottom - top,
        top,
        bottom,
    })
}

/// Slope (dy/dx) of the glyph bottoms along the band, Theil–Sen.
fn band_slope(b: &Band) -> Option<f32> {
    let pts: Vec<(f32, f32)> = b
        .comps
        .iter()
        .zip(&b.keep)
        .filter(|(c, &k)| k && (c.h() as f32) >= 0.75 * b.glyph_h)
        .map(|(c, _)| ((c.x0 + c.x1) as f32 / 2.0, c.y1 as f32))
        .collect();
    if pts.len() < 4 {
        return None;
    }
    let step = pts.len().div_ceil(40);
    let pts: Vec<(f32, f32)> = pts.into_iter().step_by(step).collect();
    let mut slopes = Vec::new();
    for (i, a) in pts.iter().enumerate() {
        for b2 in &pts[i + 1..] {
            let dx = b2.0 - a.0;
            if dx.abs() > 2.0 * b.glyph_h {
                slopes.push((b2.1 - a.1) / dx);
            }
        }
    }
    median(slopes)
}

/// Prepare `gray` for reading; `None` when no line of glyphs is found.
pub fn prepare(gray: &GrayImage, target_h: u32) -> Option<Prepared> {
    let mut band = find_band(gray)?;
    let mut rotated = None;
    if let Some(slope) = band_slope(&band) {
        let angle = slope.atan();
        if angle.abs() > 0.006 && angle.abs() < 0.2 {
            // Pick the sign that levels the line (the rotation's sign convention aside).
            let mut best: Option<(f32, GrayImage, Band)> = None;
            for theta in [-angle, angle] {
                let r = rotate_about_center(
                    gray,
                    theta,
                    Interpolation::Bilinear,
                    Border::Constant(Luma([255])),
                );
                if let Some(b) = find_band(&r) {
                    let s = band_slope(&b).map_or(f32::INFINITY, f32::abs);
                    if best.as_ref().is_none_or(|(bs, _, _)| s < *bs) {
                        best = Some((s, r, b));
                    }
                }
            }
            if let Some((s, r, b)) = best {
                if s < slope.abs() {
                    rotated = Some(r);
                    band = b;
                }
            }
        }
    }
    let src = rotated.as_ref().unwrap_or(gray);
    let kept: Vec<&Comp> = band
        .comps
        .iter()
        .zip(&band.keep)
        .filter(|(_, &k)| k)
        .map(|(c, _)| c)
        .collect();
    let x0 = kept.iter().map(|c| c.x0).min()?;
    let x1 = kept.iter().map(|c| c.x1).max()?;
    // Tesseract's line models scale the whole crop to a fixed height: keep the proportions of
    // the lines the model learnt from (glyphs ~27 px in a 48 px line: a 10 px margin each side
    // at the target height).
    let margin = 0.02 * band.glyph_h;
    let y0 = (band.top - margin).max(0.0) as u32;
    let y1 = ((band.bottom + margin) as u32).min(src.height());
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    let (cw, ch) = (x1 - x0, y1 - y0);
    let mut crop = GrayImage::from_pixel(cw, ch, Luma([255]));
    for y in y0..y1 {
        for x in x0..x1 {
            let l = band.labels.get_pixel(x, y).0[0] as usize;
            if l > 0 && band.keep.get(l - 1).copied().unwrap_or(false) {
                crop.put_pixel(x - x0, y - y0, Luma([0]));
            }
        }
    }
    let scale = target_h as f32 / band.glyph_h.max(1.0);
    let sw = ((cw as f32 * scale).round() as u32).max(1);
    let sh = ((ch as f32 * scale).round() as u32).max(1);
    let scaled = imageops::resize(&crop, sw, sh, FilterType::Triangle);
    let pad = (target_h as f32 * 0.36).round() as u32;
    let mut image = GrayImage::from_pixel(sw + 2 * pad, sh + 2 * pad, Luma([255]));
    for (x, y, p) in scaled.enumerate_pixels() {
        let v = if p.0[0] < 128 { 0 } else { 255 };
        image.put_pixel(x + pad, y + pad, Luma([v]));
    }
    let ink = image.as_raw().iter().map(|&v| v == 0).collect();
    let top_s = pad as f32 + (band.top - y0 as f32) * scale;
    let bottom_s = pad as f32 + (band.bottom - y0 as f32) * scale;
    Some(Prepared {
        image,
        ink,
        glyph_h: target_h as f32,
        band: (top_s, bottom_s),
        x_origin: x0 as f32,
        scale,
        pad,
    })
}

// ---------------------------------------------------------------------------------------------
// Second opinion

/// One step of the alignment of tesseract's characters with the glyph cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Character `i` and cell `j` stand for the same glyph.
    Pair(usize, usize),
    /// Character `i` has no cell (tesseract saw a glyph the cutting did not).
    TessOnly(usize),
    /// Cell `j` has no character (tesseract skipped a glyph).
    CellOnly(usize),
}

/// The cheapest alignment (edit distance: a mismatch or a gap costs 1; a wide cell, which holds
/// no answer, half) of the two reads, left to right.
fn align(tess: &[MicrChar], cells: &[GlyphCell]) -> Vec<Step> {
    let (n, m) = (tess.len(), cells.len());
    let sub = |i: usize, j: usize| match cells[j].guess {
        Some(g) if g.ch == tess[i].ch => 0.0,
        Some(_) => 1.0,
        None => 0.5,
    };
    let mut cost = vec![vec![0f32; m + 1]; n + 1];
    for (i, row) in cost.iter_mut().enumerate() {
        row[0] = i as f32;
    }
    for (j, v) in cost[0].iter_mut().enumerate() {
        *v = j as f32;
    }
    for i in 1..=n {
        for j in 1..=m {
            let pair = cost[i - 1][j - 1] + sub(i - 1, j - 1);
            let t_only = cost[i - 1][j] + 1.0;
            let c_only = cost[i][j - 1] + 1.0;
            cost[i][j] = pair.min(t_only).min(c_only);
        }
    }
    let mut steps = Vec::with_capacity(n.max(m));
    let (mut i, mut j) = (n, m);
    while i > 0 || j > 0 {
        if i > 0 && j > 0 && cost[i][j] == cost[i - 1][j - 1] + sub(i - 1, j - 1) {
            steps.push(Step::Pair(i - 1, j - 1));
            i -= 1;
            j -= 1;
        } else if i > 0 && (j == 0 || cost[i][j] == cost[i - 1][j] + 1.0) {
            steps.push(Step::TessOnly(i - 1));
            i -= 1;
        } else {
            steps.push(Step::CellOnly(j - 1));
            j -= 1;
        }
    }
    steps.reverse();
    steps
}

/// Combine tesseract's characters with the classifier's glyph cells.
///
/// The two reads are independent (tesseract's line model on the line as given; the classifier
/// on each cell of the normalised line), so they are aligned as strings, not by tesseract's
/// character boxes (an LSTM's boxes are too loose to pin a character to a cell). Where they
/// disagree on a pair, the classifier wins when it is sure ([`Arbiter::margin_replace`]), or
/// fairly sure while tesseract was unsure. A cell tesseract skipped is added when the
/// classifier is very sure; a character tesseract read where the cutting found no glyph is
/// dropped when tesseract was unsure and the cutting is trustworthy (no wide cell). When the
/// two disagree on the number of glyphs by more than [`Arbiter::max_count_gap`], the cutting
/// is not trusted and tesseract's read stands.
pub fn combine(tess: &[MicrChar], cells: &[GlyphCell], arb: &Arbiter) -> Vec<MicrChar> {
    if tess.len().abs_diff(cells.len()) > arb.max_count_gap {
        return tess.to_vec();
    }
    let clean_cut = cells.iter().all(|c| c.guess.is_some());
    let from_guess = |cell: &GlyphCell, g: &Guess| MicrChar {
        ch: g.ch,
        x0: cell.x0,
        x1: cell.x1,
        conf: (1.0 - 1.0 / g.margin.max(1.0)).clamp(0.0, 1.0),
        corrected: true,
    };
    let mut out = Vec::with_capacity(tess.len() + 2);
    for step in align(tess, cells) {
        match step {
            Step::Pair(i, j) => {
                let t = tess[i];
                match cells[j].guess {
                    Some(g) if g.ch != t.ch => {
                        let sure = g.margin >= arb.margin_replace
                            || (t.conf < arb.conf_unsure && g.margin >= arb.margin_replace_unsure);
                        out.push(if sure { from_guess(&cells[j], &g) } else { t });
                    }
                    _ => out.push(t),
                }
            }
            Step::TessOnly(i) => {
                let t = tess[i];
                if !(clean_cut && t.conf < arb.conf_drop) {
                    out.push(t);
                }
            }
            Step::CellOnly(j) => {
                if let Some(g) = cells[j].guess {
                    if g.margin >= arb.margin_insert {
                        out.push(from_guess(&cells[j], &g));
                    }
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Tesseract

struct Engine {
    dir: PathBuf,
    api: TessBaseApi,
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
}

fn with_engine<R>(dir: &Path, f: impl FnOnce(&mut TessBaseApi) -> R) -> Result<R, StageError> {
    ENGINE.with(|cell| {
        let mut slot = cell
            .try_borrow_mut()
            .map_err(|_| StageError::Failed("MICR engine used re-entrantly".to_owned()))?;
        if slot.as_ref().is_none_or(|e| e.dir != dir) {
            *slot = Some(Engine {
                dir: dir.to_owned(),
                api: new_engine(dir)?,
            });
        }
        let engine = slot
            .as_mut()
            .ok_or_else(|| StageError::Failed("MICR engine lost".to_owned()))?;
        Ok(f(&mut engine.api))
    })
}

fn new_engine(dir: &Path) -> Result<TessBaseApi, StageError> {
    if !dir.join("e13b.traineddata").is_file() {
        return Err(StageError::Failed(format!(
            "e13b.traineddata not found in {}",
            dir.display()
        )));
    }
    let cdir = CString::new(dir.to_string_lossy().as_bytes())
        .map_err(|_| StageError::Failed(format!("bad tessdata path {}", dir.display())))?;
    let lang = CString::new("e13b").map_err(|_| StageError::Failed("bad language".to_owned()))?;
    let mut api = TessBaseApi::create();
    api.init_2(Some(&cdir), Some(&lang)).map_err(|_| {
        StageError::Failed(format!(
            "tesseract could not load e13b from {}",
            dir.display()
        ))
    })?;
    for (name, value) in [
        ("debug_file", "/dev/null"),
        ("hocr_char_boxes", "1"),
        ("tessedit_do_invert", "0"),
    ] {
        if let (Ok(n), Ok(v)) = (CString::new(name), CString::new(value)) {
            // An unknown variable only loses that setting.
            let _ = api.set_variable(&n, &v);
        }
    }
    Ok(api)
}

/// Read `img` as one line; characters with boxes (in `img` pixels) and confidences.
fn recognise(
    api: &mut TessBaseApi,
    img: &GrayImage,
    mode: PageSegMode,
    whitelist: bool,
) -> Result<Vec<MicrChar>, StageError> {
    let (w, h) = img.dimensions();
    let (Ok(wi), Ok(hi)) = (i32::try_from(w), i32::try_from(h)) else {
        return Ok(Vec::new());
    };
    if w == 0 || h == 0 {
        return Ok(Vec::new());
    }
    if let (Ok(n), Ok(v)) = (
        CString::new("tessedit_char_whitelist"),
        CString::new(if whitelist { WHITELIST } else { "" }),
    ) {
        let _ = api.set_variable(&n, &v);
    }
    api.set_page_seg_mode(mode.as_tess_page_seg_mode());
    api.set_image(img.as_raw(), wi, hi, 1, wi)
        .map_err(|e| StageError::Failed(format!("tesseract rejected a line image: {e}")))?;
    api.set_source_resolution(300);
    if api.recognize().is_err() {
        return Ok(Vec::new());
    }
    let hocr = api
        .get_hocr_text(0)
        .map_err(|e| StageError::Failed(format!("tesseract gave no hOCR: {e}")))?;
    Ok(parse_hocr_chars(&hocr.as_ref().to_string_lossy()))
}

/// Characters from hOCR written with `hocr_char_boxes`:
/// `title='x_bboxes X0 Y0 X1 Y1; x_conf C'>CH</span>`. Characters outside the alphabet
/// (spaces) are skipped.
fn parse_hocr_chars(hocr: &str) -> Vec<MicrChar> {
    let mut out = Vec::new();
    let mut rest = hocr;
    while let Some(i) = rest.find("x_bboxes ") {
        rest = &rest[i + "x_bboxes ".len()..];
        let Some(end) = rest.find("</span>") else {
            break;
        };
        let item = &rest[..end];
        rest = &rest[end..];
        let Some((title, text)) = item.split_once("'>") else {
            continue;
        };
        let mut parts = title.split(';');
        let nums: Vec<f32> = parts
            .next()
            .unwrap_or("")
            .split_whitespace()
            .filter_map(|s| s.parse().ok())
            .collect();
        let conf = parts
            .find_map(|p| p.trim().strip_prefix("x_conf "))
            .and_then(|c| c.trim().parse::<f32>().ok())
            .map_or(0.0, |c| (c / 100.0).clamp(0.0, 1.0));
        let [x0, _, x1, _] = nums[..] else {
            continue;
        };
        for b in text.bytes().filter(|b| e13b::ALPHABET.contains(b)) {
            out.push(MicrChar {
                ch: b,
                x0,
                x1,
                conf,
                corrected: false,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str, conf: f32) -> Vec<MicrChar> {
        text.bytes()
            .enumerate()
            .map(|(i, ch)| MicrChar {
                ch,
                x0: i as f32 * 10.0,
                x1: i as f32 * 10.0 + 8.0,
                conf,
                corrected: false,
            })
            .collect()
    }

    /// Cells from a string: `?` is a wide cell; every other glyph has margin `margin`.
    fn c(text: &str, margin: f32) -> Vec<GlyphCell> {
        text.bytes()
            .enumerate()
            .map(|(i, ch)| GlyphCell {
                x0: i as f32 * 10.0,
                x1: i as f32 * 10.0 + 8.0,
                guess: (ch != b'?').then_some(Guess {
                    ch,
                    dist: 1.0,
                    margin,
                }),
            })
            .collect()
    }

    #[test]
    fn combine_table() {
        let arb = Arbiter::default();
        let raw = |v: Vec<MicrChar>| v.iter().map(|c| char::from(c.ch)).collect::<String>();
        for (tess, conf, cells, margin, want) in [
            // Agreement changes nothing.
            ("C123A45", 0.99, "C123A45", 9.0, "C123A45"),
            // A sure classifier replaces a disagreeing character; an unsure one does not,
            // unless tesseract was unsure too.
            ("C556A30", 0.99, "C556A32", 9.0, "C556A32"),
            ("C556A30", 0.99, "C556A32", 1.5, "C556A30"),
            ("C556A30", 0.5, "C556A32", 1.5, "C556A32"),
            // A character tesseract invented where the cutting found no glyph: dropped when
            // tesseract was unsure, kept when it was sure or the cutting has a wide cell.
            ("A902", 0.5, "A92", 9.0, "A92"),
            ("A902", 0.99, "A92", 9.0, "A902"),
            ("A902", 0.5, "A9?", 9.0, "A902"),
            // A glyph tesseract skipped is added when the classifier is very sure.
            ("C23", 0.99, "C123", 9.0, "C123"),
            ("C23", 0.99, "C123", 2.5, "C23"),
            // Reads too different in length: the cutting is not trusted.
            ("C1234567", 0.5, "C12", 9.0, "C1234567"),
            // No cells at all.
            ("C12", 0.5, "", 9.0, "C12"),
        ] {
            let got = raw(combine(&t(tess, conf), &c(cells, margin), &arb));
            assert_eq!(got, want, "{tess} / {cells} (conf {conf}, margin {margin})");
        }
    }

    #[test]
    fn alignment_pairs_equal_glyphs_and_marks_gaps() {
        let steps = align(&t("A902", 0.9), &c("A92", 9.0));
        assert_eq!(
            steps,
            vec![
                Step::Pair(0, 0),
                Step::Pair(1, 1),
                Step::TessOnly(2),
                Step::Pair(3, 2)
            ]
        );
        assert_eq!(
            align(&[], &c("AB", 9.0)),
            vec![Step::CellOnly(0), Step::CellOnly(1)]
        );
    }

    #[test]
    fn hocr_characters_parse() {
        let hocr = "<span class='ocrx_word' id='word_1_1' title='bbox 8 10 430 39; x_wconf 96'>\
            <span class='ocrx_cinfo' title='x_bboxes 8 10 16 20; x_conf 98.944122'>C</span>\
            <span class='ocrx_cinfo' title='x_bboxes 20 11 25 25; x_conf 92.8'>2</span>\
            <span class='ocrx_cinfo' title='x_bboxes 30 11 35 25; x_conf 90'> </span></span>";
        let c = parse_hocr_chars(hocr);
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].ch, c[0].x0, c[0].x1), (b'C', 8.0, 16.0));
        assert!((c[1].conf - 0.928).abs() < 1e-4);
    }

    #[test]
    fn blank_and_tiny_images_have_no_band() {
        assert!(prepare(&GrayImage::from_pixel(200, 40, Luma([255])), 28).is_none());
        assert!(prepare(&GrayImage::from_pixel(4, 4, Luma([0])), 28).is_none());
    }
}
