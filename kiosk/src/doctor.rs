//! `jachai-kiosk doctor`: the kiosk's health, headless (the maintenance screen shows the same):
//! store and sync backlog, stolen-index version, OCR models, camera, GPIO, printer.

use std::path::Path;

use jachai_edge_sync::index::{LoadMode, StolenIndex};
use jachai_edge_sync::store::Store;

use crate::config::KioskConfig;
use crate::hardware::{open_camera, open_gpio};

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

fn check(name: &str, result: Result<String, String>) -> Check {
    let (ok, detail) = match result {
        Ok(d) => (true, d),
        Err(d) => (false, d),
    };
    Check {
        name: name.into(),
        ok,
        detail,
    }
}

/// Tesseract's data folder on Debian.
const TESSDATA: &str = "/usr/share/tesseract-ocr/5/tessdata";

/// Which parts to test; the running app leaves out the camera and GPIO it holds.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    pub hardware: bool,
}

/// Run every check.
pub fn run_checks(config: &KioskConfig, scope: Scope) -> Vec<Check> {
    let mut out = vec![
        check("kiosk", Ok(format!("id {}", config.kiosk_id))),
        check("store", store(config)),
        check("stolen index", index(&config.index)),
        check("ocr models", ocr_models(Path::new(TESSDATA))),
    ];
    if scope.hardware {
        out.push(check(
            "camera",
            open_camera(&config.camera)
                .map_err(|e| e.to_string())
                .and_then(|mut cam| {
                    let frame = cam.preview().map_err(|e| e.to_string())?;
                    Ok(format!(
                        "{}: frame {}x{}",
                        cam.describe(),
                        frame.width(),
                        frame.height()
                    ))
                }),
        ));
        out.push(check(
            "gpio",
            open_gpio(&config.gpio)
                .map(|g| g.describe())
                .map_err(|e| e.to_string()),
        ));
    }
    out.push(check(
        "printer",
        match &config.printer {
            None => Ok("none configured".into()),
            Some(p) => match std::fs::metadata(p) {
                Ok(m) if !m.is_dir() && !m.permissions().readonly() => {
                    Ok(format!("{}", p.display()))
                }
                Ok(_) => Err(format!("{} is not a writable device", p.display())),
                Err(e) => Err(format!("{}: {e}", p.display())),
            },
        },
    ));
    out
}

fn store(config: &KioskConfig) -> Result<String, String> {
    let store = Store::open(&config.db, &config.blobs)
        .map_err(|e| format!("{}: {e}", config.db.display()))?;
    let backlog = store.unacked_count().map_err(|e| e.to_string())?;
    let oldest = store.oldest_unacked_age().map_err(|e| e.to_string())?;
    let events = store.pending_events(1000).map_err(|e| e.to_string())?.len();
    let cases = store.case_count().map_err(|e| e.to_string())?;
    Ok(format!(
        "{cases} case(s); sync backlog {backlog}{}; {events} event(s) queued",
        oldest
            .map(|s| format!(", oldest {s} s"))
            .unwrap_or_default()
    ))
}

fn index(dir: &Path) -> Result<String, String> {
    if !dir.is_dir() {
        return Err(format!("no index at {}", dir.display()));
    }
    let index =
        StolenIndex::open(dir, LoadMode::File).map_err(|e| format!("{}: {e}", dir.display()))?;
    let held = index.held();
    if held.version == 0 {
        return Err("empty (version 0): jachai-sync has not fetched it yet".into());
    }
    Ok(format!(
        "version {}, {} IMEIs{}",
        held.version,
        index.len(),
        if index.is_stale() { " (stale)" } else { "" }
    ))
}

fn ocr_models(dir: &Path) -> Result<String, String> {
    let mut found = Vec::new();
    for lang in ["ben", "eng"] {
        let f = dir.join(format!("{lang}.traineddata"));
        let m = std::fs::metadata(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        found.push(format!("{lang} ({} KB)", m.len() / 1024));
    }
    Ok(found.join(", "))
}

/// Print the report; true when everything is fine.
pub fn print(checks: &[Check], out: &mut impl std::io::Write) -> std::io::Result<bool> {
    for c in checks {
        writeln!(
            out,
            "{:<5} {:<13} {}",
            if c.ok { "ok" } else { "FAIL" },
            c.name,
            c.detail
        )?;
    }
    Ok(checks.iter().all(|c| c.ok))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hardware::{CameraSpec, GpioSpec};

    #[test]
    fn a_missing_index_and_camera_fail_a_fresh_store_passes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = KioskConfig {
            db: dir.path().join("kiosk.db"),
            blobs: dir.path().join("blobs"),
            index: dir.path().join("stolen"),
            camera: CameraSpec::Simulated {
                path: dir.path().join("no-camera"),
            },
            gpio: GpioSpec::Simulated,
            ..KioskConfig::default()
        };
        let checks = run_checks(&config, Scope { hardware: true });
        let get = |n: &str| checks.iter().find(|c| c.name == n).expect("listed");
        assert!(get("store").ok, "{:?}", get("store"));
        assert!(get("store").detail.contains("sync backlog 0"));
        assert!(!get("stolen index").ok);
        assert!(!get("camera").ok);
        assert!(get("gpio").ok);
        let mut out = Vec::new();
        assert!(!print(&checks, &mut out).expect("vec"));
        assert!(String::from_utf8_lossy(&out).contains("FAIL  stolen index"));
    }
}
