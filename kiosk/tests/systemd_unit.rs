//! `systemd/jachai-kiosk.service`: `systemd-analyze verify` accepts it (pointed at the built binary)
//! and it keeps what the kiosk relies on: notify + watchdog, the linuxkms backend, restart.

use std::process::Command;

fn unit() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../systemd/jachai-kiosk.service"
    ))
    .expect("unit file")
}

#[test]
fn systemd_analyze_verify_passes_and_the_unit_keeps_its_directives() {
    let text = unit();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for want in [
        "Type=notify",
        "NotifyAccess=main",
        "Restart=always",
        "Environment=SLINT_BACKEND=linuxkms-software",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateNetwork=yes",
    ] {
        assert!(lines.contains(&want), "the unit lacks {want}");
    }
    assert!(lines.iter().any(|l| l.starts_with("WatchdogSec=")));

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("jachai-kiosk.service");
    std::fs::write(
        &path,
        text.replace("/usr/bin/jachai-kiosk", env!("CARGO_BIN_EXE_jachai-kiosk")),
    )
    .expect("write unit");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg("--man=no")
        .arg(&path)
        .output()
        .expect("systemd-analyze (Debian package systemd) runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let about_ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("jachai-kiosk"))
        .collect();
    assert!(
        out.status.success() && about_ours.is_empty(),
        "systemd-analyze verify:\n{stderr}"
    );
}
