//! The CDW as a data source.
//!
//! [`CdwSource::open`] takes a URL:
//! - `sqlite://DIR` or a plain directory: the embedded default, `DIR/CDWWork.sqlite`
//!   and `DIR/CDWWork2.sqlite` as written by the mock generator;
//! - `mssql://user:password@host:port[?encrypt=false|true&trust_cert=true]` or an
//!   ADO string (`server=tcp:host,1433;user=…;password=…`): SQL Server through
//!   tiberius, reading `[CDWWork].[Schema].[Table]`.
//!
//! [`CdwSource::verify`] checks every catalog table and column exists before
//! anything is extracted, so a schema mismatch fails the run up front with a
//! list of what is missing. [`CdwSource::read_table`] streams a table in
//! chunks of typed columns. A cell that cannot be read as its declared type
//! (say, text in a DATETIME column of a SQLite extract) becomes NULL and is
//! reported as a [`Reject`], so the row still lands and the bad value is
//! quarantined rather than lost or fatal.

mod mssql;
mod sqlite;
pub mod sqlite_ffi;

use cdw::{Database, Table, ValueKind};
use columnar::{Batch, Column, Kind, Values};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "unsupported CDW URL `{0}`: expected sqlite://DIR, a directory, mssql://… or an ADO connection string"
    )]
    BadUrl(String),
    #[error("CDW file missing: {0} (generate one with `cargo run -p mock -- generate`)")]
    MissingFile(PathBuf),
    #[error("cannot reach the CDW at {target}: {message}")]
    Unreachable { target: String, message: String },
    #[error("CDW schema mismatch:\n  {}", .0.join("\n  "))]
    SchemaMismatch(Vec<String>),
    #[error("reading {table}: {message}")]
    Read { table: String, message: String },
    #[error("{0}")]
    Sink(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A cell that could not be read as its declared type.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    pub table: &'static str,
    /// Value of the table's key column for the row, as text.
    pub key: String,
    pub column: &'static str,
    pub raw: String,
    pub reason: String,
}

/// Where the CDW lives.
pub enum CdwSource {
    Sqlite(sqlite::SqliteCdw),
    Mssql(Box<mssql::MssqlCdw>),
}

/// The columnar kind of a CDW column.
pub fn kind_of(k: ValueKind) -> Kind {
    match k {
        ValueKind::Integer => Kind::Int,
        ValueKind::Bool => Kind::Bool,
        ValueKind::Decimal => Kind::Float,
        ValueKind::Text => Kind::Text,
        ValueKind::Date => Kind::Date,
        ValueKind::DateTime => Kind::Timestamp,
    }
}

impl CdwSource {
    pub async fn open(url: &str) -> Result<CdwSource> {
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("mssql://") || lower.starts_with("sqlserver://") {
            Ok(CdwSource::Mssql(Box::new(mssql::MssqlCdw::from_url(url)?)))
        } else if lower.contains("server=") {
            Ok(CdwSource::Mssql(Box::new(mssql::MssqlCdw::from_ado(url)?)))
        } else if let Some(dir) = url.strip_prefix("sqlite://") {
            Ok(CdwSource::Sqlite(
                sqlite::SqliteCdw::open(dir.as_ref()).await?,
            ))
        } else if !url.contains("://") && !url.is_empty() {
            Ok(CdwSource::Sqlite(
                sqlite::SqliteCdw::open(url.as_ref()).await?,
            ))
        } else {
            Err(Error::BadUrl(url.to_string()))
        }
    }

    /// The SQLite file holding `db`'s tables, for an embedded CDW.
    pub fn sqlite_file(&self, db: Database) -> Option<PathBuf> {
        match self {
            CdwSource::Sqlite(s) => Some(s.dir().join(db.sqlite_file_name())),
            CdwSource::Mssql(_) => None,
        }
    }

    /// A description safe for logs and run records (no password).
    pub fn describe(&self) -> String {
        match self {
            CdwSource::Sqlite(s) => format!("sqlite://{}", s.dir().display()),
            CdwSource::Mssql(m) => m.describe(),
        }
    }

    /// Checks that every catalog table and column exists.
    pub async fn verify(&self) -> Result<()> {
        let mut problems = Vec::new();
        for db in Database::ALL {
            let tables: Vec<&'static Table> = db.tables().collect();
            let found = match self {
                CdwSource::Sqlite(s) => s.columns(db).await?,
                CdwSource::Mssql(m) => m.columns(db).await?,
            };
            for t in tables {
                match found.get(&t.qualified()) {
                    None => {
                        problems.push(format!("{}: table {} is missing", db.name(), t.qualified()))
                    }
                    Some(cols) => {
                        for c in t.columns {
                            if !cols.iter().any(|f| f.eq_ignore_ascii_case(c.name)) {
                                problems.push(format!(
                                    "{}: {}.{} is missing",
                                    db.name(),
                                    t.qualified(),
                                    c.name
                                ));
                            }
                        }
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::SchemaMismatch(problems))
        }
    }

    /// Reads every row of `table`, handing `sink` batches of at most
    /// `chunk_rows` rows (columns in catalog order, kinds per [`kind_of`]) with
    /// the rejects found in them. Returns the number of rows read.
    pub async fn read_table<F>(
        &self,
        table: &'static Table,
        chunk_rows: usize,
        sink: F,
    ) -> Result<u64>
    where
        F: FnMut(Batch, Vec<Reject>) -> Result<(), String> + Send,
    {
        match self {
            CdwSource::Sqlite(s) => s.read_table(table, chunk_rows.max(1), sink).await,
            CdwSource::Mssql(m) => m.read_table(table, chunk_rows.max(1), sink).await,
        }
    }
}

/// Accumulates rows of one table into typed columns: the decoding rules
/// (which cells fit which column, and the rejects for those that do not)
/// every reader of the CDW applies, including readers outside this crate.
pub struct Builder {
    table: &'static Table,
    values: Vec<Values>,
    rejects: Vec<Reject>,
    rows: usize,
}

/// One decoded cell.
pub enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    Date(chrono::NaiveDate),
    Timestamp(chrono::NaiveDateTime),
}

impl Builder {
    pub fn new(table: &'static Table, capacity: usize) -> Builder {
        Builder {
            table,
            values: table
                .columns
                .iter()
                .map(|c| Values::empty(kind_of(c.sql_type.kind()), capacity))
                .collect(),
            rejects: Vec::new(),
            rows: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends one row; cells that do not fit their column become NULL and
    /// a reject.
    pub fn push(&mut self, cells: Vec<Cell>) {
        let key = match cells.first() {
            Some(Cell::Int(i)) => i.to_string(),
            Some(Cell::Text(s)) => s.clone(),
            _ => String::new(),
        };
        for (i, cell) in cells.into_iter().enumerate() {
            let col = &self.table.columns[i];
            let mut reject = |raw: String, reason: &str| {
                self.rejects.push(Reject {
                    table: self.table.name,
                    key: key.clone(),
                    column: col.name,
                    raw,
                    reason: reason.to_string(),
                })
            };
            match (&mut self.values[i], cell) {
                (v, Cell::Null) => push_null(v),
                (Values::Int(v), Cell::Int(x)) => v.push(Some(x)),
                (Values::Int(v), Cell::Float(x)) if x.fract() == 0.0 => v.push(Some(x as i64)),
                (Values::Int(v), Cell::Bool(b)) => v.push(Some(b as i64)),
                (Values::Int(v), Cell::Text(s)) => match s.trim().parse::<i64>() {
                    Ok(x) => v.push(Some(x)),
                    Err(_) => {
                        v.push(None);
                        reject(s, "not an integer");
                    }
                },
                (Values::Float(v), Cell::Float(x)) => v.push(Some(x)),
                (Values::Float(v), Cell::Int(x)) => v.push(Some(x as f64)),
                (Values::Float(v), Cell::Text(s)) => match s.trim().parse::<f64>() {
                    Ok(x) if x.is_finite() => v.push(Some(x)),
                    _ => {
                        v.push(None);
                        reject(s, "not a number");
                    }
                },
                (Values::Bool(v), Cell::Bool(b)) => v.push(Some(b)),
                (Values::Bool(v), Cell::Int(x)) if x == 0 || x == 1 => v.push(Some(x == 1)),
                (Values::Text(v), Cell::Text(s)) => v.push(Some(s)),
                (Values::Text(v), Cell::Int(x)) => v.push(Some(x.to_string())),
                (Values::Text(v), Cell::Float(x)) => v.push(Some(x.to_string())),
                (Values::Date(v), Cell::Date(d)) => v.push(Some(d)),
                (Values::Date(v), Cell::Timestamp(t)) => v.push(Some(t.date())),
                (Values::Date(v), Cell::Text(s)) => match parse_datetime(&s) {
                    Some(t) => v.push(Some(t.date())),
                    None => {
                        v.push(None);
                        reject(s, "unparseable date");
                    }
                },
                (Values::Timestamp(v), Cell::Timestamp(t)) => v.push(Some(t)),
                (Values::Timestamp(v), Cell::Date(d)) => v.push(d.and_hms_opt(0, 0, 0)),
                (Values::Timestamp(v), Cell::Text(s)) => match parse_datetime(&s) {
                    Some(t) => v.push(Some(t)),
                    None => {
                        v.push(None);
                        reject(s, "unparseable datetime");
                    }
                },
                (v, other) => {
                    let raw = match other {
                        Cell::Int(x) => x.to_string(),
                        Cell::Float(x) => x.to_string(),
                        Cell::Bool(b) => b.to_string(),
                        Cell::Text(s) => s,
                        Cell::Date(d) => d.to_string(),
                        Cell::Timestamp(t) => t.to_string(),
                        Cell::Null => String::new(),
                    };
                    push_null(v);
                    reject(raw, "wrong type for the column");
                }
            }
        }
        self.rows += 1;
    }

    /// Takes the accumulated rows as a batch.
    pub fn take(&mut self) -> (Batch, Vec<Reject>) {
        let columns = self
            .table
            .columns
            .iter()
            .zip(self.values.iter_mut())
            .map(|(c, v)| {
                let fresh = Values::empty(v.kind(), 0);
                Column::new(c.name, std::mem::replace(v, fresh))
            })
            .collect();
        self.rows = 0;
        let batch = Batch::new(columns).expect("builder columns are equal length and unique");
        (batch, std::mem::take(&mut self.rejects))
    }
}

fn push_null(v: &mut Values) {
    match v {
        Values::Int(v) => v.push(None),
        Values::Float(v) => v.push(None),
        Values::Bool(v) => v.push(None),
        Values::Text(v) => v.push(None),
        Values::Date(v) => v.push(None),
        Values::Timestamp(v) => v.push(None),
    }
}

/// Parses the datetime text forms SQL Server extracts use.
pub fn parse_datetime(s: &str) -> Option<chrono::NaiveDateTime> {
    let s = s.trim();
    if let Some(t) = parse_datetime_fast(s.as_bytes()) {
        return Some(t);
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// The common shapes, `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS[.fffffffff]]`
/// (or with `T`), parsed without chrono's format machinery (bronze parses
/// millions). Anything else, or anything out of range, is `None` and left
/// to the chrono formats, which agree with this on every input it accepts.
fn parse_datetime_fast(b: &[u8]) -> Option<chrono::NaiveDateTime> {
    fn num(b: &[u8]) -> Option<u32> {
        let mut v = 0u32;
        for &c in b {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        Some(v)
    }
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let date =
        chrono::NaiveDate::from_ymd_opt(num(&b[0..4])? as i32, num(&b[5..7])?, num(&b[8..10])?)?;
    if b.len() == 10 {
        return date.and_hms_opt(0, 0, 0);
    }
    if b.len() < 16 || (b[10] != b' ' && b[10] != b'T') || b[13] != b':' {
        return None;
    }
    let (h, m) = (num(&b[11..13])?, num(&b[14..16])?);
    if b.len() == 16 {
        // `%Y-%m-%d %H:%M` has no `T` form.
        return if b[10] == b' ' {
            date.and_hms_opt(h, m, 0)
        } else {
            None
        };
    }
    if b.len() < 19 || b[16] != b':' {
        return None;
    }
    let sec = num(&b[17..19])?;
    let nano = match &b[19..] {
        [] => 0,
        // One to nine digits (more, or a bare dot: chrono's business).
        [b'.', frac @ ..] if (1..=9).contains(&frac.len()) => {
            num(frac)? * 10u32.pow(9 - frac.len() as u32)
        }
        _ => return None,
    };
    if sec > 59 {
        // Leap seconds: chrono's rules.
        return None;
    }
    date.and_hms_nano_opt(h, m, sec, nano)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path agrees with the chrono formats wherever it answers.
    #[test]
    fn fast_datetime_parse_agrees_with_chrono() {
        let slow = |s: &str| {
            for f in [
                "%Y-%m-%d %H:%M:%S%.f",
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%d %H:%M",
            ] {
                if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
                    return Some(t);
                }
            }
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        };
        let cases = [
            "2025-01-02 03:04:05.1234567",
            "2025-01-02 03:04:05.123",
            "2025-01-02 03:04:05.000",
            "2025-01-02 03:04:05.5",
            "2025-01-02 03:04:05.123456789",
            "2025-01-02 03:04:05.1234567891",
            "2025-01-02 03:04:05.",
            "2025-01-02T03:04:05",
            "2025-01-02T03:04:05.250",
            "2025-01-02T03:04",
            "2025-01-02 03:04",
            "2025-01-02 23:59:60",
            "2025-01-02 24:00:00",
            "2025-02-29 00:00:00",
            "2024-02-29 00:00:00",
            "2025-13-01",
            "2025-01-02",
            "1899-12-31",
            "0001-01-01 00:00:00",
            "2025-1-02",
            "2025-01-02 3:04:05",
            "2025-01-02 03:04:05Z",
            "2025-01-02 03:04:05 ",
            "+2025-01-02",
            "20250102",
            "3251231.1200",
            "1/2/2025",
            "",
        ];
        for c in cases {
            if let Some(fast) = parse_datetime_fast(c.as_bytes()) {
                assert_eq!(Some(fast), slow(c), "{c}");
            }
            assert_eq!(parse_datetime(c), slow(c.trim()), "{c}");
        }
        assert!(parse_datetime_fast(b"2025-01-02 03:04:05.1234567").is_some());
        assert!(parse_datetime_fast(b"2025-01-02").is_some());
    }

    #[test]
    fn datetimes_parse_in_extract_forms() {
        assert!(parse_datetime("2025-01-02 03:04:05.1234567").is_some());
        assert!(parse_datetime("2025-01-02T03:04:05").is_some());
        assert!(parse_datetime("2025-01-02").is_some());
        assert!(parse_datetime("1/2/2025").is_none());
        assert!(parse_datetime("3251231.1200").is_none());
    }

    #[test]
    fn bad_cells_become_null_and_rejects() {
        let t = &cdw::catalog::DIM_CHARLSON_MAPPING;
        let mut b = Builder::new(t, 4);
        let row = |sid: Cell, weight: Cell, created: Cell| {
            vec![
                sid,
                Cell::Text("CHF".into()),
                weight,
                Cell::Text("I50.9".into()),
                Cell::Null,
                created,
            ]
        };
        b.push(row(
            Cell::Int(1),
            Cell::Int(1),
            Cell::Text("2024-01-02 00:00:00".into()),
        ));
        b.push(row(
            Cell::Int(2),
            Cell::Text("two".into()),
            Cell::Text("3250101".into()),
        ));
        b.push(row(Cell::Text("3".into()), Cell::Float(2.0), Cell::Null));
        let (batch, rejects) = b.take();
        assert_eq!(batch.num_rows(), 3);
        assert_eq!(b.len(), 0);
        assert_eq!(
            batch.column("CharlsonMappingSID").unwrap().values,
            Values::Int(vec![Some(1), Some(2), Some(3)])
        );
        assert_eq!(
            batch.column("CharlsonWeight").unwrap().values,
            Values::Int(vec![Some(1), None, Some(2)])
        );
        assert!(batch.column("CreatedDate").unwrap().values.is_null(1));
        assert_eq!(rejects.len(), 2);
        assert_eq!(
            (
                rejects[0].key.as_str(),
                rejects[0].column,
                rejects[0].raw.as_str()
            ),
            ("2", "CharlsonWeight", "two")
        );
        assert_eq!(rejects[1].reason, "unparseable datetime");
    }
}
