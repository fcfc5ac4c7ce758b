//! `jachai-kiosk verify`: run the pipeline over files and print one report per file (JSON lines or text).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use verify::{Config, DocumentKind, ProgressEvent, Report, Request};

/// Arguments of `jachai-kiosk verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// What the documents are: image, gd, cheque or box.
    #[arg(long, default_value = "image")]
    kind: DocumentKind,
    /// An IMEI the citizen claims (15 digits, ASCII or Bengali); repeat for several.
    #[arg(long = "imei", value_name = "N")]
    imeis: Vec<String>,
    /// Write each input's annotated image (PNG) into this directory.
    #[arg(long, value_name = "DIR")]
    annotate: Option<PathBuf>,
    /// One JSON object per input, one per line, on stdout.
    #[arg(long)]
    json: bool,
    /// Multiply the time budgets of the image check's stages (OCR, text checks, source check)
    /// by this factor: for slow machines and batch re-checks where waiting is fine.
    #[arg(long, value_name = "F", default_value_t = 1.0)]
    stage_budget_scale: f64,
    /// The document images.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// The JSON line for a readable input.
#[derive(Serialize)]
struct JsonReport<'a> {
    file: &'a str,
    #[serde(flatten)]
    report: &'a Report,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotated: Option<String>,
}

/// The JSON line for an unreadable input.
#[derive(Serialize)]
struct JsonError<'a> {
    file: &'a str,
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: String,
}

/// Why one input produced no report.
struct InputError {
    code: &'static str,
    message: String,
}

pub fn run(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let request = Request {
        kind: args.kind,
        imeis: args
            .imeis
            .iter()
            .map(|s| verify::imei::normalize(s).with_context(|| format!("--imei {s}")))
            .collect::<anyhow::Result<_>>()?,
        now_unix: None,
        annotate: args.annotate.is_some(),
    };
    if let Some(dir) = &args.annotate {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating annotation directory {}", dir.display()))?;
    }
    if !(args.stage_budget_scale.is_finite() && args.stage_budget_scale > 0.0) {
        anyhow::bail!(
            "--stage-budget-scale must be a positive number, not {}",
            args.stage_budget_scale
        );
    }
    let mut config = Config::default();
    let budgets = &mut config.scam.budgets;
    for b in [&mut budgets.ocr, &mut budgets.fields, &mut budgets.sources] {
        *b = b.mul_f64(args.stage_budget_scale);
    }
    let bar = progress_bar(args.files.len());
    let stdout = std::io::stdout();
    let mut failures = 0usize;

    for (i, path) in args.files.iter().enumerate() {
        let name = path.display().to_string();
        if let Some(bar) = &bar {
            bar.set_message(name.clone());
        }
        let outcome = verify_file(path, &request, &config, |event| {
            if let Some(bar) = &bar {
                bar.set_position(i as u64 * 100 + u64::from(event.progress()));
            }
        });
        let outcome = outcome.and_then(|report| {
            let annotated = match (&args.annotate, &report.annotated_png) {
                (Some(dir), Some(png)) => Some(write_annotation(dir, path, png)?),
                _ => None,
            };
            Ok((report, annotated))
        });
        let mut out = stdout.lock();
        let written = match &outcome {
            Ok((report, annotated)) => {
                let annotated = annotated.as_ref().map(|p| p.display().to_string());
                if args.json {
                    let line = JsonReport {
                        file: &name,
                        report,
                        annotated,
                    };
                    serde_json::to_writer(&mut out, &line).map_err(std::io::Error::from)?;
                    writeln!(out)
                } else {
                    write_summary(&mut out, &name, report, annotated.as_deref())
                }
            }
            Err(e) => {
                failures += 1;
                if args.json {
                    let line = JsonError {
                        file: &name,
                        error: ErrorBody {
                            code: e.code,
                            message: e.message.clone(),
                        },
                    };
                    serde_json::to_writer(&mut out, &line).map_err(std::io::Error::from)?;
                    writeln!(out)
                } else {
                    writeln!(out, "{name}: error ({}): {}\n", e.code, e.message)
                }
            }
        };
        written.context("writing to stdout")?;
        out.flush().context("writing to stdout")?;
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn verify_file(
    path: &Path,
    request: &Request,
    config: &Config,
    mut on_progress: impl FnMut(&ProgressEvent),
) -> Result<Report, InputError> {
    let bytes = std::fs::read(path).map_err(|e| InputError {
        code: "io_error",
        message: format!("cannot read {}: {e}", path.display()),
    })?;
    let started = std::time::Instant::now();
    let outcome = verify::verify(&bytes, request, config, &mut on_progress);
    let ms = started.elapsed().as_millis();
    match &outcome {
        Ok(r) => {
            tracing::info!(file = %path.display(), verdict = r.verdict.as_str(), risk = r.risk, ms, "verified")
        }
        Err(e) => tracing::info!(file = %path.display(), code = e.code(), error = %e, "refused"),
    }
    outcome.map_err(|e| InputError {
        code: e.code(),
        message: e.to_string(),
    })
}

fn write_annotation(dir: &Path, input: &Path, png: &[u8]) -> Result<PathBuf, InputError> {
    let stem = input
        .file_stem()
        .map_or_else(|| "input".into(), |s| s.to_string_lossy());
    let out = dir.join(format!("{stem}.annotated.png"));
    std::fs::write(&out, png).map_err(|e| InputError {
        code: "io_error",
        message: format!("cannot write {}: {e}", out.display()),
    })?;
    Ok(out)
}

/// A progress bar on stderr, only for batches and only when stderr is a terminal.
fn progress_bar(files: usize) -> Option<ProgressBar> {
    if files < 2 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(files as u64 * 100);
    let style = ProgressStyle::with_template("{bar:40} {percent:>3}% {elapsed} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

fn write_summary(
    out: &mut impl Write,
    name: &str,
    report: &Report,
    annotated: Option<&str>,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{name}: {} (risk {}/100, {}, sha256 {})",
        report.verdict.as_str().to_uppercase(),
        report.risk,
        report.kind.as_str(),
        &report.sha256[..16.min(report.sha256.len())],
    )?;
    if let Some(why) = &report.explanation {
        writeln!(out, "  {}", why.en)?;
        writeln!(out, "  {}", why.bn)?;
    }
    if report.findings.is_empty() {
        writeln!(out, "  no findings")?;
    }
    for f in &report.findings {
        let severity = format!("{:?}", f.severity).to_lowercase();
        writeln!(
            out,
            "  [{severity:>8} +{:>2}] {}: {}",
            f.points, f.code, f.en
        )?;
        for r in &f.regions {
            writeln!(
                out,
                "               at x={} y={} w={} h={}",
                r.x, r.y, r.w, r.h
            )?;
        }
    }
    let fields: Vec<String> = report
        .fields
        .iter()
        .filter(|(k, _)| k.as_str() != "image_hash")
        .map(|(k, v)| format!("{k}={}", v.as_list().join(" ")))
        .collect();
    if !fields.is_empty() {
        writeln!(out, "  fields: {}", fields.join(", "))?;
    }
    for l in &report.located {
        let note = l
            .note
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        writeln!(
            out,
            "  read {} = {} at x={} y={} w={} h={}, confidence {:.2}{note}",
            l.field, l.value, l.region.x, l.region.y, l.region.w, l.region.h, l.confidence
        )?;
    }
    let stages: Vec<String> = report
        .stages
        .iter()
        .map(|s| format!("{} {:?} {}ms", s.name.as_str(), s.status, s.ms).to_lowercase())
        .collect();
    writeln!(out, "  stages: {}", stages.join(", "))?;
    if let Some(path) = annotated {
        writeln!(out, "  annotated: {path}")?;
    }
    writeln!(out)
}
