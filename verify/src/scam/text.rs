//! Everything the scam check reads out of OCR text in one call: links with their look-alike
//! verdicts, phone numbers and high-risk phrases. Pure functions over a string: no OCR here.

use super::domains::{find_links, DomainList, DomainVerdict, FoundLink, LookalikeKind};
use super::lexicon::Lexicon;
use super::phones::{find_phones, FoundPhone};

/// A link and what the list of real domains says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkFact {
    /// The link found.
    pub link: FoundLink,
    /// The real domain it belongs to, when it is official.
    pub official: Option<String>,
    /// The real domain it imitates, when it is a look-alike.
    pub lookalike: Option<Lookalike>,
}

/// A look-alike verdict, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookalike {
    /// The real domain imitated, e.g. `bkash.com`.
    pub target: String,
    /// Its brand, e.g. `bKash`.
    pub brand: String,
    /// How it imitates it.
    pub kind: LookalikeKind,
    /// Edit distance (typo-squats), else 0.
    pub distance: usize,
}

/// A high-risk phrase found, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhraseHit {
    /// `bn`, `en` or `th`.
    pub lang: String,
    /// 1 to 10.
    pub weight: u8,
    /// Lexicon category.
    pub category: String,
    /// The lexicon phrase.
    pub phrase: String,
    /// Byte range in the text.
    pub span: std::ops::Range<usize>,
    /// As written.
    pub text: String,
}

/// What the text says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextFacts {
    /// URLs and bare domains.
    pub links: Vec<LinkFact>,
    /// Valid phone numbers.
    pub phones: Vec<FoundPhone>,
    /// High-risk phrases.
    pub phrases: Vec<PhraseHit>,
}

/// Reads links, phones and phrases out of `text` against the given reference data.
pub fn analyse_with(text: &str, domains: &DomainList, lexicon: &Lexicon) -> TextFacts {
    let links = find_links(text)
        .into_iter()
        .map(|link| {
            let (official, lookalike) = match domains.check(&link.host) {
                DomainVerdict::Official(d) => (Some(d.domain.clone()), None),
                DomainVerdict::Lookalike {
                    target,
                    kind,
                    distance,
                } => (
                    None,
                    Some(Lookalike {
                        target: target.domain.clone(),
                        brand: target.brand.clone(),
                        kind,
                        distance,
                    }),
                ),
                DomainVerdict::Unrelated => (None, None),
            };
            LinkFact {
                link,
                official,
                lookalike,
            }
        })
        .collect();
    let phrases = lexicon
        .find(text)
        .into_iter()
        .map(|m| PhraseHit {
            lang: m.phrase.lang.clone(),
            weight: m.phrase.weight,
            category: m.phrase.category.clone(),
            phrase: m.phrase.phrase.clone(),
            span: m.span,
            text: m.text,
        })
        .collect();
    TextFacts {
        links,
        phones: find_phones(text),
        phrases,
    }
}

/// [`analyse_with`] the shipped domain list and lexicon.
pub fn analyse(text: &str) -> TextFacts {
    analyse_with(text, DomainList::shipped(), Lexicon::shipped())
}
