//! Native ports of the Python functions that built-in tasks reference with `!function`.
//!
//! In a built-in YAML, `!function utils.process_docs` resolves against the file's directory, exactly
//! as lm-eval resolves it against `utils.py` next to the YAML; the registry below maps
//! (directory, qualified name) to a Rust implementation. A user YAML can name one of these directly
//! with Yardstick's `!builtin <name>` tag (e.g. `process_docs: !builtin hellaswag.process_docs`).
//! A `!function` in a user YAML is refused with a message naming the built-in to use instead.

use serde_json::Value;
use yardstick_core::Doc;

use yardstick_core::python::text as pystr;

mod results;
use crate::native_filters::NativeFilterKind;
pub(crate) use results::warn_metrics_not_computed;

pub mod code_tasks;
pub use results::{MetricNotComputed, ResultsProcessor};

/// What a native function does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunctionKind {
    /// `process_docs(dataset) -> dataset`.
    ProcessDocs(ProcessDocs),
    /// `doc_to_text(doc)` / `doc_to_target(doc)` / few-shot variants.
    DocTo(DocTo),
    /// `process_results(doc, results)`: implemented by the scoring engine under this name (see
    /// [`ResultsProcessor::from_name`]).
    ProcessResults(&'static str),
    /// A `fewshot_config.samples` function: `() -> list[dict]`, the few-shot pool.
    FewshotSamples(FewshotSamplesFn),
    /// A metric's `aggregation` function (`items -> float`): implemented by the scoring engine under this
    /// name.
    Aggregation(&'static str),
    /// A filter class in a `filter_list` step (`function: !function utils.X`), or a `custom` step's
    /// `filter_fn`: see [`crate::native_filters`].
    Filter(crate::native_filters::NativeFilterKind),
    /// A metric function in a `metric_list` entry (`metric: !function utils.X`): see [`MetricFn`].
    Metric(MetricFn),
}

/// A native metric function (`metric: !function utils.X`), computed by the scoring engine. lm-eval names
/// the metric after the Python function ([`MetricFn::python_name`]) and calls it per document with
/// `references=[target]`, `predictions=[filtered response(s)]` and the entry's other keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricFn {
    /// `humaneval/utils.py::pass_at_k`: HF `evaluate`'s `code_eval` over the doc's candidates (each
    /// candidate, a newline, the target's tests, run with a 3 s limit); returns `{"pass@k": …}` for each
    /// `k` (kwarg, int or list) not above the number of candidates.
    CodeEvalPassAtK,
    /// `mbpp/utils.py::pass_at_1`: `code_eval`'s `pass@1` value itself.
    CodeEvalPassAt1,
}

impl MetricFn {
    /// The Python function's name, which lm-eval uses as the metric's name.
    pub fn python_name(self) -> &'static str {
        match self {
            MetricFn::CodeEvalPassAtK => "pass_at_k",
            MetricFn::CodeEvalPassAt1 => "pass_at_1",
        }
    }

    /// Whether computing it runs model-written code (in the sandbox).
    pub fn executes_code(self) -> bool {
        matches!(self, MetricFn::CodeEvalPassAtK | MetricFn::CodeEvalPassAt1)
    }

    /// The benchmark's own solution of `doc` (to be followed by the doc's tests), whose running time sets the
    /// candidates' time limit on this machine: HumanEval's `prompt` + `canonical_solution`, MBPP's `code`.
    /// `None` when the doc lacks those fields (a user task reusing the function on other data).
    pub fn reference_solution(self, doc: &Doc) -> Option<String> {
        let field = |k: &str| doc.get(k).and_then(Value::as_str);
        match self {
            MetricFn::CodeEvalPassAtK => Some(format!(
                "{}{}",
                field("prompt")?,
                field("canonical_solution")?
            )),
            MetricFn::CodeEvalPassAt1 => field("code").map(str::to_string),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessDocs {
    /// `hellaswag/utils.py::process_docs`.
    Hellaswag,
    /// `mmlu_pro/utils.py::process_docs(dataset, subject)`: keep rows whose `category` equals it.
    MmluProCategory(&'static str),
    /// `minerva_math/utils.py::process_docs`: `answer` = the normalised last `\boxed{}` of `solution`
    /// ([`crate::math_answer::process_doc`]).
    MinervaMath,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocTo {
    /// `mmlu_pro/utils.py::format_cot_example(doc, including_answer=False)`.
    MmluProQuestion,
    /// `mmlu_pro/utils.py::format_cot_target(doc)`.
    MmluProCotTarget,
    /// `minerva_math/utils.py::doc_to_text(doc)`: `"Problem:\n{problem}\n\nSolution:"`.
    MinervaProblem,
}

/// A native `fewshot_config.samples` function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FewshotSamplesFn {
    /// `minerva_math/utils.py::list_fewshot_samples()`: the four Minerva exemplars.
    MinervaMath,
    /// `mbpp/utils.py::list_fewshot_samples()`: MBPP problems 2, 3 and 4 with `is_fewshot: True`.
    Mbpp,
}

/// Why a native function could not be applied to a doc.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FunctionError {
    /// The function is not of the kind the field needs (`process_docs`, `doc_to_*`).
    #[error("`{name}` is not a {expected} function")]
    WrongKind {
        name: &'static str,
        /// `process_docs` or `doc_to_*`.
        expected: &'static str,
    },
    #[error("the doc has no field `{field}`")]
    MissingField { field: String },
    #[error("field `{field}` is not a string: {value}")]
    NotAString { field: String, value: Value },
    #[error("field `{field}` is not a list")]
    NotAList { field: &'static str },
    /// An element of a list field (`an ending`, `option 2`) is not a string.
    #[error("{element} is not a string")]
    ElementNotAString { element: String },
    /// HellaSwag's `int(label)` failed.
    #[error("int({literal:?}): invalid literal for int() with base 10")]
    LabelNotAnInt { literal: String },
    #[error("label {value} is not an integer")]
    LabelNotAnInteger { value: serde_json::Number },
    #[error("field `label` is missing")]
    LabelMissing,
    /// A doc of the split could not be processed (`row`: its 0-based position in the split).
    #[error("dataset row {row}: {source}")]
    Row {
        row: usize,
        source: crate::math_answer::MathAnswerError,
    },
}

/// One native function.
#[derive(Debug, PartialEq, Eq)]
pub struct BuiltinFunction {
    /// The name a user YAML uses with `!builtin` (`hellaswag.process_docs`).
    pub name: &'static str,
    /// The built-in task directory whose YAMLs reference it.
    pub dir: &'static str,
    /// The `!function` text in those YAMLs (`utils.process_docs`).
    pub qualname: &'static str,
    pub kind: FunctionKind,
    /// The built-in task(s) using it, for messages.
    pub used_by: &'static str,
}

macro_rules! bbh_filter {
    ($dir:literal, $class:literal, $kind:ident, $used:literal) => {
        BuiltinFunction {
            name: concat!("bbh.", $class),
            dir: $dir,
            qualname: concat!("utils.", $class),
            kind: FunctionKind::Filter(crate::native_filters::NativeFilterKind::$kind),
            used_by: $used,
        }
    };
}

macro_rules! mmlu_pro_category {
    ($name:literal, $qual:literal, $subject:literal, $task:literal) => {
        BuiltinFunction {
            name: $name,
            dir: "mmlu_pro",
            qualname: $qual,
            kind: FunctionKind::ProcessDocs(ProcessDocs::MmluProCategory($subject)),
            used_by: $task,
        }
    };
}

/// Every native function.
pub static BUILTIN_FUNCTIONS: &[BuiltinFunction] = &[
    // bbh/zeroshot/utils.py and bbh/cot_zeroshot/utils.py (identical files): one native filter each.
    bbh_filter!(
        "bbh/zeroshot",
        "MultiChoiceRegexFilter",
        BbhMultiChoiceRegex,
        "bbh_zeroshot"
    ),
    bbh_filter!(
        "bbh/zeroshot",
        "MapRegexFilter",
        BbhMapRegex,
        "bbh_zeroshot"
    ),
    bbh_filter!(
        "bbh/zeroshot",
        "NumberParseRegexFilter",
        BbhNumberParseRegex,
        "bbh_zeroshot"
    ),
    bbh_filter!(
        "bbh/zeroshot",
        "WordSortFilter",
        BbhWordSort,
        "bbh_zeroshot"
    ),
    bbh_filter!(
        "bbh/cot_zeroshot",
        "MultiChoiceRegexFilter",
        BbhMultiChoiceRegex,
        "bbh_cot_zeroshot"
    ),
    bbh_filter!(
        "bbh/cot_zeroshot",
        "MapRegexFilter",
        BbhMapRegex,
        "bbh_cot_zeroshot"
    ),
    bbh_filter!(
        "bbh/cot_zeroshot",
        "NumberParseRegexFilter",
        BbhNumberParseRegex,
        "bbh_cot_zeroshot"
    ),
    bbh_filter!(
        "bbh/cot_zeroshot",
        "WordSortFilter",
        BbhWordSort,
        "bbh_cot_zeroshot"
    ),
    BuiltinFunction {
        name: "hellaswag.process_docs",
        dir: "hellaswag",
        qualname: "utils.process_docs",
        kind: FunctionKind::ProcessDocs(ProcessDocs::Hellaswag),
        used_by: "hellaswag",
    },
    BuiltinFunction {
        name: "truthfulqa.process_results_mc2",
        dir: "truthfulqa",
        qualname: "utils.process_results_mc2",
        kind: FunctionKind::ProcessResults("truthfulqa_mc2"),
        used_by: "truthfulqa_mc2",
    },
    BuiltinFunction {
        name: "mmlu_pro.doc_to_text",
        dir: "mmlu_pro",
        qualname: "utils.doc_to_text",
        kind: FunctionKind::DocTo(DocTo::MmluProQuestion),
        used_by: "mmlu_pro",
    },
    BuiltinFunction {
        name: "mmlu_pro.fewshot_to_text",
        dir: "mmlu_pro",
        qualname: "utils.fewshot_to_text",
        kind: FunctionKind::DocTo(DocTo::MmluProQuestion),
        used_by: "mmlu_pro",
    },
    BuiltinFunction {
        name: "mmlu_pro.fewshot_to_target",
        dir: "mmlu_pro",
        qualname: "utils.fewshot_to_target",
        kind: FunctionKind::DocTo(DocTo::MmluProCotTarget),
        used_by: "mmlu_pro",
    },
    mmlu_pro_category!(
        "mmlu_pro.process_biology",
        "utils.process_biology",
        "biology",
        "mmlu_pro_biology"
    ),
    mmlu_pro_category!(
        "mmlu_pro.process_business",
        "utils.process_business",
        "business",
        "mmlu_pro_business"
    ),
    mmlu_pro_category!(
        "mmlu_pro.process_chemistry",
        "utils.process_chemistry",
        "chemistry",
        "mmlu_pro_chemistry"
    ),
    mmlu_pro_category!(
        "mmlu_pro.process_computer_science",
        "utils.process_computer_science",
        "computer science",
        "mmlu_pro_computer_science"
    ),
    mmlu_pro_category!(
        "mmlu_pro.process_economics",
        "utils.process_economics",
        "economics",
        "mmlu_pro_economics"
    ),
    mmlu_pro_category!(
        "mmlu_pro.process_engineering",
        "utils.process_engineering",
        "engineering",
        "mmlu_pro_engineering"
    ),
    mmlu_pro_category!(
        "mmlu_pro.process_health",
        "utils.process_health",
        "health",
        "mmlu_pro_health"
    ),
    mmlu_pro_category!(
        "mmlu_pro.process_history",
        "utils.process_history",
        "history",
        "mmlu_pro_history"
    ),
    mmlu_pro_category!(
        "mmlu_pro.process_law",
        "utils.process_law",
        "law",
        "mmlu_pro_law"
    ),
    mmlu_pro_category!(
        "mmlu_pro.process_math",
        "utils.process_math",
        "math",
        "mmlu_pro_math"
    ),
    mmlu_pro_category!(
        "mmlu_pro.process_other",
        "utils.process_other",
        "other",
        "mmlu_pro_other"
    ),
    mmlu_pro_category!(
        "mmlu_pro.process_philosophy",
        "utils.process_philosophy",
        "philosophy",
        "mmlu_pro_philosophy"
    ),
    mmlu_pro_category!(
        "mmlu_pro.process_physics",
        "utils.process_physics",
        "physics",
        "mmlu_pro_physics"
    ),
    mmlu_pro_category!(
        "mmlu_pro.process_psychology",
        "utils.process_psychology",
        "psychology",
        "mmlu_pro_psychology"
    ),
    // minerva_math/utils.py (the port lives in crate::math_answer).
    BuiltinFunction {
        name: "minerva_math.process_docs",
        dir: "minerva_math",
        qualname: "utils.process_docs",
        kind: FunctionKind::ProcessDocs(ProcessDocs::MinervaMath),
        used_by: "minerva_math",
    },
    BuiltinFunction {
        name: "minerva_math.doc_to_text",
        dir: "minerva_math",
        qualname: "utils.doc_to_text",
        kind: FunctionKind::DocTo(DocTo::MinervaProblem),
        used_by: "minerva_math",
    },
    BuiltinFunction {
        name: "minerva_math.list_fewshot_samples",
        dir: "minerva_math",
        qualname: "utils.list_fewshot_samples",
        kind: FunctionKind::FewshotSamples(FewshotSamplesFn::MinervaMath),
        used_by: "minerva_math",
    },
    BuiltinFunction {
        name: "minerva_math.process_results",
        dir: "minerva_math",
        qualname: "utils.process_results",
        kind: FunctionKind::ProcessResults("minerva_math"),
        used_by: "minerva_math",
    },
    // humaneval/utils.py and mbpp/utils.py (metrics computed by the engine in the sandbox).
    BuiltinFunction {
        name: "humaneval.pass_at_k",
        dir: "humaneval",
        qualname: "utils.pass_at_k",
        kind: FunctionKind::Metric(MetricFn::CodeEvalPassAtK),
        used_by: "humaneval",
    },
    BuiltinFunction {
        name: "humaneval.build_predictions",
        dir: "humaneval",
        qualname: "utils.build_predictions",
        kind: FunctionKind::Filter(NativeFilterKind::HumanevalBuildPredictions),
        used_by: "humaneval",
    },
    BuiltinFunction {
        name: "humaneval.build_predictions_instruct",
        dir: "humaneval",
        qualname: "utils.build_predictions_instruct",
        kind: FunctionKind::Filter(NativeFilterKind::HumanevalBuildPredictionsInstruct),
        used_by: "humaneval_instruct",
    },
    BuiltinFunction {
        name: "mbpp.pass_at_1",
        dir: "mbpp",
        qualname: "utils.pass_at_1",
        kind: FunctionKind::Metric(MetricFn::CodeEvalPassAt1),
        used_by: "mbpp",
    },
    BuiltinFunction {
        name: "mbpp.build_predictions",
        dir: "mbpp",
        qualname: "utils.build_predictions",
        kind: FunctionKind::Filter(NativeFilterKind::MbppBuildPredictions),
        used_by: "mbpp_instruct",
    },
    BuiltinFunction {
        name: "mbpp.list_fewshot_samples",
        dir: "mbpp",
        qualname: "utils.list_fewshot_samples",
        kind: FunctionKind::FewshotSamples(FewshotSamplesFn::Mbpp),
        used_by: "mbpp",
    },
    // ifeval/utils.py (the port lives in crate::ifeval).
    BuiltinFunction {
        name: "ifeval.process_results",
        dir: "ifeval",
        qualname: "utils.process_results",
        kind: FunctionKind::ProcessResults("ifeval"),
        used_by: "ifeval",
    },
    BuiltinFunction {
        name: "ifeval.agg_inst_level_acc",
        dir: "ifeval",
        qualname: "utils.agg_inst_level_acc",
        kind: FunctionKind::Aggregation("agg_inst_level_acc"),
        used_by: "ifeval",
    },
];

/// The native function a built-in YAML in `dir` means by `!function qualname`.
pub fn lookup_builtin_reference(dir: &str, qualname: &str) -> Option<&'static BuiltinFunction> {
    BUILTIN_FUNCTIONS
        .iter()
        .find(|f| f.dir == dir && f.qualname == qualname)
}

/// The native function named `name` (`!builtin name`).
pub fn lookup(name: &str) -> Option<&'static BuiltinFunction> {
    BUILTIN_FUNCTIONS.iter().find(|f| f.name == name)
}

/// The native filter a filter step's `function` names (`bbh.MultiChoiceRegexFilter`), if it is one; the
/// run engine's filter pipelines implement it.
pub fn native_filter(function: &str) -> Option<crate::native_filters::NativeFilterKind> {
    match lookup(function)?.kind {
        FunctionKind::Filter(k) => Some(k),
        _ => None,
    }
}

/// The native function a user's copy of an lm-eval YAML probably means (same qualified name, and
/// the YAML's task or directory matches a built-in's).
pub fn guess_for_user_reference(
    qualname: &str,
    task: Option<&str>,
    dir_name: Option<&str>,
) -> Option<&'static BuiltinFunction> {
    let candidates: Vec<&BuiltinFunction> = BUILTIN_FUNCTIONS
        .iter()
        .filter(|f| f.qualname == qualname)
        .collect();
    candidates
        .iter()
        .find(|f| task.is_some_and(|t| t == f.used_by || t.starts_with(f.dir)))
        .or_else(|| candidates.iter().find(|f| dir_name == Some(f.dir)))
        .copied()
}

impl BuiltinFunction {
    /// Apply a `process_docs` function to a split.
    pub fn process_docs(&self, docs: &[Doc]) -> Result<Vec<Doc>, FunctionError> {
        match self.kind {
            FunctionKind::ProcessDocs(ProcessDocs::Hellaswag) => {
                docs.iter().map(hellaswag_process_doc).collect()
            }
            FunctionKind::ProcessDocs(ProcessDocs::MmluProCategory(subject)) => Ok(docs
                .iter()
                .filter(|d| d.get("category").and_then(Value::as_str) == Some(subject))
                .cloned()
                .collect()),
            FunctionKind::ProcessDocs(ProcessDocs::MinervaMath) => docs
                .iter()
                .enumerate()
                .map(|(row, d)| {
                    crate::math_answer::process_doc(d)
                        .map_err(|source| FunctionError::Row { row, source })
                })
                .collect(),
            _ => Err(FunctionError::WrongKind {
                name: self.name,
                expected: "process_docs",
            }),
        }
    }

    /// Call a `fewshot_config.samples` function: the few-shot pool it returns.
    pub fn fewshot_samples(&self) -> Result<Vec<Doc>, FunctionError> {
        match self.kind {
            FunctionKind::FewshotSamples(FewshotSamplesFn::MinervaMath) => {
                Ok(crate::math_answer::fewshot_samples())
            }
            FunctionKind::FewshotSamples(FewshotSamplesFn::Mbpp) => {
                Ok(code_tasks::mbpp_fewshot_samples())
            }
            _ => Err(FunctionError::WrongKind {
                name: self.name,
                expected: "fewshot_config.samples",
            }),
        }
    }

    /// Apply a `doc_to_text`/`doc_to_target` function to a doc.
    pub fn doc_to(&self, doc: &Doc) -> Result<Value, FunctionError> {
        match self.kind {
            FunctionKind::DocTo(DocTo::MmluProQuestion) => {
                mmlu_pro_question(doc).map(Value::String)
            }
            FunctionKind::DocTo(DocTo::MmluProCotTarget) => {
                let cot = str_field(doc, "cot_content")?;
                Ok(Value::String(
                    cot.replace("A: Let's think step by step. ", ""),
                ))
            }
            FunctionKind::DocTo(DocTo::MinervaProblem) => Ok(Value::String(
                crate::math_answer::problem_prompt(str_field(doc, "problem")?),
            )),
            _ => Err(FunctionError::WrongKind {
                name: self.name,
                expected: "doc_to_*",
            }),
        }
    }
}

fn str_field<'a>(doc: &'a Doc, key: &str) -> Result<&'a str, FunctionError> {
    match doc.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(FunctionError::NotAString {
            field: key.to_string(),
            value: other.clone(),
        }),
        None => Err(FunctionError::MissingField {
            field: key.to_string(),
        }),
    }
}

/// HellaSwag's `preprocess(text)`.
pub fn hellaswag_preprocess(text: &str) -> String {
    static BRACKETS: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = BRACKETS.get_or_init(|| regex::Regex::new(r"\[.*?\]").expect("static regex"));
    let text = pystr::strip(text, None);
    let text = text.replace(" [title]", ". ");
    let text = re.replace_all(&text, "");
    text.replace("  ", " ")
}

/// HellaSwag's `_process_doc`: the original columns, then `query`, `choices` and `gold` (as
/// `datasets.map` appends new columns).
fn hellaswag_process_doc(doc: &Doc) -> Result<Doc, FunctionError> {
    let ctx = format!(
        "{} {}",
        str_field(doc, "ctx_a")?,
        pystr::capitalize(str_field(doc, "ctx_b")?)
    );
    let query = hellaswag_preprocess(&format!("{}: {}", str_field(doc, "activity_label")?, ctx));
    let endings = match doc.get("endings") {
        Some(Value::Array(e)) => e,
        _ => return Err(FunctionError::NotAList { field: "endings" }),
    };
    let choices: Vec<Value> = endings
        .iter()
        .map(|e| {
            e.as_str()
                .map(|s| Value::String(hellaswag_preprocess(s)))
                .ok_or_else(|| FunctionError::ElementNotAString {
                    element: "an ending".into(),
                })
        })
        .collect::<Result<_, _>>()?;
    let gold = match doc.get("label") {
        Some(Value::String(s)) => pystr::strip(s, None)
            .parse::<i64>()
            .map_err(|_| FunctionError::LabelNotAnInt { literal: s.clone() })?,
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| FunctionError::LabelNotAnInteger { value: n.clone() })?,
        _ => return Err(FunctionError::LabelMissing),
    };
    let mut out = doc.clone();
    out.insert("query".into(), Value::String(query));
    out.insert("choices".into(), Value::Array(choices));
    out.insert("gold".into(), Value::from(gold));
    Ok(out)
}

/// MMLU-Pro's `format_cot_example(example, including_answer=False)`.
fn mmlu_pro_question(doc: &Doc) -> Result<String, FunctionError> {
    const LETTERS: [&str; 10] = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"];
    let mut prompt = String::from("Question:\n");
    prompt.push_str(str_field(doc, "question")?);
    prompt.push('\n');
    prompt.push_str("Options:\n");
    let options = match doc.get("options") {
        Some(Value::Array(o)) => o,
        _ => return Err(FunctionError::NotAList { field: "options" }),
    };
    for (i, opt) in options.iter().enumerate() {
        if i >= LETTERS.len() {
            break;
        }
        let opt = opt
            .as_str()
            .ok_or_else(|| FunctionError::ElementNotAString {
                element: format!("option {i}"),
            })?;
        prompt.push_str(&format!("{}. {}\n", LETTERS[i], pystr::strip(opt, None)));
    }
    prompt.push_str("Answer: Let's think step by step.");
    Ok(prompt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> Doc {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn hellaswag_preprocessing() {
        assert_eq!(
            hellaswag_preprocess(" Removing ice [title] Use salt. [step] Then  go "),
            "Removing ice. Use salt. Then go"
        );
        let d = doc(json!({
            "ind": 4, "activity_label": "Removing ice from car", "ctx_a": "Then, the man writes over the snow.",
            "ctx_b": "then", "ctx": "x", "endings": [", the man [header] ok", " b"], "source_id": "s", "split": "val",
            "split_type": "indomain", "label": "3"
        }));
        let out = hellaswag_process_doc(&d).unwrap();
        let keys: Vec<&str> = out.keys().map(String::as_str).collect();
        assert_eq!(keys.last(), Some(&"gold"));
        assert_eq!(
            out["query"],
            json!("Removing ice from car: Then, the man writes over the snow. Then")
        );
        assert_eq!(out["choices"], json!([", the man ok", "b"]));
        assert_eq!(out["gold"], json!(3));
    }

    #[test]
    fn mmlu_pro_formatting() {
        let d = doc(
            json!({"question": "Q?", "options": [" a ", "b"], "cot_content": "A: Let's think step by step. Because.", "category": "math"}),
        );
        assert_eq!(
            mmlu_pro_question(&d).unwrap(),
            "Question:\nQ?\nOptions:\nA. a\nB. b\nAnswer: Let's think step by step."
        );
        let f = lookup("mmlu_pro.fewshot_to_target").unwrap();
        assert_eq!(f.doc_to(&d).unwrap(), json!("Because."));
        let p = lookup_builtin_reference("mmlu_pro", "utils.process_math").unwrap();
        assert_eq!(
            p.process_docs(&[d.clone(), doc(json!({"category": "law"}))])
                .unwrap(),
            vec![d]
        );
    }

    #[test]
    fn guesses() {
        assert_eq!(
            guess_for_user_reference("utils.process_docs", Some("hellaswag"), None).map(|f| f.name),
            Some("hellaswag.process_docs")
        );
        assert_eq!(
            guess_for_user_reference("utils.process_docs", None, Some("hellaswag")).map(|f| f.name),
            Some("hellaswag.process_docs")
        );
        assert_eq!(
            guess_for_user_reference("utils.nope", Some("hellaswag"), None),
            None
        );
    }
}
