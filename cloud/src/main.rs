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
    /// Check the configuration, open the database (migrating it), the object store, the signing key and
    /// the kiosk CA (creating the keys that are missing), then exit. The HTTP port is not opened.
    #[arg(long)]
    check: bool,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Debug, clap::Subcommand)]
enum Cmd {
    /// Manage console users.
    #[command(subcommand)]
    User(UserCmd),
    /// Write every decided case (report, claims, decision, images) as a labelled data set:
    /// OUT/cases.jsonl and OUT/images/.
    Export {
        #[arg(long)]
        out: PathBuf,
    },
    /// Print this program's manual page (roff) to standard output; scripts/package.sh installs it.
    #[command(hide = true)]
    Man,
}

#[derive(Debug, clap::Subcommand)]
enum UserCmd {
    /// Add a console user. The password is read from `JACHAI_CLOUD_PASSWORD`, else from the first line
    /// of standard input (never from the command line, where other users could see it).
    Add {
        name: String,
        /// admin (manages users), reviewer (decides cases) or viewer (reads).
        #[arg(long)]
        role: jachai_cloud::users::Role,
    },
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("JACHAI_CLOUD_PASSWORD") {
        if !p.is_empty() {
            return Ok(p);
        }
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
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
    if let Some(Cmd::Man) = args.command {
        use clap::CommandFactory;
        let page = Args::command().name("jachai-cloud");
        clap_mangen::Man::new(page).render(&mut std::io::stdout().lock())?;
        return Ok(ExitCode::SUCCESS);
    }
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
    let mut cfg = jachai_cloud::Config::load(&args.config)?;
    if args.check {
        // Checking must work beside the running service (and in the package's postinst): the HTTP port
        // is the service's, not the check's.
        cfg.http = None;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting tokio")?;
    rt.block_on(async move {
        if let Some(Cmd::User(UserCmd::Add { name, role })) = &args.command {
            let password = read_password()?;
            let store = jachai_cloud::Store::open(&cfg.database_url).await?;
            let users = jachai_cloud::users::Users::new(store.clone());
            users.add(name, &password, *role).await?;
            users
                .audit("cli", "user_added", name, role.as_str())
                .await?;
            store.close().await;
            println!("added {role} {name}");
            return Ok(ExitCode::SUCCESS);
        }
        if let Some(Cmd::Export { out }) = &args.command {
            let store = jachai_cloud::Store::open(&cfg.database_url).await?;
            let objects = jachai_cloud::objects::Objects::open(&cfg).await?;
            let signer = jachai_cloud::signing::load_or_create(&cfg.signing_key)?;
            let ingest =
                jachai_cloud::Ingest::new(store.clone(), objects, std::sync::Arc::new(signer));
            let stats = jachai_cloud::export::export(&ingest, out).await?;
            store.close().await;
            println!(
                "exported {} decided cases and {} images to {} ({} images not yet arrived)",
                stats.cases,
                stats.images,
                out.display(),
                stats.images_missing
            );
            return Ok(ExitCode::SUCCESS);
        }
        let service = jachai_cloud::Service::open(cfg).await?;
        if args.check {
            println!("configuration, database, signing key and kiosk CA are fine");
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
