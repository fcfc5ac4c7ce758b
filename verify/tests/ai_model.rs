//! The AI-image model (`models/ai-image.onnx`) through tract: the same probabilities as the
//! training script's onnxruntime on saved crops, quiet on the clean camera photos, and wired into
//! `--kind image` as an `ai_generated` finding whose source is the model.

mod common;

use std::time::Instant;

use image::RgbImage;
use verify::scam::ai_model::{AiModel, THRESHOLD};
use verify::{Config, DocumentKind, Request, Severity, Stage, StageStatus};

const CHECKS: &str = include_str!("data/ai-image-check.json");

fn load(name: &str) -> RgbImage {
    let path = match name.strip_prefix("repo:") {
        Some(file) => std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(file),
        None => common::data_dir()
            .parent()
            .expect("shared folder")
            .join(name),
    };
    image::open(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8()
}

#[test]
fn tract_gives_the_training_scripts_probabilities() {
    let checks: serde_json::Value = serde_json::from_str(CHECKS).expect("check file");
    let model = AiModel::shipped().expect("the shipped model loads");
    let list = checks["checks"].as_array().expect("checks");
    assert!(list.len() >= 5);
    let mut high = 0;
    for c in list {
        let name = c["file"].as_str().expect("file");
        let img = load(name);
        let (x, y) = (
            c["x"].as_u64().expect("x") as u32,
            c["y"].as_u64().expect("y") as u32,
        );
        let want = c["probability"].as_f64().expect("probability") as f32;
        let got = model.crop_probability(&img, x, y).expect("a probability");
        // PNG crops are bit-exact; JPEG decoders may differ by a level here and there.
        let tolerance = if name.starts_with("repo:") {
            1e-4
        } else {
            2e-2
        };
        assert!(
            (got - want).abs() < tolerance,
            "{name} at ({x}, {y}): tract {got}, onnxruntime {want}"
        );
        if want >= THRESHOLD {
            high += 1;
        }
    }
    assert!(high >= 1, "no saved crop is a decoded (positive) one");
}

#[test]
fn camera_photos_are_not_flagged() {
    let model = AiModel::shipped().expect("model");
    let mut scored = 0;
    let mut flagged = Vec::new();
    let started = Instant::now();
    // The clean photos, and MICC-F220's copy-move forgeries (camera photos too: pasting a region
    // is no generator's trace).
    let mut photos = common::clean_photos();
    let micc = common::data_dir().join("micc-f220");
    for entry in std::fs::read_dir(&micc).expect("micc-f220") {
        let p = entry.expect("entry").path();
        if p.to_string_lossy().contains("tamp") && p.extension().is_some_and(|e| e == "jpg") {
            photos.push(p);
        }
    }
    for path in photos {
        let img = image::open(&path).expect("photo").to_rgb8();
        if let Some(s) = model.score(&img).expect("score") {
            scored += 1;
            if s.probability >= THRESHOLD {
                flagged.push((path.display().to_string(), s.probability));
            }
        }
    }
    let ms = started.elapsed().as_millis() / scored.max(1) as u128;
    eprintln!(
        "{scored} photos scored, {} flagged, {ms} ms each",
        flagged.len()
    );
    assert!(scored >= 200, "{scored}");
    // The operating point was chosen for about 0.3 % false positives per crop on held-out photos.
    assert!(flagged.len() <= 1, "{flagged:?}");
}

fn check(img: &RgbImage) -> verify::Report {
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png)
        .expect("png");
    verify::verify(
        bytes.get_ref(),
        &Request {
            kind: DocumentKind::Image,
            ..Request::default()
        },
        &Config::default(),
        &mut (),
    )
    .expect("a report")
}

#[test]
fn the_pipeline_names_the_model_as_the_source() {
    let proxy = load("repo:ai-proxy-crop.png");
    let report = check(&proxy);
    let f = report
        .findings
        .iter()
        .find(|f| f.code == "ai_generated")
        .expect("the decoded crop is flagged");
    assert_eq!(f.stage, Stage::AiModel);
    assert_eq!(f.severity, Severity::Low);
    assert!(f.en.contains("source: model"), "{}", f.en);
    assert!(f.bn.contains("মডেল"));
    let p: f32 = report.fields["ai_model_probability"]
        .as_text()
        .expect("probability field")
        .parse()
        .expect("a number");
    assert!(p >= THRESHOLD);

    // A camera photo: scored, not flagged.
    let photo = load("data/micc-f220/CRW_4814_scale.jpg");
    let report = check(&photo);
    assert!(report.fields.contains_key("ai_model_probability"));
    assert!(!report.findings.iter().any(|f| f.stage == Stage::AiModel));

    // A flat screenshot and a picture under one crop: the stage is skipped.
    let screenshot = RgbImage::from_fn(360, 640, |x, y| {
        if (y / 30) % 3 == 1 && x % 40 < 30 {
            image::Rgb([20, 20, 20])
        } else {
            image::Rgb([255, 255, 255])
        }
    });
    for img in [
        screenshot,
        RgbImage::from_pixel(200, 120, image::Rgb([90, 120, 60])),
    ] {
        let report = check(&img);
        let stage = report
            .stages
            .iter()
            .find(|s| s.name == Stage::AiModel)
            .expect("the stage is listed");
        assert_eq!(stage.status, StageStatus::Skipped);
        assert!(!report.fields.contains_key("ai_model_probability"));
    }
}
