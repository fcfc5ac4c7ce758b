//! URLs and bare domains in OCR text, and whether a domain imitates a real bank or mobile-money
//! domain: homoglyphs (Unicode confusable skeletons, UTS #39), punycode, typo-squats (edit
//! distance) and brand names embedded in someone else's domain.
//!
//! The list of real domains is reference data (`verify/data/scam/official-domains.tsv`, versioned)
//! that the cloud can replace with [`DomainList::parse`].

use std::sync::OnceLock;

use linkify::{LinkFinder, LinkKind};
use unicode_security::skeleton;

const SHIPPED: &str = include_str!("../../data/scam/official-domains.tsv");

/// A real domain that scams imitate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficialDomain {
    /// Registrable domain, lower-case ASCII, e.g. `bkash.com`.
    pub domain: String,
    /// Who it belongs to, e.g. `bKash`.
    pub brand: String,
    /// ISO country code, `BD` or `TH`.
    pub country: String,
    /// `bank`, `mobile_money`, `central_bank`, `payment_switch`.
    pub kind: String,
    /// Brand names that, inside another domain, mean that domain pretends to be this one.
    pub tokens: Vec<String>,
    skeleton: String,
    folded_tokens: Vec<String>,
}

/// The versioned list of real domains.
#[derive(Debug, Clone)]
pub struct DomainList {
    /// The `version` from the file's first comment line.
    pub version: String,
    /// The domains, in file order.
    pub domains: Vec<OfficialDomain>,
}

/// Why a domain is taken for a look-alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookalikeKind {
    /// Reads the same as a real domain once confusable characters are folded (`bkаsh.com` with
    /// a Cyrillic `а`, `nagad.corn.bd`), written in Unicode or as punycode.
    Homoglyph,
    /// One or two letters off a real domain (`bkassh.com`, `kasikornbnak.com`).
    TypoSquat,
    /// A real brand's name inside a domain that is not theirs (`bkash-bonus.com`, `scb-th.net`).
    BrandEmbedded,
}

impl LookalikeKind {
    /// Stable name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            LookalikeKind::Homoglyph => "homoglyph",
            LookalikeKind::TypoSquat => "typo_squat",
            LookalikeKind::BrandEmbedded => "brand_embedded",
        }
    }
}

/// What the list says about one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainVerdict<'l> {
    /// The host is a listed domain or under one.
    Official(&'l OfficialDomain),
    /// The host imitates a listed domain.
    Lookalike {
        /// The domain it imitates.
        target: &'l OfficialDomain,
        /// How.
        kind: LookalikeKind,
        /// Edit distance to the target (0 for homoglyphs and embedded brands).
        distance: usize,
    },
    /// Nothing on the list resembles it.
    Unrelated,
}

/// A URL or bare domain found in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundLink {
    /// Byte range of the link in the text.
    pub span: std::ops::Range<usize>,
    /// The link as written.
    pub text: String,
    /// The host, lower-case, as Unicode (punycode decoded).
    pub host: String,
    /// The host in ASCII (punycode) form, when it has one.
    pub host_ascii: Option<String>,
    /// Whether the host was written as, or needs, punycode (an internationalised domain).
    pub punycode: bool,
}

impl DomainList {
    /// Parses a list in the shipped TSV format.
    pub fn parse(text: &str) -> Result<DomainList, String> {
        let (version, rows) = super::versioned_tsv(text);
        let mut domains = Vec::new();
        for (n, cols) in rows {
            let [domain, brand, country, kind, tokens] = cols.as_slice() else {
                return Err(format!(
                    "domain list line {}: want 5 tab-separated columns",
                    n
                ));
            };
            let domain = domain.trim().to_ascii_lowercase();
            if domain.is_empty() || !domain.contains('.') || !domain.is_ascii() {
                return Err(format!("domain list line {}: bad domain {domain:?}", n));
            }
            let tokens: Vec<String> = tokens
                .split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .filter(|t| !t.is_empty())
                .collect();
            domains.push(OfficialDomain {
                skeleton: fold(&domain),
                domain,
                brand: brand.trim().to_owned(),
                country: country.trim().to_owned(),
                kind: kind.trim().to_owned(),
                folded_tokens: tokens.iter().map(|t| fold(t)).collect(),
                tokens,
            });
        }
        let version = version.ok_or("domain list: no `version` comment line")?;
        Ok(DomainList { version, domains })
    }

    /// The list shipped with this build.
    pub fn shipped() -> &'static DomainList {
        static LIST: OnceLock<DomainList> = OnceLock::new();
        // A broken embedded list is caught by the tests; at run time it means "no domain known".
        LIST.get_or_init(|| {
            DomainList::parse(SHIPPED).unwrap_or(DomainList {
                version: "unreadable".into(),
                domains: Vec::new(),
            })
        })
    }

    /// Checks one host (Unicode or punycode, any case, with or without a trailing dot).
    pub fn check(&self, host: &str) -> DomainVerdict<'_> {
        let host = normalise_host(host);
        let ascii = idna::domain_to_ascii(&host).ok();
        let for_match = ascii.as_deref().unwrap_or(&host);
        for d in &self.domains {
            if for_match == d.domain || for_match.ends_with(&format!(".{}", d.domain)) {
                return DomainVerdict::Official(d);
            }
        }
        // Punycode is decoded first, so that `xn--bksh-63d.com` folds like `bkаsh.com`.
        let (unicode, decoded) = idna::domain_to_unicode(&host);
        let folded = fold(if decoded.is_ok() { &unicode } else { &host });
        // Homoglyphs: the same skeleton as a real domain, or as its tail (`login.bkаsh.com`).
        for d in &self.domains {
            if folded == d.skeleton || folded.ends_with(&format!(".{}", d.skeleton)) {
                return DomainVerdict::Lookalike {
                    target: d,
                    kind: LookalikeKind::Homoglyph,
                    distance: 0,
                };
            }
        }
        // Typo-squats: the host's last labels (as many as the real domain has) within a small
        // edit distance; short names allow one edit only, or every three-letter bank matches.
        let mut best: Option<(&OfficialDomain, usize)> = None;
        for d in &self.domains {
            let labels = d.domain.split('.').count();
            let tail = last_labels(&folded, labels);
            let core_len = d.domain.split('.').next().map_or(0, str::len);
            let limit = if core_len <= 5 { 1 } else { 2 };
            let dist = strsim::damerau_levenshtein(tail, &d.skeleton);
            if dist > 0 && dist <= limit && best.is_none_or(|(_, b)| dist < b) {
                best = Some((d, dist));
            }
        }
        if let Some((target, distance)) = best {
            return DomainVerdict::Lookalike {
                target,
                kind: LookalikeKind::TypoSquat,
                distance,
            };
        }
        // A brand's name inside another domain: as a whole word between dots, hyphens or digits,
        // or (for names of five letters or more) anywhere in a label.
        for d in &self.domains {
            for token in &d.folded_tokens {
                let hit = folded.split(['.', '-', '_']).any(|label| {
                    label == token || (token.len() >= 5 && label.contains(token.as_str()))
                }) || folded
                    .split(|c: char| !c.is_ascii_alphabetic())
                    .any(|word| word == token);
                if hit {
                    return DomainVerdict::Lookalike {
                        target: d,
                        kind: LookalikeKind::BrandEmbedded,
                        distance: 0,
                    };
                }
            }
        }
        DomainVerdict::Unrelated
    }
}

/// URLs (with or without a scheme) and bare domains in `text`. E-mail addresses are not links.
pub fn find_links(text: &str) -> Vec<FoundLink> {
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url]).url_must_have_scheme(false);
    let mut out = Vec::new();
    for link in finder.links(text) {
        let raw = link.as_str();
        let Some(host) = host_of(raw) else { continue };
        let host = normalise_host(host);
        // Without a scheme, linkify takes `Rs.500` or `v1.2` for domains: keep hosts whose last
        // label is alphabetic and at least two letters long, as real top-level domains are.
        let tld = host.rsplit('.').next().unwrap_or("");
        let tld_ok = tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic)
            || tld.starts_with("xn--");
        if !host.contains('.') || !tld_ok {
            continue;
        }
        let (unicode, decoded) = idna::domain_to_unicode(&host);
        let host_unicode = if decoded.is_ok() {
            unicode
        } else {
            host.clone()
        };
        let host_ascii = idna::domain_to_ascii(&host_unicode).ok();
        let punycode = host.split('.').any(|l| l.starts_with("xn--")) || !host_unicode.is_ascii();
        out.push(FoundLink {
            span: link.start()..link.end(),
            text: raw.to_owned(),
            host: host_unicode,
            host_ascii,
            punycode,
        });
    }
    out
}

/// The host part of a link as written: scheme, user info, port, path, query dropped.
fn host_of(link: &str) -> Option<&str> {
    let rest = match link.find("://") {
        Some(i) => link.get(i + 3..)?,
        None => link,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..end)?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split_once(':').map_or(host, |(h, _)| h);
    (!host.is_empty()).then_some(host)
}

fn normalise_host(host: &str) -> String {
    host.trim().trim_end_matches('.').to_lowercase()
}

/// The host with confusable characters folded to one representative (UTS #39 skeleton) and
/// lower-cased, so `bkаsh.com` (Cyrillic а), `bkash.corn` and `BKASH.COM` fold alike.
fn fold(host: &str) -> String {
    let lower = host.to_lowercase();
    let skel: String = skeleton(&lower).collect();
    skel.to_lowercase()
}

fn last_labels(host: &str, n: usize) -> &str {
    let mut dots = host.rmatch_indices('.').map(|(i, _)| i);
    match dots.nth(n.saturating_sub(1)) {
        Some(i) => host.get(i + 1..).unwrap_or(host),
        None => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_list_parses_with_a_version() {
        let list = DomainList::parse(SHIPPED).expect("the shipped list parses");
        assert!(list.version.starts_with("2026-"), "{}", list.version);
        assert!(list.domains.len() >= 25);
        assert_eq!(DomainList::shipped().domains.len(), list.domains.len());
    }

    #[test]
    fn broken_lists_are_errors() {
        assert!(DomainList::parse("bkash.com\tbKash\n").is_err());
        assert!(DomainList::parse("# version 1\nbkash\tb\tBD\tbank\tbkash\n").is_err());
        assert!(
            DomainList::parse("bkash.com\tb\tBD\tbank\tbkash\n").is_err(),
            "no version"
        );
    }

    #[test]
    fn last_labels_counts_from_the_right() {
        assert_eq!(last_labels("a.b.c.d", 2), "c.d");
        assert_eq!(last_labels("a.b", 3), "a.b");
    }
}
