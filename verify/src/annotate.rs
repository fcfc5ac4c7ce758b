//! The annotated image: the input with every located region boxed and labelled, as PNG.
//!
//! Boxes are coloured by severity and drawn 2 px wide (3 px on large images), clipped to the
//! image. Each box carries a short tag in an 8×8 bitmap font (doubled on large images): the
//! finding's code, or for copy-move pairs `copy src N` / `copy dst N`.

use font8x8::legacy::BASIC_LEGACY;
use image::{Rgb, RgbImage};
use imageproc::drawing::draw_filled_rect_mut;
use imageproc::rect::Rect;

use crate::error::StageError;
use crate::report::{Finding, LocatedField, Region, Severity};

/// Images whose longer side reaches this get thicker lines and a doubled font.
const LARGE_SIDE: u32 = 1000;

/// Draw every finding's regions on a copy of `img` and encode it as PNG.
pub fn annotate(img: &RgbImage, findings: &[Finding]) -> Result<Vec<u8>, StageError> {
    annotate_with(img, findings, &[])
}

/// Green, for what was read (not a finding).
const READ: Rgb<u8> = Rgb([0, 150, 70]);

/// [`annotate`], with the fields read from the document (IMEIs, GD number, seal …) boxed in
/// green under the findings, so a reviewer sees what the verdict rests on.
pub fn annotate_with(
    img: &RgbImage,
    findings: &[Finding],
    located: &[LocatedField],
) -> Result<Vec<u8>, StageError> {
    let mut out = img.clone();
    let large = img.width().max(img.height()) >= LARGE_SIDE;
    let (thickness, scale) = if large { (3, 2) } else { (2, 1) };
    let mut read_labels = Vec::new();
    for l in located {
        draw_box(&mut out, &l.region, thickness.max(2) - 1, READ);
        read_labels.push((l.region, l.field.clone(), READ));
    }

    // Draw the least severe first so the most severe boxes end up on top.
    let mut order: Vec<&Finding> = findings.iter().filter(|f| !f.regions.is_empty()).collect();
    order.sort_by_key(|f| f.severity);
    let mut labels = Vec::new();
    for f in order {
        let colour = colour_of(f.severity);
        for (i, region) in f.regions.iter().enumerate() {
            let tag = tag_for(f, i);
            draw_box(&mut out, region, thickness, colour);
            labels.push((*region, tag, colour));
        }
    }
    // Labels after all boxes, so no box line crosses a label.
    for (region, tag, colour) in read_labels.into_iter().chain(labels) {
        draw_label(&mut out, &region, &tag, colour, scale);
    }

    let mut png = Vec::new();
    out.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| StageError::Failed(format!("png encoding: {e}")))?;
    Ok(png)
}

/// The tag for region `i` of `f`: copy-move regions come in [source, target] pairs.
fn tag_for(f: &Finding, i: usize) -> String {
    if f.code.starts_with("copy_move") {
        let pair = i / 2 + 1;
        if i.is_multiple_of(2) {
            format!("copy src {pair}")
        } else {
            format!("copy dst {pair}")
        }
    } else {
        f.code.clone()
    }
}

fn colour_of(severity: Severity) -> Rgb<u8> {
    match severity {
        Severity::Info => Rgb([40, 140, 255]),
        Severity::Low => Rgb([255, 215, 0]),
        Severity::Medium => Rgb([255, 140, 0]),
        Severity::High => Rgb([230, 20, 20]),
        Severity::Critical => Rgb([220, 0, 220]),
    }
}

/// Fill the rectangle [x0, x1) × [y0, y1); imageproc clips it to the image.
fn fill(img: &mut RgbImage, x0: i64, y0: i64, x1: i64, y1: i64, colour: Rgb<u8>) {
    if x1 <= x0 || y1 <= y0 {
        return;
    }
    let (Ok(x), Ok(y), Ok(w), Ok(h)) = (
        i32::try_from(x0),
        i32::try_from(y0),
        u32::try_from(x1 - x0),
        u32::try_from(y1 - y0),
    ) else {
        return;
    };
    draw_filled_rect_mut(img, Rect::at(x, y).of_size(w, h), colour);
}

/// A hollow box `thickness` px wide drawn just inside `r` (so it stays within the region and
/// the image).
fn draw_box(img: &mut RgbImage, r: &Region, thickness: u32, colour: Rgb<u8>) {
    let (x0, y0) = (i64::from(r.x), i64::from(r.y));
    let x1 = x0 + i64::from(r.w).max(1);
    let y1 = y0 + i64::from(r.h).max(1);
    // Clip the box itself to the image so a region running off the edge still shows its frame.
    let x1 = x1.min(i64::from(img.width()));
    let y1 = y1.min(i64::from(img.height()));
    if x1 <= x0 || y1 <= y0 {
        return;
    }
    let t = i64::from(thickness);
    fill(img, x0, y0, x1, y0 + t, colour);
    fill(img, x0, y1 - t, x1, y1, colour);
    fill(img, x0, y0, x0 + t, y1, colour);
    fill(img, x1 - t, y0, x1, y1, colour);
}

/// The tag on a filled strip in the box colour, above the box when there is room, else just
/// inside its top edge; black or white text, whichever reads better on the colour.
fn draw_label(img: &mut RgbImage, r: &Region, tag: &str, colour: Rgb<u8>, scale: u32) {
    let glyph = 8 * i64::from(scale);
    let pad = i64::from(scale);
    let text_w = glyph * tag.chars().count() as i64 + 2 * pad;
    let text_h = glyph + 2 * pad;
    let (iw, ih) = (i64::from(img.width()), i64::from(img.height()));
    if r.x >= img.width() || r.y >= img.height() {
        return;
    }
    let mut x0 = i64::from(r.x);
    let y0 = if i64::from(r.y) >= text_h {
        i64::from(r.y) - text_h
    } else {
        i64::from(r.y)
    };
    if x0 + text_w > iw {
        x0 = (iw - text_w).max(0);
    }
    fill(img, x0, y0, x0 + text_w, y0 + text_h, colour);
    let luminance =
        0.299 * f32::from(colour[0]) + 0.587 * f32::from(colour[1]) + 0.114 * f32::from(colour[2]);
    let ink = if luminance > 140.0 {
        Rgb([0, 0, 0])
    } else {
        Rgb([255, 255, 255])
    };
    let s = i64::from(scale);
    for (n, ch) in tag.chars().enumerate() {
        let bitmap = BASIC_LEGACY[usize::from(u8::try_from(ch).unwrap_or(b'?') & 0x7f)];
        let gx0 = x0 + pad + n as i64 * glyph;
        for (row, bits) in bitmap.iter().enumerate() {
            for col in 0..8 {
                if bits & (1 << col) != 0 {
                    let px = gx0 + col * s;
                    let py = y0 + pad + row as i64 * s;
                    if px < iw && py < ih {
                        fill(img, px, py, px + s, py + s, ink);
                    }
                }
            }
        }
    }
}
