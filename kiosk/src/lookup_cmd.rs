//! `jachai-kiosk lookup IMEI`: is this phone reported stolen? Answered from the kiosk's replica of
//! the stolen-IMEI index with no network, in the shape the seed systems published:
//! `{"imei","status":"stolen"|"clear","reported_at"?,"theft_location"?}`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use jachai_edge_sync::index::{LoadMode, StolenIndex};
use jachai_edge_sync::store::Store;
use jachai_protocol::{EventMsg, LookupHit};
use verify::imei::{self, ImeiError};

/// Where `jachai-sync` keeps the index on a kiosk.
pub use jachai_kiosk::DEFAULT_INDEX;

#[derive(Debug, Args)]
pub struct LookupArgs {
    /// The IMEI: 15 digits, ASCII or Bengali; spaces and dashes are ignored; the Luhn digit is checked.
    pub imei: String,
    /// The stolen-index directory.
    #[arg(long, default_value = DEFAULT_INDEX)]
    pub index: PathBuf,
    /// The kiosk store (SQLite) to queue a hit in, so `jachai-sync` reports it to the cloud
    /// (and the reporting thana) when it next connects; image files live in `blobs` beside it.
    #[arg(long, value_name = "DB")]
    pub report_db: Option<PathBuf>,
}

#[derive(Debug, serde::Serialize)]
struct Answer<'a> {
    imei: &'a str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reported_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    theft_location: Option<String>,
}

fn error_code(err: &ImeiError) -> &'static str {
    match err {
        ImeiError::NotADigit(_) => "imei_not_a_digit",
        ImeiError::WrongLength(_) => "imei_wrong_length",
        ImeiError::BadCheckDigit { .. } => "imei_bad_check_digit",
    }
}

fn queue_hit(db: &std::path::Path, imei: &str) -> anyhow::Result<()> {
    let blobs = db
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join("blobs");
    let mut store = Store::open(db, &blobs).with_context(|| format!("opening {}", db.display()))?;
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    store.record_event(&EventMsg::LookupHit(LookupHit {
        at,
        imei: imei.to_owned(),
    }))?;
    Ok(())
}

/// Run the command: exit 0 with the answer, 2 for a malformed IMEI or a missing index.
pub fn run(args: &LookupArgs) -> anyhow::Result<ExitCode> {
    let imei = match imei::normalize(&args.imei) {
        Ok(imei) => imei,
        Err(err) => {
            let out = serde_json::json!({
                "imei": args.imei,
                "error": {"code": error_code(&err), "message": err.to_string()},
            });
            println!("{out}");
            eprintln!("jachai-kiosk: not a valid IMEI {:?}: {err}", args.imei);
            return Ok(ExitCode::from(2));
        }
    };
    if !args.index.is_dir() {
        anyhow::bail!(
            "no stolen-IMEI index at {} (has jachai-sync run? pass --index DIR)",
            args.index.display()
        );
    }
    let index = StolenIndex::open(&args.index, LoadMode::File)
        .with_context(|| format!("opening the stolen-IMEI index {}", args.index.display()))?;
    let hit = index.lookup_imei(&imei).context("looking up the IMEI")?;
    if let (Some(db), Some(_)) = (&args.report_db, &hit) {
        // The answer never waits on the report: a store problem is a warning.
        if let Err(err) = queue_hit(db, &imei) {
            eprintln!("jachai-kiosk: warning: the hit was not queued for the cloud: {err:#}");
        }
    }
    let answer = match hit {
        Some(hit) => Answer {
            imei: &imei,
            status: "stolen",
            reported_at: Some(hit.reported_at),
            theft_location: Some(hit.theft_location),
        },
        None => Answer {
            imei: &imei,
            status: "clear",
            reported_at: None,
            theft_location: None,
        },
    };
    println!("{}", serde_json::to_string(&answer)?);
    Ok(ExitCode::SUCCESS)
}
