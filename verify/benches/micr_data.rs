//! The MICR line data set (`../shared/data/e13b/lines`) for the MICR bench and the glyph-model
//! builder: listing, transcripts, folds, decoding.

#![allow(dead_code)] // shared by the bench and the model builder; each uses a part

use std::path::{Path, PathBuf};

use image::GrayImage;
use verify::cheque::e13b::{Classifier, DIMS};
use verify::cheque::micr::{gray_on_white, prepare};

/// The shared data folder (`JACHAI_SHARED_DATA` overrides it).
pub fn data_dir() -> PathBuf {
    std::env::var_os("JACHAI_SHARED_DATA").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")),
        PathBuf::from,
    )
}

/// One line image with its transcript.
#[derive(Debug, Clone)]
pub struct Line {
    pub name: String,
    pub path: PathBuf,
    /// The transcript without whitespace (the alphabet has no space).
    pub truth: String,
}

/// Every `.tif` with a `.gt.txt` beside it, sorted by name.
pub fn lines(dir: &Path) -> std::io::Result<Vec<Line>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("tif") {
            continue;
        }
        let Ok(gt) = std::fs::read_to_string(path.with_extension("gt.txt")) else {
            continue;
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push(Line {
            name,
            path,
            truth: gt.split_whitespace().collect(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Which of `k` folds a line belongs to: FNV-1a of its file name, so the split does not
/// depend on which other files are present.
pub fn fold(name: &str, k: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % k
}

pub fn load(path: &Path) -> Result<GrayImage, image::ImageError> {
    Ok(gray_on_white(&image::open(path)?))
}

/// Prototypes per class in the glyph model.
pub const PER_CLASS: usize = 24;

/// Train a glyph model on `lines` (those that cut cleanly into one cell per character).
/// Returns the model and how many lines and glyphs it learnt from.
pub fn train(lines: &[&Line], target_h: u32) -> (Classifier, usize, usize) {
    let mut samples: Vec<(u8, [f32; DIMS])> = Vec::new();
    let mut used = 0;
    for line in lines {
        let Ok(gray) = load(&line.path) else { continue };
        let Some(prep) = prepare(&gray, target_h) else {
            continue;
        };
        if let Some(s) = prep.labelled(&line.truth) {
            used += 1;
            samples.extend(s);
        }
    }
    let n = samples.len();
    (Classifier::train(&samples, PER_CLASS), used, n)
}
