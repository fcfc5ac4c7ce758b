//! Show how Jachai reads MICR line images: tesseract's characters (boxes, confidences) on the
//! prepared line, the glyph cells with the classifier's answers, and the final read.
//!
//! `cargo run -p jachai-verify --example micr_debug -- LINE.tif... [--save DIR]`

use verify::cheque::e13b::Classifier;
use verify::cheque::micr::{gray_on_white, plain_tesseract, MicrConfig, MicrReader};

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
    let model = Classifier::built_in()?;
    let reader = MicrReader::new(config.clone())?;
    for f in files {
        let gray = gray_on_white(&image::open(&f)?);
        println!("== {f}");
        println!("plain     {}", plain_tesseract(&gray, &config.tessdata)?);
        let Some((prep, tess)) = reader.read_parts(&gray)? else {
            println!("no line found");
            continue;
        };
        if let Some(dir) = &save {
            let name = std::path::Path::new(&f)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            prep.image
                .save(std::path::Path::new(dir).join(format!("{name}.png")))?;
        }
        let t: Vec<String> = tess
            .iter()
            .map(|c| format!("{}@{:.0}-{:.0}:{:.2}", char::from(c.ch), c.x0, c.x1, c.conf))
            .collect();
        println!("tesseract {}", t.join(" "));
        let g: Vec<String> = prep
            .guesses(&model)
            .iter()
            .map(|(c, g)| match g {
                Some(g) => format!("{}-{}:{}({:.1})", c.x0, c.x1, char::from(g.ch), g.margin),
                None => format!("{}-{}:wide", c.x0, c.x1),
            })
            .collect();
        println!("cells     {}", g.join(" "));
        let read = reader.finish(&prep, tess, &config.arbiter);
        println!("jachai    {}", read.raw);
    }
    Ok(())
}
