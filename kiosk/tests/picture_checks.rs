//! The worker's picture checks with a real store in a temp dir: a repeated picture is answered
//! from the result cache (no stage runs), a near-copy of a picture checked before is `seen_before`,
//! and both survive a restart of the kiosk (the store keeps the cache and the history).

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use image::{imageops::FilterType, DynamicImage, ImageFormat, Rgb, RgbImage};
use jachai_edge_sync::store::Store;
use jachai_kiosk::controller::VerifyJob;
use jachai_kiosk::services::{Job, Reply, Worker, WorkerConfig};
use verify::{DocumentKind, Report};

fn config(dir: &tempfile::TempDir) -> WorkerConfig {
    WorkerConfig {
        kiosk_id: "test-kiosk".into(),
        db: dir.path().join("state/kiosk.db"),
        blobs: dir.path().join("state/blobs"),
        index: dir.path().join("state/stolen"),
        printer: None,
    }
}

/// A "prize message" picture: banded background, dark bars for lines of text, a coloured header.
fn picture() -> RgbImage {
    RgbImage::from_fn(360, 640, |x, y| {
        if y < 80 {
            return Rgb([200, 30, 60]);
        }
        let line = (y - 80) / 36;
        let in_text = (y - 80) % 36 < 14 && x > 24 && x < 300 - (line * 37 % 120);
        if in_text && (x / 9 + line) % 5 != 0 {
            Rgb([30, 30, 40])
        } else {
            let v = 245 - u8::try_from((y / 60) % 3 * 6).unwrap_or(0);
            Rgb([v, v, 250])
        }
    })
}

fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img.clone())
        .write_to(&mut out, format)
        .expect("encode");
    out.into_inner()
}

/// One worker thread on `config`: check each picture in turn and return (report, number of
/// progress events seen for it); the worker is gone (its store closed) when this returns.
fn check_all(config: &WorkerConfig, pictures: &[Vec<u8>]) -> Vec<(Report, usize)> {
    let (jobs_tx, jobs_rx) = mpsc::channel();
    let (replies_tx, replies_rx) = mpsc::channel();
    Worker::new(config.clone())
        .spawn(jobs_rx, replies_tx, Arc::new(|| {}))
        .expect("worker thread");
    let mut out = Vec::new();
    for (i, bytes) in pictures.iter().enumerate() {
        let session = i as u64 + 1;
        jobs_tx
            .send(Job::Verify(VerifyJob {
                session,
                kind: DocumentKind::Image,
                imeis: Vec::new(),
                bytes: bytes.clone(),
            }))
            .expect("job sent");
        let mut progress = 0;
        loop {
            match replies_rx
                .recv_timeout(Duration::from_secs(120))
                .expect("a reply")
            {
                Reply::Progress { session: s, .. } if s == session => progress += 1,
                Reply::Verified {
                    session: s, result, ..
                } if s == session => {
                    out.push((result.expect("a report"), progress));
                    break;
                }
                _ => {}
            }
        }
    }
    drop(jobs_tx);
    // The worker drops its sender when its loop ends: then the store is closed.
    while replies_rx.recv_timeout(Duration::from_secs(30)).is_ok() {}
    out
}

fn codes(r: &Report) -> Vec<&str> {
    r.findings.iter().map(|f| f.code.as_str()).collect()
}

#[test]
fn repeated_pictures_come_from_the_cache_and_near_copies_are_seen_before_across_restarts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config(&dir);
    let original = picture();
    let png = encode(&original, ImageFormat::Png);
    let smaller = DynamicImage::ImageRgb8(original.clone())
        .resize(300, 600, FilterType::Triangle)
        .to_rgb8();
    let near_copy = encode(&smaller, ImageFormat::Jpeg);

    let first_run = check_all(&config, &[png.clone(), png.clone(), near_copy.clone()]);
    let (fresh, fresh_progress) = &first_run[0];
    let (repeat, repeat_progress) = &first_run[1];
    let (near, _) = &first_run[2];
    assert!(*fresh_progress > 0, "the first check runs its stages");
    assert_eq!(*repeat_progress, 0, "the repeat is answered from the cache");
    assert_eq!(repeat, fresh, "the cached report is the report");
    assert!(!codes(fresh).contains(&"seen_before"), "{:?}", codes(fresh));
    assert!(
        codes(near).contains(&"seen_before"),
        "a near-copy of a checked picture: {:?}",
        codes(near)
    );

    let store = Store::open(&config.db, &config.blobs).expect("store");
    assert_eq!(store.cached_count().expect("count"), 2);
    // The exact repeat did not count as a second sighting.
    assert_eq!(store.checked_images().expect("history").len(), 2);
    drop(store);

    // After a restart: the same bytes come from the cache, and a third copy has been seen twice.
    let third = encode(
        &DynamicImage::ImageRgb8(original)
            .resize(320, 620, FilterType::Lanczos3)
            .to_rgb8(),
        ImageFormat::Jpeg,
    );
    let second_run = check_all(&config, &[png, third]);
    assert_eq!(second_run[0].1, 0, "cached across a restart");
    assert_eq!(&second_run[0].0, fresh);
    let seen = second_run[1]
        .0
        .findings
        .iter()
        .find(|f| f.code == "seen_before")
        .expect("seen before after the restart");
    assert!(seen.en.contains('2'), "{}", seen.en);
}
