//! Kiosk enrollment, without HTTP: the kiosk CA (`ca.rs`: the CA the broker trusts for kiosks' client
//! certificates, made on first start beside the signing key like it; CSRs checked and signed), one-time
//! enrollment tokens and the record of every certificate issued (`tokens.rs`), and [`Enroller`], what the
//! HTTP side holds.

mod ca;
mod tokens;

use std::fs;
use std::path::PathBuf;

pub use ca::{CaError, CsrError, Issued, KioskCa};
pub use tokens::{Enrollments, NewToken, TokenError, TokenState, TokenView};

use crate::store::Store;

/// Kiosk ids a token is never issued for: `cloud` is the aggregator's broker identity (its ACL reads
/// every kiosk's uplink), `web` the reserved kiosk of web reports.
pub const RESERVED_IDS: &[&str] = &["cloud", "web"];

/// Everything the enrollment endpoints need: the CA, the token store and what a kiosk is told.
#[derive(Debug)]
pub struct Enroller {
    pub ca: KioskCa,
    pub enrollments: Enrollments,
    /// `host:port` of the broker, as kiosks reach it.
    pub broker: String,
    /// The file of the CA(s) the broker's server certificate chains to (read for each enrollment, so a
    /// changed file needs no restart).
    pub broker_ca: PathBuf,
    /// The downlink signing key: public key hex and key id.
    pub signing_key: String,
    pub signing_key_id: String,
    pub token_ttl_s: u64,
    pub cert_days: u32,
}

impl Enroller {
    /// Loads (or creates) the kiosk CA. A broker CA file that cannot be read yet is only warned about.
    pub fn open(
        cfg: &crate::Config,
        store: Store,
        signer: &jachai_protocol::sign::Signer,
    ) -> Result<Enroller, CaError> {
        let (cert, key) = cfg.kiosk_ca_paths();
        let ca = KioskCa::load_or_create(&cert, &key)?;
        let broker_ca = cfg
            .enroll
            .broker_ca
            .clone()
            .unwrap_or_else(|| cfg.mqtt.ca.clone());
        let enroller = Enroller {
            ca,
            enrollments: Enrollments::new(store),
            broker: cfg.enroll_broker(),
            broker_ca,
            signing_key: signer.public_hex(),
            signing_key_id: signer.key_id().to_string(),
            token_ttl_s: cfg.enroll.token_ttl_s,
            cert_days: cfg.enroll.cert_days.max(1),
        };
        if let Err(e) = enroller.broker_ca_pem() {
            tracing::warn!(error = %e, "kiosks cannot enroll until the broker CA file is readable");
        }
        Ok(enroller)
    }

    /// The broker CA file's PEM, checked to hold a certificate.
    pub fn broker_ca_pem(&self) -> Result<String, CaError> {
        let pem = fs::read_to_string(&self.broker_ca).map_err(|source| CaError::Io {
            path: self.broker_ca.clone(),
            source,
        })?;
        if ca::pem_der(&pem).is_none() {
            return Err(CaError::Bad {
                path: self.broker_ca.clone(),
                what: "no PEM certificate in the broker CA file".into(),
            });
        }
        Ok(pem)
    }
}
