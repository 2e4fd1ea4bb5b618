//! Golden structure of a complete output set (results document, samples lines, terminal tables) for a
//! small synthetic run: a size-weighted group of two multiple-choice tasks nested in a container
//! group, a truthfulqa_mc2-style task and a perplexity task. Clock-dependent fields are redacted.
//! Update with `INSTA_UPDATE=always cargo test -p yardstick-engine --test output_golden_snapshot`.

use indexmap::IndexMap;
use yardstick_core::python::json::PyJson;
use yardstick_core::{Doc, LoglikelihoodResult, RequestArgs, Target};
use yardstick_engine::output::results::{
    build_results, compute_groups, config_block, date_id, OutputPaths, RunMeta, TaskOutput,
    YardstickMeta,
};
use yardstick_engine::output::samples::{FilteredResp, RequestArgTuple, Resp, SampleRecord};
use yardstick_engine::output::table::make_table;
use yardstick_engine::scoring::aggregate::{
    aggregate_task, default_higher_is_better, Aggregation, RawMetric,
};
use yardstick_engine::scoring::groups::{GroupAggMetric, GroupChild, GroupNode, Requested};
use yardstick_engine::scoring::process::{
    loglikelihood_rolling, multiple_choice, probability_mass_of_true, MultipleChoiceInput,
    RollingInput,
};
use yardstick_engine::scoring::{DocMetrics, MetricValue, NumericEnv, NumpyExp, PySum};

fn env() -> NumericEnv {
    // Libm exp keeps the snapshot independent of the CPU.
    NumericEnv {
        py_sum: PySum::Neumaier,
        numpy_exp: NumpyExp::Libm,
    }
}

/// One document: its row, target, request arguments, responses and metrics.
type DocRow = (Doc, Target, Vec<RequestArgTuple>, Vec<Resp>, DocMetrics);

struct Built {
    output: TaskOutput,
    lines: Vec<String>,
}

fn doc(pairs: &[(&str, serde_json::Value)]) -> Doc {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn finish(name: &str, alias: Option<&str>, metric_names: &[&str], docs: Vec<DocRow>) -> Built {
    let mut raw: IndexMap<String, Vec<MetricValue>> = IndexMap::new();
    let mut hashes = Vec::new();
    let mut lines = Vec::new();
    for (i, (d, target, args, resps, metrics)) in docs.iter().enumerate() {
        let rec = SampleRecord {
            doc_id: i,
            doc: d,
            target,
            arguments: args.clone(),
            resps: resps.iter().map(|r| vec![r.clone()]).collect(),
            filtered_resps: resps.iter().map(|r| FilteredResp::One(r.clone())).collect(),
            filter: "none",
            metrics,
        };
        lines.push(rec.to_line());
        hashes.push(rec.hashes());
        for (k, v) in metrics {
            raw.entry(k.clone()).or_default().push(v.clone());
        }
    }
    let raw: Vec<RawMetric> = raw
        .into_iter()
        .map(|(metric, values)| RawMetric {
            aggregation: Aggregation::default_for_metric(&metric).unwrap_or(Aggregation::Mean),
            metric,
            filter: "none".into(),
            values,
        })
        .collect();
    Built {
        output: TaskOutput {
            name: name.into(),
            alias: alias.map(String::from),
            version: PyJson::Float(1.0),
            config: {
                let mut c = PyJson::dict();
                c.insert("task", PyJson::str(name));
                c
            },
            num_fewshot: 0,
            higher_is_better: metric_names
                .iter()
                .map(|m| (m.to_string(), default_higher_is_better(m).or(Some(true))))
                .collect(),
            aggregate: aggregate_task(&raw, 1000, env()).unwrap(),
            n_samples_original: docs.len() + 10,
            sample_hashes: Some(hashes),
        },
        lines,
    }
}

fn mc_task(name: &str, lls: &[[f64; 3]], golds: &[i64]) -> Built {
    let choices: Vec<String> = vec!["A".into(), "bb".into(), "ccc".into()];
    let names = ["acc", "acc_norm"];
    let docs = lls
        .iter()
        .zip(golds)
        .enumerate()
        .map(|(i, (l, g))| {
            let d = doc(&[
                ("question", serde_json::json!(format!("Q{i}?"))),
                ("answer", serde_json::json!(g)),
            ]);
            let results: Vec<LoglikelihoodResult> = l
                .iter()
                .enumerate()
                .map(|(j, &x)| LoglikelihoodResult {
                    logprob: x,
                    is_greedy: j == 0,
                })
                .collect();
            let target = Target::Index(*g);
            let m = multiple_choice(
                &MultipleChoiceInput {
                    choices: &choices,
                    gold: &target,
                    multiple_target: false,
                    results: &results,
                    unconditional: None,
                },
                &names,
                NumpyExp::Libm,
            )
            .unwrap();
            let args = choices
                .iter()
                .map(|c| {
                    RequestArgTuple::from_request(
                        &RequestArgs::Loglikelihood {
                            context: format!("Q{i}?\nAnswer:"),
                            continuation: format!(" {c}"),
                        },
                        None,
                    )
                })
                .collect();
            (
                d,
                target,
                args,
                results.into_iter().map(Resp::Loglikelihood).collect(),
                m,
            )
        })
        .collect();
    finish(name, None, &names, docs)
}

#[test]
fn golden_results_samples_and_tables() {
    let a = mc_task(
        "mc_a",
        &[[-1.0, -2.0, -3.0], [-4.0, -1.5, -1.2], [-2.0, -2.0, -6.5]],
        &[0, 2, 1],
    );
    let b = mc_task("mc_b", &[[-0.5, -0.7, -0.9], [-3.0, -2.5, -4.0]], &[1, 1]);
    let mc2_docs = [
        (vec![-1.0, -2.0, -0.5, -3.0], vec![1, 1, 0, 0]),
        (vec![-10.0, -9.5, -12.0], vec![1, 0, 0]),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (lls, labels))| {
        let d = doc(&[
            ("question", serde_json::json!(format!("T{i}"))),
            ("labels", serde_json::json!(labels)),
        ]);
        let m = probability_mass_of_true(&lls, &labels, NumpyExp::Libm).unwrap();
        let args = lls
            .iter()
            .enumerate()
            .map(|(j, _)| {
                RequestArgTuple::from_request(
                    &RequestArgs::Loglikelihood {
                        context: format!("Q: T{i}\nA:"),
                        continuation: format!(" answer {j}"),
                    },
                    None,
                )
            })
            .collect();
        let resps = lls
            .iter()
            .map(|&x| {
                Resp::Loglikelihood(LoglikelihoodResult {
                    logprob: x,
                    is_greedy: false,
                })
            })
            .collect();
        (d, Target::Index(0), args, resps, m)
    })
    .collect();
    let mc2 = finish("tqa_mc2", Some("TruthfulQA mc2"), &["acc"], mc2_docs);
    let roll_docs = [
        ("The cat sat.", -20.5),
        ("  Two  words\n", -9.25),
        ("Ünïcode 中文", -14.0),
    ]
    .into_iter()
    .map(|(text, ll)| {
        let d = doc(&[("page", serde_json::json!(text))]);
        let names = ["word_perplexity", "byte_perplexity", "bits_per_byte"];
        let m = loglikelihood_rolling(
            &RollingInput {
                text,
                loglikelihood: ll,
            },
            &names,
        );
        let args = vec![RequestArgTuple::from_request(
            &RequestArgs::LoglikelihoodRolling { text: text.into() },
            None,
        )];
        (d, Target::Text(text.into()), args, vec![Resp::Float(ll)], m)
    })
    .collect();
    let roll = finish(
        "ppl",
        None,
        &["word_perplexity", "byte_perplexity", "bits_per_byte"],
        roll_docs,
    );

    let inner = GroupNode {
        name: "mc_group".into(),
        alias: Some("MC group".into()),
        version: Some("2".into()),
        aggregate_metric_list: vec![
            GroupAggMetric {
                metric: "acc".into(),
                weight_by_size: true,
                filter_list: None,
            },
            GroupAggMetric {
                metric: "acc_norm".into(),
                weight_by_size: false,
                filter_list: Some(vec!["none".into()]),
            },
        ],
        children: vec![
            GroupChild::Task("mc_a".into()),
            GroupChild::Task("mc_b".into()),
        ],
    };
    let outer = GroupNode {
        name: "suite".into(),
        alias: None,
        version: None,
        aggregate_metric_list: vec![],
        children: vec![GroupChild::Group(inner), GroupChild::Task("tqa_mc2".into())],
    };
    let requested = vec![Requested::Group(outer), Requested::Task("ppl".into())];
    let tasks = vec![a.output, b.output, mc2.output, roll.output];
    let groups = compute_groups(&tasks, &requested, env());
    let now = chrono::Local::now();
    let run = RunMeta {
        config: config_block(
            "local-completions",
            PyJson::str("model=tiny,base_url=http://127.0.0.1:8080/v1/completions"),
            PyJson::Int(1),
            PyJson::None,
            1000,
            PyJson::None,
            [Some(0), Some(1234), Some(1234), Some(1234)],
        ),
        git_hash: Some("abc1234".into()),
        date: now.timestamp() as f64,
        env_info: IndexMap::new(),
        model_source: "local-completions".into(),
        model_name: "org/tiny:q4".into(),
        system_instruction: None,
        fewshot_as_multiturn: Some(false),
        chat_template: None,
        total_evaluation_time_seconds: 12.5,
        yardstick: YardstickMeta {
            tool_version: "0.0.0-test".into(),
            lm_eval_compat_version: "0.4.13".into(),
            run_id: "run-1".into(),
            store_path: Some("yardstick.db".into()),
            numeric_env: env(),
            extra: IndexMap::new(),
        },
    };
    let results = build_results(&tasks, &requested, &groups, &run);
    let text = results.dumps_indent(2).replace(
        &format!("\"date\": {}", PyJson::Float(run.date).dumps()),
        "\"date\": \"[date]\"",
    );
    insta::assert_snapshot!("results_json", text);

    let mut samples = String::new();
    for (name, lines) in [
        ("mc_a", &a.lines),
        ("tqa_mc2", &mc2.lines),
        ("ppl", &roll.lines),
    ] {
        samples.push_str(&format!("== {name}\n"));
        for l in lines.iter() {
            samples.push_str(l);
        }
    }
    insta::assert_snapshot!("samples_jsonl", samples);

    let tables = format!(
        "{}\n{}",
        make_table(&results, "results"),
        make_table(&results, "groups")
    );
    insta::assert_snapshot!("tables", tables);

    let id = date_id(&now);
    let paths = OutputPaths::new(std::path::Path::new("out"), &run.model_name, &id);
    assert_eq!(
        paths.results,
        std::path::PathBuf::from(format!("out/org__tiny__q4/results_{id}.json"))
    );
    let dir = std::env::temp_dir().join(format!("yardstick-output-test-{}", std::process::id()));
    let paths = OutputPaths::new(&dir, &run.model_name, &id);
    paths.write_results(&results).unwrap();
    let written = paths.write_samples("mc_a", a.lines.clone()).unwrap();
    let back = std::fs::read_to_string(&paths.results).unwrap();
    assert_eq!(back, results.dumps_indent(2));
    assert_eq!(std::fs::read_to_string(written).unwrap(), a.lines.concat());
    std::fs::remove_dir_all(&dir).unwrap();
}
