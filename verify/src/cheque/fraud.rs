//! The cheque fraud score: a feature vector built from the report (forensic findings and where
//! they lie, cross-field checks, security features), a gradient-boosted model
//! (`models/cheque-fraud.onnx`, trained by `models/train_cheque_fraud.py`) run with tract, and a
//! rule-based score (the findings' points) when no model file is present. Verdict: legitimate
//! < 30 ≤ suspicious < 60 ≤ fraudulent, mapped onto approve / review / reject.
//!
//! A forensic region that overlaps the amount, the payee or the date weighs far more: it adds a
//! `tamper_on_field` finding (40 points) and its own features.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tract_onnx::prelude::*;

use crate::report::{FieldValue, Finding, LocatedField, Region, Severity, Stage};
use crate::score::Thresholds;

/// Where risk splits legitimate / suspicious / fraudulent for cheques.
pub const THRESHOLDS: Thresholds = Thresholds {
    review: 30,
    reject: 60,
};

/// Feature names, in the model's input order (the model card lists them too).
pub const FEATURES: [&str; 33] = [
    "ela_points",
    "copy_move_points",
    "noise_points",
    "double_jpeg_points",
    "metadata_points",
    "forensic_regions",
    "forensic_on_amount",
    "forensic_on_payee",
    "forensic_on_date",
    "amount_mismatch",
    "amount_figures_read",
    "amount_words_read",
    "amount_log_ratio",
    "date_read",
    "date_stale",
    "date_post_dated",
    "payee_read",
    "micr_read",
    "routing_listed",
    "template_score",
    "template_bank_matches_routing",
    "pattern_peak",
    "pattern_tile_median",
    "pattern_low_tiles",
    "pattern_date",
    "pattern_payee",
    "pattern_amount_words",
    "pattern_amount_figures",
    "pattern_signature",
    "pattern_min_field",
    "parallel_lines",
    "microprint",
    "is_jpeg",
];

/// Number of features.
pub const N_FEATURES: usize = FEATURES.len();

const FORENSIC: [Stage; 4] = [Stage::Ela, Stage::CopyMove, Stage::Noise, Stage::DoubleJpeg];

fn points(findings: &[Finding], stage: Stage) -> f32 {
    findings
        .iter()
        .filter(|f| f.stage == stage)
        .map(|f| f.points as f32)
        .sum()
}

fn has(findings: &[Finding], code: &str) -> f32 {
    f32::from(u8::from(findings.iter().any(|f| f.code == code)))
}

fn map_value(fields: &BTreeMap<String, FieldValue>, map: &str, key: &str) -> Option<String> {
    match fields.get(map) {
        Some(FieldValue::Map(m)) => m.get(key).cloned(),
        _ => None,
    }
}

fn num(fields: &BTreeMap<String, FieldValue>, map: &str, key: &str, default: f32) -> f32 {
    map_value(fields, map, key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A box written `x,y,w,h`.
pub fn parse_box(s: &str) -> Option<Region> {
    let v: Vec<u32> = s
        .split(',')
        .map(|p| p.trim().parse().ok())
        .collect::<Option<_>>()?;
    match v[..] {
        [x, y, w, h] => Some(Region::new(x, y, w, h)),
        _ => None,
    }
}

/// The field's boxes: where OCR found it and where the matched layout puts it.
pub fn field_boxes(
    fields: &BTreeMap<String, FieldValue>,
    located: &[LocatedField],
    names: &[&str],
) -> Vec<Region> {
    let mut out: Vec<Region> = located
        .iter()
        .filter(|l| names.contains(&l.field.as_str()))
        .map(|l| l.region)
        .collect();
    for n in names {
        if let Some(r) =
            map_value(fields, "security", &format!("box_{n}")).and_then(|s| parse_box(&s))
        {
            out.push(r);
        }
    }
    out
}

/// The largest share of a forensic region's area lying on one of `boxes`.
fn on_field(findings: &[Finding], boxes: &[Region]) -> f32 {
    findings
        .iter()
        .filter(|f| FORENSIC.contains(&f.stage))
        .flat_map(|f| f.regions.iter())
        .flat_map(|r| {
            boxes
                .iter()
                .map(move |b| r.overlap(b) as f32 / r.area().min(b.area()).max(1) as f32)
        })
        .fold(0.0, f32::max)
}

const AMOUNT: &[&str] = &["amount_words", "amount_figures"];

/// The feature vector of a cheque report (its findings from stage `score` are ignored, so the
/// vector is the same before and after scoring).
pub fn features(
    findings: &[Finding],
    fields: &BTreeMap<String, FieldValue>,
    located: &[LocatedField],
) -> [f32; N_FEATURES] {
    let findings: Vec<Finding> = findings
        .iter()
        .filter(|f| f.stage != Stage::Score)
        .cloned()
        .collect();
    let f = &findings;
    let text = |k: &str| {
        fields
            .get(k)
            .and_then(FieldValue::as_text)
            .map(str::to_owned)
    };
    let amount = |k: &str| text(k).and_then(|v| v.parse::<f64>().ok());
    let log_ratio = match (amount("amount_figures"), amount("amount_words")) {
        (Some(a), Some(b)) if a > 0.0 && b > 0.0 => (a / b).ln().abs() as f32,
        _ => 0.0,
    };
    let layout_known = map_value(fields, "micr", "layout").is_some_and(|l| l != "unknown");
    let routing_listed =
        map_value(fields, "micr", "routing_status").is_some_and(|s| s == "bd_listed");
    let routing_bank =
        map_value(fields, "micr", "routing").map(|r| r.chars().take(3).collect::<String>());
    let template_code = map_value(fields, "security", "template_bank_code");
    let bank_match = match (routing_bank, template_code) {
        (Some(a), Some(b)) => f32::from(u8::from(a == b)),
        _ => 0.5,
    };
    let forensic_regions = f
        .iter()
        .filter(|x| FORENSIC.contains(&x.stage))
        .map(|x| x.regions.len())
        .sum::<usize>() as f32;
    let pat = |n: &str| num(fields, "security", &format!("pattern_{n}"), 1.0);
    let min_field = ["date", "payee", "amount_words", "amount_figures"]
        .iter()
        .map(|n| pat(n))
        .fold(f32::MAX, f32::min);
    let is_jpeg = text("format").is_some_and(|v| v == "jpeg");
    [
        points(f, Stage::Ela),
        points(f, Stage::CopyMove),
        points(f, Stage::Noise),
        points(f, Stage::DoubleJpeg),
        points(f, Stage::Metadata),
        forensic_regions,
        on_field(f, &field_boxes(fields, located, AMOUNT)),
        on_field(f, &field_boxes(fields, located, &["payee"])),
        on_field(f, &field_boxes(fields, located, &["date"])),
        has(f, "amount_mismatch"),
        f32::from(u8::from(text("amount_figures").is_some())),
        f32::from(u8::from(text("amount_words").is_some())),
        log_ratio,
        f32::from(u8::from(text("date").is_some())),
        has(f, "cheque_stale"),
        has(f, "cheque_post_dated"),
        f32::from(u8::from(text("payee").is_some())),
        f32::from(u8::from(layout_known)),
        f32::from(u8::from(routing_listed)),
        num(fields, "security", "template_score", 0.0),
        bank_match,
        num(fields, "security", "pattern_peak", 0.0),
        num(fields, "security", "pattern_tile_median", 0.0),
        num(fields, "security", "pattern_low_tiles", 0.0),
        pat("date"),
        pat("payee"),
        pat("amount_words"),
        pat("amount_figures"),
        pat("signature"),
        min_field,
        num(fields, "security", "parallel_lines", 0.0),
        num(fields, "security", "microprint", 0.0),
        f32::from(u8::from(is_jpeg)),
    ]
}

/// Findings for forensic regions on the amount, payee or date: each weighs 40 points.
pub fn tamper_on_field(
    findings: &[Finding],
    fields: &BTreeMap<String, FieldValue>,
    located: &[LocatedField],
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, names, bn) in [
        ("amount", AMOUNT, "টাকার পরিমাণের"),
        ("payee", &["payee"][..], "প্রাপকের নামের"),
        ("date", &["date"][..], "তারিখের"),
    ] {
        let boxes = field_boxes(fields, located, names);
        let hits: Vec<Region> = findings
            .iter()
            .filter(|f| FORENSIC.contains(&f.stage))
            .flat_map(|f| f.regions.iter().copied())
            .filter(|r| boxes.iter().any(|b| r.overlap(b) > 0))
            .collect();
        if !hits.is_empty() {
            out.push(
                Finding::new(
                    "tamper_on_field",
                    Stage::Score,
                    Severity::High,
                    40,
                    format!("A region that looks edited lies on the {name}."),
                    format!("{bn} উপর সম্পাদিত মনে হওয়া একটি অংশ আছে।"),
                )
                .with_regions(hits),
            );
        }
    }
    out
}

/// A loaded fraud model.
pub struct FraudModel {
    plan: Arc<TypedRunnableModel>,
}

impl std::fmt::Debug for FraudModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FraudModel").finish_non_exhaustive()
    }
}

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
#[error("cheque fraud model: {0}")]
pub struct ModelError(String);

impl FraudModel {
    /// Load an ONNX model taking a `[1, N_FEATURES]` float input and giving class
    /// probabilities `[1, 2]` as its second output (skl2onnx, no ZipMap).
    pub fn load(path: &Path) -> Result<FraudModel, ModelError> {
        let e = |e: TractError| ModelError(format!("{}: {e:#}", path.display()));
        let plan = onnx()
            .model_for_path(path)
            .map_err(e)?
            .with_input_fact(0, f32::fact([1, N_FEATURES]).into())
            .map_err(e)?
            .into_optimized()
            .map_err(e)?
            .into_runnable()
            .map_err(e)?;
        Ok(FraudModel { plan })
    }

    /// The model at `path`, loaded once per process.
    pub fn cached(path: &Path) -> Result<Arc<FraudModel>, ModelError> {
        static CACHE: Mutex<Option<HashMap<PathBuf, Arc<FraudModel>>>> = Mutex::new(None);
        let mut guard = CACHE
            .lock()
            .map_err(|_| ModelError("model cache poisoned".to_owned()))?;
        let cache = guard.get_or_insert_with(HashMap::new);
        if let Some(m) = cache.get(path) {
            return Ok(Arc::clone(m));
        }
        let m = Arc::new(FraudModel::load(path)?);
        cache.insert(path.to_path_buf(), Arc::clone(&m));
        Ok(m)
    }

    /// The fraud probability of one feature vector.
    pub fn probability(&self, features: &[f32; N_FEATURES]) -> Result<f32, ModelError> {
        let e = |e: TractError| ModelError(format!("{e:#}"));
        let input = Tensor::from_shape(&[1, N_FEATURES], features).map_err(e)?;
        let out = self.plan.run(tvec!(input.into())).map_err(e)?;
        let probs = out
            .get(1)
            .or_else(|| out.first())
            .ok_or_else(|| ModelError("no output".to_owned()))?;
        let view = probs.to_plain_array_view::<f32>().map_err(e)?;
        let flat: Vec<f32> = view.iter().copied().collect();
        flat.get(1)
            .or(flat.first())
            .copied()
            .ok_or_else(|| ModelError("empty output".to_owned()))
    }
}

/// How a cheque was scored.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// 0–100.
    pub risk: u32,
    /// `model` or `rules`.
    pub source: &'static str,
    /// The model's probability, when it ran.
    pub probability: Option<f32>,
    /// Model inference time, microseconds.
    pub inference_us: Option<u64>,
    /// Why the model did not run, when it did not.
    pub model_error: Option<String>,
}

impl Assessment {
    /// `legitimate`, `suspicious` or `fraudulent`.
    pub fn label(&self) -> &'static str {
        if self.risk >= THRESHOLDS.reject {
            "fraudulent"
        } else if self.risk >= THRESHOLDS.review {
            "suspicious"
        } else {
            "legitimate"
        }
    }

    /// What the report shows under `fields.fraud`.
    pub fn report_map(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        m.insert("source".to_owned(), self.source.to_owned());
        m.insert("label".to_owned(), self.label().to_owned());
        m.insert("score".to_owned(), self.risk.to_string());
        if let Some(p) = self.probability {
            m.insert("probability".to_owned(), format!("{p:.4}"));
        }
        if let Some(us) = self.inference_us {
            m.insert("inference_us".to_owned(), us.to_string());
        }
        if let Some(e) = &self.model_error {
            m.insert("model_error".to_owned(), e.clone());
        }
        m
    }
}

/// Score a cheque: the model at `model` when it loads and runs, else the findings' points.
pub fn assess(
    findings: &[Finding],
    fields: &BTreeMap<String, FieldValue>,
    located: &[LocatedField],
    model: Option<&Path>,
) -> Assessment {
    let rules = crate::score::risk(findings);
    let Some(path) = model.filter(|p| p.is_file()) else {
        return Assessment {
            risk: rules,
            source: "rules",
            probability: None,
            inference_us: None,
            model_error: None,
        };
    };
    let x = features(findings, fields, located);
    let run = FraudModel::cached(path).and_then(|m| {
        let t = Instant::now();
        let p = m.probability(&x)?;
        Ok((
            p,
            u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX),
        ))
    });
    match run {
        Ok((p, us)) => Assessment {
            risk: (p.clamp(0.0, 1.0) * 100.0).round() as u32,
            source: "model",
            probability: Some(p),
            inference_us: Some(us),
            model_error: None,
        },
        Err(e) => Assessment {
            risk: rules,
            source: "rules",
            probability: None,
            inference_us: None,
            model_error: Some(e.to_string()),
        },
    }
}
