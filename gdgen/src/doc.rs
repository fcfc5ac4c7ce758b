//! The content of a GD copy ([`DocSpec`]) and its layout on an A4 page.

use image::{Rgb, RgbImage};
use rand::seq::SliceRandom;
use rand::Rng;

use crate::data::{self, Phone, RefData, Thana};
use crate::imei::{self, Grouping};
use crate::ink::{self, Ink};
use crate::render::Renderer;

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Year, e.g. 2024.
    pub y: i32,
    /// Month 1..=12.
    pub m: u32,
    /// Day 1..=31.
    pub d: u32,
}

impl Date {
    fn days_in_month(y: i32, m: u32) -> u32 {
        match m {
            2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    /// A random date between 2019 and 2025.
    pub fn random<R: Rng + ?Sized>(rng: &mut R) -> Date {
        let y = rng.gen_range(2019..=2025);
        let m = rng.gen_range(1..=12);
        let d = rng.gen_range(1..=Self::days_in_month(y, m));
        Date { y, m, d }
    }

    /// The date `n` days earlier.
    pub fn minus_days(self, n: u32) -> Date {
        let mut out = self;
        for _ in 0..n {
            if out.d > 1 {
                out.d -= 1;
            } else if out.m > 1 {
                out.m -= 1;
                out.d = Self::days_in_month(out.y, out.m);
            } else {
                out.y -= 1;
                out.m = 12;
                out.d = 31;
            }
        }
        out
    }

    /// `YYYY-MM-DD`.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.y, self.m, self.d)
    }
}

/// How a date is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateStyle {
    /// `12/03/2024`
    Slash,
    /// `12-03-2024`
    Dash,
    /// `১২ মার্চ ২০২৪` (Bengali month names), `12 March 2024` in English.
    Words,
}

const MONTHS_BN: [&str; 12] = [
    "জানুয়ারি",
    "ফেব্রুয়ারি",
    "মার্চ",
    "এপ্রিল",
    "মে",
    "জুন",
    "জুলাই",
    "আগস্ট",
    "সেপ্টেম্বর",
    "অক্টোবর",
    "নভেম্বর",
    "ডিসেম্বর",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `date` as printed in `style`, Bengali digits if `bengali`, month words in Bengali unless
/// `english`.
pub fn format_date(date: Date, style: DateStyle, bengali: bool, english: bool) -> String {
    let s = match style {
        DateStyle::Slash => format!("{:02}/{:02}/{}", date.d, date.m, date.y),
        DateStyle::Dash => format!("{:02}-{:02}-{}", date.d, date.m, date.y),
        DateStyle::Words if english => {
            format!("{} {} {}", date.d, MONTHS_EN[date.m as usize - 1], date.y)
        }
        DateStyle::Words => format!("{} {} {}", date.d, MONTHS_BN[date.m as usize - 1], date.y),
    };
    if bengali {
        imei::to_bengali_digits(&s)
    } else {
        s
    }
}

/// Everything written on one GD copy, and how its digits and labels are printed.
#[derive(Debug, Clone)]
pub struct DocSpec {
    /// The seed the document (content, layout, rendition, tampering) derives from.
    pub seed: u64,
    /// The police station.
    pub thana: Thana,
    /// The lost phone.
    pub phone: Phone,
    /// Whether the IMEIs' TAC is allocated to the phone's brand (false: a plausible TAC
    /// under reporting body 86 because none is known for the brand).
    pub tac_matches_brand: bool,
    /// The phone's IMEIs (ASCII, Luhn-valid): one or two.
    pub imeis: Vec<String>,
    /// The GD number as printed, ASCII digits: `789`, `1234` or `567/24`.
    pub gd_number: String,
    /// The GD's date.
    pub gd_date: Date,
    /// When the phone was lost.
    pub loss_date: Date,
    /// Whether the phone was stolen/snatched (else lost).
    pub stolen: bool,
    /// Where it was lost.
    pub place: String,
    /// The applicant's name (Bengali).
    pub applicant: String,
    /// The applicant's father's name (Bengali).
    pub father: String,
    /// The applicant's address line (Bengali, ASCII digits).
    pub address: String,
    /// The applicant's mobile number (ASCII digits).
    pub mobile: String,
    /// The duty officer's rank and name (Bengali).
    pub officer: String,
    /// Numbers printed in Bengali digits.
    pub bengali_digits: bool,
    /// Field labels and letterhead in English (else Bengali).
    pub english_labels: bool,
    /// How the GD date is printed.
    pub date_style: DateStyle,
    /// How IMEIs are grouped.
    pub grouping: Grouping,
}

impl DocSpec {
    /// Random content from `rng`; `bengali_digit_share` is the chance of Bengali digits.
    pub fn random<R: Rng + ?Sized>(
        seed: u64,
        data: &RefData,
        bengali_digit_share: f64,
        rng: &mut R,
    ) -> DocSpec {
        let thana = data.thana(rng);
        let phone = data::phone_choice(rng);
        let (tac, tac_matches_brand) = data.tac(&phone, rng);
        let mut imeis = vec![imei::imei_from_tac(&tac, rng)];
        if phone.dual_sim && rng.gen_bool(0.85) {
            // The second IMEI of a dual-SIM phone usually shares the TAC and a near serial.
            let second = if rng.gen_bool(0.6) {
                imei::vary_suffix(&imeis[0], 12, rng)
            } else {
                imei::imei_from_tac(&tac, rng)
            };
            imeis.push(second);
        }
        let gd_date = Date::random(rng);
        let gd_number = match rng.gen_range(0..3) {
            0 => format!("{}", rng.gen_range(1..1000)),
            1 => format!("{}", rng.gen_range(1000..3000)),
            _ => format!("{}/{:02}", rng.gen_range(1..2000), gd_date.y % 100),
        };
        let english_labels = rng.gen_bool(0.35);
        let bengali_digits = rng.gen_bool(bengali_digit_share.clamp(0.0, 1.0));
        let pick = |list: &[&str], rng: &mut R| {
            (*list.choose(rng).expect("lists are not empty")).to_owned()
        };
        let place = if rng.gen_bool(0.3) {
            format!("{} বাজার", thana.thana_bn)
        } else {
            pick(data::PLACES, rng)
        };
        let address = format!(
            "বাসা নং- {}, {}, {}, {}",
            rng.gen_range(1..120),
            pick(data::AREAS, rng),
            thana.thana_bn,
            thana.district_bn
        );
        let prefixes = ["013", "014", "015", "016", "017", "018", "019"];
        let mobile = format!(
            "{}{:08}",
            prefixes.choose(rng).expect("not empty"),
            rng.gen_range(0..100_000_000u32)
        );
        DocSpec {
            seed,
            loss_date: gd_date.minus_days(rng.gen_range(0..6)),
            stolen: rng.gen_bool(0.4),
            place,
            applicant: pick(data::NAMES, rng),
            father: pick(data::NAMES, rng),
            address,
            mobile,
            officer: pick(data::OFFICERS, rng),
            date_style: *[
                DateStyle::Slash,
                DateStyle::Slash,
                DateStyle::Dash,
                DateStyle::Words,
            ]
            .choose(rng)
            .expect("not empty"),
            grouping: *[
                Grouping::Plain,
                Grouping::Plain,
                Grouping::Plain,
                Grouping::Structured('-'),
                Grouping::Structured(' '),
                Grouping::Fours(' '),
                Grouping::Fours('-'),
            ]
            .choose(rng)
            .expect("not empty"),
            thana,
            phone,
            tac_matches_brand,
            imeis,
            gd_number,
            gd_date,
            bengali_digits,
            english_labels,
        }
    }

    /// A number as printed on this document.
    pub fn digits(&self, s: &str) -> String {
        if self.bengali_digits {
            imei::to_bengali_digits(s)
        } else {
            s.to_owned()
        }
    }

    /// The GD date as printed.
    pub fn printed_date(&self) -> String {
        format_date(
            self.gd_date,
            self.date_style,
            self.bengali_digits,
            self.english_labels,
        )
    }

    /// IMEI `i` as printed.
    pub fn printed_imei(&self, i: usize) -> String {
        imei::format_imei(&self.imeis[i], self.grouping, self.bengali_digits)
    }
}

/// An axis-aligned box in page pixels (exclusive ends).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RectF {
    /// Left.
    pub x0: f32,
    /// Top.
    pub y0: f32,
    /// Right.
    pub x1: f32,
    /// Bottom.
    pub y1: f32,
}

/// A printed value whose place on the page is known (for labels and tampering).
#[derive(Debug, Clone)]
pub struct Field {
    /// The ink box of the value.
    pub rect: RectF,
    /// The text as printed.
    pub printed: String,
    /// The font family it is printed in.
    pub family: &'static str,
    /// Its size in pixels.
    pub px: f32,
    /// Where the pen starts (x) and the top of the line box (y), page pixels.
    pub origin: (f32, f32),
}

/// A rendered page and where things are on it.
#[derive(Debug)]
pub struct Page {
    /// The page at `dpi`.
    pub img: RgbImage,
    /// Dots per inch of `img`.
    pub dpi: f32,
    /// The IMEI values.
    pub imeis: Vec<Field>,
    /// The GD number value.
    pub gd_number: Field,
    /// The GD date value.
    pub gd_date: Field,
    /// Ink boxes of other text lines (sources for clone tampering).
    pub lines: Vec<RectF>,
}

const BN_FAMILIES: [&str; 3] = ["Noto Sans Bengali", "Noto Serif Bengali", "Lohit Bengali"];
const EN_FAMILIES: [&str; 4] = ["Noto Sans", "Noto Serif", "DejaVu Sans", "DejaVu Serif"];

/// Layout choices for one page.
#[derive(Debug, Clone)]
struct Style {
    dpi: f32,
    px: f32,
    lh: f32,
    margin_l: f32,
    margin_r: f32,
    margin_t: f32,
    bn: &'static str,
    en: &'static str,
    ink: Ink,
    paper: Rgb<u8>,
    letterhead: u8,
    gd_same_line: bool,
    phone_block: u8,
    sep: &'static str,
    ruled: bool,
    officer_left: bool,
    received_stamp: bool,
    seal_ink: Ink,
    pen_ink: Ink,
}

impl Style {
    fn random<R: Rng + ?Sized>(rng: &mut R) -> Style {
        let dpi = rng.gen_range(150.0..200.0f32);
        let pt = rng.gen_range(11.5..13.5f32);
        let seal_inks: [Ink; 4] = [[120, 40, 150], [40, 60, 170], [180, 40, 60], [95, 45, 140]];
        let pen_inks: [Ink; 3] = [[25, 45, 150], [20, 30, 110], [30, 30, 40]];
        let k = rng.gen_range(0..30u8);
        Style {
            dpi,
            px: pt / 72.0 * dpi,
            lh: rng.gen_range(1.45..1.85),
            margin_l: dpi * rng.gen_range(0.6..1.1),
            margin_r: dpi * rng.gen_range(0.5..0.9),
            margin_t: dpi * rng.gen_range(0.4..0.8),
            bn: BN_FAMILIES.choose(rng).expect("not empty"),
            en: EN_FAMILIES.choose(rng).expect("not empty"),
            ink: [k, k, k + rng.gen_range(0..15)],
            paper: Rgb([
                rng.gen_range(244..=255),
                rng.gen_range(242..=254),
                rng.gen_range(238..=252),
            ]),
            letterhead: rng.gen_range(0..3),
            gd_same_line: rng.gen_bool(0.5),
            phone_block: rng.gen_range(0..3),
            sep: [":", ":", "ঃ", " -"].choose(rng).expect("not empty"),
            ruled: rng.gen_bool(0.35),
            officer_left: rng.gen_bool(0.3),
            received_stamp: rng.gen_bool(0.35),
            seal_ink: *seal_inks.choose(rng).expect("not empty"),
            pen_ink: *pen_inks.choose(rng).expect("not empty"),
        }
    }
}

struct Layout<'a> {
    r: &'a mut Renderer,
    img: RgbImage,
    s: Style,
    y: f32,
    lines: Vec<RectF>,
}

/// Where text was drawn: its ink box and pen origin.
struct Drawn {
    rect: RectF,
    origin: (f32, f32),
    advance: f32,
}

impl Layout<'_> {
    fn width(&self) -> f32 {
        self.img.width() as f32
    }

    fn content_w(&self) -> f32 {
        self.width() - self.s.margin_l - self.s.margin_r
    }

    /// Draw `text` with its pen at `x`, line top at `y`.
    fn text(&mut self, text: &str, family: &str, px: f32, bold: bool, x: f32, y: f32) -> Drawn {
        let mask = self.r.line(text, family, px, bold);
        let m = Renderer::margin(px) as f32;
        let (mx, my) = ((x - m).round() as i32, (y - m).round() as i32);
        ink::put_mask(&mut self.img, &mask, mx, my, self.s.ink, 1.0);
        let (bx0, by0, bx1, by1) =
            ink::ink_bbox(&mask).unwrap_or((0, 0, mask.width(), mask.height()));
        let rect = RectF {
            x0: mx as f32 + bx0 as f32,
            y0: my as f32 + by0 as f32,
            x1: mx as f32 + bx1 as f32,
            y1: my as f32 + by1 as f32,
        };
        self.lines.push(rect);
        Drawn {
            rect,
            origin: (mx as f32 + m, my as f32 + m),
            advance: mask.width() as f32 - 2.0 * m,
        }
    }

    fn measure(&mut self, text: &str, family: &str, px: f32, bold: bool) -> f32 {
        self.r.measure(text, family, px, bold)
    }

    /// A line centred on the page; advances `y`.
    fn centred(&mut self, text: &str, family: &str, px: f32, bold: bool) {
        let w = self.measure(text, family, px, bold);
        let x = (self.width() - w) / 2.0;
        let y = self.y;
        self.text(text, family, px, bold, x, y);
        self.y += px * self.s.lh;
    }

    /// A line at the left margin (plus `indent`); advances `y`.
    fn left(&mut self, text: &str, family: &str, px: f32, bold: bool, indent: f32) {
        let (x, y) = (self.s.margin_l + indent, self.y);
        self.text(text, family, px, bold, x, y);
        self.y += px * self.s.lh;
    }

    /// `label` then `value` at `x` (value at `x + tab` if given), on the line at `y`;
    /// returns the value's field.
    #[allow(clippy::too_many_arguments)]
    fn field(
        &mut self,
        label: &str,
        label_family: &str,
        value: &str,
        value_family: &'static str,
        x: f32,
        tab: Option<f32>,
        y: f32,
    ) -> Field {
        let px = self.s.px;
        let l = self.text(label, label_family, px, false, x, y);
        let vx = tab.map_or(x + l.advance + px * 0.4, |t| x + t);
        let v = self.text(value, value_family, px, false, vx, y);
        if self.s.ruled {
            let y_rule = (y + px * 1.22) as u32;
            let x1 = (v.rect.x1 + px * 2.0).max(vx + px * 9.0);
            ink::hline(
                &mut self.img,
                (vx - px * 0.2) as u32,
                x1 as u32,
                y_rule,
                1,
                [110, 110, 110],
                true,
            );
        }
        Field {
            rect: v.rect,
            printed: value.to_owned(),
            family: value_family,
            px,
            origin: v.origin,
        }
    }

    fn paragraph(&mut self, text: &str, family: &str, indent: f32) {
        let px = self.s.px;
        let w = self.content_w() - indent;
        let (mask, lines) = self.r.paragraph(text, family, px, false, w, self.s.lh);
        let m = Renderer::margin(px) as f32;
        let (mx, my) = (
            (self.s.margin_l + indent - m).round() as i32,
            (self.y - m).round() as i32,
        );
        ink::put_mask(&mut self.img, &mask, mx, my, self.s.ink, 1.0);
        for i in 0..lines {
            let top = my as f32 + m + i as f32 * px * self.s.lh;
            self.lines.push(RectF {
                x0: mx as f32 + m,
                y0: top + px * 0.2,
                x1: mx as f32 + m + w * 0.9,
                y1: top + px * 1.3,
            });
        }
        self.y += lines as f32 * px * self.s.lh + px * 0.3;
    }
}

fn mm(dpi: f32, v: f32) -> f32 {
    v / 25.4 * dpi
}

/// Lay `spec` out on an A4 page with a random style drawn from `rng`.
pub fn render_page<R: Rng + ?Sized>(r: &mut Renderer, spec: &DocSpec, rng: &mut R) -> Page {
    let style = Style::random(rng);
    let w = mm(style.dpi, 210.0).round() as u32;
    let h = mm(style.dpi, 297.0).round() as u32;
    let mut l = Layout {
        img: RgbImage::from_pixel(w, h, style.paper),
        y: style.margin_t,
        s: style,
        r,
        lines: Vec::new(),
    };
    let (bn, en) = (l.s.bn, l.s.en);
    let px = l.s.px;
    let eng = spec.english_labels;
    let t = &spec.thana;
    let label_fam = if eng { en } else { bn };

    // Letterhead.
    match l.s.letterhead {
        0 => {
            l.centred("গণপ্রজাতন্ত্রী বাংলাদেশ সরকার", bn, px * 0.95, false);
            l.centred("বাংলাদেশ পুলিশ", bn, px * 1.6, true);
            l.centred(
                &format!("{} থানা, {}", t.thana_bn, t.district_bn),
                bn,
                px * 1.15,
                false,
            );
        }
        1 => {
            l.centred("BANGLADESH POLICE", en, px * 1.5, true);
            l.centred(
                &format!("{} Police Station, {}", t.thana_en, t.district_en),
                en,
                px * 1.1,
                false,
            );
        }
        _ => {
            // Bilingual, with a small emblem ring at the left.
            let top = l.y;
            l.centred("বাংলাদেশ পুলিশ", bn, px * 1.45, true);
            l.centred("Bangladesh Police", en, px * 1.1, true);
            l.centred(
                &format!("{} থানা / {} Police Station", t.thana_bn, t.thana_en),
                bn,
                px * 1.0,
                false,
            );
            let d = (px * 4.2) as u32;
            let emblem = ink::round_seal(l.r, rng, d, "বাংলাদেশ পুলিশ", &["★"], bn, 0.0);
            let ex = l.s.margin_l as i32;
            ink::put_coverage(&mut l.img, &emblem, ex, top as i32, [40, 90, 60], 0.9);
        }
    }
    let title = if eng {
        "GENERAL DIARY (GD)"
    } else {
        "সাধারণ ডায়েরি (জিডি)"
    };
    l.y += px * 0.2;
    l.centred(title, label_fam, px * 1.25, true);
    let rule_y = (l.y - px * 0.25) as u32;
    let (x0, x1) = (l.s.margin_l as u32, (l.width() - l.s.margin_r) as u32);
    ink::hline(
        &mut l.img,
        x0,
        x1,
        rule_y,
        (px / 12.0).max(1.0) as u32,
        l.s.ink,
        false,
    );
    l.y += px * 0.5;

    // GD number and date.
    let sep = if eng && l.s.sep == "ঃ" {
        ":"
    } else {
        l.s.sep
    };
    let (gd_label, date_label) = if eng {
        (format!("GD No.{sep}"), format!("Date{sep}"))
    } else {
        (format!("জিডি নং{sep}"), format!("তারিখ{sep}"))
    };
    let num_fam: &'static str = if spec.bengali_digits || rng.gen_bool(0.5) {
        bn
    } else {
        en
    };
    let gd_printed = spec.digits(&spec.gd_number);
    let date_printed = spec.printed_date();
    let date_fam: &'static str = if spec.date_style == DateStyle::Words && !eng {
        bn
    } else {
        num_fam
    };
    let (gd_number, gd_date) = if l.s.gd_same_line {
        let y = l.y;
        let g = l.field(
            &gd_label,
            label_fam,
            &gd_printed,
            num_fam,
            x0 as f32,
            None,
            y,
        );
        let dw = l.measure(&date_label, label_fam, px, false)
            + l.measure(&date_printed, date_fam, px, false)
            + px * 2.5;
        let dx = x1 as f32 - dw;
        let d = l.field(&date_label, label_fam, &date_printed, date_fam, dx, None, y);
        l.y += px * l.s.lh;
        (g, d)
    } else {
        let tab = Some(px * rng.gen_range(5.0..7.0));
        let y = l.y;
        let g = l.field(
            &gd_label,
            label_fam,
            &gd_printed,
            num_fam,
            x0 as f32,
            tab,
            y,
        );
        l.y += px * l.s.lh;
        let y = l.y;
        let d = l.field(
            &date_label,
            label_fam,
            &date_printed,
            date_fam,
            x0 as f32,
            tab,
            y,
        );
        l.y += px * l.s.lh;
        (g, d)
    };
    l.y += px * 0.6;

    // Addressee.
    if eng {
        l.left("To,", en, px, false, 0.0);
        l.left("The Officer-in-Charge,", en, px, false, 0.0);
        l.left(
            &format!("{} Police Station,", t.thana_en),
            en,
            px,
            false,
            0.0,
        );
        l.left(&format!("{}.", t.district_en), en, px, false, 0.0);
    } else {
        l.left("বরাবর,", bn, px, false, 0.0);
        l.left("অফিসার ইনচার্জ,", bn, px, false, 0.0);
        l.left(&format!("{} থানা,", t.thana_bn), bn, px, false, 0.0);
        l.left(&format!("{}।", t.district_bn), bn, px, false, 0.0);
    }
    l.y += px * 0.4;
    let what = if spec.stolen {
        "চুরি"
    } else {
        "হারানো"
    };
    l.left(
        &format!("বিষয়: মোবাইল ফোন {what} সংক্রান্তে সাধারণ ডায়েরি প্রসঙ্গে।"),
        bn,
        px,
        true,
        0.0,
    );
    l.y += px * 0.2;
    l.left("জনাব,", bn, px, false, 0.0);

    // Body.
    let loss = format_date(spec.loss_date, DateStyle::Slash, spec.bengali_digits, false);
    let hour = spec.digits(&format!("{}", 7 + spec.seed % 12));
    let event = if spec.stolen {
        *[
            "অজ্ঞাতনামা ছিনতাইকারী আমার হাত থেকে",
            "ভিড়ের মধ্যে কে বা কাহারা আমার পকেট থেকে",
            "বাসে চলাচলের সময় অজ্ঞাত চোর",
        ]
        .choose(rng)
        .expect("not empty")
    } else {
        *[
            "রিকশায় যাতায়াতের সময় অসাবধানতাবশত",
            "বাজার করার সময় অসাবধানতাবশত",
            "বাসে চলাচলের সময় পকেট থেকে",
        ]
        .choose(rng)
        .expect("not empty")
    };
    let verb = if spec.stolen {
        "নিয়ে যায়"
    } else {
        "কোথাও পড়ে হারিয়ে যায়"
    };
    let body = format!(
        "বিনীত নিবেদন এই যে, আমি নিম্ন স্বাক্ষরকারী {}, পিতা- {}, ঠিকানা- {}। গত {} তারিখ আনুমানিক {} ঘটিকার সময় {} এলাকায় {} আমার ব্যবহৃত {} {} মোবাইল ফোনটি {}। অনেক খোঁজাখুঁজি করেও ফোনটি পাওয়া যায়নি। ফোনটির বিবরণ নিম্নরূপ:",
        spec.applicant,
        spec.father,
        spec.digits(&spec.address),
        loss,
        hour,
        spec.place,
        event,
        spec.phone.brand,
        spec.phone.model,
        verb
    );
    l.paragraph(&body, bn, 0.0);
    l.y += px * 0.3;

    // Phone block.
    let imei_fam: &'static str = if spec.bengali_digits { bn } else { num_fam };
    let labels: Vec<String> = if eng || rng.gen_bool(0.4) {
        let sep = if sep == "ঃ" { ":" } else { sep };
        let dash = if rng.gen_bool(0.5) { "-" } else { " " };
        vec![
            format!("Brand/Model{sep}"),
            format!("IMEI{dash}1{sep}"),
            format!("IMEI{dash}2{sep}"),
        ]
    } else {
        vec![
            format!("ব্র্যান্ড/মডেল{sep}"),
            format!("আইএমইআই ১{sep}"),
            format!("আইএমইআই ২{sep}"),
        ]
    };
    let lab_fam = if labels[0].starts_with('B') { en } else { bn };
    let model = format!("{} {}", spec.phone.brand, spec.phone.model);
    let indent = px * rng.gen_range(0.0..2.5);
    let bx = x0 as f32 + indent;
    let mut imeis = Vec::new();
    match l.s.phone_block {
        0 => {
            // One field per line, values at a tab stop.
            let tab = Some(px * rng.gen_range(7.0..9.0));
            let y = l.y;
            l.field(&labels[0], lab_fam, &model, en, bx, tab, y);
            l.y += px * l.s.lh;
            for i in 0..spec.imeis.len() {
                let y = l.y;
                let p = spec.printed_imei(i);
                imeis.push(l.field(&labels[i + 1], lab_fam, &p, imei_fam, bx, tab, y));
                l.y += px * l.s.lh;
            }
        }
        1 => {
            // Brand on its own line, the IMEIs side by side.
            let y = l.y;
            l.field(&labels[0], lab_fam, &model, en, bx, None, y);
            l.y += px * l.s.lh;
            let y = l.y;
            let col = (l.content_w() - indent) / 2.0;
            for i in 0..spec.imeis.len() {
                let p = spec.printed_imei(i);
                let x = bx + col * i as f32;
                imeis.push(l.field(&labels[i + 1], lab_fam, &p, imei_fam, x, None, y));
            }
            l.y += px * l.s.lh;
        }
        _ => {
            // A bordered table.
            let tab = px * rng.gen_range(7.5..9.0);
            let rows = 1 + spec.imeis.len();
            let row_h = px * 1.75;
            let tw = tab + px * 14.0;
            let top = l.y - px * 0.3;
            let thick = (px / 18.0).max(1.0) as u32;
            let ink = l.s.ink;
            for k in 0..=rows {
                let yy = (top + k as f32 * row_h) as u32;
                ink::hline(
                    &mut l.img,
                    bx as u32,
                    (bx + tw) as u32,
                    yy,
                    thick,
                    ink,
                    false,
                );
            }
            let bottom = (top + rows as f32 * row_h) as u32;
            for xx in [bx, bx + tab - px * 0.4, bx + tw] {
                ink::vline(&mut l.img, xx as u32, top as u32, bottom, thick, ink);
            }
            let saved = l.s.ruled;
            l.s.ruled = false;
            let y = top + px * 0.3;
            let lx = bx + px * 0.3;
            let t = Some(tab - px * 0.3);
            l.field(&labels[0], lab_fam, &model, en, lx, t, y);
            for i in 0..spec.imeis.len() {
                let y = top + (i + 1) as f32 * row_h + px * 0.3;
                let p = spec.printed_imei(i);
                imeis.push(l.field(&labels[i + 1], lab_fam, &p, imei_fam, lx, t, y));
            }
            l.s.ruled = saved;
            l.y = bottom as f32 + px * 0.6;
        }
    }
    l.y += px * 0.3;
    l.paragraph(
        "অতএব, বিষয়টি সাধারণ ডায়েরিভুক্ত করে প্রয়োজনীয় আইনগত ব্যবস্থা গ্রহণের জন্য বিনীত অনুরোধ করছি।",
        bn,
        0.0,
    );
    l.y += px * 0.5;

    // Applicant.
    let applicant_lines = [
        "নিবেদক,".to_owned(),
        spec.applicant.clone(),
        spec.digits(&spec.address),
        format!("মোবাইল: {}", spec.digits(&spec.mobile)),
    ];
    let ax = if l.s.officer_left {
        // On the right, but never past the right margin.
        let widest = applicant_lines
            .iter()
            .map(|s| l.measure(s, bn, px, true))
            .fold(0.0f32, f32::max);
        (l.width() * 0.55)
            .min(l.width() - l.s.margin_r - widest)
            .max(x0 as f32)
    } else {
        x0 as f32
    };
    for (i, s) in applicant_lines.iter().enumerate() {
        let y = l.y + i as f32 * px * l.s.lh;
        l.text(s, bn, px, i == 1, ax, y);
    }
    let block_top = l.y;
    l.y += 4.0 * px * l.s.lh + px * 0.8;

    // Duty officer: signature, name, seal.
    let ox = if l.s.officer_left {
        x0 as f32
    } else {
        l.width() * 0.58
    };
    // Officers sign low on the page, below the applicant's block.
    let low = l.img.height() as f32 * rng.gen_range(0.66..0.74);
    let oy = l.y.max(block_top + px * 5.0).max(low);
    let (sw, sh) = ((px * rng.gen_range(6.0..9.0)) as u32, (px * 2.6) as u32);
    let sig = ink::signature(rng, sw, sh, (px / 14.0).max(1.2));
    ink::put_coverage(
        &mut l.img,
        &sig,
        ox as i32 + (px * 0.5) as i32,
        oy as i32,
        l.s.pen_ink,
        0.92,
    );
    let ny = oy + sh as f32 + px * 0.2;
    let duty = if eng {
        "Duty Officer"
    } else {
        "ডিউটি অফিসার"
    };
    let officer_lines = [
        duty.to_owned(),
        spec.officer.clone(),
        format!("{} থানা, {}", t.thana_bn, t.district_bn),
    ];
    for (i, s) in officer_lines.iter().enumerate() {
        let fam = if i == 0 { label_fam } else { bn };
        let y = ny + i as f32 * px * l.s.lh;
        l.text(s, fam, px, i == 0, ox, y);
    }
    // The round seal overlapping the signature block and the text around it.
    let d = (mm(l.s.dpi, rng.gen_range(34.0..42.0))) as u32;
    let ring = format!("অফিসার ইনচার্জ ★ {} থানা ★ {}", t.thana_bn, t.district_bn);
    let angle = rng.gen_range(-0.6..0.6f32);
    let seal = ink::round_seal(l.r, rng, d, &ring, &["ডিউটি অফিসার", "★"], bn, angle);
    let sx = if l.s.officer_left {
        ox + px * rng.gen_range(4.0..9.0)
    } else {
        ox - d as f32 * rng.gen_range(0.5..0.9)
    };
    let sy = oy - d as f32 * rng.gen_range(0.1..0.5);
    let seal_ink = l.s.seal_ink;
    let opacity = rng.gen_range(0.55..0.85);
    ink::put_coverage(&mut l.img, &seal, sx as i32, sy as i32, seal_ink, opacity);
    if l.s.received_stamp {
        let date = format_date(spec.gd_date, DateStyle::Slash, spec.bengali_digits, false);
        let lines = if eng {
            vec!["RECEIVED".to_owned(), date, format!("{} PS", t.thana_en)]
        } else {
            vec!["গৃহীত".to_owned(), date, format!("{} থানা", t.thana_bn)]
        };
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let fam = if eng { en } else { bn };
        let angle = rng.gen_range(-0.25..0.25f32);
        let st = ink::rect_stamp(l.r, rng, &refs, fam, px * 0.9, angle);
        let rx = l.width() * rng.gen_range(0.45..0.65);
        let ry = block_top - px * rng.gen_range(1.0..4.0);
        let ink = *[[40u8, 60, 170], [180, 40, 60]]
            .choose(rng)
            .expect("not empty");
        ink::put_coverage(&mut l.img, &st, rx as i32, ry as i32, ink, 0.7);
    }
    // Text boxes of lines that are fields are not clone sources of their own.
    let lines = l.lines;
    Page {
        img: l.img,
        dpi: l.s.dpi,
        imeis,
        gd_number,
        gd_date,
        lines,
    }
}
