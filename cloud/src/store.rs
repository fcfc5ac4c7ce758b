//! The cloud database through `sqlx::Any`: SQLite by default, PostgreSQL with the same SQL. Every write that
//! leads to an ack happens inside one transaction per ingest batch; the ack is sent after `commit`.

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Connection, Executor, Row, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// Schema migrations, applied in order and recorded in `cloud_migrations`. The same files run on both
/// backends (see the header of `migrations/0001_initial.sql`).
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_initial.sql")),
    (2, include_str!("../migrations/0002_http.sql")),
    (3, include_str!("../migrations/0003_outbox.sql")),
    (4, include_str!("../migrations/0004_enroll.sql")),
    (5, include_str!("../migrations/0005_check_cache.sql")),
];

/// A database error with what the store was doing.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {action}: {source}")]
    Db {
        action: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("unsupported database URL {0:?} (sqlite:… or postgres://…)")]
    Url(String),
    #[error("stored data is inconsistent: {0}")]
    Inconsistent(String),
}

pub(crate) trait Ctx<T> {
    fn ctx(self, action: &'static str) -> Result<T, StoreError>;
}

impl<T> Ctx<T> for Result<T, sqlx::Error> {
    fn ctx(self, action: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Db { action, source })
    }
}

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The pool and its backend.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Store {
    /// Connects, sets SQLite up for durability (WAL, `synchronous=FULL`) and applies the migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::Url(url.to_string()));
        };
        let url = if backend == Backend::Sqlite && !url.contains("mode=") {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}mode=rwc")
        } else {
            url.to_string()
        };
        let opts = AnyConnectOptions::from_str(&url).ctx("parsing the URL")?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 8 })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await
            .ctx("connecting")?;
        let store = Store { pool, backend };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a transaction.
    pub async fn begin(&self) -> Result<Transaction<'static, Any>, StoreError> {
        self.pool.begin().await.ctx("beginning a transaction")
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.ctx("acquiring a connection")?;
        (&mut *conn).execute("CREATE TABLE IF NOT EXISTS cloud_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            .await
            .ctx("creating cloud_migrations")?;
        for &(version, sql) in MIGRATIONS {
            // Several instances may start together: the first to insert the version row applies the
            // migration in the same transaction; the others find the row (or fail on it and re-check).
            for attempt in 0..3 {
                let mut tx = conn.begin().await.ctx("beginning a migration")?;
                let done: Option<i64> =
                    sqlx::query_scalar("SELECT version FROM cloud_migrations WHERE version = $1")
                        .bind(version)
                        .fetch_optional(&mut *tx)
                        .await
                        .ctx("reading cloud_migrations")?;
                if done.is_some() {
                    break;
                }
                let applied = async {
                    sqlx::query(
                        "INSERT INTO cloud_migrations (version, applied_at) VALUES ($1, $2)",
                    )
                    .bind(version)
                    .bind(now())
                    .execute(&mut *tx)
                    .await?;
                    for stmt in split_sql(sql) {
                        (&mut *tx).execute(stmt.as_str()).await?;
                    }
                    tx.commit().await
                }
                .await;
                match applied {
                    Ok(()) => break,
                    Err(e) if attempt < 2 => {
                        tracing::warn!(version, error = %e, "migration raced another instance; checking again");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Err(e) => {
                        return Err(StoreError::Db {
                            action: "applying a migration",
                            source: e,
                        })
                    }
                }
            }
        }
        Ok(())
    }

    /// Rows in `cases` for one kiosk: (seq, case_id), ordered by seq.
    pub async fn cases_of(&self, kiosk: &str) -> Result<Vec<(u64, String)>, StoreError> {
        let rows = sqlx::query("SELECT seq, case_id FROM cases WHERE kiosk = $1 ORDER BY seq")
            .bind(kiosk)
            .fetch_all(&self.pool)
            .await
            .ctx("listing cases")?;
        rows.iter()
            .map(|r| {
                let seq: i64 = r.try_get(0).ctx("reading seq")?;
                let id: String = r.try_get(1).ctx("reading case_id")?;
                Ok((
                    u64::try_from(seq)
                        .map_err(|_| StoreError::Inconsistent(format!("negative seq {seq}")))?,
                    id,
                ))
            })
            .collect()
    }

    /// A single number from a query without parameters (counts in tests and metrics).
    pub async fn count(&self, sql: &str) -> Result<i64, StoreError> {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&self.pool)
            .await
            .ctx("counting")
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Splits a migration file into statements: `;` at the end of a line ends one; `--` comment lines dropped.
fn split_sql(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in sql.lines() {
        let t = line.trim();
        if t.starts_with("--") || t.is_empty() {
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
        if t.ends_with(';') {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn splits_statements() {
        let s =
            super::split_sql("-- c\nCREATE TABLE a (x BIGINT);\n\nCREATE TABLE b (\n y TEXT\n);\n");
        assert_eq!(s.len(), 2);
        assert!(s[1].contains("y TEXT"));
    }
}
