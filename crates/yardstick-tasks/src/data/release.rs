//! Original-release benchmark files under `--data-dir` (e.g. `shared/data/benchmarks`), mapped to the
//! exact schema (column names, column order, value types) and row order of the Hugging Face datasets
//! lm-eval 0.4.13 loads. [`LAYOUTS`] is the table; `MAPPINGS.md` beside this file explains each mapping
//! and what it was checked against.
//!
//! | HF dataset (`dataset_path`) | configs | splits | files under `--data-dir` |
//! |---|---|---|---|
//! | `cais/mmlu` (`hails/mmlu_no_train`) | 57 subjects, `all` | `test`, `validation`, `dev` | `mmlu/{test,val,dev}/<subject>_{test,val,dev}.csv` |
//! | `haonan-li/cmmlu` | 67 subjects | `test`, `dev` | `cmmlu/{test,dev}/<subject>.csv` |
//! | `truthfulqa/truthful_qa` (`truthful_qa`) | `multiple_choice`, `generation` | `validation` | `truthfulqa/data/hf-013686a/{mc_task.json,TruthfulQA.csv}` (else `data/v1/`) |
//! | `openai/gsm8k` (`gsm8k`) | `main` | `train`, `test` | `gsm8k/{train,test}.jsonl` |
//! | `google/IFEval` | `default` | `train` | `ifeval/input_data.jsonl` |
//! | `openai/openai_humaneval` (`openai_humaneval`) | `openai_humaneval` | `test` | `humaneval/HumanEval.jsonl.gz` |
//! | `google-research-datasets/mbpp` (`mbpp`) | `full` | `train`, `test`, `validation`, `prompt` | `mbpp/mbpp.jsonl` |
//! | `HuggingFaceH4/MATH-500` | `default` | `test` | `math500/test.jsonl` |
//! | `EleutherAI/hendrycks_math` | 7 subjects | `train`, `test` | `math/{train,test}.jsonl` (rows of the subject, by file name) |
//! | `SaylorTwift/bbh`, `lukaemon/bbh` | 27 tasks | `test` | `bbh/bbh/<task>.json` |
//! | `juletxara/mgsm` | 11 languages | `test` (`train`: not in the release) | `mgsm/mgsm_<lang>.tsv` |
//! | `weitianwen/cmath` | `default` | `validation` (`test`: not in the release) | `cmath/cmath_dev.jsonl` |
//! | `allenai/ai2_arc` (`ai2_arc`) | `ARC-Challenge`, `ARC-Easy` | `train`, `test`, `validation` | `arc/<config>/<config>-{Train,Test,Dev}.jsonl` |
//! | `ceval/ceval-exam` | 52 subjects | `val`, `dev` (`test`: not copied) | `ceval/{val,dev}/<subject>_{val,dev}.csv` |
//! | `TIGER-Lab/MMLU-Pro` | `default` | `test`, `validation` | `mmlu_pro/{test,validation}.jsonl` |

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use yardstick_core::python::text as pystr;
use yardstick_core::Doc;

use super::csv::{cell_as_feature_string, infer_column, parse_python_csv, strip_bom, CsvRecord};
use super::error::DataError;
use super::json::{json_to_docs, jsonl_objects};
use super::read_text;

mod math;
mod more;

/// Where one split of one config lives, and how it becomes docs.
pub(crate) struct Located {
    /// Every file the split is read from, in row order.
    pub files: Vec<PathBuf>,
    load: fn(&Located) -> Result<Vec<Doc>, DataError>,
    /// The config, as the loader needs it (e.g. MMLU's subject column).
    config: String,
    split: String,
}

impl Located {
    pub(crate) fn load(&self) -> Result<Vec<Doc>, DataError> {
        (self.load)(self)
    }
}

/// Why a split could not be located in a release layout.
pub(crate) enum Miss {
    /// The config is not one this dataset has (message lists the configs).
    UnknownConfig(String),
    /// The split is not one this dataset has.
    UnknownSplit(Vec<String>),
    /// Known config and split, but the files are absent: these paths were looked for.
    Absent(Vec<PathBuf>),
}

/// One row of the mapping table.
pub(crate) struct ReleaseLayout {
    /// HF dataset ids served by this layout (compared case-insensitively).
    pub ids: &'static [&'static str],
    /// Its directory under `--data-dir`.
    pub dir: &'static str,
    /// The config used when the task gives none (`None`: a config is required).
    pub default_config: Option<&'static str>,
    /// Configs available under `root` (= `data_dir/dir`).
    pub configs: fn(&Path) -> Vec<String>,
    /// Splits of a config, in the HF dataset's order.
    pub splits: &'static [&'static str],
    /// Resolve (root, config, split) to files and a loader.
    pub locate: fn(&Path, &str, &str) -> Result<Located, Miss>,
}

/// The explicit dataset-path → release-layout table.
pub(crate) static LAYOUTS: &[ReleaseLayout] = &[
    ReleaseLayout {
        ids: &["cais/mmlu", "hails/mmlu_no_train"],
        dir: "mmlu",
        default_config: None,
        configs: mmlu_configs,
        splits: &["test", "validation", "dev"],
        locate: mmlu_locate,
    },
    ReleaseLayout {
        ids: &["haonan-li/cmmlu"],
        dir: "cmmlu",
        default_config: None,
        configs: cmmlu_configs,
        splits: &["test", "dev"],
        locate: cmmlu_locate,
    },
    ReleaseLayout {
        ids: &["truthfulqa/truthful_qa", "truthful_qa"],
        dir: "truthfulqa",
        default_config: None,
        configs: |_| vec!["generation".into(), "multiple_choice".into()],
        splits: &["validation"],
        locate: truthfulqa_locate,
    },
    ReleaseLayout {
        ids: &["openai/gsm8k", "gsm8k"],
        dir: "gsm8k",
        default_config: None,
        configs: |_| vec!["main".into()],
        splits: &["train", "test"],
        locate: gsm8k_locate,
    },
    ReleaseLayout {
        ids: &["google/ifeval"],
        dir: "ifeval",
        default_config: Some("default"),
        configs: |_| vec!["default".into()],
        splits: &["train"],
        locate: ifeval_locate,
    },
    ReleaseLayout {
        ids: &["openai/openai_humaneval", "openai_humaneval"],
        dir: "humaneval",
        default_config: Some("openai_humaneval"),
        configs: |_| vec!["openai_humaneval".into()],
        splits: &["test"],
        locate: humaneval_locate,
    },
    ReleaseLayout {
        ids: &["google-research-datasets/mbpp", "mbpp"],
        dir: "mbpp",
        default_config: Some("full"),
        configs: |_| vec!["full".into()],
        splits: &["train", "test", "validation", "prompt"],
        locate: mbpp_locate,
    },
    ReleaseLayout {
        ids: &["huggingfaceh4/math-500"],
        dir: "math500",
        default_config: Some("default"),
        configs: |_| vec!["default".into()],
        splits: &["test"],
        locate: math::math500_locate,
    },
    ReleaseLayout {
        ids: &["eleutherai/hendrycks_math"],
        dir: "math",
        default_config: None,
        configs: math::hendrycks_math_configs,
        splits: &["train", "test"],
        locate: math::hendrycks_math_locate,
    },
    ReleaseLayout {
        ids: &["juletxara/mgsm"],
        dir: "mgsm",
        default_config: None,
        configs: more::mgsm_configs,
        splits: &["train", "test"],
        locate: more::mgsm_locate,
    },
    ReleaseLayout {
        ids: &["weitianwen/cmath"],
        dir: "cmath",
        default_config: Some("default"),
        configs: |_| vec!["default".into()],
        splits: &["test", "validation"],
        locate: more::cmath_locate,
    },
    ReleaseLayout {
        ids: &["allenai/ai2_arc", "ai2_arc"],
        dir: "arc",
        default_config: None,
        configs: |_| vec!["ARC-Challenge".into(), "ARC-Easy".into()],
        splits: &["train", "test", "validation"],
        locate: more::arc_locate,
    },
    ReleaseLayout {
        ids: &["ceval/ceval-exam"],
        dir: "ceval",
        default_config: None,
        configs: more::ceval_configs,
        splits: &["test", "val", "dev"],
        locate: more::ceval_locate,
    },
    ReleaseLayout {
        ids: &["tiger-lab/mmlu-pro"],
        dir: "mmlu_pro",
        default_config: Some("default"),
        configs: |_| vec!["default".into()],
        splits: &["test", "validation"],
        locate: more::mmlu_pro_locate,
    },
    ReleaseLayout {
        ids: &["saylortwift/bbh", "lukaemon/bbh"],
        dir: "bbh",
        default_config: None,
        configs: bbh_configs,
        splits: &["test"],
        locate: bbh_locate,
    },
];

/// The layout for a dataset path, if it has one.
pub(crate) fn find_layout(dataset: &str) -> Option<&'static ReleaseLayout> {
    LAYOUTS
        .iter()
        .find(|l| l.ids.iter().any(|id| id.eq_ignore_ascii_case(dataset)))
}

fn located(
    files: Vec<PathBuf>,
    load: fn(&Located) -> Result<Vec<Doc>, DataError>,
    config: &str,
    split: &str,
) -> Result<Located, Miss> {
    let missing: Vec<PathBuf> = files.iter().filter(|f| !f.is_file()).cloned().collect();
    if !missing.is_empty() || files.is_empty() {
        return Err(Miss::Absent(if files.is_empty() {
            Vec::new()
        } else {
            missing
        }));
    }
    Ok(Located {
        files,
        load,
        config: config.to_string(),
        split: split.to_string(),
    })
}

fn unknown_split(splits: &[&str]) -> Miss {
    Miss::UnknownSplit(splits.iter().map(|s| s.to_string()).collect())
}

fn file_stems(dir: &Path, suffix: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    e.file_name()
                        .to_str()
                        .and_then(|n| n.strip_suffix(suffix))
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn schema_err(path: &Path, location: String, message: String) -> DataError {
    DataError::Schema {
        path: path.to_path_buf(),
        location,
        message,
    }
}

// ---------------------------------------------------------------------------------------------------
// cais/mmlu

fn mmlu_configs(root: &Path) -> Vec<String> {
    let mut c = file_stems(&root.join("test"), "_test.csv");
    if !c.is_empty() {
        c.push("all".into());
    }
    c
}

fn mmlu_locate(root: &Path, config: &str, split: &str) -> Result<Located, Miss> {
    let dir = match split {
        "test" => "test",
        "validation" => "val",
        "dev" => "dev",
        _ => return Err(unknown_split(&["test", "validation", "dev"])),
    };
    let subjects = if config == "all" {
        mmlu_configs(root)
            .into_iter()
            .filter(|c| c != "all")
            .collect()
    } else {
        if !mmlu_configs(root).iter().any(|c| c == config) && root.join("test").is_dir() {
            return Err(Miss::UnknownConfig(format!(
                "cais/mmlu has no config '{config}' (configs: the 57 subjects, e.g. abstract_algebra, and 'all')"
            )));
        }
        vec![config.to_string()]
    };
    let files = subjects
        .iter()
        .map(|s| root.join(dir).join(format!("{s}_{dir}.csv")))
        .collect();
    located(files, mmlu_load, config, split)
}

/// `cais/mmlu`: CSV without header, rows `question,A,B,C,D,letter` (read as Python's `csv.reader`, like
/// the original `hendrycks_test.py` builder) → `{question, subject, choices: [A,B,C,D], answer: 0..3}`.
/// `subject` is the file's subject (`abstract_algebra_test.csv` → `abstract_algebra`), also under `all`,
/// which concatenates the subjects in sorted order.
fn mmlu_load(loc: &Located) -> Result<Vec<Doc>, DataError> {
    let per_file = super::parallel_map(&loc.files, |path| {
        let text = read_text(path)?;
        let records = parse_python_csv(&text, ',', path)?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let subject = name
            .rsplit_once('_')
            .map(|(s, _)| s)
            .unwrap_or(name)
            .to_string();
        let mut docs = Vec::with_capacity(records.len());
        for CsvRecord { line, fields } in records {
            if fields.len() != 6 {
                return Err(DataError::Csv {
                    path: path.to_path_buf(),
                    line,
                    message: format!(
                        "expected 6 fields (question,A,B,C,D,answer), found {}",
                        fields.len()
                    ),
                });
            }
            let mut it = fields.into_iter();
            let question = it.next().unwrap_or_default();
            let choices: Vec<Value> = it.by_ref().take(4).map(Value::String).collect();
            let letter = it.next().unwrap_or_default();
            let answer = match letter.as_str() {
                "A" => 0,
                "B" => 1,
                "C" => 2,
                "D" => 3,
                other => {
                    return Err(DataError::Csv {
                        path: path.to_path_buf(),
                        line,
                        message: format!("answer must be one of A, B, C, D, found {other:?}"),
                    })
                }
            };
            let mut d = Map::with_capacity(4);
            d.insert("question".into(), Value::String(question));
            d.insert("subject".into(), Value::String(subject.clone()));
            d.insert("choices".into(), Value::Array(choices));
            d.insert("answer".into(), Value::Number(answer.into()));
            docs.push(d);
        }
        Ok(docs)
    })?;
    Ok(per_file.into_iter().flatten().collect())
}

// ---------------------------------------------------------------------------------------------------
// haonan-li/cmmlu

fn cmmlu_configs(root: &Path) -> Vec<String> {
    file_stems(&root.join("test"), ".csv")
}

fn cmmlu_locate(root: &Path, config: &str, split: &str) -> Result<Located, Miss> {
    if !matches!(split, "test" | "dev") {
        return Err(unknown_split(&["test", "dev"]));
    }
    if root.join("test").is_dir() && !cmmlu_configs(root).iter().any(|c| c == config) {
        return Err(Miss::UnknownConfig(format!(
            "haonan-li/cmmlu has no config '{config}' (configs: the 67 subjects, e.g. agronomy)"
        )));
    }
    located(
        vec![root.join(split).join(format!("{config}.csv"))],
        cmmlu_load,
        config,
        split,
    )
}

const CMMLU_COLUMNS: [&str; 6] = ["Question", "A", "B", "C", "D", "Answer"];

/// `haonan-li/cmmlu`: the builder runs `pd.read_csv(f, header=0, index_col=0)` and declares every column
/// `Value("string")`. So: drop the leading index column; keep `Question, A, B, C, D, Answer`; a column
/// pandas reads as numbers is cast back to text by Arrow (`0.50` → `0.5`, e.g. the choices of
/// `dev/college_actuarial_science.csv`); no stripping.
fn cmmlu_load(loc: &Located) -> Result<Vec<Doc>, DataError> {
    let path = &loc.files[0];
    let text = read_text(path)?;
    let records = parse_python_csv(strip_bom(&text), ',', path)?;
    let Some((header, rows)) = records.split_first() else {
        return Ok(Vec::new());
    };
    if header.fields.len() != 7 || header.fields[1..] != CMMLU_COLUMNS {
        return Err(DataError::Csv {
            path: path.clone(),
            line: header.line,
            message: format!(
                "expected header ',Question,A,B,C,D,Answer', found {:?}",
                header.fields.join(",")
            ),
        });
    }
    for r in rows {
        if r.fields.len() > 7 {
            return Err(DataError::Csv {
                path: path.clone(),
                line: r.line,
                message: format!("expected 7 fields, found {}", r.fields.len()),
            });
        }
    }
    let kinds: Vec<_> = (1..7)
        .map(|c| {
            infer_column(
                rows.iter()
                    .map(move |r| r.fields.get(c).map(String::as_str)),
            )
        })
        .collect();
    Ok(rows
        .iter()
        .map(|r| {
            CMMLU_COLUMNS
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    (
                        name.to_string(),
                        cell_as_feature_string(kinds[i], r.fields.get(i + 1).map(String::as_str)),
                    )
                })
                .collect()
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------------
// truthfulqa/truthful_qa

fn truthfulqa_locate(root: &Path, config: &str, split: &str) -> Result<Located, Miss> {
    let file = match config {
        "multiple_choice" => "mc_task.json",
        "generation" => "TruthfulQA.csv",
        other => {
            return Err(Miss::UnknownConfig(format!(
            "truthfulqa/truthful_qa has no config '{other}' (configs: generation, multiple_choice)"
        )))
        }
    };
    if split != "validation" {
        return Err(unknown_split(&["validation"]));
    }
    let load: fn(&Located) -> Result<Vec<Doc>, DataError> = if config == "multiple_choice" {
        truthfulqa_mc_load
    } else {
        truthfulqa_gen_load
    };
    let candidates = truthfulqa_candidates(root, file);
    let Some(found) = candidates.iter().find(|c| c.is_file()) else {
        return Err(Miss::Absent(candidates));
    };
    warn_if_not_hub_source(found, file);
    located(vec![found.clone()], load, config, split)
}

/// sha256 of the files the hub's `truthful_qa` was built from (sylinrl/TruthfulQA at commit 013686a).
const TRUTHFULQA_HUB_SHA256: &[(&str, &str)] = &[
    (
        "mc_task.json",
        "6eb4125d25750c0145c4be2dce00440736684ab6f74ce6bff2139571cc758954",
    ),
    (
        "TruthfulQA.csv",
        "8d7dd15f033196140f032d97d30f037da7a7b1192c3f36f9937c1850925335a2",
    ),
];

/// Where a TruthfulQA release file is looked for, in order (the same order as
/// `scripts/lm_eval_local.py`): `$YARDSTICK_TRUTHFULQA_DIR`, then the hub's source revision
/// `data/hf-013686a/`, then the later revision `data/v1/`.
fn truthfulqa_candidates(root: &Path, file: &str) -> Vec<PathBuf> {
    let mut out = Vec::with_capacity(3);
    if let Some(dir) = std::env::var_os("YARDSTICK_TRUTHFULQA_DIR").filter(|d| !d.is_empty()) {
        out.push(PathBuf::from(dir).join(file));
    }
    out.push(root.join("data").join("hf-013686a").join(file));
    out.push(root.join("data").join("v1").join(file));
    out
}

/// Warn (once per file and process) when `path` is not the file the hub dataset was built from: its rows and
/// answers then differ from lm-eval's hub data, so scores are not comparable with a run on the hub.
fn warn_if_not_hub_source(path: &Path, file: &str) {
    use sha2::{Digest, Sha256};
    use std::collections::HashSet;
    use std::sync::Mutex;
    static WARNED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let Some(expected) = TRUTHFULQA_HUB_SHA256
        .iter()
        .find(|(f, _)| *f == file)
        .map(|(_, h)| *h)
    else {
        return;
    };
    let Ok(bytes) = std::fs::read(path) else {
        return; // the loader reports the read error with its path
    };
    let actual = hex::encode(Sha256::digest(&bytes));
    if actual == expected {
        return;
    }
    let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
    if warned
        .get_or_insert_with(HashSet::new)
        .insert(path.to_path_buf())
    {
        tracing::warn!(
            "{} (sha256 {}) is not the file the hub's truthful_qa was built from (sylinrl/TruthfulQA@013686a \
             {file}, sha256 {}): row order and answers differ from lm-eval's hub dataset; put that revision in \
             truthfulqa/data/hf-013686a/ or point YARDSTICK_TRUTHFULQA_DIR at it",
            path.display(),
            &actual[..12],
            &expected[..12]
        );
    }
}

/// `multiple_choice`: `mc_task.json` (817 records), each `{question, mc1_targets: {answer: label}, ...}` →
/// `{question, mc1_targets: {choices: [answers in JSON key order], labels: [ints]}, mc2_targets: {…}}`,
/// exactly the `truthful_qa.py` builder's `list(row[...].keys())` / `.values()`.
fn truthfulqa_mc_load(loc: &Located) -> Result<Vec<Doc>, DataError> {
    let path = &loc.files[0];
    let text = read_text(path)?;
    let value: Value = serde_json::from_str(strip_bom(&text)).map_err(|e| DataError::Json {
        path: path.clone(),
        line: e.line() as u64,
        column: e.column() as u64,
        message: super::json::json_error_message(&e),
    })?;
    let Value::Array(items) = value else {
        return Err(schema_err(
            path,
            "1".into(),
            "expected a JSON array of questions".into(),
        ));
    };
    let mut docs = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let Value::Object(mut row) = item else {
            return Err(schema_err(
                path,
                format!("record {i}"),
                "expected an object".into(),
            ));
        };
        let question = match row.remove("question") {
            Some(Value::String(q)) => q,
            _ => {
                return Err(schema_err(
                    path,
                    format!("record {i}"),
                    "missing string field 'question'".into(),
                ))
            }
        };
        let mut d = Map::with_capacity(3);
        d.insert("question".into(), Value::String(question));
        for key in ["mc1_targets", "mc2_targets"] {
            let Some(Value::Object(targets)) = row.remove(key) else {
                return Err(schema_err(
                    path,
                    format!("record {i}"),
                    format!("missing object field '{key}'"),
                ));
            };
            let mut choices = Vec::with_capacity(targets.len());
            let mut labels = Vec::with_capacity(targets.len());
            for (answer, label) in targets {
                let Some(l) = label.as_i64() else {
                    return Err(schema_err(
                        path,
                        format!("record {i} {key}"),
                        format!("label of {answer:?} is {label}, expected an integer"),
                    ));
                };
                choices.push(Value::String(answer));
                labels.push(Value::Number(l.into()));
            }
            let mut t = Map::with_capacity(2);
            t.insert("choices".into(), Value::Array(choices));
            t.insert("labels".into(), Value::Array(labels));
            d.insert(key.into(), Value::Object(t));
        }
        docs.push(d);
    }
    Ok(docs)
}

/// `generation`: `TruthfulQA.csv` (UTF-8 with BOM, header row) read like `csv.DictReader`; rows without
/// correct or incorrect answers are skipped (as the builder does); `Correct Answers` / `Incorrect Answers`
/// split like `_split_csv_list`: `s.strip().split(";")`, each item `.strip()`ped.
fn truthfulqa_gen_load(loc: &Located) -> Result<Vec<Doc>, DataError> {
    let path = &loc.files[0];
    let text = read_text(path)?;
    let records = parse_python_csv(strip_bom(&text), ',', path)?;
    let Some((header, rows)) = records.split_first() else {
        return Ok(Vec::new());
    };
    let col = |name: &str| -> Result<usize, DataError> {
        header
            .fields
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| DataError::Csv {
                path: path.clone(),
                line: header.line,
                message: format!("header has no column '{name}' (found {:?})", header.fields),
            })
    };
    let idx = [
        col("Type")?,
        col("Category")?,
        col("Question")?,
        col("Best Answer")?,
        col("Correct Answers")?,
        col("Incorrect Answers")?,
        col("Source")?,
    ];
    let split_list = |s: &str| -> Value {
        Value::Array(
            pystr::strip(s, None)
                .split(';')
                .map(|x| Value::String(pystr::strip(x, None).to_string()))
                .collect(),
        )
    };
    let mut docs = Vec::with_capacity(rows.len());
    for r in rows {
        let get = |i: usize| r.fields.get(idx[i]).map(String::as_str);
        let (Some(correct), Some(incorrect)) = (
            get(4).filter(|s| !s.is_empty()),
            get(5).filter(|s| !s.is_empty()),
        ) else {
            continue;
        };
        let text_or_null = |i: usize| {
            get(i)
                .map(|s| Value::String(s.to_string()))
                .unwrap_or(Value::Null)
        };
        let mut d = Map::with_capacity(7);
        d.insert("type".into(), text_or_null(0));
        d.insert("category".into(), text_or_null(1));
        d.insert("question".into(), text_or_null(2));
        d.insert("best_answer".into(), text_or_null(3));
        d.insert("correct_answers".into(), split_list(correct));
        d.insert("incorrect_answers".into(), split_list(incorrect));
        d.insert("source".into(), text_or_null(6));
        docs.push(d);
    }
    Ok(docs)
}

// ---------------------------------------------------------------------------------------------------
// JSON Lines datasets

/// Take `columns` (in this order) from each object, failing on a missing one.
fn select_columns(
    path: &Path,
    rows: Vec<Map<String, Value>>,
    columns: &[&str],
) -> Result<Vec<Doc>, DataError> {
    rows.into_iter()
        .enumerate()
        .map(|(i, mut row)| {
            let mut d = Map::with_capacity(columns.len());
            for c in columns {
                let v = row.remove(*c).ok_or_else(|| {
                    schema_err(
                        path,
                        format!("record {}", i + 1),
                        format!("missing field '{c}'"),
                    )
                })?;
                d.insert(c.to_string(), v);
            }
            Ok(d)
        })
        .collect()
}

fn gsm8k_locate(root: &Path, config: &str, split: &str) -> Result<Located, Miss> {
    if config != "main" {
        return Err(Miss::UnknownConfig(format!(
            "openai/gsm8k config '{config}' is not in the release files (only 'main')"
        )));
    }
    if !matches!(split, "train" | "test") {
        return Err(unknown_split(&["train", "test"]));
    }
    located(
        vec![root.join(format!("{split}.jsonl"))],
        |l| {
            let path = &l.files[0];
            select_columns(
                path,
                jsonl_objects(&read_text(path)?, path)?,
                &["question", "answer"],
            )
        },
        config,
        split,
    )
}

fn ifeval_locate(root: &Path, config: &str, split: &str) -> Result<Located, Miss> {
    if config != "default" {
        return Err(Miss::UnknownConfig(format!(
            "google/IFEval has no config '{config}'"
        )));
    }
    if split != "train" {
        return Err(unknown_split(&["train"]));
    }
    // The hub repo holds this same JSON Lines file; `datasets`' json loader reads it.
    located(
        vec![root.join("input_data.jsonl")],
        |l| json_to_docs(&read_text(&l.files[0])?, &l.files[0]),
        config,
        split,
    )
}

fn humaneval_locate(root: &Path, config: &str, split: &str) -> Result<Located, Miss> {
    if config != "openai_humaneval" {
        return Err(Miss::UnknownConfig(format!(
            "openai/openai_humaneval has no config '{config}'"
        )));
    }
    if split != "test" {
        return Err(unknown_split(&["test"]));
    }
    located(
        vec![root.join("HumanEval.jsonl.gz")],
        |l| {
            let path = &l.files[0];
            select_columns(
                path,
                jsonl_objects(&read_text(path)?, path)?,
                &[
                    "task_id",
                    "prompt",
                    "canonical_solution",
                    "test",
                    "entry_point",
                ],
            )
        },
        config,
        split,
    )
}

fn mbpp_locate(root: &Path, config: &str, split: &str) -> Result<Located, Miss> {
    if config != "full" {
        return Err(Miss::UnknownConfig(format!("google-research-datasets/mbpp config '{config}' is not in the release files (only 'full')")));
    }
    if !matches!(split, "train" | "test" | "validation" | "prompt") {
        return Err(unknown_split(&["train", "test", "validation", "prompt"]));
    }
    located(vec![root.join("mbpp.jsonl")], mbpp_load, config, split)
}

/// `mbpp` `full`: task_id ranges per split (test 11–510, train 601–974, validation 511–600, prompt 1–10),
/// in file order; columns `task_id, text, code, test_list, test_setup_code, challenge_test_list`.
fn mbpp_load(loc: &Located) -> Result<Vec<Doc>, DataError> {
    let (lo, hi) = match loc.split.as_str() {
        "test" => (11, 510),
        "train" => (601, 974),
        "validation" => (511, 600),
        _ => (1, 10),
    };
    let path = &loc.files[0];
    let rows = jsonl_objects(&read_text(path)?, path)?;
    let mut keep = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        let id = row.get("task_id").and_then(Value::as_i64).ok_or_else(|| {
            schema_err(
                path,
                format!("record {}", i + 1),
                "missing integer 'task_id'".into(),
            )
        })?;
        if (lo..=hi).contains(&id) {
            keep.push(row);
        }
    }
    select_columns(
        path,
        keep,
        &[
            "task_id",
            "text",
            "code",
            "test_list",
            "test_setup_code",
            "challenge_test_list",
        ],
    )
}

// ---------------------------------------------------------------------------------------------------
// BBH

fn bbh_configs(root: &Path) -> Vec<String> {
    file_stems(&root.join("bbh"), ".json")
}

fn bbh_locate(root: &Path, config: &str, split: &str) -> Result<Located, Miss> {
    if split != "test" {
        return Err(unknown_split(&["test"]));
    }
    if root.join("bbh").is_dir() && !bbh_configs(root).iter().any(|c| c == config) {
        return Err(Miss::UnknownConfig(format!(
            "bbh has no task '{config}' (27 tasks, e.g. boolean_expressions)"
        )));
    }
    located(
        vec![root.join("bbh").join(format!("{config}.json"))],
        bbh_load,
        config,
        split,
    )
}

/// `{canary, examples: [{input, target}]}` → rows `{input, target}` in order.
fn bbh_load(loc: &Located) -> Result<Vec<Doc>, DataError> {
    let path = &loc.files[0];
    let text = read_text(path)?;
    let value: Value = serde_json::from_str(strip_bom(&text)).map_err(|e| DataError::Json {
        path: path.clone(),
        line: e.line() as u64,
        column: e.column() as u64,
        message: super::json::json_error_message(&e),
    })?;
    let Some(Value::Array(examples)) = value.get("examples").cloned() else {
        return Err(schema_err(
            path,
            "examples".into(),
            format!("expected an 'examples' array (task {})", loc.config),
        ));
    };
    let rows = examples
        .into_iter()
        .enumerate()
        .map(|(i, e)| match e {
            Value::Object(m) => Ok(m),
            _ => Err(schema_err(
                path,
                format!("examples[{i}]"),
                "expected an object".into(),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    select_columns(path, rows, &["input", "target"])
}
