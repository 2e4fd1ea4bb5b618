//! `yardstick runs --plan P [--watch]`: where a planned run's shards stand — done, running (and on which
//! worker), stalled (a lease lapsed: its worker died) or pending — with the rate and an ETA, read from the
//! shared store or from every shard's own store.

use anyhow::{bail, Context};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use yardstick_engine::run::RunPlan;
use yardstick_store::shards::ShardRow;
use yardstick_store::Store;

/// The state of a plan at one moment.
#[derive(Debug, serde::Serialize)]
struct Standing {
    plan_id: String,
    run_id: String,
    shards: usize,
    done: usize,
    running: usize,
    stalled: usize,
    pending: usize,
    requests: u64,
    requests_done: u64,
    /// Requests per second over the finished shards (from the first start to the last finish).
    rate: Option<f64>,
    eta_seconds: Option<f64>,
    rows: Vec<ShardRow>,
}

fn now_unix() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64 / 1000.0
}

/// Every shard record of the plan in `stores`, the latest record of each shard kept.
fn read(plan: &RunPlan, stores: &[String]) -> anyhow::Result<Vec<ShardRow>> {
    let mut latest: BTreeMap<i64, ShardRow> = BTreeMap::new();
    for loc in stores {
        if !exists(loc) {
            continue;
        }
        let store = Store::open_location_read_only(loc).with_context(|| {
            format!(
                "reading shard records from {}",
                yardstick_store::display_location(loc)
            )
        })?;
        for row in store.shards_of(&plan.plan_id)? {
            let newer = latest.get(&row.shard).is_none_or(|old| {
                (row.status == "done", row.updated_at) > (old.status == "done", old.updated_at)
            });
            if newer {
                latest.insert(row.shard, row);
            }
        }
    }
    Ok(latest.into_values().collect())
}

fn standing(plan: &RunPlan, rows: Vec<ShardRow>, now: f64) -> Standing {
    let sizes = plan.shard_sizes();
    let size = |s: i64| sizes.get(s as usize).copied().unwrap_or(0);
    let done: Vec<&ShardRow> = rows.iter().filter(|r| r.status == "done").collect();
    let running = rows.iter().filter(|r| r.is_live(now)).count();
    let stalled = rows.len() - done.len() - running;
    let requests_done: u64 = done.iter().map(|r| size(r.shard)).sum();
    let rate = match (
        rows.iter().map(|r| r.started_at).reduce(f64::min),
        done.iter().map(|r| r.updated_at).reduce(f64::max),
    ) {
        (Some(first), Some(last)) if last > first => Some(requests_done as f64 / (last - first)),
        _ => None,
    };
    let left = plan.requests.saturating_sub(requests_done);
    Standing {
        plan_id: plan.plan_id.clone(),
        run_id: plan.run_id.clone(),
        shards: plan.n_shards,
        done: done.len(),
        running,
        stalled,
        pending: plan.n_shards.saturating_sub(rows.len()),
        requests: plan.requests,
        requests_done,
        eta_seconds: rate.filter(|r| *r > 0.0).map(|r| left as f64 / r),
        rate,
        rows,
    }
}

fn render(s: &Standing, now: f64) -> String {
    let mut out = format!(
        "plan {} (run {}): {} shards — {} done, {} running, {} stalled, {} pending; {} of {} requests in finished \
         shards",
        &s.plan_id[..12.min(s.plan_id.len())],
        s.run_id,
        s.shards,
        s.done,
        s.running,
        s.stalled,
        s.pending,
        s.requests_done,
        s.requests
    );
    if let Some(r) = s.rate {
        out.push_str(&format!(", {r:.1} req/s"));
    }
    match s.eta_seconds {
        Some(e) if s.done < s.shards => {
            out.push_str(&format!(", ETA {}", crate::progress::short_duration(e)))
        }
        _ if s.done < s.shards => out.push_str(", ETA …"),
        _ => {}
    }
    for r in s.rows.iter().filter(|r| r.status != "done") {
        let since = crate::progress::short_duration((now - r.started_at).max(0.0));
        if r.is_live(now) {
            out.push_str(&format!(
                "\n  shard {}: running on {} for {since} (attempt {})",
                r.shard, r.worker, r.attempts
            ));
        } else {
            out.push_str(&format!(
                "\n  shard {}: stalled — {} stopped renewing its lease {} ago (a --claim worker takes it over; \
                 or run it again with --shard {})",
                r.shard,
                r.worker,
                crate::progress::short_duration((now - r.lease_until).max(0.0)),
                r.shard
            ));
        }
    }
    out
}

/// Whether a store is there to read: a PostgreSQL URL always (connecting says otherwise), a file if it exists.
pub fn exists(loc: &str) -> bool {
    yardstick_store::is_postgres_url(loc) || Path::new(loc).exists()
}

pub fn watch(
    plan_path: &Path,
    stores: &[String],
    watch: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let plan = RunPlan::load(plan_path)?;
    if stores.iter().all(|p| !exists(p)) {
        bail!(
            "none of the stores exists ({}): pass the shards' stores with --store or --shard-store",
            stores
                .iter()
                .map(|p| yardstick_store::display_location(p))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut last = String::new();
    let mut last_print = std::time::Instant::now();
    loop {
        let now = now_unix();
        let s = standing(&plan, read(&plan, stores)?, now);
        let finished = s.done == s.shards;
        if json {
            println!("{}", serde_json::to_string(&s)?);
        } else {
            let text = render(&s, now);
            // Piped or not, a line only when something changed (or every 30 s, for the elapsed times).
            if text != last || last_print.elapsed().as_secs() >= 30 || !watch {
                println!("{text}");
                last = text;
                last_print = std::time::Instant::now();
            }
        }
        if !watch || finished {
            if finished && !json {
                println!(
                    "every shard is done: `yardstick finalize --plan {}` scores the run",
                    plan_path.display()
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
}
