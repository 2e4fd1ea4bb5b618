//! The leaderboard page, its JSON and its CSV: one computation ([`LeaderboardPage::build`]), three renderings.

use crate::error::Result;
use crate::state::AppState;
use crate::table::{Cell, Column, Row};
use crate::templates::fmt_score;
use crate::urls;
use crate::view::{LeaderboardParams, View, PER_PAGE};
use serde::Serialize;

/// A sortable column header.
#[derive(Debug, Serialize)]
pub struct Header {
    pub label: String,
    pub link: String,
    /// "ascending" / "descending" when the table is sorted by it.
    pub sorted: Option<&'static str>,
}

/// One shown row with its link.
#[derive(Debug, Serialize)]
pub struct ShownRow {
    pub link: String,
    pub row: Row,
}

/// A row as the page prints it: every text formatted here, once, rather than by template macros.
#[derive(Serialize)]
struct HtmlRow<'a> {
    link: &'a str,
    model: &'a str,
    source: &'a str,
    org: &'a str,
    country: &'a str,
    released: String,
    params: String,
    open: &'static str,
    cells: Vec<Option<HtmlCell>>,
}

/// A score cell: its exact value (for `data-value`), its text, half its interval and the interval.
#[derive(Serialize)]
struct HtmlCell {
    value: String,
    text: String,
    pm: Option<String>,
    title: Option<String>,
}

impl<'a> HtmlRow<'a> {
    fn of(r: &'a ShownRow, columns: &[Column]) -> HtmlRow<'a> {
        let row = &r.row;
        HtmlRow {
            link: &r.link,
            model: &row.model,
            source: &row.source,
            org: row
                .org_name
                .as_deref()
                .or(row.org.as_deref())
                .unwrap_or("—"),
            country: row.country.as_deref().unwrap_or("—"),
            released: row
                .release_date
                .map(|d| d.to_string())
                .unwrap_or_else(|| "—".into()),
            params: row
                .params_b
                .map(|p| format!("{p:.1}"))
                .unwrap_or_else(|| "—".into()),
            open: match row.open_weights {
                Some(true) => "yes",
                Some(false) => "no",
                None => "—",
            },
            cells: columns
                .iter()
                .map(|c| row.cells.get(&c.id).map(html_cell))
                .collect(),
        }
    }
}

fn html_cell(c: &Cell) -> HtmlCell {
    let interval = c.ci_lower.zip(c.ci_upper);
    HtmlCell {
        value: c.value.to_string(),
        text: fmt_score(c.value),
        pm: interval.map(|(lo, hi)| fmt_score((hi - lo) / 2.0)),
        title: interval.map(|(lo, hi)| {
            format!(
                "95% CI [{}, {}] ({})",
                fmt_score(lo),
                fmt_score(hi),
                c.basis.unwrap_or("")
            )
        }),
    }
}

/// Everything the leaderboard page shows (its JSON is `/api/leaderboard`).
#[derive(Debug, Serialize)]
pub struct LeaderboardPage {
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub per_page: usize,
    pub first: usize,
    pub last: usize,
    pub shown_columns: Vec<Column>,
    pub all_columns: Vec<Column>,
    pub sources: Vec<String>,
    pub rows: Vec<ShownRow>,
    #[serde(skip)]
    pub headers: Vec<Header>,
    #[serde(skip)]
    pub view_links: ViewLinks,
    #[serde(skip)]
    pub params: LeaderboardParams,
}

/// Links of the page that keep its state.
#[derive(Debug, Default, Serialize)]
pub struct ViewLinks {
    pub csv: String,
    pub api: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// Read the query string: named parameters, with repeated `col` (the column picker's checkboxes) joined
/// into `cols`.
pub fn parse_query(raw: Option<&str>) -> LeaderboardParams {
    let mut p = LeaderboardParams::default();
    let mut picked: Vec<String> = Vec::new();
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let v = v.into_owned();
        let slot = match k.as_ref() {
            "q" => &mut p.q,
            "country" => &mut p.country,
            "org" => &mut p.org,
            "open" => &mut p.open,
            "params_min" => &mut p.params_min,
            "params_max" => &mut p.params_max,
            "released_from" => &mut p.released_from,
            "released_to" => &mut p.released_to,
            "source" => &mut p.source,
            "cols" => &mut p.cols,
            "sort" => &mut p.sort,
            "dir" => &mut p.dir,
            "page" => &mut p.page,
            "per_page" => &mut p.per_page,
            "col" => {
                picked.push(v);
                continue;
            }
            _ => continue,
        };
        *slot = Some(v);
    }
    if !picked.is_empty() {
        p.cols = Some(picked.join(","));
    }
    p
}

const FIXED: [(&str, &str); 7] = [
    ("model", "Model"),
    ("source", "Source"),
    ("org", "Organization"),
    ("country", "Country"),
    ("released", "Released"),
    ("params", "Params (B)"),
    ("", "Open"),
];

impl LeaderboardPage {
    pub fn build(state: &AppState, params: &LeaderboardParams) -> Result<LeaderboardPage> {
        let table = state.table()?;
        let view = View::parse(params, &table)?;
        let rows = view.select(&table);
        let total = rows.len();
        let pages = total.div_ceil(view.per_page).max(1);
        let page_rows = view.page_of(&rows);
        let first = (view.page - 1)
            .saturating_mul(view.per_page)
            .saturating_add(1);
        let sources = table.sources.clone();
        let mut headers: Vec<Header> = FIXED
            .iter()
            .map(|(key, label)| header(&view, key, label))
            .collect();
        for c in &view.columns {
            headers.push(header(&view, &format!("b:{}", c.id), &c.name));
        }
        let page_link = |n: usize| {
            let n = n.to_string();
            format!("/{}", view.query_string(&[("page", Some(&n))]))
        };
        Ok(LeaderboardPage {
            total,
            page: view.page,
            pages,
            per_page: view.per_page,
            first,
            last: first.saturating_add(page_rows.len().saturating_sub(1)),
            rows: page_rows
                .iter()
                .map(|r| ShownRow {
                    link: urls::link("/model", &[("source", &r.source), ("name", &r.model)]),
                    row: shown(r, &view.columns),
                })
                .collect(),
            shown_columns: view.columns.clone(),
            all_columns: table.columns.clone(),
            sources,
            headers,
            view_links: ViewLinks {
                csv: format!(
                    "/leaderboard.csv{}",
                    view.query_string(&[("page", None), ("per_page", None)])
                ),
                api: format!("/api/leaderboard{}", view.query_string(&[])),
                prev: (view.page > 1).then(|| page_link(view.page - 1)),
                next: (view.page < pages).then(|| page_link(view.page + 1)),
            },
            params: params.clone(),
        })
    }

    pub fn html(&self, state: &AppState) -> Result<String> {
        let shown_ids: Vec<&str> = self.shown_columns.iter().map(|c| c.id.as_str()).collect();
        state.render(
            "leaderboard.html",
            minijinja::context! {
                nav => "leaderboard",
                store_name => crate::store_name(state),
                api_link => self.view_links.api,
                p => minijinja::Value::from_serialize(&self.params),
                default_per_page => PER_PAGE,
                total => self.total,
                first => self.first,
                last => self.last,
                page => self.page,
                pages => self.pages,
                rows => minijinja::Value::from_serialize(
                    self.rows
                        .iter()
                        .map(|r| HtmlRow::of(r, &self.shown_columns))
                        .collect::<Vec<_>>()
                ),
                headers => minijinja::Value::from_serialize(&self.headers),
                shown_columns => minijinja::Value::from_serialize(&self.shown_columns),
                shown_ids => shown_ids,
                all_columns => minijinja::Value::from_serialize(&self.all_columns),
                sources => self.sources,
                csv_link => self.view_links.csv,
                prev_link => self.view_links.prev,
                next_link => self.view_links.next,
            },
        )
    }
}

/// The row with only the shown columns' cells.
fn shown(r: &Row, columns: &[Column]) -> Row {
    let mut row = r.clone();
    row.cells.retain(|k, _| columns.iter().any(|c| c.id == *k));
    row
}

fn header(view: &View, key: &str, label: &str) -> Header {
    if key.is_empty() {
        return Header {
            label: label.into(),
            link: format!("/{}", view.query_string(&[])),
            sorted: None,
        };
    }
    let current = view.sort == key;
    let dir = match (current, view.descending) {
        // Clicking the sorted column flips it; a new column starts high-to-low for scores.
        (true, true) => "asc",
        (true, false) => "desc",
        (false, _) if key.starts_with("b:") => "desc",
        (false, _) => "asc",
    };
    Header {
        label: label.into(),
        link: format!(
            "/{}",
            view.query_string(&[("sort", Some(key)), ("dir", Some(dir)), ("page", None)])
        ),
        sorted: current.then_some(if view.descending {
            "descending"
        } else {
            "ascending"
        }),
    }
}

/// A CSV field: quoted when needed; a leading `=`, `+`, `-` or `@` in text is prefixed with `'` so that a
/// spreadsheet shows a model name instead of running it as a formula.
fn csv_field(s: &str) -> String {
    let guarded = match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// The CSV of every row that matches the view (all pages), shown columns with their intervals.
pub fn csv(state: &AppState, params: &LeaderboardParams) -> Result<String> {
    let table = state.table()?;
    let view = View::parse(params, &table)?;
    let mut out = String::from("model,source,organization,country,released,params_b,open_weights");
    for c in &view.columns {
        let id = csv_field(&c.id);
        out.push_str(&format!(",{id},{id}_ci_lower,{id}_ci_upper"));
    }
    out.push('\n');
    let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for r in view.select(&table) {
        let fields = [
            csv_field(&r.model),
            csv_field(&r.source),
            csv_field(r.org_name.as_deref().or(r.org.as_deref()).unwrap_or("")),
            csv_field(r.country.as_deref().unwrap_or("")),
            r.release_date.map(|d| d.to_string()).unwrap_or_default(),
            num(r.params_b),
            r.open_weights.map(|b| b.to_string()).unwrap_or_default(),
        ];
        out.push_str(&fields.join(","));
        for c in &view.columns {
            let cell: Option<&Cell> = r.cells.get(&c.id);
            out.push_str(&format!(
                ",{},{},{}",
                num(cell.map(|c| c.value)),
                num(cell.and_then(|c| c.ci_lower)),
                num(cell.and_then(|c| c.ci_upper))
            ));
        }
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn repeated_col_parameters_become_the_column_list() {
        let p = parse_query(Some("q=llama&col=mmlu&col=gsm8k&sort=b%3Ammlu"));
        assert_eq!(p.q.as_deref(), Some("llama"));
        assert_eq!(p.cols.as_deref(), Some("mmlu,gsm8k"));
        assert_eq!(p.sort.as_deref(), Some("b:mmlu"));
    }
}
