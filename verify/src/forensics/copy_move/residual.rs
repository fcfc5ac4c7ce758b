//! Clone or repeated print? On a document, the same words printed twice look alike to any
//! shape matcher, and so does a line cloned in an editor. What tells them apart is the paper
//! between the strokes: a clone copies its grain and sensor noise pixel for pixel, while two
//! printings of the same word sit on independent noise. So correlate the noise residual
//! (pixel minus its 3 × 3 mean) of source and target over background pixels only.

use image::RgbImage;

use crate::report::Region;

/// How the residuals of two places compare.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ResidualMatch {
    /// Pearson correlation of the background residuals at the best shift (±2 px).
    Correlation(f32),
    /// Too little background, or background without noise (a clean render): no evidence
    /// either way.
    Indeterminate,
}

/// Fewest background pixels worth correlating.
const MIN_PIXELS: usize = 300;
/// Residual standard deviation (grey levels) below which the paper is too clean to tell.
const MIN_NOISE: f64 = 0.6;

pub(crate) fn luma(img: &RgbImage, x: u32, y: u32) -> f32 {
    let p = img.get_pixel(x, y).0;
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

/// Residual and background mask of a `w × h` window at (x0, y0) (inside the image, one pixel
/// of margin).
pub(crate) fn residuals(img: &RgbImage, x0: u32, y0: u32, w: u32, h: u32) -> (Vec<f32>, Vec<bool>) {
    let g = |x: u32, y: u32| luma(img, x, y);
    let mut res = Vec::with_capacity((w * h) as usize);
    let mut bg = Vec::with_capacity((w * h) as usize);
    let mut values = Vec::with_capacity((w * h) as usize);
    for y in y0..y0 + h {
        for x in x0..x0 + w {
            values.push(g(x, y));
        }
    }
    // Paper level: a high percentile of the window.
    let mut sorted = values.clone();
    sorted.sort_by(f32::total_cmp);
    let paper = sorted.get(sorted.len() * 4 / 5).copied().unwrap_or(255.0);
    for y in y0..y0 + h {
        for x in x0..x0 + w {
            let mut sum = 0.0;
            let (mut lo, mut hi) = (f32::MAX, f32::MIN);
            for dy in 0..3 {
                for dx in 0..3 {
                    let v = g(x + dx - 1, y + dy - 1);
                    sum += v;
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
            let v = g(x, y);
            res.push(v - sum / 9.0);
            bg.push(v > paper - 30.0 && hi - lo < 24.0);
        }
    }
    (res, bg)
}

/// Compare the noise of `source` and `target` (same-size boxes of a pure translation).
pub fn residual_match(img: &RgbImage, source: Region, target: Region) -> ResidualMatch {
    residual_match_clear(img, source, target, 0)
}

/// `mask` with only the pixels whose whole (2·`by`+1)² neighbourhood is set (`w` wide).
fn erode(mask: &[bool], w: usize, by: usize) -> Vec<bool> {
    if by == 0 || w == 0 {
        return mask.to_vec();
    }
    let h = mask.len() / w;
    let mut out = vec![false; mask.len()];
    for y in by..h.saturating_sub(by) {
        for x in by..w.saturating_sub(by) {
            out[y * w + x] =
                (y - by..=y + by).all(|yy| (x - by..=x + by).all(|xx| mask[yy * w + xx]));
        }
    }
    out
}

/// [`residual_match`] on paper at least `clear` pixels from any ink: the faint halo around
/// glyphs is the same wherever the same characters are printed alike (a crisp digital copy
/// prints them pixel for pixel), so only plain paper tells a copied patch from a reprint.
pub fn residual_match_clear(
    img: &RgbImage,
    source: Region,
    target: Region,
    clear: u32,
) -> ResidualMatch {
    const SHIFT: i64 = 2;
    let margin = SHIFT as u32 + 1;
    let (iw, ih) = img.dimensions();
    let w = source.w.min(target.w);
    let h = source.h.min(target.h);
    let fits = |r: &Region| {
        r.x >= margin && r.y >= margin && r.x + w + margin <= iw && r.y + h + margin <= ih
    };
    if w < 8 || h < 8 || !fits(&source) || !fits(&target) {
        return ResidualMatch::Indeterminate;
    }
    let (rs, bs) = residuals(img, source.x, source.y, w, h);
    let bs = erode(&bs, w as usize, clear as usize);
    let mut best: Option<f32> = None;
    for dy in -SHIFT..=SHIFT {
        for dx in -SHIFT..=SHIFT {
            let tx = i64::from(target.x) + dx;
            let ty = i64::from(target.y) + dy;
            let (Ok(tx), Ok(ty)) = (u32::try_from(tx), u32::try_from(ty)) else {
                continue;
            };
            if tx + w + 1 > iw || ty + h + 1 > ih || tx == 0 || ty == 0 {
                continue;
            }
            let (rt, bt) = residuals(img, tx, ty, w, h);
            let bt = erode(&bt, w as usize, clear as usize);
            let (mut n, mut sa, mut sb, mut saa, mut sbb, mut sab) =
                (0usize, 0f64, 0f64, 0f64, 0f64, 0f64);
            for i in 0..rs.len() {
                if bs[i] && bt[i] {
                    let (a, b) = (f64::from(rs[i]), f64::from(rt[i]));
                    n += 1;
                    sa += a;
                    sb += b;
                    saa += a * a;
                    sbb += b * b;
                    sab += a * b;
                }
            }
            if n < MIN_PIXELS {
                continue;
            }
            let nf = n as f64;
            let va = saa / nf - (sa / nf).powi(2);
            let vb = sbb / nf - (sb / nf).powi(2);
            if va.sqrt() < MIN_NOISE || vb.sqrt() < MIN_NOISE {
                continue;
            }
            let c = ((sab / nf - sa / nf * sb / nf) / (va * vb).sqrt()) as f32;
            best = Some(best.map_or(c, |b: f32| b.max(c)));
        }
    }
    best.map_or(ResidualMatch::Indeterminate, ResidualMatch::Correlation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    /// A noisy page with the same "word" (bars) printed at two places.
    fn page(seed: u64) -> RgbImage {
        let mut state = seed;
        let mut noise = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) % 13) as i32 - 6
        };
        RgbImage::from_fn(300, 200, |x, y| {
            let word = |ox: u32, oy: u32| {
                x >= ox && x < ox + 80 && y >= oy && y < oy + 20 && (x - ox) % 10 < 4
            };
            let base: i32 = if word(20, 30) || word(20, 120) {
                40
            } else {
                235
            };
            let v = (base + noise()).clamp(0, 255) as u8;
            Rgb([v, v, v])
        })
    }

    #[test]
    fn clone_correlates_and_reprint_does_not() {
        let genuine = page(7);
        let src = Region::new(15, 25, 100, 40);
        let dst = Region::new(15, 115, 100, 40);
        let ResidualMatch::Correlation(c) = residual_match(&genuine, src, dst) else {
            panic!("a noisy page has evidence");
        };
        assert!(c < 0.3, "independent noise correlates {c}");
        let mut cloned = genuine.clone();
        for y in 0..40 {
            for x in 0..100 {
                let p = *genuine.get_pixel(15 + x, 25 + y);
                cloned.put_pixel(15 + x, 115 + y, p);
            }
        }
        let ResidualMatch::Correlation(c) = residual_match(&cloned, src, dst) else {
            panic!("a noisy page has evidence");
        };
        assert!(c > 0.9, "a clone correlates only {c}");
    }

    #[test]
    fn the_halo_of_reprinted_glyphs_is_no_clone_evidence() {
        // The same bars printed twice, each with a one-pixel halo 20 levels below the paper,
        // on faint independent noise: the halos match, the paper clear of them does not.
        let mut state = 3u64;
        let mut noise = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) % 5) as i32 - 2
        };
        let img = RgbImage::from_fn(300, 200, |x, y| {
            let at = |ox: u32, oy: u32, grow: u32| {
                x + grow >= ox
                    && x < ox + 80 + grow
                    && y + grow >= oy
                    && y < oy + 20 + grow
                    && ((x + grow).saturating_sub(ox)) % 10 < 4 + 2 * grow
            };
            let base: i32 = if at(20, 30, 0) || at(20, 120, 0) {
                40
            } else if at(20, 30, 1) || at(20, 120, 1) {
                215
            } else {
                235
            };
            let v = (base + noise()).clamp(0, 255) as u8;
            Rgb([v, v, v])
        });
        let src = Region::new(15, 25, 100, 40);
        let dst = Region::new(15, 115, 100, 40);
        let ResidualMatch::Correlation(near) = residual_match(&img, src, dst) else {
            panic!("a noisy page has evidence");
        };
        let ResidualMatch::Correlation(clear) = residual_match_clear(&img, src, dst, 2) else {
            panic!("plain paper is left to compare");
        };
        assert!(near > 0.45, "the halos should match: {near}");
        assert!(clear < 0.3, "paper clear of ink correlates {clear}");
    }

    #[test]
    fn clean_render_is_indeterminate_and_edges_are_safe() {
        let clean = RgbImage::from_fn(300, 200, |x, _| {
            if x % 10 < 4 {
                Rgb([0, 0, 0])
            } else {
                Rgb([255, 255, 255])
            }
        });
        let r = Region::new(10, 10, 100, 40);
        assert_eq!(
            residual_match(&clean, r, Region::new(10, 100, 100, 40)),
            ResidualMatch::Indeterminate
        );
        for (s, t) in [
            (Region::new(0, 0, 100, 40), r),
            (r, Region::new(250, 180, 100, 40)),
            (Region::new(0, 0, 4, 4), Region::new(50, 50, 4, 4)),
        ] {
            assert_eq!(residual_match(&clean, s, t), ResidualMatch::Indeterminate);
        }
    }
}
