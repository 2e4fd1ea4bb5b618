# Oracle for tests/filters_oracle.rs: lm-eval's own filter pipelines and exact_match on a corpus of
# model-like responses. Reads the pipelines and metric kwargs from lm-eval's installed task YAMLs
# (with its own YAML loader), applies them with lm-eval's filter classes, and prints one JSON
# document: the configs as Rust receives them, and every filtered value and exact_match score.
import json
import math
import os
import sys

import lm_eval
from lm_eval.api.instance import Instance
from lm_eval.api.registry import get_metric
from lm_eval.filters import build_filter_ensemble
from lm_eval.tasks._yaml_loader import load_yaml

TASKS = os.path.join(os.path.dirname(lm_eval.__file__), "tasks")

# (task family, yaml paths relative to lm_eval/tasks)
def bbh_files(variant):
    d = os.path.join(TASKS, "bbh", variant)
    return sorted(
        os.path.join("bbh", variant, f) for f in os.listdir(d) if f.endswith(".yaml") and not f.startswith("_")
    )

FAMILIES = [
    ("gsm8k", ["gsm8k/gsm8k.yaml", "gsm8k/gsm8k-cot.yaml", "gsm8k/gsm8k-cot-zeroshot.yaml",
               "gsm8k/gsm8k-cot-llama.yaml"]),
    ("bbh", bbh_files("cot_fewshot") + bbh_files("cot_zeroshot")),
    ("plain", ["mgsm/direct/mgsm_direct_zh.yaml", "mgsm/direct/mgsm_direct_en.yaml",
               "mgsm/native_cot/mgsm_native_cot_zh.yaml", "mgsm/native_cot/mgsm_native_cot_en.yaml",
               "mmlu/generative/mmlu_abstract_algebra.yaml"]),
]


def step_name(fn):
    """The name Yardstick knows a filter function by."""
    if isinstance(fn, str):
        return fn
    mod = getattr(fn, "__module__", "") or ""
    if "bbh" in mod or "utils" in mod:
        return "bbh." + fn.__name__
    raise SystemExit(f"unexpected filter function {fn!r}")


def number_forms(n):
    s = f"{n:,}" if isinstance(n, int) else f"{n:,.2f}"
    return [str(n), s, "$" + s]


NUMBERS = [0, 7, 18, 72, 1072, 1234567, -3, 3.75]
TEMPLATES = [
    "The answer is {x}.", "#### {x}", "So the total is {x} dollars.\n", "答案是 {x}。",
    "The final answer is {x}", "{x}",
]

HAND = [
    ("Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether.\n#### 72", "72"),
    ("#### 1,072", "1072"), ("The answer is $1,072.", "1072"), ("The answer is 1,072.\n\n", "1072"),
    ("The answer is -5.", "-5"), ("The answer is 3.5", "3.5"), ("So the answer is (B).", "(B)"),
    ("the answer is (C)", "(C)"), ("The final answer is $18.", "18"), ("The final answer is 18", "18"),
    ("<think>Let me compute 2+2=4</think>\nThe answer is 4.", "4"),
    ("<think>\nhmm 12 or 13\n</think>\n\n#### 13", "13"), ("答案是 18。", "18"), ("答案是 1,234。", "1234"),
    ("问题：小明有5个苹果。逐步解答：5 + 3 = 8。答案是 8。", "8"), ("", "0"), (" ", "0"), ("\n", "0"),
    ("The answer is", "0"), ("The answer is .", "0"), ("42", "42"), ("42.", "42"), ("$42.00", "42"),
    ("It costs $1,000,000.50 in total.\n", "1000000.50"), ("1.\n2.\n3. The answer is 3", "3"),
    ("A", "A"), ("B. Paris\nExplanation: it is the capital.", "B"), ("  (D) 12/14/1937  \n", "(D)"),
    ("Answer: C", "(C)"), ("answer:B", "(B)"), ("The answer: valid.", "valid"),
    ("The final answer: invalid", "invalid"), ("So the answer is Yes.", "yes"),
    ("So the answer is plausible.", "yes"), ("Not plausible. The answer is no.", "no"),
    ("So the answer is ) ] }.", ") ] }"), ("So the answer is > ) ].", "> ) ]"),
    ("The sorted list is: apple banana cherry. So the answer is apple banana cherry.", "apple banana cherry"),
    ("cherry, then apple, then banana, apple again", "apple banana cherry"),
    ("So the answer is twenty four.", "24"), ("There are seven objects. So the answer is 7.", "7"),
    ("So the answer is eleven.", "11"), ("-3 * 4 = -12. So the answer is -12.", "-12"),
    ("The answer is (A) Paris.", "(A)"), ("I think it's london", "(B)"), ("It is the blue car!", "(B)"),
    ("guilty of romance, clearly", "(D)"), ("Options: (A)\n\nThe answer is (E).", "(E)"),
    ("\u00a0The answer is 5\u00a0", "5"), ("Result: ١٢٣", "123"), ("答案是１２", "12"), ("1,2,3,4", "4"),
    ("...", "0"), ("$$", "0"), ("-", "0"), ("-7", "-7"), ("The answer is -0.5.\n", "-0.5"),
    ("The answer is 5\n\nThe answer is 6", "6"), ("####42", "42"), ("#### -3", "-3"), ("####  5", "5"),
    ("The answer is 10 apples.", "10"), ("the answer is True.", "True"), ("So the answer is False", "False"),
    ("So the answer is 12/14/1937.", "12/14/1937"), ("The answer is (b)", "(B)"),
    ("THE ANSWER IS 9.", "9"), ("The answer is 9!", "9"), ("the answer is: 9", "9"),
    ("Step 1: 3+4=7\nStep 2: 7*2=14\nThe answer is 14.", "14"), ("#### 14\n", "14"),
    ("The answer is 1.5.", "1.5"), ("The answer is .5", ".5"), ("Answer:\tE", "(E)"),
    ("\x1c The answer is 3 \x1f", "3"), ("The answer is 3\r\n", "3"), ("答案：15", "15"),
    ("最终答案是 $20。", "20"), ("The answer is 20%.", "20"), ("So the answer is (F).", "(F)"),
    ("one hundred and five apples", "105"), ("two thousand twenty", "2020"), ("three point five", "3.5"),
    ("thousand thousand", "0"), ("forty-two", "42"), ("The count is twelve, I think", "12"),
    ("ninety nine bottles", "99"), ("a million and one", "1000001"), ("seventy seven point zero one", "77.01"),
    ("one two three four five", "1"), ("sixteen hundred", "1600"), ("eighteen, nineteen", "19"),
    ("Person: John Smith, Mary\nLocation: Kenya, none\norg: UN $$ date: 2020", "per: john smith"),
    ("PERSONS : Ada $$ Countries: none $$ company:ACME, Inc.$$", "per: ada"),
    ("time: noon\n\nplaces: Lagos,Abuja, NONE", "date: noon"), ("per:loc: x", "per: x"),
    ("cherry apple banana", "cherry apple banana"), ("apple\nbanana\ncherry", "apple banana cherry"),
]
LETTERS = ["So the answer is ({L}).", "The answer is {L}.", "Answer: {L}", "({L})", "I pick {L}"]


def corpus():
    out = list(HAND)
    for n in NUMBERS:
        for t in TEMPLATES:
            for x in number_forms(n):
                out.append((t.format(x=x), str(n)))
    for L in "ABCDE":
        for t in LETTERS:
            out.append((t.format(L=L), f"({L})"))
    return out


BBH_DOCS = [
    {"input": "Which one?\nOptions:\n(A) red\n(B) blue car\n(C) Paris\n(D) Guilty of Romance\n(E) Guilty",
     "target": "(B)"},
    {"input": "Sort the following words alphabetically: List: cherry apple banana", "target": "apple banana cherry"},
    {"input": "Sort: List: apple banana cherry dog", "target": "apple banana cherry dog"},
    {"input": "Is the following sentence plausible? \"Joao Moutinho caught the screen pass.\"", "target": "no"},
]
MC_DOCS = [{"choices": ["Paris", "London", "blue car", "Guilty", "Guilty of Romance"], "answer": 1}]


def gold_for(family, hint):
    return f"Reasoning.\n#### {hint}" if family == "gsm8k" else hint


def apply_one(fn_components, name, resps, doc):
    ens = build_filter_ensemble(name, fn_components)
    inst = Instance(request_type="generate_until", doc=doc, arguments=("", {}), idx=0)
    inst.resps = list(resps)
    ens.apply([inst])
    return inst.filtered_resps[name]


def exact_match(kwargs, gold, result):
    # ConfigurableTask.process_results, generate_until branch, single target
    if type(gold) is not type(result) and not isinstance(result, list):
        gold = type(result)(gold)
    fn = get_metric("exact_match")
    try:
        score = fn(references=[gold], predictions=[result], **kwargs)
    except TypeError:
        score = fn([gold, result])
    if isinstance(score, dict):
        score = score["exact_match"]
    return repr(float(score))


def apply_all(p, instances, docs):
    """Each instance's filtered value or error: all at once (lm-eval's way), else one by one."""
    try:
        insts = []
        for k, (resps, _) in enumerate(instances):
            inst = Instance(request_type="generate_until", doc=docs[k % len(docs)], arguments=("", {}), idx=0)
            inst.resps = list(resps)
            insts.append(inst)
        build_filter_ensemble(p["name"], p["components"]).apply(insts)
        return [{"value": inst.filtered_resps[p["name"]]} for inst in insts]
    except Exception:  # noqa: BLE001 - some instance fails: find which
        out = []
        for k, (resps, _) in enumerate(instances):
            try:
                out.append({"value": apply_one(p["components"], p["name"], resps, docs[k % len(docs)])})
            except Exception as e:  # noqa: BLE001 - the failure itself is compared
                out.append({"error": type(e).__name__ + ": " + str(e)})
        return out


def run_case(task, family, pipelines, metric_kwargs, docs, instances):
    filtered = {p["name"]: apply_all(p, instances, docs) for p in pipelines}
    results = []
    for k, (resps, hint) in enumerate(instances):
        gold = gold_for(family, hint)
        row = {"doc": k % len(docs), "resps": resps, "gold": gold, "filtered": {}, "em": {}}
        for p in pipelines:
            f = filtered[p["name"]][k]
            row["filtered"][p["name"]] = f
            if "error" in f:
                continue
            try:
                row["em"][p["name"]] = exact_match(metric_kwargs, gold, f["value"])
            except Exception as e:  # noqa: BLE001
                row["em"][p["name"]] = {"error": type(e).__name__ + ": " + str(e)}
        results.append(row)
    return {
        "task": task,
        "pipelines": [{"name": p["name"], "filter": p["json"]} for p in pipelines],
        "metric_kwargs": metric_kwargs,
        "docs": docs,
        "results": results,
    }


def pipelines_of(cfg_filters):
    out = []
    for f in cfg_filters:
        comps, js = [], []
        for step in f["filter"]:
            kwargs = {k: v for k, v in step.items() if k != "function"}
            comps.append([step["function"], kwargs])
            js.append({"function": step_name(step["function"]), **kwargs})
        out.append({"name": f["name"], "components": comps, "json": js})
    return out


def main():
    skip = set(sys.argv[1:])  # Yardstick filter names not ported (their pipelines are left out)
    items = corpus()
    instances = [([r], h) for r, h in items]
    cases, seen, skipped = [], set(), []
    for family, files in FAMILIES:
        for rel in files:
            cfg = load_yaml(os.path.join(TASKS, rel), resolve_func=True)
            pipes = pipelines_of(cfg["filter_list"])
            kept = [p for p in pipes if not any(s["function"] in skip for s in p["json"])]
            skipped += [f'{cfg["task"]}/{p["name"]}' for p in pipes if p not in kept]
            em = [m for m in cfg["metric_list"] if m["metric"] == "exact_match"][0]
            kwargs = {k: v for k, v in em.items()
                      if k not in ["metric", "aggregation", "higher_is_better", "hf_evaluate"]}
            key = json.dumps([[p["json"] for p in kept], kwargs], sort_keys=True, ensure_ascii=False)
            if key in seen or not kept:
                continue
            seen.add(key)
            docs = BBH_DOCS if family == "bbh" else [{"question": "q"}]
            cases.append(run_case(cfg["task"], family, kept, kwargs, docs, instances))
    # lm-eval's registered filters no task above uses, on several responses per instance
    extra = pipelines_of([
        {"name": "mcq", "filter": [{"function": "multi_choice_regex", "regex_pattern": r"(\([A-Z]\))",
                                    "group_select": -1, "ignore_case": True, "ignore_punctuation": True},
                                   {"function": "take_first"}]},
        {"name": "mcq-plain", "filter": [{"function": "multi_choice_regex", "regex_pattern": r"answer is (\w)"},
                                         {"function": "take_first"}]},
        {"name": "vote", "filter": [{"function": "regex", "regex_pattern": r"(-?\d+)", "group_select": -1},
                                    {"function": "majority_vote"}, {"function": "take_first"}]},
        {"name": "first-k", "filter": [{"function": "remove_whitespace"}, {"function": "take_first_k", "k": 2}]},
        {"name": "case-map", "filter": [{"function": "lowercase"}, {"function": "remove_whitespace"},
                                        {"function": "map", "mapping_dict": {"yes": "1", "no": "0"},
                                         "default_value": "?"}, {"function": "take_first"}]},
        {"name": "upper", "filter": [{"function": "uppercase"}, {"function": "take_first"}]},
        {"name": "span", "filter": [{"function": "format_span"}, {"function": "take_first"}]},
    ])
    multi = [([items[i][0], items[(i + 1) % len(items)][0], items[(i + 7) % len(items)][0]], items[i][1])
             for i in range(len(items))]
    cases.append(run_case("extra", "plain", extra, {"ignore_case": True}, MC_DOCS, multi))
    json.dump({"cases": cases, "skipped": skipped, "corpus": len(items)}, sys.stdout, ensure_ascii=False)


main()
