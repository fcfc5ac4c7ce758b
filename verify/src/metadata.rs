//! Metadata: EXIF (kamadak-exif), XMP and PNG text chunks, turned into facts and scored findings.
//!
//! Metadata is weak evidence on its own: screenshots and messaging apps strip it, and anyone can
//! write it. So absence costs little, while positive traces of an editor or an AI generator
//! cost more. Every read is bounded (packet counts, decompressed sizes), so hostile files cost
//! linear time at most.

use std::collections::BTreeMap;

use memchr::memmem;

use crate::intake::Format;
use crate::report::{Finding, Severity, Stage};

mod config;
mod content_credentials;
mod dates;

pub use dates::civil_from_days;
mod exif_facts;
mod png_text;
mod xmp;

pub use config::{MetadataConfig, MetadataPoints};
pub use dates::Stamp;
use exif_facts::{ExifState, Facts};
use xmp::{Prop, Xmp};

/// What the metadata stage read and concluded.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    /// Facts for the report's `fields` (make, model, dates, GPS, software, device type …).
    pub fields: BTreeMap<String, String>,
    pub findings: Vec<Finding>,
}

/// A piece of software named in the metadata, and where.
#[derive(Debug, Clone)]
struct Named {
    source: &'static str,
    value: String,
}

/// Read all metadata in `bytes`. Never fails: malformed metadata is itself a finding.
/// `now_unix` is the current time (seconds since the epoch), for future-date checks.
pub fn analyze(bytes: &[u8], format: Format, cfg: &MetadataConfig, now_unix: i64) -> Metadata {
    let mut out = Metadata::default();
    let state = exif_facts::read(bytes);

    let xmp_limits = xmp::XmpLimits {
        max_packets: cfg.max_xmp_packets,
        max_packet_bytes: cfg.max_xmp_bytes,
        max_values: 256,
    };
    let mut xmp = Xmp::default();
    xmp::scan(bytes, xmp_limits, &mut xmp);
    let texts = if format == Format::Png {
        png_text::read(
            bytes,
            png_text::TextLimits {
                max_chunks: cfg.max_text_chunks,
                max_chunk_bytes: cfg.max_text_bytes,
                max_total_bytes: cfg.max_text_bytes.saturating_mul(4),
            },
        )
    } else {
        Vec::new()
    };
    // XMP inside compressed iTXt chunks is invisible to the raw scan.
    for t in texts.iter().filter(|t| t.keyword == "XML:com.adobe.xmp") {
        xmp::scan(t.text.as_bytes(), xmp_limits, &mut xmp);
    }

    let facts = match &state {
        ExifState::Read(f) => Some(f),
        ExifState::Malformed { facts, .. } => facts.as_ref(),
        ExifState::Absent => None,
    };
    exif_findings(&state, facts, format, cfg, &mut out);
    let credentials = content_credentials::read(bytes, format);

    // Software named anywhere.
    let mut named: Vec<Named> = Vec::new();
    let mut add = |source: &'static str, value: &str| {
        let value = xmp::clean(value);
        if !value.is_empty() && named.len() < 64 {
            named.push(Named { source, value });
        }
    };
    if let Some(s) = facts.and_then(|f| f.software.as_deref()) {
        add("EXIF Software", s);
    }
    for v in xmp.all(Prop::CreatorTool) {
        add("XMP CreatorTool", v);
    }
    for v in xmp.all(Prop::Software) {
        add("XMP Software", v);
    }
    for v in xmp.all(Prop::SoftwareAgent) {
        add("XMP edit history", v);
    }
    for g in credentials.iter().flat_map(|c| &c.generators) {
        add("C2PA claim generator", g);
    }
    for t in &texts {
        let key = t.keyword.to_ascii_lowercase();
        if matches!(
            key.as_str(),
            "software" | "source" | "generator" | "creation software"
        ) {
            add("PNG text", &t.text);
        }
    }
    let software = facts
        .and_then(|f| f.software.clone())
        .or_else(|| named.first().map(|n| n.value.clone()));
    if let Some(s) = software {
        out.fields.insert("software".into(), s);
    }
    if let Some(tool) = xmp.first(Prop::CreatorTool) {
        out.fields.insert("creator_tool".into(), xmp::clean(tool));
    }
    if xmp.packets > 0 {
        out.fields.insert(
            "xmp".into(),
            if xmp.unreadable == xmp.packets {
                "unreadable".into()
            } else {
                "present".into()
            },
        );
    }
    credential_fields(credentials.as_ref(), bytes, cfg, &mut out);

    let ai = ai_evidence(
        bytes,
        credentials.as_ref(),
        facts,
        &xmp,
        &texts,
        &named,
        cfg,
    );
    if let Some((what, source)) = &ai {
        out.fields.insert("ai_generator".into(), what.clone());
        out.findings.push(Finding::new(
            "ai_generated",
            Stage::Metadata,
            Severity::High,
            cfg.points.ai_generator,
            format!(
                "The file says it was made by an AI image generator ({what}, in the {source}). \
                 It is not a photograph of a real document."
            ),
            format!(
                "ফাইলের তথ্য বলছে ছবিটি একটি এআই ছবি-তৈরির প্রোগ্রাম দিয়ে বানানো ({what}, {source}-এ পাওয়া)। \
                 এটি কোনো আসল কাগজের ছবি নয়।"
            ),
        ));
    }
    if let Some(n) = named
        .iter()
        .find_map(|n| first_word_match(&n.value, &cfg.editing_software).map(|_| n))
    {
        out.findings.push(Finding::new(
            "editing_software",
            Stage::Metadata,
            Severity::Medium,
            cfg.points.editing_software,
            format!(
                "The file was saved by image-editing software (\"{}\", in the {}). Editing is \
                 not proof of forgery, but the picture may have been changed after it was taken.",
                n.value, n.source
            ),
            format!(
                "ছবিটি ছবি-সম্পাদনার সফটওয়্যার দিয়ে সংরক্ষণ করা হয়েছে (\"{}\", {}-এ পাওয়া)। \
                 সম্পাদনা মানেই জালিয়াতি নয়, তবে তোলার পরে ছবিটি বদলানো হয়ে থাকতে পারে।",
                n.value, n.source
            ),
        ));
    }

    date_findings(facts, &xmp, cfg, now_unix, &mut out);
    Metadata {
        fields: out.fields,
        findings: out.findings,
    }
}

/// EXIF presence, damage, completeness, GPS and device type.
fn exif_findings(
    state: &ExifState,
    facts: Option<&Facts>,
    format: Format,
    cfg: &MetadataConfig,
    out: &mut Metadata,
) {
    let p = &cfg.points;
    match state {
        ExifState::Absent => out.findings.push(Finding::new(
            "exif_missing",
            Stage::Metadata,
            Severity::Info,
            p.exif_missing,
            format!(
                "This {} has no camera information (EXIF). Screenshots and messaging apps remove it, \
                 so on its own this means little.",
                format.as_str().to_uppercase()
            ),
            "ছবিটিতে ক্যামেরার তথ্য (EXIF) নেই। স্ক্রিনশট ও মেসেজিং অ্যাপ এই তথ্য মুছে ফেলে, \
             তাই শুধু এ কারণে সন্দেহের কিছু নেই।",
        )),
        ExifState::Malformed { why, .. } => out.findings.push(Finding::new(
            "exif_malformed",
            Stage::Metadata,
            Severity::Low,
            p.exif_malformed,
            format!(
                "The camera information (EXIF) in this file is damaged ({why}). Some apps write it \
                 badly, but it is also a sign the file was rewritten by hand or by a tool."
            ),
            "ফাইলের ক্যামেরার তথ্য (EXIF) ক্ষতিগ্রস্ত। কিছু অ্যাপ এমন ভুল লেখে, \
             তবে ফাইলটি হাতে বা কোনো টুল দিয়ে বদলানো হয়েছে এমনও হতে পারে।",
        )),
        ExifState::Read(_) => {}
    }
    let Some(f) = facts else {
        out.fields.insert("exif_fields".into(), "0".into());
        out.fields.insert("device_type".into(), "unknown".into());
        return;
    };
    out.fields
        .insert("exif_fields".into(), f.fields.to_string());
    for (key, value) in [("make", &f.make), ("model", &f.model)] {
        if let Some(v) = value {
            out.fields.insert(key.into(), v.clone());
        }
    }
    for (key, value) in [
        ("datetime_original", f.original),
        ("datetime_digitized", f.digitized),
        ("datetime_modified", f.modified),
    ] {
        if let Some(v) = value {
            out.fields.insert(key.into(), v.to_string());
        }
    }

    if matches!(state, ExifState::Read(_)) && f.camera_tags < cfg.min_camera_tags {
        out.findings.push(Finding::new(
            "exif_sparse",
            Stage::Metadata,
            Severity::Low,
            p.exif_sparse,
            format!(
                "The camera information is incomplete: {} of the {} details a camera or phone \
                 normally records are present. Files exported from apps or editors look like this.",
                f.camera_tags,
                exif_facts::CAMERA_TAGS.len()
            ),
            format!(
                "ক্যামেরার তথ্য অসম্পূর্ণ: ক্যামেরা বা ফোন সাধারণত যে {}টি তথ্য লেখে তার মাত্র {}টি আছে। \
                 অ্যাপ বা এডিটর থেকে সংরক্ষিত ফাইলে এমন দেখা যায়।",
                exif_facts::CAMERA_TAGS.len(),
                f.camera_tags
            ),
        ));
    }

    if let Some((lat, lon)) = f.gps {
        out.fields
            .insert("gps".into(), format!("{lat:.6},{lon:.6}"));
        out.findings.push(Finding::new(
            "gps_present",
            Stage::Metadata,
            Severity::Info,
            0,
            format!("The photo records where it was taken: {lat:.5}, {lon:.5}."),
            format!("ছবিটি কোথায় তোলা হয়েছে তা লেখা আছে: {lat:.5}, {lon:.5}।"),
        ));
    }

    let device = device_type(f.make.as_deref(), f.model.as_deref(), cfg);
    out.fields.insert("device_type".into(), device.into());
    if device != "unknown" {
        let name = [f.make.as_deref(), f.model.as_deref()]
            .iter()
            .flatten()
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        let (en, bn) = match device {
            "phone" => ("a phone", "একটি মোবাইল ফোন"),
            "scanner" => ("a scanner", "একটি স্ক্যানার"),
            _ => ("a camera", "একটি ক্যামেরা"),
        };
        out.findings.push(Finding::new(
            "device_type",
            Stage::Metadata,
            Severity::Info,
            0,
            format!("Taken with {en} ({name})."),
            format!("ছবিটি {bn} দিয়ে তোলা ({name})।"),
        ));
    }
}

/// `phone`, `camera`, `scanner` or `unknown`, from make and model.
fn device_type(make: Option<&str>, model: Option<&str>, cfg: &MetadataConfig) -> &'static str {
    let make = make.unwrap_or_default().to_lowercase();
    let model = model.unwrap_or_default().to_lowercase();
    let both = format!("{make} {model}");
    if cfg
        .scanner_words
        .iter()
        .any(|w| both.contains(&w.to_lowercase()))
    {
        "scanner"
    } else if cfg.phone_models.iter().any(|p| {
        let p = p.to_lowercase();
        model.starts_with(&p) || has_word(&model, &p)
    }) || first_word_match(&make, &cfg.phone_makes).is_some()
    {
        "phone"
    } else if first_word_match(&make, &cfg.camera_makes).is_some() {
        "camera"
    } else {
        "unknown"
    }
}

/// Whether `needle` occurs in `hay` with no letter or digit on either side (both lower-case).
fn has_word(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    hay.match_indices(needle).any(|(i, m)| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + m.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// The first entry of `list` found as a word in `value`, case-insensitively.
fn first_word_match<'a>(value: &str, list: &'a [String]) -> Option<&'a str> {
    let hay = value.to_lowercase();
    list.iter()
        .find(|w| has_word(&hay, &w.to_lowercase()))
        .map(String::as_str)
}

/// The manifest store's fields, and a finding when its own checks fail.
fn credential_fields(
    credentials: Option<&content_credentials::Credentials>,
    bytes: &[u8],
    cfg: &MetadataConfig,
    out: &mut Metadata,
) {
    use content_credentials::Validity;
    let Some(c) = credentials else {
        if memmem::find(bytes, b"c2pa.claim").is_some() {
            out.fields
                .insert("content_credentials".into(), "unreadable".into());
        }
        return;
    };
    let state = match &c.validity {
        Validity::Trusted => "trusted",
        Validity::Intact => "intact",
        Validity::Broken(_) => "broken",
        Validity::Unreadable(_) => "unreadable",
    };
    out.fields
        .insert("content_credentials".into(), state.into());
    if let Some(s) = &c.signer {
        out.fields
            .insert("content_credentials_signer".into(), xmp::clean(s));
    }
    if let Some(g) = c.generators.first() {
        out.fields
            .insert("content_credentials_generator".into(), xmp::clean(g));
    }
    if c.broken() {
        out.findings.push(Finding::new(
            "content_credentials_broken",
            Stage::Metadata,
            Severity::Medium,
            cfg.points.content_credentials_broken,
            format!(
                "The picture carries Content Credentials (C2PA) whose checks fail ({}): the \
                 picture or its record was changed after it was signed.",
                c.describe()
            ),
            format!(
                "ছবিতে কনটেন্ট ক্রেডেনশিয়াল (C2PA) আছে, কিন্তু তার যাচাই মেলে না ({}): সই করার পরে \
                 ছবি বা তার রেকর্ড বদলানো হয়েছে।",
                c.describe()
            ),
        ));
    }
}

/// What says the image was generated by AI, and where it says so.
fn ai_evidence(
    bytes: &[u8],
    credentials: Option<&content_credentials::Credentials>,
    facts: Option<&Facts>,
    xmp: &Xmp,
    texts: &[png_text::TextChunk],
    named: &[Named],
    cfg: &MetadataConfig,
) -> Option<(String, String)> {
    if let Some(c) = credentials {
        let what = match c.ai_source_type {
            Some(content_credentials::AiSource::Generated) => {
                Some("digital source type \"trained algorithmic media\"")
            }
            Some(content_credentials::AiSource::Composite) => {
                Some("parts made by an AI model (digital source type \"composite with trained algorithmic media\")")
            }
            None => None,
        };
        if let Some(what) = what {
            return Some((
                what.into(),
                format!("Content Credentials (C2PA) manifest, {}", c.describe()),
            ));
        }
    }
    if let Some((n, w)) = named
        .iter()
        .find_map(|n| first_word_match(&n.value, &cfg.ai_generators).map(|w| (n, w)))
    {
        return Some((format!("{w}: \"{}\"", n.value), n.source.to_owned()));
    }
    for t in texts {
        let key = t.keyword.to_ascii_lowercase();
        let found = match key.as_str() {
            "parameters" if t.text.contains("Steps:") => Some("Stable Diffusion web UI"),
            "prompt" if t.text.contains("class_type") => Some("ComfyUI"),
            "workflow" if t.text.contains("\"nodes\"") => Some("ComfyUI"),
            "invokeai_metadata" | "invokeai_graph" | "sd-metadata" | "dream" => Some("InvokeAI"),
            "comment" if t.text.contains("\"sampler\"") && t.text.contains("\"steps\"") => {
                Some("NovelAI")
            }
            _ => None,
        };
        if let Some(what) = found {
            return Some((
                format!("{what} generation settings"),
                format!("PNG text chunk \"{}\"", xmp::clean(&t.keyword)),
            ));
        }
    }
    if let Some(c) = facts.and_then(|f| f.user_comment.as_deref()) {
        if c.contains("Steps:") && (c.contains("Sampler:") || c.contains("CFG scale:")) {
            return Some((
                "Stable Diffusion generation settings".into(),
                "EXIF user comment".into(),
            ));
        }
    }
    if xmp
        .all(Prop::DigitalSourceType)
        .any(|v| v.contains("trainedAlgorithmicMedia"))
    {
        return Some((
            "digital source type \"trained algorithmic media\"".into(),
            "XMP".into(),
        ));
    }
    if memmem::find(bytes, b"trainedAlgorithmicMedia").is_some() {
        return Some((
            "digital source type \"trained algorithmic media\"".into(),
            "Content Credentials (C2PA) manifest".into(),
        ));
    }
    None
}

/// Future dates, modified-before-taken, and long gaps between taken and modified.
fn date_findings(
    facts: Option<&Facts>,
    xmp: &Xmp,
    cfg: &MetadataConfig,
    now_unix: i64,
    out: &mut Metadata,
) {
    let p = &cfg.points;
    let xmp_stamp = |prop: Prop| xmp.first(prop).and_then(Stamp::from_xmp);
    let taken = facts
        .and_then(|f| f.original.or(f.digitized))
        .or_else(|| xmp_stamp(Prop::DateTimeOriginal))
        .or_else(|| xmp_stamp(Prop::DateCreated))
        .or_else(|| xmp_stamp(Prop::CreateDate));
    let modified = [
        facts.and_then(|f| f.modified),
        xmp_stamp(Prop::ModifyDate),
        xmp_stamp(Prop::MetadataDate),
    ]
    .into_iter()
    .flatten()
    .max_by_key(Stamp::utc);
    if let Some(m) = modified {
        out.fields
            .entry("datetime_modified".into())
            .or_insert_with(|| m.to_string());
    }
    if let Some(t) = taken {
        out.fields
            .entry("datetime_original".into())
            .or_insert_with(|| t.to_string());
    }

    let digitized = facts.and_then(|f| f.digitized);
    let future = [
        ("taken", taken),
        ("digitised", digitized),
        ("modified", modified),
    ]
    .into_iter()
    .find_map(|(what, s)| {
        let s = s?;
        let slack = if s.offset_min.is_some() {
            0
        } else {
            dates::UNKNOWN_ZONE_SLACK_S
        };
        (s.utc() - now_unix > cfg.future_tolerance_s + slack).then_some((what, s))
    });
    if let Some((what, s)) = future {
        let bn_what = match what {
            "taken" => "তোলার",
            "digitised" => "ডিজিটাইজ করার",
            _ => "পরিবর্তনের",
        };
        out.findings.push(Finding::new(
            "date_future",
            Stage::Metadata,
            Severity::Medium,
            p.date_future,
            format!(
                "The file's {what} date ({s}) is in the future. A wrong camera clock can do this, \
                 but so can hand-edited metadata."
            ),
            format!(
                "ফাইলের {bn_what} তারিখ ({s}) ভবিষ্যতের। ক্যামেরার ঘড়ি ভুল থাকলে এমন হয়, \
                 তবে হাতে তথ্য বদলালেও এমন হয়।"
            ),
        ));
    }

    let (Some(t), Some(m)) = (taken, modified) else {
        return;
    };
    let (diff, slack) = m.minus(&t);
    if diff < -(cfg.clock_tolerance_s + slack) {
        out.findings.push(Finding::new(
            "date_modified_before_taken",
            Stage::Metadata,
            Severity::Medium,
            p.date_modified_before_taken,
            format!(
                "The file says it was last modified ({m}) before the photo was taken ({t}). \
                 A camera does not write that; the dates were probably changed."
            ),
            format!(
                "ফাইলে লেখা আছে ছবিটি তোলার ({t}) আগেই শেষবার পরিবর্তন করা হয়েছে ({m})। \
                 ক্যামেরা এমন লেখে না; তারিখগুলো সম্ভবত বদলানো হয়েছে।"
            ),
        ));
    } else if diff > cfg.date_gap_days.saturating_mul(86_400) + slack {
        let days = diff / 86_400;
        out.findings.push(Finding::new(
            "date_gap",
            Stage::Metadata,
            Severity::Low,
            p.date_gap,
            format!(
                "The photo was taken on {t} but the file was modified {days} days later ({m}): \
                 it was opened and saved again long after it was taken."
            ),
            format!(
                "ছবিটি তোলা হয়েছে {t}-এ, কিন্তু ফাইলটি পরিবর্তন হয়েছে {days} দিন পরে ({m}): \
                 তোলার অনেক পরে ছবিটি আবার খুলে সংরক্ষণ করা হয়েছে।"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_match_whole_words_only() {
        let cases = [
            ("adobe photoshop cs3 (windows)", "photoshop", true),
            ("gimp 2.4.5", "gimp", true),
            ("canvas 3", "canva", false),
            ("imagenomic portraiture", "imagen", false),
            ("made with canva", "canva", true),
            ("dall·e 3", "dall·e", true),
            ("", "", false),
        ];
        for (hay, needle, want) in cases {
            assert_eq!(has_word(hay, needle), want, "{hay} / {needle}");
        }
    }

    #[test]
    fn device_types() {
        let cfg = MetadataConfig::default();
        let cases = [
            (Some("samsung"), Some("SM-G991B"), "phone"),
            (Some("SAMSUNG TECHWIN"), Some("Digimax i50 MP3"), "camera"),
            (Some("Apple"), Some("iPhone 12"), "phone"),
            (Some("SONY"), Some("DSC-W55"), "camera"),
            (Some("Sony"), Some("Xperia 1 II"), "phone"),
            (Some("Canon"), Some("CanoScan LiDE 300"), "scanner"),
            (Some("Canon"), Some("Canon EOS 40D"), "camera"),
            (Some("HMD Global"), Some("Nokia 8.3 5G"), "phone"),
            (Some("Jolla"), Some("Jolla"), "phone"),
            (None, None, "unknown"),
            (Some("ACME"), Some("X1"), "unknown"),
        ];
        for (make, model, want) in cases {
            assert_eq!(device_type(make, model, &cfg), want, "{make:?} {model:?}");
        }
    }
}
