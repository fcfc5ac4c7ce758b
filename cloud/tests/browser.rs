//! Browser tests in headless Chromium (Debian `chromium` + `chromium-driver`, Selenium from
//! `python3-selenium`; all installed by `scripts/env.sh`), driven by `tests/browser/drive.py` against
//! the real service on port 0: the console (log in, approve one case, reject another, the public lookup
//! answer changes) and the public check page (upload, progress bar to 100 %, annotated image).
//! Screenshots are kept under `<target>/browser-artifacts/<test>/`. Without Chromium the tests say so
//! and pass, except under `CI=true`, where they fail.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Proc;

use common::http::start;
use jachai_cloud::users::{Role, Users};
use jachai_protocol::envelope::{self, CaseMsg, UpCase};

const PASSWORD: &str = "a long enough password";
const IMEI: &str = "490154203237518";
/// Debian's Python, which has Debian's Selenium (a `python3` earlier on PATH may not).
const PYTHON: &str = "/usr/bin/python3";

fn browser_ready() -> bool {
    let have = ["/usr/bin/chromium", "/usr/bin/chromedriver"]
        .iter()
        .all(|p| Path::new(p).exists())
        && Proc::new(PYTHON)
            .args(["-c", "import selenium"])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !have {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium, chromium-driver and python3-selenium are required under CI (scripts/env.sh installs them)"
        );
        eprintln!("browser test not run: chromium, chromium-driver or python3-selenium missing");
    }
    have
}

fn artifacts(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("..")
        .join("browser-artifacts")
        .join(name);
    std::fs::create_dir_all(&dir).expect("artifact dir");
    dir
}

fn drive(args: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/drive.py");
    let out = Proc::new(PYTHON)
        .arg(&script)
        .args(args)
        .output()
        .expect("/usr/bin/python3");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "browser run failed:\n{text}");
    println!("{text}");
}

async fn kiosk_case(s: &common::http::Server, seq: u64, case_id: &str, imei: &str) {
    let claims = serde_json::json!({"imeis": [imei], "thana": "Mirpur", "district": "Dhaka", "gd_number": format!("GD-{seq}")});
    let payload = envelope::encode(&UpCase::Case(CaseMsg {
        seq,
        case_id: case_id.into(),
        kind: "gd".into(),
        created_at: 1_764_460_800,
        claims: claims.as_object().expect("object").clone(),
        verdict: Some("review".into()),
        risk: Some(45),
        report: serde_json::json!({"findings": [{"code": "gd_number_unreadable", "en": "The GD number could not be read", "bn": "জিডি নম্বর পড়া যায়নি"}]}),
        blobs: vec![],
    }));
    let id = s.broker.identity("kiosk-a").expect("cert");
    let out = tokio::task::block_in_place(|| {
        s.broker
            .publish(Some(&id), "jachai/v1/k/kiosk-a/up/case", &payload, false)
    })
    .expect("mosquitto_pub");
    assert!(out.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_approves_and_rejects_and_the_lookup_changes() {
    if !browser_ready() {
        return;
    }
    let db = common::databases().await.remove(0);
    let s = start(&db, "").await;
    let store = db.open().await;
    Users::new(store.clone())
        .add("rafi", PASSWORD, Role::Reviewer)
        .await
        .expect("user");
    kiosk_case(&s, 1, "R-approve", IMEI).await;
    kiosk_case(&s, 2, "R-reject", "356938035643809").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while store.cases_of("kiosk-a").await.expect("cases").len() < 2 {
        assert!(std::time::Instant::now() < deadline, "cases stored");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let out = artifacts("console");
    let base = s.base.clone();
    tokio::task::spawn_blocking(move || {
        drive(&[
            "console",
            &base,
            &out.to_string_lossy(),
            "rafi",
            PASSWORD,
            "R-approve",
            "R-reject",
            IMEI,
        ])
    })
    .await
    .expect("browser");
    let (_, body) = common::http::json(s.get(&format!("/api/v1/lookup?imei={IMEI}")).await).await;
    assert_eq!(body["status"], "stolen");
    store.close().await;
    s.stop().await;
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_page_shows_progress_to_100_and_the_annotated_image() {
    if !browser_ready() {
        return;
    }
    let db = common::databases().await.remove(0);
    let s = start(&db, "").await;
    let out = artifacts("check");
    let img = image::RgbImage::from_fn(640, 300, |x, y| {
        let ink = (y / 14) % 3 == 0 && (x / 9) % 6 != 0 && x > 40 && x < 600;
        let v = if ink {
            30
        } else {
            235 - ((x * 7 + y * 3) % 13) as u8
        };
        image::Rgb([v, v, v.saturating_add(8)])
    });
    let path = out.join("cheque.png");
    img.save(&path).expect("write the cheque image");
    let base = s.base.clone();
    tokio::task::spawn_blocking(move || {
        drive(&[
            "check",
            &base,
            &out.to_string_lossy(),
            &path.to_string_lossy(),
        ])
    })
    .await
    .expect("browser");
    s.stop().await;
    db.drop_db().await;
}
