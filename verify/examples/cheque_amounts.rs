//! How well the cheque pipeline reads the amounts: generated cheques (by seed) through the real
//! pipeline, the amount in figures and in words it reported against the generator's labels, and
//! how often `amount_mismatch` fired per variant. For tuning the amount reading on the training
//! seed (1), never on the fraud model's held-out seed (2).
//!
//! `cargo run --release -p jachai-verify --example cheque_amounts -- [--seed 1] [--start 0] [--count 60] [--show-misses]`

// Only the runner and the date helper: the batch loaders serve the other cheque examples.
#[allow(dead_code)]
#[path = "support/cheque.rs"]
mod common;

use clap::Parser;
use rayon::prelude::*;
use verify::FieldValue;

#[derive(Parser)]
#[command(about = "How well the cheque pipeline reads the amounts on generated cheques")]
struct Args {
    /// Generator seed (tune on 1, never on the fraud model's held-out 2).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// First cheque of the batch.
    #[arg(long, default_value_t = 0)]
    start: usize,
    /// How many cheques.
    #[arg(long, default_value_t = 60)]
    count: usize,
    /// List every cheque whose amounts were misread.
    #[arg(long)]
    show_misses: bool,
}

fn paisa(v: Option<&FieldValue>) -> Option<u64> {
    let s = match v? {
        FieldValue::Text(s) => s.clone(),
        _ => return None,
    };
    let (a, b) = s.split_once('.')?;
    Some(a.parse::<u64>().ok()? * 100 + b.parse::<u64>().ok()?)
}

fn main() -> anyhow::Result<()> {
    let Args {
        seed,
        start,
        count,
        show_misses: show,
    } = Args::parse();
    let options = chequegen::Options::default();
    let config = verify::Config::default();
    let rows: Vec<_> = (start..start + count)
        .into_par_iter()
        .map(|i| -> anyhow::Result<_> {
            let g = chequegen::generate(chequegen::doc_seed(seed, i as u64), &options)?;
            let case = common::Case {
                name: format!("seed{seed}_{i:05}"),
                fraud: g.label.fraud == 1,
                variant: g.label.variant.as_str().to_owned(),
                now_unix: common::unix_of(&g.label.today).unwrap_or(0),
                bytes: g.bytes.clone(),
            };
            let r = common::run(&case, &config)?;
            let fig = paisa(r.fields.get("amount_figures"));
            let words = paisa(r.fields.get("amount_words"));
            let mismatch = r.findings.iter().any(|f| f.code == "amount_mismatch");
            Ok((i, g.label, fig, words, mismatch))
        })
        .collect::<anyhow::Result<_>>()?;
    // (variant group, n, figures read, right, words read, right, mismatch fired)
    let group = |l: &chequegen::Label| -> &'static str {
        if l.amount_figures != l.amount_words {
            "hand_altered"
        } else if l.variant == chequegen::Variant::AmountAltered {
            "amount_pasted"
        } else if l.fraud == 0 {
            "clean"
        } else {
            "other_fraud"
        }
    };
    let mut table: std::collections::BTreeMap<&str, [usize; 6]> = Default::default();
    for (i, l, fig, words, mm) in &rows {
        let t = table.entry(group(l)).or_default();
        // A pasted amount: the labels keep the amount written before the paste.
        let pasted = group(l) == "amount_pasted";
        let fig_ok = pasted || *fig == Some(l.amount_figures);
        let words_ok = pasted || *words == Some(l.amount_words);
        let want_mm = matches!(group(l), "hand_altered" | "amount_pasted");
        t[0] += 1;
        t[1] += usize::from(fig.is_some());
        t[2] += usize::from(fig.is_some() && *fig == Some(l.amount_figures));
        t[3] += usize::from(words.is_some());
        t[4] += usize::from(words_ok);
        t[5] += usize::from(*mm);
        if show && (!fig_ok || !words_ok || *mm != want_mm) {
            println!(
                "{i:>4} {:<16} {:<9} fig {:>12?} want {:>10} [{}] | words {:>10?} want {:>10} [{}]{}",
                l.variant.as_str(),
                format!("{:?}", l.rendition),
                fig.map(|v| v / 100),
                l.amount_figures / 100,
                l.figures_text,
                words.map(|v| v / 100),
                l.amount_words / 100,
                l.words_text,
                if *mm { "  MISMATCH" } else { "" }
            );
        }
    }
    println!("(amount_pasted: the labels keep the amount before the paste; `right` counts that)");
    println!("group             n  fig-read fig-right words-read words-right mismatch");
    for (g, t) in &table {
        println!(
            "{g:<14} {:>4} {:>9} {:>9} {:>10} {:>11} {:>8}",
            t[0], t[1], t[2], t[3], t[4], t[5]
        );
    }
    Ok(())
}
