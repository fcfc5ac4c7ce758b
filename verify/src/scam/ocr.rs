//! Reading a screenshot or photo for the scam check: the GD line reader
//! ([`crate::gd::ocr::read_page`]) in Bengali, English and Thai, on a grey image turned dark text
//! on light (dark-mode screenshots are inverted), and the words' boxes kept so that whatever the
//! text checks find in the text can be boxed on the image.

use std::ops::Range;

use image::{GrayImage, Luma, RgbImage};

use crate::deadline::Deadline;
use crate::error::StageError;
use crate::gd::ocr::{read_page, OcrConfig};
use crate::gd::text::{union, OcrPage};
use crate::report::Region;

/// The OCR languages of the scam check: Bengali, English, Thai.
pub const LANGUAGES: &str = "ben+eng+tha";

/// The default OCR settings of the scam check ([`LANGUAGES`], the GD reader's other defaults).
pub fn default_config() -> OcrConfig {
    OcrConfig {
        languages: LANGUAGES.to_owned(),
        ..OcrConfig::default()
    }
}

/// A word of the text and where it is on the image.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedWord {
    /// Byte range in [`ScreenText::text`].
    pub span: Range<usize>,
    /// Box in the image.
    pub region: Region,
    /// OCR confidence, 0–1.
    pub conf: f32,
}

/// The text of an image, one OCR line per text line, with each word's box.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScreenText {
    pub text: String,
    pub words: Vec<PlacedWord>,
    /// Whether the image was inverted before reading (light text on a dark background).
    pub inverted: bool,
}

impl ScreenText {
    /// The text of `page`: words joined by one space, lines by a newline.
    pub fn from_page(page: &OcrPage) -> ScreenText {
        let mut out = ScreenText::default();
        for (i, line) in page.lines.iter().enumerate() {
            if i > 0 {
                out.text.push('\n');
            }
            let mut last: Option<char> = None;
            for (j, w) in line.words.iter().enumerate() {
                // Tesseract returns Thai (written without spaces) a cluster or a letter per
                // "word": Thai next to Thai is joined without a space, as it was written.
                let thai_join =
                    last.is_some_and(is_thai) && w.text.chars().next().is_some_and(is_thai);
                if j > 0 && !thai_join {
                    out.text.push(' ');
                }
                last = w.text.chars().next_back();
                let start = out.text.len();
                out.text.push_str(&w.text);
                out.words.push(PlacedWord {
                    span: start..out.text.len(),
                    region: w.region,
                    conf: w.conf,
                });
            }
        }
        out
    }

    /// The boxes of the words that `span` (a byte range of the text) touches, one per line.
    pub fn regions(&self, span: &Range<usize>) -> Vec<Region> {
        let touched = self
            .words
            .iter()
            .filter(|w| w.span.start < span.end && span.start < w.span.end);
        // One box per line: words on one line share a row.
        let mut lines: Vec<Vec<Region>> = Vec::new();
        for w in touched {
            let same = lines.last_mut().filter(|l| {
                l.last().is_some_and(|r| {
                    let (a0, a1) = (r.y, r.y + r.h);
                    let (b0, b1) = (w.region.y, w.region.y + w.region.h);
                    a0 < b1 && b0 < a1
                })
            });
            match same {
                Some(l) => l.push(w.region),
                None => lines.push(vec![w.region]),
            }
        }
        lines.into_iter().filter_map(union).collect()
    }
}

fn is_thai(c: char) -> bool {
    ('\u{0E00}'..='\u{0E7F}').contains(&c)
}

/// Whether `img` looks like a screenshot rather than a camera photo: at least a quarter of its
/// pixels share one exact colour (a flat app background). Camera sensors leave no large area of
/// one exact value except blown-out highlights.
pub fn looks_like_screenshot(img: &RgbImage) -> bool {
    let mut counts = std::collections::HashMap::new();
    let step = if img.width() * img.height() > 400_000 {
        2
    } else {
        1
    };
    let mut total = 0u32;
    for y in (0..img.height()).step_by(step) {
        for x in (0..img.width()).step_by(step) {
            *counts.entry(img.get_pixel(x, y).0).or_insert(0u32) += 1;
            total += 1;
        }
    }
    let top = counts.values().copied().max().unwrap_or(0);
    total > 0 && top * 4 >= total
}

/// Grey, with dark text on a light background: the luma, inverted when most of the image is
/// dark (a dark-mode screenshot), so the page reader sees ink as dark.
pub fn prepare(img: &RgbImage) -> (GrayImage, bool) {
    let gray = GrayImage::from_fn(img.width(), img.height(), |x, y| {
        let [r, g, b] = img.get_pixel(x, y).0;
        let l = (299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b)) / 1000;
        Luma([u8::try_from(l).unwrap_or(u8::MAX)])
    });
    let mut hist = [0u64; 256];
    for p in gray.pixels() {
        if let Some(h) = hist.get_mut(usize::from(p.0[0])) {
            *h += 1;
        }
    }
    let total: u64 = hist.iter().sum();
    let mut acc = 0;
    let mut median = 255usize;
    for (v, n) in hist.iter().enumerate() {
        acc += n;
        if acc * 2 >= total {
            median = v;
            break;
        }
    }
    let invert = median < 110;
    if invert {
        let mut g = gray;
        for p in g.pixels_mut() {
            p.0[0] = 255 - p.0[0];
        }
        (g, true)
    } else {
        (gray, false)
    }
}

/// Reads all text of `img` (a screenshot or photo, upright) in [`OcrConfig::languages`].
///
/// Errors as [`read_page`]: missing language data is `Failed`, a passed deadline `Timeout`.
pub fn read_image(
    img: &RgbImage,
    cfg: &OcrConfig,
    deadline: &Deadline,
) -> Result<ScreenText, StageError> {
    let (gray, inverted) = prepare(img);
    deadline.check()?;
    let rgb = RgbImage::from_fn(gray.width(), gray.height(), |x, y| {
        let v = gray.get_pixel(x, y).0[0];
        image::Rgb([v, v, v])
    });
    let page = read_page(&rgb, cfg, deadline)?;
    let mut text = ScreenText::from_page(&page);
    text.inverted = inverted;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gd::text::{OcrLine, OcrWord};

    fn word(text: &str, x: u32, y: u32) -> OcrWord {
        OcrWord {
            text: text.to_owned(),
            region: Region::new(x, y, 10 * text.len() as u32, 20),
            conf: 0.9,
        }
    }

    #[test]
    fn spans_map_back_to_word_boxes_one_per_line() {
        let page = OcrPage {
            width: 400,
            height: 200,
            lines: vec![
                OcrLine::from_words(vec![word("send", 10, 10), word("the", 60, 10)]),
                OcrLine::from_words(vec![word("otp", 10, 50), word("now", 60, 50)]),
            ],
        };
        let t = ScreenText::from_page(&page);
        assert_eq!(t.text, "send the\notp now");
        let start = t.text.find("the").expect("the");
        let end = t.text.find(" now").expect("now");
        let boxes = t.regions(&(start..end));
        assert_eq!(
            boxes,
            vec![Region::new(60, 10, 30, 20), Region::new(10, 50, 30, 20)]
        );
        assert!(t.regions(&(100..120)).is_empty());
    }

    #[test]
    fn thai_letters_are_joined_other_words_spaced() {
        let page = OcrPage {
            width: 400,
            height: 40,
            lines: vec![OcrLine::from_words(vec![
                word("บัญ", 10, 10),
                word("ชี", 40, 10),
                word("OTP", 80, 10),
                word("ด่วน", 120, 10),
            ])],
        };
        let t = ScreenText::from_page(&page);
        assert_eq!(t.text, "บัญชี OTP ด่วน");
        assert_eq!(t.words.len(), 4);
        assert_eq!(&t.text[t.words[1].span.clone()], "ชี");
    }

    #[test]
    fn screenshots_are_flat_photos_are_not() {
        let flat = RgbImage::from_fn(100, 100, |x, _| {
            if x < 60 {
                image::Rgb([250, 250, 250])
            } else {
                image::Rgb([(x * 2) as u8, 10, 10])
            }
        });
        assert!(looks_like_screenshot(&flat));
        let grainy = RgbImage::from_fn(100, 100, |x, y| {
            image::Rgb([(x * 7 + y * 13) as u8, (x * y) as u8, (x + y * 3) as u8])
        });
        assert!(!looks_like_screenshot(&grainy));
    }

    #[test]
    fn dark_mode_is_inverted() {
        let dark = RgbImage::from_fn(20, 20, |x, _| {
            if x < 3 {
                image::Rgb([250, 250, 250])
            } else {
                image::Rgb([18, 18, 24])
            }
        });
        let (g, inv) = prepare(&dark);
        assert!(inv);
        assert!(g.get_pixel(10, 10).0[0] > 200 && g.get_pixel(0, 0).0[0] < 50);
        let light = RgbImage::from_pixel(20, 20, image::Rgb([240, 240, 240]));
        assert!(!prepare(&light).1);
    }
}
