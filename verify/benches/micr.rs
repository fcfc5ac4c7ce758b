//! MICR bench: line-exact rate and seconds per line on `../shared/data/e13b/lines`, for Jachai's
//! reader and, in the same run on the same lines, for plain `tesseract IMG - -l e13b --psm 7`
//! (the CLI on the raw line, tessdata from `models/e13b/`) and the same model called in-process
//! on the raw line.
//!
//! Jachai's reader is measured held out: its glyph model is trained per fold. Lines are split
//! into two folds by a hash of their file name; a line is read with the model trained on the
//! other fold only. (The shipped model, `verify/data/e13b-glyphs.bin`, learnt from all lines and
//! is not measured here.)
//!
//! Comparison ignores whitespace: the transcript alphabet has no space (some transcripts of
//! generated lines contain spaces, which the printed line does not show).
//!
//! `cargo bench -p jachai-verify --bench micr` (options after `--`: `--limit N` lines, spread
//! over the set, default all; `--show-misses`; `--no-baseline`; `--tesseract-alone` (Jachai's
//! tesseract read without the glyph model); `--sweep`
//! tries arbiter settings on the same reads; `--variants` compares ways of showing a line to
//! tesseract and confidence-based retry policies).

#[path = "micr_data.rs"]
mod micr_data;

use std::process::Command;
use std::time::Instant;

use verify::cheque::micr::{plain_tesseract, Arbiter, MicrConfig, MicrReader};

struct Args {
    limit: usize,
    show_misses: bool,
    baseline: bool,
    sweep: bool,
    variants: bool,
    tesseract_alone: bool,
}

fn args() -> Args {
    let mut a = Args {
        limit: usize::MAX,
        show_misses: false,
        baseline: true,
        sweep: false,
        variants: false,
        tesseract_alone: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--limit" => a.limit = it.next().and_then(|v| v.parse().ok()).unwrap_or(a.limit),
            "--show-misses" => a.show_misses = true,
            "--no-baseline" => a.baseline = false,
            "--sweep" => a.sweep = true,
            "--variants" => a.variants = true,
            "--tesseract-alone" => a.tesseract_alone = true,
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    a
}

#[derive(Default)]
struct Tally {
    exact: usize,
    n: usize,
    secs: f64,
    real_exact: usize,
    real_n: usize,
}

impl Tally {
    fn add(&mut self, ok: bool, secs: f64, real: bool) {
        self.n += 1;
        self.exact += usize::from(ok);
        self.secs += secs;
        if real {
            self.real_n += 1;
            self.real_exact += usize::from(ok);
        }
    }

    fn row(&self, name: &str) {
        let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
        println!(
            "{name:<44} {:>5}/{:<5} {:>6.2} %   real-life {:>5}/{:<5} {:>6.2} %   {:.4} s/line",
            self.exact,
            self.n,
            pct(self.exact, self.n),
            self.real_exact,
            self.real_n,
            pct(self.real_exact, self.real_n),
            self.secs / self.n.max(1) as f64
        );
    }
}

fn cli_tesseract(path: &std::path::Path, tessdata: &std::path::Path) -> String {
    let out = Command::new("tesseract")
        .arg(path)
        .arg("-")
        .arg("--tessdata-dir")
        .arg(tessdata)
        .args(["-l", "e13b", "--psm", "7"])
        .output();
    match out {
        Ok(o) => String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .collect(),
        Err(e) => {
            eprintln!("tesseract CLI failed: {e}");
            String::new()
        }
    }
}

fn main() {
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
    let dir = micr_data::data_dir().join("e13b/lines");
    let lines = micr_data::lines(&dir).expect("the e13b lines folder is readable");
    assert!(!lines.is_empty(), "no lines in {}", dir.display());
    // Spread the sample over the set (by name hash, so both kinds of line are in it).
    let mut order: Vec<&micr_data::Line> = lines.iter().collect();
    order.sort_by_key(|l| micr_data::fold(&l.name, u64::MAX));
    order.truncate(a.limit);
    order.sort_by(|x, y| x.name.cmp(&y.name));

    let config = MicrConfig::default();
    if a.variants {
        variants(&order, &config);
        return;
    }
    // Tesseract alone, as Jachai calls it (band, whitelist, in-process): the reader without
    // a glyph model.
    let tess_only = MicrReader::with_classifier(config.clone(), None).expect("models/e13b present");
    // Jachai's reader with the glyph model trained on the other fold only (the shipped model,
    // `verify/data/e13b-glyphs.bin`, learnt from all lines and is not measured here).
    eprintln!(
        "training the glyph model per fold on {} lines …",
        lines.len()
    );
    let mut readers: Vec<MicrReader> = Vec::new();
    for f in 0..2 {
        let train: Vec<&micr_data::Line> = lines
            .iter()
            .filter(|l| micr_data::fold(&l.name, 2) != f)
            .collect();
        let (model, used, glyphs) = micr_data::train(&train, config.target_height);
        eprintln!(
            "fold {f}: trained on {} lines ({used} cut cleanly, {glyphs} glyphs)",
            train.len()
        );
        readers.push(
            MicrReader::with_classifier(config.clone(), Some(model)).expect("models/e13b present"),
        );
    }

    eprintln!("reading {} lines …", order.len());
    let (mut cli, mut plain, mut jachai, mut alone) = (
        Tally::default(),
        Tally::default(),
        Tally::default(),
        Tally::default(),
    );
    let mut misses = Vec::new();
    let mut parts = Vec::new();
    for line in &order {
        let real = line.name.starts_with("reallife");
        if a.baseline {
            let t = Instant::now();
            let got = cli_tesseract(&line.path, &config.tessdata);
            cli.add(got == line.truth, t.elapsed().as_secs_f64(), real);

            let t = Instant::now();
            let got = micr_data::load(&line.path)
                .ok()
                .and_then(|g| plain_tesseract(&g, &config.tessdata).ok())
                .unwrap_or_default();
            plain.add(got == line.truth, t.elapsed().as_secs_f64(), real);
        }

        if a.tesseract_alone {
            let t = Instant::now();
            let raw = micr_data::load(&line.path)
                .ok()
                .and_then(|g| tess_only.read_line(&g).ok())
                .map(|r| r.raw)
                .unwrap_or_default();
            alone.add(raw == line.truth, t.elapsed().as_secs_f64(), real);
        }

        let reader = &readers[micr_data::fold(&line.name, 2) as usize];
        let t = Instant::now();
        let read = micr_data::load(&line.path)
            .ok()
            .and_then(|g| reader.read_parts(&g).ok().flatten());
        let raw = read
            .as_ref()
            .map(|p| reader.finish(p, &config.arbiter).raw)
            .unwrap_or_default();
        jachai.add(raw == line.truth, t.elapsed().as_secs_f64(), real);
        if raw != line.truth {
            let tess: String = read
                .as_ref()
                .map(|p| p.tesseract.iter().map(|c| char::from(c.ch)).collect())
                .unwrap_or_default();
            misses.push((line.name.clone(), line.truth.clone(), raw, tess));
        }
        if a.sweep {
            parts.push((line, read));
        }
    }

    println!(
        "MICR E-13B lines: {} of {} in {} (line-exact, whitespace ignored)",
        order.len(),
        lines.len(),
        dir.display()
    );
    if a.baseline {
        cli.row("tesseract CLI -l e13b --psm 7, raw line");
        plain.row("tesseract e13b in-process, raw line");
    }
    if a.tesseract_alone {
        alone.row("Jachai's tesseract read alone (no glyph model)");
    }
    jachai.row("Jachai (tesseract + glyph model, held out)");

    if a.sweep && !parts.is_empty() {
        let mut best = (0usize, Arbiter::default());
        for mr in [1.5f32, 2.0, 2.5, 3.0, 4.0, f32::INFINITY] {
            for mu in [1.1f32, 1.3, 1.6, 2.0] {
                for cu in [0.9f32, 0.95, 0.97, 0.99] {
                    for mi in [2.0f32, 3.0, 4.0, 6.0, f32::INFINITY] {
                        let arb = Arbiter {
                            margin_replace: mr,
                            margin_replace_unsure: mu,
                            conf_unsure: cu,
                            margin_insert: mi,
                            ..Arbiter::default()
                        };
                        let exact = parts
                            .iter()
                            .filter(|(line, read)| {
                                let fold = micr_data::fold(&line.name, 2) as usize;
                                read.as_ref().is_some_and(|p| {
                                    readers[fold].finish(p, &arb).raw == line.truth
                                })
                            })
                            .count();
                        if exact > best.0 {
                            best = (exact, arb);
                        }
                    }
                }
            }
        }
        println!("sweep: best {} / {} with {:?}", best.0, parts.len(), best.1);
    }

    if a.show_misses {
        println!("misses (file, truth, Jachai, tesseract alone):");
        for (name, truth, raw, tess) in &misses {
            println!("{name}\t{truth}\t{raw}\t{tess}");
        }
    }
}

/// Every [`Variant`] on every line: exact rate per variant, the oracle over variants, and
/// retry policies (first variant; when its lowest character confidence is below `t`, the read
/// with the highest lowest-confidence among the variants wins).
fn variants(order: &[&micr_data::Line], config: &MicrConfig) {
    use verify::cheque::micr::{min_conf, read_variant, Variant};
    let mut table: Vec<(bool, Vec<(String, f32)>)> = Vec::new();
    let mut secs = vec![0f64; Variant::ALL.len()];
    for line in order {
        let Ok(gray) = micr_data::load(&line.path) else {
            continue;
        };
        let mut row = Vec::new();
        for (i, v) in Variant::ALL.iter().enumerate() {
            let t = Instant::now();
            let chars =
                read_variant(&gray, *v, &config.tessdata, config.target_height).unwrap_or_default();
            secs[i] += t.elapsed().as_secs_f64();
            let s: String = chars.iter().map(|c| char::from(c.ch)).collect();
            row.push((s, min_conf(&chars)));
        }
        let ok: Vec<bool> = row.iter().map(|(s, _)| *s == line.truth).collect();
        if ok.iter().any(|&o| !o) {
            println!("{}\t{}\t{:?}", line.name, line.truth, row);
        }
        table.push((line.name.starts_with("reallife"), row));
        let _ = ok;
    }
    let n = table.len().max(1) as f64;
    let truth: Vec<&str> = order.iter().map(|l| l.truth.as_str()).collect();
    for (i, v) in Variant::ALL.iter().enumerate() {
        let exact = table
            .iter()
            .zip(&truth)
            .filter(|((_, r), t)| r[i].0 == **t)
            .count();
        println!(
            "{:<10} {exact}/{} {:.2} % {:.4} s/line",
            v.as_str(),
            table.len(),
            100.0 * exact as f64 / n,
            secs[i] / n
        );
    }
    let oracle = table
        .iter()
        .zip(&truth)
        .filter(|((_, r), t)| r.iter().any(|(s, _)| s == **t))
        .count();
    println!("oracle {oracle}/{}", table.len());
    for first in 0..2 {
        for subset in 1u32..(1 << Variant::ALL.len()) {
            for t in [0.9f32, 0.95, 0.97, 0.98, 0.99, 1.01] {
                let mut exact = 0;
                let mut retries = 0;
                for ((_, r), truth) in table.iter().zip(&truth) {
                    let mut best = &r[first];
                    if r[first].1 < t {
                        retries += 1;
                        for (j, cand) in r.iter().enumerate() {
                            if subset & (1 << j) != 0 && cand.1 > best.1 {
                                best = cand;
                            }
                        }
                    }
                    exact += usize::from(best.0 == *truth);
                }
                println!(
                    "policy first={} subset={subset:05b} t={t}: {exact} ({retries} retries)",
                    Variant::ALL[first].as_str()
                );
            }
        }
    }
}
