# Oracle for tests/minerva_oracle.rs: lm-eval's own minerva_math `process_docs` and `process_results`
# (lm_eval/tasks/minerva_math/utils.py, imported from the installed lm-eval) on MATH test docs and
# model-like responses built from each doc (its solution, the final-answer line with the gold answer,
# and perturbations of it: other spellings of the same value, units, wrong values, no answer).
#
# stdin: {"math_test": "<path to math/test.jsonl>", "every": K, "offset": R}: the docs are the rows i of the
# file with i % K == R. stdout: one JSON document
#   {"docs": [{"row", "unique_id", "problem", "solution", "answer"}],
#    "cases": [{"doc": index into docs, "response": str, "exact_match": 0|1}]}
# `answer` is lm-eval's process_docs output; `exact_match` is process_results(doc, [response])["exact_match"].
import json
import logging
import re
import sys

logging.disable(logging.CRITICAL)

import importlib

utils = importlib.import_module("lm_eval.tasks.minerva_math.utils")

FINAL = "Final Answer: The final answer is ${}$. I hope it is correct."


def variants(doc, answer, boxed):
    """Responses for one doc. `answer`: lm-eval's normalised gold; `boxed`: the raw last \\boxed{} content."""
    sol = doc["solution"]
    out = [
        sol,  # the reference solution itself: no "Final Answer" line
        sol + "\n" + FINAL.format(boxed),
        FINAL.format(answer),
        FINAL.format(boxed),
        "Final Answer: The final answer is {}. I hope it is correct.".format(boxed),  # no $...$
        FINAL.format("\\boxed{" + boxed + "}"),  # nested braces inside \boxed
        FINAL.format("x = " + boxed),
        FINAL.format(boxed.replace(" ", "")),
        FINAL.format(boxed.replace(",", ", ").replace("+", " + ").replace("-", " - ")),
        FINAL.format(boxed + "\\text{ cm}"),
        FINAL.format(boxed + " cm"),
        FINAL.format(boxed + "^\\circ"),
        FINAL.format(boxed + " degrees"),
        FINAL.format("\\$" + boxed),
        FINAL.format(boxed + " dollars"),
        FINAL.format("-(" + boxed + ")"),  # wrong sign (right when the gold is 0)
        FINAL.format(boxed + "+1"),  # wrong value
        FINAL.format("0"),
        FINAL.format("\\frac{" + boxed + "}{1}"),
        FINAL.format("(" + boxed + ")"),
        "I could not solve this problem.",
        FINAL.format(boxed)[: len(FINAL.format(boxed)) // 2],  # cut off
        "The answer is $\\boxed{" + boxed + "}$.",  # boxed but no final-answer line
    ]
    if "\\frac" in boxed:
        out.append(FINAL.format(boxed.replace("\\frac", "\\dfrac")))
        out.append(FINAL.format(boxed.replace("\\frac", "\\tfrac")))
    if "\\dfrac" in boxed:
        out.append(FINAL.format(boxed.replace("\\dfrac", "\\frac")))
    m = re.fullmatch(r"(-?)\\[dt]?frac\{?(\d+)\}?\{?(\d+)\}?", answer)
    if m:
        sign, p, q = m.group(1), int(m.group(2)), int(m.group(3))
        out.append(FINAL.format(f"{sign}{p}/{q}"))
        out.append(FINAL.format(f"{sign}\\frac{{{2 * p}}}{{{2 * q}}}"))  # unreduced, same value
        out.append(FINAL.format(f"{sign}{p / q}"))  # decimal, Python's shortest repr (exact or not)
        out.append(FINAL.format(f"{sign}{p / q:.3f}"))
        out.append(FINAL.format(f"{sign}{p / q:.12f}"))
        out.append(FINAL.format(f"{sign}{p}/{q + 1}"))  # wrong
    if re.fullmatch(r"-?\d+", answer):
        n = int(answer)
        out.append(FINAL.format(str(n + 1)))
        out.append(FINAL.format(f"{n}.0"))
        out.append(FINAL.format(f"{n:,}"))
        out.append(FINAL.format(f"{n} \\text{{ units}}"))
        out.append(FINAL.format(f"{n}.00"))
        out.append(FINAL.format(f"{n}\\%"))
    if re.fullmatch(r"-?\d+\.\d+", answer):
        out.append(FINAL.format(answer + "0"))
        out.append(FINAL.format(answer.rstrip("0") + "1"))
    if "\\sqrt" in answer:
        out.append(FINAL.format(answer.replace("\\sqrt{", "\\sqrt[2]{")))
        out.append(FINAL.format(re.sub(r"\\sqrt\{(\d)\}", r"\\sqrt\1", answer)))
    if boxed.startswith("(") and boxed.endswith(")"):
        out.append(FINAL.format("\\left" + boxed[:-1] + "\\right)"))
    if "\\pi" in answer:
        out.append(FINAL.format(answer.replace("\\pi", "\\cdot\\pi")))
        out.append(FINAL.format(answer.replace("\\pi", "pi")))
    return out


def main():
    cfg = json.load(sys.stdin)
    docs, cases = [], []
    with open(cfg["math_test"], encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    for i, row in enumerate(rows):
        if i % cfg["every"] != cfg["offset"]:
            continue
        boxed_string = utils.last_boxed_only_string(row["solution"])
        answer = utils.normalize_final_answer(utils.remove_boxed(boxed_string))
        boxed = utils.remove_boxed(boxed_string)
        doc = {"problem": row["problem"], "solution": row["solution"], "answer": answer}
        d = len(docs)
        docs.append({"row": i, "unique_id": row["unique_id"], **doc})
        for response in variants(row, answer, boxed):
            r = utils.process_results(doc, [response])
            cases.append({"doc": d, "response": response, "exact_match": r["exact_match"]})
    json.dump({"docs": docs, "cases": cases}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
