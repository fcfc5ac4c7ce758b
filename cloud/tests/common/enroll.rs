//! Enrollment helpers: a cloud whose broker trusts its kiosk CA, console users, tokens issued through
//! the admin API, CSRs, `POST /api/v1/enroll`, and the real `jachai-sync enroll`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jachai_cloud::enroll::KioskCa;
use jachai_testkit::{Broker, Pki};

use super::http::{json, start_on, Server, Session};
use super::TestDb;

/// A broker that trusts the kiosk CA the cloud will use (made first, as an operator would with
/// `jachai-cloud --check`), and the cloud on it.
pub async fn start(db: &TestDb) -> Server {
    let dir = db.dir.path();
    KioskCa::load_or_create(&dir.join("kiosk-ca.crt"), &dir.join("kiosk-ca.key"))
        .expect("kiosk CA");
    let pki = Arc::new(Pki::new().expect("pki"));
    let broker = Broker::start_trusting(pki, &[&dir.join("kiosk-ca.crt")]).expect("broker");
    start_on(db, broker, "login_per_minute = 100\napi_per_minute = 1000").await
}

pub async fn issue(
    s: &Server,
    who: Option<&Session>,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let mut req = s
        .http
        .post(s.url("/api/v1/admin/enroll-tokens"))
        .json(&body);
    if let Some(who) = who {
        req = req
            .header("cookie", &who.cookie)
            .header("x-csrf-token", &who.csrf);
    }
    json(req.send().await.expect("POST")).await
}

pub async fn token_for(s: &Server, admin: &Session, kiosk: &str) -> String {
    let (st, body) = issue(s, Some(admin), serde_json::json!({"kiosk": kiosk})).await;
    assert_eq!(st, 201, "{body}");
    body["token"].as_str().expect("token").to_string()
}

/// A fresh key and a CSR with `cn` (and a SAN, which the cloud must ignore too).
pub fn csr(cn: &str) -> (rcgen::KeyPair, String) {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut p = rcgen::CertificateParams::new(vec!["evil.example".to_string()]).expect("params");
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(rcgen::DnType::CommonName, cn);
    let pem = p.serialize_request(&key).expect("csr").pem().expect("pem");
    (key, pem)
}

pub async fn enroll_raw(s: &Server, token: &str, csr_pem: &str) -> (u16, serde_json::Value) {
    let resp = s
        .http
        .post(s.url("/api/v1/enroll"))
        .json(&serde_json::json!({"token": token, "csr_pem": csr_pem}))
        .send()
        .await
        .expect("POST");
    json(resp).await
}

/// The DER of the first certificate of a PEM text.
pub fn cert_der(pem: &str) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject as _;
    rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .expect("a PEM certificate")
        .to_vec()
}

pub fn common_names(pem: &str) -> Vec<String> {
    jachai_protocol::enroll::parse_certificate(&cert_der(pem))
        .expect("a certificate")
        .common_names
}

pub fn sync_bin() -> PathBuf {
    jachai_testkit::workspace_binary("jachai-edge-sync", "jachai-sync").expect("jachai-sync")
}

/// `jachai-sync enroll` as a kiosk would run it: exit status, stdout, stderr.
pub fn run_enroll(s: &Server, token: &str, dir: &Path, extra: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(sync_bin())
        .args(["enroll", "--cloud", &s.base, "--dir"])
        .arg(dir)
        .args(extra)
        .env("JACHAI_ENROLL_TOKEN", token)
        .output()
        .expect("run jachai-sync enroll");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("meta").permissions().mode() & 0o777
}

/// `KEY=value` lines of an environment file.
pub fn env_file(path: &Path) -> std::collections::BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .expect("env file")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
