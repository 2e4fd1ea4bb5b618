//! Prompt assembly rules of lm-eval 0.4.13 (reference §2.1, §2.3, §3.5) on in-memory docs, with
//! `insta` snapshots of the rendered prompts.

use std::path::PathBuf;

use serde_json::json;
use yardstick_core::{Doc, RequestArgs, Target};
use yardstick_tasks::{InMemoryData, PreparedTask, TaskConfig, TaskIndex};

fn task(yaml: &str) -> (tempfile::TempDir, TaskConfig) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.yaml"), yaml).unwrap();
    let idx = TaskIndex::load(&[PathBuf::from(dir.path())]).unwrap();
    let name = yaml
        .lines()
        .find_map(|l| l.strip_prefix("task: "))
        .unwrap()
        .trim()
        .to_string();
    let cfg = idx.task_config(&name).unwrap();
    (dir, cfg)
}

fn docs(v: serde_json::Value) -> Vec<Doc> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_object().unwrap().clone())
        .collect()
}

fn mmlu_like() -> (Vec<Doc>, Vec<Doc>) {
    let eval = docs(json!([
        {"question": " What is 2+2? ", "choices": ["3", "4", "5", "it's 22"], "answer": 1},
        {"question": "Pick B.", "choices": ["a", "b", "c", "d"], "answer": 1},
    ]));
    let shots = docs(json!([
        {"question": "Shot one?", "choices": ["w", "x", "y", "z"], "answer": 3},
        {"question": "Shot two?", "choices": ["p", "q", "r", "s"], "answer": 0},
    ]));
    (eval, shots)
}

const MMLU_LIKE: &str = "task: toy_mmlu
dataset_path: x
test_split: test
fewshot_split: dev
fewshot_config:
  sampler: first_n
output_type: multiple_choice
description: \"About toys.\\n\\n\"
doc_to_text: \"{{question.strip()}}\\nA. {{choices[0]}}\\nB. {{choices[1]}}\\nC. {{choices[2]}}\\nD. {{choices[3]}}\\nAnswer:\"
doc_to_choice: [A, B, C, D]
doc_to_target: answer
";

fn prepare(
    cfg: &TaskConfig,
    eval: Vec<Doc>,
    shots: Option<Vec<Doc>>,
    k: Option<usize>,
) -> PreparedTask {
    PreparedTask::from_docs(
        cfg,
        InMemoryData {
            eval_docs: eval,
            fewshot_docs: shots,
        },
        k,
        1234,
        None,
    )
    .unwrap()
}

#[test]
fn mmlu_style_prompts() {
    let (_d, cfg) = task(MMLU_LIKE);
    let (eval, shots) = mmlu_like();
    let p = prepare(&cfg, eval, Some(shots), Some(2));
    let d = p.docs().next().unwrap().unwrap();
    insta::assert_snapshot!("mmlu_style_2shot", d.context);
    let conts: Vec<String> = d
        .instances
        .iter()
        .map(|i| match &i.args {
            RequestArgs::Loglikelihood { continuation, .. } => continuation.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(conts, [" A", " B", " C", " D"]);
    assert_eq!(d.target, Target::Index(1));
    assert_eq!(d.fewshot_ids, [0, 1]);
    assert_eq!(d.messages.len(), 1 + 2 * 2 + 1);
}

#[test]
fn gen_prefix_is_delimited_like_lm_eval() {
    let yaml = format!("{MMLU_LIKE}gen_prefix: \"The answer is:\"\n");
    let (_d, cfg) = task(&yaml);
    let (eval, shots) = mmlu_like();
    let p = prepare(&cfg, eval.clone(), Some(shots.clone()), Some(1));
    let d = p.docs().next().unwrap().unwrap();
    assert!(
        d.context.contains("Answer: The answer is: D\n\n"),
        "{}",
        d.context
    );
    assert!(
        d.context.ends_with("D. it's 22\nAnswer: The answer is:"),
        "{}",
        d.context
    );
    let p = prepare(&cfg, eval, Some(shots), None);
    insta::assert_snapshot!(
        "gen_prefix_0shot",
        p.docs().next().unwrap().unwrap().context
    );
}

#[test]
fn empty_targets_in_shots_get_no_delimiters() {
    let yaml = "task: empty_t
dataset_path: x
test_split: test
fewshot_split: dev
fewshot_config:
  sampler: first_n
output_type: generate_until
doc_to_text: \"Q: {{q}}\"
doc_to_target: \"{{a}}\"
";
    let (_d, cfg) = task(yaml);
    let shots = docs(json!([{"q": "one", "a": ""}, {"q": "two", "a": "2"}]));
    let p = prepare(
        &cfg,
        docs(json!([{"q": "three", "a": "3"}])),
        Some(shots),
        Some(2),
    );
    let d = p.docs().next().unwrap().unwrap();
    assert_eq!(d.context, "Q: oneQ: two 2\n\nQ: three");
    // generate_until defaults: until = [fewshot_delimiter], 256 tokens, greedy.
    match &d.instances[0].args {
        RequestArgs::GenerateUntil { params, .. } => {
            assert_eq!(params.until, ["\n\n"]);
            assert_eq!(params.max_gen_toks, 256);
            assert!(!params.do_sample);
            assert_eq!(params.temperature, 0.0);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        cfg.generation_kwargs.clone().map(serde_json::Value::Object),
        Some(
            json!({"temperature": 0.0, "do_sample": false, "max_gen_toks": 256, "until": ["\n\n"]})
        )
    );
    assert_eq!(d.target, Target::Text("3".into()));
}

#[test]
fn loglikelihood_adds_no_delimiter_and_rolling_has_no_context() {
    let (_d, cfg) = task("task: ll\ndataset_path: x\ntest_split: test\noutput_type: loglikelihood\ndoc_to_text: \"{{text.split(' ')[:-1] | join(' ')}}\"\ndoc_to_target: \"{{' ' + text.split(' ')[-1]}}\"\n");
    let p = prepare(&cfg, docs(json!([{"text": "the cat sat"}])), None, None);
    let d = p.docs().next().unwrap().unwrap();
    assert_eq!(
        d.instances[0].args,
        RequestArgs::Loglikelihood {
            context: "the cat".into(),
            continuation: " sat".into()
        }
    );
    let m: Vec<String> = cfg.metrics().into_iter().map(|m| m.name).collect();
    assert_eq!(m, ["perplexity", "acc"]);
    let (_d, cfg) = task("task: roll\ndataset_path: x\ntest_split: test\noutput_type: loglikelihood_rolling\ndoc_to_text: \"\"\ndoc_to_target: page\n");
    let p = prepare(&cfg, docs(json!([{"page": "Some long text."}])), None, None);
    let d = p.docs().next().unwrap().unwrap();
    assert_eq!(
        d.instances,
        vec![yardstick_core::Instance {
            doc_id: 0,
            idx: 0,
            args: RequestArgs::LoglikelihoodRolling {
                text: "Some long text.".into()
            },
            repeats: 1
        }]
    );
}

#[test]
fn mutual_info_adds_unconditional_requests() {
    let (_d, cfg) = task("task: mi\ndataset_path: x\ntest_split: test\noutput_type: multiple_choice\ndoc_to_text: \"{{q}}\"\ndoc_to_choice: \"{{opts}}\"\ndoc_to_target: \"{{gold}}\"\nmetric_list:\n  - metric: acc\n  - metric: acc_mutual_info\n");
    let p = prepare(
        &cfg,
        docs(json!([{"q": "Q?", "opts": ["x y", "it's"], "gold": 1}])),
        None,
        None,
    );
    let d = p.docs().next().unwrap().unwrap();
    let args: Vec<(String, String)> = d
        .instances
        .iter()
        .map(|i| match &i.args {
            RequestArgs::Loglikelihood {
                context,
                continuation,
            } => (context.clone(), continuation.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        args,
        [
            ("Q?".into(), " x y".into()),
            ("Q?".into(), " it's".into()),
            (String::new(), " x y".into()),
            (String::new(), " it's".into())
        ]
    );
    assert_eq!(
        d.instances.iter().map(|i| i.idx).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert_eq!(d.target, Target::Index(1));
    assert_eq!(d.target_value, json!(1));
}

#[test]
fn multiple_targets_and_string_golds() {
    let (_d, cfg) = task("task: mt\ndataset_path: x\ntest_split: test\noutput_type: multiple_choice\ndoc_to_text: \"{{q}}\"\ndoc_to_choice: \"{{opts}}\"\ndoc_to_target: \"{{golds}}\"\n");
    let p = prepare(
        &cfg,
        docs(json!([{"q": "Q", "opts": ["a", "b", "c"], "golds": [0, 2, 7]}])),
        None,
        None,
    );
    assert!(p.multiple_target());
    let d = p.docs().next().unwrap().unwrap();
    assert_eq!(d.target, Target::Indices(vec![0, 2, -100]));
    assert_eq!(d.target_string, "[0, 2, 7]");
    let (_d, cfg) = task("task: sg\ndataset_path: x\ntest_split: test\noutput_type: multiple_choice\ndoc_to_text: \"{{q}}\"\ndoc_to_choice: opts\ndoc_to_target: ans\n");
    let p = prepare(
        &cfg,
        docs(
            json!([{"q": "Q", "opts": ["a", "b"], "ans": "b"}, {"q": "Q", "opts": ["a", "b"], "ans": "z"}]),
        ),
        None,
        None,
    );
    let all = p.all_docs().unwrap();
    assert_eq!(all[0].target, Target::Index(1));
    assert_eq!(all[1].target, Target::Index(-100));
}

#[test]
fn multiple_input_builds_one_context_per_choice() {
    let (_d, cfg) = task("task: wino\ndataset_path: x\ntest_split: test\nfewshot_split: train\nfewshot_config:\n  sampler: first_n\noutput_type: multiple_choice\ndoc_to_text: \"{{label}}\"\ndoc_to_choice: \"{{[pre + o1, pre + o2]}}\"\ndoc_to_target: \"{{post}}\"\n");
    let doc = |pre: &str, post: &str, label: i64| json!({"pre": pre, "o1": "A", "o2": "B", "post": post, "label": label});
    let p = prepare(
        &cfg,
        docs(json!([doc("X is ", "here.", 1)])),
        Some(docs(json!([doc("S is ", "there.", 0)]))),
        Some(1),
    );
    assert_eq!(p.multiple_input(), Some(2));
    let d = p.docs().next().unwrap().unwrap();
    assert_eq!(
        d.contexts,
        ["S is A there.\n\nX is A", "S is A there.\n\nX is B"]
    );
    assert_eq!(d.context, d.contexts[0]);
    match &d.instances[1].args {
        RequestArgs::Loglikelihood {
            context,
            continuation,
        } => {
            assert_eq!(context, "S is A there.\n\nX is B");
            assert_eq!(continuation, " here.");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(d.target, Target::Index(1));
}

#[test]
fn default_sampler_excludes_the_eval_doc_when_splits_match() {
    // No fewshot_split and no test_split: None == None, so lm-eval passes the eval doc for exclusion.
    let (_d, cfg) = task("task: hs\ndataset_path: x\nvalidation_split: validation\noutput_type: multiple_choice\ndoc_to_text: \"{{q}}\"\ndoc_to_choice: [a, b]\ndoc_to_target: 0\n");
    let pool: Vec<Doc> = (0..6)
        .map(|i| json!({"q": format!("q{i}")}).as_object().unwrap().clone())
        .collect();
    let p = prepare(&cfg, pool.clone(), Some(pool.clone()), Some(5));
    for d in p.all_docs().unwrap() {
        assert_eq!(d.fewshot_ids.len(), 5);
        assert!(
            !d.fewshot_ids.contains(&d.doc_id),
            "doc {} drew itself",
            d.doc_id
        );
    }
    // The stream is consumed per doc in order: a limit gives a prefix of the full run.
    let full = p.all_docs().unwrap();
    let limited = PreparedTask::from_docs(
        &cfg,
        InMemoryData {
            eval_docs: pool.clone(),
            fewshot_docs: Some(pool),
        },
        Some(5),
        1234,
        Some("3".parse().unwrap()),
    )
    .unwrap()
    .all_docs()
    .unwrap();
    assert_eq!(limited.len(), 3);
    for (a, b) in limited.iter().zip(&full) {
        assert_eq!(a.fewshot_ids, b.fewshot_ids);
    }
}

#[test]
fn limits() {
    use yardstick_tasks::Limit;
    assert_eq!("10".parse::<Limit>().unwrap().resolve(100), 10);
    assert_eq!("0.1".parse::<Limit>().unwrap().resolve(135), 14);
    // lm-eval truncates 2.7 to 2 docs; Yardstick refuses it (and 0, which lm-eval reads as "all").
    assert!("2.7".parse::<Limit>().is_err());
    assert!("0".parse::<Limit>().is_err());
    assert_eq!(Limit::Count(0).resolve(100), 100);
    assert_eq!("500".parse::<Limit>().unwrap().resolve(100), 100);
    assert!("-1".parse::<Limit>().is_err());
}

#[test]
fn description_is_a_template_glued_without_delimiter() {
    let (_d, cfg) = task("task: desc\ndataset_path: x\ntest_split: test\noutput_type: multiple_choice\ndescription: \"Topic: {{topic}}.\"\ndoc_to_text: \"Q: {{q}}\"\ndoc_to_choice: [yes, no]\ndoc_to_target: 0\n");
    let p = prepare(
        &cfg,
        docs(json!([{"topic": "cats", "q": "meow?"}])),
        None,
        None,
    );
    assert_eq!(
        p.docs().next().unwrap().unwrap().context,
        "Topic: cats.Q: meow?"
    );
}

#[test]
fn config_dump_snapshot() {
    let (_d, cfg) = task(MMLU_LIKE);
    let mut dump = cfg.to_lm_eval_dict(Some(5));
    dump["metadata"]["config_source"] = json!("<tmp>/t.yaml");
    insta::assert_json_snapshot!("toy_mmlu_config", dump);
}
