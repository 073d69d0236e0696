//! A lab test's trend as a small server-rendered SVG line chart: the
//! coordinates of the line, its points, the reference-range band and the
//! axis labels (reference: original-webapp §3.7, which only said "Trend
//! charting coming soon"). Pure: the web renders the numbers into
//! `<svg>` markup.

use chrono::NaiveDateTime;

/// One result of the test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendPoint {
    /// When the specimen was collected.
    pub at: NaiveDateTime,
    /// The numeric result.
    pub value: f64,
}

/// The chart's drawing area and margins, in SVG user units.
pub const WIDTH: f64 = 640.0;
/// See [`WIDTH`].
pub const HEIGHT: f64 = 220.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 30.0;

/// A point placed on the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedPoint {
    /// Horizontal position.
    pub x: f64,
    /// Vertical position.
    pub y: f64,
    /// The result it shows.
    pub value: f64,
    /// Whether it lies outside the reference range.
    pub out_of_range: bool,
}

/// A labelled horizontal grid line.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// Vertical position.
    pub y: f64,
    /// The value at that height.
    pub label: String,
}

/// Everything needed to draw the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendChart {
    /// The line through the points, oldest first (`M x,y L x,y …`).
    pub path: String,
    /// The points, oldest first.
    pub points: Vec<PlacedPoint>,
    /// The reference-range band `(y_top, height)`, when a range is known
    /// (an open range such as `<100` is drawn to the chart's edge).
    pub band: Option<(f64, f64)>,
    /// Value grid lines at round values ([`nice_ticks`]).
    pub ticks: Vec<Tick>,
    /// The drawing area: left, top, right and bottom edges.
    pub plot: (f64, f64, f64, f64),
}

/// The reference range of a result: the stored bounds when present, else
/// parsed from the text (`70-110`, `<100`, `>60`, `≤ 5.6`). `None` when
/// nothing is known.
pub fn reference_bounds(
    low: Option<f64>,
    high: Option<f64>,
    text: Option<&str>,
) -> Option<(Option<f64>, Option<f64>)> {
    if low.is_some() || high.is_some() {
        return Some((low, high));
    }
    let text = text?.trim();
    if let Some((lo, hi)) = crate::labs::parse_ref_range(text) {
        return Some((Some(lo), Some(hi)));
    }
    let number = |rest: &str| -> Option<f64> {
        let rest = rest.trim_start_matches('=').trim();
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        rest[..end].parse::<f64>().ok().filter(|v| v.is_finite())
    };
    if let Some(rest) = text.strip_prefix('<').or_else(|| text.strip_prefix('≤')) {
        return number(rest).map(|v| (None, Some(v)));
    }
    if let Some(rest) = text.strip_prefix('>').or_else(|| text.strip_prefix('≥')) {
        return number(rest).map(|v| (Some(v), None));
    }
    None
}

/// Rounds to one decimal for compact SVG output.
fn r1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// A value label: integers without decimals, else up to 2 decimals.
pub fn format_value(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').to_string()
    }
}

/// Round values ("nice" steps of 1, 2, 2.5 or 5 × 10ⁿ) between `lo` and
/// `hi`, about six of them, for the value grid.
pub fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return Vec::new();
    }
    let raw = (hi - lo) / 6.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut v = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while v <= hi + step * 1e-9 && out.len() < 12 {
        // Avoid "-0" and float noise such as 0.30000000000000004.
        let rounded = (v / step).round() * step;
        out.push(if rounded.abs() < step * 1e-9 {
            0.0
        } else {
            (rounded * 1e6).round() / 1e6
        });
        v += step;
    }
    out
}

/// Lays out `points` (any order; non-finite values are skipped) with the
/// reference range `bounds`. `None` when there is no point to draw.
pub fn trend_chart(
    points: &[TrendPoint],
    bounds: Option<(Option<f64>, Option<f64>)>,
) -> Option<TrendChart> {
    let mut pts: Vec<TrendPoint> = points
        .iter()
        .copied()
        .filter(|p| p.value.is_finite())
        .collect();
    if pts.is_empty() {
        return None;
    }
    pts.sort_by_key(|p| p.at);
    let (low, high) = bounds.unwrap_or((None, None));
    let mut lo = pts.iter().map(|p| p.value).fold(f64::INFINITY, f64::min);
    let mut hi = pts
        .iter()
        .map(|p| p.value)
        .fold(f64::NEG_INFINITY, f64::max);
    for b in [low, high].into_iter().flatten().filter(|b| b.is_finite()) {
        lo = lo.min(b);
        hi = hi.max(b);
    }
    if hi - lo < 1e-9 {
        let pad = if lo.abs() < 1e-9 { 1.0 } else { lo.abs() * 0.1 };
        lo -= pad;
        hi += pad;
    } else {
        let pad = (hi - lo) * 0.1;
        lo -= pad;
        hi += pad;
    }
    let (left, top, right, bottom) = (LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM);
    let y_of = |v: f64| r1(bottom - (v - lo) / (hi - lo) * (bottom - top));
    let first = pts[0].at;
    let span = (pts[pts.len() - 1].at - first).num_seconds() as f64;
    let x_of = |at: NaiveDateTime| {
        if span <= 0.0 {
            r1((left + right) / 2.0)
        } else {
            r1(left + (at - first).num_seconds() as f64 / span * (right - left))
        }
    };
    let placed: Vec<PlacedPoint> = pts
        .iter()
        .map(|p| PlacedPoint {
            x: x_of(p.at),
            y: y_of(p.value),
            value: p.value,
            out_of_range: low.is_some_and(|l| p.value < l) || high.is_some_and(|h| p.value > h),
        })
        .collect();
    let path = placed
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{}{},{}", if i == 0 { "M" } else { "L" }, p.x, p.y))
        .collect::<Vec<_>>()
        .join(" ");
    let band = match (low, high) {
        (None, None) => None,
        (l, h) => {
            let y_top = h.map_or(top, y_of);
            let y_bottom = l.map_or(bottom, y_of);
            Some((y_top, r1((y_bottom - y_top).max(0.0))))
        }
    };
    let ticks = nice_ticks(lo, hi)
        .into_iter()
        .map(|v| Tick {
            y: y_of(v),
            label: format_value(v),
        })
        .collect();
    Some(TrendChart {
        path,
        points: placed,
        band,
        ticks,
        plot: (left, top, right, bottom),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(day: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 1, day)
            .and_then(|d| d.and_hms_opt(7, 0, 0))
            .expect("date")
    }

    #[test]
    fn bounds_come_from_columns_or_text() {
        assert_eq!(
            reference_bounds(Some(1.0), None, Some("70-110")),
            Some((Some(1.0), None))
        );
        assert_eq!(
            reference_bounds(None, None, Some("70-110")),
            Some((Some(70.0), Some(110.0)))
        );
        assert_eq!(
            reference_bounds(None, None, Some("<100")),
            Some((None, Some(100.0)))
        );
        assert_eq!(
            reference_bounds(None, None, Some("> 60 mL/min")),
            Some((Some(60.0), None))
        );
        assert_eq!(reference_bounds(None, None, Some("NEGATIVE")), None);
        assert_eq!(reference_bounds(None, None, None), None);
    }

    #[test]
    fn points_are_placed_oldest_first_within_the_plot() {
        let pts = [
            TrendPoint {
                at: at(20),
                value: 182.0,
            },
            TrendPoint {
                at: at(1),
                value: 99.0,
            },
        ];
        let c = trend_chart(&pts, Some((Some(70.0), Some(110.0)))).expect("chart");
        let (left, top, right, bottom) = c.plot;
        assert_eq!(c.points.len(), 2);
        assert_eq!((c.points[0].x, c.points[1].x), (left, right));
        assert_eq!(c.points[0].value, 99.0);
        assert!(!c.points[0].out_of_range && c.points[1].out_of_range);
        assert!(c.points[1].y < c.points[0].y, "higher value drawn higher");
        for p in &c.points {
            assert!(p.y >= top && p.y <= bottom);
        }
        assert_eq!(
            c.path,
            format!("M{},{} L{},{}", left, c.points[0].y, right, c.points[1].y)
        );
        let (band_top, band_h) = c.band.expect("band");
        assert!(band_top > c.points[1].y && band_top + band_h < bottom);
        let labels: Vec<&str> = c.ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["75", "100", "125", "150", "175"]);
        assert!(c.ticks.iter().all(|t| t.y >= top && t.y <= bottom));
    }

    #[test]
    fn single_point_and_flat_series_are_centred() {
        let c = trend_chart(
            &[TrendPoint {
                at: at(3),
                value: 5.0,
            }],
            None,
        )
        .expect("chart");
        let (left, top, right, bottom) = c.plot;
        assert_eq!(c.points[0].x, r1((left + right) / 2.0));
        assert_eq!(c.points[0].y, r1((top + bottom) / 2.0));
        assert_eq!(c.band, None);
        assert!(trend_chart(&[], None).is_none());
        let nan = [TrendPoint {
            at: at(3),
            value: f64::NAN,
        }];
        assert!(trend_chart(&nan, None).is_none());
    }

    #[test]
    fn open_ranges_reach_the_plot_edge() {
        let pts = [
            TrendPoint {
                at: at(1),
                value: 90.0,
            },
            TrendPoint {
                at: at(2),
                value: 160.0,
            },
        ];
        let c = trend_chart(&pts, Some((None, Some(100.0)))).expect("chart");
        let (_, _, _, bottom) = c.plot;
        let (y, h) = c.band.expect("band");
        assert!((y + h - bottom).abs() < 0.11);
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(nice_ticks(0.0, 10.0), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(nice_ticks(0.95, 1.25), [1.0, 1.1, 1.2]);
        assert_eq!(
            nice_ticks(-3.0, 3.0),
            [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]
        );
        assert!(nice_ticks(1.0, 1.0).is_empty());
        assert!(nice_ticks(f64::NAN, 1.0).is_empty());
    }

    #[test]
    fn values_are_labelled_compactly() {
        assert_eq!(format_value(182.0), "182");
        assert_eq!(format_value(1.1), "1.1");
        assert_eq!(format_value(7.25), "7.25");
    }
}
