//! Flow tests: plain calls into [`Kiosk`], no UI.

use super::*;

const IMEI_A: &str = "490154203237518";
const IMEI_B: &str = "356938035643809";

fn kiosk() -> Kiosk {
    Kiosk::new(FlowConfig {
        idle_timeout_s: 5,
        maintenance_pin: "2468".into(),
    })
}

fn type_digits(k: &mut Kiosk, s: &str) {
    for c in s.chars() {
        k.key(&c.to_string()).expect("keypad screen");
    }
}

fn report(verdict: Verdict) -> Report {
    Report {
        sha256: "ab".repeat(32),
        kind: DocumentKind::Gd,
        verdict,
        risk: 40,
        findings: Vec::new(),
        fields: Default::default(),
        located: Vec::new(),
        explanation: None,
        stages: Vec::new(),
        annotated_png: Some(vec![1, 2, 3]),
    }
}

/// Home → IMEIs → place → mobile → GD → phone box → verifying.
fn to_verifying(k: &mut Kiosk) -> VerifyJob {
    k.start(Flow::Report).expect("home");
    type_digits(k, IMEI_A);
    k.add_imei().expect("valid");
    type_digits(k, "৩৫৬৯৩৮০৩৫৬৪৩৮০৯");
    assert!(k.imei_next().expect("valid").is_empty());
    assert_eq!(k.screen, Screen::Place);
    let dhaka = geo::district_by_name("Dhaka").expect("district");
    k.pick_district(dhaka).expect("place screen");
    let mirpur = geo::thana_choices(Lang::En, dhaka)
        .into_iter()
        .find(|c| c.label == "Mirpur")
        .expect("thana");
    assert_eq!(k.place_next(), Err(Refused::NoPlace));
    k.pick_thana(mirpur.index).expect("in district");
    k.place_next().expect("picked");
    type_digits(k, "0171234567");
    assert_eq!(k.mobile_next(), Err(Refused::MobileNotValid));
    type_digits(k, "8");
    k.mobile_next().expect("valid number");
    assert_eq!(k.screen, Screen::Capture);
    assert!(k.illumination());
    let session = k.session.id;
    assert_eq!(k.capture(), Ok(vec![Effect::Capture { session }]));
    k.on_captured(session, Ok(b"gd-jpeg".to_vec()));
    assert!(!k.illumination());
    assert_eq!(
        k.capture(),
        Err(Refused::WrongScreen),
        "one still at a time"
    );
    k.accept().expect("still taken");
    assert_eq!(k.session.role, Some(Role::PhoneBox));
    assert!(k.capture_optional());
    k.on_captured(session, Ok(b"box-jpeg".to_vec()));
    let effects = k.accept().expect("still taken");
    assert_eq!(k.screen, Screen::Verifying);
    assert_eq!(k.led(), Led::Busy);
    match effects.as_slice() {
        [Effect::Verify(job)] => job.clone(),
        other => panic!("expected one verify job, got {other:?}"),
    }
}

#[test]
fn report_flow_end_to_end() {
    let mut k = kiosk();
    let job = to_verifying(&mut k);
    assert_eq!(job.kind, DocumentKind::Gd);
    assert_eq!(job.imeis, vec![IMEI_A.to_owned(), IMEI_B.to_owned()]);
    assert_eq!(job.bytes, b"gd-jpeg");

    let s = k.session.id;
    k.on_progress(
        s,
        &ProgressEvent::StageStarted {
            stage: Stage::Ocr,
            progress: 40,
        },
    );
    k.on_progress(
        s,
        &ProgressEvent::StageFinished {
            stage: Stage::Ocr,
            status: StageStatus::Ok,
            ms: 5,
            progress: 60,
        },
    );
    assert_eq!(k.session.progress, 60);
    assert_eq!(
        k.session.stages,
        vec![StageRow {
            stage: Stage::Ocr,
            state: StageState::Done
        }]
    );

    let effects = k.on_verified(s, Ok(report(Verdict::Review)));
    assert_eq!(k.screen, Screen::Result);
    let [Effect::Record(rec)] = effects.as_slice() else {
        panic!("expected a record job, got {effects:?}");
    };
    assert_eq!(rec.kind, "gd");
    assert_eq!(rec.verdict.as_deref(), Some("review"));
    assert_eq!(rec.claims["district"], "Dhaka");
    assert_eq!(rec.claims["thana"], "Mirpur");
    assert_eq!(rec.claims["mobile"], "01712345678");
    assert_eq!(rec.claims["imeis"], serde_json::json!([IMEI_A, IMEI_B]));
    let roles: Vec<&str> = rec.images.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(roles, ["gd_copy", "phone_box", "annotated"]);
    assert!(rec.report.get("annotated_png").is_none());

    assert_eq!(k.result_continue(), Err(Refused::NotStored));
    k.on_recorded(s, Ok("K1-20261206-0001".into()));
    assert!(
        k.session.captures.is_empty(),
        "stored images leave the session"
    );
    k.result_continue().expect("stored");
    assert_eq!(k.screen, Screen::Receipt);
    let receipt = k.receipt().expect("stored report");
    assert_eq!(receipt.case_id, "K1-20261206-0001");
    assert_eq!(receipt.thana_en, "Mirpur");
    assert!(matches!(k.print().as_deref(), Ok([Effect::Print { .. }])));
    k.end();
    assert_eq!(k.screen, Screen::Home);
    assert!(k.session.is_blank());
}

#[test]
fn answers_for_an_ended_session_are_dropped() {
    let mut k = kiosk();
    let job = to_verifying(&mut k);
    k.end();
    assert!(k
        .on_verified(job.session, Ok(report(Verdict::Approve)))
        .is_empty());
    k.on_recorded(job.session, Ok("X".into()));
    k.on_captured(job.session, Ok(vec![1]));
    assert!(k.session.is_blank());
    assert_eq!(k.screen, Screen::Home);
}

#[test]
fn check_imei_flow() {
    let mut k = kiosk();
    k.start(Flow::CheckImei).expect("home");
    type_digits(&mut k, "49015420323751");
    assert_eq!(k.imei_state(), LuhnState::Incomplete);
    assert_eq!(k.imei_next(), Err(Refused::ImeiNotValid));
    type_digits(&mut k, "9");
    assert_eq!(k.imei_state(), LuhnState::Invalid { expected: 8 });
    assert!(!k.imei_can_continue());
    k.backspace();
    type_digits(&mut k, "8");
    let effects = k.imei_next().expect("valid");
    assert_eq!(
        effects,
        vec![Effect::Lookup {
            session: k.session.id,
            imei: IMEI_A.into()
        }]
    );
    assert_eq!(k.screen, Screen::Lookup);
    assert_eq!(k.led(), Led::Busy);
    k.on_lookup(
        k.session.id,
        LookupOutcome::Stolen {
            reported_at: "2026-11-30".into(),
            theft_location: "Mirpur, Dhaka".into(),
        },
    );
    assert_eq!(k.led(), Led::Attention);
}

#[test]
fn cheque_and_image_flows_verify_their_kind() {
    for (flow, kind, rec_kind) in [
        (Flow::Cheque, DocumentKind::Cheque, "cheque"),
        (Flow::Image, DocumentKind::Image, "image"),
    ] {
        let mut k = kiosk();
        k.start(flow).expect("home");
        assert_eq!(k.screen, Screen::Capture);
        assert!(!k.capture_optional());
        assert_eq!(k.accept(), Err(Refused::NothingCaptured));
        k.on_captured(k.session.id, Err("no frame".into()));
        assert_eq!(k.session.camera_error.as_deref(), Some("no frame"));
        k.on_captured(k.session.id, Ok(vec![9, 9]));
        k.retake();
        assert!(k.session.still.is_none());
        k.on_captured(k.session.id, Ok(vec![7, 7]));
        let effects = k.accept().expect("still");
        let [Effect::Verify(job)] = effects.as_slice() else {
            panic!("expected verify, got {effects:?}");
        };
        assert_eq!(job.kind, kind);
        assert_eq!(job.bytes, vec![7, 7]);
        let effects = k.on_verified(job.session, Ok(report(Verdict::Reject)));
        assert_eq!(k.led(), Led::Attention);
        let [Effect::Record(rec)] = effects.as_slice() else {
            panic!("expected record, got {effects:?}");
        };
        assert_eq!(rec.kind, rec_kind);
        assert!(!rec.claims.contains_key("imeis"));
        k.result_continue().expect("result");
        assert_eq!(k.screen, Screen::Home, "{flow:?} ends at the result");
    }
}

#[test]
fn a_failed_verification_is_shown_not_stored() {
    let mut k = kiosk();
    k.start(Flow::Image).expect("home");
    k.on_captured(k.session.id, Ok(vec![1]));
    let effects = k.accept().expect("still");
    let [Effect::Verify(job)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert!(k
        .on_verified(job.session, Err("not an image".into()))
        .is_empty());
    assert_eq!(k.screen, Screen::Result);
    assert_eq!(k.led(), Led::Attention);
}

#[test]
fn idle_timeout_wipes_everything_and_pauses_while_verifying() {
    let mut k = kiosk();
    k.toggle_lang();
    k.start(Flow::Report).expect("home");
    type_digits(&mut k, "4901542");
    for _ in 0..4 {
        assert!(!k.tick_second());
    }
    assert_eq!(k.idle_left(), 1);
    k.key("0").expect("imei screen");
    assert_eq!(k.idle_left(), 5, "a touch restarts the countdown");
    for _ in 0..4 {
        assert!(!k.tick_second());
    }
    assert!(k.tick_second());
    assert_eq!(k.screen, Screen::Home);
    assert_eq!(k.lang, Lang::Bn);
    assert!(k.session.is_blank());

    let mut k = kiosk();
    to_verifying(&mut k);
    for _ in 0..20 {
        assert!(!k.tick_second(), "no wipe while the pipeline runs");
    }
    assert!(!k.tick_second());
    assert!(!k.session.captures.is_empty());
    // Home never counts down.
    let mut k = kiosk();
    for _ in 0..20 {
        assert!(!k.tick_second());
    }
}

#[test]
fn back_walks_up_the_report_flow() {
    let mut k = kiosk();
    to_verifying(&mut k);
    let mut k2 = kiosk();
    k2.start(Flow::Report).expect("home");
    type_digits(&mut k2, IMEI_A);
    k2.imei_next().expect("valid");
    k2.back();
    assert_eq!(k2.screen, Screen::Imei);
    k2.back();
    assert_eq!(k2.screen, Screen::Home);
    assert!(k2.session.is_blank());
}

#[test]
fn imei_list_limits_and_duplicates() {
    let mut k = kiosk();
    k.start(Flow::Report).expect("home");
    assert_eq!(k.add_imei(), Err(Refused::ImeiNotValid));
    type_digits(&mut k, IMEI_A);
    k.add_imei().expect("valid");
    type_digits(&mut k, IMEI_A);
    k.add_imei().expect("valid");
    assert_eq!(k.session.imeis.len(), 1, "a repeated IMEI is kept once");
    assert!(k.imei_can_continue(), "empty keypad with IMEIs kept");
    assert_eq!(k.start(Flow::Image), Err(Refused::WrongScreen));
}

#[test]
fn maintenance_pin() {
    let mut k = kiosk();
    k.open_pin().expect("home");
    type_digits(&mut k, "1111");
    assert_eq!(k.pin_enter(), Err(Refused::WrongPin));
    assert!(k.session.pin.is_empty());
    type_digits(&mut k, "২৪৬৮");
    k.pin_enter().expect("right pin");
    assert_eq!(k.screen, Screen::Maintenance);
    let mut no_pin = Kiosk::new(FlowConfig::default());
    assert_eq!(no_pin.open_pin(), Err(Refused::WrongScreen));
}

#[test]
fn place_picker_pages_and_follows_the_language() {
    let mut k = kiosk();
    k.start(Flow::Report).expect("home");
    type_digits(&mut k, IMEI_A);
    k.imei_next().expect("valid");
    let (first, page, pages) = k.district_page();
    assert_eq!((first.len(), page, pages), (DISTRICTS_PER_PAGE, 0, 6));
    k.page_districts(-1);
    assert_eq!(k.district_page().1, 0, "clamped at the first page");
    k.page_districts(10);
    let (last, page, _) = k.district_page();
    assert_eq!((last.len(), page), (64 - 5 * DISTRICTS_PER_PAGE, 5));
    assert_eq!(k.thana_page().2, 0, "no thanas before a district");
    let dhaka = geo::district_by_name("Dhaka").expect("district");
    k.pick_district(dhaka).expect("place screen");
    let (_, _, thana_pages) = k.thana_page();
    assert!(
        thana_pages >= 7,
        "Dhaka has dozens of thanas: {thana_pages} pages"
    );
    k.page_thanas(3);
    let (on_page, tp, _) = k.thana_page();
    assert_eq!(tp, 3);
    k.pick_thana(on_page[0].index).expect("in district");
    k.toggle_lang();
    let (districts, _, _) = k.district_page();
    assert!(
        districts.iter().any(|c| c.index == dhaka),
        "picked district stays on show"
    );
    let (thanas, _, _) = k.thana_page();
    assert!(thanas.iter().any(|c| Some(c.index) == k.session.thana));
}

/// Home → flow → IMEI screen → scan capture → still taken and used; returns the scan effect.
fn scan_picture(k: &mut Kiosk, flow: Flow) -> Vec<Effect> {
    if k.screen == Screen::Home {
        k.start(flow).expect("home");
    }
    k.scan_imei().expect("imei screen");
    assert_eq!(k.screen, Screen::Capture);
    assert_eq!(k.session.role, Some(Role::ImeiScan));
    let session = k.session.id;
    assert_eq!(k.capture(), Ok(vec![Effect::Capture { session }]));
    k.on_captured(session, Ok(vec![7; 32]));
    let effects = k.accept().expect("still");
    assert_eq!(k.screen, Screen::Imei, "back to the entry while it is read");
    assert_eq!(k.session.scan, Some(ScanNote::Reading));
    assert!(
        k.session.captures.is_empty(),
        "a scan picture is never kept with the case"
    );
    effects
}

#[test]
fn scanned_imei_fills_the_check_entry_and_waits_for_confirmation() {
    let mut k = kiosk();
    let effects = scan_picture(&mut k, Flow::CheckImei);
    let session = k.session.id;
    assert_eq!(
        effects,
        vec![Effect::ScanImei {
            session,
            bytes: vec![7; 32]
        }]
    );
    k.on_scanned(session, Ok(vec![IMEI_B.into(), IMEI_A.into()]));
    assert_eq!(k.session.imei.ascii(), IMEI_B, "the first one read");
    assert_eq!(
        k.session.scan,
        Some(ScanNote::Found(vec![IMEI_B.into(), IMEI_A.into()]))
    );
    assert_eq!(k.screen, Screen::Imei, "nothing is looked up before Check");
    assert_eq!(
        k.imei_next().expect("valid"),
        vec![Effect::Lookup {
            session,
            imei: IMEI_B.into()
        }]
    );
}

#[test]
fn scanned_imeis_are_kept_for_a_report_up_to_the_limit() {
    let mut k = kiosk();
    k.start(Flow::Report).expect("home");
    type_digits(&mut k, IMEI_A);
    k.add_imei().expect("valid");
    scan_picture(&mut k, Flow::Report);
    let session = k.session.id;
    k.on_scanned(
        session,
        Ok([
            IMEI_A,
            IMEI_B,
            "352099001761481",
            "490154203237526",
            "490154203237534",
        ]
        .map(String::from)
        .to_vec()),
    );
    assert_eq!(
        k.session.imeis,
        [IMEI_A, IMEI_B, "352099001761481", "490154203237526"].map(String::from),
        "no repeats, at most {MAX_IMEIS}"
    );
    assert!(k.session.imei.is_empty());
    assert!(k.imei_can_continue());
    k.imei_next().expect("kept IMEIs");
    assert_eq!(k.screen, Screen::Place);
}

#[test]
fn scan_outcomes_without_an_imei_and_stale_answers() {
    let cases: &[(Result<Vec<String>, String>, ScanNote)] = &[
        (Ok(vec![]), ScanNote::NoneFound),
        (
            Err("not an image".into()),
            ScanNote::Failed("not an image".into()),
        ),
    ];
    for (result, note) in cases {
        let mut k = kiosk();
        scan_picture(&mut k, Flow::CheckImei);
        let session = k.session.id;
        k.on_scanned(session + 1, Ok(vec![IMEI_A.into()]));
        assert_eq!(
            k.session.scan,
            Some(ScanNote::Reading),
            "another session's answer is dropped"
        );
        k.on_scanned(session, result.clone());
        assert_eq!(k.session.scan.as_ref(), Some(note));
        assert!(k.session.imei.is_empty());
    }
}

#[test]
fn back_from_the_scan_camera_returns_to_the_entry_and_end_wipes_the_scan() {
    let mut k = kiosk();
    k.start(Flow::CheckImei).expect("home");
    type_digits(&mut k, "4901");
    k.scan_imei().expect("imei screen");
    k.back();
    assert_eq!(k.screen, Screen::Imei);
    assert_eq!(k.session.imei.ascii(), "4901", "what was typed stays");
    scan_picture(&mut k, Flow::CheckImei);
    let session = k.session.id;
    k.on_scanned(session, Ok(vec![IMEI_A.into()]));
    k.end();
    assert!(k.session.is_blank());
    assert_eq!(k.scan_imei(), Err(Refused::WrongScreen));
}
