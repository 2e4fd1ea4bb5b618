//! Release layouts of the second data batch: MGSM (`juletxara/mgsm`), CMATH (`weitianwen/cmath`),
//! ARC (`allenai/ai2_arc`), C-Eval (`ceval/ceval-exam`) and MMLU-Pro (`TIGER-Lab/MMLU-Pro`). See
//! `MAPPINGS.md` for what each reproduces and how it was checked.

use std::path::Path;

use serde_json::{Map, Value};
use yardstick_core::python::text as pystr;
use yardstick_core::Doc;

use super::super::csv::{
    cell_as_feature_string, infer_column, parse_python_csv, strip_bom, typed_cell,
};
use super::super::error::DataError;
use super::super::json::{json_to_docs, jsonl_objects};
use super::super::read_text;
use super::{file_stems, located, schema_err, unknown_split, Located, Miss};

// ---------------------------------------------------------------------------------------------------
// juletxara/mgsm

/// The configs of the HF builder (`mgsm.py` `_LANG`), in its order.
pub(super) const MGSM_LANGS: [&str; 11] = [
    "en", "es", "fr", "de", "ru", "zh", "ja", "th", "sw", "bn", "te",
];

pub(super) fn mgsm_configs(_root: &Path) -> Vec<String> {
    MGSM_LANGS.iter().map(|s| s.to_string()).collect()
}

pub(super) fn mgsm_locate(root: &Path, config: &str, split: &str) -> Result<Located, Miss> {
    if !MGSM_LANGS.contains(&config) {
        return Err(Miss::UnknownConfig(format!(
            "juletxara/mgsm has no config '{config}' (configs: {})",
            MGSM_LANGS.join(", ")
        )));
    }
    match split {
        "test" => located(
            vec![root.join(format!("mgsm_{config}.tsv"))],
            mgsm_load,
            config,
            split,
        ),
        // The builder's train split is the 8 translated exemplars of `exemplars.py` (a Python module in the
        // hub repository), which the release copy does not have.
        "train" => Err(Miss::Absent(vec![root.join("exemplars.py")])),
        _ => Err(unknown_split(&["train", "test"])),
    }
}

/// `mgsm_<lang>.tsv` (no header; `csv.reader(delimiter="\t", quotechar='"')`) → rows
/// `{question, answer: null, answer_number: int(col2 without ","), equation_solution: null}`.
fn mgsm_load(loc: &Located) -> Result<Vec<Doc>, DataError> {
    let path = &loc.files[0];
    let text = read_text(path)?.replace("\r\n", "\n");
    let records = parse_python_csv(&text, '\t', path)?;
    records
        .into_iter()
        .map(|r| {
            let bad = |message: String| DataError::Csv {
                path: path.clone(),
                line: r.line,
                message,
            };
            let (Some(q), Some(a)) = (r.fields.first(), r.fields.get(1)) else {
                return Err(bad(format!(
                    "expected 2 tab-separated fields (question, answer), found {}",
                    r.fields.len()
                )));
            };
            let n: i64 = pystr::strip(&a.replace(',', ""), None)
                .parse()
                .map_err(|_| bad(format!("answer {a:?} is not an integer")))?;
            if i32::try_from(n).is_err() {
                return Err(bad(format!("answer {n} does not fit the int32 feature")));
            }
            let mut d = Map::with_capacity(4);
            d.insert("question".into(), Value::String(q.clone()));
            d.insert("answer".into(), Value::Null);
            d.insert("answer_number".into(), Value::from(n));
            d.insert("equation_solution".into(), Value::Null);
            Ok(d)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------
// weitianwen/cmath

pub(super) fn cmath_locate(root: &Path, config: &str, split: &str) -> Result<Located, Miss> {
    if config != "default" {
        return Err(Miss::UnknownConfig(format!(
            "weitianwen/cmath has no config '{config}' (only 'default')"
        )));
    }
    let file = match split {
        "validation" => "cmath_dev.jsonl",
        "test" => "cmath_test.jsonl",
        _ => return Err(unknown_split(&["test", "validation"])),
    };
    located(
        vec![root.join(file)],
        |l| json_to_docs(&read_text(&l.files[0])?, &l.files[0]),
        config,
        split,
    )
}

// ---------------------------------------------------------------------------------------------------
// allenai/ai2_arc

pub(super) fn arc_locate(root: &Path, config: &str, split: &str) -> Result<Located, Miss> {
    if !matches!(config, "ARC-Challenge" | "ARC-Easy") {
        return Err(Miss::UnknownConfig(format!(
            "allenai/ai2_arc has no config '{config}' (configs: ARC-Challenge, ARC-Easy)"
        )));
    }
    let part = match split {
        "train" => "Train",
        "validation" => "Dev",
        "test" => "Test",
        _ => return Err(unknown_split(&["train", "test", "validation"])),
    };
    located(
        vec![root.join(config).join(format!("{config}-{part}.jsonl"))],
        arc_load,
        config,
        split,
    )
}

/// `{id, question: {stem, choices: [{text, label}]}, answerKey}` → `{id, question: stem, choices: {text: [..],
/// label: [..]}, answerKey}` (the `ai2_arc.py` builder).
fn arc_load(loc: &Located) -> Result<Vec<Doc>, DataError> {
    let path = &loc.files[0];
    let rows = jsonl_objects(&read_text(path)?, path)?;
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| {
            let at = || format!("record {}", i + 1);
            let s = |v: Option<&Value>, what: &str| -> Result<Value, DataError> {
                match v {
                    Some(Value::String(s)) => Ok(Value::String(s.clone())),
                    _ => Err(schema_err(path, at(), format!("missing string '{what}'"))),
                }
            };
            let q = row.get("question");
            let choices = q
                .and_then(|q| q.get("choices"))
                .and_then(Value::as_array)
                .ok_or_else(|| schema_err(path, at(), "missing 'question.choices'".into()))?;
            let mut text = Vec::with_capacity(choices.len());
            let mut label = Vec::with_capacity(choices.len());
            for c in choices {
                text.push(s(c.get("text"), "question.choices[].text")?);
                label.push(s(c.get("label"), "question.choices[].label")?);
            }
            let mut ch = Map::with_capacity(2);
            ch.insert("text".into(), Value::Array(text));
            ch.insert("label".into(), Value::Array(label));
            let mut d = Map::with_capacity(4);
            d.insert("id".into(), s(row.get("id"), "id")?);
            d.insert(
                "question".into(),
                s(q.and_then(|q| q.get("stem")), "question.stem")?,
            );
            d.insert("choices".into(), Value::Object(ch));
            d.insert("answerKey".into(), s(row.get("answerKey"), "answerKey")?);
            Ok(d)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------
// ceval/ceval-exam

pub(super) fn ceval_configs(root: &Path) -> Vec<String> {
    file_stems(&root.join("val"), "_val.csv")
}

pub(super) fn ceval_locate(root: &Path, config: &str, split: &str) -> Result<Located, Miss> {
    let dir = match split {
        "val" => "val",
        "dev" => "dev",
        "test" => "test",
        _ => return Err(unknown_split(&["test", "val", "dev"])),
    };
    if root.join("val").is_dir() && !ceval_configs(root).iter().any(|c| c == config) {
        return Err(Miss::UnknownConfig(format!(
            "ceval/ceval-exam has no config '{config}' (configs: the 52 subjects, e.g. accountant)"
        )));
    }
    located(
        vec![root.join(dir).join(format!("{config}_{dir}.csv"))],
        ceval_load,
        config,
        split,
    )
}

const CEVAL_COLUMNS: [&str; 8] = [
    "id",
    "question",
    "A",
    "B",
    "C",
    "D",
    "answer",
    "explanation",
];

/// The `ceval-exam.py` builder: `pd.read_csv(f)`, a missing `answer` / `explanation` column filled with
/// `""`, features `id` int32 and the rest `Value("string")` (pandas numbers cast back to text by Arrow).
fn ceval_load(loc: &Located) -> Result<Vec<Doc>, DataError> {
    let path = &loc.files[0];
    let text = read_text(path)?;
    let records = parse_python_csv(strip_bom(&text), ',', path)?;
    let Some((header, rows)) = records.split_first() else {
        return Ok(Vec::new());
    };
    let pos: Vec<Option<usize>> = CEVAL_COLUMNS
        .iter()
        .map(|c| header.fields.iter().position(|h| h == c))
        .collect();
    if pos[..6].iter().any(Option::is_none) {
        return Err(DataError::Csv {
            path: path.clone(),
            line: header.line,
            message: format!(
                "expected header id,question,A,B,C,D[,answer][,explanation], found {:?}",
                header.fields.join(",")
            ),
        });
    }
    let kinds: Vec<_> = pos
        .iter()
        .map(|p| {
            p.map(|c| {
                infer_column(
                    rows.iter()
                        .map(move |r| r.fields.get(c).map(String::as_str)),
                )
            })
        })
        .collect();
    Ok(rows
        .iter()
        .map(|r| {
            CEVAL_COLUMNS
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let v = match (pos[i], kinds[i]) {
                        (Some(c), Some(kind)) if i == 0 => {
                            typed_cell(kind, r.fields.get(c).map(String::as_str))
                        }
                        (Some(c), Some(kind)) => {
                            cell_as_feature_string(kind, r.fields.get(c).map(String::as_str))
                        }
                        _ => Value::String(String::new()),
                    };
                    (name.to_string(), v)
                })
                .collect()
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------------
// TIGER-Lab/MMLU-Pro

pub(super) fn mmlu_pro_locate(root: &Path, config: &str, split: &str) -> Result<Located, Miss> {
    if config != "default" {
        return Err(Miss::UnknownConfig(format!(
            "TIGER-Lab/MMLU-Pro has no config '{config}' (only 'default')"
        )));
    }
    if !matches!(split, "test" | "validation") {
        return Err(unknown_split(&["test", "validation"]));
    }
    located(
        vec![root.join(format!("{split}.jsonl"))],
        |l| json_to_docs(&read_text(&l.files[0])?, &l.files[0]),
        config,
        split,
    )
}
