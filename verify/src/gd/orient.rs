//! Which way is up. A citizen may lay the GD copy sideways or upside down under the camera;
//! geometry makes the page flat, this makes it upright before OCR.
//!
//! Two cheap tests on the binarised page, no OCR: text lines make the row profile gappy (ink
//! rows alternate with empty ones) and the column profile smooth, which tells horizontal from
//! vertical text; and Bengali letters hang from a headline (মাত্রা), so within each line the
//! densest row lies in the upper half when the page is upright and the lower half when it is
//! upside down. Latin text agrees weakly: ascenders outnumber descenders.

use image::{imageops, GrayImage, RgbImage};

use crate::report::Region;

/// A quarter-turn count: how the page was turned clockwise to make it upright.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Turn {
    #[default]
    None,
    Cw90,
    Cw180,
    Cw270,
}

impl Turn {
    /// Degrees clockwise.
    pub fn degrees(self) -> u32 {
        match self {
            Turn::None => 0,
            Turn::Cw90 => 90,
            Turn::Cw180 => 180,
            Turn::Cw270 => 270,
        }
    }

    /// Map a box on the turned page (size `tw × th`) back to the page before turning.
    pub fn unturn(self, r: Region, tw: u32, th: u32) -> Region {
        match self {
            Turn::None => r,
            // Turned clockwise by 90: (x, y) on the turned page came from (y, tw − 1 − x).
            Turn::Cw90 => Region::new(r.y, tw.saturating_sub(r.x + r.w), r.h, r.w),
            Turn::Cw180 => Region::new(
                tw.saturating_sub(r.x + r.w),
                th.saturating_sub(r.y + r.h),
                r.w,
                r.h,
            ),
            Turn::Cw270 => Region::new(th.saturating_sub(r.y + r.h), r.x, r.h, r.w),
        }
    }
}

fn turn(img: &RgbImage, t: Turn) -> RgbImage {
    match t {
        Turn::None => img.clone(),
        Turn::Cw90 => imageops::rotate90(img),
        Turn::Cw180 => imageops::rotate180(img),
        Turn::Cw270 => imageops::rotate270(img),
    }
}

/// Ink mask of a copy at most `long` pixels on its long side.
fn ink(img: &RgbImage, long: u32) -> GrayImage {
    let (w, h) = img.dimensions();
    let scale = (long as f32 / w.max(h).max(1) as f32).min(1.0);
    let gray = imageops::grayscale(img);
    let small = if scale < 1.0 {
        imageops::resize(
            &gray,
            ((w as f32 * scale) as u32).max(1),
            ((h as f32 * scale) as u32).max(1),
            imageops::FilterType::Triangle,
        )
    } else {
        gray
    };
    // Ink is what is clearly darker than the paper around it (shadows and uneven light are
    // not ink).
    let background = imageproc::filter::box_filter(&small, 12, 12);
    GrayImage::from_fn(small.width(), small.height(), |x, y| {
        let v = i32::from(small.get_pixel(x, y).0[0]);
        let b = i32::from(background.get_pixel(x, y).0[0]);
        image::Luma([if v < b - 35 { 255 } else { 0 }])
    })
}

/// How gappy a profile is: the share of its bins below a tenth of its mean, among the bins
/// between the first and last inked one.
fn gappiness(profile: &[u32]) -> f32 {
    let first = profile.iter().position(|&v| v > 0);
    let last = profile.iter().rposition(|&v| v > 0);
    let (Some(a), Some(b)) = (first, last) else {
        return 0.0;
    };
    let span = &profile[a..=b];
    let mean = span.iter().map(|&v| v as f32).sum::<f32>() / span.len() as f32;
    span.iter().filter(|&&v| (v as f32) < 0.1 * mean).count() as f32 / span.len() as f32
}

/// For horizontal text: > 0 when the densest row of each line sits in its upper half.
fn headline_vote(mask: &GrayImage) -> f32 {
    let (w, h) = mask.dimensions();
    let rows: Vec<u32> = (0..h)
        .map(|y| (0..w).filter(|&x| mask.get_pixel(x, y).0[0] > 0).count() as u32)
        .collect();
    let mean = rows.iter().map(|&v| v as f32).sum::<f32>() / rows.len().max(1) as f32;
    if mean <= 0.0 {
        return 0.0;
    }
    let mut votes = 0.0;
    let mut y = 0usize;
    while y < rows.len() {
        if (rows[y] as f32) < 0.15 * mean {
            y += 1;
            continue;
        }
        let start = y;
        while y < rows.len() && (rows[y] as f32) >= 0.15 * mean {
            y += 1;
        }
        let line = &rows[start..y];
        if line.len() < 4 || line.len() > 60 {
            continue;
        }
        let peak = line
            .iter()
            .enumerate()
            .max_by_key(|(_, v)| **v)
            .map_or(0, |(i, _)| i);
        let rel = (peak as f32 + 0.5) / line.len() as f32;
        votes += if rel < 0.45 {
            1.0
        } else if rel > 0.55 {
            -1.0
        } else {
            0.0
        };
    }
    votes
}

/// Turn `page` upright; returns the upright page and the turn applied.
pub fn upright(page: &RgbImage) -> (RgbImage, Turn) {
    let guess = guess(page);
    (turned(page, guess.turn), guess.turn)
}

/// `page` turned clockwise by `t` (a copy).
pub fn turned(page: &RgbImage, t: Turn) -> RgbImage {
    turn(page, t)
}

/// What the profiles say about which way is up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Guess {
    /// The turn that makes the page upright, by the profiles.
    pub turn: Turn,
    /// The same axis the other way up (the upside-down reading of `turn`).
    pub flipped: Turn,
    /// Net headline votes (lines whose densest row is in the upper half minus lower half);
    /// few votes either way means the profiles could not tell up from down.
    pub margin: f32,
}

impl Guess {
    /// Whether the headline votes were too few to trust (a page of mostly Latin text, or
    /// little text): the caller should check the other way up with OCR.
    pub fn uncertain(&self) -> bool {
        self.margin.abs() <= 3.0
    }
}

/// Guess the turn that makes `page` upright from ink profiles alone (no OCR).
pub fn guess(page: &RgbImage) -> Guess {
    let mask = ink(page, 900);
    let (w, h) = mask.dimensions();
    if w < 32 || h < 32 {
        return Guess {
            turn: Turn::None,
            flipped: Turn::Cw180,
            margin: f32::INFINITY,
        };
    }
    let rows: Vec<u32> = (0..h)
        .map(|y| (0..w).filter(|&x| mask.get_pixel(x, y).0[0] > 0).count() as u32)
        .collect();
    let cols: Vec<u32> = (0..w)
        .map(|x| (0..h).filter(|&y| mask.get_pixel(x, y).0[0] > 0).count() as u32)
        .collect();
    let horizontal = gappiness(&rows) >= gappiness(&cols);
    let (base, flipped) = if horizontal {
        (Turn::None, Turn::Cw180)
    } else {
        (Turn::Cw90, Turn::Cw270)
    };
    let base_mask = if horizontal {
        mask
    } else {
        imageops::rotate90(&mask)
    };
    let vote = headline_vote(&base_mask);
    if vote < 0.0 {
        Guess {
            turn: flipped,
            flipped: base,
            margin: -vote,
        }
    } else {
        Guess {
            turn: base,
            flipped,
            margin: vote,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    /// A page of "Bengali" lines: a thick headline on top of each line with strokes hanging.
    fn page() -> RgbImage {
        RgbImage::from_fn(600, 800, |x, y| {
            let line = y / 40;
            let in_line = y % 40;
            let len = 300 + (line * 53) % 240;
            let ink = x > 40
                && x < 40 + len
                && line > 0
                && line < 18
                && ((8..11).contains(&in_line) || ((11..26).contains(&in_line) && x % 9 < 2));
            if ink {
                Rgb([20, 20, 20])
            } else {
                Rgb([240, 240, 235])
            }
        })
    }

    #[test]
    fn every_turn_comes_back_upright() {
        let up = page();
        for (t, back) in [
            (Turn::None, Turn::None),
            (Turn::Cw90, Turn::Cw270),
            (Turn::Cw180, Turn::Cw180),
            (Turn::Cw270, Turn::Cw90),
        ] {
            let shown = turn(&up, t);
            let (fixed, applied) = upright(&shown);
            assert_eq!(applied, back, "page turned {}°", t.degrees());
            assert_eq!(fixed.dimensions(), up.dimensions());
            assert!(fixed == up, "page turned {}° restored", t.degrees());
        }
    }

    #[test]
    fn unturn_maps_boxes_back() {
        let up = page();
        let r = Region::new(50, 100, 30, 10);
        for t in [Turn::None, Turn::Cw90, Turn::Cw180, Turn::Cw270] {
            let turned = turn(&up, t);
            // Find where a marked box lands by turning a mask, then map it back.
            let mut mark = RgbImage::new(up.width(), up.height());
            for y in r.y..r.y + r.h {
                for x in r.x..r.x + r.w {
                    mark.put_pixel(x, y, Rgb([255, 0, 0]));
                }
            }
            let m = turn(&mark, t);
            let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
            for (x, y, p) in m.enumerate_pixels() {
                if p.0[0] > 0 {
                    x0 = x0.min(x);
                    y0 = y0.min(y);
                    x1 = x1.max(x + 1);
                    y1 = y1.max(y + 1);
                }
            }
            let on_turned = Region::new(x0, y0, x1 - x0, y1 - y0);
            assert_eq!(
                t.unturn(on_turned, turned.width(), turned.height()),
                r,
                "{t:?}"
            );
        }
    }

    #[test]
    fn blank_and_tiny_pages_stay() {
        let blank = RgbImage::from_pixel(300, 400, Rgb([255, 255, 255]));
        assert_eq!(upright(&blank).1, Turn::None);
        let tiny = RgbImage::from_pixel(3, 3, Rgb([0, 0, 0]));
        assert_eq!(upright(&tiny).1, Turn::None);
    }
}
