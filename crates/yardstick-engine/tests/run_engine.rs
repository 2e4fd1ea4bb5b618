//! The run engine end to end, with no Python and no shared data: tasks from YAML files written here, a
//! real tokenizer (`testkit::toy_tokenizer_json`), the in-process completions server (`testkit::MockLm`)
//! behind the real OpenAI-compatible backend, and an in-memory store. Covers scoring against an oracle
//! computed from the fake model's logits, grouped scoring, dedup (across tasks and reruns), interrupt and
//! resume.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use yardstick_backends::{Backend, OpenAiBackend, OpenAiOptions, Tokenizer, TokenizerChoice};
use yardstick_engine::schedule::{NoProgress, Progress};
use yardstick_engine::{evaluate, prepare, EvalOptions, RunOutcome};
use yardstick_store::ledger::RunStatus;
use yardstick_store::Store;
use yardstick_tasks::data::DataOptions;
use yardstick_testkit::{mock_lm, BosMode, MockConfig, MockLm};

const N_DOCS: usize = 12;
const LETTERS: [&str; 4] = ["A", "B", "C", "D"];

fn tokenizer() -> Arc<Tokenizer> {
    let json = yardstick_testkit::toy_tokenizer_json();
    Arc::new(
        Tokenizer::from_json_bytes(json.as_bytes(), &serde_json::Value::Null, "toy".into())
            .expect("toy tokenizer"),
    )
}

/// The question texts, all different (letters of the toy vocabulary and a number, so they tokenise into a
/// mix of merges and bytes).
fn question(i: usize) -> String {
    let words = ["answer", "ans", "we", "sea", "ran", "wren"];
    format!(
        "{} {} {} {i}",
        words[i % 6],
        words[(i * 5 + 1) % 6],
        words[(i * 7 + 2) % 6]
    )
}

/// Write `toy_mc` (multiple choice, letters A–D as single-token choices) and `toy_mc_copy` (the same
/// prompts under another name) with their data.
fn write_tasks(dir: &Path) {
    let data: String = (0..N_DOCS)
        .map(|i| serde_json::json!({"q": question(i), "answer": i % 4}).to_string() + "\n")
        .collect();
    std::fs::write(dir.join("data.jsonl"), data).unwrap();
    for name in ["toy_mc", "toy_mc_copy"] {
        std::fs::write(
            dir.join(format!("{name}.yaml")),
            format!(
                r#"task: {name}
dataset_path: json
dataset_kwargs:
  data_files:
    test: data.jsonl
test_split: test
output_type: multiple_choice
doc_to_text: "{{{{q}}}} answer:"
doc_to_choice: ["A", "B", "C", "D"]
doc_to_target: "{{{{answer}}}}"
metric_list:
  - metric: acc
  - metric: acc_norm
metadata:
  version: 1.0
"#
            ),
        )
        .unwrap();
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    mock: MockLm,
    tok: Arc<Tokenizer>,
}

impl Fixture {
    /// A fake server whose answer letters rank high (as a real model's do after "answer:").
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        write_tasks(dir.path());
        let tok = tokenizer();
        let pieces = tok.pieces().expect("local tokenizer");
        let mut c = MockConfig::synthetic(pieces.len());
        c.pieces = (0..pieces.len() as u32)
            .map(|i| pieces.piece(i).unwrap_or("").to_string())
            .collect();
        c.bos = 1;
        c.eos = 2;
        c.bos_mode = BosMode::PrependHidden;
        let hf = tok.hf().expect("hf");
        c.boost = LETTERS
            .iter()
            .filter_map(|l| hf.token_to_id(&format!("▁{l}")))
            .collect();
        assert_eq!(c.boost.len(), 4, "the toy vocabulary has ▁A…▁D");
        let mock = MockLm::start(c).expect("mock server");
        Fixture { dir, mock, tok }
    }

    async fn backend(&self, grouped: bool) -> Arc<dyn Backend> {
        let b = OpenAiBackend::connect(
            &self.mock.url(),
            OpenAiOptions {
                tokenizer: TokenizerChoice::Loaded(self.tok.clone()),
                grouped,
                // the toy vocabulary's byte pieces collide; the four boosted letters fill a top-4 exactly
                group_top_k: Some(4),
                // one request per choice when not grouped (no prompt lists), as lm-eval sends them
                batch_prompts: Some(false),
                timeout: Duration::from_secs(20),
                ..OpenAiOptions::default()
            },
        )
        .await
        .expect("connect");
        Arc::new(b)
    }

    fn opts(&self, tasks: &[&str]) -> EvalOptions {
        EvalOptions {
            tasks: tasks.iter().map(|t| t.to_string()).collect(),
            include_paths: vec![self.dir.path().to_path_buf()],
            data: DataOptions {
                data_dir: None,
                hf_home: Some(self.dir.path().join("no-hf-home")),
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
            format: Default::default(),
            code_exec: Default::default(),
            mode: Default::default(),
        }
    }

    /// Run `tasks`; returns the outcome and the completions calls the run made (the probe's not counted).
    async fn run(
        &self,
        tasks: &[&str],
        store: &Arc<Store>,
        grouped: bool,
        progress: &dyn Progress,
        cancel: Arc<AtomicBool>,
    ) -> (RunOutcome, u64) {
        let opts = self.opts(tasks);
        let prepared = prepare(&opts).expect("prepare");
        let backend = self.backend(grouped).await;
        backend.probe().await.expect("probe");
        let before = self.mock.completions();
        let outcome = evaluate(&opts, prepared, backend, store.clone(), progress, cancel)
            .await
            .expect("evaluate");
        (outcome, self.mock.completions() - before)
    }

    /// Run `tasks` to the end (no cancel, no progress).
    async fn run_plain(
        &self,
        tasks: &[&str],
        store: &Arc<Store>,
        grouped: bool,
    ) -> (RunOutcome, u64) {
        self.run(
            tasks,
            store,
            grouped,
            &NoProgress,
            Arc::new(AtomicBool::new(false)),
        )
        .await
    }

    /// The oracle: for each question, the letter the fake model ranks highest after its prompt, from the
    /// model's logits directly (no backend, no engine). The boost adds the same to every letter, so it does
    /// not change which letter wins.
    fn oracle_acc(&self) -> f64 {
        let hf = self.tok.hf().expect("hf");
        let vocab = self.tok.pieces().expect("pieces").len();
        let letter_ids: Vec<u32> = LETTERS
            .iter()
            .map(|l| hf.token_to_id(&format!("▁{l}")).unwrap())
            .collect();
        let mut correct = 0;
        for i in 0..N_DOCS {
            let ctx = self
                .tok
                .encode_local(&format!("{} answer:", question(i)), false)
                .unwrap();
            let mut prefix = vec![1u32];
            prefix.extend(ctx);
            let row = mock_lm::logits(&prefix, vocab);
            let best = (0..4)
                .max_by(|&a, &b| {
                    row[letter_ids[a] as usize].total_cmp(&row[letter_ids[b] as usize])
                })
                .unwrap();
            correct += usize::from(best == i % 4);
        }
        correct as f64 / N_DOCS as f64
    }
}

fn metric(outcome: &RunOutcome, task: &str, metric: &str) -> f64 {
    let results = outcome.results.as_ref().expect("results");
    let v = results
        .get("results")
        .and_then(|r| r.get(task))
        .and_then(|t| t.get(&format!("{metric},none")))
        .unwrap_or_else(|| panic!("no {metric} for {task}"));
    match v {
        yardstick_core::python::json::PyJson::Float(f) => *f,
        other => panic!("{metric} of {task} is {other:?}"),
    }
}

/// Every stored sample of a run, by (task, doc id): its record and metrics.
fn samples(store: &Store, run_id: &str) -> HashMap<(String, i64), (String, String)> {
    store
        .samples_of(run_id, None)
        .unwrap()
        .into_iter()
        .map(|s| {
            (
                (s.task, s.doc_id),
                (s.record.to_string(), s.metrics.to_string()),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grouped_scoring_matches_the_oracle_and_per_choice_requests() {
    let fx = Fixture::new();
    let grouped_store = Arc::new(fresh_store());
    let (grouped, grouped_calls) = fx.run_plain(&["toy_mc"], &grouped_store, true).await;
    assert_eq!(grouped.requests_total, (N_DOCS * 4) as u64);
    assert_eq!(grouped.requests_sent, (N_DOCS * 4) as u64);
    let acc = metric(&grouped, "toy_mc", "acc");
    assert_eq!(acc, fx.oracle_acc(), "acc against the logits oracle");

    let single_store = Arc::new(fresh_store());
    let (single, single_calls) = fx.run_plain(&["toy_mc"], &single_store, false).await;
    assert_eq!(
        single_calls,
        (N_DOCS * 4) as u64,
        "one request per choice without grouping"
    );
    assert_eq!(
        grouped_calls, N_DOCS as u64,
        "each question scored from one request"
    );
    // the same run id (same model, tasks, data) and identical samples and metrics either way
    assert_eq!(grouped.run_id, single.run_id);
    assert_eq!(
        samples(&grouped_store, &grouped.run_id),
        samples(&single_store, &single.run_id)
    );
    assert_eq!(grouped.table, single.table);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_prompts_are_sent_once_and_a_rerun_sends_nothing() {
    let fx = Fixture::new();
    let store = Arc::new(fresh_store());
    let (first, calls) = fx
        .run_plain(&["toy_mc", "toy_mc_copy"], &store, false)
        .await;
    assert_eq!(
        first.requests_total,
        (N_DOCS * 4) as u64,
        "the copy's requests are the same requests"
    );
    assert_eq!(first.requests_sent, (N_DOCS * 4) as u64);
    assert_eq!(calls, (N_DOCS * 4) as u64);
    assert_eq!(
        metric(&first, "toy_mc", "acc"),
        metric(&first, "toy_mc_copy", "acc")
    );

    let (again, calls) = fx
        .run_plain(&["toy_mc", "toy_mc_copy"], &store, false)
        .await;
    assert!(again.resumed);
    assert_eq!(again.requests_sent, 0);
    assert_eq!(again.requests_reused, (N_DOCS * 4) as u64);
    assert_eq!(calls, 0, "nothing computed twice");
    assert_eq!(first.table, again.table);
    // a run of one of the tasks alone is a new run that reuses every response
    let (alone, calls) = fx.run_plain(&["toy_mc_copy"], &store, true).await;
    assert!(!alone.resumed);
    assert_eq!(alone.requests_sent, 0);
    assert_eq!(calls, 0);
    assert_eq!(
        metric(&alone, "toy_mc_copy", "acc"),
        metric(&first, "toy_mc_copy", "acc")
    );
}

/// Cancels the run once `after` requests have been answered (as Ctrl-C would).
struct CancelAfter {
    after: u64,
    answered: AtomicU64,
    cancel: Arc<AtomicBool>,
}

impl Progress for CancelAfter {
    fn planned(&self, _: u64, _: u64, _: bool) {}
    fn advanced(&self, done: &yardstick_engine::schedule::Advance) {
        let requests = done.requests;
        if self.answered.fetch_add(requests, Ordering::SeqCst) + requests >= self.after {
            self.cancel.store(true, Ordering::SeqCst);
        }
    }
    fn note(&self, _: &str) {}
    fn finish(&self) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_run_resumes_sending_only_what_is_missing() {
    let fx = Fixture::new();
    fx.mock.set_latency(Duration::from_millis(5));
    let store = Arc::new(fresh_store());
    let cancel = Arc::new(AtomicBool::new(false));
    let stop = CancelAfter {
        after: 10,
        answered: AtomicU64::new(0),
        cancel: cancel.clone(),
    };
    let (cut, _) = fx.run(&["toy_mc"], &store, false, &stop, cancel).await;
    assert!(cut.interrupted);
    assert!(cut.results.is_none());
    let stored = cut.requests_sent;
    assert!(
        (10..(N_DOCS * 4) as u64).contains(&stored),
        "stopped after {stored} requests"
    );
    let runs = store.list_runs().unwrap();
    assert_eq!(runs[0].status, RunStatus::Interrupted);
    assert!(
        store.list_results(false).unwrap().is_empty(),
        "an interrupted run is not on the leaderboard"
    );

    let (resumed, calls) = fx.run_plain(&["toy_mc"], &store, false).await;
    assert!(resumed.resumed);
    assert_eq!(resumed.run_id, cut.run_id);
    assert_eq!(resumed.requests_reused, stored);
    assert_eq!(resumed.requests_sent, (N_DOCS * 4) as u64 - stored);
    assert_eq!(calls, resumed.requests_sent);
    assert_eq!(store.list_runs().unwrap()[0].status, RunStatus::Finished);

    // identical to a run that was never interrupted
    let clean_store = Arc::new(fresh_store());
    let (clean, _) = fx.run_plain(&["toy_mc"], &clean_store, false).await;
    assert_eq!(
        samples(&store, &resumed.run_id),
        samples(&clean_store, &clean.run_id)
    );
    assert_eq!(resumed.table, clean.table);
}

/// A fresh store: in memory, or a new PostgreSQL database when `YARDSTICK_TEST_PG_URL` is set.
fn fresh_store() -> Store {
    match yardstick_testkit::test_database() {
        Some(url) => Store::open_location(&url).unwrap(),
        None => Store::open_in_memory().unwrap(),
    }
}
