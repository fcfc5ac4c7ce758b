//! The labelled export: every decided case — its report, what was claimed, the reviewer's decision and
//! the images that have arrived — written as a data set for retraining the models: `cases.jsonl` (one
//! case a line, ordered by kiosk and seq) and `images/{sha256}.{ext}`. Images not yet in the object store
//! are listed with `"file": null`, never invented.

use std::io::Write;
use std::path::{Path, PathBuf};

use jachai_protocol::envelope::SignedBody;
use jachai_protocol::sign::TrustedKeys;
use serde::Serialize;
use sqlx::Row;

use crate::ingest::Ingest;
use crate::store::{Ctx, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What an export wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExportStats {
    pub cases: u64,
    pub images: u64,
    pub images_missing: u64,
}

#[derive(Debug, Serialize)]
struct Image {
    role: String,
    sha256: String,
    /// Path under the export folder; `null` when the image has not arrived.
    file: Option<String>,
}

#[derive(Debug, Serialize)]
struct Labelled {
    id: String,
    kiosk: String,
    seq: i64,
    kind: String,
    created_at: i64,
    /// The pipeline's verdict and risk.
    verdict: Option<String>,
    risk: Option<i64>,
    /// The label: `approved` or `rejected` (the latest decision).
    label: String,
    note: Option<String>,
    decided_at: i64,
    claims: serde_json::Value,
    report: serde_json::Value,
    images: Vec<Image>,
}

fn ext_of(bytes: &[u8]) -> &'static str {
    match crate::http::checks::sniff_type(bytes) {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/tiff" => "tif",
        _ => "bin",
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes the decided cases under `dir` (created if missing).
pub async fn export(ingest: &Ingest, dir: &Path) -> Result<ExportStats, ExportError> {
    let images_dir = dir.join("images");
    std::fs::create_dir_all(&images_dir).map_err(io(&images_dir))?;
    let rows = sqlx::query(
        "SELECT c.kiosk, c.seq, c.case_id, c.kind, c.created_at, c.verdict, c.risk, c.claims, c.report, \
         d.outcome, d.signed, d.decided_at \
         FROM cases c JOIN decisions d ON d.kiosk = c.kiosk AND d.case_seq = c.seq \
         WHERE d.seq = (SELECT MAX(d2.seq) FROM decisions d2 WHERE d2.kiosk = c.kiosk AND d2.case_seq = c.seq) \
         ORDER BY c.kiosk, c.seq",
    )
    .fetch_all(ingest.store().pool())
    .await
    .ctx("listing decided cases")?;
    let path = dir.join("cases.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io(&path))?);
    let mut stats = ExportStats::default();
    let mut keys = TrustedKeys::new();
    keys.add(ingest.signer().verifying_key());
    for r in &rows {
        let kiosk: String = r.try_get(0).ctx("reading a case")?;
        let seq: i64 = r.try_get(1).ctx("reading a case")?;
        let claims: String = r.try_get(7).ctx("reading a case")?;
        let report: String = r.try_get(8).ctx("reading a case")?;
        let signed: String = r.try_get(10).ctx("reading a decision")?;
        let blobs = sqlx::query(
            "SELECT role, sha256 FROM case_blobs WHERE kiosk = $1 AND seq = $2 ORDER BY role, sha256",
        )
        .bind(&kiosk)
        .bind(seq)
        .fetch_all(ingest.store().pool())
        .await
        .ctx("listing a case's images")?;
        let mut images = Vec::new();
        for b in &blobs {
            let role: String = b.try_get(0).ctx("reading an image")?;
            let sha: String = b.try_get(1).ctx("reading an image")?;
            let file = match ingest.objects().get_blob(&sha).await {
                Ok(bytes) => {
                    let name = format!("images/{sha}.{}", ext_of(&bytes));
                    let target = dir.join(&name);
                    if !target.exists() {
                        std::fs::write(&target, &bytes).map_err(io(&target))?;
                    }
                    stats.images += 1;
                    Some(name)
                }
                Err(_) => {
                    stats.images_missing += 1;
                    None
                }
            };
            images.push(Image {
                role,
                sha256: sha,
                file,
            });
        }
        let line = Labelled {
            id: r.try_get(2).ctx("reading a case")?,
            kind: r.try_get(3).ctx("reading a case")?,
            created_at: r.try_get(4).ctx("reading a case")?,
            verdict: r.try_get(5).ctx("reading a case")?,
            risk: r.try_get(6).ctx("reading a case")?,
            label: r.try_get(9).ctx("reading a decision")?,
            note: note_of(&keys, &signed),
            decided_at: r.try_get(11).ctx("reading a decision")?,
            claims: serde_json::from_str(&claims).unwrap_or(serde_json::Value::Null),
            report: serde_json::from_str(&report).unwrap_or(serde_json::Value::Null),
            images,
            kiosk,
            seq,
        };
        let text = serde_json::to_string(&line).map_err(|e| ExportError::Io {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        writeln!(out, "{text}").map_err(io(&path))?;
        stats.cases += 1;
    }
    out.flush().map_err(io(&path))?;
    Ok(stats)
}

/// The reviewer's note inside a stored signed decision (checked against the cloud's own key).
fn note_of(keys: &TrustedKeys, signed: &str) -> Option<String> {
    match keys.open_payload(signed.as_bytes()) {
        Ok(SignedBody::Decision(d)) => d.note,
        _ => None,
    }
}
