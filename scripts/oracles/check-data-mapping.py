#!/usr/bin/env python3
"""Rebuild every original-release split that Yardstick maps (crates/yardstick-tasks/src/data/release.rs)
the way the Hugging Face dataset builders lm-eval relies on build it, with `datasets` / pandas / pyarrow,
and write each split's rows as JSON Lines (`json.dumps(row, ensure_ascii=False)`, column order kept).

    check-data-mapping.py BENCHMARKS_DIR OUT_DIR

writes OUT_DIR/cases.jsonl ({"dataset", "config", "split", "file"} per split) and one file per split.
The Rust test `data_real.rs::cross_check_with_python` runs this with $YARDSTICK_PEER_PYTHON (a Python with
`datasets`, e.g. lm-eval's virtualenv) and compares every row value for value, in column order.

Each builder below reproduces the logic of the corresponding HF dataset script / packaged loader:
- cais/mmlu: hendrycks_test.py (csv.reader over the decoded lines; ClassLabel A-D), columns in the order of
  the cais/mmlu parquet features (question, subject, choices, answer);
- haonan-li/cmmlu: cmmlu.py (pd.read_csv(header=0, index_col=0), every feature Value("string")), written
  through datasets' ArrowWriter so that numeric pandas columns are cast to strings the same way;
- truthfulqa/truthful_qa: truthful_qa.py (json.load / csv.DictReader with utf-8-sig, _split_csv_list);
- openai/gsm8k, google/IFEval, HuggingFaceH4/MATH-500: the packaged `json` loader on the same files;
- EleutherAI/hendrycks_math: hendrycks_math.py on the original release files (math/MATH.tar.gz, unpacked):
  per subject and split, `sorted(pathlib.Path(MATH/<split>/<subject>).iterdir())`, each file's
  {problem, level, type, solution} (Yardstick reads the derived math/{train,test}.jsonl instead);
- openai/openai_humaneval, google-research-datasets/mbpp: their scripts' feature order (mbpp task_id ranges);
- bbh: the examples of each task file;
- juletxara/mgsm (mgsm.py: csv.reader with tab and quotechar '"', answer_number int32, answer and
  equation_solution null), weitianwen/cmath and TIGER-Lab/MMLU-Pro (json loader), allenai/ai2_arc (ai2_arc.py),
  ceval/ceval-exam (ceval-exam.py: pandas, missing answer/explanation filled with "", written through ArrowWriter).
"""

import csv
import glob
import gzip
import json
import os
import pathlib
import sys
import tarfile

import datasets
import pandas as pd
from datasets import ClassLabel, Features, Sequence, Value
from datasets.arrow_writer import ArrowWriter

datasets.disable_progress_bars()
datasets.logging.set_verbosity_error()
TMP = "."


def write(out_dir, cases, dataset, config, split, rows):
    name = f"{dataset.replace('/', '__')}.{config}.{split}.jsonl"
    with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    cases.write(json.dumps({"dataset": dataset, "config": config, "split": split, "file": name}) + "\n")


def from_list(rows, features):
    """Rows through datasets' ArrowWriter with the builder's features, as a GeneratorBasedBuilder writes
    them (columns in feature order, values encoded/cast per feature)."""
    if not rows:
        return []
    arrow = os.path.join(TMP, "rows.arrow")
    with ArrowWriter(features=features, path=arrow) as w:
        for r in rows:
            w.write(features.encode_example(r))
        w.finalize()
    return list(datasets.Dataset.from_file(arrow))


def mmlu(root, out, cases):
    feats = Features(
        {
            "question": Value("string"),
            "subject": Value("string"),
            "choices": Sequence(Value("string")),
            "answer": ClassLabel(names=["A", "B", "C", "D"]),
        }
    )
    subjects = sorted(os.path.basename(p)[: -len("_test.csv")] for p in glob.glob(f"{root}/test/*_test.csv"))
    for split, d in [("test", "test"), ("validation", "val"), ("dev", "dev")]:
        everything = []
        for s in subjects:
            rows = []
            with open(f"{root}/{d}/{s}_{d}.csv", "rb") as fh:
                for data in csv.reader(line.decode("utf-8") for line in fh):
                    rows.append({"question": data[0], "subject": s, "choices": data[1:5], "answer": data[5]})
            built = from_list(rows, feats)
            everything += built
            write(out, cases, "cais/mmlu", s, split, built)
        write(out, cases, "cais/mmlu", "all", split, everything)


def cmmlu(root, out, cases, tmp):
    feats = Features({k: Value("string") for k in ["Question", "A", "B", "C", "D", "Answer"]})
    for split in ["test", "dev"]:
        for path in sorted(glob.glob(f"{root}/{split}/*.csv")):
            subject = os.path.basename(path)[:-4]
            df = pd.read_csv(path, header=0, index_col=0, encoding="utf-8")
            arrow = os.path.join(tmp, "cmmlu.arrow")
            with ArrowWriter(features=feats, path=arrow) as w:
                for inst in df.to_dict(orient="records"):
                    w.write(inst)
                w.finalize()
            write(out, cases, "haonan-li/cmmlu", subject, split, list(datasets.Dataset.from_file(arrow)))


def truthfulqa_file(root, fname):
    """The same order as the Rust reader and lm_eval_local.py: the hub's source revision, then v1."""
    for rev in ("hf-013686a", "v1"):
        path = f"{root}/data/{rev}/{fname}"
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"no TruthfulQA {fname} under {root}/data/{{hf-013686a,v1}}")


def truthfulqa(root, out, cases):
    targets = {"choices": Sequence(Value("string")), "labels": Sequence(Value("int32"))}
    mc_feats = Features({"question": Value("string"), "mc1_targets": targets, "mc2_targets": targets})
    with open(truthfulqa_file(root, "mc_task.json"), encoding="utf-8") as f:
        contents = json.load(f)
    rows = [
        {
            "question": row["question"],
            "mc1_targets": {"choices": list(row["mc1_targets"].keys()), "labels": list(row["mc1_targets"].values())},
            "mc2_targets": {"choices": list(row["mc2_targets"].keys()), "labels": list(row["mc2_targets"].values())},
        }
        for row in contents
    ]
    write(out, cases, "truthfulqa/truthful_qa", "multiple_choice", "validation", from_list(rows, mc_feats))

    gen_feats = Features(
        {
            "type": Value("string"),
            "category": Value("string"),
            "question": Value("string"),
            "best_answer": Value("string"),
            "correct_answers": Sequence(Value("string")),
            "incorrect_answers": Sequence(Value("string")),
            "source": Value("string"),
        }
    )

    def split_list(s, delimiter=";"):
        return [item.strip() for item in s.strip().split(delimiter)]

    rows = []
    with open(truthfulqa_file(root, "TruthfulQA.csv"), newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            if not row["Correct Answers"] or not row["Incorrect Answers"]:
                continue
            rows.append(
                {
                    "type": row["Type"],
                    "category": row["Category"],
                    "question": row["Question"],
                    "best_answer": row["Best Answer"],
                    "correct_answers": split_list(row["Correct Answers"]),
                    "incorrect_answers": split_list(row["Incorrect Answers"]),
                    "source": row["Source"],
                }
            )
    write(out, cases, "truthfulqa/truthful_qa", "generation", "validation", from_list(rows, gen_feats))


def json_loader(path, split):
    return list(datasets.load_dataset("json", data_files={split: path}, split=split))


def jsonl_rows(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def others(root, out, cases):
    write(out, cases, "openai/gsm8k", "main", "test", json_loader(f"{root}/gsm8k/test.jsonl", "test"))
    write(out, cases, "google/IFEval", "default", "train", json_loader(f"{root}/ifeval/input_data.jsonl", "train"))
    write(out, cases, "HuggingFaceH4/MATH-500", "default", "test", json_loader(f"{root}/math500/test.jsonl", "test"))

    he_feats = Features({k: Value("string") for k in ["task_id", "prompt", "canonical_solution", "test", "entry_point"]})
    write(out, cases, "openai/openai_humaneval", "openai_humaneval", "test",
          from_list(jsonl_rows(f"{root}/humaneval/HumanEval.jsonl.gz"), he_feats))

    mbpp_feats = Features(
        {
            "task_id": Value("int32"),
            "text": Value("string"),
            "code": Value("string"),
            "test_list": Sequence(Value("string")),
            "test_setup_code": Value("string"),
            "challenge_test_list": Sequence(Value("string")),
        }
    )
    mbpp = jsonl_rows(f"{root}/mbpp/mbpp.jsonl")
    for split, (lo, hi) in [("train", (601, 974)), ("test", (11, 510)), ("validation", (511, 600)), ("prompt", (1, 10))]:
        rows = [r for r in mbpp if lo <= r["task_id"] <= hi]
        write(out, cases, "google-research-datasets/mbpp", "full", split, from_list(rows, mbpp_feats))

    bbh_feats = Features({"input": Value("string"), "target": Value("string")})
    for path in sorted(glob.glob(f"{root}/bbh/bbh/*.json")):
        with open(path, encoding="utf-8") as f:
            examples = json.load(f)["examples"]
        rows = [{"input": e["input"], "target": e["target"]} for e in examples]
        write(out, cases, "SaylorTwift/bbh", os.path.basename(path)[:-5], "test", from_list(rows, bbh_feats))


def second_batch(root, out, cases, tmp):
    """gsm8k train, juletxara/mgsm, weitianwen/cmath, allenai/ai2_arc, ceval/ceval-exam, TIGER-Lab/MMLU-Pro."""
    write(out, cases, "openai/gsm8k", "main", "train", json_loader(f"{root}/gsm8k/train.jsonl", "train"))
    mgsm_feats = Features({"question": Value("string"), "answer": Value("string"),
                           "answer_number": Value("int32"), "equation_solution": Value("string")})
    for lang in ["en", "zh"]:
        rows = []
        with open(f"{root}/mgsm/mgsm_{lang}.tsv", encoding="utf-8") as f:  # mgsm.py's reader
            for row in csv.reader(f, quotechar='"', delimiter="\t"):
                rows.append({"question": row[0], "answer": None, "answer_number": int(row[1].replace(",", "")),
                             "equation_solution": None})
        write(out, cases, "juletxara/mgsm", lang, "test", from_list(rows, mgsm_feats))
    write(out, cases, "weitianwen/cmath", "default", "validation",
          json_loader(f"{root}/cmath/cmath_dev.jsonl", "validation"))
    S = Value("string")
    arc_feats = Features({"id": S, "question": S, "choices": Sequence({"text": S, "label": S}), "answerKey": S})
    for config in ["ARC-Challenge", "ARC-Easy"]:
        for split, part in [("train", "Train"), ("test", "Test"), ("validation", "Dev")]:
            rows = []
            for d in jsonl_rows(f"{root}/arc/{config}/{config}-{part}.jsonl"):  # ai2_arc.py
                ch = d["question"]["choices"]
                rows.append({"id": d["id"], "question": d["question"]["stem"],
                             "choices": {"text": [c["text"] for c in ch], "label": [c["label"] for c in ch]},
                             "answerKey": d["answerKey"]})
            write(out, cases, "allenai/ai2_arc", config, split, from_list(rows, arc_feats))
    ceval_feats = Features({"id": Value("int32"), "question": S, "A": S, "B": S, "C": S, "D": S, "answer": S,
                            "explanation": S})
    for split in ["val", "dev"]:
        for path in sorted(glob.glob(f"{root}/ceval/{split}/*_{split}.csv")):
            subject = os.path.basename(path)[: -len(f"_{split}.csv")]
            df = pd.read_csv(path, encoding="utf-8")  # ceval-exam.py
            rows = []
            for inst in df.to_dict(orient="records"):
                inst.setdefault("answer", "")
                inst.setdefault("explanation", "")
                rows.append(inst)
            arrow = os.path.join(tmp, "ceval.arrow")
            with ArrowWriter(features=ceval_feats, path=arrow) as w:
                for r in rows:
                    w.write(r)
                w.finalize()
            write(out, cases, "ceval/ceval-exam", subject, split, list(datasets.Dataset.from_file(arrow)))
    for split in ["test", "validation"]:
        write(out, cases, "TIGER-Lab/MMLU-Pro", "default", split,
              json_loader(f"{root}/mmlu_pro/{split}.jsonl", split))


def hendrycks_math(root, out, cases, tmp):
    """EleutherAI/hendrycks_math as its builder makes it, from the original files in MATH.tar.gz."""
    with tarfile.open(f"{root}/math/MATH.tar.gz") as tar:
        tar.extractall(tmp, filter="data")
    S = Value("string")
    feats = Features({"problem": S, "level": S, "type": S, "solution": S})
    for subject in ["algebra", "counting_and_probability", "geometry", "intermediate_algebra", "number_theory",
                    "prealgebra", "precalculus"]:
        for split in ["train", "test"]:
            rows = []
            for file in sorted(pathlib.Path(tmp, "MATH", split, subject).iterdir()):
                with open(file, encoding="utf-8") as f:
                    data = json.load(f)
                rows.append({k: data[k] for k in ["problem", "level", "type", "solution"]})
            write(out, cases, "EleutherAI/hendrycks_math", subject, split, from_list(rows, feats))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    root, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    global TMP
    tmp = TMP = os.path.join(out, "_tmp")
    os.makedirs(tmp, exist_ok=True)
    with open(os.path.join(out, "cases.jsonl"), "w", encoding="utf-8") as cases:
        mmlu(f"{root}/mmlu", out, cases)
        cmmlu(f"{root}/cmmlu", out, cases, tmp)
        truthfulqa(f"{root}/truthfulqa", out, cases)
        others(root, out, cases)
        second_batch(root, out, cases, tmp)
        hendrycks_math(root, out, cases, tmp)
    print(f"datasets {datasets.__version__}, pandas {pd.__version__}: wrote {out}/cases.jsonl")


if __name__ == "__main__":
    main()
