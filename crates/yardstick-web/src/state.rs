//! What every request reads: the store (opened read-only), the registry, the templates, and the leaderboard
//! table, rebuilt when the store file changes (a new import or a finished run).

use crate::error::Result;
use crate::table::Table;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use yardstick_analysis::Registry;
use yardstick_store::Store;

/// The shared state of the server.
pub struct AppState {
    pub store: Store,
    pub registry: Registry,
    pub templates: minijinja::Environment<'static>,
    cached: Mutex<Option<(Stamp, Arc<Table>)>>,
}

/// Size and modification time of the store and its write-ahead log: any commit changes one of them.
type Stamp = Vec<Option<(u64, SystemTime)>>;

fn stamp(store: &Path) -> Stamp {
    let wal = PathBuf::from(format!("{}-wal", store.display()));
    [store.to_path_buf(), wal]
        .iter()
        .map(|p| {
            std::fs::metadata(p)
                .ok()
                .and_then(|m| Some((m.len(), m.modified().ok()?)))
        })
        .collect()
}

impl AppState {
    /// Open `store` read-only (the server never writes to it).
    pub fn open(store: &Path, registry: Registry) -> Result<AppState> {
        Ok(AppState {
            store: Store::open_read_only(store)?,
            registry,
            templates: crate::templates::environment(),
            cached: Mutex::new(None),
        })
    }

    /// The leaderboard table, rebuilt when the store has changed since it was last built.
    pub fn table(&self) -> Result<Arc<Table>> {
        let now = stamp(self.store.path());
        // A poisoned lock only means another request panicked while holding it; its value is still whole.
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((s, t)) = cached.as_ref() {
            if *s == now {
                return Ok(Arc::clone(t));
            }
        }
        let table = Arc::new(Table::load(&self.store, &self.registry)?);
        *cached = Some((now, Arc::clone(&table)));
        Ok(table)
    }

    /// Render a page template with its context.
    pub fn render(&self, name: &str, ctx: minijinja::Value) -> Result<String> {
        let err = |source| crate::error::WebError::Template {
            page: name.to_string(),
            source,
        };
        self.templates
            .get_template(name)
            .map_err(err)?
            .render(ctx)
            .map_err(err)
    }
}
