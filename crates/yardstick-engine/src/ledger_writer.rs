//! A dedicated thread that persists responses as they arrive: each batch it finds waiting is committed in
//! one transaction, so under load commits are batched and when idle every response is durable within
//! microseconds of arriving.

use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use yardstick_store::ledger::StoredResponse;
use yardstick_store::{Store, StoreError};

/// Why responses could not be persisted.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The store refused a batch (disk full, read-only file, …): the store's own error, with its path.
    #[error("saving responses to the ledger failed: {0}")]
    Store(#[from] StoreError),
    #[error("cannot start the ledger writer thread: {0}")]
    Spawn(std::io::Error),
    #[error("the ledger writer thread panicked")]
    Panicked,
    #[error("the ledger writer is closed")]
    Closed,
}

pub struct LedgerWriter {
    tx: Option<mpsc::Sender<Vec<StoredResponse>>>,
    handle: Option<JoinHandle<Result<u64, StoreError>>>,
}

impl LedgerWriter {
    /// Start the writer thread on `store`.
    pub fn start(store: Arc<Store>) -> Result<Self, LedgerError> {
        let (tx, rx) = mpsc::channel::<Vec<StoredResponse>>();
        let handle = std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || {
                let mut written = 0u64;
                while let Ok(first) = rx.recv() {
                    let mut batch = first;
                    while let Ok(more) = rx.try_recv() {
                        batch.extend(more);
                    }
                    store.put_responses(&batch)?;
                    written += batch.len() as u64;
                }
                Ok(written)
            })
            .map_err(LedgerError::Spawn)?;
        Ok(LedgerWriter {
            tx: Some(tx),
            handle: Some(handle),
        })
    }

    /// Queue responses for persistence. When the writer has stopped, its own error (the store's, with the
    /// database path and the SQLite reason) is returned, not a generic one.
    pub fn send(&mut self, rows: Vec<StoredResponse>) -> Result<(), LedgerError> {
        let Some(tx) = &self.tx else {
            return Err(LedgerError::Closed);
        };
        if tx.send(rows).is_ok() {
            return Ok(());
        }
        match self.close() {
            Err(e) => Err(e),
            Ok(_) => Err(LedgerError::Closed),
        }
    }

    /// Flush everything queued and stop; returns how many responses were written.
    pub fn finish(mut self) -> Result<u64, LedgerError> {
        self.close()
    }

    fn close(&mut self) -> Result<u64, LedgerError> {
        drop(self.tx.take());
        match self.handle.take() {
            Some(h) => match h.join() {
                Ok(r) => Ok(r?),
                Err(_) => Err(LedgerError::Panicked),
            },
            None => Ok(0),
        }
    }
}

impl Drop for LedgerWriter {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
