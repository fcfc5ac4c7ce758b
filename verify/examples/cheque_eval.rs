//! Evaluate the cheque fraud score on held-out generated cheques (seed 2 by default; the model
//! is trained on seed 1) or on a folder with `labels.jsonl`: every cheque runs through the
//! whole pipeline with the model (tract); prints ROC AUC of the model and, in the same run, of
//! the rule-based score, the confusion matrices, and the model's inference time per cheque.
//!
//! `cargo run --release -p jachai-verify --example cheque_eval -- [--seed 2] [--count 300] [--dir DIR] [--model PATH] [--csv OUT]`

#[path = "support/cheque.rs"]
mod common;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use rayon::prelude::*;
use verify::cheque::fraud::{self, FraudModel};
use verify::FieldValue;

/// ROC AUC: the probability that a random fraud scores above a random clean cheque (ties
/// count half).
fn auc(scores: &[(f32, bool)]) -> f64 {
    let pos: Vec<f32> = scores.iter().filter(|s| s.1).map(|s| s.0).collect();
    let neg: Vec<f32> = scores.iter().filter(|s| !s.1).map(|s| s.0).collect();
    if pos.is_empty() || neg.is_empty() {
        return f64::NAN;
    }
    let mut wins = 0.0;
    for p in &pos {
        for n in &neg {
            wins += if p > n {
                1.0
            } else if p == n {
                0.5
            } else {
                0.0
            };
        }
    }
    wins / (pos.len() * neg.len()) as f64
}

/// Fraud?, variant, risk (model), risk (rules), features, inference µs.
type Outcome = (
    bool,
    String,
    u32,
    u32,
    [f32; fraud::N_FEATURES],
    Option<u64>,
);

fn matrix(title: &str, rows: &[(bool, u32)]) {
    println!("{title}");
    println!(
        "  {:<12} {:>10} {:>10} {:>10}",
        "actual", "legitimate", "suspicious", "fraudulent"
    );
    for (name, actual) in [("clean", false), ("fraud", true)] {
        let count = |lo: u32, hi: u32| {
            rows.iter()
                .filter(|(a, r)| *a == actual && *r >= lo && *r < hi)
                .count()
        };
        println!(
            "  {:<12} {:>10} {:>10} {:>10}",
            name,
            count(0, fraud::THRESHOLDS.review),
            count(fraud::THRESHOLDS.review, fraud::THRESHOLDS.reject),
            count(fraud::THRESHOLDS.reject, 1000)
        );
    }
}

#[derive(Parser)]
#[command(about = "Evaluate the cheque fraud score on held-out generated cheques")]
struct Args {
    /// Generator seed (held out: the model is trained on 1).
    #[arg(long, default_value_t = 2)]
    seed: u64,
    /// How many cheques.
    #[arg(long, default_value_t = 300)]
    count: usize,
    /// Read cheques and `labels.jsonl` from this folder instead of generating them.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Also write each cheque's scores and features to this CSV.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// The ONNX model to evaluate (default: the one the pipeline ships with).
    #[arg(long)]
    model: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let Args {
        seed,
        count,
        dir,
        csv,
        model,
    } = Args::parse();
    let mut config = verify::Config::default();
    if let Some(m) = model {
        config.cheque.fraud_model = Some(m);
    }
    let model_path = config
        .cheque
        .fraud_model
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no model path"))?;
    let model = FraudModel::load(&model_path)?;
    let cases = match &dir {
        Some(d) => common::from_dir(d)?,
        None => common::generated(seed, 0, count)?,
    };
    let started = Instant::now();
    let results: Vec<Outcome> = cases
        .par_iter()
        .map(|c| -> anyhow::Result<_> {
            let r = common::run(c, &config)?;
            let x = fraud::features(&r.findings, &r.fields, &r.located);
            let rules = verify::score::risk(&r.findings);
            let us = match r.fields.get("fraud") {
                Some(FieldValue::Map(m)) => {
                    if m.get("source").map(String::as_str) != Some("model") {
                        anyhow::bail!("{}: the model did not run: {m:?}", c.name);
                    }
                    m.get("inference_us").and_then(|v| v.parse().ok())
                }
                _ => None,
            };
            Ok((c.fraud, c.variant.clone(), r.risk, rules, x, us))
        })
        .collect::<anyhow::Result<_>>()?;
    let wall = started.elapsed().as_secs_f64();
    if let Some(path) = &csv {
        // The held-out vectors, in the feature dump's format (for the model card's Python check).
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
        writeln!(
            w,
            "name,variant,fraud,rule_risk,{}",
            fraud::FEATURES.join(",")
        )?;
        for (c, r) in cases.iter().zip(&results) {
            let xs: Vec<String> = r.4.iter().map(|v| format!("{v:.5}")).collect();
            writeln!(
                w,
                "{},{},{},{},{}",
                c.name,
                r.1,
                u8::from(r.0),
                r.3,
                xs.join(",")
            )?;
        }
    }
    let n = results.len();
    let frauds = results.iter().filter(|r| r.0).count();
    println!(
        "{n} held-out cheques ({frauds} fraud, {} clean){}, pipeline {:.2} s/cheque wall (2 threads)",
        n - frauds,
        dir.as_ref()
            .map_or(format!(" from generator seed {seed}"), |d| format!(" from {}", d.display())),
        wall / n.max(1) as f64
    );
    let model_scores: Vec<(f32, bool)> = results.iter().map(|r| (r.2 as f32, r.0)).collect();
    // The model's own probability, for a tie-free AUC.
    let probs: Vec<(f32, bool)> = results
        .iter()
        .map(|r| Ok((model.probability(&r.4)?, r.0)))
        .collect::<Result<_, fraud::ModelError>>()?;
    let rule_scores: Vec<(f32, bool)> = results.iter().map(|r| (r.3 as f32, r.0)).collect();
    println!("ROC AUC  model (tract, probability) {:.4}", auc(&probs));
    println!(
        "ROC AUC  model (risk 0-100)         {:.4}",
        auc(&model_scores)
    );
    println!(
        "ROC AUC  rule-based score           {:.4}",
        auc(&rule_scores)
    );
    let model_rows: Vec<(bool, u32)> = results.iter().map(|r| (r.0, r.2)).collect();
    let rule_rows: Vec<(bool, u32)> = results.iter().map(|r| (r.0, r.3.min(100))).collect();
    matrix(
        "confusion matrix, model (verdict approve / review / reject):",
        &model_rows,
    );
    matrix("confusion matrix, rule-based score:", &rule_rows);
    let mut variants: Vec<String> = results.iter().map(|r| r.1.clone()).collect();
    variants.sort();
    variants.dedup();
    println!("per variant (model): n, mean risk, share >= 30, share >= 60");
    for v in variants {
        let rs: Vec<u32> = results.iter().filter(|r| r.1 == v).map(|r| r.2).collect();
        let k = rs.len().max(1) as f64;
        println!(
            "  {v:<18} {:>4} {:>6.1} {:>6.2} {:>6.2}",
            rs.len(),
            rs.iter().map(|&r| f64::from(r)).sum::<f64>() / k,
            rs.iter().filter(|&&r| r >= 30).count() as f64 / k,
            rs.iter().filter(|&&r| r >= 60).count() as f64 / k
        );
    }
    let mut us: Vec<u64> = results.iter().filter_map(|r| r.5).collect();
    us.sort_unstable();
    if !us.is_empty() {
        println!(
            "model inference in the pipeline: median {} us, p95 {} us, max {} us per cheque",
            us[us.len() / 2],
            us[us.len() * 95 / 100],
            us[us.len() - 1]
        );
    }
    // Inference alone, measured in a loop over the held-out vectors.
    let reps = 20;
    let t = Instant::now();
    for _ in 0..reps {
        for r in &results {
            std::hint::black_box(model.probability(&r.4)?);
        }
    }
    println!(
        "model inference alone: {:.1} us per cheque ({} calls)",
        t.elapsed().as_secs_f64() * 1e6 / (reps * n.max(1)) as f64,
        reps * n
    );
    Ok(())
}
