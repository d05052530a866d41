"""Would a low-rank token table pay? Macro-F1 of models whose token table is cut to rank r, before any recovery.

For each model directory: the SVD of its token-embedding table (the weight with one row per vocabulary entry,
as ``edgekit prune-vocab`` finds it), then, per rank r, the model with the table replaced by its best rank-r
approximation (U_r S_r V_rᵀ, what a factorised table ``[vocab, r] · [r, width]`` computes) scored on the
validation and test splits. Also per rank: the share of the table's squared singular values kept and the
int8 bytes a factorised table would take (r × (vocab + width)) against the full table's. Rows are the mean ±
SD over the models (e.g. the seeds of one study row). The models are left unchanged.

    python -m edgekit.benchmarks.table_rank runs/a@0 runs/a@1 runs/a@2 --split SPLIT --ranks 384,192,128,96 \\
        --out results/table-rank.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .prune_study import mean_sd


def token_table(loaded):
    """The model's token-embedding variable: the weight with one row per vocabulary entry."""
    from edgekit.models.registry import get_family

    rows = get_family(loaded.family).embedding_rows(loaded.model)
    tables = [w for w in loaded.model.weights if len(w.shape) == 2 and int(w.shape[0]) == rows]
    if len(tables) != 1:
        raise SystemExit(f"error: {loaded.path}: expected one weight with {rows} rows, found {len(tables)}")
    return tables[0]


def score_ranks(loaded, splits, ranks: list[int]) -> list[dict]:
    """One record per rank: validation/test macro-F1 of the model with its table at that rank."""
    from edgekit.train.encode import encode_texts
    from edgekit.train.loop import evaluate

    parts = ("validation", "test")
    enc = {p: encode_texts(loaded.tokenizer, getattr(splits, p).texts, loaded.max_length) for p in parts}
    gold = {p: np.asarray(getattr(splits, p).label_ids, np.int32) for p in parts}
    table = token_table(loaded)
    original = table.numpy()
    u, s, vt = np.linalg.svd(original.astype(np.float64), full_matrices=False)
    energy = np.cumsum(s ** 2) / np.sum(s ** 2)
    vocab, width = original.shape
    records = []
    try:
        for r in ranks:
            r_eff = min(r, len(s))
            table.assign(((u[:, :r_eff] * s[:r_eff]) @ vt[:r_eff]).astype(original.dtype))
            f1 = {f"{p}_macro_f1": round(evaluate(loaded.model, enc[p], gold[p], loaded.labels)["macro_f1"], 4)
                  for p in parts}
            records.append({"model_dir": str(loaded.path), "rank": r, "energy": round(float(energy[r_eff - 1]), 4),
                            "int8_table_bytes": r_eff * (vocab + width), "full_int8_table_bytes": vocab * width, **f1})
    finally:
        table.assign(original)
    return records


def summarize(records: list[dict]) -> list[dict]:
    rows = []
    for r in dict.fromkeys(rec["rank"] for rec in records):
        rs = [rec for rec in records if rec["rank"] == r]
        row = {"rank": r, "models": len(rs), "energy": rs[0]["energy"], "int8_table_bytes": rs[0]["int8_table_bytes"],
               "full_int8_table_bytes": rs[0]["full_int8_table_bytes"]}
        for key in ("validation_macro_f1", "test_macro_f1"):
            row[key], sd = mean_sd([rec[key] for rec in rs])
            row[key + "_sd"] = sd or 0.0
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    from edgekit.data import Splits
    from edgekit.fsutil import atomic_write_json
    from edgekit.models.modeldir import load_model_dir
    from edgekit.provenance import stamp

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", type=Path, help="model directories (e.g. the seeds of one row)")
    ap.add_argument("--split", type=Path, required=True, help="split folder the models were trained on")
    ap.add_argument("--ranks", default="384,192,128,96,64", help="comma-separated ranks")
    ap.add_argument("--out", type=Path, required=True, help="results JSON")
    args = ap.parse_args(argv)
    try:
        ranks = [int(r) for r in args.ranks.split(",")]
    except ValueError:
        raise SystemExit(f"error: --ranks {args.ranks!r}: expected comma-separated integers") from None
    if not ranks or min(ranks) < 1:
        raise SystemExit("error: every rank must be >= 1")
    splits = Splits.load(args.split)
    records = []
    for path in args.models:
        records += score_ranks(load_model_dir(path), splits, ranks)
    rows = summarize(records)
    atomic_write_json(args.out, {"kind": "edgekit-table-rank", **stamp(), "split_sha256": splits.info["sha256"],
                                 "rows": rows, "records": records})
    print("| rank | energy kept | int8 table MB (full) | val. macro-F1 | test macro-F1 |\n|---:|---:|---:|---|---|")
    for r in rows:
        print(f"| {r['rank']} | {r['energy']:.3f} | {r['int8_table_bytes'] / 1e6:.2f} "
              f"({r['full_int8_table_bytes'] / 1e6:.2f}) | {r['validation_macro_f1']:.4f} ± "
              f"{r['validation_macro_f1_sd']:.4f} | {r['test_macro_f1']:.4f} ± {r['test_macro_f1_sd']:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
