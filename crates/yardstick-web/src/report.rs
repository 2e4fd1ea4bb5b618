//! `yardstick report --out report.html`: one self-contained HTML file — the leaderboard and the gap analyses
//! asked for, with their charts inline — for sharing. No script and nothing loaded from elsewhere: its own
//! Content-Security-Policy allows only its inline stylesheet.

use crate::error::Result;
use crate::gapview::{GapPage, GapParams};
use crate::leaderboard::LeaderboardPage;
use crate::state::AppState;
use crate::view::LeaderboardParams;
use serde::Serialize;

#[derive(Serialize)]
struct ReportGap<'a> {
    report: &'a yardstick_analysis::gap::GapReport,
    svg: &'a str,
}

/// The report: the leaderboard's first `rows` rows (with `board`'s filters and sort) and one section per gap.
pub fn report_html(
    state: &AppState,
    board: &LeaderboardParams,
    rows: usize,
    gaps: &[GapParams],
) -> Result<String> {
    let mut params = board.clone();
    params.page = None;
    params.per_page = Some(rows.to_string());
    let page = LeaderboardPage::build(state, &params)?;
    let computed: Vec<GapPage> = gaps
        .iter()
        .map(|g| GapPage::build(state, g))
        .collect::<Result<_>>()?;
    let shown: Vec<ReportGap> = computed
        .iter()
        .map(|g| ReportGap {
            report: &g.report,
            svg: &g.svg,
        })
        .collect();
    let sort_label = page
        .headers
        .iter()
        .find_map(|h| h.sorted.map(|d| format!("{} ({d})", h.label)))
        .unwrap_or_else(|| "model".into());
    state.render(
        "report.html",
        minijinja::context! {
            store_name => crate::store_name(state),
            written => chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            version => env!("CARGO_PKG_VERSION"),
            css => crate::routes::stylesheet(),
            board => minijinja::Value::from_serialize(&page),
            sort_label => sort_label,
            gaps => minijinja::Value::from_serialize(&shown),
        },
    )
}
