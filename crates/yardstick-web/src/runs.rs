//! Runs and samples: each run's config, hashes and progress (a running run's page refreshes itself), its
//! samples with prompt, response, filtered answer and scores, the wrong ones alone, and two runs side by
//! side on the same items (matched by document hash: the paired view behind a paired gap).

use crate::error::{Result, WebError};
use crate::state::AppState;
use crate::urls;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use yardstick_store::ledger::{RunStatus, RunSummary};
use yardstick_store::{RunDetail, SampleRow};

/// Samples per page.
pub const SAMPLES_PER_PAGE: usize = 100;
/// Seconds between refreshes of a running run's page.
pub const REFRESH_SECONDS: u32 = 5;
/// Most samples of one task read at once (a task has at most tens of thousands of documents).
const MAX_SAMPLES: usize = 1_000_000;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct RunParams {
    pub id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct SamplesParams {
    pub run: Option<String>,
    pub task: Option<String>,
    /// `1`: only samples scored wrong.
    pub wrong: Option<String>,
    pub page: Option<String>,
    /// A document id (the single-sample page).
    pub doc: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CompareParams {
    pub a: Option<String>,
    pub b: Option<String>,
    pub task: Option<String>,
    /// `1`: only items where the two runs' scores differ.
    pub differ: Option<String>,
}

fn required<'a>(name: &str, v: &'a Option<String>) -> Result<&'a str> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| WebError::BadRequest(format!("{name}= is missing")))
}

fn flag(v: &Option<String>) -> bool {
    matches!(v.as_deref(), Some("1" | "true" | "yes" | "on"))
}

/// A run in a list, with its link.
#[derive(Debug, Serialize)]
pub struct RunLink {
    pub link: String,
    pub model_link: String,
    pub run: RunSummary,
}

pub fn runs_list(state: &AppState) -> Result<Vec<RunLink>> {
    Ok(state
        .store
        .list_runs()?
        .into_iter()
        .map(|run| RunLink {
            link: urls::link("/run", &[("id", &run.run_id)]),
            model_link: urls::link(
                "/model",
                &[
                    ("source", yardstick_analysis::dataset::SOURCE_YARDSTICK),
                    ("name", &run.model_name),
                ],
            ),
            run,
        })
        .collect())
}

/// A task of the run page with its links.
#[derive(Debug, Serialize)]
pub struct TaskLinks {
    pub task: String,
    pub samples: String,
    pub wrong: String,
}

#[derive(Debug, Serialize)]
pub struct RunPage {
    pub run: RunDetail,
    pub running: bool,
    pub links: Vec<TaskLinks>,
    /// Other runs with a task in common, for the side-by-side view.
    pub compare: Vec<(String, String)>,
}

fn load_run(state: &AppState, id: &str) -> Result<RunDetail> {
    state.store.run_detail(id)?.ok_or_else(|| {
        WebError::NotFound(format!(
            "no run {id:?} in this store; the runs page lists them"
        ))
    })
}

pub fn run_page(state: &AppState, p: &RunParams) -> Result<RunPage> {
    let id = required("id", &p.id)?;
    let run = load_run(state, id)?;
    let links = run
        .tasks
        .iter()
        .map(|t| TaskLinks {
            task: t.task.task.clone(),
            samples: urls::link("/samples", &[("run", id), ("task", &t.task.task)]),
            wrong: urls::link(
                "/samples",
                &[("run", id), ("task", &t.task.task), ("wrong", "1")],
            ),
        })
        .collect::<Vec<_>>();
    let mut compare = Vec::new();
    for other in state.store.list_runs()? {
        if other.run_id == run.record.run_id {
            continue;
        }
        for t in run
            .tasks
            .iter()
            .filter(|t| other.tasks.contains(&t.task.task))
        {
            compare.push((
                format!(
                    "{} · {} ({})",
                    other.model_name,
                    t.task.task,
                    other.run_id.chars().take(12).collect::<String>()
                ),
                urls::link(
                    "/compare",
                    &[("a", id), ("b", &other.run_id), ("task", &t.task.task)],
                ),
            ));
        }
    }
    Ok(RunPage {
        running: run.status == RunStatus::Running,
        run,
        links,
        compare,
    })
}

/// A per-item metric's number: a plain number or boolean, or the `value` of a stored metric
/// (`{"kind": "int", "value": 1}`).
fn scalar(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        serde_json::Value::Object(o) => o.get("value").and_then(scalar),
        v => v.as_f64(),
    }
}

/// The metrics of a sample that have a single number, by name.
fn scores(metrics: &serde_json::Value) -> BTreeMap<String, f64> {
    metrics
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| scalar(v).map(|x| (k.clone(), x)))
                .collect()
        })
        .unwrap_or_default()
}

/// The score that says whether a sample is right: the first of the usual per-item metrics it has.
fn correctness(scores: &BTreeMap<String, f64>) -> Option<f64> {
    const ORDER: [&str; 8] = [
        "acc",
        "exact_match",
        "pass@1",
        "pass_at_1",
        "prompt_level_strict_acc",
        "acc_norm",
        "em",
        "mc2",
    ];
    ORDER
        .iter()
        .find_map(|k| scores.get(*k).copied())
        .or_else(|| scores.values().next().copied())
}

/// One sample as shown: the parts of its record people read.
#[derive(Debug, Serialize)]
pub struct SampleView {
    pub link: String,
    pub doc_id: i64,
    pub filter: String,
    pub doc_hash: String,
    pub prompt: serde_json::Value,
    pub response: serde_json::Value,
    pub filtered: serde_json::Value,
    pub target: serde_json::Value,
    pub metrics: serde_json::Value,
    /// The metrics with a single number (what the tables show).
    pub scores: BTreeMap<String, f64>,
    /// The continuations scored after the prompt (multiple choice: one per choice).
    pub continuations: Vec<serde_json::Value>,
    /// 1 right, 0 wrong, between for partial credit; None when the sample has no usable score.
    pub correct: Option<f64>,
    #[serde(skip)]
    pub record: serde_json::Value,
}

/// The `arg_N` of every request of a record (`arg_0` is the prompt: a text, or chat messages).
fn request_args(record: &serde_json::Value, n: usize) -> Vec<serde_json::Value> {
    let key = format!("arg_{n}");
    record
        .get("arguments")
        .and_then(|a| a.as_object())
        .map(|args| args.values().filter_map(|a| a.get(&key).cloned()).collect())
        .unwrap_or_default()
}

/// The distinct prompts of a record (a multiple-choice item sends one prompt per choice, all the same).
fn prompts(record: &serde_json::Value) -> serde_json::Value {
    let mut list = request_args(record, 0);
    list.dedup();
    match list.len() {
        0 => serde_json::Value::Null,
        1 => list.into_iter().next().unwrap_or_default(),
        _ => serde_json::Value::Array(list),
    }
}

fn view(row: SampleRow) -> SampleView {
    let s = row.sample;
    let sc = scores(&s.metrics);
    let field = |k: &str| s.record.get(k).cloned().unwrap_or_default();
    SampleView {
        link: urls::link(
            "/sample",
            &[
                ("run", &row.run_id),
                ("task", &s.task),
                ("doc", &s.doc_id.to_string()),
            ],
        ),
        doc_id: s.doc_id,
        filter: s.filter.clone(),
        doc_hash: s.doc_hash.clone(),
        prompt: prompts(&s.record),
        response: field("resps"),
        filtered: field("filtered_resps"),
        target: field("target"),
        continuations: request_args(&s.record, 1)
            .into_iter()
            .filter(|c| c.is_string())
            .collect(),
        correct: correctness(&sc),
        scores: sc,
        metrics: s.metrics,
        record: s.record,
    }
}

#[derive(Debug, Serialize)]
pub struct SamplesPage {
    pub run_id: String,
    pub model: String,
    pub task: String,
    pub wrong_only: bool,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub samples: Vec<SampleView>,
    pub run_link: String,
    pub all_link: String,
    pub wrong_link: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

pub fn samples_page(state: &AppState, p: &SamplesParams) -> Result<SamplesPage> {
    let run_id = required("run", &p.run)?;
    let task = required("task", &p.task)?;
    let run = load_run(state, run_id)?;
    let wrong_only = flag(&p.wrong);
    let page: usize = match p.page.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => 1,
        Some(s) => s.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
            WebError::BadRequest(format!("page={s:?} must be a whole number from 1"))
        })?,
    };
    let all: Vec<SampleView> = state
        .store
        .run_samples(run_id, task, MAX_SAMPLES, 0)?
        .into_iter()
        .map(view)
        .filter(|v| !wrong_only || v.correct.is_some_and(|c| c < 1.0))
        .collect();
    let total = all.len();
    let pages = total.div_ceil(SAMPLES_PER_PAGE).max(1);
    let samples: Vec<SampleView> = all
        .into_iter()
        .skip((page - 1).saturating_mul(SAMPLES_PER_PAGE))
        .take(SAMPLES_PER_PAGE)
        .collect();
    let wrong = if wrong_only { "1" } else { "" };
    let page_link = |n: usize| {
        let mut pairs = vec![("run", run_id), ("task", task)];
        if wrong_only {
            pairs.push(("wrong", wrong));
        }
        let n = n.to_string();
        pairs.push(("page", &n));
        urls::link("/samples", &pairs)
    };
    Ok(SamplesPage {
        run_id: run_id.to_string(),
        model: run.record.model_name,
        task: task.to_string(),
        wrong_only,
        total,
        page,
        pages,
        samples,
        run_link: urls::link("/run", &[("id", run_id)]),
        all_link: urls::link("/samples", &[("run", run_id), ("task", task)]),
        wrong_link: urls::link(
            "/samples",
            &[("run", run_id), ("task", task), ("wrong", "1")],
        ),
        prev: (page > 1).then(|| page_link(page - 1)),
        next: (page < pages).then(|| page_link(page + 1)),
    })
}

#[derive(Debug, Serialize)]
pub struct SamplePage {
    pub run_id: String,
    pub model: String,
    pub task: String,
    pub doc_id: i64,
    pub run_link: String,
    pub samples: Vec<SampleView>,
    /// The stored records, whole.
    pub records: Vec<serde_json::Value>,
}

pub fn sample_page(state: &AppState, p: &SamplesParams) -> Result<SamplePage> {
    let run_id = required("run", &p.run)?;
    let task = required("task", &p.task)?;
    let doc = required("doc", &p.doc)?;
    let doc_id: i64 = doc
        .parse()
        .map_err(|_| WebError::BadRequest(format!("doc={doc:?} is not a document id")))?;
    let run = load_run(state, run_id)?;
    let rows = state.store.run_sample(run_id, task, doc_id)?;
    if rows.is_empty() {
        return Err(WebError::NotFound(format!(
            "run {run_id} has no sample of task {task:?} for document {doc_id}"
        )));
    }
    let samples: Vec<SampleView> = rows.into_iter().map(view).collect();
    Ok(SamplePage {
        run_id: run_id.to_string(),
        model: run.record.model_name,
        task: task.to_string(),
        doc_id,
        run_link: urls::link("/run", &[("id", run_id)]),
        records: samples.iter().map(|s| s.record.clone()).collect(),
        samples,
    })
}

/// One item answered by both runs.
#[derive(Debug, Serialize)]
pub struct PairedItem {
    pub doc_hash: String,
    pub a: SampleView,
    pub b: SampleView,
    pub differ: bool,
}

#[derive(Debug, Serialize)]
pub struct ComparePage {
    pub task: String,
    pub model_a: String,
    pub model_b: String,
    pub run_a: String,
    pub run_b: String,
    pub items: Vec<PairedItem>,
    pub paired: usize,
    pub only_a: usize,
    pub only_b: usize,
    pub a_right_b_wrong: usize,
    pub a_wrong_b_right: usize,
    pub differ_only: bool,
    pub differ_link: String,
    pub all_link: String,
}

pub fn compare_page(state: &AppState, p: &CompareParams) -> Result<ComparePage> {
    let a = required("a", &p.a)?;
    let b = required("b", &p.b)?;
    let task = required("task", &p.task)?;
    let run_a = load_run(state, a)?;
    let run_b = load_run(state, b)?;
    let key = |s: &SampleView| (s.doc_hash.clone(), s.filter.clone());
    let side_a: Vec<SampleView> = state
        .store
        .run_samples(a, task, MAX_SAMPLES, 0)?
        .into_iter()
        .map(view)
        .collect();
    let mut side_b: HashMap<(String, String), SampleView> = state
        .store
        .run_samples(b, task, MAX_SAMPLES, 0)?
        .into_iter()
        .map(view)
        .map(|s| (key(&s), s))
        .collect();
    let n_b = side_b.len();
    let n_a = side_a.len();
    let mut items = Vec::new();
    let (mut ab, mut ba) = (0, 0);
    for sa in side_a {
        if let Some(sb) = side_b.remove(&key(&sa)) {
            let (ca, cb) = (sa.correct, sb.correct);
            if let (Some(x), Some(y)) = (ca, cb) {
                if x > y {
                    ab += 1;
                } else if y > x {
                    ba += 1;
                }
            }
            items.push(PairedItem {
                doc_hash: sa.doc_hash.clone(),
                differ: ca != cb,
                a: sa,
                b: sb,
            });
        }
    }
    let paired = items.len();
    let differ_only = flag(&p.differ);
    if differ_only {
        items.retain(|i| i.differ);
    }
    Ok(ComparePage {
        task: task.to_string(),
        model_a: run_a.record.model_name,
        model_b: run_b.record.model_name,
        run_a: a.to_string(),
        run_b: b.to_string(),
        paired,
        only_a: n_a - paired,
        only_b: n_b - paired,
        a_right_b_wrong: ab,
        a_wrong_b_right: ba,
        items,
        differ_only,
        differ_link: urls::link(
            "/compare",
            &[("a", a), ("b", b), ("task", task), ("differ", "1")],
        ),
        all_link: urls::link("/compare", &[("a", a), ("b", b), ("task", task)]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn correctness_reads_the_usual_metric_first() {
        let c = |m: serde_json::Value| correctness(&scores(&m));
        assert_eq!(c(json!({"acc_norm": 1.0, "acc": 0.0})), Some(0.0));
        assert_eq!(c(json!({"exact_match": true})), Some(1.0));
        assert_eq!(c(json!({"bleu": 0.25})), Some(0.25));
        assert_eq!(c(json!({"acc": {"kind": "int", "value": 1}})), Some(1.0));
        assert_eq!(
            c(json!({"f1": {"kind": "gold_pred", "gold": 1, "pred": 0}})),
            None
        );
        assert_eq!(c(json!({})), None);
    }

    #[test]
    fn the_prompt_is_shown_once_with_each_continuation() {
        let rec = json!({"arguments": {
            "gen_args_0": {"arg_0": "Q?", "arg_1": " A"},
            "gen_args_1": {"arg_0": "Q?", "arg_1": " B"}}});
        assert_eq!(prompts(&rec), json!("Q?"));
        assert_eq!(request_args(&rec, 1), vec![json!(" A"), json!(" B")]);
        let rec =
            json!({"arguments": {"gen_args_0": {"arg_0": "P1"}, "gen_args_1": {"arg_0": "P2"}}});
        assert_eq!(prompts(&rec), json!(["P1", "P2"]));
    }
}
