//! `jachai-cloud`: the aggregator behind the kiosks. It takes every kiosk's uplink off MQTT (a shared
//! subscription, so instances split the load), stores it idempotently — cases by (kiosk, seq), images by
//! SHA-256 — in SQLite or PostgreSQL through one code path and in an `object_store`, acks only after the
//! commit, and publishes signed downlink: decisions and the stolen-IMEI index (head, deltas, snapshots).

pub mod config;
pub mod decisions;
pub mod enroll;
pub mod export;
pub mod http;
pub mod ingest;
pub mod mqtt;
pub mod notify;
pub mod objects;
pub mod service;
pub mod signing;
pub mod stolen;
pub mod store;
pub mod users;

pub use config::Config;
pub use ingest::{Incoming, Ingest, Outgoing};
pub use service::{Command, Service};
pub use store::{Backend, Store};
