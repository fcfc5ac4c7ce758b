//! High-risk phrases in Bengali, English and Thai, with weights: a versioned lexicon
//! (`verify/data/scam/lexicon.tsv`, replaceable with [`Lexicon::parse`]) searched in one pass
//! with Aho-Corasick over case-folded, space-collapsed text; matches carry byte spans of the
//! original text so that a caller can box them on the image.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};

const SHIPPED: &str = include_str!("../../data/scam/lexicon.tsv");

/// One phrase of the lexicon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrase {
    /// `bn`, `en` or `th`.
    pub lang: String,
    /// 1 to 10: how strongly the phrase alone points to a scam.
    pub weight: u8,
    /// What kind of pressure it is: `prize`, `account_threat`, `credential`, …
    pub category: String,
    /// The phrase as listed.
    pub phrase: String,
}

/// The versioned lexicon, compiled for search.
#[derive(Debug, Clone)]
pub struct Lexicon {
    /// The `version` from the file's first comment line.
    pub version: String,
    /// The phrases, in file order.
    pub phrases: Vec<Phrase>,
    matcher: Option<AhoCorasick>,
}

/// A phrase found in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhraseMatch<'l> {
    /// The lexicon entry.
    pub phrase: &'l Phrase,
    /// Byte range in the original text.
    pub span: std::ops::Range<usize>,
    /// The text as written there.
    pub text: String,
}

impl Lexicon {
    /// Parses a lexicon in the shipped TSV format.
    pub fn parse(text: &str) -> Result<Lexicon, String> {
        let (version, rows) = super::versioned_tsv(text);
        let mut phrases = Vec::new();
        for (n, cols) in rows {
            let [lang, weight, category, phrase] = cols.as_slice() else {
                return Err(format!("lexicon line {}: want 4 tab-separated columns", n));
            };
            let lang = lang.trim();
            if !matches!(lang, "bn" | "en" | "th") {
                return Err(format!("lexicon line {}: unknown language {lang:?}", n));
            }
            let weight: u8 = weight
                .trim()
                .parse()
                .ok()
                .filter(|w| (1..=10).contains(w))
                .ok_or_else(|| format!("lexicon line {}: weight must be 1 to 10", n))?;
            let phrase = phrase.trim();
            if normalise(phrase).0.is_empty() {
                return Err(format!("lexicon line {}: empty phrase", n));
            }
            phrases.push(Phrase {
                lang: lang.to_owned(),
                weight,
                category: category.trim().to_owned(),
                phrase: phrase.to_owned(),
            });
        }
        let version = version.ok_or("lexicon: no `version` comment line")?;
        let patterns: Vec<String> = phrases.iter().map(|p| normalise(&p.phrase).0).collect();
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .map_err(|e| format!("lexicon: {e}"))?;
        Ok(Lexicon {
            version,
            phrases,
            matcher: Some(matcher),
        })
    }

    /// The lexicon shipped with this build.
    pub fn shipped() -> &'static Lexicon {
        static LEX: OnceLock<Lexicon> = OnceLock::new();
        // A broken embedded lexicon is caught by the tests; at run time it means "no phrases".
        LEX.get_or_init(|| {
            Lexicon::parse(SHIPPED).unwrap_or(Lexicon {
                version: "unreadable".into(),
                phrases: Vec::new(),
                matcher: None,
            })
        })
    }

    /// Every phrase in `text`, left to right, longest first where two overlap.
    pub fn find(&self, text: &str) -> Vec<PhraseMatch<'_>> {
        let mut out = Vec::new();
        let Some(matcher) = &self.matcher else {
            return out;
        };
        let (norm, map) = normalise(text);
        for m in matcher.find_iter(&norm) {
            let Some(phrase) = self.phrases.get(m.pattern().as_usize()) else {
                continue;
            };
            if phrase.lang == "en" && !on_word_boundaries(&norm, m.start(), m.end()) {
                continue;
            }
            let (Some(&start), Some(&end)) = (map.get(m.start()), map.get(m.end())) else {
                continue;
            };
            let Some(written) = text.get(start..end) else {
                continue;
            };
            let written = written.trim_end();
            out.push(PhraseMatch {
                phrase,
                span: start..start + written.len(),
                text: written.to_owned(),
            });
        }
        out
    }
}

/// Lower-cased text with runs of white space as one space and zero-width spaces dropped, and
/// for each byte of it (plus one past the end) the byte offset in the original text.
fn normalise(text: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len() + 1);
    let mut last_space = true;
    for (i, c) in text.char_indices() {
        if matches!(c, '\u{200B}' | '\u{FEFF}') {
            continue;
        }
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
                map.push(i);
            }
            last_space = true;
            continue;
        }
        last_space = false;
        for l in c.to_lowercase() {
            let mut buf = [0u8; 4];
            for _ in l.encode_utf8(&mut buf).bytes() {
                map.push(i);
            }
            out.push(l);
        }
    }
    while out.ends_with(' ') {
        out.pop();
        map.pop();
    }
    map.push(text.len());
    (out, map)
}

fn on_word_boundaries(text: &str, start: usize, end: usize) -> bool {
    let before = text.get(..start).and_then(|s| s.chars().next_back());
    let after = text.get(end..).and_then(|s| s.chars().next());
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_lexicon_parses_in_three_languages() {
        let lex = Lexicon::parse(SHIPPED).expect("the shipped lexicon parses");
        assert!(lex.version.starts_with("2026-"), "{}", lex.version);
        for lang in ["bn", "en", "th"] {
            assert!(
                lex.phrases.iter().filter(|p| p.lang == lang).count() >= 15,
                "{lang}"
            );
        }
        assert_eq!(Lexicon::shipped().phrases.len(), lex.phrases.len());
    }

    #[test]
    fn broken_lexicons_are_errors() {
        for bad in [
            "# version 1\nen\t5\tprize\n",
            "# version 1\nfr\t5\tprize\tgagné\n",
            "# version 1\nen\t0\tprize\twon\n",
            "# version 1\nen\t11\tprize\twon\n",
            "# version 1\nen\t5\tprize\t   \n",
            "en\t5\tprize\twon\n",
        ] {
            assert!(Lexicon::parse(bad).is_err(), "{bad:?}");
        }
    }
}
