//! The scam-image check (issue 9): what the text of a screenshot or photo says (links that
//! imitate real bank and mobile-money domains, phone numbers, high-risk phrases) and whether
//! the image is a near-duplicate of one seen before (a perceptual-hash index).

pub mod domains;
pub mod findings;
pub mod index;
pub mod lexicon;
pub mod phones;
pub mod text;

pub use domains::{DomainList, DomainVerdict, FoundLink, LookalikeKind, OfficialDomain};
pub use index::{HashIndex, Neighbour};
pub use lexicon::{Lexicon, Phrase, PhraseMatch};
pub use phones::{find_phones, find_phones_in, parse_phone, parse_phone_in, FoundPhone, Region};
pub use text::{analyse, analyse_with, LinkFact, Lookalike, PhraseHit, TextFacts};
