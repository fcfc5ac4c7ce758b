//! `jachai-kiosk doctor`: the kiosk's health, headless (the maintenance screen shows the same):
//! store and sync backlog, stolen index against the cloud's signed head, OCR models (Bengali, English,
//! Thai), camera, GPIO, printer.

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
        check("stolen index", index(config)),
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

/// The stolen-IMEI index against the newest signed head jachai-sync accepted (kept in the store): a
/// fresh kiosk whose cloud holds no stolen IMEI yet is in step at version 0; one that never heard a
/// head, or holds less than the head announced, is not.
fn index(config: &KioskConfig) -> Result<String, String> {
    let head = Store::open(&config.db, &config.blobs)
        .and_then(|s| s.stolen_head())
        .map_err(|e| format!("{}: {e}", config.db.display()))?;
    let dir = config.index.as_path();
    let (held, count, stale) = if dir.is_dir() {
        let index = StolenIndex::open(dir, LoadMode::File)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        (index.held().version, index.len(), index.is_stale())
    } else {
        (0, 0, false)
    };
    index_state(held, count, stale, head, now_s())
}

fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `held` (version, IMEIs) against `head` (version, signed at), as the doctor reports it.
fn index_state(
    held: u64,
    count: u64,
    stale: bool,
    head: Option<(u64, u64)>,
    now: u64,
) -> Result<String, String> {
    let Some((head_version, signed_at)) = head else {
        return Err(if held == 0 {
            "empty: jachai-sync has not fetched it yet".into()
        } else {
            format!("version {held}, {count} IMEIs, but no signed head from the cloud on record")
        });
    };
    let age = now.saturating_sub(signed_at);
    if held < head_version {
        return Err(format!(
            "behind: version {held} of {head_version} (head signed {age} s ago); jachai-sync is fetching the rest"
        ));
    }
    Ok(format!(
        "version {held}, {count} IMEIs{}; in step with the cloud's head (signed {age} s ago)",
        if stale {
            " (files changed since opened)"
        } else {
            ""
        }
    ))
}

fn ocr_models(dir: &Path) -> Result<String, String> {
    let mut found = Vec::new();
    for lang in ["ben", "eng", "tha"] {
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

    /// The default configuration with its store, images and stolen index under `dir`.
    fn fresh_store_in(dir: &Path) -> KioskConfig {
        KioskConfig {
            db: dir.join("kiosk.db"),
            blobs: dir.join("blobs"),
            index: dir.join("stolen"),
            ..KioskConfig::default()
        }
    }

    #[test]
    fn a_missing_index_and_camera_fail_a_fresh_store_passes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = KioskConfig {
            camera: CameraSpec::Simulated {
                path: dir.path().join("no-camera"),
            },
            gpio: GpioSpec::Simulated,
            ..fresh_store_in(dir.path())
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

    #[test]
    fn the_index_is_judged_against_the_signed_head() {
        let now = 1_000_000;
        // (held version, head (version, signed at), ok, words in the detail)
        type Row = (u64, Option<(u64, u64)>, bool, &'static str);
        let table: [Row; 5] = [
            (0, None, false, "not fetched it yet"),
            (7, None, false, "no signed head"),
            (0, Some((0, now - 30)), true, "version 0, 0 IMEIs; in step"),
            (5, Some((7, now - 30)), false, "behind: version 5 of 7"),
            (7, Some((7, now - 30)), true, "version 7, 0 IMEIs; in step"),
        ];
        for (held, head, ok, words) in table {
            let got = index_state(held, 0, false, head, now);
            assert_eq!(got.is_ok(), ok, "{held} {head:?}: {got:?}");
            let detail = got.unwrap_or_else(|e| e);
            assert!(detail.contains(words), "{held} {head:?}: {detail}");
        }
    }

    #[test]
    fn a_fresh_kiosk_whose_cloud_holds_no_stolen_imei_is_in_step() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = fresh_store_in(dir.path());
        let mut store = Store::open(&config.db, &config.blobs).expect("store");
        assert!(index(&config).is_err(), "no head yet");
        store.set_stolen_head(0, now_s()).expect("head");
        let got = index(&config).expect("in step at version 0");
        assert!(got.starts_with("version 0, 0 IMEIs"), "{got}");
    }
}
