//! Cheque security features and the fraud score on generated cheques (`chequegen`): the design
//! is matched to its bank, the background pattern is found and a pasted field weakens it, the
//! tract model gives Python's probabilities, and
//! `--kind cheque` reports `fields.security` and `fields.fraud`.

use chequegen::{Options, Variant};
use verify::cheque::fraud::{self, FraudModel, N_FEATURES};
use verify::cheque::security::{self, SecurityConfig, Templates};
use verify::{Config, DocumentKind, FieldValue, Request};

fn cheque(variant: Variant, seed: u64, photo: bool) -> chequegen::Generated {
    let options = Options {
        variants: vec![(variant, 1.0)],
        photo_share: if photo { 1.0 } else { 0.0 },
        jpeg_share: 0.0,
        ..Options::default()
    };
    chequegen::generate(seed, &options).expect("fonts installed")
}

fn analyze(g: &chequegen::Generated) -> security::Security {
    let img = image::load_from_memory(&g.bytes).expect("png").to_rgb8();
    security::analyze(&img, Templates::built_in())
}

fn codes(s: &security::Security, routing: &str) -> Vec<String> {
    security::findings(s, Some(routing), &SecurityConfig::default())
        .into_iter()
        .map(|f| f.code)
        .collect()
}

#[test]
fn clean_cheques_match_their_bank_and_keep_their_pattern() {
    for (seed, photo) in [(11, false), (12, true), (13, false)] {
        let g = cheque(Variant::Clean, seed, photo);
        let s = analyze(&g);
        let (bank, _, score) = s.template.clone().expect("templates shipped");
        assert_eq!(bank, g.label.bank, "seed {seed}: score {score}");
        assert!(
            score >= SecurityConfig::default().min_template_score,
            "seed {seed}: {score}"
        );
        assert!(s.pattern_peak >= 1.6, "seed {seed}: {s:?}");
        let found = codes(&s, &g.label.routing);
        for code in [
            "pattern_missing",
            "template_bank_mismatch",
            "no_template_match",
        ] {
            assert!(!found.contains(&code.to_owned()), "seed {seed}: {found:?}");
        }
        assert!(s.microprint > 5.0, "seed {seed}: {}", s.microprint);
    }
}

#[test]
fn a_pasted_payee_breaks_the_pattern_there() {
    // Physical or digital, a paste lays flat paper over the pattern.
    let g = cheque(Variant::PayeePasted, 31, false);
    let s = analyze(&g);
    let clean = analyze(&cheque(Variant::Clean, 31, false));
    assert!(
        s.field_ratio("payee") < clean.field_ratio("payee") * 0.8,
        "pasted {} clean {}",
        s.field_ratio("payee"),
        clean.field_ratio("payee")
    );
}

#[test]
fn the_model_in_tract_gives_pythons_probabilities() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = FraudModel::load(&dir.join("../models/cheque-fraud.onnx")).expect("model loads");
    let check: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("tests/data/cheque-fraud-check.json"))
            .expect("check file"),
    )
    .expect("json");
    let xs = check["features"].as_array().expect("features");
    let ps = check["probability"].as_array().expect("probabilities");
    assert!(!xs.is_empty());
    for (x, p) in xs.iter().zip(ps) {
        let v: Vec<f32> = x
            .as_array()
            .expect("row")
            .iter()
            .map(|v| v.as_f64().expect("number") as f32)
            .collect();
        let arr: [f32; N_FEATURES] = v.try_into().expect("feature count");
        let got = model.probability(&arr).expect("runs");
        let want = p.as_f64().expect("number") as f32;
        assert!((got - want).abs() < 1e-4, "tract {got} python {want}");
    }
}

#[test]
fn cheque_reports_carry_security_and_fraud_fields() {
    let g = cheque(Variant::Clean, 41, false);
    let request = Request {
        kind: DocumentKind::Cheque,
        now_unix: Some(1_796_558_400), // 2026-12-06
        ..Request::default()
    };
    let mut config = Config::default();
    let with_model = verify::verify(&g.bytes, &request, &config, &mut ()).expect("a png");
    let Some(FieldValue::Map(f)) = with_model.fields.get("fraud") else {
        panic!("fields.fraud: {:?}", with_model.fields);
    };
    assert_eq!(f.get("source").map(String::as_str), Some("model"), "{f:?}");
    assert!(f.contains_key("inference_us"));
    assert!(matches!(
        with_model.fields.get("security"),
        Some(FieldValue::Map(_))
    ));
    assert_eq!(
        fraud::features(
            &with_model.findings,
            &with_model.fields,
            &with_model.located
        )
        .len(),
        N_FEATURES
    );
    // Without a model file: the rule-based score.
    config.cheque.fraud_model = Some(std::path::PathBuf::from("/nonexistent/model.onnx"));
    let rules = verify::verify(&g.bytes, &request, &config, &mut ()).expect("a png");
    let Some(FieldValue::Map(f)) = rules.fields.get("fraud") else {
        panic!("fields.fraud");
    };
    assert_eq!(f.get("source").map(String::as_str), Some("rules"));
    assert_eq!(rules.risk, verify::score::risk(&rules.findings).min(100));
}
