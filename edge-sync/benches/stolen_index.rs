//! Offline stolen-IMEI index benchmark: builds an index of N IMEIs (default 10 M), then in a
//! fresh child process per load mode measures lookup latency p50/p99 and the process's RSS
//! (VmRSS / VmHWM from /proc/self/status), then the delta apply rate (IMEIs per second, fsync and
//! compaction included).
//!
//! `cargo bench -p jachai-edge-sync --bench stolen_index [-- --keys N --queries Q --deltas D --delta-size S]`

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use jachai_edge_sync::index::{BaseBuilder, LoadMode, StolenIndex};
use jachai_protocol::stolen::{entry_digest, StolenDelta, StolenEntry};
use rand::{Rng as _, SeedableRng as _};

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn proc_status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .map(|l| l[field.len()..].trim().to_owned())
        })
        .unwrap_or_else(|| "?".into())
}

fn date(day: u32) -> String {
    format!(
        "20{:02}-{:02}-{:02}",
        20 + day / 336,
        1 + (day / 28) % 12,
        1 + day % 28
    )
}

fn location(i: u32) -> String {
    format!("Thana {i}, District {}", i % 64)
}

/// Realistic-looking IMEI bodies: 2 000 TACs (8 digits) with random 6-digit serials.
fn bodies(n: usize, seed: u64) -> Vec<u64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let tacs: Vec<u64> = (0..2000)
        .map(|_| rng.gen_range(10_000_000..99_999_999u64))
        .collect();
    let mut keys: Vec<u64> = (0..n + n / 20)
        .map(|_| tacs[rng.gen_range(0..tacs.len())] * 1_000_000 + rng.gen_range(0..1_000_000u64))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys.truncate(n);
    keys
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child-lookup") {
        child_lookup(&args[2..]);
        return;
    }
    let n = arg(&args, "--keys", 10_000_000) as usize;
    let queries = arg(&args, "--queries", 200_000) as usize;
    // 80 × 10 000 passes a 16th of 10 M, so the run includes a compaction into a new base.
    let deltas = arg(&args, "--deltas", 80) as usize;
    let delta_size = arg(&args, "--delta-size", 10_000) as usize;
    let dir = tempfile::tempdir().expect("tempdir");
    let index_dir = dir.path().join("stolen");

    let t = Instant::now();
    let keys = bodies(n, 1);
    let mut rng = rand::rngs::StdRng::seed_from_u64(2);
    let mut builder = BaseBuilder::new();
    for &k in &keys {
        let (day, loc) = (rng.gen_range(0..1500u32), rng.gen_range(0..650u32));
        builder
            .push(k, &date(day), &location(loc))
            .expect("ascending keys");
    }
    builder.write(&index_dir, 1).expect("write base");
    let size = std::fs::metadata(index_dir.join("base.idx"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "stolen index: {} IMEIs built in {:.1} s, base file {:.1} MB ({:.2} bytes/IMEI)",
        keys.len(),
        t.elapsed().as_secs_f64(),
        size as f64 / 1e6,
        size as f64 / keys.len().max(1) as f64
    );

    // Queries: half listed, half not (random bodies under the same TACs are nearly all absent).
    let mut qs = Vec::with_capacity(queries);
    let absent = bodies(queries, 3);
    for (i, &miss) in absent.iter().enumerate().take(queries) {
        qs.push(if i % 2 == 0 {
            keys[rng.gen_range(0..keys.len())]
        } else {
            miss
        });
    }
    let expected_hits = qs.iter().filter(|q| keys.binary_search(q).is_ok()).count();
    let qfile = dir.path().join("queries.bin");
    std::fs::write(
        &qfile,
        qs.iter().flat_map(|q| q.to_le_bytes()).collect::<Vec<u8>>(),
    )
    .expect("queries");
    drop(qs);
    drop(absent);
    let exe = std::env::current_exe().expect("own path");
    for mode in ["memory", "file"] {
        let out = Command::new(&exe)
            .args(["--child-lookup", mode])
            .arg(&index_dir)
            .arg(&qfile)
            .arg(expected_hits.to_string())
            .output()
            .expect("child runs");
        print!("{}", String::from_utf8_lossy(&out.stdout));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "lookup child failed");
    }

    // Delta apply rate: 90 % new IMEIs, 10 % removals of listed ones.
    drop(keys);
    let mut index = StolenIndex::open(&index_dir, LoadMode::Memory).expect("open");
    let fresh = bodies(deltas * delta_size, 4);
    let mut fresh = fresh.into_iter();
    let listed = bodies(n, 1);
    let mut applied = 0usize;
    let mut busy = Duration::ZERO;
    let mut slowest = Duration::ZERO;
    let mut compactions = 0;
    for _ in 0..deltas {
        let held = index.held();
        let mut hash = held.hash;
        let mut count = index.len();
        let mut added = Vec::new();
        let mut removed = Vec::new();
        for j in 0..delta_size {
            if j % 10 == 0 {
                let body = listed[rng.gen_range(0..listed.len())];
                if removed.contains(&body) {
                    continue;
                }
                if let Some(hit) = index.lookup(body).expect("lookup") {
                    hash.remove(&entry_digest(body, &hit.reported_at, &hit.theft_location));
                    count -= 1;
                    removed.push(body);
                }
            } else if let Some(body) = fresh.next() {
                if index.lookup(body).expect("lookup").is_some() {
                    continue;
                }
                let e = StolenEntry {
                    imei: jachai_protocol::imei::from_body(body).expect("14 digits"),
                    reported_at: date(1600),
                    theft_location: location(j as u32 % 650),
                };
                hash.add(&entry_digest(body, &e.reported_at, &e.theft_location));
                count += 1;
                added.push(e);
            }
        }
        let size = added.len() + removed.len();
        let delta = StolenDelta {
            version: held.version + 1,
            base_version: held.version,
            base_hash: held.hash.to_hex(),
            hash: hash.to_hex(),
            count,
            added,
            removed: removed
                .iter()
                .map(|b| jachai_protocol::imei::from_body(*b).expect("body"))
                .collect(),
            signed_at: 0,
        };
        let base_before = std::fs::metadata(index_dir.join("base.idx"))
            .and_then(|m| m.modified())
            .ok();
        let t = Instant::now();
        index.apply_delta(&delta).expect("delta applies");
        let took = t.elapsed();
        busy += took;
        slowest = slowest.max(took);
        applied += size;
        if std::fs::metadata(index_dir.join("base.idx"))
            .and_then(|m| m.modified())
            .ok()
            != base_before
        {
            compactions += 1;
        }
    }
    println!(
        "delta apply: {applied} IMEIs in {deltas} deltas of ~{delta_size} onto {} IMEIs: {:.0} IMEIs/s (fsync and {compactions} compaction(s) included; slowest delta {:.0} ms)",
        index.len(),
        applied as f64 / busy.as_secs_f64().max(1e-9),
        slowest.as_secs_f64() * 1e3
    );
    println!("parent process: VmHWM {}", proc_status("VmHWM:"));
}

fn child_lookup(args: &[String]) {
    let mode = if args[0] == "memory" {
        LoadMode::Memory
    } else {
        LoadMode::File
    };
    let dir = PathBuf::from(&args[1]);
    let qbytes = std::fs::read(Path::new(&args[2])).expect("queries");
    let expected: usize = args[3].parse().expect("expected hits");
    let qs: Vec<u64> = qbytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect();
    drop(qbytes);
    let t = Instant::now();
    let index = StolenIndex::open(&dir, mode).expect("open");
    let open = t.elapsed();
    let mut times = Vec::with_capacity(qs.len());
    let mut hits = 0usize;
    for &q in &qs {
        let t = Instant::now();
        let hit = index.lookup(q).expect("lookup");
        times.push(t.elapsed());
        hits += usize::from(hit.is_some());
    }
    assert_eq!(hits, expected, "every listed IMEI found, no absent one");
    times.sort_unstable();
    let pct = |p: f64| {
        times[((times.len() as f64 * p) as usize).min(times.len() - 1)].as_secs_f64() * 1e6
    };
    println!(
        "lookup ({:>6} mode): {} IMEIs, open {:.0} ms, {} lookups ({} hits): p50 {:.2} µs, p99 {:.2} µs, max {:.1} µs; VmRSS {}, VmHWM {}",
        args[0],
        index.len(),
        open.as_secs_f64() * 1e3,
        qs.len(),
        hits,
        pct(0.50),
        pct(0.99),
        times.last().map_or(0.0, |d| d.as_secs_f64() * 1e6),
        proc_status("VmRSS:"),
        proc_status("VmHWM:")
    );
}
