//! End to end: a real Mosquitto (mTLS + the repo's ACL) on a free port, the `jachai-cloud` binary and the
//! kiosk's `jachai-sync` binary with a real kiosk store. Nothing lost, nothing duplicated: in a plain sync,
//! across kill -9 of either daemon at random points, and across a broker outage.

mod common;

use std::time::{Duration, Instant};

use common::kiosk::{verify_cloud, Kiosk};
use common::procs::Site;
use jachai_testkit::Broker;
use rand::Rng;

const IMAGE: usize = 200_000;

#[test]
fn a_thousand_cases_with_images_sync_once_each() {
    let broker = Broker::start().expect("broker");
    let site = Site::new(None);
    let mut kiosk = Kiosk::open(&site);
    kiosk.record(1000, IMAGE);
    let mut cloud = site.cloud(&broker, "cloud-1");
    let mut sync = site.sync(&broker);
    let took = kiosk.wait_drained(Duration::from_secs(150), &mut [&mut cloud, &mut sync]);
    eprintln!("1000 cases x {IMAGE} B drained in {took:?}");
    assert!(
        sync.term(Duration::from_secs(10)),
        "jachai-sync stops cleanly on SIGTERM:\n{}",
        sync.log_tail()
    );
    assert!(
        cloud.term(Duration::from_secs(10)),
        "jachai-cloud stops cleanly on SIGTERM:\n{}",
        cloud.log_tail()
    );
    verify_cloud(&site, &kiosk.recorded);
}

#[test]
fn kill_9_of_either_daemon_at_random_points_loses_and_duplicates_nothing() {
    let broker = Broker::start().expect("broker");
    let site = Site::new(None);
    let mut kiosk = Kiosk::open(&site);
    kiosk.record(1000, IMAGE);
    let mut cloud = site.cloud(&broker, "cloud-1");
    let mut sync = site.sync(&broker);
    let mut rng = rand::thread_rng();
    let mut kills = (0u32, 0u32);
    let start = Instant::now();
    // At least 10 kills of each, every one while the backlog is draining (more cases are recorded when
    // it runs low; a moment when it is empty does not count as a kill point).
    while kills.0 < 10 || kills.1 < 10 {
        if kiosk.backlog() < 200 {
            kiosk.record(200, IMAGE);
        }
        std::thread::sleep(Duration::from_millis(rng.gen_range(100..500)));
        if kiosk.backlog() == 0 {
            continue;
        }
        let kill_cloud = if kills.0 >= 10 {
            false
        } else if kills.1 >= 10 {
            true
        } else {
            rng.gen_bool(0.5)
        };
        let p = if kill_cloud { &mut cloud } else { &mut sync };
        p.assert_alive();
        p.kill9();
        std::thread::sleep(Duration::from_millis(rng.gen_range(0..300)));
        p.start();
        if kill_cloud {
            kills.0 += 1;
        } else {
            kills.1 += 1;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "kills took too long"
        );
    }
    let took = kiosk.wait_drained(Duration::from_secs(150), &mut [&mut cloud, &mut sync]);
    eprintln!(
        "{} cases, {} kill -9 of jachai-cloud and {} of jachai-sync; drained {took:?} after the last",
        kiosk.recorded.len(),
        kills.0,
        kills.1
    );
    sync.kill9();
    cloud.kill9();
    verify_cloud(&site, &kiosk.recorded);
}

#[test]
fn a_broker_outage_while_cases_keep_coming_loses_nothing() {
    let mut broker = Broker::start().expect("broker");
    let pg = common::pg_site();
    let site = Site::new(pg.as_ref().map(|db| db.url.clone()));
    let mut kiosk = Kiosk::open(&site);
    let mut cloud = site.cloud(&broker, "cloud-1");
    let mut sync = site.sync(&broker);
    kiosk.record(100, IMAGE);
    std::thread::sleep(Duration::from_millis(500));
    broker.stop().expect("stop the broker");
    let during = Instant::now();
    while during.elapsed() < Duration::from_secs(4) {
        kiosk.record(25, IMAGE);
        std::thread::sleep(Duration::from_millis(200));
    }
    let backlog_in_outage = kiosk.backlog();
    assert!(
        backlog_in_outage > 0,
        "cases recorded in the outage wait in the outbox"
    );
    broker.start_again().expect("start the broker again");
    kiosk.record(50, IMAGE);
    let took = kiosk.wait_drained(Duration::from_secs(120), &mut [&mut cloud, &mut sync]);
    eprintln!(
        "{} cases; backlog {backlog_in_outage} at the end of the outage drained in {took:?}",
        kiosk.recorded.len()
    );
    sync.kill9();
    cloud.kill9();
    verify_cloud(&site, &kiosk.recorded);
    if let Some(db) = pg {
        common::drop_blocking(db);
    }
}
