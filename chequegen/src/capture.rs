//! How a cheque reaches the pipeline: a flat scan or a camera photo of the page (perspective,
//! desk, uneven light, blur, noise), encoded as PNG or JPEG, and page rectangles mapped to the
//! captured image.

use gdgen::tamper::{self, Region};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ImageEncoder, Rgb, RgbImage};
use imageproc::geometric_transformations::{warp_into, Border, Interpolation, Projection};
use rand::Rng;
use rayon::prelude::*;

use crate::{Error, Rect};

pub(crate) fn encode(img: &RgbImage, jpeg_q: Option<u8>) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    match jpeg_q {
        Some(q) => JpegEncoder::new_with_quality(&mut out, q).encode_image(img)?,
        None => PngEncoder::new(&mut out).write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )?,
    }
    Ok(out)
}

fn add_noise(img: &mut RgbImage, seed: u64, sigma: f32) {
    let w = img.width() as usize;
    img.par_chunks_mut(w * 3).enumerate().for_each(|(y, row)| {
        for x in 0..w {
            let n = gdgen::rendition::gauss(seed, x as u32, y as u32, 0) * sigma;
            for c in 0..3 {
                let v = f32::from(row[x * 3 + c]) + n;
                row[x * 3 + c] = v.clamp(0.0, 255.0) as u8;
            }
        }
    });
}

/// A flat scan (rotation under 1°, slight blur and noise) or a camera photo (the cheque in
/// mild perspective over 75–92 % of the frame on a desk, uneven light, blur, noise).
pub(crate) fn capture<R: Rng + ?Sized>(
    page: &RgbImage,
    photo: bool,
    rng: &mut R,
) -> (RgbImage, Projection) {
    let (w, h) = (page.width() as f32, page.height() as f32);
    let (fwd, out_w, out_h, bg) = if photo {
        let (fw, fh) = (1600.0f32, 800.0f32);
        let s = rng.gen_range(0.8..0.94) * fw / w;
        let (cx, cy) = (
            fw / 2.0 + rng.gen_range(-30.0..30.0),
            fh / 2.0 + rng.gen_range(-20.0..20.0),
        );
        let j = 0.02 * w * s;
        let src = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
        let dst = src.map(|(x, y)| {
            (
                cx + (x - w / 2.0) * s + rng.gen_range(-j..j),
                cy + (y - h / 2.0) * s + rng.gen_range(-j..j),
            )
        });
        let fwd =
            Projection::from_control_points(src, dst).unwrap_or_else(|| Projection::scale(s, s));
        let base = [
            rng.gen_range(40..110u8),
            rng.gen_range(35..90u8),
            rng.gen_range(30..80u8),
        ];
        (fwd, fw as u32, fh as u32, Rgb(base))
    } else {
        let theta = rng.gen_range(-0.8f32..0.8).to_radians();
        let fwd = Projection::translate(-w / 2.0, -h / 2.0)
            .and_then(Projection::rotate(theta))
            .and_then(Projection::translate(w / 2.0 + 20.0, h / 2.0 + 20.0));
        let lid = rng.gen_range(230..252u8);
        (
            fwd,
            page.width() + 40,
            page.height() + 40,
            Rgb([lid, lid, lid]),
        )
    };
    let mut out = RgbImage::from_pixel(out_w, out_h, bg);
    // warp_into maps output pixels through the inverse of the projection it is given.
    let mut warped = RgbImage::from_pixel(out_w, out_h, Rgb([0, 0, 0]));
    warp_into(
        page,
        fwd,
        Interpolation::Bilinear,
        Border::Constant(Rgb([0, 0, 0])),
        &mut warped,
    );
    let inv = fwd.invert();
    let light = if photo {
        (rng.gen_range(0.85..1.0f32), rng.gen_range(-0.15..0.15f32))
    } else {
        (1.0, 0.0)
    };
    for (x, y, p) in out.enumerate_pixels_mut() {
        let (u, v) = inv * (x as f32 + 0.5, y as f32 + 0.5);
        if u >= 0.0 && v >= 0.0 && u < w && v < h {
            let k = light.0 * (1.0 + light.1 * (x as f32 / out_w as f32 - 0.5));
            let q = warped.get_pixel(x, y);
            *p = Rgb(q.0.map(|c| (f32::from(c) * k).clamp(0.0, 255.0) as u8));
        }
    }
    let blur = if photo {
        rng.gen_range(0.5..1.0)
    } else {
        rng.gen_range(0.3..0.6)
    };
    out = imageproc::filter::gaussian_blur_f32(&out, blur);
    let sigma = if photo {
        rng.gen_range(2.0..4.5)
    } else {
        rng.gen_range(0.8..2.0)
    };
    add_noise(&mut out, rng.gen(), sigma);
    (out, fwd)
}

pub(crate) fn region_of(fwd: &Projection, r: Rect, w: u32, h: u32) -> Region {
    tamper::map_rect(fwd, r.f(), 2.0, w, h)
}
