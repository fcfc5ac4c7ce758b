//! `jachai-kiosk`: the kiosk binary. For now its headless subcommands (`verify`, `lookup`); the touchscreen app comes later.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod lookup_cmd;
mod verify_cmd;

/// Jachai document-verification kiosk.
#[derive(Debug, Parser)]
#[command(name = "jachai-kiosk", version, about)]
struct Cli {
    /// Log as JSON lines instead of text (logs go to stderr; filter with RUST_LOG).
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify document images headlessly and print a report per file.
    Verify(verify_cmd::VerifyArgs),
    /// Is this IMEI reported stolen? Answered offline from the kiosk's stolen-IMEI index.
    Lookup(lookup_cmd::LookupArgs),
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
        Command::Verify(args) => verify_cmd::run(&args),
        Command::Lookup(args) => lookup_cmd::run(&args),
    }
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
