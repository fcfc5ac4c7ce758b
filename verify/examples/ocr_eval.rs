//! Accuracy and speed of `verify::gd::ocr` on a synthetic GD-like page rendered with the
//! generator's fonts: character error rate per line and time per page.
//!
//! `cargo run --release -p jachai-verify --example ocr_eval -- [languages] [target_height] [runs]
//! [repeat]` (`repeat`: the rows are laid out that many times, closer together)
//! (run with `OMP_THREAD_LIMIT=1`).

use std::time::Instant;

use gdgen::render::Renderer;
use image::{imageops, Rgb, RgbImage};
use unicode_normalization::UnicodeNormalization;
use verify::deadline::Deadline;
use verify::gd::ocr::{read_page, OcrConfig};

/// Rows of the page: (cells, font family, px, bold). Cells are drawn left to right; the second
/// starts at the middle of the page.
const ROWS: &[(&[&str], &str, f32, bool)] = &[
    (&["বাংলাদেশ পুলিশ"], "Noto Sans Bengali", 46.0, true),
    (&["সাধারণ ডায়েরি"], "Noto Serif Bengali", 40.0, false),
    (&["থানা: ধানমন্ডি", "জেলা: ঢাকা"], "Noto Sans Bengali", 30.0, false),
    (
        &["জিডি নং ৭৮৯", "তারিখ: ১২/০৩/২০২৪"],
        "Lohit Bengali",
        30.0,
        false,
    ),
    (
        &["বিষয়: মোবাইল ফোন হারানো প্রসঙ্গে"],
        "Noto Sans Bengali",
        30.0,
        false,
    ),
    (
        &["আমি নিম্নস্বাক্ষরকারী এই মর্মে জানাচ্ছি যে আমার মোবাইল ফোনটি"],
        "Noto Serif Bengali",
        28.0,
        false,
    ),
    (
        &["হারিয়ে গেছে। ফোনের বিবরণ নিচে দেওয়া হলো।"],
        "Noto Serif Bengali",
        28.0,
        false,
    ),
    (&["IMEI 1: 356938035643809"], "Noto Sans", 30.0, false),
    (
        &["IMEI 2: ৩৫৬৯৩৮০৩৫৬৪৩৮১৭"],
        "Noto Sans Bengali",
        30.0,
        false,
    ),
    (
        &["Brand: Samsung", "Model: Galaxy A12"],
        "DejaVu Sans",
        28.0,
        false,
    ),
    (
        &["আবেদনকারীর নাম: মোঃ রহিম উদ্দিন"],
        "Lohit Bengali",
        28.0,
        false,
    ),
    (&["মোবাইল নং: ০১৭১১২২৩৩৪৪"], "Noto Sans Bengali", 28.0, false),
    (
        &["Police Station: Dhanmondi, Dhaka"],
        "Noto Serif",
        28.0,
        false,
    ),
    (&["ডিউটি অফিসার", "স্বাক্ষর"], "Noto Sans Bengali", 28.0, false),
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut cfg = OcrConfig::default();
    if let Some(l) = args.get(1) {
        cfg.languages = l.clone();
    }
    if let Some(t) = args.get(2).and_then(|s| s.parse().ok()) {
        cfg.target_height = t;
    }
    let runs: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(3);
    let repeat: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut r = Renderer::new().expect("fonts");
    let (page, expected) = compose(&mut r, repeat);
    page.save("/tmp/ocr_eval_page.png").ok();

    let t = Instant::now();
    let first = read_page(&page, &cfg, &Deadline::none()).expect("read");
    println!(
        "first call (engines created): {:.3}s",
        t.elapsed().as_secs_f64()
    );
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let _ = read_page(&page, &cfg, &Deadline::none()).expect("read");
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{} target {}: median {:.3}s over {} runs, {} lines",
        cfg.languages,
        cfg.target_height,
        times.get(times.len() / 2).copied().unwrap_or(0.0),
        runs,
        first.lines.len()
    );
    let mut total_err = 0usize;
    let mut total_len = 0usize;
    for exp in &expected {
        let (best, d) = first
            .lines
            .iter()
            .map(|l| (l.text.as_str(), lev(&norm(&l.text), &norm(exp))))
            .min_by_key(|&(_, d)| d)
            .unwrap_or(("", norm(exp).chars().count()));
        let n = norm(exp).chars().count();
        total_err += d;
        total_len += n;
        println!("{:5.1}%  {exp}  ⇒  {best}", 100.0 * d as f64 / n as f64);
    }
    println!(
        "CER total {:.2}%",
        100.0 * total_err as f64 / total_len.max(1) as f64
    );
}

fn norm(s: &str) -> String {
    s.nfc().filter(|c| !c.is_whitespace()).collect()
}

fn lev(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let v = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
            cur.push(v);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// An A4-like page with the rows, a purple stamp ring over two lines, a blue "signature"
/// stroke, mild noise and uneven light.
fn compose(r: &mut Renderer, repeat: usize) -> (RgbImage, Vec<String>) {
    let (w, h) = (1700u32, 2400u32);
    let mut page = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    let mut y = 120u32;
    let mut expected = Vec::new();
    let gap = if repeat > 1 { 12 } else { 40 };
    for (cells, family, px, bold) in ROWS.iter().cycle().take(ROWS.len() * repeat.max(1)) {
        let mut row_h = 0;
        for (ci, text) in cells.iter().enumerate() {
            let img = r.line(text, family, *px, *bold);
            let x = if ci == 0 { 140 } else { w / 2 + 60 };
            for (ix, iy, p) in img.enumerate_pixels() {
                let (px_, py_) = (x + ix, y + iy);
                if px_ < w && py_ < h {
                    let v = p.0[0];
                    page.put_pixel(px_, py_, Rgb([v, v, v]));
                }
            }
            row_h = row_h.max(img.height());
        }
        expected.push(cells.join(" "));
        y += row_h + gap;
    }
    // Purple stamp ring over rows 7–9 on the right.
    let (cx, cy, rad) = (1100.0f32, 1300.0f32, 160.0f32);
    for py in 0..h {
        for px in 0..w {
            let d = ((px as f32 - cx).powi(2) + (py as f32 - cy).powi(2)).sqrt();
            let p = page.get_pixel_mut(px, py);
            if (d - rad).abs() < 5.0 || (d - rad + 20.0).abs() < 2.0 {
                p.0 = [p.0[0].min(130), p.0[1].min(60), p.0[2].min(170)];
            }
            // Uneven light: darker towards the bottom right; grain.
            let shade = 1.0 - 0.25 * (px as f32 / w as f32) * (py as f32 / h as f32);
            let grain = ((px * 7919 + py * 104729) % 17) as f32 - 8.0;
            for c in &mut p.0 {
                *c = (*c as f32 * shade + grain).clamp(0.0, 255.0) as u8;
            }
        }
    }
    // Blue signature stroke across the last row.
    for t in 0..600 {
        let x = 1000 + t;
        let yy = (y as f32 - 90.0 + 25.0 * ((t as f32) / 40.0).sin()) as u32;
        for dy in 0..3 {
            if x < w && yy + dy < h {
                page.put_pixel(x, yy + dy, Rgb([30, 50, 170]));
            }
        }
    }
    let page = imageops::blur(&page, 0.6);
    (page, expected)
}
