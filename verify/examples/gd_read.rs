//! What the GD reader sees on one file: the rectified page's OCR lines, each digit re-read
//! the field parser asks for, and the fields it parsed. A debugging aid for hard captures.
//!
//! `OMP_THREAD_LIMIT=1 cargo run --release -p jachai-verify --example gd_read -- FILE [PAGE.png]`
//! (`PAGE.png`: also write the upright page the OCR read).

use verify::deadline::Deadline;
use verify::gd::{fields, geometry, ocr, orient};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let file = args.next().ok_or("usage: gd_read FILE [PAGE.png]")?;
    let img = image::open(&file)?.to_rgb8();
    let cfg = verify::Config::default();
    let deadline = Deadline::after(std::time::Duration::from_secs(60));
    let cap = geometry::rectify(&img, &cfg.gd.geometry, &deadline)?;
    println!(
        "capture {:?} quad {:?} skew {:.2}",
        cap.kind, cap.quad, cap.skew_degrees
    );
    for f in &cap.findings {
        println!("capture finding: {} {:?}", f.code, f.regions);
    }
    let (page, turn) = orient::upright(&cap.page);
    println!("page {:?}, turned {}°", page.dimensions(), turn.degrees());
    if let Some(out) = args.next() {
        page.save(&out)?;
    }
    let read = ocr::read_page(&page, &cfg.gd.ocr, &deadline)?;
    for l in &read.lines {
        println!(
            "{:>5} {:>5} {:>4}x{:<3} {:.2}  {}",
            l.region.x, l.region.y, l.region.w, l.region.h, l.conf, l.text
        );
    }
    let parsed = fields::extract(&read, &mut |r| {
        let got = ocr::read_digit_readings(&page, r, &cfg.gd.ocr);
        println!("re-read {r:?} -> {got:?}");
        got
    });
    println!("imeis: {:?}", parsed.imeis);
    println!("invalid: {:?}", parsed.invalid_imeis);
    println!("gd_number: {:?}", parsed.gd_number.map(|f| f.value));
    println!("gd_date: {:?}", parsed.gd_date.map(|f| f.value));
    let thana = parsed.thana.as_ref().map(|f| f.value.clone());
    let district = parsed.district.as_ref().map(|f| f.value.clone());
    println!("thana: {thana:?}, district: {district:?}");
    let s = verify::gd::structure::check(
        &page,
        &read,
        thana.as_deref(),
        district.as_deref(),
        &cfg.gd.structure,
        &deadline,
    )?;
    println!(
        "structure thana: {:?} district: {:?}",
        s.thana
            .as_ref()
            .map(|t| (&t.raw, t.matches.first().map(|m| &m.name_en))),
        s.district
            .as_ref()
            .map(|d| (&d.raw, d.matches.first().map(|m| &m.name_en)))
    );
    println!("seal: {:?}", s.seals.first().map(|s| (s.region, s.score)));
    println!(
        "signature: {:?}",
        s.signature.as_ref().map(|s| (s.region, s.score))
    );
    for f in &s.findings {
        println!("structure finding: {} {:?} {}", f.code, f.regions, f.en);
    }
    Ok(())
}
