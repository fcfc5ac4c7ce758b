//! mTLS for the broker connection: rustls with the `ring` provider (aws-lc-rs does not
//! cross-compile to ARMv7), the CA that signed the broker's certificate, and the kiosk's client
//! certificate and key, all PEM.

use std::sync::Arc;

use anyhow::Context as _;
use rumqttc::{TlsConfiguration, Transport};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::TlsFiles;

/// The rustls client configuration for `files`.
pub fn client_config(files: &TlsFiles) -> anyhow::Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&files.ca)
        .with_context(|| format!("reading CA file {}", files.ca.display()))?
    {
        let cert = cert.with_context(|| format!("parsing CA file {}", files.ca.display()))?;
        roots.add(cert).context("adding a CA certificate")?;
    }
    if roots.is_empty() {
        anyhow::bail!("no certificate in CA file {}", files.ca.display());
    }
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .with_context(|| format!("reading certificate file {}", files.cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing certificate file {}", files.cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("no certificate in {}", files.cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .with_context(|| format!("reading key file {}", files.key.display()))?;
    // rustls 0.23.48 deprecates the ring provider in favour of aws-lc-rs (post-quantum key
    // exchange), but aws-lc-rs does not cross-compile to the Pi's ARMv7; ring is the choice.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .context("client certificate and key do not match")?;
    Ok(config)
}

/// The rumqttc transport for `files`.
pub fn transport(files: &TlsFiles) -> anyhow::Result<Transport> {
    let config = client_config(files)?;
    Ok(Transport::tls_with_config(TlsConfiguration::Rustls(
        Arc::new(config),
    )))
}
