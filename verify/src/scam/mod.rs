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
