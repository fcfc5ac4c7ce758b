//! Enrollment over HTTPS: a new kiosk sends a one-time token (issued in the admin console) and a
//! certificate signing request made on the kiosk; the cloud answers with the kiosk's id, its client
//! certificate (CN = the id, set by the cloud), the CA the broker's server certificate chains to, the
//! downlink signing public key and the broker's address. The private key never leaves the kiosk.
//!
//! These are the only types of the exchange; both ends encode and decode through them. [`parse_csr`] and
//! [`parse_certificate`] read just the parts of a CSR and of a certificate the two ends check (DER in,
//! no signature maths here).

use serde::{Deserialize, Serialize};

use crate::{KioskId, ProtocolError};

/// Where the cloud answers enrollments (`POST`, JSON body [`EnrollRequest`]).
pub const ENROLL_PATH: &str = "/api/v1/enroll";

/// The longest token the cloud looks at; longer ones are refused unread.
pub const MAX_TOKEN_LEN: usize = 128;

/// The longest CSR (PEM) the cloud parses.
pub const MAX_CSR_LEN: usize = 16 * 1024;

/// What a kiosk sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// The one-time enrollment token shown once in the admin console.
    pub token: String,
    /// A PKCS#10 certificate signing request, PEM, made with the kiosk's new private key. Its
    /// subject is ignored: the certificate's CN is the kiosk id the token was issued for.
    pub csr_pem: String,
}

/// What the cloud answers to a good token and CSR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollResponse {
    /// The kiosk's id (the token's); the certificate's CN and the broker username.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub kiosk: KioskId,
    /// The kiosk's client certificate, PEM, signed by the cloud's kiosk CA.
    pub certificate_pem: String,
    /// The CA certificate(s), PEM, that the broker's server certificate chains to.
    pub broker_ca_pem: String,
    /// The broker as `host:port`.
    pub broker: String,
    /// The cloud's ed25519 downlink public key, 64 hex digits (what `--trusted-key` files hold).
    pub signing_key: String,
    /// The key's short id, as the console shows it, for comparing by eye.
    pub signing_key_id: String,
    /// When the certificate stops being valid (Unix seconds); re-enroll before then.
    pub not_after: i64,
}

/// A key algorithm a kiosk may enroll with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA on P-256, the CSR signed with SHA-256 (what `jachai-sync enroll` makes).
    EcdsaP256,
    /// ECDSA on P-384, the CSR signed with SHA-384.
    EcdsaP384,
    Ed25519,
}

/// The parts of a PKCS#10 request the cloud needs: what was signed, the signature and the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrParts {
    /// The DER of `CertificationRequestInfo`: the signed bytes.
    pub info: Vec<u8>,
    pub kind: KeyKind,
    /// The public key: the contents of the SPKI's BIT STRING.
    pub public_key: Vec<u8>,
    /// The signature over `info` (for ECDSA, ASN.1 DER `r, s`).
    pub signature: Vec<u8>,
}

/// The parts of an X.509 certificate a kiosk checks in its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertParts {
    /// The DER of the subject `Name`.
    pub subject: Vec<u8>,
    /// The subject's common names (UTF8String or PrintableString).
    pub common_names: Vec<String>,
    /// The DER of the `SubjectPublicKeyInfo`.
    pub spki: Vec<u8>,
}

const OID_EC_PUBLIC_KEY: &[u64] = &[1, 2, 840, 10045, 2, 1];
const OID_P256: &[u64] = &[1, 2, 840, 10045, 3, 1, 7];
const OID_P384: &[u64] = &[1, 3, 132, 0, 34];
const OID_ED25519: &[u64] = &[1, 3, 101, 112];
const OID_ECDSA_SHA256: &[u64] = &[1, 2, 840, 10045, 4, 3, 2];
const OID_ECDSA_SHA384: &[u64] = &[1, 2, 840, 10045, 4, 3, 3];
const OID_COMMON_NAME: &[u64] = &[2, 5, 4, 3];

/// yasna's errors say only "invalid" or "EOF": the part that failed is what tells.
fn malformed(what: &str, _: yasna::ASN1Error) -> ProtocolError {
    ProtocolError::malformed(what)
}

/// An `AlgorithmIdentifier`: its OID and, when the parameter is an OID, that.
fn read_algorithm(r: yasna::BERReader<'_, '_>) -> yasna::ASN1Result<(Vec<u64>, Option<Vec<u64>>)> {
    r.read_sequence(|r| {
        let oid = r.next().read_oid()?.components().clone();
        let param = r.read_optional(|r| r.read_oid())?;
        // Anything else (NULL for RSA) is read and ignored; the algorithm decides.
        let _ = r.read_optional(|r| r.read_der())?;
        Ok((oid, param.map(|p| p.components().clone())))
    })
}

/// Reads a DER `CertificationRequest`. Only ECDSA P-256 / P-384 and Ed25519 keys are accepted, each with
/// its own signature algorithm.
pub fn parse_csr(der: &[u8]) -> Result<CsrParts, ProtocolError> {
    let (info, sig_alg, signature) = yasna::parse_der(der, |r| {
        r.read_sequence(|r| {
            let info = r.next().read_der()?;
            let (sig_alg, _) = read_algorithm(r.next())?;
            let (signature, _bits) = r.next().read_bitvec_bytes()?;
            Ok((info, sig_alg, signature))
        })
    })
    .map_err(|e| malformed("not a DER PKCS#10 request", e))?;
    let ((key_alg, key_param), public_key) = yasna::parse_der(&info, |r| {
        r.read_sequence(|r| {
            let version = r.next().read_u8()?;
            if version != 0 {
                return Err(yasna::ASN1Error::new(yasna::ASN1ErrorKind::Invalid));
            }
            let _subject = r.next().read_der()?;
            let spki = r.next().read_sequence(|r| {
                let alg = read_algorithm(r.next())?;
                let (key, _bits) = r.next().read_bitvec_bytes()?;
                Ok((alg, key))
            })?;
            // Attributes ([0]); whatever they ask for, the cloud decides the certificate's contents.
            let _ = r.read_optional(|r| r.read_der())?;
            Ok(spki)
        })
    })
    .map_err(|e| malformed("not a PKCS#10 request body", e))?;
    let kind = match (key_alg.as_slice(), key_param.as_deref(), sig_alg.as_slice()) {
        (OID_EC_PUBLIC_KEY, Some(OID_P256), OID_ECDSA_SHA256) => KeyKind::EcdsaP256,
        (OID_EC_PUBLIC_KEY, Some(OID_P384), OID_ECDSA_SHA384) => KeyKind::EcdsaP384,
        (OID_ED25519, None, OID_ED25519) => KeyKind::Ed25519,
        _ => {
            return Err(ProtocolError::malformed(format_args!(
                "unsupported key or signature algorithm (key {key_alg:?}, signature {sig_alg:?}); use ECDSA P-256"
            )))
        }
    };
    Ok(CsrParts {
        info,
        kind,
        public_key,
        signature,
    })
}

/// The common names in a DER `Name`.
fn common_names(name: &[u8]) -> Result<Vec<String>, ProtocolError> {
    let mut out = Vec::new();
    yasna::parse_der(name, |r| {
        r.read_sequence_of(|r| {
            r.read_set_of(|r| {
                r.read_sequence(|r| {
                    let oid = r.next().read_oid()?;
                    let value = r.next();
                    let text = match value.lookahead_tag()? {
                        yasna::tags::TAG_UTF8STRING => value.read_utf8string()?,
                        yasna::tags::TAG_PRINTABLESTRING => value.read_printable_string()?,
                        _ => {
                            let _ = value.read_der()?;
                            return Ok(());
                        }
                    };
                    if oid.components().as_slice() == OID_COMMON_NAME {
                        out.push(text);
                    }
                    Ok(())
                })
            })
        })
    })
    .map_err(|e| malformed("not an X.509 name", e))?;
    Ok(out)
}

/// Reads the subject and the public key of a DER X.509 certificate.
pub fn parse_certificate(der: &[u8]) -> Result<CertParts, ProtocolError> {
    let tbs = yasna::parse_der(der, |r| {
        r.read_sequence(|r| {
            let tbs = r.next().read_der()?;
            let _sig_alg = r.next().read_der()?;
            let _sig = r.next().read_der()?;
            Ok(tbs)
        })
    })
    .map_err(|e| malformed("not a certificate", e))?;
    let (subject, spki) = yasna::parse_der(&tbs, |r| {
        r.read_sequence(|r| {
            let _version =
                r.read_optional(|r| r.read_tagged(yasna::Tag::context(0), |r| r.read_u8()))?;
            let _serial = r.next().read_der()?;
            let _sig_alg = r.next().read_der()?;
            let _issuer = r.next().read_der()?;
            let _validity = r.next().read_der()?;
            let subject = r.next().read_der()?;
            let spki = r.next().read_der()?;
            while r.read_optional(|r| r.read_der())?.is_some() {}
            Ok((subject, spki))
        })
    })
    .map_err(|e| malformed("not a certificate body", e))?;
    Ok(CertParts {
        common_names: common_names(&subject)?,
        subject,
        spki,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn any_bytes_are_read_or_refused_never_a_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = parse_csr(&bytes);
            let _ = parse_certificate(&bytes);
            let mut seq = vec![0x30, 0x82, 0x01, 0x00];
            seq.extend_from_slice(&bytes);
            let _ = parse_csr(&seq);
            let _ = parse_certificate(&seq);
        }
    }

    #[test]
    fn garbage_is_neither_a_csr_nor_a_certificate() {
        for bad in [
            &b""[..],
            b"\x30",
            b"\x30\x03\x02\x01\x00",
            b"hello world",
            &[0x30, 0x80, 0, 0],
        ] {
            assert!(parse_csr(bad).is_err(), "{bad:?}");
            assert!(parse_certificate(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        let ok: EnrollRequest =
            serde_json::from_str(r#"{"token":"t","csr_pem":"c"}"#).expect("parses");
        assert_eq!(ok.token, "t");
        assert!(serde_json::from_str::<EnrollRequest>(
            r#"{"token":"t","csr_pem":"c","kiosk":"other"}"#
        )
        .is_err());
    }

    #[test]
    fn a_response_with_a_bad_kiosk_id_is_refused() {
        let text = r#"{"kiosk":"NOT OK","certificate_pem":"","broker_ca_pem":"","broker":"b:1","signing_key":"","signing_key_id":"","not_after":0}"#;
        assert!(serde_json::from_str::<EnrollResponse>(text).is_err());
    }
}
