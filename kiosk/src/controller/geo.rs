//! District and thana choices for the place picker, from the table `verify` ships (derived from
//! bd-geo upazilas plus metropolitan police thanas; see `verify/data/geo/README.md`).

use verify::gd::geo::{self, District, Thana};

use super::Lang;

/// One choice on screen: the label in the session's language and the row it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub label: String,
    /// Index into [`geo::districts`] or [`geo::thanas`].
    pub index: usize,
}

fn name<'a>(lang: Lang, en: &'a str, bn: &'a str) -> &'a str {
    match lang {
        Lang::Bn if !bn.is_empty() => bn,
        _ => en,
    }
}

/// All districts, sorted by their name in `lang`.
pub fn district_choices(lang: Lang) -> Vec<Choice> {
    let mut out: Vec<Choice> = geo::districts()
        .iter()
        .enumerate()
        .map(|(index, d)| Choice {
            label: name(lang, &d.name_en, &d.name_bn).to_owned(),
            index,
        })
        .collect();
    out.sort_by(|a, b| a.label.cmp(&b.label));
    out
}

/// The thanas of district `district`, sorted by name; the bare "Sadar" row is left out (its
/// "<District> Sadar" twin is there).
pub fn thana_choices(lang: Lang, district: usize) -> Vec<Choice> {
    let mut out: Vec<Choice> = geo::thanas()
        .iter()
        .enumerate()
        .filter(|(_, t)| t.district == district && t.name_en != "Sadar")
        .map(|(index, t)| Choice {
            label: name(lang, &t.name_en, &t.name_bn).to_owned(),
            index,
        })
        .collect();
    out.sort_by(|a, b| a.label.cmp(&b.label));
    out
}

/// The district row `index`, if there is one.
pub fn district(index: usize) -> Option<&'static District> {
    geo::districts().get(index)
}

/// The thana row `index`, if there is one.
pub fn thana(index: usize) -> Option<&'static Thana> {
    geo::thanas().get(index)
}

/// Find a district by its English name (tests, configuration).
pub fn district_by_name(en: &str) -> Option<usize> {
    geo::districts().iter().position(|d| d.name_en == en)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_district_has_thanas_and_labels_follow_the_language() {
        let en = district_choices(Lang::En);
        assert_eq!(en.len(), 64);
        assert!(en.windows(2).all(|w| w[0].label <= w[1].label));
        for d in &en {
            assert!(!thana_choices(Lang::En, d.index).is_empty(), "{}", d.label);
        }
        let dhaka = district_by_name("Dhaka").expect("Dhaka is a district");
        let bn = district_choices(Lang::Bn);
        assert!(bn.iter().any(|c| c.index == dhaka && c.label == "ঢাকা"));
        let thanas = thana_choices(Lang::En, dhaka);
        assert!(thanas.iter().any(|c| c.label == "Mirpur"));
        assert!(thanas.iter().all(|c| c.label != "Sadar"));
        let mirpur = thanas.iter().find(|c| c.label == "Mirpur").expect("listed");
        assert_eq!(thana(mirpur.index).map(|t| t.district), Some(dhaka));
    }
}
