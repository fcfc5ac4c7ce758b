//! Jachai's verification pipeline: the bytes of a captured document in, a full [`Report`] out.
//!
//! Runs on a Raspberry Pi with no network. This crate knows no network, database, async runtime
//! or UI: a failed check is a finding, and only unreadable input is an [`IntakeError`].
//!
//! ```no_run
//! let bytes = std::fs::read("gd-copy.jpg").unwrap();
//! let report = verify::verify(&bytes, &verify::Request::default(), &verify::Config::default(), &mut ())
//!     .expect("a readable image");
//! println!("{} {}", report.verdict.as_str(), report.risk);
//! ```

pub mod annotate;
pub mod cheque;
pub mod deadline;
pub mod error;
pub mod forensics;
pub mod gd;
pub mod imei;
pub mod intake;
mod jpeg;
pub mod metadata;
pub mod progress;
pub mod report;
pub mod scam;
pub mod score;

mod pipeline;

pub use deadline::Deadline;
pub use error::{IntakeError, StageError};
pub use pipeline::{verify, verify_with, verify_with_sources, Budgets, Config, Request};
pub use progress::{ProgressEvent, ProgressSink};
pub use report::{
    DocumentKind, Explanation, FieldValue, Finding, LocatedField, Region, Report, Severity, Stage,
    StageRecord, StageStatus, Verdict,
};
pub use scam::{cache_key, PIPELINE_VERSION};
