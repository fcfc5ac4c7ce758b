//! The unit files in `systemd/`: `systemd-analyze verify` accepts them (pointed at the built binaries, as
//! verify needs the ExecStart binary to exist) without a warning, and they keep the directives the services
//! rely on (notify + watchdog, restart, hardening).

use std::path::Path;
use std::process::Command;

fn units_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../systemd"))
}

fn unit(name: &str) -> String {
    std::fs::read_to_string(units_dir().join(name)).expect("unit file")
}

#[test]
fn systemd_analyze_verify_passes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cloud = env!("CARGO_BIN_EXE_jachai-cloud");
    let sync = jachai_testkit::workspace_binary("jachai-edge-sync", "jachai-sync")
        .expect("jachai-sync built");
    let mut paths = Vec::new();
    for (name, from, to) in [
        (
            "jachai-cloud.service",
            "/usr/bin/jachai-cloud",
            cloud.to_string(),
        ),
        (
            "jachai-sync.service",
            "/usr/bin/jachai-sync",
            sync.display().to_string(),
        ),
        (
            "jachai-broker.service",
            "/usr/sbin/mosquitto",
            "/usr/sbin/mosquitto".to_string(),
        ),
    ] {
        let text = unit(name);
        assert!(text.contains(from), "{name} starts {from}");
        let path = dir.path().join(name);
        std::fs::write(&path, text.replace(from, &to)).expect("write unit");
        paths.push(path);
    }
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg("--man=no")
        .args(&paths)
        .output()
        .expect("systemd-analyze (Debian package systemd) runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let about_ours: Vec<&str> = stderr.lines().filter(|l| l.contains("jachai-")).collect();
    assert!(
        out.status.success() && about_ours.is_empty(),
        "systemd-analyze verify:\n{stderr}"
    );
}

#[test]
fn systemd_analyze_verify_catches_a_broken_unit() {
    // The check above is only worth something if verify complains about mistakes.
    let dir = tempfile::tempdir().expect("tempdir");
    let text = unit("jachai-cloud.service")
        .replace("/usr/bin/jachai-cloud", env!("CARGO_BIN_EXE_jachai-cloud"))
        .replace("ProtectSystem=strict", "ProtectSystem=sideways");
    let path = dir.path().join("jachai-broken.service");
    std::fs::write(&path, text).expect("write");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg("--man=no")
        .arg(&path)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("jachai-broken.service"),
        "verify said nothing about a bad value:\n{stderr}"
    );
}

#[test]
fn units_keep_notify_watchdog_restart_and_hardening() {
    for name in ["jachai-cloud.service", "jachai-sync.service"] {
        let text = unit(name);
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for want in [
            "Type=notify",
            "NotifyAccess=main",
            "Restart=on-failure",
            "ProtectSystem=strict",
            "ProtectHome=yes",
            "PrivateTmp=yes",
            "NoNewPrivileges=yes",
            "CapabilityBoundingSet=",
            "SystemCallFilter=@system-service",
        ] {
            assert!(lines.contains(&want), "{name} lacks {want}");
        }
        for prefix in ["WatchdogSec=", "StateDirectory=", "ReadWritePaths="] {
            assert!(
                lines.iter().any(|l| l.starts_with(prefix)),
                "{name} lacks {prefix}"
            );
        }
    }
}

#[test]
fn the_broker_unit_runs_the_repository_broker_config_where_it_keeps_its_state() {
    let text = unit("jachai-broker.service");
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for want in [
        "ExecStart=/usr/sbin/mosquitto -c /etc/mosquitto/jachai/mosquitto.conf",
        "User=jachai-broker",
        "StateDirectory=mosquitto/jachai",
        "Restart=on-failure",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=",
    ] {
        assert!(lines.contains(&want), "jachai-broker.service lacks {want}");
    }
    // The state directory systemd makes is where broker/mosquitto.conf persists, and the log goes to
    // the journal (a file there would grow without rotation).
    let conf = std::fs::read_to_string(units_dir().join("../broker/mosquitto.conf")).expect("conf");
    let conf: Vec<&str> = conf.lines().map(str::trim).collect();
    assert!(conf.contains(&"persistence_location /var/lib/mosquitto/jachai/"));
    assert!(conf.contains(&"log_dest stderr"));
}
