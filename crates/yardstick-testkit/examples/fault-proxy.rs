//! The fault-injecting proxy ([`yardstick_testkit::FaultProxy`]) as a process, for scripts (`scripts/soak`).
//!
//!   fault-proxy UPSTREAM_URL [P_500 P_DROP P_SLOW SEED]
//!
//! Prints its URL (`http://127.0.0.1:PORT`) on the first line of stdout, then every 10 s a line of what it
//! injected so far. Runs until killed. Loopback only.

use std::io::Write;
use std::time::Duration;
use yardstick_testkit::fault_proxy::{FaultConfig, FaultProxy};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(upstream) = args.first() else {
        eprintln!("usage: fault-proxy UPSTREAM_URL [P_500 P_DROP P_SLOW SEED]");
        std::process::exit(2);
    };
    // probabilities in [0, 1]; the seed (argument 5) any whole number ≥ 0
    let num = |i: usize, default: f64| -> f64 {
        match args.get(i).map(|s| s.parse::<f64>()) {
            None => default,
            Some(Ok(v)) if v.is_finite() && v >= 0.0 && (i == 4 || v <= 1.0) => v,
            Some(_) => {
                eprintln!(
                    "fault-proxy: argument {} ({:?}) must be {}",
                    i + 1,
                    args[i],
                    if i == 4 {
                        "a whole number ≥ 0"
                    } else {
                        "a probability in [0, 1]"
                    }
                );
                std::process::exit(2);
            }
        }
    };
    let config = FaultConfig {
        p_500: num(1, 0.2),
        p_drop: num(2, 0.05),
        p_slow: num(3, 0.05),
        seed: num(4, 7.0) as u64,
        ..FaultConfig::default()
    };
    let proxy = match FaultProxy::start(upstream, config) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("fault-proxy: cannot start in front of {upstream}: {e}");
            std::process::exit(1);
        }
    };
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{}", proxy.url());
    let _ = out.flush();
    loop {
        std::thread::sleep(Duration::from_secs(10));
        let s = proxy.summary();
        let _ = writeln!(
            out,
            "requests={} forwarded={} injected_500={} dropped_before={} dropped_mid_response={} slowed={} upstream_errors={}",
            s.requests, s.forwarded, s.injected_500, s.dropped_before, s.dropped_mid_response, s.slowed, s.upstream_errors
        );
        let _ = out.flush();
    }
}
