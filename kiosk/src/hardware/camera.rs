//! Cameras: a v4l2 device (MJPEG stills) or a simulated camera that plays image files.

use std::path::{Path, PathBuf};

use image::{imageops::FilterType, GrayImage, RgbImage};

/// What can go wrong with a camera.
#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a readable image: {message}")]
    Decode { path: PathBuf, message: String },
    #[error("no image files in {0}")]
    Empty(PathBuf),
    #[error("camera device {device}: {message}")]
    Device { device: String, message: String },
}

/// A camera: preview frames for the screen and encoded stills for the verifier.
pub trait Camera: Send {
    /// What this camera is (for the maintenance screen and `doctor`).
    fn describe(&self) -> String;
    /// A frame for the live preview.
    fn preview(&mut self) -> Result<RgbImage, CameraError>;
    /// A still, encoded (JPEG or PNG) exactly as the verifier should see it.
    fn capture(&mut self) -> Result<Vec<u8>, CameraError>;
}

/// Which camera to open (from the kiosk configuration).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum CameraSpec {
    /// Plays an image file, or the image files of a folder in name order, one per still.
    Simulated { path: PathBuf },
    /// A v4l2 device such as `/dev/video0`.
    V4l {
        device: PathBuf,
        #[serde(default = "default_width")]
        width: u32,
        #[serde(default = "default_height")]
        height: u32,
    },
}

fn default_width() -> u32 {
    1920
}

fn default_height() -> u32 {
    1080
}

/// Open the camera `spec` names.
pub fn open_camera(spec: &CameraSpec) -> Result<Box<dyn Camera>, CameraError> {
    match spec {
        CameraSpec::Simulated { path } => Ok(Box::new(SimulatedCamera::open(path)?)),
        #[cfg(target_os = "linux")]
        CameraSpec::V4l {
            device,
            width,
            height,
        } => Ok(Box::new(V4lCamera::open(device, *width, *height)?)),
        #[cfg(not(target_os = "linux"))]
        CameraSpec::V4l { device, .. } => Err(CameraError::Device {
            device: device.display().to_string(),
            message: "v4l2 cameras need Linux".into(),
        }),
    }
}

const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "tif", "tiff"];

/// A camera that plays image files: each still is the next file's bytes, unchanged (so the
/// verifier sees the file's own JPEG and metadata); the preview shows the file due next.
#[derive(Debug)]
pub struct SimulatedCamera {
    source: PathBuf,
    files: Vec<PathBuf>,
    next: usize,
    preview: Option<(usize, RgbImage)>,
}

impl SimulatedCamera {
    /// An image file, or a folder of them (played in name order, then from the start again).
    pub fn open(path: &Path) -> Result<Self, CameraError> {
        let io = |source| CameraError::Io {
            path: path.to_owned(),
            source,
        };
        let files = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(io)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                        IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str())
                    })
                })
                .collect();
            files.sort();
            files
        } else {
            std::fs::metadata(path).map_err(io)?;
            vec![path.to_owned()]
        };
        if files.is_empty() {
            return Err(CameraError::Empty(path.to_owned()));
        }
        Ok(SimulatedCamera {
            source: path.to_owned(),
            files,
            next: 0,
            preview: None,
        })
    }

    fn current(&self) -> &Path {
        &self.files[self.next % self.files.len()]
    }
}

impl Camera for SimulatedCamera {
    fn describe(&self) -> String {
        format!(
            "simulated camera playing {} ({} file(s))",
            self.source.display(),
            self.files.len()
        )
    }

    fn preview(&mut self) -> Result<RgbImage, CameraError> {
        let index = self.next % self.files.len();
        if let Some((i, img)) = &self.preview {
            if *i == index {
                return Ok(img.clone());
            }
        }
        let path = self.current().to_owned();
        let img = image::open(&path).map_err(|e| CameraError::Decode {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let img = fit_preview(img);
        self.preview = Some((index, img.clone()));
        Ok(img)
    }

    fn capture(&mut self) -> Result<Vec<u8>, CameraError> {
        let path = self.current().to_owned();
        let bytes = std::fs::read(&path).map_err(|source| CameraError::Io {
            path: path.clone(),
            source,
        })?;
        self.next = (self.next + 1) % self.files.len();
        Ok(bytes)
    }
}

/// A v4l2 camera taking MJPEG frames: stills are the camera's own JPEGs.
#[cfg(target_os = "linux")]
pub struct V4lCamera {
    device: PathBuf,
    dev: v4l::Device,
    width: u32,
    height: u32,
}

#[cfg(target_os = "linux")]
impl std::fmt::Debug for V4lCamera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V4lCamera")
            .field("device", &self.device)
            .field("width", &self.width)
            .field("height", &self.height)
            .finish()
    }
}

#[cfg(target_os = "linux")]
impl V4lCamera {
    /// Open `device` and ask for MJPEG at `width`×`height` (the driver may pick another size).
    pub fn open(device: &Path, width: u32, height: u32) -> Result<Self, CameraError> {
        use v4l::video::Capture as _;
        let err = |message: String| CameraError::Device {
            device: device.display().to_string(),
            message,
        };
        let dev = v4l::Device::with_path(device).map_err(|e| err(e.to_string()))?;
        let mut fmt = dev.format().map_err(|e| err(e.to_string()))?;
        fmt.width = width;
        fmt.height = height;
        fmt.fourcc = v4l::FourCC::new(b"MJPG");
        let fmt = dev.set_format(&fmt).map_err(|e| err(e.to_string()))?;
        if fmt.fourcc != v4l::FourCC::new(b"MJPG") {
            return Err(err(format!("does not offer MJPEG (offers {})", fmt.fourcc)));
        }
        Ok(V4lCamera {
            device: device.to_owned(),
            dev,
            width: fmt.width,
            height: fmt.height,
        })
    }

    /// One JPEG frame; the first frames after streaming starts are dropped while exposure settles.
    fn grab(&mut self, settle: usize) -> Result<Vec<u8>, CameraError> {
        use v4l::io::traits::CaptureStream as _;
        let err = |message: String| CameraError::Device {
            device: self.device.display().to_string(),
            message,
        };
        let mut stream =
            v4l::io::mmap::Stream::with_buffers(&self.dev, v4l::buffer::Type::VideoCapture, 4)
                .map_err(|e| err(e.to_string()))?;
        let mut frame = Vec::new();
        for _ in 0..=settle {
            let (buf, meta) = stream.next().map_err(|e| err(e.to_string()))?;
            let used = usize::try_from(meta.bytesused)
                .unwrap_or(buf.len())
                .min(buf.len());
            frame = buf[..used].to_vec();
        }
        Ok(frame)
    }
}

#[cfg(target_os = "linux")]
impl Camera for V4lCamera {
    fn describe(&self) -> String {
        format!(
            "v4l2 camera {} ({}x{} MJPEG)",
            self.device.display(),
            self.width,
            self.height
        )
    }

    fn preview(&mut self) -> Result<RgbImage, CameraError> {
        let jpeg = self.grab(0)?;
        let img = image::load_from_memory(&jpeg).map_err(|e| CameraError::Decode {
            path: self.device.clone(),
            message: e.to_string(),
        })?;
        Ok(fit_preview(img))
    }

    fn capture(&mut self) -> Result<Vec<u8>, CameraError> {
        self.grab(3)
    }
}

/// Scale a frame down (never up) to fit the 640×480 preview.
fn fit_preview(img: image::DynamicImage) -> RgbImage {
    if img.width() > 640 || img.height() > 480 {
        img.resize(640, 480, FilterType::Triangle).to_rgb8()
    } else {
        img.to_rgb8()
    }
}

/// Sharpness of a grey frame: the variance of its Laplacian (higher is sharper).
pub fn sharpness(gray: &GrayImage) -> f64 {
    let (w, h) = gray.dimensions();
    if w < 3 || h < 3 {
        return 0.0;
    }
    let px = |x: u32, y: u32| f64::from(gray.get_pixel(x, y).0[0]);
    let (mut sum, mut sq, mut n) = (0.0, 0.0, 0.0);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let lap = 4.0 * px(x, y) - px(x - 1, y) - px(x + 1, y) - px(x, y - 1) - px(x, y + 1);
            sum += lap;
            sq += lap * lap;
            n += 1.0;
        }
    }
    let mean = sum / n;
    sq / n - mean * mean
}

/// Auto-capture: fires when the last `frames` preview frames were steady (little change from
/// one to the next) and sharp.
#[derive(Debug)]
pub struct SteadyDetector {
    frames: usize,
    max_change: f64,
    min_sharpness: f64,
    last: Option<GrayImage>,
    steady: usize,
}

impl SteadyDetector {
    /// `max_change`: mean absolute grey difference per pixel (0–255) still counted as steady;
    /// `min_sharpness`: the least Laplacian variance counted as sharp.
    pub fn new(frames: usize, max_change: f64, min_sharpness: f64) -> Self {
        SteadyDetector {
            frames,
            max_change,
            min_sharpness,
            last: None,
            steady: 0,
        }
    }

    /// Feed a preview frame; true when it is time to capture (then it starts over).
    pub fn feed(&mut self, frame: &RgbImage) -> bool {
        let gray = image::imageops::resize(
            &image::DynamicImage::ImageRgb8(frame.clone()).to_luma8(),
            160,
            120,
            FilterType::Triangle,
        );
        let sharp = sharpness(&gray) >= self.min_sharpness;
        let steady = self.last.as_ref().is_some_and(|last| {
            let diff: f64 = last
                .pixels()
                .zip(gray.pixels())
                .map(|(a, b)| f64::from(a.0[0].abs_diff(b.0[0])))
                .sum();
            diff / f64::from(160u32 * 120) <= self.max_change
        });
        self.last = Some(gray);
        self.steady = if steady && sharp { self.steady + 1 } else { 0 };
        if self.steady + 1 >= self.frames {
            self.steady = 0;
            self.last = None;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_png(path: &Path, seed: u8) {
        let img = RgbImage::from_fn(64, 48, |x, y| {
            let v = if (x / 4 + y / 4) % 2 == 0 {
                seed
            } else {
                255 - seed
            };
            image::Rgb([v, v, v])
        });
        img.save(path).expect("temp dir is writable");
    }

    #[test]
    fn simulated_camera_plays_a_folder_in_order_and_wraps() {
        let dir = tempfile::tempdir().expect("temp dir");
        write_png(&dir.path().join("b.png"), 10);
        write_png(&dir.path().join("a.png"), 20);
        std::fs::write(dir.path().join("notes.txt"), "not an image").expect("write");
        let mut cam = SimulatedCamera::open(dir.path()).expect("two images");
        let a = std::fs::read(dir.path().join("a.png")).expect("read");
        let b = std::fs::read(dir.path().join("b.png")).expect("read");
        assert_eq!(cam.preview().expect("decodes").dimensions(), (64, 48));
        assert_eq!(cam.capture().expect("a"), a);
        assert_eq!(cam.capture().expect("b"), b);
        assert_eq!(cam.capture().expect("wraps"), a);
        assert!(cam.describe().contains("2 file(s)"));
    }

    #[test]
    fn simulated_camera_errors_are_clear() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(matches!(
            SimulatedCamera::open(dir.path()),
            Err(CameraError::Empty(_))
        ));
        assert!(matches!(
            SimulatedCamera::open(&dir.path().join("missing.jpg")),
            Err(CameraError::Io { .. })
        ));
        let junk = dir.path().join("junk.jpg");
        std::fs::write(&junk, b"not a jpeg").expect("write");
        let mut cam = SimulatedCamera::open(&junk).expect("exists");
        assert!(matches!(cam.preview(), Err(CameraError::Decode { .. })));
        assert_eq!(cam.capture().expect("bytes as they are"), b"not a jpeg");
    }

    #[test]
    fn steady_sharp_frames_trigger_auto_capture_blurred_or_moving_do_not() {
        let sharp = RgbImage::from_fn(320, 240, |x, y| {
            let v = if (x / 8 + y / 8) % 2 == 0 { 20 } else { 230 };
            image::Rgb([v, v, v])
        });
        let shifted = RgbImage::from_fn(320, 240, |x, y| {
            let v = if ((x + 8) / 8 + y / 8) % 2 == 0 {
                20
            } else {
                230
            };
            image::Rgb([v, v, v])
        });
        let flat = RgbImage::from_pixel(320, 240, image::Rgb([128, 128, 128]));
        let mut d = SteadyDetector::new(3, 4.0, 50.0);
        assert!(!d.feed(&sharp));
        assert!(!d.feed(&sharp));
        assert!(d.feed(&sharp), "three steady sharp frames");
        let mut d = SteadyDetector::new(3, 4.0, 50.0);
        for _ in 0..6 {
            assert!(!d.feed(&flat), "a blank frame is not sharp");
        }
        let mut d = SteadyDetector::new(3, 4.0, 50.0);
        for i in 0..6 {
            assert!(
                !d.feed(if i % 2 == 0 { &sharp } else { &shifted }),
                "moving"
            );
        }
    }
}
