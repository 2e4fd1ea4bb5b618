//! `yardstick serve` in a real headless Chromium (Debian `chromium` + `chromium-driver`, over WebDriver):
//! the real binary imports the Open LLM Leaderboard v1 (7,169 rows) and v2 exports and measures a model
//! (the in-process mock completions server), then one browser session loads the leaderboard, filters it
//! by country and parameters through the form, sorts it, opens a model, a gap view (whose numbers must be
//! those of `yardstick gap --json`), a run and a sample; screenshots go to `target/web-screenshots/`.
//!
//! The XSS part imports model names and stores samples carrying `<script>`, `<img onerror>`, a
//! `javascript:` URL and quote-breaking text, and checks in the browser that each renders as literal text:
//! no dialog, no script run (`window.__xss` and the title unchanged), no request to another origin, no
//! `javascript:` link.
//!
//! Skips with a printed reason when chromium, chromedriver or `../shared/data` is absent (fails in CI).

#[path = "support/mock_model.rs"]
mod mock_model;
#[path = "support/webdriver.rs"]
mod webdriver;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use webdriver::{find_program, Browser};
use yardstick_store::ledger::{AggregateRecord, RunRecord, RunStatus, SampleRecord};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_yardstick"));
    for inherited in ["YARDSTICK_STORE", "YARDSTICK_REGISTRY", "YARDSTICK_LOG"] {
        c.env_remove(inherited);
    }
    c.env("HF_HUB_OFFLINE", "1");
    c
}

fn s<P: AsRef<std::ffi::OsStr> + ?Sized>(p: &P) -> &str {
    p.as_ref().to_str().expect("utf-8 path")
}

fn run_ok(args: &[&str]) -> String {
    let o = bin().args(args).output().expect("run yardstick");
    assert!(
        o.status.success(),
        "yardstick {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The imported names that try to break out of the HTML (each holds `xssprobe`, to find them).
const NAME_PAYLOADS: [&str; 4] = [
    "xssprobe/<script>window.__xss=1;document.title='pwned'</script>",
    "xssprobe/<img src=https://evil.invalid/x.png onerror=\"window.__xss=2\">",
    "javascript:window.__xss=3//xssprobe",
    "xssprobe/\"'><svg onload=window.__xss=4>",
];
/// What the stored samples' model wrote.
const SAMPLE_PAYLOAD: &str =
    "</pre><script>window.__xss=5</script><img src=https://evil.invalid/s.png onerror=window.__xss=6>\"' <a href=\"javascript:window.__xss=7\">x</a>";
const RUN_MODEL: &str = "<b onmouseover=window.__xss=8>xssprobe-model</b>";

fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

/// An Open LLM Leaderboard v2 file whose model names are the payloads: the header and first row of the
/// real export, with the name and id replaced.
fn write_payload_csv(v2: &Path, out: &Path) {
    let text = std::fs::read_to_string(v2).expect("read v2 export");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let row: Vec<&str> = lines.next().expect("first row").split(',').collect();
    let mut body = format!("{header}\n");
    for (i, name) in NAME_PAYLOADS.iter().enumerate() {
        let mut fields: Vec<String> = row.iter().map(|f| f.to_string()).collect();
        fields[0] = csv_field(&format!("{name}_bfloat16_{i}"));
        fields[1] = csv_field(name);
        body.push_str(&fields.join(","));
        body.push('\n');
    }
    std::fs::write(out, body).expect("write payload csv");
}

/// A real measured run: `yardstick run` against the in-process mock completions server.
fn measured_run(data: &Path, dir: &Path, db: &str) {
    let gguf = data.join("models/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf");
    let tok_dir = dir.join("tok");
    run_ok(&["tokenizer", "export", s(&gguf), "-o", s(&tok_dir)]);
    let mock = mock_model::mock_for_tokenizer(&tok_dir);
    let url = mock.url();
    let bench = data.join("benchmarks");
    run_ok(&[
        "run",
        "--model",
        &url,
        "--tasks",
        "mmlu_anatomy",
        "--limit",
        "4",
        "--num-fewshot",
        "0",
        "--bootstrap-iters",
        "100",
        "--tokenizer",
        s(&tok_dir),
        "--data-dir",
        s(&bench),
        "--store",
        s(db),
        "--quiet",
    ]);
}

/// A second run on the same items whose stored samples carry the payloads (written through the store's
/// own API, as a run writes them). Its id and number of samples.
fn payload_run(db: &str) -> (String, usize) {
    let store = yardstick_store::Store::open_location(db).expect("open store");
    let measured = store.list_runs().expect("runs");
    let first = &measured.first().expect("the measured run").run_id;
    let detail = store.run_detail(first).expect("detail").expect("run");
    let samples = store
        .run_samples(first, "mmlu_anatomy", 1000, 0)
        .expect("samples");
    let run_id = "f00dfeedxssrun0000000000000000000000000000000000000000000000000".to_string();
    let record = RunRecord {
        run_id: run_id.clone(),
        command: format!("yardstick run --model '{SAMPLE_PAYLOAD}'"),
        model_name: RUN_MODEL.into(),
        model_location: SAMPLE_PAYLOAD.into(),
        model_fingerprint: "xss".into(),
        config: json!({ "note": SAMPLE_PAYLOAD }),
        tool_version: "test".into(),
        lm_eval_compat: "0.4.13".into(),
        git_rev: None,
        hardware: json!({ "gpu": SAMPLE_PAYLOAD }),
    };
    store.begin_run(&record).expect("begin run");
    let task = &detail.tasks[0].task;
    store.put_run_task(&run_id, task).expect("run task");
    let records: Vec<SampleRecord> = samples
        .iter()
        .enumerate()
        .map(|(i, row)| (i, &row.sample))
        .map(|(i, x)| SampleRecord {
            task: x.task.clone(),
            doc_id: x.doc_id,
            filter: x.filter.clone(),
            doc_hash: x.doc_hash.clone(),
            prompt_hash: x.prompt_hash.clone(),
            target_hash: x.target_hash.clone(),
            record: json!({
                "doc_id": x.doc_id,
                "arguments": {"gen_args_0": {"arg_0": format!("Question {i}: {SAMPLE_PAYLOAD}")}},
                "resps": [[SAMPLE_PAYLOAD]],
                "filtered_resps": [SAMPLE_PAYLOAD],
                "target": SAMPLE_PAYLOAD,
            }),
            request_keys: vec![],
            fewshot_ids: vec![],
            metrics: json!({ "acc": if i % 2 == 0 { 0.0 } else { 1.0 } }),
        })
        .collect();
    let agg = AggregateRecord {
        task: task.task.clone(),
        metric: "acc".into(),
        filter: "none".into(),
        value: Some(0.5),
        stderr: Some(0.2),
        n: records.len() as i64,
        is_group: false,
    };
    store
        .put_scores(&run_id, &task.task, &records, &[agg])
        .expect("scores");
    store
        .end_run(&run_id, RunStatus::Finished, &json!({}))
        .expect("end run");
    // A run still running: its page refreshes itself.
    let running = RunRecord {
        run_id: "f00dfeedrunning".into(),
        ..record
    };
    store.begin_run(&running).expect("begin running run");
    (run_id, samples.len())
}

/// `yardstick serve` on a free loopback port; killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(db: &str) -> Server {
        let mut child = bin()
            .args(["serve", "--store", s(db), "--bind", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start yardstick serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the serving line");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .trim_end_matches('/')
            .to_string();
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/web-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// After every page: no dialog, no payload ran, nothing loaded from elsewhere, no `javascript:` link.
async fn assert_inert(b: &Browser, origin: &str, page: &str) {
    assert_eq!(b.alert_text().await, None, "{page}: a dialog opened");
    let v = b
        .script(
            "return {xss: window.__xss === undefined ? null : window.__xss, title: document.title,
               resources: performance.getEntriesByType('resource').map(e => e.name),
               js_links: [...document.querySelectorAll('[href],[src],[action]')]
                 .map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action'))
                 .filter(u => /^\\s*javascript:/i.test(u)),
               scripts: document.scripts.length,
               handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length}",
        )
        .await;
    assert_eq!(v["xss"], Value::Null, "{page}: a payload ran: {v}");
    // The payload would set the title to exactly this; as text it is only part of a longer title.
    assert_ne!(v["title"], "pwned", "{page}: a payload ran: {v}");
    assert_eq!(v["scripts"], 0, "{page}: a script element exists: {v}");
    assert_eq!(
        v["handlers"], 0,
        "{page}: an element has an on* handler: {v}"
    );
    assert_eq!(v["js_links"], json!([]), "{page}: javascript: link: {v}");
    for r in v["resources"].as_array().expect("resources") {
        let r = r.as_str().unwrap_or("");
        assert!(
            r.starts_with(origin),
            "{page}: request to another origin: {r}"
        );
    }
}

async fn cells(b: &Browser, css: &str) -> Vec<String> {
    let v = b
        .script(&format!(
            "return [...document.querySelectorAll({css:?})].map(e => e.textContent.trim())"
        ))
        .await;
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_str().unwrap_or("").to_string())
        .collect()
}

/// Numbers of the gap page's table: for each row, field → exact value (the `data-value` attributes).
async fn gap_page_numbers(b: &Browser) -> Vec<serde_json::Map<String, Value>> {
    let v = b
        .script(
            "return [...document.querySelectorAll('#gap-table tbody tr')].map(tr => Object.fromEntries(
               [...tr.querySelectorAll('[data-field]')].map(e => [e.dataset.field,
                 {value: e.dataset.value === undefined ? null : e.dataset.value, text: e.textContent.trim()}])))",
        )
        .await;
    v.as_array()
        .expect("rows")
        .iter()
        .map(|r| r.as_object().expect("row").clone())
        .collect()
}

fn assert_gap_agrees(page: &[serde_json::Map<String, Value>], cli: &Value) {
    let rows = cli["rows"].as_array().expect("cli rows");
    assert_eq!(page.len(), rows.len(), "rows on the page vs in --json");
    assert!(!rows.is_empty(), "the gap has rows");
    for (p, c) in page.iter().zip(rows) {
        for field in ["source", "target"] {
            assert_eq!(p[field]["text"], c[field], "{field}");
        }
        for field in [
            "estimate",
            "ci_lower",
            "ci_upper",
            "se",
            "p",
            "p_holm",
            "mean_a",
            "mean_b",
            "n_models_a",
            "n_models_b",
            "n_items",
        ] {
            let shown = p[field]["value"].as_str().unwrap_or("");
            match c[field].as_f64() {
                Some(x) => {
                    let parsed: f64 = shown
                        .parse()
                        .unwrap_or_else(|_| panic!("{field}: {shown:?}"));
                    assert_eq!(parsed, x, "{field}: page {shown} vs --json {x}");
                    if !field.starts_with("n_") {
                        assert_eq!(p[field]["text"], format!("{x:.4}"), "{field} as displayed");
                    }
                }
                None => assert_eq!(shown, "", "{field}: page has a value, --json has none"),
            }
        }
    }
}

/// Every path of the OpenAPI document answers JSON (200, or 400/404 with an `error` when a required
/// parameter is missing); only GET exists; a request for another host name is refused (DNS rebinding).
async fn assert_api_and_host_check(origin: &str) {
    let doc: Value = reqwest::get(format!("{origin}/api/openapi.json"))
        .await
        .expect("openapi")
        .json()
        .await
        .expect("openapi json");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 9, "{paths:?}");
    for path in paths.keys() {
        let res = reqwest::get(format!("{origin}{path}")).await.expect("api");
        let status = res.status().as_u16();
        let body: Value = res
            .json()
            .await
            .unwrap_or_else(|e| panic!("{path}: not JSON: {e}"));
        match status {
            200 => {}
            400 | 404 => assert!(body["error"].is_string(), "{path}: {body}"),
            s => panic!("{path}: status {s}: {body}"),
        }
    }
    // Out-of-range and malformed parameters are answered, not crashed on.
    for (q, status) in [
        ("/?page=18446744073709551615", 200),
        (
            "/api/leaderboard?page=18446744073709551615&per_page=500",
            200,
        ),
        ("/?page=0", 400),
        ("/?params_min=%3Cscript%3E", 400),
        ("/samples?run=x&task=y&page=18446744073709551615", 404),
    ] {
        let res = reqwest::get(format!("{origin}{q}")).await.expect("get");
        assert_eq!(res.status().as_u16(), status, "{q}");
    }
    let client = reqwest::Client::new();
    let post = client
        .post(format!("{origin}/"))
        .send()
        .await
        .expect("post");
    assert_eq!(post.status().as_u16(), 405, "no write endpoint");
    let rebound = client
        .get(format!("{origin}/"))
        .header("host", "attacker.example")
        .send()
        .await
        .expect("get");
    assert_eq!(rebound.status().as_u16(), 421, "foreign Host refused");
}

/// Each page with its stylesheet stays under 500 KB, and every answer carries the security headers.
async fn assert_weight_and_headers(origin: &str, pages: &[&str]) {
    let css = reqwest::get(format!("{origin}/static/style.css"))
        .await
        .expect("css")
        .bytes()
        .await
        .expect("css body")
        .len();
    for page in pages {
        let res = reqwest::get(format!("{origin}{page}")).await.expect("page");
        let h = res.headers().clone();
        let csp = h
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(
            csp.contains("script-src 'self'") && csp.contains("object-src 'none'"),
            "{page}: {csp}"
        );
        assert_eq!(
            h.get("x-content-type-options")
                .and_then(|v| v.to_str().ok()),
            Some("nosniff")
        );
        let body = res.bytes().await.expect("body").len();
        assert!(body + css < 500_000, "{page}: {body} + {css} bytes");
    }
}

/// Leaderboard: the form filters by country and parameters; a header sorts; a row opens its model.
async fn check_leaderboard_and_model(b: &Browser, origin: &str, shots: &Path) {
    let origin = origin.to_string();
    // Leaderboard: the form filters by country and parameters; a header sorts.
    b.goto(&format!("{origin}/")).await;
    assert_inert(b, &origin, "leaderboard").await;
    let all = b.text("#count").await;
    let total: usize = all
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("count");
    assert!(total > 7169, "v1 + v2 + measured rows: {all}");
    b.fill("input[name=country]", "CN").await;
    b.fill("input[name=params_max]", "10").await;
    b.click("form.filters button[type=submit]").await;
    let url = b.wait_for_url("country=").await;
    assert!(
        url.contains("country=CN") && url.contains("params_max=10"),
        "{url}"
    );
    let filtered: usize = b
        .text("#count")
        .await
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("count");
    assert!(filtered > 0 && filtered < total, "{filtered} of {total}");
    // The CSV link downloads every filtered row (all pages), country CN in each.
    let csv_link = b
        .script("return document.querySelector('a[download]').href")
        .await;
    let csv = reqwest::get(csv_link.as_str().expect("csv href"))
        .await
        .expect("csv")
        .text()
        .await
        .expect("csv text");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("model,source,organization,country,"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len() - 1, filtered, "one CSV line per filtered row");
    // Columns: # model source org country released params open …
    let countries = cells(b, "#leaderboard tbody td:nth-child(5)").await;
    assert!(
        !countries.is_empty() && countries.iter().all(|c| c == "CN"),
        "{countries:?}"
    );
    b.click("#leaderboard thead th:nth-child(7) a").await;
    let url = b.wait_for_url("sort=params").await;
    assert!(
        url.contains("sort=params") && url.contains("country=CN"),
        "sorting keeps the filters: {url}"
    );
    let params: Vec<f64> = cells(b, "#leaderboard tbody td:nth-child(7)")
        .await
        .iter()
        .map(|p| p.parse().expect("params shown for every filtered row"))
        .collect();
    assert!(params.iter().all(|p| *p <= 10.0), "{params:?}");
    assert!(
        params.windows(2).all(|w| w[0] <= w[1]),
        "ascending: {params:?}"
    );
    assert_inert(b, &origin, "filtered leaderboard").await;
    b.screenshot(&shots.join("leaderboard.png")).await;

    // A model.
    let name = b.text("#leaderboard tbody tr:first-child td.model a").await;
    b.click("#leaderboard tbody tr:first-child td.model a")
        .await;
    assert_eq!(b.text("h1").await, name);
    assert_inert(b, &origin, "model").await;
    b.screenshot(&shots.join("model.png")).await;
}

/// A gap view: the same numbers as `yardstick gap --json` with the same options (returned).
async fn check_gap(b: &Browser, origin: &str, shots: &Path, db: &str) -> Value {
    let origin = origin.to_string();
    // A gap view: the same numbers as `yardstick gap --json` with the same options.
    let q =
        "between=country%3DUS&and=country%3DCN&official_only=1&benchmark=mmlu_pro&replicates=500";
    b.goto(&format!("{origin}/gap?{q}")).await;
    assert_inert(b, &origin, "gap").await;
    let cli: Value = serde_json::from_str(&run_ok(&[
        "gap",
        "--between",
        "country=US",
        "--and",
        "country=CN",
        "--official-only",
        "--benchmark",
        "mmlu_pro",
        "--replicates",
        "500",
        "--store",
        s(db),
        "--json",
    ]))
    .expect("gap --json");
    assert_gap_agrees(&gap_page_numbers(b).await, &cli);
    let api: Value = reqwest::get(format!("{origin}/api/gap?{q}"))
        .await
        .expect("api")
        .json()
        .await
        .expect("json");
    assert_eq!(api, cli, "/api/gap is the JSON of yardstick gap --json");
    assert_weight_and_headers(&origin, &["/", &format!("/gap?{q}")]).await;
    assert_api_and_host_check(&origin).await;
    let svg_title = b
        .script("return document.querySelector('figure.chart svg title').textContent")
        .await;
    assert!(
        svg_title.as_str().unwrap_or("").contains("country=US"),
        "{svg_title}"
    );
    assert!(!b.text("#verdict").await.is_empty(), "trend verdict shown");
    b.screenshot(&shots.join("gap.png")).await;
    // Dark theme: dark page, the chart inverted onto it (the renderer draws on white).
    b.prefer_dark(true).await;
    let look = b
        .script(
            "return [getComputedStyle(document.body).backgroundColor,
                     getComputedStyle(document.querySelector('figure.chart svg')).filter]",
        )
        .await;
    assert_eq!(look[0], "rgb(20, 23, 27)", "{look}");
    assert!(look[1].as_str().unwrap_or("").contains("invert"), "{look}");
    b.screenshot(&shots.join("gap-dark.png")).await;
    b.prefer_dark(false).await;

    cli
}

/// Runs → the measured run → its samples → one sample.
async fn check_runs_and_sample(b: &Browser, origin: &str, shots: &Path) {
    let origin = origin.to_string();
    // Runs → the measured run → its wrong answers → one sample.
    b.goto(&format!("{origin}/runs")).await;
    assert_inert(b, &origin, "runs").await;
    // The measured model's page lists the run with its throughput.
    b.click("#runs tbody tr:last-child td:nth-child(4) a").await;
    assert_eq!(b.text("h1").await, "mock-model");
    let rate = b
        .text("#model-runs tbody tr:first-child td:nth-child(7)")
        .await;
    assert!(
        rate.parse::<f64>().is_ok_and(|r| r > 0.0),
        "requests/s: {rate:?}"
    );
    b.goto(&format!("{origin}/runs")).await;
    b.click("#runs tbody tr:last-child td:first-child a").await;
    assert!(b.text("#tasks").await.contains("mmlu_anatomy"));
    b.click("#tasks tbody tr:first-child td:last-child a").await;
    assert_inert(b, &origin, "samples").await;
    b.click("#samples tbody tr:first-child td:first-child a")
        .await;
    assert!(!b.text("#prompt-0").await.is_empty(), "the prompt is shown");
    let verdict = b.text("main section h2").await;
    assert!(
        verdict.ends_with("right") || verdict.ends_with("wrong"),
        "scored: {verdict}"
    );
    assert_inert(b, &origin, "sample").await;
    b.screenshot(&shots.join("sample.png")).await;
}

/// XSS: imported names and stored samples render as text on every page that shows them.
async fn check_xss(b: &Browser, origin: &str, xss_run: &str, n_payload: usize) {
    let origin = origin.to_string();
    // XSS: imported names render as text on the leaderboard and their model pages.
    b.goto(&format!("{origin}/?q=xssprobe&cols=mmlu_pro")).await;
    assert_inert(b, &origin, "payload leaderboard").await;
    let names = cells(b, "#leaderboard tbody td.model").await;
    for p in NAME_PAYLOADS {
        assert!(
            names.iter().any(|n| n == p),
            "{p} shown as text among {names:?}"
        );
    }
    let links = b
        .script("return [...document.querySelectorAll('td.model a')].map(a => a.href)")
        .await;
    for link in links.as_array().expect("links") {
        let link = link.as_str().expect("href");
        assert!(link.starts_with(&format!("{origin}/model?")), "{link}");
        b.goto(link).await;
        let h1 = b.text("h1").await;
        assert!(
            NAME_PAYLOADS.contains(&h1.as_str()) || h1 == RUN_MODEL,
            "{h1}"
        );
        assert_inert(b, &origin, &format!("model page of {h1}")).await;
    }
    // … and stored samples render as text on the run, samples, sample and side-by-side pages.
    for page in [
        "/runs".to_string(),
        format!("/run?id={xss_run}"),
        format!("/samples?run={xss_run}&task=mmlu_anatomy"),
        format!("/sample?run={xss_run}&task=mmlu_anatomy&doc=0"),
    ] {
        b.goto(&format!("{origin}{page}")).await;
        assert_inert(b, &origin, &page).await;
    }
    b.goto(&format!("{origin}/run?id=f00dfeedrunning")).await;
    let refresh = b
        .script("return document.querySelector('meta[http-equiv=refresh]')?.content ?? null")
        .await;
    assert_eq!(refresh, "5", "a running run's page refreshes itself");
    b.goto(&format!(
        "{origin}/sample?run={xss_run}&task=mmlu_anatomy&doc=0"
    ))
    .await;
    assert!(
        b.text("#response-0").await.contains(SAMPLE_PAYLOAD),
        "response shown as text"
    );
    // Wrong answers only: the payload run scored every other item 0.
    b.goto(&format!(
        "{origin}/samples?run={xss_run}&task=mmlu_anatomy&wrong=1"
    ))
    .await;
    assert_inert(b, &origin, "wrong samples").await;
    let classes = b
        .script(
            "return [...document.querySelectorAll('#samples tbody tr')].map(tr => tr.className)",
        )
        .await;
    let classes = classes.as_array().expect("rows");
    assert_eq!(classes.len(), n_payload.div_ceil(2), "{classes:?}");
    assert!(classes.iter().all(|c| c == "wrong"), "{classes:?}");
    b.goto(&format!("{origin}/run?id={xss_run}")).await;
    b.click("main ul li a").await;
    b.wait_for_url("/compare?").await;
    assert_inert(b, &origin, "compare").await;
    let compared = b.text("#compare").await;
    assert!(
        compared.contains(SAMPLE_PAYLOAD),
        "paired view shows the payload as text"
    );
}

/// The shareable report: one file, no script, the gap's numbers and chart inline.
fn check_report(dir: &Path, db: &str, cli: &Value) {
    // The shareable report: one file, no script, the gap's numbers and chart inline.
    let report = dir.join("report.html");
    run_ok(&[
        "report",
        "--out",
        s(&report),
        "--store",
        s(db),
        "--gap",
        "country=US vs country=CN",
        "--official-only",
        "--benchmark",
        "mmlu_pro",
        "--replicates",
        "500",
        "--rows",
        "20",
    ]);
    let html = std::fs::read_to_string(&report).expect("report");
    assert!(!html.contains("<script"), "no script in the report");
    assert!(html.contains("<svg") && html.contains("Content-Security-Policy"));
    let first = cli["rows"][0]["estimate"].as_f64().expect("estimate");
    assert!(html.contains(&format!("{first:.4}")), "the gap's estimate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_ui_in_a_real_browser() {
    let (Some(chromium), Some(driver)) = (
        find_program(&["chromium", "chromium-browser", "google-chrome"]),
        find_program(&["chromedriver"]),
    ) else {
        yardstick_testkit::skip_or_fail(
            "chromium or chromedriver not found (apt-get install chromium chromium-driver)",
        );
        return;
    };
    let Some(data) = yardstick_testkit::require_shared_data_with("leaderboards") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = yardstick_testkit::test_store(dir.path(), "web.db");
    let oll = data.join("leaderboards/open_llm_leaderboard");
    let v1 = oll.join("fboulnois_huggingface_v1_2024-07-13.csv");
    let v2 = oll.join("fboulnois_huggingface_v2_2025-03-21.csv");
    let payload_csv = dir.path().join("payload_v2.csv");
    write_payload_csv(&v2, &payload_csv);
    let t0 = std::time::Instant::now();
    let mark = |what: &str| eprintln!("[{:>6.1} s] {what}", t0.elapsed().as_secs_f64());
    let imported = run_ok(&["import", s(&v1), s(&v2), s(&payload_csv), "--store", s(&db)]);
    assert!(imported.contains("7169 rows"), "{imported}");
    mark("imported");
    measured_run(&data, dir.path(), &db);
    let (xss_run, n_payload) = payload_run(&db);
    mark("measured run and payload run stored");

    let server = Server::start(&db);
    let origin = server.url.clone();
    let shots = screenshots();
    let b = Browser::start(&chromium, &driver).await;
    mark("server and browser started");

    check_leaderboard_and_model(&b, &origin, &shots).await;
    mark("model checked");
    let cli = check_gap(&b, &origin, &shots, &db).await;
    mark("gap checked");
    check_runs_and_sample(&b, &origin, &shots).await;
    mark("runs and samples checked");
    check_xss(&b, &origin, &xss_run, n_payload).await;
    b.quit().await;
    mark("XSS pages checked");

    check_report(dir.path(), &db, &cli);
    mark("report checked");
}

#[test]
fn serve_binds_loopback_unless_told_otherwise() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = yardstick_testkit::test_store(dir.path(), "empty.db");
    yardstick_store::Store::open_location(&db).expect("create store");
    let o = bin()
        .args(["serve", "--store", s(&db), "--bind", "0.0.0.0:0"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("not a loopback address") && err.contains("--allow-remote"),
        "{err}"
    );
    let o = bin()
        .args(["serve", "--store", s(&dir.path().join("none.db"))])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no store at"));
    let mut child = bin()
        .args([
            "serve",
            "--store",
            s(&db),
            "--bind",
            "0.0.0.0:0",
            "--allow-remote",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut line = String::new();
    BufReader::new(child.stderr.take().expect("stderr"))
        .read_line(&mut line)
        .expect("warning line");
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.starts_with("warning: serving on 0.0.0.0:"), "{line}");
}
