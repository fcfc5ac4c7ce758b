//! Shaped text rendering from font files on this machine (Debian font packages).

use std::path::{Path, PathBuf};

use cosmic_text::{Attrs, Buffer, Color, Family, FontSystem, Metrics, Shaping, SwashCache};
use image::{GrayImage, Luma};

/// Font files the generator draws with, looked up under `/usr/share/fonts` (Debian packages
/// `fonts-noto-core`, `fonts-lohit-beng-bengali`, `fonts-dejavu-core`).
pub const FONT_FILES: &[&str] = &[
    "truetype/noto/NotoSansBengali-Regular.ttf",
    "truetype/noto/NotoSansBengali-Bold.ttf",
    "truetype/noto/NotoSerifBengali-Regular.ttf",
    "truetype/noto/NotoSerifBengali-Bold.ttf",
    "truetype/lohit-bengali/Lohit-Bengali.ttf",
    "truetype/noto/NotoSans-Regular.ttf",
    "truetype/noto/NotoSans-Bold.ttf",
    "truetype/noto/NotoSerif-Regular.ttf",
    "truetype/dejavu/DejaVuSans.ttf",
    "truetype/dejavu/DejaVuSerif.ttf",
];

/// Thai faces (Debian `fonts-noto-core`), not loaded by default: the GD generator has no use
/// for them, the scam-image tests and bench draw Thai screenshots with them.
pub const THAI_FONT_FILES: &[&str] = &[
    "truetype/noto/NotoSansThai-Regular.ttf",
    "truetype/noto/NotoSansThai-Bold.ttf",
];

/// Why fonts could not be loaded.
#[derive(Debug)]
pub struct MissingFonts(pub Vec<PathBuf>);

impl std::fmt::Display for MissingFonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "font files missing (install fonts-noto-core fonts-lohit-beng-bengali fonts-dejavu-core): {:?}",
            self.0
        )
    }
}

impl std::error::Error for MissingFonts {}

/// A text renderer over the generator's fonts.
pub struct Renderer {
    fonts: FontSystem,
    cache: SwashCache,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer").finish_non_exhaustive()
    }
}

impl Renderer {
    /// Load [`FONT_FILES`] from `/usr/share/fonts`.
    pub fn new() -> Result<Self, MissingFonts> {
        Self::from_dir(Path::new("/usr/share/fonts"))
    }

    /// Load [`FONT_FILES`] from `root`.
    pub fn from_dir(root: &Path) -> Result<Self, MissingFonts> {
        Self::from_dir_with(root, &[])
    }

    /// Load [`FONT_FILES`] and `extra` (paths relative to `/usr/share/fonts`, e.g.
    /// [`THAI_FONT_FILES`] for scam screenshots in Thai).
    pub fn with_extra(extra: &[&str]) -> Result<Self, MissingFonts> {
        Self::from_dir_with(Path::new("/usr/share/fonts"), extra)
    }

    /// Load [`FONT_FILES`] and `extra` from `root`.
    pub fn from_dir_with(root: &Path, extra: &[&str]) -> Result<Self, MissingFonts> {
        let mut db = cosmic_text::fontdb::Database::new();
        let mut missing = Vec::new();
        for rel in FONT_FILES.iter().chain(extra) {
            let path = root.join(rel);
            if db.load_font_file(&path).is_err() {
                missing.push(path);
            }
        }
        if !missing.is_empty() {
            return Err(MissingFonts(missing));
        }
        Ok(Renderer {
            fonts: FontSystem::new_with_locale_and_db("bn-BD".to_owned(), db),
            cache: SwashCache::new(),
        })
    }

    fn shape(
        &mut self,
        text: &str,
        family: &str,
        px: f32,
        bold: bool,
        width: Option<f32>,
        line_height: f32,
    ) -> Buffer {
        let metrics = Metrics::new(px, px * line_height);
        let mut buffer = Buffer::new(&mut self.fonts, metrics);
        let weight = if bold {
            cosmic_text::Weight::BOLD
        } else {
            cosmic_text::Weight::NORMAL
        };
        let attrs = Attrs::new().family(Family::Name(family)).weight(weight);
        buffer.set_size(&mut self.fonts, width, None);
        buffer.set_text(&mut self.fonts, text, attrs, Shaping::Advanced);
        buffer.shape_until_scroll(&mut self.fonts, false);
        buffer
    }

    fn draw(&mut self, buffer: &Buffer, w: u32, h: u32, margin: u32) -> GrayImage {
        let mut img = GrayImage::from_pixel(w.max(1), h.max(1), Luma([255]));
        buffer.draw(
            &mut self.fonts,
            &mut self.cache,
            Color::rgb(0, 0, 0),
            |x, y, _w, _h, color| {
                let (px_x, px_y) = (x + margin as i32, y + margin as i32);
                if px_x < 0 || px_y < 0 || px_x as u32 >= w || px_y as u32 >= h {
                    return;
                }
                let a = u32::from(color.a());
                let p = img.get_pixel_mut(px_x as u32, px_y as u32);
                let ink = (u32::from(p.0[0]) * (255 - a)) / 255;
                p.0[0] = ink as u8;
            },
        );
        img
    }

    /// Render `text` on one line in `family` (e.g. "Noto Sans Bengali", "Lohit Bengali",
    /// "Noto Serif") at `px` pixels, `bold` or regular; black ink on white with a margin of
    /// [`Renderer::margin`]`(px)`. Characters missing from `family` fall back to another
    /// loaded font.
    pub fn line(&mut self, text: &str, family: &str, px: f32, bold: bool) -> GrayImage {
        let buffer = self.shape(text, family, px, bold, None, 1.5);
        let width = buffer
            .layout_runs()
            .map(|run| run.line_w)
            .fold(0.0f32, f32::max);
        let margin = Self::margin(px);
        let w = width.ceil() as u32 + 2 * margin;
        let h = (px * 1.5).ceil() as u32 + 2 * margin;
        self.draw(&buffer, w, h, margin)
    }

    /// The blank margin [`Renderer::line`] leaves around text drawn at `px` pixels.
    pub fn margin(px: f32) -> u32 {
        (px / 4.0).ceil() as u32
    }

    /// The advance width of `text` on one line, in pixels.
    pub fn measure(&mut self, text: &str, family: &str, px: f32, bold: bool) -> f32 {
        self.shape(text, family, px, bold, None, 1.5)
            .layout_runs()
            .map(|run| run.line_w)
            .fold(0.0f32, f32::max)
    }

    /// Render `text` wrapped at `width` pixels with lines `line_height` times `px` apart
    /// (black on white, margin as [`Renderer::line`]), and the number of lines.
    pub fn paragraph(
        &mut self,
        text: &str,
        family: &str,
        px: f32,
        bold: bool,
        width: f32,
        line_height: f32,
    ) -> (GrayImage, usize) {
        let buffer = self.shape(text, family, px, bold, Some(width), line_height);
        let lines = buffer.layout_runs().count();
        let margin = Self::margin(px);
        let w = width.ceil() as u32 + 2 * margin;
        let h = (lines as f32 * px * line_height + px * 0.5).ceil() as u32 + 2 * margin;
        (self.draw(&buffer, w, h, margin), lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bengali_renders_with_ink() {
        let mut r = Renderer::new().expect("fonts");
        let img = r.line("বাংলাদেশ পুলিশ ১২৩", "Noto Sans Bengali", 32.0, false);
        let ink = img.pixels().filter(|p| p.0[0] < 128).count();
        assert!(
            img.width() > 100 && ink > 200,
            "{}x{} ink {ink}",
            img.width(),
            img.height()
        );
    }
}
