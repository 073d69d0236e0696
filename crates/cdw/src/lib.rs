//! The CDW contract shared by the mock generator and the ETL.
//!
//! The Corporate Data Warehouse is SQL Server shaped: two databases (`CDWWork`
//! for VistA-sourced data, `CDWWork2` for Oracle Health / Cerner Millennium),
//! each with schemas (`SPatient`, `Dim`, `Vital`, …) holding tables. This crate
//! describes every table the project reads or writes — database, schema, name,
//! columns and SQL Server types — so that the generator creates exactly that
//! shape and the ETL can verify a source before it extracts from it.
//!
//! Two physical backends carry the same catalog:
//! - SQL Server: `[Schema].[Table]` inside the database.
//! - SQLite (the embedded default): one file per database, `CDWWork.sqlite` and
//!   `CDWWork2.sqlite`, whose tables are literally named `Schema.Table`
//!   (so `"SPatient.SPatient"` in SQLite is `[SPatient].[SPatient]` in SQL
//!   Server). [`Table::sqlite_name`] and [`Table::mssql_name`] render both.
//!
//! The column lists are the union of what the reference ETL reads, plus the
//! documented extensions listed in `docs/cdw-schema.md`.

pub mod catalog;

use std::fmt;

/// One of the two CDW databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Database {
    /// VistA-sourced data.
    CdwWork,
    /// Oracle Health (Cerner Millennium)-sourced data.
    CdwWork2,
}

impl Database {
    pub const ALL: [Database; 2] = [Database::CdwWork, Database::CdwWork2];

    /// The database name as SQL Server knows it.
    pub fn name(self) -> &'static str {
        match self {
            Database::CdwWork => "CDWWork",
            Database::CdwWork2 => "CDWWork2",
        }
    }

    /// File name of the embedded (SQLite) form of this database.
    pub fn sqlite_file_name(self) -> &'static str {
        match self {
            Database::CdwWork => "CDWWork.sqlite",
            Database::CdwWork2 => "CDWWork2.sqlite",
        }
    }

    /// Lower-case source-system tag used in lake paths (`bronze/cdwwork/…`).
    pub fn source_tag(self) -> &'static str {
        match self {
            Database::CdwWork => "cdwwork",
            Database::CdwWork2 => "cdwwork2",
        }
    }

    /// Every table of this database, in catalog order.
    pub fn tables(self) -> impl Iterator<Item = &'static Table> {
        catalog::ALL
            .iter()
            .copied()
            .filter(move |t| t.database == self)
    }
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A SQL Server column type, as declared in the CDW.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlType {
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Bit,
    /// `DECIMAL(precision, scale)`
    Decimal(u8, u8),
    /// `NUMERIC(precision, scale)`; scale 0 renders as `NUMERIC(p)`.
    Numeric(u8, u8),
    /// `CHAR(n)`
    Char(u16),
    /// `VARCHAR(n)`; `None` is `VARCHAR(MAX)`.
    VarChar(Option<u16>),
    /// `NVARCHAR(n)`; `None` is `NVARCHAR(MAX)`.
    NVarChar(Option<u16>),
    Date,
    DateTime,
    /// `DATETIME2(fractional-second precision)`
    DateTime2(u8),
}

/// The broad kind of value a column holds, independent of width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueKind {
    Integer,
    Bool,
    Decimal,
    Text,
    Date,
    DateTime,
}

impl SqlType {
    pub fn kind(self) -> ValueKind {
        match self {
            SqlType::TinyInt | SqlType::SmallInt | SqlType::Int | SqlType::BigInt => {
                ValueKind::Integer
            }
            SqlType::Bit => ValueKind::Bool,
            SqlType::Decimal(..) | SqlType::Numeric(..) => ValueKind::Decimal,
            SqlType::Char(_) | SqlType::VarChar(_) | SqlType::NVarChar(_) => ValueKind::Text,
            SqlType::Date => ValueKind::Date,
            SqlType::DateTime | SqlType::DateTime2(_) => ValueKind::DateTime,
        }
    }

    /// Maximum text length in characters, when the type is bounded text.
    pub fn max_len(self) -> Option<usize> {
        match self {
            SqlType::Char(n) => Some(n as usize),
            SqlType::VarChar(Some(n)) | SqlType::NVarChar(Some(n)) => Some(n as usize),
            _ => None,
        }
    }

    /// Inclusive integer range the type accepts.
    pub fn int_range(self) -> Option<(i64, i64)> {
        match self {
            SqlType::TinyInt => Some((0, 255)),
            SqlType::SmallInt => Some((i16::MIN as i64, i16::MAX as i64)),
            SqlType::Int => Some((i32::MIN as i64, i32::MAX as i64)),
            SqlType::BigInt => Some((i64::MIN, i64::MAX)),
            SqlType::Bit => Some((0, 1)),
            _ => None,
        }
    }
}

impl fmt::Display for SqlType {
    /// Renders the SQL Server declaration, e.g. `VARCHAR(50)`, `DATETIME2(3)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SqlType::TinyInt => f.write_str("TINYINT"),
            SqlType::SmallInt => f.write_str("SMALLINT"),
            SqlType::Int => f.write_str("INT"),
            SqlType::BigInt => f.write_str("BIGINT"),
            SqlType::Bit => f.write_str("BIT"),
            SqlType::Decimal(p, s) => write!(f, "DECIMAL({p},{s})"),
            SqlType::Numeric(p, 0) => write!(f, "NUMERIC({p})"),
            SqlType::Numeric(p, s) => write!(f, "NUMERIC({p},{s})"),
            SqlType::Char(n) => write!(f, "CHAR({n})"),
            SqlType::VarChar(Some(n)) => write!(f, "VARCHAR({n})"),
            SqlType::VarChar(None) => f.write_str("VARCHAR(MAX)"),
            SqlType::NVarChar(Some(n)) => write!(f, "NVARCHAR({n})"),
            SqlType::NVarChar(None) => f.write_str("NVARCHAR(MAX)"),
            SqlType::Date => f.write_str("DATE"),
            SqlType::DateTime => f.write_str("DATETIME"),
            // 7 is SQL Server's default precision, declared as bare `DATETIME2`.
            SqlType::DateTime2(7) => f.write_str("DATETIME2"),
            SqlType::DateTime2(p) => write!(f, "DATETIME2({p})"),
        }
    }
}

/// Error parsing a SQL Server type declaration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unrecognised SQL Server type declaration {0:?}")]
pub struct ParseSqlTypeError(pub String);

impl std::str::FromStr for SqlType {
    type Err = ParseSqlTypeError;

    /// Parses a declaration as SQL Server (or SQLite's `PRAGMA table_info`)
    /// reports it, case-insensitively: `varchar(50)`, `DECIMAL(10, 2)`, …
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseSqlTypeError(s.to_string());
        let norm: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        let norm = norm.to_ascii_uppercase();
        let (base, args) = match norm.find('(') {
            Some(i) if norm.ends_with(')') => (&norm[..i], Some(&norm[i + 1..norm.len() - 1])),
            Some(_) => return Err(err()),
            None => (norm.as_str(), None),
        };
        let nums = |a: &str| -> Result<Vec<u16>, ParseSqlTypeError> {
            a.split(',')
                .map(|x| x.parse::<u16>().map_err(|_| err()))
                .collect()
        };
        let t = match (base, args) {
            ("TINYINT", None) => SqlType::TinyInt,
            ("SMALLINT", None) => SqlType::SmallInt,
            ("INT", None) | ("INTEGER", None) => SqlType::Int,
            ("BIGINT", None) => SqlType::BigInt,
            ("BIT", None) => SqlType::Bit,
            ("DATE", None) => SqlType::Date,
            ("DATETIME", None) => SqlType::DateTime,
            ("DATETIME2", None) => SqlType::DateTime2(7),
            ("DATETIME2", Some(a)) => match nums(a)?.as_slice() {
                [p] if *p <= 7 => SqlType::DateTime2(*p as u8),
                _ => return Err(err()),
            },
            ("DECIMAL" | "NUMERIC", Some(a)) => {
                let v = nums(a)?;
                let (p, sc) = match v.as_slice() {
                    [p] => (*p, 0),
                    [p, sc] => (*p, *sc),
                    _ => return Err(err()),
                };
                if p == 0 || p > 38 || sc > p {
                    return Err(err());
                }
                if base == "DECIMAL" {
                    SqlType::Decimal(p as u8, sc as u8)
                } else {
                    SqlType::Numeric(p as u8, sc as u8)
                }
            }
            ("CHAR", Some(a)) => match nums(a)?.as_slice() {
                [n] if *n > 0 => SqlType::Char(*n),
                _ => return Err(err()),
            },
            ("VARCHAR" | "NVARCHAR", Some(a)) => {
                let n = if a == "MAX" {
                    None
                } else {
                    match nums(a)?.as_slice() {
                        [n] if *n > 0 => Some(*n),
                        _ => return Err(err()),
                    }
                };
                if base == "VARCHAR" {
                    SqlType::VarChar(n)
                } else {
                    SqlType::NVarChar(n)
                }
            }
            _ => return Err(err()),
        };
        Ok(t)
    }
}

/// One column of a CDW table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub sql_type: SqlType,
}

impl Column {
    pub const fn new(name: &'static str, sql_type: SqlType) -> Self {
        Column { name, sql_type }
    }
}

/// One CDW table. The first column is its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    pub database: Database,
    pub schema: &'static str,
    pub name: &'static str,
    pub columns: &'static [Column],
}

impl Table {
    /// `Schema.Table`, the name used everywhere in docs, logs and SQLite.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// The table reference as written in SQLite SQL: `"Schema.Table"`.
    pub fn sqlite_name(&self) -> String {
        format!("\"{}.{}\"", self.schema, self.name)
    }

    /// The table reference as written in SQL Server SQL: `[Schema].[Table]`.
    pub fn mssql_name(&self) -> String {
        format!("[{}].[{}]", self.schema, self.name)
    }

    /// The key column (always the first).
    pub fn key(&self) -> &'static Column {
        &self.columns[0]
    }

    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Whether this is a dimension (reference) table rather than a fact table.
    pub fn is_dimension(&self) -> bool {
        matches!(self.schema, "Dim" | "NDimMill" | "SStaff")
            || (self.schema == "ImmunizationMill" && self.name == "VaccineCode")
    }
}

/// Finds a table by database and `Schema.Table` name (case-insensitive).
pub fn find(database: Database, qualified: &str) -> Option<&'static Table> {
    database
        .tables()
        .find(|t| t.qualified().eq_ignore_ascii_case(qualified))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_declarations_round_trip_through_display_and_parse() {
        for t in catalog::ALL {
            for c in t.columns {
                let text = c.sql_type.to_string();
                let back: SqlType = text.parse().unwrap();
                assert_eq!(back, c.sql_type, "{}.{}", t.qualified(), c.name);
            }
        }
    }

    #[test]
    fn parse_accepts_whitespace_and_case_and_rejects_garbage() {
        assert_eq!("decimal(10, 2)".parse(), Ok(SqlType::Decimal(10, 2)));
        assert_eq!("varchar(max)".parse(), Ok(SqlType::VarChar(None)));
        assert_eq!("NUMERIC(9)".parse(), Ok(SqlType::Numeric(9, 0)));
        for bad in [
            "",
            "VARCHAR",
            "VARCHAR(0)",
            "DECIMAL(2,5)",
            "INT(4",
            "BLOB",
            "CHAR(x)",
        ] {
            assert!(bad.parse::<SqlType>().is_err(), "{bad}");
        }
    }

    #[test]
    fn catalog_has_unique_tables_and_columns() {
        let mut seen = std::collections::HashSet::new();
        for t in catalog::ALL {
            assert!(
                seen.insert((t.database, t.qualified())),
                "{}",
                t.qualified()
            );
            let mut cols = std::collections::HashSet::new();
            for c in t.columns {
                assert!(cols.insert(c.name), "{}.{}", t.qualified(), c.name);
            }
            assert!(
                t.key().name.ends_with("SID") || t.key().name == "Sta3n",
                "{}",
                t.qualified()
            );
        }
        assert_eq!(Database::CdwWork.tables().count(), 41);
        assert_eq!(Database::CdwWork2.tables().count(), 8);
    }

    #[test]
    fn names_render_per_dialect() {
        let t = find(Database::CdwWork, "spatient.spatient").unwrap();
        assert_eq!(t.sqlite_name(), "\"SPatient.SPatient\"");
        assert_eq!(t.mssql_name(), "[SPatient].[SPatient]");
        assert!(find(Database::CdwWork2, "SPatient.SPatient").is_none());
    }
}
