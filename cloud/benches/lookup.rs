//! Lookup benchmark with wrk: `GET /api/v1/lookup` (a database read) against the trivial `GET /livez` of
//! the same server in the same run — requests/s and p99 — with 10 000 IMEIs in the stolen index.
//! Targets: lookup throughput ≥ 0.5× the trivial route's, lookup p99 ≤ 10 ms.
//!
//! `cargo bench -p jachai-cloud --bench lookup` (SQLite; `JACHAI_LOOKUP_DB=postgres` with
//! `JACHAI_TEST_PG_URL` for PostgreSQL; `JACHAI_LOOKUP_SECS`, `JACHAI_LOOKUP_CONNS` change the run).

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::Command as Proc;

use jachai_cloud::Command;
use jachai_protocol::stolen::StolenEntry;
use tokio::sync::oneshot;

/// What wrk measured.
#[derive(Debug, Clone, Copy)]
struct Run {
    rps: f64,
    p99_ms: f64,
    errors: u64,
}

/// `1.23ms`, `456.00us`, `1.01s` → milliseconds.
fn millis(v: &str) -> Option<f64> {
    let (num, factor) = if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    num.parse::<f64>().ok().map(|x| x * factor)
}

fn parse(out: &str) -> Option<Run> {
    let mut rps = None;
    let mut p99 = None;
    let mut errors = 0;
    for line in out.lines() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("Requests/sec:") {
            rps = v.trim().parse().ok();
        } else if let Some(v) = t.strip_prefix("99%") {
            p99 = millis(v.trim());
        } else if let Some(v) = t.strip_prefix("Non-2xx or 3xx responses:") {
            errors += v.trim().parse::<u64>().unwrap_or(0);
        } else if t.starts_with("Socket errors:") {
            errors += t
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    Some(Run {
        rps: rps?,
        p99_ms: p99?,
        errors,
    })
}

fn wrk(url: &str, secs: u64, conns: u64) -> Run {
    let out = Proc::new("wrk")
        .args([
            "-t2",
            &format!("-c{conns}"),
            &format!("-d{secs}s"),
            "--latency",
            url,
        ])
        .output()
        .expect("wrk (Debian package `wrk`, installed by scripts/env.sh)");
    let text = String::from_utf8_lossy(&out.stdout);
    parse(&text).unwrap_or_else(|| panic!("cannot read wrk's output:\n{text}"))
}

fn main() {
    let secs: u64 = std::env::var("JACHAI_LOOKUP_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let conns: u64 = std::env::var("JACHAI_LOOKUP_CONNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut dbs = common::databases().await;
        let db = if std::env::var("JACHAI_LOOKUP_DB").as_deref() == Ok("postgres") {
            dbs.pop().filter(|d| d.label == "postgres").expect("JACHAI_TEST_PG_URL for PostgreSQL")
        } else {
            dbs.remove(0)
        };
        let s = common::http::start(&db, "api_per_minute = 1000000000").await;
        // 10 000 stolen IMEIs (valid Luhn digits), in one version.
        let added: Vec<StolenEntry> = (0..10_000u64)
            .filter_map(|i| jachai_protocol::imei::from_body(35_000_000_000_000 + i * 7919))
            .map(|imei| StolenEntry {
                imei,
                reported_at: "2026-11-30".into(),
                theft_location: "Mirpur, Dhaka".into(),
            })
            .collect();
        let probe = added[4321].imei.clone();
        let (done, reply) = oneshot::channel();
        s.commands
            .send(Command::Stolen { added, removed: vec![], done })
            .await
            .expect("send");
        reply.await.expect("reply").expect("index seeded");
        let lookup_url = s.url(&format!("/api/v1/lookup?imei={probe}"));
        let body = s.http.get(&lookup_url).send().await.expect("lookup").text().await.expect("body");
        assert!(body.contains("\"stolen\""), "{body}");
        let trivial_url = s.url("/livez");
        let (trivial, lookup) = tokio::task::spawn_blocking(move || {
            // Warm both up, then measure each for the same time.
            wrk(&trivial_url, 1, conns);
            wrk(&lookup_url, 1, conns);
            (wrk(&trivial_url, secs, conns), wrk(&lookup_url, secs, conns))
        })
        .await
        .expect("wrk runs");
        let ratio = lookup.rps / trivial.rps;
        println!(
            "lookup bench ({}, {secs} s per route, {conns} connections, 2 wrk threads, 10 000 stolen IMEIs)",
            db.label
        );
        println!(
            "  GET /livez (trivial)      {:>10.0} req/s   p99 {:>7.2} ms   errors {}",
            trivial.rps, trivial.p99_ms, trivial.errors
        );
        println!(
            "  GET /api/v1/lookup        {:>10.0} req/s   p99 {:>7.2} ms   errors {}",
            lookup.rps, lookup.p99_ms, lookup.errors
        );
        println!(
            "  lookup/trivial throughput {ratio:.2}x (target >= 0.5x: {}), lookup p99 {:.2} ms (target <= 10 ms: {})",
            if ratio >= 0.5 { "met" } else { "NOT met" },
            lookup.p99_ms,
            if lookup.p99_ms <= 10.0 { "met" } else { "NOT met" }
        );
        s.stop().await;
        db.drop_db().await;
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_wrk_output() {
        let out = "Running 10s test\n  Latency Distribution\n     50%  400.00us\n     99%    2.50ms\n  12345 requests in 10.00s\nRequests/sec:   1234.50\n";
        let r = super::parse(out).expect("parsed");
        assert_eq!(r.rps, 1234.5);
        assert_eq!(r.p99_ms, 2.5);
        assert_eq!(super::millis("1.5s"), Some(1500.0));
    }
}
