//! Shared helpers of the cloud's integration tests: a fresh database on every backend the machine has
//! (SQLite always; PostgreSQL when `JACHAI_TEST_PG_URL` is set, and required under `CI=true`).
#![allow(dead_code)]

use std::path::PathBuf;

use jachai_cloud::Store;
use sqlx::Connection;

/// One test database; dropped (PostgreSQL) or deleted (SQLite temp dir) afterwards.
pub struct TestDb {
    pub url: String,
    pub label: &'static str,
    pub dir: tempfile::TempDir,
    admin: Option<(String, String)>,
}

impl TestDb {
    pub fn blob_dir(&self) -> PathBuf {
        self.dir.path().join("blobs")
    }

    pub async fn open(&self) -> Store {
        Store::open(&self.url)
            .await
            .unwrap_or_else(|e| panic!("open {}: {e}", self.label))
    }

    /// Drops a PostgreSQL test database (best effort).
    pub async fn drop_db(self) {
        if let Some((admin, name)) = self.admin {
            if let Ok(mut c) = sqlx::AnyConnection::connect(&admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut c)
                    .await;
            }
        }
    }
}

/// The databases to run a test on: a SQLite file, and a fresh PostgreSQL database when available.
pub async fn databases() -> Vec<TestDb> {
    sqlx::any::install_default_drivers();
    let mut out = Vec::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite:{}", dir.path().join("cloud.db").display());
    out.push(TestDb {
        url,
        label: "sqlite",
        dir,
        admin: None,
    });
    if let Some(pg) = pg_database().await {
        out.push(pg);
    }
    out
}

/// A fresh PostgreSQL database, or `None` when there is no server to use (an error under CI).
pub async fn pg_database() -> Option<TestDb> {
    sqlx::any::install_default_drivers();
    let admin = jachai_testkit::test_pg_url().expect("PostgreSQL is required here")?;
    let name = format!("jachai_t_{:016x}", rand::random::<u64>());
    let mut c = sqlx::AnyConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("connect {admin}: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut c)
        .await
        .expect("create database");
    let (base, _) = admin.rsplit_once('/').expect("a database URL has a path");
    let url = format!("{base}/{name}");
    let dir = tempfile::tempdir().expect("tempdir");
    Some(TestDb {
        url,
        label: "postgres",
        dir,
        admin: Some((admin, name)),
    })
}

pub mod enroll;
pub mod http;
pub mod kiosk;
pub mod procs;

/// A fresh PostgreSQL database for a synchronous test (None without a server, an error under CI).
pub fn pg_site() -> Option<TestDb> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(pg_database())
}

/// Drops a test database from a synchronous test.
pub fn drop_blocking(db: TestDb) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(db.drop_db());
}
