//! MQTT topic names (all under `jachai/v1/`) and the parser that tells which one a message came
//! on and for which kiosk.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ProtocolError;

/// Every topic starts with this.
pub const PREFIX: &str = "jachai/v1/";
/// The retained, signed head of the stolen-IMEI index, shared by every kiosk.
pub const STOLEN_HEAD: &str = "jachai/v1/stolen/head";

/// A kiosk id: 1–32 of `[a-z0-9-]`. It is the client certificate's CN and a whole topic level,
/// so the broker's ACL `%u` patterns match it exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KioskId(String);

impl KioskId {
    /// Check `id` and wrap it.
    pub fn new(id: impl Into<String>) -> Result<Self, ProtocolError> {
        let id = id.into();
        let ok = !id.is_empty()
            && id.len() <= 32
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(id))
        } else {
            Err(ProtocolError::malformed(format_args!(
                "a kiosk id is 1-32 of [a-z0-9-]: {id:?}"
            )))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for KioskId {
    type Error = ProtocolError;
    fn try_from(id: String) -> Result<Self, Self::Error> {
        Self::new(id)
    }
}

impl From<KioskId> for String {
    fn from(id: KioskId) -> Self {
        id.0
    }
}

impl fmt::Display for KioskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for KioskId {
    type Err = ProtocolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// One of the protocol's topics.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Topic {
    /// `k/{kiosk}/up/case`: case envelopes, kiosk → cloud.
    UpCase(KioskId),
    /// `k/{kiosk}/up/blob`: blob init / chunk / finish, kiosk → cloud.
    UpBlob(KioskId),
    /// `k/{kiosk}/up/event`: heartbeats, lookup hits, refusals, requests, kiosk → cloud.
    UpEvent(KioskId),
    /// `k/{kiosk}/down/ack`: application-level acks, cloud → kiosk.
    DownAck(KioskId),
    /// `k/{kiosk}/down/decision`: signed admin decisions, cloud → kiosk.
    DownDecision(KioskId),
    /// `k/{kiosk}/down/stolen`: signed deltas / snapshot parts answering a kiosk's request.
    DownStolen(KioskId),
    /// `k/{kiosk}/status` (retained; the LWT says offline).
    Status(KioskId),
    /// `stolen/head` (retained, signed), shared.
    StolenHead,
}

impl Topic {
    /// The full topic name.
    pub fn name(&self) -> String {
        let (kiosk, tail) = match self {
            Self::StolenHead => return STOLEN_HEAD.to_owned(),
            Self::UpCase(k) => (k, "up/case"),
            Self::UpBlob(k) => (k, "up/blob"),
            Self::UpEvent(k) => (k, "up/event"),
            Self::DownAck(k) => (k, "down/ack"),
            Self::DownDecision(k) => (k, "down/decision"),
            Self::DownStolen(k) => (k, "down/stolen"),
            Self::Status(k) => (k, "status"),
        };
        format!("{PREFIX}k/{kiosk}/{tail}")
    }

    /// The kiosk the topic belongs to (`None` for the shared head).
    pub fn kiosk(&self) -> Option<&KioskId> {
        match self {
            Self::StolenHead => None,
            Self::UpCase(k)
            | Self::UpBlob(k)
            | Self::UpEvent(k)
            | Self::DownAck(k)
            | Self::DownDecision(k)
            | Self::DownStolen(k)
            | Self::Status(k) => Some(k),
        }
    }

    /// Parse a full topic name, checking the kiosk id.
    pub fn parse(name: &str) -> Result<Self, ProtocolError> {
        let bad = || ProtocolError::malformed(format_args!("not a jachai/v1 topic: {name:?}"));
        let rest = name.strip_prefix(PREFIX).ok_or_else(bad)?;
        if rest == "stolen/head" {
            return Ok(Self::StolenHead);
        }
        let rest = rest.strip_prefix("k/").ok_or_else(bad)?;
        let (kiosk, tail) = rest.split_once('/').ok_or_else(bad)?;
        let kiosk = KioskId::new(kiosk)?;
        Ok(match tail {
            "up/case" => Self::UpCase(kiosk),
            "up/blob" => Self::UpBlob(kiosk),
            "up/event" => Self::UpEvent(kiosk),
            "down/ack" => Self::DownAck(kiosk),
            "down/decision" => Self::DownDecision(kiosk),
            "down/stolen" => Self::DownStolen(kiosk),
            "status" => Self::Status(kiosk),
            _ => return Err(bad()),
        })
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Subscription filter for every kiosk's uplink (the cloud uses it under `$share/{group}/`).
pub const ALL_UPLINK: &str = "jachai/v1/k/+/up/#";
/// Subscription filter for every kiosk's status.
pub const ALL_STATUS: &str = "jachai/v1/k/+/status";

/// The filter a kiosk subscribes to for its own downlink.
pub fn kiosk_downlink_filter(kiosk: &KioskId) -> String {
    format!("{PREFIX}k/{kiosk}/down/#")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, expect: Result<Topic, &str>) {
        let got = Topic::parse(name);
        match (&got, &expect) {
            (Ok(t), Ok(e)) => {
                assert_eq!(t, e, "{name}");
                assert_eq!(t.name(), name, "names round-trip");
            }
            (Err(err), Err(code)) => assert_eq!(err.code(), *code, "{name}"),
            _ => panic!("{name}: got {got:?}, expected {expect:?}"),
        }
    }

    fn k(id: &str) -> KioskId {
        KioskId::new(id).expect("valid test id")
    }

    #[test]
    fn topics() {
        check(
            "jachai/v1/k/thana-12/up/case",
            Ok(Topic::UpCase(k("thana-12"))),
        );
        check("jachai/v1/k/a/up/blob", Ok(Topic::UpBlob(k("a"))));
        check("jachai/v1/k/a/up/event", Ok(Topic::UpEvent(k("a"))));
        check("jachai/v1/k/a/down/ack", Ok(Topic::DownAck(k("a"))));
        check(
            "jachai/v1/k/a/down/decision",
            Ok(Topic::DownDecision(k("a"))),
        );
        check("jachai/v1/k/a/down/stolen", Ok(Topic::DownStolen(k("a"))));
        check("jachai/v1/k/a/status", Ok(Topic::Status(k("a"))));
        check("jachai/v1/stolen/head", Ok(Topic::StolenHead));
        check("jachai/v2/k/a/up/case", Err("malformed"));
        check("jachai/v1/k/A/up/case", Err("malformed"));
        check("jachai/v1/k//up/case", Err("malformed"));
        check("jachai/v1/k/a+b/up/case", Err("malformed"));
        check(
            "jachai/v1/k/abcdefghijklmnopqrstuvwxyz0123456/up/case",
            Err("malformed"),
        );
        check("jachai/v1/k/a/up/case/extra", Err("malformed"));
        check("jachai/v1/k/a/up", Err("malformed"));
        check("jachai/v1/stolen/head/x", Err("malformed"));
    }

    #[test]
    fn kiosk_ids() {
        assert!(KioskId::new("abcdefghijklmnopqrstuvwxyz012345").is_ok());
        assert!(KioskId::new("").is_err());
        assert!(KioskId::new("dhaka_1").is_err());
        assert!(KioskId::new("ঢাকা").is_err());
        assert!(serde_json::from_str::<KioskId>("\"Bad\"").is_err());
    }
}
