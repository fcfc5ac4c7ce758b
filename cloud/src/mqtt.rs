//! The MQTT client options: TLS with a client certificate (rustls, `ring` provider), a persistent session for
//! a named instance, manual acks (a message is PUBACKed only after its batch is committed), 1 MiB packets.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{MqttOptions, TlsConfiguration, Transport};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

use crate::config::Config;

/// Largest MQTT packet either way (the broker's `max_packet_size`).
pub const MAX_PACKET: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("reading {path}: {detail}")]
    Pem { path: String, detail: String },
    #[error("TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
}

fn pem_err(path: &Path) -> impl Fn(rustls::pki_types::pem::Error) -> TlsError + '_ {
    move |e| TlsError::Pem {
        path: path.display().to_string(),
        detail: e.to_string(),
    }
}

/// A rustls client configuration trusting `ca` and presenting `cert` / `key`.
pub fn tls_config(ca: &Path, cert: &Path, key: &Path) -> Result<ClientConfig, TlsError> {
    // rustls 0.23.48 deprecates the ring provider in favour of aws-lc-rs (post-quantum key exchange), but
    // aws-lc-rs does not cross-compile to the Pi's ARMv7 and the kiosks speak ring's suites; ring it is.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).map_err(pem_err(ca))? {
        roots.add(c.map_err(pem_err(ca))?)?;
    }
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(pem_err(cert))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem_err(cert))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(pem_err(key))?;
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(certs, key)?)
}

/// Options for one cloud instance.
pub fn options(cfg: &Config) -> Result<MqttOptions, TlsError> {
    let m = &cfg.mqtt;
    let mut opts = MqttOptions::new(cfg.client_id(), m.host.clone(), m.port);
    opts.set_keep_alive(Duration::from_secs(m.keep_alive_s.max(5)));
    // A named instance keeps its session: while it restarts the broker queues its share of the uplink
    // and redelivers what it had not PUBACKed. An unnamed one (pid-based id) must not leave sessions behind.
    opts.set_clean_session(m.client_id.is_none());
    opts.set_manual_acks(true);
    opts.set_max_packet_size(MAX_PACKET, MAX_PACKET);
    opts.set_inflight(m.inflight.max(1));
    let tls = tls_config(&m.ca, &m.cert, &m.key)?;
    opts.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
        Arc::new(tls),
    )));
    Ok(opts)
}
