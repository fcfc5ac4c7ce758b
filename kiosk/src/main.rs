//! `jachai-kiosk`: the kiosk binary. With no subcommand it runs the touchscreen app; the headless
//! subcommands are `verify`, `lookup`, `doctor` and `screenshots`.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use jachai_kiosk::config::KioskConfig;
use jachai_kiosk::controller::FlowConfig;
use jachai_kiosk::doctor;
use jachai_kiosk::hardware::{open_camera, open_gpio};
use jachai_kiosk::services::WorkerConfig;
use jachai_kiosk::ui::{KioskApp, Parts};

mod lookup_cmd;
mod verify_cmd;

/// Jachai document-verification kiosk.
#[derive(Debug, Parser)]
#[command(name = "jachai-kiosk", version, about)]
struct Cli {
    /// Log as JSON lines instead of text (logs go to stderr; filter with RUST_LOG).
    #[arg(long, global = true)]
    log_json: bool,
    /// The kiosk configuration (TOML); default /etc/jachai/kiosk.toml when it exists.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify document images headlessly and print a report per file.
    Verify(verify_cmd::VerifyArgs),
    /// Is this IMEI reported stolen? Answered offline from the kiosk's stolen-IMEI index.
    Lookup(lookup_cmd::LookupArgs),
    /// Check the kiosk's health (store, sync backlog, stolen index, OCR models, camera, GPIO,
    /// printer); exits 1 when something is wrong.
    Doctor,
    /// Render every screen in Bengali and English to PNG files (software renderer, no display).
    Screenshots {
        /// The output folder.
        #[arg(long, value_name = "DIR")]
        out: std::path::PathBuf,
    },
    /// Print this program's manual page (roff) to standard output; scripts/package.sh installs it.
    #[command(hide = true)]
    Man,
}

/// Tesseract runs on OpenMP, which reads `OMP_THREAD_LIMIT` when the library is loaded, before
/// `main`. Unlimited, its threads fight the pipeline's own for the Pi's cores (OCR ran 5× slower
/// here), so when the variable is unset the process re-executes itself once with it set to 1.
fn limit_openmp() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("OMP_THREAD_LIMIT").is_some() {
        return;
    }
    if let Ok(exe) = std::env::current_exe() {
        let err = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env("OMP_THREAD_LIMIT", "1")
            .exec();
        // `exec` returns only when it failed; go on with OpenMP's default.
        eprintln!("jachai-kiosk: could not re-execute with OMP_THREAD_LIMIT=1: {err}");
    }
}

fn main() -> ExitCode {
    limit_openmp();
    let cli = Cli::parse();
    init_logging(cli.log_json);
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("jachai-kiosk: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(Command::Verify(args)) => verify_cmd::run(&args),
        Some(Command::Lookup(args)) => lookup_cmd::run(&args),
        Some(Command::Doctor) => {
            let config = KioskConfig::load(cli.config.as_deref())?;
            let checks = doctor::run_checks(&config, doctor::Scope { hardware: true });
            let ok = doctor::print(&checks, &mut std::io::stdout().lock())?;
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Some(Command::Screenshots { out }) => {
            for path in jachai_kiosk::shots::screenshots(&out)? {
                println!("{}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Man) => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        None => app(cli.config.as_deref()),
    }
}

/// The touchscreen app: open the hardware, show the window, tell systemd it is up, and ping
/// the watchdog from the UI event loop (a stuck loop gets the kiosk restarted).
fn app(config: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    let config = KioskConfig::load(config)?;
    let camera = open_camera(&config.camera).context("opening the camera")?;
    let gpio = open_gpio(&config.gpio).context("opening GPIO")?;
    let health = doctor::run_checks(&config, doctor::Scope { hardware: false });
    let kiosk = KioskApp::new(Parts {
        camera,
        gpio,
        worker: WorkerConfig {
            kiosk_id: config.kiosk_id.clone(),
            db: config.db.clone(),
            blobs: config.blobs.clone(),
            index: config.index.clone(),
            printer: config.printer.clone(),
        },
        flow: FlowConfig {
            idle_timeout_s: config.idle_timeout_s,
            maintenance_pin: config.maintenance_pin.clone(),
        },
        auto_capture: config.auto_capture,
        health,
    })?;
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
    let mut usec = 0;
    let watchdog = slint::Timer::default();
    if sd_notify::watchdog_enabled(false, &mut usec) {
        let every = std::time::Duration::from_micros(usec / 2);
        watchdog.start(slint::TimerMode::Repeated, every, || {
            let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
        });
    }
    kiosk.run()?;
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
    Ok(ExitCode::SUCCESS)
}

fn init_logging(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
