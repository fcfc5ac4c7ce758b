//! How often `verify::gd::orient` turns pages correctly: every image in a folder is rectified
//! (as the pipeline does) and turned upright; the turn found is printed beside the turn the
//! file was given (`--turn 0|90|180|270` turns every page clockwise first, to test all four).
//!
//! `cargo run --release -p jachai-verify --example orient_eval -- DIR [--turn DEG]`

use std::time::Instant;

use image::imageops;
use verify::deadline::Deadline;
use verify::gd::{geometry, orient};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: orient_eval DIR [--turn DEG]");
        std::process::exit(2);
    };
    let mut given = 0u32;
    while let Some(a) = args.next() {
        if a == "--turn" {
            given = args.next().and_then(|v| v.parse().ok()).unwrap_or(0);
        }
    }
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("read dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("jpg" | "png")))
        .collect();
    files.sort();
    let (mut right, mut n) = (0, 0);
    let started = Instant::now();
    for f in files {
        let Ok(img) = image::open(&f) else { continue };
        let img = img.to_rgb8();
        let Ok(c) = geometry::rectify(
            &img,
            &geometry::GeometryConfig::default(),
            &Deadline::none(),
        ) else {
            continue;
        };
        // Turning the page clockwise by `given` must be undone by a turn of 360 − given.
        let page = match given {
            90 => imageops::rotate90(&c.page),
            180 => imageops::rotate180(&c.page),
            270 => imageops::rotate270(&c.page),
            _ => c.page.clone(),
        };
        let (_, t) = orient::upright(&page);
        let want = (360 - given) % 360;
        n += 1;
        if t.degrees() == want {
            right += 1;
        } else {
            println!("{} turned {} want {}", f.display(), t.degrees(), want);
        }
    }
    println!(
        "{right}/{n} upright ({:.1} ms per page)",
        started.elapsed().as_secs_f64() * 1000.0 / n.max(1) as f64
    );
}
