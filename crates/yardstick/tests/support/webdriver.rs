//! A small W3C WebDriver client for the browser tests: it starts `chromedriver` on a free port and drives
//! one headless Chromium session over HTTP (JSON), enough to navigate, read and click elements, run a
//! script, read alerts and take screenshots.

use base64::Engine;
use serde_json::{json, Value};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The W3C key under which element references are returned.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Find `name` on the PATH (or at one of the usual Debian locations).
pub fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in names {
        for dir in std::env::split_paths(&path).chain([
            PathBuf::from("/usr/bin"),
            PathBuf::from("/usr/lib/chromium"),
        ]) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// chromedriver and one browser session; both end when this is dropped.
pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    base: String,
    session: String,
}

impl Browser {
    /// Start chromedriver and a headless Chromium session.
    pub async fn start(chromium: &Path, chromedriver: &Path) -> Browser {
        let port = free_port();
        // Its own process group, which the browser it starts joins: dropping a Browser (also when a check
        // panics, before the session is ended) kills chromedriver and every browser process with it.
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start in 30 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "unhandledPromptBehavior": "ignore",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,1000", "--hide-scrollbars", "--no-first-run"]
            }
        }}});
        let mut b = Browser {
            driver,
            http,
            base,
            session: String::new(),
        };
        let v = b.call("POST", "/session", Some(caps)).await;
        b.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {v}"))
            .to_string();
        b
    }

    /// One WebDriver command; the `value` of its answer. Panics on a WebDriver error.
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        match self.try_call(method, path, body).await {
            Ok(v) => v,
            Err(e) => panic!("WebDriver {method} {path}: {e}"),
        }
    }

    async fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Value> {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body.unwrap_or_else(|| json!({}))),
        };
        let res = req.send().await.expect("WebDriver request");
        let ok = res.status().is_success();
        let v: Value = res.json().await.expect("WebDriver JSON answer");
        let value = v.get("value").cloned().unwrap_or(Value::Null);
        if ok {
            Ok(value)
        } else {
            Err(value)
        }
    }

    fn s(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    pub async fn goto(&self, url: &str) {
        self.call("POST", &self.s("/url"), Some(json!({ "url": url })))
            .await;
    }

    pub async fn url(&self) -> String {
        self.call("GET", &self.s("/url"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Wait (up to 20 s) until the current URL contains `part` (a click's navigation has happened).
    pub async fn wait_for_url(&self, part: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let url = self.url().await;
            if url.contains(part) {
                return url;
            }
            assert!(
                Instant::now() < deadline,
                "the page did not go to a URL with {part:?}; it is at {url}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of an open alert/confirm/prompt dialog, if one is open.
    pub async fn alert_text(&self) -> Option<String> {
        self.try_call("GET", &self.s("/alert/text"), None)
            .await
            .ok()
            .map(|v| v.as_str().unwrap_or_default().to_string())
    }

    /// Run a script (its `return` value comes back).
    pub async fn script(&self, code: &str) -> Value {
        self.call(
            "POST",
            &self.s("/execute/sync"),
            Some(json!({ "script": code, "args": [] })),
        )
        .await
    }

    /// The first element matching a CSS selector.
    pub async fn find(&self, css: &str) -> String {
        let v = self
            .call(
                "POST",
                &self.s("/element"),
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element id for {css} in {v}"))
            .to_string()
    }

    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call("POST", &self.s(&format!("/element/{id}/click")), None)
            .await;
    }

    pub async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.call("GET", &self.s(&format!("/element/{id}/text")), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Replace an input's value.
    pub async fn fill(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call("POST", &self.s(&format!("/element/{id}/clear")), None)
            .await;
        self.call(
            "POST",
            &self.s(&format!("/element/{id}/value")),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// Emulate `prefers-color-scheme: dark` (true) or light (false) through the DevTools protocol.
    pub async fn prefer_dark(&self, dark: bool) {
        let scheme = if dark { "dark" } else { "light" };
        self.call(
            "POST",
            &self.s("/goog/cdp/execute"),
            Some(json!({"cmd": "Emulation.setEmulatedMedia", "params": {
                "features": [{"name": "prefers-color-scheme", "value": scheme}]}})),
        )
        .await;
    }

    /// Save a PNG screenshot of the window.
    pub async fn screenshot(&self, path: &Path) {
        let v = self.call("GET", &self.s("/screenshot"), None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .expect("screenshot is base64");
        std::fs::write(path, png).expect("write screenshot");
    }

    /// End the session (chromedriver is killed on drop).
    pub async fn quit(&self) {
        let _ = self.try_call("DELETE", &self.s(""), None).await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Ok(pgid) = i32::try_from(self.driver.id()) {
            // SAFETY: kill(2) on the process group created for chromedriver above.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
