//! E-13B MICR glyphs: an atlas cut from the clean font-generator lines of
//! `../shared/data/e13b/lines` (DoubangoTelecom/tesseractMICR, `tesseract_e13b_font_generator_*`),
//! and drawing a MICR line from it at the E-13B fixed pitch.
//!
//! The atlas (`data/e13b-atlas.png`) has one row per character of the transcript alphabet
//! (`0123456789ABCD`: digits, transit, amount, on-us, dash) and [`VARIANTS`] cells per row, each
//! [`CELL`]×[`CELL`] pixels, ink black on white, the glyph's bottom on the cell's baseline.

use std::path::Path;

use image::{GrayImage, Luma};

/// The transcript alphabet, in atlas row order.
pub const ALPHABET: &[u8; 14] = b"0123456789ABCD";
/// Cells per character.
pub const VARIANTS: u32 = 3;
/// Cell side in pixels.
pub const CELL: u32 = 64;

/// Why the atlas could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AtlasError {
    #[error("reading {0}: {1}")]
    Io(String, std::io::Error),
    #[error("decoding {0}: {1}")]
    Image(String, image::ImageError),
    #[error("no clean glyph of {0:?} found")]
    Missing(char),
}

/// Ink runs of a line: columns with ink, joined while a glyph (up to 0.85 ink heights wide,
/// E-13B symbols are made of separate bars) spans them.
fn cells(bin: &GrayImage) -> Vec<(u32, u32)> {
    let (w, h) = bin.dimensions();
    let ink_col: Vec<bool> = (0..w)
        .map(|x| (0..h).any(|y| bin.get_pixel(x, y).0[0] < 128))
        .collect();
    let mut runs = Vec::new();
    let mut x = 0;
    while x < w {
        if ink_col[x as usize] {
            let s = x;
            while x < w && ink_col[x as usize] {
                x += 1;
            }
            runs.push((s, x));
        } else {
            x += 1;
        }
    }
    let rows: Vec<u32> = (0..h)
        .filter(|&y| (0..w).any(|x| bin.get_pixel(x, y).0[0] < 128))
        .collect();
    let ink_h = match (rows.first(), rows.last()) {
        (Some(a), Some(b)) => (b - a + 1) as f32,
        _ => return Vec::new(),
    };
    let mut out: Vec<(u32, u32)> = Vec::new();
    for r in runs {
        match out.last_mut() {
            Some(last) if ((r.1 - last.0) as f32) <= 0.85 * ink_h => last.1 = r.1,
            _ => out.push(r),
        }
    }
    out
}

/// Build the atlas from labelled lines in `dir` (only the font-generator lines: clean shapes).
pub fn build_atlas(dir: &Path) -> Result<GrayImage, AtlasError> {
    let mut atlas =
        GrayImage::from_pixel(CELL * VARIANTS, CELL * ALPHABET.len() as u32, Luma([255]));
    let mut have = [0u32; 14];
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| AtlasError::Io(dir.display().to_string(), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "tif")
                && p.file_name().is_some_and(|n| {
                    n.to_string_lossy()
                        .starts_with("tesseract_e13b_font_generator")
                })
        })
        .collect();
    names.sort();
    for path in names {
        if have.iter().all(|&n| n >= VARIANTS) {
            break;
        }
        let gt_path = path.with_extension("gt.txt");
        let Ok(gt) = std::fs::read_to_string(&gt_path) else {
            continue;
        };
        let gt = gt.trim().as_bytes().to_vec();
        let img = image::open(&path)
            .map_err(|e| AtlasError::Image(path.display().to_string(), e))?
            .to_luma8();
        let bin = GrayImage::from_fn(img.width(), img.height(), |x, y| {
            Luma([if img.get_pixel(x, y).0[0] < 128 {
                0
            } else {
                255
            }])
        });
        let cs = cells(&bin);
        if cs.len() != gt.len() {
            continue;
        }
        // Baseline: the lowest ink row of the line.
        let (w, h) = bin.dimensions();
        let bottom = (0..h)
            .rev()
            .find(|&y| (0..w).any(|x| bin.get_pixel(x, y).0[0] < 128))
            .unwrap_or(h - 1);
        for (&c, &(x0, x1)) in gt.iter().zip(&cs) {
            let Some(row) = ALPHABET.iter().position(|&a| a == c) else {
                continue;
            };
            if have[row] >= VARIANTS || x1 - x0 > CELL || bottom + 1 > CELL {
                continue;
            }
            let (cx, cy) = (have[row] * CELL, row as u32 * CELL);
            let top = (bottom + 1).saturating_sub(CELL);
            for y in top..=bottom {
                for x in x0..x1 {
                    let v = bin.get_pixel(x, y).0[0];
                    atlas.put_pixel(cx + (x - x0), cy + CELL - 1 - (bottom - y), Luma([v]));
                }
            }
            have[row] += 1;
        }
    }
    if let Some(i) = have.iter().position(|&n| n < VARIANTS) {
        return Err(AtlasError::Missing(char::from(ALPHABET[i])));
    }
    Ok(atlas)
}

/// The built-in atlas.
pub fn atlas() -> &'static GrayImage {
    static ATLAS: std::sync::OnceLock<GrayImage> = std::sync::OnceLock::new();
    ATLAS.get_or_init(|| {
        image::load_from_memory(include_bytes!("../data/e13b-atlas.png"))
            .map(|i| i.to_luma8())
            .unwrap_or_else(|_| GrayImage::from_pixel(CELL * VARIANTS, CELL * 14, Luma([255])))
    })
}

/// One glyph of `c` (variant `v`): its ink cropped to its columns, bottom on the last row.
pub fn glyph(c: u8, v: u32) -> Option<GrayImage> {
    let row = ALPHABET.iter().position(|&a| a == c)? as u32;
    let a = atlas();
    let (cx, cy) = ((v % VARIANTS) * CELL, row * CELL);
    let cols: Vec<u32> = (0..CELL)
        .filter(|&x| (0..CELL).any(|y| a.get_pixel(cx + x, cy + y).0[0] < 128))
        .collect();
    let (x0, x1) = (*cols.first()?, *cols.last()? + 1);
    let rows: Vec<u32> = (0..CELL)
        .filter(|&y| (x0..x1).any(|x| a.get_pixel(cx + x, cy + y).0[0] < 128))
        .collect();
    let y0 = *rows.first()?;
    Some(image::imageops::crop_imm(a, cx + x0, cy + y0, x1 - x0, CELL - y0).to_image())
}

/// Draw `line` (transcript alphabet; a space leaves one pitch empty) as a black-on-white mask
/// with glyphs `height` pixels tall (digits) at a pitch of `height * 1.07`.
pub fn render_line(line: &str, height: u32) -> GrayImage {
    let digit_h = glyph(b'0', 0).map_or(CELL, |g| g.height()).max(1);
    let scale = height as f32 / digit_h as f32;
    let pitch = (height as f32 * 1.07).round() as u32;
    let n = line.len() as u32;
    let margin = height / 2;
    let mut out = GrayImage::from_pixel(
        n * pitch + 2 * margin,
        height * 3 / 2 + 2 * margin,
        Luma([255]),
    );
    let baseline = margin + height * 5 / 4;
    for (i, c) in line.bytes().enumerate() {
        let Some(g) = glyph(c, i as u32) else {
            continue;
        };
        let (gw, gh) = (
            ((g.width() as f32 * scale).round() as u32).max(1),
            ((g.height() as f32 * scale).round() as u32).max(1),
        );
        let g = image::imageops::resize(&g, gw, gh, image::imageops::FilterType::Triangle);
        let x = margin + i as u32 * pitch + pitch.saturating_sub(gw) / 2;
        let y = baseline.saturating_sub(gh);
        for (gx, gy, p) in g.enumerate_pixels() {
            let (px, py) = (x + gx, y + gy);
            if px < out.width() && py < out.height() {
                let o = out.get_pixel_mut(px, py);
                o.0[0] = o.0[0].min(p.0[0]);
            }
        }
    }
    out
}
