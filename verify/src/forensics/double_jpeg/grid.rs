//! JPEG grid alignment per area: an earlier JPEG compression leaves 8-pixel segments on its
//! own grid almost free of the two highest DCT frequencies. Each row (and column) of each cell
//! votes for the phase (0–7) whose segment is smoothest; where one phase wins clearly,
//! the area carries blocking on a grid shifted from the file's own, so it was compressed before
//! it was placed here.

use crate::deadline::Deadline;
use crate::error::StageError;
use crate::forensics::blockmap::Plane;

/// Knobs of the grid detector.
#[derive(Debug, Clone)]
pub(crate) struct GridParams {
    /// Side of the square window, in 8×8 cells.
    pub window: usize,
    /// Segments whose high-frequency energy stays below this at every phase are flat and do
    /// not vote.
    pub min_energy: f32,
}

/// The shifted grid phase seen around one cell.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Phase {
    /// Column and row phase (0–7) that won most votes; 0 is the file's own grid.
    pub kx: u8,
    pub ky: u8,
    /// How far above chance the winners' votes are, as z-scores (binomial, p = 1/8).
    pub zx: f32,
    pub zy: f32,
    /// Winners' share of the votes.
    pub fx: f32,
    pub fy: f32,
}

/// Phases per cell (window centred on the cell), and for the whole image.
#[derive(Debug, Clone)]
pub(crate) struct GridMap {
    pub cw: usize,
    pub ch: usize,
    pub cells: Vec<Phase>,
    pub global: Phase,
}

/// Votes per cell: `[0]` counts voters, `[1..9]` the votes for phases 0–7; x then y.
type Votes = [u32; 18];

fn winner(v: &[u32]) -> (u8, f32, f32) {
    let n = v[0] as f32;
    let (k, best) = v[1..9]
        .iter()
        .enumerate()
        .fold((0, 0u32), |b, (i, &c)| if c > b.1 { (i, c) } else { b });
    if n < 1.0 {
        return (k as u8, 0.0, 0.0);
    }
    let p = 1.0 / 8.0;
    let z = (best as f32 - n * p) / (n * p * (1.0 - p)).sqrt();
    (k as u8, z, best as f32 / n)
}

fn phase(v: &Votes) -> Phase {
    let (kx, zx, fx) = winner(&v[..9]);
    let (ky, zy, fy) = winner(&v[9..]);
    Phase {
        kx,
        ky,
        zx,
        zy,
        fx,
        fy,
    }
}

/// The two highest 8-point DCT basis functions (u = 6, 7).
fn high_basis() -> [[f32; 8]; 2] {
    let mut b = [[0.0f32; 8]; 2];
    for (row, u) in b.iter_mut().zip([6.0f32, 7.0]) {
        for (x, v) in row.iter_mut().enumerate() {
            *v = 0.5 * (std::f32::consts::PI * (2 * x + 1) as f32 * u / 16.0).cos();
        }
    }
    b
}

/// The vote of one cell row (or column): the smoothest of its eight segments.
fn vote(e: &[f32; 8], min_energy: f32) -> Option<usize> {
    let (k, low, high) = (0..8).fold((0, f32::MAX, 0.0f32), |(k, lo, hi), i| {
        let v = e[i];
        (if v < lo { i } else { k }, lo.min(v), hi.max(v))
    });
    (high >= min_energy && low < 0.5 * high).then_some(k)
}

/// Votes per cell, then windowed phases.
pub(crate) fn analyse(
    luma: &Plane,
    p: &GridParams,
    deadline: &Deadline,
) -> Result<GridMap, StageError> {
    let (w, h) = (luma.w, luma.h);
    let (cw, ch) = (w / 8, h / 8);
    let n = cw * ch;
    let b = high_basis();
    let energy = |c6: f32, c7: f32| c6.abs() + c7.abs();
    let mut votes: Vec<Votes> = vec![[0; 18]; n];
    // Rows: segments starting at 8c + k, k = 0..7, that fit inside the image.
    for y in 0..ch * 8 {
        if y % 128 == 0 {
            deadline.check()?;
        }
        let row = &luma.data[y * w..(y + 1) * w];
        for cx in 0..cw {
            let mut e = [0.0f32; 8];
            if 8 * cx + 15 > w {
                continue;
            }
            for (k, slot) in e.iter_mut().enumerate() {
                let seg = &row[8 * cx + k..8 * cx + k + 8];
                let (c6, c7) = seg
                    .iter()
                    .zip(b[0].iter().zip(&b[1]))
                    .fold((0.0f32, 0.0f32), |(a, c), (&v, (&b6, &b7))| {
                        (a + v * b6, c + v * b7)
                    });
                *slot = energy(c6, c7);
            }
            if let Some(k) = vote(&e, p.min_energy) {
                let v = &mut votes[(y / 8) * cw + cx];
                v[0] += 1;
                v[1 + k] += 1;
            }
        }
    }
    // Columns: energies of the eight segments of one cell row, whole rows at a time.
    let mut e = vec![[0.0f32; 8]; w];
    let mut c6 = vec![0.0f32; w];
    let mut c7 = vec![0.0f32; w];
    for cy in 0..ch {
        if 8 * cy + 15 > h {
            break;
        }
        if cy % 16 == 0 {
            deadline.check()?;
        }
        for k in 0..8 {
            c6.iter_mut().for_each(|v| *v = 0.0);
            c7.iter_mut().for_each(|v| *v = 0.0);
            for (t, (&b6, &b7)) in b[0].iter().zip(&b[1]).enumerate() {
                let y = 8 * cy + k + t;
                let row = &luma.data[y * w..(y + 1) * w];
                for ((a6, a7), &v) in c6.iter_mut().zip(c7.iter_mut()).zip(row) {
                    *a6 += v * b6;
                    *a7 += v * b7;
                }
            }
            for ((ex, &a), &c) in e.iter_mut().zip(&c6).zip(&c7) {
                ex[k] = energy(a, c);
            }
        }
        for (x, ex) in e.iter().enumerate().take(cw * 8) {
            if let Some(k) = vote(ex, p.min_energy) {
                let v = &mut votes[cy * cw + x / 8];
                v[9] += 1;
                v[10 + k] += 1;
            }
        }
    }

    let mut total: Votes = [0; 18];
    for v in &votes {
        for (t, c) in total.iter_mut().zip(v) {
            *t += c;
        }
    }
    let global = phase(&total);

    // Integral image over cells, then a window around each cell.
    let iw = cw + 1;
    let mut integral: Vec<Votes> = vec![[0; 18]; iw * (ch + 1)];
    for cy in 0..ch {
        let mut run: Votes = [0; 18];
        for cx in 0..cw {
            for (r, c) in run.iter_mut().zip(&votes[cy * cw + cx]) {
                *r += c;
            }
            let up = integral[cy * iw + cx + 1];
            let dst = &mut integral[(cy + 1) * iw + cx + 1];
            for c in 0..18 {
                dst[c] = up[c] + run[c];
            }
        }
    }
    let half = p.window / 2;
    let mut cells = vec![Phase::default(); n];
    for cy in 0..ch {
        let (y0, y1) = (cy.saturating_sub(half), (cy + p.window - half).min(ch));
        for cx in 0..cw {
            let (x0, x1) = (cx.saturating_sub(half), (cx + p.window - half).min(cw));
            let mut s: Votes = [0; 18];
            for (c, v) in s.iter_mut().enumerate() {
                *v = integral[y1 * iw + x1][c] + integral[y0 * iw + x0][c]
                    - integral[y0 * iw + x1][c]
                    - integral[y1 * iw + x0][c];
            }
            cells[cy * cw + cx] = phase(&s);
        }
    }
    Ok(GridMap {
        cw,
        ch,
        cells,
        global,
    })
}
