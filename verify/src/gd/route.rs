//! Routing a GD copy: `approve` only when every typed IMEI is on the document, the structure
//! is complete and no forensic finding is above the configured severity; otherwise the score
//! decides between `review` and `reject`, and the explanation says why in Bengali and English.
//! `reject` needs a contradiction (a typed IMEI that differs from a valid one on the page,
//! tampering, a duplicate, …): what could only not be read or found sends a copy to review.

use crate::report::{Explanation, Finding, Severity, Stage, StageRecord, Verdict};
use crate::score::{self, Thresholds};

/// Routing rules for GD copies.
#[derive(Debug, Clone)]
pub struct RouteConfig {
    pub thresholds: Thresholds,
    /// A forensic finding above this severity blocks `approve`.
    pub max_forensic_severity: Severity,
    /// A structure, field or capture finding above this severity blocks `approve`.
    pub max_document_severity: Severity,
}

impl Default for RouteConfig {
    fn default() -> Self {
        RouteConfig {
            thresholds: Thresholds::default(),
            max_forensic_severity: Severity::Low,
            max_document_severity: Severity::Low,
        }
    }
}

/// What the GD stages established, beyond the findings.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// IMEIs the citizen typed.
    pub typed: usize,
    /// Typed IMEIs found on the document.
    pub matched: usize,
}

/// Stages whose findings are about pixels, not content.
pub fn is_forensic(stage: Stage) -> bool {
    matches!(
        stage,
        Stage::Metadata | Stage::Ela | Stage::CopyMove | Stage::Noise | Stage::DoubleJpeg
    )
}

/// Findings that say something could not be read or found rather than that something is
/// wrong: a phone photo too blurred to read piles them up (no IMEI, no GD number, no date, no
/// thana), and such a copy goes to an officer with retake advice, never to `reject` on these
/// alone.
const ABSENCE: &[&str] = &[
    "imei_not_found",
    "imei_invalid",
    "imei_unconfirmed",
    "gd_number_missing",
    "gd_date_missing",
    "header_missing",
    "thana_missing",
    "thana_unknown",
    "district_unknown",
    "seal_missing",
    "signature_missing",
    "ocr_unreadable",
    "photo_blurred",
    "photo_too_dark",
    "photo_glare",
    "page_cut_off",
    "page_too_small",
    "exif_missing",
    "exif_sparse",
    "stage_timeout",
    "stage_failed",
];

/// Whether `findings` hold a contradiction worth a `reject`: a finding of at least medium
/// severity that is not one of [`ABSENCE`].
fn contradicted(findings: &[Finding]) -> bool {
    findings
        .iter()
        .any(|f| f.severity >= Severity::Medium && !ABSENCE.contains(&f.code.as_str()))
}

/// One reason that blocks `approve`.
struct Reason {
    en: String,
    bn: String,
}

/// The verdict and its explanation.
pub fn route(
    risk: u32,
    findings: &[Finding],
    stages: &[StageRecord],
    facts: &Facts,
    cfg: &RouteConfig,
) -> (Verdict, Explanation) {
    let mut by_score = score::route(risk, findings, stages, &cfg.thresholds);
    if by_score == Verdict::Reject && !contradicted(findings) {
        by_score = Verdict::Review;
    }
    let mut reasons = Vec::new();
    if facts.typed == 0 {
        reasons.push(Reason {
            en: "no IMEI was typed to compare with the document".into(),
            bn: "নথির সাথে মেলানোর জন্য কোনো আইএমইআই দেওয়া হয়নি".into(),
        });
    } else if facts.matched < facts.typed {
        reasons.push(Reason {
            en: format!(
                "{} of {} typed IMEI(s) are not on the document",
                facts.typed - facts.matched,
                facts.typed
            ),
            bn: format!(
                "দেওয়া {}টি আইএমইআই-এর মধ্যে {}টি নথিতে নেই",
                bn_digits(facts.typed),
                bn_digits(facts.typed - facts.matched)
            ),
        });
    }
    let blocking: Vec<&Finding> = findings
        .iter()
        .filter(|f| {
            let limit = if is_forensic(f.stage) {
                cfg.max_forensic_severity
            } else {
                cfg.max_document_severity
            };
            f.severity > limit
        })
        .collect();
    for f in &blocking {
        reasons.push(Reason {
            en: lower_first(f.en.trim_end_matches('.')),
            bn: f.bn.trim_end_matches('।').to_owned(),
        });
    }
    let verdict = if reasons.is_empty() {
        by_score
    } else {
        by_score.max(Verdict::Review)
    };
    let explanation = match verdict {
        Verdict::Approve => Explanation {
            en: "Approved: the typed IMEI(s) match the document, its structure is complete (header, thana, seal, signature) and no sign of tampering was found.".into(),
            bn: "অনুমোদিত: দেওয়া আইএমইআই নথির সাথে মিলেছে, নথির কাঠামো সম্পূর্ণ (শিরোনাম, থানা, সিল, স্বাক্ষর) এবং কোনো কারসাজির চিহ্ন পাওয়া যায়নি।".into(),
        },
        Verdict::Review | Verdict::Reject => {
            let (head_en, head_bn) = if verdict == Verdict::Reject {
                ("Rejected", "প্রত্যাখ্যাত")
            } else {
                ("Sent to an officer for review", "কর্মকর্তার পর্যালোচনার জন্য পাঠানো হয়েছে")
            };
            let mut en: Vec<String> = reasons.iter().map(|r| r.en.clone()).collect();
            let mut bn: Vec<String> = reasons.iter().map(|r| r.bn.clone()).collect();
            if en.is_empty() {
                en.push(format!("the risk score is {risk} of 100"));
                bn.push(format!("ঝুঁকি স্কোর ১০০-এর মধ্যে {}", bn_digits(risk as usize)));
            }
            Explanation {
                en: format!("{head_en}: {}.", en.join("; ")),
                bn: format!("{head_bn}: {}।", bn.join("; ")),
            }
        }
    };
    (verdict, explanation)
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) if !s.starts_with("IMEI") && !s.starts_with("GD") => {
            f.to_lowercase().chain(c).collect()
        }
        _ => s.to_owned(),
    }
}

/// `n` in Bengali digits.
pub fn bn_digits(n: usize) -> String {
    n.to_string()
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(u32::from('০') + d).unwrap_or(c),
            None => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::StageStatus;

    fn f(code: &str, stage: Stage, severity: Severity, points: u32) -> Finding {
        Finding::new(
            code,
            stage,
            severity,
            points,
            format!("The {code}."),
            format!("{code}।"),
        )
    }

    fn ok_stages() -> Vec<StageRecord> {
        vec![StageRecord {
            name: Stage::Ocr,
            status: StageStatus::Ok,
            ms: 1,
        }]
    }

    #[test]
    fn table() {
        let both = Facts {
            typed: 2,
            matched: 2,
        };
        let one_missing = Facts {
            typed: 2,
            matched: 1,
        };
        let none_typed = Facts::default();
        let rows: Vec<(&str, Vec<Finding>, &Facts, Verdict)> = vec![
            ("clean", vec![], &both, Verdict::Approve),
            (
                "low forensic finding still approves",
                vec![f("ela_inconsistent", Stage::Ela, Severity::Low, 8)],
                &both,
                Verdict::Approve,
            ),
            (
                "medium forensic finding goes to review",
                vec![f("copy_move", Stage::CopyMove, Severity::Medium, 20)],
                &both,
                Verdict::Review,
            ),
            (
                "missing seal goes to review",
                vec![f("seal_missing", Stage::Structure, Severity::Medium, 15)],
                &both,
                Verdict::Review,
            ),
            (
                "an info finding does not block",
                vec![f("imei_repaired", Stage::Fields, Severity::Info, 0)],
                &both,
                Verdict::Approve,
            ),
            (
                "unmatched IMEI never approves",
                vec![],
                &one_missing,
                Verdict::Review,
            ),
            (
                "mismatch finding rejects",
                vec![f("imei_mismatch", Stage::Fields, Severity::Critical, 70)],
                &one_missing,
                Verdict::Reject,
            ),
            (
                "an unreadable photo goes to review, however many fields are missing",
                vec![
                    f("imei_not_found", Stage::Fields, Severity::High, 40),
                    f("gd_number_missing", Stage::Fields, Severity::Medium, 20),
                    f("gd_date_missing", Stage::Fields, Severity::Medium, 15),
                    f("thana_unknown", Stage::Structure, Severity::Medium, 20),
                    f("exif_missing", Stage::Metadata, Severity::Low, 5),
                ],
                &one_missing,
                Verdict::Review,
            ),
            (
                "a contradiction among missing fields still rejects",
                vec![
                    f("field_tampered", Stage::Fields, Severity::High, 45),
                    f("seal_missing", Stage::Structure, Severity::Medium, 20),
                    f("gd_date_missing", Stage::Fields, Severity::Medium, 15),
                ],
                &both,
                Verdict::Reject,
            ),
            (
                "a low forensic hint is no contradiction",
                vec![
                    f("ela", Stage::Ela, Severity::Low, 8),
                    f("imei_not_found", Stage::Fields, Severity::High, 40),
                    f("header_missing", Stage::Structure, Severity::Medium, 20),
                    f("seal_missing", Stage::Structure, Severity::Medium, 20),
                ],
                &one_missing,
                Verdict::Review,
            ),
            (
                "nothing typed goes to review",
                vec![],
                &none_typed,
                Verdict::Review,
            ),
        ];
        for (name, findings, facts, expect) in rows {
            let risk = score::risk(&findings);
            let (v, why) = route(
                risk,
                &findings,
                &ok_stages(),
                facts,
                &RouteConfig::default(),
            );
            assert_eq!(v, expect, "{name}: {why:?}");
            assert!(!why.en.is_empty() && !why.bn.is_empty(), "{name}");
            if v != Verdict::Approve {
                assert!(
                    why.en.contains(':') && why.bn.contains(':'),
                    "{name}: {why:?}"
                );
            }
        }
    }

    #[test]
    fn explanation_names_the_reason() {
        let findings = vec![f("seal_missing", Stage::Structure, Severity::Medium, 15)];
        let (_, why) = route(
            15,
            &findings,
            &ok_stages(),
            &Facts {
                typed: 1,
                matched: 1,
            },
            &RouteConfig::default(),
        );
        assert!(why.en.contains("seal_missing"), "{}", why.en);
        assert!(why.bn.contains("seal_missing"), "{}", why.bn);
        assert_eq!(bn_digits(2024), "২০২৪");
    }
}
