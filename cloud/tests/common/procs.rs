//! The two daemons as child processes for end-to-end tests: `jachai-cloud` and `jachai-sync` (the built
//! binaries next to the test executable), started, stopped with SIGTERM, or killed with SIGKILL.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jachai_testkit::Broker;

pub const KIOSK: &str = "kiosk-e2e";

/// A child process that is killed when dropped.
pub struct Proc {
    pub name: &'static str,
    child: Option<Child>,
    cmd: Vec<String>,
    log: PathBuf,
    pub starts: u32,
}

impl Proc {
    pub fn new(name: &'static str, cmd: Vec<String>, log: PathBuf) -> Proc {
        let mut p = Proc {
            name,
            child: None,
            cmd,
            log,
            starts: 0,
        };
        p.start();
        p
    }

    pub fn start(&mut self) {
        assert!(self.child.is_none(), "{} already running", self.name);
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let child = Command::new(&self.cmd[0])
            .args(&self.cmd[1..])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.name));
        self.child = Some(child);
        self.starts += 1;
    }

    /// SIGKILL: no chance to flush or say goodbye.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for a clean exit (status 0) within `timeout`.
    pub fn term(&mut self, timeout: Duration) -> bool {
        let Some(mut c) = self.child.take() else {
            return true;
        };
        let pid = nix::unistd::Pid::from_raw(i32::try_from(c.id()).expect("pid"));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = c.try_wait() {
                return status.success();
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                let _ = c.wait();
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Still running? (A process that died on its own is an error worth seeing.)
    pub fn assert_alive(&mut self) {
        if let Some(c) = self.child.as_mut() {
            if let Ok(Some(status)) = c.try_wait() {
                panic!(
                    "{} exited by itself ({status}); log:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
        }
    }

    pub fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Where one end-to-end run keeps its files.
pub struct Site {
    pub dir: tempfile::TempDir,
    pub cloud_db_url: String,
}

impl Site {
    pub fn new(cloud_db_url: Option<String>) -> Site {
        let dir = tempfile::Builder::new()
            .prefix("jachai-e2e-")
            .tempdir()
            .expect("tempdir");
        let url = cloud_db_url
            .unwrap_or_else(|| format!("sqlite:{}", dir.path().join("cloud.db").display()));
        Site {
            dir,
            cloud_db_url: url,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn kiosk_db(&self) -> PathBuf {
        self.path("kiosk.db")
    }

    pub fn kiosk_blobs(&self) -> PathBuf {
        self.path("kiosk-blobs")
    }

    pub fn cloud_blobs(&self) -> PathBuf {
        self.path("cloud-blobs")
    }

    pub fn signing_key(&self) -> PathBuf {
        self.path("signing.key")
    }

    /// The cloud's config for `broker`, written beside the other files.
    pub fn cloud_config(&self, broker: &Broker, client_id: &str) -> PathBuf {
        let id = broker.identity("cloud").expect("cloud cert");
        let text = format!(
            "database_url = {:?}\nblob_dir = {:?}\nsigning_key = {:?}\n[mqtt]\nhost = \"localhost\"\nport = {}\nca = {:?}\ncert = {:?}\nkey = {:?}\nclient_id = {:?}\nkeep_alive_s = 10\n",
            self.cloud_db_url,
            self.cloud_blobs(),
            self.signing_key(),
            broker.port(),
            broker.pki().ca_path(),
            id.cert,
            id.key,
            client_id,
        );
        let path = self.path(&format!("{client_id}.toml"));
        fs::write(&path, text).expect("config");
        path
    }

    pub fn cloud(&self, broker: &Broker, client_id: &str) -> Proc {
        let cfg = self.cloud_config(broker, client_id);
        let cmd = vec![
            env!("CARGO_BIN_EXE_jachai-cloud").to_string(),
            "--config".into(),
            cfg.display().to_string(),
        ];
        let p = Proc::new("jachai-cloud", cmd, self.path(&format!("{client_id}.log")));
        wait_for_file(
            &jachai_cloud::signing::public_key_path(&self.signing_key()),
            Duration::from_secs(30),
        );
        p
    }

    pub fn sync(&self, broker: &Broker) -> Proc {
        let bin = jachai_testkit::workspace_binary("jachai-edge-sync", "jachai-sync")
            .expect("jachai-sync");
        let id = broker.identity(KIOSK).expect("kiosk cert");
        let cmd: Vec<String> = vec![
            bin.display().to_string(),
            "--db".into(),
            self.kiosk_db().display().to_string(),
            "--blobs".into(),
            self.kiosk_blobs().display().to_string(),
            "--broker".into(),
            format!("localhost:{}", broker.port()),
            "--kiosk".into(),
            KIOSK.into(),
            "--ca".into(),
            broker.pki().ca_path().display().to_string(),
            "--cert".into(),
            id.cert.display().to_string(),
            "--key".into(),
            id.key.display().to_string(),
            "--trusted-key".into(),
            jachai_cloud::signing::public_key_path(&self.signing_key())
                .display()
                .to_string(),
            "--heartbeat-s".into(),
            "5".into(),
        ];
        Proc::new("jachai-sync", cmd, self.path("sync.log"))
    }
}

pub fn wait_for_file(path: &Path, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} did not appear",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
