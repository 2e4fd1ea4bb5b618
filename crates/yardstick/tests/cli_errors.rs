//! The errors a user meets most, through the real binary: each says what was wrong, where, and what to do.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use yardstick_testkit::ref_server::{peers_env_value, RefServer};
use yardstick_testkit::{require_shared_data, skip_or_fail};

fn yardstick() -> Command {
    Command::new(env!("CARGO_BIN_EXE_yardstick"))
}

fn run(args: &[&str]) -> Output {
    yardstick().args(args).output().expect("run yardstick")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_fails_with(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert!(
        !o.status.success(),
        "expected failure, got success; stderr:\n{err}"
    );
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}:\n{err}");
    }
}

fn peers_value(key: &str) -> Option<String> {
    if let Some(v) = std::env::var_os(key) {
        return Some(v.to_string_lossy().into_owned());
    }
    let home = PathBuf::from(std::env::var_os("HOME")?);
    let text = std::fs::read_to_string(home.join(".cache/yardstick/peers.env")).ok()?;
    peers_env_value(&text, key)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18555)
}

#[test]
fn unknown_task_suggests_close_names() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = yardstick_testkit::test_store(tmp.path(), "s.db");
    let o = run(&[
        "run",
        "--model",
        "http://127.0.0.1:9/v1",
        "--tasks",
        "mmlu_anatomi",
        "--store",
        store.as_str(),
    ]);
    assert_fails_with(&o, &["mmlu_anatomi", "mmlu_anatomy"]);
    assert!(
        !std::path::Path::new(&store).exists()
            || std::fs::metadata(&store).map(|m| m.len()).unwrap_or(0) < 1_000_000
    );
}

#[test]
fn malformed_yaml_names_file_and_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let yaml = tmp.path().join("broken.yaml");
    std::fs::write(
        &yaml,
        "task: broken_task\ndataset_path: json\ndoc_to_text: \"{{question}\n  bad: [unclosed\n",
    )
    .unwrap();
    let o = run(&[
        "run",
        "--model",
        "http://127.0.0.1:9/v1",
        "--tasks",
        "broken_task",
        "--include-path",
        tmp.path().to_str().unwrap(),
    ]);
    assert_fails_with(&o, &["broken.yaml"]);
    let err = stderr(&o);
    assert!(
        err.contains("broken.yaml:") || err.contains("line"),
        "no line number in:\n{err}"
    );
}

#[test]
fn missing_dataset_says_what_and_where() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        tmp.path().join("t.yaml"),
        "task: needs_missing_data\ndataset_path: nobody/no_such_dataset\ntest_split: test\noutput_type: multiple_choice\n\
         doc_to_text: \"{{q}}\"\ndoc_to_target: 0\ndoc_to_choice: [\"a\", \"b\"]\n",
    )
    .unwrap();
    let o = yardstick()
        .args([
            "run",
            "--model",
            "http://127.0.0.1:9/v1",
            "--tasks",
            "needs_missing_data",
            "--include-path",
        ])
        .arg(tmp.path())
        .env("HF_HOME", tmp.path().join("hf"))
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .expect("run");
    assert_fails_with(&o, &["nobody/no_such_dataset", "test"]);
    let err = stderr(&o);
    assert!(
        err.contains(&tmp.path().join("hf").display().to_string()),
        "the error should say where it looked:\n{err}"
    );
    // The dataset error is quoted by the task error that wraps it: the paragraph is printed once.
    assert_eq!(
        err.matches("looked for").count(),
        1,
        "the same error printed twice:\n{err}"
    );
    assert_eq!(err.matches("error:").count(), 1, "{err}");
}

#[test]
fn unreachable_server_is_named() {
    let Some(shared) = require_shared_data() else {
        return;
    };
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/v1");
    let o = yardstick()
        .args([
            "run",
            "--model",
            &url,
            "--tasks",
            "mmlu_anatomy",
            "--limit",
            "2",
            "--max-retries",
            "1",
            "--data-dir",
        ])
        .arg(shared.join("benchmarks"))
        .arg("--store")
        .arg(yardstick_testkit::test_store(
            tempfile::tempdir().expect("tempdir").path(),
            "s.db",
        ))
        .output()
        .expect("run");
    assert_fails_with(&o, &[&format!("127.0.0.1:{port}")]);
}

fn tiny_gguf() -> Option<PathBuf> {
    peers_value("YARDSTICK_TINY_GGUF")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
}

fn export_tokenizer(gguf: &Path, dir: &Path) {
    let st = yardstick()
        .args(["tokenizer", "export"])
        .arg(gguf)
        .arg("-o")
        .arg(dir)
        .stdout(Stdio::null())
        .status();
    assert!(
        st.map(|s| s.success()).unwrap_or(false),
        "tokenizer export of {} failed",
        gguf.display()
    );
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn server_without_prompt_logprobs_is_refused_with_the_reason() {
    let Some(shared) = require_shared_data() else {
        return;
    };
    let (Some(server_bin), Some(gguf)) = (
        peers_value("YARDSTICK_LLAMA_SERVER").map(PathBuf::from),
        tiny_gguf(),
    ) else {
        skip_or_fail(
            "llama.cpp's llama-server or the tiny GGUF is missing: run scripts/setup-peers",
        );
        return;
    };
    let port = free_port();
    let child = Command::new(&server_bin)
        .args(["-m"])
        .arg(&gguf)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "-c",
            "4096",
            "-t",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start llama-server");
    let _guard = Killed(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = format!("127.0.0.1:{port}").parse().expect("addr");
    while yardstick_testkit::http_util::blocking_get(addr, "/health", Duration::from_secs(1))
        .map(|(s, _)| s != 200)
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "llama-server did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    export_tokenizer(&gguf, &tmp.path().join("tok"));
    let o = yardstick()
        .args([
            "run",
            "--model",
            &format!("http://127.0.0.1:{port}/v1"),
            "--tasks",
            "mmlu_anatomy",
            "--limit",
            "2",
        ])
        .arg("--tokenizer")
        .arg(tmp.path().join("tok"))
        .arg("--data-dir")
        .arg(shared.join("benchmarks"))
        .arg("--store")
        .arg(yardstick_testkit::test_store(tmp.path(), "s.db"))
        .output()
        .expect("run");
    assert_fails_with(&o, &["mmlu_anatomy", "echo"]);
}

#[test]
fn tokenizer_that_disagrees_with_the_server_is_caught_by_the_probe() {
    let Some(shared) = require_shared_data() else {
        return;
    };
    let Some(gguf) = tiny_gguf() else {
        skip_or_fail("the tiny GGUF is missing: run scripts/setup-peers");
        return;
    };
    let Some(server) = RefServer::start(&gguf) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    // The Llama-2 32k vocabulary of the other tiny model: a real tokenizer, but not this server's.
    export_tokenizer(
        &yardstick_testkit::tiny_llama_gguf(),
        &tmp.path().join("wrong"),
    );
    let o = yardstick()
        .args([
            "run",
            "--model",
            &server.url(),
            "--tasks",
            "mmlu_anatomy",
            "--limit",
            "2",
        ])
        .arg("--tokenizer")
        .arg(tmp.path().join("wrong"))
        .arg("--data-dir")
        .arg(shared.join("benchmarks"))
        .arg("--store")
        .arg(yardstick_testkit::test_store(tmp.path(), "s.db"))
        .output()
        .expect("run");
    assert_fails_with(&o, &["tokeniz"]);
    let err = stderr(&o).to_lowercase();
    assert!(
        err.contains("differ") || err.contains("disagree") || err.contains("mismatch"),
        "{err}"
    );
    // Nothing was scored with the misaligned tokenizer.
    let store = yardstick_store::Store::open_location_read_only(&yardstick_testkit::test_store(
        tmp.path(),
        "s.db",
    ));
    if let Ok(store) = store {
        let n = store.response_keys(None).map_or(0, |k| k.len());
        assert_eq!(n, 0, "responses were stored despite the tokenizer mismatch");
    }
}

/// A one-question multiple-choice task in `dir` (no shared data needed); returns its name.
fn local_task(dir: &Path) -> &'static str {
    std::fs::write(
        dir.join("data.jsonl"),
        "{\"question\": \"2+2?\", \"choices\": [\"3\", \"4\"], \"answer\": 1}\n",
    )
    .expect("write data");
    std::fs::write(
        dir.join("probe.yaml"),
        format!(
            "task: local_probe\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {}\ntest_split: test\n\
             output_type: multiple_choice\ndoc_to_text: \"Q: {{{{question}}}}\\nA:\"\ndoc_to_choice: \"{{{{choices}}}}\"\n\
             doc_to_target: answer\nmetric_list:\n  - metric: acc\n",
            dir.join("data.jsonl").display()
        ),
    )
    .expect("write yaml");
    "local_probe"
}

/// A loopback listener that counts the connections made to it (none may be made before the checks).
fn counting_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/v1", listener.local_addr().expect("addr"));
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = count.clone();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(s);
        }
    });
    (url, count)
}

#[test]
fn empty_task_lists_are_refused() {
    for tasks in [",", "", "mmlu,,gsm8k", " "] {
        let o = run(&["run", "--model", "http://127.0.0.1:9/v1", "--tasks", tasks]);
        assert_eq!(
            o.status.code(),
            Some(2),
            "--tasks {tasks:?}: {}",
            stderr(&o)
        );
        assert_fails_with(&o, &["empty task name", "--tasks mmlu,gsm8k"]);
    }
}

#[test]
fn unwritable_output_is_refused_before_any_request() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let task = local_task(tmp.path());
    let not_a_dir = tmp.path().join("file");
    std::fs::write(&not_a_dir, b"x").expect("write");
    let (url, connections) = counting_server();
    let o = yardstick()
        .args([
            "run",
            "--model",
            &url,
            "--tasks",
            task,
            "--tokenizer",
            "server",
            "--include-path",
        ])
        .arg(tmp.path())
        .arg("--store")
        .arg(yardstick_testkit::test_store(tmp.path(), "s.db"))
        .arg("--output")
        .arg(&not_a_dir)
        .output()
        .expect("run");
    assert_fails_with(&o, &["--output", "not a directory"]);
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn store_from_a_newer_yardstick_is_refused_before_any_request() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let task = local_task(tmp.path());
    let db = yardstick_testkit::test_store(tmp.path(), "s.db");
    {
        let store = yardstick_store::Store::open_location(&db).expect("store");
        store
            .conn()
            .execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_future', '2100-01-01 00:00:00')",
                yardstick_store::vals![],
            )
            .expect("insert");
    }
    let (url, connections) = counting_server();
    let o = yardstick()
        .args([
            "run",
            "--model",
            &url,
            "--tasks",
            task,
            "--tokenizer",
            "server",
            "--include-path",
        ])
        .arg(tmp.path())
        .arg("--store")
        .arg(&db)
        .output()
        .expect("run");
    assert_fails_with(&o, &["newer Yardstick", "9999_future", "--store"]);
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 0);
    // the reporting commands refuse it too
    let o = yardstick()
        .arg("runs")
        .arg("--store")
        .arg(&db)
        .output()
        .expect("runs");
    assert_fails_with(&o, &["newer Yardstick"]);
}

#[test]
fn a_store_in_a_missing_directory_is_refused_before_any_request() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let task = local_task(tmp.path());
    let (url, connections) = counting_server();
    let o = yardstick()
        .args([
            "run",
            "--model",
            &url,
            "--tasks",
            task,
            "--tokenizer",
            "server",
            "--include-path",
        ])
        .arg(tmp.path())
        .arg("--store")
        .arg(tmp.path().join("no/such/dir/s.db"))
        .output()
        .expect("run");
    assert_fails_with(&o, &["cannot open store", "--store"]);
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn negative_few_shot_counts_are_refused_with_the_range() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = yardstick_testkit::test_store(tmp.path(), "s.db");
    let store = store.as_str();
    let run_args = [
        "run",
        "--model",
        "http://127.0.0.1:9/v1",
        "--tasks",
        "arc_easy",
    ];
    let cases: [Vec<&str>; 4] = [
        [&run_args[..], &["--store", store, "--num-fewshot", "-1"]].concat(),
        [&run_args[..], &["--store", store, "--num-fewshot=-3"]].concat(),
        vec!["tasks", "show", "arc_easy", "--num-fewshot", "-1"],
        [&run_args[..], &["--store", store, "--num-fewshot", "two"]].concat(),
    ];
    for args in cases {
        let o = run(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_fails_with(&o, &["--num-fewshot", "must be 0 or more"]);
        assert!(!err.contains("unexpected argument"), "{args:?}: {err}");
    }
    assert!(
        !tmp.path().join("s.db").exists(),
        "refused before the store is made"
    );
}

/// The subcommands listed in a `-h` page's "Commands:" section (without `help`).
fn subcommands(help: &str) -> Vec<String> {
    section(help, "Commands:")
        // an entry is indented two spaces; wrapped lines of its description further
        .filter_map(|l| l.strip_prefix("  ").filter(|r| !r.starts_with(' ')))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// The lines of one section of a help page, up to the blank line that ends it.
fn section<'a>(help: &'a str, title: &'a str) -> impl Iterator<Item = &'a str> {
    help.lines()
        .skip_while(move |l| l.trim_end() != title)
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
}

#[test]
fn every_flag_and_argument_has_a_description() {
    let mut pages: Vec<Vec<String>> = vec![vec![]];
    let mut missing = Vec::new();
    let mut seen = 0;
    while let Some(path) = pages.pop() {
        let o = yardstick()
            .args(&path)
            .arg("-h")
            .output()
            .expect("run yardstick");
        assert!(o.status.success(), "{path:?} -h failed: {}", stderr(&o));
        let help = String::from_utf8_lossy(&o.stdout).into_owned();
        for cmd in subcommands(&help) {
            pages.push([&path[..], &[cmd]].concat());
        }
        for title in ["Options:", "Arguments:"] {
            let lines: Vec<&str> = section(&help, title).collect();
            for (i, line) in lines.iter().enumerate() {
                // An entry (`-q, --quiet`, `      --seed <SEED>`, `<NAME>`) is indented at most 6 spaces;
                // its description follows two spaces later on the same line, or (clap's next-line layout,
                // used when descriptions are long) on the next lines, indented further.
                let indent = line.len() - line.trim_start().len();
                if indent > 6 {
                    continue;
                }
                seen += 1;
                let same_line = line.trim().contains("  ");
                let next_line = lines
                    .get(i + 1)
                    .is_some_and(|n| n.len() - n.trim_start().len() > 6);
                if !same_line && !next_line {
                    missing.push(format!("yardstick {} {}", path.join(" "), line.trim()));
                }
            }
        }
    }
    assert!(
        seen > 100,
        "only {seen} flags found: is the help format parsed?"
    );
    assert!(
        missing.is_empty(),
        "flags without a description:\n{}",
        missing.join("\n")
    );
}

/// A server that is not there: the error names a way to start one that works as written from the repository
/// root (`scripts/serve-ref`, which exists), not a path that does not.
#[test]
fn an_unreachable_server_names_a_start_command_that_exists() {
    let Some(data) = require_shared_data() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = yardstick_testkit::test_store(dir.path(), "s.db");
    let benchmarks = data.join("benchmarks");
    let o = run(&[
        "run",
        "--model",
        "http://127.0.0.1:9/v1",
        "--tasks",
        "arc_easy",
        "--limit",
        "1",
        "--data-dir",
        benchmarks.to_str().unwrap(),
        "--store",
        store.as_str(),
    ]);
    assert_fails_with(
        &o,
        &[
            "cannot reach the model server",
            "scripts/serve-ref MODEL.gguf 8080",
        ],
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    assert!(root.join("scripts/serve-ref").is_file());
    assert!(
        !stderr(&o).contains("python shared/tools"),
        "{}",
        stderr(&o)
    );
}
