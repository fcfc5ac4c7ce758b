//! The kiosk side of sync.
//!
//! - [`index`]: the offline stolen-IMEI index (always built; the kiosk's `lookup` needs only this).
//! - [`store`] (feature `store`): the durable SQLite store of cases, image files, outbox, events,
//!   decisions and stolen-index bookkeeping.
//! - [`daemon`] (feature `daemon`): the MQTT store-and-forward loop behind `jachai-sync`.

mod fsutil;
pub mod index;

#[cfg(feature = "daemon")]
pub mod daemon;
#[cfg(feature = "store")]
pub mod store;
