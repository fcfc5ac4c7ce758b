//! Matching the image's keypoints against themselves with the generalised 2NN test (g2NN).
//!
//! For each keypoint the distances to all others are sorted, d1 ≤ d2 ≤ …, and every
//! neighbour k is a match while d_k / d_{k+1} < ratio (Amerini et al. 2011). That keeps all
//! copies of a region that was pasted several times, which the plain 2NN test would lose.

use rayon::prelude::*;

use super::sift::{Features, DESC_LEN};
use crate::deadline::Deadline;
use crate::error::StageError;

/// How many nearest neighbours each keypoint keeps for the g2NN test.
const K: usize = 8;

/// Rows matched between two deadline checks.
const ROWS_PER_CHECK: usize = 128;

/// A matched pair of keypoint indices, `a < b`.
pub type Pair = (usize, usize);

/// A descriptor widened to `i16` (so products pair up in SIMD multiply-adds).
type Wide = [i16; DESC_LEN];

/// Dot product in eight independent lanes, which the compiler turns into SIMD on x86-64 and
/// NEON alike.
#[inline]
fn dot(a: &Wide, b: &Wide) -> i32 {
    let mut acc = [0i32; 8];
    for (ca, cb) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for l in 0..8 {
            acc[l] += i32::from(ca[l]) * i32::from(cb[l]);
        }
    }
    acc.iter().sum()
}

/// The K nearest neighbours of keypoint `i` that lie at least `min_dist` pixels away, by
/// squared distance ‖a‖² + ‖b‖² − 2·a·b.
fn nearest(
    f: &Features,
    wide: &[Wide],
    norms: &[i32],
    i: usize,
    min_dist2: f32,
) -> ([(u32, usize); K], usize) {
    let mut best = [(u32::MAX, usize::MAX); K];
    let mut len = 0usize;
    let di = &wide[i];
    let ki = f.keypoints[i];
    for (j, dj) in wide.iter().enumerate() {
        let d = (norms[i] + norms[j] - 2 * dot(di, dj)).max(0) as u32;
        if len == K && d >= best[K - 1].0 {
            continue;
        }
        let kj = f.keypoints[j];
        let (dx, dy) = (ki.x - kj.x, ki.y - kj.y);
        if j == i || dx * dx + dy * dy < min_dist2 {
            continue;
        }
        // Insertion into the sorted list.
        let mut pos = len.min(K - 1);
        best[pos] = (d, j);
        while pos > 0 && best[pos - 1].0 > d {
            best.swap(pos - 1, pos);
            pos -= 1;
        }
        len = (len + 1).min(K);
    }
    (best, len)
}

/// All g2NN matches among `f`'s keypoints, each unordered pair once.
pub fn g2nn(
    f: &Features,
    ratio: f32,
    min_dist: f32,
    deadline: &Deadline,
) -> Result<Vec<Pair>, StageError> {
    let n = f.keypoints.len().min(f.descriptors.len() / DESC_LEN);
    let min_dist2 = min_dist * min_dist;
    let wide: Vec<Wide> = f
        .descriptors
        .chunks_exact(DESC_LEN)
        .take(n)
        .map(|d| {
            let mut w = [0i16; DESC_LEN];
            for (o, &v) in w.iter_mut().zip(d) {
                *o = i16::from(v);
            }
            w
        })
        .collect();
    let norms: Vec<i32> = wide.iter().map(|w| dot(w, w)).collect();
    let chunks: Vec<Vec<Pair>> = (0..n.div_ceil(ROWS_PER_CHECK))
        .into_par_iter()
        .map(|c| {
            deadline.check()?;
            let mut out = Vec::new();
            for i in c * ROWS_PER_CHECK..((c + 1) * ROWS_PER_CHECK).min(n) {
                let (best, len) = nearest(f, &wide, &norms, i, min_dist2);
                for k in 0..len.saturating_sub(1) {
                    let (d, d_next) = ((best[k].0 as f32).sqrt(), (best[k + 1].0 as f32).sqrt());
                    if d_next <= 0.0 || d / d_next >= ratio {
                        break;
                    }
                    let j = best[k].1;
                    out.push((i.min(j), i.max(j)));
                }
            }
            Ok(out)
        })
        .collect::<Result<_, StageError>>()?;
    let mut pairs: Vec<Pair> = chunks.into_iter().flatten().collect();
    pairs.sort_unstable();
    pairs.dedup();
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forensics::copy_move::sift::Keypoint;

    fn features(points: &[(f32, f32, u8)]) -> Features {
        let mut f = Features::default();
        for &(x, y, v) in points {
            f.keypoints.push(Keypoint {
                x,
                y,
                size: 4.0,
                angle: 0.0,
                response: 1.0,
            });
            let mut d = [0u8; DESC_LEN];
            d[usize::from(v) % DESC_LEN] = 200;
            d[(usize::from(v) * 7 + 3) % DESC_LEN] = 100;
            f.descriptors.extend_from_slice(&d);
        }
        f
    }

    #[test]
    fn identical_descriptors_far_apart_match() {
        let f = features(&[
            (10.0, 10.0, 1),
            (100.0, 10.0, 1),
            (50.0, 50.0, 9),
            (60.0, 90.0, 20),
        ]);
        let pairs = g2nn(&f, 0.5, 5.0, &Deadline::none()).expect("no deadline");
        assert_eq!(pairs, vec![(0, 1)]);
    }

    #[test]
    fn close_neighbours_are_not_matches() {
        let f = features(&[(10.0, 10.0, 1), (12.0, 10.0, 1), (50.0, 50.0, 9)]);
        let pairs = g2nn(&f, 0.5, 5.0, &Deadline::none()).expect("no deadline");
        assert!(pairs.is_empty());
    }

    #[test]
    fn empty_and_single() {
        let f = features(&[]);
        assert!(g2nn(&f, 0.5, 5.0, &Deadline::none())
            .expect("ok")
            .is_empty());
        let f = features(&[(1.0, 1.0, 3)]);
        assert!(g2nn(&f, 0.5, 5.0, &Deadline::none())
            .expect("ok")
            .is_empty());
    }
}
