//! GD structure: thana/district table and matching, seal and signature detection on drawn
//! pages, and the structure findings on OCR pages built from strings.

mod common;

use verify::gd::geo;

#[test]
fn thana_lookup_is_tolerant() {
    // (raw, expected district among the best matches, or None for no match)
    let cases: &[(&str, Option<&str>)] = &[
        ("Dhanmondi", Some("Dhaka")),
        ("ধানমন্ডি মডেল থানা", Some("Dhaka")),
        ("থানাঃ ধানমণ্ডি", Some("Dhaka")),
        ("Mirpur Model P.S.", Some("Dhaka")),
        ("Mirpur Model P.S.", Some("Kushtia")),
        ("Pallabi Police Station", Some("Dhaka")),
        ("পল্লবী", Some("Dhaka")),
        ("Kotwali", Some("Chattogram")),
        ("কোতয়ালী", Some("Chattogram")),
        ("কোতোয়ালি থানা", Some("Sylhet")),
        ("Kotowali", Some("Barishal")),
        ("Double Mooring", Some("Chattogram")),
        ("Doublemooring", Some("Chattogram")),
        ("Boalia", Some("Rajshahi")),
        ("Savar", Some("Dhaka")),
        ("সাভার", Some("Dhaka")),
        ("Comilla Sadar", Some("Cumilla")),
        ("Cumilla Sadar", Some("Cumilla")),
        ("Sonadanga", Some("Khulna")),
        ("Sonadnga", Some("Khulna")), // one OCR edit
        ("Uttara West", Some("Dhaka")),
        ("Xyzzyville", None),
        ("", None),
        ("থানা", None),
        ("ঢাকা", None),
    ];
    for (raw, want) in cases {
        let got = geo::find_thana(raw);
        match want {
            None => assert!(got.is_empty(), "{raw}: {got:?}"),
            Some(d) => {
                let top = got.first().map_or(0.0, |m| m.score);
                assert!(
                    got.iter()
                        .any(|m| m.score >= top - 0.05 && m.district_en == *d),
                    "{raw} → {d}: {got:?}"
                );
            }
        }
    }
}

#[test]
fn district_lookup_is_tolerant() {
    let cases: &[(&str, Option<&str>)] = &[
        ("Dhaka", Some("Dhaka")),
        ("ঢাকা জেলা", Some("Dhaka")),
        ("Chittagong", Some("Chattogram")),
        ("Chattogram District", Some("Chattogram")),
        ("চট্টগ্রাম", Some("Chattogram")),
        ("Comilla", Some("Cumilla")),
        ("Barisal", Some("Barishal")),
        ("বরিশাল", Some("Barishal")),
        ("Jessore", Some("Jashore")),
        ("Bogra", Some("Bogura")),
        ("Narayangonj", Some("Narayanganj")),
        ("নারায়নগঞ্জ", Some("Narayanganj")),
        ("Khulna", Some("Khulna")),
        ("Atlantis", None),
        ("", None),
    ];
    for (raw, want) in cases {
        let got = geo::find_district(raw).map(|d| d.name_en);
        assert_eq!(got.as_deref(), *want, "{raw}");
    }
}

#[test]
fn thana_district_membership() {
    let cases: &[(&str, &str, bool)] = &[
        ("Dhanmondi", "Dhaka", true),
        ("Dhanmondi", "Khulna", false),
        ("Kotwali", "Chattogram", true),
        ("Kotwali", "Chittagong", true),
        ("কোতোয়ালী", "চট্টগ্রাম", true),
        ("Kotwali", "Khulna", false),
        ("Boalia", "Rajshahi", true),
        ("Pallabi", "Sylhet", false),
        ("Savar", "Dhaka", true),
        ("Sadar", "Bogra", true),
        ("Nowhere", "Dhaka", false),
        ("Dhanmondi", "Nowhere", false),
    ];
    for (t, d, want) in cases {
        assert_eq!(geo::thana_in_district(t, d), *want, "{t} in {d}");
    }
}

#[test]
fn search_text_finds_mentions() {
    let cases: &[(&str, Option<&str>, Option<&str>)] = &[
        ("থানাঃ ধানমন্ডি মডেল থানা, ঢাকা", Some("Dhanmondi"), Some("Dhaka")),
        (
            "Police Station: Double Mooring, Chattogram",
            Some("Double Mooring"),
            Some("Chattogram"),
        ),
        ("the phone was lost on the bus", None, None),
    ];
    for (text, thana, district) in cases {
        let m = geo::search_text(text);
        let t = m
            .iter()
            .find_map(|m| m.thanas.first())
            .map(|t| t.name_en.as_str());
        let d = m
            .iter()
            .find_map(|m| m.district.as_ref())
            .map(|d| d.name_en.as_str());
        assert_eq!(t, *thana, "{text}: {m:?}");
        assert_eq!(d, *district, "{text}: {m:?}");
    }
}

/// The committed tables are what the builder makes from the shared CSVs (when present).
#[test]
fn table_matches_shared_csvs() {
    let dir = common::data_dir().join("bd-geo");
    if !dir.join("upazilas.csv").exists() {
        eprintln!("skipped: {} not found", dir.display());
        return;
    }
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).expect("readable CSV");
    let geo_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/geo/");
    let metro = std::fs::read_to_string(format!("{geo_dir}metro_thanas.tsv")).expect("metro");
    let (districts, thanas) = geo::build_tables(
        &read("divisions.csv"),
        &read("districts.csv"),
        &read("upazilas.csv"),
        &metro,
    )
    .expect("tables build");
    let committed = |n: &str| std::fs::read_to_string(format!("{geo_dir}{n}")).expect("table");
    assert_eq!(districts, committed("districts.tsv"));
    assert_eq!(thanas, committed("thanas.tsv"));
    assert_eq!(geo::districts().len(), 64);
    // Every upazila of the CSV is a thana of its district.
    let upazilas = read("upazilas.csv");
    assert!(upazilas.lines().count() >= 490);
    for line in upazilas.lines() {
        let f: Vec<&str> = line.split(',').map(|f| f.trim_matches('"')).collect();
        let bn = f.get(3).expect("bn name").trim();
        assert!(
            geo::thanas()
                .iter()
                .any(|t| t.name_bn == *bn && t.source == "upazila"),
            "{line}"
        );
    }
}
