//! Byte-for-byte agreement with files written by the real lm-eval 0.4.13.
//!
//! `fixtures/lm_eval_0_4_13_dummy/` was produced by (CPython 3.11, lm-eval 0.4.13, numpy 2.4):
//!
//! ```text
//! lm_eval run --model dummy --tasks fix_group --include_path <fixture dir> \
//!     --output_path out --log_samples
//! ```
//!
//! (the three YAMLs and `data.jsonl` are in the fixture directory; `dataset_kwargs.data_files` pointed
//! at `/tmp/lmeval-fix/tasks/data.jsonl`). The dummy model returns random log-likelihoods, which the
//! samples file records. This test resolves and prepares the same YAMLs with `yardstick-tasks`, scores every
//! document from those log-likelihoods through the engine's public `score_task` (the production path), and
//! checks that each samples line, every hash, every metric and stderr, every task config, the group
//! aggregation and the whole results document (apart from our added `yardstick` block) come out identical.

use indexmap::IndexMap;
use yardstick_core::python::json::{parse, PyJson};
use yardstick_core::LoglikelihoodResult;
use yardstick_engine::output::results::{
    build_results, compute_groups, RunMeta, TaskOutput, YardstickMeta,
};
use yardstick_engine::output::table::make_table;
use yardstick_engine::run::{requested, score_task, DocResults};
use yardstick_engine::scoring::groups::{GroupAggMetric, GroupChild, GroupNode, Requested};
use yardstick_engine::scoring::{NumericEnv, NumpyExp, PySum};
use yardstick_tasks::data::DataOptions;
use yardstick_tasks::{PreparedTask, TaskIndex};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/lm_eval_0_4_13_dummy"
);

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The fixture came from CPython 3.11 (sequential float sums).
fn env() -> NumericEnv {
    NumericEnv {
        py_sum: PySum::Sequential,
        numpy_exp: NumpyExp::detect(),
    }
}

/// Where lm-eval read the fixture's tasks from (its `config_source`) and where their YAMLs say the data is
/// (`dataset_kwargs.data_files`): the YAMLs and the data are put there, so that the resolved task configs
/// are the ones lm-eval dumped into `results.json`.
const TASK_DIR: &str = "/tmp/lmeval-fix/tasks";
const DATA_PATH: &str = "/tmp/lmeval-fix/tasks/data.jsonl";

/// Score each task of `fix_group` through the production path — the task YAMLs resolved and prepared by
/// `yardstick-tasks`, scored by the engine's public `score_task` — from the log-likelihoods lm-eval logged.
fn score_tasks() -> (Vec<TaskOutput>, Vec<Requested>) {
    std::fs::create_dir_all(TASK_DIR).unwrap();
    std::fs::write(DATA_PATH, read("data.jsonl")).unwrap();
    for yaml in ["fix_a.yaml", "fix_b.yaml", "fix_group.yaml"] {
        std::fs::write(format!("{TASK_DIR}/{yaml}"), read(yaml)).unwrap();
    }
    let index = TaskIndex::load(&[std::path::PathBuf::from(TASK_DIR)]).unwrap();
    let selection = index.resolve(&["fix_group".to_string()]).unwrap();
    let data = DataOptions {
        data_dir: None,
        hf_home: Some("/nonexistent-hf-home".into()),
        offline: true,
    };
    let mut outputs = Vec::new();
    for cfg in selection.tasks() {
        let task = PreparedTask::prepare(cfg, &data, None, 1234, None).unwrap();
        let docs = task.all_docs().unwrap();
        let text = read(&format!("samples_{}.jsonl", task.name()));
        let logged: Vec<&str> = text.split_inclusive('\n').collect();
        assert_eq!(logged.len(), docs.len(), "{} documents", task.name());
        let results: Vec<DocResults> = logged
            .iter()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let instances = v["resps"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| LoglikelihoodResult {
                        logprob: r[0][0].as_str().unwrap().parse().unwrap(),
                        is_greedy: r[0][1].as_str().unwrap() == "True",
                    })
                    .collect();
                DocResults {
                    instances,
                    ..Default::default()
                }
            })
            .collect();
        let scored = score_task(&task, &docs, &results, 100_000, env()).unwrap();
        for (i, (ours, theirs)) in scored.lines.iter().zip(&logged).enumerate() {
            assert_eq!(ours, theirs, "{} samples line {}", task.name(), i + 1);
        }
        assert_eq!(scored.samples.len(), docs.len());
        outputs.push(scored.output);
    }
    (outputs, requested(&selection))
}

/// `fix_group` as lm-eval's results file describes it.
fn expected_group() -> Vec<Requested> {
    vec![Requested::Group(GroupNode {
        name: "fix_group".into(),
        alias: None,
        version: Some("3".into()),
        aggregate_metric_list: vec![
            GroupAggMetric {
                metric: "acc".into(),
                weight_by_size: true,
                filter_list: None,
            },
            GroupAggMetric {
                metric: "acc_norm".into(),
                weight_by_size: false,
                filter_list: None,
            },
        ],
        children: vec![
            GroupChild::Task("fix_a".into()),
            GroupChild::Task("fix_b".into()),
        ],
    })]
}

#[test]
fn samples_results_and_hashes_match_lm_eval_0_4_13() {
    let fixture_text = read("results.json");
    let fixture = parse(&fixture_text).unwrap();
    let (tasks, from_selection) = score_tasks();
    assert_eq!(
        format!("{from_selection:?}"),
        format!("{:?}", expected_group()),
        "the group as the engine resolves it"
    );
    let groups = compute_groups(&tasks, &from_selection, env());
    let mut env_info = IndexMap::new();
    for k in [
        "pretty_env_info",
        "transformers_version",
        "lm_eval_version",
        "upper_git_hash",
    ] {
        env_info.insert(k.to_string(), fixture.get(k).unwrap().clone());
    }
    let run = RunMeta {
        config: fixture.get("config").unwrap().clone(),
        git_hash: None,
        date: match fixture.get("date") {
            Some(PyJson::Float(d)) => *d,
            _ => panic!("date"),
        },
        env_info,
        model_source: "dummy".into(),
        model_name: fixture
            .get("model_name")
            .unwrap()
            .as_str()
            .unwrap()
            .to_string(),
        system_instruction: None,
        fewshot_as_multiturn: None,
        chat_template: None,
        total_evaluation_time_seconds: fixture
            .get("total_evaluation_time_seconds")
            .unwrap()
            .as_str()
            .unwrap()
            .parse()
            .unwrap(),
        yardstick: YardstickMeta {
            tool_version: "test".into(),
            lm_eval_compat_version: "0.4.13".into(),
            run_id: "r".into(),
            store_path: None,
            numeric_env: env(),
            extra: IndexMap::new(),
        },
    };
    let mut doc = build_results(&tasks, &from_selection, &groups, &run);
    if let PyJson::Dict(m) = &mut doc {
        assert!(m.shift_remove("yardstick").is_some());
    }
    let ours = doc.dumps_indent(2);
    if ours != fixture_text {
        for (i, (x, y)) in ours.lines().zip(fixture_text.lines()).enumerate() {
            assert_eq!(x, y, "results.json line {}", i + 1);
        }
        assert_eq!(
            ours.lines().count(),
            fixture_text.lines().count(),
            "line count"
        );
    }
    // The terminal table lm-eval printed for this run.
    let table = make_table(&fixture, "results");
    let want = "\
|  Tasks  |Version|Filter|n-shot|  Metric   |   |Value |   |Stderr|
|---------|------:|------|-----:|-----------|---|-----:|---|-----:|
|fix_group|      3|none  |     0|acc        |↑  |0.5000|±  |0.2357|
|         |       |none  |     0|acc_norm   |↑  |0.0000|±  |0.0000|
| - fix_a |      1|none  |     0|acc        |↑  |0.6667|±  |0.3333|
|         |       |none  |     0|acc_norm   |↑  |0.0000|±  |0.0000|
|         |       |none  |     0|exact_match|↑  |0.0000|±  |0.0000|
| - Fix B |      2|none  |     0|acc        |↑  |0.3333|±  |0.3333|
|         |       |none  |     0|acc_norm   |↑  |0.0000|±  |0.0000|
|         |       |none  |     0|exact_match|↑  |0.0000|±  |0.0000|
";
    assert_eq!(table, want);
    let groups_table = make_table(&fixture, "groups");
    let want_groups = "\
| Groups  |Version|Filter|n-shot| Metric |   |Value|   |Stderr|
|---------|------:|------|-----:|--------|---|----:|---|-----:|
|fix_group|      3|none  |     0|acc     |↑  |  0.5|±  |0.2357|
|         |       |none  |     0|acc_norm|↑  |  0.0|±  |0.0000|
";
    assert_eq!(groups_table, want_groups);
}
