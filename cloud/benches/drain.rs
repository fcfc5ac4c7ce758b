//! Backlog drain benchmark: a kiosk store with N cases (200 KB image each) recorded while offline, then
//! `jachai-sync` and `jachai-cloud` (release builds) started against a local Mosquitto (mTLS + ACL);
//! prints cases/s and MB/s until the kiosk's outbox is empty, then checks the cloud holds every case once.
//!
//! `cargo bench -p jachai-cloud --bench drain` (N = 10 000; `JACHAI_DRAIN_CASES` overrides it).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::kiosk::{verify_cloud, Kiosk};
use common::procs::Site;
use jachai_testkit::Broker;

const IMAGE: usize = 200_000;

fn main() {
    let n: usize = std::env::var("JACHAI_DRAIN_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let broker = Broker::start().expect("broker");
    let site = Site::new(None);
    let mut kiosk = Kiosk::open(&site);
    let t = Instant::now();
    kiosk.record(n, IMAGE);
    let record = t.elapsed();
    println!(
        "drain: recorded {n} cases x {IMAGE} B on the kiosk in {:.1} s ({:.0} cases/s)",
        record.as_secs_f64(),
        n as f64 / record.as_secs_f64()
    );
    let mut cloud = site.cloud(&broker, "cloud-1");
    let mut sync = site.sync(&broker);
    let took = kiosk.wait_drained(Duration::from_secs(3600), &mut [&mut cloud, &mut sync]);
    let secs = took.as_secs_f64();
    let mb = (n * IMAGE) as f64 / 1e6;
    println!(
        "drain: {n} cases ({mb:.0} MB of images) through Mosquitto in {secs:.1} s: {:.0} cases/s, {:.1} MB/s (target >= 200 cases/s)",
        n as f64 / secs,
        mb / secs
    );
    sync.term(Duration::from_secs(10));
    cloud.term(Duration::from_secs(10));
    let t = Instant::now();
    verify_cloud(&site, &kiosk.recorded);
    println!(
        "drain: verified {n} cases in the cloud (0 lost, 0 duplicated, images intact) in {:.1} s",
        t.elapsed().as_secs_f64()
    );
}
