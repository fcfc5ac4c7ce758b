//! Reading the rectified GD page: find the text lines first, then read where the text is.
//!
//! Flow of [`read_page`]:
//!
//! 1. **Ink image.** Each pixel becomes `max(R,G,B) + (max − min)`: black and grey print stays
//!    dark while saturated coloured ink (a purple or blue stamp, a blue signature, red marks)
//!    turns light, so coloured ink is suppressed consistently, also where it crosses print.
//! 2. **Binarisation.** Sauvola thresholding over integral images (window ≈ 1/30 of the short
//!    side), which copes with uneven light across a photographed page.
//! 3. **Components.** Connected ink components; specks, ruled lines, frames, stamp rings and
//!    logos (by size, aspect and fill) are dropped.
//! 4. **Lines.** Components that overlap vertically and sit within about one text height of
//!    each other are joined into *segments*, so a wide gap (two-column field layouts) splits a
//!    line into separate segments; small marks (dots, vowel signs, `:`) are attached to the
//!    nearest segment. Segments that share a row form one [`OcrLine`].
//! 5. **Reading.** Each segment is cropped with a margin, masked to its own components (no
//!    strokes from neighbouring lines), scaled so its text height is about
//!    [`OcrConfig::target_height`] pixels and read by tesseract as a single line (page
//!    segmentation mode 7, falling back to the raw-line mode 13 when that returns nothing).
//!    Word boxes from tesseract's TSV output are mapped back to page coordinates.
//!
//! Segments are read in parallel (rayon), each worker thread with its own tesseract engine that
//! is created once and reused ([`with_engine`]). Tesseract is linked against OpenMP; run the
//! process with `OMP_THREAD_LIMIT=1` so each engine uses one thread and the parallelism here is
//! the only one.
//!
//! [`read_digits`] re-reads a number field (an IMEI) with digit-only whitelists.

use std::cell::RefCell;
use std::ffi::CString;
use std::path::{Path, PathBuf};

use image::imageops::FilterType;
use image::{GrayImage, Luma, RgbImage};
use rayon::prelude::*;
use tesseract::plumbing::TessBaseApi;
use tesseract::PageSegMode;
use unicode_normalization::UnicodeNormalization;

use crate::deadline::Deadline;
use crate::error::StageError;
use crate::gd::text::{OcrLine, OcrPage, OcrWord};
use crate::report::Region;

/// Where Debian's `tesseract-ocr-*` packages put the language data.
pub const SYSTEM_TESSDATA: &str = "/usr/share/tesseract-ocr/5/tessdata";

/// Characters allowed when re-reading a number field: ASCII and Bengali digits, `-`, `/`, space.
const DIGIT_WHITELIST: &str = "0123456789০১২৩৪৫৬৭৮৯-/ ";
/// The same without Bengali digits, for the English model (its charset has none).
const ASCII_DIGIT_WHITELIST: &str = "0123456789-/ ";
/// Characters allowed when re-reading an amount in figures: digits, grouping and decimal marks,
/// the `/-` ending and the currency marks (`Tk`, `BDT`, `৳`), so a currency mark is read as
/// itself and never forced into a digit.
const AMOUNT_WHITELIST: &str = "0123456789০১২৩৪৫৬৭৮৯,./-৳TkKBDt ";
/// The same without Bengali characters, for the English model.
const ASCII_AMOUNT_WHITELIST: &str = "0123456789,./-TkKBDt ";

/// What a number field holds, for [`read_field_readings`]: it picks the characters tesseract may
/// read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// Digits, `-`, `/` and space (IMEIs, dates, GD numbers).
    Digits,
    /// An amount in figures: digits, `,` `.` `/` `-`, `Tk`, `BDT`, `৳`.
    Amount,
}

/// How to read a page.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrConfig {
    /// Folder holding `<lang>.traineddata`. `None`: the `TESSDATA_PREFIX` environment variable
    /// if set, else [`SYSTEM_TESSDATA`].
    pub tessdata: Option<PathBuf>,
    /// Tesseract languages for page text, `+`-joined (e.g. `"ben+eng"`).
    pub languages: String,
    /// Language models tried by [`read_digits`], each on its own; the most confident read wins.
    pub digit_languages: Vec<String>,
    /// Height, in pixels, that the median ink component of a line is scaled to before reading.
    pub target_height: u32,
    /// Which marks count as ink to read.
    pub ink: InkModel,
}

/// Which marks of a page are text to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InkModel {
    /// Dark, colourless marks only: stamps, seals and pen signatures in colour fade away (GD
    /// copies: the typed or printed text is what is read, and a seal across it must not be).
    DropColour,
    /// Any mark much darker than the paper around it, coloured or not (cheques: the payee,
    /// amounts and date are written in blue or black pen on a light, coloured security
    /// background whose fine lines are only a little darker than the paper).
    AnyDark,
}

impl Default for OcrConfig {
    fn default() -> Self {
        OcrConfig {
            tessdata: None,
            languages: "ben+eng".to_owned(),
            digit_languages: vec!["eng".to_owned(), "ben".to_owned()],
            target_height: 36,
            ink: InkModel::DropColour,
        }
    }
}

impl OcrConfig {
    /// The language-data folder this configuration uses (see [`OcrConfig::tessdata`]).
    pub fn tessdata_dir(&self) -> PathBuf {
        if let Some(dir) = &self.tessdata {
            return dir.clone();
        }
        match std::env::var_os("TESSDATA_PREFIX") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => PathBuf::from(SYSTEM_TESSDATA),
        }
    }
}

/// Read all text lines of a rectified, upright page, top to bottom.
///
/// Errors: [`StageError::Failed`] when the language data is missing or tesseract cannot start,
/// [`StageError::Timeout`] when `deadline` passes.
pub fn read_page(
    page: &RgbImage,
    cfg: &OcrConfig,
    deadline: &Deadline,
) -> Result<OcrPage, StageError> {
    let dir = cfg.tessdata_dir();
    check_languages(&dir, &cfg.languages)?;
    let (width, height) = page.dimensions();
    let ink = ink_of(page, cfg.ink);
    deadline.check()?;
    let layout = Layout::find(&ink, true);
    deadline.check()?;
    let target = cfg.target_height.clamp(8, 200) as f32;
    let read: Vec<Vec<OcrWord>> = layout
        .segments
        .par_iter()
        .map(|seg| {
            deadline.check()?;
            let read = |crop: &LineCrop| {
                with_engine(&dir, &cfg.languages, Purpose::Text, |api| {
                    recognise_line(api, crop)
                })?
            };
            let own = read(&layout.crop(&ink, seg, target))?;
            // A line read with little confidence (blurred photo print loses its faint strokes
            // to binarisation) is read again from the plain grey box; the more confident
            // reading is kept.
            if char_conf(&own) >= PLAIN_RETRY_BELOW {
                return Ok(own);
            }
            let plain = read(&plain_crop(&ink, seg, target))?;
            Ok(if char_conf(&plain) > char_conf(&own) {
                plain
            } else {
                own
            })
        })
        .collect::<Result<_, _>>()?;
    let mut lines = Vec::with_capacity(layout.rows.len());
    for row in &layout.rows {
        let mut words: Vec<OcrWord> = row
            .iter()
            .filter_map(|&i| read.get(i))
            .flatten()
            .cloned()
            .collect();
        words.sort_by_key(|w| w.region.x);
        if !words.is_empty() {
            lines.push(OcrLine::from_words(words));
        }
    }
    Ok(OcrPage {
        width,
        height,
        lines,
    })
}

/// Below this character-weighted confidence a page line is read a second time from its plain
/// grey box ([`plain_crop`]).
const PLAIN_RETRY_BELOW: f32 = 0.8;

/// Mean word confidence weighted by characters; 0 for no words.
fn char_conf(words: &[OcrWord]) -> f32 {
    let (mut sum, mut n) = (0.0f32, 0usize);
    for w in words {
        let c = w.text.chars().count();
        sum += w.conf * c as f32;
        n += c;
    }
    if n == 0 {
        0.0
    } else {
        sum / n as f32
    }
}

/// How legible `page` is the way it lies: the mean OCR confidence, weighted by characters, of
/// its `lines` widest text segments. Upside-down text reads with low confidence, so comparing
/// a page with its half-turn tells up from down where the ink profiles could not.
///
/// Returns 0 when nothing could be read (including missing language data).
pub fn legibility(page: &RgbImage, cfg: &OcrConfig, lines: usize) -> f32 {
    let dir = cfg.tessdata_dir();
    if check_languages(&dir, &cfg.languages).is_err() {
        return 0.0;
    }
    let ink = ink_of(page, cfg.ink);
    let layout = Layout::find(&ink, true);
    let mut widest: Vec<&Segment> = layout.segments.iter().collect();
    widest.sort_by_key(|s| std::cmp::Reverse(s.bbox.w));
    widest.truncate(lines);
    let target = cfg.target_height.clamp(8, 200) as f32;
    let mut words: Vec<OcrWord> = Vec::new();
    for seg in widest {
        let crop = layout.crop(&ink, seg, target);
        if let Ok(Ok(read)) = with_engine(&dir, &cfg.languages, Purpose::Text, |api| {
            recognise_line(api, &crop)
        }) {
            words.extend(read);
        }
    }
    char_conf(&words)
}

/// Re-read a number field in `region` of `page` with digit-only settings: every model in
/// [`OcrConfig::digit_languages`] reads it (single-line mode, whitelist of ASCII and Bengali
/// digits, `-`, `/` and space) and the most confident non-empty read wins.
///
/// Returns the text as read (NFC; digits may be ASCII or Bengali, separators kept) and its
/// confidence 0–1, or `None` when the region is empty, off the page, holds no ink or nothing
/// could be read (including missing language data).
pub fn read_digits(page: &RgbImage, region: Region, cfg: &OcrConfig) -> Option<(String, f32)> {
    read_digit_readings(page, region, cfg).into_iter().next()
}

/// Every reading [`read_digits`] made of `region` (each scale and digit model), the one it would
/// return first, then the rest by confidence: independent readings to vote with when none holds a
/// valid IMEI. It stops early once a reading holds one.
pub fn read_digit_readings(page: &RgbImage, region: Region, cfg: &OcrConfig) -> Vec<(String, f32)> {
    read_field_readings(page, region, cfg, Charset::Digits, &holds_valid_imei)
}

/// Every reading of the number field in `region` with the characters of `charset`: each scale,
/// preparation and model in [`OcrConfig::digit_languages`], single-line mode. Readings `good`
/// accepts come first, then the rest, each group by confidence; it stops early once a reading is
/// good. Empty when the region is empty, off the page or holds no ink, or nothing could be read.
pub fn read_field_readings(
    page: &RgbImage,
    region: Region,
    cfg: &OcrConfig,
    charset: Charset,
    good: &dyn Fn(&str) -> bool,
) -> Vec<(String, f32)> {
    let Some(FieldInk {
        ink,
        layout,
        merged,
        ..
    }) = field_ink(page, region, cfg.ink)
    else {
        return Vec::new();
    };
    let target = cfg.target_height.clamp(8, 200) as f32;
    let dir = cfg.tessdata_dir();
    // (good, confidence, text): a good read (for an IMEI: Luhn-valid) beats a more confident one
    // that is not (the English model reads Bengali digits confidently and wrongly).
    let mut all: Vec<(bool, f32, String)> = Vec::new();
    // The text height, then larger: small, blurred digits of phone photos read better larger.
    // Each size twice: the segment's own ink only (neighbours' strokes gone), and the plain grey
    // box with its contrast stretched (binarising a blurred photo thins and breaks small digits,
    // and a digit whose strokes fell apart may be left out of the segment). Last, twice as large
    // and sharpened.
    let passes: [&[(f32, Prep)]; 3] = [
        &[(1.0, Prep::OwnInk), (1.0, Prep::Plain)],
        &[(1.5, Prep::OwnInk), (1.5, Prep::Plain)],
        &[(2.0, Prep::Sharpened)],
    ];
    for pass in passes {
        for &(scale, prep) in pass {
            let crop = match prep {
                Prep::OwnInk => layout.crop(&ink, &merged, target * scale),
                Prep::Plain => plain_crop(&ink, &merged, target * scale),
                Prep::Sharpened => {
                    let mut c = layout.crop(&ink, &merged, target * scale);
                    c.image = image::imageops::unsharpen(&c.image, 1.5, 8);
                    c
                }
            };
            read_field_crop(&crop, cfg, &dir, charset, good, &mut all);
        }
        if all.iter().any(|b| b.0) {
            break;
        }
    }
    all.sort_by(|a, b| {
        (b.0, b.1)
            .partial_cmp(&(a.0, a.1))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    all.into_iter()
        .map(|(_, conf, text)| (text, conf))
        .collect()
}

/// Every reading of the text in `region` (a field of one or more lines, such as an amount in
/// words wrapped onto a second line), with each language of [`OcrConfig::languages`] on its own
/// and with all of them together: each reading holds every text row of the region, top to
/// bottom, joined by a space, with its character-weighted confidence. A handwritten English
/// line read by `ben+eng` can come out half Bengali; read by `eng` alone it does not. Most
/// confident first; empty when the region holds no ink or nothing could be read.
pub fn read_text_readings(page: &RgbImage, region: Region, cfg: &OcrConfig) -> Vec<(String, f32)> {
    let (pw, ph) = page.dimensions();
    let Some((x0, y0, x1, y1)) = on_page(region, pw, ph) else {
        return Vec::new();
    };
    let pad = ((y1 - y0) / 4).max(4);
    let (cx0, cy0) = (x0.saturating_sub(pad), y0.saturating_sub(pad));
    let (cx1, cy1) = ((x1 + pad).min(pw), (y1 + pad).min(ph));
    let sub = image::imageops::crop_imm(page, cx0, cy0, cx1 - cx0, cy1 - cy0).to_image();
    let ink = ink_of(&sub, cfg.ink);
    let layout = Layout::find(&ink, false);
    let inner = Region::new(x0 - cx0, y0 - cy0, x1 - x0, y1 - y0);
    // Rows with at least half their ink box inside the region, each merged into one segment.
    let rows: Vec<Segment> = layout
        .rows
        .iter()
        .filter_map(|row| {
            let segs: Vec<&Segment> = row
                .iter()
                .filter_map(|&i| layout.segments.get(i))
                .filter(|s| 2 * s.bbox.overlap(&inner) >= s.bbox.area())
                .collect();
            Segment::merge(&segs)
        })
        .collect();
    if rows.is_empty() {
        return Vec::new();
    }
    let dir = cfg.tessdata_dir();
    let target = cfg.target_height.clamp(8, 200) as f32;
    let mut models: Vec<String> = cfg.languages.split('+').map(str::to_owned).collect();
    if models.len() > 1 {
        models.push(cfg.languages.clone());
    }
    let mut out: Vec<(String, f32)> = Vec::new();
    for lang in &models {
        if check_languages(&dir, lang).is_err() {
            continue;
        }
        let mut words: Vec<OcrWord> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        for seg in &rows {
            let crop = layout.crop(&ink, seg, target);
            if let Ok(Ok(read)) =
                with_engine(&dir, lang, Purpose::Text, |api| recognise_line(api, &crop))
            {
                if !read.is_empty() {
                    texts.push(OcrLine::from_words(read.clone()).text);
                    words.extend(read);
                }
            }
        }
        if !texts.is_empty() {
            out.push((texts.join(" "), char_conf(&words)));
        }
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

/// The box (page coordinates) of the text in `region`: the ink of the text row with the most
/// ink inside it, or `None` when it holds none. A field read from a search area (a value re-read
/// beside its label) gets its own box this way.
pub fn ink_box(page: &RgbImage, region: Region) -> Option<Region> {
    let f = field_ink(page, region, InkModel::DropColour)?;
    let b = f.merged.bbox;
    Some(Region::new(b.x + f.origin.0, b.y + f.origin.1, b.w, b.h))
}

/// A number field's text found in `region` of a page, for a digit re-read.
struct FieldInk {
    /// The ink image of the area around `region`.
    ink: GrayImage,
    layout: Layout,
    /// The segments of the row with the most ink in `region`, merged.
    merged: Segment,
    /// Where the area's top-left corner lies on the page.
    origin: (u32, u32),
}

/// The corners `(x0, y0, x1, y1)` of the part of `region` that lies on a `pw`×`ph` page;
/// `None` when none does.
fn on_page(region: Region, pw: u32, ph: u32) -> Option<(u32, u32, u32, u32)> {
    let x0 = region.x.min(pw);
    let y0 = region.y.min(ph);
    let x1 = region.x.saturating_add(region.w).min(pw);
    let y1 = region.y.saturating_add(region.h).min(ph);
    (x1 > x0 && y1 > y0).then_some((x0, y0, x1, y1))
}

fn field_ink(page: &RgbImage, region: Region, ink_model: InkModel) -> Option<FieldInk> {
    let (pw, ph) = page.dimensions();
    let (x0, y0, x1, y1) = on_page(region, pw, ph)?;
    // A margin so strokes cut by a tight box are whole (word boxes can be narrower than the
    // glyphs at their ends); the layout keeps only the main line.
    let pad = ((y1 - y0) / 3).max(4);
    let hpad = (y1 - y0).max(8);
    let (cx0, cy0) = (x0.saturating_sub(hpad), y0.saturating_sub(pad));
    let (cx1, cy1) = ((x1 + hpad).min(pw), (y1 + pad).min(ph));
    let sub = image::imageops::crop_imm(page, cx0, cy0, cx1 - cx0, cy1 - cy0).to_image();
    let ink = ink_of(&sub, ink_model);
    // More sensitive than for the page: faint, thin digits (light print, blur) stay whole.
    let layout = Layout::find_k(&ink, false, 0.1);
    // The field is the row with the most ink inside the requested box.
    let inner = Region::new(x0 - cx0, y0 - cy0, x1 - x0, y1 - y0);
    let row = layout.rows.iter().max_by_key(|row| {
        row.iter()
            .filter_map(|&i| layout.segments.get(i))
            .map(|s| s.bbox.overlap(&inner))
            .sum::<u64>()
    })?;
    // Segments of that row that reach into the box (not a neighbouring field in the margin).
    let segs: Vec<&Segment> = row
        .iter()
        .filter_map(|&i| layout.segments.get(i))
        .filter(|s| s.bbox.x < inner.x + inner.w && inner.x < s.bbox.x + s.bbox.w)
        .collect();
    let merged = Segment::merge(&segs)?;
    Some(FieldInk {
        ink,
        layout,
        merged,
        origin: (cx0, cy0),
    })
}

/// How a number field's crop is prepared for a digit re-read.
#[derive(Debug, Clone, Copy)]
enum Prep {
    /// Only the segment's own ink ([`Layout::crop`]).
    OwnInk,
    /// The grey box, contrast stretched ([`plain_crop`]).
    Plain,
    /// Own ink, sharpened.
    Sharpened,
}

/// Read `crop` with every digit model, adding `(good, confidence, text)` to `all`.
fn read_field_crop(
    crop: &LineCrop,
    cfg: &OcrConfig,
    dir: &Path,
    charset: Charset,
    good: &dyn Fn(&str) -> bool,
    all: &mut Vec<(bool, f32, String)>,
) {
    for lang in &cfg.digit_languages {
        if check_languages(dir, lang).is_err() {
            continue;
        }
        let purpose = match charset {
            Charset::Digits => Purpose::Digits,
            Charset::Amount => Purpose::Amount,
        };
        let Ok(words) = with_engine(dir, lang, purpose, |api| recognise_line(api, crop)) else {
            continue;
        };
        let Ok(words) = words else { continue };
        if words.is_empty() {
            continue;
        }
        let line = OcrLine::from_words(words);
        let text = line.text.trim().to_owned();
        if !text.chars().any(|c| c.is_numeric()) {
            continue;
        }
        all.push((good(&text), line.conf, text));
    }
}

/// The grey image of `seg`'s box with a margin, nothing masked, its contrast stretched so the
/// darkest percent is black and the lightest paper white, scaled (Catmull-Rom) so its text is
/// about `target` pixels high.
fn plain_crop(ink: &GrayImage, seg: &Segment, target: f32) -> LineCrop {
    let th = seg.text_h.max(1.0);
    let vpad = (0.35 * th).ceil().max(3.0) as u32;
    let hpad = th.ceil().max(4.0) as u32;
    let (w, h) = ink.dimensions();
    let x0 = seg.bbox.x.saturating_sub(hpad).min(w.saturating_sub(1));
    let y0 = seg.bbox.y.saturating_sub(vpad).min(h.saturating_sub(1));
    let x1 = (seg.bbox.x + seg.bbox.w + hpad).min(w).max(x0 + 1);
    let y1 = (seg.bbox.y + seg.bbox.h + vpad).min(h).max(y0 + 1);
    let mut img = image::imageops::crop_imm(ink, x0, y0, x1 - x0, y1 - y0).to_image();
    let mut hist = [0usize; 256];
    for p in img.pixels() {
        hist[usize::from(p.0[0])] += 1;
    }
    let n = img.pixels().len();
    let at = |q: usize| {
        let mut acc = 0;
        for (v, &c) in hist.iter().enumerate() {
            acc += c;
            if acc * 100 >= q * n {
                return v as f32;
            }
        }
        255.0
    };
    let (lo, hi) = (at(1), at(99));
    if hi - lo >= 16.0 {
        for p in img.pixels_mut() {
            let v = (f32::from(p.0[0]) - lo) * 255.0 / (hi - lo);
            p.0 = [v.clamp(0.0, 255.0) as u8];
        }
    }
    let scale = (target / th).clamp(0.3, 5.0);
    if (scale - 1.0).abs() > 0.05 {
        let nw = ((img.width() as f32 * scale).round() as u32).max(1);
        let nh = ((img.height() as f32 * scale).round() as u32).max(1);
        img = image::imageops::resize(&img, nw, nh, FilterType::CatmullRom);
    }
    LineCrop {
        image: img,
        x0,
        y0,
        scale,
    }
}

/// Whether `text` holds 15 digits (ASCII or Bengali, spaces and dashes between groups allowed)
/// forming a valid IMEI, or 16 forming an IMEISV.
pub(crate) fn holds_valid_imei(text: &str) -> bool {
    text.split(|c: char| !(crate::imei::digit_value(c).is_some() || matches!(c, ' ' | '-')))
        .any(|chunk| {
            let digits: String = chunk
                .chars()
                .filter_map(crate::imei::digit_value)
                .map(|d| char::from(b'0' + d))
                .collect();
            (digits.len() >= 15)
                && (0..=digits.len() - 15)
                    .any(|i| digits.get(i..i + 15).is_some_and(crate::imei::is_valid))
        })
}

// ---------------------------------------------------------------------------------------------
// Engines

/// What an engine is set up for; the variables differ, so engines are not shared between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Text,
    Digits,
    Amount,
}

/// One initialised tesseract instance and what it was initialised with.
struct Engine {
    dir: PathBuf,
    languages: String,
    purpose: Purpose,
    api: TessBaseApi,
}

/// Engines kept per thread; the oldest goes when a thread needs more.
const ENGINES_PER_THREAD: usize = 4;

thread_local! {
    static ENGINES: RefCell<Vec<Engine>> = const { RefCell::new(Vec::new()) };
}

/// Run `f` with this thread's engine for (`dir`, `languages`, `purpose`), creating it on first
/// use (about 0.1–0.3 s) and keeping it for later calls on the same thread.
fn with_engine<R>(
    dir: &Path,
    languages: &str,
    purpose: Purpose,
    f: impl FnOnce(&mut TessBaseApi) -> R,
) -> Result<R, StageError> {
    ENGINES.with(|cell| {
        let mut engines = cell
            .try_borrow_mut()
            .map_err(|_| StageError::Failed("tesseract engine used re-entrantly".to_owned()))?;
        let pos = engines
            .iter()
            .position(|e| e.purpose == purpose && e.languages == languages && e.dir == dir);
        let idx = match pos {
            Some(i) => i,
            None => {
                let api = new_engine(dir, languages, purpose)?;
                if engines.len() >= ENGINES_PER_THREAD {
                    engines.remove(0);
                }
                engines.push(Engine {
                    dir: dir.to_owned(),
                    languages: languages.to_owned(),
                    purpose,
                    api,
                });
                engines.len() - 1
            }
        };
        let engine = engines
            .get_mut(idx)
            .ok_or_else(|| StageError::Failed("tesseract engine cache lost an entry".to_owned()))?;
        Ok(f(&mut engine.api))
    })
}

/// Create and set up one engine.
fn new_engine(dir: &Path, languages: &str, purpose: Purpose) -> Result<TessBaseApi, StageError> {
    check_languages(dir, languages)?;
    let cdir = CString::new(dir.to_string_lossy().as_bytes())
        .map_err(|_| StageError::Failed(format!("bad tessdata path {}", dir.display())))?;
    let clang = CString::new(languages)
        .map_err(|_| StageError::Failed(format!("bad tesseract language {languages:?}")))?;
    let mut api = TessBaseApi::create();
    api.init_2(Some(&cdir), Some(&clang)).map_err(|_| {
        StageError::Failed(format!(
            "tesseract could not load {languages} from {}; {}",
            dir.display(),
            install_hint(languages)
        ))
    })?;
    let mut vars: Vec<(&str, &str)> = vec![
        // Crops are dark text on white; skip the inverted second pass.
        ("tessedit_do_invert", "0"),
        ("debug_file", "/dev/null"),
    ];
    let english = languages.split('+').all(|l| l == "eng");
    let list = match (purpose, english) {
        (Purpose::Text, _) => None,
        (Purpose::Digits, true) => Some(ASCII_DIGIT_WHITELIST),
        (Purpose::Digits, false) => Some(DIGIT_WHITELIST),
        (Purpose::Amount, true) => Some(ASCII_AMOUNT_WHITELIST),
        (Purpose::Amount, false) => Some(AMOUNT_WHITELIST),
    };
    if let Some(list) = list {
        vars.push(("tessedit_char_whitelist", list));
    }
    for (name, value) in vars {
        let (Ok(n), Ok(v)) = (CString::new(name), CString::new(value)) else {
            continue;
        };
        // An unknown variable only loses that setting.
        let _ = api.set_variable(&n, &v);
    }
    Ok(api)
}

/// `Err` naming the missing files when some of `languages` has no traineddata in `dir`.
fn check_languages(dir: &Path, languages: &str) -> Result<(), StageError> {
    let missing: Vec<&str> = languages
        .split('+')
        .filter(|l| !l.is_empty())
        .filter(|l| !dir.join(format!("{l}.traineddata")).is_file())
        .collect();
    if languages.split('+').all(str::is_empty) {
        return Err(StageError::Failed("no tesseract language given".to_owned()));
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(StageError::Failed(format!(
            "tesseract data for {} not found in {}; {}",
            missing.join("/"),
            dir.display(),
            install_hint(languages)
        )))
    }
}

/// Which packages to install (Debian names), or where to point the configuration.
fn install_hint(languages: &str) -> String {
    let pkgs: Vec<String> = languages
        .split('+')
        .filter(|l| !l.is_empty())
        .map(|l| match l {
            "Bengali" => "tesseract-ocr-script-beng".to_owned(),
            other => format!("tesseract-ocr-{}", other.to_lowercase()),
        })
        .collect();
    format!(
        "install {} (or set TESSDATA_PREFIX / OcrConfig::tessdata to the folder holding them)",
        pkgs.join(" ")
    )
}

/// Read one prepared line crop: single-line mode, then raw-line mode if that found nothing.
/// Word boxes are mapped back to page coordinates through `crop`.
fn recognise_line(api: &mut TessBaseApi, crop: &LineCrop) -> Result<Vec<OcrWord>, StageError> {
    let (w, h) = crop.image.dimensions();
    let (Ok(wi), Ok(hi)) = (i32::try_from(w), i32::try_from(h)) else {
        return Ok(Vec::new());
    };
    if w == 0 || h == 0 {
        return Ok(Vec::new());
    }
    for mode in [PageSegMode::PsmSingleLine, PageSegMode::PsmRawLine] {
        api.set_page_seg_mode(mode.as_tess_page_seg_mode());
        api.set_image(crop.image.as_raw(), wi, hi, 1, wi)
            .map_err(|e| StageError::Failed(format!("tesseract rejected a line image: {e}")))?;
        api.set_source_resolution(300);
        if api.recognize().is_err() {
            continue;
        }
        let Ok(tsv) = api.get_tsv_text(0) else {
            continue;
        };
        let words = parse_tsv(&tsv.as_ref().to_string_lossy(), crop);
        if !words.is_empty() {
            return Ok(words);
        }
    }
    Ok(Vec::new())
}

/// Words (level 5) of tesseract TSV output, boxes mapped to page coordinates, text NFC.
fn parse_tsv(tsv: &str, crop: &LineCrop) -> Vec<OcrWord> {
    let mut words = Vec::new();
    for row in tsv.lines() {
        let f: Vec<&str> = row.split('\t').collect();
        if f.len() < 12 || f.first() != Some(&"5") {
            continue;
        }
        let num = |i: usize| f.get(i).and_then(|s| s.trim().parse::<f32>().ok());
        let (Some(left), Some(top), Some(wd), Some(ht), Some(conf)) =
            (num(6), num(7), num(8), num(9), num(10))
        else {
            continue;
        };
        let text: String = f[11..].join("\t").trim().nfc().collect();
        if text.is_empty() {
            continue;
        }
        words.push(OcrWord {
            text,
            region: crop.to_page(left, top, wd, ht),
            conf: (conf / 100.0).clamp(0.0, 1.0),
        });
    }
    words
}

// ---------------------------------------------------------------------------------------------
// Image preparation and layout

/// Grey "ink" image: `max(R,G,B) + (max − min)`, saturating. Black print stays dark; coloured ink
/// (stamps, pen signatures) becomes light.
pub fn ink_image(page: &RgbImage) -> GrayImage {
    ink_of(page, InkModel::DropColour)
}

/// Grey "ink" image of `page` under `model`: [`ink_image`] for [`InkModel::DropColour`], else
/// [`dark_ink`].
pub fn ink_of(page: &RgbImage, model: InkModel) -> GrayImage {
    if model == InkModel::AnyDark {
        return dark_ink(page);
    }
    let (w, h) = page.dimensions();
    let mut out = GrayImage::new(w, h);
    for (o, p) in out.pixels_mut().zip(page.pixels()) {
        let [r, g, b] = p.0;
        let mx = r.max(g).max(b);
        let mn = r.min(g).min(b);
        o.0 = [mx.saturating_add(mx - mn)];
    }
    out
}

/// Grey "ink" image where every mark darker than [`DARK_INK_RATIO`] of the paper around it is
/// ink, coloured or not: the luma (Rec. 601) over the local paper brightness (the 90th
/// percentile of blocks of about 1/40 of the short side, the brightest of each block's
/// neighbours, interpolated), stretched so that ratio is white. Blue and black pen come out dark
/// alike; a light background pattern, a faint watermark and uneven light come out white.
pub fn dark_ink(page: &RgbImage) -> GrayImage {
    let luma = image::imageops::grayscale(page);
    let (w, h) = luma.dimensions();
    if w == 0 || h == 0 {
        return luma;
    }
    let block = (w.min(h) / 40).max(8);
    let (bw, bh) = (w.div_ceil(block), h.div_ceil(block));
    let mut paper = GrayImage::new(bw, bh);
    for by in 0..bh {
        for bx in 0..bw {
            let mut hist = [0u32; 256];
            let (x0, y0) = (bx * block, by * block);
            let (x1, y1) = ((x0 + block).min(w), (y0 + block).min(h));
            for y in y0..y1 {
                for x in x0..x1 {
                    hist[usize::from(luma.get_pixel(x, y).0[0])] += 1;
                }
            }
            let n = (x1 - x0) * (y1 - y0);
            let mut seen = 0;
            let mut p90 = 255u8;
            for (v, &c) in hist.iter().enumerate() {
                seen += c;
                if seen * 10 >= n * 9 {
                    p90 = v as u8;
                    break;
                }
            }
            paper.put_pixel(bx, by, Luma([p90]));
        }
    }
    // A block filled by a thick stroke takes its neighbours' paper.
    let paper = imageproc::morphology::dilate(&paper, imageproc::distance_transform::Norm::LInf, 1);
    let paper = image::imageops::resize(&paper, w, h, FilterType::Triangle);
    let mut out = GrayImage::new(w, h);
    for ((o, l), p) in out.pixels_mut().zip(luma.pixels()).zip(paper.pixels()) {
        let bg = f32::from(p.0[0]).max(16.0);
        let ratio = f32::from(l.0[0]) / bg;
        o.0 = [(255.0 * ratio / DARK_INK_RATIO).clamp(0.0, 255.0) as u8];
    }
    out
}

/// A mark lighter than this share of the paper's brightness is not ink ([`dark_ink`]).
const DARK_INK_RATIO: f32 = 0.65;

/// Sauvola binarisation of `gray` (true = ink), window about 1/30 of the short side.
pub fn binarise(gray: &GrayImage) -> Vec<bool> {
    binarise_k(gray, 0.2)
}

/// Sauvola binarisation with sensitivity `k` (smaller keeps fainter ink).
fn binarise_k(gray: &GrayImage, k: f64) -> Vec<bool> {
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    if w == 0 || h == 0 {
        return Vec::new();
    }
    // Integral images with a zero row and column in front.
    let stride = w + 1;
    let mut sum = vec![0u64; stride * (h + 1)];
    let mut sq = vec![0u64; stride * (h + 1)];
    let raw = gray.as_raw();
    for y in 0..h {
        let (mut rs, mut rq) = (0u64, 0u64);
        for x in 0..w {
            let v = u64::from(raw[y * w + x]);
            rs += v;
            rq += v * v;
            sum[(y + 1) * stride + x + 1] = sum[y * stride + x + 1] + rs;
            sq[(y + 1) * stride + x + 1] = sq[y * stride + x + 1] + rq;
        }
    }
    let half = (w.min(h) / 60).clamp(7, 60);
    let r = 128.0f64;
    let mut out = vec![false; w * h];
    out.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        let y0 = y.saturating_sub(half);
        let y1 = (y + half + 1).min(h);
        for (x, o) in row.iter_mut().enumerate() {
            let v = f64::from(raw[y * w + x]);
            if v > 230.0 {
                continue;
            }
            let x0 = x.saturating_sub(half);
            let x1 = (x + half + 1).min(w);
            let n = ((y1 - y0) * (x1 - x0)) as f64;
            let s = (sum[y1 * stride + x1] + sum[y0 * stride + x0]) as f64
                - (sum[y0 * stride + x1] + sum[y1 * stride + x0]) as f64;
            let q = (sq[y1 * stride + x1] + sq[y0 * stride + x0]) as f64
                - (sq[y0 * stride + x1] + sq[y1 * stride + x0]) as f64;
            let mean = s / n;
            let sd = (q / n - mean * mean).max(0.0).sqrt();
            let t = mean * (1.0 + k * (sd / r - 1.0));
            *o = v < t;
        }
    });
    out
}

/// Erase ruled lines from `mask` (`w`×`h`): horizontal ink runs longer than a quarter of the
/// width and vertical runs longer than a twenty-fifth of the height, widened by two pixels
/// across the rule to take its blurred edges too. Far longer than any stroke of text (a Bengali
/// headline spans one word, the tallest glyph of a heading is about a thirtieth of the page),
/// they are table and form lines; erasing the runs rather than dropping whole components keeps
/// text that touches them.
///
/// Runs are measured on a band three pixels across (a pixel counts when it or a neighbour
/// across the run is ink), so a rule that slants a little on a rectified photo still makes one
/// long run. Vertical rules are looked for down to a small table's height: a table of two or
/// three rows has borders shorter than an eighth of the page, and the pieces of them left
/// between erased horizontal rules are as tall as a row, so they would join the rows above and
/// below into one line.
fn remove_rules(mask: &mut [bool], w: usize, h: usize) {
    if w == 0 || h == 0 {
        return;
    }
    let mut rule = vec![false; mask.len()];
    mark_rules(mask, &mut rule, w, h, false, (w / 4).max(50));
    mark_rules(mask, &mut rule, w, h, true, (h / 25).max(60));
    for (m, r) in mask.iter_mut().zip(&rule) {
        if *r {
            *m = false;
        }
    }
}

/// Mark in `rule` the ink of runs at least `min` long along rows (`vertical` false) or columns,
/// measured on a band three pixels across, widened by two pixels across the run.
fn mark_rules(mask: &[bool], rule: &mut [bool], w: usize, h: usize, vertical: bool, min: usize) {
    const WIDEN: usize = 2;
    // (along, across) → index; `len` along a run, `lanes` across.
    let (len, lanes) = if vertical { (h, w) } else { (w, h) };
    let idx = |along: usize, across: usize| {
        if vertical {
            along * w + across
        } else {
            across * w + along
        }
    };
    let at = |along: usize, across: usize| mask.get(idx(along, across)).copied().unwrap_or(false);
    for lane in 0..lanes {
        let (a0, a1) = (lane.saturating_sub(1), (lane + 1).min(lanes - 1));
        let band = (0..len).map(|i| (a0..=a1).any(|a| at(i, a)));
        for (start, end) in long_runs(band, min) {
            for i in start..end {
                for a in a0..=a1 {
                    if at(i, a) {
                        for t in a.saturating_sub(WIDEN)..(a + WIDEN + 1).min(lanes) {
                            if let Some(r) = rule.get_mut(idx(i, t)) {
                                *r = true;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `(start, end)` of the runs of `true` at least `min` long.
fn long_runs(bits: impl Iterator<Item = bool>, min: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    let mut n = 0;
    for (i, b) in bits.enumerate() {
        n = i + 1;
        match (b, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s >= min {
                    out.push((s, i));
                }
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        if n - s >= min {
            out.push((s, n));
        }
    }
    out
}

/// One connected ink component.
#[derive(Debug, Clone, Copy)]
struct Comp {
    x0: u32,
    y0: u32,
    x1: u32,
    y1: u32,
    area: u32,
}

impl Comp {
    fn w(&self) -> u32 {
        self.x1 - self.x0
    }
    fn h(&self) -> u32 {
        self.y1 - self.y0
    }
}

/// 8-connected components of `mask` (`w`×`h`): label image (0 = background, else index + 1)
/// and the components.
fn components(mask: &[bool], w: usize, h: usize) -> (Vec<u32>, Vec<Comp>) {
    let mut labels = vec![0u32; w * h];
    let mut parent: Vec<u32> = vec![0];
    fn find(parent: &mut [u32], mut a: u32) -> u32 {
        while parent[a as usize] != a {
            let p = parent[parent[a as usize] as usize];
            parent[a as usize] = p;
            a = p;
        }
        a
    }
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if !mask[i] {
                continue;
            }
            let mut nb = [0u32; 4];
            if x > 0 {
                nb[0] = labels[i - 1];
            }
            if y > 0 {
                let up = i - w;
                nb[1] = labels[up];
                if x > 0 {
                    nb[2] = labels[up - 1];
                }
                if x + 1 < w {
                    nb[3] = labels[up + 1];
                }
            }
            let mut l = 0u32;
            for &n in &nb {
                if n == 0 {
                    continue;
                }
                if l == 0 {
                    l = find(&mut parent, n);
                } else {
                    let (a, b) = (find(&mut parent, l), find(&mut parent, n));
                    if a != b {
                        let (lo, hi) = (a.min(b), a.max(b));
                        parent[hi as usize] = lo;
                        l = lo;
                    }
                }
            }
            if l == 0 {
                l = parent.len() as u32;
                parent.push(l);
            }
            labels[i] = l;
        }
    }
    // Flatten to consecutive ids and gather boxes.
    let mut id = vec![0u32; parent.len()];
    let mut comps: Vec<Comp> = Vec::new();
    for l in 1..parent.len() as u32 {
        let r = find(&mut parent, l);
        if r == l {
            comps.push(Comp {
                x0: u32::MAX,
                y0: u32::MAX,
                x1: 0,
                y1: 0,
                area: 0,
            });
            id[l as usize] = comps.len() as u32;
        }
    }
    for l in 1..parent.len() {
        let r = find(&mut parent, l as u32) as usize;
        id[l] = id[r];
    }
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let l = labels[i];
            if l == 0 {
                continue;
            }
            let c = id[l as usize];
            labels[i] = c;
            if let Some(comp) = comps.get_mut(c as usize - 1) {
                comp.x0 = comp.x0.min(x as u32);
                comp.y0 = comp.y0.min(y as u32);
                comp.x1 = comp.x1.max(x as u32 + 1);
                comp.y1 = comp.y1.max(y as u32 + 1);
                comp.area += 1;
            }
        }
    }
    (labels, comps)
}

/// A run of text on one line without wide gaps: what tesseract reads in one go.
#[derive(Debug, Clone)]
struct Segment {
    bbox: Region,
    /// Component ids (1-based, as in the label image).
    comps: Vec<u32>,
    /// Median height of its main components, in page pixels.
    text_h: f32,
}

impl Segment {
    /// One segment covering all of `segs`; `None` for none.
    fn merge(segs: &[&Segment]) -> Option<Segment> {
        let bbox = crate::gd::text::union(segs.iter().map(|s| s.bbox))?;
        let mut comps: Vec<u32> = segs.iter().flat_map(|s| s.comps.iter().copied()).collect();
        comps.sort_unstable();
        let mut hs: Vec<f32> = segs.iter().map(|s| s.text_h).collect();
        hs.sort_by(f32::total_cmp);
        let text_h = hs.get(hs.len() / 2).copied().unwrap_or(1.0);
        Some(Segment {
            bbox,
            comps,
            text_h,
        })
    }
}

/// A page's text layout: segments and the rows they form.
#[derive(Debug)]
struct Layout {
    width: u32,
    height: u32,
    labels: Vec<u32>,
    segments: Vec<Segment>,
    /// Rows top to bottom, each its segment indices left to right.
    rows: Vec<Vec<usize>>,
}

/// Union-find root with path halving.
fn root(parent: &mut [usize], mut a: usize) -> usize {
    while parent[a] != a {
        parent[a] = parent[parent[a]];
        a = parent[a];
    }
    a
}

fn median(mut v: Vec<u32>) -> Option<u32> {
    v.sort_unstable();
    v.get(v.len() / 2).copied()
}

impl Layout {
    /// Binarise `ink`, find components, drop non-text, and group text into segments and rows.
    /// `whole_page`: components taller than a sixth or wider than half of the image are not
    /// text (true for pages, false for crops of a single field).
    fn find(ink: &GrayImage, whole_page: bool) -> Layout {
        Layout::find_k(ink, whole_page, 0.2)
    }

    /// [`Layout::find`] with Sauvola sensitivity `k`.
    fn find_k(ink: &GrayImage, whole_page: bool, k: f64) -> Layout {
        let (width, height) = ink.dimensions();
        let (w, h) = (width as usize, height as usize);
        let mut mask = binarise_k(ink, k);
        if whole_page {
            remove_rules(&mut mask, w, h);
        }
        let (labels, comps) = components(&mask, w, h);
        let mut layout = Layout {
            width,
            height,
            labels,
            segments: Vec::new(),
            rows: Vec::new(),
        };
        // Plausible text: not specks, not page-sized, not lines.
        let (lim_h, lim_w) = if whole_page {
            ((height / 6).max(8), (width / 2).max(8))
        } else {
            (height, width)
        };
        let plausible = |c: &Comp| {
            c.area >= 4 && c.h() <= lim_h && c.w() <= lim_w && !(c.h() <= 3 && c.w() >= 12)
        };
        let Some(med) = median(
            comps
                .iter()
                .filter(|c| plausible(c) && c.h() >= 6 && c.area >= 12)
                .map(Comp::h)
                .collect(),
        ) else {
            return layout;
        };
        let med = med as f32;
        let is_text = |c: &Comp| {
            let (cw, ch) = (c.w() as f32, c.h() as f32);
            if !plausible(c) || ch > 5.0 * med || cw > 40.0 * med {
                return false;
            }
            // Ruled lines: long and thin.
            if cw >= 20.0 * ch && ch < 0.5 * med {
                return false;
            }
            // Frames, stamp rings, signatures: large and hollow.
            let fill = c.area as f32 / (cw * ch).max(1.0);
            !(cw > 3.0 * med && ch > 2.5 * med && fill < 0.12)
        };
        let main_min = 0.4 * med;
        let mut main: Vec<usize> = Vec::new();
        let mut small: Vec<usize> = Vec::new();
        for (i, c) in comps.iter().enumerate() {
            if !is_text(c) {
                continue;
            }
            if c.h() as f32 >= main_min && c.area >= 8 {
                main.push(i);
            } else {
                small.push(i);
            }
        }
        // Join main components: vertical overlap ≥ half the smaller, gap ≤ 1.2 × taller.
        main.sort_by_key(|&i| comps.get(i).map_or(0, |c| c.x0));
        let max_h = main
            .iter()
            .filter_map(|&i| comps.get(i))
            .map(Comp::h)
            .max()
            .unwrap_or(0);
        let max_gap = (1.2 * max_h as f32) as i64;
        let mc: Vec<Comp> = main.iter().filter_map(|&i| comps.get(i).copied()).collect();
        let mut parent: Vec<usize> = (0..mc.len()).collect();
        for (a, ca) in mc.iter().enumerate() {
            for (b, cb) in mc.iter().enumerate().skip(a + 1) {
                let gap = i64::from(cb.x0) - i64::from(ca.x1);
                if gap > max_gap {
                    break;
                }
                let overlap = i64::from(ca.y1.min(cb.y1)) - i64::from(ca.y0.max(cb.y0));
                let hmin = i64::from(ca.h().min(cb.h()));
                let hmax = ca.h().max(cb.h()) as f32;
                if 2 * overlap >= hmin && (gap as f32) <= 1.2 * hmax {
                    let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
                    if ra != rb {
                        parent[ra.max(rb)] = ra.min(rb);
                    }
                }
            }
        }
        let mut groups: Vec<Vec<usize>> = vec![Vec::new(); main.len()];
        for (a, &m) in main.iter().enumerate() {
            let r = root(&mut parent, a);
            if let Some(g) = groups.get_mut(r) {
                g.push(m);
            }
        }
        let mut segs: Vec<(Region, Vec<usize>, f32)> = Vec::new();
        for g in groups.into_iter().filter(|g| !g.is_empty()) {
            let boxes = g.iter().filter_map(|&i| comps.get(i)).map(comp_region);
            let Some(bbox) = crate::gd::text::union(boxes) else {
                continue;
            };
            let th = median(
                g.iter()
                    .filter_map(|&i| comps.get(i))
                    .map(Comp::h)
                    .collect(),
            )
            .unwrap_or(1) as f32;
            segs.push((bbox, g, th));
        }
        // Attach small marks to the nearest segment around them.
        for &i in &small {
            let Some(c) = comps.get(i) else { continue };
            let (cx, cy) = ((c.x0 + c.x1) as f32 / 2.0, (c.y0 + c.y1) as f32 / 2.0);
            let mut best: Option<(usize, f32)> = None;
            for (si, (b, _, th)) in segs.iter().enumerate() {
                let (bx0, by0) = (b.x as f32 - 0.6 * th, b.y as f32 - 0.5 * th);
                let (bx1, by1) = ((b.x + b.w) as f32 + 0.6 * th, (b.y + b.h) as f32 + 0.5 * th);
                if cx < bx0 || cx > bx1 || cy < by0 || cy > by1 {
                    continue;
                }
                let d = (cy - (b.y as f32 + b.h as f32 / 2.0)).abs() / th.max(1.0);
                if best.is_none_or(|(_, bd)| d < bd) {
                    best = Some((si, d));
                }
            }
            if let Some((si, _)) = best {
                if let Some(s) = segs.get_mut(si) {
                    s.1.push(i);
                }
            }
        }
        // Drop lone dots that formed segments of their own and tiny isolated marks.
        let min_seg_h = 0.5 * med;
        for (bbox0, ids, th) in segs {
            let bbox =
                crate::gd::text::union(ids.iter().filter_map(|&i| comps.get(i)).map(comp_region))
                    .unwrap_or(bbox0);
            if (bbox.h as f32) < min_seg_h || (bbox.w < 3 && bbox.h < 3) {
                continue;
            }
            let mut ids: Vec<u32> = ids.iter().map(|&i| i as u32 + 1).collect();
            ids.sort_unstable();
            layout.segments.push(Segment {
                bbox,
                comps: ids,
                text_h: th,
            });
        }
        layout.rows = rows(&layout.segments);
        layout
    }

    /// The image tesseract reads for `seg`: its box plus a margin, only `seg`'s own ink (other
    /// lines' strokes whitened), scaled so its text height is about `target` pixels.
    fn crop(&self, ink: &GrayImage, seg: &Segment, target: f32) -> LineCrop {
        let th = seg.text_h.max(1.0);
        let pad = (0.35 * th).ceil().max(4.0) as u32;
        let x0 = seg.bbox.x.saturating_sub(pad);
        let y0 = seg.bbox.y.saturating_sub(pad);
        let x1 = (seg.bbox.x + seg.bbox.w + pad).min(self.width);
        let y1 = (seg.bbox.y + seg.bbox.h + pad).min(self.height);
        let (cw, ch) = (x1.saturating_sub(x0), y1.saturating_sub(y0));
        let w = self.width as usize;
        let mine = |x: u32, y: u32| -> bool {
            let l = self
                .labels
                .get(y as usize * w + x as usize)
                .copied()
                .unwrap_or(0);
            l != 0 && seg.comps.binary_search(&l).is_ok()
        };
        let mut img = GrayImage::from_pixel(cw.max(1), ch.max(1), Luma([255]));
        for y in y0..y1 {
            for x in x0..x1 {
                // Keep a pixel when it or a neighbour is this segment's ink, so anti-aliased
                // edges survive.
                let keep = mine(x, y)
                    || (x > 0 && mine(x - 1, y))
                    || (x + 1 < self.width && mine(x + 1, y))
                    || (y > 0 && mine(x, y - 1))
                    || (y + 1 < self.height && mine(x, y + 1));
                if keep {
                    let v = ink.get_pixel_checked(x, y).map_or(255, |p| p.0[0]);
                    img.put_pixel(x - x0, y - y0, Luma([v]));
                }
            }
        }
        let mut scale = target / th;
        if (0.85..=1.2).contains(&scale) {
            scale = 1.0;
        }
        let scale = scale.clamp(0.3, 5.0);
        if scale != 1.0 {
            let nw = ((cw as f32 * scale).round() as u32).max(1);
            let nh = ((ch as f32 * scale).round() as u32).max(1);
            img = image::imageops::resize(&img, nw, nh, FilterType::Triangle);
        }
        LineCrop {
            image: img,
            x0,
            y0,
            scale,
        }
    }
}

fn comp_region(c: &Comp) -> Region {
    Region::new(c.x0, c.y0, c.w(), c.h())
}

/// Group segments into rows: a segment joins the row it overlaps most vertically (at least half
/// the smaller height) when it doesn't collide horizontally with that row's segments.
fn rows(segs: &[Segment]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..segs.len()).collect();
    order.sort_by_key(|&i| segs.get(i).map_or(0, |s| s.bbox.y + s.bbox.h / 2));
    // (top, bottom, members)
    let mut rows: Vec<(u32, u32, Vec<usize>)> = Vec::new();
    for i in order {
        let Some(s) = segs.get(i) else { continue };
        let (t, b) = (s.bbox.y, s.bbox.y + s.bbox.h);
        let mut best: Option<(usize, f32)> = None;
        for (ri, (rt, rb, members)) in rows.iter().enumerate() {
            let ov = b.min(*rb) as f32 - t.max(*rt) as f32;
            let hmin = (b - t).min(rb - rt).max(1) as f32;
            let collides = members
                .iter()
                .filter_map(|&m| segs.get(m))
                .any(|o| s.bbox.x < o.bbox.x + o.bbox.w && o.bbox.x < s.bbox.x + s.bbox.w);
            if ov >= 0.5 * hmin && !collides && best.is_none_or(|(_, bo)| ov / hmin > bo) {
                best = Some((ri, ov / hmin));
            }
        }
        match best.and_then(|(ri, _)| rows.get_mut(ri)) {
            Some(row) => {
                row.0 = row.0.min(t);
                row.1 = row.1.max(b);
                row.2.push(i);
            }
            None => rows.push((t, b, vec![i])),
        }
    }
    rows.sort_by_key(|r| r.0 + (r.1 - r.0) / 2);
    rows.into_iter()
        .map(|(_, _, mut m)| {
            m.sort_by_key(|&i| segs.get(i).map_or(0, |s| s.bbox.x));
            m
        })
        .collect()
}

/// A prepared line image and how it maps back to the page.
#[derive(Debug)]
struct LineCrop {
    image: GrayImage,
    x0: u32,
    y0: u32,
    scale: f32,
}

impl LineCrop {
    /// A box in crop pixels as a page region.
    fn to_page(&self, left: f32, top: f32, w: f32, h: f32) -> Region {
        let s = self.scale.max(1e-3);
        let px = |v: f32| (v.max(0.0) / s).round() as u32;
        Region::new(self.x0 + px(left), self.y0 + px(top), px(w), px(h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ink_suppresses_colour() {
        let cases: &[([u8; 3], bool)] = &[
            ([0, 0, 0], true),
            ([40, 35, 50], true),
            ([120, 40, 150], false), // purple stamp
            ([20, 40, 160], false),  // blue pen
            ([255, 255, 255], false),
        ];
        for &(rgb, dark) in cases {
            let img = RgbImage::from_pixel(1, 1, image::Rgb(rgb));
            let v = ink_image(&img).get_pixel(0, 0).0[0];
            assert_eq!(v < 128, dark, "{rgb:?} → {v}");
        }
    }

    #[test]
    fn dark_ink_keeps_pen_of_any_colour_and_drops_a_light_pattern() {
        // A page of light-blue paper with a fine pattern; pixels under test in its middle.
        let cases: &[([u8; 3], bool)] = &[
            ([25, 25, 30], true),     // black pen
            ([20, 40, 160], true),    // blue pen
            ([120, 40, 150], true),   // purple ink
            ([170, 185, 230], false), // security line
            ([200, 208, 235], false), // watermark
            ([222, 230, 248], false), // paper
        ];
        for &(rgb, dark) in cases {
            let mut img = RgbImage::from_pixel(200, 200, image::Rgb([222, 230, 248]));
            for x in (0..200).step_by(9) {
                for y in 0..200 {
                    img.put_pixel(x, y, image::Rgb([170, 185, 230]));
                }
            }
            img.put_pixel(100, 100, image::Rgb(rgb));
            let v = dark_ink(&img).get_pixel(100, 100).0[0];
            assert_eq!(v < 128, dark, "{rgb:?} → {v}");
        }
        // Dim, uneven light: the same pen on paper at half brightness is still ink.
        let mut img = RgbImage::from_fn(200, 200, |x, _| {
            let l = 120 + (x / 4) as u8;
            image::Rgb([l, l, l])
        });
        img.put_pixel(30, 100, image::Rgb([15, 20, 70]));
        let ink = dark_ink(&img);
        assert!(ink.get_pixel(30, 100).0[0] < 128);
        assert!(ink.get_pixel(150, 100).0[0] > 200);
        assert_eq!(dark_ink(&RgbImage::new(0, 0)).dimensions(), (0, 0));
    }

    /// A small table on a rectified photo: three rows, horizontal rules slanting one pixel in
    /// 150, vertical borders only 150 px tall on a 2 000 px page; "text" blocks in the cells,
    /// one touching a rule. Every rule pixel goes, every text pixel off the rules stays.
    #[test]
    fn slanted_rules_and_short_table_borders_are_erased() {
        let (w, h) = (1600usize, 2000usize);
        let mut mask = vec![false; w * h];
        let mut rules = vec![false; w * h];
        let set = |m: &mut [bool], r: &mut [bool], x: usize, y: usize, rule: bool| {
            m[y * w + x] = true;
            if rule {
                r[y * w + x] = true;
            }
        };
        let (left, right, top) = (200usize, 1000usize, 900usize);
        for row in 0..4 {
            for x in left..=right {
                let y = top + row * 50 + (x - left) / 150;
                for t in 0..2 {
                    set(&mut mask, &mut rules, x, y + t, true);
                }
            }
        }
        for &x in &[left, 480, right] {
            for y in top..top + 156 {
                let xx = x + (y - top) / 150;
                for t in 0..2 {
                    set(&mut mask, &mut rules, xx + t, y, true);
                }
            }
        }
        // Glyph-like blocks: 12 x 24 px, a few per cell, the first touching the top rule.
        let mut text = Vec::new();
        for row in 0..3 {
            for (i, x0) in [520usize, 560, 600, 640].iter().enumerate() {
                let y0 = top + row * 50 + if i == 0 { 3 } else { 14 };
                for y in y0..y0 + 24 {
                    for x in *x0..*x0 + 12 {
                        set(&mut mask, &mut rules, x, y, false);
                        text.push((x, y));
                    }
                }
            }
        }
        remove_rules(&mut mask, w, h);
        let left_rules = rules.iter().zip(&mask).filter(|(r, m)| **r && **m).count();
        assert_eq!(left_rules, 0, "rule pixels left");
        let kept = text.iter().filter(|(x, y)| mask[y * w + x]).count();
        assert!(
            kept * 10 >= text.len() * 9,
            "text kept {kept} of {}",
            text.len()
        );
    }

    #[test]
    fn valid_imei_in_a_read() {
        for (text, want) in [
            ("352099001761481", true),
            ("৩৫ ২০৯৯০০ ১৭৬১৪৮ ১", true),
            ("1 35-209900-176148-1", true),
            ("352099001761482", false),
            ("35209900176148", false),
            ("", false),
        ] {
            assert_eq!(holds_valid_imei(text), want, "{text}");
        }
    }

    #[test]
    fn tsv_words_map_back() {
        let crop = LineCrop {
            image: GrayImage::new(10, 10),
            x0: 100,
            y0: 50,
            scale: 2.0,
        };
        let tsv = "1\t1\t0\t0\t0\t0\t0\t0\t200\t60\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t20\t10\t40\t30\t91.5\tIMEI\n\
                   5\t1\t1\t1\t1\t2\t70\t10\t40\t30\t50\t \n";
        let words = parse_tsv(tsv, &crop);
        assert_eq!(words.len(), 1);
        assert_eq!(words[0].text, "IMEI");
        assert_eq!(words[0].region, Region::new(110, 55, 20, 15));
        assert!((words[0].conf - 0.915).abs() < 1e-4);
    }

    #[test]
    fn components_and_rows() {
        // Two rows; the first has two segments far apart.
        let mut img = GrayImage::from_pixel(400, 120, Luma([255]));
        for (x0, y0) in [(10, 10), (30, 10), (300, 12), (10, 70), (30, 70)] {
            for y in y0..y0 + 20 {
                for x in x0..x0 + 12 {
                    img.put_pixel(x, y, Luma([0]));
                }
            }
        }
        let layout = Layout::find(&img, true);
        assert_eq!(layout.segments.len(), 3);
        assert_eq!(layout.rows.len(), 2);
        assert_eq!(layout.rows[0].len(), 2);
    }
}
