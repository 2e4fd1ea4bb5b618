//! Bootstrap throughput: lm-eval's default 100,000 replicates of `perplexity` (and of a median) over 10,000
//! documents, for both CPython summation modes.
//!
//!   cargo bench -p yardstick-engine --bench bootstrap

use std::time::Instant;

use yardstick_engine::scoring::aggregate::{aggregate_metric, Aggregation, StderrValue};
use yardstick_engine::scoring::{MetricValue, NumericEnv, NumpyExp, PySum};

fn values(n: usize) -> Vec<MetricValue> {
    let mut s = 0x1234_5678_u64;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            MetricValue::float(-((s >> 11) as f64 / (1u64 << 53) as f64) * 20.0)
        })
        .collect()
}

fn main() {
    let vals = values(10_000);
    for (label, sum) in [
        ("cpython>=3.12", PySum::Neumaier),
        ("cpython<=3.11", PySum::Sequential),
    ] {
        let env = NumericEnv {
            py_sum: sum,
            numpy_exp: NumpyExp::detect(),
        };
        let t = Instant::now();
        let (v, se) = aggregate_metric("perplexity", Aggregation::Perplexity, &vals, 100_000, env)
            .expect("bootstrap");
        let dt = t.elapsed();
        println!(
            "perplexity bootstrap 100000 iters x 10000 docs ({label}, {} threads): {:.2?} (value {v}, stderr {se:?})",
            rayon::current_num_threads(),
            dt
        );
        if !matches!(se, StderrValue::Value(x) if x > 0.0) {
            eprintln!("unexpected stderr {se:?}");
            std::process::exit(1);
        }
    }
    let env = NumericEnv {
        py_sum: PySum::Neumaier,
        numpy_exp: NumpyExp::detect(),
    };
    let t = Instant::now();
    let (_, se) =
        aggregate_metric("m", Aggregation::Median, &vals, 100_000, env).expect("bootstrap");
    println!(
        "median bootstrap 100000 iters x 10000 docs: {:.2?} ({se:?})",
        t.elapsed()
    );
}
