//! Shared by the cheque feature dump and the evaluation: cheques from the generator (in
//! memory, by seed) or from a folder with `labels.jsonl` (`file`, `fraud`, `today`), run
//! through the real pipeline.

use std::path::{Path, PathBuf};

use verify::report::Report;
use verify::{Config, DocumentKind, Request};

/// One cheque to run.
pub struct Case {
    pub name: String,
    pub fraud: bool,
    pub variant: String,
    pub bytes: Vec<u8>,
    /// "Today" for date checks, seconds since the epoch.
    pub now_unix: i64,
}

/// Days from 1970-01-01 to `y-m-d` (proleptic Gregorian).
fn days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Noon UTC of an ISO date (`2026-12-06`).
pub fn unix_of(iso: &str) -> Option<i64> {
    let mut it = iso.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (it.next()??, it.next()??, it.next()??);
    Some(days(y, m, d) * 86_400 + 43_200)
}

/// Cheques `start..start+count` of the generator's batch for `seed`.
pub fn generated(seed: u64, start: usize, count: usize) -> anyhow::Result<Vec<Case>> {
    use rayon::prelude::*;
    let options = chequegen::Options::default();
    (start..start + count)
        .into_par_iter()
        .map(|i| {
            let g = chequegen::generate(chequegen::doc_seed(seed, i as u64), &options)?;
            Ok(Case {
                name: format!("seed{seed}_{i:05}"),
                fraud: g.label.fraud == 1,
                variant: g.label.variant.as_str().to_owned(),
                now_unix: unix_of(&g.label.today).unwrap_or(0),
                bytes: g.bytes,
            })
        })
        .collect()
}

/// Cheques listed in `dir/labels.jsonl`.
pub fn from_dir(dir: &Path) -> anyhow::Result<Vec<Case>> {
    let text = std::fs::read_to_string(dir.join("labels.jsonl"))?;
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let file = v["file"].as_str().unwrap_or_default().to_owned();
        let path: PathBuf = dir.join(&file);
        out.push(Case {
            fraud: v["fraud"].as_u64() == Some(1) || v["fraud"].as_bool() == Some(true),
            variant: v["variant"].as_str().unwrap_or("unknown").to_owned(),
            now_unix: v["today"].as_str().and_then(unix_of).unwrap_or(0),
            bytes: std::fs::read(&path)?,
            name: file,
        });
    }
    Ok(out)
}

/// Run the cheque pipeline on one case.
pub fn run(case: &Case, config: &Config) -> anyhow::Result<Report> {
    let request = Request {
        kind: DocumentKind::Cheque,
        now_unix: Some(case.now_unix),
        ..Request::default()
    };
    Ok(verify::verify(&case.bytes, &request, config, &mut ())?)
}
