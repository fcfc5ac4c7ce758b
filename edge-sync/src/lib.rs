//! The kiosk side of sync.
//!
//! - [`index`]: the offline stolen-IMEI index (always built; the kiosk's `lookup` needs only this).
//! - [`store`] (feature `store`): the durable SQLite store of cases, image files, outbox, events,
//!   decisions and stolen-index bookkeeping.
//! - [`daemon`] (feature `daemon`): the MQTT store-and-forward loop behind `jachai-sync`.
//! - [`enroll`] (feature `daemon`): `jachai-sync enroll`, a new kiosk's key, certificate and settings
//!   from a one-time token.

mod fsutil;
pub mod index;

#[cfg(feature = "daemon")]
pub mod daemon;
#[cfg(feature = "daemon")]
pub mod enroll;
#[cfg(feature = "store")]
pub mod store;
