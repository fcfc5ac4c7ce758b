//! Bengali must render as Bengali: on a system whose only font is a Latin one (fontconfig pointed
//! at a folder holding just Noto Sans, which has no Bengali), a known Bengali string drawn by the
//! kiosk's window must leave ink, and must not look like the same number of missing-glyph boxes.
//! Fails if the bundled Bengali font is neither named nor registered (blank text, as the research
//! probe saw) or if shaping falls back to `.notdef` (tofu). (With no font at all fontique panics,
//! so a kiosk image needs at least one system font.)

use jachai_kiosk::shots::{headless_parts, sample_page, Headless};
use jachai_kiosk::ui::{ImeiAdapter, KioskApp};
use slint::ComponentHandle;

/// Pixels that differ between two frames, and the width of their bounding box.
fn diff(a: &image::RgbImage, b: &image::RgbImage) -> (usize, u32) {
    let (mut n, mut min_x, mut max_x) = (0, u32::MAX, 0);
    for ((x, _, pa), pb) in a.enumerate_pixels().zip(b.pixels()) {
        let d: u32 =
            pa.0.iter()
                .zip(pb.0.iter())
                .map(|(&u, &v)| u32::from(u.abs_diff(v)))
                .sum();
        if d > 60 {
            n += 1;
            min_x = min_x.min(x);
            max_x = max_x.max(x);
        }
    }
    (n, if n == 0 { 0 } else { max_x - min_x + 1 })
}

#[test]
fn bengali_renders_with_glyphs_even_without_system_fonts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fonts = dir.path().join("fonts");
    std::fs::create_dir_all(&fonts).expect("font dir");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/ui/fonts/NotoSans-Regular.ttf"),
        fonts.join("Latin.ttf"),
    )
    .expect("copy a Latin-only font");
    let conf = dir.path().join("fonts.conf");
    std::fs::write(
        &conf,
        format!(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\n<fontconfig><dir>{}</dir><cachedir>{}</cachedir></fontconfig>\n",
            fonts.display(),
            dir.path().join("cache").display()
        ),
    )
    .expect("write fonts.conf");
    // Before the platform (and fontconfig) starts: only that Latin font is visible.
    std::env::set_var("FONTCONFIG_FILE", &conf);

    let page = dir.path().join("page.png");
    sample_page().save(&page).expect("camera picture");
    let mut headless = Headless::install().expect("platform");
    let kiosk = KioskApp::new(headless_parts(dir.path(), &page).expect("parts")).expect("app");
    kiosk.app().show().expect("shown");
    kiosk.with_controller(|k| {
        k.start(jachai_kiosk::controller::Flow::CheckImei)
            .expect("home");
    });
    let field = kiosk.app().global::<ImeiAdapter>();
    let mut frame = |text: &str| {
        field.set_display(text.into());
        headless.snapshot()
    };

    let blank = frame(" ");
    let bengali = "কিশোর ক্ষমা";
    let shaped = frame(bengali);
    let tofu = frame(&"\u{E000}".repeat(bengali.chars().count()));
    let latin = frame("IMEI 4901");

    let (ink, width) = diff(&blank, &shaped);
    assert!(
        ink > 300,
        "Bengali left only {ink} ink pixels: rendered blank"
    );
    assert!(width > 80, "Bengali ink only {width} px wide");
    let (tofu_ink, _) = diff(&blank, &tofu);
    let (unlike_tofu, _) = diff(&shaped, &tofu);
    assert!(
        unlike_tofu * 10 > ink.max(tofu_ink) * 3,
        "Bengali looks like missing-glyph boxes ({unlike_tofu} of {ink} pixels differ)"
    );
    let (latin_ink, _) = diff(&blank, &latin);
    assert!(latin_ink > 200, "Latin rendered blank ({latin_ink})");
}
