//! Plain columnar batches.
//!
//! The CDW source produces them, the ETL turns them into polars frames and
//! back, and the serving store loads them. Keeping this type free of polars
//! lets the web crate (which links the store) stay polars-free.

use chrono::{NaiveDate, NaiveDateTime};
use std::fmt;

/// The logical type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Int,
    Float,
    Bool,
    Text,
    Date,
    Timestamp,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::Bool => "bool",
            Kind::Text => "text",
            Kind::Date => "date",
            Kind::Timestamp => "timestamp",
        })
    }
}

/// The values of one column; `None` is SQL NULL.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    Text(Vec<Option<String>>),
    Date(Vec<Option<NaiveDate>>),
    Timestamp(Vec<Option<NaiveDateTime>>),
}

impl Values {
    pub fn empty(kind: Kind, capacity: usize) -> Values {
        match kind {
            Kind::Int => Values::Int(Vec::with_capacity(capacity)),
            Kind::Float => Values::Float(Vec::with_capacity(capacity)),
            Kind::Bool => Values::Bool(Vec::with_capacity(capacity)),
            Kind::Text => Values::Text(Vec::with_capacity(capacity)),
            Kind::Date => Values::Date(Vec::with_capacity(capacity)),
            Kind::Timestamp => Values::Timestamp(Vec::with_capacity(capacity)),
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Values::Int(_) => Kind::Int,
            Values::Float(_) => Kind::Float,
            Values::Bool(_) => Kind::Bool,
            Values::Text(_) => Kind::Text,
            Values::Date(_) => Kind::Date,
            Values::Timestamp(_) => Kind::Timestamp,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Values::Int(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::Bool(v) => v.len(),
            Values::Text(v) => v.len(),
            Values::Date(v) => v.len(),
            Values::Timestamp(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether row `i` is NULL.
    pub fn is_null(&self, i: usize) -> bool {
        match self {
            Values::Int(v) => v[i].is_none(),
            Values::Float(v) => v[i].is_none(),
            Values::Bool(v) => v[i].is_none(),
            Values::Text(v) => v[i].is_none(),
            Values::Date(v) => v[i].is_none(),
            Values::Timestamp(v) => v[i].is_none(),
        }
    }

    /// Appends the values of `other`, which must be of the same kind.
    pub fn extend(&mut self, other: Values) -> Result<(), Error> {
        match (self, other) {
            (Values::Int(a), Values::Int(b)) => a.extend(b),
            (Values::Float(a), Values::Float(b)) => a.extend(b),
            (Values::Bool(a), Values::Bool(b)) => a.extend(b),
            (Values::Text(a), Values::Text(b)) => a.extend(b),
            (Values::Date(a), Values::Date(b)) => a.extend(b),
            (Values::Timestamp(a), Values::Timestamp(b)) => a.extend(b),
            (a, b) => {
                return Err(Error::KindMismatch {
                    column: String::new(),
                    expected: a.kind(),
                    found: b.kind(),
                });
            }
        }
        Ok(())
    }
}

/// A named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub values: Values,
}

impl Column {
    pub fn new(name: impl Into<String>, values: Values) -> Column {
        Column {
            name: name.into(),
            values,
        }
    }
}

/// Columns of equal length.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch {
    columns: Vec<Column>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Error {
    #[error("column `{column}` has {found} rows, expected {expected}")]
    Ragged {
        column: String,
        expected: usize,
        found: usize,
    },
    #[error("column `{column}` is {found}, expected {expected}")]
    KindMismatch {
        column: String,
        expected: Kind,
        found: Kind,
    },
    #[error("duplicate column `{0}`")]
    Duplicate(String),
    #[error("missing column `{0}`")]
    Missing(String),
}

impl Batch {
    /// Builds a batch, checking that every column has the same length and
    /// that names are unique.
    pub fn new(columns: Vec<Column>) -> Result<Batch, Error> {
        if let Some(first) = columns.first() {
            let n = first.values.len();
            for c in &columns {
                if c.values.len() != n {
                    return Err(Error::Ragged {
                        column: c.name.clone(),
                        expected: n,
                        found: c.values.len(),
                    });
                }
            }
        }
        for (i, c) in columns.iter().enumerate() {
            if columns[..i].iter().any(|o| o.name == c.name) {
                return Err(Error::Duplicate(c.name.clone()));
            }
        }
        Ok(Batch { columns })
    }

    pub fn num_rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.values.len())
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    pub fn into_columns(self) -> Vec<Column> {
        self.columns
    }

    pub fn column(&self, name: &str) -> Result<&Column, Error> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| Error::Missing(name.to_string()))
    }

    /// Appends the rows of `other`, whose columns must match by name, order
    /// and kind.
    pub fn append(&mut self, other: Batch) -> Result<(), Error> {
        if other.columns.is_empty() {
            return Ok(());
        }
        if self.columns.is_empty() {
            *self = other;
            return Ok(());
        }
        if other.columns.len() != self.columns.len() {
            return Err(Error::Missing(format!(
                "{} columns, expected {}",
                other.columns.len(),
                self.columns.len()
            )));
        }
        for (a, b) in self.columns.iter_mut().zip(other.columns) {
            if a.name != b.name {
                return Err(Error::Missing(a.name.clone()));
            }
            let (expected, found) = (a.values.kind(), b.values.kind());
            a.values.extend(b.values).map_err(|_| Error::KindMismatch {
                column: a.name.clone(),
                expected,
                found,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(name: &str, v: &[Option<i64>]) -> Column {
        Column::new(name, Values::Int(v.to_vec()))
    }

    #[test]
    fn ragged_and_duplicate_columns_are_rejected() {
        let err = Batch::new(vec![ints("a", &[Some(1)]), ints("b", &[Some(1), None])]);
        assert!(matches!(err, Err(Error::Ragged { found: 2, .. })));
        let err = Batch::new(vec![ints("a", &[Some(1)]), ints("a", &[Some(2)])]);
        assert_eq!(err, Err(Error::Duplicate("a".into())));
    }

    #[test]
    fn append_checks_names_and_kinds() {
        let mut b = Batch::new(vec![ints("a", &[Some(1)])]).unwrap();
        b.append(Batch::new(vec![ints("a", &[None, Some(3)])]).unwrap())
            .unwrap();
        assert_eq!(b.num_rows(), 3);
        assert!(b.column("a").unwrap().values.is_null(1));
        let wrong = Batch::new(vec![Column::new("a", Values::Text(vec![None]))]).unwrap();
        assert!(matches!(
            b.append(wrong),
            Err(Error::KindMismatch {
                expected: Kind::Int,
                found: Kind::Text,
                ..
            })
        ));
    }
}
