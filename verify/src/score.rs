//! Score and route: a weighted risk 0–100 from the findings' points, and a verdict by thresholds.

use crate::report::{Finding, Severity, StageRecord, StageStatus, Verdict};

/// Where the risk score splits approve / review / reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Risk at or above this goes to a human.
    pub review: u32,
    /// Risk at or above this is rejected.
    pub reject: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            review: 30,
            reject: 70,
        }
    }
}

/// The risk: the findings' points added up, capped at 100.
pub fn risk(findings: &[Finding]) -> u32 {
    findings.iter().map(|f| f.points).sum::<u32>().min(100)
}

/// The verdict for `risk`, raised to at least `review` when a stage did not finish cleanly or a
/// finding is critical: a report with a hole in it is never approved automatically.
pub fn route(
    risk: u32,
    findings: &[Finding],
    stages: &[StageRecord],
    thresholds: &Thresholds,
) -> Verdict {
    let by_score = if risk >= thresholds.reject {
        Verdict::Reject
    } else if risk >= thresholds.review {
        Verdict::Review
    } else {
        Verdict::Approve
    };
    let incomplete = stages
        .iter()
        .any(|s| matches!(s.status, StageStatus::Failed | StageStatus::Timeout));
    let critical = findings.iter().any(|f| f.severity == Severity::Critical);
    if incomplete || critical {
        by_score.max(Verdict::Review)
    } else {
        by_score
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Stage;

    fn finding(points: u32, severity: Severity) -> Finding {
        Finding::new("x", Stage::Ela, severity, points, "x", "x")
    }

    fn check(points: &[u32], failed_stage: bool, critical: bool, expect: (u32, Verdict)) {
        let mut findings: Vec<Finding> =
            points.iter().map(|&p| finding(p, Severity::Low)).collect();
        if critical {
            findings.push(finding(0, Severity::Critical));
        }
        let stages = vec![StageRecord {
            name: Stage::Ela,
            status: if failed_stage {
                StageStatus::Timeout
            } else {
                StageStatus::Ok
            },
            ms: 1,
        }];
        let r = risk(&findings);
        let v = route(r, &findings, &stages, &Thresholds::default());
        assert_eq!(
            (r, v),
            expect,
            "points {points:?} failed {failed_stage} critical {critical}"
        );
    }

    #[test]
    fn routing_table() {
        check(&[], false, false, (0, Verdict::Approve));
        check(&[10, 19], false, false, (29, Verdict::Approve));
        check(&[10, 20], false, false, (30, Verdict::Review));
        check(&[40, 29], false, false, (69, Verdict::Review));
        check(&[40, 30], false, false, (70, Verdict::Reject));
        check(&[80, 80], false, false, (100, Verdict::Reject));
        check(&[], true, false, (0, Verdict::Review));
        check(&[90], true, false, (90, Verdict::Reject));
        check(&[5], false, true, (5, Verdict::Review));
    }
}
