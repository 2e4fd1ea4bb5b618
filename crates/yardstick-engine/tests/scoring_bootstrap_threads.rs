//! Bootstrap results do not depend on the number of rayon threads. (Throughput: `cargo bench -p
//! yardstick-engine --bench bootstrap`.)

use yardstick_engine::scoring::aggregate::{aggregate_metric, Aggregation};
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

#[test]
fn small_bootstrap_is_deterministic_across_thread_counts() {
    let vals = values(500);
    let env = NumericEnv {
        py_sum: PySum::Neumaier,
        numpy_exp: NumpyExp::Libm,
    };
    let a = aggregate_metric("perplexity", Aggregation::Perplexity, &vals, 3000, env).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let b = pool.install(|| {
        aggregate_metric("perplexity", Aggregation::Perplexity, &vals, 3000, env).unwrap()
    });
    assert_eq!(a, b);
}
