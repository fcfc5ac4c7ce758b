//! GD benchmark: synthetic Police GD copies from `gdgen` at a held-out seed (never used while
//! tuning), half phone photos, half with Bengali digits. Prints, for Jachai's pipeline and for
//! the earlier system's approach (tesseract CLI `-l ben+eng` on the whole image and a
//! 15-digit regex) in the same run:
//! - IMEI exact extraction on untampered documents (clean + mismatch),
//! - tampered-or-mismatched flagged `review`/`reject`, clean ones `approve`,
//! - median seconds per document.
//!
//! `cargo bench -p jachai-verify --bench gd` (options after `--`: `--count N`, `--seed S`,
//! `--no-baseline`, `--show-misses` (with `--explain`), `--keep DIR`, `--only 3,17` (verify only those
//! documents, to look at them again), and for focused tuning runs `--photo-share F`,
//! `--variants clean=1,paste=1`).

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Instant;

use gdgen::{generate_batch, Label, Options, Rendition, Variant};
use verify::gd::duplicates::MemoryIndex;
use verify::{Config, DocumentKind, Report, Request, Verdict};

/// Held out: this seed was never looked at while tuning (tuning used seeds below 1000).
const HELD_OUT_SEED: u64 = 20_261_122;

struct Args {
    count: usize,
    seed: u64,
    baseline: bool,
    show_misses: bool,
    /// Verify only these document numbers (debugging; the figures then cover only them).
    only: Option<Vec<usize>>,
    /// With `--show-misses`, also each finding's explanation (`--explain`).
    explain: bool,
    /// Also write every generated document and its label here (`--keep DIR`), to look at misses.
    keep: Option<std::path::PathBuf>,
    /// Generator options for focused tuning runs (`--photo-share F`, `--variants SPEC`).
    options: Options,
}

fn args() -> Args {
    let mut a = Args {
        count: 200,
        seed: HELD_OUT_SEED,
        baseline: true,
        show_misses: false,
        only: None,
        explain: false,
        keep: None,
        options: Options::default(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--count" => a.count = it.next().and_then(|v| v.parse().ok()).unwrap_or(a.count),
            "--seed" => a.seed = it.next().and_then(|v| v.parse().ok()).unwrap_or(a.seed),
            "--no-baseline" => a.baseline = false,
            "--show-misses" => a.show_misses = true,
            "--only" => {
                a.only = it
                    .next()
                    .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
            }
            "--explain" => a.explain = true,
            "--keep" => a.keep = it.next().map(std::path::PathBuf::from),
            "--photo-share" => {
                if let Some(v) = it.next().and_then(|v| v.parse().ok()) {
                    a.options.photo_share = v;
                }
            }
            "--variants" => {
                if let Some(v) = it.next().and_then(|v| Options::parse_variants(&v).ok()) {
                    a.options.variants = v;
                }
            }
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    a
}

fn imei_set(v: &[String]) -> BTreeSet<String> {
    v.iter().cloned().collect()
}

/// 15 digits in a row, ASCII or Bengali, as the earlier system's regex found them.
fn regex_imeis(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        match verify::imei::digit_value(c) {
            Some(d) => run.push(char::from(b'0' + d)),
            None => {
                if run.len() == 15 {
                    out.insert(std::mem::take(&mut run));
                }
                run.clear();
            }
        }
    }
    out
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "n/a".to_owned()
    } else {
        format!("{:5.1} % ({n}/{d})", 100.0 * n as f64 / d as f64)
    }
}

struct Row {
    label: Label,
    report: Option<Report>,
    secs: f64,
    baseline: Option<(BTreeSet<String>, f64)>,
}

fn main() {
    // Tesseract's OpenMP reads OMP_THREAD_LIMIT at load time: re-execute once with it set, as
    // the kiosk binary does, so OCR does not oversubscribe the cores.
    if std::env::var_os("OMP_THREAD_LIMIT").is_none() {
        use std::os::unix::process::CommandExt;
        if let Ok(exe) = std::env::current_exe() {
            let err = Command::new(exe)
                .args(std::env::args_os().skip(1))
                .env("OMP_THREAD_LIMIT", "1")
                .exec();
            eprintln!("could not re-execute with OMP_THREAD_LIMIT=1: {err}");
        }
    }
    let a = args();
    let options = a.options.clone();
    let config = Config::default();
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut index = MemoryIndex::new();
    let mut rows = Vec::with_capacity(a.count);
    eprintln!(
        "generating and verifying {} GD copies (seed {}) …",
        a.count, a.seed
    );
    for (i, g) in generate_batch(a.seed, a.count, &options).enumerate() {
        let g = match g {
            Ok(g) => g,
            Err(e) => {
                eprintln!("generator failed: {e}");
                std::process::exit(1);
            }
        };
        if let Some(dir) = &a.keep {
            std::fs::create_dir_all(dir).expect("create --keep folder");
            std::fs::write(dir.join(&g.label.file), &g.bytes).expect("write kept document");
            let label = serde_json::to_string(&g.label).expect("label to JSON");
            std::fs::write(dir.join(format!("{}.json", g.label.file)), label)
                .expect("write kept label");
        }
        if a.only.as_ref().is_some_and(|only| !only.contains(&i)) {
            continue;
        }
        let request = Request {
            kind: DocumentKind::Gd,
            imeis: g.label.typed_imeis.clone(),
            now_unix: None,
            annotate: false,
        };
        let started = Instant::now();
        let report = verify::verify_with(&g.bytes, &request, &config, &index, &mut ()).ok();
        let secs = started.elapsed().as_secs_f64();
        if let Some(r) = &report {
            index.record(&g.label.file, r);
        }
        let baseline = a.baseline.then(|| {
            let path = tmp.path().join(&g.label.file);
            std::fs::write(&path, &g.bytes).expect("write temp file");
            let started = Instant::now();
            let out = Command::new("tesseract")
                .arg(&path)
                .arg("-")
                .args(["-l", "ben+eng"])
                .output();
            let secs = started.elapsed().as_secs_f64();
            let text = out
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            let _ = std::fs::remove_file(&path);
            (regex_imeis(&text), secs)
        });
        if (i + 1) % 20 == 0 {
            eprintln!("  {} done", i + 1);
        }
        rows.push(Row {
            label: g.label,
            report,
            secs,
            baseline,
        });
    }

    let untampered: Vec<&Row> = rows
        .iter()
        .filter(|r| matches!(r.label.variant, Variant::Clean | Variant::Mismatch))
        .collect();
    let doc_imeis = |r: &Row| -> BTreeSet<String> {
        r.report
            .as_ref()
            .and_then(|rep| rep.fields.get("imeis"))
            .map(|v| v.as_list().into_iter().map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let exact = untampered
        .iter()
        .filter(|r| doc_imeis(r) == imei_set(&r.label.document_imeis))
        .count();
    let base_exact = untampered
        .iter()
        .filter(|r| {
            r.baseline
                .as_ref()
                .is_some_and(|(s, _)| *s == imei_set(&r.label.document_imeis))
        })
        .count();
    let verdict = |r: &Row| r.report.as_ref().map(|rep| rep.verdict);
    let bad: Vec<&Row> = rows
        .iter()
        .filter(|r| r.label.variant != Variant::Clean)
        .collect();
    let flagged = bad
        .iter()
        .filter(|r| matches!(verdict(r), Some(Verdict::Review | Verdict::Reject) | None))
        .count();
    let clean: Vec<&Row> = rows
        .iter()
        .filter(|r| r.label.variant == Variant::Clean)
        .collect();
    let approved = clean
        .iter()
        .filter(|r| verdict(r) == Some(Verdict::Approve))
        .count();
    let mut secs: Vec<f64> = rows.iter().map(|r| r.secs).collect();
    let mut base_secs: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.baseline.as_ref().map(|b| b.1))
        .collect();

    println!();
    println!(
        "GD benchmark: {} generated documents, seed {} (held out)",
        rows.len(),
        a.seed
    );
    let photos = rows
        .iter()
        .filter(|r| r.label.rendition == Rendition::Photo)
        .count();
    let bengali = rows
        .iter()
        .filter(|r| r.label.digits == gdgen::Digits::Bengali)
        .count();
    println!(
        "  mix: {photos} phone photos, {bengali} with Bengali digits; {} clean, {} mismatch, {} paste, {} clone",
        clean.len(),
        rows.iter().filter(|r| r.label.variant == Variant::Mismatch).count(),
        rows.iter().filter(|r| r.label.variant == Variant::Paste).count(),
        rows.iter().filter(|r| r.label.variant == Variant::Clone).count(),
    );
    println!();
    println!("                                         Jachai                 earlier (tesseract CLI + regex)");
    println!(
        "  IMEI exact extraction (untampered)     {:<22} {}",
        pct(exact, untampered.len()),
        if a.baseline {
            pct(base_exact, untampered.len())
        } else {
            "skipped".into()
        }
    );
    println!(
        "  tampered/mismatched flagged            {:<22} n/a (no verdict)",
        pct(flagged, bad.len())
    );
    println!(
        "  clean approved                         {}",
        pct(approved, clean.len())
    );
    println!(
        "  median seconds per document            {:<22.3} {}",
        median(&mut secs),
        if a.baseline {
            format!("{:.3}", median(&mut base_secs))
        } else {
            "skipped".into()
        }
    );
    for variant in [Variant::Mismatch, Variant::Paste, Variant::Clone] {
        let of: Vec<&&Row> = bad.iter().filter(|r| r.label.variant == variant).collect();
        let hit = of
            .iter()
            .filter(|r| matches!(verdict(r), Some(Verdict::Review | Verdict::Reject) | None))
            .count();
        println!("    {variant:?} flagged: {}", pct(hit, of.len()));
    }
    for rendition in [Rendition::Scan, Rendition::Photo] {
        let of: Vec<&&Row> = untampered
            .iter()
            .filter(|r| r.label.rendition == rendition)
            .collect();
        let hit = of
            .iter()
            .filter(|r| doc_imeis(r) == imei_set(&r.label.document_imeis))
            .count();
        println!("    IMEI exact on {rendition:?}: {}", pct(hit, of.len()));
    }
    if a.show_misses {
        println!();
        for r in &rows {
            let v = verdict(r);
            let wrong_imei = matches!(r.label.variant, Variant::Clean | Variant::Mismatch)
                && doc_imeis(r) != imei_set(&r.label.document_imeis);
            let wrong_verdict = match r.label.variant {
                Variant::Clean => v != Some(Verdict::Approve),
                _ => v == Some(Verdict::Approve),
            };
            if wrong_imei || wrong_verdict {
                let codes: Vec<String> = r
                    .report
                    .as_ref()
                    .map(|rep| {
                        rep.findings
                            .iter()
                            .filter(|f| f.points > 0)
                            .map(|f| {
                                if a.explain {
                                    format!("{}+{} ({})", f.code, f.points, f.en)
                                } else {
                                    format!("{}+{}", f.code, f.points)
                                }
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                println!(
                    "  {} {:?} {:?} verdict {:?} imeis {:?} want {:?} findings {}",
                    r.label.file,
                    r.label.variant,
                    r.label.rendition,
                    v,
                    doc_imeis(r),
                    r.label.document_imeis,
                    codes.join(" ")
                );
            }
        }
    }
}
