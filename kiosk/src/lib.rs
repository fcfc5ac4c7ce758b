//! `jachai-kiosk` as a library: the touchscreen app (controllers, Slint UI, hardware, worker
//! threads), `doctor` and the screenshot renderer. The binary is a thin layer over it.

pub mod config;
pub mod controller;
pub mod doctor;
pub mod fonts;
pub mod hardware;
pub mod receipt;
pub mod services;
pub mod shots;
pub mod ui;

/// Where `jachai-sync` keeps the stolen-IMEI index on a kiosk.
pub const DEFAULT_INDEX: &str = "/var/lib/jachai/stolen";
