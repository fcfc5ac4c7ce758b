//! TAC (Type Allocation Code, the first 8 digits of an IMEI) → brand and model, and tolerant
//! brand comparison.
//!
//! The table is derived from the Osmocom TAC database, CC-BY-SA 3.0, (c) Harald Welte 2016
//! (see `verify/data/README.md`). It ships as `verify/data/tac.tsv.gz`: a gzipped TSV
//! (`tac<TAB>brand<TAB>model`, sorted by TAC, `#` lines are the credit), built by
//! `cargo run -p jachai-verify --example build_tac_table`, decoded once on first use and
//! searched by binary search.

use std::io::{Read, Write};
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

/// The shipped table (gzipped TSV).
static TABLE_GZ: &[u8] = include_bytes!("../../data/tac.tsv.gz");

/// One TAC with its brand and model (owned; what the builder writes and the decoder reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TacEntry {
    /// The 8-digit TAC as a number (leading zeros dropped).
    pub tac: u32,
    /// Maker as the database writes it, e.g. `Samsung`.
    pub brand: String,
    /// Model as the database writes it, e.g. `Galaxy A12`.
    pub model: String,
}

/// A TAC lookup result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TacInfo {
    /// The 8-digit TAC as a number.
    pub tac: u32,
    /// Maker, e.g. `Samsung`.
    pub brand: &'static str,
    /// Model, e.g. `Galaxy A12`.
    pub model: &'static str,
}

/// The TAC of an IMEI (its first 8 digits; ASCII or Bengali digits, separators skipped).
/// `None` unless `imei` has at least 8 digits and nothing else but separators.
pub fn tac_of(imei: &str) -> Option<u32> {
    let mut tac = 0u32;
    let mut n = 0;
    for c in imei.chars() {
        if c.is_whitespace() || c == '-' || c == '/' {
            continue;
        }
        let d = super::digit_value(c)?;
        if n < 8 {
            tac = tac * 10 + u32::from(d);
        }
        n += 1;
    }
    (n >= 8).then_some(tac)
}

/// A TAC as written in the database: digits, possibly with surrounding spaces and with leading
/// zeros lost (7-digit `1130000` is `01130000`). `None` for anything else.
pub fn parse_tac(raw: &str) -> Option<u32> {
    let t = raw.trim();
    if t.is_empty() || t.len() > 8 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

fn clean(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Table entries from database rows `(tac, brand, model)`: TACs zero-padded to 8 digits,
/// whitespace collapsed, rows without a TAC or brand dropped, sorted by TAC. When two rows give
/// one TAC, a row that wrote all 8 digits wins over one that lost its leading zeros, else the
/// first row wins.
pub fn build_entries<I, S>(rows: I) -> Vec<TacEntry>
where
    I: IntoIterator<Item = (S, S, S)>,
    S: AsRef<str>,
{
    let mut keyed: Vec<(u32, bool, usize, TacEntry)> = Vec::new();
    for (i, (tac, brand, model)) in rows.into_iter().enumerate() {
        let Some(t) = parse_tac(tac.as_ref()) else {
            continue;
        };
        let brand = clean(brand.as_ref());
        if brand.is_empty() {
            continue;
        }
        let padded = tac.as_ref().trim().len() != 8;
        let entry = TacEntry {
            tac: t,
            brand,
            model: clean(model.as_ref()),
        };
        keyed.push((t, padded, i, entry));
    }
    keyed.sort_by_key(|(t, padded, i, _)| (*t, *padded, *i));
    keyed.dedup_by_key(|(t, ..)| *t);
    keyed.into_iter().map(|(.., e)| e).collect()
}

/// The shipped file: `credit` as `#` lines and the gzip header comment, then one
/// `tac<TAB>brand<TAB>model` line per entry (TAC zero-padded to 8 digits).
pub fn encode_table(entries: &[TacEntry], credit: &str) -> std::io::Result<Vec<u8>> {
    let mut text = String::new();
    for line in credit.lines() {
        text.push_str("# ");
        text.push_str(line);
        text.push('\n');
    }
    text.push_str("# tac\tbrand\tmodel\n");
    for e in entries {
        text.push_str(&format!("{:08}\t{}\t{}\n", e.tac, e.brand, e.model));
    }
    let mut gz = flate2::GzBuilder::new()
        .comment(credit.as_bytes())
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    gz.write_all(text.as_bytes())?;
    gz.finish()
}

/// Read a file written by [`encode_table`]: entries sorted by TAC, and the credit lines.
pub fn decode_table(gz: &[u8]) -> Result<(Vec<TacEntry>, Vec<String>), String> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_string(&mut text)
        .map_err(|e| format!("TAC table: {e}"))?;
    let mut entries = Vec::new();
    let mut credit = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if let Some(c) = line.strip_prefix('#') {
            credit.push(c.trim().to_owned());
            continue;
        }
        let mut parts = line.split('\t');
        let (Some(tac), Some(brand), Some(model)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("TAC table line {}: not tac, brand, model", n + 1));
        };
        let tac = parse_tac(tac).ok_or_else(|| format!("TAC table line {}: bad TAC", n + 1))?;
        entries.push(TacEntry {
            tac,
            brand: brand.to_owned(),
            model: model.to_owned(),
        });
    }
    entries.sort_by_key(|e| e.tac);
    Ok((entries, credit))
}

fn table() -> &'static [TacEntry] {
    static TABLE: OnceLock<Vec<TacEntry>> = OnceLock::new();
    // A broken embedded table is caught by the tests; at run time it means "no TAC known".
    TABLE.get_or_init(|| decode_table(TABLE_GZ).map(|(e, _)| e).unwrap_or_default())
}

/// How many TACs the shipped table knows.
pub fn table_len() -> usize {
    table().len()
}

/// Brand and model for a TAC.
pub fn lookup(tac: u32) -> Option<TacInfo> {
    let t = table();
    let i = t.binary_search_by_key(&tac, |e| e.tac).ok()?;
    let e = t.get(i)?;
    Some(TacInfo {
        tac,
        brand: &e.brand,
        model: &e.model,
    })
}

/// Brand and model for an IMEI's TAC (see [`tac_of`]).
pub fn lookup_imei(imei: &str) -> Option<TacInfo> {
    lookup(tac_of(imei)?)
}

/// Brand families: a canonical key and the names (lower case, letters and digits only) it is
/// written as, on phones, boxes and GD copies.
const FAMILIES: &[(&str, &[&str])] = &[
    (
        "samsung",
        &["samsung", "samsungelectronics", "galaxy", "sec"],
    ),
    ("apple", &["apple", "iphone", "appleinc"]),
    (
        "xiaomi",
        &["xiaomi", "redmi", "mi", "poco", "xiaomiinc", "blackshark"],
    ),
    ("oppo", &["oppo"]),
    ("realme", &["realme"]),
    ("oneplus", &["oneplus"]),
    ("vivo", &["vivo", "iqoo"]),
    ("huawei", &["huawei", "huaweitechnologies"]),
    ("honor", &["honor", "honour"]),
    ("motorola", &["motorola", "moto", "motorolamobility"]),
    ("lenovo", &["lenovo"]),
    ("nokia", &["nokia", "hmd", "hmdglobal"]),
    ("microsoft", &["microsoft", "lumia"]),
    ("tecno", &["tecno", "techno"]),
    ("itel", &["itel"]),
    ("infinix", &["infinix"]),
    ("transsion", &["transsion"]),
    ("walton", &["walton", "primo"]),
    ("symphony", &["symphony"]),
    ("sony", &["sony", "xperia", "sonymobile"]),
    ("ericsson", &["ericsson", "sonyericsson"]),
    ("lg", &["lg", "lge", "lgelectronics"]),
    ("google", &["google", "pixel"]),
    ("htc", &["htc"]),
    ("zte", &["zte", "nubia"]),
    ("alcatel", &["alcatel", "tcl", "alcatelonetouch"]),
    ("blackberry", &["blackberry", "rim", "researchinmotion"]),
    ("asus", &["asus", "zenfone"]),
];

/// Families that share TAC registrations (sub-brands, one maker's lines, takeovers).
const RELATED: &[&[&str]] = &[
    &["oppo", "realme", "oneplus"],
    &["huawei", "honor"],
    &["motorola", "lenovo"],
    &["nokia", "microsoft"],
    &["tecno", "itel", "infinix", "transsion"],
    &["sony", "ericsson"],
];

/// Lower-case words of letters and digits.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The brand family a name belongs to (`Samsung Electronics` → `samsung`, `Redmi Note 9` →
/// `xiaomi`), from the whole name or its first word that names a known brand.
pub fn brand_family(name: &str) -> Option<&'static str> {
    let w = words(name);
    let joined = w.concat();
    let find = |s: &str| {
        FAMILIES
            .iter()
            .find(|(_, names)| names.contains(&s))
            .map(|(k, _)| *k)
    };
    find(&joined)
        .or_else(|| w.iter().find_map(|x| find(x)))
        .or_else(|| w.iter().find_map(|x| misread_family(x)))
}

/// The family a word names when OCR misread one letter of it (`Sarmsung`, `Galasy`, `Xiaorni`
/// → one edit; two for names of eight letters or more): only words of five letters or more,
/// and only when a single family is that close, so short names (`Vivo`, `Oppo`) never blur.
fn misread_family(word: &str) -> Option<&'static str> {
    let n = word.chars().count();
    if n < 5 || !word.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let most = if n >= 8 { 2 } else { 1 };
    let mut found: Option<&'static str> = None;
    for (family, names) in FAMILIES {
        let near = names
            .iter()
            .filter(|name| name.chars().count() >= 5)
            .any(|name| strsim::levenshtein(name, word) <= most);
        if near {
            match found {
                Some(f) if f != *family => return None,
                _ => found = Some(family),
            }
        }
    }
    found
}

/// Other spellings of makers' names (not model lines: `Galaxy`, `Redmi`, `Primo` are not
/// makers), Bengali spellings included, each with its family.
const MAKER_ALIASES: &[(&str, &str)] = &[
    ("hmd", "nokia"),
    ("tcl", "alcatel"),
    ("lge", "lg"),
    ("techno", "tecno"),
    ("honour", "honor"),
    ("sonyericsson", "ericsson"),
    ("স্যামসাং", "samsung"),
    ("স্যামসং", "samsung"),
    ("শাওমি", "xiaomi"),
    ("শাওমী", "xiaomi"),
    ("অপো", "oppo"),
    ("ওপ্পো", "oppo"),
    ("রিয়েলমি", "realme"),
    ("ভিভো", "vivo"),
    ("হুয়াওয়ে", "huawei"),
    ("অনার", "honor"),
    ("মটোরোলা", "motorola"),
    ("নকিয়া", "nokia"),
    ("টেকনো", "tecno"),
    ("আইটেল", "itel"),
    ("ইনফিনিক্স", "infinix"),
    ("ওয়ালটন", "walton"),
    ("সিম্ফনি", "symphony"),
    ("সিম্ফোনি", "symphony"),
    ("অ্যাপল", "apple"),
    ("গুগল", "google"),
];

/// The family of a maker's name written as one word (`Samsung`, `HMD`, `স্যামসাং`), or `None`
/// for anything else, model-line names included (`Galaxy`, `Redmi`): what a combined
/// "brand/model" value is split at.
pub fn maker(word: &str) -> Option<&'static str> {
    let w: String = word
        .nfc()
        .filter(|c| c.is_alphanumeric() || is_bengali_mark(*c))
        .collect();
    let w = w.to_lowercase();
    if w.is_empty() {
        return None;
    }
    FAMILIES
        .iter()
        .map(|(k, _)| *k)
        .find(|k| *k == w)
        .or_else(|| {
            MAKER_ALIASES
                .iter()
                .find(|(a, _)| a.nfc().collect::<String>() == w)
                .map(|(_, k)| *k)
        })
}

/// Bengali vowel signs and the virama, which `char::is_alphanumeric` does not count.
fn is_bengali_mark(c: char) -> bool {
    ('\u{0981}'..='\u{0983}').contains(&c)
        || ('\u{09bc}'..='\u{09d7}').contains(&c)
        || ('\u{09e2}'..='\u{09e3}').contains(&c)
}

/// Whether a brand written on a document agrees with the TAC database's brand.
///
/// Tolerant: case, spacing and punctuation are ignored, company suffixes and model-line names
/// count as the maker (`Samsung Electronics` = `Samsung`, `Redmi`/`POCO`/`Mi` = `Xiaomi`,
/// `iPhone` = `Apple`), and sub-brands of one maker agree (`Honor`/`Huawei`,
/// `Realme`/`Oppo`/`OnePlus`, `Moto`/`Lenovo`, `HMD`/`Nokia`, `Tecno`/`Itel`/`Infinix`). An
/// empty name on either side is no contradiction (`true`). Brands outside the known families
/// agree when one's words start with the other's (`Sagem` = `Sagem Communications`).
pub fn brand_matches(tac_brand: &str, written_brand: &str) -> bool {
    let (a, b) = (words(tac_brand), words(written_brand));
    if a.is_empty() || b.is_empty() {
        return true;
    }
    match (brand_family(tac_brand), brand_family(written_brand)) {
        (Some(x), Some(y)) => x == y || RELATED.iter().any(|g| g.contains(&x) && g.contains(&y)),
        (Some(_), None) | (None, Some(_)) => false,
        (None, None) => a.starts_with(&b) || b.starts_with(&a) || a.concat() == b.concat(),
    }
}

/// Whether `written` names a phone maker at all: a known brand family (misreadings included) or
/// the maker of some TAC in the table (first word, three letters or more). An OCR fragment such
/// as `com` or `Modet` names none, so it can neither confirm nor contradict an IMEI's TAC.
pub fn names_a_maker(written: &str) -> bool {
    if brand_family(written).is_some() {
        return true;
    }
    static MAKERS: OnceLock<std::collections::BTreeSet<String>> = OnceLock::new();
    let makers = MAKERS.get_or_init(|| {
        table()
            .iter()
            .filter_map(|e| words(&e.brand).into_iter().next())
            .filter(|w| w.chars().count() >= 3)
            .collect()
    });
    words(written).iter().any(|w| makers.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_maker_names_count_as_a_written_brand() {
        for (written, names) in [
            ("Samsung", true),
            ("Sarmsung Galasy A12", true),
            ("Walton Primo", true),
            ("Motorola", true),
            ("com", false),
            ("Modet", false),
            ("", false),
            ("xqzv", false),
        ] {
            assert_eq!(names_a_maker(written), names, "{written}");
        }
    }

    #[test]
    fn misread_brand_names_keep_their_family() {
        for (name, family) in [
            ("Modet Sarmsung Galasy", Some("samsung")),
            ("Samsng", Some("samsung")),
            ("Xiaorni Redmi", Some("xiaomi")),
            ("Redmi", Some("xiaomi")),
            ("Nokla", Some("nokia")),
            // Short names are not guessed at; nor is a word far from every maker.
            ("Vlvo", None),
            ("Brand", None),
            ("Symphonie", brand_family("Symphony")),
        ] {
            assert_eq!(brand_family(name), family, "{name}");
        }
        assert!(brand_matches("Samsung", "Sarmsung Galasy A12"));
        assert!(!brand_matches("Samsung", "Xiaomi"));
    }

    #[test]
    fn maker_table() {
        for (word, family) in [
            ("Samsung", Some("samsung")),
            ("SAMSUNG", Some("samsung")),
            ("HMD", Some("nokia")),
            ("স্যামসাং", Some("samsung")),
            ("ওয়ালটন", Some("walton")),
            ("Galaxy", None),
            ("Redmi", None),
            ("A12", None),
            ("", None),
        ] {
            assert_eq!(maker(word), family, "{word}");
        }
    }

    #[test]
    fn tac_of_table() {
        for (imei, expect) in [
            ("352099001761481", Some(35209900)),
            ("35-209900-176148-1", Some(35209900)),
            ("০১১৩০০০০১২৩৪৫৬৭", Some(1130000)),
            ("3520990", None),
            ("35209900", Some(35209900)),
            ("3520x900176148", None),
            ("", None),
        ] {
            assert_eq!(tac_of(imei), expect, "{imei}");
        }
    }

    #[test]
    fn parse_tac_table() {
        for (raw, expect) in [
            ("35675904", Some(35675904)),
            (" 35572302", Some(35572302)),
            ("1130000", Some(1130000)),
            ("123456789", None),
            ("3567590a", None),
            ("", None),
        ] {
            assert_eq!(parse_tac(raw), expect, "{raw}");
        }
    }

    #[test]
    fn build_pads_dedupes_and_sorts() {
        let rows = [
            ("1194800", "Apple", "iPhone 4"),
            ("35675904", " Oppo", "N1 "),
            ("01194800", "Apple", "iPhone 3GS"),
            ("x", "Nokia", "1610"),
            ("49013920", "", "1610"),
            ("35675904", "Nokia", "later duplicate"),
        ];
        let e = build_entries(rows);
        let got: Vec<(u32, &str, &str)> = e
            .iter()
            .map(|e| (e.tac, e.brand.as_str(), e.model.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![(1194800, "Apple", "iPhone 3GS"), (35675904, "Oppo", "N1")]
        );
    }

    #[test]
    fn encode_decode_round_trip() {
        let e = build_entries([
            ("01130000", "Apple", "iPhone 4"),
            ("35675904", "Oppo", "N1"),
        ]);
        let gz = encode_table(&e, "credit line").expect("encodes");
        let (back, credit) = decode_table(&gz).expect("decodes");
        assert_eq!(back, e);
        assert_eq!(credit[0], "credit line");
        assert!(decode_table(b"not gzip").is_err());
    }

    #[test]
    fn shipped_table_loads_and_credits() {
        let (entries, credit) = decode_table(TABLE_GZ).expect("the shipped table decodes");
        assert!(entries.len() > 20_000, "{}", entries.len());
        assert!(entries.windows(2).all(|w| w[0].tac < w[1].tac));
        assert!(credit
            .iter()
            .any(|c| c.contains("CC-BY-SA") && c.contains("Harald Welte")));
        assert_eq!(table_len(), entries.len());
        let oppo = lookup(35675904).expect("Oppo N1 is in the database");
        assert_eq!((oppo.brand, oppo.model), ("Oppo", "N1"));
        assert_eq!(lookup_imei("356759040000000").map(|i| i.model), Some("N1"));
        assert_eq!(lookup(99999999), None);
    }

    #[test]
    fn brand_matching_table() {
        for (tac, written, ok) in [
            ("Samsung", "samsung", true),
            ("Samsung", "SAMSUNG Electronics", true),
            ("Samsung Electronics", "Galaxy", true),
            ("Xiaomi", "Redmi", true),
            ("Xiaomi", "Mi", true),
            ("Xiaomi", "POCO", true),
            ("Apple", "iPhone", true),
            ("OPPO", "Oppo", true),
            ("Oppo", "Realme", true),
            ("Vivo", "vivo", true),
            ("Huawei", "Honor", true),
            ("Motorola", "Moto", true),
            ("HMD Global", "Nokia", true),
            ("TECNO", "Infinix", true),
            ("Itel", "Tecno", true),
            ("Walton", "Primo", true),
            ("Symphony", "symphony", true),
            ("Sagem", "Sagem Communications", true),
            ("Samsung", "", true),
            ("", "Samsung", true),
            ("Samsung", "Apple", false),
            ("Xiaomi", "Samsung", false),
            ("Walton", "Symphony", false),
            ("Vivo", "Oppo", false),
            ("Nokia", "Nothing Phone", false),
            ("Sagem", "Samsung", false),
            ("Bird", "Amoi", false),
        ] {
            assert_eq!(brand_matches(tac, written), ok, "{tac} vs {written}");
        }
    }

    /// The shared data folder, as the integration tests find it (`JACHAI_SHARED_DATA`
    /// overrides it).
    fn data_dir() -> std::path::PathBuf {
        std::env::var_os("JACHAI_SHARED_DATA").map_or_else(
            || std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")),
            std::path::PathBuf::from,
        )
    }

    #[test]
    fn shipped_table_matches_the_csv() {
        let path = data_dir().join("tac/tacdb.csv");
        let Ok(bytes) = std::fs::read(&path) else {
            eprintln!("skipped: no {}", path.display());
            return;
        };
        let text = String::from_utf8_lossy(&bytes);
        let (credit, rest) = text.split_once('\n').expect("a credit line");
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(rest.as_bytes());
        let rows: Vec<(String, String, String)> = reader
            .records()
            .map(|r| {
                let r = r.expect("a CSV record");
                let f = |i| r.get(i).unwrap_or("").to_owned();
                (f(0), f(1), f(2))
            })
            .collect();
        let expect = build_entries(rows);
        let (shipped, shipped_credit) = decode_table(TABLE_GZ).expect("decodes");
        assert_eq!(
            shipped_credit.first().map(String::as_str),
            Some(credit.trim())
        );
        assert_eq!(shipped.len(), expect.len());
        assert!(
            shipped == expect,
            "rebuild: cargo run -p jachai-verify --example build_tac_table"
        );
    }
}
