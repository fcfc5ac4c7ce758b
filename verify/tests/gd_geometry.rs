//! GD page geometry: synthetic pages photographed on a desk through a pinhole camera (perspective,
//! uneven light, noise), rotated flat scans, and bad captures. The page is found, rectified to
//! the right shape, marks land where they were printed, skew is recovered, each quality code fires
//! on its own bad capture and not on good ones, and odd inputs never panic.

mod common;

use std::collections::BTreeSet;

use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_rect_mut, draw_hollow_circle_mut, draw_line_segment_mut};
use imageproc::filter::gaussian_blur_f32;
use imageproc::geometric_transformations::Projection;
use imageproc::rect::Rect;
use verify::gd::geometry::{rectify, Capture, CaptureKind, GeometryConfig};
use verify::{Deadline, Region};

/// Page size (150 dpi A4).
const PW: u32 = 1240;
const PH: u32 = 1754;
/// The red registration mark printed on every page (x, y, side), page pixels.
const MARK: (u32, u32, u32) = (1000, 120, 60);

/// SplitMix64: small, seeded, good enough for test scenes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi`.
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A GD-like page: header bars, lines of word-like bars, a stamp ring, a signature and the
/// red mark.
fn page(seed: u64) -> RgbImage {
    let mut rng = Rng(seed);
    let mut img = RgbImage::from_pixel(PW, PH, Rgb([246, 244, 238]));
    let ink = Rgb([35, 35, 45]);
    // Header.
    draw_filled_rect_mut(&mut img, Rect::at(380, 110).of_size(480, 34), ink);
    draw_filled_rect_mut(&mut img, Rect::at(300, 170).of_size(640, 18), ink);
    // Body text.
    let mut y = 280;
    while y < 1350 {
        let mut x = 110;
        let end = if rng.range(0.0, 1.0) < 0.2 { 700 } else { 1130 };
        while x < end {
            let wd = rng.range(30.0, 140.0) as i32;
            if x + wd > end {
                break;
            }
            let hgt = rng.range(12.0, 17.0) as u32;
            draw_filled_rect_mut(&mut img, Rect::at(x, y).of_size(wd as u32, hgt), ink);
            x += wd + 16;
        }
        y += 34;
    }
    // Stamp ring and signature.
    for r in 100..108 {
        draw_hollow_circle_mut(&mut img, (930, 1520), r, Rgb([110, 60, 150]));
    }
    let mut prev = (160.0f32, 1540.0f32);
    for i in 1..60 {
        let t = i as f32;
        let p = (160.0 + t * 5.0, 1540.0 + 25.0 * (t * 0.45).sin());
        for d in 0..3 {
            let o = d as f32;
            draw_line_segment_mut(
                &mut img,
                (prev.0, prev.1 + o),
                (p.0, p.1 + o),
                Rgb([20, 40, 140]),
            );
        }
        prev = p;
    }
    let (mx, my, ms) = MARK;
    draw_filled_rect_mut(
        &mut img,
        Rect::at(mx as i32, my as i32).of_size(ms, ms),
        Rgb([220, 20, 20]),
    );
    img
}

/// Bilinear sample at pixel-edge coordinates, `None` outside.
fn sample(img: &RgbImage, x: f64, y: f64) -> Option<[f64; 3]> {
    let (w, h) = (f64::from(img.width()), f64::from(img.height()));
    if x < 0.0 || y < 0.0 || x > w || y > h {
        return None;
    }
    let (cx, cy) = ((x - 0.5).clamp(0.0, w - 1.0), (y - 0.5).clamp(0.0, h - 1.0));
    let (x0, y0) = (cx.floor(), cy.floor());
    let (x1, y1) = ((x0 + 1.0).min(w - 1.0), (y0 + 1.0).min(h - 1.0));
    let (fx, fy) = (cx - x0, cy - y0);
    let px = |x: f64, y: f64| img.get_pixel(x as u32, y as u32).0.map(f64::from);
    let (a, b, c, d) = (px(x0, y0), px(x1, y0), px(x0, y1), px(x1, y1));
    let mut out = [0.0; 3];
    for k in 0..3 {
        out[k] =
            (a[k] * (1.0 - fx) + b[k] * fx) * (1.0 - fy) + (c[k] * (1.0 - fx) + d[k] * fx) * fy;
    }
    Some(out)
}

/// How a test photo is taken.
#[derive(Debug, Clone, Copy)]
struct Shot {
    seed: u64,
    /// Tilt about the page's horizontal / vertical axis and roll in its plane, degrees.
    tilt_x: f64,
    tilt_y: f64,
    roll: f64,
    /// Page height as a fraction of the frame height (before tilt).
    fill: f64,
    /// Page centre offset from the frame centre, fraction of the frame.
    offset: (f64, f64),
    /// Light falloff across the frame (0 = even).
    light: f64,
    /// Overall exposure.
    exposure: f64,
}

const GOOD: Shot = Shot {
    seed: 1,
    tilt_x: 12.0,
    tilt_y: -8.0,
    roll: 6.0,
    fill: 0.85,
    offset: (0.0, 0.0),
    light: 0.3,
    exposure: 1.0,
};

/// A 2000×1500 photo of `page` on a wooden desk, and the page→photo projection.
fn photo(page: &RgbImage, s: Shot) -> (RgbImage, Projection) {
    let (w, h) = (2000.0f64, 1500.0f64);
    let f = 1.1 * w;
    let (pw, ph) = (f64::from(page.width()), f64::from(page.height()));
    let (ax, ay, az) = (
        s.tilt_x.to_radians(),
        s.tilt_y.to_radians(),
        s.roll.to_radians(),
    );
    let dist = f / (s.fill * h);
    let project = |u: f64, v: f64| {
        // Page in world units: height 1, centred.
        let (x, y) = ((u - pw / 2.0) / ph, (v - ph / 2.0) / ph);
        let (x, y) = (x * az.cos() - y * az.sin(), x * az.sin() + y * az.cos());
        let (y, z) = (y * ax.cos(), y * ax.sin());
        let (x, z) = (x * ay.cos() + z * ay.sin(), -x * ay.sin() + z * ay.cos());
        let z = z + dist;
        (
            (f * x / z + w / 2.0 + s.offset.0 * w) as f32,
            (f * y / z + h / 2.0 + s.offset.1 * h) as f32,
        )
    };
    let corners = [(0.0, 0.0), (pw, 0.0), (pw, ph), (0.0, ph)];
    let from = corners.map(|(u, v)| (u as f32, v as f32));
    let to = corners.map(|(u, v)| project(u, v));
    let proj = Projection::from_control_points(from, to).expect("a proper homography");
    let inv = proj.invert();
    let mut rng = Rng(s.seed ^ 0xdead);
    let mut img = RgbImage::new(w as u32, h as u32);
    for (x, y, px) in img.enumerate_pixels_mut() {
        let (xf, yf) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
        let (u, v) = inv * (xf as f32, yf as f32);
        let base = sample(page, f64::from(u), f64::from(v)).unwrap_or_else(|| {
            let grain = 0.8 + 0.2 * (xf * 0.03 + 4.0 * (yf * 0.004).sin()).sin();
            [95.0 * grain, 70.0 * grain, 50.0 * grain]
        });
        let light =
            s.exposure * (1.0 - s.light * (0.6 * xf / w + 0.4 * yf / h)) * (1.0 + 0.05 * s.light);
        let noise = rng.range(-4.0, 4.0);
        *px = Rgb(base.map(|c| (c * light + noise).round().clamp(0.0, 255.0) as u8));
    }
    (img, proj)
}

fn run(img: &RgbImage) -> Capture {
    rectify(img, &GeometryConfig::default(), &Deadline::none()).expect("rectify")
}

fn codes(c: &Capture) -> BTreeSet<String> {
    c.findings.iter().map(|f| f.code.clone()).collect()
}

/// Centroid of strongly red pixels.
fn red_centroid(img: &RgbImage) -> Option<(f64, f64)> {
    let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
    for (x, y, p) in img.enumerate_pixels() {
        let [r, g, b] = p.0.map(i32::from);
        if r > 120 && r - g > 70 && r - b > 70 {
            sx += f64::from(x);
            sy += f64::from(y);
            n += 1.0;
        }
    }
    (n > 20.0).then(|| (sx / n + 0.5, sy / n + 0.5))
}

#[test]
fn photos_are_found_rectified_and_marks_land_in_place() {
    let shots = [
        GOOD,
        Shot {
            seed: 2,
            tilt_x: -15.0,
            tilt_y: 10.0,
            roll: -9.0,
            ..GOOD
        },
        Shot {
            seed: 3,
            tilt_x: 5.0,
            tilt_y: 0.0,
            roll: 25.0,
            fill: 0.8,
            offset: (0.05, 0.0),
            ..GOOD
        },
        Shot {
            seed: 4,
            tilt_x: 20.0,
            tilt_y: 3.0,
            roll: -2.0,
            light: 0.55,
            ..GOOD
        },
        Shot {
            seed: 5,
            tilt_x: 0.0,
            tilt_y: 0.0,
            roll: 90.0,
            fill: 1.05,
            ..GOOD
        },
        Shot {
            seed: 6,
            tilt_x: -8.0,
            tilt_y: -18.0,
            roll: 3.0,
            fill: 0.9,
            offset: (-0.04, 0.01),
            ..GOOD
        },
    ];
    let truth_aspect = f64::from(PW) / f64::from(PH);
    for shot in shots {
        let pg = page(shot.seed);
        let (img, proj) = photo(&pg, shot);
        let cap = run(&img);
        assert_eq!(cap.kind, CaptureKind::Photo, "{shot:?}");
        // Corners: compare as sets (a page rolled by 90° is upright the other way).
        let truth: Vec<(f32, f32)> = [
            (0.0, 0.0),
            (PW as f32, 0.0),
            (PW as f32, PH as f32),
            (0.0, PH as f32),
        ]
        .iter()
        .map(|&p| proj * p)
        .collect();
        let diag = f64::from(
            ((truth[0].0 - truth[2].0).powi(2) + (truth[0].1 - truth[2].1).powi(2)).sqrt(),
        );
        for t in &truth {
            let err = cap
                .quad
                .iter()
                .map(|c| f64::from(((c.0 - t.0).powi(2) + (c.1 - t.1).powi(2)).sqrt()))
                .fold(f64::INFINITY, f64::min);
            assert!(
                err < 0.01 * diag,
                "{shot:?}: corner {t:?} off by {err:.1} px in {:?}",
                cap.quad
            );
        }
        let (w, h) = cap.page.dimensions();
        let aspect = f64::from(w.min(h)) / f64::from(w.max(h));
        assert!(
            (aspect / truth_aspect - 1.0).abs() < 0.05,
            "{shot:?}: aspect {aspect:.3}"
        );
        assert!(w.max(h) <= 2200, "{shot:?}: {w}×{h}");
        // The red mark lands where it was printed (in the page's own orientation).
        let (mx, my, ms) = MARK;
        let mark_page = (f64::from(mx + ms / 2), f64::from(my + ms / 2));
        let found = red_centroid(&cap.page).expect("the red mark on the page");
        let found_in_input = cap
            .page_point_to_input(found.0 as f32, found.1 as f32)
            .expect("maps");
        let truth_in_input = proj * (mark_page.0 as f32, mark_page.1 as f32);
        let err = f64::from(
            ((found_in_input.0 - truth_in_input.0).powi(2)
                + (found_in_input.1 - truth_in_input.1).powi(2))
            .sqrt(),
        );
        assert!(
            err < 0.01 * diag,
            "{shot:?}: mark {err:.1} px from where it was printed"
        );
        if shot.roll.abs() < 45.0 {
            let rel = (found.0 / f64::from(w), found.1 / f64::from(h));
            let want = (mark_page.0 / f64::from(PW), mark_page.1 / f64::from(PH));
            assert!(
                (rel.0 - want.0).abs() < 0.015 && (rel.1 - want.1).abs() < 0.015,
                "{shot:?}: mark at {rel:?} on the page, printed at {want:?}"
            );
        }
        assert!(
            cap.skew_degrees.abs() < 0.5,
            "{shot:?}: skew {}",
            cap.skew_degrees
        );
        assert!(
            codes(&cap).is_empty(),
            "{shot:?}: {:?} {:?}",
            codes(&cap),
            cap.metrics
        );
    }
}

/// `page` rotated clockwise on screen by `deg` about its centre, on the same canvas.
fn rotated(page: &RgbImage, deg: f64) -> RgbImage {
    let (w, h) = (f64::from(page.width()), f64::from(page.height()));
    let (s, c) = deg.to_radians().sin_cos();
    let mut out = RgbImage::new(page.width(), page.height());
    for (x, y, px) in out.enumerate_pixels_mut() {
        let (dx, dy) = (f64::from(x) + 0.5 - w / 2.0, f64::from(y) + 0.5 - h / 2.0);
        let (u, v) = (c * dx + s * dy + w / 2.0, -s * dx + c * dy + h / 2.0);
        let v3 = sample(page, u, v).unwrap_or([246.0, 244.0, 238.0]);
        *px = Rgb(v3.map(|c| c.round() as u8));
    }
    out
}

#[test]
fn deskew_recovers_the_rotation_of_flat_scans() {
    for (seed, deg) in [
        (11, -4.2),
        (12, -2.3),
        (13, -0.9),
        (14, 0.7),
        (15, 1.6),
        (16, 3.3),
        (17, 4.8),
    ] {
        let img = rotated(&page(seed), deg);
        let cap = run(&img);
        assert_eq!(cap.kind, CaptureKind::FlatScan, "{deg}");
        assert!(
            (f64::from(cap.skew_degrees) - deg).abs() < 0.3,
            "rotated {deg}°, found {}°",
            cap.skew_degrees
        );
        assert!(cap.deskewed);
        // The deskewed page has level text: measuring it again finds no skew.
        let again = run(&cap.page);
        assert!(
            again.skew_degrees.abs() < 0.3,
            "{deg}: left {}°",
            again.skew_degrees
        );
        // The mark maps back to where it is in the input.
        let found = red_centroid(&cap.page).expect("mark");
        let in_input = cap
            .page_point_to_input(found.0 as f32, found.1 as f32)
            .expect("maps");
        let want = red_centroid(&img).expect("mark in input");
        let err = (f64::from(in_input.0) - want.0).hypot(f64::from(in_input.1) - want.1);
        assert!(err < 3.0, "{deg}: mark maps {err:.1} px off");
    }
}

#[test]
fn level_scans_pass_through_bit_identical() {
    for seed in [21, 22] {
        let img = page(seed);
        let cap = run(&img);
        assert_eq!(cap.kind, CaptureKind::FlatScan);
        assert!(!cap.deskewed);
        assert!(cap.page == img, "a level scan must come out untouched");
        assert!(
            codes(&cap).is_empty(),
            "{:?} {:?}",
            codes(&cap),
            cap.metrics
        );
        let r = Region::new(100, 200, 300, 40);
        assert_eq!(cap.page_to_input(r), r);
        assert_eq!(cap.input_to_page(r), r);
    }
}

/// A white clipped ellipse of radii `(rx, ry)` at `(cx, cy)` in the photo.
fn add_glare(img: &mut RgbImage, (cx, cy): (f64, f64), (rx, ry): (f64, f64)) {
    for (x, y, px) in img.enumerate_pixels_mut() {
        let d = ((f64::from(x) - cx) / rx).powi(2) + ((f64::from(y) - cy) / ry).powi(2);
        if d < 1.0 {
            *px = Rgb([255, 255, 255]);
        } else if d < 1.6 {
            let a = (1.6 - d) / 0.6;
            *px = Rgb(px.0.map(|c| (f64::from(c) * (1.0 - a) + 255.0 * a) as u8));
        }
    }
}

#[test]
fn each_quality_code_fires_on_its_own_bad_capture() {
    type Spoil = fn(&mut RgbImage);
    let none: Spoil = |_| {};
    let cases: [(&str, Shot, Spoil, &[&str]); 7] = [
        ("good", GOOD, none, &[]),
        (
            "good, dim and uneven",
            Shot {
                seed: 31,
                light: 0.5,
                exposure: 0.8,
                ..GOOD
            },
            none,
            &[],
        ),
        (
            "blurred",
            GOOD,
            |img| *img = gaussian_blur_f32(img, 4.0),
            &["photo_blurred"],
        ),
        (
            "dark",
            Shot {
                exposure: 0.3,
                ..GOOD
            },
            none,
            &["photo_too_dark"],
        ),
        (
            "glare",
            GOOD,
            |img| add_glare(img, (1050.0, 700.0), (140.0, 90.0)),
            &["photo_glare"],
        ),
        (
            "cut off",
            Shot {
                offset: (0.0, 0.2),
                tilt_x: 5.0,
                ..GOOD
            },
            none,
            &["page_cut_off"],
        ),
        (
            "too small",
            Shot { fill: 0.3, ..GOOD },
            none,
            &["page_too_small"],
        ),
    ];
    for (name, shot, spoil, want) in cases {
        let (mut img, _) = photo(&page(shot.seed), shot);
        spoil(&mut img);
        let cap = run(&img);
        let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            codes(&cap),
            want,
            "{name}: {:?} {:?}",
            cap.metrics,
            cap.kind
        );
        for f in &cap.findings {
            assert!(
                !f.en.is_empty() && !f.bn.is_empty() && f.points > 0,
                "{name}"
            );
        }
    }
}

#[test]
fn blurred_and_dark_scans_are_flagged_too() {
    let img = page(41);
    let blurred = gaussian_blur_f32(&img, 3.5);
    assert!(codes(&run(&blurred)).contains("photo_blurred"));
    let dark = RgbImage::from_fn(img.width(), img.height(), |x, y| {
        Rgb(img.get_pixel(x, y).0.map(|c| c / 4))
    });
    assert!(codes(&run(&dark)).contains("photo_too_dark"));
}

#[test]
fn regions_map_between_page_and_input() {
    let (img, proj) = photo(&page(51), GOOD);
    let cap = run(&img);
    let (w, h) = cap.page.dimensions();
    let whole = cap.page_to_input(Region::new(0, 0, w, h));
    let xs: Vec<f32> = cap.quad.iter().map(|c| c.0).collect();
    let min_x = xs.iter().copied().fold(f32::INFINITY, f32::min);
    assert!(
        (whole.x as f32 - min_x).abs() <= 2.0,
        "{whole:?} {:?}",
        cap.quad
    );
    // A box around the mark in the input maps to a box holding the mark on the page.
    let (mx, my, ms) = MARK;
    let c = proj * ((mx + ms / 2) as f32, (my + ms / 2) as f32);
    let r = Region::new(c.0 as u32 - 30, c.1 as u32 - 30, 60, 60);
    let on_page = cap.input_to_page(r);
    let found = red_centroid(&cap.page).expect("mark");
    let inside = found.0 >= f64::from(on_page.x)
        && found.0 <= f64::from(on_page.x + on_page.w)
        && found.1 >= f64::from(on_page.y)
        && found.1 <= f64::from(on_page.y + on_page.h);
    assert!(inside, "{found:?} not in {on_page:?}");
    // Clamped: a box past the frame stays inside it.
    let big = cap.page_to_input(Region::new(0, 0, w * 3, h * 3));
    assert!(big.x + big.w <= img.width() && big.y + big.h <= img.height());
}

#[test]
fn a_page_box_resampled_from_the_input_holds_what_the_page_holds() {
    let (img, _) = photo(&page(51), GOOD);
    let cap = run(&img);
    let (cx, cy) = red_centroid(&cap.page).expect("mark on the page");
    let r = Region::new(cx as u32 - 40, cy as u32 - 40, 80, 80);
    // (scale, size wanted): the box at the scale, the mark at its centre, scaled alike.
    for scale in [1.0f32, 2.5, 3.0] {
        let crop = cap.resample_from_input(&img, r, scale);
        let side = (80.0 * scale).round() as u32;
        assert_eq!(crop.dimensions(), (side, side), "scale {scale}");
        let (mx, my) = red_centroid(&crop).expect("mark in the crop");
        let want = 40.0 * f64::from(scale);
        assert!(
            (mx - want).abs() <= 1.5 * f64::from(scale)
                && (my - want).abs() <= 1.5 * f64::from(scale),
            "scale {scale}: mark at {mx:.1},{my:.1}, wanted {want:.1}"
        );
    }
    // Off the page or empty: an empty image, no panic.
    let (w, h) = cap.page.dimensions();
    assert_eq!(
        cap.resample_from_input(&img, Region::new(w + 5, 0, 10, 10), 2.0)
            .dimensions(),
        (0, 0)
    );
    assert_eq!(
        cap.resample_from_input(&img, Region::new(10, 10, 0, 0), 2.0)
            .dimensions(),
        (0, 0)
    );
    assert_eq!(
        cap.resample_from_input(&RgbImage::new(0, 0), Region::new(0, 0, w, h), 2.0)
            .dimensions(),
        (0, 0)
    );
}

#[test]
fn degenerate_inputs_never_panic() {
    let noise = {
        let mut rng = Rng(7);
        RgbImage::from_fn(300, 300, |_, _| {
            Rgb([rng.next() as u8, rng.next() as u8, rng.next() as u8])
        })
    };
    let halves = RgbImage::from_fn(
        640,
        480,
        |x, _| if x < 320 { Rgb([0; 3]) } else { Rgb([255; 3]) },
    );
    let inputs = [
        RgbImage::new(1, 1),
        RgbImage::from_pixel(2, 2, Rgb([255; 3])),
        RgbImage::from_pixel(800, 600, Rgb([0; 3])),
        RgbImage::from_pixel(800, 600, Rgb([255; 3])),
        RgbImage::from_pixel(10_000, 10, Rgb([200; 3])),
        RgbImage::from_pixel(10, 10_000, Rgb([30; 3])),
        RgbImage::from_pixel(17, 3000, Rgb([128; 3])),
        noise,
        halves,
    ];
    for img in &inputs {
        let cap = run(img);
        assert!(cap.page.width() > 0 && cap.page.height() > 0);
    }
    assert!(rectify(
        &RgbImage::new(0, 0),
        &GeometryConfig::default(),
        &Deadline::none()
    )
    .is_err());
    assert!(rectify(
        &RgbImage::new(0, 5),
        &GeometryConfig::default(),
        &Deadline::none()
    )
    .is_err());
    // A spent deadline is an error, not a hang.
    let spent = Deadline::after(std::time::Duration::ZERO);
    assert!(rectify(&page(1), &GeometryConfig::default(), &spent).is_err());
}

#[test]
fn real_photos_do_not_panic() {
    let dir = common::data_dir().join("exif-samples/jpg");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.extension().and_then(|x| x.to_str()) != Some("jpg") {
            continue;
        }
        if let Ok(img) = image::open(&p) {
            let _ = rectify(
                &img.to_rgb8(),
                &GeometryConfig::default(),
                &Deadline::none(),
            );
        }
    }
}

/// A skin-coloured finger (capsule of radius `r`) from `from` to `to`.
fn add_finger(img: &mut RgbImage, from: (f64, f64), to: (f64, f64), r: f64) {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let len2 = dx * dx + dy * dy;
    for (x, y, px) in img.enumerate_pixels_mut() {
        let (qx, qy) = (f64::from(x) - from.0, f64::from(y) - from.1);
        let t = ((qx * dx + qy * dy) / len2).clamp(0.0, 1.0);
        let d = ((qx - t * dx).powi(2) + (qy - t * dy).powi(2)).sqrt();
        if d < r {
            let shade = 0.85 + 0.15 * (1.0 - d / r);
            *px = Rgb([205.0, 160.0, 130.0].map(|c: f64| (c * shade) as u8));
        }
    }
}

/// A shadow darkening by `k` everything right of a slanted line from `x0` (top) to `x1`.
fn add_shadow(img: &mut RgbImage, x0: f64, x1: f64, k: f64) {
    let h = f64::from(img.height());
    for (x, y, px) in img.enumerate_pixels_mut() {
        if f64::from(x) > x0 + (x1 - x0) * f64::from(y) / h {
            *px = Rgb(px.0.map(|c| (f64::from(c) * k) as u8));
        }
    }
}

#[test]
fn fingers_shadows_and_jpeg_do_not_move_the_corners() {
    type Spoil = fn(&mut RgbImage, &[(f32, f32)]);
    let cases: [(&str, Spoil); 4] = [
        ("finger on the right edge", |img, t| {
            add_finger(
                img,
                (1999.0, 900.0),
                (f64::from(t[1].0) - 20.0, 950.0),
                45.0,
            )
        }),
        ("two hands holding the page", |img, t| {
            add_finger(
                img,
                (1999.0, 1300.0),
                (f64::from(t[2].0) - 30.0, f64::from(t[2].1) - 10.0),
                50.0,
            );
            add_finger(img, (0.0, 300.0), (f64::from(t[0].0) + 40.0, 320.0), 45.0);
        }),
        ("shadow across the page", |img, _| {
            add_shadow(img, 900.0, 1300.0, 0.55)
        }),
        ("JPEG quality 70", |img, _| {
            let mut b = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut b, 70)
                .encode_image(&*img)
                .expect("encode");
            *img = image::load_from_memory(&b).expect("decode").to_rgb8();
        }),
    ];
    for (i, (name, spoil)) in cases.into_iter().enumerate() {
        let shot = Shot {
            seed: 60 + i as u64,
            ..GOOD
        };
        let (mut img, proj) = photo(&page(shot.seed), shot);
        let truth: Vec<(f32, f32)> = [
            (0.0, 0.0),
            (PW as f32, 0.0),
            (PW as f32, PH as f32),
            (0.0, PH as f32),
        ]
        .iter()
        .map(|&p| proj * p)
        .collect();
        spoil(&mut img, &truth);
        let cap = run(&img);
        assert_eq!(cap.kind, CaptureKind::Photo, "{name}");
        for (c, t) in cap.quad.iter().zip(&truth) {
            let err = (c.0 - t.0).hypot(c.1 - t.1);
            assert!(err < 5.0, "{name}: corner {c:?} is {err:.1} px from {t:?}");
        }
        assert!(codes(&cap).is_empty(), "{name}: {:?}", codes(&cap));
    }
}

/// A page of Bengali-like print: every word a headline (মাত্রা) with letter strokes hanging
/// below it, plus the red mark.
fn headline_page(seed: u64) -> RgbImage {
    let mut rng = Rng(seed);
    let mut img = RgbImage::from_pixel(PW, PH, Rgb([246, 244, 238]));
    let ink = Rgb([35, 35, 45]);
    let mut y = 200;
    while y < 1500 {
        let mut x = 110;
        while x < 1100 {
            let wd = rng.range(50.0, 150.0) as i32;
            if x + wd > 1130 {
                break;
            }
            draw_filled_rect_mut(&mut img, Rect::at(x, y).of_size(wd as u32, 3), ink);
            let mut sx = x + 3;
            while sx < x + wd - 3 {
                let len = rng.range(10.0, 20.0) as u32;
                draw_filled_rect_mut(&mut img, Rect::at(sx, y + 3).of_size(3, len), ink);
                if rng.range(0.0, 1.0) < 0.5 {
                    draw_filled_rect_mut(&mut img, Rect::at(sx, y + 12).of_size(7, 3), ink);
                }
                sx += rng.range(7.0, 13.0) as i32;
            }
            x += wd + 18;
        }
        y += 40;
    }
    let (mx, my, ms) = MARK;
    draw_filled_rect_mut(
        &mut img,
        Rect::at(mx as i32, my as i32).of_size(ms, ms),
        Rgb([210, 30, 30]),
    );
    img
}

#[test]
fn sideways_photos_come_out_upright() {
    // (roll, tilt): a portrait page photographed in a landscape frame, either way round.
    for (seed, roll, tilt) in [
        (11, 90.0, 6.0),
        (12, -90.0, -5.0),
        (13, 93.0, 0.0),
        (14, -87.0, 8.0),
    ] {
        let shot = Shot {
            seed,
            roll,
            tilt_x: tilt,
            tilt_y: 0.0,
            fill: 1.05,
            ..GOOD
        };
        let (img, _) = photo(&headline_page(seed), shot);
        let cap = run(&img);
        let (w, h) = cap.page.dimensions();
        assert!(h > w, "{shot:?}: page {w}×{h} is not portrait");
        let found = red_centroid(&cap.page).expect("the red mark on the page");
        let rel = (found.0 / f64::from(w), found.1 / f64::from(h));
        let (mx, my, ms) = MARK;
        let want = (
            f64::from(mx + ms / 2) / f64::from(PW),
            f64::from(my + ms / 2) / f64::from(PH),
        );
        assert!(
            (rel.0 - want.0).abs() < 0.02 && (rel.1 - want.1).abs() < 0.02,
            "{shot:?}: mark at {rel:?} on the page, printed at {want:?} (upside down?)"
        );
    }
}
