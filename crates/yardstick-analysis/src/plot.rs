//! Plots (`--plot FILE.svg|.png`) drawn with `plotters`. Text is laid out with DejaVu Sans, embedded in the
//! binary (Bitstream Vera licence, `assets/DejaVuSans-LICENSE.txt`), so PNG and SVG output need no system
//! fonts.

use crate::error::{AnalysisError, Result};
use crate::gap::GapReport;
use crate::rate::RateReport;
use crate::trend::{ArenaTrendReport, TrendReport};
use chrono::NaiveDate;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();
const FONT_NAME: &str = "sans-serif";

fn ensure_font() {
    REGISTER.call_once(|| {
        // The embedded font is a valid TrueType file; if registration failed, drawing text would report
        // the error through the plot's Result.
        let _ = plotters::style::register_font(FONT_NAME, FontStyle::Normal, FONT);
    });
}

enum Kind {
    Svg,
    Png,
}

/// Check before any work is done that a chart can be written to `path`: a `.svg` or `.png` name in an
/// existing directory.
pub fn check_path(path: &Path) -> Result<()> {
    kind(path)?;
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) if !dir.exists() => Err(AnalysisError::Plot {
            path: path.to_path_buf(),
            message: format!("directory {} does not exist", dir.display()),
        }),
        _ => Ok(()),
    }
}

fn kind(path: &Path) -> Result<Kind> {
    match path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .as_deref()
    {
        Some("svg") => Ok(Kind::Svg),
        Some("png") => Ok(Kind::Png),
        _ => Err(AnalysisError::Plot {
            path: path.to_path_buf(),
            message: "the plot file must end in .svg or .png".into(),
        }),
    }
}

type DrawResult = std::result::Result<(), String>;

fn pe<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

macro_rules! render {
    ($path:expr, $size:expr, $draw:ident, $($arg:expr),*) => {{
        ensure_font();
        let path: &Path = $path;
        let wrap = |message: String| AnalysisError::Plot { path: path.to_path_buf(), message };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                return Err(wrap(format!("directory {} does not exist", dir.display())));
            }
        }
        match kind(path)? {
            Kind::Svg => {
                let root = SVGBackend::new(path, $size).into_drawing_area();
                $draw(&root, $($arg),*).map_err(wrap)?;
                root.present().map_err(|e| wrap(pe(e)))?;
            }
            Kind::Png => {
                let root = BitMapBackend::new(path, $size).into_drawing_area();
                $draw(&root, $($arg),*).map_err(wrap)?;
                root.present().map_err(|e| wrap(pe(e)))?;
            }
        }
        Ok(())
    }};
}

fn day(d: NaiveDate) -> f64 {
    chrono::Datelike::num_days_from_ce(&d) as f64
}

fn date_label(x: &f64) -> String {
    NaiveDate::from_num_days_from_ce_opt(x.round() as i32)
        .map(|d| d.format("%Y-%m").to_string())
        .unwrap_or_default()
}

fn padded(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    let span = (hi - lo).abs().max(1e-9);
    (lo - 0.08 * span, hi + 0.08 * span)
}

const TREND_SIZE: (u32, u32) = (1100, 1150);
const ARENA_SIZE: (u32, u32) = (1100, 850);

const COLOR_A: RGBColor = RGBColor(31, 119, 180);
const COLOR_B: RGBColor = RGBColor(214, 39, 40);
const COLOR_GAP: RGBColor = RGBColor(60, 60, 60);
const COLOR_TREND: RGBColor = RGBColor(148, 103, 189);

/// Frontiers (step lines), frontier gap with its band, and the lag series.
pub fn plot_trend(path: &Path, r: &TrendReport) -> Result<()> {
    render!(path, TREND_SIZE, draw_trend, r)
}

fn step_points(series: &[(f64, Option<f64>)]) -> Vec<(f64, f64)> {
    let mut pts = Vec::new();
    let mut last: Option<f64> = None;
    for &(x, y) in series {
        if let Some(y) = y {
            if let Some(l) = last {
                if l != y {
                    pts.push((x, l));
                }
            }
            pts.push((x, y));
            last = Some(y);
        }
    }
    pts
}

fn draw_trend<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &TrendReport) -> DrawResult {
    root.fill(&WHITE).map_err(pe)?;
    let panels = root.split_evenly((3, 1));
    let x0 = day(r.since);
    let x1 = day(r.until).max(x0 + 1.0);
    draw_frontier_panel(&panels[0], r, x0..x1)?;
    draw_gap_panel(&panels[1], r, x0..x1)?;
    draw_lag_panel(&panels[2], r, x0..x1)?;
    Ok(())
}

/// The `(lo, hi)` of `vals`, padded.
fn padded_range(vals: &[f64]) -> (f64, f64) {
    padded(
        vals.iter().copied().fold(f64::INFINITY, f64::min),
        vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    )
}

/// Top panel: each group's frontier as a step line.
fn draw_frontier_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &TrendReport,
    xs: std::ops::Range<f64>,
) -> DrawResult {
    let fa: Vec<(f64, Option<f64>)> = r
        .series
        .iter()
        .map(|d| (day(d.date), d.frontier_a))
        .collect();
    let fb: Vec<(f64, Option<f64>)> = r
        .series
        .iter()
        .map(|d| (day(d.date), d.frontier_b))
        .collect();
    let ys: Vec<f64> = fa.iter().chain(fb.iter()).filter_map(|p| p.1).collect();
    let (ylo, yhi) = padded_range(&ys);
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!(
                "Frontier of {} ({}): best score released by each date",
                r.metric, r.source
            ),
            (FONT_NAME, 20),
        )
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(xs, ylo..yhi)
        .map_err(pe)?;
    chart
        .configure_mesh()
        .x_label_formatter(&date_label)
        .x_labels(10)
        .y_desc(r.metric.clone())
        .draw()
        .map_err(pe)?;
    chart
        .draw_series(LineSeries::new(step_points(&fa), COLOR_A.stroke_width(2)))
        .map_err(pe)?
        .label(format!("A: {}", r.group_a))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], COLOR_A.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(step_points(&fb), COLOR_B.stroke_width(2)))
        .map_err(pe)?
        .label(format!("B: {}", r.group_b))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], COLOR_B.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT_NAME, 14))
        .draw()
        .map_err(pe)?;
    Ok(())
}

/// Middle panel: the frontier gap with its bootstrap band.
fn draw_gap_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &TrendReport,
    xs: std::ops::Range<f64>,
) -> DrawResult {
    let (x0, x1) = (xs.start, xs.end);
    let gaps: Vec<(f64, f64)> = r
        .series
        .iter()
        .filter_map(|d| d.gap.map(|g| (day(d.date), g)))
        .collect();
    let band: Vec<(f64, f64, f64)> = r
        .series
        .iter()
        .filter_map(|d| Some((day(d.date), d.gap_lower?, d.gap_upper?)))
        .collect();
    let vals: Vec<f64> = gaps
        .iter()
        .map(|p| p.1)
        .chain(band.iter().flat_map(|b| [b.1, b.2]))
        .chain([0.0])
        .collect();
    let (lo, hi) = padded_range(&vals);
    let mut chart = ChartBuilder::on(area)
        .caption("Frontier gap F_A − F_B", (FONT_NAME, 20))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(xs, lo..hi)
        .map_err(pe)?;
    chart
        .configure_mesh()
        .x_label_formatter(&date_label)
        .x_labels(10)
        .y_desc("gap")
        .draw()
        .map_err(pe)?;
    if !band.is_empty() {
        let mut poly: Vec<(f64, f64)> = band.iter().map(|b| (b.0, b.2)).collect();
        poly.extend(band.iter().rev().map(|b| (b.0, b.1)));
        chart
            .draw_series(std::iter::once(Polygon::new(poly, COLOR_GAP.mix(0.18))))
            .map_err(pe)?;
    }
    chart
        .draw_series(LineSeries::new(vec![(x0, 0.0), (x1, 0.0)], BLACK.mix(0.5)))
        .map_err(pe)?;
    chart
        .draw_series(LineSeries::new(gaps, COLOR_GAP.stroke_width(2)))
        .map_err(pe)?
        .label("frontier gap")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], COLOR_GAP.stroke_width(2)));
    if let Some(t) = &r.trend {
        draw_fitted_trend(&mut chart, t, day(r.since), day(r.until))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT_NAME, 13))
        .draw()
        .map_err(pe)?;
    Ok(())
}

/// The trend the text reports: the modelled A − B gap of the regression, `gap_at_centre + slope · (t − centre)`
/// over the window, with the slope's confidence interval as a fan around the centre.
fn draw_fitted_trend<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    t: &crate::trend::GapTrend,
    x0: f64,
    x1: f64,
) -> DrawResult {
    let c = day(t.centre);
    let per_day = |per_month: f64| per_month / yardstick_stats::DAYS_PER_MONTH;
    let at = |x: f64, slope: f64| t.gap_at_centre + per_day(slope) * (x - c);
    let xs: Vec<f64> = (0..=40)
        .map(|i| x0 + (x1 - x0) * f64::from(i) / 40.0)
        .collect();
    let mut fan: Vec<(f64, f64)> = xs
        .iter()
        .map(|&x| {
            (
                x,
                at(x, t.ci_lower_per_month).max(at(x, t.ci_upper_per_month)),
            )
        })
        .collect();
    fan.extend(xs.iter().rev().map(|&x| {
        (
            x,
            at(x, t.ci_lower_per_month).min(at(x, t.ci_upper_per_month)),
        )
    }));
    chart
        .draw_series(std::iter::once(Polygon::new(fan, COLOR_TREND.mix(0.15))))
        .map_err(pe)?;
    chart
        .draw_series(LineSeries::new(
            xs.iter().map(|&x| (x, at(x, t.slope_per_month))),
            COLOR_TREND.stroke_width(2),
        ))
        .map_err(pe)?
        .label(format!(
            "modelled gap (WLS trend {:+.3}/month, slope CI shaded)",
            t.slope_per_month
        ))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], COLOR_TREND.stroke_width(2)));
    Ok(())
}

/// Bottom panel: the lag of B behind A in months.
fn draw_lag_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &TrendReport,
    xs: std::ops::Range<f64>,
) -> DrawResult {
    let (x0, x1) = (xs.start, xs.end);
    let lags: Vec<(f64, f64)> = r
        .series
        .iter()
        .filter_map(|d| d.lag_months.map(|l| (day(d.date), l)))
        .collect();
    let vals: Vec<f64> = lags.iter().map(|p| p.1).chain([0.0]).collect();
    let (lo, hi) = padded_range(&vals);
    let mut chart = ChartBuilder::on(area)
        .caption(
            "Lag of B behind A (months): when did A first reach B's best score?",
            (FONT_NAME, 20),
        )
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(xs, lo..hi)
        .map_err(pe)?;
    chart
        .configure_mesh()
        .x_label_formatter(&date_label)
        .x_labels(10)
        .y_desc("months")
        .draw()
        .map_err(pe)?;
    chart
        .draw_series(LineSeries::new(vec![(x0, 0.0), (x1, 0.0)], BLACK.mix(0.5)))
        .map_err(pe)?;
    for run in lag_runs(lags) {
        chart
            .draw_series(LineSeries::new(run, COLOR_B.stroke_width(2)))
            .map_err(pe)?;
    }
    Ok(())
}

/// One line per run of consecutive days: the lag falls abruptly when B releases a better model, and a thick
/// polyline through such a drop would draw a miter spike.
fn lag_runs(lags: Vec<(f64, f64)>) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    for p in lags {
        match runs.last_mut() {
            Some(run)
                if run
                    .last()
                    .is_some_and(|q| p.0 - q.0 <= 1.0 && (p.1 - q.1).abs() < 0.5) =>
            {
                run.push(p)
            }
            _ => runs.push(vec![p]),
        }
    }
    runs
}

/// Best Elo per group per snapshot, and the gap with its CI.
pub fn plot_arena_trend(path: &Path, r: &ArenaTrendReport) -> Result<()> {
    render!(path, ARENA_SIZE, draw_arena, r)
}

fn draw_arena<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: &ArenaTrendReport,
) -> DrawResult {
    root.fill(&WHITE).map_err(pe)?;
    let panels = root.split_evenly((2, 1));
    let x0 = r.snapshots.first().map(|s| day(s.date)).unwrap_or(0.0) - 5.0;
    let x1 = r.snapshots.last().map(|s| day(s.date)).unwrap_or(1.0) + 5.0;
    {
        let vals: Vec<f64> = r
            .snapshots
            .iter()
            .flat_map(|s| {
                [
                    s.score_a,
                    s.score_b,
                    s.ci_a.map_or(s.score_a, |c| c.1),
                    s.ci_b.map_or(s.score_b, |c| c.0),
                ]
            })
            .collect();
        let (lo, hi) = padded(
            vals.iter().copied().fold(f64::INFINITY, f64::min),
            vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        );
        let mut chart = ChartBuilder::on(&panels[0])
            .caption(
                format!("Best model per group in each {} snapshot", r.metric),
                (FONT_NAME, 20),
            )
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, lo..hi)
            .map_err(pe)?;
        chart
            .configure_mesh()
            .x_label_formatter(&date_label)
            .x_labels(10)
            .y_desc("Elo")
            .draw()
            .map_err(pe)?;
        for (color, label, pick) in [
            (COLOR_A, format!("A: {}", r.group_a), 0),
            (COLOR_B, format!("B: {}", r.group_b), 1),
        ] {
            let pts: Vec<(f64, f64)> = r
                .snapshots
                .iter()
                .map(|s| (day(s.date), if pick == 0 { s.score_a } else { s.score_b }))
                .collect();
            chart
                .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                .map_err(pe)?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart
                .draw_series(r.snapshots.iter().filter_map(|s| {
                    let (score, ci) = if pick == 0 {
                        (s.score_a, s.ci_a)
                    } else {
                        (s.score_b, s.ci_b)
                    };
                    ci.map(|(l, u)| {
                        ErrorBar::new_vertical(day(s.date), l, score, u, color.mix(0.6), 4)
                    })
                }))
                .map_err(pe)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font((FONT_NAME, 14))
            .draw()
            .map_err(pe)?;
    }
    {
        let vals: Vec<f64> = r
            .snapshots
            .iter()
            .flat_map(|s| {
                [
                    s.gap,
                    s.ci_lower.unwrap_or(s.gap),
                    s.ci_upper.unwrap_or(s.gap),
                ]
            })
            .chain([0.0])
            .collect();
        let (lo, hi) = padded(
            vals.iter().copied().fold(f64::INFINITY, f64::min),
            vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        );
        let mut chart = ChartBuilder::on(&panels[1])
            .caption("Elo gap A − B with 95% CI", (FONT_NAME, 20))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, lo..hi)
            .map_err(pe)?;
        chart
            .configure_mesh()
            .x_label_formatter(&date_label)
            .x_labels(10)
            .y_desc("Elo gap")
            .draw()
            .map_err(pe)?;
        chart
            .draw_series(LineSeries::new(vec![(x0, 0.0), (x1, 0.0)], BLACK.mix(0.5)))
            .map_err(pe)?;
        chart
            .draw_series(LineSeries::new(
                r.snapshots.iter().map(|s| (day(s.date), s.gap)),
                COLOR_GAP.stroke_width(2),
            ))
            .map_err(pe)?;
        chart
            .draw_series(r.snapshots.iter().filter_map(|s| {
                Some(ErrorBar::new_vertical(
                    day(s.date),
                    s.ci_lower?,
                    s.gap,
                    s.ci_upper?,
                    COLOR_GAP.mix(0.6),
                    4,
                ))
            }))
            .map_err(pe)?;
    }
    Ok(())
}

/// One horizontal interval per row (forest plot).
struct Forest {
    title: String,
    x_desc: String,
    rows: Vec<(String, f64, f64, f64)>,
    zero_line: bool,
}

fn draw_forest<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, f: &Forest) -> DrawResult {
    root.fill(&WHITE).map_err(pe)?;
    let n = f.rows.len().max(1) as f64;
    let vals: Vec<f64> = f
        .rows
        .iter()
        .flat_map(|r| [r.2, r.3])
        .chain(if f.zero_line { vec![0.0] } else { vec![] })
        .collect();
    let (lo, hi) = padded(
        vals.iter().copied().fold(f64::INFINITY, f64::min),
        vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let labels: Vec<String> = f.rows.iter().map(|r| r.0.clone()).collect();
    let label_of = move |y: &f64| -> String {
        let i = y.round();
        if (y - i).abs() > 0.01 || i < 0.0 {
            return String::new();
        }
        labels.get(i as usize).cloned().unwrap_or_default()
    };
    let mut chart = ChartBuilder::on(root)
        .caption(&f.title, (FONT_NAME, 18))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(330)
        .build_cartesian_2d(lo..hi, -0.7..(n - 0.3))
        .map_err(pe)?;
    chart
        .configure_mesh()
        .y_labels(f.rows.len().max(1) * 2 + 1)
        .y_label_formatter(&label_of)
        .x_desc(f.x_desc.clone())
        .disable_y_mesh()
        .draw()
        .map_err(pe)?;
    if f.zero_line {
        chart
            .draw_series(LineSeries::new(
                vec![(0.0, -0.7), (0.0, n - 0.3)],
                BLACK.mix(0.5),
            ))
            .map_err(pe)?;
    }
    for (i, r) in f.rows.iter().enumerate() {
        let y = i as f64;
        chart
            .draw_series(LineSeries::new(
                vec![(r.2, y), (r.3, y)],
                COLOR_A.stroke_width(3),
            ))
            .map_err(pe)?;
        chart
            .draw_series(std::iter::once(Circle::new((r.1, y), 5, COLOR_A.filled())))
            .map_err(pe)?;
    }
    Ok(())
}

/// Forest plot of the gap rows.
pub fn plot_gap(path: &Path, r: &GapReport) -> Result<()> {
    let (f, size) = gap_forest(r);
    render!(path, size, draw_forest, &f)
}

fn gap_forest(r: &GapReport) -> (Forest, (u32, u32)) {
    let f = Forest {
        title: format!(
            "Gap A − B  (A: {}  B: {}; {} attribution, {} estimand)",
            r.group_a, r.group_b, r.attribution, r.estimand
        ),
        x_desc: format!(
            "Δ with {}% CI (raw for benchmarks, normalised for dimensions)",
            (r.level * 100.0).round()
        ),
        rows: r
            .rows
            .iter()
            .rev()
            .map(|row| {
                (
                    format!("{} · {}", row.source, row.target),
                    row.estimate,
                    row.ci_lower,
                    row.ci_upper,
                )
            })
            .collect(),
        zero_line: true,
    };
    let h = 140 + 34 * f.rows.len() as u32;
    (f, (1150, h))
}

/// Draw into SVG text instead of a file: the web UI's charts are the same drawings as `--plot x.svg`.
macro_rules! render_svg {
    ($size:expr, $draw:ident, $($arg:expr),*) => {{
        ensure_font();
        let wrap = |message: String| AnalysisError::Plot {
            path: std::path::PathBuf::from("(SVG in memory)"),
            message,
        };
        let mut buf = String::new();
        {
            let root = SVGBackend::with_string(&mut buf, $size).into_drawing_area();
            $draw(&root, $($arg),*).map_err(wrap)?;
            root.present().map_err(|e| wrap(pe(e)))?;
        }
        Ok(buf)
    }};
}

/// [`plot_gap`] as SVG text.
pub fn gap_svg(r: &GapReport) -> Result<String> {
    let (f, size) = gap_forest(r);
    render_svg!(size, draw_forest, &f)
}

/// [`plot_trend`] as SVG text.
pub fn trend_svg(r: &TrendReport) -> Result<String> {
    render_svg!(TREND_SIZE, draw_trend, r)
}

/// [`plot_arena_trend`] as SVG text.
pub fn arena_trend_svg(r: &ArenaTrendReport) -> Result<String> {
    render_svg!(ARENA_SIZE, draw_arena, r)
}

/// Forest plot of Bradley–Terry ratings (the 40 best).
pub fn plot_ratings(path: &Path, r: &RateReport) -> Result<()> {
    let f = Forest {
        title: format!(
            "Bradley–Terry ratings, {}% CI ({} battles)",
            (r.level * 100.0).round(),
            r.battles
        ),
        x_desc: "rating".into(),
        rows: r
            .ratings
            .iter()
            .take(40)
            .rev()
            .map(|x| (x.model.clone(), x.rating, x.lower, x.upper))
            .collect(),
        zero_line: false,
    };
    let h = 140 + 28 * f.rows.len() as u32;
    render!(path, (1100, h), draw_forest, &f)
}
