//! Perceptual-hash index bench (issue 9: "an index of 100 000 hashes answers a near-duplicate
//! lookup in ≤ 1 ms"). Builds `verify::scam::HashIndex` over 100 000 64-bit hashes and times
//! near-duplicate lookups (radius 10 bits) against a linear scan of the same hashes, in the same
//! run, checking that both give the same answer.
//!
//! Two hash sets: uniform random hashes, and a clustered set (10 000 originals with 9 near
//! copies each, 1 to 6 bits flipped, as re-shared screenshots give) whose crowded buckets are
//! harder on the index. Half the queries are near copies of an indexed hash (1 to 8 bits off),
//! half are unrelated.
//!
//! `cargo bench -p jachai-verify --bench phash_index` (options after `--`: `--n N` hashes,
//! `--queries Q`, `--radius R`).

use std::time::{Duration, Instant};

use verify::scam::HashIndex;

/// SplitMix64: a small, well-mixed generator, so that runs are repeatable without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// `h` with `bits` distinct bits flipped.
    fn flip(&mut self, mut h: u64, bits: u32) -> u64 {
        let orig = h;
        while (h ^ orig).count_ones() < bits {
            h ^= 1 << self.below(64);
        }
        h
    }
}

fn args() -> (usize, usize, u32) {
    let (mut n, mut q, mut r) = (100_000, 2_000, 10);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
    };
    n = value("--n").unwrap_or(n);
    q = value("--queries").unwrap_or(q);
    r = value("--radius").map_or(r, |v: usize| u32::try_from(v).unwrap_or(r));
    (n, q, r)
}

fn stats(mut t: Vec<Duration>) -> String {
    t.sort_unstable();
    let at = |p: f64| {
        let i = ((t.len() as f64 - 1.0) * p).round() as usize;
        t.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    format!(
        "median {:.4} ms  p99 {:.4} ms  max {:.4} ms",
        at(0.5),
        at(0.99),
        at(1.0)
    )
}

fn run(name: &str, hashes: &[u64], queries: &[u64], radius: u32) {
    let t0 = Instant::now();
    let index = HashIndex::from_hashes(hashes.iter().copied());
    let build = t0.elapsed();
    let (mut t_index, mut t_linear) = (Vec::new(), Vec::new());
    let mut found = 0usize;
    for &q in queries {
        let t = Instant::now();
        let a = index.within(q, radius);
        t_index.push(t.elapsed());
        let t = Instant::now();
        let b = index.within_linear(q, radius);
        t_linear.push(t.elapsed());
        assert_eq!(a, b, "index and linear scan disagree on {q:016x}");
        found += usize::from(!a.is_empty());
    }
    println!(
        "{name}: {} hashes, built in {:.1} ms; {} queries at radius {radius}, {found} with a near duplicate",
        index.len(),
        build.as_secs_f64() * 1e3,
        queries.len()
    );
    println!("  multi-index lookup  {}", stats(t_index));
    println!("  linear scan         {}", stats(t_linear));
}

fn main() {
    let (n, q, radius) = args();
    let mut rng = Rng(0x5CA1_1AB1_E000_0009);

    let uniform: Vec<u64> = (0..n).map(|_| rng.next()).collect();
    let mut clustered = Vec::with_capacity(n);
    while clustered.len() < n {
        let base = rng.next();
        clustered.push(base);
        for _ in 0..9 {
            if clustered.len() < n {
                let bits = 1 + rng.below(6) as u32;
                clustered.push(rng.flip(base, bits));
            }
        }
    }
    for (name, hashes) in [("uniform", &uniform), ("clustered", &clustered)] {
        let queries: Vec<u64> = (0..q)
            .map(|i| {
                if i % 2 == 0 {
                    let h = hashes[rng.below(hashes.len() as u64) as usize];
                    let bits = 1 + rng.below(8) as u32;
                    rng.flip(h, bits)
                } else {
                    rng.next()
                }
            })
            .collect();
        run(name, hashes, &queries, radius);
    }
    println!("target: near-duplicate lookup ≤ 1 ms at 100 000 hashes (issue 9)");
}
