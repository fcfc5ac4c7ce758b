//! `jachai-chequegen`: write synthetic cheques and their `labels.jsonl`, or the banks'
//! reference templates.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use chequegen::{generate_batch, Options};
use clap::Parser;

/// Write synthetic Bangladeshi cheques (scans and photos, clean and tampered) with labels.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Number of cheques.
    #[arg(long, default_value_t = 20)]
    count: usize,
    /// Seed; the same seed and options give the same files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Share of camera photos (the rest are flat scans).
    #[arg(long, default_value_t = 0.3)]
    photo_share: f64,
    /// Share of JPEG files.
    #[arg(long, default_value_t = 0.5)]
    jpeg_share: f64,
    /// Variant weights, e.g. `clean=0.5,amount_altered=0.14,payee_pasted=0.1,date_changed=0.1,signature_cloned=0.1,counterfeit=0.06`.
    #[arg(long)]
    variants: Option<String>,
    /// The shared data folder (bd-routing); default `$JACHAI_SHARED_DATA` or ../shared/data.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Write each bank's reference template (`BANK/template.png`, `BANK/layout.json`) instead.
    #[arg(long)]
    templates: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    if args.templates {
        return chequegen::write_templates(&args.out);
    }
    let mut options = Options {
        photo_share: args.photo_share,
        jpeg_share: args.jpeg_share,
        ..Options::default()
    };
    if let Some(v) = &args.variants {
        options.variants = Options::parse_variants(v).map_err(anyhow::Error::msg)?;
    }
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
