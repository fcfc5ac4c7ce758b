//! Build the E-13B glyph model `verify/data/e13b-glyphs.bin` from the labelled MICR lines in
//! `../shared/data/e13b/lines` (all of them: the MICR bench trains its own models per fold).
//!
//! `cargo run -p jachai-verify --example build_e13b_glyphs -- [LINES_DIR] [OUT]`

#[path = "../benches/micr_data.rs"]
mod micr_data;

use std::path::PathBuf;

use verify::cheque::micr::MicrConfig;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .map_or_else(|| micr_data::data_dir().join("e13b/lines"), PathBuf::from);
    let out = args.next().map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data/e13b-glyphs.bin")),
        PathBuf::from,
    );
    let lines = micr_data::lines(&dir)?;
    let all: Vec<&micr_data::Line> = lines.iter().collect();
    let (model, used, glyphs) = micr_data::train(&all, MicrConfig::default().target_height);
    std::fs::write(&out, model.to_bytes())?;
    println!(
        "{} lines, {used} cut cleanly, {glyphs} glyphs -> {} ({} bytes)",
        lines.len(),
        out.display(),
        model.to_bytes().len()
    );
    Ok(())
}
