//! `jachai-gdgen`: write synthetic GD copies and their `labels.jsonl`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use gdgen::{generate_batch, Options};

/// Write synthetic Police GD copies (scans and phone photos, clean and tampered) with labels.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Number of documents.
    #[arg(long, default_value_t = 20)]
    count: usize,
    /// Seed; the same seed and options give the same files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Share of phone photos (the rest are flat scans).
    #[arg(long, default_value_t = 0.5)]
    photo_share: f64,
    /// Share of documents printed with Bengali digits.
    #[arg(long, default_value_t = 0.5)]
    bengali_digit_share: f64,
    /// Variant weights.
    #[arg(long, default_value = "clean=0.5,mismatch=0.17,paste=0.17,clone=0.16")]
    variants: String,
    /// The shared data folder (bd-geo, tac); default `$JACHAI_SHARED_DATA` or ../shared/data.
    #[arg(long)]
    data: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut options = Options {
        photo_share: args.photo_share,
        bengali_digit_share: args.bengali_digit_share,
        variants: Options::parse_variants(&args.variants).map_err(anyhow::Error::msg)?,
        ..Options::default()
    };
    if let Some(d) = args.data {
        options.data_dir = d;
    }
    let labels_path = args.out.join("labels.jsonl");
    let mut labels = std::io::BufWriter::new(
        std::fs::File::create(&labels_path)
            .with_context(|| format!("creating {}", labels_path.display()))?,
    );
    for g in generate_batch(args.seed, args.count, &options) {
        let g = g?;
        let path = args.out.join(&g.label.file);
        std::fs::write(&path, &g.bytes).with_context(|| format!("writing {}", path.display()))?;
        serde_json::to_writer(&mut labels, &g.label)?;
        labels.write_all(b"\n")?;
    }
    labels.flush()?;
    Ok(())
}
