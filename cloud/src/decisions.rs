//! Admin decisions: signed, numbered gap-free per kiosk from 1, stored (the exact signed payload) before
//! they are published on the kiosk's `down/decision`. An approval adds the case's IMEIs to the stolen index.

use jachai_protocol::envelope::{Decision, DecisionOutcome, SignedBody};
use jachai_protocol::stolen::StolenEntry;
use jachai_protocol::{KioskId, Topic};
use sqlx::Row;

use crate::ingest::{Ingest, IngestError, Outgoing};
use crate::store::{now, Ctx, StoreError};

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// `YYYY-MM-DD` of a unix time (UTC), by the civil-from-days algorithm.
pub fn ymd(unix: u64) -> String {
    let (y, m, d) = verify::metadata::civil_from_days(i64::try_from(unix / 86_400).unwrap_or(0));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The stolen entries a theft report claims: `claims.imeis` (15-digit strings), the theft location from
/// `claims.theft_location` (else `thana, district`), reported on the case's date.
pub fn entries_of(
    claims: &serde_json::Map<String, serde_json::Value>,
    created_at: u64,
) -> Vec<StolenEntry> {
    let text = |k: &str| {
        claims
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let location = match text("theft_location") {
        l if !l.is_empty() => l,
        _ => [text("thana"), text("district")]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let imeis: Vec<String> = match claims.get("imeis") {
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    };
    imeis
        .into_iter()
        .map(|imei| StolenEntry {
            imei,
            reported_at: ymd(created_at),
            theft_location: location.clone(),
        })
        .filter(|e| e.validate().is_ok())
        .collect()
}

impl Ingest {
    /// Records an admin decision on the case (kiosk, case_seq) and returns what to publish: the signed
    /// decision and, for an approved theft report, the new stolen-index head.
    pub async fn decide(
        &self,
        kiosk: &KioskId,
        case_seq: u64,
        outcome: DecisionOutcome,
        note: Option<String>,
    ) -> Result<Vec<Outgoing>, IngestError> {
        let row = sqlx::query(
            "SELECT case_id, claims, created_at FROM cases WHERE kiosk = $1 AND seq = $2",
        )
        .bind(kiosk.as_str())
        .bind(i64_of(case_seq))
        .fetch_optional(self.store().pool())
        .await
        .ctx("reading the case")?
        .ok_or_else(|| StoreError::Inconsistent(format!("no case {kiosk}/{case_seq}")))?;
        let case_id: String = row.try_get(0).ctx("reading the case")?;
        let claims: String = row.try_get(1).ctx("reading the case")?;
        let created_at: i64 = row.try_get(2).ctx("reading the case")?;
        let mut out = Vec::new();
        for attempt in 0..5 {
            let mut tx = self.store().begin().await?;
            let last: Option<i64> =
                sqlx::query_scalar("SELECT MAX(seq) FROM decisions WHERE kiosk = $1")
                    .bind(kiosk.as_str())
                    .fetch_one(&mut *tx)
                    .await
                    .ctx("numbering a decision")?;
            let seq = u64::try_from(last.unwrap_or(0)).unwrap_or(0) + 1;
            let decision = Decision {
                kiosk: kiosk.clone(),
                seq,
                case_seq,
                case_id: case_id.clone(),
                outcome,
                note: note.clone(),
                decided_at: u64::try_from(now()).unwrap_or(0),
            };
            let signed = self.signer().sign(&SignedBody::Decision(decision));
            let text = String::from_utf8(signed.clone())
                .map_err(|e| StoreError::Inconsistent(e.to_string()))?;
            let ins = sqlx::query(
                "INSERT INTO decisions (kiosk, seq, case_seq, case_id, outcome, signed, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(kiosk.as_str())
            .bind(i64_of(seq))
            .bind(i64_of(case_seq))
            .bind(&case_id)
            .bind(match outcome {
                DecisionOutcome::Approved => "approved",
                DecisionOutcome::Rejected => "rejected",
            })
            .bind(&text)
            .bind(now())
            .execute(&mut *tx)
            .await;
            match ins {
                Ok(_) => {
                    tx.commit().await.ctx("committing a decision")?;
                    out.push(Outgoing::to(Topic::DownDecision(kiosk.clone()), signed));
                    break;
                }
                Err(e) if attempt < 4 => {
                    tracing::warn!(error = %e, "decision seq raced another instance; retrying");
                }
                Err(e) => {
                    return Err(StoreError::Db {
                        action: "storing a decision",
                        source: e,
                    }
                    .into())
                }
            }
        }
        if outcome == DecisionOutcome::Approved {
            let claims: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&claims).unwrap_or_default();
            let entries = entries_of(&claims, u64::try_from(created_at).unwrap_or(0));
            if !entries.is_empty() {
                let (_, head) = self.stolen().apply(&entries, &[]).await?;
                out.extend(head);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(ymd(0), "1970-01-01");
        assert_eq!(ymd(951_782_400), "2000-02-29");
        assert_eq!(ymd(1_767_225_599), "2025-12-31");
    }

    #[test]
    fn entries_from_claims() {
        let claims: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
            r#"{"imeis":["490154203237518","123"],"thana":"Mirpur","district":"Dhaka"}"#,
        )
        .expect("json");
        let e = entries_of(&claims, 0);
        assert_eq!(e.len(), 1, "the invalid IMEI is left out");
        assert_eq!(e[0].theft_location, "Mirpur, Dhaka");
        assert_eq!(e[0].reported_at, "1970-01-01");
    }
}
