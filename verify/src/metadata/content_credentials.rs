//! Content Credentials (C2PA): the manifest store embedded in a picture, read and validated with
//! the `c2pa` crate, offline.
//!
//! What a manifest can tell: who signed it (the certificate's organisation), which program made
//! the claim, and — in its actions — how the picture came to be (`digitalSourceType`, e.g.
//! `trainedAlgorithmicMedia` for an AI generator, `compositeWithTrainedAlgorithmicMedia` for an
//! AI edit such as generative fill). Validation checks the claim signature and the hash of the
//! picture's bytes: a manifest whose hash no longer matches says the picture was changed after it
//! was signed.
//!
//! What it cannot tell: the kiosk holds no C2PA trust list, so a valid signature proves only that
//! the manifest is intact, not who the signer is; and most pictures carry no manifest at all
//! (messengers and screenshots drop it), so its absence says nothing.
//!
//! The reader runs only when the bytes hold a C2PA JUMBF label, so ordinary pictures cost one
//! byte scan. No network: the crate is built without its HTTP features and remote manifests are
//! never fetched.

use std::io::Cursor;

use c2pa::validation_results::ValidationState;
use c2pa::{Context, Reader};
use memchr::memmem;

use crate::intake::Format;

/// The IPTC digital source types that mean an AI model made (all or part of) the picture.
const AI_MADE: &str = "trainedAlgorithmicMedia";
const AI_PART: &str = "compositeWithTrainedAlgorithmicMedia";
const AI_DATA: &str = "trainedAlgorithmicData";

/// How far a manifest store's checks went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Validity {
    /// Signature and picture hash verify; the signer is in no trust list the kiosk holds.
    Intact,
    /// Signature and hash verify and the signer chains to a trusted root.
    Trusted,
    /// A check failed: the codes the validator gave (e.g. `assertion.dataHash.mismatch`).
    Broken(Vec<String>),
    /// A C2PA label is in the bytes but no manifest store could be read from them.
    Unreadable(String),
}

/// What the manifest store says, in the terms the metadata stage reports.
#[derive(Debug, Clone)]
pub(super) struct Credentials {
    pub validity: Validity,
    /// Names in the active manifest's `claim_generator_info` (and the older `claim_generator`).
    pub generators: Vec<String>,
    /// The signing certificate's organisation, else its common name.
    pub signer: Option<String>,
    /// The AI digital source type found in any manifest of the store, the active one first.
    pub ai_source_type: Option<AiSource>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AiSource {
    /// The picture was made by a trained model.
    Generated,
    /// The picture was edited with, or composed from, model output.
    Composite,
}

impl Credentials {
    /// `"signed by X; signature and picture hash verify (signer in no trust list here)"`, …
    pub fn describe(&self) -> String {
        let by = self
            .signer
            .as_deref()
            .map(|s| format!("signed by \"{s}\""))
            .unwrap_or_else(|| "signer unnamed".into());
        match &self.validity {
            Validity::Trusted => format!("{by}; signature and picture hash verify"),
            Validity::Intact => format!(
                "{by}; signature and picture hash verify, the signer is in no trust list on this kiosk"
            ),
            Validity::Broken(codes) => format!("{by}; its checks fail: {}", codes.join(", ")),
            Validity::Unreadable(why) => format!("unreadable manifest ({why})"),
        }
    }

    /// True when the manifest's own checks say the picture changed after signing or the claim
    /// was altered, i.e. more than an untrusted or expired signer.
    pub fn broken(&self) -> bool {
        matches!(&self.validity, Validity::Broken(codes) if !codes.is_empty())
    }
}

/// Read and validate the C2PA manifest store in `bytes`, if any.
pub(super) fn read(bytes: &[u8], format: Format) -> Option<Credentials> {
    memmem::find(bytes, b"c2pa")?;
    let mime = match format {
        Format::Jpeg => "image/jpeg",
        Format::Png => "image/png",
        Format::Webp => "image/webp",
        Format::Tiff => "image/tiff",
    };
    let reader = match Reader::from_context(Context::new()).with_stream(mime, Cursor::new(bytes)) {
        Ok(r) => r,
        // A picture that merely contains the four letters somewhere carries no manifest.
        Err(c2pa::Error::JumbfNotFound) | Err(c2pa::Error::ProvenanceMissing) => return None,
        Err(e) => {
            return Some(Credentials {
                validity: Validity::Unreadable(short(&e.to_string())),
                generators: Vec::new(),
                signer: None,
                ai_source_type: None,
            })
        }
    };
    let validity = match reader.validation_state() {
        ValidationState::Trusted => Validity::Trusted,
        ValidationState::Valid => Validity::Intact,
        ValidationState::Invalid => Validity::Broken(failure_codes(&reader)),
    };
    let active = reader.active_manifest();
    let mut generators: Vec<String> = Vec::new();
    if let Some(m) = active {
        for info in m.claim_generator_info.iter().flatten() {
            generators.push(info.name.clone());
        }
        if let Some(g) = m.claim_generator() {
            generators.push(g.to_owned());
        }
    }
    generators.retain(|g| !g.trim().is_empty());
    generators.truncate(8);
    let signer = active
        .and_then(|m| m.signature_info())
        .and_then(|s| s.issuer.clone().or_else(|| s.common_name.clone()));
    // The active manifest first, then its ingredients' manifests.
    let mut ai_source_type = active.and_then(ai_source);
    if ai_source_type.is_none() {
        ai_source_type = reader
            .iter_manifests()
            .filter_map(ai_source)
            .next()
            .map(|_| AiSource::Composite);
    }
    Some(Credentials {
        validity,
        generators,
        signer,
        ai_source_type,
    })
}

/// The validator's failure codes, less the ones that only say the signer is unknown here (no
/// trust list on the kiosk) — those leave the manifest intact.
fn failure_codes(reader: &Reader) -> Vec<String> {
    let mut codes: Vec<String> = reader
        .validation_status()
        .unwrap_or(&[])
        .iter()
        .filter(|s| !s.passed())
        .map(|s| s.code().to_owned())
        .filter(|c| c != "signingCredential.untrusted")
        .collect();
    codes.dedup();
    codes.truncate(6);
    codes
}

/// The AI digital source type in a manifest's actions, if any.
fn ai_source(m: &c2pa::Manifest) -> Option<AiSource> {
    let mut found = None;
    for a in m.assertions() {
        if !a.label().starts_with("c2pa.actions") {
            continue;
        }
        let Ok(value) = a.value() else { continue };
        let actions = value.get("actions").and_then(|v| v.as_array());
        for action in actions.into_iter().flatten() {
            let Some(t) = action.get("digitalSourceType").and_then(|v| v.as_str()) else {
                continue;
            };
            if t.ends_with(AI_PART) {
                found = found.or(Some(AiSource::Composite));
            } else if t.ends_with(AI_MADE) || t.ends_with(AI_DATA) {
                return Some(AiSource::Generated);
            }
        }
    }
    found
}

fn short(s: &str) -> String {
    let s: String = s.chars().filter(|c| !c.is_control()).take(120).collect();
    s.trim().to_owned()
}
