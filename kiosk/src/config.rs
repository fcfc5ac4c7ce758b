//! The kiosk app's configuration: defaults, then a TOML file, then `JACHAI_KIOSK_*` variables.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Deserialize;

use crate::hardware::{CameraSpec, GpioSpec};

/// Where the configuration file is looked for when none is named.
pub const DEFAULT_CONFIG: &str = "/etc/jachai/kiosk.toml";

/// Everything the app needs to run.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KioskConfig {
    /// This kiosk's id (as `jachai-sync --kiosk`): `[a-z0-9-]{1,32}`; prefixes report ids.
    pub kiosk_id: String,
    /// The store shared with `jachai-sync`.
    pub db: PathBuf,
    /// Image files of the store.
    pub blobs: PathBuf,
    /// The stolen-IMEI index `jachai-sync` keeps.
    pub index: PathBuf,
    /// Seconds without a touch before the session is wiped.
    pub idle_timeout_s: u32,
    /// Digits that open the maintenance screen; empty disables it.
    pub maintenance_pin: String,
    /// The ESC/POS printer's device file (e.g. `/dev/usb/lp0`); none: no print button.
    pub printer: Option<PathBuf>,
    /// Take the still by itself when the page is steady and sharp.
    pub auto_capture: bool,
    pub camera: CameraSpec,
    pub gpio: GpioSpec,
}

impl std::fmt::Debug for KioskConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KioskConfig")
            .field("kiosk_id", &self.kiosk_id)
            .field("db", &self.db)
            .field("blobs", &self.blobs)
            .field("index", &self.index)
            .field("idle_timeout_s", &self.idle_timeout_s)
            .field("maintenance_pin", &"<redacted>")
            .field("printer", &self.printer)
            .field("auto_capture", &self.auto_capture)
            .field("camera", &self.camera)
            .field("gpio", &self.gpio)
            .finish()
    }
}

impl Default for KioskConfig {
    fn default() -> Self {
        KioskConfig {
            kiosk_id: "kiosk".into(),
            db: "/var/lib/jachai/kiosk.db".into(),
            blobs: "/var/lib/jachai/blobs".into(),
            index: crate::DEFAULT_INDEX.into(),
            idle_timeout_s: 90,
            maintenance_pin: String::new(),
            printer: None,
            auto_capture: true,
            camera: CameraSpec::V4l {
                device: "/dev/video0".into(),
                width: 1920,
                height: 1080,
            },
            gpio: GpioSpec::Rppal {
                pins: Default::default(),
            },
        }
    }
}

impl KioskConfig {
    /// Defaults, then `path` (or [`DEFAULT_CONFIG`] if it exists), then the environment.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let file = match path {
            Some(p) => Some(p.to_owned()),
            None => Some(PathBuf::from(DEFAULT_CONFIG)).filter(|p| p.exists()),
        };
        let mut config = match &file {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading {}", p.display()))?;
                Self::from_toml(&text).with_context(|| format!("in {}", p.display()))?
            }
            None => KioskConfig::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        config.check()?;
        Ok(config)
    }

    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        Ok(toml::from_str(text)?)
    }

    /// `JACHAI_KIOSK_ID`, `_DB`, `_BLOBS`, `_INDEX`, `_IDLE_S`, `_PRINTER`, and
    /// `JACHAI_KIOSK_CAMERA_DIR` (a simulated camera playing that file or folder).
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        if let Some(v) = var("JACHAI_KIOSK_ID") {
            self.kiosk_id = v;
        }
        if let Some(v) = var("JACHAI_KIOSK_DB") {
            self.db = v.into();
        }
        if let Some(v) = var("JACHAI_KIOSK_BLOBS") {
            self.blobs = v.into();
        }
        if let Some(v) = var("JACHAI_KIOSK_INDEX") {
            self.index = v.into();
        }
        if let Some(v) = var("JACHAI_KIOSK_IDLE_S") {
            self.idle_timeout_s = v
                .parse()
                .with_context(|| format!("JACHAI_KIOSK_IDLE_S={v:?} is not a number"))?;
        }
        if let Some(v) = var("JACHAI_KIOSK_PRINTER") {
            self.printer = Some(v.into());
        }
        if let Some(v) = var("JACHAI_KIOSK_CAMERA_DIR") {
            self.camera = CameraSpec::Simulated { path: v.into() };
        }
        Ok(())
    }

    /// Refuse settings the app cannot run with.
    pub fn check(&self) -> anyhow::Result<()> {
        let id_ok = !self.kiosk_id.is_empty()
            && self.kiosk_id.len() <= 32
            && self
                .kiosk_id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        anyhow::ensure!(
            id_ok,
            "kiosk_id {:?} must be 1-32 of a-z, 0-9 and -",
            self.kiosk_id
        );
        anyhow::ensure!(
            self.idle_timeout_s >= 10,
            "idle_timeout_s must be at least 10 seconds"
        );
        anyhow::ensure!(
            self.maintenance_pin.bytes().all(|b| b.is_ascii_digit())
                && self.maintenance_pin.len() <= 8,
            "maintenance_pin must be up to 8 ASCII digits"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_then_env() {
        let mut c = KioskConfig::from_toml(
            r#"
kiosk_id = "dhk-mirpur-01"
idle_timeout_s = 60
maintenance_pin = "2468"
printer = "/dev/usb/lp0"
camera = { kind = "simulated", path = "/srv/demo" }
gpio = { kind = "simulated" }
"#,
        )
        .expect("valid config");
        assert_eq!(c.kiosk_id, "dhk-mirpur-01");
        assert_eq!(
            c.camera,
            CameraSpec::Simulated {
                path: "/srv/demo".into()
            }
        );
        c.apply_env(|k| (k == "JACHAI_KIOSK_IDLE_S").then(|| "30".to_owned()))
            .expect("number");
        assert_eq!(c.idle_timeout_s, 30);
        c.check().expect("valid");
        assert!(!format!("{c:?}").contains("2468"), "the PIN is redacted");
    }

    #[test]
    fn bad_settings_are_clear_errors() {
        assert!(KioskConfig::from_toml("kiosk_idd = \"x\"").is_err());
        for (field, value) in [
            ("kiosk_id", "\"Bad Id\""),
            ("idle_timeout_s", "3"),
            ("maintenance_pin", "\"12ab\""),
        ] {
            let c = KioskConfig::from_toml(&format!("{field} = {value}")).expect("parses");
            assert!(c.check().is_err(), "{field} = {value}");
        }
        let mut c = KioskConfig::default();
        assert!(c
            .apply_env(|k| (k == "JACHAI_KIOSK_IDLE_S").then(|| "soon".to_owned()))
            .is_err());
    }
}
