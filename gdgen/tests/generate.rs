//! The generator's contract: determinism, every variant labelled consistently, regions and
//! page corners inside the image.

use gdgen::imei::is_valid_imei;
use gdgen::{generate, generate_batch, Generated, Options, Region, Rendition, Variant};

fn check_region(r: &Region, g: &Generated) {
    assert!(
        r.inside(g.label.width, g.label.height),
        "{r:?} outside {}x{} in {}",
        g.label.width,
        g.label.height,
        g.label.file
    );
}

fn check(g: &Generated) {
    let l = &g.label;
    let img = image::load_from_memory(&g.bytes).expect("decodes");
    assert_eq!((img.width(), img.height()), (l.width, l.height));
    assert!(!l.document_imeis.is_empty() && l.document_imeis.len() <= 2);
    for i in &l.document_imeis {
        assert!(is_valid_imei(i), "document IMEI {i} not Luhn-valid");
    }
    assert_eq!(l.typed_imeis.len(), l.document_imeis.len());
    for r in l
        .fields
        .imeis
        .iter()
        .chain([&l.fields.gd_number, &l.fields.gd_date])
    {
        check_region(r, g);
    }
    match l.variant {
        Variant::Clean => {
            assert_eq!(l.typed_imeis, l.document_imeis);
            assert!(l.tamper.is_none());
        }
        Variant::Mismatch => {
            assert!(l.tamper.is_none());
            assert_ne!(l.typed_imeis, l.document_imeis);
            for i in &l.typed_imeis {
                assert!(is_valid_imei(i), "typed IMEI {i} not Luhn-valid");
            }
        }
        Variant::Paste | Variant::Clone => {
            let t = l.tamper.as_ref().expect("tampered documents say where");
            assert_eq!(t.kind, l.variant);
            check_region(&t.region, g);
            if let Some(s) = &t.source_region {
                check_region(s, g);
                assert_ne!((s.x, s.y), (t.region.x, t.region.y));
            }
            if l.variant == Variant::Paste && t.field.starts_with("imei") {
                // The fraudster types what they pasted, a valid IMEI.
                assert_ne!(l.typed_imeis, l.document_imeis);
                assert_eq!(l.typed_imeis, l.visible_imeis);
                for i in &l.typed_imeis {
                    assert!(is_valid_imei(i));
                }
            }
            assert_ne!(t.original, t.replacement);
        }
    }
    if l.rendition == Rendition::Photo {
        let c = l.page_corners.expect("photos have page corners");
        for [x, y] in c {
            assert!(
                x >= 0.0 && y >= 0.0 && x <= l.width as f32 && y <= l.height as f32,
                "corner {x},{y} outside {}x{}",
                l.width,
                l.height
            );
        }
    } else {
        assert!(l.page_corners.is_none());
    }
}

#[test]
fn same_seed_same_bytes() {
    let o = Options::default();
    let a = generate(42, &o).expect("generates");
    let b = generate(42, &o).expect("generates");
    assert_eq!(a.bytes, b.bytes);
    assert_eq!(a.label, b.label);
    let c = generate(43, &o).expect("generates");
    assert_ne!(a.bytes, c.bytes);
}

#[test]
fn every_variant_and_rendition_is_made_and_labelled() {
    let base = Options::default();
    for variant in [
        Variant::Clean,
        Variant::Mismatch,
        Variant::Paste,
        Variant::Clone,
    ] {
        for (k, rendition_share) in [0.0, 1.0].into_iter().enumerate() {
            let o = Options {
                photo_share: rendition_share,
                ..base.only(variant)
            };
            let g = generate(1000 + k as u64, &o).expect("generates");
            assert_eq!(g.label.variant, variant);
            let want = if k == 0 {
                Rendition::Scan
            } else {
                Rendition::Photo
            };
            assert_eq!(g.label.rendition, want);
            check(&g);
        }
    }
}

#[test]
fn batch_is_consistent_and_varied() {
    let o = Options::default();
    let docs: Vec<Generated> = generate_batch(9, 12, &o)
        .map(|g| g.expect("generates"))
        .collect();
    assert_eq!(docs.len(), 12);
    for (i, g) in docs.iter().enumerate() {
        assert!(g.label.file.starts_with(&format!("gd_{i:05}.")));
        check(g);
        // A batch member regenerates from its label's seed.
        if i < 2 {
            let again = generate(g.label.seed, &o).expect("generates");
            assert_eq!(again.bytes, g.bytes);
        }
    }
    let thanas: std::collections::HashSet<_> = docs.iter().map(|g| &g.label.thana_en).collect();
    assert!(thanas.len() > 3);
}

#[test]
fn works_without_shared_data() {
    let o = Options {
        data_dir: "/nonexistent".into(),
        ..Options::default()
    };
    let g = generate(5, &o).expect("generates");
    check(&g);
}
