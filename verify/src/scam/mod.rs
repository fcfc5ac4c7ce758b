//! The scam-image check (issue 9): what the text of a screenshot or photo says (links that
//! imitate real bank and mobile-money domains, phone numbers, high-risk phrases) and whether
//! the image is a near-duplicate of one seen before (a perceptual-hash index).
//!
//! Data flow of `--kind image` ([`check`]): after the shared stages (intake, metadata,
//! forensics), stage `ocr` reads the picture in Bengali, English and Thai ([`ocr`]); stage
//! `fields` finds links, look-alike domains, phone numbers and high-risk phrases in the text
//! ([`text`], [`findings`]), each finding boxed on the image; stage `duplicates` hashes the
//! picture and asks a [`SourceIndex`] about known scam images and earlier checks ([`sources`],
//! [`index`]). The report's explanation names the strongest evidence and says that a screenshot
//! never proves a payment. [`cache_key`] names the result for the callers' caches.

pub mod ai_model;
pub mod cache;
pub mod check;
pub mod domains;
pub mod findings;
pub mod index;
pub mod lexicon;
pub mod ocr;
pub mod payment;
pub mod phones;
pub mod qr;
pub mod sources;
pub mod text;

pub use cache::{cache_key, PIPELINE_VERSION};
pub use check::{ScamBudgets, ScamConfig};
pub use sources::{KnownMatch, NoSources, SourceIndex, SourceMatch, Sources};

pub use domains::{DomainList, DomainVerdict, FoundLink, LookalikeKind, OfficialDomain};
pub use index::{HashIndex, Neighbour};
pub use lexicon::{Lexicon, Phrase, PhraseMatch};
pub use phones::{find_phones, find_phones_in, parse_phone, parse_phone_in, FoundPhone, Region};
pub use text::{analyse, analyse_with, LinkFact, Lookalike, PhraseHit, TextFacts};

/// A versioned reference table (`verify/data/scam/*.tsv`): the `version` named in the first
/// comment line that has one, and each data row's 1-based line number and tab-separated columns.
/// `#` lines are comments, blank lines are skipped.
pub(crate) fn versioned_tsv(text: &str) -> (Option<String>, Vec<(usize, Vec<&str>)>) {
    let mut version = None;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if let Some(comment) = line.strip_prefix('#') {
            if version.is_none() {
                if let Some((_, v)) = comment.split_once("version ") {
                    version = Some(v.trim().to_owned());
                }
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        rows.push((n + 1, line.split('\t').collect()));
    }
    (version, rows)
}
