//! `jachai-sync`: the kiosk's sync daemon (MQTT store-and-forward), plus `enroll` (this kiosk's id,
//! certificate and the cloud's signing key from a one-time token), `enqueue` (record a real case from
//! a `jachai-kiosk verify --json` report and its image files), `record` and `backlog` helpers for tests
//! and operators.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use jachai_edge_sync::daemon::{self, SyncConfig, TlsFiles};
use jachai_edge_sync::store::{NewCase, NewImage, Store};
use jachai_protocol::sign::TrustedKeys;
use jachai_protocol::KioskId;

/// Jachai kiosk sync daemon: publishes the outbox to the cloud over MQTT and applies signed
/// downlink (decisions, stolen-IMEI index).
#[derive(Debug, Parser)]
#[command(
    name = "jachai-sync",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    /// Log as JSON lines instead of text (stderr; filter with RUST_LOG).
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Enroll this kiosk: make its key pair and a CSR, trade them and a one-time token from the admin
    /// console for its certificate, and write kiosk.key, kiosk.crt, ca.crt, cloud-signing.pub and
    /// sync.env into --dir. Prints what it did as JSON.
    Enroll(EnrollArgs),
    /// Record one case from a `jachai-kiosk verify --json` report and its image file(s) in one
    /// transaction (as the kiosk app would), print its seq, then exit.
    Enqueue(EnqueueArgs),
    /// Record test cases with random image bytes (as the kiosk app would), then exit.
    Record(RecordArgs),
    /// Print the outbox backlog as JSON, then exit.
    Backlog(StoreArgs),
    /// Print this program's manual page (roff) to standard output; scripts/package.sh installs it.
    #[command(hide = true)]
    Man,
}

#[derive(Debug, Args)]
struct EnrollArgs {
    /// The cloud's base URL, e.g. https://cloud.example.org (http:// only to localhost).
    #[arg(long)]
    cloud: String,
    /// The one-time token (default: JACHAI_ENROLL_TOKEN, else the first line of standard input,
    /// which keeps it out of the process list).
    #[arg(long)]
    token: Option<String>,
    /// Where to write the files.
    #[arg(long, default_value = "/etc/jachai")]
    dir: PathBuf,
    /// Trust only this CA (PEM) for the cloud's HTTPS certificate (default: the built-in roots).
    #[arg(long)]
    cloud_ca: Option<PathBuf>,
    /// Refuse the answer unless it enrolls this kiosk id.
    #[arg(long)]
    kiosk: Option<KioskId>,
    /// Give kiosk.key to this group (name or id), mode 0640, so the daemon's user can read it.
    #[arg(long)]
    group: Option<String>,
    /// Replace an existing enrollment in --dir.
    #[arg(long)]
    force: bool,
    /// Seconds to wait for the cloud.
    #[arg(long, default_value_t = 60)]
    timeout_s: u64,
}

#[derive(Debug, Args)]
struct StoreArgs {
    /// SQLite store.
    #[arg(long, default_value = "/var/lib/jachai/kiosk.db")]
    db: PathBuf,
    /// Directory of image files.
    #[arg(long, default_value = "/var/lib/jachai/blobs")]
    blobs: PathBuf,
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Stolen-IMEI index directory (default: `stolen` beside the database).
    #[arg(long)]
    index: Option<PathBuf>,
    /// Broker as host:port.
    #[arg(long)]
    broker: Option<String>,
    /// CA certificate (PEM) of the broker; with --cert and --key turns on mTLS.
    #[arg(long, requires_all = ["cert", "key"])]
    ca: Option<PathBuf>,
    /// Client certificate (PEM), CN = kiosk id.
    #[arg(long, requires = "ca")]
    cert: Option<PathBuf>,
    /// Client private key (PEM).
    #[arg(long, requires = "ca")]
    key: Option<PathBuf>,
    /// This kiosk's id ([a-z0-9-]{1,32}).
    #[arg(long)]
    kiosk: Option<KioskId>,
    /// File with an ed25519 public key (64 hex digits) downlink must be signed with; repeatable.
    #[arg(long = "trusted-key")]
    trusted_keys: Vec<PathBuf>,
    /// Heartbeat period in seconds.
    #[arg(long, default_value_t = 60)]
    heartbeat_s: u64,
    /// Most cases in flight at once.
    #[arg(long, default_value_t = 64)]
    window: usize,
    /// MQTT keep-alive in seconds (a dead connection is noticed within about 1.5× this).
    #[arg(long, default_value_t = 20)]
    keep_alive_s: u64,
    /// Send a case (or the rest of its blobs) again when nothing about it was acked for this
    /// many seconds (the cloud may have restarted and lost what was in flight).
    #[arg(long, default_value_t = 10)]
    resend_after_s: u64,
}

#[derive(Debug, Args)]
struct RecordArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// How many cases.
    #[arg(long, default_value_t = 1)]
    count: u64,
    /// Bytes of (random) image per case.
    #[arg(long, default_value_t = 200_000)]
    image_bytes: usize,
    /// Case id prefix (ids are PREFIX-N, N counting from the cases already stored).
    #[arg(long, default_value = "case")]
    prefix: String,
}

#[derive(Debug, Args)]
struct EnqueueArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The report: one JSON object as printed by `jachai-kiosk verify --json` for this document.
    #[arg(long)]
    report: PathBuf,
    /// An image file of the case (the verified document first); repeatable.
    #[arg(long = "image", required = true)]
    images: Vec<PathBuf>,
    /// Case id (default: KIND-<first 16 hex digits of the report's sha256>).
    #[arg(long)]
    case_id: Option<String>,
    /// An IMEI the citizen typed (stored in the case's claims as `imeis`); repeatable.
    #[arg(long = "imei")]
    imeis: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_json);
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("jachai-sync: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(Command::Enroll(args)) => enroll(args),
        Some(Command::Enqueue(args)) => enqueue(&args),
        Some(Command::Record(args)) => record(&args),
        Some(Command::Backlog(args)) => {
            let store = Store::open(&args.db, &args.blobs)?;
            let out = serde_json::json!({
                "cases": store.case_count()?,
                "backlog": store.unacked_count()?,
                "oldest_unacked_age_s": store.oldest_unacked_age()?,
                "decision_seq": store.decision_seq()?,
            });
            println!("{out}");
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Man) => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        None => daemon_main(cli.run),
    }
}

fn enroll(args: EnrollArgs) -> anyhow::Result<ExitCode> {
    use jachai_edge_sync::enroll::{self, EnrollOptions};
    let token = match args.token {
        Some(t) => t,
        None => match std::env::var("JACHAI_ENROLL_TOKEN") {
            Ok(t) if !t.trim().is_empty() => t,
            _ => {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("reading the token from standard input")?;
                line
            }
        },
    };
    anyhow::ensure!(!token.trim().is_empty(), "no enrollment token given");
    let key_gid = match &args.group {
        Some(g) => Some(enroll::group_id(g).with_context(|| format!("no group {g:?}"))?),
        None => None,
    };
    let opts = EnrollOptions {
        cloud: args.cloud,
        token,
        dir: args.dir.clone(),
        cloud_ca: args.cloud_ca,
        expect_kiosk: args.kiosk,
        key_gid,
        force: args.force,
        timeout: Duration::from_secs(args.timeout_s.max(1)),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let done = runtime.block_on(enroll::enroll(&opts))?;
    let out = serde_json::json!({
        "kiosk": done.kiosk.as_str(),
        "broker": done.broker,
        "signing_key_id": done.signing_key_id,
        "not_after": done.not_after,
        "dir": args.dir.display().to_string(),
        "files": enroll::FILES,
    });
    println!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// The blob role for a case's `ord`-th image, from the case kind.
fn image_role(kind: &str, ord: usize) -> String {
    match (kind, ord) {
        ("gd", 0) => "gd_copy".into(),
        ("cheque", 0) => "cheque".into(),
        ("box", _) => "phone_box".into(),
        (_, 0) => "document".into(),
        _ => "extra".into(),
    }
}

fn enqueue(args: &EnqueueArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.report)
        .with_context(|| format!("reading {}", args.report.display()))?;
    let report: serde_json::Value = serde_json::from_str(text.trim())
        .with_context(|| format!("{} is not one JSON object", args.report.display()))?;
    anyhow::ensure!(report.is_object(), "the report must be a JSON object");
    anyhow::ensure!(
        report.get("error").is_none(),
        "the report is an error (the document was refused): nothing to record"
    );
    let kind = report
        .get("kind")
        .and_then(|v| v.as_str())
        .context("the report has no \"kind\"")?
        .to_owned();
    let verdict = report
        .get("verdict")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let risk = report
        .get("risk")
        .and_then(|v| v.as_u64())
        .map(|r| u8::try_from(r).context("risk out of range"))
        .transpose()?;
    let mut images = Vec::with_capacity(args.images.len());
    for (ord, path) in args.images.iter().enumerate() {
        let bytes =
            std::fs::read(path).with_context(|| format!("reading image {}", path.display()))?;
        anyhow::ensure!(!bytes.is_empty(), "image {} is empty", path.display());
        images.push(NewImage {
            role: image_role(&kind, ord),
            bytes,
        });
    }
    let case_id = match &args.case_id {
        Some(id) => id.clone(),
        None => {
            let sha = match report.get("sha256").and_then(|v| v.as_str()) {
                Some(s) => s.to_owned(),
                None => jachai_edge_sync::store::sha256_hex(&images[0].bytes),
            };
            format!("{kind}-{}", &sha[..sha.len().min(16)])
        }
    };
    let mut claims = serde_json::Map::new();
    if !args.imeis.is_empty() {
        claims.insert("imeis".into(), serde_json::json!(args.imeis));
    }
    let case = NewCase {
        case_id,
        kind,
        created_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        claims,
        verdict,
        risk,
        report,
        images,
    };
    let mut store = Store::open(&args.store.db, &args.store.blobs)?;
    let seq = store.record_case(&case)?;
    println!("{seq}");
    Ok(ExitCode::SUCCESS)
}

fn record(args: &RecordArgs) -> anyhow::Result<ExitCode> {
    use rand::RngCore as _;
    let mut store = Store::open(&args.store.db, &args.store.blobs)?;
    let start = store.case_count()?;
    let mut rng = rand::thread_rng();
    for n in start..start + args.count {
        let mut bytes = vec![0u8; args.image_bytes];
        rng.fill_bytes(&mut bytes);
        let case = NewCase {
            case_id: format!("{}-{n}", args.prefix),
            kind: "gd".into(),
            created_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            claims: serde_json::Map::new(),
            verdict: Some("review".into()),
            risk: Some(40),
            report: serde_json::json!({}),
            images: vec![NewImage {
                role: "gd_copy".into(),
                bytes,
            }],
        };
        let seq = store.record_case(&case)?;
        println!("{seq}");
    }
    Ok(ExitCode::SUCCESS)
}

fn daemon_main(args: RunArgs) -> anyhow::Result<ExitCode> {
    let broker = args.broker.context("--broker host:port is required")?;
    let kiosk = args.kiosk.context("--kiosk is required")?;
    let (host, port) = broker
        .rsplit_once(':')
        .context("--broker must be host:port")?;
    let port: u16 = port.parse().context("--broker port")?;
    let mut cfg = SyncConfig::new(
        kiosk,
        args.store.db,
        args.store.blobs,
        host.to_owned(),
        port,
    );
    if let Some(index) = args.index {
        cfg.index_dir = index;
    }
    if let (Some(ca), Some(cert), Some(key)) = (args.ca, args.cert, args.key) {
        cfg.tls = Some(TlsFiles { ca, cert, key });
    }
    let mut trusted = TrustedKeys::new();
    for path in &args.trusted_keys {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        trusted
            .add_hex(&text)
            .with_context(|| format!("trusted key {}", path.display()))?;
    }
    if trusted.is_empty() {
        tracing::warn!("no --trusted-key: every signed downlink message will be refused");
    }
    cfg.trusted = trusted;
    cfg.heartbeat = Duration::from_secs(args.heartbeat_s.max(1));
    cfg.window = args.window.max(1);
    cfg.keep_alive = Duration::from_secs(args.keep_alive_s.max(1));
    cfg.resend_after = Duration::from_secs(args.resend_after_s.max(1));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let shutdown = async {
            use tokio::signal::unix::{signal, SignalKind};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = tokio::signal::ctrl_c() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        };
        daemon::run(cfg, shutdown).await
    })?;
    Ok(ExitCode::SUCCESS)
}

fn init_logging(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
