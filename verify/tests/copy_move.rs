//! Copy-move stage: clones constructed on real photos (translated, rotated, scaled) are found
//! and located, untouched photos give nothing, and odd inputs never panic.

mod common;

use std::io::Cursor;
use std::path::PathBuf;
use std::time::Duration;

use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use verify::forensics::copy_move::{analyze, CopyMoveConfig};
use verify::{Config, Deadline, Finding, Region, Request, Severity, Stage, StageError};

fn photo(rel: &str) -> RgbImage {
    let path = common::data_dir().join(rel);
    image::open(&path)
        .unwrap_or_else(|e| panic!("test photo {} is needed: {e}", path.display()))
        .to_rgb8()
}

/// A disc of `radius` around `from`, rotated by `rot_deg` (clockwise on screen) and scaled by
/// `scale`, pasted with its centre at `to`.
#[derive(Debug, Clone, Copy)]
struct Paste {
    radius: f64,
    rot_deg: f64,
    scale: f64,
}

/// Bilinear sample, clamped to the image.
fn sample(img: &RgbImage, x: f64, y: f64) -> Rgb<u8> {
    let (w, h) = (f64::from(img.width() - 1), f64::from(img.height() - 1));
    let (x, y) = (x.clamp(0.0, w), y.clamp(0.0, h));
    let (x0, y0) = (x.floor(), y.floor());
    let (x1, y1) = ((x0 + 1.0).min(w), (y0 + 1.0).min(h));
    let (fx, fy) = (x - x0, y - y0);
    let px = |x: f64, y: f64| *img.get_pixel(x as u32, y as u32);
    let mut out = [0u8; 3];
    for (c, o) in out.iter_mut().enumerate() {
        let v = f64::from(px(x0, y0)[c]) * (1.0 - fx) * (1.0 - fy)
            + f64::from(px(x1, y0)[c]) * fx * (1.0 - fy)
            + f64::from(px(x0, y1)[c]) * (1.0 - fx) * fy
            + f64::from(px(x1, y1)[c]) * fx * fy;
        *o = v.round().clamp(0.0, 255.0) as u8;
    }
    Rgb(out)
}

/// Fine-detail energy of the square of half-size `r` around `(cx, cy)`: mean absolute
/// Laplacian, high on texture and low on flat areas or a lone edge.
fn detail(img: &RgbImage, cx: u32, cy: u32, r: u32) -> f64 {
    let grey = |x: u32, y: u32| {
        let p = img.get_pixel(x, y);
        0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])
    };
    let (mut s, mut n) = (0.0, 0.0);
    for y in cy - r + 1..cy + r - 1 {
        for x in cx - r + 1..cx + r - 1 {
            let lap = 4.0 * grey(x, y)
                - grey(x - 1, y)
                - grey(x + 1, y)
                - grey(x, y - 1)
                - grey(x, y + 1);
            s += lap.abs();
            n += 1.0;
        }
    }
    s / n
}

/// Where to copy from and to, chosen from the picture itself: the most detailed spot as the
/// source, the spot farthest from it (with room for the scaled disc) as the target.
fn places(img: &RgbImage, c: &Paste) -> ((f64, f64), (f64, f64)) {
    let r = c.radius.ceil() as u32;
    let rt = (c.radius * c.scale).ceil() as u32 + 2;
    let step = r / 2;
    let mut best = (0.0, (0, 0));
    for cy in (r..img.height() - r).step_by(step as usize) {
        for cx in (r..img.width() - r).step_by(step as usize) {
            let v = detail(img, cx, cy, r);
            if v > best.0 {
                best = (v, (cx, cy));
            }
        }
    }
    let (sx, sy) = best.1;
    let mut far = (0.0, (0, 0));
    for cy in (rt..img.height() - rt).step_by(step as usize) {
        for cx in (rt..img.width() - rt).step_by(step as usize) {
            let d = (f64::from(cx) - f64::from(sx)).hypot(f64::from(cy) - f64::from(sy));
            if d > far.0 {
                far = (d, (cx, cy));
            }
        }
    }
    let (tx, ty) = far.1;
    (
        (f64::from(sx), f64::from(sy)),
        (f64::from(tx), f64::from(ty)),
    )
}

/// Paste the clone, save as JPEG (quality 90) and decode again, as a forger's tool would.
fn forge(img: &RgbImage, c: &Paste, from: (f64, f64), to: (f64, f64)) -> RgbImage {
    let mut out = img.clone();
    let (sin, cos) = c.rot_deg.to_radians().sin_cos();
    let rt = c.radius * c.scale;
    for y in (to.1 - rt).floor() as i64..=(to.1 + rt).ceil() as i64 {
        for x in (to.0 - rt).floor() as i64..=(to.0 + rt).ceil() as i64 {
            let (dx, dy) = (x as f64 - to.0, y as f64 - to.1);
            if dx.hypot(dy) > rt || x < 0 || y < 0 {
                continue;
            }
            if x >= i64::from(out.width()) || y >= i64::from(out.height()) {
                continue;
            }
            // Inverse map: unscale, unrotate.
            let (ux, uy) = (dx / c.scale, dy / c.scale);
            let (sx, sy) = (cos * ux + sin * uy, -sin * ux + cos * uy);
            out.put_pixel(x as u32, y as u32, sample(img, from.0 + sx, from.1 + sy));
        }
    }
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(Cursor::new(&mut bytes), 90)
        .encode_image(&out)
        .expect("encode jpeg");
    image::load_from_memory(&bytes)
        .expect("decode jpeg")
        .to_rgb8()
}

fn disc_box(c: (f64, f64), r: f64) -> Region {
    let x0 = (c.0 - r).max(0.0) as u32;
    let y0 = (c.1 - r).max(0.0) as u32;
    Region::new(x0, y0, (2.0 * r) as u32, (2.0 * r) as u32)
}

/// `found` covers at least a third of `truth` and is not wildly larger.
fn locates(found: &Region, truth: &Region) -> bool {
    found.overlap(truth) * 3 >= truth.area() && found.area() <= truth.area() * 6
}

fn assert_well_formed(f: &Finding) {
    assert_eq!(f.code, "copy_move");
    assert_eq!(f.stage, Stage::CopyMove);
    assert!(matches!(f.severity, Severity::High | Severity::Critical));
    assert!((40..=60).contains(&f.points), "points {}", f.points);
    assert_eq!(f.regions.len(), 2);
    assert!(
        f.en.starts_with("A region appears copied from ("),
        "{}",
        f.en
    );
    assert!(!f.bn.is_empty() && !f.bn.is_ascii(), "{}", f.bn);
}

/// Forge `clone` into the photo (or leave it untouched with `None`) and check the stage finds
/// exactly what was done.
fn check(rel: &str, clone: Option<Paste>) {
    let original = photo(rel);
    let cfg = CopyMoveConfig::default();
    let Some(c) = clone else {
        let found = analyze(&original, &cfg, &Deadline::none()).expect("analysis runs");
        assert!(
            found.is_empty(),
            "{rel}: untouched photo flagged: {found:#?}"
        );
        return;
    };
    let (from, to) = places(&original, &c);
    let forged = forge(&original, &c, from, to);
    let found = analyze(&forged, &cfg, &Deadline::none()).expect("analysis runs");
    let (src, dst) = (disc_box(from, c.radius), disc_box(to, c.radius * c.scale));
    let hit = found.iter().find(|f| {
        f.regions.len() == 2
            && ((locates(&f.regions[0], &src) && locates(&f.regions[1], &dst))
                || (locates(&f.regions[0], &dst) && locates(&f.regions[1], &src)))
    });
    let Some(hit) = hit else {
        if let Ok(dir) = std::env::var("CM_DUMP") {
            let _ = forged.save(format!("{dir}/{}.png", rel.replace('/', "_")));
        }
        panic!("{rel} {c:?}: clone {src:?} → {dst:?} not located; found {found:#?}");
    };
    assert_well_formed(hit);
}

const PHOTOS: [&str; 4] = [
    "micc-f220/DSC_1535_scale.jpg",
    "micc-f220/sony_61_scale.jpg",
    "micc-f220/DSCN41_scale.jpg",
    "exif-samples/jpg/exif-org/nikon-e950.jpg",
];

#[test]
fn translated_clones_are_found() {
    for rel in PHOTOS {
        check(
            rel,
            Some(Paste {
                radius: 40.0,
                rot_deg: 0.0,
                scale: 1.0,
            }),
        );
    }
}

#[test]
fn rotated_and_scaled_clones_are_found() {
    for rel in PHOTOS {
        check(
            rel,
            Some(Paste {
                radius: 40.0,
                rot_deg: 30.0,
                scale: 1.2,
            }),
        );
    }
}

#[test]
fn other_geometries_are_found() {
    let cases = [
        ("micc-f220/DSC_1535_scale.jpg", -60.0, 1.0),
        ("micc-f220/sony_61_scale.jpg", 90.0, 0.8),
        ("micc-f220/DSCN41_scale.jpg", 15.0, 1.4),
    ];
    for (rel, rot_deg, scale) in cases {
        check(
            rel,
            Some(Paste {
                radius: 45.0,
                rot_deg,
                scale,
            }),
        );
    }
}

#[test]
fn untouched_photos_give_nothing() {
    for rel in PHOTOS {
        check(rel, None);
    }
}

#[test]
fn clean_camera_photos_give_nothing() {
    let dir = common::data_dir().join("exif-samples/jpg");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jpg"))
        .collect();
    files.sort();
    assert!(files.len() >= 10);
    for path in files {
        // A few samples are deliberately broken; only decodable photos are analysed.
        let Ok(img) = image::open(&path) else {
            continue;
        };
        match analyze(
            &img.to_rgb8(),
            &CopyMoveConfig::default(),
            &Deadline::none(),
        ) {
            Ok(found) => assert!(found.is_empty(), "{}: {found:#?}", path.display()),
            Err(e) => assert!(
                matches!(e, StageError::NotApplicable(_)),
                "{}: {e}",
                path.display()
            ),
        }
    }
}

#[test]
fn odd_images_never_panic() {
    let noise = RgbImage::from_fn(300, 200, |x, y| {
        let v = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)).rotate_left(7) as u8;
        Rgb([v, v.wrapping_mul(3), v ^ 0x5a])
    });
    let stripes = RgbImage::from_fn(640, 480, |x, _| {
        if (x / 8) % 2 == 0 {
            Rgb([255, 255, 255])
        } else {
            Rgb([0, 0, 0])
        }
    });
    // Everything copied once: the left half repeated on the right.
    let doubled = RgbImage::from_fn(800, 600, |x, y| {
        let x = x % 400;
        let v = (x.wrapping_mul(2_246_822_519) ^ y.wrapping_mul(3_266_489_917)).rotate_left(11);
        Rgb([v as u8, (v >> 8) as u8, (v >> 16) as u8])
    });
    let images = [
        RgbImage::new(1, 1),
        RgbImage::new(2, 300),
        RgbImage::new(47, 1000),
        RgbImage::new(800, 600),
        RgbImage::from_pixel(640, 480, Rgb([255, 255, 255])),
        RgbImage::from_fn(16_384, 8, |x, _| Rgb([(x % 251) as u8, 0, 0])),
        RgbImage::from_fn(16_384, 64, |x, y| Rgb([(x ^ y) as u8, (x / 7) as u8, 9])),
        RgbImage::from_fn(900, 700, |x, y| Rgb([(x / 4) as u8, (y / 3) as u8, 128])),
        noise,
        stripes,
        doubled,
    ];
    for img in &images {
        match analyze(img, &CopyMoveConfig::default(), &Deadline::none()) {
            Ok(found) => assert!(
                found.iter().all(|f| f.code == "copy_move"),
                "{}×{}",
                img.width(),
                img.height()
            ),
            Err(e) => assert!(
                matches!(e, StageError::NotApplicable(_)),
                "{}×{}: {e}",
                img.width(),
                img.height()
            ),
        }
    }
}

#[test]
fn an_expired_deadline_stops_the_stage() {
    let img = photo("micc-f220/DSC_1535_scale.jpg");
    let expired = Deadline::after(Duration::ZERO);
    assert_eq!(
        analyze(&img, &CopyMoveConfig::default(), &expired),
        Err(StageError::Timeout)
    );
}

#[test]
fn the_pipeline_reports_a_clone() {
    let c = Paste {
        radius: 40.0,
        rot_deg: 30.0,
        scale: 1.2,
    };
    let original = photo("micc-f220/DSC_1535_scale.jpg");
    let (from, to) = places(&original, &c);
    let forged = forge(&original, &c, from, to);
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(Cursor::new(&mut bytes), 95)
        .encode_image(&forged)
        .expect("encode jpeg");
    let report = verify::verify(&bytes, &Request::default(), &Config::default(), &mut ())
        .expect("a readable image");
    let f = report
        .findings
        .iter()
        .find(|f| f.code == "copy_move")
        .expect("a copy_move finding");
    assert_well_formed(f);
    assert!(report.risk >= 30, "risk {}", report.risk);
}
