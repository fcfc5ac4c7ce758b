//! Regenerate `verify/data/geo/districts.tsv` and `thanas.tsv` from the nuhil/bangladesh-geocode
//! CSVs (MIT) and the hand-made `verify/data/geo/metro_thanas.tsv`.
//!
//! Usage: `cargo run -p jachai-verify --example build_geo_table [BD_GEO_DIR]`; the directory
//! defaults to the shared data folder's `bd-geo` (`JACHAI_SHARED_DATA` overrides its root).

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let src = std::env::args_os().nth(1).map_or_else(
        || {
            std::env::var_os("JACHAI_SHARED_DATA")
                .map_or_else(|| manifest.join("../../shared/data"), PathBuf::from)
                .join("bd-geo")
        },
        PathBuf::from,
    );
    let read = |name: &str| std::fs::read_to_string(src.join(name));
    let out_dir = manifest.join("data/geo");
    let metro = std::fs::read_to_string(out_dir.join("metro_thanas.tsv"))?;
    let (districts, thanas) = verify::gd::geo::build_tables(
        &read("divisions.csv")?,
        &read("districts.csv")?,
        &read("upazilas.csv")?,
        &metro,
    )?;
    std::fs::write(out_dir.join("districts.tsv"), districts)?;
    std::fs::write(out_dir.join("thanas.tsv"), thanas)?;
    println!("wrote {}", out_dir.display());
    Ok(())
}
