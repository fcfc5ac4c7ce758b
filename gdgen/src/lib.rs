//! Synthetic Police GD (General Diary) copies for Jachai's tests and benchmark.
//!
//! Text is shaped (HarfBuzz rules through cosmic-text/rustybuzz) and rasterised (swash) from
//! real font files installed from Debian packages, so Bengali conjuncts and vowel signs come
//! out as a printer would put them.
//!
//! [`generate`] makes one document from a seed, in memory: a lost/stolen phone report with
//! letterhead, GD number and date, the application, the phone's IMEIs, the duty officer's
//! signature and the thana's seal, as a flat scan or a phone photo, clean or tampered, with
//! its [`Label`]. [`generate_batch`] makes many in parallel.

pub mod data;
pub mod doc;
pub mod imei;
pub mod ink;
pub mod render;
pub mod rendition;
pub mod tamper;

use std::cell::RefCell;
use std::path::PathBuf;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ImageEncoder, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use doc::DocSpec;
pub use tamper::Region;

/// What can go wrong making a document.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The font files are not installed.
    #[error(transparent)]
    Fonts(#[from] render::MissingFonts),
    /// Encoding or decoding the image failed.
    #[error("image codec: {0}")]
    Image(#[from] image::ImageError),
}

/// Which kind of document to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// Untouched; the citizen types the document's IMEIs.
    Clean,
    /// Untouched, but the citizen types a different (valid) IMEI.
    Mismatch,
    /// New digits pasted over an IMEI, the GD number or the date.
    Paste,
    /// A block of the same image copied over an IMEI or the date.
    Clone,
}

/// How the document was captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rendition {
    /// A flat-bed scan.
    Scan,
    /// A phone photo of the page on a desk.
    Photo,
}

/// The output file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
}

impl Format {
    /// The file name extension.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Jpeg => "jpg",
        }
    }
}

/// Which digits the document's numbers are printed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Digits {
    /// 0-9.
    Ascii,
    /// ০-৯.
    Bengali,
}

/// What was tampered with, where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tamper {
    /// `paste` or `clone`.
    pub kind: Variant,
    /// `imei1`, `imei2`, `gd_number` or `gd_date`.
    pub field: String,
    /// The changed pixels, in output-image coordinates.
    pub region: Region,
    /// For clones: where the copied block came from.
    pub source_region: Option<Region>,
    /// The text that was printed there (as printed).
    pub original: String,
    /// The text now visible there (as printed); empty when erased or covered by other text.
    pub replacement: String,
}

/// Where the labelled values are in the output image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldRegions {
    /// The IMEI values.
    pub imeis: Vec<Region>,
    /// The GD number value.
    pub gd_number: Region,
    /// The GD date value.
    pub gd_date: Region,
}

/// Ground truth for one document (one line of `labels.jsonl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Label {
    /// File name (no directory).
    pub file: String,
    /// The seed that regenerates it with the same [`Options`].
    pub seed: u64,
    /// The variant.
    pub variant: Variant,
    /// Scan or photo.
    pub rendition: Rendition,
    /// PNG or JPEG.
    pub format: Format,
    /// Image width.
    pub width: u32,
    /// Image height.
    pub height: u32,
    /// The digits numbers are printed in.
    pub digits: Digits,
    /// Whether labels and letterhead are in English.
    pub english_labels: bool,
    /// What the citizen types at the kiosk (ASCII).
    pub typed_imeis: Vec<String>,
    /// The IMEIs the police issued the GD for (ASCII, Luhn-valid), before any tampering.
    pub document_imeis: Vec<String>,
    /// The IMEIs a reader of the final image sees (ASCII) where the tampering left a
    /// readable IMEI; equal to `document_imeis` for clean and mismatch documents.
    pub visible_imeis: Vec<String>,
    /// The GD number as issued, ASCII digits (`789`, `567/24`).
    pub gd_number: String,
    /// The GD date as issued, `YYYY-MM-DD`.
    pub gd_date: String,
    /// The date the phone was lost, `YYYY-MM-DD`.
    pub loss_date: String,
    /// Police station, English.
    pub thana_en: String,
    /// Police station, Bengali.
    pub thana_bn: String,
    /// District, English.
    pub district_en: String,
    /// District, Bengali.
    pub district_bn: String,
    /// Whether it is a metropolitan thana.
    pub metro: bool,
    /// Phone brand.
    pub brand: String,
    /// Phone model.
    pub model: String,
    /// Whether the IMEIs' TAC is allocated to the brand.
    pub tac_matches_brand: bool,
    /// Applicant's mobile number (ASCII).
    pub applicant_mobile: String,
    /// The tampering, or `None` for clean and mismatch documents.
    pub tamper: Option<Tamper>,
    /// Where the values are in the output image.
    pub fields: FieldRegions,
    /// For photos: the page corners in the output image (TL, TR, BR, BL).
    pub page_corners: Option<[[f32; 2]; 4]>,
}

/// One generated document.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The encoded image file.
    pub bytes: Vec<u8>,
    /// Its format.
    pub format: Format,
    /// Its ground truth.
    pub label: Label,
}

/// Generation options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Chance of a phone photo (else a flat scan).
    pub photo_share: f64,
    /// Chance of Bengali digits.
    pub bengali_digit_share: f64,
    /// Relative weights of the variants.
    pub variants: Vec<(Variant, f64)>,
    /// The shared data folder (bd-geo, tac); in-code lists stand in for missing files.
    pub data_dir: PathBuf,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            photo_share: 0.5,
            bengali_digit_share: 0.5,
            variants: vec![
                (Variant::Clean, 0.5),
                (Variant::Mismatch, 0.17),
                (Variant::Paste, 0.17),
                (Variant::Clone, 0.16),
            ],
            data_dir: data::default_data_dir(),
        }
    }
}

impl Options {
    /// Parse variant weights like `clean=0.5,mismatch=0.17,paste=0.17,clone=0.16`.
    pub fn parse_variants(s: &str) -> Result<Vec<(Variant, f64)>, String> {
        s.split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                let (k, v) = p
                    .split_once('=')
                    .ok_or_else(|| format!("expected name=weight, got {p:?}"))?;
                let variant = match k.trim() {
                    "clean" => Variant::Clean,
                    "mismatch" => Variant::Mismatch,
                    "paste" => Variant::Paste,
                    "clone" => Variant::Clone,
                    other => return Err(format!("unknown variant {other:?}")),
                };
                let w: f64 = v.trim().parse().map_err(|e| format!("weight {v:?}: {e}"))?;
                if !(w >= 0.0 && w.is_finite()) {
                    return Err(format!("weight {v:?} must be >= 0"));
                }
                Ok((variant, w))
            })
            .collect()
    }

    /// Options that always make `variant` (other settings as `self`).
    pub fn only(&self, variant: Variant) -> Options {
        Options {
            variants: vec![(variant, 1.0)],
            ..self.clone()
        }
    }

    fn pick_variant<R: Rng + ?Sized>(&self, rng: &mut R) -> Variant {
        let total: f64 = self.variants.iter().map(|v| v.1.max(0.0)).sum();
        if total <= 0.0 {
            return Variant::Clean;
        }
        let mut x = rng.gen_range(0.0..total);
        for &(v, w) in &self.variants {
            if x < w.max(0.0) {
                return v;
            }
            x -= w.max(0.0);
        }
        self.variants.last().map_or(Variant::Clean, |v| v.0)
    }
}

thread_local! {
    static RENDERER: RefCell<Option<render::Renderer>> = const { RefCell::new(None) };
}

/// Run `f` with this thread's renderer (fonts loaded once per thread).
fn with_renderer<T>(f: impl FnOnce(&mut render::Renderer) -> T) -> Result<T, Error> {
    RENDERER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(render::Renderer::new()?);
        }
        let r = slot.as_mut().expect("renderer was just set");
        Ok(f(r))
    })
}

fn encode(img: &RgbImage, format: Format, quality: u8) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    match format {
        Format::Jpeg => {
            JpegEncoder::new_with_quality(&mut out, quality).encode_image(img)?;
        }
        Format::Png => {
            PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Sub)
                .write_image(
                    img.as_raw(),
                    img.width(),
                    img.height(),
                    image::ExtendedColorType::Rgb8,
                )?;
        }
    }
    Ok(out)
}

/// Make the document for `seed` under `options`.
pub fn generate(seed: u64, options: &Options) -> Result<Generated, Error> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let variant = options.pick_variant(&mut rng);
    let rendition = if rng.gen_bool(options.photo_share.clamp(0.0, 1.0)) {
        Rendition::Photo
    } else {
        Rendition::Scan
    };
    let data = data::RefData::cached(&options.data_dir);
    let spec = DocSpec::random(seed, data, options.bengali_digit_share, &mut rng);
    generate_spec(&spec, variant, rendition, &mut rng)
}

/// Make a document with the given content, variant and rendition; layout, capture and
/// tampering are drawn from `rng`.
pub fn generate_spec<R: Rng + ?Sized>(
    spec: &DocSpec,
    variant: Variant,
    rendition: Rendition,
    rng: &mut R,
) -> Result<Generated, Error> {
    with_renderer(|r| build(r, spec, variant, rendition, rng))?
}

fn build<R: Rng + ?Sized>(
    r: &mut render::Renderer,
    spec: &DocSpec,
    variant: Variant,
    rendition: Rendition,
    rng: &mut R,
) -> Result<Generated, Error> {
    let page = doc::render_page(r, spec, rng);
    let rendered = match rendition {
        Rendition::Scan => rendition::scan(&page.img, rng),
        Rendition::Photo => rendition::photo(&page.img, rng),
    };
    let format = if rendition == Rendition::Photo || rng.gen_bool(0.5) {
        Format::Jpeg
    } else {
        Format::Png
    };
    let quality = match rendition {
        Rendition::Photo => rng.gen_range(75..=92),
        Rendition::Scan => rng.gen_range(80..=95),
    };
    let mut img = rendered.img;
    let (w, h) = img.dimensions();
    let fwd = rendered.fwd;
    let map = |rect: doc::RectF| tamper::map_rect(&fwd, rect, 2.0, w, h);
    let fields = FieldRegions {
        imeis: page.imeis.iter().map(|f| map(f.rect)).collect(),
        gd_number: map(page.gd_number.rect),
        gd_date: map(page.gd_date.rect),
    };
    let mut typed = spec.imeis.clone();
    let mut visible = spec.imeis.clone();
    let mut tamper_label = None;
    let bytes = match variant {
        Variant::Clean => encode(&img, format, quality)?,
        Variant::Mismatch => {
            let i = rng.gen_range(0..typed.len());
            // A typo-like change (a few digits) or another phone of the same model.
            let keep = if rng.gen_bool(0.5) {
                rng.gen_range(8..14)
            } else {
                8
            };
            typed[i] = imei::vary_suffix(&spec.imeis[i], keep, rng);
            encode(&img, format, quality)?
        }
        Variant::Paste | Variant::Clone => {
            // Tamper with the pixels as they were delivered (decoded JPEG), then re-save.
            if format == Format::Jpeg {
                let first = encode(&img, format, quality)?;
                img = image::load_from_memory(&first)?.to_rgb8();
            }
            let t = if variant == Variant::Paste {
                paste_field(
                    r,
                    &mut img,
                    &page,
                    spec,
                    &fwd,
                    &mut typed,
                    &mut visible,
                    rng,
                )
            } else {
                clone_field(
                    &mut img,
                    &page,
                    spec,
                    &fwd,
                    &fields,
                    &mut typed,
                    &mut visible,
                    rng,
                )
            };
            tamper_label = Some(t);
            let q2 = if format == Format::Jpeg {
                rng.gen_range(75..=95)
            } else {
                quality
            };
            encode(&img, format, q2)?
        }
    };
    let label = Label {
        file: format!("gd_{:016x}.{}", spec.seed, format.ext()),
        seed: spec.seed,
        variant,
        rendition,
        format,
        width: w,
        height: h,
        digits: if spec.bengali_digits {
            Digits::Bengali
        } else {
            Digits::Ascii
        },
        english_labels: spec.english_labels,
        typed_imeis: typed,
        document_imeis: spec.imeis.clone(),
        visible_imeis: visible,
        gd_number: spec.gd_number.clone(),
        gd_date: spec.gd_date.iso(),
        loss_date: spec.loss_date.iso(),
        thana_en: spec.thana.thana_en.clone(),
        thana_bn: spec.thana.thana_bn.clone(),
        district_en: spec.thana.district_en.clone(),
        district_bn: spec.thana.district_bn.clone(),
        metro: spec.thana.metro,
        brand: spec.phone.brand.to_owned(),
        model: spec.phone.model.to_owned(),
        tac_matches_brand: spec.tac_matches_brand,
        applicant_mobile: spec.mobile.clone(),
        tamper: tamper_label,
        fields,
        page_corners: (rendition == Rendition::Photo)
            .then(|| rendered.corners.map(|(x, y)| [x, y])),
    };
    Ok(Generated {
        bytes,
        format,
        label,
    })
}

#[allow(clippy::too_many_arguments)]
fn paste_field<R: Rng + ?Sized>(
    r: &mut render::Renderer,
    img: &mut RgbImage,
    page: &doc::Page,
    spec: &DocSpec,
    fwd: &imageproc::geometric_transformations::Projection,
    typed: &mut [String],
    visible: &mut [String],
    rng: &mut R,
) -> Tamper {
    let (w, h) = img.dimensions();
    let target = rng.gen_range(0..10);
    let (field_name, field, new_printed, from_digit) = if target < 6 {
        let i = rng.gen_range(0..spec.imeis.len());
        // Part (the last few digits) or all of it.
        let keep = if rng.gen_bool(0.6) {
            rng.gen_range(7..12)
        } else {
            0
        };
        let new = if keep == 0 {
            let tac = &spec.imeis[i][..8];
            let mut n = imei::imei_from_tac(tac, rng);
            while n == spec.imeis[i] {
                n = imei::imei_from_tac(tac, rng);
            }
            n
        } else {
            imei::vary_suffix(&spec.imeis[i], keep, rng)
        };
        typed[i] = new.clone();
        visible[i] = new.clone();
        let printed = imei::format_imei(&new, spec.grouping, spec.bengali_digits);
        (format!("imei{}", i + 1), &page.imeis[i], printed, keep)
    } else if target < 8 {
        let old = &spec.gd_number;
        let mut new = old.clone();
        while &new == old {
            let n: u32 = rng.gen_range(1..3000);
            new = match old.split_once('/') {
                Some((_, yy)) => format!("{n}/{yy}"),
                None => n.to_string(),
            };
        }
        (
            "gd_number".to_owned(),
            &page.gd_number,
            spec.digits(&new),
            0,
        )
    } else {
        let mut date = spec.gd_date;
        while date == spec.gd_date {
            date = doc::Date {
                d: rng.gen_range(1..=28),
                ..spec.gd_date
            };
        }
        let printed = doc::format_date(
            date,
            spec.date_style,
            spec.bengali_digits,
            spec.english_labels,
        );
        ("gd_date".to_owned(), &page.gd_date, printed, 0)
    };
    // The page rectangle of what changes: from the first changed digit to the end.
    let mut rect = field.rect;
    let mut text = new_printed.clone();
    let mut original = field.printed.clone();
    if from_digit > 0 {
        let off_old = imei::printed_offset(&field.printed, from_digit);
        let off_new = imei::printed_offset(&new_printed, from_digit);
        let prefix_w = r.measure(&field.printed[..off_old], field.family, field.px, false);
        rect.x0 = field.origin.0 + prefix_w;
        text = new_printed[off_new..].to_owned();
        original = field.printed[off_old..].to_owned();
    }
    let region = tamper::map_rect(fwd, rect, 1.5, w, h);
    tamper::paste(img, region, &text, field.family, r, rng);
    Tamper {
        kind: Variant::Paste,
        field: field_name,
        region,
        source_region: None,
        original,
        replacement: text,
    }
}

#[allow(clippy::too_many_arguments)]
fn clone_field<R: Rng + ?Sized>(
    img: &mut RgbImage,
    page: &doc::Page,
    spec: &DocSpec,
    fwd: &imageproc::geometric_transformations::Projection,
    fields: &FieldRegions,
    typed: &mut [String],
    visible: &mut [String],
    rng: &mut R,
) -> Tamper {
    let (w, h) = img.dimensions();
    let two = spec.imeis.len() == 2;
    let mode = rng.gen_range(0..3);
    // Target field.
    let (field_name, target_idx) = if mode == 2 || (mode == 0 && !two) {
        ("gd_date".to_owned(), None)
    } else {
        let i = rng.gen_range(0..spec.imeis.len());
        (format!("imei{}", i + 1), Some(i))
    };
    let dst = match target_idx {
        Some(i) => fields.imeis[i],
        None => fields.gd_date,
    };
    let original = match target_idx {
        Some(i) => page.imeis[i].printed.clone(),
        None => page.gd_date.printed.clone(),
    };
    let clamp_src = |x: u32, y: u32, bw: u32, bh: u32| {
        (x.min(w.saturating_sub(bw)), y.min(h.saturating_sub(bh)))
    };
    let (src, bw, bh, replacement) = match (mode, target_idx) {
        (0, Some(i)) if two => {
            // The other IMEI copied over this one.
            let j = 1 - i;
            let s = fields.imeis[j];
            let (bw, bh) = (s.w.max(dst.w), s.h.max(dst.h));
            visible[i] = spec.imeis[j].clone();
            typed[i] = spec.imeis[j].clone();
            (
                clamp_src(s.x, s.y, bw, bh),
                bw,
                bh,
                page.imeis[j].printed.clone(),
            )
        }
        _ => {
            // Another text line, or blank paper (erasing), copied over the field.
            let lines: Vec<&doc::RectF> = page
                .lines
                .iter()
                .filter(|l| {
                    let reg = tamper::map_rect(fwd, **l, 0.0, w, h);
                    reg.w > dst.w && !(reg.y < dst.y + dst.h && dst.y < reg.y + reg.h)
                })
                .collect();
            if let Some(i) = target_idx {
                visible[i] = String::new();
            }
            if rng.gen_bool(0.5) && !lines.is_empty() {
                let l = lines[rng.gen_range(0..lines.len())];
                let reg = tamper::map_rect(fwd, *l, 1.0, w, h);
                let x = reg.x + rng.gen_range(0..=(reg.w - dst.w));
                let y = reg.y + reg.h / 2;
                let y = y.saturating_sub(dst.h / 2);
                (clamp_src(x, y, dst.w, dst.h), dst.w, dst.h, String::new())
            } else {
                let corners = [
                    (0.0, 0.0),
                    (page.img.width() as f32, page.img.height() as f32),
                ];
                let a = fwd * &corners[0];
                let b = fwd * &corners[1];
                let within = Region {
                    x: a.0.min(b.0).max(0.0) as u32,
                    y: a.1.min(b.1).max(0.0) as u32,
                    w: ((a.0 - b.0).abs() as u32).min(w),
                    h: ((a.1 - b.1).abs() as u32).min(h),
                };
                let within = Region {
                    w: within.w.min(w - within.x),
                    h: within.h.min(h - within.y),
                    ..within
                };
                let p = tamper::blank_block(img, dst.w, dst.h, within, dst, rng)
                    .unwrap_or((dst.x, dst.y.saturating_sub(dst.h * 2)));
                (
                    clamp_src(p.0, p.1, dst.w, dst.h),
                    dst.w,
                    dst.h,
                    String::new(),
                )
            }
        }
    };
    let (bw, bh) = (bw.min(w - dst.x), bh.min(h - dst.y));
    tamper::clone_block(img, src, (dst.x, dst.y), bw, bh);
    Tamper {
        kind: Variant::Clone,
        field: field_name,
        region: Region {
            x: dst.x,
            y: dst.y,
            w: bw,
            h: bh,
        },
        source_region: Some(Region {
            x: src.0,
            y: src.1,
            w: bw,
            h: bh,
        }),
        original,
        replacement,
    }
}

/// The seed of document `index` in a batch from `seed` (splitmix64).
pub fn doc_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed.wrapping_add(index.wrapping_add(1).wrapping_mul(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}

/// `count` documents from `seed`, made in parallel (rayon) a chunk at a time and yielded in
/// order; document `i` is `generate(doc_seed(seed, i), options)` named `gd_{i:05}.{ext}`.
pub fn generate_batch(
    seed: u64,
    count: usize,
    options: &Options,
) -> impl Iterator<Item = Result<Generated, Error>> + '_ {
    let chunk = rayon::current_num_threads().max(1) * 2;
    (0..count).step_by(chunk).flat_map(move |start| {
        let end = (start + chunk).min(count);
        (start..end)
            .into_par_iter()
            .map(|i| {
                generate(doc_seed(seed, i as u64), options).map(|mut g| {
                    g.label.file = format!("gd_{i:05}.{}", g.format.ext());
                    g
                })
            })
            .collect::<Vec<_>>()
    })
}
