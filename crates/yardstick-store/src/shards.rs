//! The shards of a planned run (`yardstick plan`, `yardstick run --plan P --shard I`): which shard of which
//! plan a worker took, when, whether it finished, and — for workers that claim shards from a shared store —
//! a lease that lapses when a worker dies, so another worker takes the shard over.
//!
//! A shard's responses live in the ledger like any run's (keyed by request key, so a shard computed twice
//! writes nothing new); this table only tells `yardstick runs --watch` and claiming workers where the plan
//! stands.

use crate::db::TxKind;
use crate::{vals, Migration, Result, Store};

pub(crate) const MIGRATION: Migration = Migration {
    name: "ledger_0004_plan_shards",
    sql: r#"
CREATE TABLE plan_shards (
    plan_id TEXT NOT NULL,
    shard INTEGER NOT NULL,
    n_shards INTEGER NOT NULL,
    status TEXT NOT NULL,              -- running | done
    worker TEXT NOT NULL,              -- host:pid of the worker that took it last
    attempts INTEGER NOT NULL,         -- how many times a worker took it
    requests INTEGER NOT NULL,         -- the shard's requests (known when it finished)
    sent INTEGER NOT NULL,             -- of those, sent by the last attempt (the rest were already stored)
    started_at REAL NOT NULL,          -- unix seconds, last attempt
    updated_at REAL NOT NULL,
    lease_until REAL NOT NULL,         -- a running shard whose lease lapsed may be claimed again
    PRIMARY KEY (plan_id, shard)
);
"#,
    pg: crate::PgSchema::Translate,
    convert: None,
};

/// Where one shard of a plan stands.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ShardRow {
    pub plan_id: String,
    pub shard: i64,
    pub n_shards: i64,
    /// `running` or `done`.
    pub status: String,
    pub worker: String,
    pub attempts: i64,
    pub requests: i64,
    pub sent: i64,
    pub started_at: f64,
    pub updated_at: f64,
    pub lease_until: f64,
}

impl ShardRow {
    /// Whether a worker holds it now (running, lease not lapsed at `now`).
    pub fn is_live(&self, now: f64) -> bool {
        self.status == "running" && self.lease_until > now
    }
}

fn now_unix() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64 / 1000.0
}

impl Store {
    /// Record that `worker` starts shard `shard` of `plan_id` (whether or not another worker holds it: a
    /// shard named on the command line, or by a scheduler's array index, is that worker's to compute).
    pub fn shard_started(
        &self,
        plan_id: &str,
        shard: usize,
        n_shards: usize,
        worker: &str,
        lease_seconds: f64,
    ) -> Result<()> {
        let conn = self.conn();
        let now = now_unix();
        conn.execute(
            "INSERT INTO plan_shards (plan_id, shard, n_shards, status, worker, attempts, requests, sent, \
             started_at, updated_at, lease_until) VALUES (?1, ?2, ?3, 'running', ?4, 1, 0, 0, ?5, ?5, ?6) \
             ON CONFLICT (plan_id, shard) DO UPDATE SET status = 'running', worker = excluded.worker, \
             attempts = plan_shards.attempts + 1, started_at = excluded.started_at, \
             updated_at = excluded.updated_at, lease_until = excluded.lease_until",
            vals![plan_id, shard as i64, n_shards as i64, worker, now, now + lease_seconds],
        )
        .map_err(|e| self.sql_err("record shard start", e))?;
        Ok(())
    }

    /// Take the first shard of `plan_id` that is neither done nor held by a live lease, for `worker`, in one
    /// write transaction (two workers never take the same shard). None when every shard is done or held.
    pub fn claim_shard(
        &self,
        plan_id: &str,
        n_shards: usize,
        worker: &str,
        lease_seconds: f64,
    ) -> Result<Option<usize>> {
        let conn = self.conn();
        let tx = self.transaction(&conn, TxKind::Write, "claim a shard")?;
        let now = now_unix();
        let taken: std::collections::HashSet<i64> = tx
            .query(
                "SELECT shard FROM plan_shards WHERE plan_id = ?1 AND (status = 'done' OR lease_until > ?2)",
                vals![plan_id, now],
            )
            .and_then(|rows| rows.iter().map(|r| r.get::<i64>(0)).collect())
            .map_err(|e| self.sql_err("read shards", e))?;
        let Some(shard) = (0..n_shards as i64).find(|s| !taken.contains(s)) else {
            return Ok(None);
        };
        tx.execute(
            "INSERT INTO plan_shards (plan_id, shard, n_shards, status, worker, attempts, requests, sent, \
             started_at, updated_at, lease_until) VALUES (?1, ?2, ?3, 'running', ?4, 1, 0, 0, ?5, ?5, ?6) \
             ON CONFLICT (plan_id, shard) DO UPDATE SET status = 'running', worker = excluded.worker, \
             attempts = plan_shards.attempts + 1, started_at = excluded.started_at, \
             updated_at = excluded.updated_at, lease_until = excluded.lease_until",
            vals![plan_id, shard, n_shards as i64, worker, now, now + lease_seconds],
        )
        .map_err(|e| self.sql_err("claim shard", e))?;
        tx.commit().map_err(|e| self.sql_err("commit claim", e))?;
        Ok(Some(shard as usize))
    }

    /// Extend a running shard's lease (a worker's heartbeat); false when the shard is no longer this
    /// worker's (another took it over after the lease lapsed).
    pub fn renew_shard_lease(
        &self,
        plan_id: &str,
        shard: usize,
        worker: &str,
        lease_seconds: f64,
    ) -> Result<bool> {
        let now = now_unix();
        let n = self
            .conn()
            .execute(
                "UPDATE plan_shards SET lease_until = ?1, updated_at = ?2 \
                 WHERE plan_id = ?3 AND shard = ?4 AND worker = ?5 AND status = 'running'",
                vals![now + lease_seconds, now, plan_id, shard as i64, worker],
            )
            .map_err(|e| self.sql_err("renew shard lease", e))?;
        Ok(n == 1)
    }

    /// Record a shard finished: every one of its `requests` is in the ledger (`sent` of them by this attempt).
    pub fn shard_done(
        &self,
        plan_id: &str,
        shard: usize,
        worker: &str,
        requests: u64,
        sent: u64,
    ) -> Result<()> {
        let now = now_unix();
        self.conn()
            .execute(
                "UPDATE plan_shards SET status = 'done', worker = ?1, requests = ?2, sent = ?3, \
                 updated_at = ?4, lease_until = ?4 WHERE plan_id = ?5 AND shard = ?6",
                vals![
                    worker,
                    requests as i64,
                    sent as i64,
                    now,
                    plan_id,
                    shard as i64
                ],
            )
            .map_err(|e| self.sql_err("record shard done", e))?;
        Ok(())
    }

    /// Every recorded shard of `plan_id`, by shard number.
    pub fn shards_of(&self, plan_id: &str) -> Result<Vec<ShardRow>> {
        let rows = self
            .conn()
            .query(
                "SELECT plan_id, shard, n_shards, status, worker, attempts, requests, sent, started_at, \
                 updated_at, lease_until FROM plan_shards WHERE plan_id = ?1 ORDER BY shard",
                vals![plan_id],
            )
            .and_then(|rows| {
                rows.iter()
                    .map(|r| {
                        Ok(ShardRow {
                            plan_id: r.get(0)?,
                            shard: r.get(1)?,
                            n_shards: r.get(2)?,
                            status: r.get(3)?,
                            worker: r.get(4)?,
                            attempts: r.get(5)?,
                            requests: r.get(6)?,
                            sent: r.get(7)?,
                            started_at: r.get(8)?,
                            updated_at: r.get(9)?,
                            lease_until: r.get(10)?,
                        })
                    })
                    .collect()
            })
            .map_err(|e| self.sql_err("read shards", e))?;
        Ok(rows)
    }

    /// Whether the store has a shard record of `plan_id` (used by `store merge` to tell shards apart).
    pub fn has_plan(&self, plan_id: &str) -> Result<bool> {
        self.conn()
            .query_opt(
                "SELECT 1 FROM plan_shards WHERE plan_id = ?1 LIMIT 1",
                vals![plan_id],
            )
            .map(|o| o.is_some())
            .map_err(|e| self.sql_err("read shards", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_never_hand_out_a_held_or_done_shard_and_a_lapsed_lease_is_taken_over() {
        let (_dir, store) = crate::test_store();
        assert_eq!(store.claim_shard("p", 3, "a", 60.0).unwrap(), Some(0));
        assert_eq!(store.claim_shard("p", 3, "b", 60.0).unwrap(), Some(1));
        store.shard_done("p", 1, "b", 10, 10).unwrap();
        assert_eq!(store.claim_shard("p", 3, "b", 60.0).unwrap(), Some(2));
        assert_eq!(store.claim_shard("p", 3, "c", 60.0).unwrap(), None);
        // a's lease lapses (it died): the next claim takes shard 0 over, and a can no longer renew it
        store
            .conn()
            .execute(
                "UPDATE plan_shards SET lease_until = 0 WHERE shard = 0",
                vals![],
            )
            .unwrap();
        assert_eq!(store.claim_shard("p", 3, "c", 60.0).unwrap(), Some(0));
        assert!(!store.renew_shard_lease("p", 0, "a", 60.0).unwrap());
        assert!(store.renew_shard_lease("p", 0, "c", 60.0).unwrap());
        let rows = store.shards_of("p").unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!((rows[0].worker.as_str(), rows[0].attempts), ("c", 2));
        assert_eq!((rows[1].status.as_str(), rows[1].requests), ("done", 10));
        // another plan is separate
        assert_eq!(store.claim_shard("q", 1, "a", 60.0).unwrap(), Some(0));
        assert!(store.has_plan("q").unwrap() && !store.has_plan("r").unwrap());
    }
}
