//! A private Mosquitto for one test: the repo's `broker/mosquitto.conf` and `broker/acl` with the paths and
//! the port substituted, persistence in a temp dir, mTLS with the test PKI. It can be stopped and started
//! again on the same port and directory (outage tests), and is killed when dropped.

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tempfile::TempDir;

use crate::pki::{Identity, Pki};

/// The repo's broker configuration directory.
fn broker_dir() -> PathBuf {
    // Cargo names the tested package's folder at run time (every member sits one level below the
    // workspace root). The folder this crate was compiled in is only the fallback: a build folder
    // shared by several checkouts can hold a build of this crate made in another, since-removed one.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|d| d.join("../broker/acl").is_file())
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf())
        .join("../broker")
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> Result<u16> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(l.local_addr()?.port())
}

/// A running (or stopped) private Mosquitto.
#[derive(Debug)]
pub struct Broker {
    pki: Arc<Pki>,
    dir: TempDir,
    port: u16,
    conf: PathBuf,
    child: Option<Child>,
}

impl Broker {
    /// A new PKI and a broker using it.
    pub fn start() -> Result<Broker> {
        Broker::start_with(Arc::new(Pki::new()?))
    }

    /// A broker on a free port whose server certificate and client CA come from `pki`.
    pub fn start_with(pki: Arc<Pki>) -> Result<Broker> {
        Broker::start_trusting(pki, &[])
    }

    /// [`Broker::start_with`], also accepting client certificates signed by the CAs in `client_cas`
    /// (PEM files appended to the broker's `cafile`), such as the cloud's kiosk CA.
    pub fn start_trusting(pki: Arc<Pki>, client_cas: &[&Path]) -> Result<Broker> {
        let dir = tempfile::Builder::new()
            .prefix("jachai-broker-")
            .tempdir()?;
        let port = free_port()?;
        let etc = dir.path().join("etc");
        let data = dir.path().join("data");
        fs::create_dir_all(&etc)?;
        fs::create_dir_all(&data)?;
        let mut cafile = fs::read_to_string(pki.ca_path())?;
        for ca in client_cas {
            let pem =
                fs::read_to_string(ca).with_context(|| format!("reading {}", ca.display()))?;
            if !cafile.ends_with('\n') {
                cafile.push('\n');
            }
            cafile.push_str(&pem);
        }
        fs::write(etc.join("ca.crt"), cafile)?;
        fs::copy(&pki.server().cert, etc.join("server.crt"))?;
        fs::copy(&pki.server().key, etc.join("server.key"))?;
        fs::copy(broker_dir().join("acl"), etc.join("acl")).context("copying broker/acl")?;
        let conf = fs::read_to_string(broker_dir().join("mosquitto.conf"))
            .context("reading broker/mosquitto.conf")?;
        let conf = substitute(&conf, &etc, &data, port)?;
        let conf_path = etc.join("mosquitto.conf");
        fs::write(&conf_path, conf)?;
        let mut broker = Broker {
            pki,
            dir,
            port,
            conf: conf_path,
            child: None,
        };
        broker.start_again()?;
        Ok(broker)
    }

    /// Start the broker again after `stop` or `kill`: same port, same persistence directory.
    pub fn start_again(&mut self) -> Result<()> {
        if self.child.is_some() {
            bail!("broker already running");
        }
        // The broker logs to standard error (the journal in production); here, to a file.
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("data/mosquitto.log"))
            .context("opening the broker's log file")?;
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&self.conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting mosquitto (is the Debian package `mosquitto` installed?)")?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    self.child = None;
                    bail!("mosquitto exited at start ({status}); log:\n{}", self.log());
                }
            }
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "mosquitto did not listen on {} within 15 s; log:\n{}",
                    self.port,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM and wait: a clean stop (Mosquitto saves its persistence file).
    pub fn stop(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            let pid = Pid::from_raw(i32::try_from(child.id())?);
            kill(pid, Signal::SIGTERM)?;
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait()?.is_none() {
                if Instant::now() > deadline {
                    child.kill()?;
                    child.wait()?;
                    bail!("mosquitto ignored SIGTERM for 10 s");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(())
    }

    /// SIGKILL: a crash (nothing saved since the last autosave).
    pub fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The host name clients connect to (the server certificate names it).
    pub fn host(&self) -> &'static str {
        "localhost"
    }

    pub fn pki(&self) -> &Arc<Pki> {
        &self.pki
    }

    /// A client certificate with CN = `name`.
    pub fn identity(&self, name: &str) -> Result<Identity> {
        self.pki.client(name)
    }

    /// The broker's log file so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("data/mosquitto.log")).unwrap_or_default()
    }

    fn tls_args(&self, cmd: &mut Command, id: Option<&Identity>) {
        cmd.arg("-h")
            .arg(self.host())
            .arg("-p")
            .arg(self.port.to_string())
            .arg("--cafile")
            .arg(self.pki.ca_path());
        if let Some(id) = id {
            cmd.arg("--cert").arg(&id.cert).arg("--key").arg(&id.key);
        }
    }

    /// `mosquitto_pub` at QoS 1 as `id` (no client certificate when `None`). The output is returned as is:
    /// a publish the ACL denies still exits 0 (MQTT 3.1.1 has no way to say no), so tests check delivery.
    pub fn publish(
        &self,
        id: Option<&Identity>,
        topic: &str,
        payload: &[u8],
        retain: bool,
    ) -> Result<Output> {
        let mut cmd = Command::new("mosquitto_pub");
        self.tls_args(&mut cmd, id);
        cmd.arg("-q").arg("1").arg("-t").arg(topic).arg("-s");
        if retain {
            cmd.arg("-r");
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .context("running mosquitto_pub (Debian package mosquitto-clients)")?;
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().context("mosquitto_pub stdin")?;
            stdin.write_all(payload)?;
        }
        let out = child.wait_with_output()?;
        Ok(out)
    }

    /// `mosquitto_sub` at QoS 1 as `id` on `topics`, returned once the broker has acknowledged the
    /// subscription (SUBACK) — which says nothing about read rights: Mosquitto checks those at delivery.
    pub fn subscribe(&self, id: Option<&Identity>, topics: &[&str]) -> Result<Subscriber> {
        // mosquitto_sub writes through stdio: unbuffered (coreutils' stdbuf), or a pipe holds its lines back.
        let mut cmd = Command::new("stdbuf");
        cmd.arg("-o0").arg("mosquitto_sub");
        self.tls_args(&mut cmd, id);
        cmd.arg("-q")
            .arg("1")
            .arg("-d")
            .arg("-F")
            .arg("JACHAI-MSG %t %x");
        for t in topics {
            cmd.arg("-t").arg(t);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .context("running mosquitto_sub (Debian package mosquitto-clients)")?;
        let stdout = child.stdout.take().context("mosquitto_sub stdout")?;
        let stderr = child.stderr.take().context("mosquitto_sub stderr")?;
        let shared = Arc::new((Mutex::new(SubState::default()), Condvar::new()));
        let s2 = Arc::clone(&shared);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let (lock, cv) = &*s2;
                let Ok(mut st) = lock.lock() else { break };
                if let Some(rest) = line.strip_prefix("JACHAI-MSG ") {
                    let (topic, hex) = rest.rsplit_once(' ').unwrap_or((rest, ""));
                    st.messages.push(Message {
                        topic: topic.to_string(),
                        payload: unhex(hex),
                    });
                } else if line.contains("received SUBACK") {
                    st.subscribed = true;
                } else {
                    st.other.push(line);
                }
                cv.notify_all();
            }
            let (lock, cv) = &*s2;
            if let Ok(mut st) = lock.lock() {
                st.closed = true;
            }
            cv.notify_all();
        });
        let s3 = Arc::clone(&shared);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Ok(mut st) = s3.0.lock() {
                    st.other.push(line);
                }
            }
        });
        let sub = Subscriber { child, shared };
        sub.wait(Duration::from_secs(10), |st| st.subscribed || st.closed)?;
        let (subscribed, other) = sub.with_state(|st| (st.subscribed, st.other.join("\n")))?;
        if !subscribed {
            bail!("mosquitto_sub got no SUBACK; it said:\n{other}");
        }
        Ok(sub)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Rewrites the production paths and port of `broker/mosquitto.conf` for a test directory.
fn substitute(conf: &str, etc: &Path, data: &Path, port: u16) -> Result<String> {
    let etc_s = format!("{}/", etc.display());
    let data_s = format!("{}/", data.display());
    if !conf.contains("/etc/mosquitto/jachai/") || !conf.contains("/var/lib/mosquitto/jachai/") {
        bail!("broker/mosquitto.conf no longer names /etc/mosquitto/jachai/ and /var/lib/mosquitto/jachai/");
    }
    let mut out = String::new();
    let mut listener = false;
    for line in conf.lines() {
        let line = line
            .replace("/etc/mosquitto/jachai/", &etc_s)
            .replace("/var/lib/mosquitto/jachai/", &data_s);
        if line.trim() == "listener 8883" {
            out.push_str(&format!("listener {port} 127.0.0.1\n"));
            listener = true;
        } else {
            out.push_str(&line);
            out.push('\n');
        }
    }
    if !listener {
        bail!("broker/mosquitto.conf has no `listener 8883` line");
    }
    // Mosquitto started as root drops to the `mosquitto` user, which cannot read a root-owned temp dir.
    if nix::unistd::geteuid().is_root() {
        out.push_str("user root\n");
    }
    Ok(out)
}

fn unhex(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    b.chunks_exact(2)
        .filter_map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}

/// One message a subscriber received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub payload: Vec<u8>,
}

#[derive(Debug, Default)]
struct SubState {
    subscribed: bool,
    closed: bool,
    messages: Vec<Message>,
    other: Vec<String>,
}

/// A running `mosquitto_sub`; killed when dropped.
#[derive(Debug)]
pub struct Subscriber {
    child: Child,
    shared: Arc<(Mutex<SubState>, Condvar)>,
}

impl Subscriber {
    fn with_state<T>(&self, f: impl FnOnce(&SubState) -> T) -> Result<T> {
        let st = self
            .shared
            .0
            .lock()
            .map_err(|_| anyhow::anyhow!("subscriber lock poisoned"))?;
        Ok(f(&st))
    }

    fn wait(&self, timeout: Duration, mut done: impl FnMut(&SubState) -> bool) -> Result<bool> {
        let (lock, cv) = &*self.shared;
        let deadline = Instant::now() + timeout;
        let mut st = lock
            .lock()
            .map_err(|_| anyhow::anyhow!("subscriber lock poisoned"))?;
        loop {
            if done(&st) {
                return Ok(true);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            st = cv
                .wait_timeout(st, deadline - now)
                .map_err(|_| anyhow::anyhow!("subscriber lock poisoned"))?
                .0;
        }
    }

    /// Everything received so far.
    pub fn messages(&self) -> Result<Vec<Message>> {
        self.with_state(|st| st.messages.clone())
    }

    /// Waits until `n` messages have arrived or `timeout` passes; returns what arrived.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Result<Vec<Message>> {
        self.wait(timeout, |st| st.messages.len() >= n || st.closed)?;
        self.messages()
    }

    /// Waits until what arrived satisfies `done` or `timeout` passes; returns what arrived.
    pub fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&[Message]) -> bool,
    ) -> Result<Vec<Message>> {
        self.wait(timeout, |st| done(&st.messages) || st.closed)?;
        self.messages()
    }

    /// Debug and error lines `mosquitto_sub` printed.
    pub fn diagnostics(&self) -> Result<String> {
        self.with_state(|st| st.other.join("\n"))
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
