//! Every error a user can hit names where (file:line, field, template, doc) and what to do.

use std::path::{Path, PathBuf};

use serde_json::json;
use yardstick_tasks::{InMemoryData, PreparedTask, TaskError, TaskIndex};

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn index(dir: &Path) -> TaskIndex {
    TaskIndex::load(&[PathBuf::from(dir)]).unwrap()
}

fn docs(v: serde_json::Value) -> Vec<yardstick_core::Doc> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_object().unwrap().clone())
        .collect()
}

#[test]
fn malformed_yaml_names_file_line_column_and_field() {
    let dir = dir_with(&[(
        "bad_task.yaml",
        "task: bad_task\ndataset_path: x\ndoc_to_text: \"Q: {{q}}\nA:\ndoc_to_target: a\n",
    )]);
    let idx = index(dir.path());
    assert_eq!(idx.broken().len(), 1);
    let err = idx.resolve(&["bad_task"]).unwrap_err().to_string();
    assert!(
        err.contains("unknown task, group or tag `bad_task`"),
        "{err}"
    );
    assert!(
        err.contains("bad_task.yaml:6:1: malformed YAML (in field `doc_to_text`)"),
        "{err}"
    );
    // Asking for the file itself gives the parse error directly.
    let path = dir.path().join("bad_task.yaml");
    let err = idx.resolve(&[path.to_string_lossy().as_ref()]).unwrap_err();
    assert!(
        matches!(err, TaskError::Yaml { ref field, .. } if field.as_deref() == Some("doc_to_text")),
        "{err}"
    );
}

#[test]
fn bad_indentation_is_reported_with_its_field() {
    let dir = dir_with(&[(
        "t.yaml",
        "task: t\nmetric_list:\n  - metric: acc\n   aggregation: mean\n",
    )]);
    let idx = index(dir.path());
    let msg = idx.broken()[0].error.to_string();
    assert!(msg.contains("t.yaml:4:"), "{msg}");
    assert!(msg.contains("field `metric_list`"), "{msg}");
}

#[test]
fn unknown_and_mistyped_fields() {
    let dir = dir_with(&[
        (
            "a.yaml",
            "task: a\ndataset_path: x\noutput_type: multiple_choice\ndoc_to_txt: \"{{q}}\"\n",
        ),
        ("b.yaml", "task: b\ndataset_path: x\nnum_fewshot: five\n"),
        (
            "c.yaml",
            "task: c\ndataset_path: x\noutput_type: multiple_choise\n",
        ),
        (
            "d.yaml",
            "task: d\ndataset_path: x\nfewshot_config:\n  sampler: random\n",
        ),
    ]);
    let idx = index(dir.path());
    let err = idx.resolve(&["a"]).unwrap_err().to_string();
    assert!(
        err.contains(
            "a.yaml:4:1: field `doc_to_txt`: unknown task field; did you mean `doc_to_text`?"
        ),
        "{err}"
    );
    let err = idx.resolve(&["b"]).unwrap_err().to_string();
    assert!(
        err.contains(
            "b.yaml:3:1: field `num_fewshot`: expected a non-negative integer, found a string"
        ),
        "{err}"
    );
    let err = idx.resolve(&["c"]).unwrap_err().to_string();
    assert!(
        err.contains("c.yaml:3:1: field `output_type`: unknown output_type 'multiple_choise'"),
        "{err}"
    );
    let err = idx.resolve(&["d"]).unwrap_err().to_string();
    assert!(
        err.contains("d.yaml:3:1: field `fewshot_config.sampler`: unknown sampler 'random'"),
        "{err}"
    );
}

#[test]
fn field_errors_point_at_the_included_file() {
    let dir = dir_with(&[
        ("_base", "dataset_path: x\nrepeats: 0\n"),
        ("t.yaml", "include: _base\ntask: t\n"),
    ]);
    let err = index(dir.path()).resolve(&["t"]).unwrap_err().to_string();
    assert!(err.contains("_base:2:1: field `repeats`"), "{err}");
}

#[test]
fn python_functions_are_refused_with_the_builtin_to_use() {
    let dir = dir_with(&[(
        "hellaswag/hellaswag.yaml",
        "task: hellaswag\ndataset_path: Rowan/hellaswag\noutput_type: multiple_choice\nvalidation_split: validation\nprocess_docs: !function utils.process_docs\ndoc_to_text: \"{{query}}\"\ndoc_to_target: \"{{label}}\"\ndoc_to_choice: choices\n",
    )]);
    let idx = index(dir.path());
    // The include path overrides the built-in of the same name.
    let err = idx.resolve(&["hellaswag"]).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, TaskError::PythonFunction { line: 5, .. }),
        "{msg}"
    );
    assert!(msg.contains("hellaswag.yaml:5: `process_docs: !function utils.process_docs`: Python functions are not supported"), "{msg}");
    assert!(
        msg.contains("use the built-in task `hellaswag` (native port)"),
        "{msg}"
    );
    assert!(
        msg.contains("`process_docs: !builtin hellaswag.process_docs`"),
        "{msg}"
    );
    assert!(msg.contains("materialise the processed docs"), "{msg}");

    let dir = dir_with(&[(
        "m.yaml",
        "task: m\ndataset_path: x\nmetric_list:\n  - metric: !function utils.my_metric\n",
    )]);
    let msg = index(dir.path()).resolve(&["m"]).unwrap_err().to_string();
    assert!(
        msg.contains("m.yaml:4: `metric_list[0].metric: !function utils.my_metric`"),
        "{msg}"
    );
}

#[test]
fn builtin_tag_resolves_native_functions() {
    let dir = dir_with(&[
        (
            "hs.yaml",
            "task: my_hellaswag\ndataset_path: json\nvalidation_split: validation\noutput_type: multiple_choice\nprocess_docs: !builtin hellaswag.process_docs\ndoc_to_text: \"{{query}}\"\ndoc_to_target: \"{{label}}\"\ndoc_to_choice: choices\n",
        ),
        ("bad.yaml", "task: bad\ndataset_path: x\nprocess_docs: !builtin hellaswag.proces_docs\n"),
    ]);
    let idx = index(dir.path());
    let cfg = idx.task_config("my_hellaswag").unwrap();
    assert_eq!(
        cfg.process_docs.map(|f| f.name),
        Some("hellaswag.process_docs")
    );
    let msg = idx.resolve(&["bad"]).unwrap_err().to_string();
    assert!(msg.contains("unknown native function `hellaswag.proces_docs` (did you mean `hellaswag.process_docs`?)"), "{msg}");
}

#[test]
fn unsupported_features_are_named() {
    let dir = dir_with(&[
        ("p.yaml", "task: p\nclass: !function task.MyTask\n"),
        (
            "u.yaml",
            "task: u\ndataset_path: x\nuse_prompt: promptsource:foo\n",
        ),
    ]);
    let idx = index(dir.path());
    let msg = idx.resolve(&["p"]).unwrap_err().to_string();
    assert!(
        msg.contains("p.yaml:2: field `class`: Python task classes are not supported"),
        "{msg}"
    );
    let msg = idx.resolve(&["u"]).unwrap_err().to_string();
    assert!(
        msg.contains("u.yaml:3: field `use_prompt`: promptsource templates are not supported"),
        "{msg}"
    );
}

#[test]
fn unknown_members_of_groups_say_where() {
    let dir = dir_with(&[(
        "g.yaml",
        "group: g\ntask:\n  - mmlu_anatomy\n  - mmlu_anatomie\n",
    )]);
    let msg = index(dir.path()).resolve(&["g"]).unwrap_err().to_string();
    assert!(
        msg.contains("unknown task, group or tag `mmlu_anatomie` (referenced in group `g`"),
        "{msg}"
    );
    assert!(msg.contains("did you mean `mmlu_anatomy`"), "{msg}");
}

#[test]
fn include_cycles_and_missing_includes() {
    let dir = dir_with(&[
        ("a.yaml", "include: b.yaml\ntask: a\n"),
        ("b.yaml", "include: a.yaml\n"),
        ("c.yaml", "include: nope\ntask: c\n"),
    ]);
    let idx = index(dir.path());
    let msgs: Vec<String> = idx.broken().iter().map(|b| b.error.to_string()).collect();
    assert!(msgs.iter().any(|m| m.contains("include cycle")), "{msgs:?}");
    assert!(
        msgs.iter().any(|m| m.contains("c.yaml: include `nope`")),
        "{msgs:?}"
    );
}

#[test]
fn bad_aggregation_in_group() {
    let dir = dir_with(&[("g.yaml", "group: g\ntask: [mmlu_anatomy]\naggregate_metric_list:\n  - metric: acc\n    aggregation: median\n")]);
    let msg = index(dir.path()).resolve(&["g"]).unwrap_err().to_string();
    assert!(msg.contains("g.yaml:3:1: field `aggregate_metric_list[0]`: Currently, 'mean' is the only pre-defined aggregation. Got 'median'"), "{msg}");
}

#[test]
fn template_errors_name_field_template_and_doc() {
    let dir = dir_with(&[
        ("s.yaml", "task: s\ndataset_path: x\ntest_split: test\noutput_type: multiple_choice\ndoc_to_text: \"{{ q \"\ndoc_to_choice: [a, b]\ndoc_to_target: 0\n"),
        ("u.yaml", "task: u\ndataset_path: x\ntest_split: test\noutput_type: multiple_choice\ndoc_to_text: \"{{ q }} {{ extra }}\"\ndoc_to_choice: [a, b]\ndoc_to_target: 0\n"),
        ("l.yaml", "task: l\ndataset_path: x\ntest_split: test\noutput_type: multiple_choice\ndoc_to_text: \"{{ q }}\"\ndoc_to_choice: \"{{ q }}\"\ndoc_to_target: 0\n"),
    ]);
    let idx = index(dir.path());
    let data = |d: serde_json::Value| InMemoryData {
        eval_docs: docs(d),
        fewshot_docs: None,
    };
    let cfg = idx.task_config("s").unwrap();
    let err =
        PreparedTask::from_docs(&cfg, data(json!([{"q": "x"}])), None, 1234, None).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("s.yaml: field `doc_to_text`: template error"),
        "{msg}"
    );
    assert!(msg.contains("template: \"{{ q \""), "{msg}");

    let cfg = idx.task_config("u").unwrap();
    let p = PreparedTask::from_docs(
        &cfg,
        data(json!([{"q": "x", "extra": 1}, {"q": "y"}])),
        None,
        1234,
        None,
    )
    .unwrap();
    let results: Vec<_> = p.docs().collect();
    assert!(results[0].is_ok());
    let msg = results[1].as_ref().unwrap_err().to_string();
    assert!(
        msg.contains("u.yaml: field `doc_to_text`, doc 1: template error"),
        "{msg}"
    );
    assert!(msg.contains("undefined"), "{msg}");

    let cfg = idx.task_config("l").unwrap();
    let p = PreparedTask::from_docs(&cfg, data(json!([{"q": "not a list"}])), None, 1234, None)
        .unwrap();
    let msg = p.docs().next().unwrap().unwrap_err().to_string();
    assert!(
        msg.contains("doc 0: doc_to_choice: ast.literal_eval of the rendered template failed"),
        "{msg}"
    );
}

#[test]
fn missing_dataset_errors_come_from_the_data_layer() {
    let dir = dir_with(&[("t.yaml", "task: t\ndataset_path: nobody/nothing\ntest_split: test\noutput_type: multiple_choice\ndoc_to_text: q\ndoc_to_choice: [a]\ndoc_to_target: 0\n")]);
    let cfg = index(dir.path()).task_config("t").unwrap();
    let opts = yardstick_tasks::data::DataOptions {
        data_dir: None,
        hf_home: Some(dir.path().join("hf")),
        offline: true,
    };
    let msg = PreparedTask::prepare(&cfg, &opts, None, 1234, None)
        .unwrap_err()
        .to_string();
    assert!(msg.starts_with("task `t`: split `test`: "), "{msg}");
    assert!(msg.contains("nobody/nothing"), "{msg}");
}

#[test]
fn too_few_fewshot_examples() {
    let dir = dir_with(&[("t.yaml", "task: t\ndataset_path: x\ntest_split: test\nfewshot_split: dev\nfewshot_config:\n  sampler: first_n\noutput_type: multiple_choice\ndoc_to_text: q\ndoc_to_choice: [a]\ndoc_to_target: 0\n")]);
    let cfg = index(dir.path()).task_config("t").unwrap();
    let data = InMemoryData {
        eval_docs: docs(json!([{"q": "x"}])),
        fewshot_docs: Some(docs(json!([{"q": "y"}]))),
    };
    let p = PreparedTask::from_docs(&cfg, data, Some(3), 1234, None).unwrap();
    let msg = p.docs().next().unwrap().unwrap_err().to_string();
    assert!(msg.contains("task `t`: few-shot sampling for doc 0: 3 few-shot examples requested but the pool has 1"), "{msg}");
}

#[test]
fn wrongly_typed_fields_say_expected_and_found_with_file_and_line() {
    let cases = [
        (
            "description: [a]\n",
            "field `description`: expected a string (a Jinja template), found a list",
        ),
        (
            "repeats: 0\n",
            "field `repeats`: expected a positive integer, found an integer",
        ),
        (
            "metric_list: acc\n",
            "field `metric_list`: expected a list, found a string",
        ),
        (
            "metric_list: [acc]\n",
            "field `metric_list[0]`: expected a mapping with `metric`, found a string",
        ),
        (
            "filter_list: {a: 1}\n",
            "field `filter_list`: expected a list, found a mapping",
        ),
        (
            "fewshot_config: 3\n",
            "field `fewshot_config`: expected a mapping, found an integer",
        ),
        (
            "fewshot_config:\n  split: [a]\n",
            "field `fewshot_config.split`: expected a string, found a list",
        ),
        (
            "fewshot_config:\n  samples: x\n",
            "field `fewshot_config.samples`: expected a list of docs, found a string",
        ),
        (
            "target_delimiter: 1\n",
            "field `target_delimiter`: expected a string, found an integer",
        ),
        (
            "unsafe_code: maybe\n",
            "field `unsafe_code`: expected true or false, found a string",
        ),
        (
            "dataset_kwargs: [a]\n",
            "field `dataset_kwargs`: expected a mapping, found a list",
        ),
        (
            "process_docs: 1\n",
            "field `process_docs`: expected `!function` (a Python function), found an integer",
        ),
        (
            "process_results: x\n",
            "field `process_results`: expected `!function`, found a string",
        ),
    ];
    for (i, (extra, expected)) in cases.iter().enumerate() {
        let name = format!("t{i}");
        let dir = dir_with(&[("t.yaml", &format!("task: {name}\ndataset_path: x\n{extra}"))]);
        let err = index(dir.path())
            .resolve(&[name.as_str()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("t.yaml:3:1: {expected}")),
            "{extra:?}: {err}"
        );
    }
}
