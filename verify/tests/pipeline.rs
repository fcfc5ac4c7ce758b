//! The pipeline as a whole: progress events, time budgets turned into findings, the report's shape.

use std::time::Duration;

use image::{ImageFormat, Rgb, RgbImage};
use verify::{Budgets, Config, ProgressEvent, Request, Stage, StageStatus, Verdict};

/// A small photo-like JPEG: smooth gradients plus deterministic texture.
fn sample_jpeg() -> Vec<u8> {
    let mut seed = 0x2545_f491_u32;
    let img = RgbImage::from_fn(320, 240, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let n = (seed % 9) as i32 - 4;
        let base = (x * 255 / 320) as i32;
        let g = (y * 255 / 240) as i32;
        let c = |v: i32| (v + n).clamp(0, 255) as u8;
        Rgb([c(base), c(g), c((base + g) / 2)])
    });
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), ImageFormat::Jpeg)
        .expect("encode");
    out
}

#[test]
fn progress_rises_to_100_through_every_stage() {
    let mut events = Vec::new();
    let request = Request {
        annotate: true,
        ..Request::default()
    };
    let report = verify::verify(
        &sample_jpeg(),
        &request,
        &Config::default(),
        &mut |e: &ProgressEvent| events.push(e.clone()),
    )
    .expect("readable");
    let progress: Vec<u8> = events.iter().map(ProgressEvent::progress).collect();
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "monotonic: {progress:?}"
    );
    assert_eq!(progress.first(), Some(&0));
    assert_eq!(progress.last(), Some(&100));
    let started = events
        .iter()
        .filter(|e| matches!(e, ProgressEvent::StageStarted { .. }))
        .count();
    let finished = events
        .iter()
        .filter(|e| matches!(e, ProgressEvent::StageFinished { .. }))
        .count();
    assert_eq!(started, finished);
    let names: Vec<Stage> = report.stages.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            Stage::Intake,
            Stage::Metadata,
            Stage::Ela,
            Stage::CopyMove,
            Stage::Noise,
            Stage::DoubleJpeg,
            Stage::Ocr,
            Stage::Fields,
            Stage::Duplicates,
            Stage::AiModel,
            Stage::Score,
            Stage::Annotate
        ]
    );
    let png = report.annotated_png.expect("annotated image asked for");
    let annotated = image::load_from_memory(&png).expect("annotated image is a PNG");
    assert_eq!((annotated.width(), annotated.height()), (320, 240));
    assert_eq!(report.sha256.len(), 64);
    assert_eq!(
        report.fields.get("format").and_then(|v| v.as_text()),
        Some("jpeg")
    );
}

#[test]
fn overrun_budgets_become_findings_and_force_review() {
    let config = Config {
        budgets: Budgets {
            metadata: Duration::ZERO,
            ela: Duration::ZERO,
            copy_move: Duration::ZERO,
            noise: Duration::ZERO,
            double_jpeg: Duration::ZERO,
            annotate: Duration::ZERO,
        },
        ..Config::default()
    };
    let report = verify::verify(&sample_jpeg(), &Request::default(), &config, &mut ())
        .expect("a timeout is a finding, not an error");
    let timeouts: Vec<Stage> = report
        .findings
        .iter()
        .filter(|f| f.code == "stage_timeout")
        .map(|f| f.stage)
        .collect();
    for stage in [
        Stage::Metadata,
        Stage::Ela,
        Stage::CopyMove,
        Stage::Noise,
        Stage::DoubleJpeg,
    ] {
        assert!(
            timeouts.contains(&stage),
            "{stage:?} timed out: {timeouts:?}"
        );
        let record = report
            .stages
            .iter()
            .find(|s| s.name == stage)
            .expect("stage ran");
        assert_eq!(record.status, StageStatus::Timeout);
    }
    assert!(report.verdict >= Verdict::Review, "{:?}", report.verdict);
    for f in &report.findings {
        assert!(!f.en.is_empty() && !f.bn.is_empty(), "{f:?}");
    }
}

#[test]
fn unreadable_input_is_the_only_error() {
    for (bytes, code) in [
        (&b""[..], "empty_input"),
        (&b"%PDF-1.7 not an image"[..], "unsupported_format"),
        (&[0x13u8; 64][..], "unsupported_format"),
    ] {
        let err = verify::verify(bytes, &Request::default(), &Config::default(), &mut ())
            .expect_err("unreadable");
        assert_eq!(err.code(), code);
    }
}
