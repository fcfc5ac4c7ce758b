//! No clean camera photo is rejected: the whole pipeline over every `exif-samples/jpg/*.jpg`.

mod common;

use std::path::PathBuf;

use verify::{Config, Request, Verdict};

#[test]
fn no_clean_camera_photo_is_rejected() {
    let dir = common::data_dir().join("exif-samples/jpg");
    let photos: Vec<PathBuf> = common::clean_photos()
        .into_iter()
        .filter(|p| p.parent() == Some(dir.as_path()))
        .collect();
    assert!(
        photos.len() >= 20,
        "expected the exif-samples photos, found {}",
        photos.len()
    );
    let request = Request {
        now_unix: Some(1_795_000_000), // 2026-11-17: fixed, so the date checks are repeatable
        ..Request::default()
    };
    let mut rejected = Vec::new();
    for path in &photos {
        let bytes = std::fs::read(path).expect("readable sample");
        match verify::verify(&bytes, &request, &Config::default(), &mut ()) {
            Ok(report) => {
                if report.verdict == Verdict::Reject {
                    let codes: Vec<String> = report
                        .findings
                        .iter()
                        .map(|f| format!("{}+{}", f.code, f.points))
                        .collect();
                    rejected.push(format!(
                        "{} (risk {}: {})",
                        path.display(),
                        report.risk,
                        codes.join(", ")
                    ));
                }
            }
            // `corrupted.jpg` is a truncated file: refusing it is right, rejecting a readable photo is not.
            Err(e) => assert!(
                matches!(e.code(), "truncated" | "corrupt"),
                "{}: {e}",
                path.display()
            ),
        }
    }
    assert!(
        rejected.is_empty(),
        "clean photos rejected:\n{}",
        rejected.join("\n")
    );
}
