//! `mock load --mssql`: copies a generated CDW into SQL Server through
//! tiberius — creates the `CDWWork`/`CDWWork2` databases, their schemas and
//! tables with the catalog's exact types, then loads every row.
//!
//! Rows are sent as multi-row `INSERT … VALUES` batches (SQL Server accepts at
//! most 1,000 rows per VALUES list) with every value rendered as a typed
//! T-SQL literal, so the statement text is the whole contract and is unit
//! tested here without a server.

use crate::value::{self, Value};
use anyhow::{Context, Result};
use cdw::{Database, SqlType, Table, ValueKind};
use futures_util::TryStreamExt;
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{Connection, Row, SqliteConnection, ValueRef};
use std::path::Path;
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
        ValueKind::Decimal => Value::Dec(row.try_get::<f64, _>(i)?),
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

async fn connect(cfg: &Config) -> Result<Client<Compat<TcpStream>>> {
    let tcp = TcpStream::connect(cfg.get_addr())
        .await
        .with_context(|| format!("connecting to SQL Server at {}", cfg.get_addr()))?;
    tcp.set_nodelay(true)?;
    Client::connect(cfg.clone(), tcp.compat_write())
        .await
        .context("SQL Server login failed")
}

/// Parses an ADO.NET connection string (`server=tcp:host,1433;user=sa;password=…`).
pub fn parse_ado(ado: &str) -> Result<Config> {
    let cfg = Config::from_ado_string(ado).context("invalid ADO connection string")?;
    Ok(cfg)
}

/// Loads the CDW in `cdw_dir` (the generator's SQLite files) into SQL Server.
/// Returns rows loaded per table.
pub async fn load(
    ado: &str,
    cdw_dir: &Path,
    mut progress: impl FnMut(&Table, u64),
) -> Result<Vec<(&'static Table, u64)>> {
    let base = parse_ado(ado)?;
    let mut master = connect(&base).await?;
    for db in Database::ALL {
        master
            .simple_query(create_database_sql(db))
            .await?
            .into_results()
            .await?;
    }
    drop(master);
    let mut loaded = Vec::new();
    for db in Database::ALL {
        let mut cfg = base.clone();
        cfg.database(db.name());
        let mut client = connect(&cfg).await?;
        for s in create_schemas_sql(db) {
            client.simple_query(s).await?.into_results().await?;
        }
        let path = cdw_dir.join(db.sqlite_file_name());
        let mut src = SqliteConnection::connect_with(
            &SqliteConnectOptions::new().filename(&path).read_only(true),
        )
        .await
        .with_context(|| format!("opening {}", path.display()))?;
        for t in db.tables() {
            client
                .simple_query(create_table_sql(t))
                .await?
                .into_results()
                .await?;
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
            // Streamed: memory stays bounded by one batch whatever the table size.
            while let Some(r) = stream.try_next().await? {
                batch.push(
                    t.columns
                        .iter()
                        .enumerate()
                        .map(|(i, c)| read_cell(&r, i, c.sql_type))
                        .collect::<Result<Vec<_>>>()?,
                );
                if batch.len() == BATCH_ROWS {
                    client
                        .simple_query(insert_sql(t, &batch))
                        .await?
                        .into_results()
                        .await
                        .with_context(|| format!("loading {}", t.qualified()))?;
                    n += batch.len() as u64;
                    batch.clear();
                }
            }
            if !batch.is_empty() {
                client
                    .simple_query(insert_sql(t, &batch))
                    .await?
                    .into_results()
                    .await
                    .with_context(|| format!("loading {}", t.qualified()))?;
                n += batch.len() as u64;
            }
            progress(t, n);
            loaded.push((t, n));
        }
    }
    Ok(loaded)
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
