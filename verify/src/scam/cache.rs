//! The result cache key: the same bytes checked by the same pipeline version with the same
//! reference data give the same report, so the kiosk store (and the cloud) can answer a repeated
//! check at once. `verify` only names the key; the callers keep the cache.
//!
//! What the key does not cover: the history a [`super::SourceIndex`] holds (`seen_before` counts
//! change as a kiosk checks more pictures). A caller answering from its cache refreshes that
//! finding itself, or lets the entry age out.

use sha2::{Digest, Sha256};

use crate::pipeline::Config;
use crate::report::DocumentKind;

/// Version of the checks: bumped whenever a change to the pipeline can change a report for the
/// same input.
pub const PIPELINE_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "+checks.3");

/// `kind/pipeline version/reference-data digest/sha256 of the bytes`, e.g.
/// `image/0.1.0+checks.2/3f2a…/9c4e…`. Only printable ASCII, at most about 170 bytes.
pub fn cache_key(bytes: &[u8], kind: DocumentKind, config: &Config) -> String {
    let refs = Sha256::digest(config.scam.reference_versions().as_bytes());
    format!(
        "{}/{}/{}/{}",
        kind.as_str(),
        PIPELINE_VERSION,
        hex(refs.get(..8).unwrap_or(&[])),
        hex(&Sha256::digest(bytes)),
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::scam::Lexicon;

    #[test]
    fn same_bytes_same_key_anything_else_changes_it() {
        let config = Config::default();
        let a = cache_key(b"one picture", DocumentKind::Image, &config);
        assert_eq!(a, cache_key(b"one picture", DocumentKind::Image, &config));
        assert!(a.starts_with(&format!("image/{PIPELINE_VERSION}/")), "{a}");
        assert!(a.is_ascii() && a.len() < 200);
        assert_ne!(a, cache_key(b"one picture!", DocumentKind::Image, &config));
        assert_ne!(a, cache_key(b"one picture", DocumentKind::Cheque, &config));
        let mut newer = Config::default();
        let lexicon =
            Lexicon::parse("# version 2099-01-01.1\nen\t5\tprize\tyou won\n").expect("a lexicon");
        newer.scam.lexicon = Some(Arc::new(lexicon));
        assert_ne!(a, cache_key(b"one picture", DocumentKind::Image, &newer));
    }
}
