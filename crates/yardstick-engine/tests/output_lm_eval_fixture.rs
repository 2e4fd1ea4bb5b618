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
//! samples file records. This test re-scores every sample from those log-likelihoods and checks that
//! each samples line, every hash, every metric and stderr, the group aggregation and the whole results
//! document (apart from our added `yardstick` block) come out identical.

use indexmap::IndexMap;
use yardstick_core::python::json::{parse, PyJson};
use yardstick_core::{Doc, LoglikelihoodResult, RequestArgs, Target};
use yardstick_engine::output::results::{
    build_results, compute_groups, RunMeta, TaskOutput, YardstickMeta,
};
use yardstick_engine::output::samples::{FilteredResp, RequestArgTuple, Resp, SampleRecord};
use yardstick_engine::output::table::make_table;
use yardstick_engine::scoring::aggregate::{
    aggregate_task, default_higher_is_better, Aggregation, RawMetric,
};
use yardstick_engine::scoring::groups::{GroupAggMetric, GroupChild, GroupNode, Requested};
use yardstick_engine::scoring::process::{multiple_choice, MultipleChoiceInput};
use yardstick_engine::scoring::{NumericEnv, NumpyExp, PySum};

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

struct Scored {
    output: TaskOutput,
}

fn score_task(task: &str, alias: Option<&str>, results_doc: &PyJson) -> Scored {
    let text = read(&format!("samples_{task}.jsonl"));
    let metric_names = ["acc_norm", "acc", "exact_match"];
    let mut raw: IndexMap<(String, String), Vec<yardstick_engine::scoring::MetricValue>> =
        IndexMap::new();
    let mut hashes = Vec::new();
    for line in text.split_inclusive('\n') {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let doc: Doc = v["doc"].as_object().unwrap().clone();
        let choices: Vec<String> = doc["choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        let gold = Target::Index(doc["answer"].as_i64().unwrap());
        let results: Vec<LoglikelihoodResult> = v["resps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let pair = &r[0];
                LoglikelihoodResult {
                    logprob: pair[0].as_str().unwrap().parse().unwrap(),
                    is_greedy: pair[1].as_str().unwrap() == "True",
                }
            })
            .collect();
        let input = MultipleChoiceInput {
            choices: &choices,
            gold: &gold,
            multiple_target: false,
            results: &results,
            unconditional: None,
        };
        let metrics = multiple_choice(&input, &metric_names, env().numpy_exp).unwrap();
        let context = v["arguments"]["gen_args_0"]["arg_0"]
            .as_str()
            .unwrap()
            .to_string();
        let arguments = choices
            .iter()
            .map(|c| {
                RequestArgTuple::from_request(
                    &RequestArgs::Loglikelihood {
                        context: context.clone(),
                        continuation: format!(" {c}"),
                    },
                    None,
                )
            })
            .collect();
        let record = SampleRecord {
            doc_id: v["doc_id"].as_u64().unwrap() as usize,
            doc: &doc,
            target: &gold,
            arguments,
            resps: results
                .iter()
                .map(|r| vec![Resp::Loglikelihood(*r)])
                .collect(),
            filtered_resps: results
                .iter()
                .map(|r| FilteredResp::One(Resp::Loglikelihood(*r)))
                .collect(),
            filter: "none",
            metrics: &metrics,
        };
        assert_eq!(record.to_line(), line, "{task} samples line");
        hashes.push(record.hashes());
        for (k, val) in metrics {
            raw.entry((k, "none".to_string())).or_default().push(val);
        }
    }
    let raw: Vec<RawMetric> = raw
        .into_iter()
        .map(|((metric, filter), values)| RawMetric {
            aggregation: Aggregation::default_for_metric(&metric).unwrap(),
            metric,
            filter,
            values,
        })
        .collect();
    let aggregate = aggregate_task(&raw, 100_000, env()).unwrap();
    let configs = results_doc.get("configs").unwrap();
    Scored {
        output: TaskOutput {
            name: task.to_string(),
            alias: alias.map(String::from),
            version: results_doc
                .get("versions")
                .unwrap()
                .get(task)
                .unwrap()
                .clone(),
            config: configs.get(task).unwrap().clone(),
            num_fewshot: 0,
            higher_is_better: metric_names
                .iter()
                .map(|m| (m.to_string(), default_higher_is_better(m)))
                .collect(),
            aggregate,
            n_samples_original: 3,
            sample_hashes: Some(hashes),
        },
    }
}

fn requested() -> Vec<Requested> {
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
    let a = score_task("fix_a", None, &fixture);
    let b = score_task("fix_b", Some("Fix B"), &fixture);
    let tasks = vec![a.output, b.output];
    let groups = compute_groups(&tasks, &requested(), env());
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
    let mut doc = build_results(&tasks, &requested(), &groups, &run);
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
