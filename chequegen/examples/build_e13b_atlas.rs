//! Build `chequegen/data/e13b-atlas.png` from the labelled E-13B lines in
//! `../shared/data/e13b/lines` (the `tesseract_e13b_font_generator_*` lines only).
//!
//! `cargo run -p jachai-chequegen --example build_e13b_atlas -- [LINES_DIR] [OUT]`

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().map_or_else(
        || gdgen::data::default_data_dir().join("e13b/lines"),
        PathBuf::from,
    );
    let out = args.next().map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data/e13b-atlas.png")),
        PathBuf::from,
    );
    let atlas = chequegen::e13b::build_atlas(&dir)?;
    atlas.save(&out)?;
    println!("{} -> {}", dir.display(), out.display());
    Ok(())
}
