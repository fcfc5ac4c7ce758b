//! The pipeline: runs each stage under its time budget, turns stage failures into findings,
//! reports progress, scores and routes.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::annotate;
use crate::deadline::Deadline;
use crate::error::{IntakeError, StageError};
use crate::forensics::{copy_move, double_jpeg, ela, noise};
use crate::gd::{self, duplicates::DuplicateIndex, duplicates::NoIndex};
use crate::intake::{self, Limits};
use crate::metadata::{self, MetadataConfig};
use crate::progress::{ProgressEvent, ProgressSink};
use crate::report::{
    DocumentKind, FieldValue, Finding, Report, Severity, Stage, StageRecord, StageStatus,
};
use crate::scam::{NoSources, SourceIndex};
use crate::score::{self, Thresholds};

/// What the caller asks for, beyond the bytes.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub kind: DocumentKind,
    /// IMEIs the citizen typed (used by the GD stages; carried for the report).
    pub imeis: Vec<String>,
    /// "Now" in seconds since the epoch, for date checks; the system clock when `None`.
    pub now_unix: Option<i64>,
    /// Produce the annotated PNG.
    pub annotate: bool,
}

/// Time budget per stage. A stage past its budget becomes a `stage_timeout` finding.
#[derive(Debug, Clone)]
pub struct Budgets {
    pub metadata: Duration,
    pub ela: Duration,
    pub copy_move: Duration,
    pub noise: Duration,
    pub double_jpeg: Duration,
    pub annotate: Duration,
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets {
            metadata: Duration::from_secs(2),
            ela: Duration::from_secs(5),
            copy_move: Duration::from_secs(15),
            noise: Duration::from_secs(5),
            double_jpeg: Duration::from_secs(5),
            annotate: Duration::from_secs(5),
        }
    }
}

/// Every knob of the pipeline, with defaults suited to a Raspberry Pi kiosk.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub limits: Limits,
    pub thresholds: Thresholds,
    pub budgets: Budgets,
    pub metadata: MetadataConfig,
    pub ela: ela::ElaConfig,
    pub copy_move: copy_move::CopyMoveConfig,
    pub noise: noise::NoiseConfig,
    pub double_jpeg: double_jpeg::DoubleJpegConfig,
    /// GD copies: geometry, OCR, fields, structure, tamper checks and routing.
    pub gd: gd::GdConfig,
    /// Cheques: MICR, amounts, date, payee.
    pub cheque: crate::cheque::ChequeConfig,
    /// Scam images: OCR languages, reference data, stage budgets.
    pub scam: crate::scam::ScamConfig,
}

/// Share of the progress bar each stage fills for images, in stage order; they add up to 100.
const IMAGE_WEIGHTS: &[(Stage, u8)] = &[
    (Stage::Intake, 8),
    (Stage::Metadata, 4),
    (Stage::Ela, 14),
    (Stage::CopyMove, 40),
    (Stage::Noise, 12),
    (Stage::DoubleJpeg, 10),
    (Stage::Score, 2),
    (Stage::Annotate, 10),
];

/// The same for scam images (`--kind image`): OCR is the longest stage.
const SCAM_WEIGHTS: &[(Stage, u8)] = &[
    (Stage::Intake, 5),
    (Stage::Metadata, 3),
    (Stage::Ela, 8),
    (Stage::CopyMove, 16),
    (Stage::Noise, 6),
    (Stage::DoubleJpeg, 5),
    (Stage::Ocr, 40),
    (Stage::Fields, 4),
    (Stage::Duplicates, 2),
    (Stage::AiModel, 1),
    (Stage::Score, 2),
    (Stage::Annotate, 8),
];

/// The same for GD copies, where OCR is the longest stage.
const GD_WEIGHTS: &[(Stage, u8)] = &[
    (Stage::Intake, 4),
    (Stage::Geometry, 6),
    (Stage::Metadata, 2),
    (Stage::Ela, 6),
    (Stage::CopyMove, 14),
    (Stage::Noise, 5),
    (Stage::DoubleJpeg, 4),
    (Stage::Ocr, 40),
    (Stage::Fields, 4),
    (Stage::Structure, 6),
    (Stage::Duplicates, 1),
    (Stage::Score, 1),
    (Stage::Annotate, 7),
];

/// The same for cheques: OCR (MICR band and page text) is the longest stage.
const CHEQUE_WEIGHTS: &[(Stage, u8)] = &[
    (Stage::Intake, 4),
    (Stage::Metadata, 2),
    (Stage::Ela, 8),
    (Stage::CopyMove, 20),
    (Stage::Noise, 6),
    (Stage::DoubleJpeg, 5),
    (Stage::Ocr, 40),
    (Stage::Fields, 3),
    (Stage::Structure, 2),
    (Stage::Score, 2),
    (Stage::Annotate, 8),
];

fn weights(kind: DocumentKind) -> &'static [(Stage, u8)] {
    match kind {
        DocumentKind::Gd => GD_WEIGHTS,
        DocumentKind::Cheque => CHEQUE_WEIGHTS,
        DocumentKind::Image => SCAM_WEIGHTS,
        DocumentKind::Box => IMAGE_WEIGHTS,
    }
}

fn progress_before(kind: DocumentKind, stage: Stage) -> u8 {
    weights(kind)
        .iter()
        .take_while(|(s, _)| *s != stage)
        .map(|(_, w)| *w)
        .sum()
}

fn progress_after(kind: DocumentKind, stage: Stage) -> u8 {
    progress_before(kind, stage)
        + weights(kind)
            .iter()
            .find(|(s, _)| *s == stage)
            .map_or(0, |(_, w)| *w)
}

/// Runs stages, records them and emits progress.
pub(crate) struct Runner<'a> {
    kind: DocumentKind,
    sink: &'a mut dyn ProgressSink,
    stages: Vec<StageRecord>,
    pub(crate) findings: Vec<Finding>,
}

impl Runner<'_> {
    fn start(&mut self, stage: Stage) -> Instant {
        self.sink.event(&ProgressEvent::StageStarted {
            stage,
            progress: progress_before(self.kind, stage),
        });
        Instant::now()
    }

    fn finish(&mut self, stage: Stage, status: StageStatus, started: Instant) {
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.stages.push(StageRecord {
            name: stage,
            status,
            ms,
        });
        let progress = if stage == Stage::Annotate {
            100
        } else {
            progress_after(self.kind, stage)
        };
        self.sink.event(&ProgressEvent::StageFinished {
            stage,
            status,
            ms,
            progress,
        });
    }

    /// Run one stage under `budget`. A panic, an error or an overrun becomes a finding; the
    /// stage's own findings are kept when it finished, even late.
    pub(crate) fn run<T>(
        &mut self,
        stage: Stage,
        budget: Duration,
        f: impl FnOnce(&Deadline) -> Result<T, StageError>,
    ) -> Option<T> {
        let started = self.start(stage);
        let deadline = Deadline::after(budget);
        let outcome = catch_unwind(AssertUnwindSafe(|| f(&deadline)))
            .unwrap_or_else(|panic| Err(StageError::Failed(panic_message(&panic))));
        let overran = started.elapsed() > budget;
        let (status, value) = match outcome {
            Ok(v) if overran => (StageStatus::Timeout, Some(v)),
            Ok(v) => (StageStatus::Ok, Some(v)),
            Err(StageError::NotApplicable(_)) => (StageStatus::Skipped, None),
            Err(StageError::Timeout) => (StageStatus::Timeout, None),
            Err(StageError::Failed(why)) => {
                self.findings.push(stage_failed(stage, &why));
                (StageStatus::Failed, None)
            }
        };
        if status == StageStatus::Timeout {
            self.findings.push(stage_timeout(stage, budget));
        }
        self.finish(stage, status, started);
        value
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "internal error".to_owned()
    }
}

fn stage_timeout(stage: Stage, budget: Duration) -> Finding {
    let name = stage.as_str();
    let ms = budget.as_millis();
    Finding::new(
        "stage_timeout",
        stage,
        Severity::Medium,
        10,
        format!("The {name} check did not finish within {ms} ms; a person should look at this document."),
        format!("{name} যাচাই {ms} মিলিসেকেন্ডের মধ্যে শেষ হয়নি; একজন কর্মকর্তার দেখা দরকার।"),
    )
}

fn stage_failed(stage: Stage, why: &str) -> Finding {
    let name = stage.as_str();
    Finding::new(
        "stage_failed",
        stage,
        Severity::Medium,
        10,
        format!("The {name} check could not run ({why}); a person should look at this document."),
        format!("{name} যাচাই চালানো যায়নি ({why}); একজন কর্মকর্তার দেখা দরকার।"),
    )
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Verify one document. `Err` only when the bytes cannot be read as an image at all; every
/// other problem, including a stage that fails or overruns, is a finding in the report.
/// Nothing has been seen before: see [`verify_with`] to check for duplicates.
pub fn verify(
    bytes: &[u8],
    request: &Request,
    config: &Config,
    sink: &mut dyn ProgressSink,
) -> Result<Report, IntakeError> {
    verify_with(bytes, request, config, &NoIndex, sink)
}

/// [`verify`], asking `index` whether this IMEI, GD number or page was seen before.
pub fn verify_with(
    bytes: &[u8],
    request: &Request,
    config: &Config,
    index: &dyn DuplicateIndex,
    sink: &mut dyn ProgressSink,
) -> Result<Report, IntakeError> {
    verify_with_sources(bytes, request, config, index, &NoSources, sink)
}

/// [`verify_with`], also asking `sources` (scam images, `--kind image`) whether the picture is
/// a known scam image or was checked here before.
pub fn verify_with_sources(
    bytes: &[u8],
    request: &Request,
    config: &Config,
    index: &dyn DuplicateIndex,
    sources: &dyn SourceIndex,
    sink: &mut dyn ProgressSink,
) -> Result<Report, IntakeError> {
    let sha256 = hex(&Sha256::digest(bytes));
    let mut runner = Runner {
        kind: request.kind,
        sink,
        stages: Vec::new(),
        findings: Vec::new(),
    };

    let started = runner.start(Stage::Intake);
    let decoded = match intake::intake(bytes, &config.limits) {
        Ok(d) => d,
        Err(e) => {
            runner.finish(Stage::Intake, StageStatus::Failed, started);
            return Err(e);
        }
    };
    runner.finish(Stage::Intake, StageStatus::Ok, started);
    let img = &decoded.image;

    let mut fields = BTreeMap::new();
    fields.insert("format".to_owned(), decoded.format.as_str().into());
    fields.insert("width".to_owned(), img.width().to_string().into());
    fields.insert("height".to_owned(), img.height().to_string().into());
    if decoded.orientation != 1 {
        fields.insert(
            "orientation".to_owned(),
            decoded.orientation.to_string().into(),
        );
    }

    let is_gd = request.kind == DocumentKind::Gd;
    let capture = if is_gd {
        runner.run(Stage::Geometry, config.gd.budgets.geometry, |d| {
            gd::geometry::rectify(img, &config.gd.geometry, d)
        })
    } else {
        None
    };
    if let Some(c) = &capture {
        runner.findings.extend(c.findings.iter().cloned());
    }

    let now = request.now_unix.unwrap_or_else(now_unix);
    if let Some(meta) = runner.run(Stage::Metadata, config.budgets.metadata, |_| {
        Ok(metadata::analyze(
            bytes,
            decoded.format,
            &config.metadata,
            now,
        ))
    }) {
        fields.extend(meta.fields.into_iter().map(|(k, v)| (k, v.into())));
        runner.findings.extend(meta.findings);
    }

    let stages: [(Stage, Duration); 4] = [
        (Stage::Ela, config.budgets.ela),
        (Stage::CopyMove, config.budgets.copy_move),
        (Stage::Noise, config.budgets.noise),
        (Stage::DoubleJpeg, config.budgets.double_jpeg),
    ];
    let mut copy_move_cfg = config.copy_move.clone();
    copy_move_cfg.text_document |= is_gd || request.kind == DocumentKind::Cheque;
    // A screenshot is a text document: the same glyphs drawn twice are not a clone.
    copy_move_cfg.text_document |=
        request.kind == DocumentKind::Image && crate::scam::ocr::looks_like_screenshot(img);
    for (stage, budget) in stages {
        let found = runner.run(stage, budget, |deadline| match stage {
            Stage::Ela => ela::analyze(img, &config.ela, deadline),
            Stage::CopyMove => copy_move::analyze(img, &copy_move_cfg, deadline),
            Stage::Noise => noise::analyze(img, &config.noise, deadline),
            Stage::DoubleJpeg => double_jpeg::analyze(bytes, img, &config.double_jpeg, deadline),
            _ => Err(StageError::NotApplicable("not a forensic stage")),
        });
        runner.findings.extend(found.unwrap_or_default());
    }

    let mut located = Vec::new();
    let mut facts = None;
    if is_gd {
        let outcome = gd::analyze(
            &mut runner,
            img,
            capture.as_ref(),
            &request.imeis,
            now,
            &config.gd,
            index,
        );
        fields.extend(outcome.fields);
        located = outcome.located;
        facts = Some(outcome.facts);
    }
    if request.kind == DocumentKind::Cheque {
        let outcome = crate::cheque::analyze(&mut runner, img, now, &config.cheque);
        fields.extend(outcome.fields);
        located = outcome.located;
    }
    let is_scam = request.kind == DocumentKind::Image;
    if is_scam {
        let outcome = crate::scam::check::analyze(&mut runner, img, sources, now, &config.scam);
        fields.extend(outcome.fields);
    }

    let started = runner.start(Stage::Score);
    let mut findings = std::mem::take(&mut runner.findings);
    findings.sort_by(|a, b| a.stage.cmp(&b.stage).then(b.points.cmp(&a.points)));
    let mut risk = score::risk(&findings);
    let mut thresholds = config.thresholds;
    let mut scored_by_model = false;
    if request.kind == DocumentKind::Cheque {
        // The fraud score (model, or the findings' points) over the report so far.
        findings.extend(crate::cheque::fraud::tamper_on_field(
            &findings, &fields, &located,
        ));
        let fraud = crate::cheque::fraud::assess(
            &findings,
            &fields,
            &located,
            config.cheque.fraud_model.as_deref(),
        );
        risk = fraud.risk;
        thresholds = crate::cheque::fraud::THRESHOLDS;
        scored_by_model = fraud.source == "model";
        fields.insert("fraud".to_owned(), FieldValue::Map(fraud.report_map()));
    }
    runner.finish(Stage::Score, StageStatus::Ok, started);

    let annotated_png = if request.annotate {
        runner.run(Stage::Annotate, config.budgets.annotate, |_| {
            annotate::annotate_with(img, &findings, &located)
        })
    } else {
        let started = runner.start(Stage::Annotate);
        runner.finish(Stage::Annotate, StageStatus::Skipped, started);
        None
    };
    // An annotate failure adds a finding after scoring; fold it in before routing.
    findings.append(&mut runner.findings);
    let risk = if scored_by_model {
        risk
    } else {
        risk.max(score::risk(&findings))
    };
    let (verdict, explanation) = match &facts {
        Some(facts) => {
            let (v, why) =
                gd::route::route(risk, &findings, &runner.stages, facts, &config.gd.route);
            (v, Some(why))
        }
        None => (
            score::route(risk, &findings, &runner.stages, &thresholds),
            is_scam.then(|| crate::scam::check::explain(risk, &findings)),
        ),
    };

    Ok(Report {
        sha256,
        kind: request.kind,
        verdict,
        risk,
        findings,
        fields,
        located,
        explanation,
        stages: runner.stages,
        annotated_png,
    })
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_fill_the_bar() {
        for kind in [
            DocumentKind::Image,
            DocumentKind::Gd,
            DocumentKind::Cheque,
            DocumentKind::Box,
        ] {
            let w = weights(kind);
            assert_eq!(w.iter().map(|(_, w)| u32::from(*w)).sum::<u32>(), 100);
            assert!(
                w.windows(2).all(|p| p[0].0 < p[1].0),
                "{kind:?} in stage order"
            );
            assert_eq!(progress_before(kind, Stage::Intake), 0);
            assert_eq!(progress_after(kind, Stage::Annotate), 100);
        }
    }
}
