//! Notifications on status change, from an outbox: an event is stored as outbox rows (a webhook JSON POST;
//! an SMS through the gateway when the web reporter left a phone number) in the same database, and a
//! sender delivers due rows, retrying with exponential backoff until `max_attempts`. A row is leased
//! (its `next_at` moved on) before it is sent, so instances sharing the database do not send it twice
//! at once; receivers get `X-Jachai-Event-Id` to drop the rare repeat.

use std::time::Duration;

use serde::Serialize;
use sqlx::Row;

use crate::config::NotifyConfig;
use crate::store::{now, Ctx, Store, StoreError};

/// How long a sender holds a row it is sending.
const LEASE_S: i64 = 60;
/// `next_at` of a row given up on.
const NEVER: i64 = i64::MAX / 2;

/// A status change worth announcing.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// `report.in_review` or `case.decided`.
    pub event: &'static str,
    /// The case (or web report) id.
    pub id: String,
    pub kiosk: String,
    /// `in_review`, `approved` or `rejected`.
    pub status: String,
    pub at: i64,
}

impl Event {
    fn sms_text(&self) -> String {
        match self.status.as_str() {
            "in_review" => format!(
                "Jachai: report {} received; a reviewer will check it. / রিপোর্ট {} পাওয়া গেছে।",
                self.id, self.id
            ),
            "approved" => format!(
                "Jachai: report {} approved; the IMEI is listed as stolen. / রিপোর্ট {} অনুমোদিত।",
                self.id, self.id
            ),
            other => format!(
                "Jachai: report {} is {other}. / রিপোর্ট {}: {other}",
                self.id, self.id
            ),
        }
    }
}

/// A Bangladeshi mobile number as `+8801XXXXXXXXX` (spaces and dashes allowed in the input).
pub fn normalize_phone(raw: &str) -> Option<String> {
    let d: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let local = d
        .strip_prefix("+880")
        .or_else(|| d.strip_prefix("880"))
        .map(|r| format!("0{r}"))
        .unwrap_or(d);
    let ok = local.len() == 11
        && local.starts_with("01")
        && local
            .as_bytes()
            .get(2)
            .is_some_and(|b| (b'3'..=b'9').contains(b))
        && local.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| format!("+880{}", &local[1..]))
}

/// The outbox and its sender.
#[derive(Debug, Clone)]
pub struct Notifier {
    store: Store,
    cfg: Option<NotifyConfig>,
    client: reqwest::Client,
}

impl Notifier {
    pub fn new(store: Store, cfg: Option<NotifyConfig>) -> Notifier {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Notifier { store, cfg, client }
    }

    /// Stores the event's outbox rows (nothing when no target is configured).
    pub async fn announce(&self, e: &Event, phone: Option<&str>) -> Result<(), StoreError> {
        let Some(cfg) = &self.cfg else { return Ok(()) };
        let mut rows = Vec::new();
        if cfg.webhook_url.is_some() {
            rows.push((
                "webhook",
                String::new(),
                serde_json::to_string(e).unwrap_or_default(),
            ));
        }
        if let (Some(_), Some(phone)) = (&cfg.sms_url, phone) {
            rows.push(("sms", phone.to_string(), e.sms_text()));
        }
        for (channel, target, body) in rows {
            sqlx::query(
                "INSERT INTO outbox (id, channel, target, body, attempts, next_at, created_at) VALUES ($1, $2, $3, $4, 0, $5, $5)",
            )
            .bind(format!("n-{}", crate::users::random_token()))
            .bind(channel)
            .bind(target)
            .bind(body)
            .bind(e.at)
            .execute(self.store.pool())
            .await
            .ctx("queueing a notification")?;
        }
        Ok(())
    }

    /// Sends what is due; returns how many were delivered.
    pub async fn deliver_due(&self) -> Result<u64, StoreError> {
        let Some(cfg) = &self.cfg else { return Ok(0) };
        let at = now();
        let rows = sqlx::query(
            "SELECT id, channel, target, body, attempts, next_at FROM outbox \
             WHERE sent_at IS NULL AND next_at <= $1 ORDER BY next_at LIMIT 20",
        )
        .bind(at)
        .fetch_all(self.store.pool())
        .await
        .ctx("listing due notifications")?;
        let mut delivered = 0;
        for r in &rows {
            let id: String = r.try_get(0).ctx("reading a notification")?;
            let channel: String = r.try_get(1).ctx("reading a notification")?;
            let target: String = r.try_get(2).ctx("reading a notification")?;
            let body: String = r.try_get(3).ctx("reading a notification")?;
            let attempts: i64 = r.try_get(4).ctx("reading a notification")?;
            let next_at: i64 = r.try_get(5).ctx("reading a notification")?;
            let leased = sqlx::query(
                "UPDATE outbox SET next_at = $1 WHERE id = $2 AND next_at = $3 AND sent_at IS NULL",
            )
            .bind(at + LEASE_S)
            .bind(&id)
            .bind(next_at)
            .execute(self.store.pool())
            .await
            .ctx("leasing a notification")?
            .rows_affected();
            if leased == 0 {
                continue;
            }
            let result = self.send(cfg, &id, &channel, &target, &body).await;
            let attempts = attempts + 1;
            match result {
                Ok(()) => {
                    sqlx::query("UPDATE outbox SET sent_at = $1, attempts = $2, last_error = NULL WHERE id = $3")
                        .bind(now())
                        .bind(attempts)
                        .bind(&id)
                        .execute(self.store.pool())
                        .await
                        .ctx("marking a notification sent")?;
                    delivered += 1;
                }
                Err(error) => {
                    let next = if attempts >= i64::from(cfg.max_attempts) {
                        tracing::error!(
                            id,
                            channel,
                            attempts,
                            error,
                            "giving up on a notification"
                        );
                        NEVER
                    } else {
                        let wait = (2i64 << attempts.min(20)).min(3600);
                        tracing::warn!(
                            id,
                            channel,
                            attempts,
                            error,
                            retry_in_s = wait,
                            "a notification was not delivered"
                        );
                        now() + wait
                    };
                    sqlx::query("UPDATE outbox SET next_at = $1, attempts = $2, last_error = $3 WHERE id = $4")
                        .bind(next)
                        .bind(attempts)
                        .bind(&error)
                        .bind(&id)
                        .execute(self.store.pool())
                        .await
                        .ctx("rescheduling a notification")?;
                }
            }
        }
        Ok(delivered)
    }

    async fn send(
        &self,
        cfg: &NotifyConfig,
        id: &str,
        channel: &str,
        target: &str,
        body: &str,
    ) -> Result<(), String> {
        let req = match (channel, &cfg.webhook_url, &cfg.sms_url) {
            ("webhook", Some(url), _) => self
                .client
                .post(url)
                .header("content-type", "application/json")
                .body(body.to_string()),
            ("sms", _, Some(url)) => {
                let mut req = self
                    .client
                    .post(url)
                    .form(&[("to", target), ("text", body)]);
                if let Some(token) = &cfg.sms_token {
                    req = req.bearer_auth(token);
                }
                req
            }
            _ => return Err(format!("no {channel} target is configured any more")),
        };
        let resp = req
            .header("x-jachai-event-id", id)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("the receiver answered {}", resp.status()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_phone;

    #[test]
    fn phones() {
        for (raw, want) in [
            ("01712345678", Some("+8801712345678")),
            ("+880 1712-345678", Some("+8801712345678")),
            ("8801912345678", Some("+8801912345678")),
            ("01212345678", None),
            ("0171234567", None),
            ("0171234567x", None),
            ("", None),
        ] {
            assert_eq!(normalize_phone(raw).as_deref(), want, "{raw:?}");
        }
    }
}
