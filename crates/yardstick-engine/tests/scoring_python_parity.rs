//! Bit-for-bit agreement of the scoring primitives with the real CPython / numpy on this machine:
//! MT19937 (`random.Random(i).random()` and `.choices`), `sum()` (3.11 sequential and ≥3.12
//! Neumaier), `x ** 2`, `repr(float)`, `np.sum`, `np.exp`, and lm-eval's bootstrap stderr.

use yardstick_core::python::py_float_repr;
use yardstick_engine::scoring::aggregate::{
    aggregate_metric, bootstrap_replicates, Aggregation, StderrValue,
};
use yardstick_engine::scoring::numpy::{self, NumpyExp};
use yardstick_engine::scoring::pyfloat::{py_pow2, py_sum, PySum};
use yardstick_engine::scoring::{MetricValue, NumericEnv, PyRandom};
use yardstick_testkit::python::*;

#[test]
fn mt19937_random_and_choices_match_cpython() {
    let Some(py) = python3_with("mt19937", &[]) else {
        return;
    };
    let seeds: [u64; 6] = [0, 1, 42, 999, (1 << 32) + 5, 12_345_678_901_234];
    let code = r#"
import random
for s in [0, 1, 42, 999, (1 << 32) + 5, 12345678901234]:
    r = random.Random(s)
    print(" ".join(repr(r.random()) for _ in range(5)))
    print(" ".join(str(i) for i in random.Random(s).choices(range(37), k=50)))
"#;
    let out = run_python(&py, code, "").expect("python runs");
    let mut lines = out.lines();
    for s in seeds {
        let mut r = PyRandom::new(s);
        let mine: Vec<String> = (0..5).map(|_| py_float_repr(r.random())).collect();
        assert_eq!(
            mine.join(" "),
            lines.next().unwrap(),
            "random() for seed {s}"
        );
        let mut idx = Vec::new();
        PyRandom::new(s).choices_indices(37, 50, &mut idx);
        let mine: Vec<String> = idx.iter().map(|i| i.to_string()).collect();
        assert_eq!(
            mine.join(" "),
            lines.next().unwrap(),
            "choices for seed {s}"
        );
    }
}

fn sample_floats(n: usize, seed: u64) -> Vec<f64> {
    let mut g = Gen(seed);
    (0..n)
        .map(|i| {
            let scale = [1.0, 1e-3, 37.5, 1e6, 0.1][i % 5];
            (g.unit() - 0.3) * scale
        })
        .collect()
}

#[test]
fn py_sum_both_modes_and_pow2_match_cpython() {
    let Some(py311) = python3_with("py_sum", &[]) else {
        return;
    };
    let xs = sample_floats(5000, 7);
    let code = format!(
        "{PY_READ_HEX}{PY_HEX_OUT}import sys\nprint(sys.version_info[0], sys.version_info[1])\nprint(hx(sum(xs)))\nfor k in (3, 17, 1000):\n    print(hx(sum(xs[:k])))\nprint(''.join('1' if x**2 == x*x else '0' for x in xs))\nprint(hx(sum([x**2 for x in xs])))\n"
    );
    let mut interpreters = vec![py311];
    if let Some(p) = optional_python("python3.12", &[]) {
        interpreters.push(p);
    }
    if let Some(p) = optional_python("python3.11", &[]) {
        interpreters.push(p);
    }
    for py in interpreters {
        let out = run_python(&py, &code, &to_hex_lines(&xs)).unwrap();
        let mut lines = out.lines();
        let ver: Vec<u32> = lines
            .next()
            .unwrap()
            .split(' ')
            .map(|v| v.parse().unwrap())
            .collect();
        let mode = PySum::for_python_version(ver[0], ver[1]);
        let want = from_hex_lines(lines.next().unwrap());
        assert_eq!(
            py_sum(mode, xs.iter().copied()).to_bits(),
            want[0].to_bits(),
            "{py} sum"
        );
        for k in [3usize, 17, 1000] {
            let want = from_hex_lines(lines.next().unwrap());
            assert_eq!(
                py_sum(mode, xs[..k].iter().copied()).to_bits(),
                want[0].to_bits(),
                "{py} sum[:{k}]"
            );
        }
        let same: Vec<bool> = lines.next().unwrap().chars().map(|c| c == '1').collect();
        for (x, s) in xs.iter().zip(&same) {
            assert_eq!(py_pow2(*x) == x * x, *s, "{py}: x**2 vs x*x for {x:e}");
        }
        let want = from_hex_lines(lines.next().unwrap());
        assert_eq!(
            py_sum(mode, xs.iter().map(|&x| py_pow2(x))).to_bits(),
            want[0].to_bits(),
            "{py} sum of squares"
        );
    }
}

#[test]
fn float_repr_matches_cpython() {
    let Some(py) = python3_with("float repr", &[]) else {
        return;
    };
    let mut g = Gen(99);
    let mut xs: Vec<f64> = (0..3000)
        .map(|_| {
            let bits = g.next_u64();
            let x = f64::from_bits(bits);
            if x.is_finite() {
                x
            } else {
                1.5
            }
        })
        .collect();
    xs.extend([
        0.1,
        1e-5,
        1e-4,
        1e16,
        1e15,
        123456789012345680.0,
        5e-324,
        0.5,
        2.0,
        -3.25e-7,
    ]);
    xs.extend(sample_floats(2000, 3));
    let out = run_python(
        &py,
        &format!("{PY_READ_HEX}\nfor x in xs: print(repr(x))\n"),
        &to_hex_lines(&xs),
    )
    .unwrap();
    for (x, want) in xs.iter().zip(out.lines()) {
        assert_eq!(py_float_repr(*x), want, "repr of {:016x}", x.to_bits());
    }
}

#[test]
fn numpy_sum_mean_match() {
    let Some(py) = python3_with("np.sum", &["numpy"]) else {
        return;
    };
    let lens = [
        1usize, 2, 7, 8, 9, 15, 16, 17, 127, 128, 129, 255, 256, 1000, 4099, 20000,
    ];
    let xs = sample_floats(20000, 11);
    let code = format!(
        "{PY_READ_HEX}{PY_HEX_OUT}import numpy as np\nfor n in {lens:?}:\n    a = np.array(xs[:n])\n    print(hx(np.sum(a)), hx(np.mean(a)))\n"
    );
    let out = run_python(&py, &code, &to_hex_lines(&xs)).unwrap();
    for (n, line) in lens.iter().zip(out.lines()) {
        let want: Vec<f64> = line.split(' ').map(|h| from_hex_lines(h)[0]).collect();
        assert_eq!(
            numpy::sum(&xs[..*n]).to_bits(),
            want[0].to_bits(),
            "np.sum n={n}"
        );
        assert_eq!(
            numpy::mean(&xs[..*n]).to_bits(),
            want[1].to_bits(),
            "np.mean n={n}"
        );
    }
}

#[test]
fn numpy_exp_matches_this_machines_numpy() {
    let Some(py) = python3_with("np.exp", &["numpy"]) else {
        return;
    };
    let mut g = Gen(5);
    let mut xs: Vec<f64> = Vec::new();
    for i in 0..400_000 {
        let x = match i % 8 {
            0 => -g.unit() * 50.0,
            1 => -g.unit() * 800.0,
            2 => (g.unit() - 0.5) * 1500.0,
            3 => (g.unit() - 0.5) * 2.0,
            4 => -g.unit() * 1e-6,
            5 => -700.0 - g.unit() * 50.0,
            6 => (g.unit() - 0.5) * 1e-15,
            _ => -g.unit() * 5.0,
        };
        xs.push(x);
    }
    xs.extend([
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        707.7032713517042,
        -707.7032713517042,
        709.78,
        709.8,
        -708.39,
        -708.4,
        -745.13,
        -745.14,
        5e-324,
        -5e-324,
        1e-300,
    ]);
    let code = format!(
        "{PY_READ_HEX}{PY_HEX_OUT}import numpy as np\nwith np.errstate(all='ignore'):\n    e = np.exp(np.array(xs))\nsys.stdout.write(''.join(hx(v) + '\\n' for v in e))\n"
    );
    let out = run_python(&py, &code, &to_hex_lines(&xs)).unwrap();
    let want = from_hex_lines(&out);
    assert_eq!(want.len(), xs.len());
    let mode = NumpyExp::detect();
    let mut bad = Vec::new();
    for (x, w) in xs.iter().zip(&want) {
        let got = mode.exp(*x);
        let same = got.to_bits() == w.to_bits() || (got.is_nan() && w.is_nan());
        if !same {
            bad.push(format!("exp({x:e}) = {got:e} but numpy {w:e}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} differ ({mode:?}); first: {:?}",
        bad.len(),
        xs.len(),
        &bad[..bad.len().min(5)]
    );
}

/// lm-eval's bootstrap written out in plain Python (same chunking and seeding as
/// `lm_eval.api.metrics.bootstrap_stderr`), run against our implementation.
const PY_BOOTSTRAP: &str = r#"
import math, random
def mean(a): return sum(a) / len(a)
def sample_stddev(a):
    mu = mean(a)
    return math.sqrt(sum([(x - mu) ** 2 for x in a]) / (len(a) - 1))
def perplexity(items): return math.exp(-mean(items))
def median(arr): return sorted(arr)[len(arr) // 2]
def boot(f, xs, iters):
    res = []
    chunk = min(1000, iters)
    for i in range(iters // chunk):
        rnd = random.Random(i)
        for _ in range(chunk):
            res.append(f(rnd.choices(xs, k=len(xs))))
    return res
"#;

#[test]
fn bootstrap_matches_plain_python() {
    let Some(py) = python3_with("bootstrap", &[]) else {
        return;
    };
    let xs: Vec<f64> = (0..60)
        .map({
            let mut g = Gen(21);
            move |_| -g.unit() * 3.0
        })
        .collect();
    let code = format!(
        "{PY_READ_HEX}{PY_HEX_OUT}import sys\n{PY_BOOTSTRAP}\nprint(sys.version_info[0], sys.version_info[1])\nfor f in (perplexity, median):\n    r = boot(f, xs, 2500)\n    print(len(r), hx(sample_stddev(r)), hx(r[0]), hx(r[-1]))\nprint(hx(mean(xs)), hx(sample_stddev(xs) / math.sqrt(len(xs))))\n"
    );
    let mut interpreters = vec![py];
    if let Some(p) = optional_python("python3.12", &[]) {
        interpreters.push(p);
    }
    for py in interpreters {
        let out = run_python(&py, &code, &to_hex_lines(&xs)).unwrap();
        let mut lines = out.lines();
        let ver: Vec<u32> = lines
            .next()
            .unwrap()
            .split(' ')
            .map(|v| v.parse().unwrap())
            .collect();
        let env = NumericEnv {
            py_sum: PySum::for_python_version(ver[0], ver[1]),
            numpy_exp: NumpyExp::detect(),
        };
        let values: Vec<MetricValue> = xs.iter().map(|&x| MetricValue::float(x)).collect();
        for agg in [Aggregation::Perplexity, Aggregation::Median] {
            let line = lines.next().unwrap();
            let parts: Vec<&str> = line.split(' ').collect();
            let reps = bootstrap_replicates("m", agg, &values, 2500, env).unwrap();
            assert_eq!(reps.len(), parts[0].parse::<usize>().unwrap());
            assert_eq!(
                reps[0].to_bits(),
                from_hex_lines(parts[2])[0].to_bits(),
                "{py} {agg:?} first replicate"
            );
            assert_eq!(
                reps[reps.len() - 1].to_bits(),
                from_hex_lines(parts[3])[0].to_bits(),
                "{py} {agg:?} last"
            );
            let (_, se) = aggregate_metric("m", agg, &values, 2500, env).unwrap();
            assert_eq!(
                se,
                StderrValue::Value(from_hex_lines(parts[1])[0]),
                "{py} {agg:?} stderr"
            );
        }
        let parts: Vec<f64> = lines
            .next()
            .unwrap()
            .split(' ')
            .map(|h| from_hex_lines(h)[0])
            .collect();
        let (v, se) = aggregate_metric("acc", Aggregation::Mean, &values, 100000, env).unwrap();
        assert_eq!(v.to_bits(), parts[0].to_bits(), "{py} mean");
        assert_eq!(se, StderrValue::Value(parts[1]), "{py} mean stderr");
    }
}

#[test]
fn lm_eval_metrics_functions_agree_when_peer_available() {
    let Some(py) = peer_python_with_lm_eval() else {
        return;
    };
    let lls: Vec<f64> = (0..300)
        .map({
            let mut g = Gen(4);
            move |_| -g.unit() * 10.0
        })
        .collect();
    let acc: Vec<f64> = lls
        .iter()
        .map(|x| if *x > -2.0 { 1.0 } else { 0.0 })
        .collect();
    let mut g = Gen(8);
    let pairs: Vec<(i64, i64)> = (0..300)
        .map(|_| ((g.next_u64() % 2) as i64, (g.next_u64() % 2) as i64))
        .collect();
    let code = format!(
        "{PY_READ_HEX}{PY_HEX_OUT}import os, sys, math\nos.environ['DISABLE_MULTIPROC']='1'\nimport lm_eval.api.metrics as M\nlls=xs[:300]; acc=xs[300:600]\npairs=[(int(a),int(b)) for a,b in zip(xs[600:900], xs[900:1200])]\n\
out=[]\nout.append(hx(M.perplexity(lls)))\nout.append(hx(M.stderr_for_metric(M.perplexity, 3000)(lls)))\nout.append(hx(M.mean(acc)))\nout.append(hx(M.stderr_for_metric(M.mean, 100000)(acc)))\n\
out.append(hx(M.matthews_corrcoef(pairs)))\nout.append(hx(M.stderr_for_metric(M.matthews_corrcoef, 1000)(pairs)))\nout.append(hx(M.f1_score(pairs)))\nout.append(hx(M.median(lls)))\nout.append(hx(M.stderr_for_metric(M.median, 2000)(lls)))\n\
print(sys.version_info[0], sys.version_info[1])\nprint(' '.join(out))\n"
    );
    let mut input: Vec<f64> = lls.clone();
    input.extend(&acc);
    input.extend(pairs.iter().map(|p| p.0 as f64));
    input.extend(pairs.iter().map(|p| p.1 as f64));
    let out = run_python(&py, &code, &to_hex_lines(&input)).unwrap();
    let mut lines = out.lines().filter(|l| !l.starts_with("bootstrapping"));
    let ver: Vec<u32> = lines
        .next()
        .unwrap()
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    let env = NumericEnv {
        py_sum: PySum::for_python_version(ver[0], ver[1]),
        numpy_exp: NumpyExp::detect(),
    };
    let want: Vec<f64> = lines
        .next()
        .unwrap()
        .split(' ')
        .map(|h| from_hex_lines(h)[0])
        .collect();
    let f = |xs: &[f64]| {
        xs.iter()
            .map(|&x| MetricValue::float(x))
            .collect::<Vec<_>>()
    };
    let gp: Vec<MetricValue> = pairs
        .iter()
        .map(|&(g, p)| MetricValue::GoldPred {
            gold: yardstick_engine::scoring::Gold::Index(g),
            pred: p,
        })
        .collect();
    let (v, se) =
        aggregate_metric("perplexity", Aggregation::Perplexity, &f(&lls), 3000, env).unwrap();
    assert_eq!(
        (v, se),
        (want[0], StderrValue::Value(want[1])),
        "perplexity"
    );
    let (v, se) = aggregate_metric("acc", Aggregation::Mean, &f(&acc), 100000, env).unwrap();
    assert_eq!((v, se), (want[2], StderrValue::Value(want[3])), "acc");
    let (v, se) = aggregate_metric("mcc", Aggregation::MatthewsCorrcoef, &gp, 1000, env).unwrap();
    assert_eq!((v, se), (want[4], StderrValue::Value(want[5])), "mcc");
    let (v, _) = aggregate_metric("f1", Aggregation::F1, &gp, 0, env).unwrap();
    assert_eq!(v, want[6], "f1");
    let (v, se) = aggregate_metric("median", Aggregation::Median, &f(&lls), 2000, env).unwrap();
    assert_eq!((v, se), (want[7], StderrValue::Value(want[8])), "median");
}

#[test]
fn lm_eval_group_and_other_aggregations_agree_when_peer_available() {
    let Some(py) = peer_python_with_lm_eval() else {
        return;
    };
    use yardstick_engine::scoring::aggregate::{
        aggregate_subtask_metrics, pooled_sample_stderr, unweighted_mean_stderr,
    };
    let mut g = Gen(31);
    let k = 57;
    let metrics: Vec<f64> = (0..k).map(|_| g.unit()).collect();
    let stderrs: Vec<f64> = (0..k).map(|_| g.unit() * 0.1).collect();
    let sizes: Vec<usize> = (0..k).map(|_| 5 + (g.next_u64() % 300) as usize).collect();
    let mut with_nan: Vec<f64> = (0..200).map(|_| g.unit()).collect();
    for i in (0..200).step_by(7) {
        with_nan[i] = f64::NAN;
    }
    let lls: Vec<f64> = (0..100).map(|_| -g.unit() * 50.0).collect();
    let counts: Vec<i64> = (0..100).map(|_| 1 + (g.next_u64() % 400) as i64).collect();
    let probs: Vec<Vec<f64>> = (0..50)
        .map(|_| {
            softmax_ref(&[
                -g.unit() * 4.0,
                -g.unit() * 4.0,
                -g.unit() * 4.0,
                -g.unit() * 4.0,
            ])
        })
        .collect();
    let golds: Vec<i64> = (0..50).map(|_| (g.next_u64() % 4) as i64).collect();
    let mut input: Vec<f64> = metrics.clone();
    input.extend(&stderrs);
    input.extend(sizes.iter().map(|&s| s as f64));
    input.extend(&with_nan);
    input.extend(&lls);
    input.extend(counts.iter().map(|&c| c as f64));
    input.extend(probs.iter().flatten());
    input.extend(golds.iter().map(|&x| x as f64));
    let code = format!(
        "{PY_READ_HEX}{PY_HEX_OUT}import os, sys\nos.environ['DISABLE_MULTIPROC']='1'\nimport numpy as np\nimport lm_eval.api.metrics as M\nk={k}\nm=xs[:k]; se=xs[k:2*k]; sz=[int(x) for x in xs[2*k:3*k]]\no=3*k\nnan=xs[o:o+200]; o+=200\nlls=xs[o:o+100]; o+=100\ncnt=[int(x) for x in xs[o:o+100]]; o+=100\nprobs=[np.array(xs[o+4*i:o+4*i+4]) for i in range(50)]; o+=200\ngold=[int(x) for x in xs[o:o+50]]\n\
out=[M.aggregate_subtask_metrics(m, sz, True), M.aggregate_subtask_metrics(m, sz, False), M.pooled_sample_stderr(se, sz), M.unweighted_mean_stderr(se), M.nanmean(nan), M.stderr_for_metric(M.nanmean, 2000)(nan), M.weighted_perplexity(list(zip(lls, cnt))), M.bits_per_byte(list(zip(lls, cnt))), M.brier_score(list(zip(gold, probs)))]\n\
print(sys.version_info[0], sys.version_info[1])\nprint(' '.join(hx(v) for v in out))\n"
    );
    let out = run_python(&py, &code, &to_hex_lines(&input)).unwrap();
    let mut lines = out.lines().filter(|l| !l.starts_with("bootstrapping"));
    let ver: Vec<u32> = lines
        .next()
        .unwrap()
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    let env = NumericEnv {
        py_sum: PySum::for_python_version(ver[0], ver[1]),
        numpy_exp: NumpyExp::detect(),
    };
    let want: Vec<f64> = lines
        .next()
        .unwrap()
        .split(' ')
        .map(|h| from_hex_lines(h)[0])
        .collect();
    let mode = env.py_sum;
    assert_eq!(
        aggregate_subtask_metrics(mode, &metrics, &sizes, true),
        Some(want[0]),
        "weighted group mean"
    );
    assert_eq!(
        aggregate_subtask_metrics(mode, &metrics, &sizes, false),
        Some(want[1]),
        "unweighted group mean"
    );
    assert_eq!(
        pooled_sample_stderr(mode, &stderrs, &sizes),
        Some(want[2]),
        "pooled stderr"
    );
    assert_eq!(
        unweighted_mean_stderr(mode, &stderrs),
        Some(want[3]),
        "unweighted stderr"
    );
    let f = |xs: &[f64]| {
        xs.iter()
            .map(|&x| MetricValue::float(x))
            .collect::<Vec<_>>()
    };
    let (v, se) = aggregate_metric("x", Aggregation::Nanmean, &f(&with_nan), 2000, env).unwrap();
    assert_eq!((v, se), (want[4], StderrValue::Value(want[5])), "nanmean");
    let pairs: Vec<MetricValue> = lls
        .iter()
        .zip(&counts)
        .map(|(&l, &c)| MetricValue::LoglikelihoodCount {
            loglikelihood: l,
            count: c,
        })
        .collect();
    let (v, _) = aggregate_metric(
        "word_perplexity",
        Aggregation::WeightedPerplexity,
        &pairs,
        0,
        env,
    )
    .unwrap();
    assert_eq!(v, want[6], "weighted_perplexity");
    let (v, _) =
        aggregate_metric("bits_per_byte", Aggregation::BitsPerByte, &pairs, 0, env).unwrap();
    assert_eq!(v, want[7], "bits_per_byte");
    let brier: Vec<MetricValue> = golds
        .iter()
        .zip(&probs)
        .map(|(&gd, p)| MetricValue::GoldProbs {
            gold: yardstick_engine::scoring::Gold::Index(gd),
            probs: p.clone(),
        })
        .collect();
    let (v, se) =
        aggregate_metric("brier_score", Aggregation::BrierScore, &brier, 1000, env).unwrap();
    assert_eq!((v, se), (want[8], StderrValue::NotAvailable), "brier_score");
}

fn softmax_ref(x: &[f64]) -> Vec<f64> {
    numpy::softmax(x, NumpyExp::detect())
}
