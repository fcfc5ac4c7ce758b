//! Reference data: thanas and districts, phone models and their TACs, names and places.
//!
//! Districts and upazilas come from `bd-geo` and TACs from the Osmocom TAC database in the
//! shared data folder when it is there; small in-code lists stand in when it is not.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rand::seq::SliceRandom;
use rand::Rng;

/// The shared data folder: `$JACHAI_SHARED_DATA`, else `../shared/data` beside the repository.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("JACHAI_SHARED_DATA").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")),
        PathBuf::from,
    )
}

/// A police station (thana) and its district, in English and Bengali.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thana {
    /// English name, e.g. "Mirpur Model".
    pub thana_en: String,
    /// Bengali name, e.g. "মিরপুর মডেল".
    pub thana_bn: String,
    /// English district name, e.g. "Dhaka".
    pub district_en: String,
    /// Bengali district name, e.g. "ঢাকা".
    pub district_bn: String,
    /// Whether it is a metropolitan police thana.
    pub metro: bool,
}

/// Metropolitan police thanas (DMP, CMP, RMP, KMP, SMP, BMP, GMP, RpMP), missing from bd-geo.
const METRO: &[(&str, &str, &str, &str)] = &[
    ("Dhanmondi", "ধানমন্ডি", "Dhaka", "ঢাকা"),
    ("Mirpur Model", "মিরপুর মডেল", "Dhaka", "ঢাকা"),
    ("Mohammadpur", "মোহাম্মদপুর", "Dhaka", "ঢাকা"),
    ("Gulshan", "গুলশান", "Dhaka", "ঢাকা"),
    ("Uttara West", "উত্তরা পশ্চিম", "Dhaka", "ঢাকা"),
    ("Tejgaon", "তেজগাঁও", "Dhaka", "ঢাকা"),
    ("Ramna Model", "রমনা মডেল", "Dhaka", "ঢাকা"),
    ("Shahbagh", "শাহবাগ", "Dhaka", "ঢাকা"),
    ("Pallabi", "পল্লবী", "Dhaka", "ঢাকা"),
    ("Khilgaon", "খিলগাঁও", "Dhaka", "ঢাকা"),
    ("Jatrabari", "যাত্রাবাড়ী", "Dhaka", "ঢাকা"),
    ("Motijheel", "মতিঝিল", "Dhaka", "ঢাকা"),
    ("Lalbagh", "লালবাগ", "Dhaka", "ঢাকা"),
    ("Badda", "বাড্ডা", "Dhaka", "ঢাকা"),
    ("Kafrul", "কাফরুল", "Dhaka", "ঢাকা"),
    ("Kotwali", "কোতোয়ালী", "Chattogram", "চট্টগ্রাম"),
    ("Panchlaish", "পাঁচলাইশ", "Chattogram", "চট্টগ্রাম"),
    ("Double Mooring", "ডবলমুরিং", "Chattogram", "চট্টগ্রাম"),
    ("Halishahar", "হালিশহর", "Chattogram", "চট্টগ্রাম"),
    ("Chandgaon", "চান্দগাঁও", "Chattogram", "চট্টগ্রাম"),
    ("Bayazid Bostami", "বায়েজিদ বোস্তামী", "Chattogram", "চট্টগ্রাম"),
    ("Boalia Model", "বোয়ালিয়া মডেল", "Rajshahi", "রাজশাহী"),
    ("Rajpara", "রাজপাড়া", "Rajshahi", "রাজশাহী"),
    ("Sonadanga Model", "সোনাডাঙ্গা মডেল", "Khulna", "খুলনা"),
    ("Khalishpur", "খালিশপুর", "Khulna", "খুলনা"),
    ("Kotwali Model", "কোতোয়ালী মডেল", "Sylhet", "সিলেট"),
    ("Jalalabad", "জালালাবাদ", "Sylhet", "সিলেট"),
    ("Kotwali Model", "কোতোয়ালী মডেল", "Barishal", "বরিশাল"),
    ("Tongi East", "টঙ্গী পূর্ব", "Gazipur", "গাজীপুর"),
    ("Kotwali", "কোতোয়ালী", "Rangpur", "রংপুর"),
];

/// Rural thanas (named after their upazila) used when bd-geo is missing.
const RURAL_FALLBACK: &[(&str, &str, &str, &str)] = &[
    ("Debidwar", "দেবিদ্বার", "Cumilla", "কুমিল্লা"),
    ("Sonagazi", "সোনাগাজী", "Feni", "ফেনী"),
    ("Savar", "সাভার", "Dhaka", "ঢাকা"),
    ("Sreepur", "শ্রীপুর", "Gazipur", "গাজীপুর"),
    ("Bagmara", "বাগমারা", "Rajshahi", "রাজশাহী"),
    ("Dumuria", "ডুমুরিয়া", "Khulna", "খুলনা"),
    ("Beanibazar", "বিয়ানীবাজার", "Sylhet", "সিলেট"),
    ("Gouranadi", "গৌরনদী", "Barishal", "বরিশাল"),
    ("Pirganj", "পীরগঞ্জ", "Rangpur", "রংপুর"),
    ("Muktagacha", "মুক্তাগাছা", "Mymensingh", "ময়মনসিংহ"),
    ("Sitakunda", "সীতাকুন্ড", "Chattogram", "চট্টগ্রাম"),
    ("Kalihati", "কালিহাতী", "Tangail", "টাঙ্গাইল"),
];

/// Split one CSV line into fields (double quotes, with `""` inside quoted fields).
fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn load_rural(dir: &Path) -> Option<Vec<Thana>> {
    let districts = std::fs::read_to_string(dir.join("bd-geo/districts.csv")).ok()?;
    let upazilas = std::fs::read_to_string(dir.join("bd-geo/upazilas.csv")).ok()?;
    let by_id: HashMap<String, (String, String)> = districts
        .lines()
        .map(csv_fields)
        .filter(|f| f.len() >= 4)
        .map(|f| (f[0].clone(), (f[2].clone(), f[3].clone())))
        .collect();
    let out: Vec<Thana> = upazilas
        .lines()
        .map(csv_fields)
        .filter(|f| f.len() >= 4)
        .filter_map(|f| {
            let (den, dbn) = by_id.get(&f[1])?;
            Some(Thana {
                thana_en: f[2].trim().to_owned(),
                thana_bn: f[3].trim().to_owned(),
                district_en: den.trim().to_owned(),
                district_bn: dbn.trim().to_owned(),
                metro: false,
            })
        })
        .filter(|t| !t.thana_en.is_empty() && !t.thana_bn.is_empty())
        .collect();
    (!out.is_empty()).then_some(out)
}

fn from_table(table: &[(&str, &str, &str, &str)], metro: bool) -> Vec<Thana> {
    table
        .iter()
        .map(|&(te, tb, de, db)| Thana {
            thana_en: te.to_owned(),
            thana_bn: tb.to_owned(),
            district_en: de.to_owned(),
            district_bn: db.to_owned(),
            metro,
        })
        .collect()
}

/// Reference data loaded once per data folder.
#[derive(Debug)]
pub struct RefData {
    rural: Vec<Thana>,
    metro: Vec<Thana>,
    tacs: HashMap<String, Vec<(String, String)>>,
    /// Whether bd-geo was read from the data folder.
    pub geo_from_files: bool,
    /// Whether the TAC database was read from the data folder.
    pub tacs_from_files: bool,
}

impl RefData {
    /// Read `dir` (falling back to the in-code lists for whatever is missing).
    pub fn load(dir: &Path) -> Self {
        let rural_files = load_rural(dir);
        let geo_from_files = rural_files.is_some();
        let rural = rural_files.unwrap_or_else(|| from_table(RURAL_FALLBACK, false));
        let tacs = load_tacs(&dir.join("tac/tacdb.csv"));
        let tacs_from_files = !tacs.is_empty();
        RefData {
            rural,
            metro: from_table(METRO, true),
            tacs,
            geo_from_files,
            tacs_from_files,
        }
    }

    /// The data for `dir`, cached for the process (one folder at a time is the normal case).
    pub fn cached(dir: &Path) -> &'static RefData {
        static CACHE: OnceLock<std::sync::Mutex<Vec<(PathBuf, &'static RefData)>>> =
            OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let mut guard = cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, d)) = guard.iter().find(|(p, _)| p == dir) {
            return d;
        }
        let data: &'static RefData = Box::leak(Box::new(RefData::load(dir)));
        guard.push((dir.to_owned(), data));
        data
    }

    /// A random thana: metropolitan about a third of the time.
    pub fn thana<R: Rng + ?Sized>(&self, rng: &mut R) -> Thana {
        let list = if rng.gen_bool(0.35) {
            &self.metro
        } else {
            &self.rural
        };
        list.choose(rng)
            .expect("thana lists are never empty")
            .clone()
    }

    /// A TAC for `phone`: from the TAC database for its brand (preferring its model) when
    /// present, else from the in-code list; `(tac, matches_brand)`.
    pub fn tac<R: Rng + ?Sized>(&self, phone: &Phone, rng: &mut R) -> (String, bool) {
        if let Some(list) = self.tacs.get(&phone.brand.to_lowercase()) {
            let key = phone.tac_model_hint.to_lowercase();
            let by_model: Vec<&(String, String)> = list
                .iter()
                .filter(|(_, m)| !key.is_empty() && m.to_lowercase().contains(&key))
                .collect();
            let pick = if by_model.is_empty() {
                list.choose(rng)
            } else {
                by_model.choose(rng).copied()
            };
            if let Some((tac, _)) = pick {
                return (tac.clone(), true);
            }
        }
        if let Some(&(_, tacs)) = BUILTIN_TACS
            .iter()
            .find(|(b, _)| b.eq_ignore_ascii_case(phone.brand))
        {
            let tac = tacs.choose(rng).expect("builtin TAC lists are not empty");
            return ((*tac).to_owned(), true);
        }
        // No allocation known for this brand: a TAC under reporting body 86 (China), where
        // these brands' phones are made.
        (format!("86{:06}", rng.gen_range(0..1_000_000u32)), false)
    }
}

fn load_tacs(path: &Path) -> HashMap<String, Vec<(String, String)>> {
    let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let Ok(text) = std::fs::read_to_string(path) else {
        return out;
    };
    for line in text.lines().skip(2) {
        let f = csv_fields(line);
        if f.len() < 3 {
            continue;
        }
        let tac = f[0].trim();
        if tac.len() != 8 || !tac.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        out.entry(f[1].trim().to_lowercase())
            .or_default()
            .push((tac.to_owned(), f[2].trim().to_owned()));
    }
    out
}

/// Real TACs (from the Osmocom TAC database) for when the database file is missing.
const BUILTIN_TACS: &[(&str, &[&str])] = &[
    (
        "Samsung",
        &["35216705", "35961604", "35261306", "35483305", "35804804"],
    ),
    ("Xiaomi", &["86751502", "86927102", "86173503", "86365703"]),
    ("Oppo", &["86264103", "86482602", "86580402", "35675904"]),
    ("Apple", &["01294000", "01300600", "01312600", "01243100"]),
    ("Nokia", &["35999805", "35250500", "35060680"]),
    ("Huawei", &["86749901", "35314203", "35328402"]),
];

/// A phone model as people write it on a GD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phone {
    /// Brand, e.g. "Samsung".
    pub brand: &'static str,
    /// Model, e.g. "Galaxy A12".
    pub model: &'static str,
    /// A substring to prefer among the TAC database's models of this brand.
    pub tac_model_hint: &'static str,
    /// Whether the phone takes two SIMs (two IMEIs).
    pub dual_sim: bool,
}

const fn phone(brand: &'static str, model: &'static str, hint: &'static str, dual: bool) -> Phone {
    Phone {
        brand,
        model,
        tac_model_hint: hint,
        dual_sim: dual,
    }
}

/// Phones common in Bangladesh.
pub const PHONES: &[Phone] = &[
    phone("Samsung", "Galaxy A12", "galaxy", true),
    phone("Samsung", "Galaxy A32", "galaxy", true),
    phone("Samsung", "Galaxy M31", "galaxy", true),
    phone("Samsung", "Galaxy J7 Prime", "galaxy", true),
    phone("Samsung", "Galaxy Note 10", "note", true),
    phone("Xiaomi", "Redmi Note 10", "redmi note", true),
    phone("Xiaomi", "Redmi 9A", "redmi", true),
    phone("Xiaomi", "Redmi Note 8", "redmi note", true),
    phone("Xiaomi", "Poco X3", "", true),
    phone("Walton", "Primo R6", "", true),
    phone("Walton", "Primo NH4", "", true),
    phone("Walton", "Primo HM5", "", true),
    phone("Symphony", "Z30", "", true),
    phone("Symphony", "i95", "", true),
    phone("Symphony", "V130", "", true),
    phone("Tecno", "Spark 7", "", true),
    phone("Infinix", "Hot 10", "", true),
    phone("Realme", "C25", "", true),
    phone("Oppo", "A15", "", true),
    phone("Oppo", "F19", "", true),
    phone("Vivo", "Y20", "", true),
    phone("Nokia", "105", "105", true),
    phone("Nokia", "C20", "", true),
    phone("Apple", "iPhone 11", "iphone", false),
    phone("Apple", "iPhone XR", "iphone", false),
    phone("Huawei", "Y9 Prime", "", true),
];

/// Applicants' names in Bengali.
pub const NAMES: &[&str] = &[
    "মোঃ রফিকুল ইসলাম",
    "মোছাঃ নাসরিন আক্তার",
    "আব্দুল্লাহ আল মামুন",
    "শাহানা পারভীন",
    "মোঃ জাহিদ হাসান",
    "তানভীর আহমেদ",
    "সুমাইয়া ইসলাম",
    "মোঃ কামরুজ্জামান",
    "রাকিবুল হাসান",
    "ফারজানা ইয়াসমিন",
    "সৌরভ দাস",
    "মোঃ আরিফুর রহমান",
    "নুসরাত জাহান",
    "প্রদীপ কুমার সাহা",
    "মোঃ মাহমুদুল হক",
];

/// Duty officers' names and ranks in Bengali.
pub const OFFICERS: &[&str] = &[
    "এসআই মোঃ আনোয়ার হোসেন",
    "এএসআই মোঃ শফিকুল ইসলাম",
    "এসআই রুবিনা আক্তার",
    "এএসআই মোঃ হাবিবুর রহমান",
    "এসআই বিপ্লব কুমার দে",
    "এসআই মোঃ নজরুল ইসলাম",
];

/// Places where phones get lost or snatched.
pub const PLACES: &[&str] = &[
    "নিউ মার্কেট",
    "গুলিস্তান বাস স্ট্যান্ড",
    "ফার্মগেট",
    "কাঁচাবাজার",
    "রেলওয়ে স্টেশন",
    "লঞ্চঘাট",
    "মেডিকেল কলেজ হাসপাতাল",
    "বাসস্ট্যান্ড",
    "চৌরাস্তা মোড়",
    "কলেজ গেট",
];

/// Road and area names for addresses.
pub const AREAS: &[&str] = &[
    "পূর্বপাড়া",
    "কলেজ রোড",
    "স্টেশন রোড",
    "মধ্যপাড়া",
    "নতুন বাজার",
    "হাজী পাড়া",
    "উত্তর পাড়া",
];

/// A random phone.
pub fn phone_choice<R: Rng + ?Sized>(rng: &mut R) -> Phone {
    *PHONES.choose(rng).expect("phone list is not empty")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes() {
        assert_eq!(csv_fields(r#""1","a,b","c""d""#), vec!["1", "a,b", "c\"d"]);
    }

    #[test]
    fn fallback_without_files() {
        let d = RefData::load(Path::new("/nonexistent"));
        assert!(!d.geo_from_files && !d.tacs_from_files);
        let mut rng = rand::rngs::mock::StepRng::new(0, 7);
        let (tac, ok) = d.tac(&PHONES[0], &mut rng);
        assert!(ok && tac.len() == 8);
    }
}
