//! The terminal table of lm-eval's `make_table` (rendered by pytablewriter's Markdown writer):
//! `Tasks | Version | Filter | n-shot | Metric | ↑/↓ | Value | ± | Stderr`, tasks in the group
//! hierarchy with `" - "`-style indentation by depth, metrics sorted by key, values with four
//! decimals, and groups printed again in a second table (`column = "groups"`).
//!
//! pytablewriter's rendering is reproduced for the common cases: centred headers, numeric columns
//! right-aligned and re-printed with the column's largest number of significant decimals, other
//! columns left-aligned, East Asian wide characters counted as two columns.

use std::collections::BTreeMap;

use crate::scoring::pyfloat::py_format_fixed;
use yardstick_core::python::json::PyJson;
use yardstick_core::python::py_float_repr;

fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let u = c as u32;
            let wide = matches!(u,
                0x1100..=0x115f | 0x2e80..=0x303e | 0x3041..=0x33ff | 0x3400..=0x4dbf | 0x4e00..=0x9fff
                | 0xa000..=0xa4cf | 0xac00..=0xd7a3 | 0xf900..=0xfaff | 0xfe30..=0xfe4f | 0xff00..=0xff60
                | 0xffe0..=0xffe6 | 0x20000..=0x2fffd | 0x30000..=0x3fffd);
            if wide {
                2
            } else {
                1
            }
        })
        .sum()
}

/// Depth of each name and display order (`_build_hierarchy_info`).
pub(crate) fn hierarchy(
    group_subtasks: &BTreeMap<String, Vec<String>>,
    available: &[String],
) -> (BTreeMap<String, usize>, Vec<String>) {
    let mut depth: BTreeMap<String, usize> = BTreeMap::new();
    let mut ordered: Vec<String> = Vec::new();
    fn visit(
        name: &str,
        d: usize,
        gs: &BTreeMap<String, Vec<String>>,
        available: &[String],
        depth: &mut BTreeMap<String, usize>,
        ordered: &mut Vec<String>,
    ) {
        depth.insert(name.to_string(), d);
        if available.iter().any(|a| a == name) {
            ordered.push(name.to_string());
        }
        if let Some(children) = gs.get(name) {
            let mut sorted = children.clone();
            sorted.sort();
            for c in sorted {
                visit(&c, d + 1, gs, available, depth, ordered);
            }
        }
    }
    let all_children: Vec<&String> = group_subtasks.values().flatten().collect();
    for name in group_subtasks.keys() {
        if !all_children.contains(&name) {
            visit(name, 0, group_subtasks, available, &mut depth, &mut ordered);
        }
    }
    let mut rest: Vec<String> = available.to_vec();
    rest.sort();
    for k in rest {
        if !depth.contains_key(&k) {
            ordered.push(k);
        }
    }
    (depth, ordered)
}

enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

pub(crate) fn value_cell(v: &PyJson) -> String {
    match v {
        PyJson::Float(x) => py_format_fixed(*x, 4),
        PyJson::Int(i) => i.to_string(),
        PyJson::Str(s) => s.clone(),
        PyJson::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        PyJson::None => "None".to_string(),
        other => other.dumps(),
    }
}

fn classify(s: String) -> Cell {
    if s.trim().is_empty() {
        return Cell::Empty;
    }
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() => Cell::Number(x),
        _ => Cell::Text(s),
    }
}

/// Decimal places pytablewriter would print a number with (its shortest form's fraction length).
fn decimals(x: f64) -> usize {
    let r = py_float_repr(x);
    if r.contains('e') {
        return 0;
    }
    match r.split_once('.') {
        Some((_, f)) => f.trim_end_matches('0').len(),
        None => 0,
    }
}

/// Render `results` (or, with `column = "groups"`, its `groups`) like lm-eval's `make_table`.
/// Returns an empty string when the column is absent.
pub fn make_table(results: &PyJson, column: &str) -> String {
    let Some(PyJson::Dict(entries)) = results.get(column) else {
        return String::new();
    };
    let column_name = if column == "groups" {
        "Groups"
    } else {
        "Tasks"
    };
    let mut group_subtasks: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Some(PyJson::Dict(gs)) = results.get("group_subtasks") {
        for (k, v) in gs {
            if let PyJson::List(items) = v {
                group_subtasks.insert(
                    k.clone(),
                    items
                        .iter()
                        .filter_map(|i| i.as_str().map(String::from))
                        .collect(),
                );
            }
        }
    }
    let available: Vec<String> = entries.keys().cloned().collect();
    let (depth, order) = hierarchy(&group_subtasks, &available);

    let mut rows: Vec<Vec<String>> = Vec::new();
    for k in &order {
        let Some(PyJson::Dict(dic)) = entries.get(k) else {
            continue;
        };
        let mut version = results
            .get("versions")
            .and_then(|v| v.get(k))
            .map(|v| match v {
                PyJson::Float(x) => py_float_repr(*x),
                other => value_cell(other),
            })
            .unwrap_or_else(|| "    N/A".to_string());
        let n = results
            .get("n-shot")
            .and_then(|v| v.get(k))
            .map(value_cell)
            .unwrap_or_else(|| " ".to_string());
        let hib = results.get("higher_is_better").and_then(|v| v.get(k));
        let mut name = dic
            .get("alias")
            .and_then(|a| a.as_str())
            .unwrap_or(k)
            .to_string();
        let d = depth.get(k).copied().unwrap_or(0);
        if d > 0 {
            name = format!("{}- {}", " ".repeat(d), name);
        }
        let mut items: Vec<(&String, &PyJson)> = dic
            .iter()
            .filter(|(key, _)| {
                !matches!(
                    key.as_str(),
                    "alias" | "name" | "sample_len" | "sample_count"
                )
            })
            .collect();
        items.sort_by(|a, b| a.0.cmp(b.0));
        for (mf, v) in &items {
            let (m, f) = mf.split_once(',').unwrap_or((mf.as_str(), ""));
            if m.ends_with("_stderr") {
                continue;
            }
            let arrow = match hib.and_then(|h| h.get(m)) {
                Some(PyJson::Bool(true)) => "↑",
                Some(PyJson::Bool(false)) => "↓",
                _ => "",
            };
            let value = value_cell(v);
            let se_key = format!("{m}_stderr,{f}");
            let (pm, se) = match dic.get(&se_key) {
                Some(PyJson::Str(s)) if s == "N/A" => ("±", "   N/A".to_string()),
                Some(PyJson::Float(x)) => ("±", py_format_fixed(*x, 4)),
                Some(other) => ("±", value_cell(other)),
                None => ("", String::new()),
            };
            rows.push(vec![
                name.clone(),
                version.clone(),
                f.to_string(),
                n.clone(),
                m.to_string(),
                arrow.into(),
                value,
                pm.into(),
                se,
            ]);
            name = String::new();
            version = String::new();
        }
    }
    render_markdown(
        &[
            column_name,
            "Version",
            "Filter",
            "n-shot",
            "Metric",
            "",
            "Value",
            "",
            "Stderr",
        ],
        rows,
    )
}

fn render_markdown(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let ncol = headers.len();
    let cells: Vec<Vec<Cell>> = rows
        .into_iter()
        .map(|r| r.into_iter().map(classify).collect())
        .collect();
    let mut has_text = vec![false; ncol];
    let mut has_number = vec![false; ncol];
    let mut places = vec![0usize; ncol];
    for row in &cells {
        for (c, cell) in row.iter().enumerate() {
            match cell {
                Cell::Text(_) => has_text[c] = true,
                Cell::Number(x) => {
                    has_number[c] = true;
                    places[c] = places[c].max(decimals(*x));
                }
                Cell::Empty => {}
            }
        }
    }
    let numeric: Vec<bool> = (0..ncol).map(|c| has_number[c] && !has_text[c]).collect();
    // (text, right-aligned): in a numeric column every number gets the column's decimals; in a mixed
    // column each number is printed with its own significant decimals, still right-aligned.
    let rendered: Vec<Vec<(String, bool)>> = cells
        .into_iter()
        .map(|row| {
            row.into_iter()
                .enumerate()
                .map(|(c, cell)| match cell {
                    Cell::Empty => (String::new(), numeric[c]),
                    Cell::Text(s) => (s, false),
                    Cell::Number(x) => {
                        if numeric[c] {
                            (format!("{:.*}", places[c], x), true)
                        } else {
                            (format!("{:.*}", decimals(x), x), true)
                        }
                    }
                })
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| display_width(h).max(3)).collect();
    for row in &rendered {
        for (c, (s, _)) in row.iter().enumerate() {
            widths[c] = widths[c].max(display_width(s));
        }
    }
    let pad = |s: &str, w: usize, right: bool| -> String {
        let fill = w.saturating_sub(display_width(s));
        if right {
            format!("{}{}", " ".repeat(fill), s)
        } else {
            format!("{}{}", s, " ".repeat(fill))
        }
    };
    let mut out = String::new();
    out.push('|');
    for (c, h) in headers.iter().enumerate() {
        let fill = widths[c].saturating_sub(display_width(h));
        out.push_str(&format!(
            "{}{}{}|",
            " ".repeat(fill / 2),
            h,
            " ".repeat(fill - fill / 2)
        ));
    }
    out.push('\n');
    out.push('|');
    for c in 0..ncol {
        if numeric[c] {
            out.push_str(&format!("{}:|", "-".repeat(widths[c] - 1)));
        } else {
            out.push_str(&format!("{}|", "-".repeat(widths[c])));
        }
    }
    out.push('\n');
    for row in &rendered {
        out.push('|');
        for (c, (s, right)) in row.iter().enumerate() {
            out.push_str(&pad(s, widths[c], *right));
            out.push('|');
        }
        out.push('\n');
    }
    out
}
