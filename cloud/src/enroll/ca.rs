//! The kiosk CA: its key and self-signed certificate (made once, never replaced silently), and the one
//! thing it does: check a kiosk's CSR (its self-signature, with `ring`) and sign a client certificate
//! whose CN is the kiosk id the cloud chose.

use std::fs;
use std::path::{Path, PathBuf};

use jachai_protocol::KioskId;
use rand::RngCore as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SerialNumber,
};

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
pub(super) fn random_serial() -> (SerialNumber, String) {
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
                crate::signing::write_atomic(key, key_pair.serialize_pem().as_bytes(), 0o600)
                    .map_err(io(key))?;
                crate::signing::write_atomic(cert, ca.pem().as_bytes(), 0o644).map_err(io(cert))?;
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
pub(super) fn pem_der(pem_text: &str) -> Option<Vec<u8>> {
    use rustls::pki_types::pem::PemObject as _;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem_text.as_bytes())
        .next()?
        .ok()
        .map(|c| c.to_vec())
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
