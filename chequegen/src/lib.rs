//! Synthetic Bangladeshi bank cheques for training and evaluating Jachai's cheque fraud score.
//!
//! [`generate`] makes one cheque from a seed, in memory: a bank's design (tint, a periodic
//! guilloche background, parallel security lines, microprint lines, a faint watermark, the
//! bank's layout), the MICR line in E-13B ([`e13b`], glyphs cut from real font-generator lines),
//! handwriting-like payee, amount in figures and in words (English or Bengali, [`words`]), date
//! and signature; clean or tampered ([`Variant`]); a flat scan or a camera photo; PNG or JPEG;
//! with its [`Label`]. The same seed gives the same bytes. Text is shaped and rasterised by
//! `gdgen`'s [`Renderer`] (Debian font packages).
//!
//! [`design`] renders a bank's blank design: the reference templates that
//! `verify::cheque::security` matches against are made by `jachai-chequegen --templates`.

mod capture;
mod design;
pub mod e13b;
pub mod words;

use std::cell::RefCell;
use std::path::PathBuf;

use capture::{capture, encode, region_of};
use design::{blank, Design};
pub use design::{design, slug, write_templates};

use gdgen::ink::{self, Ink};
use gdgen::render::Renderer;
use gdgen::tamper;
use image::{GrayImage, Luma, RgbImage};
use imageproc::geometric_transformations::{warp_into, Border, Interpolation, Projection};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use gdgen::doc_seed;
pub use gdgen::tamper::Region;

/// Page size in pixels (a 7.5 × 3.4 inch cheque at about 190 dpi).
pub const PAGE_W: u32 = 1400;
/// Page height in pixels.
pub const PAGE_H: u32 = 640;

/// What can go wrong making a cheque.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The font files are not installed.
    #[error(transparent)]
    Fonts(#[from] gdgen::render::MissingFonts),
    /// Encoding the image failed.
    #[error("image codec: {0}")]
    Image(#[from] image::ImageError),
    /// The routing table could not be read.
    #[error("routing table {0}: {1}")]
    Routing(String, String),
}

/// A bank's cheque design.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bank {
    /// Name as printed (and as in the routing table).
    pub name: &'static str,
    /// Short name for the watermark and microprint.
    pub short: &'static str,
    /// The routing number's bank code (first three digits).
    pub code: &'static str,
    /// Paper tint.
    pub tint: [u8; 3],
    /// Colour of the name, lines and pattern.
    pub ink: [u8; 3],
    /// Guilloche period (pixels), angle (degrees), wave amplitude (pixels).
    pub pattern: (f32, f32, f32),
    /// Layout family (0, 1, 2): where the amount box and date sit.
    pub layout: u8,
}

/// Designs of six Bangladeshi banks (names and bank codes from `shared/data/bd-routing`).
pub const BANKS: [Bank; 6] = [
    Bank {
        name: "SONALI BANK LIMITED",
        short: "SONALI",
        code: "200",
        tint: [236, 244, 226],
        ink: [40, 110, 60],
        pattern: (9.0, 30.0, 3.0),
        layout: 0,
    },
    Bank {
        name: "AGRANI BANK LIMITED",
        short: "AGRANI",
        code: "010",
        tint: [246, 236, 222],
        ink: [150, 60, 30],
        pattern: (11.0, -25.0, 4.0),
        layout: 1,
    },
    Bank {
        name: "JANATA BANK LIMITED",
        short: "JANATA",
        code: "135",
        tint: [228, 236, 248],
        ink: [30, 60, 140],
        pattern: (8.0, 60.0, 2.5),
        layout: 2,
    },
    Bank {
        name: "RUPALI BANK LIMITED",
        short: "RUPALI",
        code: "185",
        tint: [244, 232, 240],
        ink: [120, 40, 100],
        pattern: (10.0, -50.0, 3.5),
        layout: 0,
    },
    Bank {
        name: "PUBALI BANK LIMITED",
        short: "PUBALI",
        code: "175",
        tint: [248, 244, 222],
        ink: [130, 100, 20],
        pattern: (12.0, 15.0, 5.0),
        layout: 1,
    },
    Bank {
        name: "BRAC BANK LIMITED",
        short: "BRAC",
        code: "060",
        tint: [232, 240, 244],
        ink: [20, 90, 120],
        pattern: (7.0, -70.0, 2.0),
        layout: 2,
    },
];

/// A field's box on the page (page pixels).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl Rect {
    fn f(self) -> gdgen::doc::RectF {
        gdgen::doc::RectF {
            x0: self.x as f32,
            y0: self.y as f32,
            x1: (self.x + self.w) as f32,
            y1: (self.y + self.h) as f32,
        }
    }
}

/// Where a layout puts each field (page pixels): what a reference template's `layout.json`
/// holds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FieldLayout {
    pub date: Rect,
    pub payee: Rect,
    pub amount_words: Rect,
    pub amount_figures: Rect,
    pub signature: Rect,
    pub micr: Rect,
}

/// The field boxes of layout family `n`.
pub fn field_layout(n: u8) -> FieldLayout {
    let (date_x, box_x, words_y) = match n % 3 {
        0 => (1000, 1060, 220),
        1 => (960, 1040, 230),
        _ => (1020, 1080, 215),
    };
    FieldLayout {
        date: Rect {
            x: date_x,
            y: 30,
            w: 360,
            h: 60,
        },
        payee: Rect {
            x: 150,
            y: 110,
            w: 880,
            h: 60,
        },
        amount_words: Rect {
            x: 150,
            y: words_y,
            w: 860,
            h: 60,
        },
        amount_figures: Rect {
            x: box_x,
            y: 200,
            w: 1360 - box_x,
            h: 70,
        },
        signature: Rect {
            x: 940,
            y: 360,
            w: 400,
            h: 110,
        },
        micr: Rect {
            x: 100,
            y: 545,
            w: 1200,
            h: 70,
        },
    }
}

/// Which kind of cheque to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// Untouched.
    Clean,
    /// The amount altered: new figures pasted (mismatching the words), figures and words both
    /// pasted, or figures written differently from the words in the same hand.
    AmountAltered,
    /// A new payee name pasted over the old one.
    PayeePasted,
    /// A new date pasted over the old one.
    DateChanged,
    /// The signature copied (copy-move) from one place of the image to another.
    SignatureCloned,
    /// A design of no known bank (colours, pattern and layout made up).
    Counterfeit,
}

impl Variant {
    /// Every variant.
    pub const ALL: [Variant; 6] = [
        Variant::Clean,
        Variant::AmountAltered,
        Variant::PayeePasted,
        Variant::DateChanged,
        Variant::SignatureCloned,
        Variant::Counterfeit,
    ];

    /// The name used in labels and options.
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Clean => "clean",
            Variant::AmountAltered => "amount_altered",
            Variant::PayeePasted => "payee_pasted",
            Variant::DateChanged => "date_changed",
            Variant::SignatureCloned => "signature_cloned",
            Variant::Counterfeit => "counterfeit",
        }
    }

    /// Whether the cheque is a fraud.
    pub fn is_fraud(self) -> bool {
        self != Variant::Clean
    }
}

/// How the cheque was captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rendition {
    /// A flat scan.
    Scan,
    /// A camera photo: perspective, desk around, uneven light, noise.
    Photo,
}

/// The ground truth of one cheque.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Label {
    /// File name in a batch.
    pub file: String,
    pub seed: u64,
    pub variant: Variant,
    /// 1 for a fraud, 0 for a clean cheque.
    pub fraud: u8,
    /// How the tampering was done (e.g. `figures_pasted`, `digital`/`physical`).
    pub how: Vec<String>,
    pub rendition: Rendition,
    /// `png` or `jpeg`.
    pub format: String,
    pub bank: String,
    pub routing: String,
    pub cheque_number: String,
    pub account: String,
    /// MICR line in the transcript alphabet.
    pub micr: String,
    pub payee: String,
    /// The amount written in words (paisa).
    pub amount_words: u64,
    /// The amount written in figures (paisa; differs from words when altered so).
    pub amount_figures: u64,
    /// Words as written.
    pub words_text: String,
    /// Figures as written.
    pub figures_text: String,
    /// Date written, ISO.
    pub date: String,
    /// "Today" the cheque was made for (for stale/post-dated checks), ISO.
    pub today: String,
    /// Tampered areas in the output image.
    pub tampered: Vec<Region>,
}

/// One generated cheque.
#[derive(Debug, Clone)]
pub struct Generated {
    pub bytes: Vec<u8>,
    pub label: Label,
}

/// Generation options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Share of camera photos (the rest are flat scans).
    pub photo_share: f64,
    /// Share of JPEG files (the rest PNG).
    pub jpeg_share: f64,
    /// Share of amounts in Bengali words.
    pub bengali_share: f64,
    /// Variant weights.
    pub variants: Vec<(Variant, f64)>,
    /// The shared data folder (`bd-routing/bd-routing.csv`).
    pub data_dir: PathBuf,
    /// The date the cheques are presented (year, month, day).
    pub today: (i32, u32, u32),
}

impl Default for Options {
    fn default() -> Self {
        Options {
            photo_share: 0.3,
            jpeg_share: 0.5,
            bengali_share: 0.4,
            variants: vec![
                (Variant::Clean, 0.5),
                (Variant::AmountAltered, 0.14),
                (Variant::PayeePasted, 0.1),
                (Variant::DateChanged, 0.1),
                (Variant::SignatureCloned, 0.1),
                (Variant::Counterfeit, 0.06),
            ],
            data_dir: gdgen::data::default_data_dir(),
            today: (2026, 12, 6),
        }
    }
}

impl Options {
    /// Parse `clean=0.5,amount_altered=0.2,...`.
    pub fn parse_variants(s: &str) -> Result<Vec<(Variant, f64)>, String> {
        s.split(',')
            .map(|kv| {
                let (k, v) = kv.split_once('=').ok_or(format!("not name=weight: {kv}"))?;
                let variant = Variant::ALL
                    .into_iter()
                    .find(|x| x.as_str() == k.trim())
                    .ok_or(format!("unknown variant {k}"))?;
                let w: f64 = v.trim().parse().map_err(|_| format!("bad weight {v}"))?;
                Ok((variant, w))
            })
            .collect()
    }

    fn pick_variant<R: Rng + ?Sized>(&self, rng: &mut R) -> Variant {
        let total: f64 = self.variants.iter().map(|(_, w)| w.max(0.0)).sum();
        let mut t = rng.gen_range(0.0..total.max(f64::MIN_POSITIVE));
        for &(v, w) in &self.variants {
            t -= w.max(0.0);
            if t < 0.0 {
                return v;
            }
        }
        Variant::Clean
    }
}

/// Routing numbers by bank code, read once from `bd-routing.csv`.
fn routing_numbers(dir: &std::path::Path) -> Result<&'static Vec<(String, String)>, Error> {
    static TABLE: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    if let Some(t) = TABLE.get() {
        return Ok(t);
    }
    let path = dir.join("bd-routing/bd-routing.csv");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::Routing(path.display().to_string(), e.to_string()))?;
    let rows: Vec<(String, String)> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut it = l.splitn(3, ',');
            let r = it.next()?.to_owned();
            let _bank = it.next()?;
            let branch = it.next()?.to_owned();
            (r.len() == 9 && BANKS.iter().any(|b| r.starts_with(b.code))).then_some((r, branch))
        })
        .collect();
    Ok(TABLE.get_or_init(|| rows))
}

thread_local! {
    static RENDERER: RefCell<Option<Renderer>> = const { RefCell::new(None) };
}

fn with_renderer<T>(f: impl FnOnce(&mut Renderer) -> T) -> Result<T, Error> {
    RENDERER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(Renderer::new()?);
        }
        match slot.as_mut() {
            Some(r) => Ok(f(r)),
            None => Err(Error::Fonts(gdgen::render::MissingFonts(Vec::new()))),
        }
    })
}

const PAYEES: &[&str] = &[
    "Rahim Uddin",
    "Karim Ahmed",
    "Fatema Begum",
    "Nusrat Jahan",
    "Abdul Malek",
    "Shahidul Islam",
    "Taslima Akter",
    "Mizanur Rahman",
    "Rokeya Khatun",
    "Jamal Hossain",
    "Anwar Hossain",
    "Sharmin Sultana",
    "Habibur Rahman",
    "Monira Parvin",
    "Delwar Hossain",
    "Salma Akter",
    "Kamrul Hasan",
    "Farhana Yasmin",
    "Mostafa Kamal",
    "Nazma Begum",
];

/// A random amount in paisa: mostly round thousands, some with odd taka or paisa.
fn amount<R: Rng + ?Sized>(rng: &mut R) -> u64 {
    let taka: u64 = match rng.gen_range(0..10) {
        0..=3 => rng.gen_range(1..100) * 1_000,
        4..=6 => rng.gen_range(1..100) * 100_000 / 10 + rng.gen_range(0..10) * 1_000,
        7 => rng.gen_range(1..20) * 100_000 + rng.gen_range(0..100) * 1_000,
        8 => rng.gen_range(100..100_000),
        _ => rng.gen_range(1..5) * 10_000_000 + rng.gen_range(0..100) * 100_000,
    };
    let paisa = if rng.gen_bool(0.15) {
        rng.gen_range(1..100)
    } else {
        0
    };
    taka.max(1) * 100 + paisa
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `today` moved back by `days` (days ≥ 0) or forward (negative).
fn shift_date((mut y, mut m, mut d): (i32, u32, u32), days: i32) -> (i32, u32, u32) {
    let mut left = days;
    while left > 0 {
        if d > 1 {
            d -= 1;
        } else {
            if m > 1 {
                m -= 1;
            } else {
                m = 12;
                y -= 1;
            }
            d = days_in_month(y, m);
        }
        left -= 1;
    }
    while left < 0 {
        if d < days_in_month(y, m) {
            d += 1;
        } else {
            d = 1;
            if m < 12 {
                m += 1;
            } else {
                m = 1;
                y += 1;
            }
        }
        left += 1;
    }
    (y, m, d)
}

fn iso((y, m, d): (i32, u32, u32)) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

fn written_date((y, m, d): (i32, u32, u32), sep: char) -> String {
    format!("{d:02}{sep}{m:02}{sep}{y:04}")
}

/// Handwriting-like text: each word rendered, slanted, turned a little and set on a wobbly
/// baseline; a black-on-white mask.
fn hand<R: Rng + ?Sized>(
    r: &mut Renderer,
    text: &str,
    family: &str,
    px: f32,
    rng: &mut R,
) -> GrayImage {
    let slant = rng.gen_range(0.12..0.3f32);
    let words: Vec<GrayImage> = text
        .split_whitespace()
        .map(|w| {
            let m = r.line(w, family, px * rng.gen_range(0.94..1.06), false);
            let (mw, mh) = m.dimensions();
            let extra = (slant * mh as f32).ceil() as u32;
            let angle = rng.gen_range(-2.5f32..2.5).to_radians();
            let proj = Projection::translate(-(mw as f32) / 2.0, -(mh as f32) / 2.0)
                .and_then(Projection::rotate(angle))
                .and_then(Projection::translate(
                    (mw + extra) as f32 / 2.0,
                    mh as f32 / 2.0,
                ));
            // Shear: x' = x + slant * (h - y).
            let shear = Projection::from_matrix([
                1.0,
                -slant,
                slant * mh as f32,
                0.0,
                1.0,
                0.0,
                0.0,
                0.0,
                1.0,
            ])
            .unwrap_or_else(|| Projection::translate(0.0, 0.0));
            let mut out = GrayImage::from_pixel(mw + extra, mh, Luma([255]));
            warp_into(
                &m,
                shear.and_then(proj),
                Interpolation::Bilinear,
                Border::Constant(Luma([255])),
                &mut out,
            );
            out
        })
        .collect();
    let space = (px * 0.35) as u32;
    let h = words.iter().map(GrayImage::height).max().unwrap_or(1) + (px * 0.3) as u32;
    let w: u32 = words.iter().map(|m| m.width() + space).sum::<u32>().max(1);
    let mut out = GrayImage::from_pixel(w, h, Luma([255]));
    let mut x = 0u32;
    for m in &words {
        let y = rng.gen_range(0..=(px * 0.25) as u32);
        for (mx, my, p) in m.enumerate_pixels() {
            if let Some(o) = out.get_pixel_mut_checked(x + mx, y + my) {
                o.0[0] = o.0[0].min(p.0[0]);
            }
        }
        x += m.width() + space - rng.gen_range(0..=space / 3);
    }
    out
}

/// Multiply a mask onto the page so that its ink box's left edge is at `x` and its vertical
/// centre at `cy`; returns the ink box on the page.
fn put_text(
    page: &mut RgbImage,
    mask: &GrayImage,
    x: i32,
    cy: i32,
    ink_c: Ink,
    opacity: f32,
) -> Rect {
    let (bx0, by0, bx1, by1) = ink::ink_bbox(mask).unwrap_or((0, 0, mask.width(), mask.height()));
    let ox = x - bx0 as i32;
    let oy = cy - ((by0 + by1) / 2) as i32;
    ink::put_mask(page, mask, ox, oy, ink_c, opacity);
    Rect {
        x: (ox + bx0 as i32).max(0) as u32,
        y: (oy + by0 as i32).max(0) as u32,
        w: bx1 - bx0,
        h: by1 - by0,
    }
}

/// Make the cheque for `seed` under `options`.
pub fn generate(seed: u64, options: &Options) -> Result<Generated, Error> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let variant = options.pick_variant(&mut rng);
    let photo = rng.gen_bool(options.photo_share.clamp(0.0, 1.0));
    let jpeg_q = rng
        .gen_bool(options.jpeg_share.clamp(0.0, 1.0))
        .then(|| rng.gen_range(70..95u8));
    let bengali = rng.gen_bool(options.bengali_share.clamp(0.0, 1.0));
    let routing_table = routing_numbers(&options.data_dir)?;

    let mut bank = BANKS[rng.gen_range(0..BANKS.len())];
    let (routing, branch) = {
        let mine: Vec<&(String, String)> = routing_table
            .iter()
            .filter(|(r, _)| r.starts_with(bank.code))
            .collect();
        let pick = mine
            .get(rng.gen_range(0..mine.len().max(1)))
            .copied()
            .cloned()
            .unwrap_or_else(|| ("200100001".to_owned(), "Principal".to_owned()));
        pick
    };
    let counterfeit = variant == Variant::Counterfeit;
    if counterfeit {
        // Made-up colours, pattern and a layout shifted from every bank's.
        bank.tint = [
            rng.gen_range(215..255),
            rng.gen_range(215..255),
            rng.gen_range(215..255),
        ];
        bank.ink = [
            rng.gen_range(0..200),
            rng.gen_range(0..200),
            rng.gen_range(0..200),
        ];
        bank.pattern = (
            rng.gen_range(5.0..16.0),
            rng.gen_range(-90.0..90.0),
            rng.gen_range(0.0..8.0),
        );
    }
    let design = Design {
        bank,
        contrast: if counterfeit && rng.gen_bool(0.5) {
            0.0
        } else {
            rng.gen_range(0.28..0.42)
        },
    };
    let lay = field_layout(bank.layout);

    let cheque_number = format!("{:07}", rng.gen_range(0..10_000_000u32));
    let account = format!("{:013}", rng.gen_range(0..10_000_000_000_000u64));
    let code = ["10", "11", "12", "20"][rng.gen_range(0..4)];
    let micr = format!("C{cheque_number}C{routing}A{account}C{code}");
    let payee = PAYEES[rng.gen_range(0..PAYEES.len())].to_owned();
    let words_value = amount(&mut rng);
    let today = options.today;
    let date = shift_date(today, rng.gen_range(0..150));
    let sep = ['/', '-', '.'][rng.gen_range(0..3)];

    let mut how = Vec::new();
    // Altered in the same hand: the figures say another amount from the start.
    let hand_altered = variant == Variant::AmountAltered && rng.gen_bool(0.35);
    let figures_value = if hand_altered {
        how.push("figures_written_differently".to_owned());
        let mut v = amount(&mut rng);
        if v == words_value {
            v += 100_000;
        }
        v
    } else {
        words_value
    };
    let fig_text = |v: u64, rng: &mut ChaCha8Rng| {
        let f = words::figures(v);
        let f = if bengali && rng.gen_bool(0.5) {
            words::bengali_digits(&f)
        } else {
            f
        };
        match rng.gen_range(0..3) {
            0 => format!("Tk {f}"),
            1 => format!("৳{f}"),
            _ => format!("{f}/-"),
        }
    };
    let figures_text = fig_text(figures_value, &mut rng);
    let words_text = if bengali {
        words::words_bn(words_value)
    } else {
        words::words_en(words_value)
    };
    let pen: Ink = if rng.gen_bool(0.6) {
        [20, 30, rng.gen_range(110..170)]
    } else {
        [25, 25, 30]
    };
    let hand_font = if bengali {
        "Noto Serif Bengali"
    } else {
        "Noto Serif"
    };

    let mut page = with_renderer(|r| -> RgbImage {
        let mut page = blank(r, &design, &branch);
        let opacity = rng.gen_range(0.8..0.95);
        let m = hand(r, &written_date(date, sep), "Noto Serif", 30.0, &mut rng);
        put_text(&mut page, &m, lay.date.x as i32 + 20, 58, pen, opacity);
        let m = hand(r, &payee, "Noto Serif", 34.0, &mut rng);
        put_text(&mut page, &m, lay.payee.x as i32 + 20, 140, pen, opacity);
        let m = hand(r, &words_text, hand_font, 30.0, &mut rng);
        // Long words wrap onto the second line.
        let m = if m.width() > lay.amount_words.w {
            let cut = words_text
                .char_indices()
                .filter(|&(_, c)| c == ' ')
                .map(|(i, _)| i)
                .rfind(|&i| i < words_text.len() * 3 / 5)
                .unwrap_or(words_text.len() / 2);
            let (a, b) = words_text.split_at(cut);
            let m2 = hand(r, b.trim(), hand_font, 30.0, &mut rng);
            put_text(
                &mut page,
                &m2,
                80,
                lay.amount_words.y as i32 + 106,
                pen,
                opacity,
            );
            hand(r, a.trim(), hand_font, 30.0, &mut rng)
        } else {
            m
        };
        put_text(
            &mut page,
            &m,
            lay.amount_words.x as i32 + 10,
            lay.amount_words.y as i32 + 32,
            pen,
            opacity,
        );
        let m = hand(r, &figures_text, "Noto Serif", 32.0, &mut rng);
        let fb = lay.amount_figures;
        put_text(
            &mut page,
            &m,
            fb.x as i32 + 14,
            (fb.y + fb.h / 2) as i32,
            pen,
            opacity,
        );
        // Account number, printed.
        let m = r.line(&account, "Noto Sans Mono", 20.0, false);
        put_text(&mut page, &m, 140, 400, [40, 40, 40], 0.95);
        // Signature.
        let pen_w = rng.gen_range(2.0..3.2);
        let sig = ink::signature(&mut rng, 300, 90, pen_w);
        ink::put_coverage(
            &mut page,
            &sig,
            lay.signature.x as i32 + 40,
            lay.signature.y as i32 + 5,
            pen,
            0.9,
        );
        // MICR line, magnetic-ink black.
        let micr_h = rng.gen_range(26..30);
        let m = e13b::render_line(&micr, micr_h);
        put_text(
            &mut page,
            &m,
            lay.micr.x as i32 + rng.gen_range(0..60),
            (lay.micr.y + lay.micr.h / 2) as i32,
            [20, 20, 20],
            0.97,
        );
        page
    })?;

    // Tampering: physically on the page before capture, or digitally on the captured image.
    let digital = variant.is_fraud() && !counterfeit && rng.gen_bool(0.6);
    if variant.is_fraud() && !counterfeit {
        how.push(if digital { "digital" } else { "physical" }.to_owned());
    }
    let mut tamper_page = Vec::new();
    let apply = |img: &mut RgbImage,
                 to_region: &dyn Fn(Rect) -> Region,
                 rng: &mut ChaCha8Rng|
     -> Result<Vec<Region>, Error> {
        let mut regions = Vec::new();
        let paste = |img: &mut RgbImage,
                     rect: Rect,
                     text: &str,
                     family: &str,
                     rng: &mut ChaCha8Rng|
         -> Result<Region, Error> {
            let reg = to_region(rect);
            with_renderer(|r| tamper::paste(img, reg, text, family, r, rng))?;
            Ok(reg)
        };
        match variant {
            Variant::AmountAltered if !hand_altered => {
                let mut v = amount(rng);
                if v == words_value {
                    v += 100_000;
                }
                let t = fig_text(v, rng);
                regions.push(paste(img, lay.amount_figures, &t, "Noto Serif", rng)?);
                if rng.gen_bool(0.4) {
                    let wt = if bengali {
                        words::words_bn(v)
                    } else {
                        words::words_en(v)
                    };
                    regions.push(paste(img, lay.amount_words, &wt, hand_font, rng)?);
                }
            }
            Variant::PayeePasted => {
                let other = PAYEES[rng.gen_range(0..PAYEES.len())];
                regions.push(paste(img, lay.payee, other, "Noto Serif", rng)?);
            }
            Variant::DateChanged => {
                let d = shift_date(today, rng.gen_range(-40..300));
                regions.push(paste(
                    img,
                    lay.date,
                    &written_date(d, sep),
                    "Noto Serif",
                    rng,
                )?);
            }
            Variant::SignatureCloned => {
                let s = to_region(lay.signature);
                let (iw, ih) = img.dimensions();
                let dx = rng.gen_range(300..700u32);
                let dy = rng.gen_range(0..60u32);
                let dst = (
                    s.x.saturating_sub(dx),
                    (s.y + dy).min(ih.saturating_sub(s.h)),
                );
                if s.inside(iw, ih) && dst.0 + s.w <= iw {
                    tamper::clone_block(img, (s.x, s.y), dst, s.w, s.h);
                    regions.push(Region {
                        x: dst.0,
                        y: dst.1,
                        w: s.w,
                        h: s.h,
                    });
                }
            }
            _ => {}
        }
        Ok(regions)
    };
    if !digital {
        let identity = |r: Rect| Region {
            x: r.x,
            y: r.y,
            w: r.w,
            h: r.h,
        };
        tamper_page = apply(&mut page, &identity, &mut rng)?;
    }
    let (mut img, fwd) = capture(&page, photo, &mut rng);
    let (iw, ih) = img.dimensions();
    let mut tampered: Vec<Region> = tamper_page
        .iter()
        .map(|r| {
            region_of(
                &fwd,
                Rect {
                    x: r.x,
                    y: r.y,
                    w: r.w,
                    h: r.h,
                },
                iw,
                ih,
            )
        })
        .collect();
    if digital {
        let map = |r: Rect| region_of(&fwd, r, iw, ih);
        tampered = apply(&mut img, &map, &mut rng)?;
    }
    if variant == Variant::SignatureCloned && tampered.is_empty() {
        how.push("clone_skipped".to_owned());
    }
    let bytes = encode(&img, jpeg_q)?;
    Ok(Generated {
        bytes,
        label: Label {
            file: String::new(),
            seed,
            variant,
            fraud: u8::from(variant.is_fraud()),
            how,
            rendition: if photo {
                Rendition::Photo
            } else {
                Rendition::Scan
            },
            format: if jpeg_q.is_some() { "jpeg" } else { "png" }.to_owned(),
            bank: if counterfeit {
                "none".to_owned()
            } else {
                bank.name.to_owned()
            },
            routing,
            cheque_number,
            account,
            micr,
            payee,
            amount_words: words_value,
            amount_figures: figures_value,
            words_text,
            figures_text,
            date: iso(date),
            today: iso(today),
            tampered,
        },
    })
}

/// `count` cheques from `seed`, made in parallel a chunk at a time and yielded in order;
/// cheque `i` is `generate(doc_seed(seed, i), options)` named `cheque_{i:05}.{png|jpg}`.
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
                    let ext = if g.label.format == "jpeg" {
                        "jpg"
                    } else {
                        "png"
                    };
                    g.label.file = format!("cheque_{i:05}.{ext}");
                    g
                })
            })
            .collect::<Vec<_>>()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_shift_over_month_and_year_ends() {
        assert_eq!(shift_date((2026, 1, 1), 1), (2025, 12, 31));
        assert_eq!(shift_date((2026, 3, 1), 1), (2026, 2, 28));
        assert_eq!(shift_date((2026, 12, 31), -1), (2027, 1, 1));
        assert_eq!(shift_date((2026, 12, 6), 0), (2026, 12, 6));
    }

    fn only(variant: Variant, photo: bool) -> Options {
        Options {
            variants: vec![(variant, 1.0)],
            photo_share: if photo { 1.0 } else { 0.0 },
            ..Options::default()
        }
    }

    #[test]
    fn same_seed_same_bytes() {
        let a = generate(7, &only(Variant::PayeePasted, false)).expect("fonts installed");
        let b = generate(7, &only(Variant::PayeePasted, false)).expect("fonts installed");
        assert_eq!(a.bytes, b.bytes);
        let c = generate(8, &only(Variant::PayeePasted, false)).expect("fonts installed");
        assert_ne!(a.bytes, c.bytes);
    }

    #[test]
    fn labels_tell_the_truth() {
        for (i, v) in Variant::ALL.into_iter().enumerate() {
            let g = generate(100 + i as u64, &only(v, i % 2 == 1)).expect("fonts installed");
            let l = &g.label;
            assert_eq!(l.variant, v);
            assert_eq!(l.fraud == 1, v != Variant::Clean);
            assert!(
                l.micr.contains(&l.routing) && l.micr.contains(&l.account),
                "{l:?}"
            );
            let pasted = matches!(v, Variant::PayeePasted | Variant::DateChanged)
                || (v == Variant::AmountAltered
                    && !l.how.iter().any(|h| h == "figures_written_differently"));
            assert_eq!(
                !l.tampered.is_empty(),
                pasted || v == Variant::SignatureCloned,
                "{v:?}: {l:?}"
            );
            if v == Variant::AmountAltered && l.tampered.is_empty() {
                assert_ne!(l.amount_figures, l.amount_words);
            }
            let img = image::load_from_memory(&g.bytes).expect("decodes");
            for r in &l.tampered {
                assert!(r.inside(img.width(), img.height()), "{r:?}");
            }
        }
    }

    #[test]
    fn variants_parse() {
        let v = Options::parse_variants("clean=1,counterfeit=0.5").expect("valid");
        assert_eq!(v, vec![(Variant::Clean, 1.0), (Variant::Counterfeit, 0.5)]);
        assert!(Options::parse_variants("clean").is_err());
        assert!(Options::parse_variants("forged=1").is_err());
    }
}
