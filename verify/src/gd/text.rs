//! What OCR hands to field parsing and structure checks: lines and words with boxes in page
//! coordinates (the rectified page) and confidences 0–1. Text is Unicode NFC.

use crate::report::Region;

/// One word as read.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrWord {
    pub text: String,
    pub region: Region,
    /// 0–1.
    pub conf: f32,
}

/// One text line as read: its words left to right, and their text joined by single spaces.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrLine {
    pub text: String,
    pub region: Region,
    /// Mean word confidence, 0–1.
    pub conf: f32,
    pub words: Vec<OcrWord>,
}

impl OcrLine {
    /// A line from words (joined with spaces; region = union; conf = mean).
    pub fn from_words(words: Vec<OcrWord>) -> Self {
        let text = words
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let region = union(words.iter().map(|w| w.region)).unwrap_or(Region::new(0, 0, 0, 0));
        let conf = if words.is_empty() {
            0.0
        } else {
            words.iter().map(|w| w.conf).sum::<f32>() / words.len() as f32
        };
        OcrLine {
            text,
            region,
            conf,
            words,
        }
    }
}

/// The text of a page, lines top to bottom.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OcrPage {
    pub width: u32,
    pub height: u32,
    pub lines: Vec<OcrLine>,
}

impl OcrPage {
    /// All the text, one line per OCR line.
    pub fn text(&self) -> String {
        self.lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The smallest box holding all of `regions`; `None` for none.
pub fn union(regions: impl IntoIterator<Item = Region>) -> Option<Region> {
    let mut it = regions.into_iter();
    let first = it.next()?;
    let (mut x0, mut y0) = (first.x, first.y);
    let (mut x1, mut y1) = (first.x + first.w, first.y + first.h);
    for r in it {
        x0 = x0.min(r.x);
        y0 = y0.min(r.y);
        x1 = x1.max(r.x + r.w);
        y1 = y1.max(r.y + r.h);
    }
    Some(Region::new(x0, y0, x1 - x0, y1 - y0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_from_words() {
        let w = |t: &str, x, c| OcrWord {
            text: t.into(),
            region: Region::new(x, 10, 20, 8),
            conf: c,
        };
        let l = OcrLine::from_words(vec![w("IMEI", 0, 0.9), w("123", 30, 0.7)]);
        assert_eq!(l.text, "IMEI 123");
        assert_eq!(l.region, Region::new(0, 10, 50, 8));
        assert!((l.conf - 0.8).abs() < 1e-6);
    }
}
