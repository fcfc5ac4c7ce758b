//! E-13B glyphs: cutting a prepared MICR line into glyph cells and a nearest-prototype classifier
//! that gives a second opinion on each cell.
//!
//! E-13B is printed on a fixed pitch and every glyph fits in one cell, but the four symbols are
//! made of separate bars and blocks. Cells are therefore found from the column projection: runs
//! of inked columns are joined left to right while the joined span stays within
//! [`MAX_SPAN`] glyph heights (a glyph is at most about 0.8 of its height wide, the gap to the
//! next glyph keeps two neighbours apart). A run wider than [`WIDE_SPAN`] heights is glyphs that
//! touch; such a cell gets no second opinion.
//!
//! Each cell becomes a [`DIMS`]-value feature vector: ink coverage on a 16×16 grid over a square
//! frame (the line's glyph band vertically, one glyph height centred on the cell horizontally),
//! plus the cell's width. The [`Classifier`] holds a few k-means prototypes per class, learnt
//! from labelled lines (`examples/build_e13b_glyphs.rs`), and answers the nearest class with a
//! margin: how much farther the nearest prototype of any other class is.

use image::GrayImage;

/// The transcript alphabet of `../shared/data/e13b`: digits, then transit, amount, on-us, dash.
pub const ALPHABET: &[u8; 14] = b"0123456789ABCD";

/// Grid cells per side of the feature frame.
const GRID: usize = 16;
/// Feature length: the grid plus the cell width.
pub const DIMS: usize = GRID * GRID + 1;
/// Runs are joined into one cell while the cell spans at most this many glyph heights.
pub const MAX_SPAN: f32 = 0.85;
/// A cell wider than this many glyph heights is touching glyphs (no second opinion).
pub const WIDE_SPAN: f32 = 1.15;

/// One glyph cell on a prepared line: columns `x0..x1`, rows `y0..y1` (its own ink).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    pub x0: u32,
    pub x1: u32,
    pub y0: u32,
    pub y1: u32,
    /// Touching glyphs or a smear: too wide for one glyph.
    pub wide: bool,
}

impl Cell {
    pub fn centre_x(&self) -> f32 {
        (self.x0 + self.x1) as f32 / 2.0
    }
}

/// Cut a binary line (`ink` true = ink, `w`×`h`) whose glyphs are `glyph_h` pixels tall into cells.
pub fn cells(ink: &[bool], w: usize, h: usize, glyph_h: f32) -> Vec<Cell> {
    let mut col = vec![0u32; w];
    for row in ink.chunks(w.max(1)).take(h) {
        for (c, &v) in col.iter_mut().zip(row) {
            *c += u32::from(v);
        }
    }
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut x = 0;
    while x < w {
        if col[x] > 0 {
            let start = x;
            while x < w && col[x] > 0 {
                x += 1;
            }
            runs.push((start, x));
        } else {
            x += 1;
        }
    }
    let max_span = (MAX_SPAN * glyph_h).max(1.0);
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for (a, b) in runs {
        match spans.last_mut() {
            Some(last) if (b - last.0) as f32 <= max_span => last.1 = b,
            _ => spans.push((a, b)),
        }
    }
    spans
        .into_iter()
        .map(|(x0, x1)| {
            let (mut y0, mut y1) = (h, 0);
            for y in 0..h {
                if ink[y * w + x0..y * w + x1].iter().any(|&v| v) {
                    y0 = y0.min(y);
                    y1 = y + 1;
                }
            }
            Cell {
                x0: x0 as u32,
                x1: x1 as u32,
                y0: y0.min(y1) as u32,
                y1: y1 as u32,
                wide: (x1 - x0) as f32 > WIDE_SPAN * glyph_h,
            }
        })
        .collect()
}

/// The feature vector of `cell`: ink coverage over a square frame whose rows are the glyph band
/// `band_top..band_bottom` and whose columns are one band height centred on the cell.
pub fn features(ink: &[bool], w: usize, h: usize, cell: &Cell, band: (f32, f32)) -> [f32; DIMS] {
    let mut f = [0f32; DIMS];
    let (top, bottom) = band;
    let side = (bottom - top).max(1.0);
    let left = cell.centre_x() - side / 2.0;
    let step = side / GRID as f32;
    // 3×3 samples per grid cell.
    const SUB: usize = 3;
    for gy in 0..GRID {
        for gx in 0..GRID {
            let mut n = 0u32;
            for sy in 0..SUB {
                let y = top + step * (gy as f32 + (sy as f32 + 0.5) / SUB as f32);
                for sx in 0..SUB {
                    let x = left + step * (gx as f32 + (sx as f32 + 0.5) / SUB as f32);
                    if x < cell.x0 as f32 || x >= cell.x1 as f32 || x < 0.0 || y < 0.0 {
                        continue;
                    }
                    let (xi, yi) = (x as usize, y as usize);
                    if xi < w && yi < h && ink[yi * w + xi] {
                        n += 1;
                    }
                }
            }
            f[gy * GRID + gx] = n as f32 / (SUB * SUB) as f32;
        }
    }
    f[DIMS - 1] = 2.0 * (cell.x1 - cell.x0) as f32 / side;
    f
}

/// The classifier's answer for one cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Guess {
    /// A byte of [`ALPHABET`].
    pub ch: u8,
    /// Squared distance to the nearest prototype.
    pub dist: f32,
    /// Squared distance to the nearest prototype of another class divided by `dist`
    /// (large = sure).
    pub margin: f32,
}

/// Why a glyph model could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("not an E-13B glyph model (bad header)")]
    BadHeader,
    #[error("the glyph model is truncated")]
    Truncated,
    #[error("the glyph model names a class outside the alphabet")]
    BadClass,
}

/// Nearest-prototype classifier over [`features`].
#[derive(Debug, Clone, PartialEq)]
pub struct Classifier {
    labels: Vec<u8>,
    protos: Vec<[f32; DIMS]>,
}

const MAGIC: &[u8; 8] = b"E13BGLY1";

/// The model built from `../shared/data/e13b/lines` by `examples/build_e13b_glyphs.rs`.
static BUILT_IN: &[u8] = include_bytes!("../../data/e13b-glyphs.bin");

impl Classifier {
    /// The model shipped with the crate.
    pub fn built_in() -> Result<Classifier, ModelError> {
        Classifier::from_bytes(BUILT_IN)
    }

    /// Learn `per_class` k-means prototypes for each class from labelled samples.
    pub fn train(samples: &[(u8, [f32; DIMS])], per_class: usize) -> Classifier {
        let mut labels = Vec::new();
        let mut protos = Vec::new();
        for &ch in ALPHABET {
            let xs: Vec<&[f32; DIMS]> = samples
                .iter()
                .filter(|(c, _)| *c == ch)
                .map(|(_, f)| f)
                .collect();
            for p in kmeans(&xs, per_class) {
                labels.push(ch);
                protos.push(p);
            }
        }
        Classifier { labels, protos }
    }

    pub fn is_empty(&self) -> bool {
        self.protos.is_empty()
    }

    /// The nearest class for a feature vector; `None` for an empty model.
    pub fn classify(&self, f: &[f32; DIMS]) -> Option<Guess> {
        let mut best: Option<(f32, u8)> = None;
        for (p, &l) in self.protos.iter().zip(&self.labels) {
            let d = dist2(p, f);
            if best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, l));
            }
        }
        let (d1, ch) = best?;
        let d2 = self
            .protos
            .iter()
            .zip(&self.labels)
            .filter(|(_, &l)| l != ch)
            .map(|(p, _)| dist2(p, f))
            .fold(f32::INFINITY, f32::min);
        Some(Guess {
            ch,
            dist: d1,
            margin: d2 / d1.max(1e-3),
        })
    }

    /// Compact form: header, count, then per prototype its class and each value as a byte.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&(self.protos.len() as u32).to_le_bytes());
        for (p, &l) in self.protos.iter().zip(&self.labels) {
            out.push(l);
            out.extend(p.iter().map(|v| quantise(*v)));
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Classifier, ModelError> {
        let rest = bytes.strip_prefix(MAGIC).ok_or(ModelError::BadHeader)?;
        let (n, mut rest) = rest.split_at_checked(4).ok_or(ModelError::Truncated)?;
        let n = u32::from_le_bytes([n[0], n[1], n[2], n[3]]) as usize;
        let mut labels = Vec::with_capacity(n.min(1 << 16));
        let mut protos = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            let (rec, tail) = rest
                .split_at_checked(1 + DIMS)
                .ok_or(ModelError::Truncated)?;
            rest = tail;
            if !ALPHABET.contains(&rec[0]) {
                return Err(ModelError::BadClass);
            }
            labels.push(rec[0]);
            let mut p = [0f32; DIMS];
            for (v, &b) in p.iter_mut().zip(&rec[1..]) {
                *v = dequantise(b);
            }
            protos.push(p);
        }
        Ok(Classifier { labels, protos })
    }
}

/// Features lie in 0..=1 (coverage) or 0..=4 (width); one byte each, 1/60 steps.
fn quantise(v: f32) -> u8 {
    (v.clamp(0.0, 4.25) * 60.0).round() as u8
}

fn dequantise(b: u8) -> f32 {
    f32::from(b) / 60.0
}

fn dist2(a: &[f32; DIMS], b: &[f32; DIMS]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// `k` centroids of `xs` (Lloyd's algorithm, deterministic spread-out start, 12 rounds);
/// fewer when there are fewer samples.
fn kmeans(xs: &[&[f32; DIMS]], k: usize) -> Vec<[f32; DIMS]> {
    if xs.is_empty() || k == 0 {
        return Vec::new();
    }
    let k = k.min(xs.len());
    let mut cents: Vec<[f32; DIMS]> = (0..k).map(|i| *xs[i * xs.len() / k]).collect();
    let mut assign = vec![0usize; xs.len()];
    for _ in 0..12 {
        for (a, x) in assign.iter_mut().zip(xs) {
            *a = cents
                .iter()
                .enumerate()
                .map(|(i, c)| (i, dist2(c, x)))
                .fold((0, f32::INFINITY), |b, c| if c.1 < b.1 { c } else { b })
                .0;
        }
        let mut sums = vec![[0f32; DIMS]; k];
        let mut counts = vec![0u32; k];
        for (a, x) in assign.iter().zip(xs) {
            counts[*a] += 1;
            for (s, v) in sums[*a].iter_mut().zip(x.iter()) {
                *s += v;
            }
        }
        for ((c, s), n) in cents.iter_mut().zip(&sums).zip(&counts) {
            if *n > 0 {
                for (cv, sv) in c.iter_mut().zip(s) {
                    *cv = sv / *n as f32;
                }
            }
        }
    }
    cents
}

/// Convenience for tests and tools: a binary mask from a grey image (true = ink below `t`).
pub fn mask(gray: &GrayImage, t: u8) -> Vec<bool> {
    gray.as_raw().iter().map(|&v| v < t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(ink: &mut [bool], w: usize, x0: usize, x1: usize, y0: usize, y1: usize) {
        for y in y0..y1 {
            for x in x0..x1 {
                ink[y * w + x] = true;
            }
        }
    }

    #[test]
    fn symbol_parts_join_and_glyphs_stay_apart() {
        let (w, h) = (120, 40);
        let mut ink = vec![false; w * h];
        // A "transit"-like symbol: a bar and two blocks to its right, gaps inside.
        bar(&mut ink, w, 5, 9, 5, 35);
        bar(&mut ink, w, 14, 22, 5, 12);
        bar(&mut ink, w, 14, 22, 28, 35);
        // A digit-like block one pitch later, and one far on.
        bar(&mut ink, w, 36, 54, 5, 35);
        bar(&mut ink, w, 70, 110, 5, 35);
        let c = cells(&ink, w, h, 30.0);
        assert_eq!(c.len(), 3, "{c:?}");
        assert_eq!((c[0].x0, c[0].x1), (5, 22));
        assert_eq!((c[1].x0, c[1].x1, c[1].y0, c[1].y1), (36, 54, 5, 35));
        assert!(!c[0].wide && !c[1].wide);
        assert!(c[2].wide);
    }

    #[test]
    fn model_round_trips_and_refuses_garbage() {
        let mut a = [0f32; DIMS];
        a[0] = 1.0;
        let mut b = [0f32; DIMS];
        b[DIMS - 2] = 1.0;
        let samples = vec![(b'1', a), (b'1', a), (b'A', b)];
        let m = Classifier::train(&samples, 4);
        let back = Classifier::from_bytes(&m.to_bytes()).expect("own bytes read back");
        assert_eq!(back, m);
        assert_eq!(m.classify(&a).map(|g| g.ch), Some(b'1'));
        assert_eq!(m.classify(&b).map(|g| g.ch), Some(b'A'));
        assert_eq!(
            Classifier::from_bytes(b"nonsense"),
            Err(ModelError::BadHeader)
        );
        let bytes = m.to_bytes();
        assert_eq!(
            Classifier::from_bytes(&bytes[..bytes.len() - 1]),
            Err(ModelError::Truncated)
        );
    }

    #[test]
    fn built_in_model_loads() {
        let m = Classifier::built_in().expect("the shipped model reads");
        assert!(!m.is_empty());
    }
}
