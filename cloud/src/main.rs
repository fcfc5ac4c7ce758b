//! `jachai-cloud`: flags, logging, signals; the work is in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

/// Jachai cloud aggregator: MQTT ingest from the kiosks, storage, signed downlink.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// TOML configuration file.
    #[arg(long, default_value = "/etc/jachai/cloud.toml")]
    config: PathBuf,
    /// Log JSON lines instead of text.
    #[arg(long)]
    json: bool,
    /// Check the configuration, open the database (migrating it) and the signing key, then exit.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("jachai-cloud: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if args.json {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .json()
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let cfg = jachai_cloud::Config::load(&args.config)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting tokio")?;
    rt.block_on(async move {
        let service = jachai_cloud::Service::open(cfg).await?;
        if args.check {
            println!("configuration, database and signing key are fine");
            return Ok(ExitCode::SUCCESS);
        }
        let (_commands, rx) = tokio::sync::mpsc::channel(16);
        service.run(shutdown_signal(), rx).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// SIGTERM (systemd) or SIGINT (a terminal).
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM");
            std::future::pending::<()>().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT"),
    }
}
