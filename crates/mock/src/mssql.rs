//! `mock load --mssql`: copies a generated CDW into SQL Server through
//! tiberius — creates the `CDWWork`/`CDWWork2` databases, their schemas and
//! tables with the catalog's exact types, then loads every row.
//!
//! Rows are sent as multi-row `INSERT … VALUES` batches (SQL Server accepts at
//! most 1,000 rows per VALUES list) with every value rendered as a typed
//! T-SQL literal, so the statement text is the whole contract and is unit
//! tested here without a server.
//!
//! [`drive`] produces the statement sequence once, for two [`Executor`]s:
//! [`load`] runs it through tiberius, [`plan`] records it. The integration
//! test `tests/mssql_load.rs` runs [`load`] against an embedded mock TDS
//! server and checks it sends exactly what [`plan`] computes.

use crate::value::{self, Value};
use anyhow::{Context, Result};
use cdw::{Database, SqlType, Table, ValueKind};
use futures_util::TryStreamExt;
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{Connection, Row, SqliteConnection, TypeInfo, ValueRef};
use std::path::Path;
use std::time::Duration;
use tiberius::{Client, Config};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

/// Rows per INSERT statement (SQL Server's VALUES limit is 1,000).
pub const BATCH_ROWS: usize = 1000;

/// `CREATE DATABASE` guarded so reruns are harmless.
pub fn create_database_sql(db: Database) -> String {
    format!("IF DB_ID(N'{0}') IS NULL CREATE DATABASE [{0}]", db.name())
}

/// Schema creation statements for a database (run inside it).
pub fn create_schemas_sql(db: Database) -> Vec<String> {
    let mut schemas: Vec<&str> = db.tables().map(|t| t.schema).collect();
    schemas.sort_unstable();
    schemas.dedup();
    schemas
        .into_iter()
        .map(|s| format!("IF SCHEMA_ID(N'{s}') IS NULL EXEC(N'CREATE SCHEMA [{s}]')"))
        .collect()
}

/// Drop-and-create for one table, key first and NOT NULL.
pub fn create_table_sql(t: &Table) -> String {
    let cols: Vec<String> = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                "[{}] {}{}",
                c.name,
                c.sql_type,
                if i == 0 {
                    " NOT NULL PRIMARY KEY"
                } else {
                    " NULL"
                }
            )
        })
        .collect();
    format!(
        "IF OBJECT_ID(N'{q}', N'U') IS NOT NULL DROP TABLE {q};\nCREATE TABLE {q} (\n  {}\n)",
        cols.join(",\n  "),
        q = t.mssql_name()
    )
}

/// Renders one value as a T-SQL literal of the column's type.
pub fn literal(sql_type: SqlType, v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => if *b { "1" } else { "0" }.into(),
        Value::Dec(x) => {
            let scale = match sql_type {
                SqlType::Decimal(_, s) | SqlType::Numeric(_, s) => s as usize,
                _ => 6,
            };
            format!("{x:.scale$}")
        }
        Value::Str(s) => text(sql_type, s),
        Value::Text(s) => text(sql_type, s),
        Value::Date(d) => {
            let mut s = String::new();
            value::write_date(&mut s, *d);
            format!("'{s}'")
        }
        Value::DateTime(d) => {
            let mut s = String::new();
            if sql_type.kind() == ValueKind::Date {
                value::write_date(&mut s, d.date());
            } else {
                value::write_datetime(&mut s, *d);
                // ISO 8601 with 'T' is language- and DATEFORMAT-independent.
                s.replace_range(10..11, "T");
            }
            format!("'{s}'")
        }
    }
}

fn text(sql_type: SqlType, s: &str) -> String {
    let prefix = if matches!(sql_type, SqlType::NVarChar(_)) {
        "N"
    } else {
        ""
    };
    format!("{prefix}'{}'", s.replace('\'', "''"))
}

/// One `INSERT … VALUES` statement for up to [`BATCH_ROWS`] rows.
pub fn insert_sql(t: &Table, rows: &[Vec<Value>]) -> String {
    let cols: Vec<String> = t.columns.iter().map(|c| format!("[{}]", c.name)).collect();
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES\n",
        t.mssql_name(),
        cols.join(", ")
    );
    for (i, r) in rows.iter().enumerate() {
        let vals: Vec<String> = t
            .columns
            .iter()
            .zip(r)
            .map(|(c, v)| literal(c.sql_type, v))
            .collect();
        sql.push('(');
        sql.push_str(&vals.join(", "));
        sql.push(')');
        sql.push_str(if i + 1 < rows.len() { ",\n" } else { "\n" });
    }
    sql
}

/// Reads one SQLite cell back into a typed value.
pub fn read_cell(row: &SqliteRow, i: usize, sql_type: SqlType) -> Result<Value> {
    if row.try_get_raw(i)?.is_null() {
        return Ok(Value::Null);
    }
    Ok(match sql_type.kind() {
        ValueKind::Integer => Value::Int(row.try_get::<i64, _>(i)?),
        ValueKind::Bool => Value::Bool(row.try_get::<i64, _>(i)? != 0),
        // NUMERIC affinity stores integral decimals (5.0) as INTEGER.
        ValueKind::Decimal => Value::Dec(match row.try_get_raw(i)?.type_info().name() {
            "INTEGER" => row.try_get::<i64, _>(i)? as f64,
            _ => row.try_get::<f64, _>(i)?,
        }),
        ValueKind::Text => Value::Text(row.try_get::<String, _>(i)?),
        ValueKind::Date => {
            let s: String = row.try_get(i)?;
            Value::Date(chrono::NaiveDate::parse_from_str(
                &s[..10.min(s.len())],
                "%Y-%m-%d",
            )?)
        }
        ValueKind::DateTime => {
            let s: String = row.try_get(i)?;
            Value::DateTime(
                chrono::NaiveDateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S%.f")
                    .or_else(|_| {
                        chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                            .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight"))
                    })
                    .with_context(|| format!("bad timestamp {s:?}"))?,
            )
        }
    })
}

/// Bound on opening the TCP connection (tiberius' own `handshake_timeout`,
/// 15 s by default, covers PreLogin/TLS/Login7 after that).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

async fn connect(cfg: &Config) -> Result<Client<Compat<TcpStream>>> {
    let addr = cfg.get_addr();
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&addr))
        .await
        .map_err(|_| anyhow::anyhow!("timed out after {CONNECT_TIMEOUT:?}"))
        .and_then(|r| r.map_err(anyhow::Error::from))
        .with_context(|| format!("connecting to SQL Server at {addr}"))?;
    tcp.set_nodelay(true)?;
    Client::connect(cfg.clone(), tcp.compat_write())
        .await
        .with_context(|| format!("SQL Server login at {addr} failed"))
}

/// Parses an ADO.NET connection string (`server=tcp:host,1433;user=sa;password=…`).
///
/// Encryption follows tiberius: `encrypt=true` (the default) requires TLS,
/// `encrypt=false` encrypts the login only, `encrypt=DANGER_PLAINTEXT` sends
/// everything in clear (for servers without TLS, such as the test suite's
/// mock TDS server).
pub fn parse_ado(ado: &str) -> Result<Config> {
    let cfg = Config::from_ado_string(ado).context("invalid ADO connection string")?;
    Ok(cfg)
}

/// Where [`drive`] sends the load's statements: [`load`] runs them on SQL
/// Server through tiberius, [`plan`] only records them. Because both go
/// through [`drive`], the statements a test computes with [`plan`] are
/// exactly the ones [`load`] sends, in the same order and sessions.
pub trait Executor {
    /// Starts a new session (a new login) in `db` — `None` is the login's
    /// default database — ending the previous session.
    fn open(&mut self, db: Option<Database>) -> impl Future<Output = Result<()>>;
    /// Runs one batch in the current session and drains its results.
    fn execute(&mut self, sql: String) -> impl Future<Output = Result<()>>;
}

/// The load itself: one session in the default database creating both
/// databases, then one session per database creating its schemas and, table
/// by table, the table and its `INSERT` batches. Rows are streamed from
/// SQLite: memory stays bounded by one batch whatever the table size.
/// Returns rows sent per table.
pub async fn drive<E: Executor>(
    exec: &mut E,
    cdw_dir: &Path,
    mut progress: impl FnMut(&Table, u64),
) -> Result<Vec<(&'static Table, u64)>> {
    exec.open(None).await?;
    for db in Database::ALL {
        exec.execute(create_database_sql(db))
            .await
            .with_context(|| format!("creating database {}", db.name()))?;
    }
    let mut loaded = Vec::new();
    for db in Database::ALL {
        exec.open(Some(db))
            .await
            .with_context(|| format!("opening database {}", db.name()))?;
        for s in create_schemas_sql(db) {
            exec.execute(s)
                .await
                .with_context(|| format!("creating schemas in {}", db.name()))?;
        }
        let path = cdw_dir.join(db.sqlite_file_name());
        let mut src = SqliteConnection::connect_with(
            &SqliteConnectOptions::new().filename(&path).read_only(true),
        )
        .await
        .with_context(|| format!("opening {}", path.display()))?;
        for t in db.tables() {
            exec.execute(create_table_sql(t))
                .await
                .with_context(|| format!("creating table {}.{}", db.name(), t.mssql_name()))?;
            let cols: Vec<String> = t
                .columns
                .iter()
                .map(|c| format!("\"{}\"", c.name))
                .collect();
            let select = format!(
                "SELECT {} FROM {} ORDER BY 1",
                cols.join(", "),
                t.sqlite_name()
            );
            let mut stream = sqlx::query(sqlx::AssertSqlSafe(select)).fetch(&mut src);
            let mut n = 0u64;
            let mut batch: Vec<Vec<Value>> = Vec::with_capacity(BATCH_ROWS);
            while let Some(r) = stream
                .try_next()
                .await
                .with_context(|| format!("reading {} from {}", t.qualified(), path.display()))?
            {
                batch.push(
                    t.columns
                        .iter()
                        .enumerate()
                        .map(|(i, c)| {
                            read_cell(&r, i, c.sql_type)
                                .with_context(|| format!("reading {}.{}", t.qualified(), c.name))
                        })
                        .collect::<Result<Vec<_>>>()?,
                );
                if batch.len() == BATCH_ROWS {
                    send_batch(exec, t, &mut batch, &mut n).await?;
                }
            }
            if !batch.is_empty() {
                send_batch(exec, t, &mut batch, &mut n).await?;
            }
            progress(t, n);
            loaded.push((t, n));
        }
    }
    Ok(loaded)
}

/// Sends one `INSERT` batch and empties it; `n` counts the rows sent so far.
async fn send_batch<E: Executor>(
    exec: &mut E,
    t: &Table,
    batch: &mut Vec<Vec<Value>>,
    n: &mut u64,
) -> Result<()> {
    let first = *n + 1;
    let last = *n + batch.len() as u64;
    exec.execute(insert_sql(t, batch))
        .await
        .with_context(|| format!("loading {} rows {first}..={last}", t.qualified()))?;
    *n = last;
    batch.clear();
    Ok(())
}

/// [`Executor`] on SQL Server: one tiberius connection per session.
struct Tds {
    base: Config,
    client: Option<Client<Compat<TcpStream>>>,
}

impl Executor for Tds {
    async fn open(&mut self, db: Option<Database>) -> Result<()> {
        // Dropping the client closes the previous session's connection.
        self.client = None;
        let mut cfg = self.base.clone();
        if let Some(db) = db {
            cfg.database(db.name());
        }
        self.client = Some(connect(&cfg).await?);
        Ok(())
    }

    async fn execute(&mut self, sql: String) -> Result<()> {
        let client = self.client.as_mut().context("no open session")?;
        client.simple_query(sql).await?.into_results().await?;
        Ok(())
    }
}

/// Loads the CDW in `cdw_dir` (the generator's SQLite files) into the SQL
/// Server named by the ADO.NET connection string `ado` (see [`parse_ado`]).
/// Returns rows loaded per table.
pub async fn load(
    ado: &str,
    cdw_dir: &Path,
    progress: impl FnMut(&Table, u64),
) -> Result<Vec<(&'static Table, u64)>> {
    load_with_config(parse_ado(ado)?, cdw_dir, progress).await
}

/// [`load`] with an already-built tiberius [`Config`] (e.g. to change its
/// handshake or command timeouts).
pub async fn load_with_config(
    cfg: Config,
    cdw_dir: &Path,
    progress: impl FnMut(&Table, u64),
) -> Result<Vec<(&'static Table, u64)>> {
    let mut exec = Tds {
        base: cfg,
        client: None,
    };
    drive(&mut exec, cdw_dir, progress).await
}

/// One session of a load: the database its login names (`None`: the
/// login's default database) and the batches it sends, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub database: Option<Database>,
    pub statements: Vec<String>,
}

/// What [`load`] would send for a CDW, computed without a server.
#[derive(Debug, Clone)]
pub struct Plan {
    pub sessions: Vec<Session>,
    /// Rows per table, as [`load`] returns them.
    pub loaded: Vec<(&'static Table, u64)>,
}

/// [`Executor`] that records instead of executing.
#[derive(Default)]
struct Recorder {
    sessions: Vec<Session>,
}

impl Executor for Recorder {
    async fn open(&mut self, database: Option<Database>) -> Result<()> {
        self.sessions.push(Session {
            database,
            statements: Vec::new(),
        });
        Ok(())
    }

    async fn execute(&mut self, sql: String) -> Result<()> {
        self.sessions
            .last_mut()
            .context("no open session")?
            .statements
            .push(sql);
        Ok(())
    }
}

/// Every session and statement [`load`] sends for the CDW in `cdw_dir`, in
/// order, without a server. Holds all the `INSERT` text in memory: meant for
/// tests and small CDWs.
pub async fn plan(cdw_dir: &Path) -> Result<Plan> {
    let mut rec = Recorder::default();
    let loaded = drive(&mut rec, cdw_dir, |_, _| {}).await?;
    Ok(Plan {
        sessions: rec.sessions,
        loaded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cdw::catalog;
    use chrono::NaiveDate;

    #[test]
    fn literals_are_typed_and_escaped() {
        assert_eq!(
            literal(SqlType::VarChar(Some(10)), &Value::Str("O'Brien")),
            "'O''Brien'"
        );
        assert_eq!(literal(SqlType::NVarChar(None), &Value::Str("x")), "N'x'");
        assert_eq!(literal(SqlType::Decimal(10, 2), &Value::Dec(1.005)), "1.00");
        assert_eq!(literal(SqlType::Bit, &Value::Bool(true)), "1");
        let d = NaiveDate::from_ymd_opt(2026, 2, 7).unwrap();
        assert_eq!(literal(SqlType::Date, &Value::Date(d)), "'2026-02-07'");
        assert_eq!(
            literal(
                SqlType::DateTime2(3),
                &Value::DateTime(d.and_hms_opt(8, 45, 0).unwrap())
            ),
            "'2026-02-07T08:45:00'"
        );
        assert_eq!(literal(SqlType::Int, &Value::Null), "NULL");
    }

    #[test]
    fn ddl_uses_exact_catalog_types() {
        let sql = create_table_sql(&catalog::S_PATIENT_S_PATIENT);
        assert!(sql.starts_with("IF OBJECT_ID(N'[SPatient].[SPatient]', N'U') IS NOT NULL DROP TABLE [SPatient].[SPatient];"));
        assert!(sql.contains("[PatientSID] INT NOT NULL PRIMARY KEY"));
        assert!(sql.contains("[Age] NUMERIC(9) NULL"));
        assert!(sql.contains("[BirthDateTime] DATETIME NULL"));
        let schemas = create_schemas_sql(Database::CdwWork2);
        assert!(
            schemas
                .iter()
                .any(|s| s.contains("CREATE SCHEMA [EncMill]"))
        );
        assert_eq!(
            create_database_sql(Database::CdwWork),
            "IF DB_ID(N'CDWWork') IS NULL CREATE DATABASE [CDWWork]"
        );
    }

    #[test]
    fn insert_batches_render_every_row() {
        let t = &catalog::DIM_STA3N;
        let rows = vec![
            vec![
                Value::Int(508),
                Value::Str("(508) Atlanta, GA"),
                Value::Str("Y"),
            ],
            vec![Value::Int(999), Value::Null, Value::Str("N")],
        ];
        let sql = insert_sql(t, &rows);
        assert_eq!(
            sql,
            "INSERT INTO [Dim].[Sta3n] ([Sta3n], [Sta3nName], [Active]) VALUES\n(508, '(508) Atlanta, GA', 'Y'),\n(999, NULL, 'N')\n"
        );
    }

    #[tokio::test]
    async fn decimals_stored_as_integers_read_back() {
        // SQLite's NUMERIC affinity turns 5.0 into INTEGER 5 on storage.
        let mut c = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        sqlx::query(r#"CREATE TABLE t (k INTEGER PRIMARY KEY, d "DECIMAL(10,2)")"#)
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query("INSERT INTO t VALUES (1, 5.0), (2, 5.25), (3, NULL)")
            .execute(&mut c)
            .await
            .unwrap();
        let rows = sqlx::query("SELECT d FROM t ORDER BY k")
            .fetch_all(&mut c)
            .await
            .unwrap();
        let ty = SqlType::Decimal(10, 2);
        let got: Vec<Value> = rows.iter().map(|r| read_cell(r, 0, ty).unwrap()).collect();
        assert_eq!(got, [Value::Dec(5.0), Value::Dec(5.25), Value::Null]);
    }

    #[test]
    fn bad_connection_strings_are_rejected_clearly() {
        assert!(parse_ado("server=tcp:localhost,1433;user=sa;password=x").is_ok());
        let err = parse_ado("server=tcp:localhost,notaport").unwrap_err();
        assert!(
            format!("{err:#}").contains("invalid ADO connection string"),
            "{err:#}"
        );
    }
}
