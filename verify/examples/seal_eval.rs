//! How often `verify::gd::seal` finds the thana seal: every image in a folder is rectified (as
//! the pipeline does) and searched; pages without a seal found are listed.
//!
//! `cargo run --release -p jachai-verify --example seal_eval -- DIR`

use verify::deadline::Deadline;
use verify::gd::{geometry, seal};

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: seal_eval DIR");
        std::process::exit(2);
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("read dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("jpg" | "png")))
        .collect();
    files.sort();
    let (mut found, mut n) = (0, 0);
    let cfg = seal::SealConfig::default();
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
        n += 1;
        match seal::find_seals(&c.page, &cfg, &Deadline::none()) {
            Ok(s) if !s.is_empty() => found += 1,
            _ => println!("{}: no seal", f.display()),
        }
    }
    println!("seal found on {found}/{n} pages");
}
