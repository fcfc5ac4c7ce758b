//! Table tests for what the scam check reads out of OCR text: URLs and bare domains, look-alike
//! domains, phone numbers and high-risk phrases, over Bengali, English and Thai text.

use verify::scam::{
    analyse, find_phones, find_phones_in, DomainList, DomainVerdict, Lexicon, LookalikeKind, Region,
};

/// Links found in `text`, as hosts (Unicode form).
fn check_links(text: &str, want: &[&str]) {
    let got: Vec<String> = analyse(text)
        .links
        .into_iter()
        .map(|l| l.link.host)
        .collect();
    assert_eq!(got, want, "links in {text:?}");
}

#[test]
fn urls_and_bare_domains() {
    let cases: &[(&str, &[&str])] = &[
        (
            "Visit https://www.bkash.com/en/offer today",
            &["www.bkash.com"],
        ),
        (
            "লগইন করুন: http://bkash-bonus.com/login",
            &["bkash-bonus.com"],
        ),
        ("รับรางวัลที่ scb-th.net/claim ด่วน", &["scb-th.net"]),
        ("go to nagad.com.bd now", &["nagad.com.bd"]),
        ("HTTPS://KASIKORNBANK.COM/TH", &["kasikornbank.com"]),
        (
            "two: bkash.com and truemoney.com.",
            &["bkash.com", "truemoney.com"],
        ),
        ("user@bkash.com is an e-mail, not a link", &[]),
        ("amount Rs.500 and version v1.2 are not domains", &[]),
        ("Tk 1,500.00 sent", &[]),
        ("http://xn--bksh-63d.com/pay", &["bkаsh.com"]),
        (
            "https://login.krungthai.com:8443/x?y=1",
            &["login.krungthai.com"],
        ),
        ("ลิงก์ bit.ly/3abcd เพื่อรับเงิน", &["bit.ly"]),
        (
            "আমাদের সাইট www.nagad-offer.xyz দেখুন",
            &["www.nagad-offer.xyz"],
        ),
    ];
    for (text, want) in cases {
        check_links(text, want);
    }
}

#[test]
fn a_punycode_link_is_marked_and_decoded() {
    let facts = analyse("http://xn--bksh-63d.com/pay");
    let link = &facts.links[0].link;
    assert!(link.punycode);
    assert_eq!(link.host_ascii.as_deref(), Some("xn--bksh-63d.com"));
    let plain = analyse("https://bkash.com");
    assert!(!plain.links[0].link.punycode);
}

/// What the shipped list says about `host`: `official`, `unrelated`, or `<kind> <target>`.
fn verdict(host: &str) -> String {
    match DomainList::shipped().check(host) {
        DomainVerdict::Official(d) => format!("official {}", d.domain),
        DomainVerdict::Lookalike { target, kind, .. } => {
            format!("{} {}", kind.as_str(), target.domain)
        }
        DomainVerdict::Unrelated => "unrelated".into(),
    }
}

#[test]
fn look_alike_domains() {
    let cases = [
        // Official, and under an official domain.
        ("bkash.com", "official bkash.com"),
        ("www.bkash.com", "official bkash.com"),
        ("BKASH.COM.", "official bkash.com"),
        ("m.nagad.com.bd", "official nagad.com.bd"),
        ("scb.co.th", "official scb.co.th"),
        ("www.kasikornbank.com", "official kasikornbank.com"),
        // Homoglyphs: Cyrillic letters, digits for letters, rn for m, punycode.
        ("bkаsh.com", "homoglyph bkash.com"),
        ("xn--bksh-63d.com", "homoglyph bkash.com"),
        ("bkash.corn", "homoglyph bkash.com"),
        ("nagad.c0m.bd", "homoglyph nagad.com.bd"),
        ("truernoney.com", "homoglyph truemoney.com"),
        ("krungthaі.com", "homoglyph krungthai.com"),
        ("bracbank.com", "official bracbank.com"),
        ("braсbank.com", "homoglyph bracbank.com"),
        ("secure.bkаsh.com", "homoglyph bkash.com"),
        // Typo-squats: one or two edits.
        ("bkassh.com", "typo_squat bkash.com"),
        ("bkahs.com", "typo_squat bkash.com"),
        ("kasikornbnak.com", "typo_squat kasikornbank.com"),
        ("krungsi.com", "typo_squat krungsri.com"),
        ("sonalibnk.com.bd", "typo_squat sonalibank.com.bd"),
        ("truemony.com", "typo_squat truemoney.com"),
        ("nagadd.com.bd", "typo_squat nagad.com.bd"),
        // Brand names inside someone else's domain.
        ("bkash-bonus.com", "brand_embedded bkash.com"),
        ("bkash.com.bd-login.xyz", "brand_embedded bkash.com"),
        ("nagad-offer.xyz", "brand_embedded nagad.com.bd"),
        ("scb-th.net", "brand_embedded scb.co.th"),
        ("promptpay-refund.info", "brand_embedded bot.or.th"),
        ("truewallet-gift.com", "brand_embedded truemoney.com"),
        ("kbank-th.online", "brand_embedded kasikornbank.com"),
        // Unrelated domains, including short names that a loose distance would catch.
        ("example.com", "unrelated"),
        ("bit.ly", "unrelated"),
        ("wikipedia.org", "unrelated"),
        ("abc.co.th", "unrelated"),
        ("prothomalo.com", "unrelated"),
        ("scbx.io", "unrelated"),
    ];
    for (host, want) in cases {
        assert_eq!(verdict(host), want, "{host}");
    }
}

#[test]
fn typo_squats_report_their_distance() {
    let list = DomainList::shipped();
    let DomainVerdict::Lookalike { kind, distance, .. } = list.check("bkassh.com") else {
        panic!("bkassh.com is a look-alike");
    };
    assert_eq!((kind, distance), (LookalikeKind::TypoSquat, 1));
    let DomainVerdict::Lookalike { distance, .. } = list.check("kasikornbnak.com") else {
        panic!("kasikornbnak.com is a look-alike");
    };
    assert_eq!(distance, 1, "a transposition is one edit");
}

#[test]
fn a_replacement_list_is_used() {
    let list =
        DomainList::parse("# version test-1\nexample-bank.test\tExample\tBD\tbank\texbank\n")
            .expect("a valid list");
    assert_eq!(list.version, "test-1");
    assert!(matches!(
        list.check("examp1e-bank.test"),
        DomainVerdict::Lookalike { .. }
    ));
    assert!(matches!(list.check("bkash.com"), DomainVerdict::Unrelated));
}

/// Phones in `text` as `E164 COUNTRY kind`.
fn check_phones(text: &str, want: &[&str]) {
    let got: Vec<String> = find_phones(text)
        .into_iter()
        .map(|p| format!("{} {} {}", p.e164, p.country, p.kind))
        .collect();
    assert_eq!(got, want, "phones in {text:?}");
}

#[test]
fn phone_numbers() {
    let cases: &[(&str, &[&str])] = &[
        // Bangladesh: 01… mobiles, +880, 880, Bengali digits, separators.
        ("Call 01712345678 now", &["+8801712345678 BD mobile"]),
        ("বিকাশ নম্বর: ০১৭১২৩৪৫৬৭৮", &["+8801712345678 BD mobile"]),
        ("+880 1812-345678", &["+8801812345678 BD mobile"]),
        (
            "+8801912345678 থেকে টাকা এসেছে",
            &["+8801912345678 BD mobile"],
        ),
        ("Nagad: 017-1234-5678", &["+8801712345678 BD mobile"]),
        ("Dhaka office (02) 9556677", &["+88029556677 BD fixed_line"]),
        (
            "সেন্ড মানি 01312345678 এবং 01512345678",
            &["+8801312345678 BD mobile", "+8801512345678 BD mobile"],
        ),
        // Thailand: 0… mobiles and Bangkok lines, +66, Thai digits.
        ("โทร 081-234-5678 ด่วน", &["+66812345678 TH mobile"]),
        ("ติดต่อ ๐๘๑๒๓๔๕๖๗๘", &["+66812345678 TH mobile"]),
        ("โทร0812345678ด่วน", &["+66812345678 TH mobile"]),
        ("+66 81 234 5678", &["+66812345678 TH mobile"]),
        (
            "call +66 2 123 4567 or 0912345678",
            &["+6621234567 TH fixed_line", "+66912345678 TH mobile"],
        ),
        // Not phone numbers: too short, glued to letters (TrxIDs), dates and amounts.
        ("TrxID 9A1B2C3D4E5", &[]),
        ("Amount Tk 1,500.00 Fee Tk 0.00", &[]),
        ("Date 2026-12-06 10:51", &[]),
        ("Ref ABC01712345678", &[]),
        ("PIN 1234", &[]),
        ("Invalid 01012345678", &[]),
    ];
    for (text, want) in cases {
        check_phones(text, want);
    }
}

#[test]
fn a_number_valid_in_both_countries_goes_to_the_preferred_one() {
    let e164 = |text: &str, regions: &[Region]| -> Vec<String> {
        find_phones_in(text, regions)
            .into_iter()
            .map(|p| format!("{} {}", p.e164, p.kind))
            .collect()
    };
    // 02… is a Dhaka line and a Bangkok line: the caller's region order decides.
    assert_eq!(
        e164("Bangkok 02-123-4567", &[Region::TH, Region::BD]),
        ["+6621234567 fixed_line"]
    );
    // 081… is a Cumilla line and a Thai mobile: the mobile reading wins whatever the order.
    assert_eq!(
        e164("081-234-5678", &[Region::BD, Region::TH]),
        ["+66812345678 mobile"]
    );
}

#[test]
fn a_phone_span_points_at_the_text() {
    let text = "বিকাশ নম্বর: ০১৭১২৩৪৫৬৭৮ ধন্যবাদ";
    let phones = find_phones(text);
    let p = &phones[0];
    assert_eq!(&text[p.span.clone()], "০১৭১২৩৪৫৬৭৮");
    assert_eq!(p.text, "০১৭১২৩৪৫৬৭৮");
}

/// Lexicon matches in `text` as `lang:weight:phrase`.
fn check_phrases(text: &str, want: &[&str]) {
    let got: Vec<String> = analyse(text)
        .phrases
        .into_iter()
        .map(|p| format!("{}:{}:{}", p.lang, p.weight, p.phrase))
        .collect();
    assert_eq!(got, want, "phrases in {text:?}");
}

#[test]
fn high_risk_phrases() {
    let cases: &[(&str, &[&str])] = &[
        // English, any case and spacing, on word boundaries only.
        (
            "Congratulations! You have won Tk 50,000",
            &["en:3:congratulations", "en:8:you have won"],
        ),
        ("YOU   HAVE\nWON a prize", &["en:8:you have won"]),
        (
            "Your account will be blocked within 24 hours",
            &["en:8:your account will be blocked", "en:4:within 24 hours"],
        ),
        ("Please share the OTP to continue", &["en:9:share the otp"]),
        (
            "I sent by mistake, please return the money",
            &["en:7:sent by mistake", "en:6:return the money"],
        ),
        ("Pay the processing fee first", &["en:7:processing fee"]),
        ("a wonderful day at the urgently reopened shop", &[]),
        ("Your payment of Tk 500 to 01712345678 was successful.", &[]),
        // Bengali.
        (
            "অভিনন্দন! আপনি জিতেছেন ৫০,০০০ টাকা",
            &["bn:3:অভিনন্দন", "bn:8:আপনি জিতেছেন"],
        ),
        (
            "আপনার একাউন্ট বন্ধ হয়ে যাবে, পিন নম্বর দিন",
            &["bn:8:একাউন্ট বন্ধ", "bn:9:পিন নম্বর"],
        ),
        (
            "ভাই ভুল করে টাকা চলে গেছে, টাকা ফেরত দিন",
            &["bn:7:ভুল করে", "bn:6:টাকা ফেরত দিন"],
        ),
        (
            "লটারি জিতেছেন, রেজিস্ট্রেশন ফি পাঠান",
            &["bn:6:লটারি", "bn:5:রেজিস্ট্রেশন ফি"],
        ),
        ("আপনার ক্যাশ আউট সফল হয়েছে", &[]),
        // Thai, no spaces between words.
        (
            "ยินดีด้วยคุณได้รับรางวัล 100,000 บาท",
            &["th:3:ยินดีด้วย", "th:8:คุณได้รับรางวัล"],
        ),
        (
            "บัญชีของคุณถูกระงับ กรุณายืนยันตัวตน",
            &["th:8:บัญชีของคุณถูกระงับ", "th:5:ยืนยันตัวตน"],
        ),
        (
            "แจ้งรหัส OTP ภายใน 24 ชั่วโมง",
            &["th:8:รหัส otp", "th:4:ภายใน 24 ชั่วโมง"],
        ),
        (
            "ขอโทษครับ โอนเงินผิด ช่วยคืนเงินด้วย",
            &["th:7:โอนเงินผิด", "th:4:คืนเงิน"],
        ),
        ("โอนเงินสำเร็จ ยอดเงินคงเหลือ 1,000 บาท", &[]),
    ];
    for (text, want) in cases {
        check_phrases(text, want);
    }
}

#[test]
fn a_phrase_span_points_at_the_text_as_written() {
    let text = "Hello,  YOU   HAVE\nWON!";
    let facts = analyse(text);
    let hit = &facts.phrases[0];
    assert_eq!(&text[hit.span.clone()], "YOU   HAVE\nWON");
    assert_eq!(hit.text, "YOU   HAVE\nWON");
    assert_eq!(hit.category, "prize");
}

#[test]
fn a_replacement_lexicon_is_used() {
    let lex = Lexicon::parse("# version t-2\nen\t4\ttest\tfree money\n").expect("a valid lexicon");
    assert_eq!(lex.version, "t-2");
    let hits = lex.find("get FREE money now");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].text, "FREE money");
    assert!(lex.find("you have won").is_empty());
}

#[test]
fn one_message_in_three_languages() {
    let text = "অভিনন্দন! Claim your prize at http://bkаsh-bonus.com or call 01712345678. \
                ติดต่อ 081-234-5678 คุณได้รับรางวัล";
    let facts = analyse(text);
    assert_eq!(facts.links.len(), 1);
    let look = facts.links[0].lookalike.as_ref().expect("a look-alike");
    assert_eq!(look.brand, "bKash");
    assert_eq!(facts.phones.len(), 2);
    let langs: Vec<&str> = facts.phrases.iter().map(|p| p.lang.as_str()).collect();
    assert_eq!(langs, ["bn", "en", "th"]);
}

/// Finding codes and points for `text`.
fn check_findings(text: &str, want: &[(&str, u32)]) {
    let got: Vec<(String, u32)> = verify::scam::findings::findings(&analyse(text))
        .into_iter()
        .map(|f| (f.code, f.points))
        .collect();
    let want: Vec<(String, u32)> = want.iter().map(|(c, p)| ((*c).to_owned(), *p)).collect();
    assert_eq!(got, want, "findings for {text:?}");
}

#[test]
fn findings_per_code() {
    check_findings("pay at https://bkаsh.com/pay", &[("lookalike_domain", 40)]);
    check_findings("pay at bkassh.com", &[("lookalike_domain", 35)]);
    check_findings("pay at bkash-bonus.com", &[("lookalike_domain", 30)]);
    check_findings("see http://xn--80ak6aa92e.com", &[("punycode_domain", 10)]);
    check_findings("You have won!", &[("high_risk_phrase", 16)]);
    check_findings("ด่วน", &[("high_risk_phrase", 6)]);
    check_findings("Payment to https://www.bkash.com successful", &[]);
}

#[test]
fn report_fields_from_text() {
    use verify::FieldValue;
    let text = "  Send to 01712345678 via bkash.com  ";
    let fields = verify::scam::findings::fields(text, &analyse(text));
    assert_eq!(
        fields.get("text"),
        Some(&FieldValue::Text(
            "Send to 01712345678 via bkash.com".into()
        ))
    );
    assert_eq!(
        fields.get("urls"),
        Some(&FieldValue::List(vec!["bkash.com".into()]))
    );
    assert_eq!(
        fields.get("phones"),
        Some(&FieldValue::List(vec!["+8801712345678".into()]))
    );
    assert!(verify::scam::findings::fields("   ", &analyse("   ")).is_empty());
    let finding = verify::scam::findings::findings(&analyse("bkassh.com"))
        .into_iter()
        .next()
        .expect("a finding");
    assert!(
        finding.en.contains("bKash") && finding.bn.contains("bkash.com"),
        "{finding:?}"
    );
}
