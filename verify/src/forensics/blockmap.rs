//! Shared helpers for the pixel-forensic stages: luma planes, per-block maps, robust statistics
//! and connected regions of flagged blocks.

use image::RgbImage;

use crate::report::Region;

/// A single-channel image in `f32`, row-major.
#[derive(Debug, Clone)]
pub(crate) struct Plane {
    pub w: usize,
    pub h: usize,
    pub data: Vec<f32>,
}

impl Plane {
    /// The JFIF luma (Y of YCbCr) of `img`, the channel a JPEG encoder quantises most finely.
    pub fn luma(img: &RgbImage) -> Plane {
        let data = img
            .pixels()
            .map(|p| 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]))
            .collect();
        Plane {
            w: img.width() as usize,
            h: img.height() as usize,
            data,
        }
    }

    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.w + x]
    }
}

/// Values laid out on a grid of `block`×`block` pixel cells; cells past the image edge are
/// dropped, so `bw = w / block`.
#[derive(Debug, Clone)]
pub(crate) struct BlockMap {
    pub bw: usize,
    pub bh: usize,
    pub block: usize,
    pub values: Vec<f32>,
}

impl BlockMap {
    pub fn new(bw: usize, bh: usize, block: usize) -> BlockMap {
        BlockMap {
            bw,
            bh,
            block,
            values: vec![0.0; bw * bh],
        }
    }

    /// Mean of each cell of `plane`.
    pub fn mean_of(plane: &Plane, block: usize) -> BlockMap {
        let bw = plane.w / block;
        let bh = plane.h / block;
        let mut map = BlockMap::new(bw, bh, block);
        let norm = 1.0 / (block * block) as f32;
        for by in 0..bh {
            for y in by * block..(by + 1) * block {
                let row = &plane.data[y * plane.w..(y + 1) * plane.w];
                for bx in 0..bw {
                    let s: f32 = row[bx * block..(bx + 1) * block].iter().sum();
                    map.values[by * bw + bx] += s * norm;
                }
            }
        }
        map
    }

    /// The 3×3 neighbourhood mean of every cell (edges use the cells that exist).
    pub fn smoothed(&self) -> BlockMap {
        let mut out = BlockMap::new(self.bw, self.bh, self.block);
        for by in 0..self.bh {
            for bx in 0..self.bw {
                let mut s = 0.0;
                let mut n = 0.0;
                for y in by.saturating_sub(1)..(by + 2).min(self.bh) {
                    for x in bx.saturating_sub(1)..(bx + 2).min(self.bw) {
                        s += self.values[y * self.bw + x];
                        n += 1.0;
                    }
                }
                out.values[by * self.bw + bx] = s / n;
            }
        }
        out
    }
}

/// Median of `v` (reorders it); 0 for an empty slice.
pub(crate) fn median(v: &mut [f32]) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f32::total_cmp);
    *m
}

/// Median and scaled median absolute deviation (≈ σ for Gaussian data) of `v`.
pub(crate) fn median_mad(v: &[f32]) -> (f32, f32) {
    let mut tmp = v.to_vec();
    let med = median(&mut tmp);
    for x in &mut tmp {
        *x = (*x - med).abs();
    }
    (med, 1.4826 * median(&mut tmp))
}

/// One 8-connected group of flagged cells.
#[derive(Debug, Clone)]
pub(crate) struct Component {
    pub cells: Vec<usize>,
    /// Bounding box in cells: x0, y0, x1, y1 (exclusive).
    pub bbox: (usize, usize, usize, usize),
}

impl Component {
    /// The bounding box in pixels, clipped to a `w`×`h` image.
    pub fn region(&self, block: usize, w: u32, h: u32) -> Region {
        let px = |c: usize, lim: u32| u32::try_from(c * block).unwrap_or(u32::MAX).min(lim);
        let (x0, y0, x1, y1) = self.bbox;
        let (x0, y0) = (px(x0, w), px(y0, h));
        let (x1, y1) = (px(x1, w), px(y1, h));
        Region::new(x0, y0, x1 - x0, y1 - y0)
    }

    /// Mean of `values` over the component's cells.
    pub fn mean(&self, values: &[f32]) -> f32 {
        if self.cells.is_empty() {
            return 0.0;
        }
        self.cells.iter().map(|&i| values[i]).sum::<f32>() / self.cells.len() as f32
    }
}

/// 8-connected components of the `true` cells of a `bw`×`bh` mask.
pub(crate) fn components(mask: &[bool], bw: usize, bh: usize) -> Vec<Component> {
    let mut seen = vec![false; mask.len()];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..mask.len().min(bw * bh) {
        if !mask[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut cells = Vec::new();
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        while let Some(i) = stack.pop() {
            cells.push(i);
            let (x, y) = (i % bw, i / bw);
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x + 1);
            y1 = y1.max(y + 1);
            for ny in y.saturating_sub(1)..(y + 2).min(bh) {
                for nx in x.saturating_sub(1)..(x + 2).min(bw) {
                    let j = ny * bw + nx;
                    if mask[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        out.push(Component {
            cells,
            bbox: (x0, y0, x1, y1),
        });
    }
    out
}

/// Points for a finding: `min` at `strength` 0, rising linearly to `max` at `strength` 1.
pub(crate) fn scaled_points(strength: f32, min: u32, max: u32) -> u32 {
    let s = strength.clamp(0.0, 1.0);
    let p = min as f32 + s * (max.saturating_sub(min)) as f32;
    (p.round() as u32).clamp(min, max)
}

/// `value[i]` minus the median `value` of the cells whose `key` is similar: cells are ranked by
/// `key` and cut into twelve equal bins. Cells with `use_cell[i] == false` get 0 and do not
/// count towards the medians.
pub(crate) fn residual_by_bins(value: &[f32], key: &[f32], use_cell: Option<&[bool]>) -> Vec<f32> {
    const BINS: usize = 12;
    let usable = |i: usize| use_cell.is_none_or(|u| u.get(i).copied().unwrap_or(false));
    let mut order: Vec<usize> = (0..value.len().min(key.len()))
        .filter(|&i| usable(i))
        .collect();
    order.sort_by(|&a, &b| key[a].total_cmp(&key[b]));
    let n = order.len();
    let mut out = vec![0.0; value.len()];
    let bins = BINS.min(n.max(1));
    for b in 0..bins {
        let lo = b * n / bins;
        let hi = ((b + 1) * n / bins).min(n);
        if lo >= hi {
            continue;
        }
        let mut vals: Vec<f32> = order[lo..hi].iter().map(|&i| value[i]).collect();
        let expect = median(&mut vals);
        for &i in &order[lo..hi] {
            out[i] = value[i] - expect;
        }
    }
    out
}
