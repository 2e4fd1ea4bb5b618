//! Efficiency as a measured dimension: for each finished run, the tokens it processed (prompt and generated),
//! the time it took and where it computed (CPU model, cores, threads, GPU, or the server). Shown by
//! `yardstick results --efficiency`; and, as the benchmark `throughput_tok_s` (prompt + generated tokens per
//! second of the run's dispatch), in the scores `gap` and `trend` read — compare groups on it only among runs
//! of the same hardware (the variant names it).

use crate::dataset::SOURCE_YARDSTICK;
use crate::error::Result;
use crate::report::{write_table, Report};
use serde::Serialize;
use std::io::Write;
use yardstick_store::ledger::RunStatus;
use yardstick_store::observations::ScoreRow;
use yardstick_store::Store;

/// The benchmark id of a run's throughput in the scores `gap` reads.
pub const THROUGHPUT_BENCHMARK: &str = "throughput_tok_s";

/// One finished run's efficiency record.
#[derive(Debug, Clone, Serialize)]
pub struct EfficiencyRow {
    pub run_id: String,
    pub model: String,
    pub finished_at: Option<String>,
    pub requests_sent: u64,
    pub prompt_tokens: u64,
    pub generated_tokens: u64,
    /// Seconds the run spent sending and receiving (not preparing or scoring).
    pub seconds: f64,
    /// (prompt + generated tokens) / seconds; None when nothing was sent.
    pub tokens_per_second: Option<f64>,
    pub requests_per_second: Option<f64>,
    /// Where it computed: "in process (llama.cpp), N threads[, GPU]" or "server URL", and the CPU.
    pub hardware: String,
    pub record: serde_json::Value,
}

/// `yardstick results --efficiency`.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct EfficiencyReport {
    pub rows: Vec<EfficiencyRow>,
}

fn describe(h: &serde_json::Value) -> String {
    let cpu = h
        .get("cpu_model")
        .and_then(|v| v.as_str())
        .unwrap_or("unknown CPU");
    let cpus = h.get("cpus").and_then(|v| v.as_u64()).unwrap_or(0);
    let c = h.get("compute").cloned().unwrap_or_default();
    let place = match c.get("where").and_then(|v| v.as_str()) {
        Some("server") => format!(
            "server {}",
            c.get("server").and_then(|v| v.as_str()).unwrap_or("?")
        ),
        Some(w) => {
            let threads = c.get("threads").and_then(|v| v.as_u64()).unwrap_or(0);
            let gpu = c.get("gpu_layers").and_then(|v| v.as_u64()).unwrap_or(0);
            let gpu = if gpu > 0 {
                format!(", {gpu} layers on GPU")
            } else {
                String::new()
            };
            format!("{w}, {threads} threads{gpu}")
        }
        None => "unrecorded".to_string(),
    };
    format!("{place}; {cpu} ({cpus} CPUs)")
}

impl EfficiencyReport {
    /// Every finished run that sent requests.
    pub fn load(store: &Store) -> Result<EfficiencyReport> {
        let mut rows = Vec::new();
        for r in store.list_runs()? {
            if r.status != RunStatus::Finished {
                continue;
            }
            let Some(detail) = store.run_detail(&r.run_id)? else {
                continue;
            };
            let stats = r.stats.clone().unwrap_or_default();
            let n = |k: &str| stats.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
            let seconds = stats
                .get("dispatch_seconds")
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0);
            let (prompt, generated, sent) = (
                n("prompt_tokens"),
                n("completion_tokens"),
                n("requests_sent"),
            );
            let per_s = |x: u64| (seconds > 0.0 && sent > 0).then(|| x as f64 / seconds);
            rows.push(EfficiencyRow {
                run_id: r.run_id.clone(),
                model: r.model_name.clone(),
                finished_at: r.finished_at.clone(),
                requests_sent: sent,
                prompt_tokens: prompt,
                generated_tokens: generated,
                seconds,
                tokens_per_second: per_s(prompt + generated),
                requests_per_second: per_s(sent),
                hardware: describe(&detail.record.hardware),
                record: detail.record.hardware,
            });
        }
        Ok(EfficiencyReport { rows })
    }

    /// The throughput of each model's latest finished run that sent requests, as scores (benchmark
    /// [`THROUGHPUT_BENCHMARK`], source `yardstick`, variant = where it computed).
    pub fn scores(&self) -> Vec<ScoreRow> {
        let mut latest: std::collections::BTreeMap<&str, &EfficiencyRow> = Default::default();
        for r in self.rows.iter().filter(|r| r.tokens_per_second.is_some()) {
            let newer = latest
                .get(r.model.as_str())
                .is_none_or(|old| r.finished_at > old.finished_at);
            if newer {
                latest.insert(&r.model, r);
            }
        }
        latest
            .into_values()
            .map(|r| ScoreRow {
                source: SOURCE_YARDSTICK.into(),
                model: r.model.clone(),
                benchmark: THROUGHPUT_BENCHMARK.into(),
                variant: r.hardware.clone(),
                score: r.tokens_per_second.unwrap_or(0.0),
                evaluated_at: r.finished_at.clone(),
                column_name: format!("run {}", r.run_id),
                ..Default::default()
            })
            .collect()
    }
}

impl Report for EfficiencyReport {
    fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.rows.is_empty() {
            return writeln!(out, "No finished run of `yardstick run` in this store.");
        }
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.run_id.chars().take(12).collect(),
                    yardstick_core::short_model_name(&r.model).to_string(),
                    r.requests_sent.to_string(),
                    r.prompt_tokens.to_string(),
                    r.generated_tokens.to_string(),
                    format!("{:.1}", r.seconds),
                    r.tokens_per_second
                        .map_or("-".into(), |t| format!("{t:.0}")),
                    r.requests_per_second
                        .map_or("-".into(), |t| format!("{t:.1}")),
                    r.hardware.clone(),
                ]
            })
            .collect();
        write_table(
            out,
            &[
                "run",
                "model",
                "sent",
                "prompt tok",
                "gen tok",
                "seconds",
                "tok/s",
                "req/s",
                "hardware",
            ],
            &rows,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use yardstick_store::ledger::RunRecord;

    fn run(
        store: &Store,
        id: &str,
        model: &str,
        stats: serde_json::Value,
        hardware: serde_json::Value,
    ) {
        store
            .begin_run(&RunRecord {
                run_id: id.into(),
                command: "yardstick run".into(),
                model_name: model.into(),
                model_location: String::new(),
                model_fingerprint: "f".into(),
                config: json!({}),
                tool_version: "0".into(),
                lm_eval_compat: "0.4.13".into(),
                git_rev: None,
                hardware,
            })
            .unwrap();
        store.end_run(id, RunStatus::Finished, &stats).unwrap();
    }

    #[test]
    fn throughput_comes_from_each_models_latest_run_with_where_it_computed() {
        let store = Store::open_in_memory().unwrap();
        let native = json!({"cpu_model": "EPYC", "cpus": 2,
            "compute": {"where": "in process (llama.cpp)", "threads": 2, "gpu_layers": 0}});
        run(
            &store,
            "r1",
            "m",
            json!({"requests_sent": 10, "prompt_tokens": 900, "completion_tokens": 100,
            "dispatch_seconds": 2.0}),
            native.clone(),
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
        run(
            &store,
            "r2",
            "m",
            json!({"requests_sent": 10, "prompt_tokens": 300, "completion_tokens": 0,
            "dispatch_seconds": 1.0}),
            native,
        );
        // a rerun that reused everything sent nothing: no rate
        run(
            &store,
            "r3",
            "other",
            json!({"requests_sent": 0, "prompt_tokens": 0, "completion_tokens": 0,
            "dispatch_seconds": 0.01}),
            json!({"compute": {"where": "server", "server": "http://h/v1"}}),
        );
        let report = EfficiencyReport::load(&store).unwrap();
        assert_eq!(report.rows.len(), 3);
        let r1 = report.rows.iter().find(|r| r.run_id == "r1").unwrap();
        assert_eq!(r1.tokens_per_second, Some(500.0));
        assert_eq!(
            r1.hardware,
            "in process (llama.cpp), 2 threads; EPYC (2 CPUs)"
        );
        let scores = report.scores();
        assert_eq!(scores.len(), 1, "{scores:?}");
        assert_eq!((scores[0].model.as_str(), scores[0].score), ("m", 300.0));
        assert_eq!(scores[0].benchmark, THROUGHPUT_BENCHMARK);
        assert!(report.to_text().contains("server http://h/v1"));
    }
}
