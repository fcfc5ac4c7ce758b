//! GPIO: the capture button, the status LEDs and the illumination ring, on a Raspberry Pi
//! (rppal) or simulated in memory.

use std::sync::{Arc, Mutex, PoisonError};

use crate::controller::Led;

/// What can go wrong with GPIO.
#[derive(Debug, thiserror::Error)]
pub enum GpioError {
    #[error("gpio: {0}")]
    Pin(String),
}

/// The kiosk's GPIO.
pub trait Gpio: Send {
    /// What this is (for the maintenance screen and `doctor`).
    fn describe(&self) -> String;
    fn set_led(&mut self, led: Led) -> Result<(), GpioError>;
    fn set_illumination(&mut self, on: bool) -> Result<(), GpioError>;
    /// Whether the capture button was pressed since the last call (polled).
    fn take_button_press(&mut self) -> Result<bool, GpioError>;
}

/// BCM pin numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct GpioPins {
    /// Capture button to ground (internal pull-up).
    pub button: u8,
    pub led_idle: u8,
    pub led_busy: u8,
    pub led_attention: u8,
    /// Illumination ring (through a transistor).
    pub illumination: u8,
}

impl Default for GpioPins {
    fn default() -> Self {
        GpioPins {
            button: 17,
            led_idle: 22,
            led_busy: 23,
            led_attention: 24,
            illumination: 27,
        }
    }
}

/// Which GPIO to open (from the kiosk configuration).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum GpioSpec {
    Simulated,
    Rppal {
        #[serde(default)]
        pins: GpioPins,
    },
}

/// Open the GPIO `spec` names; a simulated one also returns its pins for the caller to watch.
pub fn open_gpio(spec: &GpioSpec) -> Result<Box<dyn Gpio>, GpioError> {
    match spec {
        GpioSpec::Simulated => Ok(Box::new(SimulatedGpio::new().0)),
        #[cfg(target_os = "linux")]
        GpioSpec::Rppal { pins } => Ok(Box::new(RppalGpio::open(*pins)?)),
        #[cfg(not(target_os = "linux"))]
        GpioSpec::Rppal { .. } => Err(GpioError::Pin("rppal needs Linux".into())),
    }
}

/// The state of simulated pins, shared with whoever simulates the hardware (tests, `doctor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatedPins {
    pub led: Led,
    pub illumination: bool,
    /// Button presses not yet taken.
    pub presses: u32,
    /// Every LED state set, in order (repeats collapsed).
    pub led_history: Vec<Led>,
}

/// GPIO in memory.
#[derive(Debug, Clone)]
pub struct SimulatedGpio {
    pins: Arc<Mutex<SimulatedPins>>,
}

impl SimulatedGpio {
    /// A simulated GPIO and a handle on its pins.
    pub fn new() -> (Self, SimulatedGpio) {
        let gpio = SimulatedGpio {
            pins: Arc::new(Mutex::new(SimulatedPins {
                led: Led::Idle,
                illumination: false,
                presses: 0,
                led_history: vec![Led::Idle],
            })),
        };
        (gpio.clone(), gpio)
    }

    fn with<R>(&self, f: impl FnOnce(&mut SimulatedPins) -> R) -> R {
        let mut pins = self.pins.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut pins)
    }

    /// Press the capture button.
    pub fn press(&self) {
        self.with(|p| p.presses += 1);
    }

    /// The pins now.
    pub fn pins(&self) -> SimulatedPins {
        self.with(|p| p.clone())
    }
}

impl Gpio for SimulatedGpio {
    fn describe(&self) -> String {
        "simulated GPIO".into()
    }

    fn set_led(&mut self, led: Led) -> Result<(), GpioError> {
        self.with(|p| {
            p.led = led;
            if p.led_history.last() != Some(&led) {
                p.led_history.push(led);
            }
        });
        Ok(())
    }

    fn set_illumination(&mut self, on: bool) -> Result<(), GpioError> {
        self.with(|p| p.illumination = on);
        Ok(())
    }

    fn take_button_press(&mut self) -> Result<bool, GpioError> {
        Ok(self.with(|p| {
            let pressed = p.presses > 0;
            p.presses = p.presses.saturating_sub(1);
            pressed
        }))
    }
}

/// GPIO on a Raspberry Pi through rppal.
#[cfg(target_os = "linux")]
#[derive(Debug)]
pub struct RppalGpio {
    pins: GpioPins,
    button: rppal::gpio::InputPin,
    leds: [rppal::gpio::OutputPin; 3],
    light: rppal::gpio::OutputPin,
    was_down: bool,
}

#[cfg(target_os = "linux")]
impl RppalGpio {
    pub fn open(pins: GpioPins) -> Result<Self, GpioError> {
        let err = |e: rppal::gpio::Error| GpioError::Pin(e.to_string());
        let gpio = rppal::gpio::Gpio::new().map_err(err)?;
        let out = |pin: u8| gpio.get(pin).map(|p| p.into_output_low()).map_err(err);
        Ok(RppalGpio {
            pins,
            button: gpio.get(pins.button).map_err(err)?.into_input_pullup(),
            leds: [
                out(pins.led_idle)?,
                out(pins.led_busy)?,
                out(pins.led_attention)?,
            ],
            light: out(pins.illumination)?,
            was_down: false,
        })
    }
}

#[cfg(target_os = "linux")]
impl Gpio for RppalGpio {
    fn describe(&self) -> String {
        format!("Raspberry Pi GPIO (BCM pins {:?})", self.pins)
    }

    fn set_led(&mut self, led: Led) -> Result<(), GpioError> {
        let on = match led {
            Led::Idle => 0,
            Led::Busy => 1,
            Led::Attention => 2,
        };
        for (i, pin) in self.leds.iter_mut().enumerate() {
            if i == on {
                pin.set_high();
            } else {
                pin.set_low();
            }
        }
        Ok(())
    }

    fn set_illumination(&mut self, on: bool) -> Result<(), GpioError> {
        if on {
            self.light.set_high();
        } else {
            self.light.set_low();
        }
        Ok(())
    }

    fn take_button_press(&mut self) -> Result<bool, GpioError> {
        // Pulled up; pressed pulls the pin low. A press is the edge from up to down.
        let down = self.button.is_low();
        let pressed = down && !self.was_down;
        self.was_down = down;
        Ok(pressed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_gpio_records_leds_and_counts_presses() {
        let (mut gpio, handle) = SimulatedGpio::new();
        assert!(!gpio.take_button_press().expect("simulated"));
        handle.press();
        handle.press();
        assert!(gpio.take_button_press().expect("simulated"));
        assert!(gpio.take_button_press().expect("simulated"));
        assert!(!gpio.take_button_press().expect("simulated"));
        for led in [Led::Busy, Led::Busy, Led::Attention, Led::Idle] {
            gpio.set_led(led).expect("simulated");
        }
        gpio.set_illumination(true).expect("simulated");
        let pins = handle.pins();
        assert_eq!(
            pins.led_history,
            vec![Led::Idle, Led::Busy, Led::Attention, Led::Idle]
        );
        assert!(pins.illumination);
    }

    #[test]
    fn gpio_spec_parses_from_toml() {
        let spec: GpioSpec =
            toml::from_str("kind = \"rppal\"\n[pins]\nbutton = 5\n").expect("valid spec");
        let GpioSpec::Rppal { pins } = spec else {
            panic!("rppal spec expected");
        };
        assert_eq!(pins.button, 5);
        assert_eq!(pins.led_idle, GpioPins::default().led_idle);
    }
}
