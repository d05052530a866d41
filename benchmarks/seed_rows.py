"""Seeded rows from finished model directories: macro-F1 mean ± SD over the seeds of each row.

For experiments run with the CLI one seed at a time (``edgekit prune ... --seed S``, ``edgekit prune-vocab
--recover --seed S``, ...): each ``--row ID=DIR,DIR,...`` names the model directories of one row, one per seed.
Reads each directory's metrics.json (the final model's validation and test macro-F1: the top-level report,
else the recovered one, else the pruned one) and edgekit_model.json (the commit that made it). Prints a table
and writes JSON with every seed's figures.

    python -m edgekit.benchmarks.seed_rows --row prune-l4-h8-f768-ul-aug4=runs/aug@0,runs/aug@1,runs/aug@2 \\
        --out results/prune-fpb75-aug.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .prune_study import mean_sd


def final_report(metrics: dict) -> dict:
    """The validation and test reports of the directory's final model."""
    for report in (metrics, metrics.get("recovered") or {}, metrics.get("pruned") or {}):
        if isinstance(report.get("test"), dict) and "macro_f1" in report["test"]:
            return {"validation": report["validation"], "test": report["test"]}
    raise SystemExit(f"error: metrics of {metrics.get('model')!r} hold no test report")


def read_seed(model_dir: Path) -> dict:
    metrics = json.loads((model_dir / "metrics.json").read_text())
    meta = json.loads((model_dir / "edgekit_model.json").read_text())
    report = final_report(metrics)
    return {"model_dir": str(model_dir), "params": metrics.get("params"), "git_commit": meta.get("git_commit"),
            "val_macro_f1": round(report["validation"]["macro_f1"], 4),
            "test_macro_f1": round(report["test"]["macro_f1"], 4)}


def summarize(row_id: str, seeds: list[dict]) -> dict:
    out = {"id": row_id, "seeds": len(seeds), "params": seeds[0]["params"]}
    for key in ("val_macro_f1", "test_macro_f1"):
        values = [s[key] for s in seeds]
        mean, sd = mean_sd(values)
        out[key], out[key + "_sd"], out[key + "_each"] = mean, sd or 0.0, values
    out["commits"] = sorted({str(s["git_commit"]) for s in seeds})
    return out


def main(argv: list[str] | None = None) -> int:
    from edgekit.fsutil import atomic_write_json
    from edgekit.provenance import stamp

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--row", action="append", required=True, metavar="ID=DIR,DIR,...",
                    help="a row and its model directories, one per seed (repeatable)")
    ap.add_argument("--out", required=True, help="JSON results file")
    args = ap.parse_args(argv)
    rows, records = [], {}
    for spec in args.row:
        row_id, sep, dirs = spec.partition("=")
        paths = [Path(d) for d in dirs.split(",") if d]
        if not sep or not paths:
            print(f"error: --row {spec!r}: expected ID=DIR,DIR,...", file=sys.stderr)
            return 2
        missing = [str(p) for p in paths if not (p / "metrics.json").is_file()]
        if missing:
            print(f"error: no metrics.json in {', '.join(missing)}", file=sys.stderr)
            return 2
        records[row_id] = [read_seed(p) for p in paths]
        rows.append(summarize(row_id, records[row_id]))
    print("| row | seeds | params | val. macro-F1 | test macro-F1 |\n|---|---:|---:|---|---|")
    for r in rows:
        print(f"| {r['id']} | {r['seeds']} | {r['params'] / 1e6:.2f} M | {r['val_macro_f1']:.4f} ± "
              f"{r['val_macro_f1_sd']:.4f} | {r['test_macro_f1']:.4f} ± {r['test_macro_f1_sd']:.4f} |")
    atomic_write_json(Path(args.out), {"kind": "edgekit-seed-rows", **stamp(), "rows": rows, "records": records})
    return 0


if __name__ == "__main__":
    sys.exit(main())
