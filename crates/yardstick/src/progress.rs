//! Progress for long runs: an indicatif bar (done/total, req/s, tok/s, cache hits, ETA) on a terminal, plain
//! timestamped lines when stderr is piped, nothing with `--json` or `--quiet`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use yardstick_engine::schedule::Progress;

pub enum Mode {
    Bar,
    Lines,
    Silent,
}

pub fn choose(silent: bool) -> Mode {
    if silent {
        Mode::Silent
    } else if std::io::stderr().is_terminal() {
        Mode::Bar
    } else {
        Mode::Lines
    }
}

pub struct RunProgress {
    mode: Mode,
    bar: ProgressBar,
    start: Instant,
    total: AtomicU64,
    cached: AtomicU64,
    exact: AtomicBool,
    announced: AtomicBool,
    done: AtomicU64,
    tokens: AtomicU64,
    last_line: Mutex<Instant>,
}

impl RunProgress {
    pub fn new(mode: Mode) -> Self {
        let bar = match mode {
            Mode::Bar => {
                ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr_with_hz(8))
            }
            _ => ProgressBar::hidden(),
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        RunProgress {
            mode,
            bar,
            start: Instant::now(),
            total: AtomicU64::new(0),
            cached: AtomicU64::new(0),
            exact: AtomicBool::new(false),
            announced: AtomicBool::new(false),
            done: AtomicU64::new(0),
            tokens: AtomicU64::new(0),
            last_line: Mutex::new(Instant::now()),
        }
    }

    fn rates(&self) -> (f64, f64) {
        let secs = self.start.elapsed().as_secs_f64().max(1e-3);
        (
            self.done.load(Ordering::Relaxed) as f64 / secs,
            self.tokens.load(Ordering::Relaxed) as f64 / secs,
        )
    }
}

impl Progress for RunProgress {
    fn planned(&self, total: u64, cached: u64, exact: bool) {
        self.total.store(total, Ordering::Relaxed);
        let first = !self.announced.swap(true, Ordering::Relaxed);
        self.cached.store(cached, Ordering::Relaxed);
        self.exact.store(exact, Ordering::Relaxed);
        let to_send = total.saturating_sub(cached);
        match self.mode {
            Mode::Bar => {
                self.bar.set_length(to_send);
                if first {
                    self.bar.println(format!("about {total} requests"));
                } else if exact {
                    self.bar.println(format!(
                        "{total} requests: {cached} reused from the store, {to_send} to send"
                    ));
                }
            }
            Mode::Lines => {
                if first {
                    eprintln!("about {total} requests");
                } else if exact {
                    eprintln!(
                        "{total} requests: {cached} reused from the store, {to_send} to send"
                    );
                }
            }
            Mode::Silent => {}
        }
    }

    fn advanced(&self, requests: u64, tokens: u64) {
        let done = self.done.fetch_add(requests, Ordering::Relaxed) + requests;
        self.tokens.fetch_add(tokens, Ordering::Relaxed);
        let (rps, tps) = self.rates();
        let cached = self.cached.load(Ordering::Relaxed);
        match self.mode {
            Mode::Bar => {
                self.bar.set_position(done);
                self.bar
                    .set_message(format!("{rps:.0} req/s {tps:.0} tok/s, {cached} reused"));
            }
            Mode::Lines => {
                let Ok(mut last) = self.last_line.lock() else {
                    return;
                };
                let to_send = self.total.load(Ordering::Relaxed).saturating_sub(cached);
                if last.elapsed() >= Duration::from_secs(5) || done == to_send {
                    *last = Instant::now();
                    let eta = if rps > 0.0 {
                        (to_send.saturating_sub(done)) as f64 / rps
                    } else {
                        0.0
                    };
                    eprintln!(
                        "[{:>7.1}s] {done}/{}{to_send} requests, {rps:.1} req/s, {tps:.0} tok/s, {cached} reused, ETA {eta:.0}s",
                        self.start.elapsed().as_secs_f64(),
                        if self.exact.load(Ordering::Relaxed) { "" } else { "~" }
                    );
                }
            }
            Mode::Silent => {}
        }
    }

    fn note(&self, line: &str) {
        match self.mode {
            Mode::Bar => self.bar.println(line),
            Mode::Lines => eprintln!("{line}"),
            Mode::Silent => {}
        }
    }

    fn finish(&self) {
        if let Mode::Bar = self.mode {
            self.bar.finish_and_clear();
        }
    }
}
