//! Byte-for-byte agreement with lm-eval 0.4.13 for the other output types and metrics:
//! `loglikelihood_rolling` (word/byte perplexity, bits per byte), `loglikelihood` (perplexity with its
//! bootstrap stderr, acc), `generate_until` with two filters and `exact_match` options, a list target
//! (any-match), and multiple choice with `acc_mutual_info`, `brier_score`, `f1`, `mcc`, `acc_bytes`
//! (bootstrapped f1/mcc stderrs, numpy-printed brier probabilities).
//!
//! `fixtures/lm_eval_0_4_13_dummy_mixed/` was produced by CPython 3.11 + lm-eval 0.4.13:
//!
//! ```text
//! lm_eval run --model dummy --tasks roll,ll,gen,genmulti,mcx --include_path <fixture dir> \
//!     --output_path out --log_samples
//! ```
//!
//! (the task YAMLs and `data.jsonl` are in the fixture directory). Filters are the task layer's job:
//! the filtered responses are taken from the fixture.

use indexmap::IndexMap;
use yardstick_core::python::json::{parse, PyJson};
use yardstick_core::{Doc, LoglikelihoodResult, RequestArgs, Target};
use yardstick_engine::output::results::{
    build_results, compute_groups, RunMeta, TaskOutput, YardstickMeta,
};
use yardstick_engine::output::samples::{FilteredResp, RequestArgTuple, Resp, SampleRecord};
use yardstick_engine::scoring::aggregate::{
    aggregate_task, default_higher_is_better, Aggregation, RawMetric,
};
use yardstick_engine::scoring::exact_match::{ExactMatch, ExactMatchOptions};
use yardstick_engine::scoring::groups::Requested;
use yardstick_engine::scoring::process::{
    loglikelihood, loglikelihood_rolling, multiple_choice, MultipleChoiceInput, RollingInput,
};
use yardstick_engine::scoring::{DocMetrics, MetricValue, NumericEnv, NumpyExp, PySum};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/lm_eval_0_4_13_dummy_mixed"
);

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn env() -> NumericEnv {
    NumericEnv {
        py_sum: PySum::Sequential,
        numpy_exp: NumpyExp::detect(),
    }
}

fn ll_pair(v: &serde_json::Value) -> LoglikelihoodResult {
    LoglikelihoodResult {
        logprob: v[0].as_str().unwrap().parse().unwrap(),
        is_greedy: v[1].as_str().unwrap() == "True",
    }
}

/// A document's target, request arguments, responses, filtered responses and metrics.
type Row = (
    Target,
    Vec<RequestArgTuple>,
    Vec<Vec<Resp>>,
    Vec<FilteredResp>,
    DocMetrics,
);

fn metric_names(task: &str) -> Vec<&'static str> {
    match task {
        "roll" => vec!["word_perplexity", "byte_perplexity", "bits_per_byte"],
        "ll" => vec!["perplexity", "acc"],
        "gen" | "genmulti" => vec!["exact_match"],
        "mcx" => vec!["acc_mutual_info", "brier_score", "f1", "mcc", "acc_bytes"],
        _ => unreachable!(),
    }
}

fn score_task(task: &str, fixture: &PyJson) -> TaskOutput {
    let names = metric_names(task);
    let gen_em = ExactMatch::new(ExactMatchOptions {
        regexes_to_ignore: vec![
            ",".into(),
            "\\$".into(),
            "(?s).*#### ".into(),
            "\\.$".into(),
        ],
        ignore_case: true,
        ..Default::default()
    })
    .unwrap();
    let multi_em = ExactMatch::new(ExactMatchOptions {
        ignore_case: true,
        ignore_punctuation: true,
        ..Default::default()
    })
    .unwrap();
    let mut raw: IndexMap<(String, String), Vec<MetricValue>> = IndexMap::new();
    let mut hashes = Vec::new();
    for line in read(&format!("samples_{task}.jsonl")).split_inclusive('\n') {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let doc: Doc = v["doc"].as_object().unwrap().clone();
        let filter = v["filter"].as_str().unwrap().to_string();
        let s = |k: &str| doc[k].as_str().unwrap().to_string();
        let (target, arguments, resps, filtered, metrics): Row = match task {
            "roll" => {
                let ll: f64 = v["resps"][0][0].as_str().unwrap().parse().unwrap();
                let text = s("text");
                let m = loglikelihood_rolling(
                    &RollingInput {
                        text: &text,
                        loglikelihood: ll,
                    },
                    &names,
                );
                (
                    Target::Text(text.clone()),
                    vec![RequestArgTuple::from_request(
                        &RequestArgs::LoglikelihoodRolling { text },
                        None,
                    )],
                    vec![vec![Resp::Float(ll)]],
                    vec![FilteredResp::One(Resp::Float(ll))],
                    m,
                )
            }
            "ll" => {
                let r = ll_pair(&v["resps"][0][0]);
                let cont = format!(" {}", s("answer"));
                (
                    Target::Text(cont.clone()),
                    vec![RequestArgTuple::from_request(
                        &RequestArgs::Loglikelihood {
                            context: s("question"),
                            continuation: cont,
                        },
                        None,
                    )],
                    vec![vec![Resp::Loglikelihood(r)]],
                    vec![FilteredResp::One(Resp::Loglikelihood(r))],
                    loglikelihood(r, &names),
                )
            }
            "gen" | "genmulti" => {
                let raw_text = v["resps"][0][0].as_str().unwrap().to_string();
                let filtered_text = v["filtered_resps"][0].as_str().unwrap().to_string();
                let kwargs = v["arguments"]["gen_args_0"]["arg_1"].clone();
                let context = v["arguments"]["gen_args_0"]["arg_0"]
                    .as_str()
                    .unwrap()
                    .to_string();
                let args = RequestArgs::GenerateUntil {
                    context,
                    params: yardstick_core::GenerationParams {
                        until: vec![],
                        max_gen_toks: 256,
                        temperature: 0.0,
                        do_sample: false,
                        extra: Default::default(),
                    },
                };
                let (target, refs, em) = if task == "gen" {
                    (Target::Text(s("answer")), vec![s("answer")], &gen_em)
                } else {
                    let aliases: Vec<String> = doc["aliases"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|a| a.as_str().unwrap().to_string())
                        .collect();
                    (Target::Texts(aliases.clone()), aliases, &multi_em)
                };
                let m = vec![(
                    "exact_match".to_string(),
                    em.score(&filtered_text, &refs).unwrap(),
                )];
                (
                    target,
                    vec![RequestArgTuple::from_request(&args, Some(&kwargs))],
                    vec![vec![Resp::Text(raw_text)]],
                    vec![FilteredResp::One(Resp::Text(filtered_text))],
                    m,
                )
            }
            _ => {
                let choices: Vec<String> = doc["choices"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap().to_string())
                    .collect();
                let all: Vec<LoglikelihoodResult> = v["resps"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| ll_pair(&r[0]))
                    .collect();
                let (cond, unc) = all.split_at(choices.len());
                let gold = Target::Index(doc["label"].as_i64().unwrap());
                let input = MultipleChoiceInput {
                    choices: &choices,
                    gold: &gold,
                    multiple_target: false,
                    results: cond,
                    unconditional: Some(unc),
                };
                let m = multiple_choice(&input, &names, env().numpy_exp).unwrap();
                let q = s("question");
                let mut args: Vec<RequestArgTuple> = choices
                    .iter()
                    .map(|c| {
                        RequestArgTuple::from_request(
                            &RequestArgs::Loglikelihood {
                                context: q.clone(),
                                continuation: format!(" {c}"),
                            },
                            None,
                        )
                    })
                    .collect();
                args.extend(choices.iter().map(|c| {
                    RequestArgTuple::from_request(
                        &RequestArgs::Loglikelihood {
                            context: String::new(),
                            continuation: format!(" {c}"),
                        },
                        None,
                    )
                }));
                (
                    gold,
                    args,
                    all.iter().map(|r| vec![Resp::Loglikelihood(*r)]).collect(),
                    all.iter()
                        .map(|r| FilteredResp::One(Resp::Loglikelihood(*r)))
                        .collect(),
                    m,
                )
            }
        };
        let record = SampleRecord {
            doc_id: v["doc_id"].as_u64().unwrap() as usize,
            doc: &doc,
            target: &target,
            arguments,
            resps,
            filtered_resps: filtered,
            filter: &filter,
            metrics: &metrics,
        };
        assert_eq!(record.to_line(), line, "{task} samples line");
        hashes.push(record.hashes());
        for (k, val) in metrics {
            raw.entry((k, filter.clone())).or_default().push(val);
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
    TaskOutput {
        name: task.to_string(),
        alias: None,
        version: fixture.get("versions").unwrap().get(task).unwrap().clone(),
        config: fixture.get("configs").unwrap().get(task).unwrap().clone(),
        num_fewshot: 0,
        higher_is_better: names
            .iter()
            .map(|m| (m.to_string(), default_higher_is_better(m)))
            .collect(),
        aggregate: aggregate_task(&raw, 100_000, env()).unwrap(),
        n_samples_original: 3,
        sample_hashes: Some(hashes),
    }
}

#[test]
fn mixed_output_types_match_lm_eval_0_4_13() {
    let text = read("results.json");
    let fixture = parse(&text).unwrap();
    let order = ["roll", "ll", "gen", "genmulti", "mcx"];
    let tasks: Vec<TaskOutput> = order.iter().map(|t| score_task(t, &fixture)).collect();
    let requested: Vec<Requested> = order
        .iter()
        .map(|t| Requested::Task(t.to_string()))
        .collect();
    let groups = compute_groups(&tasks, &requested, env());
    assert!(groups.is_empty());
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
    let mut doc = build_results(&tasks, &requested, &groups, &run);
    if let PyJson::Dict(m) = &mut doc {
        m.shift_remove("yardstick");
    }
    let ours = doc.dumps_indent(2);
    for (i, (x, y)) in ours.lines().zip(text.lines()).enumerate() {
        assert_eq!(x, y, "results.json line {}", i + 1);
    }
    assert_eq!(ours, text);
    let table = yardstick_engine::output::table::make_table(&fixture, "results");
    let want = "\
| Tasks  |Version|Filter|n-shot|    Metric     |   | Value |   |Stderr|
|--------|------:|------|-----:|---------------|---|------:|---|------|
|gen     |      3|none  |     0|exact_match    |↑  | 0.3333|±  |0.3333|
|        |       |strict|     0|exact_match    |↑  | 0.3333|±  |0.3333|
|genmulti|      1|none  |     0|exact_match    |↑  | 0.6667|±  |0.3333|
|ll      |      0|none  |     0|acc            |↑  | 0.0000|±  |     0|
|        |       |none  |     0|perplexity     |↓  | 1.5869|±  |0.3576|
|mcx     |      1|none  |     0|acc_bytes      |↑  | 0.0000|±  |     0|
|        |       |none  |     0|acc_mutual_info|↑  | 0.6667|±  |0.3333|
|        |       |none  |     0|brier_score    |↓  | 0.7247|±  |   N/A|
|        |       |none  |     0|f1             |↑  | 0.0000|±  |     0|
|        |       |none  |     0|mcc            |↑  |-1.0000|±  |0.4718|
|roll    |      1|none  |     0|bits_per_byte  |↓  | 0.0356|±  |   N/A|
|        |       |none  |     0|byte_perplexity|↓  | 1.0250|±  |   N/A|
|        |       |none  |     0|word_perplexity|↓  | 1.1344|±  |   N/A|
";
    assert_eq!(table, want);
}
