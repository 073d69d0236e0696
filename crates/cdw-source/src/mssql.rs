//! SQL Server through tiberius.

use crate::{Builder, Cell, Error, Result};
use cdw::{Database, Table};
use columnar::Batch;
use futures_util::TryStreamExt;
use std::collections::HashMap;
use std::time::Duration;
use tiberius::{AuthMethod, Client, ColumnData, Config, EncryptionLevel, FromSql, QueryItem};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct MssqlCdw {
    config: Config,
    target: String,
}

impl MssqlCdw {
    /// `mssql://user:password@host[:port][?encrypt=false|true&trust_cert=true]`.
    pub fn from_url(url: &str) -> Result<MssqlCdw> {
        let bad = || Error::BadUrl(crate_redact(url));
        let rest = url.split_once("://").map(|(_, r)| r).ok_or_else(bad)?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (creds, hostport) = rest.rsplit_once('@').ok_or_else(bad)?;
        let (user, password) = creds.split_once(':').unwrap_or((creds, ""));
        let hostport = hostport.trim_end_matches('/');
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad())?),
            None => (hostport, 1433),
        };
        if host.is_empty() || user.is_empty() {
            return Err(bad());
        }
        let mut config = Config::new();
        config.host(host);
        config.port(port);
        config.authentication(AuthMethod::sql_server(decode(user), decode(password)));
        config.encryption(EncryptionLevel::Required);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=').unwrap_or((pair, "")) {
                ("encrypt", "false") => config.encryption(EncryptionLevel::NotSupported),
                ("encrypt", "true") => config.encryption(EncryptionLevel::Required),
                ("trust_cert", "true") => config.trust_cert(),
                _ => return Err(bad()),
            }
        }
        Ok(MssqlCdw {
            config,
            target: format!("mssql://{host}:{port}"),
        })
    }

    /// An ADO connection string, as SQL Server tools print them.
    pub fn from_ado(ado: &str) -> Result<MssqlCdw> {
        let config =
            Config::from_ado_string(ado).map_err(|e| Error::BadUrl(format!("ADO string: {e}")))?;
        let target = format!("mssql://{}", config.get_addr());
        Ok(MssqlCdw { config, target })
    }

    pub fn describe(&self) -> String {
        self.target.clone()
    }

    async fn connect(&self) -> Result<Client<Compat<TcpStream>>> {
        let unreachable = |message: String| Error::Unreachable {
            target: self.target.clone(),
            message,
        };
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(self.config.get_addr()))
            .await
            .map_err(|_| unreachable("connection timed out".into()))?
            .map_err(|e| unreachable(e.to_string()))?;
        tcp.set_nodelay(true).ok();
        tokio::time::timeout(
            CONNECT_TIMEOUT,
            Client::connect(self.config.clone(), tcp.compat_write()),
        )
        .await
        .map_err(|_| unreachable("login timed out".into()))?
        .map_err(|e| unreachable(e.to_string()))
    }

    pub async fn columns(&self, db: Database) -> Result<HashMap<String, Vec<String>>> {
        let mut client = self.connect().await?;
        let sql = format!(
            "SELECT TABLE_SCHEMA + '.' + TABLE_NAME, COLUMN_NAME FROM [{}].INFORMATION_SCHEMA.COLUMNS ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
            db.name()
        );
        let err = |e: tiberius::error::Error| Error::Read {
            table: format!("{}.INFORMATION_SCHEMA.COLUMNS", db.name()),
            message: e.to_string(),
        };
        let rows = client
            .simple_query(sql)
            .await
            .map_err(err)?
            .into_first_result()
            .await
            .map_err(err)?;
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for row in rows {
            let table: Option<&str> = row.try_get(0).map_err(err)?;
            let column: Option<&str> = row.try_get(1).map_err(err)?;
            if let (Some(t), Some(c)) = (table, column) {
                out.entry(t.to_string()).or_default().push(c.to_string());
            }
        }
        Ok(out)
    }

    pub async fn read_table<F>(
        &self,
        table: &'static Table,
        chunk: usize,
        mut sink: F,
    ) -> Result<u64>
    where
        F: FnMut(Batch, Vec<crate::Reject>) -> Result<(), String> + Send,
    {
        let mut client = self.connect().await?;
        let cols: Vec<String> = table
            .columns
            .iter()
            .map(|c| format!("[{}]", c.name))
            .collect();
        let sql = format!(
            "SELECT {} FROM [{}].{}",
            cols.join(", "),
            table.database.name(),
            table.mssql_name()
        );
        let err = |e: tiberius::error::Error| Error::Read {
            table: table.qualified(),
            message: e.to_string(),
        };
        let mut stream = client.simple_query(sql).await.map_err(err)?;
        let mut builder = Builder::new(table, chunk.min(65_536));
        let mut total = 0u64;
        while let Some(item) = stream.try_next().await.map_err(err)? {
            let QueryItem::Row(row) = item else { continue };
            let cells: Vec<Cell> = row.into_iter().map(cell).collect();
            if cells.len() != table.columns.len() {
                return Err(Error::Read {
                    table: table.qualified(),
                    message: format!(
                        "{} columns returned, expected {}",
                        cells.len(),
                        table.columns.len()
                    ),
                });
            }
            builder.push(cells);
            total += 1;
            if builder.len() >= chunk {
                let (batch, rejects) = builder.take();
                sink(batch, rejects).map_err(Error::Sink)?;
            }
        }
        if !builder.is_empty() || total == 0 {
            let (batch, rejects) = builder.take();
            sink(batch, rejects).map_err(Error::Sink)?;
        }
        Ok(total)
    }
}

/// Maps a TDS value onto a cell.
pub(crate) fn cell(data: ColumnData<'static>) -> Cell {
    let opt = |c: Option<Cell>| c.unwrap_or(Cell::Null);
    match &data {
        ColumnData::U8(v) => opt(v.map(|x| Cell::Int(x.into()))),
        ColumnData::I16(v) => opt(v.map(|x| Cell::Int(x.into()))),
        ColumnData::I32(v) => opt(v.map(|x| Cell::Int(x.into()))),
        ColumnData::I64(v) => opt(v.map(Cell::Int)),
        ColumnData::F32(v) => opt(v.map(|x| Cell::Float(x.into()))),
        ColumnData::F64(v) => opt(v.map(Cell::Float)),
        ColumnData::Bit(v) => opt(v.map(Cell::Bool)),
        ColumnData::String(v) => opt(v.as_ref().map(|s| Cell::Text(s.to_string()))),
        ColumnData::Numeric(v) => opt(v.map(|n| Cell::Float(f64::from(n)))),
        ColumnData::Guid(v) => opt(v.map(|g| Cell::Text(g.to_string()))),
        ColumnData::Binary(v) => opt(v
            .as_ref()
            .map(|b| Cell::Text(String::from_utf8_lossy(b).into_owned()))),
        ColumnData::Xml(v) => opt(v.as_ref().map(|x| Cell::Text(x.to_string()))),
        ColumnData::Date(_) => match chrono::NaiveDate::from_sql(&data) {
            Ok(Some(d)) => Cell::Date(d),
            Ok(None) => Cell::Null,
            Err(e) => Cell::Text(e.to_string()),
        },
        ColumnData::Time(_) => match chrono::NaiveTime::from_sql(&data) {
            Ok(Some(t)) => Cell::Text(t.to_string()),
            _ => Cell::Null,
        },
        ColumnData::DateTime(_) | ColumnData::SmallDateTime(_) | ColumnData::DateTime2(_) => {
            match chrono::NaiveDateTime::from_sql(&data) {
                Ok(Some(t)) => Cell::Timestamp(t),
                Ok(None) => Cell::Null,
                Err(e) => Cell::Text(e.to_string()),
            }
        }
        ColumnData::DateTimeOffset(_) => match chrono::DateTime::<chrono::Utc>::from_sql(&data) {
            Ok(Some(t)) => Cell::Timestamp(t.naive_utc()),
            Ok(None) => Cell::Null,
            Err(e) => Cell::Text(e.to_string()),
        },
    }
}

fn decode(s: &str) -> String {
    // Minimal percent-decoding for credentials in URLs.
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn crate_redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_redact() {
        let m = MssqlCdw::from_url("mssql://sa:p%40ss@db.example:14330?encrypt=false").unwrap();
        assert_eq!(m.describe(), "mssql://db.example:14330");
        let err = MssqlCdw::from_url("mssql://sa:secret@host:notaport")
            .err()
            .unwrap();
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(MssqlCdw::from_url("mssql://host").is_err());
        assert!(MssqlCdw::from_url("mssql://sa:x@host?bogus=1").is_err());
        assert_eq!(decode("p%40ss"), "p@ss");
        let ado = MssqlCdw::from_ado("server=tcp:127.0.0.1,1433;user=sa;password=x;encrypt=false")
            .unwrap();
        assert_eq!(ado.describe(), "mssql://127.0.0.1:1433");
    }

    #[test]
    fn tds_values_map_to_cells() {
        assert!(matches!(cell(ColumnData::I16(Some(508))), Cell::Int(508)));
        assert!(matches!(
            cell(ColumnData::Bit(Some(true))),
            Cell::Bool(true)
        ));
        assert!(matches!(cell(ColumnData::I32(None)), Cell::Null));
        assert!(
            matches!(cell(ColumnData::String(Some("x".into()))), Cell::Text(ref s) if s == "x")
        );
        let n = tiberius::numeric::Numeric::new_with_scale(12345, 2);
        assert!(
            matches!(cell(ColumnData::Numeric(Some(n))), Cell::Float(x) if (x - 123.45).abs() < 1e-9)
        );
    }
}
