//! What every request reads: the store (opened read-only), the registry, the templates, and the leaderboard
//! table, rebuilt when the store file changes (a new import or a finished run).

use crate::error::Result;
use crate::table::Table;
use std::collections::HashMap;
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
    responses: Mutex<Responses>,
}

/// Most rendered leaderboard answers kept (one per distinct query string).
const RESPONSES_KEPT: usize = 256;

/// Rendered answers of the leaderboard (page and JSON) by query string, for one version of the table:
/// the same view of the same store is the same bytes, so it is rendered once.
#[derive(Default)]
struct Responses {
    table: Option<Arc<Table>>,
    bodies: HashMap<String, Arc<str>>,
}

/// What changes when the store does: the size and modification time of a SQLite store and its write-ahead
/// log (any commit changes one of them), or a PostgreSQL store's change marker.
#[derive(PartialEq)]
enum Stamp {
    Files(Vec<Option<(u64, SystemTime)>>),
    Marker(String),
}

fn stamp(store: &Store) -> Result<Stamp> {
    if store.is_postgres() {
        return Ok(Stamp::Marker(store.change_marker()?));
    }
    Ok(Stamp::Files(file_stamp(store.path())))
}

fn file_stamp(store: &Path) -> Vec<Option<(u64, SystemTime)>> {
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
    /// `store` is a SQLite file or a PostgreSQL URL.
    pub fn open(store: &str, registry: Registry) -> Result<AppState> {
        Ok(AppState {
            store: Store::open_location_read_only(store)?,
            registry,
            templates: crate::templates::environment(),
            cached: Mutex::new(None),
            responses: Mutex::new(Responses::default()),
        })
    }

    /// The leaderboard table, rebuilt when the store has changed since it was last built.
    pub fn table(&self) -> Result<Arc<Table>> {
        let now = stamp(&self.store)?;
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

    /// The answer for `key` rendered from `table` by `render`, or the one rendered before for the same key
    /// and table.
    pub fn rendered(
        &self,
        table: &Arc<Table>,
        key: &str,
        render: impl FnOnce() -> Result<String>,
    ) -> Result<Arc<str>> {
        {
            let mut r = self.responses.lock().unwrap_or_else(|e| e.into_inner());
            if !r.table.as_ref().is_some_and(|t| Arc::ptr_eq(t, table)) {
                r.table = Some(Arc::clone(table));
                r.bodies.clear();
            }
            if let Some(body) = r.bodies.get(key) {
                return Ok(Arc::clone(body));
            }
        }
        // Rendered without the lock: other requests go on meanwhile.
        let body: Arc<str> = render()?.into();
        let mut r = self.responses.lock().unwrap_or_else(|e| e.into_inner());
        if r.table.as_ref().is_some_and(|t| Arc::ptr_eq(t, table)) {
            if r.bodies.len() >= RESPONSES_KEPT {
                r.bodies.clear();
            }
            r.bodies.insert(key.to_string(), Arc::clone(&body));
        }
        Ok(body)
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
