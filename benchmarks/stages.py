"""The ``bench`` and ``report`` stages of ``edgekit run``.

``bench`` needs the data and the conversion: it measures every bundle the convert stage wrote on the
run's test split, locally, plus the emulated ``arm64:CPU`` target with ``--arm`` (on the first
``arm_limit`` test sentences: emulation is ~500x slower); the source Keras models are measured in the
same run. Results go to ``RUN/results/results.jsonl`` (resumable if the stage is killed; records of
an older plan are dropped). ``report`` needs the bench results and writes ``RUN/report/report.{md,html}``.
"""

from __future__ import annotations

from pathlib import Path

from ..pipeline import BenchSettings, StageContext, stage


@stage("bench", "benchmark every bundle (local; --arm adds emulated arm64) and the source Keras models",
       needs=("data", "convert"), settings="bench")
def run_bench_stage(ctx: StageContext) -> dict:
    from ..errors import EdgekitError
    from .harness import BenchPlan, prune_results, run_bench

    s: BenchSettings = ctx.settings
    bundles = sorted(Path(p) for p in ctx.inputs["convert"]["bundles"].values())
    if not bundles:
        raise EdgekitError("the convert stage wrote no bundles to benchmark")
    targets = ["local"]
    limits = {}
    if s.arm:
        from .targets import arm64

        arm64.prepare()
        spec = f"arm64:{s.arm_cpu}"
        targets.append(spec)
        limits[spec] = s.arm_limit
    plan = BenchPlan(bundles=bundles, targets=targets, threads=list(s.threads),
                     data=Path(ctx.inputs["data"]["split_dir"]) / "test.jsonl", target_limits=limits)
    out = ctx.out / "results" / "results.jsonl"
    summary = run_bench(plan, out, progress=True)
    prune_results(plan, out)
    if summary["failed"]:
        raise EdgekitError(f"{summary['failed']} benchmark(s) failed; first: {summary['failures'][0]}")
    return {"results": str(out), "measurements": summary["planned"], "targets": ",".join(targets),
            "bundles": len(bundles)}


@stage("report", "write the benchmark report (Markdown + HTML) and the pick under a budget", needs=("bench",))
def run_report_stage(ctx: StageContext) -> dict:
    from ..reports.results_report import write_report

    paths = write_report([Path(ctx.inputs["bench"]["results"])], ctx.out / "report",
                         title="edgekit run — benchmark report")
    return {"report": str(paths["html"]), "recommendation": paths["recommendation"] or "-"}
