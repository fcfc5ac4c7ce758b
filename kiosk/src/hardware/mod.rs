//! The kiosk's hardware behind two traits, [`Camera`] and [`Gpio`]: the real parts (v4l, rppal;
//! Linux only) and simulated ones (an image file or folder as the camera; GPIO state in memory)
//! that tests and development machines use. Architecture Invariant: nothing outside this module
//! knows v4l or rppal.

mod camera;
mod gpio;

#[cfg(target_os = "linux")]
pub use camera::V4lCamera;
pub use camera::{
    open_camera, sharpness, Camera, CameraError, CameraSpec, SimulatedCamera, SteadyDetector,
};
#[cfg(target_os = "linux")]
pub use gpio::RppalGpio;
pub use gpio::{open_gpio, Gpio, GpioError, GpioPins, GpioSpec, SimulatedGpio, SimulatedPins};
