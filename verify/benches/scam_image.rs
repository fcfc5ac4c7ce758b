//! Per-stage milliseconds of `verify --kind image` on pictures made here: phone screenshots
//! (English, Bengali, Thai; light, dark) and camera photos of them. Prints each stage's median and
//! the total median and p90 per image kind, against the 2 s target, and how many of these
//! (none AI-made) got an `ai_generated` finding.
//!
//! `cargo bench -p jachai-verify --bench scam_image [-- --rounds N]`

#[path = "../tests/scam_support/mod.rs"]
mod scam_support;

use std::collections::BTreeMap;
use std::time::Instant;

use scam_support::{camera_photo, png, renderer, screenshot, Look};
use verify::{Config, DocumentKind, Request};

const TEXTS: &[&[&str]] = &[
    &[
        "bKash Cashback Offer",
        "Congratulations! You have won 5000 Tk",
        "Claim now at bkash-bonus.com/login",
        "Helpline 01712-345678",
    ],
    &[
        "You have received Tk 1,500.00 from 01712345678.",
        "Fee Tk 0.00. Balance Tk 2,345.67.",
        "TrxID BFC4K2M9QX at 05/12/2026 14:32",
    ],
    &[
        "অভিনন্দন! আপনি জিতেছেন",
        "লিংকে ক্লিক করুন nagad-offer.xyz",
        "হেল্পলাইন 01812345678",
    ],
    &[
        "บัญชีของคุณถูกระงับ",
        "คลิกลิงก์ scb-th.net/claim",
        "โทร 0812345678",
    ],
];

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn main() {
    let rounds: usize = std::env::args()
        .skip_while(|a| a != "--rounds")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let mut r = renderer();
    let mut inputs: Vec<(&str, Vec<u8>)> = Vec::new();
    for (i, lines) in TEXTS.iter().enumerate() {
        let look = Look {
            dark: i % 2 == 1,
            ..Look::default()
        };
        let (img, _) = screenshot(&mut r, lines, look);
        inputs.push(("screenshot", png(&img)));
        inputs.push(("camera photo", camera_photo(&img, i as u64 + 1)));
    }
    let request = Request {
        kind: DocumentKind::Image,
        now_unix: Some(1_796_558_400),
        ..Request::default()
    };
    let config = Config::default();
    for kind in ["screenshot", "camera photo"] {
        let mut stages: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut totals = Vec::new();
        let mut ai_flags = 0;
        for _ in 0..rounds {
            for (_, bytes) in inputs.iter().filter(|(k, _)| *k == kind) {
                let t = Instant::now();
                let Ok(report) = verify::verify(bytes, &request, &config, &mut ()) else {
                    eprintln!("unreadable input");
                    continue;
                };
                totals.push(t.elapsed().as_secs_f64() * 1000.0);
                // None of these pictures is AI-made: any `ai_generated` is a false positive.
                ai_flags += usize::from(report.findings.iter().any(|f| f.code == "ai_generated"));
                for s in &report.stages {
                    stages
                        .entry(s.name.as_str().to_owned())
                        .or_default()
                        .push(s.ms as f64);
                }
            }
        }
        println!("{kind}s ({} checks):", totals.len());
        for (name, mut v) in stages {
            println!("  {name:<12} median {:>7.1} ms", median(&mut v));
        }
        let n = totals.len();
        let med = median(&mut totals);
        let p90 = totals.get(n * 9 / 10).copied().unwrap_or(0.0);
        println!(
            "  total        median {med:>7.1} ms, p90 {p90:.1} ms (target median <= 2000 ms: {})",
            if med <= 2000.0 { "met" } else { "NOT met" }
        );
        println!("  ai_generated (all false positives here): {ai_flags} of {n}");
    }
}
