//! Reading a program's output without trusting its size: the head of each stream is kept, the rest counted;
//! past the run's output budget the runner is told to kill it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::{watch, Notify};

/// One output stream of a run: the first bytes as text (invalid UTF-8 replaced), and how much there was.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Captured {
    pub text: String,
    /// Bytes the program wrote to this stream (kept or not), up to the moment it ended or was killed.
    pub total_bytes: u64,
    /// Whether `text` is only the head of it.
    pub truncated: bool,
}

/// The budget both streams of a run share.
#[derive(Debug)]
pub(crate) struct OutputBudget {
    used: AtomicU64,
    limit: u64,
    /// Notified once the budget is exceeded.
    pub(crate) exceeded: Notify,
}

impl OutputBudget {
    pub(crate) fn new(limit: u64) -> Arc<OutputBudget> {
        Arc::new(OutputBudget {
            used: AtomicU64::new(0),
            limit,
            exceeded: Notify::new(),
        })
    }

    pub(crate) fn is_exceeded(&self) -> bool {
        self.used.load(Ordering::Relaxed) > self.limit
    }

    fn add(&self, n: u64) {
        let before = self.used.fetch_add(n, Ordering::Relaxed);
        if before <= self.limit && before + n > self.limit {
            self.exceeded.notify_one();
        }
    }
}

/// Read `stream` to its end (or until the budget is spent, or `stop` turns true), keeping at most `keep`
/// bytes.
pub(crate) async fn read_bounded<R: AsyncRead + Unpin>(
    mut stream: R,
    keep: usize,
    budget: Arc<OutputBudget>,
    stop: &mut watch::Receiver<bool>,
) -> Captured {
    let mut head = Vec::with_capacity(keep.min(64 << 10));
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let read = tokio::select! {
            r = stream.read(&mut buf) => r,
            _ = stop.wait_for(|s| *s) => break,
        };
        let n = match read {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        total += n as u64;
        if head.len() < keep {
            let take = n.min(keep - head.len());
            head.extend_from_slice(&buf[..take]);
        }
        budget.add(n as u64);
        if budget.is_exceeded() {
            break;
        }
    }
    Captured {
        truncated: (head.len() as u64) < total,
        text: String::from_utf8_lossy(&head).into_owned(),
        total_bytes: total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never() -> watch::Receiver<bool> {
        let (tx, rx) = watch::channel(false);
        std::mem::forget(tx);
        rx
    }

    #[tokio::test]
    async fn keeps_the_head_and_counts_the_rest() {
        let data = vec![b'x'; 100_000];
        let budget = OutputBudget::new(1 << 30);
        let c = read_bounded(&data[..], 10, budget.clone(), &mut never()).await;
        assert_eq!(c.text, "xxxxxxxxxx");
        assert_eq!(c.total_bytes, 100_000);
        assert!(c.truncated);
        assert!(!budget.is_exceeded());
    }

    #[tokio::test]
    async fn stops_reading_past_the_budget() {
        let data = vec![b'y'; 1_000_000];
        let budget = OutputBudget::new(100_000);
        let c = read_bounded(&data[..], 5, budget.clone(), &mut never()).await;
        assert!(budget.is_exceeded());
        assert!(c.total_bytes > 100_000 && c.total_bytes < 1_000_000);
    }

    #[tokio::test]
    async fn short_output_is_whole() {
        let budget = OutputBudget::new(100);
        let c = read_bounded(&b"caf\xc3\xa9\n"[..], 100, budget, &mut never()).await;
        assert_eq!(c.text, "café\n");
        assert!(!c.truncated);
    }
}
