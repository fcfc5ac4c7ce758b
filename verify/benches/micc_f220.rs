//! MICC-F220 copy-move benchmark: the full pipeline on every listed image, image-level TPR/FPR
//! and time per image, for the default configuration and for the baseline without dense
//! verification.
//!
//! `cargo bench -p jachai-verify --bench micc_f220 [-- DATA_DIR]`; the data directory may also
//! be given as `MICC_F220_DIR`, and defaults to `micc-f220` under `JACHAI_SHARED_DATA` or the
//! repository's `../shared/data`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use verify::{Config, Request, Stage};

/// One labelled image.
struct Item {
    name: String,
    tampered: bool,
    bytes: Vec<u8>,
}

/// What one configuration did on the whole set.
struct Outcome {
    label: &'static str,
    tp: usize,
    fp: usize,
    positives: usize,
    negatives: usize,
    seconds: Vec<f64>,
    stage_ms: Vec<f64>,
    missed: Vec<String>,
    false_alarms: Vec<String>,
    errors: Vec<String>,
}

fn data_dir() -> PathBuf {
    if let Some(arg) = std::env::args().skip(1).find(|a| !a.starts_with('-')) {
        return PathBuf::from(arg);
    }
    if let Ok(dir) = std::env::var("MICC_F220_DIR") {
        return PathBuf::from(dir);
    }
    let shared = std::env::var("JACHAI_SHARED_DATA").map_or_else(
        |_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")),
        PathBuf::from,
    );
    shared.join("micc-f220")
}

fn load(dir: &Path) -> Result<Vec<Item>, String> {
    let list = dir.join("groundtruthDB_220.txt");
    let text = std::fs::read_to_string(&list)
        .map_err(|e| format!("cannot read {}: {e}", list.display()))?;
    let mut items = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut parts = line.split(',');
        let name = parts.next().unwrap_or_default().trim().to_owned();
        let tampered = parts.next().map(str::trim) == Some("1");
        let bytes =
            std::fs::read(dir.join(&name)).map_err(|e| format!("cannot read {name}: {e}"))?;
        items.push(Item {
            name,
            tampered,
            bytes,
        });
    }
    Ok(items)
}

fn run(label: &'static str, items: &[Item], config: &Config) -> Outcome {
    let mut out = Outcome {
        label,
        tp: 0,
        fp: 0,
        positives: 0,
        negatives: 0,
        seconds: Vec::new(),
        stage_ms: Vec::new(),
        missed: Vec::new(),
        false_alarms: Vec::new(),
        errors: Vec::new(),
    };
    for item in items {
        if item.tampered {
            out.positives += 1;
        } else {
            out.negatives += 1;
        }
        let started = Instant::now();
        let report = verify::verify(&item.bytes, &Request::default(), config, &mut ());
        out.seconds.push(started.elapsed().as_secs_f64());
        let report = match report {
            Ok(r) => r,
            Err(e) => {
                out.errors.push(format!("{}: {e}", item.name));
                continue;
            }
        };
        if let Some(s) = report.stages.iter().find(|s| s.name == Stage::CopyMove) {
            out.stage_ms.push(s.ms as f64);
        }
        let detected = report.findings.iter().any(|f| f.code == "copy_move");
        match (item.tampered, detected) {
            (true, true) => out.tp += 1,
            (true, false) => out.missed.push(item.name.clone()),
            (false, true) => {
                out.fp += 1;
                out.false_alarms.push(item.name.clone());
            }
            (false, false) => {}
        }
    }
    out
}

/// The `q` quantile (0–1) of `v`, nearest rank.
fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len());
    s[rank - 1]
}

fn pct(n: usize, d: usize) -> f64 {
    if d == 0 {
        f64::NAN
    } else {
        100.0 * n as f64 / d as f64
    }
}

fn print(o: &Outcome) {
    let mean = o.seconds.iter().sum::<f64>() / o.seconds.len().max(1) as f64;
    println!("== {} ==", o.label);
    println!(
        "TPR {:.1} % ({}/{})   FPR {:.1} % ({}/{})",
        pct(o.tp, o.positives),
        o.tp,
        o.positives,
        pct(o.fp, o.negatives),
        o.fp,
        o.negatives
    );
    println!(
        "full pipeline s/image: median {:.3}  mean {:.3}  p95 {:.3}   copy_move stage median {:.0} ms",
        quantile(&o.seconds, 0.5),
        mean,
        quantile(&o.seconds, 0.95),
        quantile(&o.stage_ms, 0.5)
    );
    println!("missed ({}): {}", o.missed.len(), o.missed.join(" "));
    println!(
        "false alarms ({}): {}",
        o.false_alarms.len(),
        o.false_alarms.join(" ")
    );
    if !o.errors.is_empty() {
        println!("unreadable ({}): {}", o.errors.len(), o.errors.join("; "));
    }
    println!();
}

fn main() -> ExitCode {
    let dir = data_dir();
    let items = match load(&dir) {
        Ok(items) => items,
        Err(e) => {
            eprintln!("micc_f220: {e} (pass the data directory as an argument or MICC_F220_DIR)");
            return ExitCode::FAILURE;
        }
    };
    println!("MICC-F220 at {} ({} images)\n", dir.display(), items.len());

    let full = Config::default();
    let mut baseline = Config::default();
    baseline.copy_move.dense_verification = false;

    let ours = run("copy_move with dense verification (default)", &items, &full);
    print(&ours);
    let base = run(
        "baseline: same keypoint method, dense verification off",
        &items,
        &baseline,
    );
    print(&base);
    println!(
        "dense verification: TPR {:+.1} points, FPR {:+.1} points",
        pct(ours.tp, ours.positives) - pct(base.tp, base.positives),
        pct(ours.fp, ours.negatives) - pct(base.fp, base.negatives)
    );
    ExitCode::SUCCESS
}
