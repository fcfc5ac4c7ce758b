//! Routing numbers: Bangladeshi 9-digit routing numbers (`BBB DD bbb C`: bank, district,
//! branch, check digit) and US ABA numbers, with a directory of Bangladeshi branches.
//!
//! Bangladesh: digits weighted 5,7,1,5,7,1,5,7,1 sum to a multiple of 10 (inferred: it holds for
//! all 10 031 numbers of the branch list; no published algorithm). The check is weak (about one
//! single-digit error in seven passes), so a number is also looked up in the directory.
//!
//! US ABA: 3(d1+d4+d7) + 7(d2+d5+d8) + (d3+d6+d9) ≡ 0 (mod 10).
//!
//! The directory ships as `verify/data/bd-routing.tsv.gz` (from the branch seed data of
//! fintechbd/banco, MIT licence; see `verify/data/README.md`), versioned reference data: a
//! newer table the cloud sends is read with [`Directory::from_tsv`].

use std::io::Read;
use std::sync::OnceLock;

static TABLE_GZ: &[u8] = include_bytes!("../../data/bd-routing.tsv.gz");

/// Nine ASCII digits, or `None`.
fn nine_digits(s: &str) -> Option<[u32; 9]> {
    let b = s.as_bytes();
    if b.len() != 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut d = [0u32; 9];
    for (o, c) in d.iter_mut().zip(b) {
        *o = u32::from(c - b'0');
    }
    Some(d)
}

/// The Bangladeshi check: weights 5,7,1 repeating, sum ≡ 0 (mod 10).
pub fn bd_check(routing: &str) -> bool {
    nine_digits(routing).is_some_and(|d| {
        d.iter()
            .zip([5, 7, 1].iter().cycle())
            .map(|(x, w)| x * w)
            .sum::<u32>()
            % 10
            == 0
    })
}

/// The US ABA check: weights 3,7,1 repeating, sum ≡ 0 (mod 10).
pub fn aba_check(routing: &str) -> bool {
    nine_digits(routing).is_some_and(|d| {
        d.iter()
            .zip([3, 7, 1].iter().cycle())
            .map(|(x, w)| x * w)
            .sum::<u32>()
            % 10
            == 0
    })
}

/// One branch of the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    pub routing: u32,
    pub bank: String,
    pub branch: String,
}

impl Branch {
    /// The two-digit district code (digits 4–5 of the routing number).
    pub fn district_code(&self) -> u32 {
        (self.routing / 10_000) % 100
    }
}

/// Why a directory could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("the routing table is not valid gzip: {0}")]
    Gzip(String),
    #[error("routing table line {line}: {why}")]
    Line { line: usize, why: &'static str },
}

/// The Bangladeshi routing directory: routing number → bank and branch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Directory {
    /// From the `# version: …` line.
    pub version: String,
    entries: Vec<Branch>,
}

impl Directory {
    /// The table shipped with the crate (decoded once).
    pub fn built_in() -> &'static Directory {
        static DIR: OnceLock<Directory> = OnceLock::new();
        DIR.get_or_init(|| Directory::from_gzip(TABLE_GZ).unwrap_or_default())
    }

    /// Read a gzipped table.
    pub fn from_gzip(bytes: &[u8]) -> Result<Directory, DirectoryError> {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes)
            .take(16 << 20)
            .read_to_string(&mut text)
            .map_err(|e| DirectoryError::Gzip(e.to_string()))?;
        Directory::from_tsv(&text)
    }

    /// Read a table: `#` lines (one may be `# version: V`), then `routing<TAB>bank<TAB>branch`
    /// per line, nine digits each. Order does not matter.
    pub fn from_tsv(text: &str) -> Result<Directory, DirectoryError> {
        let mut version = String::new();
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if let Some(comment) = line.strip_prefix('#') {
                if let Some(v) = comment.trim().strip_prefix("version:") {
                    version = v.trim().to_owned();
                }
                continue;
            }
            if line.trim().is_empty() {
                continue;
            }
            let bad = |why| DirectoryError::Line { line: i + 1, why };
            let mut f = line.split('\t');
            let (Some(r), Some(bank), Some(branch)) = (f.next(), f.next(), f.next()) else {
                return Err(bad("expected three tab-separated columns"));
            };
            if nine_digits(r).is_none() {
                return Err(bad("the routing number is not nine digits"));
            }
            let routing = r
                .parse()
                .map_err(|_| bad("the routing number is not a number"))?;
            entries.push(Branch {
                routing,
                bank: bank.to_owned(),
                branch: branch.to_owned(),
            });
        }
        entries.sort_by_key(|b| b.routing);
        entries.dedup_by_key(|b| b.routing);
        Ok(Directory { version, entries })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The branch for a 9-digit routing number (leading zeros kept), if listed.
    pub fn lookup(&self, routing: &str) -> Option<&Branch> {
        nine_digits(routing)?;
        let n: u32 = routing.parse().ok()?;
        self.entries
            .binary_search_by_key(&n, |b| b.routing)
            .ok()
            .and_then(|i| self.entries.get(i))
    }

    /// The bank whose 3-digit code starts `routing`, from any of its branches.
    pub fn bank_of(&self, routing: &str) -> Option<&str> {
        nine_digits(routing)?;
        let code: u32 = routing.get(..3)?.parse().ok()?;
        let start = self
            .entries
            .partition_point(|b| b.routing < code * 1_000_000);
        self.entries
            .get(start)
            .filter(|b| b.routing / 1_000_000 == code)
            .map(|b| b.bank.as_str())
    }
}

/// What a routing number is, as far as the checks and the directory tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutingStatus {
    /// Bangladeshi check digit holds and the directory lists it.
    BdListed { bank: String, branch: String },
    /// Bangladeshi check digit holds, the bank code is known, the branch is not listed.
    BdUnlisted { bank: String },
    /// Bangladeshi check digit holds but no listed bank has this code.
    BdUnknownBank,
    /// Not Bangladeshi, but a valid US ABA number.
    Aba,
    /// Fails both checks.
    Invalid,
}

impl RoutingStatus {
    pub fn code(&self) -> &'static str {
        match self {
            RoutingStatus::BdListed { .. } => "bd_listed",
            RoutingStatus::BdUnlisted { .. } => "bd_unlisted",
            RoutingStatus::BdUnknownBank => "bd_unknown_bank",
            RoutingStatus::Aba => "aba",
            RoutingStatus::Invalid => "invalid",
        }
    }
}

/// Check a 9-digit routing number against both checksums and the directory.
pub fn classify(routing: &str, dir: &Directory) -> RoutingStatus {
    if bd_check(routing) {
        if let Some(b) = dir.lookup(routing) {
            return RoutingStatus::BdListed {
                bank: b.bank.clone(),
                branch: b.branch.clone(),
            };
        }
        if let Some(bank) = dir.bank_of(routing) {
            return RoutingStatus::BdUnlisted {
                bank: bank.to_owned(),
            };
        }
        if !aba_check(routing) {
            return RoutingStatus::BdUnknownBank;
        }
    }
    if aba_check(routing) {
        RoutingStatus::Aba
    } else {
        RoutingStatus::Invalid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(routing: &str, bd: bool, aba: bool) {
        assert_eq!(bd_check(routing), bd, "bd {routing}");
        assert_eq!(aba_check(routing), aba, "aba {routing}");
    }

    #[test]
    fn checksums() {
        // The two checks differ only in the weight of d1, d4, d7 (5 or 3): a number whose
        // d1+d4+d7 is a multiple of 5 passes both.
        check("010010048", true, true); // Agrani Bank, Badhal Bazar
        check("010010280", true, false); // Agrani Bank, Chulkati Bazar
        check("010010049", false, false);
        check("121000248", false, true); // Wells Fargo (US)
        check("031901835", false, true); // from a real US cheque line
        check("111000025", false, true); // Bank of America (US)
        check("021000021", true, true); // JPMorgan Chase (US): passes both, as some do
        check("121000249", false, false);
        check("12100024", false, false);
        check("1210002480", false, false);
        check("12100024A", false, false);
        check("", false, false);
        check("০১০০১০০৪৮", false, false); // Bengali digits are not MICR
    }

    #[test]
    fn the_whole_shipped_directory_passes_the_bd_check() {
        let dir = Directory::built_in();
        assert_eq!(dir.len(), 10_031);
        assert!(!dir.version.is_empty());
        assert!(dir
            .entries
            .iter()
            .all(|b| bd_check(&format!("{:09}", b.routing))));
    }

    #[test]
    fn lookups() {
        let dir = Directory::built_in();
        let b = dir.lookup("010010048").expect("listed");
        assert_eq!(b.bank, "AGRANI BANK LIMITED");
        assert_eq!(b.branch, "BADHAL BAZAR");
        assert_eq!(b.district_code(), 1);
        assert!(dir.lookup("010010049").is_none());
        assert!(dir.lookup("01001004").is_none());
        assert_eq!(dir.bank_of("010999990"), Some("AGRANI BANK LIMITED"));
        assert_eq!(dir.bank_of("999000000"), None);
    }

    #[test]
    fn classification() {
        let dir = Directory::built_in();
        let cases: &[(&str, &str)] = &[
            ("010010048", "bd_listed"),
            ("121000248", "aba"),
            ("010010049", "invalid"),
            ("000000000", "aba"),
        ];
        for (r, want) in cases {
            assert_eq!(classify(r, dir).code(), *want, "{r}");
        }
        let unknown = (0..10)
            .map(|c| format!("99901001{c}"))
            .find(|r| bd_check(r) && !aba_check(r))
            .expect("a bank code 999 number with a valid BD check digit");
        assert_eq!(classify(&unknown, dir).code(), "bd_unknown_bank");
        // A number with a valid BD check digit, a known bank code, and no listed branch.
        let unlisted = (0..1000)
            .map(|b| format!("01099{b:03}0"))
            .flat_map(|s| (0..10).map(move |c| format!("{}{c}", &s[..8])))
            .find(|r| bd_check(r) && dir.lookup(r).is_none() && !aba_check(r))
            .expect("some unlisted Agrani number");
        assert_eq!(classify(&unlisted, dir).code(), "bd_unlisted");
    }

    #[test]
    fn tables_from_text() {
        let d =
            Directory::from_tsv("# version: v2\n010010048\tBANK\tMAIN\n\n").expect("a valid table");
        assert_eq!(d.version, "v2");
        assert_eq!(d.len(), 1);
        assert_eq!(
            Directory::from_tsv("01001004\tBANK\tMAIN\n"),
            Err(DirectoryError::Line {
                line: 1,
                why: "the routing number is not nine digits"
            })
        );
        assert!(matches!(
            Directory::from_tsv("010010048 BANK\n"),
            Err(DirectoryError::Line { line: 1, .. })
        ));
        assert!(matches!(
            Directory::from_gzip(b"not gzip"),
            Err(DirectoryError::Gzip(_))
        ));
    }
}
