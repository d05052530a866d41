"""The pruning study: pruned and shallow students of one teacher on the latency–F1 front, over seeds.

Every row is made from the teacher by ``edgekit prune`` (layers, heads and FFN neurons chosen by importance
on the training split, then recovered by distillation from the teacher) at one of :data:`ROWS`' shapes, with
``--seeds`` seeds (the seed draws the importance sample and drives recovery); the layer-only rows are the
3- and 2-layer students (teacher layers chosen by importance, distilled); the ``-ul`` rows' recovery also
learns from ``--unlabelled`` in-domain sentences the teacher labels. Each trained model also gets a
vocabulary-pruned twin (``-vocab``: the rows the training split and ``--corpus`` use, no fine-tuning). A row's
macro-F1 is the mean ± SD over its seeds (the Keras model on the test split). The first seed's model of
every row, the teacher and the teacher's vocabulary-pruned twin are converted (dynamic int8 and int8 by the
family recipe, bucketed, parity-gated) and measured in one bench run (1 thread, FPB test split): size, p50
and mean latency, and the file's own macro-F1. The BiLSTM reference is one model trained here for size and
latency; its F1 row is read from the distillation study's results (``--reference``).

    python -m edgekit.benchmarks.prune_study TEACHER --split SPLIT --work DIR --out results/prune-fpb75.json \\
        [--seeds 0,1,2] [--corpus FILE] [--phases train,convert,bench,report]

Resumable: a finished model, bundle or measurement in ``--work`` is reused. ``--phases`` runs some phases
only (the bench wants a machine at rest: train and convert first, bench and report when it is quiet).
Writes the JSON (``teacher`` row, ``rows``, ``targets``, the commit), a Markdown table and a PNG beside it.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger("edgekit.prune_study")

MODES = ("dynamic_int8", "int8")


@dataclass(frozen=True)
class StudyRow:
    id: str
    title: str
    layers: int | None = None
    heads: int | None = None
    ffn: int | None = None
    unlabelled: bool = False  # recovery also learns from --unlabelled's in-domain sentences (teacher-labelled)


ROWS: tuple[StudyRow, ...] = (
    StudyRow("bert-l3", "3-layer student (teacher layers by importance, distilled)", layers=3),
    StudyRow("bert-l2", "2-layer student (teacher layers by importance, distilled)", layers=2),
    StudyRow("prune-l4-h8-f768", "pruned: 4 layers, 8 heads, FFN 768, recovered", 4, 8, 768),
    StudyRow("prune-l3-h8-f768", "pruned: 3 layers, 8 heads, FFN 768, recovered", 3, 8, 768),
    StudyRow("prune-l2-h4-f384", "pruned: 2 layers, 4 heads, FFN 384, recovered", 2, 4, 384),
    StudyRow("bert-l3-ul", "3-layer student, distilled on the training split + --unlabelled", layers=3,
             unlabelled=True),
    StudyRow("prune-l4-h8-f768-ul", "pruned: 4 layers, 8 heads, FFN 768, recovered on the training split + "
             "--unlabelled", 4, 8, 768, unlabelled=True),
    StudyRow("prune-l2-h4-f384-ul", "pruned: 2 layers, 4 heads, FFN 384, recovered on the training split + "
             "--unlabelled", 2, 4, 384, unlabelled=True),
)
VOCAB_SUFFIX = "-vocab"

# The targets, relative to the teacher: (F1 points below it, share of its dynamic-int8 mean latency,
# size limit as a share of its int8 file or in MB).
TARGETS = {
    "A": {"max_f1_drop": 0.01, "max_latency_share": 0.40, "max_size_share_of_int8": 1 / 3, "max_size_mb": None},
    "B": {"max_f1_drop": 0.03, "max_latency_share": 0.15, "max_size_share_of_int8": None, "max_size_mb": 5.0},
}


# ------------------------------------------------------------------------------------------------ training
def train_row(row: StudyRow, seed: int, teacher, splits, work: Path, epochs: int, samples: int | None,
              corpus: list[str], unlabelled: Path | None) -> list[dict]:
    """The row's model for one seed and its vocabulary-pruned twin (each reused when already written)."""
    from edgekit.models.modeldir import METRICS_NAME, load_model_dir
    from edgekit.prune.job import PruneSettings, prune
    from edgekit.prune.recover import RecoverSettings
    from edgekit.prune.targets import Targets
    from edgekit.prune.vocab import prune_vocabulary_dir
    from edgekit.train.loop import TrainConfig

    out = work / "models" / f"{row.id}@{seed}"
    if not (out / METRICS_NAME).is_file():
        recover = RecoverSettings(cache_dir=str(work / "cache"),
                                  train=TrainConfig(epochs=epochs, learning_rate=5e-5, schedule="linear",
                                                    patience=epochs, seed=seed),
                                  unlabelled=str(unlabelled) if row.unlabelled else None)
        t0 = time.perf_counter()
        prune(teacher, splits, out, PruneSettings(Targets(layers=row.layers, heads=row.heads, ffn=row.ffn),
                                                  samples=samples, seed=seed, recover=recover, name=row.id),
              progress=False)
        logger.info(f"{row.id}@{seed}: pruned and recovered in {time.perf_counter() - t0:.0f}s")
    m = json.loads((out / METRICS_NAME).read_text())
    after = m["recovered"] or m["pruned"]
    records = [{"row": row.id, "seed": seed, "model_dir": str(out), "params": m["params"], "shape": m["shape"],
                "kept_layers": m["plan"]["layers"], "val_macro_f1": after["validation"]["macro_f1"],
                "test_macro_f1": after["test"]["macro_f1"], "seconds": m["total_seconds"]}]
    vout = work / "models" / f"{row.id}{VOCAB_SUFFIX}@{seed}"
    if not (vout / METRICS_NAME).is_file():
        prune_vocabulary_dir(load_model_dir(out), splits, vout, corpus, name=row.id + VOCAB_SUFFIX)
    v = json.loads((vout / METRICS_NAME).read_text())
    records.append({"row": row.id + VOCAB_SUFFIX, "seed": seed, "model_dir": str(vout), "params": v["params"],
                    "shape": m["shape"], "vocab_rows": v["rows"], "val_macro_f1": v["validation"]["macro_f1"],
                    "test_macro_f1": v["test"]["macro_f1"], "test_unk_share": v["test"]["unk_share"]})
    return records


def teacher_vocab(teacher, splits, work: Path, corpus: list[str]) -> dict:
    from edgekit.models.modeldir import METRICS_NAME
    from edgekit.prune.vocab import prune_vocabulary_dir

    out = work / "models" / f"teacher{VOCAB_SUFFIX}"
    if not (out / METRICS_NAME).is_file():
        prune_vocabulary_dir(teacher, splits, out, corpus, name="teacher" + VOCAB_SUFFIX)
    v = json.loads((out / METRICS_NAME).read_text())
    return {"row": "teacher" + VOCAB_SUFFIX, "seed": None, "model_dir": str(out), "params": v["params"],
            "source_test_macro_f1": v["source"]["test"]["macro_f1"],
            "vocab_rows": v["rows"], "val_macro_f1": v["validation"]["macro_f1"],
            "test_macro_f1": v["test"]["macro_f1"], "test_unk_share": v["test"]["unk_share"]}


def train_reference(teacher_dir: Path, splits, work: Path, run_id: str) -> Path:
    """One model of the distillation study's row ``run_id`` (its recipe), for size and latency."""
    from edgekit.distill.job import distill
    from edgekit.distill.study import BENCH_RUNS
    from edgekit.models.modeldir import METRICS_NAME

    out = work / "models" / run_id
    if (out / METRICS_NAME).is_file():
        return out
    run = next((r for r in BENCH_RUNS if r.id == run_id), None)
    if run is None:
        raise SystemExit(f"no distillation study row {run_id!r}")
    distill(teacher_dir, splits, out, run.settings(42, str(work / "cache")), progress=False)
    return out


# ---------------------------------------------------------------------------------------- convert, bench
def convert_all(models: dict[str, Path], splits, work: Path) -> dict[str, Path]:
    from edgekit.converters.convert import ConvertOptions, convert_model_dir

    options = ConvertOptions(modes=MODES, recipe="family", metadata=False, on_gate_failure="drop", overwrite=True)
    bundles = {}
    for name, model_dir in models.items():
        out = work / "bundles" / name
        if not (out / "manifest.json").is_file():
            t0 = time.perf_counter()
            convert_model_dir(model_dir, out, splits, options, progress=False)
            logger.info(f"{name}: converted in {time.perf_counter() - t0:.0f}s")
        bundles[name] = out
    return bundles


def bench_all(bundles: dict[str, Path], split_dir: Path, work: Path, passes: int = 1) -> list[Path]:
    """``passes`` bench runs over every bundle and mode (each resumable, one results file each)."""
    from edgekit.benchmarks.harness import BenchPlan, run_bench

    plan = BenchPlan(bundles=list(bundles.values()), modes=list(MODES), threads=[1], data=split_dir / "test.jsonl",
                     baseline=False, onnx=False)
    outs = []
    for i in range(passes):
        out = work / ("bench.jsonl" if i == 0 else f"bench-{i + 1}.jsonl")
        summary = run_bench(plan, out, progress=False)
        if summary["failed"]:
            raise SystemExit(f"{summary['failed']} measurement(s) failed; first: {summary['failures'][0]}")
        outs.append(out)
    return outs


def measured(benches: list[Path], bundles: dict[str, Path]) -> dict[str, dict]:
    """Bundle name → mode → size, latency (the median over the bench passes of each pass's p50 and mean) and
    the file's macro-F1."""
    from edgekit.runtime.records import latest_records

    by_path = {str(p.resolve()): name for name, p in bundles.items()}
    seen: dict[tuple[str, str], list[dict]] = {}
    for bench in benches:
        for r in latest_records([bench]):
            name = by_path.get(str(Path(r["bundle"]["path"]).resolve()))
            if name is not None and r["bundle"]["mode"] in MODES:
                seen.setdefault((name, r["bundle"]["mode"]), []).append(r)
    out: dict[str, dict] = {}
    for (name, mode), rs in seen.items():
        out.setdefault(name, {})[mode] = {
            "size_bytes": rs[0]["bundle"]["bytes"],
            "p50_ms": round(statistics.median(r["timing_ms"]["inference"]["p50"] for r in rs), 4),
            "mean_ms": round(statistics.median(r["timing_ms"]["inference"]["mean"] for r in rs), 4),
            "bench_passes": len(rs), "bundle_test_macro_f1": rs[0]["quality"].get("macro_f1")}
    return out


# ----------------------------------------------------------------------------------------------- report
def mean_sd(values: list[float]) -> tuple[float, float | None]:
    return round(statistics.fmean(values), 4), (round(statistics.stdev(values), 4) if len(values) > 1 else None)


def build_rows(records: list[dict], files: dict[str, dict], titles: dict[str, str]) -> list[dict]:
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(r["row"], []).append(r)
    rows = []
    for row_id, rs in groups.items():
        f1, sd = mean_sd([r["test_macro_f1"] for r in rs])
        val, val_sd = mean_sd([r["val_macro_f1"] for r in rs])
        row = {"id": row_id, "title": titles.get(row_id, row_id), "params": rs[0]["params"],
               "shape": rs[0].get("shape"), "vocab_rows": rs[0].get("vocab_rows"),
               "seeds": [r["seed"] for r in rs if r["seed"] is not None], "test_macro_f1": f1,
               "test_macro_f1_sd": sd, "test_macro_f1_each": [round(r["test_macro_f1"], 4) for r in rs],
               "val_macro_f1": val, "val_macro_f1_sd": val_sd, **files.get(row_id, {})}
        rows.append(row)
    return rows


def check_targets(teacher: dict, rows: list[dict]) -> dict:
    """Per target: every (row, mode) that meets it, and the closest miss when none does."""
    t_lat = teacher["dynamic_int8"]["mean_ms"]
    t_int8 = teacher["int8"]["size_bytes"]
    out = {}
    for name, tg in TARGETS.items():
        f1_floor = teacher["test_macro_f1"] - tg["max_f1_drop"]
        lat_limit = tg["max_latency_share"] * t_lat
        size_limit = (tg["max_size_share_of_int8"] * t_int8 if tg["max_size_share_of_int8"]
                      else tg["max_size_mb"] * 1e6)
        checked = []
        for r in rows:
            for mode in MODES:
                f = r.get(mode)
                if not f:
                    continue
                checked.append({"row": r["id"], "mode": mode, "test_macro_f1": r["test_macro_f1"],
                                "mean_ms": f["mean_ms"], "size_bytes": f["size_bytes"],
                                "f1_ok": r["test_macro_f1"] >= f1_floor, "latency_ok": f["mean_ms"] <= lat_limit,
                                "size_ok": f["size_bytes"] <= size_limit})
        met = [c for c in checked if c["f1_ok"] and c["latency_ok"] and c["size_ok"]]
        fast_small = [c for c in checked if c["latency_ok"] and c["size_ok"]]
        out[name] = {"f1_floor": round(f1_floor, 4), "mean_ms_limit": round(lat_limit, 4),
                     "size_bytes_limit": int(size_limit), "met": bool(met), "meeting": met,
                     "best_f1_within_latency_and_size": max(fast_small, key=lambda c: c["test_macro_f1"], default=None)}
    return out


def table(teacher: dict, rows: list[dict]) -> str:
    head = ("| row | params | test macro-F1 (mean ± SD, seeds) | dyn. int8 MB | dyn. int8 p50 / mean ms | int8 MB | "
            "int8 p50 / mean ms |")
    lines = [head, "|---|---:|---|---:|---:|---:|---:|"]
    for r in [teacher, *rows]:
        sd = f" ± {r['test_macro_f1_sd']:.4f}" if r.get("test_macro_f1_sd") is not None else ""
        n = f" ({len(r['seeds'])})" if r.get("seeds") else ""
        cells = [r["id"], f"{r['params'] / 1e6:.2f} M", f"{r['test_macro_f1']:.4f}{sd}{n}"]
        for mode in MODES:
            f = r.get(mode)
            cells += ([f"{f['size_bytes'] / 1e6:.2f}", f"{f['p50_ms']:.3f} / {f['mean_ms']:.3f}"] if f else ["–", "–"])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(teacher: dict, rows: list[dict], path: Path) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    from edgekit.plots import label_points, pyplot, save_png
    from edgekit.reports.results_report import pareto

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    everyone = [teacher, *[r for r in rows if r.get("dynamic_int8")]]
    for ax, (key, field, label) in zip(axes, (("dynamic_int8", "mean_ms", "mean latency, dynamic int8, ms (1 thread)"),
                                              ("int8", "size_bytes", "int8 file size, MB"))):
        pts, names = [], []
        for r in everyone:
            f = r.get(key) or r.get("dynamic_int8")
            x = f[field] / (1e6 if field == "size_bytes" else 1)
            y = r["test_macro_f1"]
            ax.errorbar([x], [y], yerr=[r.get("test_macro_f1_sd") or 0], fmt="*" if r is teacher else "o",
                        ms=11 if r is teacher else 6, capsize=3, color="black" if r is teacher else None)
            pts.append((x, y))
            names.append(r["id"])
        front = pareto(pts)
        xs, ys = zip(*[pts[i] for i in front])
        ax.step(xs, ys, where="post", color="tab:red", lw=1.3, alpha=0.8, label="Pareto front")
        for (name, tg), color in zip(TARGETS.items(), ("tab:green", "tab:blue")):
            floor = teacher["test_macro_f1"] - tg["max_f1_drop"]
            if field == "mean_ms":
                limit = tg["max_latency_share"] * teacher["dynamic_int8"]["mean_ms"]
            else:
                limit = (tg["max_size_share_of_int8"] * teacher["int8"]["size_bytes"] / 1e6
                         if tg["max_size_share_of_int8"] else tg["max_size_mb"])
            # the target's region: at most its latency (size), at least its macro-F1
            ax.fill_between([min(p[0] for p in pts) * 0.8, limit], floor, 0.95, color=color, alpha=0.08, lw=0)
            ax.plot([limit, limit], [floor, 0.95], color=color, lw=0.8, ls=":")
            ax.plot([min(p[0] for p in pts) * 0.8, limit], [floor, floor], color=color, lw=0.8, ls=":")
            ax.text(limit, floor, f"target {name} ", fontsize=7, ha="right", va="bottom", color=color)
        ax.set_xscale("log")  # ticks at 1, 2, 5 × 10^k written plainly, as in the bench report
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(label)
        ax.set_ylabel("test macro-F1 (mean ± SD over seeds)")
        ax.grid(alpha=0.3)
        ax.margins(x=0.15, y=0.12)
        label_points(ax, pts, names)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("FPB 75Agree: pruned and shallow students vs the teacher", fontsize=10)
    save_png(fig, path)


# ------------------------------------------------------------------------------------------------- main
def study_logging(study_logger: logging.Logger) -> None:
    """A study's own progress lines with times; edgekit's, absl's and TensorFlow's only from warnings up."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for name in ("edgekit", "absl", "tensorflow"):
        logging.getLogger(name).setLevel(logging.WARNING)
    study_logger.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    from edgekit.data import Splits
    from edgekit.fsutil import atomic_write_json, atomic_write_text
    from edgekit.models.modeldir import load_model_dir
    from edgekit.provenance import stamp

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("teacher", type=Path)
    ap.add_argument("--split", type=Path, required=True, help="split folder the teacher was trained on")
    ap.add_argument("--work", type=Path, required=True, help="folder for models, bundles and measurements (resumable)")
    ap.add_argument("--out", type=Path, required=True, help="results JSON (a .md table and a .png beside it)")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--rows", default=",".join(r.id for r in ROWS))
    ap.add_argument("--epochs", type=int, default=3, help="recovery epochs")
    ap.add_argument("--samples", type=int, default=1000, help="training sentences importance reads")
    ap.add_argument("--corpus", type=Path, default=None, help="more domain text for the vocabulary (one per line)")
    ap.add_argument("--unlabelled", type=Path, default=None,
                    help="in-domain sentences the -ul rows' recovery also learns from (FPB: Sentences_50Agree.txt, "
                         "whose sentences outside the split are the ones annotators agreed on less)")
    ap.add_argument("--reference", default="results/distill-fpb75.json:bilstm-kd-aug-ema",
                    help="RESULTS_JSON:ROW of the distillation study: the BiLSTM reference row")
    ap.add_argument("--phases", default="train,convert,bench,report")
    ap.add_argument("--bench-passes", type=int, default=3,
                    help="bench runs over every file; latency is the median of the passes' p50 and mean")
    args = ap.parse_args(argv)
    study_logging(logger)
    phases = set(args.phases.split(","))
    seeds = [int(s) for s in args.seeds.split(",")]
    by_id = {r.id: r for r in ROWS}
    rows = [by_id[i] for i in args.rows.split(",")]
    if any(r.unlabelled for r in rows) and args.unlabelled is None:
        raise SystemExit("the -ul rows need --unlabelled FILE")
    ref_file, _, ref_row = args.reference.rpartition(":")
    ref_results = json.loads(Path(ref_file).read_text())
    ref = next(r for r in ref_results["rows"] if r["id"] == ref_row)
    splits = Splits.load(args.split)
    if ref_results.get("split_sha256", {}).get("test") not in (None, splits.info["sha256"]["test"]):
        raise SystemExit("the reference row was measured on another split")
    corpus = ([ln for ln in args.corpus.read_text(encoding="utf-8").splitlines() if ln.strip()]
              if args.corpus else [])
    work = args.work
    teacher = load_model_dir(args.teacher)

    records = [teacher_vocab(teacher, splits, work, corpus)]
    for row in rows:
        for seed in seeds:
            if "train" in phases or (work / "models" / f"{row.id}{VOCAB_SUFFIX}@{seed}").is_dir():
                records += train_row(row, seed, teacher, splits, work, args.epochs, args.samples, corpus,
                                     args.unlabelled)
    ref_dir = train_reference(args.teacher, splits, work, ref_row) if "train" in phases else work / "models" / ref_row
    first = {r["row"]: Path(r["model_dir"]) for r in reversed(records) if r["seed"] in (None, seeds[0])}
    models = {"teacher": args.teacher, **first, ref_row: ref_dir}
    if "convert" in phases:
        convert_all(models, splits, work)
    bundles = {name: work / "bundles" / name for name in models if (work / "bundles" / name / "manifest.json").is_file()}
    benches = [work / "bench.jsonl", *sorted(work.glob("bench-*.jsonl"))]
    if "bench" in phases:
        benches = bench_all(bundles, args.split, work, args.bench_passes)
    if "report" not in phases:
        return 0
    files = measured([b for b in benches if b.is_file()], bundles)
    titles = {r.id: r.title for r in rows}
    titles.update({r.id + VOCAB_SUFFIX: r.title + " + vocabulary of the training split"
                   + (" and the corpus" if corpus else "") for r in rows})
    titles["teacher" + VOCAB_SUFFIX] = "teacher + pruned vocabulary (no fine-tuning)"
    t_meta = json.loads((args.teacher / "edgekit_model.json").read_text())
    teacher_row = {"id": "teacher", "title": "teacher", "params": int(teacher.model.count_params()),
                   "test_macro_f1": round(records[0]["source_test_macro_f1"], 4), "seeds": [], **files["teacher"]}
    out_rows = build_rows([r for r in records if r["row"] != ref_row], files, titles)
    out_rows.append({"id": ref_row, "title": ref["title"] + " (reference; F1 from the distillation study)",
                     "params": ref["params"], "seeds": ref["seeds"], "test_macro_f1": ref["test_macro_f1"],
                     "test_macro_f1_sd": ref["test_macro_f1_sd"], "f1_source": f"{ref_file} ({ref_results['git_commit']})",
                     **files.get(ref_row, {})})
    result = {"kind": "edgekit-prune-study", **stamp(), "dataset": splits.info.get("dataset"),
              "split_sha256": splits.info["sha256"], "teacher_dir": str(args.teacher),
              "teacher_family": t_meta["family"], "settings": {"seeds": seeds, "recovery_epochs": args.epochs,
                                                               "importance_samples": args.samples,
                                                               "unlabelled": str(args.unlabelled or ""),
                                                               "corpus_sentences": len(corpus), "modes": list(MODES),
                                                               "threads": 1, "bench_data": "test split",
                                                               "bench_passes": args.bench_passes},
              "teacher": teacher_row, "rows": out_rows, "targets": check_targets(teacher_row, out_rows),
              "records": records}
    atomic_write_json(args.out, result)
    md = table(teacher_row, out_rows)
    atomic_write_text(args.out.with_suffix(".md"), md + "\n")
    plot(teacher_row, out_rows, args.out.with_suffix(".png"))
    print(md)
    for name, t in result["targets"].items():
        print(f"target {name}: {'met' if t['met'] else 'not met'} (F1 ≥ {t['f1_floor']}, mean ≤ {t['mean_ms_limit']} ms, "
              f"≤ {t['size_bytes_limit'] / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
