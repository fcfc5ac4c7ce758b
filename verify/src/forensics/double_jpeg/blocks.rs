//! The luma DCT blocks of a JPEG as stored (quantised integers on the file's own 8×8 grid),
//! and the 8×8 transforms the stage needs to go between blocks and pixels.

use crate::error::StageError;
use crate::forensics::blockmap::Plane;

use super::aligned::ShiftedBlocks;
use super::header::Header;

/// Quantised luma coefficients of every whole 8×8 block, natural order, row-major blocks.
#[derive(Debug, Clone)]
pub(crate) struct LumaBlocks {
    /// Blocks across and down (blocks cut by the right or bottom edge are dropped).
    pub bw: usize,
    pub bh: usize,
    pub coeffs: Vec<[i16; 64]>,
    /// The luma quantisation table, natural order.
    pub table: [u16; 64],
}

/// Read the luma blocks; `Err(reason)` when this stage cannot use the file.
pub(crate) fn read(bytes: &[u8], header: &Header) -> Result<LumaBlocks, StageError> {
    let table = *header.luma_table().ok_or(StageError::NotApplicable(
        "the JPEG has no luma quantisation table",
    ))?;
    if table.contains(&0) {
        return Err(StageError::NotApplicable(
            "the JPEG's quantisation table is damaged",
        ));
    }
    let comps = &header.components;
    let y = *comps.first().ok_or(StageError::NotApplicable(
        "the JPEG has no image components",
    ))?;
    if y.h == 0
        || y.v == 0
        || comps
            .iter()
            .any(|c| c.h == 0 || c.v == 0 || c.h > 4 || c.v > 4)
    {
        return Err(StageError::NotApplicable(
            "the JPEG's sampling factors are invalid",
        ));
    }
    // dct-io lays blocks out by interleaved MCU; a scan holding fewer components than the frame,
    // or a lone component with sampling other than 1×1, is not laid out that way.
    if header.scan_components != comps.len() || (comps.len() == 1 && (y.h, y.v) != (1, 1)) {
        return Err(StageError::NotApplicable(
            "the JPEG stores its colours in separate scans",
        ));
    }
    let coeffs = dct_io::read_coefficients(bytes).map_err(|e| match e {
        dct_io::DctError::Unsupported(_) => {
            StageError::NotApplicable("progressive, lossless or arithmetic-coded JPEG")
        }
        _ => StageError::NotApplicable("the JPEG's image data is damaged or truncated"),
    })?;
    let blocks = coeffs
        .components
        .into_iter()
        .next()
        .map(|c| c.blocks)
        .ok_or(StageError::NotApplicable("the JPEG has no luma blocks"))?;

    let (w, h) = (header.width as usize, header.height as usize);
    let hmax = usize::from(comps.iter().map(|c| c.h).max().unwrap_or(1));
    let vmax = usize::from(comps.iter().map(|c| c.v).max().unwrap_or(1));
    let (yh, yv) = (usize::from(y.h), usize::from(y.v));
    let mcu_cols = w.div_ceil(8 * hmax);
    let mcu_rows = h.div_ceil(8 * vmax);
    if blocks.len() != mcu_cols * mcu_rows * yh * yv {
        return Err(StageError::NotApplicable(
            "the JPEG's block layout is unexpected",
        ));
    }
    let (bw, bh) = (w / 8, h / 8);
    let mut out = vec![[0i16; 64]; bw * bh];
    for (i, block) in blocks.into_iter().enumerate() {
        let mcu = i / (yh * yv);
        let du = i % (yh * yv);
        let bx = (mcu % mcu_cols) * yh + du % yh;
        let by = (mcu / mcu_cols) * yv + du / yh;
        if bx < bw && by < bh {
            out[by * bw + bx] = block;
        }
    }
    Ok(LumaBlocks {
        bw,
        bh,
        coeffs: out,
        table,
    })
}

/// The orthonormal 8-point DCT-II basis: `BASIS[u][x]`. A hand-written separable 8×8 transform
/// (two 8×8 matrix products) beats setting up `rustdct` planners for blocks this small, and
/// matches the JPEG definition exactly.
fn basis() -> [[f32; 8]; 8] {
    let mut b = [[0.0f32; 8]; 8];
    for (u, row) in b.iter_mut().enumerate() {
        let c = if u == 0 { (0.125f32).sqrt() } else { 0.5 };
        for (x, v) in row.iter_mut().enumerate() {
            *v = c * (std::f32::consts::PI * (2 * x + 1) as f32 * u as f32 / 16.0).cos();
        }
    }
    b
}

/// 8×8 forward and inverse DCT with a cached basis.
#[derive(Debug, Clone)]
pub(crate) struct Dct8 {
    b: [[f32; 8]; 8],
}

impl Dct8 {
    pub fn new() -> Self {
        Dct8 { b: basis() }
    }

    /// Pixels (natural order, already level-shifted) → coefficients.
    pub fn forward(&self, px: &[f32; 64]) -> [f32; 64] {
        let b = &self.b;
        let mut tmp = [0.0f32; 64];
        // Rows: tmp[y][u] = Σx px[y][x]·b[u][x]
        for y in 0..8 {
            for u in 0..8 {
                tmp[y * 8 + u] = (0..8).map(|x| px[y * 8 + x] * b[u][x]).sum();
            }
        }
        let mut out = [0.0f32; 64];
        for v in 0..8 {
            for u in 0..8 {
                out[v * 8 + u] = (0..8).map(|y| tmp[y * 8 + u] * b[v][y]).sum();
            }
        }
        out
    }

    /// Coefficients (natural order) → level-shifted pixels.
    pub fn inverse(&self, co: &[f32; 64]) -> [f32; 64] {
        let b = &self.b;
        let mut tmp = [0.0f32; 64];
        // Rows: tmp[v][x] = Σu co[v][u]·b[u][x]
        for v in 0..8 {
            for x in 0..8 {
                tmp[v * 8 + x] = (0..8).map(|u| co[v * 8 + u] * b[u][x]).sum();
            }
        }
        let mut out = [0.0f32; 64];
        for y in 0..8 {
            for x in 0..8 {
                out[y * 8 + x] = (0..8).map(|v| tmp[v * 8 + x] * b[v][y]).sum();
            }
        }
        out
    }
}

impl LumaBlocks {
    /// De-quantised inverse DCT of block (`bx`, `by`): level-shifted pixels, rounded and
    /// clipped like a decoder's output.
    pub fn pixels(&self, dct: &Dct8, bx: usize, by: usize) -> [f32; 64] {
        let q = &self.coeffs[by * self.bw + bx];
        let mut co = [0.0f32; 64];
        for i in 0..64 {
            co[i] = f32::from(q[i]) * f32::from(self.table[i]);
        }
        let mut px = dct.inverse(&co);
        for v in &mut px {
            *v = (*v + 128.0).round().clamp(0.0, 255.0) - 128.0;
        }
        px
    }
}

/// Shifted blocks decoded on demand from the four stored blocks they overlap: the calibration
/// of images too large to decode whole.
#[derive(Debug)]
pub(crate) struct OnDemand<'a> {
    pub blocks: &'a LumaBlocks,
    pub dct: Dct8,
}

impl ShiftedBlocks for OnDemand<'_> {
    fn dims(&self) -> (usize, usize) {
        (
            self.blocks.bw.saturating_sub(1),
            self.blocks.bh.saturating_sub(1),
        )
    }

    fn block(&self, cx: usize, cy: usize) -> [f32; 64] {
        let mut quad = [[0.0f32; 64]; 4];
        for (i, q) in quad.iter_mut().enumerate() {
            *q = self.blocks.pixels(&self.dct, cx + i % 2, cy + i / 2);
        }
        let mut px = [0.0f32; 64];
        for y in 0..8 {
            for x in 0..8 {
                let (sx, sy) = (x + 4, y + 4);
                px[y * 8 + x] = quad[(sy / 8) * 2 + sx / 8][(sy % 8) * 8 + sx % 8];
            }
        }
        px
    }
}

/// Decoded luma of whole blocks (`bw·8` × `bh·8`), rounded and clipped like a decoder's output.
pub(crate) fn decode_luma(
    blocks: &LumaBlocks,
    deadline: &crate::deadline::Deadline,
) -> Result<Plane, StageError> {
    let dct = Dct8::new();
    let (w, h) = (blocks.bw * 8, blocks.bh * 8);
    let mut data = vec![0.0f32; w * h];
    for by in 0..blocks.bh {
        if by % 16 == 0 {
            deadline.check()?;
        }
        for bx in 0..blocks.bw {
            let px = blocks.pixels(&dct, bx, by);
            for y in 0..8 {
                let row = &mut data[(by * 8 + y) * w + bx * 8..][..8];
                for x in 0..8 {
                    row[x] = px[y * 8 + x] + 128.0;
                }
            }
        }
    }
    Ok(Plane { w, h, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dct_round_trips() {
        let d = Dct8::new();
        let mut px = [0.0f32; 64];
        for (i, p) in px.iter_mut().enumerate() {
            *p = ((i * 37) % 101) as f32 - 50.0;
        }
        let back = d.inverse(&d.forward(&px));
        for (a, b) in px.iter().zip(back.iter()) {
            assert!((a - b).abs() < 1e-3);
        }
        // A flat block has only a DC term, 8× its level.
        let flat = d.forward(&[10.0; 64]);
        assert!((flat[0] - 80.0).abs() < 1e-3);
        assert!(flat[1..].iter().all(|c| c.abs() < 1e-3));
    }
}
