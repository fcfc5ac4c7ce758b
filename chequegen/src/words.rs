//! Amounts as a cheque writer puts them: figures with lakh/crore grouping (ASCII or Bengali
//! digits) and words in English ("Taka One Lakh Twenty Five Thousand Only") or Bengali
//! ("এক লক্ষ পঁচিশ হাজার টাকা মাত্র"). The inverse of `verify::cheque::amount`'s parsers,
//! written independently so that a shared bug cannot hide.

const EN_1_19: [&str; 19] = [
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
    "Thirteen",
    "Fourteen",
    "Fifteen",
    "Sixteen",
    "Seventeen",
    "Eighteen",
    "Nineteen",
];
const EN_TENS: [&str; 8] = [
    "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety",
];

/// Bengali number words 1–99 (they are irregular), in order.
const BN_1_99: [&str; 99] = [
    "এক",
    "দুই",
    "তিন",
    "চার",
    "পাঁচ",
    "ছয়",
    "সাত",
    "আট",
    "নয়",
    "দশ",
    "এগারো",
    "বারো",
    "তেরো",
    "চৌদ্দ",
    "পনেরো",
    "ষোলো",
    "সতেরো",
    "আঠারো",
    "উনিশ",
    "বিশ",
    "একুশ",
    "বাইশ",
    "তেইশ",
    "চব্বিশ",
    "পঁচিশ",
    "ছাব্বিশ",
    "সাতাশ",
    "আটাশ",
    "ঊনত্রিশ",
    "ত্রিশ",
    "একত্রিশ",
    "বত্রিশ",
    "তেত্রিশ",
    "চৌত্রিশ",
    "পঁয়ত্রিশ",
    "ছত্রিশ",
    "সাঁইত্রিশ",
    "আটত্রিশ",
    "ঊনচল্লিশ",
    "চল্লিশ",
    "একচল্লিশ",
    "বিয়াল্লিশ",
    "তেতাল্লিশ",
    "চুয়াল্লিশ",
    "পঁয়তাল্লিশ",
    "ছেচল্লিশ",
    "সাতচল্লিশ",
    "আটচল্লিশ",
    "ঊনপঞ্চাশ",
    "পঞ্চাশ",
    "একান্ন",
    "বাহান্ন",
    "তিপ্পান্ন",
    "চুয়ান্ন",
    "পঞ্চান্ন",
    "ছাপ্পান্ন",
    "সাতান্ন",
    "আটান্ন",
    "ঊনষাট",
    "ষাট",
    "একষট্টি",
    "বাষট্টি",
    "তেষট্টি",
    "চৌষট্টি",
    "পঁয়ষট্টি",
    "ছেষট্টি",
    "সাতষট্টি",
    "আটষট্টি",
    "ঊনসত্তর",
    "সত্তর",
    "একাত্তর",
    "বাহাত্তর",
    "তিয়াত্তর",
    "চুয়াত্তর",
    "পঁচাত্তর",
    "ছিয়াত্তর",
    "সাতাত্তর",
    "আটাত্তর",
    "ঊনআশি",
    "আশি",
    "একাশি",
    "বিরাশি",
    "তিরাশি",
    "চুরাশি",
    "পঁচাশি",
    "ছিয়াশি",
    "সাতাশি",
    "অষ্টআশি",
    "ঊননব্বই",
    "নব্বই",
    "একানব্বই",
    "বিরানব্বই",
    "তিরানব্বই",
    "চুরানব্বই",
    "পঁচানব্বই",
    "ছিয়ানব্বই",
    "সাতানব্বই",
    "আটানব্বই",
    "নিরানব্বই",
];

fn en_below_100(n: u64) -> String {
    match n {
        0 => String::new(),
        1..=19 => EN_1_19[n as usize - 1].to_owned(),
        _ => {
            let t = EN_TENS[n as usize / 10 - 2];
            match n % 10 {
                0 => t.to_owned(),
                u => format!("{t} {}", EN_1_19[u as usize - 1]),
            }
        }
    }
}

/// Split taka into (crore, lakh, thousand, hundred, rest) in the Indian system.
fn indian(taka: u64) -> (u64, u64, u64, u64, u64) {
    (
        taka / 10_000_000,
        taka / 100_000 % 100,
        taka / 1_000 % 100,
        taka / 100 % 10,
        taka % 100,
    )
}

fn en_taka(taka: u64) -> String {
    let (crore, lakh, thousand, hundred, rest) = indian(taka);
    let mut parts = Vec::new();
    if crore > 0 {
        parts.push(format!("{} Crore", en_taka(crore)));
    }
    for (n, unit) in [(lakh, "Lakh"), (thousand, "Thousand")] {
        if n > 0 {
            parts.push(format!("{} {unit}", en_below_100(n)));
        }
    }
    if hundred > 0 {
        parts.push(format!("{} Hundred", en_below_100(hundred)));
    }
    if rest > 0 {
        parts.push(en_below_100(rest));
    }
    parts.join(" ")
}

fn bn_below_100(n: u64) -> &'static str {
    match n {
        1..=99 => BN_1_99[n as usize - 1],
        _ => "",
    }
}

fn bn_taka(taka: u64) -> String {
    let (crore, lakh, thousand, hundred, rest) = indian(taka);
    let mut parts = Vec::new();
    if crore > 0 {
        parts.push(format!("{} কোটি", bn_taka(crore)));
    }
    for (n, unit) in [(lakh, "লক্ষ"), (thousand, "হাজার")] {
        if n > 0 {
            parts.push(format!("{} {unit}", bn_below_100(n)));
        }
    }
    if hundred > 0 {
        parts.push(format!("{}শত", bn_below_100(hundred)));
    }
    if rest > 0 {
        parts.push(bn_below_100(rest).to_owned());
    }
    parts.join(" ")
}

/// `paisa` in English words: "Taka One Lakh Twenty Five Thousand and Fifty Paisa Only".
pub fn words_en(paisa: u64) -> String {
    let (taka, p) = (paisa / 100, paisa % 100);
    let mut s = format!("Taka {}", en_taka(taka));
    if p > 0 {
        s.push_str(&format!(" and {} Paisa", en_below_100(p)));
    }
    s.push_str(" Only");
    s
}

/// `paisa` in Bengali words: "এক লক্ষ পঁচিশ হাজার টাকা মাত্র".
pub fn words_bn(paisa: u64) -> String {
    let (taka, p) = (paisa / 100, paisa % 100);
    let mut s = format!("{} টাকা", bn_taka(taka));
    if p > 0 {
        s.push_str(&format!(" {} পয়সা", bn_below_100(p)));
    }
    s.push_str(" মাত্র");
    s
}

/// Taka with lakh/crore grouping and paisa: `1,25,000.00`.
pub fn figures(paisa: u64) -> String {
    let digits = (paisa / 100).to_string();
    let n = digits.len();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        // Digits still to come after this one: a comma before the last three, then every two.
        let rest = n - i - 1;
        out.push(c);
        if rest == 3 || (rest > 3 && (rest - 3).is_multiple_of(2)) {
            out.push(',');
        }
    }
    format!("{out}.{:02}", paisa % 100)
}

/// ASCII digits to Bengali digits.
pub fn bengali_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(0x09E6 + d).unwrap_or(c),
            None => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_group_in_lakhs() {
        let cases = [
            (0, "0.00"),
            (50_000, "500.00"),
            (100_000, "1,000.00"),
            (12_500_000, "1,25,000.00"),
            (1_234_567_850, "1,23,45,678.50"),
        ];
        for (p, want) in cases {
            assert_eq!(figures(p), want, "{p}");
        }
    }

    #[test]
    fn words_in_both_languages() {
        assert_eq!(
            words_en(12_500_000),
            "Taka One Lakh Twenty Five Thousand Only"
        );
        assert_eq!(
            words_en(150_050),
            "Taka One Thousand Five Hundred and Fifty Paisa Only"
        );
        assert_eq!(words_bn(12_500_000), "এক লক্ষ পঁচিশ হাজার টাকা মাত্র");
        assert_eq!(words_bn(2_500_000_000), "দুই কোটি পঞ্চাশ লক্ষ টাকা মাত্র");
        assert_eq!(bengali_digits("1,25,000.00"), "১,২৫,০০০.০০");
    }
}
