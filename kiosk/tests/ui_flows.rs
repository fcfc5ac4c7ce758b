//! End-to-end: the real Slint UI driven through Slint's testing backend (elements found by their
//! accessible label, tapped, typed into) with the simulated camera and GPIO, the real pipeline,
//! and a real SQLite store in a temp dir; each flow asserts on what was stored.

use std::path::{Path, PathBuf};
use std::time::Duration;

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementRoot};
use jachai_edge_sync::index::BaseBuilder;
use jachai_edge_sync::store::Store;
use jachai_kiosk::controller::{FlowConfig, Led, Screen};
use jachai_kiosk::hardware::{SimulatedCamera, SimulatedGpio};
use jachai_kiosk::services::WorkerConfig;
use jachai_kiosk::ui::{
    App, AppAdapter, ImeiAdapter, KioskApp, LookupAdapter, LookupState, Page, Parts,
    ReceiptAdapter, ResultAdapter, ScanState,
};
use jachai_protocol::envelope::{decode, CaseMsg, EventMsg, UpCase};
use slint::ComponentHandle;

const IMEI_A: &str = "490154203237518";
const IMEI_B: &str = "356938035643809";
const STOLEN: &str = "352099001761481";
const BENGALI: [&str; 10] = ["০", "১", "২", "৩", "৪", "৫", "৬", "৭", "৮", "৯"];

struct Rig {
    dir: tempfile::TempDir,
    kiosk: KioskApp,
    gpio: SimulatedGpio,
}

impl Rig {
    /// A kiosk whose simulated camera plays `images` (name, bytes) in name order.
    fn new(images: &[(&str, Vec<u8>)], idle_timeout_s: u32) -> Rig {
        i_slint_backend_testing::init_no_event_loop();
        let dir = tempfile::tempdir().expect("temp dir");
        let camera_dir = dir.path().join("camera");
        std::fs::create_dir_all(&camera_dir).expect("camera dir");
        for (name, bytes) in images {
            std::fs::write(camera_dir.join(name), bytes).expect("camera image");
        }
        let printer = dir.path().join("lp0");
        std::fs::write(&printer, b"").expect("printer device file");
        let (gpio, handle) = SimulatedGpio::new();
        let kiosk = KioskApp::new(Parts {
            camera: Box::new(SimulatedCamera::open(&camera_dir).expect("camera images")),
            gpio: Box::new(gpio),
            worker: WorkerConfig {
                kiosk_id: "test-kiosk".into(),
                db: dir.path().join("state/kiosk.db"),
                blobs: dir.path().join("state/blobs"),
                index: dir.path().join("state/stolen"),
                printer: Some(printer),
            },
            flow: FlowConfig {
                idle_timeout_s,
                maintenance_pin: "2468".into(),
            },
            auto_capture: false,
            health: Vec::new(),
        })
        .expect("kiosk starts");
        kiosk
            .app()
            .window()
            .set_size(slint::PhysicalSize::new(800, 480));
        kiosk.app().show().expect("window");
        Rig {
            dir,
            kiosk,
            gpio: handle,
        }
    }

    fn app(&self) -> &App {
        self.kiosk.app()
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Let Slint run change handlers and instantiate the page now shown.
    fn settle(&self) {
        i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(1));
    }

    fn try_button(&self, label: &str) -> Option<ElementHandle> {
        self.settle();
        ElementHandle::find_by_accessible_label(self.app(), label)
            .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
    }

    /// Tap the choice `label` in a paged picker, turning pages with the `more` button.
    fn pick(&self, label: &str, more: &str) {
        for _ in 0..12 {
            if self.try_button(label).is_some() {
                return self.tap(label);
            }
            self.tap(more);
        }
        panic!("{label:?} is on no page");
    }

    fn button(&self, label: &str) -> ElementHandle {
        self.try_button(label).unwrap_or_else(|| {
            let all: Vec<String> = self
                .app()
                .root_element()
                .query_descendants()
                .match_accessible_role(AccessibleRole::Button)
                .find_all()
                .iter()
                .filter_map(|e| e.accessible_label().map(|l| l.to_string()))
                .collect();
            panic!(
                "no button {label:?} on page {:?}; buttons: {all:?}",
                self.page()
            )
        })
    }

    /// Tap through accessibility (works for buttons scrolled out of view).
    fn tap(&self, label: &str) {
        let b = self.button(label);
        assert_eq!(b.accessible_enabled(), Some(true), "{label:?} is disabled");
        b.invoke_accessible_default_action();
        self.settle();
    }

    /// A real pointer tap at the button's centre.
    fn click(&self, label: &str) {
        self.button(label)
            .mock_single_click(slint::platform::PointerEventButton::Left);
        self.settle();
    }

    fn enabled(&self, label: &str) -> bool {
        self.button(label).accessible_enabled() == Some(true)
    }

    /// Type into the text field labelled `label` (accessibility "set value").
    fn type_into(&self, label: &str, text: &str) {
        self.settle();
        ElementHandle::find_by_accessible_label(self.app(), label)
            .find(|e| e.accessible_role() == Some(AccessibleRole::TextInput))
            .unwrap_or_else(|| panic!("no field {label:?}"))
            .set_accessible_value(text);
        self.settle();
    }

    /// Tap keypad keys: each key shows both digit sets ("7 ৭").
    fn keys(&self, digits: &str) {
        for c in digits.chars() {
            let d = c.to_digit(10).expect("ASCII digits") as usize;
            self.tap(&format!("{d} {}", BENGALI[d]));
        }
    }

    fn page(&self) -> Page {
        self.app().global::<AppAdapter>().get_page()
    }

    fn wait(&self, what: &str, secs: u64, done: impl Fn(&jachai_kiosk::controller::Kiosk) -> bool) {
        assert!(
            self.kiosk.wait_for(Duration::from_secs(secs), done),
            "timed out waiting for {what} (screen {:?})",
            self.kiosk.controller().screen
        );
        self.settle();
    }

    /// Capture with the on-screen button, wait for the still, use it.
    fn capture_and_use(&self, capture: &str, use_it: &str) {
        self.click(capture);
        self.wait("a still", 10, |k| k.session.still.is_some());
        self.tap(use_it);
    }

    /// An offline stolen index (version 3) holding [`STOLEN`], reported at Mirpur, Dhaka.
    fn write_stolen_index(&self) {
        let mut b = BaseBuilder::new();
        b.push(
            STOLEN[..14].parse().expect("digits"),
            "2026-11-30",
            "Mirpur, Dhaka",
        )
        .expect("push");
        b.write(&self.state().join("stolen"), 3).expect("index");
    }

    fn store(&self) -> Store {
        Store::open(&self.state().join("kiosk.db"), &self.state().join("blobs")).expect("store")
    }

    fn cases(&self) -> Vec<CaseMsg> {
        self.store()
            .unacked(0, 100)
            .expect("outbox")
            .into_iter()
            .map(
                |row| match decode::<UpCase>(&row.payload).expect("case message") {
                    UpCase::Case(c) => c,
                },
            )
            .collect()
    }
}

fn gd_copy() -> Vec<u8> {
    let options = gdgen::Options {
        photo_share: 0.0,
        bengali_digit_share: 0.0,
        variants: vec![(gdgen::Variant::Clean, 1.0)],
        ..Default::default()
    };
    gdgen::generate(7, &options).expect("gd copy").bytes
}

fn screenshot_png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(360, 640, |x, y| {
        let band = (y / 40) % 2 == 0;
        let v = if band { 240 } else { 200 } - u8::try_from(x % 7).unwrap_or(0);
        image::Rgb([v, v, 255])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// A phone box label: a Code-128 barcode of `imei` on white, as PNG.
fn box_barcode_png(imei: &str) -> Vec<u8> {
    use rxing::Writer;
    let bits = rxing::MultiFormatWriter
        .encode(imei, &rxing::BarcodeFormat::CODE_128, 0, 1)
        .expect("encodes");
    let (module, bar_h, margin) = (3u32, 120u32, 60u32);
    let w = bits.width() * module + 2 * margin;
    let img = image::RgbImage::from_fn(w, bar_h + 2 * margin, |x, y| {
        let inside = (margin..margin + bar_h).contains(&y) && x >= margin;
        let bar = inside && bits.get((x - margin) / module, 0);
        if bar {
            image::Rgb([25, 25, 25])
        } else {
            image::Rgb([240, 240, 236])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

fn assert_blobs_on_disk(rig: &Rig, case: &CaseMsg, roles: &[&str]) {
    let got: Vec<&str> = case.blobs.iter().map(|b| b.role.as_str()).collect();
    for role in roles {
        assert!(got.contains(role), "{role} in {got:?}");
    }
    let store = rig.store();
    for b in &case.blobs {
        assert!(
            store.blob_path(&b.sha256).is_file(),
            "blob {} on disk",
            b.role
        );
    }
}

#[test]
fn report_stolen_phone_in_bengali_then_english_stores_the_case() {
    let rig = Rig::new(
        &[("1-gd.png", gd_copy()), ("2-box.png", screenshot_png())],
        90,
    );
    assert_eq!(rig.page(), Page::Home);
    rig.tap("চুরি হওয়া ফোনের রিপোর্ট");
    assert_eq!(rig.page(), Page::Imei);

    // First IMEI on the keypad in Bengali mode (the keys type Bengali digits).
    rig.keys(&IMEI_A[..14]);
    assert!(!rig.enabled("পরবর্তী"), "14 digits is not an IMEI yet");
    rig.keys("9");
    assert!(!rig.enabled("পরবর্তী"), "wrong check digit");
    rig.tap("পিছনে মুছুন");
    rig.keys(&IMEI_A[14..]);
    let shown = rig.app().global::<ImeiAdapter>().get_display();
    assert_eq!(
        shown.as_str(),
        "৪৯০১৫৪২০ ৩২৩৭৫১ ৮",
        "shown in Bengali digits"
    );
    rig.tap("আরেকটি আইএমইআই");
    // The second one typed into the field, in Bengali digits.
    rig.type_into("আইএমইআই", "৩৫৬৯৩৮০৩৫৬৪৩৮০৯");
    rig.tap("পরবর্তী");
    assert_eq!(rig.page(), Page::Place);

    rig.pick("ঢাকা", "পরের পাতা: জেলা");
    rig.pick("মিরপুর", "পরের পাতা: থানা");
    rig.tap("English");
    assert!(!rig.app().global::<AppAdapter>().get_bn());
    rig.tap("Next");
    assert_eq!(rig.page(), Page::Mobile);
    rig.keys("0171234567");
    assert!(!rig.enabled("Next"));
    rig.keys("8");
    rig.tap("Next");
    assert_eq!(rig.page(), Page::Capture);
    assert!(rig.gpio.pins().illumination, "light on for the preview");

    // The GD copy with the kiosk's hardware button, the phone box with the screen button.
    rig.gpio.press();
    i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(60));
    rig.wait("a still from the GPIO button", 10, |k| {
        k.session.still.is_some()
    });
    rig.tap("Use this photo");
    rig.capture_and_use("Capture", "Use this photo");
    assert_eq!(rig.page(), Page::Verifying);
    assert_eq!(rig.gpio.pins().led, Led::Busy);

    rig.wait("the verdict and the stored case", 300, |k| {
        k.screen == Screen::Result
            && (k.session.case_id.is_some() || k.session.store_error.is_some())
    });
    let result = rig.app().global::<ResultAdapter>();
    assert_eq!(result.get_store_error().as_str(), "");
    let id = result.get_report_id().to_string();
    assert!(id.starts_with("test-kiosk-"), "{id}");
    rig.tap("Show the receipt");
    assert_eq!(rig.page(), Page::Receipt);
    assert_eq!(
        rig.app()
            .global::<ReceiptAdapter>()
            .get_report_id()
            .as_str(),
        id
    );
    rig.tap("Print receipt");
    rig.wait("the print", 10, |k| k.session.printed.is_some());
    let printed = std::fs::read(rig.dir.path().join("lp0")).expect("printer file");
    assert!(String::from_utf8_lossy(&printed).contains(&format!("JACHAI:{id}")));

    let cases = rig.cases();
    assert_eq!(cases.len(), 1);
    let case = &cases[0];
    assert_eq!(case.case_id, id);
    assert_eq!(case.kind, "gd");
    assert_eq!(case.claims["imeis"], serde_json::json!([IMEI_A, IMEI_B]));
    assert_eq!(case.claims["district"], "Dhaka");
    assert_eq!(case.claims["thana"], "Mirpur");
    assert_eq!(case.claims["mobile"], "01712345678");
    let verdict = rig
        .kiosk
        .controller()
        .session
        .report
        .as_ref()
        .map(|r| r.verdict.as_str().to_owned());
    assert_eq!(case.verdict, verdict);
    assert_blobs_on_disk(&rig, case, &["gd_copy", "phone_box"]);

    rig.tap("Done");
    assert_eq!(rig.page(), Page::Home);
    assert!(rig.kiosk.controller().session.is_blank());
    assert!(
        rig.app().global::<AppAdapter>().get_bn(),
        "the next person starts in Bengali"
    );
}

#[test]
fn check_imei_answers_from_the_stolen_index_and_queues_an_alert_on_a_hit() {
    let rig = Rig::new(&[("x.png", screenshot_png())], 90);
    rig.write_stolen_index();

    rig.tap("English");
    rig.tap("Check an IMEI");
    rig.type_into("IMEI", STOLEN);
    rig.tap("Check");
    rig.wait("the answer", 10, |k| k.session.lookup.is_some());
    let l = rig.app().global::<LookupAdapter>();
    assert_eq!(l.get_state(), LookupState::Stolen);
    assert_eq!(l.get_location().as_str(), "Mirpur, Dhaka");
    assert_eq!(rig.gpio.pins().led, Led::Attention);
    let events = rig.store().pending_events(10).expect("events");
    assert_eq!(events.len(), 1);
    match decode::<EventMsg>(&events[0].1).expect("event") {
        EventMsg::LookupHit(hit) => assert_eq!(hit.imei, STOLEN),
        other => panic!("expected a lookup hit, got {other:?}"),
    }
    rig.tap("Done");
    assert!(
        rig.app().global::<AppAdapter>().get_bn(),
        "back home in Bengali"
    );

    rig.tap("English");
    rig.tap("Check an IMEI");
    rig.keys(IMEI_A);
    rig.tap("Check");
    rig.wait("the answer", 10, |k| k.session.lookup.is_some());
    assert_eq!(
        rig.app().global::<LookupAdapter>().get_state(),
        LookupState::Clear
    );
    assert_eq!(
        rig.store().pending_events(10).expect("events").len(),
        1,
        "no alert when clear"
    );
    assert!(rig.cases().is_empty(), "a lookup stores no case");
}

#[test]
fn check_imei_read_from_the_box_barcode() {
    let rig = Rig::new(&[("box.png", box_barcode_png(STOLEN))], 90);
    rig.write_stolen_index();

    rig.tap("English");
    rig.tap("Check an IMEI");
    rig.tap("Photograph the box barcode or *#06# screen");
    assert_eq!(rig.page(), Page::Capture);
    rig.capture_and_use("Capture", "Use this photo");
    rig.wait("the barcode read", 30, |k| {
        !matches!(
            k.session.scan,
            Some(jachai_kiosk::controller::ScanNote::Reading)
        )
    });
    assert_eq!(rig.page(), Page::Imei);
    let i = rig.app().global::<ImeiAdapter>();
    assert_eq!(i.get_scan_state(), ScanState::Found);
    assert_eq!(i.get_scan_found().as_str(), STOLEN);
    assert_eq!(rig.kiosk.controller().session.imei.ascii(), STOLEN);
    rig.tap("Check");
    rig.wait("the answer", 10, |k| k.session.lookup.is_some());
    assert_eq!(
        rig.app().global::<LookupAdapter>().get_state(),
        LookupState::Stolen
    );
    assert!(rig.cases().is_empty(), "the box picture is not stored");
    assert!(
        files(&rig.state().join("blobs")).is_empty(),
        "no image blob on disk"
    );
}

fn check_document(home_button: &str, image: Vec<u8>, kind: &str, role: &str) {
    let rig = Rig::new(&[("doc.png", image)], 90);
    rig.tap("English");
    rig.tap(home_button);
    assert_eq!(rig.page(), Page::Capture);
    rig.click("Capture");
    rig.wait("a still", 10, |k| k.session.still.is_some());
    rig.tap("Retake");
    rig.capture_and_use("Capture", "Use this photo");
    rig.wait("the stored result", 300, |k| {
        k.screen == Screen::Result
            && (k.session.case_id.is_some()
                || k.session.store_error.is_some()
                || k.session.verify_error.is_some())
    });
    let result = rig.app().global::<ResultAdapter>();
    assert_eq!(result.get_error().as_str(), "", "verified");
    let id = result.get_report_id().to_string();
    let cases = rig.cases();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].case_id, id);
    assert_eq!(cases[0].kind, kind);
    assert!(!cases[0].claims.contains_key("imeis"));
    assert_blobs_on_disk(&rig, &cases[0], &[role]);
    rig.tap("Done");
    assert_eq!(rig.page(), Page::Home);
}

#[test]
fn check_a_cheque() {
    check_document("Check a cheque", gd_copy(), "cheque", "cheque");
}

#[test]
fn check_an_image() {
    check_document("Check an image", screenshot_png(), "image", "image");
}

/// Every file under `dir` except the camera's own pictures.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readable").flatten() {
            let p = e.path();
            if p.is_dir() {
                if !p.ends_with("camera") {
                    stack.push(p);
                }
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn idle_timeout_wipes_typed_data_and_uncommitted_images() {
    let gd = gd_copy();
    let rig = Rig::new(&[("gd.png", gd.clone())], 20);
    rig.tap("চুরি হওয়া ফোনের রিপোর্ট");
    rig.type_into("আইএমইআই", IMEI_A);
    rig.tap("পরবর্তী");
    rig.pick("ঢাকা", "পরের পাতা: জেলা");
    rig.pick("মিরপুর", "পরের পাতা: থানা");
    rig.tap("পরবর্তী");
    rig.type_into("মোবাইল নম্বর", "01712345678");
    rig.tap("পরবর্তী");
    rig.capture_and_use("ছবি তুলুন", "এই ছবি ব্যবহার করুন");
    rig.click("ছবি তুলুন");
    rig.wait("the phone-box still", 10, |k| k.session.still.is_some());
    {
        let k = rig.kiosk.controller();
        assert_eq!(k.session.captures.len(), 1);
        assert!(k.idle_left() <= 20);
    }
    assert!(
        rig.app().global::<AppAdapter>().get_idle_counting(),
        "the countdown shows"
    );
    let mut left = Vec::new();
    let mut wiped_at = None;
    for second in 1..=25 {
        i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
        if rig.page() == Page::Home {
            wiped_at = Some(second);
            break;
        }
        left.push(rig.app().global::<AppAdapter>().get_idle_seconds_left());
    }
    // The 1 s timer's phase against the last touch is arbitrary: 19 or 20 ticks.
    assert!(
        matches!(wiped_at, Some(19..=20)),
        "wiped after {wiped_at:?} s"
    );
    assert!(
        left.windows(2).all(|w| w[1] == w[0] - 1),
        "counting down: {left:?}"
    );
    assert!(left.last().is_some_and(|&l| l <= 2));
    assert!(
        rig.kiosk.controller().session.is_blank(),
        "{:?}",
        rig.kiosk.controller().session
    );
    assert_eq!(rig.app().global::<ImeiAdapter>().get_display().as_str(), "");
    assert_eq!(rig.app().global::<ImeiAdapter>().get_count(), 0);

    // Nothing stored, and no file under the kiosk's folders holds what was typed or captured.
    assert!(rig.cases().is_empty());
    assert!(rig.store().pending_events(10).expect("events").is_empty());
    for f in files(rig.dir.path()) {
        let bytes = std::fs::read(&f).expect("readable");
        for needle in [
            IMEI_A.as_bytes(),
            b"01712345678",
            &gd[gd.len() / 2..gd.len() / 2 + 64],
        ] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds session data",
                f.display()
            );
        }
    }
    let blobs: Vec<_> = std::fs::read_dir(rig.state().join("blobs"))
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(
        blobs.is_empty(),
        "no image left in the blob store: {blobs:?}"
    );
}
