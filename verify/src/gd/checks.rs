//! Cross-checks on the fields read from a GD copy: typed IMEIs against the document, check
//! digits and repairs, the two IMEIs of one phone, the brand against the TAC, GD number and
//! date, and duplicates. Each returns findings in page coordinates.

use crate::imei::tac;
use crate::report::{Finding, Region, Severity, Stage};

use super::duplicates::{DuplicateIndex, Fingerprint, GdKey};
use super::fields::GdFields;
use super::route::bn_digits;

const SECONDS_PER_DAY: i64 = 86_400;

fn finding(code: &str, severity: Severity, points: u32, en: String, bn: String) -> Finding {
    Finding::new(code, Stage::Fields, severity, points, en, bn)
}

/// Most OCR slips (digits changed, added or left out) between a typed IMEI and an unreadable
/// one on the page for the page's to leave the question open rather than contradict it: a
/// blurred photo costs two or three digits, while another phone's IMEI differs in most of its
/// serial (and an altered document reads as a valid IMEI, which is compared exactly).
const MAX_SLIPS: usize = 3;

/// The fewest slips between the digits of `typed` and any reading of `bad` (ASCII or Bengali
/// digits; anything else left out).
fn slips_from(typed: &str, bad: &super::fields::InvalidImei) -> usize {
    let digits = |s: &str| -> Vec<u8> { s.chars().filter_map(crate::imei::digit_value).collect() };
    let t = digits(typed);
    std::iter::once(&bad.value)
        .chain(&bad.readings)
        .map(|r| strsim::generic_levenshtein(&t, &digits(r)))
        .min()
        .unwrap_or(usize::MAX)
}

/// Typed IMEIs against the document's, and what the IMEIs on the page say by themselves.
pub fn imeis(typed: &[String], read: &GdFields) -> Vec<Finding> {
    let mut out = Vec::new();
    let on_doc: Vec<&str> = read.imeis.iter().map(|r| r.imei.as_str()).collect();
    let doc_list = if on_doc.is_empty() {
        "none".to_owned()
    } else {
        on_doc.join(", ")
    };
    let nothing_read = read.imeis.is_empty() && read.invalid_imeis.is_empty();
    // Invalid IMEIs a typed one may be (`imei_unconfirmed` shows the reading; no `imei_invalid`
    // for them as well, which would count the one unclear number twice).
    let mut unconfirmed: Vec<usize> = Vec::new();
    for t in typed {
        if on_doc.contains(&t.as_str()) {
            continue;
        }
        // Nothing read at all: `imei_not_found` below says so; there is nothing to contradict.
        if nothing_read {
            continue;
        }
        // An IMEI on the page that could not be read as a valid one, yet is a few OCR slips
        // from the typed number, neither confirms nor contradicts it.
        if let Some((i, bad)) = read
            .invalid_imeis
            .iter()
            .enumerate()
            .find(|(_, b)| slips_from(t, b) <= MAX_SLIPS)
        {
            unconfirmed.push(i);
            out.push(
                finding(
                    "imei_unconfirmed",
                    Severity::High,
                    40,
                    format!("The IMEI typed at the kiosk, {t}, could not be confirmed: the GD copy's IMEI was read as {} and is not clear enough to compare. Please retake the photo flat, sharp and well lit, or an officer will compare it by eye.", bad.value),
                    format!("কিয়স্কে দেওয়া আইএমইআই {t} নিশ্চিত করা যায়নি: জিডি কপির আইএমইআই {} হিসেবে পড়া গেছে, মেলানোর মতো স্পষ্ট নয়। কাগজটি সমান রেখে, স্পষ্ট ও ভালো আলোয় আবার ছবি তুলুন, নইলে একজন কর্মকর্তা নিজে মিলিয়ে দেখবেন।", bad.value),
                )
                .with_regions(vec![bad.region]),
            );
            continue;
        }
        out.push(
            finding(
                "imei_mismatch",
                Severity::Critical,
                70,
                format!("The IMEI typed at the kiosk, {t}, is not on the GD copy (the document shows: {doc_list})."),
                format!("কিয়স্কে দেওয়া আইএমইআই {t} জিডি কপিতে নেই (নথিতে আছে: {})।", if on_doc.is_empty() { "কিছুই না".to_owned() } else { on_doc.join(", ") }),
            )
            .with_regions(read.imeis.iter().map(|r| r.region).collect()),
        );
    }
    if read.imeis.is_empty() && read.invalid_imeis.is_empty() {
        out.push(finding(
            "imei_not_found",
            Severity::High,
            40,
            "No IMEI could be read on the GD copy. Please retake the photo flat, sharp and well lit, or an officer will compare it with the phone's IMEI."
                .into(),
            "জিডি কপিতে কোনো আইএমইআই পড়া যায়নি। কাগজটি সমান রেখে, স্পষ্ট ও ভালো আলোয় আবার ছবি তুলুন, নইলে একজন কর্মকর্তা ফোনের আইএমইআই-এর সাথে মিলিয়ে দেখবেন।"
                .into(),
        ));
    }
    for (_, bad) in read
        .invalid_imeis
        .iter()
        .enumerate()
        .filter(|(i, _)| !unconfirmed.contains(i))
    {
        out.push(
            finding(
                "imei_invalid",
                Severity::Medium,
                20,
                format!(
                    "The number read as an IMEI, {}, is not a valid IMEI ({}).",
                    bad.value, bad.reason
                ),
                format!(
                    "আইএমইআই হিসেবে পড়া নম্বর {} সঠিক আইএমইআই নয় (চেক ডিজিট মেলে না বা অঙ্ক কম-বেশি)।",
                    bad.value
                ),
            )
            .with_regions(vec![bad.region]),
        );
    }
    for r in &read.imeis {
        if let Some(note) = &r.note {
            out.push(
                finding(
                    "imei_repaired",
                    Severity::Info,
                    0,
                    format!("The IMEI {} was read with OCR mistakes and repaired ({note}); only one valid IMEI fits.", r.imei),
                    format!("আইএমইআই {} পড়তে ভুল হয়েছিল, সংশোধন করা হয়েছে ({note}); একটিমাত্র সঠিক আইএমইআই মেলে।", r.imei),
                )
                .with_regions(vec![r.region]),
            );
        }
    }
    // The same number under two IMEI labels: one phone's two slots never share an IMEI.
    for again in &read.repeated_imeis {
        let mut regions: Vec<Region> = read
            .imeis
            .iter()
            .filter(|r| r.imei == again.imei)
            .map(|r| r.region)
            .collect();
        regions.push(again.region);
        out.push(
            finding(
                "imei_repeated",
                Severity::High,
                40,
                format!("The IMEI {} is written twice; a phone's two IMEIs always differ, so one may have been copied over the other.", again.imei),
                format!("আইএমইআই {} দুইবার লেখা; একটি ফোনের দুটি আইএমইআই সবসময় আলাদা, তাই একটি অন্যটির ওপর কপি করা হতে পারে।", again.imei),
            )
            .with_regions(regions),
        );
    }
    if let Some(brand) = &read.brand {
        for r in &read.imeis {
            let Some(info) = tac::lookup_imei(&r.imei) else {
                continue;
            };
            // A word that names no maker at all (an OCR fragment) contradicts nothing.
            if !tac::brand_matches(info.brand, &brand.value) && tac::names_a_maker(&brand.value) {
                out.push(
                    finding(
                        "imei_brand_mismatch",
                        Severity::Medium,
                        25,
                        format!(
                            "The document says the phone is a {}, but IMEI {} belongs to a {} {} (TAC {:08}).",
                            brand.value, r.imei, info.brand, info.model, info.tac
                        ),
                        format!(
                            "নথিতে ফোনটি {} লেখা, কিন্তু আইএমইআই {} একটি {} {}-এর (TAC {:08})।",
                            brand.value, r.imei, info.brand, info.model, info.tac
                        ),
                    )
                    .with_regions(vec![brand.region, r.region]),
                );
            }
        }
    }
    out
}

/// GD number and date present; the date not in the future.
pub fn dates_and_numbers(read: &GdFields, now_unix: i64) -> Vec<Finding> {
    let mut out = Vec::new();
    if read.gd_number.is_none() {
        out.push(finding(
            "gd_number_missing",
            Severity::Medium,
            20,
            "No GD number (জিডি নং / GD No.) could be read on the document.".into(),
            "নথিতে কোনো জিডি নম্বর পড়া যায়নি।".into(),
        ));
    }
    match &read.gd_date {
        None => out.push(finding(
            "gd_date_missing",
            Severity::Medium,
            15,
            "No GD date (তারিখ / Date) could be read on the document.".into(),
            "নথিতে জিডির তারিখ পড়া যায়নি।".into(),
        )),
        Some(d) => {
            if let Some(days) = days_from_civil(&d.value) {
                let today = now_unix.div_euclid(SECONDS_PER_DAY);
                if days > today + 1 {
                    out.push(
                        finding(
                            "gd_date_future",
                            Severity::High,
                            35,
                            format!("The GD is dated {}, which is in the future.", d.value),
                            format!("জিডির তারিখ {}, যা ভবিষ্যতের তারিখ।", d.value),
                        )
                        .with_regions(vec![d.region]),
                    );
                }
            }
        }
    }
    out
}

/// Days since 1970-01-01 of an ISO `YYYY-MM-DD` date.
pub fn days_from_civil(iso: &str) -> Option<i64> {
    let mut it = iso.split('-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Ask the caller's index about this IMEI, GD number and page.
pub fn duplicates(
    read: &GdFields,
    thana: Option<&str>,
    fingerprint: &Fingerprint,
    max_distance: u32,
    index: &dyn DuplicateIndex,
) -> Vec<Finding> {
    let dup = |en: String, bn: String, regions| {
        Finding::new("duplicate", Stage::Duplicates, Severity::High, 40, en, bn)
            .with_regions(regions)
    };
    let mut out = Vec::new();
    for r in &read.imeis {
        if let Some(seen) = index.imei(&r.imei) {
            out.push(dup(
                format!("IMEI {} was already reported ({}).", r.imei, seen.reference),
                format!(
                    "আইএমইআই {} আগেই রিপোর্ট করা হয়েছে ({})।",
                    r.imei, seen.reference
                ),
                vec![r.region],
            ));
        }
    }
    if let (Some(number), Some(date), Some(thana)) = (&read.gd_number, &read.gd_date, thana) {
        if let Some(year) = date.value.get(..4).and_then(|y| y.parse().ok()) {
            if let Some(seen) = index.gd_number(&GdKey::new(thana, year, &number.value)) {
                out.push(dup(
                    format!(
                        "GD number {} of {thana} thana, {year}, was already used ({}).",
                        number.value, seen.reference
                    ),
                    format!(
                        "{thana} থানার {} সালের জিডি নম্বর {} আগেই ব্যবহার হয়েছে ({})।",
                        bn_digits(year as usize),
                        number.value,
                        seen.reference
                    ),
                    vec![number.region],
                ));
            }
        }
    }
    if let Some(seen) = index.similar_image(fingerprint, max_distance) {
        let d = seen.distance.unwrap_or(0);
        out.push(dup(
            format!("This GD copy is nearly identical to one already submitted ({}, {d} of 1024 bits differ).", seen.reference),
            format!("এই জিডি কপিটি আগে জমা দেওয়া একটি কপির প্রায় হুবহু ({})।", seen.reference),
            Vec::new(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gd::duplicates::MemoryIndex;
    use crate::gd::fields::{Field, InvalidImei, ReadImei};
    use crate::report::{DocumentKind, FieldValue, Report, Verdict};

    const A: &str = "356938035643809";
    const B: &str = "356938035643817";
    const C: &str = "490154203237518";

    fn imei(value: &str, x: u32, note: Option<&str>) -> ReadImei {
        ReadImei {
            imei: value.into(),
            region: Region::new(x, 100, 300, 30),
            confidence: 0.9,
            note: note.map(str::to_owned),
            label: Some("IMEI".into()),
        }
    }

    fn field(value: &str) -> Option<Field> {
        Some(Field {
            value: value.into(),
            region: Region::new(10, 10, 80, 30),
            confidence: 0.9,
        })
    }

    fn doc(imeis: Vec<ReadImei>) -> GdFields {
        GdFields {
            imeis,
            gd_number: field("789"),
            gd_date: field("2024-03-12"),
            ..GdFields::default()
        }
    }

    /// A document whose only IMEI could not be read as a valid one: the value as read, then
    /// the re-reads.
    fn unreadable(readings: &[&str]) -> GdFields {
        let mut d = doc(vec![]);
        d.invalid_imeis.push(InvalidImei {
            value: readings[0].into(),
            region: Region::new(0, 0, 10, 10),
            confidence: 0.5,
            reason: "check digit".into(),
            label: Some("IMEI".into()),
            readings: readings[1..].iter().map(|r| (*r).to_owned()).collect(),
        });
        d
    }

    fn codes(found: &[Finding]) -> Vec<&str> {
        found.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn imei_table() {
        let typed = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let mut repeated = doc(vec![imei(A, 0, None)]);
        repeated.repeated_imeis.push(imei(A, 600, None));
        let mut invalid = doc(vec![]);
        invalid.invalid_imeis.push(InvalidImei {
            value: "356938035643808".into(),
            region: Region::new(0, 0, 10, 10),
            confidence: 0.5,
            reason: "check digit".into(),
            label: None,
            readings: vec![],
        });
        let mut wrong_brand = doc(vec![imei(A, 0, None)]);
        wrong_brand.brand = field("Samsung"); // TAC 35693803 is a Nokia N900
        let mut fragment_brand = doc(vec![imei(A, 0, None)]);
        fragment_brand.brand = field("com"); // an OCR fragment names no maker
        let mut right_brand = doc(vec![imei(A, 0, None)]);
        right_brand.brand = tac::lookup_imei(A).map(|t| Field {
            value: t.brand.to_owned(),
            region: Region::new(0, 0, 1, 1),
            confidence: 1.0,
        });
        let rows: Vec<(&str, Vec<String>, GdFields, Vec<&str>)> = vec![
            (
                "both match",
                typed(&[A, B]),
                doc(vec![imei(A, 0, None), imei(B, 400, None)]),
                vec![],
            ),
            (
                "one typed not on doc",
                typed(&[A, C]),
                doc(vec![imei(A, 0, None), imei(B, 400, None)]),
                vec!["imei_mismatch"],
            ),
            (
                "nothing read",
                typed(&[A]),
                doc(vec![]),
                vec!["imei_not_found"],
            ),
            (
                "typed one slip from an unreadable IMEI",
                typed(&[A]),
                unreadable(&["356938035643808"]),
                vec!["imei_unconfirmed"],
            ),
            (
                "typed three slips from a re-read, Bengali digits",
                typed(&[A]),
                unreadable(&["35693803", "৩৫৬৯৩৮০৩৫৬১৩৮"]),
                vec!["imei_unconfirmed"],
            ),
            (
                "typed far from an unreadable IMEI",
                typed(&[C]),
                unreadable(&["356938035643808", "35693803564381"]),
                vec!["imei_mismatch", "imei_invalid"],
            ),
            (
                "second typed IMEI beside an unreadable second slot",
                typed(&[A, B]),
                {
                    let mut d = unreadable(&["3569380356438"]);
                    d.imeis.push(imei(A, 0, None));
                    d
                },
                vec!["imei_unconfirmed"],
            ),
            ("invalid read", typed(&[]), invalid, vec!["imei_invalid"]),
            (
                "repaired",
                typed(&[A]),
                doc(vec![imei(A, 0, Some("repaired O→0 at 4"))]),
                vec!["imei_repaired"],
            ),
            (
                "written twice",
                typed(&[A]),
                repeated,
                vec!["imei_repeated"],
            ),
            (
                "brand contradicts TAC",
                typed(&[A]),
                wrong_brand,
                vec!["imei_brand_mismatch"],
            ),
            ("brand agrees with TAC", typed(&[A]), right_brand, vec![]),
            (
                "brand is no maker's name",
                typed(&[A]),
                fragment_brand,
                vec![],
            ),
        ];
        for (name, typed, read, want) in rows {
            let found = imeis(&typed, &read);
            assert_eq!(codes(&found), want, "{name}");
            for f in &found {
                assert!(!f.en.is_empty() && !f.bn.is_empty(), "{name}");
            }
        }
        let mismatch = imeis(&typed(&[C]), &doc(vec![imei(A, 0, None)]));
        assert!(
            mismatch[0].en.contains(C) && mismatch[0].en.contains(A),
            "shows both numbers"
        );
        assert!(mismatch[0].points >= 70, "reject weight");
    }

    #[test]
    fn number_and_date_table() {
        let now = 19_800 * SECONDS_PER_DAY; // 2024-03-18
        let mut future = doc(vec![]);
        future.gd_date = field("2024-04-30");
        let rows: Vec<(&str, GdFields, Vec<&str>)> = vec![
            ("complete", doc(vec![]), vec![]),
            (
                "no number",
                GdFields {
                    gd_number: None,
                    ..doc(vec![])
                },
                vec!["gd_number_missing"],
            ),
            (
                "no date",
                GdFields {
                    gd_date: None,
                    ..doc(vec![])
                },
                vec!["gd_date_missing"],
            ),
            ("future date", future, vec!["gd_date_future"]),
        ];
        for (name, read, want) in rows {
            assert_eq!(codes(&dates_and_numbers(&read, now)), want, "{name}");
        }
    }

    #[test]
    fn duplicates_table() {
        let page =
            image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([(x * 4) as u8, (y * 4) as u8, 0]));
        let fp = Fingerprint::of(&page);
        let mut earlier = Report {
            sha256: String::new(),
            kind: DocumentKind::Gd,
            verdict: Verdict::Approve,
            risk: 0,
            findings: Vec::new(),
            fields: Default::default(),
            located: Vec::new(),
            explanation: None,
            stages: Vec::new(),
            annotated_png: None,
        };
        earlier
            .fields
            .insert("imeis".into(), FieldValue::List(vec![A.into()]));
        earlier.fields.insert("gd_number".into(), "789".into());
        earlier.fields.insert("thana".into(), "Dhanmondi".into());
        earlier.fields.insert("gd_date".into(), "2024-03-12".into());
        earlier
            .fields
            .insert("image_hash".into(), fp.to_base64().into());
        let mut index = MemoryIndex::new();
        index.record("case-1", &earlier);
        let other_page = Fingerprint::of(&image::RgbImage::from_fn(64, 64, |x, y| {
            image::Rgb([((x * y) % 251) as u8, (y * 4) as u8, 9])
        }));
        let rows: Vec<(&str, GdFields, Option<&str>, &Fingerprint, usize)> = vec![
            (
                "all three seen",
                doc(vec![imei(A, 0, None)]),
                Some("Dhanmondi"),
                &fp,
                3,
            ),
            (
                "new IMEI, same GD number elsewhere",
                doc(vec![imei(B, 0, None)]),
                Some("Mirpur"),
                &other_page,
                0,
            ),
            (
                "same GD number and thana",
                doc(vec![imei(B, 0, None)]),
                Some("dhanmondi"),
                &other_page,
                1,
            ),
            (
                "only the IMEI",
                doc(vec![imei(A, 0, None)]),
                None,
                &other_page,
                1,
            ),
        ];
        for (name, read, thana, fp, want) in rows {
            let found = duplicates(&read, thana, fp, 60, &index);
            assert_eq!(found.len(), want, "{name}: {found:#?}");
            assert!(found.iter().all(|f| f.code == "duplicate"), "{name}");
        }
    }

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil("1970-01-01"), Some(0));
        assert_eq!(days_from_civil("2024-03-12"), Some(19_794));
        assert_eq!(days_from_civil("2024-13-01"), None);
        assert_eq!(days_from_civil("x"), None);
    }
}
