//! A leaderboard view: the filters, sort, columns and page of the query string, applied to a [`Table`].
//! Every view has a stable URL: [`View::query_string`] writes back exactly the state it was read from.

use crate::error::{Result, WebError};
use crate::table::{Column, Row, Table};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Rows per page unless `per_page` says otherwise, and the most a page shows.
pub const PER_PAGE: usize = 50;
const MAX_PER_PAGE: usize = 500;
/// Columns shown when the query string names none: the most populated ones, in catalog order.
const DEFAULT_COLUMNS: usize = 8;

/// The query string of the leaderboard (page, CSV and API alike). Every field is text, parsed by
/// [`View::parse`] so that a bad value is answered with a message rather than a bare rejection.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct LeaderboardParams {
    pub q: Option<String>,
    pub country: Option<String>,
    pub org: Option<String>,
    pub open: Option<String>,
    pub params_min: Option<String>,
    pub params_max: Option<String>,
    pub released_from: Option<String>,
    pub released_to: Option<String>,
    pub source: Option<String>,
    pub cols: Option<String>,
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

/// What `source=` keeps.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceFilter {
    Any,
    Measured,
    Imported,
    Named(String),
}

/// A parsed, valid view.
#[derive(Debug, Clone)]
pub struct View {
    pub params: LeaderboardParams,
    pub search: Option<String>,
    pub country: Option<String>,
    pub org: Option<String>,
    pub open: Option<bool>,
    pub params_min: Option<f64>,
    pub params_max: Option<f64>,
    pub released_from: Option<NaiveDate>,
    pub released_to: Option<NaiveDate>,
    pub source: SourceFilter,
    pub columns: Vec<Column>,
    pub sort: String,
    pub descending: bool,
    pub page: usize,
    pub per_page: usize,
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn number(name: &str, v: &Option<String>) -> Result<Option<f64>> {
    match non_empty(v) {
        None => Ok(None),
        Some(s) => match s.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(WebError::BadRequest(format!(
                "{name}={s:?} is not a number; write e.g. {name}=7 (billions of parameters)"
            ))),
        },
    }
}

fn date(name: &str, v: &Option<String>) -> Result<Option<NaiveDate>> {
    match non_empty(v) {
        None => Ok(None),
        Some(s) => yardstick_analysis::country::parse_date(&s)
            .map(Some)
            .ok_or_else(|| {
                WebError::BadRequest(format!(
                    "{name}={s:?} is not a date; write YYYY-MM-DD or YYYY-MM"
                ))
            }),
    }
}

fn count(name: &str, v: &Option<String>, default: usize, max: usize) -> Result<usize> {
    match non_empty(v) {
        None => Ok(default),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n >= 1 && n <= max => Ok(n),
            _ => Err(WebError::BadRequest(format!(
                "{name}={s:?} must be a whole number from 1 to {max}"
            ))),
        },
    }
}

impl View {
    /// Check the query string against the table (column ids must exist).
    pub fn parse(p: &LeaderboardParams, table: &Table) -> Result<View> {
        let open = match non_empty(&p.open).as_deref() {
            None | Some("any") => None,
            Some("yes") => Some(true),
            Some("no") => Some(false),
            Some(o) => {
                return Err(WebError::BadRequest(format!(
                    "open={o:?}: write open=yes, open=no or leave it out"
                )))
            }
        };
        let source = match non_empty(&p.source).as_deref() {
            None | Some("any") => SourceFilter::Any,
            Some("measured") => SourceFilter::Measured,
            Some("imported") => SourceFilter::Imported,
            Some(s) => SourceFilter::Named(s.to_string()),
        };
        let columns = match non_empty(&p.cols) {
            None => default_columns(table),
            Some(list) => {
                let mut cols = Vec::new();
                for id in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    match table.columns.iter().find(|c| c.id == id) {
                        Some(c) => cols.push(c.clone()),
                        None => {
                            return Err(WebError::BadRequest(format!(
                                "cols: no column {id:?} in this store; its columns are {}",
                                table
                                    .columns
                                    .iter()
                                    .map(|c| c.id.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )))
                        }
                    }
                }
                cols
            }
        };
        let sort = non_empty(&p.sort).unwrap_or_else(|| match columns.first() {
            Some(c) => format!("b:{}", c.id),
            None => "model".into(),
        });
        let valid_sort = ["model", "source", "org", "country", "released", "params"]
            .contains(&sort.as_str())
            || sort
                .strip_prefix("b:")
                .is_some_and(|id| table.columns.iter().any(|c| c.id == id));
        if !valid_sort {
            return Err(WebError::BadRequest(format!(
                "sort={sort:?}: sort by model, source, org, country, released, params or b:COLUMN"
            )));
        }
        let descending = match non_empty(&p.dir).as_deref() {
            None => sort.starts_with("b:"),
            Some("desc") => true,
            Some("asc") => false,
            Some(d) => {
                return Err(WebError::BadRequest(format!(
                    "dir={d:?}: write dir=asc or dir=desc"
                )))
            }
        };
        Ok(View {
            params: p.clone(),
            search: non_empty(&p.q).map(|s| s.to_lowercase()),
            country: non_empty(&p.country).map(|s| s.to_uppercase()),
            org: non_empty(&p.org).map(|s| s.to_lowercase()),
            open,
            params_min: number("params_min", &p.params_min)?,
            params_max: number("params_max", &p.params_max)?,
            released_from: date("released_from", &p.released_from)?,
            released_to: date("released_to", &p.released_to)?,
            source,
            columns,
            sort,
            descending,
            page: count("page", &p.page, 1, usize::MAX)?,
            per_page: count("per_page", &p.per_page, PER_PAGE, MAX_PER_PAGE)?,
        })
    }

    /// True when the row passes every filter.
    pub fn keeps(&self, r: &Row) -> bool {
        let contains = |field: &Option<String>, needle: &str| {
            field
                .as_deref()
                .is_some_and(|f| f.to_lowercase().contains(needle))
        };
        if let Some(q) = &self.search {
            if !r.model.to_lowercase().contains(q.as_str()) {
                return false;
            }
        }
        if let Some(c) = &self.country {
            if r.country.as_deref().map(str::to_uppercase).as_deref() != Some(c.as_str()) {
                return false;
            }
        }
        if let Some(o) = &self.org {
            if !contains(&r.org, o) && !contains(&r.org_name, o) {
                return false;
            }
        }
        if self.open.is_some() && r.open_weights != self.open {
            return false;
        }
        let in_range = |v: Option<f64>, lo: Option<f64>, hi: Option<f64>| match v {
            None => lo.is_none() && hi.is_none(),
            Some(x) => lo.is_none_or(|l| x >= l) && hi.is_none_or(|h| x <= h),
        };
        if !in_range(r.params_b, self.params_min, self.params_max) {
            return false;
        }
        let date_ok = match r.release_date {
            None => self.released_from.is_none() && self.released_to.is_none(),
            Some(d) => {
                self.released_from.is_none_or(|f| d >= f) && self.released_to.is_none_or(|t| d <= t)
            }
        };
        if !date_ok {
            return false;
        }
        match &self.source {
            SourceFilter::Any => true,
            SourceFilter::Measured => r.measured,
            SourceFilter::Imported => !r.measured,
            SourceFilter::Named(s) => r.source == *s,
        }
    }

    /// The value a row is sorted by, read once per row.
    fn sort_key<'r>(&self, r: &'r Row) -> SortKey<'r> {
        match self.sort.as_str() {
            "model" => SortKey::Text(Some(&r.model)),
            "source" => SortKey::Text(Some(&r.source)),
            "org" => SortKey::Text(r.org.as_deref()),
            "country" => SortKey::Text(r.country.as_deref()),
            "released" => SortKey::Date(r.release_date),
            "params" => SortKey::Number(r.params_b),
            s => {
                let id = s.strip_prefix("b:").unwrap_or(s);
                SortKey::Number(r.cells.get(id).map(|c| c.value))
            }
        }
    }

    /// Every row that passes the filters, sorted (ties by model name, then source).
    pub fn select<'t>(&self, table: &'t Table) -> Vec<&'t Row> {
        let mut keyed: Vec<(SortKey<'t>, &'t Row)> = table
            .rows
            .iter()
            .filter(|r| self.keeps(r))
            .map(|r| (self.sort_key(r), r))
            .collect();
        keyed.sort_by(|(ka, a), (kb, b)| {
            ka.cmp(kb, self.descending)
                .then_with(|| a.model.cmp(&b.model))
                .then_with(|| a.source.cmp(&b.source))
        });
        keyed.into_iter().map(|(_, r)| r).collect()
    }

    /// The rows of the current page.
    pub fn page_of<'a, 't>(&self, rows: &'a [&'t Row]) -> &'a [&'t Row] {
        let start = (self.page - 1)
            .saturating_mul(self.per_page)
            .min(rows.len());
        let end = start.saturating_add(self.per_page).min(rows.len());
        &rows[start..end]
    }

    /// The query string of this view with some parameters replaced (`None` removes one).
    pub fn query_string(&self, changes: &[(&str, Option<&str>)]) -> String {
        let p = &self.params;
        let mut pairs: Vec<(&str, String)> = Vec::new();
        let fields: [(&str, &Option<String>); 14] = [
            ("q", &p.q),
            ("country", &p.country),
            ("org", &p.org),
            ("open", &p.open),
            ("params_min", &p.params_min),
            ("params_max", &p.params_max),
            ("released_from", &p.released_from),
            ("released_to", &p.released_to),
            ("source", &p.source),
            ("cols", &p.cols),
            ("sort", &p.sort),
            ("dir", &p.dir),
            ("page", &p.page),
            ("per_page", &p.per_page),
        ];
        for (k, v) in fields {
            let value = match changes.iter().find(|(ck, _)| *ck == k) {
                Some((_, new)) => new.map(str::to_string),
                None => non_empty(v),
            };
            if let Some(v) = value {
                pairs.push((k, v));
            }
        }
        crate::urls::query(&pairs)
    }
}

/// What a row is sorted by.
enum SortKey<'r> {
    Text(Option<&'r str>),
    Date(Option<NaiveDate>),
    Number(Option<f64>),
}

impl SortKey<'_> {
    /// Missing values go last whichever the direction.
    fn cmp(&self, other: &Self, descending: bool) -> Ordering {
        fn opt<T: PartialOrd>(a: Option<T>, b: Option<T>, desc: bool) -> Ordering {
            match (a, b) {
                (Some(x), Some(y)) => {
                    let o = x.partial_cmp(&y).unwrap_or(Ordering::Equal);
                    if desc {
                        o.reverse()
                    } else {
                        o
                    }
                }
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            }
        }
        match (self, other) {
            (SortKey::Text(a), SortKey::Text(b)) => opt(*a, *b, descending),
            (SortKey::Date(a), SortKey::Date(b)) => opt(*a, *b, descending),
            (SortKey::Number(a), SortKey::Number(b)) => opt(*a, *b, descending),
            // One view sorts every row by the same field: keys are always of one kind.
            _ => Ordering::Equal,
        }
    }
}

/// The most populated columns (at most [`DEFAULT_COLUMNS`]), in table order.
fn default_columns(table: &Table) -> Vec<Column> {
    let mut by_count: Vec<&Column> = table.columns.iter().collect();
    by_count.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.id.cmp(&b.id)));
    let keep: Vec<&str> = by_count
        .iter()
        .take(DEFAULT_COLUMNS)
        .map(|c| c.id.as_str())
        .collect();
    table
        .columns
        .iter()
        .filter(|c| keep.contains(&c.id.as_str()))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{Cell, Table};

    fn row(model: &str, country: Option<&str>, params: Option<f64>, mmlu: Option<f64>) -> Row {
        Row {
            source: "s".into(),
            model: model.into(),
            measured: false,
            org: Some("org".into()),
            org_name: Some("Org".into()),
            country: country.map(str::to_string),
            release_date: None,
            params_b: params,
            open_weights: Some(true),
            cells: mmlu
                .map(|v| {
                    let c = Cell {
                        value: v,
                        stderr: None,
                        ci_lower: None,
                        ci_upper: None,
                        basis: None,
                    };
                    [("mmlu".to_string(), c)].into_iter().collect()
                })
                .unwrap_or_default(),
        }
    }

    fn table() -> Table {
        Table {
            columns: vec![Column {
                id: "mmlu".into(),
                name: "MMLU".into(),
                count: 3,
            }],
            rows: vec![
                row("a", Some("CN"), Some(7.0), Some(0.6)),
                row("b", Some("US"), Some(70.0), Some(0.8)),
                row("c", Some("CN"), None, Some(0.7)),
                row("d", Some("cn"), Some(3.0), None),
            ],
            sources: vec!["s".into()],
        }
    }

    fn models(p: LeaderboardParams) -> Vec<String> {
        let t = table();
        let v = View::parse(&p, &t).expect("valid view");
        v.select(&t).iter().map(|r| r.model.clone()).collect()
    }

    #[test]
    fn filters_and_sorts_with_missing_values_last() {
        // Default: the first column, high to low; no score last.
        assert_eq!(models(LeaderboardParams::default()), ["b", "c", "a", "d"]);
        let cn = LeaderboardParams {
            country: Some("cn".into()),
            ..Default::default()
        };
        assert_eq!(models(cn.clone()), ["c", "a", "d"]);
        // A parameter bound drops rows of unknown size.
        let small = LeaderboardParams {
            params_max: Some("10".into()),
            ..cn
        };
        assert_eq!(models(small.clone()), ["a", "d"]);
        let by_size = LeaderboardParams {
            sort: Some("params".into()),
            ..small
        };
        assert_eq!(models(by_size), ["d", "a"]);
        let asc = LeaderboardParams {
            sort: Some("b:mmlu".into()),
            dir: Some("asc".into()),
            ..Default::default()
        };
        assert_eq!(models(asc), ["a", "c", "b", "d"]);
    }

    #[test]
    fn bad_parameters_are_refused_with_the_reason() {
        let t = table();
        for (p, needle) in [
            (
                LeaderboardParams {
                    params_min: Some("seven".into()),
                    ..Default::default()
                },
                "not a number",
            ),
            (
                LeaderboardParams {
                    cols: Some("nope".into()),
                    ..Default::default()
                },
                "no column",
            ),
            (
                LeaderboardParams {
                    sort: Some("b:nope".into()),
                    ..Default::default()
                },
                "sort=",
            ),
            (
                LeaderboardParams {
                    per_page: Some("0".into()),
                    ..Default::default()
                },
                "per_page",
            ),
        ] {
            let err = View::parse(&p, &t).expect_err("refused").to_string();
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn the_query_string_keeps_the_view_and_applies_changes() {
        let t = table();
        let p = LeaderboardParams {
            country: Some("CN".into()),
            q: Some("a b&c".into()),
            ..Default::default()
        };
        let v = View::parse(&p, &t).expect("valid");
        assert_eq!(
            v.query_string(&[("page", Some("2"))]),
            "?q=a%20b%26c&country=CN&page=2"
        );
        assert_eq!(v.query_string(&[("country", None)]), "?q=a%20b%26c");
    }
}
