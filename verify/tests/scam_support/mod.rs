//! Synthetic scam pictures for the scam-image tests and bench: phone screenshots (light or dark
//! mode, a coloured header band) with rendered Bengali, English and Thai lines, and "camera
//! photos" of them (a screen photographed: border, uneven light, blur, grain, JPEG).

#![allow(dead_code)]

use gdgen::render::{Renderer, THAI_FONT_FILES};
use image::codecs::jpeg::JpegEncoder;
use image::{imageops, GrayImage, Rgb, RgbImage};
use verify::report::Region;

/// A renderer with the Thai faces loaded too.
pub fn renderer() -> Renderer {
    Renderer::with_extra(THAI_FONT_FILES)
        .expect("fonts (scripts/env.sh installs fonts-noto-core, fonts-lohit-beng-bengali, fonts-dejavu-core)")
}

/// The face for a line: Thai, Bengali or Latin.
pub fn family_for(text: &str) -> &'static str {
    if text.chars().any(|c| ('\u{0E00}'..='\u{0E7F}').contains(&c)) {
        "Noto Sans Thai"
    } else if text.chars().any(|c| ('\u{0980}'..='\u{09FF}').contains(&c)) {
        "Noto Sans Bengali"
    } else {
        "Noto Sans"
    }
}

/// How a screenshot looks.
#[derive(Debug, Clone, Copy)]
pub struct Look {
    pub width: u32,
    pub px: f32,
    pub dark: bool,
    /// Header band colour, with the first line drawn on it in white.
    pub header: Option<[u8; 3]>,
}

impl Default for Look {
    fn default() -> Self {
        Look {
            width: 720,
            px: 30.0,
            dark: false,
            header: None,
        }
    }
}

/// Draws `ink` (a black-on-white rendering) onto `img` at (x, y) in `colour`.
fn blit(img: &mut RgbImage, ink: &GrayImage, x: u32, y: u32, colour: [u8; 3]) {
    for (ix, iy, p) in ink.enumerate_pixels() {
        let (px, py) = (x + ix, y + iy);
        if px >= img.width() || py >= img.height() {
            continue;
        }
        let a = 255 - u32::from(p.0[0]);
        if a == 0 {
            continue;
        }
        let dst = img.get_pixel_mut(px, py);
        for (d, &c) in dst.0.iter_mut().zip(&colour) {
            *d = ((u32::from(c) * a + u32::from(*d) * (255 - a)) / 255) as u8;
        }
    }
}

/// A phone screenshot of `lines`, and each line's box.
pub fn screenshot(r: &mut Renderer, lines: &[&str], look: Look) -> (RgbImage, Vec<Region>) {
    let (bg, fg) = if look.dark {
        ([18, 18, 22], [235, 235, 235])
    } else {
        ([250, 250, 250], [20, 20, 20])
    };
    let rendered: Vec<GrayImage> = lines
        .iter()
        .map(|l| r.line(l, family_for(l), look.px, false))
        .collect();
    let top = 60u32;
    let gap = (look.px * 0.6) as u32;
    let height = top + rendered.iter().map(|g| g.height() + gap).sum::<u32>() + 80;
    let mut img = RgbImage::from_pixel(look.width, height, Rgb(bg));
    // A status bar, as screenshots have.
    for y in 0..36 {
        for x in 0..look.width {
            img.put_pixel(x, y, Rgb([60, 60, 70]));
        }
    }
    let mut y = top;
    let mut boxes = Vec::new();
    for (i, g) in rendered.iter().enumerate() {
        let colour = match (i, look.header) {
            (0, Some(band)) => {
                for yy in y.saturating_sub(8)..(y + g.height() + 8).min(height) {
                    for x in 0..look.width {
                        img.put_pixel(x, yy, Rgb(band));
                    }
                }
                [255, 255, 255]
            }
            _ => fg,
        };
        blit(&mut img, g, 24, y, colour);
        boxes.push(Region::new(24, y, g.width(), g.height()));
        y += g.height() + gap;
    }
    (img, boxes)
}

/// A small deterministic generator for grain.
fn noise(seed: &mut u64) -> i32 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    (*seed % 17) as i32 - 8
}

/// The screenshot photographed: a dark bezel around it, light falling off to one side, a
/// slight blur, grain, then JPEG at quality 85. Returns the JPEG bytes.
pub fn camera_photo(screen: &RgbImage, seed: u64) -> Vec<u8> {
    let border = 40;
    let (w, h) = (screen.width() + 2 * border, screen.height() + 2 * border);
    let mut img = RgbImage::from_pixel(w, h, Rgb([30, 28, 26]));
    imageops::overlay(&mut img, screen, i64::from(border), i64::from(border));
    let img = imageops::blur(&img, 0.8);
    let mut s = seed | 1;
    let out = RgbImage::from_fn(w, h, |x, y| {
        let p = img.get_pixel(x, y).0;
        let light = 0.82 + 0.18 * (x as f32 / w as f32);
        Rgb(p.map(|v| (f32::from(v) * light + noise(&mut s) as f32).clamp(0.0, 255.0) as u8))
    });
    jpeg(&out, 85)
}

/// JPEG bytes of `img`.
pub fn jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, quality)
        .encode_image(img)
        .expect("JPEG encoding");
    bytes
}

/// PNG bytes of `img` (a screenshot is saved losslessly).
pub fn png(img: &RgbImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .expect("PNG encoding");
    bytes
}
