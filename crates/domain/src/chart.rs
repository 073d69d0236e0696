//! Line-chart geometry for server-rendered SVG charts (the vitals page):
//! points in, SVG path data and axis ticks out. Pure: no IO, no clock.
//!
//! The x axis is time (oldest left), the y axis the value; the y range is
//! fixed when the chart asks for it (blood pressure 40–200, pain 0–10),
//! else taken from the data and widened to "nice" tick steps.

use chrono::NaiveDateTime;

/// Size and margins of a chart, in SVG user units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChartSpec {
    /// Width of the whole chart.
    pub width: f64,
    /// Height of the whole chart.
    pub height: f64,
    /// Space left of the plot area (y-axis labels).
    pub margin_left: f64,
    /// Space right of the plot area.
    pub margin_right: f64,
    /// Space above the plot area.
    pub margin_top: f64,
    /// Space below the plot area (x-axis labels).
    pub margin_bottom: f64,
    /// Fixed lowest value of the y axis, if any.
    pub y_min: Option<f64>,
    /// Fixed highest value of the y axis, if any.
    pub y_max: Option<f64>,
}

impl ChartSpec {
    /// A chart `width` × `height` with room for axis labels and an
    /// automatic y range.
    pub fn new(width: f64, height: f64) -> ChartSpec {
        ChartSpec {
            width,
            height,
            margin_left: 44.0,
            margin_right: 12.0,
            margin_top: 12.0,
            margin_bottom: 28.0,
            y_min: None,
            y_max: None,
        }
    }

    /// The same chart with a fixed y range.
    pub fn with_y_range(mut self, min: f64, max: f64) -> ChartSpec {
        self.y_min = Some(min);
        self.y_max = Some(max);
        self
    }
}

/// One series to plot: a name and its points (any order).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text, e.g. `Systolic`.
    pub name: String,
    /// `(when, value)` pairs.
    pub points: Vec<(NaiveDateTime, f64)>,
}

/// One plotted point.
#[derive(Debug, Clone, PartialEq)]
pub struct PlottedPoint {
    /// x in SVG units.
    pub x: f64,
    /// y in SVG units.
    pub y: f64,
    /// The value.
    pub value: f64,
    /// When it was taken.
    pub at: NaiveDateTime,
}

/// A series as drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct PlottedSeries {
    /// Legend text.
    pub name: String,
    /// SVG path data (`M x y L x y …`), oldest point first.
    pub path: String,
    /// The points, oldest first.
    pub points: Vec<PlottedPoint>,
}

/// An axis tick: its position (x for the x axis, y for the y axis) and
/// label.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// Position in SVG units.
    pub pos: f64,
    /// Label text.
    pub label: String,
}

/// A chart ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Width of the whole chart.
    pub width: f64,
    /// Height of the whole chart.
    pub height: f64,
    /// Left edge of the plot area.
    pub left: f64,
    /// Right edge of the plot area.
    pub right: f64,
    /// Top edge of the plot area.
    pub top: f64,
    /// Bottom edge of the plot area.
    pub bottom: f64,
    /// The series, in the order given.
    pub series: Vec<PlottedSeries>,
    /// y-axis ticks, lowest value first.
    pub y_ticks: Vec<Tick>,
    /// x-axis ticks (dates), oldest first.
    pub x_ticks: Vec<Tick>,
    /// Lowest value on the y axis.
    pub y_min: f64,
    /// Highest value on the y axis.
    pub y_max: f64,
}

/// A "nice" step (1, 2 or 5 × 10ⁿ) that divides `span` into about
/// `target` intervals.
pub fn nice_step(span: f64, target: u32) -> f64 {
    if !span.is_finite() || span <= 0.0 || target == 0 {
        return 1.0;
    }
    let raw = span / f64::from(target);
    let magnitude = 10f64.powf(raw.log10().floor());
    let norm = raw / magnitude;
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// A number without a trailing `.0`, at most two decimals.
fn label(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{x:.0}")
    } else {
        let s = format!("{x:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Rounds an SVG coordinate to one decimal.
fn coord(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Lays out a line chart; `None` when no series has a finite point.
pub fn line_chart(spec: ChartSpec, series: &[Series]) -> Option<Chart> {
    let all: Vec<(NaiveDateTime, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|(_, v)| v.is_finite())
        .collect();
    let t_min = all.iter().map(|(t, _)| *t).min()?;
    let t_max = all.iter().map(|(t, _)| *t).max()?;
    let data_min = all.iter().map(|(_, v)| *v).fold(f64::INFINITY, f64::min);
    let data_max = all
        .iter()
        .map(|(_, v)| *v)
        .fold(f64::NEG_INFINITY, f64::max);

    let (y_min, y_max, step) = match (spec.y_min, spec.y_max) {
        (Some(lo), Some(hi)) if hi > lo => {
            let lo = lo.min(data_min);
            let hi = hi.max(data_max);
            let step = nice_step(hi - lo, 4);
            (lo, hi, step)
        }
        _ => {
            let (lo, hi) = if data_max > data_min {
                (data_min, data_max)
            } else {
                let pad = (data_min.abs() * 0.05).max(1.0);
                (data_min - pad, data_max + pad)
            };
            let step = nice_step(hi - lo, 4);
            ((lo / step).floor() * step, (hi / step).ceil() * step, step)
        }
    };

    let left = spec.margin_left;
    let right = spec.width - spec.margin_right;
    let top = spec.margin_top;
    let bottom = spec.height - spec.margin_bottom;
    let span_secs = (t_max - t_min).num_seconds() as f64;
    let x_of = |t: NaiveDateTime| {
        if span_secs <= 0.0 {
            coord((left + right) / 2.0)
        } else {
            coord(left + (t - t_min).num_seconds() as f64 / span_secs * (right - left))
        }
    };
    let y_of = |v: f64| coord(bottom - (v - y_min) / (y_max - y_min) * (bottom - top));

    let plotted = series
        .iter()
        .map(|s| {
            let mut pts: Vec<(NaiveDateTime, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|(_, v)| v.is_finite())
                .collect();
            pts.sort_by_key(|(t, _)| *t);
            let points: Vec<PlottedPoint> = pts
                .into_iter()
                .map(|(at, value)| PlottedPoint {
                    x: x_of(at),
                    y: y_of(value),
                    value,
                    at,
                })
                .collect();
            let path = points
                .iter()
                .enumerate()
                .map(|(i, p)| format!("{}{} {}", if i == 0 { 'M' } else { 'L' }, p.x, p.y))
                .collect::<Vec<_>>()
                .join(" ");
            PlottedSeries {
                name: s.name.clone(),
                path,
                points,
            }
        })
        .collect();

    let mut y_ticks = Vec::new();
    let first = (y_min / step).ceil() * step;
    let mut v = first;
    while v <= y_max + step * 1e-9 && y_ticks.len() < 50 {
        y_ticks.push(Tick {
            pos: y_of(v),
            label: label(v),
        });
        v += step;
    }

    let fmt = |t: NaiveDateTime| t.format("%Y-%m-%d").to_string();
    let mut x_ticks = vec![Tick {
        pos: x_of(t_min),
        label: fmt(t_min),
    }];
    if t_max.date() != t_min.date() {
        x_ticks = vec![
            Tick {
                pos: coord(left),
                label: fmt(t_min),
            },
            Tick {
                pos: coord(right),
                label: fmt(t_max),
            },
        ];
    }

    Some(Chart {
        width: spec.width,
        height: spec.height,
        left,
        right,
        top,
        bottom,
        series: plotted,
        y_ticks,
        x_ticks,
        y_min,
        y_max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(day: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 1, day)
            .and_then(|d| d.and_hms_opt(8, 0, 0))
            .expect("valid")
    }

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(160.0, 4), 50.0);
        assert_eq!(nice_step(10.0, 4), 5.0);
        assert_eq!(nice_step(4.0, 4), 1.0);
        assert_eq!(nice_step(0.8, 4), 0.2);
        assert_eq!(nice_step(0.0, 4), 1.0);
    }

    #[test]
    fn lays_out_a_fixed_range_chart() {
        let spec = ChartSpec::new(300.0, 150.0).with_y_range(0.0, 10.0);
        let s = Series {
            name: "Pain".into(),
            points: vec![(at(3), 7.0), (at(1), 2.0)],
        };
        let c = line_chart(spec, &[s]).expect("chart");
        let p = &c.series[0];
        // Oldest first, at the plot's left edge; newest at the right.
        assert_eq!(p.points[0].value, 2.0);
        assert_eq!(p.points[0].x, 44.0);
        assert_eq!(p.points[1].x, 288.0);
        // y: 0 at the bottom (122), 10 at the top (12).
        assert_eq!(p.points[1].y, 122.0 - 0.7 * 110.0);
        assert_eq!(
            p.path,
            format!("M44 {} L288 {}", p.points[0].y, p.points[1].y)
        );
        let labels: Vec<&str> = c.y_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["0", "5", "10"]);
        assert_eq!(c.x_ticks.len(), 2);
        assert_eq!(c.x_ticks[0].label, "2026-01-01");
    }

    #[test]
    fn one_point_and_no_points() {
        let s = Series {
            name: "Weight".into(),
            points: vec![(at(5), 182.0)],
        };
        let c = line_chart(ChartSpec::new(300.0, 150.0), &[s]).expect("chart");
        assert_eq!(c.series[0].points[0].x, 166.0);
        assert!(c.y_min < 182.0 && c.y_max > 182.0);
        assert_eq!(c.x_ticks.len(), 1);
        let empty = Series {
            name: "x".into(),
            points: vec![(at(1), f64::NAN)],
        };
        assert!(line_chart(ChartSpec::new(300.0, 150.0), &[empty]).is_none());
    }

    #[test]
    fn data_outside_a_fixed_range_widens_it() {
        let spec = ChartSpec::new(300.0, 150.0).with_y_range(40.0, 200.0);
        let s = Series {
            name: "Systolic".into(),
            points: vec![(at(1), 220.0), (at(2), 120.0)],
        };
        let c = line_chart(spec, &[s]).expect("chart");
        assert_eq!((c.y_min, c.y_max), (40.0, 220.0));
        assert!(c.series[0].points[0].y >= c.top);
    }
}
