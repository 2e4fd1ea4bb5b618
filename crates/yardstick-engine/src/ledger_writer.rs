//! A dedicated thread that owns a store connection and persists responses as they arrive: each batch it
//! finds waiting is committed in one transaction, so under load commits are batched and when idle every
//! response is durable within microseconds of arriving.

use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;
use yardstick_store::ledger::StoredResponse;
use yardstick_store::Store;

pub struct LedgerWriter {
    tx: Option<mpsc::Sender<Vec<StoredResponse>>>,
    handle: Option<JoinHandle<Result<u64, String>>>,
}

impl LedgerWriter {
    /// Open a second connection to the store at `path` and start the writer thread.
    pub fn start(path: &Path) -> Result<Self, yardstick_store::StoreError> {
        let store = Store::open(path)?;
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
                    store.put_responses(&batch).map_err(|e| e.to_string())?;
                    written += batch.len() as u64;
                }
                Ok(written)
            })
            .map_err(|e| yardstick_store::StoreError::Invalid {
                path: path.to_path_buf(),
                message: format!("cannot start the ledger writer thread: {e}"),
            })?;
        Ok(LedgerWriter {
            tx: Some(tx),
            handle: Some(handle),
        })
    }

    /// Queue responses for persistence.
    pub fn send(&self, rows: Vec<StoredResponse>) -> Result<(), String> {
        match &self.tx {
            Some(tx) => tx
                .send(rows)
                .map_err(|_| "the ledger writer stopped (see the error above)".to_string()),
            None => Err("the ledger writer is closed".into()),
        }
    }

    /// Flush everything queued and stop; returns how many responses were written.
    pub fn finish(mut self) -> Result<u64, String> {
        self.close()
    }

    fn close(&mut self) -> Result<u64, String> {
        drop(self.tx.take());
        match self.handle.take() {
            Some(h) => h
                .join()
                .map_err(|_| "the ledger writer thread panicked".to_string())?,
            None => Ok(0),
        }
    }
}

impl Drop for LedgerWriter {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
