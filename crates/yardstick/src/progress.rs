//! Progress for long runs: an indicatif bar on a terminal, plain timestamped lines when stderr is piped,
//! nothing with `--json` or `--quiet`. Each shows the tasks scored out of all and the one being sent,
//! requests answered (and the HTTP calls the server saw), rates, what the ledger already had, and an ETA
//! reckoned in prompt tokens and generations, so a task with long prompts or long answers is not
//! estimated at the pace of a short one.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use yardstick_engine::schedule::{Advance, Progress, TaskWorkload};

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

/// What one generated token costs in units of one prompt token, for the ETA of a run that mixes
/// log-likelihood and generation tasks (decoding a token is several times the cost of reading one; the
/// exact figure matters only for the mix, since the rate is measured on the run itself).
const GENERATED_TOKEN_COST: f64 = 8.0;
/// Plain progress lines at most this often.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// The run's tasks: what each is expected to cost, and how far each has come.
#[derive(Default)]
struct Board {
    estimates: Vec<TaskWorkload>,
    /// The exact work of each task once it is prepared (replaces its estimate).
    exact: Vec<Option<TaskWorkload>>,
    scored: Vec<bool>,
    total: u64,
    cached: u64,
    exact_total: bool,
    done: Advance,
    last_line: Option<Instant>,
}

impl Board {
    fn tasks_scored(&self) -> usize {
        self.scored.iter().filter(|s| **s).count()
    }

    /// The task being sent: the first prepared one not yet scored, else the next to prepare.
    fn current(&self) -> Option<&str> {
        let first_open = |need_exact: bool| {
            (0..self.estimates.len())
                .find(|&i| !self.scored[i] && (!need_exact || self.exact[i].is_some()))
        };
        first_open(true)
            .or_else(|| first_open(false))
            .map(|i| self.estimates[i].name.as_str())
    }

    /// Tokens a generation is expected to produce: the run's own mean once it has one, else half the most
    /// it may produce.
    fn expected_generated(&self, w: &TaskWorkload) -> f64 {
        if self.done.generations > 0 {
            w.generations as f64 * self.done.completion_tokens as f64 / self.done.generations as f64
        } else {
            w.max_gen_tokens as f64 / 2.0
        }
    }

    fn cost(&self, w: &TaskWorkload) -> f64 {
        w.prompt_tokens as f64 + GENERATED_TOKEN_COST * self.expected_generated(w)
    }

    /// Seconds left: the expected cost of the work not yet done, at the rate the run has kept so far;
    /// None until a fiftieth of the work is done (the first requests include the server's warm-up).
    fn eta(&self, elapsed: f64) -> Option<f64> {
        let done = self.done.unit_prompt_tokens as f64
            + GENERATED_TOKEN_COST * self.done.completion_tokens as f64;
        let expected: f64 = (0..self.estimates.len())
            .map(|i| self.cost(self.exact[i].as_ref().unwrap_or(&self.estimates[i])))
            .sum();
        if done <= 0.0 || elapsed <= 0.0 || done < expected / 50.0 {
            return None;
        }
        Some((expected - done).max(0.0) / (done / elapsed))
    }
}

pub struct RunProgress {
    mode: Mode,
    bar: ProgressBar,
    start: Instant,
    board: Mutex<Board>,
    /// HTTP calls the server has seen so far (an OpenAI-compatible backend's counter).
    http_calls: Option<Box<dyn Fn() -> u64 + Send + Sync>>,
}

/// `75s`, `7m48s`, `2h05m`.
pub fn short_duration(secs: f64) -> String {
    let s = secs.round().max(0.0) as u64;
    match s {
        0..=99 => format!("{s}s"),
        100..=5999 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
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
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        RunProgress {
            mode,
            bar,
            start: Instant::now(),
            board: Mutex::new(Board::default()),
            http_calls: None,
        }
    }

    /// Show the HTTP calls the server has seen beside the logical requests.
    pub fn with_http_calls(mut self, calls: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.http_calls = Some(Box::new(calls));
        self
    }

    fn say(&self, line: &str) {
        match self.mode {
            Mode::Bar => self.bar.println(line),
            Mode::Lines => eprintln!("{line}"),
            Mode::Silent => {}
        }
    }

    /// The status after the counts: tasks, the task being sent, requests and calls, rates, reuse, ETA.
    /// `with_requests`: the answered requests too (the bar shows them itself).
    fn status(&self, b: &Board, with_requests: bool) -> String {
        let elapsed = self.start.elapsed().as_secs_f64().max(1e-3);
        let mut tasks = format!("{}/{} tasks", b.tasks_scored(), b.estimates.len());
        if let Some(name) = b.current() {
            tasks.push_str(&format!(" (now {name})"));
        }
        let calls = self.http_calls.as_ref().map(|c| c());
        let mut parts = vec![tasks];
        if with_requests {
            let to_send = b.total.saturating_sub(b.cached);
            let approx = if b.exact_total { "" } else { "~" };
            let mut r = format!("{}/{approx}{to_send} requests", b.done.requests);
            if let Some(n) = calls {
                r.push_str(&format!(" in {n} HTTP calls"));
            }
            parts.push(r);
        } else if let Some(n) = calls {
            parts.push(format!("{n} HTTP calls"));
        }
        let tokens = b.done.prompt_tokens + b.done.completion_tokens;
        parts.push(format!("{:.1} req/s", b.done.requests as f64 / elapsed));
        parts.push(format!("{:.0} tok/s", tokens as f64 / elapsed));
        parts.push(format!("{} reused", b.cached));
        parts.push(match b.eta(elapsed) {
            Some(eta) => format!("ETA {}", short_duration(eta)),
            None => "ETA …".to_string(),
        });
        parts.join(", ")
    }
}

impl Progress for RunProgress {
    fn planned(&self, total: u64, cached: u64, exact: bool) {
        let Ok(mut b) = self.board.lock() else {
            return;
        };
        let first = b.estimates.is_empty() && b.total == 0 && !b.exact_total;
        let became_exact = exact && !b.exact_total;
        b.total = total;
        b.cached = cached;
        b.exact_total = exact;
        let to_send = total.saturating_sub(cached);
        self.bar.set_length(to_send);
        if became_exact {
            self.say(&format!(
                "{total} requests: {cached} reused from the store, {to_send} to send"
            ));
        } else if first {
            self.say(&format!("about {total} requests"));
        }
    }

    fn tasks(&self, estimates: &[TaskWorkload]) {
        if let Ok(mut b) = self.board.lock() {
            b.estimates = estimates.to_vec();
            b.exact = vec![None; estimates.len()];
            b.scored = vec![false; estimates.len()];
        }
    }

    fn task_admitted(&self, index: usize, to_send: &TaskWorkload) {
        if let Ok(mut b) = self.board.lock() {
            if let Some(slot) = b.exact.get_mut(index) {
                *slot = Some(to_send.clone());
            }
        }
    }

    fn task_scored(&self, index: usize) {
        let Ok(mut b) = self.board.lock() else {
            return;
        };
        if let Some(s) = b.scored.get_mut(index) {
            *s = true;
        }
        if let Mode::Bar = self.mode {
            self.bar.set_message(self.status(&b, false));
        }
    }

    fn advanced(&self, done: &Advance) {
        let Ok(mut b) = self.board.lock() else {
            return;
        };
        b.done.requests += done.requests;
        b.done.generations += done.generations;
        b.done.prompt_tokens += done.prompt_tokens;
        b.done.completion_tokens += done.completion_tokens;
        b.done.unit_prompt_tokens += done.unit_prompt_tokens;
        match self.mode {
            Mode::Bar => {
                self.bar.set_position(b.done.requests);
                self.bar.set_message(self.status(&b, false));
            }
            Mode::Lines => {
                let to_send = b.total.saturating_sub(b.cached);
                let due = b.last_line.is_none_or(|t| t.elapsed() >= LINE_EVERY);
                if due || (b.exact_total && b.done.requests >= to_send) {
                    b.last_line = Some(Instant::now());
                    eprintln!(
                        "[{:>7.1}s] {}",
                        self.start.elapsed().as_secs_f64(),
                        self.status(&b, true)
                    );
                }
            }
            Mode::Silent => {}
        }
    }

    fn note(&self, line: &str) {
        self.say(line);
    }

    fn finish(&self) {
        if let Mode::Bar = self.mode {
            self.bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(name: &str, requests: u64, prompt: u64, gens: u64, max_gen: u64) -> TaskWorkload {
        TaskWorkload {
            name: name.into(),
            requests,
            prompt_tokens: prompt,
            generations: gens,
            max_gen_tokens: max_gen,
        }
    }

    #[test]
    fn eta_counts_tokens_not_requests() {
        // A short task done in 10 s, then a task with the same number of requests but prompts ten times
        // longer: the ETA is ten times the time spent, not the same again.
        let mut b = Board {
            estimates: vec![
                work("short", 100, 1_000, 0, 0),
                work("long", 100, 10_000, 0, 0),
            ],
            exact: vec![None, None],
            scored: vec![true, false],
            ..Board::default()
        };
        b.done = Advance {
            requests: 100,
            generations: 0,
            prompt_tokens: 250,
            completion_tokens: 0,
            unit_prompt_tokens: 1_000,
        };
        let eta = b.eta(10.0).unwrap();
        assert!((eta - 100.0).abs() < 1e-9, "{eta}");
        assert_eq!(b.current(), Some("long"));
    }

    #[test]
    fn generations_are_expected_at_the_runs_own_mean_length() {
        let mut b = Board {
            estimates: vec![work("gen", 10, 1_000, 10, 2_560)],
            exact: vec![None],
            scored: vec![false],
            ..Board::default()
        };
        // Before any generation: half the maximum each.
        assert_eq!(b.expected_generated(&b.estimates[0]), 1_280.0);
        b.done.generations = 2;
        b.done.completion_tokens = 100;
        assert_eq!(b.expected_generated(&b.estimates[0]), 500.0);
    }

    #[test]
    fn durations_are_short() {
        assert_eq!(short_duration(42.4), "42s");
        assert_eq!(short_duration(468.0), "7m48s");
        assert_eq!(short_duration(7_500.0), "2h05m");
    }
}
