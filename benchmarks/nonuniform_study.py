"""Does non-uniform pruning pay after recovery? Uniform and global (non-uniform) selections of one shape, recovered.

For each seed: the layers and the head/neuron importance as ``edgekit prune`` measures them (the seed draws the
importance sample), then one plan per selection with the same number of heads and neurons in total (so the same
parameter count):

- ``uniform``: each kept layer keeps its own ``--heads`` / ``--ffn`` most important (what ``edgekit prune`` does);
- ``global``: the highest importance across the kept layers, at least one head and neuron per layer;
- ``global-normalised``: the same after dividing each layer's scores by their L2 norm (Michel et al. 2019).

Each plan is recovered exactly as the pruning study's rows are (3 epochs of distillation from the teacher, its
loss, learning rate and teacher cache, ``--unlabelled`` sentences, the seed driving training), on the masked
model (``Pruner.masked``: the kept layers at full width with the removed structures zeroed and held at zero, which
computes and trains as the pruned model; tested). So the uniform and non-uniform rows differ only in which
structures stay. Writes every seed's validation and test macro-F1 before and after recovery, each plan's
per-layer counts, and mean ± SD per selection.

    python -m edgekit.benchmarks.nonuniform_study TEACHER --split SPLIT --work DIR --out results/X.json \\
        --layers 4 --heads 8 --ffn 768 [--unlabelled FILE] [--seeds 0,1,2] [--selections uniform,global]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from .prune_study import mean_sd, study_logging

logger = logging.getLogger("edgekit.nonuniform_study")

SELECTIONS = ("uniform", "global", "global-normalised")


def plans(selection_names: list[str], importance, layers: int, heads: int, ffn: int) -> dict:
    from edgekit.prune.plan import Shape, select_global, select_plan

    made = {"uniform": lambda: select_plan(Shape(layers, heads, ffn), importance.layers, importance.heads,
                                           importance.neurons),
            "global": lambda: select_global(importance.layers, importance.heads, importance.neurons,
                                            layers * heads, layers * ffn),
            "global-normalised": lambda: select_global(importance.layers, importance.heads, importance.neurons,
                                                       layers * heads, layers * ffn, normalise=True)}
    return {name: made[name]() for name in selection_names}


def run_seed(teacher, splits, enc: dict, seed: int, args) -> list[dict]:
    """Every selection's record for one seed (each reused when already written)."""
    from edgekit.fsutil import atomic_write_json
    from edgekit.models.registry import get_family
    from edgekit.prune.job import measure_importance
    from edgekit.prune.recover import RecoverSettings, recover
    from edgekit.train.loop import TrainConfig, evaluate

    selections = args.selections.split(",")
    paths = {name: args.work / f"{name}@{seed}.json" for name in selections}
    if all(p.is_file() for p in paths.values()):
        return [json.loads(p.read_text()) for p in paths.values()]
    importance = measure_importance(teacher, splits, enc["train"], args.layers, True, args.samples, seed, 32)
    pruner = get_family(teacher.family).pruner
    gold = {part: np.asarray(getattr(splits, part).label_ids, np.int32) for part in ("validation", "test")}

    def reports(model) -> dict:
        return {part: round(evaluate(model, enc[part], gold[part], teacher.labels)["macro_f1"], 4) for part in gold}

    records = []
    for name, plan in plans(selections, importance, args.layers, args.heads, args.ffn).items():
        if paths[name].is_file():
            records.append(json.loads(paths[name].read_text()))
            continue
        t0 = time.perf_counter()
        model = pruner.masked(teacher.model, plan)
        before = reports(model)
        settings = RecoverSettings(cache_dir=str(args.cache_dir or args.work / "cache"),
                                   train=TrainConfig(epochs=args.epochs, learning_rate=5e-5, schedule="linear",
                                                     patience=args.epochs, seed=seed, max_length=teacher.max_length),
                                   unlabelled=str(args.unlabelled) if args.unlabelled else None)
        history, _ = recover(teacher, model, plan.layers, splits, enc, settings, progress=False)
        record = {"selection": name, "seed": seed, "layers": list(plan.layers), **plan.counts(),
                  "before": before, "after": reports(model), "best_epoch": history.best_epoch,
                  "importance_sentences": importance.sentences, "seconds": round(time.perf_counter() - t0, 1)}
        atomic_write_json(paths[name], record)
        logger.info(f"{name}@{seed}: heads {record['heads']}, validation {before['validation']} → "
                    f"{record['after']['validation']}, test {record['after']['test']} ({record['seconds']:.0f}s)")
        records.append(record)
    return records


def summarize(records: list[dict]) -> list[dict]:
    rows = []
    for name in dict.fromkeys(r["selection"] for r in records):
        rs = [r for r in records if r["selection"] == name]
        row = {"selection": name, "seeds": [r["seed"] for r in rs]}
        for key, part in (("val", "validation"), ("test", "test")):
            for stage in ("before", "after"):
                mean, sd = mean_sd([r[stage][part] for r in rs])
                row[f"{key}_macro_f1_{stage}"], row[f"{key}_macro_f1_{stage}_sd"] = mean, sd or 0.0
        rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| selection | seeds | val. macro-F1 before recovery | val. macro-F1 after | test macro-F1 after |",
             "|---|---:|---|---|---|"]
    for r in rows:
        cell = lambda k: f"{r[k]:.4f} ± {r[k + '_sd']:.4f}"  # noqa: E731
        lines.append(f"| {r['selection']} | {len(r['seeds'])} | {cell('val_macro_f1_before')} | "
                     f"{cell('val_macro_f1_after')} | {cell('test_macro_f1_after')} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from edgekit.data import Splits
    from edgekit.fsutil import atomic_write_json
    from edgekit.models.modeldir import load_model_dir
    from edgekit.provenance import stamp
    from edgekit.train.encode import encode_texts

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("teacher", type=Path)
    ap.add_argument("--split", type=Path, required=True, help="split folder the teacher was trained on")
    ap.add_argument("--work", type=Path, required=True, help="folder for each run's record (resumable)")
    ap.add_argument("--out", type=Path, required=True, help="results JSON")
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--heads", type=int, required=True, help="heads per kept layer (uniform); the total is kept")
    ap.add_argument("--ffn", type=int, required=True, help="FFN neurons per kept layer (uniform); the total is kept")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--selections", default="uniform,global")
    ap.add_argument("--epochs", type=int, default=3, help="recovery epochs")
    ap.add_argument("--samples", type=int, default=1000, help="training sentences importance reads")
    ap.add_argument("--unlabelled", type=Path, default=None, help="in-domain sentences recovery also learns from")
    ap.add_argument("--cache-dir", type=Path, default=None, help="teacher-output cache (default WORK/cache)")
    args = ap.parse_args(argv)
    unknown = set(args.selections.split(",")) - set(SELECTIONS)
    if unknown:
        raise SystemExit(f"unknown selection(s) {', '.join(sorted(unknown))}: choose from {', '.join(SELECTIONS)}")
    study_logging(logger)
    args.work.mkdir(parents=True, exist_ok=True)
    teacher = load_model_dir(args.teacher)
    splits = Splits.load(args.split)
    enc = {part: encode_texts(teacher.tokenizer, getattr(splits, part).texts, teacher.max_length)
           for part in ("train", "validation", "test")}
    records = []
    for seed in (int(s) for s in args.seeds.split(",")):
        records += run_seed(teacher, splits, enc, seed, args)
    rows = summarize(records)
    atomic_write_json(args.out, {"kind": "edgekit-nonuniform-study", **stamp(), "dataset": splits.info.get("dataset"),
                                 "split_sha256": splits.info["sha256"], "teacher_dir": str(args.teacher),
                                 "settings": {"layers": args.layers, "heads": args.heads, "ffn": args.ffn,
                                              "epochs": args.epochs, "samples": args.samples,
                                              "unlabelled": str(args.unlabelled or "")},
                                 "rows": rows, "records": records})
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
