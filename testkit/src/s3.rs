//! A private S3-compatible server for tests: moto's `moto_server` (PyPI `moto[s3]` with flask, installed into
//! `~/.cache/jachai-moto` by `scripts/env.sh`) on a free port, with one empty bucket.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::free_port;

/// A running moto server; killed on drop.
#[derive(Debug)]
pub struct S3Server {
    child: Child,
    port: u16,
}

/// Where `moto_server` is: `JACHAI_MOTO_SERVER`, else the virtual environment `scripts/env.sh` makes.
fn moto_server() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("JACHAI_MOTO_SERVER") {
        return Ok(p.into());
    }
    let home = std::env::var_os("HOME").context("HOME is not set")?;
    let p = PathBuf::from(home).join(".cache/jachai-moto/bin/moto_server");
    if p.is_file() {
        Ok(p)
    } else {
        bail!(
            "{} is missing: run the tests through scripts/test.sh, which installs moto",
            p.display()
        )
    }
}

impl S3Server {
    /// Starts the server and waits until it answers.
    pub fn start() -> Result<S3Server> {
        let port = free_port()?;
        let child = Command::new(moto_server()?)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting moto_server")?;
        let mut server = S3Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!("moto_server exited at start: {status}");
            }
            if server.request("GET", "/").is_ok() {
                return Ok(server);
            }
            if Instant::now() > deadline {
                bail!("moto_server did not answer on port {port} within 30 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Makes a bucket (moto takes unsigned requests).
    pub fn create_bucket(&self, name: &str) -> Result<()> {
        let status = self.request("PUT", &format!("/{name}"))?;
        if status != 200 {
            bail!("creating bucket {name}: HTTP {status}");
        }
        Ok(())
    }

    /// One plain HTTP/1.0 request; the status code.
    fn request(&self, method: &str, path: &str) -> Result<u16> {
        let mut conn = TcpStream::connect(("127.0.0.1", self.port))?;
        conn.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            conn,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\n\r\n",
            self.port
        )?;
        let mut answer = String::new();
        conn.read_to_string(&mut answer)?;
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("no HTTP status line")?;
        Ok(status)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
