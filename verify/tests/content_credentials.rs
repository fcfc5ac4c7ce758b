//! Content Credentials (C2PA): pictures signed in the test with the `c2pa` crate and a throwaway
//! certificate chain (rcgen), then read back by the metadata stage and by the whole pipeline.
//! Table cases: how the picture came to be (AI-made, AI-edited, camera capture), in JPEG and PNG;
//! then a picture changed after signing, a cut-off manifest and random damage.

use std::io::Cursor;

use c2pa::{Builder, BuilderIntent, Context, DigitalSourceType, SigningAlg};
use image::{DynamicImage, ImageFormat, RgbImage};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use verify::intake::Format;
use verify::metadata::{analyze, Metadata, MetadataConfig};
use verify::{DocumentKind, Request, Severity};

/// 2026-05-28, as in the other metadata tests.
const NOW: i64 = 1_780_000_000;

/// A CA and an end-entity certificate that meet the C2PA certificate profile (v3, AKI, digital
/// signature key usage, e-mail protection EKU, not self-signed): PEM chain and PEM key.
fn signing_identity(org: &str) -> (String, String) {
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.distinguished_name
        .push(DnType::CommonName, format!("{org} test root"));
    ca.distinguished_name.push(DnType::OrganizationName, org);
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let mut leaf = CertificateParams::new(Vec::<String>::new()).expect("params");
    leaf.distinguished_name
        .push(DnType::CommonName, format!("{org} signer"));
    leaf.distinguished_name.push(DnType::OrganizationName, org);
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.use_authority_key_identifier_extension = true;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
    let cert = leaf
        .signed_by(&key, &ca_cert, &ca_key)
        .expect("certificate");
    (
        format!("{}{}", cert.pem(), ca_cert.pem()),
        key.serialize_pem(),
    )
}

fn picture(format: ImageFormat) -> Vec<u8> {
    let img = RgbImage::from_fn(160, 120, |x, y| {
        image::Rgb([
            (x * 3 % 256) as u8,
            (y * 5 % 256) as u8,
            ((x ^ y) % 256) as u8,
        ])
    });
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), format)
        .expect("encode");
    out
}

/// `picture` signed with a manifest that says how it came to be and which program claims it.
fn signed(format: ImageFormat, source: DigitalSourceType, generator: &str, org: &str) -> Vec<u8> {
    let mime = match format {
        ImageFormat::Png => "image/png",
        _ => "image/jpeg",
    };
    let (chain, key) = signing_identity(org);
    let signer =
        c2pa::create_signer::from_keys(chain.as_bytes(), key.as_bytes(), SigningAlg::Es256, None)
            .expect("signer");
    let definition = serde_json::json!({
        "title": "test picture",
        "format": mime,
        "claim_generator_info": [{"name": generator, "version": "1.0"}],
    })
    .to_string();
    let mut builder = Builder::from_context(Context::new())
        .with_definition(definition)
        .expect("manifest definition");
    builder.set_intent(BuilderIntent::Create(source));
    let source_bytes = picture(format);
    let mut out = Cursor::new(Vec::new());
    builder
        .sign(
            signer.as_ref(),
            mime,
            &mut Cursor::new(&source_bytes),
            &mut out,
        )
        .expect("sign");
    let out = out.into_inner();
    assert!(out.len() > source_bytes.len(), "no manifest was embedded");
    out
}

fn run(bytes: &[u8], format: Format) -> Metadata {
    analyze(bytes, format, &MetadataConfig::default(), NOW)
}

fn codes(m: &Metadata) -> Vec<&str> {
    m.findings.iter().map(|f| f.code.as_str()).collect()
}

fn field<'a>(m: &'a Metadata, key: &str) -> Option<&'a str> {
    m.fields.get(key).map(String::as_str)
}

#[test]
fn how_a_signed_picture_came_to_be_is_read_from_its_manifest() {
    struct Case {
        name: &'static str,
        format: ImageFormat,
        source: DigitalSourceType,
        generator: &'static str,
        /// Expected words in the `ai_generated` finding, or `None` for no such finding.
        ai: Option<&'static str>,
    }
    let cases = [
        Case {
            name: "AI-made JPEG",
            format: ImageFormat::Jpeg,
            source: DigitalSourceType::TrainedAlgorithmicMedia,
            generator: "Test Diffusion",
            ai: Some("trained algorithmic media"),
        },
        Case {
            name: "AI-made PNG",
            format: ImageFormat::Png,
            source: DigitalSourceType::TrainedAlgorithmicMedia,
            generator: "Test Diffusion",
            ai: Some("trained algorithmic media"),
        },
        Case {
            name: "AI-edited JPEG (generative fill)",
            format: ImageFormat::Jpeg,
            source: DigitalSourceType::CompositeWithTrainedAlgorithmicMedia,
            generator: "Test Editor",
            ai: Some("composite"),
        },
        Case {
            name: "camera capture JPEG",
            format: ImageFormat::Jpeg,
            source: DigitalSourceType::DigitalCapture,
            generator: "Test Camera",
            ai: None,
        },
        Case {
            name: "camera capture PNG",
            format: ImageFormat::Png,
            source: DigitalSourceType::DigitalCapture,
            generator: "Test Camera",
            ai: None,
        },
    ];
    for case in cases {
        let bytes = signed(case.format, case.source, case.generator, "Jachai Tests");
        let format = if case.format == ImageFormat::Png {
            Format::Png
        } else {
            Format::Jpeg
        };
        let m = run(&bytes, format);
        let name = case.name;
        assert_eq!(
            field(&m, "content_credentials"),
            Some("intact"),
            "{name}: {:?}",
            m.fields
        );
        assert_eq!(
            field(&m, "content_credentials_signer"),
            Some("Jachai Tests"),
            "{name}"
        );
        assert_eq!(
            field(&m, "content_credentials_generator"),
            Some(case.generator),
            "{name}"
        );
        assert!(
            !codes(&m).contains(&"content_credentials_broken"),
            "{name}: {:?}",
            codes(&m)
        );
        let ai = m.findings.iter().find(|f| f.code == "ai_generated");
        match (case.ai, ai) {
            (Some(words), Some(f)) => {
                assert_eq!(f.severity, Severity::High, "{name}");
                assert!(f.en.contains(words), "{name}: {}", f.en);
                assert!(f.en.contains("C2PA"), "{name}: {}", f.en);
                assert!(
                    f.en.contains("signed by \"Jachai Tests\""),
                    "{name}: {}",
                    f.en
                );
                assert!(f.en.contains("no trust list"), "{name}: {}", f.en);
            }
            (None, None) => {}
            (want, got) => panic!("{name}: expected {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn a_picture_changed_after_signing_breaks_its_manifest() {
    let mut bytes = signed(
        ImageFormat::Jpeg,
        DigitalSourceType::DigitalCapture,
        "Test Camera",
        "Jachai Tests",
    );
    // A byte of the compressed picture (before the end-of-image marker), outside the manifest.
    let n = bytes.len();
    bytes[n - 40] ^= 0x5a;
    let m = run(&bytes, Format::Jpeg);
    assert_eq!(field(&m, "content_credentials"), Some("broken"));
    let f = m
        .findings
        .iter()
        .find(|f| f.code == "content_credentials_broken")
        .expect("a finding for the broken manifest");
    assert_eq!(f.severity, Severity::Medium);
    assert!(f.en.contains("dataHash.mismatch"), "{}", f.en);
    assert!(f.bn.contains("C2PA"));
    // An unchanged signed capture costs nothing.
    let clean = signed(
        ImageFormat::Jpeg,
        DigitalSourceType::DigitalCapture,
        "Test Camera",
        "Jachai Tests",
    );
    assert!(run(&clean, Format::Jpeg)
        .findings
        .iter()
        .all(|f| f.points == 0 || !f.code.starts_with("content_credentials")));
}

#[test]
fn cut_or_damaged_manifests_are_reported_never_a_crash() {
    let bytes = signed(
        ImageFormat::Jpeg,
        DigitalSourceType::TrainedAlgorithmicMedia,
        "Test Diffusion",
        "Jachai Tests",
    );
    // Cut at many places, and bytes overwritten inside the manifest's JUMBF.
    let start = memchr::memmem::find(&bytes, b"jumb").expect("a JUMBF box");
    let mut variants: Vec<Vec<u8>> = (1..12)
        .map(|i| bytes[..bytes.len() * i / 12].to_vec())
        .collect();
    for step in [7usize, 61, 333] {
        let mut b = bytes.clone();
        let mut i = start;
        while i < (start + 4000).min(b.len()) {
            b[i] = b[i].wrapping_add(0x41);
            i += step;
        }
        variants.push(b);
    }
    for (i, v) in variants.iter().enumerate() {
        let m = run(v, Format::Jpeg);
        let state = field(&m, "content_credentials");
        assert!(
            matches!(state, None | Some("unreadable" | "broken" | "intact")),
            "variant {i}: {state:?}"
        );
    }
}

#[test]
fn the_pipeline_reports_an_ai_made_signed_picture() {
    let bytes = signed(
        ImageFormat::Jpeg,
        DigitalSourceType::TrainedAlgorithmicMedia,
        "Test Diffusion",
        "Jachai Tests",
    );
    let report = verify::verify(
        &bytes,
        &Request {
            kind: DocumentKind::Image,
            ..Request::default()
        },
        &verify::Config::default(),
        &mut (),
    )
    .expect("a report");
    assert_eq!(
        report
            .fields
            .get("content_credentials")
            .and_then(|v| v.as_text()),
        Some("intact")
    );
    let f = report
        .findings
        .iter()
        .find(|f| f.code == "ai_generated")
        .expect("ai_generated");
    assert!(f.en.contains("C2PA"), "{}", f.en);
    assert_ne!(report.verdict, verify::Verdict::Approve);
}
