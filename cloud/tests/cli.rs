//! The `jachai-cloud` command line. `user add`: the first console user (password from the
//! environment or standard input), refused clearly when the name, password or role is wrong or the
//! user exists; the manual page.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use jachai_cloud::users::{Role, Users};

fn config(db: &common::TestDb) -> std::path::PathBuf {
    let path = db.dir.path().join("cloud.toml");
    let text = format!(
        "database_url = {:?}\nblob_dir = {:?}\nsigning_key = {:?}\n[mqtt]\nhost = \"localhost\"\nca = \"/nonexistent/ca.pem\"\ncert = \"/nonexistent/c.pem\"\nkey = \"/nonexistent/c.key\"\n",
        db.url,
        db.blob_dir(),
        db.dir.path().join("signing.key"),
    );
    std::fs::write(&path, text).expect("config");
    path
}

fn user_add(
    cfg: &std::path::Path,
    args: &[&str],
    env_pw: Option<&str>,
    stdin: &str,
) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jachai-cloud"));
    cmd.arg("--config")
        .arg(cfg)
        .args(["user", "add"])
        .args(args)
        .env_remove("JACHAI_CLOUD_PASSWORD")
        .env_remove("JACHAI_CLOUD_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = env_pw {
        cmd.env("JACHAI_CLOUD_PASSWORD", p);
    }
    let mut child = cmd.spawn().expect("jachai-cloud");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_add_creates_console_users() {
    for db in common::databases().await {
        let cfg = config(&db);
        let (ok, out) = user_add(
            &cfg,
            &["ana", "--role", "admin"],
            Some("a long enough password"),
            "",
        );
        assert!(ok, "{}: {out}", db.label);
        assert!(out.contains("added admin ana"), "{out}");
        let (ok, out) = user_add(
            &cfg,
            &["rafi", "--role", "reviewer"],
            None,
            "from standard input\n",
        );
        assert!(ok, "{out}");
        for (args, pw, want) in [
            (
                &["ana", "--role", "admin"][..],
                "a long enough password",
                "already exists",
            ),
            (
                &["Bad Name", "--role", "viewer"][..],
                "a long enough password",
                "a user name is",
            ),
            (
                &["vera", "--role", "viewer"][..],
                "short",
                "a password is 10-256 characters",
            ),
            (
                &["vera", "--role", "root"][..],
                "a long enough password",
                "unknown role",
            ),
        ] {
            let (ok, out) = user_add(&cfg, args, Some(pw), "");
            assert!(!ok && out.contains(want), "{args:?}: {out}");
        }
        let users = Users::new(db.open().await);
        assert_eq!(
            users
                .check_password("ana", "a long enough password")
                .await
                .expect("check"),
            Some(Role::Admin)
        );
        assert_eq!(
            users
                .check_password("rafi", "from standard input")
                .await
                .expect("check"),
            Some(Role::Reviewer)
        );
        assert_eq!(
            users
                .check_password("ana", "wrong password")
                .await
                .expect("check"),
            None
        );
        let log = users.audit_log(10).await.expect("audit");
        assert_eq!(log.len(), 2);
        assert!(log
            .iter()
            .all(|e| e.actor == "cli" && e.action == "user_added"));
        db.drop_db().await;
    }
}

#[test]
fn the_manual_page_covers_the_options_and_subcommands() {
    let exe = std::path::Path::new(env!("CARGO_BIN_EXE_jachai-cloud"));
    let mentions = ["\\-\\-check", "\\-\\-config", "jachai\\-cloud\\-user(1)"];
    jachai_testkit::check_man_page(exe, "jachai-cloud", &mentions).expect("manual page");
}
