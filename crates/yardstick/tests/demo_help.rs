//! `scripts/demo --help` answers at once — before any set-up, build lock or server — and says what the demo
//! runs and what score to expect.

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn demo_help_prints_usage_at_once() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/demo");
    let started = Instant::now();
    let out = Command::new("bash")
        .arg(&script)
        .arg("--help")
        .output()
        .expect("bash runs scripts/demo");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.starts_with("usage: scripts/demo"), "{text}");
    assert!(text.contains("chance"), "{text}");
    // it must not have started the set-up (whose steps print "demo: ...")
    assert!(!text.lines().any(|l| l.starts_with("demo:")), "{text}");
    assert!(started.elapsed() < Duration::from_secs(5));
}
