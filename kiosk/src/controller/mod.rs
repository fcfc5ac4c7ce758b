//! The kiosk's flows as a plain state machine: what screen is up, what the citizen typed and
//! captured, and what work the app must start (returned as [`Effect`]s). No Slint, no threads,
//! no I/O: the UI adapters call in, and render from, a [`Kiosk`].

pub mod entry;
pub mod geo;

use verify::report::{Report, Stage, StageStatus, Verdict};
use verify::{DocumentKind, ProgressEvent};

use entry::{imei_state, mobile_state, DigitEntry, LuhnState, MobileState};

/// The language on screen; Bengali first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Bn,
    En,
}

impl Lang {
    pub fn script(self) -> entry::Script {
        match self {
            Lang::Bn => entry::Script::Bengali,
            Lang::En => entry::Script::Latin,
        }
    }

    /// `bn` or `en`.
    pub fn pick<'a>(self, bn: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Bn => bn,
            Lang::En => en,
        }
    }

    pub fn code(self) -> &'static str {
        self.pick("bn", "en")
    }
}

/// What the citizen came to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Report a stolen phone: IMEIs, place, mobile, GD copy, phone box, verify, receipt.
    Report,
    /// Is this IMEI reported stolen?
    CheckImei,
    /// Check a cheque.
    Cheque,
    /// Check an image (scam screenshot).
    Image,
}

/// The screen on show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Home,
    Imei,
    Place,
    Mobile,
    Capture,
    Verifying,
    Result,
    Receipt,
    Lookup,
    Pin,
    Maintenance,
}

/// What an image is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    GdCopy,
    PhoneBox,
    Cheque,
    Image,
    /// A phone box's barcode or a `*#06#` screen, read for its IMEIs and not kept.
    ImeiScan,
}

impl Role {
    /// The role stored with the image.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::GdCopy => "gd_copy",
            Role::PhoneBox => "phone_box",
            Role::Cheque => "cheque",
            Role::Image => "image",
            Role::ImeiScan => "imei_scan",
        }
    }
}

/// One image the citizen accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    pub role: Role,
    pub bytes: Vec<u8>,
}

/// A pipeline stage on the progress screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageState {
    Running,
    Done,
    Skipped,
    Failed,
}

/// A stage row on the progress screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageRow {
    pub stage: Stage,
    pub state: StageState,
}

/// The answer to an IMEI check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupOutcome {
    Clear,
    Stolen {
        reported_at: String,
        theft_location: String,
    },
    /// The index could not answer (missing, unreadable).
    Unavailable(String),
}

/// What reading IMEIs off a picture gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanNote {
    /// The picture is being read.
    Reading,
    /// These IMEIs were read (and put in the entry, or kept for the report).
    Found(Vec<String>),
    /// No Luhn-valid IMEI on the picture.
    NoneFound,
    /// The reader failed (e.g. the OCR data is missing).
    Failed(String),
}

/// Work for the app to start on behalf of session `session`; its answer comes back through the
/// matching `on_*` method with the same session id, and is dropped if the session has ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Take a still from the camera.
    Capture { session: u64 },
    /// Run the pipeline off the UI thread.
    Verify(VerifyJob),
    /// Store a case, its images and its outbox row in one transaction.
    Record(RecordJob),
    /// Look an IMEI up in the offline stolen index (and queue an alert on a hit).
    Lookup { session: u64, imei: String },
    /// Print the receipt.
    Print { session: u64, receipt: Receipt },
    /// Read IMEIs off a picture (box barcode or `*#06#` screen).
    ScanImei { session: u64, bytes: Vec<u8> },
}

/// A verification to run.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyJob {
    pub session: u64,
    pub kind: DocumentKind,
    pub imeis: Vec<String>,
    pub bytes: Vec<u8>,
}

/// A case to store.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordJob {
    pub session: u64,
    /// `gd`, `cheque`, `image`.
    pub kind: &'static str,
    pub claims: serde_json::Map<String, serde_json::Value>,
    pub verdict: Option<String>,
    pub risk: Option<u8>,
    pub report: serde_json::Value,
    /// (role, bytes).
    pub images: Vec<(String, Vec<u8>)>,
}

/// What a receipt shows and prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub case_id: String,
    pub verdict: String,
    pub district_en: String,
    pub thana_en: String,
    pub imeis: Vec<String>,
}

/// The status LED.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Led {
    Idle,
    Busy,
    Attention,
}

/// Why an action was refused (the screen shows the state that explains it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("not on a screen that takes this")]
    WrongScreen,
    #[error("the IMEI is not complete and valid")]
    ImeiNotValid,
    #[error("at most {0} IMEIs")]
    TooManyImeis(usize),
    #[error("pick a district and a thana")]
    NoPlace,
    #[error("the mobile number is not valid")]
    MobileNotValid,
    #[error("nothing captured yet")]
    NothingCaptured,
    #[error("not yet stored")]
    NotStored,
    #[error("wrong PIN")]
    WrongPin,
    #[error("not a choice on this screen")]
    NoSuchChoice,
}

/// Choices per page of the place picker (big buttons, no scrolling).
pub const DISTRICTS_PER_PAGE: usize = 12;
pub const THANAS_PER_PAGE: usize = 8;

fn paged(list: Vec<geo::Choice>, page: usize, per: usize) -> (Vec<geo::Choice>, usize, usize) {
    let pages = list.len().div_ceil(per).max(1);
    let page = page.min(pages - 1);
    let items = list.into_iter().skip(page * per).take(per).collect();
    (items, page, pages)
}

fn turn(page: usize, delta: i32, pages: usize) -> usize {
    let last = pages.saturating_sub(1) as i64;
    usize::try_from((page as i64 + i64::from(delta)).clamp(0, last)).unwrap_or(0)
}

/// At most this many IMEIs per report (dual-SIM phones have two; some have more slots).
pub const MAX_IMEIS: usize = 4;

/// Everything one citizen typed, picked and captured. Dropped (overwritten first) when the
/// session ends or times out.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: u64,
    pub flow: Option<Flow>,
    pub imei: DigitEntry,
    pub imeis: Vec<String>,
    pub district: Option<usize>,
    pub thana: Option<usize>,
    /// Pages of the district and thana pickers on show.
    pub district_page: usize,
    pub thana_page: usize,
    pub mobile: DigitEntry,
    /// What the camera screen is capturing.
    pub role: Option<Role>,
    /// A still waiting for "use" or "retake".
    pub still: Option<Vec<u8>>,
    pub captures: Vec<Capture>,
    pub camera_error: Option<String>,
    pub progress: u8,
    pub stages: Vec<StageRow>,
    pub report: Option<Report>,
    pub verify_error: Option<String>,
    pub case_id: Option<String>,
    pub store_error: Option<String>,
    pub lookup: Option<LookupOutcome>,
    /// The last IMEI scan's outcome, shown on the IMEI screen.
    pub scan: Option<ScanNote>,
    pub printed: Option<Result<(), String>>,
    pub pin: DigitEntry,
}

impl Session {
    fn new(id: u64) -> Self {
        Session {
            id,
            flow: None,
            imei: DigitEntry::new(15),
            imeis: Vec::new(),
            district: None,
            thana: None,
            district_page: 0,
            thana_page: 0,
            mobile: DigitEntry::new(11),
            role: None,
            still: None,
            captures: Vec::new(),
            camera_error: None,
            progress: 0,
            stages: Vec::new(),
            report: None,
            verify_error: None,
            case_id: None,
            store_error: None,
            lookup: None,
            scan: None,
            printed: None,
            pin: DigitEntry::new(8),
        }
    }

    /// Overwrite what was typed and captured, then forget it.
    fn scrub(&mut self) {
        self.imei.clear();
        self.mobile.clear();
        self.pin.clear();
        for s in &mut self.imeis {
            // SAFETY-free overwrite: replace the contents before dropping.
            let len = s.len();
            s.clear();
            s.extend(std::iter::repeat_n('0', len));
        }
        if let Some(still) = &mut self.still {
            still.fill(0);
        }
        if let Some(ScanNote::Found(found)) = &mut self.scan {
            for s in found {
                let len = s.len();
                s.clear();
                s.extend(std::iter::repeat_n('0', len));
            }
        }
        for c in &mut self.captures {
            c.bytes.fill(0);
        }
        if let Some(r) = &mut self.report {
            if let Some(png) = &mut r.annotated_png {
                png.fill(0);
            }
        }
    }

    /// Whether nothing typed, picked or captured remains.
    pub fn is_blank(&self) -> bool {
        self.flow.is_none()
            && self.imei.is_empty()
            && self.imeis.is_empty()
            && self.district.is_none()
            && self.thana.is_none()
            && self.mobile.is_empty()
            && self.still.is_none()
            && self.captures.is_empty()
            && self.report.is_none()
            && self.case_id.is_none()
            && self.lookup.is_none()
            && self.scan.is_none()
            && self.pin.is_empty()
    }
}

/// Kiosk settings the flows need.
#[derive(Debug, Clone)]
pub struct FlowConfig {
    /// Seconds without a touch before the session is wiped.
    pub idle_timeout_s: u32,
    /// The maintenance PIN (digits).
    pub maintenance_pin: String,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            idle_timeout_s: 90,
            maintenance_pin: String::new(),
        }
    }
}

/// The kiosk's state.
#[derive(Debug)]
pub struct Kiosk {
    pub lang: Lang,
    pub screen: Screen,
    pub session: Session,
    idle_left: u32,
    config: FlowConfig,
}

impl Kiosk {
    pub fn new(config: FlowConfig) -> Self {
        Kiosk {
            lang: Lang::Bn,
            screen: Screen::Home,
            session: Session::new(1),
            idle_left: config.idle_timeout_s,
            config,
        }
    }

    /// Seconds left before an idle wipe (shown as a countdown).
    pub fn idle_left(&self) -> u32 {
        self.idle_left
    }

    /// Whether the idle countdown runs on this screen (not at home, not while verifying).
    pub fn idle_counts(&self) -> bool {
        !matches!(self.screen, Screen::Home | Screen::Verifying)
    }

    /// A touch: restart the idle countdown.
    pub fn touched(&mut self) {
        self.idle_left = self.config.idle_timeout_s;
    }

    /// One second passed; returns true when this wiped the session.
    pub fn tick_second(&mut self) -> bool {
        if !self.idle_counts() {
            self.idle_left = self.config.idle_timeout_s;
            return false;
        }
        self.idle_left = self.idle_left.saturating_sub(1);
        if self.idle_left == 0 {
            self.end();
            return true;
        }
        false
    }

    /// End the session (End button, Done, idle timeout): wipe it and go home in Bengali.
    pub fn end(&mut self) {
        self.session.scrub();
        let next = self.session.id.wrapping_add(1);
        self.session = Session::new(next);
        self.screen = Screen::Home;
        self.lang = Lang::Bn;
        self.idle_left = self.config.idle_timeout_s;
    }

    pub fn toggle_lang(&mut self) {
        self.touched();
        self.lang = match self.lang {
            Lang::Bn => Lang::En,
            Lang::En => Lang::Bn,
        };
        self.follow_selection();
    }

    /// Turn the pickers to the pages that show the picked district and thana (names sort
    /// differently in the other language).
    pub fn follow_selection(&mut self) {
        let s = &mut self.session;
        if let Some(d) = s.district {
            let list = geo::district_choices(self.lang);
            if let Some(pos) = list.iter().position(|c| c.index == d) {
                s.district_page = pos / DISTRICTS_PER_PAGE;
            }
            if let Some(t) = s.thana {
                let list = geo::thana_choices(self.lang, d);
                if let Some(pos) = list.iter().position(|c| c.index == t) {
                    s.thana_page = pos / THANAS_PER_PAGE;
                }
            }
        }
    }

    /// The districts page on show (its choices, its number, how many pages).
    pub fn district_page(&self) -> (Vec<geo::Choice>, usize, usize) {
        paged(
            geo::district_choices(self.lang),
            self.session.district_page,
            DISTRICTS_PER_PAGE,
        )
    }

    /// The thanas page on show for the picked district.
    pub fn thana_page(&self) -> (Vec<geo::Choice>, usize, usize) {
        match self.session.district {
            Some(d) => paged(
                geo::thana_choices(self.lang, d),
                self.session.thana_page,
                THANAS_PER_PAGE,
            ),
            None => (Vec::new(), 0, 0),
        }
    }

    /// Turn the districts picker `delta` pages (clamped).
    pub fn page_districts(&mut self, delta: i32) {
        self.touched();
        let pages = geo::district_choices(self.lang)
            .len()
            .div_ceil(DISTRICTS_PER_PAGE);
        self.session.district_page = turn(self.session.district_page, delta, pages);
    }

    /// Turn the thanas picker `delta` pages (clamped).
    pub fn page_thanas(&mut self, delta: i32) {
        self.touched();
        let pages = self
            .session
            .district
            .map_or(0, |d| geo::thana_choices(self.lang, d).len())
            .div_ceil(THANAS_PER_PAGE);
        self.session.thana_page = turn(self.session.thana_page, delta, pages);
    }

    /// Start a flow from the home screen.
    pub fn start(&mut self, flow: Flow) -> Result<Vec<Effect>, Refused> {
        if self.screen != Screen::Home {
            return Err(Refused::WrongScreen);
        }
        self.touched();
        self.session.flow = Some(flow);
        match flow {
            Flow::Report | Flow::CheckImei => self.screen = Screen::Imei,
            Flow::Cheque => self.show_capture(Role::Cheque),
            Flow::Image => self.show_capture(Role::Image),
        }
        Ok(Vec::new())
    }

    fn show_capture(&mut self, role: Role) {
        self.session.role = Some(role);
        self.session.still = None;
        self.session.camera_error = None;
        self.screen = Screen::Capture;
    }

    /// The keypad's entry on this screen.
    fn entry_mut(&mut self) -> Option<&mut DigitEntry> {
        match self.screen {
            Screen::Imei => Some(&mut self.session.imei),
            Screen::Mobile => Some(&mut self.session.mobile),
            Screen::Pin => Some(&mut self.session.pin),
            _ => None,
        }
    }

    /// A keypad key (either digit set) or typed text.
    pub fn key(&mut self, key: &str) -> Result<(), Refused> {
        self.touched();
        let entry = self.entry_mut().ok_or(Refused::WrongScreen)?;
        // A refused key (a letter, one digit too many) leaves the entry unchanged; the screen
        // shows why from the entry's state.
        let _ = entry.press(key);
        Ok(())
    }

    /// Replace the entry with `text` (accessibility "set value").
    pub fn set_text(&mut self, text: &str) -> Result<(), Refused> {
        self.touched();
        let entry = self.entry_mut().ok_or(Refused::WrongScreen)?;
        let _ = entry.set_text(text);
        Ok(())
    }

    pub fn backspace(&mut self) {
        self.touched();
        if let Some(e) = self.entry_mut() {
            e.backspace();
        }
    }

    pub fn clear_entry(&mut self) {
        self.touched();
        if let Some(e) = self.entry_mut() {
            e.clear();
        }
    }

    pub fn imei_state(&self) -> LuhnState {
        imei_state(self.session.imei.digits())
    }

    pub fn mobile_state(&self) -> MobileState {
        mobile_state(self.session.mobile.digits())
    }

    /// Keep the IMEI typed and clear the keypad for another (Report flow).
    pub fn add_imei(&mut self) -> Result<(), Refused> {
        self.touched();
        if self.screen != Screen::Imei || self.session.flow != Some(Flow::Report) {
            return Err(Refused::WrongScreen);
        }
        if self.imei_state() != LuhnState::Valid {
            return Err(Refused::ImeiNotValid);
        }
        if self.session.imeis.len() >= MAX_IMEIS {
            return Err(Refused::TooManyImeis(MAX_IMEIS));
        }
        let imei = self.session.imei.ascii();
        if !self.session.imeis.contains(&imei) {
            self.session.imeis.push(imei);
        }
        self.session.imei.clear();
        Ok(())
    }

    /// Whether "next" on the IMEI screen would be taken.
    pub fn imei_can_continue(&self) -> bool {
        match self.imei_state() {
            LuhnState::Valid => {
                self.session.flow == Some(Flow::CheckImei)
                    || self.session.imeis.len() < MAX_IMEIS
                    || self.session.imeis.contains(&self.session.imei.ascii())
            }
            LuhnState::Incomplete => {
                self.session.imei.is_empty()
                    && !self.session.imeis.is_empty()
                    && self.session.flow == Some(Flow::Report)
            }
            LuhnState::Invalid { .. } => false,
        }
    }

    /// "Next" on the IMEI screen.
    pub fn imei_next(&mut self) -> Result<Vec<Effect>, Refused> {
        self.touched();
        if self.screen != Screen::Imei {
            return Err(Refused::WrongScreen);
        }
        if !self.imei_can_continue() {
            return Err(Refused::ImeiNotValid);
        }
        match self.session.flow {
            Some(Flow::CheckImei) => {
                let imei = self.session.imei.ascii();
                self.session.lookup = None;
                self.screen = Screen::Lookup;
                Ok(vec![Effect::Lookup {
                    session: self.session.id,
                    imei,
                }])
            }
            Some(Flow::Report) => {
                if !self.session.imei.is_empty() {
                    self.add_imei()?;
                }
                self.screen = Screen::Place;
                Ok(Vec::new())
            }
            _ => Err(Refused::WrongScreen),
        }
    }

    /// "Scan" on the IMEI screen: photograph the phone box's barcode or the `*#06#` screen.
    pub fn scan_imei(&mut self) -> Result<(), Refused> {
        self.touched();
        if self.screen != Screen::Imei {
            return Err(Refused::WrongScreen);
        }
        self.session.scan = None;
        self.show_capture(Role::ImeiScan);
        Ok(())
    }

    /// The reader's answer to [`Effect::ScanImei`]. Checking an IMEI: the first one read goes
    /// into the entry, to be confirmed with "next". Reporting: each one read is kept (up to
    /// [`MAX_IMEIS`]), as if typed and added.
    pub fn on_scanned(&mut self, session: u64, result: Result<Vec<String>, String>) {
        if session != self.session.id || self.screen != Screen::Imei {
            return;
        }
        let found = match result {
            Err(e) => {
                self.session.scan = Some(ScanNote::Failed(e));
                return;
            }
            Ok(found) if found.is_empty() => {
                self.session.scan = Some(ScanNote::NoneFound);
                return;
            }
            Ok(found) => found,
        };
        match self.session.flow {
            Some(Flow::Report) => {
                for imei in &found {
                    if self.session.imeis.len() < MAX_IMEIS && !self.session.imeis.contains(imei) {
                        self.session.imeis.push(imei.clone());
                    }
                }
                self.session.imei.clear();
            }
            _ => {
                if let Some(first) = found.first() {
                    let _ = self.session.imei.set_text(first);
                }
            }
        }
        self.session.scan = Some(ScanNote::Found(found));
    }

    pub fn pick_district(&mut self, index: usize) -> Result<(), Refused> {
        self.touched();
        if self.screen != Screen::Place {
            return Err(Refused::WrongScreen);
        }
        geo::district(index).ok_or(Refused::NoSuchChoice)?;
        if self.session.district != Some(index) {
            self.session.district = Some(index);
            self.session.thana = None;
            self.session.thana_page = 0;
        }
        Ok(())
    }

    pub fn pick_thana(&mut self, index: usize) -> Result<(), Refused> {
        self.touched();
        if self.screen != Screen::Place {
            return Err(Refused::WrongScreen);
        }
        let thana = geo::thana(index).ok_or(Refused::NoSuchChoice)?;
        if Some(thana.district) != self.session.district {
            return Err(Refused::NoSuchChoice);
        }
        self.session.thana = Some(index);
        Ok(())
    }

    pub fn place_next(&mut self) -> Result<(), Refused> {
        self.touched();
        if self.screen != Screen::Place {
            return Err(Refused::WrongScreen);
        }
        if self.session.thana.is_none() {
            return Err(Refused::NoPlace);
        }
        self.screen = Screen::Mobile;
        Ok(())
    }

    /// "Next" on the mobile screen: a valid number or none.
    pub fn mobile_next(&mut self) -> Result<(), Refused> {
        self.touched();
        if self.screen != Screen::Mobile {
            return Err(Refused::WrongScreen);
        }
        match self.mobile_state() {
            MobileState::Valid | MobileState::Empty => {
                self.show_capture(Role::GdCopy);
                Ok(())
            }
            MobileState::Incomplete | MobileState::Invalid => Err(Refused::MobileNotValid),
        }
    }

    /// "Skip" on the mobile screen: no number.
    pub fn mobile_skip(&mut self) -> Result<(), Refused> {
        self.touched();
        if self.screen != Screen::Mobile {
            return Err(Refused::WrongScreen);
        }
        self.session.mobile.clear();
        self.show_capture(Role::GdCopy);
        Ok(())
    }

    /// The capture button (screen or GPIO).
    pub fn capture(&mut self) -> Result<Vec<Effect>, Refused> {
        self.touched();
        if self.screen != Screen::Capture || self.session.still.is_some() {
            return Err(Refused::WrongScreen);
        }
        Ok(vec![Effect::Capture {
            session: self.session.id,
        }])
    }

    /// The camera's answer to [`Effect::Capture`].
    pub fn on_captured(&mut self, session: u64, result: Result<Vec<u8>, String>) {
        if session != self.session.id || self.screen != Screen::Capture {
            return;
        }
        match result {
            Ok(bytes) => {
                self.session.still = Some(bytes);
                self.session.camera_error = None;
            }
            Err(e) => self.session.camera_error = Some(e),
        }
    }

    /// Discard the still and show the live preview again.
    pub fn retake(&mut self) {
        self.touched();
        if let Some(mut still) = self.session.still.take() {
            still.fill(0);
        }
    }

    /// Whether the capture screen may be skipped (the phone box is optional).
    pub fn capture_optional(&self) -> bool {
        self.session.role == Some(Role::PhoneBox)
    }

    /// Use the still: on to the next capture or to verification.
    pub fn accept(&mut self) -> Result<Vec<Effect>, Refused> {
        self.touched();
        if self.screen != Screen::Capture {
            return Err(Refused::WrongScreen);
        }
        let role = self.session.role.ok_or(Refused::WrongScreen)?;
        let bytes = self.session.still.take().ok_or(Refused::NothingCaptured)?;
        if role == Role::ImeiScan {
            // Read, not kept: the picture goes to the worker and nowhere else.
            self.session.role = None;
            self.session.scan = Some(ScanNote::Reading);
            self.screen = Screen::Imei;
            return Ok(vec![Effect::ScanImei {
                session: self.session.id,
                bytes,
            }]);
        }
        self.session.captures.retain(|c| c.role != role);
        self.session.captures.push(Capture { role, bytes });
        if role == Role::GdCopy {
            self.show_capture(Role::PhoneBox);
            return Ok(Vec::new());
        }
        Ok(self.start_verify())
    }

    /// Skip an optional capture.
    pub fn skip_capture(&mut self) -> Result<Vec<Effect>, Refused> {
        self.touched();
        if self.screen != Screen::Capture || !self.capture_optional() {
            return Err(Refused::WrongScreen);
        }
        self.session.still = None;
        Ok(self.start_verify())
    }

    fn start_verify(&mut self) -> Vec<Effect> {
        let (kind, role) = match self.session.flow {
            Some(Flow::Cheque) => (DocumentKind::Cheque, Role::Cheque),
            Some(Flow::Image) => (DocumentKind::Image, Role::Image),
            _ => (DocumentKind::Gd, Role::GdCopy),
        };
        let Some(capture) = self.session.captures.iter().find(|c| c.role == role) else {
            return Vec::new();
        };
        self.session.progress = 0;
        self.session.stages.clear();
        self.session.report = None;
        self.session.verify_error = None;
        self.screen = Screen::Verifying;
        vec![Effect::Verify(VerifyJob {
            session: self.session.id,
            kind,
            imeis: self.session.imeis.clone(),
            bytes: capture.bytes.clone(),
        })]
    }

    /// A progress event from the pipeline.
    pub fn on_progress(&mut self, session: u64, event: &ProgressEvent) {
        if session != self.session.id || self.screen != Screen::Verifying {
            return;
        }
        self.session.progress = event.progress();
        let (stage, state) = match *event {
            ProgressEvent::StageStarted { stage, .. } => (stage, StageState::Running),
            ProgressEvent::StageFinished { stage, status, .. } => (
                stage,
                match status {
                    StageStatus::Ok => StageState::Done,
                    StageStatus::Skipped => StageState::Skipped,
                    _ => StageState::Failed,
                },
            ),
        };
        match self.session.stages.iter_mut().find(|r| r.stage == stage) {
            Some(row) => row.state = state,
            None => self.session.stages.push(StageRow { stage, state }),
        }
    }

    /// The pipeline's answer: show the result and store the case.
    pub fn on_verified(&mut self, session: u64, result: Result<Report, String>) -> Vec<Effect> {
        if session != self.session.id || self.screen != Screen::Verifying {
            return Vec::new();
        }
        self.touched();
        self.screen = Screen::Result;
        match result {
            Ok(report) => {
                self.session.progress = 100;
                let job = self.record_job(&report);
                self.session.report = Some(report);
                vec![Effect::Record(job)]
            }
            Err(e) => {
                self.session.verify_error = Some(e);
                Vec::new()
            }
        }
    }

    fn record_job(&self, report: &Report) -> RecordJob {
        let s = &self.session;
        let mut claims = serde_json::Map::new();
        claims.insert("lang".into(), self.lang.code().into());
        if !s.imeis.is_empty() {
            claims.insert("imeis".into(), s.imeis.clone().into());
        }
        if let Some(d) = s.district.and_then(geo::district) {
            claims.insert("district".into(), d.name_en.clone().into());
        }
        if let Some(t) = s.thana.and_then(geo::thana) {
            claims.insert("thana".into(), t.name_en.clone().into());
        }
        if self.mobile_state() == MobileState::Valid {
            claims.insert("mobile".into(), s.mobile.ascii().into());
        }
        let mut summary = serde_json::to_value(report).unwrap_or(serde_json::Value::Null);
        if let Some(obj) = summary.as_object_mut() {
            obj.remove("annotated_png");
        }
        let mut images: Vec<(String, Vec<u8>)> = s
            .captures
            .iter()
            .map(|c| (c.role.as_str().to_owned(), c.bytes.clone()))
            .collect();
        if let Some(png) = &report.annotated_png {
            images.push(("annotated".into(), png.clone()));
        }
        RecordJob {
            session: s.id,
            kind: match s.flow {
                Some(Flow::Cheque) => "cheque",
                Some(Flow::Image) => "image",
                _ => "gd",
            },
            claims,
            verdict: Some(report.verdict.as_str().to_owned()),
            risk: u8::try_from(report.risk.min(100)).ok(),
            report: summary,
            images,
        }
    }

    /// The store's answer to [`Effect::Record`]: the report id, or why it was not stored.
    pub fn on_recorded(&mut self, session: u64, result: Result<String, String>) {
        if session != self.session.id {
            return;
        }
        match result {
            Ok(id) => {
                self.session.case_id = Some(id);
                self.session.store_error = None;
                // The images are durable in the store now; the session's copies can go.
                for c in &mut self.session.captures {
                    c.bytes.fill(0);
                }
                self.session.captures.clear();
            }
            Err(e) => self.session.store_error = Some(e),
        }
    }

    /// "Continue" on the result screen: the receipt (a stored report) or home.
    pub fn result_continue(&mut self) -> Result<(), Refused> {
        self.touched();
        if self.screen != Screen::Result {
            return Err(Refused::WrongScreen);
        }
        if self.session.flow == Some(Flow::Report) && self.session.report.is_some() {
            if self.session.case_id.is_none() {
                return Err(Refused::NotStored);
            }
            self.screen = Screen::Receipt;
        } else {
            self.end();
        }
        Ok(())
    }

    /// What the receipt shows.
    pub fn receipt(&self) -> Option<Receipt> {
        let s = &self.session;
        Some(Receipt {
            case_id: s.case_id.clone()?,
            verdict: s.report.as_ref()?.verdict.as_str().to_owned(),
            district_en: s
                .district
                .and_then(geo::district)
                .map(|d| d.name_en.clone())
                .unwrap_or_default(),
            thana_en: s
                .thana
                .and_then(geo::thana)
                .map(|t| t.name_en.clone())
                .unwrap_or_default(),
            imeis: s.imeis.clone(),
        })
    }

    pub fn print(&mut self) -> Result<Vec<Effect>, Refused> {
        self.touched();
        if self.screen != Screen::Receipt {
            return Err(Refused::WrongScreen);
        }
        let receipt = self.receipt().ok_or(Refused::NotStored)?;
        self.session.printed = None;
        Ok(vec![Effect::Print {
            session: self.session.id,
            receipt,
        }])
    }

    pub fn on_printed(&mut self, session: u64, result: Result<(), String>) {
        if session == self.session.id {
            self.session.printed = Some(result);
        }
    }

    /// The stolen index's answer to [`Effect::Lookup`].
    pub fn on_lookup(&mut self, session: u64, outcome: LookupOutcome) {
        if session == self.session.id && self.screen == Screen::Lookup {
            self.session.lookup = Some(outcome);
        }
    }

    /// "Back": one step up the flow.
    pub fn back(&mut self) {
        self.touched();
        self.screen = match (self.screen, self.session.flow) {
            (Screen::Place, _) => Screen::Imei,
            (Screen::Mobile, _) => Screen::Place,
            (Screen::Capture, _) if self.session.role == Some(Role::ImeiScan) => {
                self.session.still = None;
                self.session.role = None;
                Screen::Imei
            }
            (Screen::Capture, Some(Flow::Report)) => match self.session.role {
                Some(Role::PhoneBox) => {
                    self.show_capture(Role::GdCopy);
                    Screen::Capture
                }
                _ => Screen::Mobile,
            },
            (Screen::Verifying | Screen::Receipt | Screen::Result | Screen::Lookup, _) => {
                self.screen
            }
            _ => {
                self.end();
                Screen::Home
            }
        };
    }

    /// The maintenance PIN screen (long press on the logo).
    pub fn open_pin(&mut self) -> Result<(), Refused> {
        if self.screen != Screen::Home || self.config.maintenance_pin.is_empty() {
            return Err(Refused::WrongScreen);
        }
        self.touched();
        self.session.pin.clear();
        self.screen = Screen::Pin;
        Ok(())
    }

    pub fn pin_enter(&mut self) -> Result<(), Refused> {
        self.touched();
        if self.screen != Screen::Pin {
            return Err(Refused::WrongScreen);
        }
        let ok = self.session.pin.ascii() == self.config.maintenance_pin;
        self.session.pin.clear();
        if ok {
            self.screen = Screen::Maintenance;
            Ok(())
        } else {
            Err(Refused::WrongPin)
        }
    }

    /// The status LED for this state.
    pub fn led(&self) -> Led {
        let s = &self.session;
        match self.screen {
            Screen::Verifying => Led::Busy,
            Screen::Result
                if s.verify_error.is_some()
                    || s.store_error.is_some()
                    || s.report
                        .as_ref()
                        .is_some_and(|r| r.verdict == Verdict::Reject) =>
            {
                Led::Attention
            }
            Screen::Lookup if matches!(s.lookup, Some(LookupOutcome::Stolen { .. })) => {
                Led::Attention
            }
            Screen::Lookup if s.lookup.is_none() => Led::Busy,
            _ => Led::Idle,
        }
    }

    /// Whether the illumination should be on (live preview, waiting for a still).
    pub fn illumination(&self) -> bool {
        self.screen == Screen::Capture && self.session.still.is_none()
    }
}

#[cfg(test)]
mod tests;
