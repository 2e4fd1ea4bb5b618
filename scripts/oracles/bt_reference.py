#!/usr/bin/env python3
"""Independent Bradley-Terry reference fit (NumPy only), used to cross-check yardstick-stats.

Reads battles and prints ratings as JSON on stdout.

Input (stdin, or a file given as the first argument):
  * JSON: {"n_models": K (optional), "battles": [{"a": i, "b": j, "outcome": "a"|"b"|"tie",
    "weight": w (optional, default 1)}, ...]}; a, b are model indices (0..K-1) or names.
  * CSV with a header containing model_a, model_b, outcome (a|b|tie|model_a|model_b|tie (bothbad)) and
    optionally weight.

Output: {"models": [...], "theta": [...], "ratings": [...], "sandwich_se": [...],
         "log_likelihood": ..., "iterations": ...}
  theta     sum-to-zero logit strengths, P(i beats j) = 1 / (1 + exp(theta_j - theta_i))
  ratings   1000 + 400/ln(10) * theta
  sandwich_se  robust standard errors of the ratings (H^-1 G H^-1, per-battle scores)

Method (deliberately different from the Rust implementation): per-battle (not aggregated) design matrix,
the last model's strength fixed at 0 to identify the model, plain Newton-Raphson with step halving on the
weighted log-likelihood where a tie scores 1/2 for each side; afterwards the strengths are centred.
"""

import csv
import io
import json
import math
import sys

import numpy as np

SCALE = 400.0 / math.log(10.0)
BASE = 1000.0


def read_battles(text):
    text = text.strip()
    rows = []
    if text.startswith("{") or text.startswith("["):
        data = json.loads(text)
        battles = data["battles"] if isinstance(data, dict) else data
        n_models = data.get("n_models") if isinstance(data, dict) else None
        for b in battles:
            rows.append((b["a"], b["b"], str(b["outcome"]), float(b.get("weight", 1.0))))
    else:
        n_models = None
        for rec in csv.DictReader(io.StringIO(text)):
            rows.append((rec["model_a"], rec["model_b"], rec["outcome"], float(rec.get("weight") or 1.0)))
    if not rows:
        raise SystemExit("bt_reference: no battles in input")
    # model labels: integers stay integers (0..K-1), names are sorted
    labels = sorted({r[0] for r in rows} | {r[1] for r in rows}, key=lambda x: (isinstance(x, str), x))
    if all(isinstance(x, int) for x in labels):
        k = int(n_models) if n_models is not None else max(labels) + 1
        names = list(range(k))
        index = {i: i for i in names}
    else:
        names = [str(x) for x in labels]
        index = {x: i for i, x in enumerate(labels)}
        k = len(names)
    a = np.array([index[r[0]] for r in rows], dtype=np.int64)
    b = np.array([index[r[1]] for r in rows], dtype=np.int64)
    y = np.empty(len(rows))
    for t, r in enumerate(rows):
        o = r[2].strip().lower()
        if o in ("a", "model_a", "awins", "a_wins"):
            y[t] = 1.0
        elif o in ("b", "model_b", "bwins", "b_wins"):
            y[t] = 0.0
        elif o.startswith("tie"):
            y[t] = 0.5
        else:
            raise SystemExit(f"bt_reference: unknown outcome {r[2]!r} in battle {t}")
    w = np.array([r[3] for r in rows])
    return names, k, a, b, y, w


def fit(k, a, b, y, w, max_iter=200, tol=1e-12):
    n = len(y)
    # design: +1 for model a, -1 for model b; drop the last column (theta_{k-1} = 0)
    x = np.zeros((n, k))
    x[np.arange(n), a] += 1.0
    x[np.arange(n), b] -= 1.0
    xr = x[:, : k - 1]

    def loglik(phi):
        eta = xr @ phi
        # log sigma(eta) = -log1p(exp(-eta)), computed stably with logaddexp
        return float(np.sum(w * (-y * np.logaddexp(0.0, -eta) - (1.0 - y) * np.logaddexp(0.0, eta))))

    phi = np.zeros(k - 1)
    ll = loglik(phi)
    it = 0
    for it in range(1, max_iter + 1):
        p = 1.0 / (1.0 + np.exp(-(xr @ phi)))
        grad = xr.T @ (w * (y - p))
        hess = (xr * (w * p * (1.0 - p))[:, None]).T @ xr
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while True:
            cand = phi + t * step
            cll = loglik(cand)
            if cll >= ll - 1e-12 * max(1.0, abs(ll)) or t < 1e-10:
                break
            t *= 0.5
        phi, ll = cand, cll
        if np.max(np.abs(t * step)) < tol:
            break
    p = 1.0 / (1.0 + np.exp(-(xr @ phi)))
    hess = (xr * (w * p * (1.0 - p))[:, None]).T @ xr
    scores = xr * (w * (y - p))[:, None]  # one score vector per battle
    meat = scores.T @ scores
    hinv = np.linalg.inv(hess)
    cov_reduced = hinv @ meat @ hinv
    # map phi -> centred theta: theta = C E phi with E appending a 0 and C = I - 11'/k
    e = np.vstack([np.eye(k - 1), np.zeros((1, k - 1))])
    c = np.eye(k) - np.ones((k, k)) / k
    m = c @ e
    theta = m @ phi
    cov = m @ cov_reduced @ m.T
    return theta, cov, ll, it


def main():
    if len(sys.argv) > 1 and sys.argv[1] != "-":
        with open(sys.argv[1], encoding="utf-8") as f:
            text = f.read()
    else:
        text = sys.stdin.read()
    names, k, a, b, y, w = read_battles(text)
    if k < 2:
        raise SystemExit("bt_reference: need at least two models")
    theta, cov, ll, it = fit(k, a, b, y, w)
    out = {
        "models": names,
        "theta": theta.tolist(),
        "ratings": (BASE + SCALE * theta).tolist(),
        "sandwich_se": (SCALE * np.sqrt(np.clip(np.diag(cov), 0.0, None))).tolist(),
        "log_likelihood": ll,
        "iterations": it,
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
