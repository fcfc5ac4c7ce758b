//! The Slint side of the kiosk. Each page's `.slint` file exports an adapter global; this module
//! meets each adapter in one place: `connect_*` wires its callbacks to the [`Kiosk`] controller,
//! `show_*` fills its properties from the controller's state. Work goes to the worker and camera
//! threads ([`crate::services`]); their answers come back through the event loop (`pump`).

// The generated code is not ours to lint.
#[allow(
    missing_debug_implementations,
    unused_qualifications,
    clippy::all,
    clippy::unwrap_used,
    clippy::todo
)]
mod generated {
    slint::include_modules!();
}

pub use generated::*;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::Duration;

use slint::{
    ComponentHandle, Image, ModelRc, Rgb8Pixel, Rgba8Pixel, SharedPixelBuffer, SharedString,
    VecModel,
};
use verify::report::{Severity, Stage, Verdict};

use crate::controller::entry::{
    localise_digits, LuhnState as CtlLuhn, MobileState as CtlMobile, IMEI_GROUPS, MOBILE_GROUPS,
};
use crate::controller::{
    geo, Effect, Flow, FlowConfig, Kiosk, Lang, LookupOutcome, Role, ScanNote, Screen,
    StageState as CtlStage,
};
use crate::hardware::{Camera, Gpio, SteadyDetector};
use crate::services::{self, CameraCmd, Job, Reply, Wake, Worker, WorkerConfig};

/// What the app is built from.
pub struct Parts {
    pub camera: Box<dyn Camera>,
    pub gpio: Box<dyn Gpio>,
    pub worker: WorkerConfig,
    pub flow: FlowConfig,
    pub auto_capture: bool,
    /// Lines for the maintenance screen (from `doctor`).
    pub health: Vec<crate::doctor::Check>,
}

impl std::fmt::Debug for Parts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parts")
            .field("camera", &self.camera.describe())
            .field("gpio", &self.gpio.describe())
            .field("worker", &self.worker)
            .finish()
    }
}

struct Shared {
    app: slint::Weak<App>,
    ctl: RefCell<Kiosk>,
    jobs: Sender<Job>,
    camera: Sender<CameraCmd>,
    replies: Receiver<Reply>,
    gpio: RefCell<Box<dyn Gpio>>,
    printer: bool,
    health: Vec<crate::doctor::Check>,
    previewing: Cell<bool>,
    pin_wrong: Cell<bool>,
    annotated: RefCell<Option<Image>>,
    qr: RefCell<Option<(String, Image)>>,
}

/// The running kiosk UI.
pub struct KioskApp {
    app: App,
    shared: Rc<Shared>,
    _timers: Vec<slint::Timer>,
}

impl std::fmt::Debug for KioskApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KioskApp")
            .field("screen", &self.shared.ctl.borrow().screen)
            .finish()
    }
}

impl KioskApp {
    /// Build the window, start the worker and camera threads and wire everything up. Needs a
    /// Slint platform (the default backend, the testing backend, or the screenshot renderer).
    pub fn new(parts: Parts) -> anyhow::Result<Self> {
        let app = App::new()?;
        // The platform exists now (App::new starts the default backend if none was set).
        crate::fonts::register();
        let ((jobs_tx, jobs_rx), (cam_tx, cam_rx), (reply_tx, reply_rx)) = services::channels();
        let weak = app.as_weak();
        let wake: Wake = Arc::new(move || {
            // Fails only without a running event loop (tests pump by hand).
            let _ = weak.upgrade_in_event_loop(|app| app.global::<AppAdapter>().invoke_pump());
        });
        Worker::new(parts.worker.clone()).spawn(jobs_rx, reply_tx.clone(), wake.clone())?;
        let detector = parts
            .auto_capture
            .then(|| SteadyDetector::new(6, 3.0, 60.0));
        services::spawn_camera(
            parts.camera,
            detector,
            Duration::from_millis(200),
            cam_rx,
            reply_tx,
            wake,
        )?;
        let shared = Rc::new(Shared {
            app: app.as_weak(),
            ctl: RefCell::new(Kiosk::new(parts.flow)),
            jobs: jobs_tx,
            camera: cam_tx,
            replies: reply_rx,
            gpio: RefCell::new(parts.gpio),
            printer: parts.worker.printer.is_some(),
            health: parts.health,
            previewing: Cell::new(false),
            pin_wrong: Cell::new(false),
            annotated: RefCell::new(None),
            qr: RefCell::new(None),
        });
        app.global::<AppAdapter>()
            .set_kiosk_id(parts.worker.kiosk_id.clone().into());
        connect_app(&app, &shared);
        connect_home(&app, &shared);
        connect_imei(&app, &shared);
        connect_place(&app, &shared);
        connect_mobile(&app, &shared);
        connect_capture(&app, &shared);
        connect_result(&app, &shared);
        connect_receipt(&app, &shared);
        connect_lookup(&app, &shared);
        connect_maintenance(&app, &shared);

        let idle = slint::Timer::default();
        let s = shared.clone();
        idle.start(
            slint::TimerMode::Repeated,
            Duration::from_secs(1),
            move || {
                let wiped = s.ctl.borrow_mut().tick_second();
                if wiped {
                    s.annotated.replace(None);
                    s.qr.replace(None);
                }
                s.render();
            },
        );
        let buttons = slint::Timer::default();
        let s = shared.clone();
        buttons.start(
            slint::TimerMode::Repeated,
            Duration::from_millis(50),
            move || {
                let pressed = s.gpio.borrow_mut().take_button_press();
                match pressed {
                    Ok(true) => s.act(|k| k.capture()),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "capture button"),
                }
            },
        );
        shared.render();
        Ok(KioskApp {
            app,
            shared,
            _timers: vec![idle, buttons],
        })
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// Apply every answer the threads have sent so far.
    pub fn pump(&self) {
        self.shared.pump();
    }

    /// The controller (tests and the bench read the state from it).
    pub fn controller(&self) -> std::cell::Ref<'_, Kiosk> {
        self.shared.ctl.borrow()
    }

    /// Pump until `done` holds or `timeout` passes; whether it held.
    pub fn wait_for(&self, timeout: Duration, done: impl Fn(&Kiosk) -> bool) -> bool {
        let until = std::time::Instant::now() + timeout;
        loop {
            self.pump();
            if done(&self.shared.ctl.borrow()) {
                return true;
            }
            if std::time::Instant::now() >= until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Show the window and run the event loop until it closes.
    pub fn run(&self) -> anyhow::Result<()> {
        self.app.run()?;
        Ok(())
    }

    /// Put the controller in a given state and render it (screenshots).
    pub fn with_controller(&self, f: impl FnOnce(&mut Kiosk)) {
        f(&mut self.shared.ctl.borrow_mut());
        self.shared.render();
    }

    /// Set the annotated image shown on the result screen (screenshots).
    pub fn set_annotated(&self, img: &image::RgbaImage) {
        self.shared.annotated.replace(Some(rgba_image(img)));
        self.shared.render();
    }
}

impl Shared {
    /// Run a controller action, start the work it asks for, and re-render.
    fn act<T>(&self, f: impl FnOnce(&mut Kiosk) -> Result<T, crate::controller::Refused>)
    where
        T: IntoEffects,
    {
        let outcome = f(&mut self.ctl.borrow_mut());
        match outcome {
            Ok(t) => self.start(t.into_effects()),
            Err(refused) => tracing::debug!(%refused, "action refused"),
        }
        self.render();
    }

    fn start(&self, effects: Vec<Effect>) {
        for effect in effects {
            let sent = match effect {
                Effect::Capture { session } => {
                    self.camera.send(CameraCmd::Capture { session }).is_ok()
                }
                Effect::Verify(job) => {
                    self.annotated.replace(None);
                    self.jobs.send(Job::Verify(job)).is_ok()
                }
                Effect::Record(job) => self.jobs.send(Job::Record(job)).is_ok(),
                Effect::Lookup { session, imei } => {
                    self.jobs.send(Job::Lookup { session, imei }).is_ok()
                }
                Effect::Print { session, receipt } => {
                    self.jobs.send(Job::Print { session, receipt }).is_ok()
                }
                Effect::ScanImei { session, bytes } => {
                    self.jobs.send(Job::ScanImei { session, bytes }).is_ok()
                }
            };
            if !sent {
                tracing::error!("a kiosk thread has stopped");
            }
        }
    }

    fn pump(&self) {
        let mut changed = false;
        while let Ok(reply) = self.replies.try_recv() {
            changed = true;
            let effects = {
                let mut k = self.ctl.borrow_mut();
                match reply {
                    Reply::Progress { session, event } => {
                        k.on_progress(session, &event);
                        Vec::new()
                    }
                    Reply::Verified {
                        session,
                        result,
                        annotated,
                    } => {
                        if session == k.session.id {
                            self.annotated.replace(annotated.as_ref().map(rgba_image));
                        }
                        k.on_verified(session, result)
                    }
                    Reply::Recorded { session, result } => {
                        k.on_recorded(session, result);
                        Vec::new()
                    }
                    Reply::Looked { session, outcome } => {
                        k.on_lookup(session, outcome);
                        Vec::new()
                    }
                    Reply::Printed { session, result } => {
                        k.on_printed(session, result);
                        Vec::new()
                    }
                    Reply::Scanned { session, result } => {
                        k.on_scanned(session, result);
                        Vec::new()
                    }
                    Reply::Captured { session, result } => {
                        k.on_captured(session, result);
                        Vec::new()
                    }
                    Reply::Frame(frame) => {
                        if k.illumination() {
                            if let Some(app) = self.app.upgrade() {
                                let a = app.global::<CaptureAdapter>();
                                a.set_preview(rgb_image(&frame));
                                a.set_has_preview(true);
                            }
                        }
                        Vec::new()
                    }
                    Reply::AutoCapture => {
                        if k.illumination() {
                            k.capture().unwrap_or_default()
                        } else {
                            Vec::new()
                        }
                    }
                }
            };
            self.start(effects);
        }
        if changed {
            self.render();
        }
    }

    /// Fill the adapters from the controller and set the hardware to match.
    fn render(&self) {
        let Some(app) = self.app.upgrade() else {
            return;
        };
        let k = self.ctl.borrow();
        let a = app.global::<AppAdapter>();
        a.set_bn(k.lang == Lang::Bn);
        a.set_page(page(k.screen));
        a.set_idle_seconds_left(i32::try_from(k.idle_left()).unwrap_or(i32::MAX));
        a.set_idle_counting(k.idle_counts());
        match k.screen {
            Screen::Home => clear_adapters(&app),
            Screen::Verifying => {}
            Screen::Imei => show_imei(&app, &k),
            Screen::Place => show_place(&app, &k),
            Screen::Mobile => show_mobile(&app, &k),
            Screen::Capture => show_capture(&app, &k),
            Screen::Result => show_result(&app, &k, self),
            Screen::Receipt => show_receipt(&app, &k, self),
            Screen::Lookup => show_lookup(&app, &k),
            Screen::Pin | Screen::Maintenance => show_maintenance(&app, &k, self),
        }
        if k.screen == Screen::Verifying {
            show_progress(&app, &k);
        }
        let preview = k.illumination();
        if preview != self.previewing.get() {
            self.previewing.set(preview);
            let _ = self.camera.send(CameraCmd::Preview(preview));
            if preview && k.session.still.is_none() && k.screen == Screen::Capture {
                app.global::<CaptureAdapter>().set_has_preview(false);
            }
        }
        let mut gpio = self.gpio.borrow_mut();
        if let Err(e) = gpio
            .set_led(k.led())
            .and_then(|()| gpio.set_illumination(preview))
        {
            tracing::warn!(error = %e, "gpio");
        }
    }
}

/// At home nothing of the last session stays in the adapters either.
fn clear_adapters(app: &App) {
    let i = app.global::<ImeiAdapter>();
    i.set_display(SharedString::default());
    i.set_count(0);
    i.set_kept(ModelRc::default());
    i.set_state(LuhnState::Incomplete);
    i.set_scan_state(ScanState::Idle);
    i.set_scan_found(SharedString::default());
    i.set_scan_error(SharedString::default());
    let m = app.global::<MobileAdapter>();
    m.set_display(SharedString::default());
    m.set_state(MobileState::Empty);
    let p = app.global::<PlaceAdapter>();
    p.set_districts(ModelRc::default());
    p.set_thanas(ModelRc::default());
    p.set_district_name(SharedString::default());
    let c = app.global::<CaptureAdapter>();
    c.set_preview(Image::default());
    c.set_has_preview(false);
    c.set_captured(false);
    let pr = app.global::<ProgressAdapter>();
    pr.set_stages(ModelRc::default());
    pr.set_percent(0);
    let r = app.global::<ResultAdapter>();
    r.set_annotated(Image::default());
    r.set_has_image(false);
    r.set_findings(ModelRc::default());
    r.set_report_id(SharedString::default());
    r.set_explanation_bn(SharedString::default());
    r.set_explanation_en(SharedString::default());
    let rc = app.global::<ReceiptAdapter>();
    rc.set_report_id(SharedString::default());
    rc.set_qr(Image::default());
    rc.set_place(SharedString::default());
    rc.set_imeis(ModelRc::default());
    let l = app.global::<LookupAdapter>();
    l.set_imei(SharedString::default());
    l.set_reported_at(SharedString::default());
    l.set_location(SharedString::default());
    let mt = app.global::<MaintenanceAdapter>();
    mt.set_pin_display(SharedString::default());
}

/// Controller actions return `()` or effects.
trait IntoEffects {
    fn into_effects(self) -> Vec<Effect>;
}

impl IntoEffects for () {
    fn into_effects(self) -> Vec<Effect> {
        Vec::new()
    }
}

impl IntoEffects for Vec<Effect> {
    fn into_effects(self) -> Vec<Effect> {
        self
    }
}

fn rgb_image(img: &image::RgbImage) -> Image {
    Image::from_rgb8(SharedPixelBuffer::<Rgb8Pixel>::clone_from_slice(
        img.as_raw(),
        img.width(),
        img.height(),
    ))
}

fn rgba_image(img: &image::RgbaImage) -> Image {
    Image::from_rgba8(SharedPixelBuffer::<Rgba8Pixel>::clone_from_slice(
        img.as_raw(),
        img.width(),
        img.height(),
    ))
}

fn page(screen: Screen) -> Page {
    match screen {
        Screen::Home => Page::Home,
        Screen::Imei => Page::Imei,
        Screen::Place => Page::Place,
        Screen::Mobile => Page::Mobile,
        Screen::Capture => Page::Capture,
        Screen::Verifying => Page::Verifying,
        Screen::Result => Page::Result,
        Screen::Receipt => Page::Receipt,
        Screen::Lookup => Page::Lookup,
        Screen::Pin => Page::Pin,
        Screen::Maintenance => Page::Maintenance,
    }
}

fn strings(items: impl IntoIterator<Item = String>) -> ModelRc<SharedString> {
    ModelRc::new(VecModel::from(
        items
            .into_iter()
            .map(SharedString::from)
            .collect::<Vec<_>>(),
    ))
}

/// Wire a callback with no arguments to a controller action.
macro_rules! on {
    ($adapter:expr, $setter:ident, $shared:expr, $action:expr) => {{
        let s = $shared.clone();
        $adapter.$setter(move || s.act($action));
    }};
}

fn connect_app(app: &App, shared: &Rc<Shared>) {
    let a = app.global::<AppAdapter>();
    on!(a, on_toggle_language, shared, |k: &mut Kiosk| {
        k.toggle_lang();
        Ok(())
    });
    let s = shared.clone();
    a.on_end_session(move || {
        s.ctl.borrow_mut().end();
        s.annotated.replace(None);
        s.qr.replace(None);
        s.render();
    });
    let s = shared.clone();
    a.on_open_maintenance(move || {
        s.pin_wrong.set(false);
        s.act(|k: &mut Kiosk| k.open_pin());
    });
    let s = Rc::downgrade(shared);
    a.on_pump(move || {
        if let Some(s) = s.upgrade() {
            s.pump();
        }
    });
}

fn connect_home(app: &App, shared: &Rc<Shared>) {
    let h = app.global::<HomeAdapter>();
    on!(h, on_report_stolen, shared, |k: &mut Kiosk| k
        .start(Flow::Report));
    on!(h, on_check_imei, shared, |k: &mut Kiosk| k
        .start(Flow::CheckImei));
    on!(h, on_check_cheque, shared, |k: &mut Kiosk| k
        .start(Flow::Cheque));
    on!(h, on_check_image, shared, |k: &mut Kiosk| k
        .start(Flow::Image));
}

fn connect_imei(app: &App, shared: &Rc<Shared>) {
    let i = app.global::<ImeiAdapter>();
    let s = shared.clone();
    i.on_key(move |key| s.act(|k: &mut Kiosk| k.key(&key)));
    let s = shared.clone();
    i.on_typed(move |text| s.act(|k: &mut Kiosk| k.set_text(&text)));
    on!(i, on_backspace, shared, |k: &mut Kiosk| {
        k.backspace();
        Ok(())
    });
    on!(i, on_clear, shared, |k: &mut Kiosk| {
        k.clear_entry();
        Ok(())
    });
    on!(i, on_add_another, shared, |k: &mut Kiosk| k.add_imei());
    on!(i, on_next, shared, |k: &mut Kiosk| k.imei_next());
    on!(i, on_scan, shared, |k: &mut Kiosk| k.scan_imei());
    on!(i, on_back, shared, |k: &mut Kiosk| {
        k.back();
        Ok(())
    });
}

fn show_imei(app: &App, k: &Kiosk) {
    let i = app.global::<ImeiAdapter>();
    let script = k.lang.script();
    i.set_checking(k.session.flow == Some(Flow::CheckImei));
    i.set_display(k.session.imei.display(script, IMEI_GROUPS).into());
    i.set_count(i32::try_from(k.session.imei.len()).unwrap_or(0));
    let (state, expected) = match k.imei_state() {
        CtlLuhn::Incomplete => (LuhnState::Incomplete, String::new()),
        CtlLuhn::Valid => (LuhnState::Valid, String::new()),
        CtlLuhn::Invalid { expected } => (LuhnState::Invalid, expected.to_string()),
    };
    i.set_state(state);
    i.set_expected_digit(localise_digits(&expected, script).into());
    i.set_kept(strings(
        k.session.imeis.iter().map(|m| localise_digits(m, script)),
    ));
    i.set_can_add(
        k.imei_state() == CtlLuhn::Valid && k.session.imeis.len() < crate::controller::MAX_IMEIS,
    );
    i.set_can_continue(k.imei_can_continue());
    let (scan, found, error) = match &k.session.scan {
        None => (ScanState::Idle, String::new(), String::new()),
        Some(ScanNote::Reading) => (ScanState::Reading, String::new(), String::new()),
        Some(ScanNote::Found(list)) => (
            ScanState::Found,
            localise_digits(&list.join(" "), script),
            String::new(),
        ),
        Some(ScanNote::NoneFound) => (ScanState::NoneFound, String::new(), String::new()),
        Some(ScanNote::Failed(e)) => (ScanState::Failed, String::new(), e.clone()),
    };
    i.set_scan_state(scan);
    i.set_scan_found(found.into());
    i.set_scan_error(error.into());
}

fn connect_place(app: &App, shared: &Rc<Shared>) {
    let p = app.global::<PlaceAdapter>();
    let s = shared.clone();
    p.on_pick_district(move |i| {
        s.act(|k: &mut Kiosk| k.pick_district(usize::try_from(i).unwrap_or(usize::MAX)))
    });
    let s = shared.clone();
    p.on_pick_thana(move |i| {
        s.act(|k: &mut Kiosk| k.pick_thana(usize::try_from(i).unwrap_or(usize::MAX)))
    });
    let s = shared.clone();
    p.on_page_districts(move |d| {
        s.act(|k: &mut Kiosk| {
            k.page_districts(d);
            Ok(())
        })
    });
    let s = shared.clone();
    p.on_page_thanas(move |d| {
        s.act(|k: &mut Kiosk| {
            k.page_thanas(d);
            Ok(())
        })
    });
    on!(p, on_next, shared, |k: &mut Kiosk| k.place_next());
    on!(p, on_back, shared, |k: &mut Kiosk| {
        k.back();
        Ok(())
    });
}

fn choices(list: Vec<geo::Choice>, selected: Option<usize>) -> ModelRc<Choice> {
    ModelRc::new(VecModel::from(
        list.into_iter()
            .map(|c| Choice {
                label: c.label.into(),
                index: i32::try_from(c.index).unwrap_or(-1),
                selected: Some(c.index) == selected,
            })
            .collect::<Vec<_>>(),
    ))
}

fn show_place(app: &App, k: &Kiosk) {
    let p = app.global::<PlaceAdapter>();
    let s = &k.session;
    let n = |x: usize| i32::try_from(x).unwrap_or(0);
    let (districts, page, pages) = k.district_page();
    p.set_districts(choices(districts, s.district));
    p.set_district_page(n(page));
    p.set_district_pages(n(pages));
    let (thanas, page, pages) = k.thana_page();
    p.set_thanas(choices(thanas, s.thana));
    p.set_thana_page(n(page));
    p.set_thana_pages(n(pages));
    let name = s
        .district
        .and_then(geo::district)
        .map(|d| k.lang.pick(&d.name_bn, &d.name_en).to_owned())
        .unwrap_or_default();
    p.set_district_name(name.into());
    p.set_can_continue(s.thana.is_some());
}

fn connect_mobile(app: &App, shared: &Rc<Shared>) {
    let m = app.global::<MobileAdapter>();
    let s = shared.clone();
    m.on_key(move |key| s.act(|k: &mut Kiosk| k.key(&key)));
    let s = shared.clone();
    m.on_typed(move |text| s.act(|k: &mut Kiosk| k.set_text(&text)));
    on!(m, on_backspace, shared, |k: &mut Kiosk| {
        k.backspace();
        Ok(())
    });
    on!(m, on_clear, shared, |k: &mut Kiosk| {
        k.clear_entry();
        Ok(())
    });
    on!(m, on_next, shared, |k: &mut Kiosk| k.mobile_next());
    on!(m, on_skip, shared, |k: &mut Kiosk| k.mobile_skip());
    on!(m, on_back, shared, |k: &mut Kiosk| {
        k.back();
        Ok(())
    });
}

fn show_mobile(app: &App, k: &Kiosk) {
    let m = app.global::<MobileAdapter>();
    m.set_display(
        k.session
            .mobile
            .display(k.lang.script(), MOBILE_GROUPS)
            .into(),
    );
    m.set_state(match k.mobile_state() {
        CtlMobile::Empty => MobileState::Empty,
        CtlMobile::Incomplete => MobileState::Incomplete,
        CtlMobile::Valid => MobileState::Valid,
        CtlMobile::Invalid => MobileState::Invalid,
    });
}

fn connect_capture(app: &App, shared: &Rc<Shared>) {
    let c = app.global::<CaptureAdapter>();
    on!(c, on_capture, shared, |k: &mut Kiosk| k.capture());
    on!(c, on_retake, shared, |k: &mut Kiosk| {
        k.retake();
        Ok(())
    });
    on!(c, on_accept, shared, |k: &mut Kiosk| k.accept());
    on!(c, on_skip, shared, |k: &mut Kiosk| k.skip_capture());
    on!(c, on_back, shared, |k: &mut Kiosk| {
        k.back();
        Ok(())
    });
}

fn show_capture(app: &App, k: &Kiosk) {
    let c = app.global::<CaptureAdapter>();
    c.set_role(match k.session.role {
        Some(Role::PhoneBox) => CaptureRole::PhoneBox,
        Some(Role::Cheque) => CaptureRole::Cheque,
        Some(Role::Image) => CaptureRole::Image,
        Some(Role::ImeiScan) => CaptureRole::ImeiScan,
        _ => CaptureRole::GdCopy,
    });
    c.set_captured(k.session.still.is_some());
    c.set_optional(k.capture_optional());
    c.set_error(
        k.session
            .camera_error
            .as_deref()
            .map(|e| format!("{}: {e}", k.lang.pick("ক্যামেরা সমস্যা", "Camera problem")))
            .unwrap_or_default()
            .into(),
    );
}

/// Stage names on the progress screen.
pub fn stage_label(stage: Stage) -> (&'static str, &'static str) {
    match stage {
        Stage::Intake => ("ছবি গ্রহণ", "Reading the image"),
        Stage::Geometry => ("কাগজ সোজা করা", "Straightening the page"),
        Stage::Metadata => ("ছবির তথ্য", "Image details"),
        Stage::Ela => ("সম্পাদনার চিহ্ন", "Signs of editing"),
        Stage::CopyMove => ("কপি করা অংশ", "Copied regions"),
        Stage::Noise => ("নয়েজ বিশ্লেষণ", "Noise analysis"),
        Stage::DoubleJpeg => ("পুনরায় সংরক্ষণ", "Re-saving traces"),
        Stage::Ocr => ("লেখা পড়া", "Reading the text"),
        Stage::Fields => ("তথ্য মিলানো", "Checking the details"),
        Stage::Structure => ("নথির গঠন", "Document layout"),
        Stage::Duplicates => ("আগে দেখা হয়েছে কি না", "Seen before?"),
        Stage::AiModel => ("এআই-তৈরি ছবি কি না", "Made by AI?"),
        Stage::Score => ("ফলাফল হিসাব", "Working out the result"),
        Stage::Annotate => ("ছবিতে চিহ্ন দেওয়া", "Marking the image"),
    }
}

fn show_progress(app: &App, k: &Kiosk) {
    let p = app.global::<ProgressAdapter>();
    p.set_percent(i32::from(k.session.progress));
    p.set_stages(ModelRc::new(VecModel::from(
        k.session
            .stages
            .iter()
            .map(|r| {
                let (bn, en) = stage_label(r.stage);
                StageRow {
                    bn: bn.into(),
                    en: en.into(),
                    state: match r.state {
                        CtlStage::Running => StageState::Running,
                        CtlStage::Done => StageState::Done,
                        CtlStage::Skipped => StageState::Skipped,
                        CtlStage::Failed => StageState::Failed,
                    },
                }
            })
            .collect::<Vec<_>>(),
    )));
}

fn connect_result(app: &App, shared: &Rc<Shared>) {
    let r = app.global::<ResultAdapter>();
    let s = shared.clone();
    r.on_proceed(move || {
        s.act(|k: &mut Kiosk| k.result_continue());
        if s.ctl.borrow().screen == Screen::Home {
            s.annotated.replace(None);
        }
    });
}

fn show_result(app: &App, k: &Kiosk, shared: &Shared) {
    let r = app.global::<ResultAdapter>();
    let s = &k.session;
    match &s.report {
        Some(report) => {
            r.set_verdict(match report.verdict {
                Verdict::Approve => VerdictKind::Approve,
                Verdict::Review => VerdictKind::Review,
                Verdict::Reject => VerdictKind::Reject,
            });
            r.set_risk(i32::try_from(report.risk).unwrap_or(100));
            r.set_findings(ModelRc::new(VecModel::from(
                report
                    .findings
                    .iter()
                    .map(|f| FindingRow {
                        bn: f.bn.clone().into(),
                        en: f.en.clone().into(),
                        severe: matches!(f.severity, Severity::High | Severity::Critical),
                    })
                    .collect::<Vec<_>>(),
            )));
            let (bn, en) = report
                .explanation
                .as_ref()
                .map(|e| (e.bn.clone(), e.en.clone()))
                .unwrap_or_default();
            r.set_explanation_bn(bn.into());
            r.set_explanation_en(en.into());
            r.set_error(SharedString::default());
        }
        None => {
            r.set_verdict(VerdictKind::Error);
            r.set_findings(ModelRc::default());
            r.set_explanation_bn(SharedString::default());
            r.set_explanation_en(SharedString::default());
            r.set_error(s.verify_error.clone().unwrap_or_default().into());
        }
    }
    match &*shared.annotated.borrow() {
        Some(img) => {
            r.set_annotated(img.clone());
            r.set_has_image(true);
        }
        None => r.set_has_image(false),
    }
    // Report ids stay in ASCII digits everywhere: they are typed into the web check and printed.
    r.set_report_id(s.case_id.clone().unwrap_or_default().into());
    r.set_storing(s.report.is_some() && s.case_id.is_none() && s.store_error.is_none());
    r.set_store_error(s.store_error.clone().unwrap_or_default().into());
    r.set_has_receipt(s.flow == Some(Flow::Report) && s.report.is_some());
}

fn connect_receipt(app: &App, shared: &Rc<Shared>) {
    let r = app.global::<ReceiptAdapter>();
    on!(r, on_print, shared, |k: &mut Kiosk| k.print());
    let s = shared.clone();
    r.on_done(move || {
        s.ctl.borrow_mut().end();
        s.annotated.replace(None);
        s.qr.replace(None);
        s.render();
    });
}

fn show_receipt(app: &App, k: &Kiosk, shared: &Shared) {
    let r = app.global::<ReceiptAdapter>();
    let Some(receipt) = k.receipt() else {
        return;
    };
    let script = k.lang.script();
    r.set_report_id(receipt.case_id.clone().into());
    let cached = shared
        .qr
        .borrow()
        .as_ref()
        .filter(|(id, _)| *id == receipt.case_id)
        .map(|(_, img)| img.clone());
    let qr = cached.or_else(|| {
        let gray =
            crate::receipt::qr_image(&crate::receipt::qr_payload(&receipt.case_id), 6).ok()?;
        let rgb = image::DynamicImage::ImageLuma8(gray).to_rgb8();
        let img = rgb_image(&rgb);
        shared
            .qr
            .replace(Some((receipt.case_id.clone(), img.clone())));
        Some(img)
    });
    if let Some(qr) = qr {
        r.set_qr(qr);
    }
    let s = &k.session;
    let place = match (
        s.thana.and_then(geo::thana),
        s.district.and_then(geo::district),
    ) {
        (Some(t), Some(d)) => format!(
            "{}, {}",
            k.lang.pick(&t.name_bn, &t.name_en),
            k.lang.pick(&d.name_bn, &d.name_en)
        ),
        _ => String::new(),
    };
    r.set_place(place.into());
    r.set_imeis(strings(
        receipt.imeis.iter().map(|m| localise_digits(m, script)),
    ));
    r.set_can_print(shared.printer);
    let (state, error) = match &s.printed {
        None => (PrintState::None, String::new()),
        Some(Ok(())) => (PrintState::Printed, String::new()),
        Some(Err(e)) => (PrintState::Failed, e.clone()),
    };
    r.set_print_state(state);
    r.set_print_error(error.into());
}

fn connect_lookup(app: &App, shared: &Rc<Shared>) {
    let l = app.global::<LookupAdapter>();
    let s = shared.clone();
    l.on_done(move || {
        s.ctl.borrow_mut().end();
        s.render();
    });
}

fn show_lookup(app: &App, k: &Kiosk) {
    let l = app.global::<LookupAdapter>();
    let imei = k.session.imei.display(k.lang.script(), IMEI_GROUPS);
    l.set_imei(imei.into());
    let (state, at, place, error) = match &k.session.lookup {
        None => (
            LookupState::Waiting,
            String::new(),
            String::new(),
            String::new(),
        ),
        Some(LookupOutcome::Clear) => (
            LookupState::Clear,
            String::new(),
            String::new(),
            String::new(),
        ),
        Some(LookupOutcome::Stolen {
            reported_at,
            theft_location,
        }) => (
            LookupState::Stolen,
            localise_digits(reported_at, k.lang.script()),
            theft_location.clone(),
            String::new(),
        ),
        Some(LookupOutcome::Unavailable(e)) => (
            LookupState::Unavailable,
            String::new(),
            String::new(),
            e.clone(),
        ),
    };
    l.set_state(state);
    l.set_reported_at(at.into());
    l.set_location(place.into());
    l.set_error(error.into());
}

fn connect_maintenance(app: &App, shared: &Rc<Shared>) {
    let m = app.global::<MaintenanceAdapter>();
    let s = shared.clone();
    m.on_key(move |key| {
        s.pin_wrong.set(false);
        s.act(|k: &mut Kiosk| k.key(&key));
    });
    on!(m, on_backspace, shared, |k: &mut Kiosk| {
        k.backspace();
        Ok(())
    });
    on!(m, on_clear, shared, |k: &mut Kiosk| {
        k.clear_entry();
        Ok(())
    });
    let s = shared.clone();
    m.on_enter(move || {
        let ok = s.ctl.borrow_mut().pin_enter().is_ok();
        s.pin_wrong.set(!ok);
        s.render();
    });
    let s = shared.clone();
    m.on_self_test(move || {
        // The LED walks through its states; the illumination blinks once.
        let mut gpio = s.gpio.borrow_mut();
        for led in [
            crate::controller::Led::Busy,
            crate::controller::Led::Attention,
            crate::controller::Led::Idle,
        ] {
            if let Err(e) = gpio.set_led(led) {
                tracing::warn!(error = %e, "self-test");
            }
        }
        let _ = gpio
            .set_illumination(true)
            .and_then(|()| gpio.set_illumination(false));
    });
    let s = shared.clone();
    m.on_close(move || {
        s.ctl.borrow_mut().end();
        s.render();
    });
}

fn show_maintenance(app: &App, k: &Kiosk, shared: &Shared) {
    let m = app.global::<MaintenanceAdapter>();
    m.set_pin_display("•".repeat(k.session.pin.len()).into());
    m.set_pin_wrong(shared.pin_wrong.get());
    if k.screen == Screen::Maintenance {
        m.set_checks(ModelRc::new(VecModel::from(
            shared
                .health
                .iter()
                .map(|c| CheckRow {
                    name: c.name.clone().into(),
                    ok: c.ok,
                    detail: c.detail.clone().into(),
                })
                .collect::<Vec<_>>(),
        )));
    }
}
