//! The `jachai-kiosk verify` contract that other tools rely on: JSON lines, error objects, exit codes;
//! and the manual page.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn shared_data() -> PathBuf {
    std::env::var_os("JACHAI_SHARED_DATA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
        PathBuf::from,
    )
}

fn kiosk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jachai-kiosk"))
        .args(args)
        .env("RUST_LOG", "off")
        .output()
        .expect("jachai-kiosk runs")
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each stdout line is one JSON object"))
        .collect()
}

fn data(rel: &str) -> String {
    shared_data().join(rel).display().to_string()
}

#[test]
fn json_contract_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let random = dir.path().join("random.jpg");
    std::fs::write(
        &random,
        (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect::<Vec<u8>>(),
    )
    .expect("write");
    let files = [
        data("micc-f220/CRW_4853tamp1.jpg"),
        data("exif-samples/jpg/Canon_PowerShot_S40.jpg"),
        data("exif-samples/jpg/invalid/image01088.jpg"),
        data("pngsuite/xcrn0g04.png"),
        random.display().to_string(),
    ];
    // Generous stage budgets: the contract must not depend on how loaded the machine is.
    let mut args = vec!["verify", "--json", "--stage-budget-scale", "20"];
    args.extend(files.iter().map(String::as_str));
    let out = kiosk(&args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unreadable input makes the exit code 2"
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), files.len(), "one line per input, in order");
    for (line, file) in lines.iter().zip(&files) {
        assert_eq!(line["file"], Value::from(file.as_str()));
    }
    insta::assert_json_snapshot!(lines, {
        "[].file" => "[file]",
        "[].stages[].ms" => "[ms]",
    });
}

#[test]
fn every_report_has_the_contract_keys() {
    let out = kiosk(&["verify", "--json", &data("micc-f220/CRW_4853_scale.jpg")]);
    assert_eq!(out.status.code(), Some(0));
    let lines = json_lines(&out);
    let report = &lines[0];
    for key in [
        "file", "sha256", "kind", "verdict", "risk", "findings", "fields", "stages",
    ] {
        assert!(report.get(key).is_some(), "missing {key} in {report}");
    }
    assert_eq!(report["kind"], "image");
    assert!(["approve", "review", "reject"].contains(&report["verdict"].as_str().unwrap_or("")));
    for f in report["findings"].as_array().expect("findings is an array") {
        for key in ["code", "stage", "severity", "points", "regions", "en", "bn"] {
            assert!(f.get(key).is_some(), "missing {key} in finding {f}");
        }
    }
    for s in report["stages"].as_array().expect("stages is an array") {
        for key in ["name", "status", "ms"] {
            assert!(s.get(key).is_some(), "missing {key} in stage {s}");
        }
    }
}

#[test]
fn unreadable_inputs_give_error_objects_and_the_batch_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let jpeg = std::fs::read(data("micc-f220/CRW_4853_scale.jpg")).expect("sample");
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("empty.jpg", Vec::new(), "empty_input"),
        ("doc.pdf", b"%PDF-1.4\n%....".to_vec(), "unsupported_format"),
        ("half.jpg", jpeg[..jpeg.len() / 2].to_vec(), "truncated"),
        ("missing.jpg", Vec::new(), "io_error"),
    ];
    let mut args = vec!["verify".to_owned(), "--json".to_owned()];
    for (name, bytes, _) in &cases {
        let path = dir.path().join(name);
        if *name != "missing.jpg" {
            std::fs::write(&path, bytes).expect("write");
        }
        args.push(path.display().to_string());
    }
    args.push(data("micc-f220/CRW_4853_scale.jpg"));
    let out = kiosk(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(2));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), cases.len() + 1);
    for (line, (name, _, code)) in lines.iter().zip(&cases) {
        assert_eq!(line["error"]["code"], *code, "{name}: {line}");
        assert!(line["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    assert!(
        lines[cases.len()]["verdict"].is_string(),
        "the good file after the bad ones still runs"
    );
}

#[test]
fn readable_summary_and_annotations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ann = dir.path().join("annotated");
    let out = kiosk(&[
        "verify",
        "--annotate",
        &ann.display().to_string(),
        &data("micc-f220/CRW_4853tamp1.jpg"),
        &data("pngsuite/basn2c08.png"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("CRW_4853tamp1.jpg: "), "{text}");
    assert!(text.contains("risk "), "{text}");
    assert!(text.contains("stages: intake ok"), "{text}");
    for stem in ["CRW_4853tamp1", "basn2c08"] {
        let png = std::fs::read(ann.join(format!("{stem}.annotated.png"))).expect("annotated file");
        image::load_from_memory(&png).expect("a PNG");
    }
}

#[test]
fn bad_arguments_are_refused_clearly() {
    let file = data("micc-f220/CRW_4853_scale.jpg");
    for (args, needle) in [
        (
            vec!["verify", "--imei", "490154203237519", &file],
            "check digit",
        ),
        (vec!["verify", "--imei", "12345", &file], "15 digits"),
        (vec!["verify", "--kind", "passport", &file], "passport"),
        (
            vec!["verify", "--stage-budget-scale", "0", &file],
            "positive",
        ),
        (vec!["verify"], "FILE"),
    ] {
        let out = kiosk(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
    let out = kiosk(&[
        "verify",
        "--kind",
        "gd",
        "--imei",
        "৪৯০১৫৪২০৩২৩৭৫১৮",
        "--json",
        &file,
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_lines(&out)[0]["kind"], "gd");
}

#[test]
fn the_manual_page_covers_the_options_and_subcommands() {
    let exe = Path::new(env!("CARGO_BIN_EXE_jachai-kiosk"));
    let mentions = [
        "\\-\\-config",
        "jachai\\-kiosk\\-verify(1)",
        "jachai\\-kiosk\\-doctor(1)",
    ];
    jachai_testkit::check_man_page(exe, "jachai-kiosk", &mentions).expect("manual page");
}
