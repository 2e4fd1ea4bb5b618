//! Bradley–Terry: Rust fit vs an independent NumPy implementation (`scripts/oracles/bt_reference.py`).
//!
//! The interpreter is `$YARDSTICK_PYTHON` (else `$YARDSTICK_PEER_PYTHON` from `scripts/setup-peers`, else
//! `python3`). If NumPy cannot be imported the test fails
//! when `CI` is set and prints `SKIP: <reason>` otherwise.

use std::io::Write;

use std::process::{Command, Stdio};
use yardstick_stats::*;

const MODELS: usize = 12;
const BATTLES: usize = 4_000;

/// Synthetic arena: 12 models with spread-out strengths, random pairs, 15% ties, 10% of battles with
/// weight 3 (Arena-Hard's strong verdicts).
fn synthetic_battles() -> Vec<Battle> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(42);
    let strengths: Vec<f64> = (0..MODELS)
        .map(|m| -1.2 + 2.4 * m as f64 / (MODELS - 1) as f64)
        .collect();
    (0..BATTLES)
        .map(|_| {
            let a = rng.below(MODELS as u64) as usize;
            let mut b = rng.below(MODELS as u64 - 1) as usize;
            if b >= a {
                b += 1;
            }
            let outcome = if rng.uniform() < 0.15 {
                Outcome::Tie
            } else if rng.uniform() < 1.0 / (1.0 + (strengths[b] - strengths[a]).exp()) {
                Outcome::AWins
            } else {
                Outcome::BWins
            };
            let weight = if rng.uniform() < 0.1 { 3.0 } else { 1.0 };
            Battle {
                model_a: a,
                model_b: b,
                outcome,
                weight,
            }
        })
        .collect()
}

fn battles_json(battles: &[Battle]) -> String {
    let list: Vec<serde_json::Value> = battles
        .iter()
        .map(|b| {
            serde_json::json!({
                "a": b.model_a,
                "b": b.model_b,
                "outcome": match b.outcome { Outcome::AWins => "a", Outcome::BWins => "b", Outcome::Tie => "tie" },
                "weight": b.weight,
            })
        })
        .collect();
    serde_json::json!({ "n_models": MODELS, "battles": list }).to_string()
}

#[test]
fn bradley_terry_matches_numpy_reference() {
    // python3 with NumPy, else the peers' virtualenv (scripts/setup-peers); SKIP, or fail under CI.
    let Some(python) = yardstick_testkit::python::python3_with("bradley_terry", &["numpy"]) else {
        return;
    };
    let script = yardstick_testkit::workspace_root().join("scripts/oracles/bt_reference.py");
    assert!(
        script.exists(),
        "reference script not found at {}",
        script.display()
    );

    let battles = synthetic_battles();
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn reference script");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(battles_json(&battles).as_bytes())
        .expect("write battles");
    let out = child.wait_with_output().expect("reference script output");
    assert!(
        out.status.success(),
        "bt_reference.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference: serde_json::Value = serde_json::from_slice(&out.stdout).expect("reference JSON");
    let ref_ratings: Vec<f64> =
        serde_json::from_value(reference["ratings"].clone()).expect("ratings");
    let ref_se: Vec<f64> =
        serde_json::from_value(reference["sandwich_se"].clone()).expect("sandwich_se");

    let options = BtOptions::default();
    let rows = aggregate_battles(MODELS, &battles).expect("aggregate");
    assert!(rows.len() <= MODELS * (MODELS - 1) / 2 * 3);
    let fit = fit_bradley_terry(MODELS, &rows, &options).expect("fit");
    let sandwich = sandwich_intervals(MODELS, &rows, &fit, &options).expect("sandwich");
    let mut worst_rating: f64 = 0.0;
    let mut worst_se: f64 = 0.0;
    for m in 0..MODELS {
        worst_rating = worst_rating.max((fit.ratings[m] - ref_ratings[m]).abs());
        worst_se = worst_se.max((sandwich.se[m] - ref_se[m]).abs());
    }
    println!(
        "BT vs NumPy: {} battles -> {} unique rows, {} Newton iterations; max |Δrating| = {worst_rating:.2e}, max |ΔSE| = {worst_se:.2e} (Elo points)",
        battles.len(),
        rows.len(),
        fit.iterations
    );
    assert!(
        worst_rating < 0.01,
        "ratings differ from the NumPy reference by {worst_rating} Elo points"
    );
    assert!(
        worst_se < 0.01,
        "sandwich SEs differ from the NumPy reference by {worst_se} Elo points"
    );
    // the synthetic strengths are increasing in the model index; the fit should recover the order roughly
    assert!(fit.ratings[MODELS - 1] > fit.ratings[0] + 200.0);
}

#[test]
fn bootstrap_and_sandwich_intervals_agree_roughly() {
    let battles = synthetic_battles();
    let options = BtOptions::default();
    let rows = aggregate_battles(MODELS, &battles).expect("aggregate");
    let fit = fit_bradley_terry(MODELS, &rows, &options).expect("fit");
    let sandwich = sandwich_intervals(MODELS, &rows, &fit, &options).expect("sandwich");
    let boot = bootstrap_intervals(
        MODELS,
        &rows,
        &fit,
        &options,
        &BootstrapConfig::new(200, 7, 0.95),
    )
    .expect("bootstrap");
    for m in 0..MODELS {
        let ratio = boot.se[m] / sandwich.se[m];
        assert!(
            (0.75..1.33).contains(&ratio),
            "model {m}: bootstrap SE {} vs sandwich SE {}",
            boot.se[m],
            sandwich.se[m]
        );
        assert!(boot.lower[m] < fit.ratings[m] && fit.ratings[m] < boot.upper[m]);
    }
    // ranks from CIs: the strongest model is ranked 1, the weakest gets a rank > 1
    assert_eq!(sandwich.ranks[MODELS - 1], 1);
    assert!(sandwich.ranks[0] > 1);
    // same seed → same bootstrap
    let again = bootstrap_intervals(
        MODELS,
        &rows,
        &fit,
        &options,
        &BootstrapConfig::new(200, 7, 0.95),
    )
    .expect("bootstrap");
    assert_eq!(boot, again);
}
