//! Headless rendering with Slint's software renderer: `jachai-kiosk screenshots` (every screen in
//! Bengali and English to PNG) and the UI bench. Installs its own minimal platform, so it runs
//! with no display.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use anyhow::Context as _;
use image::{Rgb, RgbImage};
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};
use slint::{ComponentHandle, PhysicalSize, Rgb8Pixel};
use verify::report::{Explanation, Finding, Report, Severity, Stage, StageStatus, Verdict};
use verify::{DocumentKind, ProgressEvent};

use crate::controller::{geo, Flow, FlowConfig, Kiosk, Lang, LookupOutcome};
use crate::hardware::{SimulatedCamera, SimulatedGpio};
use crate::services::WorkerConfig;
use crate::ui::{KioskApp, Parts};

/// The kiosk's display: the official Raspberry Pi 7" touchscreen.
pub const WIDTH: u32 = 800;
pub const HEIGHT: u32 = 480;

struct HeadlessPlatform {
    window: Rc<MinimalSoftwareWindow>,
    start: std::time::Instant,
}

impl Platform for HeadlessPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        Ok(self.window.clone())
    }

    fn duration_since_start(&self) -> Duration {
        self.start.elapsed()
    }
}

/// A window rendered in memory.
pub struct Headless {
    window: Rc<MinimalSoftwareWindow>,
    buffer: Vec<Rgb8Pixel>,
}

impl std::fmt::Debug for Headless {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Headless").finish()
    }
}

impl Headless {
    /// Install the headless platform on this thread (once per process).
    pub fn install() -> anyhow::Result<Self> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        window.set_size(PhysicalSize::new(WIDTH, HEIGHT));
        slint::platform::set_platform(Box::new(HeadlessPlatform {
            window: window.clone(),
            start: std::time::Instant::now(),
        }))
        .map_err(|e| anyhow::anyhow!("cannot install the headless platform: {e}"))?;
        Ok(Headless {
            window,
            buffer: vec![Rgb8Pixel::new(0, 0, 0); (WIDTH * HEIGHT) as usize],
        })
    }

    /// Run timers, then render if anything changed; whether a frame was drawn.
    pub fn draw(&mut self) -> bool {
        slint::platform::update_timers_and_animations();
        let buffer = &mut self.buffer;
        self.window.draw_if_needed(|renderer| {
            renderer.render(buffer, WIDTH as usize);
        })
    }

    /// Render now and return the frame.
    pub fn snapshot(&mut self) -> RgbImage {
        self.window.request_redraw();
        self.draw();
        self.frame()
    }

    /// The last frame drawn.
    pub fn frame(&self) -> RgbImage {
        RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
            let p = self.buffer[(y * WIDTH + x) as usize];
            Rgb([p.r, p.g, p.b])
        })
    }

    /// A tap at (x, y) in logical pixels.
    pub fn tap(&self, x: f32, y: f32) {
        use slint::platform::{PointerEventButton, WindowEvent};
        let position = slint::LogicalPosition::new(x, y);
        self.window
            .try_dispatch_event(WindowEvent::PointerPressed {
                position,
                button: PointerEventButton::Left,
            })
            .ok();
        self.window
            .try_dispatch_event(WindowEvent::PointerReleased {
                position,
                button: PointerEventButton::Left,
            })
            .ok();
    }
}

/// A "page in the tray" picture for the simulated camera of the screenshots.
pub fn sample_page() -> RgbImage {
    RgbImage::from_fn(640, 480, |x, y| {
        let on_page = (120..520).contains(&x) && (40..450).contains(&y);
        if !on_page {
            return Rgb([54, 60, 64]);
        }
        let line = (80..430).contains(&y) && y % 22 < 3 && (150..490).contains(&x);
        let seal = (x as i32 - 430).pow(2) + (y as i32 - 380).pow(2) < 30 * 30;
        if seal {
            Rgb([70, 90, 170])
        } else if line {
            Rgb([60, 60, 60])
        } else {
            Rgb([246, 244, 236])
        }
    })
}

/// The report shown on the result screenshots: what `verify` says about a GD copy whose GD
/// number was altered (sample data for the screenshots only).
pub fn sample_report() -> Report {
    Report {
        sha256: "0".repeat(64),
        kind: DocumentKind::Gd,
        verdict: Verdict::Review,
        risk: 45,
        findings: vec![
            Finding::new(
                "ela_hotspot",
                Stage::Ela,
                Severity::High,
                25,
                "The GD number area was edited after the photo was taken",
                "ছবি তোলার পরে জিডি নম্বরের অংশটি সম্পাদনা করা হয়েছে",
            ),
            Finding::new(
                "imei_mismatch",
                Stage::Fields,
                Severity::Medium,
                20,
                "The IMEI on the GD copy differs from the one typed",
                "জিডির কপিতে লেখা আইএমইআই আর টাইপ করা আইএমইআই আলাদা",
            ),
        ],
        fields: Default::default(),
        located: Vec::new(),
        explanation: Some(Explanation {
            en: "An officer will compare the copy with the thana's register.".into(),
            bn: "একজন কর্মকর্তা থানার রেজিস্টারের সঙ্গে কপিটি মিলিয়ে দেখবেন।".into(),
        }),
        stages: Vec::new(),
        annotated_png: None,
    }
}

fn type_keys(k: &mut Kiosk, digits: &str) {
    for c in digits.chars() {
        let _ = k.key(&c.to_string());
    }
}

fn pick_mirpur(k: &mut Kiosk) {
    if let Some(dhaka) = geo::district_by_name("Dhaka") {
        let _ = k.pick_district(dhaka);
        if let Some(m) = geo::thana_choices(Lang::En, dhaka)
            .into_iter()
            .find(|c| c.label == "Mirpur")
        {
            let _ = k.pick_thana(m.index);
        }
        k.follow_selection();
    }
}

/// Each screen, as a name and the steps that bring a fresh kiosk there.
type Step = fn(&mut Kiosk);

fn screens() -> Vec<(&'static str, Step)> {
    let list: [(&'static str, Step); 11] = [
        ("home", |_| {}),
        ("imei", |k| {
            let _ = k.start(Flow::Report);
            type_keys(k, "49015420323751");
        }),
        ("imei-valid", |k| {
            let _ = k.start(Flow::Report);
            type_keys(k, "490154203237518");
        }),
        ("place", |k| {
            let _ = k.start(Flow::Report);
            type_keys(k, "490154203237518");
            let _ = k.imei_next();
            pick_mirpur(k);
        }),
        ("mobile", |k| {
            let _ = k.start(Flow::Report);
            type_keys(k, "490154203237518");
            let _ = k.imei_next();
            pick_mirpur(k);
            let _ = k.place_next();
            type_keys(k, "0171234567");
        }),
        ("capture", |k| {
            let _ = k.start(Flow::Cheque);
        }),
        ("verifying", |k| {
            let _ = k.start(Flow::Image);
            let s = k.session.id;
            k.on_captured(s, Ok(vec![0]));
            let _ = k.accept();
            for (stage, p) in [(Stage::Intake, 10), (Stage::Metadata, 20), (Stage::Ela, 35)] {
                k.on_progress(
                    s,
                    &ProgressEvent::StageFinished {
                        stage,
                        status: StageStatus::Ok,
                        ms: 10,
                        progress: p,
                    },
                );
            }
            k.on_progress(
                s,
                &ProgressEvent::StageStarted {
                    stage: Stage::CopyMove,
                    progress: 40,
                },
            );
        }),
        ("result", |k| {
            to_result(k);
        }),
        ("receipt", |k| {
            to_result(k);
            let s = k.session.id;
            k.on_recorded(s, Ok("dhk-mirpur-01-20261206-0007".into()));
            let _ = k.result_continue();
        }),
        ("lookup-stolen", |k| {
            let _ = k.start(Flow::CheckImei);
            type_keys(k, "356938035643809");
            let _ = k.imei_next();
            let s = k.session.id;
            k.on_lookup(
                s,
                LookupOutcome::Stolen {
                    reported_at: "2026-11-30".into(),
                    theft_location: "Mirpur, Dhaka".into(),
                },
            );
        }),
        ("pin", |k| {
            let _ = k.open_pin();
            type_keys(k, "24");
        }),
    ];
    list.to_vec()
}

fn to_result(k: &mut Kiosk) {
    let _ = k.start(Flow::Report);
    type_keys(k, "490154203237518");
    let _ = k.imei_next();
    pick_mirpur(k);
    let _ = k.place_next();
    let _ = k.mobile_skip();
    let s = k.session.id;
    k.on_captured(s, Ok(vec![0]));
    let _ = k.accept();
    let _ = k.skip_capture();
    let _ = k.on_verified(s, Ok(sample_report()));
}

/// The parts for a headless kiosk whose store lives in `dir`.
pub fn headless_parts(dir: &Path, camera_file: &Path) -> anyhow::Result<Parts> {
    Ok(Parts {
        camera: Box::new(SimulatedCamera::open(camera_file)?),
        gpio: Box::new(SimulatedGpio::new().0),
        worker: WorkerConfig {
            kiosk_id: "dhk-mirpur-01".into(),
            db: dir.join("kiosk.db"),
            blobs: dir.join("blobs"),
            index: dir.join("stolen"),
            printer: Some(PathBuf::from("/dev/usb/lp0")),
        },
        flow: FlowConfig {
            idle_timeout_s: 90,
            maintenance_pin: "2468".into(),
        },
        auto_capture: false,
        health: Vec::new(),
    })
}

/// Render every screen in both languages to `out/<screen>-<lang>.png`; returns the files.
pub fn screenshots(out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let scratch = tempfile_dir()?;
    let page_file = scratch.join("page.png");
    sample_page().save(&page_file)?;
    let mut headless = Headless::install()?;
    let kiosk = KioskApp::new(headless_parts(&scratch, &page_file)?)?;
    kiosk
        .app()
        .window()
        .set_size(PhysicalSize::new(WIDTH, HEIGHT));
    kiosk.app().show()?;
    let mut written = Vec::new();
    for (name, steps) in screens() {
        for lang in [Lang::Bn, Lang::En] {
            kiosk.with_controller(|k| {
                k.end();
                steps(k);
                if lang == Lang::En {
                    k.toggle_lang();
                }
            });
            if name == "capture" {
                // Wait for the simulated camera's first preview frame.
                let until = std::time::Instant::now() + Duration::from_secs(5);
                while std::time::Instant::now() < until
                    && !kiosk
                        .app()
                        .global::<crate::ui::CaptureAdapter>()
                        .get_has_preview()
                {
                    kiosk.pump();
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            if name == "result" || name == "receipt" {
                kiosk.set_annotated(&image::DynamicImage::ImageRgb8(sample_page()).to_rgba8());
            }
            let path = out.join(format!("{name}-{}.png", lang.code()));
            headless
                .snapshot()
                .save(&path)
                .with_context(|| format!("writing {}", path.display()))?;
            written.push(path);
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(written)
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("jachai-shots-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
