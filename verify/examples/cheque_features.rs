//! Dump the cheque fraud feature vector of generated cheques (the training data of
//! `models/train_cheque_fraud.py`): every cheque runs through the real pipeline (MICR, OCR,
//! forensics, security features), the vector is read off the report.
//!
//! `cargo run --release -p jachai-verify --example cheque_features -- --seed 1 --count 900 --out features.csv`
//! (`--dir DIR` reads cheques and `labels.jsonl` from a folder instead.)

#[path = "support/cheque.rs"]
mod common;

use std::io::Write;
use std::path::PathBuf;

use clap::Parser;

use verify::cheque::fraud;

#[derive(Parser)]
#[command(about = "Dump the cheque fraud feature vector of generated cheques")]
struct Args {
    /// Generator seed (the model is trained on 1).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many cheques.
    #[arg(long, default_value_t = 100)]
    count: usize,
    /// First cheque of the batch.
    #[arg(long, default_value_t = 0)]
    start: usize,
    /// The CSV to write.
    #[arg(long, default_value = "cheque-features.csv")]
    out: PathBuf,
    /// Read cheques and `labels.jsonl` from this folder instead of generating them.
    #[arg(long)]
    dir: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let Args {
        seed,
        count,
        start,
        out,
        dir,
    } = Args::parse();
    let mut config = verify::Config::default();
    // The features do not depend on the model; scoring by rules keeps the dump model-free.
    config.cheque.fraud_model = None;
    let mut w = std::io::BufWriter::new(std::fs::File::create(&out)?);
    writeln!(
        w,
        "name,variant,fraud,rule_risk,{}",
        fraud::FEATURES.join(",")
    )?;
    let chunk = 32;
    let mut done = 0;
    let total = if dir.is_some() { usize::MAX } else { count };
    let mut s = start;
    while done < total {
        let cases = match &dir {
            Some(d) => common::from_dir(d)?,
            None => common::generated(seed, s, chunk.min(count - done))?,
        };
        let n = cases.len();
        use rayon::prelude::*;
        let rows: Vec<String> = cases
            .par_iter()
            .map(|c| -> anyhow::Result<String> {
                let r = common::run(c, &config)?;
                let x = fraud::features(&r.findings, &r.fields, &r.located);
                let xs: Vec<String> = x.iter().map(|v| format!("{v:.5}")).collect();
                Ok(format!(
                    "{},{},{},{},{}",
                    c.name,
                    c.variant,
                    u8::from(c.fraud),
                    r.risk,
                    xs.join(",")
                ))
            })
            .collect::<anyhow::Result<_>>()?;
        for row in rows {
            writeln!(w, "{row}")?;
        }
        w.flush()?;
        done += n;
        s += n;
        eprintln!("{done} cheques");
        if dir.is_some() || n == 0 {
            break;
        }
    }
    Ok(())
}
