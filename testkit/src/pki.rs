//! A throwaway PKI for tests: one CA, a server certificate for `localhost` / `127.0.0.1`, and client
//! certificates whose CN is the identity the broker sees as the username (a kiosk id, or `cloud`).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};
use tempfile::TempDir;

/// A certificate and its private key as PEM files on disk.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The certificate's CN: the broker username (`use_identity_as_username`).
    pub name: String,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Identity {
    /// The certificate, PEM.
    pub fn cert_pem(&self) -> Result<String> {
        fs::read_to_string(&self.cert).with_context(|| format!("reading {}", self.cert.display()))
    }

    /// The private key, PEM (PKCS#8).
    pub fn key_pem(&self) -> Result<String> {
        fs::read_to_string(&self.key).with_context(|| format!("reading {}", self.key.display()))
    }
}

/// The CA, its files in a temp dir that lives as long as this value.
pub struct Pki {
    dir: TempDir,
    ca_cert: rcgen::Certificate,
    ca_key: KeyPair,
    ca_path: PathBuf,
    server: Identity,
    issued: Mutex<Vec<Identity>>,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki")
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

impl Pki {
    /// A new CA and a server certificate for `localhost` and `127.0.0.1`.
    pub fn new() -> Result<Pki> {
        let dir = tempfile::Builder::new().prefix("jachai-pki-").tempdir()?;
        let ca_key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, "jachai test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = params.self_signed(&ca_key)?;
        let ca_path = dir.path().join("ca.crt");
        fs::write(&ca_path, ca_cert.pem())?;

        let mut pki = Pki {
            dir,
            ca_cert,
            ca_key,
            ca_path,
            server: Identity {
                name: String::new(),
                cert: PathBuf::new(),
                key: PathBuf::new(),
            },
            issued: Mutex::new(Vec::new()),
        };
        pki.server = pki.issue("localhost", true)?;
        Ok(pki)
    }

    /// The CA certificate (PEM file).
    pub fn ca_path(&self) -> &Path {
        &self.ca_path
    }

    /// The CA certificate, PEM.
    pub fn ca_pem(&self) -> Result<String> {
        Ok(fs::read_to_string(&self.ca_path)?)
    }

    /// The broker's certificate.
    pub fn server(&self) -> &Identity {
        &self.server
    }

    /// A client certificate with CN = `name` (issued once, then reused).
    pub fn client(&self, name: &str) -> Result<Identity> {
        {
            let issued = self
                .issued
                .lock()
                .map_err(|_| anyhow::anyhow!("pki lock poisoned"))?;
            if let Some(found) = issued.iter().find(|i| i.name == name) {
                return Ok(found.clone());
            }
        }
        let id = self.issue(name, false)?;
        self.issued
            .lock()
            .map_err(|_| anyhow::anyhow!("pki lock poisoned"))?
            .push(id.clone());
        Ok(id)
    }

    fn issue(&self, name: &str, server: bool) -> Result<Identity> {
        let key = KeyPair::generate()?;
        let sans = if server {
            vec!["localhost".to_string()]
        } else {
            Vec::new()
        };
        let mut params = CertificateParams::new(sans)?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        if server {
            params
                .subject_alt_names
                .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        } else {
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        }
        let cert = params.signed_by(&key, &self.ca_cert, &self.ca_key)?;
        let stem = if server {
            "server".to_string()
        } else {
            format!("client-{name}")
        };
        let cert_path = self.dir.path().join(format!("{stem}.crt"));
        let key_path = self.dir.path().join(format!("{stem}.key"));
        fs::write(&cert_path, cert.pem())?;
        fs::write(&key_path, key.serialize_pem())?;
        Ok(Identity {
            name: name.to_string(),
            cert: cert_path,
            key: key_path,
        })
    }
}
