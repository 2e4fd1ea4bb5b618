# Oracle for crates/yardstick-tasks/tests/math_verify_oracle.rs: the real `math_verify` 0.9.0
# (`verify(gold=parse(solution), target=parse(response))`, exactly as lm-eval 0.4.13's minerva_math
# `process_results` calls it) on (solution, response) pairs.
#
# stdin: one JSON document, either
#   {"pairs": [[solution, response], ...]}                     score the given pairs, or
#   {"math_test": "<path to math/test.jsonl>", "limit": N, "seed": S}
#       build the perturbation corpus from the MATH test solutions (see `variants`), sample N pairs
#       deterministically (every pair when N is 0), and score them.
# stdout: {"cases": [{"solution", "response", "math_verify": 0|1, "gold": str, "pred": str}]}
# (`gold` / `pred`: str() of the parse results, for diagnostics only).
import json
import logging
import random
import re
import sys

logging.disable(logging.CRITICAL)

from math_verify import parse, verify  # noqa: E402

FINAL = "Final Answer: The final answer is ${}$. I hope it is correct."


def last_boxed(sol):
    i = sol.rfind("\\boxed")
    if i < 0:
        return None
    depth, start = 0, None
    for j in range(i, len(sol)):
        if sol[j] == "{":
            depth += 1
            if start is None:
                start = j + 1
        elif sol[j] == "}":
            depth -= 1
            if depth == 0:
                return sol[start:j]
    return None


def variants(sol, other):
    """Responses for one solution; `other` is another problem's boxed answer."""
    b = last_boxed(sol)
    out = [sol, "I could not solve this problem."]
    if b is None:
        return out
    out += [
        FINAL.format(b),
        FINAL.format(other),
        "The answer is $\\boxed{" + b + "}$.",
        FINAL.format("x = " + b),
        FINAL.format(b + "\\text{ units}"),
        FINAL.format(b + "^\\circ"),
        FINAL.format(b + "+1"),
        FINAL.format("\\left(" + b + "\\right)"),
        "Final Answer: The final answer is {}. I hope it is correct.".format(b),
        "So the answer is " + b + ".",
    ]
    if "\\frac" in b:
        out.append(FINAL.format(b.replace("\\frac", "\\dfrac")))
    m = re.fullmatch(r"(-?)\\[dt]?frac\{?(\d+)\}?\{?(\d+)\}?", b)
    if m:
        s, p, q = m.group(1), int(m.group(2)), int(m.group(3))
        out += [FINAL.format(f"{s}{p}/{q}"), FINAL.format(f"{s}{p / q}"),
                FINAL.format(f"{s}{p / q:.3f}"), FINAL.format(f"{s}{p / q:.8f}"),
                f"The answer is {s}{p}/{q}."]
    if re.fullmatch(r"-?\d+", b):
        n = int(b)
        out += [FINAL.format(f"{n:,}"), FINAL.format(f"{n}.0"), FINAL.format(f"{n}\\%"),
                FINAL.format(f"{n}\\text{{ cm}}"), f"The answer is {n}.", f"The answer is {n} percent.",
                FINAL.format(f"{n + 1}"), f"We get {n:,} apples."]
    if re.fullmatch(r"-?\d+\.\d+", b):
        out += [FINAL.format(b + "0"), FINAL.format(b + "\\%")]
    if re.fullmatch(r"[\(\[].*,.*[\)\]]", b):
        out += [FINAL.format(b[1:-1]), FINAL.format("[" + b[1:-1] + "]"), FINAL.format("\\{" + b[1:-1] + "\\}")]
    if "," in b and not b.startswith(("(", "[")):
        parts = [p.strip() for p in b.split(",")]
        out += [FINAL.format(", ".join(reversed(parts))), FINAL.format("\\{" + b + "\\}")]
    if "\\sqrt" in b:
        out.append(FINAL.format(re.sub(r"\\sqrt\{(\d)\}", r"\\sqrt\1", b)))
    if "\\pi" in b:
        out.append(FINAL.format(b.replace("\\pi", "\\cdot\\pi")))
    if "^\\circ" in b:
        out.append(FINAL.format(b.replace("^\\circ", "")))
    if "\\text{" in b:
        out.append(FINAL.format(re.sub(r"\\text\{([^}]*)\}", r"\1", b)))
    return out


def score(pairs):
    cases = []
    for sol, resp in pairs:
        g, p = parse(sol), parse(resp)
        v = verify(gold=g, target=p)
        cases.append({"solution": sol, "response": resp, "math_verify": 1 if v else 0,
                      "gold": str(g), "pred": str(p)})
    return cases


def main():
    cfg = json.load(sys.stdin)
    if "pairs" in cfg:
        pairs = cfg["pairs"]
    else:
        with open(cfg["math_test"], encoding="utf-8") as f:
            sols = [json.loads(line)["solution"] for line in f]
        pairs = []
        for i, sol in enumerate(sols):
            other = last_boxed(sols[(i * 7919 + 13) % len(sols)]) or "0"
            pairs += [(sol, r) for r in variants(sol, other)]
        if cfg.get("limit"):
            pairs = random.Random(cfg.get("seed", 0)).sample(pairs, min(cfg["limit"], len(pairs)))
    json.dump({"cases": score(pairs)}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
