//! Conversions between columnar batches and polars frames.

use anyhow::{Result, anyhow};
use chrono::{NaiveDate, NaiveDateTime};
use columnar::{Batch, Column as BCol, Values};
use polars::prelude::*;

const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");

/// A batch as a frame: ints → Int64, floats → Float64, dates → Date,
/// timestamps → Datetime(µs).
pub fn to_frame(batch: &Batch) -> Result<DataFrame> {
    let cols: Vec<Column> = batch
        .columns()
        .iter()
        .map(|c| {
            let name = PlSmallStr::from_str(&c.name);
            let s = match &c.values {
                Values::Int(v) => Series::new(name, v),
                Values::Float(v) => Series::new(name, v),
                Values::Bool(v) => Series::new(name, v),
                Values::Text(v) => Series::new(name, v),
                Values::Date(v) => {
                    let days: Vec<Option<i32>> = v
                        .iter()
                        .map(|d| d.map(|d| (d - EPOCH).num_days() as i32))
                        .collect();
                    Series::new(name, days).cast(&DataType::Date)?
                }
                Values::Timestamp(v) => {
                    let us: Vec<Option<i64>> = v
                        .iter()
                        .map(|t| t.map(|t| t.and_utc().timestamp_micros()))
                        .collect();
                    Series::new(name, us).cast(&DataType::Datetime(TimeUnit::Microseconds, None))?
                }
            };
            Ok(s.into_column())
        })
        .collect::<Result<_>>()?;
    Ok(DataFrame::new(batch.num_rows(), cols)?)
}

fn datetime_to_micros(s: &Series) -> Result<Vec<Option<i64>>> {
    let DataType::Datetime(unit, _) = s.dtype() else {
        return Err(anyhow!("{} is not a datetime", s.name()));
    };
    let unit = *unit;
    let phys = s.cast(&DataType::Int64)?;
    Ok(phys
        .i64()?
        .iter()
        .map(|v| {
            v.map(|x| match unit {
                TimeUnit::Nanoseconds => x / 1000,
                TimeUnit::Microseconds => x,
                TimeUnit::Milliseconds => x * 1000,
            })
        })
        .collect())
}

/// Rows `offset..offset+len` of a frame as a batch.
pub fn to_batch(df: &DataFrame) -> Result<Batch> {
    let cols = df
        .columns()
        .iter()
        .map(|c| {
            let s = c.as_materialized_series();
            let values = match s.dtype() {
                DataType::Boolean => Values::Bool(s.bool()?.iter().collect()),
                DataType::String => {
                    Values::Text(s.str()?.iter().map(|v| v.map(str::to_string)).collect())
                }
                DataType::Float32 | DataType::Float64 => {
                    Values::Float(s.cast(&DataType::Float64)?.f64()?.iter().collect())
                }
                DataType::Date => {
                    let days = s.cast(&DataType::Int32)?;
                    Values::Date(
                        days.i32()?
                            .iter()
                            .map(|d| d.map(|d| EPOCH + chrono::Duration::days(d.into())))
                            .collect(),
                    )
                }
                DataType::Datetime(..) => Values::Timestamp(
                    datetime_to_micros(s)?
                        .into_iter()
                        .map(|us| {
                            us.and_then(|us| {
                                chrono::DateTime::from_timestamp_micros(us).map(|t| t.naive_utc())
                            })
                        })
                        .collect::<Vec<Option<NaiveDateTime>>>(),
                ),
                DataType::Null => Values::Text(vec![None; s.len()]),
                dt if dt.is_integer() => {
                    Values::Int(s.cast(&DataType::Int64)?.i64()?.iter().collect())
                }
                dt => return Err(anyhow!("column {} has unsupported type {dt}", s.name())),
            };
            Ok(BCol::new(s.name().as_str(), values))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Batch::new(cols)?)
}

/// Splits a frame into batches of at most `rows` rows.
pub fn batches(df: &DataFrame, rows: usize) -> impl Iterator<Item = Result<Batch>> + '_ {
    let n = df.height();
    let step = rows.max(1);
    (0..n.div_ceil(step).max(1)).map(move |i| to_batch(&df.slice((i * step) as i64, step)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_every_kind() {
        let t = NaiveDate::from_ymd_opt(2025, 3, 4)
            .unwrap()
            .and_hms_micro_opt(5, 6, 7, 123_456)
            .unwrap();
        let b = Batch::new(vec![
            BCol::new("i", Values::Int(vec![Some(1), None])),
            BCol::new("f", Values::Float(vec![None, Some(2.5)])),
            BCol::new("b", Values::Bool(vec![Some(true), None])),
            BCol::new("s", Values::Text(vec![Some("x".into()), None])),
            BCol::new(
                "d",
                Values::Date(vec![NaiveDate::from_ymd_opt(1899, 12, 31), None]),
            ),
            BCol::new("t", Values::Timestamp(vec![None, Some(t)])),
        ])
        .unwrap();
        let df = to_frame(&b).unwrap();
        assert_eq!(to_batch(&df).unwrap(), b);
        let parts: Vec<Batch> = batches(&df, 1).collect::<Result<_>>().unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].num_rows(), 1);
    }
}
