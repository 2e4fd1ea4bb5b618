//! Generation tasks through the run engine, with no Python and no shared data: a `generate_until` task
//! written here, the in-process completions server (`testkit::MockLm`, a deterministic greedy fake model)
//! behind the real backend, and an in-memory store. Checks that filters and exact_match score what the
//! server generated (the expected values come from the server's own answers, asked directly), that each
//! filter gets its own samples and aggregates, that greedy repeats cost one request, that a rerun sends
//! nothing, and that a reasoning model's think block is dropped before scoring through `--api chat`.

use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use yardstick_backends::{
    Backend, ChatBackend, OpenAiBackend, OpenAiOptions, Tokenizer, TokenizerChoice,
};
use yardstick_core::python::json::PyJson;
use yardstick_engine::schedule::NoProgress;
use yardstick_engine::{evaluate, prepare, EvalOptions, RunOutcome};
use yardstick_store::Store;
use yardstick_tasks::data::DataOptions;
use yardstick_tasks::{ChatFormat, ChatRenderer, PromptFormat};
use yardstick_testkit::{BosMode, MockConfig, MockLm, Scripted};

fn tokenizer() -> Arc<Tokenizer> {
    let json = yardstick_testkit::toy_tokenizer_json();
    Arc::new(
        Tokenizer::from_json_bytes(json.as_bytes(), &Value::Null, "toy".into())
            .expect("toy tokenizer"),
    )
}

fn mock(tok: &Tokenizer) -> MockLm {
    let pieces = tok.pieces().expect("local tokenizer");
    let mut c = MockConfig::synthetic(pieces.len());
    c.pieces = (0..pieces.len() as u32)
        .map(|i| pieces.piece(i).unwrap_or("").to_string())
        .collect();
    c.bos = 1;
    c.eos = 2;
    c.bos_mode = BosMode::PrependHidden;
    MockLm::start(c).expect("mock server")
}

const QUESTIONS: [&str; 4] = ["we ran", "sea wren", "answer we", "ran sea ans"];

/// A generate_until task with two filter pipelines: the first word of the answer (`first-word`) and the
/// whole answer stripped (`whole`), scored by exact_match against `target`; `repeats: 3`, greedy.
fn write_task(dir: &Path, targets: &[String]) {
    let data: String = QUESTIONS
        .iter()
        .zip(targets)
        .map(|(q, t)| json!({"q": q, "target": t}).to_string() + "\n")
        .collect();
    std::fs::write(dir.join("gen.jsonl"), data).unwrap();
    std::fs::write(
        dir.join("toy_gen.yaml"),
        r#"task: toy_gen
dataset_path: json
dataset_kwargs:
  data_files:
    test: gen.jsonl
test_split: test
output_type: generate_until
doc_to_text: "Q: {{q}}\nA:"
doc_to_target: "{{target}}"
repeats: 3
generation_kwargs:
  until: ["\n\n", "Q:"]
  max_gen_toks: 6
  do_sample: false
  temperature: 0
filter_list:
  - name: first-word
    filter:
      - function: regex
        regex_pattern: "(\\S+)"
      - function: take_first
  - name: whole
    filter:
      - function: remove_whitespace
      - function: take_first
metric_list:
  - metric: exact_match
    ignore_case: true
metadata:
  version: 1.0
"#,
    )
    .unwrap();
}

fn opts(dir: &Path) -> EvalOptions {
    EvalOptions {
        tasks: vec!["toy_gen".into()],
        include_paths: vec![dir.to_path_buf()],
        data: DataOptions {
            data_dir: None,
            hf_home: Some(dir.join("no-hf-home")),
            offline: true,
        },
        num_fewshot: None,
        limit: None,
        fewshot_seed: 1234,
        concurrency: 2,
        output_dir: None,
        bootstrap_iters: 0,
        command_line: "yardstick run (test)".into(),
        git_rev: None,
        model_args: "test".into(),
        format: PromptFormat::default(),
        code_exec: Default::default(),
        mode: Default::default(),
    }
}

/// What the server generates for `prompt`, asked directly (not through the engine): the prompt as
/// lm-eval sends it (token ids, no special tokens) with the task's stop sequences and EOS.
async fn generated(mock: &MockLm, tok: &Tokenizer, prompt: &str) -> String {
    let ids = tok.encode_local(prompt, false).unwrap();
    let mut stop = vec!["\n\n".to_string(), "Q:".to_string()];
    if let Some(eos) = tok.info().eos_id.and_then(|e| tok.hf()?.id_to_token(e)) {
        stop.push(eos);
    }
    let body = json!({"prompt": ids, "model": "mock-model", "max_tokens": 6, "temperature": 0,
                      "stop": stop, "seed": 1234});
    let r: Value = reqwest::Client::new()
        .post(format!("{}/completions", mock.url()))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["choices"][0]["text"].as_str().unwrap().to_string()
}

fn value(outcome: &RunOutcome, key: &str) -> f64 {
    let results = outcome.results.as_ref().expect("results");
    match results
        .get("results")
        .and_then(|r| r.get("toy_gen"))
        .and_then(|t| t.get(key))
    {
        Some(PyJson::Float(f)) => *f,
        other => panic!("{key}: {other:?}"),
    }
}

/// The completions backend on the mock server, with the toy tokenizer.
async fn completions_backend(mock: &MockLm, tok: &Arc<Tokenizer>) -> Arc<dyn Backend> {
    Arc::new(
        OpenAiBackend::connect(
            &mock.url(),
            OpenAiOptions {
                tokenizer: TokenizerChoice::Loaded(tok.clone()),
                timeout: Duration::from_secs(20),
                ..OpenAiOptions::default()
            },
        )
        .await
        .unwrap(),
    )
}

/// Prompts sent as chat messages, few-shot examples as turns (lm-eval's local-chat-completions).
fn chat_messages_format() -> PromptFormat {
    PromptFormat {
        system_instruction: None,
        chat: Some(ChatFormat {
            renderer: ChatRenderer::Messages,
            fewshot_as_multiturn: true,
        }),
    }
}

async fn run(o: &EvalOptions, backend: Arc<dyn Backend>, store: &Arc<Store>) -> RunOutcome {
    let prepared = prepare(o).expect("prepare");
    backend.probe().await.expect("probe");
    evaluate(
        o,
        prepared,
        backend,
        store.clone(),
        &NoProgress,
        Arc::new(AtomicBool::new(false)),
    )
    .await
    .expect("evaluate")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_score_the_generations_and_a_rerun_sends_nothing() {
    let tok = tokenizer();
    let mock = mock(&tok);
    // The golds: docs 0 and 1 get the server's own first word (upper-cased: exact_match ignores case),
    // docs 2 and 3 a word it does not write; doc 1 gets its whole answer right too.
    let mut targets = Vec::new();
    let mut answers = Vec::new();
    for (i, q) in QUESTIONS.iter().enumerate() {
        let text = generated(&mock, &tok, &format!("Q: {q}\nA:")).await;
        let first = text.split_whitespace().next().unwrap_or("").to_string();
        assert!(
            !first.is_empty(),
            "the fake model wrote nothing for {q:?}: {text:?}"
        );
        targets.push(match i {
            0 => first.to_uppercase(),
            1 => text.trim().to_string(),
            _ => "never-generated".into(),
        });
        answers.push(text);
    }
    let dir = tempfile::tempdir().unwrap();
    write_task(dir.path(), &targets);
    let o = opts(dir.path());
    let backend = completions_backend(&mock, &tok).await;
    let store = Arc::new(fresh_store());
    backend.probe().await.expect("probe");
    let before = mock.completions();
    let outcome = run(&o, backend.clone(), &store).await;
    // 4 docs × 3 greedy repeats: one request per doc
    assert_eq!(mock.completions() - before, 4);
    // exact_match with ignore_case: the filtered answer equals the gold, both lower-cased
    let expected = |filtered: &dyn Fn(&str) -> String| {
        let hits = answers
            .iter()
            .zip(&targets)
            .filter(|(a, t)| filtered(a).to_lowercase() == t.to_lowercase())
            .count();
        hits as f64 / answers.len() as f64
    };
    let first_word = |a: &str| a.split_whitespace().next().unwrap_or("").to_string();
    let whole = |a: &str| a.trim().to_string();
    assert_eq!(
        value(&outcome, "exact_match,first-word"),
        expected(&first_word)
    );
    assert_eq!(value(&outcome, "exact_match,whole"), expected(&whole));
    assert!(expected(&first_word) >= 0.25 && expected(&whole) >= 0.25);
    // samples: one per (doc, filter), each repeat's text as sent back
    let mut rows: Vec<(i64, String, Value)> = store
        .samples_of(&outcome.run_id, Some("toy_gen"))
        .unwrap()
        .into_iter()
        .map(|s| (s.doc_id, s.filter, s.record))
        .collect();
    rows.sort_by(|a, b| (&a.1, a.0).cmp(&(&b.1, b.0)));
    assert_eq!(rows.len(), 8);
    for (doc, filter, rec) in &rows {
        let resps = rec["resps"][0].as_array().unwrap();
        assert_eq!(resps.len(), 3, "three repeats");
        assert!(resps.iter().all(|r| r == &json!(answers[*doc as usize])));
        let filtered = rec["filtered_resps"][0].as_str().unwrap();
        let want = if filter == "whole" {
            answers[*doc as usize].trim().to_string()
        } else {
            answers[*doc as usize]
                .split_whitespace()
                .next()
                .unwrap()
                .to_string()
        };
        assert_eq!(filtered, want, "doc {doc} filter {filter}");
        assert_eq!(
            rec["arguments"]["gen_args_0"]["arg_1"]["until"],
            json!(["\n\n", "Q:"])
        );
    }
    // a rerun finds every response in the store
    let before = mock.completions();
    let again = run(&o, backend, &store).await;
    assert_eq!(mock.completions() - before, 0);
    assert_eq!(again.requests_sent, 0);
    assert_eq!(
        value(&again, "exact_match,first-word"),
        value(&outcome, "exact_match,first-word")
    );
}

/// A reasoning model behind a chat endpoint: its think block names a wrong answer first; with the think
/// end token the answer alone is scored, and the request carried the task's messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_reasoning_is_dropped_before_scoring() {
    let tok = tokenizer();
    let mock = mock(&tok);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("gen.jsonl"),
        json!({"q": "six times seven", "target": "42"}).to_string() + "\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("toy_gen.yaml"),
        r#"task: toy_gen
dataset_path: json
dataset_kwargs:
  data_files:
    test: gen.jsonl
test_split: test
output_type: generate_until
description: "Answer briefly."
doc_to_text: "{{q}}"
doc_to_target: "{{target}}"
generation_kwargs:
  until: ["\n\n"]
  do_sample: false
filter_list:
  - name: answer
    filter:
      - function: regex
        regex_pattern: "answer is (\\d+)"
      - function: take_first
metric_list:
  - metric: exact_match
metadata:
  version: 1.0
"#,
    )
    .unwrap();
    let content = "<think>Maybe the answer is 36? No.</think>\n\nThe answer is 42.";
    let reply = json!({"choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": content, "reasoning_content": null}}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 20,
                  "completion_tokens_details": {"reasoning_tokens": 11}}});
    let mut results = Vec::new();
    for think_end in [Some("</think>"), None] {
        mock.push_script([Scripted {
            status: 200,
            retry_after: None,
            body: reply.to_string(),
        }]);
        let mut o = opts(dir.path());
        o.format = chat_messages_format();
        let backend: Arc<dyn Backend> = Arc::new(
            ChatBackend::connect(
                &mock.url(),
                OpenAiOptions {
                    think_end_token: think_end.map(str::to_string),
                    timeout: Duration::from_secs(20),
                    ..OpenAiOptions::default()
                },
            )
            .await
            .unwrap(),
        );
        let store = Arc::new(fresh_store());
        let outcome = run(&o, backend, &store).await;
        results.push(value(&outcome, "exact_match,answer"));
        let sent = mock.stats.bodies.lock().unwrap().back().cloned().unwrap();
        assert_eq!(
            sent["messages"],
            json!([{"role": "system", "content": "Answer briefly."},
                   {"role": "user", "content": "six times seven"}])
        );
        assert_eq!(
            sent["stop"],
            json!(["\n\n"]),
            "no EOS without a tokenizer, as lm-eval"
        );
        assert!(sent.get("prompt").is_none());
        // the store keeps the message list with the sample
        let record = store
            .samples_of(&outcome.run_id, Some("toy_gen"))
            .unwrap()
            .remove(0)
            .record;
        assert_eq!(record["chat_messages"], sent["messages"]);
    }
    assert_eq!(
        results,
        vec![1.0, 0.0],
        "scored on the answer only with the think end token"
    );
}

/// A chat endpoint refuses a log-likelihood task before any request, naming the generative variant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_endpoint_refuses_loglikelihood_tasks_up_front() {
    let tok = tokenizer();
    let mock = mock(&tok);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("d.jsonl"),
        json!({"q": "x", "a": 0}).to_string() + "\n",
    )
    .unwrap();
    for (name, kind) in [
        ("toy", "multiple_choice"),
        ("toy_generative", "generate_until"),
    ] {
        std::fs::write(
            dir.path().join(format!("{name}.yaml")),
            format!(
                "task: {name}\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: d.jsonl\ntest_split: test\n\
                 output_type: {kind}\ndoc_to_text: \"{{{{q}}}}\"\ndoc_to_choice: [\"A\", \"B\"]\ndoc_to_target: \"{{{{a}}}}\"\n"
            ),
        )
        .unwrap();
    }
    let mut o = opts(dir.path());
    o.tasks = vec!["toy".into()];
    let backend: Arc<dyn Backend> = Arc::new(
        ChatBackend::connect(&mock.url(), OpenAiOptions::default())
            .await
            .unwrap(),
    );
    let prepared = prepare(&o).expect("prepare");
    let store = Arc::new(fresh_store());
    let before = mock.stats.bodies.lock().unwrap().len();
    let outcome = evaluate(
        &o,
        prepared,
        backend,
        store,
        &NoProgress,
        Arc::new(AtomicBool::new(false)),
    )
    .await;
    let Err(err) = outcome else {
        panic!("a chat endpoint ran a multiple_choice task");
    };
    let msg = err.to_string();
    assert!(msg.contains("task toy cannot run"), "{msg}");
    assert!(msg.contains("--tasks toy_generative"), "{msg}");
    assert_eq!(
        mock.stats.bodies.lock().unwrap().len(),
        before,
        "no request sent"
    );
}

/// `pass_at_k` over every repeat (no take_first): reported as `pass@1` and `pass@3` per filter, with
/// higher_is_better, averaged over the docs. The mock is greedy, so a doc's three responses are equal
/// and pass@k is 1 exactly where its answer matches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pass_at_k_over_the_repeats() {
    let tok = tokenizer();
    let mock = mock(&tok);
    let mut targets = Vec::new();
    for (i, q) in QUESTIONS.iter().enumerate() {
        let text = generated(&mock, &tok, &format!("Q: {q}\nA:")).await;
        targets.push(if i % 2 == 0 {
            text.trim().to_string()
        } else {
            "never-generated".into()
        });
    }
    let dir = tempfile::tempdir().unwrap();
    write_task(dir.path(), &targets);
    let path = dir.path().join("toy_gen.yaml");
    let yaml = std::fs::read_to_string(&path).unwrap();
    let start = yaml.find("filter_list:").unwrap();
    let end = yaml.find("metadata:").unwrap();
    let yaml = format!(
        "{}filter_list:\n  - name: all\n    filter:\n      - function: remove_whitespace\n\
         metric_list:\n  - metric: pass_at_k\n    k: [1, 3]\n{}",
        &yaml[..start],
        &yaml[end..]
    );
    std::fs::write(&path, yaml).unwrap();
    let backend = completions_backend(&mock, &tok).await;
    let store = Arc::new(fresh_store());
    let outcome = run(&opts(dir.path()), backend, &store).await;
    assert_eq!(value(&outcome, "pass@1,all"), 0.5);
    assert_eq!(value(&outcome, "pass@3,all"), 0.5);
    let hib = outcome
        .results
        .as_ref()
        .and_then(|r| r.get("higher_is_better"))
        .and_then(|h| h.get("toy_gen"))
        .map(|h| format!("{h:?}"))
        .unwrap_or_default();
    assert!(hib.contains("pass@1") && hib.contains("pass@3"), "{hib}");
}

/// The built-in `ifeval` through a chat endpoint with a scripted reply (the same text for its three
/// synthetic rows): the results file reports the prompt-level means with `mean`'s stderr and the
/// inst-level `agg_inst_level_acc` values with stderr `N/A`, as lm-eval does; the samples log the
/// booleans and per-instruction lists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ifeval_scores_through_the_run_engine() {
    let tok = tokenizer();
    let mock = mock(&tok);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("ifeval")).unwrap();
    std::fs::write(
        dir.path().join("ifeval/input_data.jsonl"),
        include_str!("fixtures/ifeval_three_rows.jsonl"),
    )
    .unwrap();
    // Follows row 1's two instructions and nothing else: prompt level 1/3, instruction level 2/5.
    let reply = json!({"choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": "Hello there.\nBye."}}]});
    mock.push_script((0..3).map(|_| Scripted {
        status: 200,
        retry_after: None,
        body: reply.to_string(),
    }));
    let mut o = opts(dir.path());
    o.tasks = vec!["ifeval".into()];
    o.data.data_dir = Some(dir.path().to_path_buf());
    o.bootstrap_iters = 100_000;
    o.format = chat_messages_format();
    let backend: Arc<dyn Backend> = Arc::new(
        ChatBackend::connect(&mock.url(), OpenAiOptions::default())
            .await
            .unwrap(),
    );
    let store = Arc::new(fresh_store());
    let outcome = run(&o, backend, &store).await;
    let results = outcome.results.as_ref().expect("results");
    let r = results
        .get("results")
        .and_then(|r| r.get("ifeval"))
        .expect("ifeval results");
    let float = |k: &str| match r.get(k) {
        Some(PyJson::Float(f)) => *f,
        other => panic!("{k}: {other:?}"),
    };
    assert_eq!(float("prompt_level_strict_acc,none"), 1.0 / 3.0);
    assert_eq!(float("prompt_level_loose_acc,none"), 1.0 / 3.0);
    assert_eq!(float("inst_level_strict_acc,none"), 0.4);
    assert_eq!(float("inst_level_loose_acc,none"), 0.4);
    assert!((float("prompt_level_strict_acc_stderr,none") - 1.0 / 3.0).abs() < 1e-12);
    for k in [
        "inst_level_strict_acc_stderr,none",
        "inst_level_loose_acc_stderr,none",
    ] {
        assert_eq!(r.get(k), Some(&PyJson::str("N/A")), "{k}");
    }
    let records: Vec<Value> = store
        .samples_of(&outcome.run_id, Some("ifeval"))
        .unwrap()
        .into_iter()
        .map(|s| s.record)
        .collect();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0]["inst_level_strict_acc"], json!([true, true]));
    assert_eq!(records[0]["prompt_level_strict_acc"], json!(true));
    assert_eq!(records[1]["inst_level_loose_acc"], json!([false, false]));
    assert_eq!(records[2]["prompt_level_loose_acc"], json!(false));
}

/// A fresh store: in memory, or a new PostgreSQL database when `YARDSTICK_TEST_PG_URL` is set.
fn fresh_store() -> Store {
    match yardstick_testkit::test_database() {
        Some(url) => Store::open_location(&url).unwrap(),
        None => Store::open_in_memory().unwrap(),
    }
}
