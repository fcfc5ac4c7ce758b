//! Metadata tests: the EXIF sample corpus, and table-driven cases with hand-built EXIF, XMP,
//! PNG text and C2PA bytes for software, AI generators, dates and damage.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use verify::intake::{sniff, Format};
use verify::metadata::{analyze, Metadata, MetadataConfig};
use verify::{Severity, Stage};

mod metadata_support;
use metadata_support::*;

/// Finding codes expected present or absent in a table case.
type Codes = &'static [&'static str];

/// PNG chunks to insert: type and data.
type Chunks = Vec<(&'static [u8; 4], Vec<u8>)>;

/// 2026-05-28, a fixed "now" so the date rules are reproducible.
const NOW: i64 = 1_780_000_000;

fn run(bytes: &[u8]) -> Metadata {
    let format = sniff(bytes).unwrap_or(Format::Jpeg);
    let started = Instant::now();
    let m = analyze(bytes, format, &MetadataConfig::default(), NOW);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "metadata took {:?}",
        started.elapsed()
    );
    for f in &m.findings {
        assert_eq!(f.stage, Stage::Metadata);
        assert!(!f.en.is_empty(), "{}: no English message", f.code);
        assert!(
            f.bn.chars().any(|c| ('\u{0980}'..='\u{09FF}').contains(&c)),
            "{}: no Bengali message",
            f.code
        );
    }
    m
}

fn codes(m: &Metadata) -> Vec<&str> {
    m.findings.iter().map(|f| f.code.as_str()).collect()
}

fn points(m: &Metadata) -> u32 {
    m.findings.iter().map(|f| f.points).sum()
}

/// The one helper for table cases: `present` codes must appear, `absent` ones must not.
fn check(name: &str, bytes: &[u8], present: &[&str], absent: &[&str]) -> Metadata {
    let m = run(bytes);
    let got = codes(&m);
    for code in present {
        assert!(got.contains(code), "{name}: expected {code}, got {got:?}");
    }
    for code in absent {
        assert!(!got.contains(code), "{name}: unexpected {code} in {got:?}");
    }
    m
}

fn jpegs_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("samples directory").flatten() {
        let p = entry.path();
        if p.is_dir() {
            jpegs_under(&p, out);
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg"))
        {
            out.push(p);
        }
    }
}

#[test]
fn every_exif_sample_is_read_without_failing() {
    let root = common::data_dir().join("exif-samples");
    let mut files = Vec::new();
    jpegs_under(&root, &mut files);
    assert!(files.len() > 80, "only {} samples", files.len());
    let mut complete = 0;
    for path in &files {
        let name = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        let bytes = std::fs::read(path).expect("sample");
        let m = run(&bytes);
        let got = codes(&m);
        let fields: usize = m
            .fields
            .get("exif_fields")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if name.contains("invalid") {
            // These files carry no EXIF block at all (only an XMP APP1 that trips other
            // readers): the reader must say so rather than fail.
            assert!(
                got.contains(&"exif_malformed") || got.contains(&"exif_missing"),
                "{name}: {got:?}"
            );
        } else if fields > 0 && !got.contains(&"exif_sparse") && !got.contains(&"exif_malformed") {
            // Complete camera EXIF names the camera.
            complete += 1;
            assert!(
                m.fields.contains_key("make") && m.fields.contains_key("model"),
                "{name}: complete EXIF but no make/model: {:?}",
                m.fields
            );
        }
    }
    assert!(
        complete >= 50,
        "only {complete} samples with complete camera EXIF"
    );
}

#[test]
fn known_samples() {
    // (file, make, model, device, must have, must not have)
    let cases: [(&str, &str, &str, &str, Codes, Codes); 8] = [
        (
            "Canon_PowerShot_S40.jpg",
            "Canon",
            "Canon PowerShot S40",
            "camera",
            &[],
            &["editing_software", "exif_sparse", "date_gap"],
        ),
        (
            "Canon_40D.jpg",
            "Canon",
            "Canon EOS 40D",
            "camera",
            &["editing_software", "date_gap"],
            &["ai_generated"],
        ),
        (
            "exif-org/fujifilm-dx10.jpg",
            "FUJIFILM",
            "DX-10",
            "camera",
            &[],
            &["editing_software"],
        ),
        (
            "exif-org/nikon-e950.jpg",
            "NIKON",
            "E950",
            "camera",
            &[],
            &["editing_software"],
        ),
        (
            "hdr/iphone_hdr_NO.jpg",
            "Apple",
            "iPhone 6",
            "phone",
            &["gps_present"],
            &["editing_software", "exif_sparse"],
        ),
        (
            "mobile/HMD_Nokia_8.3_5G.jpg",
            "HMD Global",
            "Nokia 8.3 5G",
            "phone",
            &[],
            &["editing_software"],
        ),
        (
            "tests/87_OSError.jpg",
            "NIKON CORPORATION",
            "NIKON D70s",
            "camera",
            &["editing_software"],
            &[],
        ),
        (
            "gps/DSCN0010.jpg",
            "NIKON",
            "COOLPIX P6000",
            "camera",
            &["gps_present"],
            &["editing_software"],
        ),
    ];
    for (file, make, model, device, present, absent) in cases {
        let bytes =
            std::fs::read(common::data_dir().join("exif-samples/jpg").join(file)).expect("sample");
        let m = check(file, &bytes, present, absent);
        assert_eq!(
            m.fields.get("make").map(String::as_str),
            Some(make),
            "{file}"
        );
        assert_eq!(
            m.fields.get("model").map(String::as_str),
            Some(model),
            "{file}"
        );
        assert_eq!(
            m.fields.get("device_type").map(String::as_str),
            Some(device),
            "{file}"
        );
    }
    let gps = run(
        &std::fs::read(common::data_dir().join("exif-samples/jpg/gps/DSCN0010.jpg"))
            .expect("sample"),
    );
    assert_eq!(
        gps.fields.get("gps").map(String::as_str),
        Some("43.467448,11.885127")
    );
    let f = gps
        .findings
        .iter()
        .find(|f| f.code == "gps_present")
        .expect("gps finding");
    assert_eq!((f.severity, f.points), (Severity::Info, 0));
}

#[test]
fn clean_camera_photos_cost_few_points() {
    for file in [
        "Canon_PowerShot_S40.jpg",
        "exif-org/canon-ixus.jpg",
        "exif-org/fujifilm-finepix40i.jpg",
        "exif-org/sony-d700.jpg",
        "hdr/iphone_hdr_YES.jpg",
        "mobile/jolla.jpg",
        "tests/35-empty.jpg",
    ] {
        let bytes =
            std::fs::read(common::data_dir().join("exif-samples/jpg").join(file)).expect("sample");
        let m = run(&bytes);
        assert!(
            points(&m) <= 5,
            "{file}: {} points from {:?}",
            points(&m),
            codes(&m)
        );
    }
}

#[test]
fn damaged_exif_in_real_files_is_a_finding() {
    for file in ["tests/30-type_error.jpg", "tests/45-gps_ifd.jpg"] {
        let bytes =
            std::fs::read(common::data_dir().join("exif-samples/jpg").join(file)).expect("sample");
        check(file, &bytes, &["exif_malformed"], &["exif_missing"]);
    }
}

// ---------- constructed EXIF ----------

#[test]
fn software_names() {
    // (Software tag, expected code or none)
    let cases: [(&str, Option<&str>); 18] = [
        ("Ver.1.00", None),
        ("Digital Camera FinePix E500 Ver1.00", None),
        ("QuickTime 7.7.1", None),
        ("Nikon Transfer 1.1 W", None),
        ("v981-79", None),
        ("8.3", None),
        ("G960FXXU2CRLI", None),
        ("Canvas Camera 2.0", None),
        ("Adobe Photoshop CS5 Macintosh", Some("editing_software")),
        (
            "Adobe Photoshop Lightroom Classic 12.0 (Windows)",
            Some("editing_software"),
        ),
        ("GIMP 2.10.34", Some("editing_software")),
        ("Snapseed 2.0", Some("editing_software")),
        ("PicsArt", Some("editing_software")),
        ("Canva", Some("editing_software")),
        ("Adobe Fireworks CS5", Some("editing_software")),
        ("Stable Diffusion XL", Some("ai_generated")),
        ("Midjourney v6", Some("ai_generated")),
        ("DALL-E 3", Some("ai_generated")),
    ];
    for (software, expect) in cases {
        let exif = camera_exif(Some(software), "2024:01:10 10:00:00", "2024:01:10 10:00:00");
        let m = run(&jpeg_with(&[app1_exif(&exif)]));
        let got = codes(&m);
        assert_eq!(m.fields.get("software").map(String::as_str), Some(software));
        match expect {
            Some(code) => assert!(got.contains(&code), "{software}: {got:?}"),
            None => assert!(
                !got.contains(&"editing_software") && !got.contains(&"ai_generated"),
                "{software}: {got:?}"
            ),
        }
        if expect.is_none() {
            assert!(points(&m) <= 5, "{software}: {} points {got:?}", points(&m));
        }
    }
}

#[test]
fn dates() {
    // (original, modified, must have, must not have)
    let all = ["date_future", "date_modified_before_taken", "date_gap"];
    let cases: [(&str, &str, Codes); 8] = [
        ("2024:01:10 10:00:00", "2024:01:10 10:00:00", &[]),
        ("2024:01:10 10:00:00", "2024:01:10 10:01:00", &[]),
        ("2024:01:10 10:00:00", "2024:01:20 18:00:00", &[]),
        ("2024:01:10 10:00:00", "2024:05:01 09:00:00", &["date_gap"]),
        (
            "2024:01:10 10:00:00",
            "2024:01:09 10:00:00",
            &["date_modified_before_taken"],
        ),
        (
            "2026:07:01 10:00:00",
            "2026:07:01 10:00:00",
            &["date_future"],
        ),
        ("2026:05:28 20:00:00", "2026:05:28 20:00:00", &[]),
        ("2024:13:45 99:99:99", "    :  :     :  :  ", &[]),
    ];
    for (original, modified, present) in cases {
        let exif = camera_exif(None, original, modified);
        let absent: Vec<&str> = all
            .iter()
            .copied()
            .filter(|c| !present.contains(c))
            .collect();
        check(
            &format!("{original} / {modified}"),
            &jpeg_with(&[app1_exif(&exif)]),
            present,
            &absent,
        );
    }
}

#[test]
fn exif_presence_and_damage() {
    let full = camera_exif(None, "2024:01:10 10:00:00", "2024:01:10 10:00:00");
    let sparse = exif_block(
        vec![short(0x0112, 1), ascii(0x0131, "Some Exporter")],
        vec![],
    );
    let mut bad_offset = b"II*\0\xff\xff\0\0".to_vec();
    bad_offset.extend_from_slice(&[0; 16]);
    let mut cut = full.clone();
    cut.truncate(40);
    let mut huge_count = full.clone();
    // First entry's count set to 0x7fffffff: its value cannot fit.
    huge_count[8 + 2 + 4..8 + 2 + 8].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
    // A TIFF whose Make claims 200 kB: refused as damage before any copy is made.
    let oversized = exif_block(vec![ascii(0x010F, &"A".repeat(200_000))], vec![]);
    let cases: [(&str, Vec<u8>, Codes, Codes); 7] = [
        (
            "oversized field",
            oversized,
            &["exif_malformed"],
            &["exif_missing"],
        ),
        (
            "no exif",
            small_jpeg(),
            &["exif_missing"],
            &["exif_malformed", "exif_sparse"],
        ),
        (
            "full",
            jpeg_with(&[app1_exif(&full)]),
            &["device_type"],
            &["exif_missing", "exif_malformed", "exif_sparse"],
        ),
        (
            "sparse",
            jpeg_with(&[app1_exif(&sparse)]),
            &["exif_sparse"],
            &["exif_missing", "exif_malformed"],
        ),
        (
            "bad ifd offset",
            jpeg_with(&[app1_exif(&bad_offset)]),
            &["exif_malformed"],
            &["exif_missing"],
        ),
        (
            "cut ifd",
            jpeg_with(&[app1_exif(&cut)]),
            &["exif_malformed"],
            &["exif_missing"],
        ),
        (
            "huge count",
            jpeg_with(&[app1_exif(&huge_count)]),
            &["exif_malformed"],
            &["exif_missing"],
        ),
    ];
    for (name, bytes, present, absent) in cases {
        check(name, &bytes, present, absent);
    }
    let m = run(&small_jpeg());
    let f = m
        .findings
        .iter()
        .find(|f| f.code == "exif_missing")
        .expect("missing");
    assert!(f.points <= 5 && f.severity <= Severity::Low);
}

// ---------- XMP, PNG text, C2PA ----------

#[test]
fn xmp_cases() {
    let cases: [(&str, String, Codes, Codes); 7] = [
        (
            "stable diffusion creator",
            r#"xmp:CreatorTool="Stable Diffusion XL">"#.to_owned(),
            &["ai_generated"],
            &[],
        ),
        (
            "midjourney creator",
            r#"xmp:CreatorTool="Midjourney v6">"#.to_owned(),
            &["ai_generated"],
            &[],
        ),
        (
            "photoshop creator",
            r#"xmp:CreatorTool="Adobe Photoshop 25.0 (Windows)">"#.to_owned(),
            &["editing_software"],
            &["ai_generated"],
        ),
        (
            "history agent",
            r#"><xmpMM:History><rdf:Seq><rdf:li stEvt:action="saved" stEvt:softwareAgent="Snapseed 2.19"/></rdf:Seq></xmpMM:History>"#.to_owned(),
            &["editing_software"],
            &[],
        ),
        (
            "firefly agent",
            r#"><xmpMM:History><rdf:Seq><rdf:li stEvt:softwareAgent="Adobe Firefly"/></rdf:Seq></xmpMM:History>"#.to_owned(),
            &["ai_generated"],
            &[],
        ),
        (
            "iptc source type",
            r#"Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia">"#.to_owned(),
            &["ai_generated"],
            &["editing_software"],
        ),
        (
            "camera firmware creator",
            r#"xmp:CreatorTool="Ver.1.00">"#.to_owned(),
            &[],
            &["editing_software", "ai_generated"],
        ),
    ];
    for (name, body, present, absent) in cases {
        check(name, &jpeg_with(&[app1_xmp(&body)]), present, absent);
    }
    // XMP dates feed the date rules.
    let exif = camera_exif(None, "2024:01:10 10:00:00", "2024:01:10 10:00:00");
    check(
        "xmp modify date",
        &jpeg_with(&[
            app1_exif(&exif),
            app1_xmp(r#"xmp:ModifyDate="2025-03-01T09:00:00+06:00">"#),
        ]),
        &["date_gap"],
        &["date_modified_before_taken"],
    );
    // A broken packet is not a finding by itself, and never a failure.
    check(
        "broken xmp",
        &jpeg_with(&[app1_xmp("<<<")]),
        &[],
        &["editing_software"],
    );
}

#[test]
fn png_text_cases() {
    let workflow = r#"{"3": {"class_type": "KSampler", "inputs": {"seed": 1}}}"#;
    let xmp = xmp_packet(r#"xmp:CreatorTool="Midjourney">"#);
    let cases: [(&str, Chunks, Codes, Codes); 7] = [
        (
            "plain png",
            vec![],
            &["exif_missing"],
            &["editing_software", "ai_generated"],
        ),
        (
            "gimp",
            vec![text_chunk("Software", "GIMP 2.10")],
            &["editing_software"],
            &["ai_generated"],
        ),
        (
            "screenshot tool",
            vec![text_chunk("Software", "gnome-screenshot")],
            &[],
            &["editing_software", "ai_generated"],
        ),
        (
            "a1111 parameters",
            vec![text_chunk(
                "parameters",
                "a cat\nNegative prompt: dog\nSteps: 20, Sampler: Euler a, CFG scale: 7",
            )],
            &["ai_generated"],
            &[],
        ),
        (
            "comfyui prompt",
            vec![ztxt_chunk("prompt", workflow.as_bytes())],
            &["ai_generated"],
            &[],
        ),
        (
            "xmp in compressed itxt",
            vec![itxt_chunk("XML:com.adobe.xmp", &xmp, true)],
            &["ai_generated"],
            &[],
        ),
        (
            "novelai software",
            vec![itxt_chunk("Software", "NovelAI", false)],
            &["ai_generated"],
            &[],
        ),
    ];
    for (name, chunks, present, absent) in cases {
        check(name, &png_with(&chunks), present, absent);
    }
    // A zTXt bomb: 256 MiB of zeros in a small chunk is read only up to the cap, quickly.
    let zeros = vec![0u8; 256 << 20];
    let bomb = png_with(&[ztxt_chunk("Comment", &zeros)]);
    assert!(bomb.len() < 1 << 20);
    let started = Instant::now();
    let _ = run(&bomb);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}

/// Hand-built JUMBF bytes that no C2PA reader accepts: the manifest is reported unreadable, and
/// its AI source type is still found by the byte scan. Real signed manifests are in
/// `tests/content_credentials.rs`.
#[test]
fn c2pa_ai_manifest_is_found() {
    let mut jumbf = b"JP\0\x01\0\0\0\x01jumbjumdc2pa".to_vec();
    jumbf.extend_from_slice(b"c2pa.claim ... c2pa.actions digitalSourceType http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia");
    let m = check("c2pa", &jpeg_with(&[(0xEB, jumbf)]), &["ai_generated"], &[]);
    assert_eq!(
        m.fields.get("content_credentials").map(String::as_str),
        Some("unreadable")
    );
    let f = m
        .findings
        .iter()
        .find(|f| f.code == "ai_generated")
        .expect("ai");
    assert_eq!(f.severity, Severity::High);
    assert!(f.points >= 30);
}

// ---------- random bytes ----------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        for format in [Format::Jpeg, Format::Png, Format::Webp, Format::Tiff] {
            let _ = analyze(&bytes, format, &MetadataConfig::default(), NOW);
        }
    }

    #[test]
    fn random_exif_and_xmp_never_panic(
        tiff in proptest::collection::vec(any::<u8>(), 0..512),
        xmp in "\\PC{0,200}",
        le in any::<bool>(),
    ) {
        let mut block = if le { b"II*\0\x08\0\0\0".to_vec() } else { b"MM\0*\0\0\0\x08".to_vec() };
        block.extend_from_slice(&tiff);
        let bytes = jpeg_with(&[app1_exif(&block), app1_xmp(&xmp)]);
        let _ = run(&bytes);
        let _ = analyze(&block, Format::Tiff, &MetadataConfig::default(), NOW);
        let png = png_with(&[(b"eXIf", block.clone()), text_chunk("parameters", &xmp), ztxt_chunk("prompt", &tiff)]);
        let _ = run(&png);
    }
}

// ---------- cost on hostile inputs ----------

#[test]
fn hostile_inputs_cost_linear_time() {
    const SIZE: usize = 8 << 20;
    let repeat = |head: &[u8], unit: &[u8]| {
        let mut v = head.to_vec();
        while v.len() < SIZE {
            v.extend_from_slice(unit);
        }
        v
    };
    let mut many_text = small_png_head();
    while many_text.len() < SIZE {
        let (_, d) = text_chunk("Software", "x");
        png_chunk(&mut many_text, b"tEXt", &d);
    }
    let cases: [(&str, Vec<u8>); 6] = [
        ("jpeg fill bytes", repeat(b"\xff\xd8", b"\xff")),
        ("jpeg stuffed scan", {
            let mut v = small_jpeg();
            v.truncate(v.len() - 2);
            repeat(&v, b"\xff\x00")
        }),
        (
            "unterminated xmp",
            repeat(b"\xff\xd8\xff\xe1\xff\xff", b"<x:xmpmeta "),
        ),
        (
            "exif markers",
            repeat(b"\xff\xd8", b"\xff\xe1\x00\x08Exif\x00\x00"),
        ),
        ("png text flood", many_text),
        (
            "tiff zeros",
            repeat(b"II*\x00\x08\x00\x00\x00\xff\xff", b"\x00"),
        ),
    ];
    for (name, bytes) in cases {
        let started = Instant::now();
        let _ = verify::intake::intake(&bytes, &verify::intake::Limits::default());
        let format = sniff(&bytes).unwrap_or(Format::Jpeg);
        let _ = analyze(&bytes, format, &MetadataConfig::default(), NOW);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "{name}: {took:?} for 8 MiB");
    }
}
