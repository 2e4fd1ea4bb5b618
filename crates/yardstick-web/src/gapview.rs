//! The gap page: two groups and a dimension or benchmark → Δ with its interval, the per-dimension table,
//! the forest chart, and the frontier/lag trend with its verdict. The numbers come from the very functions
//! `yardstick gap` and `yardstick trend` call ([`gap_from_store`], [`trend_from_store`]), with the same
//! defaults, so the page, `/api/gap` and `yardstick gap --json` agree.

use crate::error::{Result, WebError};
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use yardstick_analysis::attribution::AttributionMode;
use yardstick_analysis::gap::{gap_from_store, Estimand, GapOptions, GapReport, GapTarget};
use yardstick_analysis::groups::GroupSpec;
use yardstick_analysis::plot;
use yardstick_analysis::query::Query;
use yardstick_analysis::trend::{trend_from_store, GapTrend, TrendOptions, TrendOutput};

/// The CLI's defaults (`yardstick gap --help`, `yardstick trend --help`).
pub const DEFAULT_REPLICATES: usize = 10_000;
pub const DEFAULT_TREND_REPLICATES: usize = 1_000;
pub const DEFAULT_SEED: u64 = 20_240_601;
pub const DEFAULT_LEVEL: f64 = 0.95;

/// The gap page's query string (the options of `yardstick gap`, plus `trend` for the trend's metric).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct GapParams {
    pub between: Option<String>,
    pub and: Option<String>,
    pub dimension: Option<String>,
    /// Comma-separated benchmark ids, or `all`.
    pub benchmark: Option<String>,
    pub estimand: Option<String>,
    pub attribution: Option<String>,
    pub official_only: Option<String>,
    pub as_of: Option<String>,
    pub source: Option<String>,
    pub metric: Option<String>,
    pub replicates: Option<String>,
    pub seed: Option<String>,
    pub level: Option<String>,
    /// Metric of the trend section (default: the benchmark when there is one).
    pub trend: Option<String>,
    pub trend_replicates: Option<String>,
}

fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn parse_num<T: std::str::FromStr>(name: &str, v: &Option<String>, default: T) -> Result<T> {
    match text(v) {
        None => Ok(default),
        Some(s) => s
            .parse()
            .map_err(|_| WebError::BadRequest(format!("{name}={s:?} is not a valid number"))),
    }
}

fn query(name: &str, v: &Option<String>) -> Result<Query> {
    let q = text(v).ok_or_else(|| {
        WebError::BadRequest(format!(
            "{name}= is missing: give both groups, e.g. between=country=US and and=country=CN"
        ))
    })?;
    Ok(Query::parse(q)?)
}

impl GapParams {
    /// True when the form has not been filled in yet.
    pub fn is_empty(&self) -> bool {
        text(&self.between).is_none() && text(&self.and).is_none()
    }

    fn spec(&self) -> Result<GroupSpec> {
        let attribution = match text(&self.attribution) {
            None | Some("developer") => AttributionMode::Developer,
            Some("base") => AttributionMode::Base,
            Some(a) => {
                return Err(WebError::BadRequest(format!(
                    "attribution={a:?}: choose developer or base"
                )))
            }
        };
        let as_of = match text(&self.as_of) {
            None => None,
            Some(s) => Some(yardstick_analysis::country::parse_date(s).ok_or_else(|| {
                WebError::BadRequest(format!("as_of={s:?}: write YYYY-MM-DD or YYYY-MM"))
            })?),
        };
        Ok(GroupSpec {
            a: query("between", &self.between)?,
            b: query("and", &self.and)?,
            attribution,
            official_only: matches!(text(&self.official_only), Some("1" | "true" | "yes" | "on")),
            as_of,
        })
    }

    fn interval(&self) -> Result<(u64, f64)> {
        let seed = parse_num("seed", &self.seed, DEFAULT_SEED)?;
        let level = parse_num("level", &self.level, DEFAULT_LEVEL)?;
        if !(level > 0.0 && level < 1.0) {
            return Err(WebError::BadRequest(format!(
                "level={level} must be between 0 and 1, e.g. 0.95"
            )));
        }
        Ok((seed, level))
    }

    /// The options `yardstick gap` would build from the same flags.
    pub fn gap_options(&self) -> Result<GapOptions> {
        let benchmarks: Vec<String> = text(&self.benchmark)
            .map(|b| b.split(',').map(str::to_string).collect())
            .unwrap_or_default();
        if text(&self.dimension).is_some() && !benchmarks.is_empty() {
            return Err(WebError::BadRequest(
                "give a dimension or benchmarks, not both".into(),
            ));
        }
        let (seed, level) = self.interval()?;
        let replicates = parse_num("replicates", &self.replicates, DEFAULT_REPLICATES)?;
        if !(100..=yardstick_analysis::MAX_REPLICATES).contains(&replicates) {
            return Err(WebError::BadRequest(format!(
                "replicates={replicates}: choose 100 to {}",
                yardstick_analysis::MAX_REPLICATES
            )));
        }
        Ok(GapOptions {
            target: GapTarget::from_args(text(&self.dimension), &benchmarks)?,
            groups: self.spec()?,
            estimand: match text(&self.estimand) {
                None | Some("population") => Estimand::Population,
                Some("roster") => Estimand::Roster,
                Some(e) => {
                    return Err(WebError::BadRequest(format!(
                        "estimand={e:?}: choose population or roster"
                    )))
                }
            },
            source: text(&self.source).map(str::to_string),
            metric: text(&self.metric).map(str::to_string),
            replicates,
            seed,
            level,
        })
    }

    /// The trend's metric: `trend=`, else the one benchmark asked for.
    pub fn trend_metric(&self) -> Option<String> {
        if let Some(t) = text(&self.trend) {
            return Some(t.to_string());
        }
        text(&self.benchmark)
            .filter(|b| !b.contains(',') && *b != "all")
            .map(str::to_string)
    }

    /// The options `yardstick trend` would build (the groups without `as_of`, as the CLI does).
    pub fn trend_options(&self, metric: String) -> Result<TrendOptions> {
        let (seed, level) = self.interval()?;
        let replicates = parse_num(
            "trend_replicates",
            &self.trend_replicates,
            DEFAULT_TREND_REPLICATES,
        )?;
        if replicates > yardstick_analysis::MAX_REPLICATES {
            return Err(WebError::BadRequest(format!(
                "trend_replicates={replicates}: choose 0 to {}",
                yardstick_analysis::MAX_REPLICATES
            )));
        }
        let mut groups = self.spec()?;
        groups.as_of = None;
        Ok(TrendOptions {
            groups,
            metric,
            since: None,
            until: None,
            source: text(&self.source).map(str::to_string),
            replicates,
            seed,
            level,
        })
    }
}

/// The trend section: the report and its chart, or why there is none.
#[derive(Debug, Serialize)]
pub struct TrendSection {
    pub metric: String,
    pub report: Option<TrendOutput>,
    #[serde(skip)]
    pub svg: Option<String>,
    pub error: Option<String>,
}

/// Everything the gap page shows.
#[derive(Debug, Serialize)]
pub struct GapPage {
    pub report: GapReport,
    #[serde(skip)]
    pub svg: String,
    pub trend: Option<TrendSection>,
}

/// An accessible SVG: `role="img"`, a `<title>` and a `<desc>` (text alternative) right after the root tag.
pub fn accessible_svg(svg: &str, title: &str, desc: &str) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    match svg
        .find("<svg")
        .and_then(|i| svg[i..].find('>').map(|j| i + j))
    {
        Some(end) => format!(
            "{} role=\"img\" class=\"chart\">\n<title>{}</title>\n<desc>{}</desc>{}",
            &svg[..end],
            esc(title),
            esc(desc),
            &svg[end + 1..]
        ),
        None => svg.to_string(),
    }
}

/// A sentence per gap row, the text alternative of the forest chart.
fn gap_desc(r: &GapReport) -> String {
    r.rows
        .iter()
        .map(|row| {
            format!(
                "{} {}: Δ {:.4} ({:.0}% CI {:.4} to {:.4}), {} vs {} models",
                row.source,
                row.target,
                row.estimate,
                r.level * 100.0,
                row.ci_lower,
                row.ci_upper,
                row.n_models_a,
                row.n_models_b
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn trend_section(state: &AppState, p: &GapParams, metric: String) -> TrendSection {
    let computed = p
        .trend_options(metric.clone())
        .and_then(|o| Ok(trend_from_store(&state.store, &state.registry, &o)?));
    match computed {
        Ok(report) => {
            let verdict = |t: Option<&GapTrend>| {
                t.map(|t| t.verdict_text.clone())
                    .unwrap_or_else(|| "no trend fitted".into())
            };
            let (svg, desc) = match &report {
                TrendOutput::Release(r) => (plot::trend_svg(r), verdict(r.trend.as_ref())),
                TrendOutput::Arena(r) => (plot::arena_trend_svg(r), verdict(r.trend.as_ref())),
            };
            let title = format!("Frontier, gap and lag of {metric}");
            TrendSection {
                metric,
                svg: svg.ok().map(|s| accessible_svg(&s, &title, &desc)),
                report: Some(report),
                error: None,
            }
        }
        Err(e) => TrendSection {
            metric,
            report: None,
            svg: None,
            error: Some(e.to_string()),
        },
    }
}

impl GapPage {
    pub fn build(state: &AppState, p: &GapParams) -> Result<GapPage> {
        let opts = p.gap_options()?;
        let report = gap_from_store(&state.store, &state.registry, &opts)?;
        let svg = accessible_svg(
            &plot::gap_svg(&report)?,
            &format!("Gap A − B: A = {}, B = {}", report.group_a, report.group_b),
            &gap_desc(&report),
        );
        let trend = p.trend_metric().map(|m| trend_section(state, p, m));
        Ok(GapPage { report, svg, trend })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_gets_a_title_and_description_escaped() {
        let s = accessible_svg(
            "<?xml?>\n<svg width=\"10\" height=\"10\" xmlns=\"x\">\n<rect/></svg>",
            "A <b>",
            "x & \"y\"",
        );
        assert!(
            s.contains("<svg width=\"10\" height=\"10\" xmlns=\"x\" role=\"img\" class=\"chart\">")
        );
        assert!(s.contains("<title>A &lt;b&gt;</title>"));
        assert!(s.contains("<desc>x &amp; &quot;y&quot;</desc>"));
    }

    #[test]
    fn defaults_match_the_cli() {
        let p = GapParams {
            between: Some("country=US".into()),
            and: Some("country=CN".into()),
            ..Default::default()
        };
        let o = p.gap_options().expect("valid");
        assert_eq!((o.replicates, o.seed, o.level), (10_000, 20_240_601, 0.95));
        assert!(matches!(o.estimand, Estimand::Population));
        assert!(p.trend_metric().is_none());
    }
}
