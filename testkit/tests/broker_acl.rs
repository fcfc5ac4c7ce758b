//! The repo's broker configuration (`broker/mosquitto.conf` + `broker/acl`) under real `mosquitto_pub` /
//! `mosquitto_sub` with client certificates: who may publish where and, since Mosquitto 2.0 grants every
//! SUBSCRIBE and checks read rights only when it delivers, who actually receives what.

use std::time::Duration;

use jachai_testkit::Broker;

/// Long enough for a message the broker would deliver to arrive on loopback many times over.
const SILENCE: Duration = Duration::from_millis(1500);
const ARRIVE: Duration = Duration::from_secs(10);

fn broker() -> Broker {
    Broker::start().expect("start a private mosquitto")
}

#[test]
fn kiosk_cannot_read_another_kiosks_downlink() {
    let b = broker();
    let a = b.identity("kiosk-a").expect("cert");
    let kb = b.identity("kiosk-b").expect("cert");
    let cloud = b.identity("cloud").expect("cert");
    // A subscribes to B's downlink (granted: SUBSCRIBE is always allowed) and to its own, as a control.
    let sub_a = b
        .subscribe(
            Some(&a),
            &["jachai/v1/k/kiosk-b/down/#", "jachai/v1/k/kiosk-a/down/#"],
        )
        .expect("sub a");
    let sub_b = b
        .subscribe(Some(&kb), &["jachai/v1/k/kiosk-b/down/#"])
        .expect("sub b");

    let out = b
        .publish(
            Some(&cloud),
            "jachai/v1/k/kiosk-b/down/ack",
            b"for-b",
            false,
        )
        .expect("pub");
    assert!(
        out.status.success(),
        "cloud publish failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got_b = sub_b.wait_for(1, ARRIVE).expect("b");
    assert_eq!(
        got_b.len(),
        1,
        "B must receive its own ack; log:\n{}",
        b.log()
    );
    assert_eq!(got_b[0].payload, b"for-b");
    assert_eq!(got_b[0].topic, "jachai/v1/k/kiosk-b/down/ack");

    // Then something A may read: once it arrives, anything for B would have arrived before it (same
    // connection, in order), so A's silence about B is delivery being refused, not slowness.
    let out = b
        .publish(
            Some(&cloud),
            "jachai/v1/k/kiosk-a/down/ack",
            b"for-a",
            false,
        )
        .expect("pub");
    assert!(out.status.success());
    let got_a = sub_a.wait_for(2, SILENCE).expect("a");
    assert_eq!(got_a.len(), 1, "A received {got_a:?}");
    assert_eq!(got_a[0].payload, b"for-a");
}

#[test]
fn kiosk_cannot_publish_under_another_kiosks_topics() {
    let b = broker();
    let a = b.identity("kiosk-a").expect("cert");
    let kb = b.identity("kiosk-b").expect("cert");
    let cloud = b.identity("cloud").expect("cert");
    let sub_cloud = b
        .subscribe(
            Some(&cloud),
            &["jachai/v1/k/+/up/#", "jachai/v1/k/+/status"],
        )
        .expect("sub");
    let sub_b = b
        .subscribe(Some(&kb), &["jachai/v1/k/kiosk-b/#"])
        .expect("sub b");

    // A forges B's uplink and status, and tries B's downlink and the stolen index.
    for topic in [
        "jachai/v1/k/kiosk-b/up/case",
        "jachai/v1/k/kiosk-b/up/blob",
        "jachai/v1/k/kiosk-b/status",
        "jachai/v1/k/kiosk-b/down/ack",
        "jachai/v1/stolen/head",
    ] {
        let out = b.publish(Some(&a), topic, b"forged", false).expect("pub");
        assert!(
            out.status.success(),
            "mosquitto_pub itself failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A's own uplink goes through: the control that the cloud subscriber is live.
    let out = b
        .publish(Some(&a), "jachai/v1/k/kiosk-a/up/case", b"mine", false)
        .expect("pub");
    assert!(out.status.success());
    let got = sub_cloud.wait_for(2, ARRIVE).expect("cloud");
    assert_eq!(got.len(), 1, "cloud received {got:?}");
    assert_eq!(got[0].topic, "jachai/v1/k/kiosk-a/up/case");
    assert_eq!(got[0].payload, b"mine");
    let got_b = sub_b.wait_for(1, SILENCE).expect("b");
    assert!(got_b.is_empty(), "B received forged messages: {got_b:?}");
}

#[test]
fn kiosk_reads_the_stolen_index_and_only_the_cloud_writes_it() {
    let b = broker();
    let a = b.identity("kiosk-a").expect("cert");
    let cloud = b.identity("cloud").expect("cert");
    // The head is retained: a kiosk that subscribes later still gets it.
    let out = b
        .publish(Some(&cloud), "jachai/v1/stolen/head", b"head-1", true)
        .expect("pub");
    assert!(out.status.success());
    let out = b
        .publish(Some(&a), "jachai/v1/stolen/head", b"forged-head", true)
        .expect("pub");
    assert!(out.status.success());
    let sub_a = b.subscribe(Some(&a), &["jachai/v1/stolen/#"]).expect("sub");
    let got = sub_a.wait_for(2, ARRIVE.min(SILENCE * 2)).expect("a");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].payload, b"head-1");
}

#[test]
fn no_client_certificate_is_refused() {
    let b = broker();
    let cloud = b.identity("cloud").expect("cert");
    let sub = b
        .subscribe(Some(&cloud), &["jachai/v1/k/+/up/#"])
        .expect("sub");
    let out = b
        .publish(None, "jachai/v1/k/kiosk-a/up/case", b"anonymous", false)
        .expect("run mosquitto_pub");
    assert!(
        !out.status.success(),
        "a client without a certificate connected"
    );
    assert!(
        b.subscribe(None, &["jachai/v1/#"]).is_err(),
        "a subscriber without a certificate got a SUBACK"
    );
    assert!(sub.wait_for(1, SILENCE).expect("cloud").is_empty());
}

#[test]
fn certificate_from_another_ca_is_refused() {
    let b = broker();
    let other = jachai_testkit::Pki::new().expect("second CA");
    let stranger = other.client("kiosk-a").expect("cert");
    let out = b
        .publish(Some(&stranger), "jachai/v1/k/kiosk-a/up/case", b"x", false)
        .expect("run");
    assert!(
        !out.status.success(),
        "a certificate from a foreign CA connected"
    );
}

#[test]
fn stop_and_start_again_keeps_the_port_and_retained_messages() {
    let mut b = broker();
    let cloud = b.identity("cloud").expect("cert");
    let a = b.identity("kiosk-a").expect("cert");
    let port = b.port();
    assert!(b
        .publish(Some(&cloud), "jachai/v1/stolen/head", b"head-7", true)
        .expect("pub")
        .status
        .success());
    b.stop().expect("stop");
    assert!(!b
        .publish(Some(&cloud), "jachai/v1/stolen/head", b"x", false)
        .expect("run")
        .status
        .success());
    b.start_again().expect("start again");
    assert_eq!(b.port(), port);
    let sub = b
        .subscribe(Some(&a), &["jachai/v1/stolen/head"])
        .expect("sub");
    let got = sub.wait_for(1, ARRIVE).expect("a");
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].payload, b"head-7",
        "persistence keeps the retained head across a clean restart"
    );
}
