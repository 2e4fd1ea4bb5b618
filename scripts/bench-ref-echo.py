#!/usr/bin/env python3
"""Time one prompt-log-probability request (echo + logprobs, as lm-eval's loglikelihood sends it) against an
OpenAI-compatible completions server (scripts/serve-ref, llama-server, ...). Standard library only.

  python3 scripts/bench-ref-echo.py --base-url http://127.0.0.1:8091 [--tokens 600] [--repeat 5]

The prompt is a 5-shot MMLU prompt (abstract_algebra dev rows, lm-eval's format) cut to the first --tokens
tokens of the server's own /tokenize (llama-server's and ref_server's). It is sent as token ids (lm-eval's
tokenized_requests=True). Prints the prompt length and per-request wall times (first = cold).
"""
import argparse, csv, json, os, statistics, sys, time, urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def post(url, body, timeout=600):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def mmlu_prompt():
    data = Path(os.environ.get("YARDSTICK_SHARED_DATA", REPO.parent / "shared" / "data"))
    parts = ["The following are multiple choice questions (with answers) about abstract algebra.\n\n"]
    for sub in ("abstract_algebra", "college_mathematics", "high_school_european_history"):
        with open(data / "benchmarks/mmlu/dev" / f"{sub}_dev.csv", encoding="utf-8", newline="") as fh:
            for q, a, b, c, d, ans in csv.reader(fh):
                parts.append(f"{q.strip()}\nA. {a}\nB. {b}\nC. {c}\nD. {d}\nAnswer: {ans}\n\n")
    return "".join(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True, help="server root, e.g. http://127.0.0.1:8091")
    ap.add_argument("--tokens", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    base = a.base_url.rstrip("/").removesuffix("/v1")
    text = mmlu_prompt()
    toks = post(base + "/tokenize", {"content": text, "add_special": False})["tokens"]
    if len(toks) < a.tokens:
        sys.exit(f"the sample prompt has only {len(toks)} tokens on this server (< {a.tokens})")
    ids = toks[: a.tokens]
    body = {"model": "m", "prompt": ids, "max_tokens": 1, "temperature": 0, "logprobs": 1, "echo": True}
    times = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        out = post(base + "/v1/completions", body)
        times.append(time.perf_counter() - t0)
    lp = out["choices"][0]["logprobs"]["token_logprobs"]
    print(json.dumps({"base_url": base, "prompt_tokens": len(ids), "echoed_logprobs": len(lp),
                      "sum_logprob": sum(x for x in lp[1:-1] if x is not None),
                      "seconds": [round(t, 4) for t in times], "min_s": round(min(times), 4),
                      "median_s": round(statistics.median(times), 4)}))


if __name__ == "__main__":
    main()
