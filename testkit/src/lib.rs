//! Test helpers for the sync path (a dev-dependency only): a throwaway certificate authority with server and
//! per-kiosk client certificates, a private Mosquitto started from the repo's `broker/` configuration on a
//! free port, and `mosquitto_pub` / `mosquitto_sub` run with a given identity; a private S3-compatible
//! server (moto) with a bucket.

mod broker;
mod pki;
mod s3;

pub use broker::{free_port, Broker, Message, Subscriber};
pub use pki::{Identity, Pki};
pub use s3::S3Server;

/// The PostgreSQL server URL the cloud's tests run against (`JACHAI_TEST_PG_URL`, exported by
/// `scripts/test.sh`). `None` when unset outside CI; under `CI=true` a missing URL is an error, so a test
/// that needs PostgreSQL fails there instead of passing without it.
pub fn test_pg_url() -> anyhow::Result<Option<String>> {
    match std::env::var("JACHAI_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Ok(Some(url)),
        _ if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => Err(anyhow::anyhow!(
            "CI is set but JACHAI_TEST_PG_URL is not: run the tests through scripts/test.sh, which starts PostgreSQL"
        )),
        _ => Ok(None),
    }
}

/// A binary of this workspace built next to the running test executable (`target/<profile>/<name>`);
/// built with `cargo build -p <package> --bin <name>` when it is not there yet.
pub fn workspace_binary(package: &str, name: &str) -> anyhow::Result<std::path::PathBuf> {
    use anyhow::Context;
    let exe = std::env::current_exe()?;
    // target/<profile>/deps/<test> → target/<profile>
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .context("the test executable is not inside target/<profile>/deps")?;
    let path = dir.join(name);
    if path.exists() {
        return Ok(path);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    cmd.args(["build", "-p", package, "--bin", name]);
    if dir.file_name().is_some_and(|p| p == "release") {
        cmd.arg("--release");
    }
    if let Some(target) = dir.parent() {
        cmd.env("CARGO_TARGET_DIR", target);
    }
    // The tested package's folder (set by cargo at run time) is in this checkout; the folder
    // this crate was compiled in may belong to another checkout sharing the build folder.
    let here = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .filter(|d| d.is_dir())
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    let status = cmd
        .current_dir(here)
        .status()
        .context("running cargo build")?;
    anyhow::ensure!(
        status.success(),
        "cargo build -p {package} --bin {name} failed"
    );
    anyhow::ensure!(path.exists(), "{} missing after the build", path.display());
    Ok(path)
}

/// Runs `exe man` (the hidden subcommand that prints the program's manual page, which
/// `scripts/package.sh` installs) and checks the page: roff with `.TH NAME 1`, the NAME, SYNOPSIS
/// and OPTIONS sections, each of `mentions` (subcommands, options), and not the hidden `man`
/// subcommand itself. Returns the page.
pub fn check_man_page(
    exe: &std::path::Path,
    name: &str,
    mentions: &[&str],
) -> anyhow::Result<String> {
    let out = std::process::Command::new(exe).arg("man").output()?;
    anyhow::ensure!(out.status.success(), "{name} man: {out:?}");
    let page = String::from_utf8(out.stdout)?;
    let title = format!(".TH {name} 1");
    for needle in [title.as_str(), ".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS"]
        .into_iter()
        .chain(mentions.iter().copied())
    {
        anyhow::ensure!(
            page.contains(needle),
            "{name}'s manual page lacks {needle:?}"
        );
    }
    // Subcommands are listed as `name\-sub(1)`.
    anyhow::ensure!(
        !page.contains("\\-man(1)"),
        "{name}'s manual page lists the hidden man subcommand"
    );
    Ok(page)
}
