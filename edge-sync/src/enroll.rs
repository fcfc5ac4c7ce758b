//! `jachai-sync enroll`: a new kiosk makes its key pair (ECDSA P-256) and a CSR here, trades them and
//! a one-time token for its certificate at the cloud's `POST /api/v1/enroll` (HTTPS; plain HTTP only to
//! a loopback address), checks the answer, and writes what `jachai-sync.service` reads:
//!
//! | file | what | mode |
//! |---|---|---|
//! | `kiosk.key` | the private key (never leaves the kiosk) | 0600 (0640 with a group) |
//! | `kiosk.crt` | the client certificate, CN = kiosk id | 0644 |
//! | `ca.crt` | the CA the broker's server certificate chains to | 0644 |
//! | `cloud-signing.pub` | the cloud's downlink signing key (64 hex digits) | 0644 |
//! | `sync.env` | `JACHAI_KIOSK_ID`, `JACHAI_BROKER` | 0644 |
//!
//! Every file is written atomically (temp file, fsync, rename); the key is written, private, before the
//! request, so a certificate is never issued for a key that is then lost. An existing enrollment is kept
//! unless `force`.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jachai_protocol::enroll::{EnrollRequest, EnrollResponse, ENROLL_PATH};
use jachai_protocol::sign::TrustedKeys;
use jachai_protocol::KioskId;

use crate::fsutil;

/// The files an enrollment writes, in the order they are written (`sync.env` last: its presence means
/// the rest is there).
pub const FILES: [&str; 5] = [
    "ca.crt",
    "cloud-signing.pub",
    "kiosk.crt",
    "kiosk.key",
    "sync.env",
];

/// Where the private key waits for its certificate.
const PENDING_KEY: &str = ".kiosk.key.pending";

/// What to enroll with.
#[derive(Debug, Clone)]
pub struct EnrollOptions {
    /// The cloud's base URL (`https://cloud.example.org`; `http://` only to a loopback address).
    pub cloud: String,
    /// The one-time token from the admin console.
    pub token: String,
    /// Where the files go (`/etc/jachai`).
    pub dir: PathBuf,
    /// Trust only this CA (PEM) for the cloud's HTTPS certificate instead of the built-in roots.
    pub cloud_ca: Option<PathBuf>,
    /// Refuse an answer for another kiosk id.
    pub expect_kiosk: Option<KioskId>,
    /// Give `kiosk.key` to this group id, mode 0640 (the sync daemon's user reads it).
    pub key_gid: Option<u32>,
    /// Replace an existing enrollment in `dir`.
    pub force: bool,
    pub timeout: Duration,
}

/// What an enrollment produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolled {
    pub kiosk: KioskId,
    pub broker: String,
    pub signing_key_id: String,
    /// When the certificate ends (Unix seconds).
    pub not_after: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    #[error(
        "{0} holds an enrollment already (kiosk.key or kiosk.crt); pass --force to replace it"
    )]
    Exists(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the cloud URL {0:?} must be https:// (http:// only to localhost)")]
    Url(String),
    #[error("cloud CA {path}: {what}")]
    CloudCa { path: PathBuf, what: String },
    #[error("making the key pair or CSR: {0}")]
    Key(String),
    #[error("talking to the cloud: {0}")]
    Http(String),
    #[error("the cloud refused the enrollment ({status} {code}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("the cloud's answer does not hold up: {0}")]
    BadAnswer(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> EnrollError + '_ {
    move |source| EnrollError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `http://` is allowed only to a loopback host (tests, a cloud on the same machine).
fn check_url(url: &str) -> Result<String, EnrollError> {
    let base = url.trim_end_matches('/').to_string();
    if base.starts_with("https://") {
        return Ok(base);
    }
    let Some(rest) = base.strip_prefix("http://") else {
        return Err(EnrollError::Url(url.into()));
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(base)
    } else {
        Err(EnrollError::Url(url.into()))
    }
}

/// The DERs of the `CERTIFICATE` blocks of a PEM text.
fn pem_certs(text: &str) -> Vec<Vec<u8>> {
    use rustls::pki_types::pem::PemObject as _;
    rustls::pki_types::CertificateDer::pem_slice_iter(text.as_bytes())
        .filter_map(Result::ok)
        .map(|c| c.to_vec())
        .collect()
}

/// Checks the answer against the key and what was asked.
fn check_answer(
    resp: &EnrollResponse,
    public_key_der: &[u8],
    expect: Option<&KioskId>,
) -> Result<(), EnrollError> {
    let bad = |m: String| EnrollError::BadAnswer(m);
    if let Some(want) = expect {
        if *want != resp.kiosk {
            return Err(bad(format!(
                "it enrolled kiosk {} but this is {want}",
                resp.kiosk
            )));
        }
    }
    let certs = pem_certs(&resp.certificate_pem);
    let first = certs
        .first()
        .ok_or_else(|| bad("no certificate in it".into()))?;
    let parts = jachai_protocol::enroll::parse_certificate(first)
        .map_err(|e| bad(format!("the certificate: {e}")))?;
    if parts.spki != public_key_der {
        return Err(bad("the certificate is not for this kiosk's key".into()));
    }
    if parts.common_names != [resp.kiosk.as_str()] {
        return Err(bad(format!(
            "the certificate names {:?}, not kiosk {}",
            parts.common_names, resp.kiosk
        )));
    }
    if pem_certs(&resp.broker_ca_pem).is_empty() {
        return Err(bad("no broker CA certificate in it".into()));
    }
    TrustedKeys::new()
        .add_hex(&resp.signing_key)
        .map_err(|e| bad(format!("the signing key: {e}")))?;
    let port_ok = resp
        .broker
        .rsplit_once(':')
        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
    if !port_ok || resp.broker.contains(char::is_whitespace) {
        return Err(bad(format!(
            "the broker address {:?} is not host:port",
            resp.broker
        )));
    }
    Ok(())
}

fn write(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> Result<PathBuf, EnrollError> {
    let path = dir.join(name);
    fsutil::write_atomic_mode(&path, mode, |w| w.write_all(bytes)).map_err(io_err(&path))?;
    // The umask may have taken bits off; set exactly what was asked.
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).map_err(io_err(&path))?;
    Ok(path)
}

/// Enrolls this kiosk (see the module docs).
pub async fn enroll(opts: &EnrollOptions) -> Result<Enrolled, EnrollError> {
    let base = check_url(&opts.cloud)?;
    let dir = &opts.dir;
    if !opts.force {
        for name in ["kiosk.key", "kiosk.crt"] {
            if dir.join(name).exists() {
                return Err(EnrollError::Exists(dir.clone()));
            }
        }
    }
    fs::create_dir_all(dir).map_err(io_err(dir))?;

    let mut http = reqwest::Client::builder()
        .timeout(opts.timeout)
        .https_only(base.starts_with("https://"));
    if let Some(path) = &opts.cloud_ca {
        let text = fs::read_to_string(path).map_err(io_err(path))?;
        let ders = pem_certs(&text);
        if ders.is_empty() {
            return Err(EnrollError::CloudCa {
                path: path.clone(),
                what: "no PEM certificate in it".into(),
            });
        }
        http = http.tls_built_in_root_certs(false);
        for der in ders {
            let cert = reqwest::Certificate::from_der(&der).map_err(|e| EnrollError::CloudCa {
                path: path.clone(),
                what: e.to_string(),
            })?;
            http = http.add_root_certificate(cert);
        }
    }
    let http = http.build().map_err(|e| EnrollError::Http(e.to_string()))?;

    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| EnrollError::Key(e.to_string()))?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
        .map_err(|e| EnrollError::Key(e.to_string()))?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    let cn = opts
        .expect_kiosk
        .as_ref()
        .map_or("jachai-kiosk", KioskId::as_str);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    let csr_pem = params
        .serialize_request(&key)
        .and_then(|csr| csr.pem())
        .map_err(|e| EnrollError::Key(e.to_string()))?;
    let pending = write(dir, PENDING_KEY, key.serialize_pem().as_bytes(), 0o600)?;

    // A refused or unusable answer changes nothing in `dir` (every check comes before the first write);
    // whatever fails, no stray key is left behind.
    let outcome: Result<Enrolled, EnrollError> = async {
        let resp = http
            .post(format!("{base}{ENROLL_PATH}"))
            .json(&EnrollRequest {
                token: opts.token.trim().to_string(),
                csr_pem,
            })
            .send()
            .await
            .map_err(|e| EnrollError::Http(format!("{e:#}")))?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| EnrollError::Http(e.to_string()))?;
        if !status.is_success() {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let text = |k: &str| v.get(k).and_then(|s| s.as_str()).map(str::to_string);
            return Err(EnrollError::Refused {
                status: status.as_u16(),
                code: text("error").unwrap_or_else(|| "unknown".into()),
                message: text("message")
                    .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(200).collect()),
            });
        }
        let answer: EnrollResponse = serde_json::from_slice(&body)
            .map_err(|e| EnrollError::BadAnswer(format!("not an enrollment answer: {e}")))?;
        check_answer(&answer, &key.public_key_der(), opts.expect_kiosk.as_ref())?;

        let mut ca = answer.broker_ca_pem.clone();
        if !ca.ends_with('\n') {
            ca.push('\n');
        }
        write(dir, "ca.crt", ca.as_bytes(), 0o644)?;
        write(
            dir,
            "cloud-signing.pub",
            format!("{}\n", answer.signing_key.trim()).as_bytes(),
            0o644,
        )?;
        write(dir, "kiosk.crt", answer.certificate_pem.as_bytes(), 0o644)?;
        let key_path = dir.join("kiosk.key");
        use std::os::unix::fs::PermissionsExt as _;
        if let Some(gid) = opts.key_gid {
            std::os::unix::fs::chown(&pending, None, Some(gid)).map_err(io_err(&pending))?;
            fs::set_permissions(&pending, fs::Permissions::from_mode(0o640))
                .map_err(io_err(&pending))?;
        }
        fs::rename(&pending, &key_path).map_err(io_err(&key_path))?;
        fsutil::sync_dir(dir).map_err(io_err(dir))?;
        write(
            dir,
            "sync.env",
            format!(
                "# Written by `jachai-sync enroll`; read by jachai-sync.service.\nJACHAI_KIOSK_ID={}\nJACHAI_BROKER={}\n",
                answer.kiosk, answer.broker
            )
            .as_bytes(),
            0o644,
        )?;
        Ok(Enrolled {
            kiosk: answer.kiosk,
            broker: answer.broker,
            signing_key_id: answer.signing_key_id,
            not_after: answer.not_after,
        })
    }
    .await;
    if outcome.is_err() {
        let _ = fs::remove_file(&pending);
    }
    outcome
}

/// A group's id from its name (`/etc/group`) or a number.
pub fn group_id(name: &str) -> Option<u32> {
    if let Ok(n) = name.parse() {
        return Some(n);
    }
    let text = fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|line| {
        let mut parts = line.split(':');
        (parts.next()? == name).then_some(())?;
        parts.nth(1)?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "https://cloud.example.org",
            "https://cloud.example.org/",
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:80/",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://cloud.example.org",
            "http://10.0.0.1:80",
            "ftp://x",
            "cloud.example.org",
            "",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        assert_eq!(
            check_url("https://c.example/").expect("ok"),
            "https://c.example"
        );
    }

    /// An answer for kiosk `k1` whose certificate holds `key`.
    fn answer(key: &rcgen::KeyPair) -> EnrollResponse {
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name.push(rcgen::DnType::CommonName, "k1");
        let cert = p.self_signed(key).expect("cert");
        EnrollResponse {
            kiosk: KioskId::new("k1").expect("id"),
            certificate_pem: cert.pem(),
            broker_ca_pem: cert.pem(),
            broker: "mqtt.example:8883".into(),
            signing_key: jachai_protocol::sign::Signer::generate().public_hex(),
            signing_key_id: "x".into(),
            not_after: 0,
        }
    }

    #[test]
    fn an_answer_must_be_for_this_key_and_this_kiosk() {
        let key = rcgen::KeyPair::generate().expect("key");
        let other = rcgen::KeyPair::generate().expect("key");
        let der = key.public_key_der();
        let k1 = KioskId::new("k1").expect("id");
        let k2 = KioskId::new("k2").expect("id");
        assert!(check_answer(&answer(&key), &der, Some(&k1)).is_ok());
        let check = |a: &EnrollResponse, expect: Option<&KioskId>, want: &str| {
            let err = check_answer(a, &der, expect).expect_err(want).to_string();
            assert!(err.contains(want), "{err}");
        };
        check(&answer(&key), Some(&k2), "this is k2");
        check(&answer(&other), None, "not for this kiosk's key");
        let mut a = answer(&key);
        a.kiosk = k2.clone();
        check(&a, None, "names");
        for broker in ["mqtt.example", ":8883", "h:0", "h:99999", "h o:1"] {
            let mut a = answer(&key);
            a.broker = broker.into();
            check(&a, None, "host:port");
        }
        let mut a = answer(&key);
        a.signing_key = "zz".into();
        check(&a, None, "signing key");
        let mut a = answer(&key);
        a.broker_ca_pem = "nothing".into();
        check(&a, None, "broker CA");
        let mut a = answer(&key);
        a.certificate_pem = String::new();
        check(&a, None, "no certificate");
    }

    #[test]
    fn groups_by_number_or_name() {
        assert_eq!(group_id("123"), Some(123));
        assert_eq!(group_id("root"), Some(0));
        assert_eq!(group_id("no-such-group-here"), None);
    }
}
