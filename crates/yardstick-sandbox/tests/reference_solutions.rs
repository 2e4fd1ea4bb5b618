//! The benchmarks' own reference solutions pass their tests in the sandbox (HumanEval's 164 canonical
//! solutions; MBPP's reference code for all its problems), and deliberately broken ones fail with the right
//! reason. Programs are built as lm-eval's code_eval builds them: the candidate, a newline, the tests.

mod common;

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use yardstick_sandbox::{Execution, Failure, Limits, Program, Sandbox};

fn jsonl(path: &Path) -> Vec<Value> {
    let mut text = String::new();
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::GzDecoder::new(file)
            .read_to_string(&mut text)
            .expect("gunzip");
    } else {
        std::io::BufReader::new(file)
            .read_to_string(&mut text)
            .expect("read");
    }
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {v}"))
}

/// HumanEval's program for a completion: prompt + completion, then the tests and the check call.
fn humaneval_program(doc: &Value, completion: &str) -> Program {
    Program::python(format!(
        "{}{}\n{}\ncheck({})",
        s(doc, "prompt"),
        completion,
        s(doc, "test"),
        s(doc, "entry_point")
    ))
}

/// Run every program (the sandbox runs `workers` at a time); results in the programs' order.
async fn run_all(sb: &Sandbox, programs: &[Program], limits: &Limits) -> Vec<Execution> {
    let handles: Vec<_> = programs
        .iter()
        .map(|p| {
            let (sb, p, l) = (sb.clone(), p.clone(), limits.clone());
            tokio::spawn(async move { sb.run(&p, &l).await })
        })
        .collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(
            h.await
                .expect("joins")
                .expect("the sandbox runs the program"),
        );
    }
    out
}

fn failures<'a>(names: &'a [String], runs: &'a [Execution]) -> Vec<(&'a str, String)> {
    names
        .iter()
        .zip(runs)
        .filter(|(_, e)| !e.passed())
        .map(|(n, e)| {
            (
                n.as_str(),
                format!(
                    "{:?}: {}",
                    e.failure,
                    e.stderr.text.chars().take(300).collect::<String>()
                ),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn humaneval_canonical_solutions_pass_and_broken_ones_fail() {
    let Some(data) = yardstick_testkit::require_shared_data_with("benchmarks/humaneval") else {
        return;
    };
    let Some(sb) = common::sandbox(2).await else {
        return;
    };
    let docs = jsonl(&data.join("benchmarks/humaneval/HumanEval.jsonl.gz"));
    assert_eq!(docs.len(), 164);
    let names: Vec<String> = docs.iter().map(|d| s(d, "task_id").to_string()).collect();
    let programs: Vec<Program> = docs
        .iter()
        .map(|d| humaneval_program(d, s(d, "canonical_solution")))
        .collect();
    let started = Instant::now();
    let runs = run_all(&sb, &programs, &Limits::default()).await;
    let took = started.elapsed();
    let failed = failures(&names, &runs);
    assert!(failed.is_empty(), "canonical solutions failed: {failed:#?}");
    eprintln!(
        "HumanEval: 164/164 canonical solutions pass in {took:.2?} ({:.1} programs/s, 2 workers)",
        164.0 / took.as_secs_f64()
    );

    // Broken versions of the first problems, each with the reason it must fail for. Time limits are scaled
    // from the canonical solution's own runtime (×5, floor 1 s).
    let doc = &docs[0];
    let reference = runs[0].wall;
    let limits = Limits::default().with_time_scaled(reference, 5.0, Duration::from_secs(1));
    let broken = [
        ("    return not None\n", "assertion"),
        ("    return numbers[\n", "syntax"),
        ("    while True:\n        pass\n", "timeout"),
        ("    return numbers.nope()\n", "exception"),
        ("    return [0] * (1 << 40)\n", "memory"),
        ("    import sys\n    sys.exit(2)\n", "exit"),
    ];
    for (body, reason) in broken {
        let e = sb
            .run(&humaneval_program(doc, body), &limits)
            .await
            .expect("runs");
        let got = e.failure.as_ref().map(Failure::name);
        assert_eq!(got, Some(reason), "{body:?}: {e:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mbpp_reference_code_passes_its_tests() {
    let Some(data) = yardstick_testkit::require_shared_data_with("benchmarks/mbpp") else {
        return;
    };
    let Some(sb) = common::sandbox(2).await else {
        return;
    };
    let docs = jsonl(&data.join("benchmarks/mbpp/mbpp.jsonl"));
    assert!(docs.len() >= 900, "{} MBPP problems", docs.len());
    let names: Vec<String> = docs.iter().map(|d| d["task_id"].to_string()).collect();
    let programs: Vec<Program> = docs
        .iter()
        .map(|d| {
            let tests: Vec<&str> = d["test_list"]
                .as_array()
                .expect("test_list")
                .iter()
                .map(|t| t.as_str().expect("a test"))
                .collect();
            let setup = d["test_setup_code"].as_str().unwrap_or("");
            Program::python(format!("{}\n{}\n{}", s(d, "code"), setup, tests.join("\n")))
        })
        .collect();
    let started = Instant::now();
    let runs = run_all(&sb, &programs, &Limits::default()).await;
    let failed = failures(&names, &runs);
    assert!(failed.is_empty(), "MBPP reference code failed: {failed:#?}");
    eprintln!(
        "MBPP: {n}/{n} reference solutions pass in {:.2?}",
        started.elapsed(),
        n = docs.len()
    );
    // A wrong answer fails on its assertion.
    let wrong = Program::python(format!("{}\nassert False, 'wrong'\n", s(&docs[0], "code")));
    let e = sb.run(&wrong, &Limits::default()).await.expect("runs");
    assert_eq!(
        e.failure,
        Some(Failure::Assertion {
            message: "wrong".into()
        })
    );
}
