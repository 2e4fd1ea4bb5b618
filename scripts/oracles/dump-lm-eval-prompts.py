#!/usr/bin/env python3
"""Dump the requests lm-evaluation-harness 0.4.13 builds for some tasks, as JSON lines, offline.

  $YARDSTICK_PEER_PYTHON scripts/oracles/dump-lm-eval-prompts.py --tasks mmlu_anatomy,truthfulqa_mc1 \\
      [--num-fewshot K] [--limit N] [--seed 1234] [--include-path DIR] [--dataset-dir ORG/NAME[/CONFIG]=DIR]

Datasets come from scripts/lm_eval_local.py's offline stand-in for `datasets.load_dataset` (the original
benchmark files under ../shared/data), plus the packaged `json`/`csv`/`parquet` loaders for local
`data_files`, plus `--dataset-dir ORG/NAME[/CONFIG]=DIR`: that hub dataset (config) is read from
`DIR/<split>.jsonl` files with the `json` loader (synthetic fixtures for datasets not in shared/data). Tasks are loaded with lm-eval's own TaskManager and prepared exactly as `simple_evaluate` +
`evaluate` do: the CLI `num_fewshot` rule (a YAML `num_fewshot: 0` is never overridden), the few-shot seed,
`--limit` through `get_sample_size`, then `task.build_all_requests(...)` with no chat template.

Output, one JSON object per line:
  {"kind": "task", "task": name, "n_shot": k, "version": ..., "n_docs_total": N, "config": TaskConfig.to_dict()}
  {"kind": "doc", "task": name, "doc_id": i, "arguments": [[arg_0, arg_1], ...], "target": doc_to_target(doc),
   "doc": doc}
  {"kind": "group", "group": name, "children": [...], "aggregate_metric_list": [...], "version": ...}
Used by crates/yardstick-tasks/tests/lm_eval_parity.rs to compare Yardstick's prompts byte for byte.
"""
import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # scripts/: lm_eval_local


def install_datasets(dataset_dirs):
    import datasets
    import datasets.load
    import lm_eval_local

    original = datasets.load_dataset

    def load(path=None, name=None, *args, **kwargs):
        if path in ("json", "csv", "parquet", "text"):
            return original(path, name, *args, **kwargs)
        local = dataset_dirs.get(f"{path}/{name}") or dataset_dirs.get(path)
        if local:
            files = {p.stem: str(p) for p in sorted(Path(local).glob("*.jsonl"))}
            return original("json", data_files=files)
        return lm_eval_local.offline_load_dataset(path, name, *args, **kwargs)

    datasets.load_dataset = load
    datasets.load.load_dataset = load
    try:
        lm_eval_local.install_code_eval()  # humaneval/mbpp utils load HF's code_eval at import
    except ImportError:
        pass


def jsonable(o):
    try:
        json.dumps(o)
        return o
    except TypeError:
        if isinstance(o, dict):
            return {str(k): jsonable(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [jsonable(v) for v in o]
        if hasattr(o, "item"):
            return o.item()
        return str(o)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", required=True)
    ap.add_argument("--num-fewshot", type=int, default=None)
    ap.add_argument("--limit", type=float, default=None)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--include-path", action="append", default=[])
    ap.add_argument("--dataset-dir", action="append", default=[])
    args = ap.parse_args()

    install_datasets(dict(d.split("=", 1) for d in args.dataset_dir))
    import logging

    logging.disable(logging.WARNING)
    from lm_eval.api.group import Group
    from lm_eval.evaluator_utils import get_sample_size
    from lm_eval.tasks import TaskManager

    tm = TaskManager(include_path=args.include_path or None)
    loaded = tm.load([t for t in args.tasks.split(",") if t])
    out = sys.stdout
    for name, group in loaded.get("groups", {}).items():
        out.write(json.dumps({
            "kind": "group", "group": name, "alias": group.alias, "children": group.child_names,
            "aggregate_metric_list": jsonable([a.__dict__ for a in (group.aggregate_metric_list or [])]),
            "version": group.version,
        }, ensure_ascii=False) + "\n")
    for name, task in loaded["tasks"].items():
        # simple_evaluate's num_fewshot rule
        if args.num_fewshot is not None:
            if task.get_config("num_fewshot") != 0:
                task.set_config(key="num_fewshot", value=args.num_fewshot)
        elif task.get_config("num_fewshot") is None:
            task.set_config(key="num_fewshot", value=0)
        task.set_fewshot_seed(seed=args.seed)
        limit = args.limit
        if limit is not None and limit >= 1.0:
            limit = int(limit)
        limit = get_sample_size(task, limit)
        task.build_all_requests(limit=limit, rank=0, world_size=1)
        out.write(json.dumps({
            "kind": "task", "task": name, "n_shot": task.get_config("num_fewshot"),
            "version": jsonable(task.VERSION), "n_docs_total": len(task.eval_docs),
            "config": jsonable(task.dump_config()),
        }, ensure_ascii=False) + "\n")
        by_doc = {}
        for inst in task.instances:
            by_doc.setdefault(inst.doc_id, []).append(inst)
        for doc_id in sorted(by_doc):
            insts = sorted(by_doc[doc_id], key=lambda i: i.idx)
            doc = insts[0].doc
            out.write(json.dumps({
                "kind": "doc", "task": name, "doc_id": doc_id,
                "arguments": [jsonable(list(i.arguments)) for i in insts],
                "target": jsonable(task.doc_to_target(doc)),
                "doc": jsonable(doc),
            }, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
