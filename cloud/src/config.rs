//! Typed configuration of `jachai-cloud`: defaults, then a TOML file, then `JACHAI_CLOUD_DATABASE_URL`
//! from the environment (so a password need not sit in the file). The database URL is redacted in `Debug`.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Everything the service needs.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub mqtt: MqttConfig,
    /// `sqlite:/var/lib/jachai-cloud/cloud.db` (default) or `postgres://user@host/db`.
    #[serde(default = "defaults::database_url")]
    pub database_url: String,
    /// Local directory of the object store (images), unless `[object_store]` names an S3 bucket.
    #[serde(default = "defaults::blob_dir")]
    pub blob_dir: PathBuf,
    /// Images in an S3-compatible store (AWS S3, MinIO, Ceph RGW) instead of `blob_dir`.
    #[serde(default)]
    pub object_store: Option<ObjectStoreConfig>,
    /// The ed25519 downlink signing key (generated with its `.pub` on first start).
    #[serde(default = "defaults::signing_key")]
    pub signing_key: PathBuf,
    /// Most messages stored per transaction.
    #[serde(default = "defaults::batch_max")]
    pub batch_max: usize,
    /// How often the signed stolen-index head is re-signed and published (retained).
    #[serde(default = "defaults::head_refresh_s")]
    pub head_refresh_s: u64,
    /// The HTTP listener (public API, admin console, check pages); none when the section is absent.
    #[serde(default)]
    pub http: Option<HttpConfig>,
    /// Notifications on status change (webhook, SMS gateway); none when the section is absent.
    #[serde(default)]
    pub notify: Option<NotifyConfig>,
    /// Kiosk enrollment: the kiosk CA, what enrolled kiosks are told, token and certificate lifetimes.
    #[serde(default)]
    pub enroll: EnrollConfig,
}

/// Kiosk enrollment (`[enroll]`; every key optional).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollConfig {
    /// The kiosk CA certificate (PEM); the broker's client `cafile` must contain it. Default:
    /// `kiosk-ca.crt` beside the signing key. Generated with its key on first start when both are missing.
    #[serde(default)]
    pub ca_cert: Option<PathBuf>,
    /// The kiosk CA's private key (PEM, mode 0600). Default: `kiosk-ca.key` beside the signing key.
    #[serde(default)]
    pub ca_key: Option<PathBuf>,
    /// The broker as kiosks reach it, `host:port` (default: `[mqtt]` host and port).
    #[serde(default)]
    pub broker: Option<String>,
    /// The CA certificate(s) the broker's server certificate chains to, as kiosks must trust them
    /// (default: `[mqtt] ca`).
    #[serde(default)]
    pub broker_ca: Option<PathBuf>,
    /// How long a new enrollment token is good for, seconds (an admin may ask for 60 s to 7 days).
    #[serde(default = "defaults::token_ttl_s")]
    pub token_ttl_s: u64,
    /// Validity of a kiosk's client certificate, days; re-enroll before it ends.
    #[serde(default = "defaults::cert_days")]
    pub cert_days: u32,
}

impl Default for EnrollConfig {
    fn default() -> Self {
        EnrollConfig {
            ca_cert: None,
            ca_key: None,
            broker: None,
            broker_ca: None,
            token_ttl_s: defaults::token_ttl_s(),
            cert_days: defaults::cert_days(),
        }
    }
}

/// Where status changes are announced. Each target gets every message at least once, retried with
/// exponential backoff (2 s doubling, at most an hour apart) until `max_attempts`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// JSON POSTs of every event (`report.in_review`, `case.decided`).
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// An SMS gateway taking form POSTs `to=…&text=…` (web reporters who left a phone number).
    #[serde(default)]
    pub sms_url: Option<String>,
    /// Sent as `Authorization: Bearer …` to the gateway (redacted in `Debug`).
    #[serde(default)]
    pub sms_token: Option<String>,
    #[serde(default = "defaults::max_attempts")]
    pub max_attempts: u32,
}

impl fmt::Debug for NotifyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotifyConfig")
            .field("webhook_url", &self.webhook_url.as_deref().map(redact_url))
            .field("sms_url", &self.sms_url.as_deref().map(redact_url))
            .field("sms_token", &self.sms_token.as_ref().map(|_| "***"))
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

/// The HTTP side: where it listens and the limits it holds every client to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// `host:port`; port 0 picks a free one (tests read it back from the service).
    pub listen: std::net::SocketAddr,
    /// Largest request body (uploads), bytes; more is refused with 413.
    #[serde(default = "defaults::max_upload_bytes")]
    pub max_upload_bytes: u64,
    /// Largest image accepted for a check or report, pixels; more is refused with 413.
    #[serde(default = "defaults::max_pixels")]
    pub max_pixels: u64,
    /// Public API requests per minute per client IP (burst the same); more get 429 + Retry-After.
    #[serde(default = "defaults::api_per_minute")]
    pub api_per_minute: u32,
    /// Login attempts per minute per client IP.
    #[serde(default = "defaults::login_per_minute")]
    pub login_per_minute: u32,
    /// Pipeline runs at once (each on a blocking thread); more wait their turn.
    #[serde(default = "defaults::verify_workers")]
    pub verify_workers: usize,
    /// Mark the session cookie `Secure` (keep on behind TLS; browsers treat http://localhost as secure).
    #[serde(default = "defaults::secure_cookies")]
    pub secure_cookies: bool,
    /// Console session lifetime, seconds.
    #[serde(default = "defaults::session_s")]
    pub session_s: u64,
}

/// An S3-compatible bucket for the images. Credentials come from the environment
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optionally `AWS_SESSION_TOKEN`; on EC2 the instance
/// role), never from this file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectStoreConfig {
    /// `s3://bucket` or `s3://bucket/prefix`.
    pub url: String,
    /// The service's address for stores other than AWS (`http://minio:9000`); path-style requests.
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default = "defaults::region")]
    pub region: String,
    /// Allow a plain-http `endpoint` (a store on the same private network).
    #[serde(default)]
    pub allow_http: bool,
}

/// The broker connection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    pub host: String,
    #[serde(default = "defaults::port")]
    pub port: u16,
    /// CA that signed the broker's certificate.
    pub ca: PathBuf,
    /// This instance's client certificate (CN `cloud`) and key, PEM.
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Unique per instance (default: `jachai-cloud-<pid>`).
    #[serde(default)]
    pub client_id: Option<String>,
    /// Shared-subscription group: instances in one group split the uplink.
    #[serde(default = "defaults::share_group")]
    pub share_group: String,
    #[serde(default = "defaults::keep_alive_s")]
    pub keep_alive_s: u64,
    /// Outgoing QoS 1 messages in flight.
    #[serde(default = "defaults::inflight")]
    pub inflight: u16,
}

mod defaults {
    use std::path::PathBuf;
    pub fn database_url() -> String {
        "sqlite:/var/lib/jachai-cloud/cloud.db".into()
    }
    pub fn region() -> String {
        "us-east-1".into()
    }
    pub fn blob_dir() -> PathBuf {
        "/var/lib/jachai-cloud/blobs".into()
    }
    pub fn signing_key() -> PathBuf {
        "/var/lib/jachai-cloud/signing.key".into()
    }
    pub fn batch_max() -> usize {
        512
    }
    pub fn head_refresh_s() -> u64 {
        3600
    }
    pub fn port() -> u16 {
        8883
    }
    pub fn share_group() -> String {
        "jachai-cloud".into()
    }
    pub fn keep_alive_s() -> u64 {
        30
    }
    pub fn inflight() -> u16 {
        100
    }
    pub fn max_upload_bytes() -> u64 {
        20 * 1024 * 1024
    }
    pub fn max_pixels() -> u64 {
        40_000_000
    }
    pub fn api_per_minute() -> u32 {
        600
    }
    pub fn login_per_minute() -> u32 {
        10
    }
    pub fn verify_workers() -> usize {
        2
    }
    pub fn secure_cookies() -> bool {
        true
    }
    pub fn max_attempts() -> u32 {
        8
    }
    pub fn session_s() -> u64 {
        8 * 3600
    }
    pub fn token_ttl_s() -> u64 {
        24 * 3600
    }
    pub fn cert_days() -> u32 {
        730
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
}

impl Config {
    /// Reads a TOML file, then applies the environment.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        let mut cfg: Config = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.into(),
            source,
        })?;
        if let Ok(url) = std::env::var("JACHAI_CLOUD_DATABASE_URL") {
            if !url.is_empty() {
                cfg.database_url = url;
            }
        }
        Ok(cfg)
    }

    /// The kiosk CA's certificate and key files.
    pub fn kiosk_ca_paths(&self) -> (PathBuf, PathBuf) {
        let dir = self
            .signing_key
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        (
            self.enroll
                .ca_cert
                .clone()
                .unwrap_or_else(|| dir.join("kiosk-ca.crt")),
            self.enroll
                .ca_key
                .clone()
                .unwrap_or_else(|| dir.join("kiosk-ca.key")),
        )
    }

    /// The broker address enrolled kiosks are given.
    pub fn enroll_broker(&self) -> String {
        self.enroll
            .broker
            .clone()
            .unwrap_or_else(|| format!("{}:{}", self.mqtt.host, self.mqtt.port))
    }

    /// The MQTT client id of this instance.
    pub fn client_id(&self) -> String {
        self.mqtt
            .client_id
            .clone()
            .unwrap_or_else(|| format!("jachai-cloud-{}", std::process::id()))
    }
}

/// `scheme://user:secret@host` → `scheme://user:***@host`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((auth, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("mqtt", &self.mqtt)
            .field("database_url", &redact_url(&self.database_url))
            .field("blob_dir", &self.blob_dir)
            .field("object_store", &self.object_store)
            .field("signing_key", &self.signing_key)
            .field("batch_max", &self.batch_max)
            .field("head_refresh_s", &self.head_refresh_s)
            .field("http", &self.http)
            .field("notify", &self.notify)
            .field("enroll", &self.enroll)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_s3_bucket_replaces_the_blob_dir() {
        let cfg: Config = toml::from_str(
            "[mqtt]\nhost = \"b\"\nca = \"c\"\ncert = \"c\"\nkey = \"k\"\n[object_store]\nurl = \"s3://images/prod\"\nendpoint = \"http://minio:9000\"\nallow_http = true\n",
        )
        .expect("parse");
        let s3 = cfg.object_store.expect("object_store");
        assert_eq!(s3.url, "s3://images/prod");
        assert_eq!(s3.endpoint.as_deref(), Some("http://minio:9000"));
        assert_eq!(s3.region, "us-east-1");
        assert!(s3.allow_http);
        let typo = toml::from_str::<Config>(
            "[mqtt]\nhost = \"b\"\nca = \"c\"\ncert = \"c\"\nkey = \"k\"\n[object_store]\nurl = \"s3://i\"\nsecret = \"x\"\n",
        );
        assert!(typo.is_err(), "credentials never in the file");
    }

    #[test]
    fn minimal_file_gets_defaults() {
        let cfg: Config = toml::from_str(
            "[mqtt]\nhost = \"broker\"\nca = \"/etc/jachai/ca.crt\"\ncert = \"/etc/jachai/cloud.crt\"\nkey = \"/etc/jachai/cloud.key\"\n",
        )
        .expect("parse");
        assert_eq!(cfg.mqtt.port, 8883);
        assert_eq!(cfg.database_url, "sqlite:/var/lib/jachai-cloud/cloud.db");
        assert_eq!(cfg.mqtt.share_group, "jachai-cloud");
        assert_eq!(cfg.enroll_broker(), "broker:8883");
        assert_eq!(
            cfg.kiosk_ca_paths().0,
            PathBuf::from("/var/lib/jachai-cloud/kiosk-ca.crt")
        );
        assert_eq!(cfg.enroll.token_ttl_s, 86_400);
        assert!(cfg.object_store.is_none());
    }

    #[test]
    fn unknown_keys_refused() {
        assert!(toml::from_str::<Config>(
            "databse_url = \"x\"\n[mqtt]\nhost=\"h\"\nca=\"a\"\ncert=\"b\"\nkey=\"c\"\n"
        )
        .is_err());
    }

    #[test]
    fn passwords_redacted() {
        assert_eq!(
            redact_url("postgres://app:hunter2@db/jachai"),
            "postgres://app:***@db/jachai"
        );
        assert_eq!(redact_url("sqlite:/x.db"), "sqlite:/x.db");
        let cfg: Config = toml::from_str(
            "database_url = \"postgres://app:hunter2@db/j\"\n[mqtt]\nhost=\"h\"\nca=\"a\"\ncert=\"b\"\nkey=\"c\"\n",
        )
        .expect("parse");
        assert!(!format!("{cfg:?}").contains("hunter2"));
    }
}
