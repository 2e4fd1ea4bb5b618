//! Store write rate: responses per second through `put_responses` (in batches, as the run's ledger writer
//! commits them) and samples per second through `put_scores`, on one store location (a SQLite file or a
//! postgres:// URL). One JSON line per measurement on stdout. `scripts/bench-store-write` runs it on both
//! backends.
//!
//!     cargo run --release -p yardstick-store --example bench_store_write -- STORE [RESPONSES] [BATCH]

use serde_json::json;
use std::time::Instant;
use yardstick_store::ledger::{RunRecord, SampleRecord, StoredResponse};
use yardstick_store::Store;

/// A multiple-choice question's four log-likelihood requests: a shared 400-token context, each choice's
/// few tokens, a raw excerpt of the server's answer (as a grouped MMLU run stores them).
fn question(q: usize) -> Vec<StoredResponse> {
    let context: Vec<u32> = (0..400u32)
        .map(|i| (i * 7919 + q as u32 * 104_729) % 49_152)
        .collect();
    (0..4u32)
        .map(|c| {
            let mut prompt = context.clone();
            prompt.extend([330 + c, 17, 9]);
            StoredResponse {
                request_key: format!("{q:08}-{c}-{:056}", 0),
                model_fingerprint: "f".repeat(64),
                kind: "loglikelihood".into(),
                request: json!({"prompt": prompt, "ctxlen": 400, "path": "grouped"}),
                response: json!({"logprob": -1.25 - f64::from(c), "is_greedy": c == 0}),
                raw: Some(format!(
                    r#"{{"id":"cmpl-{q}","choices":[{{"logprobs":{{"token_logprobs":[null,{}]}}}}]}}"#,
                    (0..60).map(|i| format!("{:.4}", -0.01 * f64::from(i + c))).collect::<Vec<_>>().join(",")
                )),
                latency_ms: Some(41.5),
                prompt_tokens: Some(403),
                completion_tokens: Some(0),
            }
        })
        .collect()
}

fn sample(task: &str, doc: i64) -> SampleRecord {
    SampleRecord {
        task: task.into(),
        doc_id: doc,
        filter: "none".into(),
        doc_hash: format!("{doc:064x}"),
        prompt_hash: "p".repeat(64),
        target_hash: "t".repeat(64),
        record: json!({"doc_id": doc, "arguments": {"gen_args_0": {"arg_0": "Question ".repeat(80), "arg_1": " A"}},
                       "resps": [[["-1.25", "False"]]], "acc": 1.0}),
        request_keys: (0..4).map(|c| format!("{doc:08}-{c}")).collect(),
        fewshot_ids: vec![1, 2, 3, 4, 5],
        metrics: json!({"acc": 1.0}),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let location = args
        .first()
        .ok_or("usage: bench_store_write STORE [RESPONSES] [BATCH]")?;
    let n: usize = args.get(1).map_or(Ok(4_000), |s| s.parse())?;
    let batch: usize = args.get(2).map_or(Ok(32), |s| s.parse())?;
    let store = Store::open_location(location)?;
    let backend = if store.is_postgres() {
        "postgresql"
    } else {
        "sqlite"
    };

    let rows: Vec<StoredResponse> = (0..n.div_ceil(4)).flat_map(question).take(n).collect();
    let started = Instant::now();
    for chunk in rows.chunks(batch) {
        store.put_responses(chunk)?;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"backend": backend, "what": "put_responses", "rows": n, "batch": batch,
               "seconds": secs, "per_second": n as f64 / secs})
    );

    store.begin_run(&RunRecord {
        run_id: "bench".into(),
        command: "bench".into(),
        model_name: "m".into(),
        model_location: "x".into(),
        model_fingerprint: "f".repeat(64),
        config: json!({}),
        tool_version: "0".into(),
        lm_eval_compat: "0.4.13".into(),
        git_rev: None,
        hardware: json!({}),
    })?;
    let tasks = 20;
    let per_task = 100;
    let samples: Vec<(String, Vec<SampleRecord>)> = (0..tasks)
        .map(|t| {
            let task = format!("task{t}");
            let s = (0..per_task).map(|d| sample(&task, d)).collect();
            (task, s)
        })
        .collect();
    let started = Instant::now();
    for (task, s) in &samples {
        store.put_scores("bench", task, s, &[])?;
    }
    let secs = started.elapsed().as_secs_f64();
    let total = tasks * per_task;
    println!(
        "{}",
        json!({"backend": backend, "what": "put_scores", "rows": total, "batch": per_task,
               "seconds": secs, "per_second": total as f64 / secs})
    );
    Ok(())
}
