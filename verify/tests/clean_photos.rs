//! No clean camera photo is rejected: the whole pipeline over every `exif-samples/jpg/*.jpg`.

use std::path::PathBuf;

use verify::{Config, Request, Verdict};

fn shared_data() -> PathBuf {
    std::env::var_os("JACHAI_SHARED_DATA").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")),
        PathBuf::from,
    )
}

#[test]
fn no_clean_camera_photo_is_rejected() {
    let dir = shared_data().join("exif-samples/jpg");
    let mut photos: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("jpg")))
        .collect();
    photos.sort();
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
