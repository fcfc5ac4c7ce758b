//! Glyph alignment inside a field. Printed digits share one baseline and one height; digits
//! pasted over part of a number rarely land exactly on them, least of all in a phone photo,
//! where the edit is made flat on a page seen in perspective. On the rectified page, a run of
//! two or more glyphs that sits off the line through the others (top and bottom both shifted)
//! is a `field_tampered` finding.

use image::{GrayImage, Luma, RgbImage};
use imageproc::region_labelling::{connected_components, Connectivity};

use crate::report::{Finding, Region, Severity, Stage};

/// Thresholds of the alignment check.
#[derive(Debug, Clone)]
pub struct GlyphConfig {
    /// Baseline step (share of the glyph height) a run must show.
    pub min_offset: f32,
    /// Largest step (share of the glyph height) still read as a paste rather than another row.
    pub max_offset: f32,
    /// Fewest glyphs in the suspect run, and fewest left to fit the line to.
    pub min_run: usize,
    pub min_rest: usize,
    /// Smallest glyph height (page pixels) worth measuring.
    pub min_glyph_height: u32,
    pub points: u32,
}

impl Default for GlyphConfig {
    fn default() -> Self {
        GlyphConfig {
            min_offset: 0.16,
            max_offset: 0.6,
            min_run: 2,
            min_rest: 4,
            min_glyph_height: 10,
            points: 45,
        }
    }
}

/// One glyph: its box on the page.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Glyph {
    x0: u32,
    x1: u32,
    top: f32,
    bottom: f32,
}

impl Glyph {
    fn cx(&self) -> f32 {
        (self.x0 + self.x1) as f32 / 2.0
    }
    fn height(&self) -> f32 {
        self.bottom - self.top
    }
}

fn luma(p: &image::Rgb<u8>) -> f32 {
    0.299 * f32::from(p.0[0]) + 0.587 * f32::from(p.0[1]) + 0.114 * f32::from(p.0[2])
}

/// The digit-sized glyphs in `r` (page coordinates), left to right.
fn glyphs(page: &RgbImage, r: Region, cfg: &GlyphConfig) -> Vec<Glyph> {
    let (pw, ph) = page.dimensions();
    let pad = r.h / 2;
    let x0 = r.x.saturating_sub(2);
    let y0 = r.y.saturating_sub(pad);
    let x1 = (r.x + r.w + 2).min(pw);
    let y1 = (r.y + r.h + pad).min(ph);
    if x1 <= x0 + 4 || y1 <= y0 + 4 {
        return Vec::new();
    }
    let (w, h) = (x1 - x0, y1 - y0);
    let mut values: Vec<f32> = Vec::with_capacity((w * h) as usize);
    for y in y0..y1 {
        for x in x0..x1 {
            values.push(luma(page.get_pixel(x, y)));
        }
    }
    let mut sorted = values.clone();
    sorted.sort_by(f32::total_cmp);
    let pct = |p: usize| sorted.get(sorted.len() * p / 100).copied().unwrap_or(0.0);
    let (ink, paper) = (pct(2), pct(70));
    if paper - ink < 40.0 {
        return Vec::new();
    }
    let threshold = (ink + paper) / 2.0;
    let mask = GrayImage::from_fn(w, h, |x, y| {
        let v = values[(y * w + x) as usize];
        Luma([if v < threshold { 255 } else { 0 }])
    });
    let labels = connected_components(&mask, Connectivity::Eight, Luma([0u8]));
    let mut boxes: std::collections::BTreeMap<u32, (u32, u32, u32, u32, u32)> = Default::default();
    for (x, y, l) in labels.enumerate_pixels() {
        let l = l.0[0];
        if l == 0 {
            continue;
        }
        let e = boxes.entry(l).or_insert((x, y, x, y, 0));
        e.0 = e.0.min(x);
        e.1 = e.1.min(y);
        e.2 = e.2.max(x);
        e.3 = e.3.max(y);
        e.4 += 1;
    }
    let mut out: Vec<Glyph> = boxes
        .values()
        .filter(|b| {
            let (gw, gh) = (b.2 - b.0 + 1, b.3 - b.1 + 1);
            gh >= cfg.min_glyph_height && gw <= 2 * gh && gw * 6 >= gh && b.4 >= 8
        })
        // Glyphs of this field only: their centre within the field's columns.
        .filter(|b| {
            let cx = x0 + (b.0 + b.2) / 2;
            cx >= r.x && cx < r.x + r.w
        })
        .map(|b| Glyph {
            x0: x0 + b.0,
            x1: x0 + b.2 + 1,
            top: (y0 + b.1) as f32,
            bottom: (y0 + b.3 + 1) as f32,
        })
        .collect();
    // Keep the glyphs of the main text height (drop separators, specks, descenders' parts).
    let mut heights: Vec<f32> = out.iter().map(Glyph::height).collect();
    heights.sort_by(f32::total_cmp);
    let Some(&med) = heights.get(heights.len() / 2) else {
        return Vec::new();
    };
    out.retain(|g| g.height() >= 0.6 * med && g.height() <= 1.6 * med);
    out.sort_by(|a, b| a.cx().total_cmp(&b.cx()));
    out
}

/// Least-squares line through (x, y); `None` for fewer than two distinct x.
fn fit(points: &[(f32, f32)]) -> Option<(f32, f32)> {
    let n = points.len() as f32;
    if points.len() < 2 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f32>() / n;
    let my = points.iter().map(|p| p.1).sum::<f32>() / n;
    let sxx: f32 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx < 1e-3 {
        return None;
    }
    let sxy: f32 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    Some((slope, my - slope * mx))
}

fn median(mut v: Vec<f32>) -> f32 {
    v.sort_by(f32::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// What is off about the worst run of glyphs, if anything: (first, last, why).
fn worst_run(
    g: &[Glyph],
    within: std::ops::Range<usize>,
    cfg: &GlyphConfig,
) -> Option<(usize, usize, String)> {
    let n = g.len();
    if n < cfg.min_run + cfg.min_rest {
        return None;
    }
    let mut best: Option<(f32, usize, usize, String)> = None;
    // Runs inside the field: trailing or leading digits replaced, a middle group, or the whole
    // value (then the label on the same line is the reference).
    for start in within.clone() {
        for end in (start + cfg.min_run)..=within.end {
            // The run is the minority: pasted digits are compared with the printed ones
            // around them, never the other way round.
            if n - (end - start) < cfg.min_rest || 2 * (end - start) > n {
                continue;
            }
            let rest: Vec<&Glyph> = g[..start].iter().chain(&g[end..]).collect();
            let run = &g[start..end];
            let bottoms: Vec<(f32, f32)> = rest.iter().map(|x| (x.cx(), x.bottom)).collect();
            let tops: Vec<(f32, f32)> = rest.iter().map(|x| (x.cx(), x.top)).collect();
            let (Some(lb), Some(lt)) = (fit(&bottoms), fit(&tops)) else {
                continue;
            };
            let h_rest = median(rest.iter().map(|x| x.height()).collect());
            if h_rest <= 0.0 {
                continue;
            }
            // How tightly the rest follows its own lines.
            let rest_dev = median(
                rest.iter()
                    .map(|x| (x.bottom - (lb.0 * x.cx() + lb.1)).abs())
                    .collect(),
            );
            let off_b: Vec<f32> = run
                .iter()
                .map(|x| x.bottom - (lb.0 * x.cx() + lb.1))
                .collect();
            let off_t: Vec<f32> = run.iter().map(|x| x.top - (lt.0 * x.cx() + lt.1)).collect();
            // The whole run must be off the same way (a step, not one odd glyph).
            let same_sign = |v: &[f32]| v.iter().all(|d| *d > 0.0) || v.iter().all(|d| *d < 0.0);
            let min_abs = |v: &[f32]| v.iter().map(|d| d.abs()).fold(f32::MAX, f32::min);
            let step_b = if same_sign(&off_b) {
                min_abs(&off_b)
            } else {
                0.0
            };
            let step_t = if same_sign(&off_t) {
                min_abs(&off_t)
            } else {
                0.0
            };
            let step = step_b.min(step_t).max(0.0) - rest_dev;
            // Height is not compared: Bengali digits differ in height by design, and a
            // separator (`/`, `-`) or a label letter is taller or shorter than a digit.
            // More than about half a glyph is another row, not a paste.
            if step + rest_dev > cfg.max_offset * h_rest {
                continue;
            }
            let score = step / h_rest / cfg.min_offset;
            let why = format!(
                "{} of its characters sit {:.0} px off the line of the others",
                run.len(),
                step + rest_dev
            );
            if score >= 1.0 && best.as_ref().is_none_or(|b| score > b.0) {
                best = Some((score, start, end - 1, why));
            }
        }
    }
    best.map(|(_, a, b, why)| (a, b, why))
}

/// Check each field box (page coordinates) for a misaligned run of glyphs. Regions in the
/// findings are page coordinates.
pub fn alignment(
    page: &RgbImage,
    fields: &[super::tamper::FieldBox],
    lines: &[Region],
    cfg: &GlyphConfig,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in fields {
        // The whole printed line the value sits on (its label included), so that a value
        // pasted over in full still has printed characters to be compared with.
        let (cx, cy) = (f.region.x + f.region.w / 2, f.region.y + f.region.h / 2);
        let line = lines
            .iter()
            .filter(|l| cy >= l.y && cy < l.y + l.h && l.x <= cx && cx < l.x + l.w)
            .max_by_key(|l| l.overlap(&f.region))
            .map_or(f.region, |l| {
                let top = l.y.min(f.region.y);
                let bottom = (l.y + l.h).max(f.region.y + f.region.h);
                // Only the line's stretch near the field: a wide line may hold other fields.
                let left = l.x.max(f.region.x.saturating_sub(f.region.w));
                let right = (l.x + l.w).min(f.region.x + 2 * f.region.w);
                Region::new(
                    left.min(f.region.x),
                    top,
                    right.max(f.region.x + f.region.w) - left.min(f.region.x),
                    bottom - top,
                )
            });
        // Only glyphs on the field's own row: centres within a third of its height of it.
        let band = (
            f.region.y.saturating_sub(f.region.h / 3),
            f.region.y + f.region.h + f.region.h / 3,
        );
        let g: Vec<Glyph> = glyphs(page, line, cfg)
            .into_iter()
            .filter(|x| {
                let cy = ((x.top + x.bottom) / 2.0) as u32;
                cy >= band.0 && cy <= band.1
            })
            .collect();
        // The field's own glyphs only: a label in another script (Bengali letters hang from a
        // headline) is no reference for digits.
        let g: Vec<Glyph> = g
            .into_iter()
            .filter(|x| {
                let c = x.cx() as u32;
                c >= f.region.x && c < f.region.x + f.region.w
            })
            .collect();
        let Some((a, b, why)) = worst_run(&g, 0..g.len(), cfg) else {
            continue;
        };
        let (Some(first), Some(last)) = (g.get(a), g.get(b)) else {
            continue;
        };
        let top = g[a..=b]
            .iter()
            .map(|x| x.top)
            .fold(f32::MAX, f32::min)
            .max(0.0) as u32;
        let bottom = g[a..=b].iter().map(|x| x.bottom).fold(0.0, f32::max) as u32;
        let region = Region::new(
            first.x0,
            top,
            last.x1.saturating_sub(first.x0),
            bottom.saturating_sub(top),
        );
        let (en, bn) = match f.field.as_str() {
            "imeis" => ("IMEI", "আইএমইআই"),
            "gd_number" => ("GD number", "জিডি নম্বর"),
            "gd_date" => ("date", "তারিখ"),
            _ => ("field", "তথ্য"),
        };
        out.push(
            Finding::new(
                "field_tampered",
                Stage::Fields,
                Severity::High,
                cfg.points,
                format!(
                    "The {en} {} looks edited: {why}, as when digits are pasted over. Check the original GD copy.",
                    f.value
                ),
                format!(
                    "{bn} {} সম্পাদিত বলে মনে হচ্ছে: কিছু অক্ষর অন্যগুলোর সারি বা মাপের সাথে মেলে না, যেমনটা অঙ্ক ওপরে বসালে হয়। মূল জিডি কপি মিলিয়ে দেখুন।",
                    f.value
                ),
            )
            .with_regions(vec![region]),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gd::tamper::FieldBox;
    use image::Rgb;

    /// Twelve "digits" (solid bars 12×24, gap 6) on a line; `shift` moves the last `k` by dy
    /// and scales their height by `scale`.
    fn field_image(k: usize, dy: i32, scale: f32) -> (RgbImage, FieldBox) {
        let mut img = RgbImage::from_pixel(400, 100, Rgb([235, 235, 230]));
        for i in 0..12u32 {
            let pasted = i as usize >= 12 - k;
            let h = if pasted { (24.0 * scale) as i32 } else { 24 };
            let bottom = 60 + if pasted { dy } else { 0 };
            for y in (bottom - h)..bottom {
                for x in (20 + i * 18)..(32 + i * 18) {
                    // A hollow digit-like shape: outline 3 px.
                    let inner =
                        x > 22 + i * 18 && x < 29 + i * 18 && y > bottom - h + 3 && y < bottom - 3;
                    if !inner {
                        img.put_pixel(x, y as u32, Rgb([30, 30, 35]));
                    }
                }
            }
        }
        let field = FieldBox {
            field: "imeis".into(),
            value: "356938035643809".into(),
            region: Region::new(18, 34, 220, 30),
        };
        (img, field)
    }

    #[test]
    fn table() {
        let rows: [(&str, usize, i32, f32, bool); 6] = [
            ("aligned", 0, 0, 1.0, false),
            ("one glyph a pixel low is print wobble", 1, 1, 1.0, false),
            ("last three 6 px high", 3, -6, 1.0, true),
            ("last four 5 px low", 4, 5, 1.0, true),
            (
                "last three taller on the same baseline (Bengali digits vary)",
                3,
                0,
                1.4,
                false,
            ),
            ("two glyphs 1 px off", 2, 1, 1.0, false),
        ];
        for (name, k, dy, scale, want) in rows {
            let (img, f) = field_image(k, dy, scale);
            let found = alignment(&img, &[f], &[], &GlyphConfig::default());
            assert_eq!(!found.is_empty(), want, "{name}: {found:#?}");
        }
    }

    #[test]
    fn degenerate_input() {
        let img = RgbImage::from_pixel(50, 50, Rgb([255, 255, 255]));
        for r in [
            Region::new(0, 0, 0, 0),
            Region::new(40, 40, 100, 100),
            Region::new(0, 0, 50, 50),
        ] {
            let f = FieldBox {
                field: "gd_date".into(),
                value: "x".into(),
                region: r,
            };
            assert!(alignment(&img, &[f], &[], &GlyphConfig::default()).is_empty());
        }
    }
}
