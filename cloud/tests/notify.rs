//! `jachai-cloud` under a stand-in for systemd's notify socket: READY=1 once started, WATCHDOG=1 pings at
//! half of `WATCHDOG_USEC` from its main loop, STOPPING=1 and exit status 0 on SIGTERM.

mod common;

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::procs::Site;
use jachai_testkit::Broker;

/// Kills the child if the test fails half-way.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn recv_until(sock: &UnixDatagram, want: &str, timeout: Duration) -> Vec<String> {
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        if let Ok(n) = sock.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            let done = msg.lines().any(|l| l == want);
            seen.push(msg);
            if done {
                return seen;
            }
        }
    }
    panic!("no {want} within {timeout:?}; got {seen:?}");
}

#[test]
fn ready_watchdog_and_a_clean_stop() {
    let broker = Broker::start().expect("broker");
    let site = Site::new(None);
    let cfg = site.cloud_config(&broker, "cloud-notify");
    let sock_path = site.path("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).expect("bind notify socket");
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    // systemd names the watched process in WATCHDOG_PID: the shell's own pid, which `exec` hands on.
    let child = Command::new("sh")
        .arg("-c")
        .arg("WATCHDOG_PID=$$ exec \"$0\" --config \"$1\"")
        .arg(env!("CARGO_BIN_EXE_jachai-cloud"))
        .arg(&cfg)
        .env("NOTIFY_SOCKET", &sock_path)
        .env("WATCHDOG_USEC", "400000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start jachai-cloud");
    let mut child = KillOnDrop(child);
    recv_until(&sock, "READY=1", Duration::from_secs(30));
    // 400 ms watchdog: pinged every ~200 ms, so five pings well within two seconds.
    let start = Instant::now();
    for _ in 0..5 {
        recv_until(&sock, "WATCHDOG=1", Duration::from_secs(2));
    }
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "watchdog pings too slow: {:?}",
        start.elapsed()
    );
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.0.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    recv_until(&sock, "STOPPING=1", Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.0.try_wait().expect("wait") {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "jachai-cloud did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status}");
}
