//! The on-device AI-image model (`models/ai-image.onnx`, trained by `models/train_ai_image.py`,
//! card in `models/ai-image.md`), run with tract.
//!
//! It looks for one thing: the periodic trace that the up-sampling layers of convolutional
//! decoders (GAN generators, the VAE decoder of latent-diffusion models) leave in the pixels. The
//! graph takes RGB crops of 256 × 256 at offsets on the 8-pixel grid and gives a probability; the
//! picture's score is the mean over up to three crops (centre, top-left, bottom-right).
//!
//! What it cannot do, and the finding says so: it was trained on a proxy (real photos decoded by
//! up-sampling decoders the script fits), not on any real generator's output; a picture resized
//! after it was made, a screenshot of it or a photo of a screen loses the trace; screenshots are
//! not scored at all (UI rendering and scaled-up pictures inside a page carry the same kind of
//! trace). So it is weak evidence: a low finding, never a verdict on its own.

use std::io::Cursor;
use std::sync::OnceLock;

use image::RgbImage;
use tract_onnx::prelude::*;

use crate::report::{Finding, Severity, Stage};

static MODEL: &[u8] = include_bytes!("../../../models/ai-image.onnx");

/// The crop side the model takes.
pub const CROP: u32 = 256;
/// Mean probability from which the picture is reported (the card's operating point).
pub const THRESHOLD: f32 = 0.9;
/// Points of the model's `ai_generated` finding.
pub const POINTS: u32 = 12;

/// The loaded model.
pub struct AiModel {
    plan: Arc<TypedRunnableModel>,
}

impl std::fmt::Debug for AiModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AiModel").finish_non_exhaustive()
    }
}

/// What the model said about a picture.
#[derive(Debug, Clone, PartialEq)]
pub struct AiScore {
    /// Mean probability over the crops, 0–1.
    pub probability: f32,
    pub crops: usize,
}

impl AiModel {
    /// The shipped model, loaded once per process.
    pub fn shipped() -> Result<&'static AiModel, String> {
        static LOADED: OnceLock<Result<AiModel, String>> = OnceLock::new();
        LOADED
            .get_or_init(|| AiModel::from_bytes(MODEL))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Load an ONNX graph taking `rgb` `[1, 3, 256, 256]` (0–255) and giving `[1, 1]`.
    pub fn from_bytes(bytes: &[u8]) -> Result<AiModel, String> {
        let e = |e: TractError| format!("AI-image model: {e:#}");
        let side = CROP as usize;
        let plan = onnx()
            .model_for_read(&mut Cursor::new(bytes))
            .map_err(e)?
            .with_input_fact(0, f32::fact([1, 3, side, side]).into())
            .map_err(e)?
            .into_optimized()
            .map_err(e)?
            .into_runnable()
            .map_err(e)?;
        Ok(AiModel { plan })
    }

    /// The probability of one crop whose top-left corner is (`x`, `y`), on the 8-pixel grid.
    pub fn crop_probability(&self, img: &RgbImage, x: u32, y: u32) -> Result<f32, String> {
        let side = CROP as usize;
        if x + CROP > img.width() || y + CROP > img.height() {
            return Err("crop outside the picture".into());
        }
        let input = tract_ndarray::Array4::from_shape_fn((1, 3, side, side), |(_, c, j, i)| {
            f32::from(img.get_pixel(x + i as u32, y + j as u32).0[c])
        });
        let out = self
            .plan
            .run(tvec!(Tensor::from(input).into()))
            .map_err(|e| format!("AI-image model: {e:#}"))?;
        let p = out
            .first()
            .ok_or("AI-image model: no output")?
            .to_plain_array_view::<f32>()
            .map_err(|e| format!("AI-image model: {e:#}"))?
            .iter()
            .next()
            .copied()
            .ok_or("AI-image model: empty output")?;
        Ok(p)
    }

    /// The mean probability over the centre, top-left and bottom-right crops; `None` when the
    /// picture is smaller than one crop.
    pub fn score(&self, img: &RgbImage) -> Result<Option<AiScore>, String> {
        let (w, h) = img.dimensions();
        if w < CROP || h < CROP {
            return Ok(None);
        }
        let grid = |v: u32| v / 8 * 8;
        let mut spots = vec![
            (grid((w - CROP) / 2), grid((h - CROP) / 2)),
            (0, 0),
            (grid(w - CROP), grid(h - CROP)),
        ];
        spots.dedup();
        let mut sum = 0.0;
        for &(x, y) in &spots {
            sum += self.crop_probability(img, x, y)?;
        }
        Ok(Some(AiScore {
            probability: sum / spots.len() as f32,
            crops: spots.len(),
        }))
    }
}

/// The `ai_generated` finding for a score at or over [`THRESHOLD`].
pub fn finding(score: &AiScore) -> Option<Finding> {
    if score.probability < THRESHOLD {
        return None;
    }
    let pct = (score.probability * 100.0).round();
    Some(Finding::new(
        "ai_generated",
        Stage::AiModel,
        Severity::Low,
        POINTS,
        format!(
            "The on-device AI-image model (source: model) found the up-sampling trace that image \
             generators leave in their pixels ({pct:.0} % over {} areas of the picture). It was \
             trained on a stand-in for generators, not on their real output, and misses pictures \
             that were resized or re-photographed: weak evidence on its own.",
            score.crops
        ),
        format!(
            "যন্ত্রের ভেতরের এআই-ছবি মডেল (উৎস: মডেল) ছবির পিক্সেলে ছবি-তৈরির প্রোগ্রামের রেখে যাওয়া \
             আপস্কেলিং-চিহ্ন পেয়েছে (ছবির {}টি অংশে {pct:.0} %)। মডেলটি আসল এআই ছবিতে নয়, তার বিকল্পে \
             শেখানো, আর ছোট-বড় করা বা আবার তোলা ছবিতে চিহ্নটি হারায়: একা এটি দুর্বল প্রমাণ।",
            score.crops
        ),
    ))
}
