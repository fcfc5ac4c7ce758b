//! Rebuild `verify/data/tac.tsv.gz` from the Osmocom TAC database CSV.
//!
//! ```text
//! cargo run -p jachai-verify --example build_tac_table -- [tacdb.csv] [out.tsv.gz]
//! ```
//! Defaults: `$JACHAI_SHARED_DATA/tac/tacdb.csv` (or `../shared/data/tac/tacdb.csv` from the
//! repository root) and `verify/data/tac.tsv.gz`. The CSV's first line is the licence credit
//! (kept in the output), the second the header `tac,name,name,…` (TAC, brand, model, …).

use std::path::PathBuf;

use verify::imei::tac;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let data = std::env::var_os("JACHAI_SHARED_DATA").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")),
        PathBuf::from,
    );
    let input = args
        .next()
        .map_or_else(|| data.join("tac/tacdb.csv"), PathBuf::from);
    let output = args.next().map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data/tac.tsv.gz")),
        PathBuf::from,
    );
    let bytes = std::fs::read(&input).map_err(|e| format!("{}: {e}", input.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let (credit, rest) = text.split_once('\n').ok_or("the CSV has no credit line")?;
    let credit = credit.trim();
    if !credit.contains("CC-BY-SA") {
        return Err(format!("first line is not the licence credit: `{credit}`").into());
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(rest.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let r = record?;
        let f = |i| r.get(i).unwrap_or("").to_owned();
        rows.push((f(0), f(1), f(2)));
    }
    let n_rows = rows.len();
    let entries = tac::build_entries(rows);
    let gz = tac::encode_table(&entries, credit)?;
    std::fs::write(&output, &gz)?;
    println!(
        "{} rows → {} TACs, {} bytes → {}",
        n_rows,
        entries.len(),
        gz.len(),
        output.display()
    );
    Ok(())
}
