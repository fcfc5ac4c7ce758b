//! Kiosk enrollment, without HTTP: the kiosk CA (the CA the broker trusts for kiosks' client
//! certificates; key and self-signed certificate generated on first start beside the signing key, like
//! it), one-time enrollment tokens (only their SHA-256 is stored; single use, with an expiry, revocable)
//! and the record of every certificate issued.
//!
//! A token is claimed by one conditional `UPDATE` in the transaction that records the certificate, so two
//! requests racing with one token cannot both get a certificate, on SQLite or PostgreSQL.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use jachai_protocol::KioskId;
use rand::RngCore as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SerialNumber,
};
use serde::Serialize;
use sqlx::Row;

use crate::objects::sha256_hex;
use crate::store::{Ctx, Store, StoreError};

/// Kiosk ids a token is never issued for: `cloud` is the aggregator's broker identity (its ACL reads
/// every kiosk's uplink), `web` the reserved kiosk of web reports.
pub const RESERVED_IDS: &[&str] = &["cloud", "web"];

/// How long the kiosk CA is valid.
const CA_YEARS: i64 = 20;

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("kiosk CA {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("kiosk CA {path}: {what}")]
    Bad { path: PathBuf, what: String },
    #[error("kiosk CA: {path} exists but {missing} does not; restore it or move both away")]
    Half { path: PathBuf, missing: PathBuf },
    #[error("kiosk CA: generating: {0}")]
    Generate(#[from] rcgen::Error),
}

/// Why a CSR was refused.
#[derive(Debug, thiserror::Error)]
pub enum CsrError {
    #[error("the CSR is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the CSR is unusable: {0}")]
    Unreadable(String),
    #[error("signing the certificate: {0}")]
    Sign(String),
}

/// A certificate issued to a kiosk.
#[derive(Debug, Clone)]
pub struct Issued {
    pub pem: String,
    /// Hex of the serial number.
    pub serial: String,
    pub not_after: i64,
}

/// The CA that signs kiosks' client certificates.
pub struct KioskCa {
    cert_pem: String,
    issuer: rcgen::Certificate,
    key: KeyPair,
}

impl std::fmt::Debug for KioskCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KioskCa").finish_non_exhaustive()
    }
}

fn offset(unix: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// A positive random 128-bit serial number, and its hex.
fn random_serial() -> (SerialNumber, String) {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    (SerialNumber::from_slice(&bytes), hex)
}

/// The CA's subject and extensions; the validity matters only when it is made.
fn ca_params(now: i64) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "Jachai kiosk CA");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Jachai");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = offset(now - 3600);
    params.not_after = offset(now + CA_YEARS * 365 * 86_400);
    params
}

/// A CSR's public key, as rcgen signs it into a certificate.
struct CsrKey {
    alg: &'static rcgen::SignatureAlgorithm,
    key: Vec<u8>,
}

impl rcgen::PublicKeyData for CsrKey {
    fn der_bytes(&self) -> &[u8] {
        &self.key
    }
    fn algorithm(&self) -> &rcgen::SignatureAlgorithm {
        self.alg
    }
}

/// Reads a PEM CSR and checks its self-signature: the requester holds the private key.
fn read_csr(csr_pem: &str) -> Result<CsrKey, CsrError> {
    use jachai_protocol::enroll::KeyKind;
    use ring::signature;
    use rustls::pki_types::pem::PemObject as _;
    let der =
        rustls::pki_types::CertificateSigningRequestDer::from_pem_slice(csr_pem.as_bytes())
            .map_err(|e| CsrError::Unreadable(format!("no PEM CERTIFICATE REQUEST block: {e}")))?;
    let parts = jachai_protocol::enroll::parse_csr(der.as_ref()).map_err(|e| match e {
        jachai_protocol::ProtocolError::Malformed(m) => CsrError::Unreadable(m),
        other => CsrError::Unreadable(other.to_string()),
    })?;
    let (verify, alg): (&dyn signature::VerificationAlgorithm, _) = match parts.kind {
        KeyKind::EcdsaP256 => (
            &signature::ECDSA_P256_SHA256_ASN1,
            &rcgen::PKCS_ECDSA_P256_SHA256,
        ),
        KeyKind::EcdsaP384 => (
            &signature::ECDSA_P384_SHA384_ASN1,
            &rcgen::PKCS_ECDSA_P384_SHA384,
        ),
        KeyKind::Ed25519 => (&signature::ED25519, &rcgen::PKCS_ED25519),
    };
    signature::UnparsedPublicKey::new(verify, &parts.public_key)
        .verify(&parts.info, &parts.signature)
        .map_err(|_| CsrError::Unreadable("its signature does not match its key".into()))?;
    Ok(CsrKey {
        alg,
        key: parts.public_key,
    })
}

impl KioskCa {
    /// Loads the CA certificate and key, or creates both (key mode 0600, written to a temp file, fsynced,
    /// renamed) when neither exists. One without the other is an error: the broker may already trust the
    /// certificate, so it is never replaced silently. The certificate must be one this service made (its
    /// subject is fixed) and hold the key's public half.
    pub fn load_or_create(cert: &Path, key: &Path) -> Result<KioskCa, CaError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CaError::Io { path, source }
        };
        match (cert.exists(), key.exists()) {
            (false, false) => {
                let key_pair = KeyPair::generate()?;
                let mut params = ca_params(crate::store::now());
                params.serial_number = Some(random_serial().0);
                let ca = params.self_signed(&key_pair)?;
                if let Some(dir) = key.parent() {
                    fs::create_dir_all(dir).map_err(io(key))?;
                }
                if let Some(dir) = cert.parent() {
                    fs::create_dir_all(dir).map_err(io(cert))?;
                }
                write_atomic(key, key_pair.serialize_pem().as_bytes(), 0o600).map_err(io(key))?;
                write_atomic(cert, ca.pem().as_bytes(), 0o644).map_err(io(cert))?;
                tracing::info!(cert = %cert.display(), "generated a new kiosk CA; the broker must trust it for client certificates");
            }
            (true, false) => {
                return Err(CaError::Half {
                    path: cert.into(),
                    missing: key.into(),
                })
            }
            (false, true) => {
                return Err(CaError::Half {
                    path: key.into(),
                    missing: cert.into(),
                })
            }
            (true, true) => {}
        }
        let cert_pem = fs::read_to_string(cert).map_err(io(cert))?;
        let key_pem = fs::read_to_string(key).map_err(io(key))?;
        let bad = |path: &Path, what: String| CaError::Bad {
            path: path.into(),
            what,
        };
        let key_pair =
            KeyPair::from_pem(&key_pem).map_err(|e| bad(key, format!("not a PEM key: {e}")))?;
        let der = pem_der(&cert_pem).ok_or_else(|| bad(cert, "no PEM certificate in it".into()))?;
        let on_disk = jachai_protocol::enroll::parse_certificate(&der)
            .map_err(|e| bad(cert, e.to_string()))?;
        // rcgen signs with an issuer *value*: rebuilt from the fixed subject and the key, it must name
        // exactly the certificate on disk.
        let issuer = ca_params(0).self_signed(&key_pair)?;
        let rebuilt = jachai_protocol::enroll::parse_certificate(issuer.der())
            .map_err(|e| bad(cert, e.to_string()))?;
        if on_disk.spki != rebuilt.spki {
            return Err(bad(
                cert,
                format!("its public key is not the key in {}", key.display()),
            ));
        }
        if on_disk.subject != rebuilt.subject {
            return Err(bad(
                cert,
                "its subject is not \"CN=Jachai kiosk CA, O=Jachai\": only a CA made by jachai-cloud can sign kiosk certificates".into(),
            ));
        }
        Ok(KioskCa {
            cert_pem,
            issuer,
            key: key_pair,
        })
    }

    /// The CA certificate, PEM (what the broker's client `cafile` must contain).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Checks a CSR (PEM, its self-signature verified) and signs a client certificate for `kiosk`: CN =
    /// the kiosk id whatever the CSR asked for, no SANs, `clientAuth` only, `days` of validity from an
    /// hour ago. Only the CSR's public key is used.
    pub fn issue(
        &self,
        kiosk: &KioskId,
        csr_pem: &str,
        days: u32,
        now: i64,
    ) -> Result<Issued, CsrError> {
        if csr_pem.len() > jachai_protocol::enroll::MAX_CSR_LEN {
            return Err(CsrError::TooLarge(jachai_protocol::enroll::MAX_CSR_LEN));
        }
        let public_key = read_csr(csr_pem)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, kiosk.as_str());
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        let not_after = now + i64::from(days) * 86_400;
        params.not_before = offset(now - 3600);
        params.not_after = offset(not_after);
        let (serial, serial_hex) = random_serial();
        params.serial_number = Some(serial);
        let cert = params
            .signed_by(&public_key, &self.issuer, &self.key)
            .map_err(|e| CsrError::Sign(e.to_string()))?;
        Ok(Issued {
            pem: cert.pem(),
            serial: serial_hex,
            not_after,
        })
    }
}

/// The DER of the first `CERTIFICATE` block of a PEM text.
fn pem_der(pem_text: &str) -> Option<Vec<u8>> {
    use rustls::pki_types::pem::PemObject as _;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem_text.as_bytes())
        .next()?
        .ok()
        .map(|c| c.to_vec())
}

fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

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
        if pem_der(&pem).is_none() {
            return Err(CaError::Bad {
                path: self.broker_ca.clone(),
                what: "no PEM certificate in the broker CA file".into(),
            });
        }
        Ok(pem)
    }
}

/// What a presented token turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenState {
    /// No such token.
    Unknown,
    Used,
    Revoked,
    Expired,
    /// Good for one enrollment of this kiosk.
    Pending {
        kiosk: String,
        hash: String,
    },
}

/// A token as the console lists it (never the token itself).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    /// The token's public id (for revoking).
    pub id: String,
    pub kiosk: String,
    pub label: String,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// `pending`, `used`, `expired` or `revoked`.
    pub state: String,
    pub used_at: Option<i64>,
}

/// A freshly issued token: shown once, then only its hash exists.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub id: String,
    pub token: String,
    pub expires_at: i64,
}

/// Why a token could not be issued or revoked.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Conflict(String),
    #[error("no enrollment token {0:?}")]
    NotFound(String),
}

/// Tokens and enrollments in the cloud database.
#[derive(Debug, Clone)]
pub struct Enrollments {
    store: Store,
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Enrollments {
    pub fn new(store: Store) -> Enrollments {
        Enrollments { store }
    }

    /// Issues a token for `kiosk` valid `ttl_s` seconds. Refused (conflict) while the kiosk has a pending
    /// token or was enrolled before, unless `replace`: then its pending tokens are revoked and the new
    /// enrollment will stand beside the old certificate until that one expires.
    pub async fn issue_token(
        &self,
        kiosk: &KioskId,
        label: &str,
        created_by: &str,
        ttl_s: u64,
        replace: bool,
        now: i64,
    ) -> Result<NewToken, TokenError> {
        let mut tx = self.store.begin().await?;
        let pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM enroll_tokens WHERE kiosk = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(kiosk.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .ctx("counting pending tokens")?;
        let enrolled: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM enrollments WHERE kiosk = $1")
            .bind(kiosk.as_str())
            .fetch_one(&mut *tx)
            .await
            .ctx("counting enrollments")?;
        if !replace && pending > 0 {
            return Err(TokenError::Conflict(format!(
                "kiosk {kiosk} already has a pending enrollment token; revoke it, or ask with \"replace\": true"
            )));
        }
        if !replace && enrolled > 0 {
            return Err(TokenError::Conflict(format!(
                "kiosk {kiosk} is enrolled already; to enroll it again (new SD card, new key) ask with \"replace\": true"
            )));
        }
        if replace {
            sqlx::query("UPDATE enroll_tokens SET revoked_at = $1 WHERE kiosk = $2 AND used_at IS NULL AND revoked_at IS NULL")
                .bind(now)
                .bind(kiosk.as_str())
                .execute(&mut *tx)
                .await
                .ctx("revoking pending tokens")?;
        }
        let token = crate::users::random_token();
        let (_, id) = random_serial();
        let id = id[..16].to_string();
        let expires_at = now.saturating_add(i64::try_from(ttl_s).unwrap_or(i64::MAX));
        sqlx::query(
            "INSERT INTO enroll_tokens (token_sha256, id, kiosk, label, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(sha256_hex(token.as_bytes()))
        .bind(&id)
        .bind(kiosk.as_str())
        .bind(label)
        .bind(created_by)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await
        .ctx("storing a token")?;
        tx.commit().await.ctx("committing a token")?;
        Ok(NewToken {
            id,
            token,
            expires_at,
        })
    }

    /// What `token` is, at `now`.
    pub async fn check(&self, token: &str, now: i64) -> Result<TokenState, StoreError> {
        if token.is_empty() || token.len() > jachai_protocol::enroll::MAX_TOKEN_LEN {
            return Ok(TokenState::Unknown);
        }
        let hash = sha256_hex(token.as_bytes());
        let row = sqlx::query(
            "SELECT token_sha256, kiosk, expires_at, used_at, revoked_at FROM enroll_tokens WHERE token_sha256 = $1",
        )
        .bind(&hash)
        .fetch_optional(self.store.pool())
        .await
        .ctx("reading a token")?;
        let Some(row) = row else {
            return Ok(TokenState::Unknown);
        };
        let stored: String = row.try_get(0).ctx("reading a token")?;
        if !constant_time_eq(stored.as_bytes(), hash.as_bytes()) {
            return Ok(TokenState::Unknown);
        }
        let used: Option<i64> = row.try_get(3).ctx("reading a token")?;
        let revoked: Option<i64> = row.try_get(4).ctx("reading a token")?;
        let expires_at: i64 = row.try_get(2).ctx("reading a token")?;
        Ok(if used.is_some() {
            TokenState::Used
        } else if revoked.is_some() {
            TokenState::Revoked
        } else if expires_at <= now {
            TokenState::Expired
        } else {
            TokenState::Pending {
                kiosk: row.try_get(1).ctx("reading a token")?,
                hash,
            }
        })
    }

    /// Claims the token (still pending at `now`) and records the certificate, in one transaction.
    /// `false` when another request claimed it first (or it was revoked or expired meanwhile).
    pub async fn claim(
        &self,
        hash: &str,
        kiosk: &str,
        issued: &Issued,
        peer: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.store.begin().await?;
        let claimed = sqlx::query(
            "UPDATE enroll_tokens SET used_at = $1 WHERE token_sha256 = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(hash)
        .execute(&mut *tx)
        .await
        .ctx("claiming a token")?
        .rows_affected();
        if claimed != 1 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO enrollments (serial, kiosk, token_sha256, enrolled_at, not_after, peer, cert_pem) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&issued.serial)
        .bind(kiosk)
        .bind(hash)
        .bind(now)
        .bind(issued.not_after)
        .bind(peer)
        .bind(&issued.pem)
        .execute(&mut *tx)
        .await
        .ctx("recording an enrollment")?;
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(now)
        .bind(format!("kiosk:{kiosk}"))
        .bind("kiosk_enrolled")
        .bind(kiosk)
        .bind(format!("serial {} from {peer}", issued.serial))
        .execute(&mut *tx)
        .await
        .ctx("auditing an enrollment")?;
        tx.commit().await.ctx("committing an enrollment")?;
        Ok(true)
    }

    /// Every token, newest first (at most 500).
    pub async fn list(&self, now: i64) -> Result<Vec<TokenView>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kiosk, label, created_by, created_at, expires_at, used_at, revoked_at FROM enroll_tokens ORDER BY created_at DESC, id LIMIT 500",
        )
        .fetch_all(self.store.pool())
        .await
        .ctx("listing tokens")?;
        rows.iter()
            .map(|r| {
                let expires_at: i64 = r.try_get(5).ctx("reading a token")?;
                let used_at: Option<i64> = r.try_get(6).ctx("reading a token")?;
                let revoked_at: Option<i64> = r.try_get(7).ctx("reading a token")?;
                let state = match (used_at, revoked_at) {
                    (Some(_), _) => "used",
                    (None, Some(_)) => "revoked",
                    _ if expires_at <= now => "expired",
                    _ => "pending",
                };
                Ok(TokenView {
                    id: r.try_get(0).ctx("reading a token")?,
                    kiosk: r.try_get(1).ctx("reading a token")?,
                    label: r.try_get(2).ctx("reading a token")?,
                    created_by: r.try_get(3).ctx("reading a token")?,
                    created_at: r.try_get(4).ctx("reading a token")?,
                    expires_at,
                    state: state.to_string(),
                    used_at,
                })
            })
            .collect()
    }

    /// Revokes a pending token by id; returns its kiosk.
    pub async fn revoke(&self, id: &str, now: i64) -> Result<String, TokenError> {
        let mut tx = self.store.begin().await?;
        let row = sqlx::query("SELECT kiosk, used_at FROM enroll_tokens WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .ctx("reading a token")?;
        let Some(row) = row else {
            return Err(TokenError::NotFound(id.to_string()));
        };
        let kiosk: String = row.try_get(0).ctx("reading a token")?;
        let used: Option<i64> = row.try_get(1).ctx("reading a token")?;
        if used.is_some() {
            return Err(TokenError::Conflict(format!(
                "token {id} was used already; the kiosk's certificate stays valid until it expires"
            )));
        }
        sqlx::query(
            "UPDATE enroll_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .ctx("revoking a token")?;
        tx.commit().await.ctx("committing a revocation")?;
        Ok(kiosk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca(dir: &Path) -> KioskCa {
        KioskCa::load_or_create(&dir.join("kiosk-ca.crt"), &dir.join("kiosk-ca.key")).expect("ca")
    }

    #[test]
    fn generated_once_then_loaded_with_a_private_key_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = ca(dir.path());
        let b = ca(dir.path());
        assert_eq!(a.cert_pem(), b.cert_pem());
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir.path().join("kiosk-ca.key"))
            .expect("meta")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn half_a_ca_or_a_mismatched_pair_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        ca(dir.path());
        fs::remove_file(dir.path().join("kiosk-ca.key")).expect("rm");
        let err = KioskCa::load_or_create(
            &dir.path().join("kiosk-ca.crt"),
            &dir.path().join("kiosk-ca.key"),
        )
        .expect_err("half");
        assert!(err.to_string().contains("does not"), "{err}");
        fs::write(
            dir.path().join("kiosk-ca.key"),
            KeyPair::generate().expect("key").serialize_pem(),
        )
        .expect("write");
        let err = KioskCa::load_or_create(
            &dir.path().join("kiosk-ca.crt"),
            &dir.path().join("kiosk-ca.key"),
        )
        .expect_err("mismatch");
        assert!(err.to_string().contains("public key"), "{err}");
    }

    #[test]
    fn the_certificate_names_the_kiosk_whatever_the_csr_asked_for() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = ca(dir.path());
        let kiosk = KioskId::new("kiosk-7").expect("id");
        for alg in [
            &rcgen::PKCS_ECDSA_P256_SHA256,
            &rcgen::PKCS_ECDSA_P384_SHA384,
            &rcgen::PKCS_ED25519,
        ] {
            let key = KeyPair::generate_for(alg).expect("key");
            let mut req = CertificateParams::new(vec!["evil.example".to_string()]).expect("params");
            req.distinguished_name = DistinguishedName::new();
            req.distinguished_name.push(DnType::CommonName, "cloud");
            let csr = req
                .serialize_request(&key)
                .expect("csr")
                .pem()
                .expect("pem");
            let issued = ca.issue(&kiosk, &csr, 30, 1_800_000_000).expect("issued");
            let der = pem_der(&issued.pem).expect("pem");
            let parts = jachai_protocol::enroll::parse_certificate(&der).expect("parts");
            assert_eq!(parts.common_names, ["kiosk-7"]);
            assert_eq!(parts.spki, key.public_key_der());
            assert!(!issued.pem.contains("evil"), "no SAN copied");
        }
    }

    #[test]
    fn a_csr_whose_signature_is_not_its_keys_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = ca(dir.path());
        let key = KeyPair::generate().expect("key");
        let csr = CertificateParams::new(Vec::<String>::new())
            .expect("params")
            .serialize_request(&key)
            .expect("csr");
        let mut der = csr.der().to_vec();
        let n = der.len();
        der[n - 3] ^= 0x5a;
        use base64::Engine as _;
        let pem = format!(
            "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
            base64::engine::general_purpose::STANDARD.encode(&der)
        );
        let kiosk = KioskId::new("kiosk-7").expect("id");
        assert!(matches!(
            ca.issue(&kiosk, &pem, 30, 1_800_000_000),
            Err(CsrError::Unreadable(_))
        ));
    }

    #[test]
    fn garbage_is_no_csr() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = ca(dir.path());
        let kiosk = KioskId::new("kiosk-7").expect("id");
        for bad in [
            "",
            "hello",
            "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
        ] {
            assert!(matches!(
                ca.issue(&kiosk, bad, 30, 1_800_000_000),
                Err(CsrError::Unreadable(_))
            ));
        }
        let huge = "A".repeat(jachai_protocol::enroll::MAX_CSR_LEN + 1);
        assert!(matches!(
            ca.issue(&kiosk, &huge, 30, 1_800_000_000),
            Err(CsrError::TooLarge(_))
        ));
    }
}
