//! Show how Jachai reads MICR line images: tesseract's characters (boxes, confidences) on the
//! line, the glyph cells of the prepared line with the classifier's answers, and the combined
//! read.
//!
//! `cargo run -p jachai-verify --example micr_debug -- LINE.tif... [--save DIR]`

use verify::cheque::micr::{gray_on_white, plain_tesseract, prepare, MicrConfig, MicrReader};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut files = Vec::new();
    let mut save = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        if a == "--save" {
            save = it.next();
        } else {
            files.push(a);
        }
    }
    let config = MicrConfig::default();
    let reader = MicrReader::new(config.clone())?;
    for f in files {
        let gray = gray_on_white(&image::open(&f)?);
        println!("== {f}");
        println!("plain     {}", plain_tesseract(&gray, &config.tessdata)?);
        if let Some(dir) = &save {
            let name = std::path::Path::new(&f)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Some(prep) = prepare(&gray, config.target_height) {
                prep.image
                    .save(std::path::Path::new(dir).join(format!("{name}.png")))?;
            }
        }
        let Some(parts) = reader.read_parts(&gray)? else {
            println!("no line found");
            continue;
        };
        let t: Vec<String> = parts
            .tesseract
            .iter()
            .map(|c| format!("{}@{:.0}-{:.0}:{:.2}", char::from(c.ch), c.x0, c.x1, c.conf))
            .collect();
        println!("tesseract {}", t.join(" "));
        let g: Vec<String> = parts
            .cells
            .iter()
            .map(|c| match c.guess {
                Some(g) => format!(
                    "{:.0}-{:.0}:{}({:.1})",
                    c.x0,
                    c.x1,
                    char::from(g.ch),
                    g.margin
                ),
                None => format!("{:.0}-{:.0}:wide", c.x0, c.x1),
            })
            .collect();
        println!("cells     {}", g.join(" "));
        let read = reader.finish(&parts, &config.arbiter);
        println!("jachai    {}", read.raw);
    }
    Ok(())
}
