//! Work off the UI thread: one worker runs verifications, stores cases and looks IMEIs up, in
//! order; one camera thread serves previews and stills. Each answers through a channel and then
//! calls `wake` so the UI drains it on its own thread.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use image::{imageops::FilterType, RgbImage, RgbaImage};
use jachai_edge_sync::index::{LoadMode, StolenIndex};
use jachai_edge_sync::store::{NewCase, NewImage, Store};
use jachai_protocol::{EventMsg, LookupHit};
use verify::gd::duplicates::NoIndex;
use verify::scam::Sources;
use verify::{Config, DocumentKind, ProgressEvent, Report, Request};

use crate::controller::{LookupOutcome, Receipt, RecordJob, VerifyJob};
use crate::hardware::{Camera, SteadyDetector};

/// Called after each answer is sent, from the sending thread.
pub type Wake = Arc<dyn Fn() + Send + Sync>;

/// Work for the worker thread.
#[derive(Debug)]
pub enum Job {
    Verify(VerifyJob),
    Record(RecordJob),
    Lookup { session: u64, imei: String },
    Print { session: u64, receipt: Receipt },
    ScanImei { session: u64, bytes: Vec<u8> },
}

/// Commands for the camera thread.
#[derive(Debug)]
pub enum CameraCmd {
    Preview(bool),
    Capture { session: u64 },
}

/// Answers for the UI thread.
#[derive(Debug)]
pub enum Reply {
    Progress {
        session: u64,
        event: ProgressEvent,
    },
    Verified {
        session: u64,
        result: Result<Report, String>,
        /// The annotated image, scaled for the screen.
        annotated: Option<RgbaImage>,
    },
    Recorded {
        session: u64,
        result: Result<String, String>,
    },
    Looked {
        session: u64,
        outcome: LookupOutcome,
    },
    Printed {
        session: u64,
        result: Result<(), String>,
    },
    /// The IMEIs read off a picture.
    Scanned {
        session: u64,
        result: Result<Vec<String>, String>,
    },
    Frame(RgbImage),
    Captured {
        session: u64,
        result: Result<Vec<u8>, String>,
    },
    /// The preview was steady and sharp: time to take the still.
    AutoCapture,
}

/// What the worker needs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub kiosk_id: String,
    pub db: PathBuf,
    pub blobs: PathBuf,
    pub index: PathBuf,
    pub printer: Option<PathBuf>,
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `YYYYMMDD` (UTC) of a unix time.
pub fn ymd(unix: u64) -> String {
    let (y, m, d) = verify::metadata::civil_from_days(i64::try_from(unix / 86_400).unwrap_or(0));
    format!("{y:04}{m:02}{d:02}")
}

/// How long reading IMEIs off one picture may take (barcodes, then OCR).
const SCAN_BUDGET: Duration = Duration::from_secs(15);

/// The IMEIs on a picture of a phone box or a `*#06#` screen (see `verify::imei::scan`), or why
/// it could not be read.
pub fn scan_imeis(bytes: &[u8]) -> Result<Vec<String>, String> {
    let decoded = verify::intake::intake(bytes, &verify::intake::Limits::default())
        .map_err(|e| e.to_string())?;
    let ocr = verify::gd::ocr::OcrConfig {
        languages: "eng".to_owned(),
        ..verify::gd::ocr::OcrConfig::default()
    };
    let found =
        verify::imei::scan::scan(&decoded.image, &ocr, &verify::Deadline::after(SCAN_BUDGET))
            .map_err(|e| e.to_string())?;
    Ok(found.into_iter().map(|s| s.imei).collect())
}

/// The worker: owns the store and answers jobs in order.
pub struct Worker {
    config: WorkerConfig,
    store: Result<Store, String>,
    verify: Config,
    /// Known scam images (the shipped reference) and the pictures checked here (from the store).
    sources: Sources,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("config", &self.config)
            .finish()
    }
}

impl Worker {
    /// Open the store (a failure is kept and reported on each job that needs it).
    pub fn new(config: WorkerConfig) -> Self {
        let store = Store::open(&config.db, &config.blobs)
            .map_err(|e| format!("cannot open the store {}: {e}", config.db.display()));
        let mut sources = Sources::shipped().clone();
        if let Ok(store) = &store {
            match store.checked_images() {
                Ok(hashes) => {
                    for h in &hashes {
                        sources.record_checked_hex(h);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "the checked-picture history was not read"),
            }
        }
        Worker {
            config,
            store,
            verify: Config::default(),
            sources,
        }
    }

    /// Run jobs from `jobs` until the sender goes away.
    pub fn spawn(
        self,
        jobs: Receiver<Job>,
        replies: Sender<Reply>,
        wake: Wake,
    ) -> std::io::Result<()> {
        std::thread::Builder::new()
            .name("kiosk-worker".into())
            .spawn(move || {
                let mut worker = self;
                for job in jobs {
                    worker.run(job, &replies, &wake);
                }
            })
            .map(|_| ())
    }

    fn run(&mut self, job: Job, replies: &Sender<Reply>, wake: &Wake) {
        let send = |r: Reply| {
            // The UI has gone away when this fails; nothing to tell.
            let _ = replies.send(r);
            wake();
        };
        match job {
            Job::Verify(job) => {
                let (session, result, annotated) = self.verify(job, &send);
                send(Reply::Verified {
                    session,
                    result,
                    annotated,
                });
            }
            Job::Record(job) => {
                let session = job.session;
                send(Reply::Recorded {
                    session,
                    result: self.record(job),
                });
            }
            Job::Lookup { session, imei } => send(Reply::Looked {
                session,
                outcome: self.lookup(&imei),
            }),
            Job::Print { session, receipt } => {
                let result = match &self.config.printer {
                    Some(dev) => crate::receipt::print(dev, &receipt, &self.config.kiosk_id)
                        .map_err(|e| format!("{}: {e}", dev.display())),
                    None => Err("no printer configured".into()),
                };
                send(Reply::Printed { session, result });
            }
            Job::ScanImei { session, mut bytes } => {
                let result = scan_imeis(&bytes);
                bytes.fill(0);
                send(Reply::Scanned { session, result });
            }
        }
    }

    fn verify(
        &mut self,
        job: VerifyJob,
        send: &impl Fn(Reply),
    ) -> (u64, Result<Report, String>, Option<RgbaImage>) {
        let request = Request {
            kind: job.kind,
            imeis: job.imeis,
            now_unix: None,
            annotate: true,
        };
        let session = job.session;
        let mut sink = |event: &ProgressEvent| {
            send(Reply::Progress {
                session,
                event: event.clone(),
            })
        };
        let started = std::time::Instant::now();
        // Picture checks (scam images) depend on the bytes alone: a repeated picture is answered
        // from the store's cache. GD copies and cheques also depend on what was typed, and each
        // becomes a case, so they always run.
        let cache_key = (job.kind == DocumentKind::Image)
            .then(|| verify::cache_key(&job.bytes, job.kind, &self.verify));
        let cached = cache_key.as_deref().and_then(|key| self.cached(key));
        let cache_hit = cached.is_some();
        let result = match cached {
            Some(report) => Ok(report),
            None => verify::verify_with_sources(
                &job.bytes,
                &request,
                &self.verify,
                &NoIndex,
                &self.sources,
                &mut sink,
            ),
        };
        tracing::info!(
            kind = job.kind.as_str(),
            ms = started.elapsed().as_millis() as u64,
            ok = result.is_ok(),
            cached = cache_hit,
            "verified"
        );
        if let (Ok(report), Some(key), false) = (&result, &cache_key, cache_hit) {
            self.remember(key, report);
        }
        let result = result.map_err(|e| e.to_string());
        let annotated = result
            .as_ref()
            .ok()
            .and_then(|r| r.annotated_png.as_deref())
            .and_then(|png| image::load_from_memory(png).ok())
            .map(|img| img.resize(600, 600, FilterType::Triangle).to_rgba8());
        (session, result, annotated)
    }

    /// The cached report under `key`, with its annotated image; `None` on a miss or when the
    /// entry no longer reads as a report (then the check runs again and replaces it).
    fn cached(&mut self, key: &str) -> Option<Report> {
        let store = self.store.as_mut().ok()?;
        let hit = match store.cached_result(key) {
            Ok(hit) => hit?,
            Err(e) => {
                tracing::warn!(error = %e, "result cache not read");
                return None;
            }
        };
        let mut report: Report = serde_json::from_str(&hit.report)
            .map_err(|e| tracing::warn!(error = %e, "a cached report does not read"))
            .ok()?;
        report.annotated_png = hit.annotated;
        Some(report)
    }

    /// After a fresh picture check: its hash joins the history (`seen_before` for later
    /// near-copies) and its report the cache. An exact repeat is served from the cache and does
    /// not count again: the same person checking the same file twice is no second sighting.
    fn remember(&mut self, key: &str, report: &Report) {
        let phash = report
            .fields
            .get("image_phash")
            .and_then(|v| v.as_text())
            .map(str::to_owned);
        let Ok(store) = self.store.as_mut() else {
            // No store: the history still grows for this run.
            if let Some(h) = &phash {
                self.sources.record_checked_hex(h);
            }
            return;
        };
        if let Some(h) = &phash {
            match store.record_checked_image(h) {
                Ok(()) => {
                    self.sources.record_checked_hex(h);
                }
                Err(e) => tracing::warn!(error = %e, "checked picture not recorded"),
            }
        }
        match serde_json::to_string(report) {
            Ok(json) => {
                if let Err(e) = store.cache_result(key, &json, report.annotated_png.as_deref()) {
                    tracing::warn!(error = %e, "result not cached");
                }
            }
            Err(e) => tracing::warn!(error = %e, "report not serialised for the cache"),
        }
    }

    fn record(&mut self, job: RecordJob) -> Result<String, String> {
        let store = self.store.as_mut().map_err(|e| e.clone())?;
        let created_at = now_s();
        let count = store.case_count().map_err(|e| e.to_string())?;
        let case = |n: u64| NewCase {
            case_id: format!("{}-{}-{n:04}", self.config.kiosk_id, ymd(created_at)),
            kind: job.kind.to_owned(),
            created_at,
            claims: job.claims.clone(),
            verdict: job.verdict.clone(),
            risk: job.risk,
            report: job.report.clone(),
            images: job
                .images
                .iter()
                .map(|(role, bytes)| NewImage {
                    role: role.clone(),
                    bytes: bytes.clone(),
                })
                .collect(),
        };
        let first = case(count + 1);
        match store.record_case(&first) {
            Ok(_) => Ok(first.case_id),
            // The count can lag a deleted row; one more try with the next number.
            Err(_) => {
                let second = case(count + 2);
                store
                    .record_case(&second)
                    .map(|_| second.case_id)
                    .map_err(|e| e.to_string())
            }
        }
    }

    fn lookup(&mut self, imei: &str) -> LookupOutcome {
        let index = match StolenIndex::open(&self.config.index, LoadMode::File) {
            Ok(index) => index,
            Err(e) => {
                return LookupOutcome::Unavailable(format!(
                    "stolen-IMEI index {}: {e}",
                    self.config.index.display()
                ))
            }
        };
        match index.lookup_imei(imei) {
            Ok(None) => LookupOutcome::Clear,
            Ok(Some(hit)) => {
                // The alert for the reporting thana goes out through the outbox; the answer
                // never waits on it.
                match self.store.as_mut() {
                    Ok(store) => {
                        if let Err(e) = store.record_event(&EventMsg::LookupHit(LookupHit {
                            at: now_s(),
                            imei: imei.to_owned(),
                        })) {
                            tracing::warn!(error = %e, "lookup hit not queued");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "lookup hit not queued"),
                }
                LookupOutcome::Stolen {
                    reported_at: hit.reported_at,
                    theft_location: hit.theft_location,
                }
            }
            Err(e) => LookupOutcome::Unavailable(e.to_string()),
        }
    }
}

/// Serve the camera on its own thread: previews every `frame_every` while asked, stills on
/// demand, and an auto-capture hint when `detector` fires.
pub fn spawn_camera(
    mut camera: Box<dyn Camera>,
    mut detector: Option<SteadyDetector>,
    frame_every: Duration,
    commands: Receiver<CameraCmd>,
    replies: Sender<Reply>,
    wake: Wake,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("kiosk-camera".into())
        .spawn(move || {
            let send = |r: Reply| {
                let _ = replies.send(r);
                wake();
            };
            let mut previewing = false;
            loop {
                let cmd = if previewing {
                    commands.recv_timeout(frame_every)
                } else {
                    commands.recv().map_err(|_| RecvTimeoutError::Disconnected)
                };
                match cmd {
                    Ok(CameraCmd::Preview(on)) => previewing = on,
                    Ok(CameraCmd::Capture { session }) => send(Reply::Captured {
                        session,
                        result: camera.capture().map_err(|e| e.to_string()),
                    }),
                    Err(RecvTimeoutError::Timeout) => match camera.preview() {
                        Ok(frame) => {
                            let fire = detector.as_mut().is_some_and(|d| d.feed(&frame));
                            send(Reply::Frame(frame));
                            if fire {
                                send(Reply::AutoCapture);
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "no preview frame");
                            previewing = false;
                        }
                    },
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        })
        .map(|_| ())
}

/// Both ends of a channel.
pub type Channel<T> = (Sender<T>, Receiver<T>);

/// The app's channels: jobs for the worker, commands for the camera, replies for the UI.
pub fn channels() -> (Channel<Job>, Channel<CameraCmd>, Channel<Reply>) {
    (mpsc::channel(), mpsc::channel(), mpsc::channel())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        for (unix, want) in [
            (0, "19700101"),
            (951_782_400, "20000229"),
            (1_796_515_200, "20261206"),
            (4_107_542_400, "21000301"),
        ] {
            assert_eq!(ymd(unix), want, "{unix}");
        }
    }
}
