"""The ``bench`` (order 50) and ``report`` (order 60) stages of ``edgekit run``.

``bench`` measures every bundle under ``RUN/bundles`` (whatever the conversion stages wrote) on the
run's test split, locally, plus the emulated ``arm64:CPU`` target with ``--arm`` (on the first
``arm_limit`` test sentences: emulation is ~500x slower); the source Keras models are measured in the
same run. Results go to ``RUN/results/results.jsonl`` (resumable if the stage is killed; records of
an older plan are dropped). ``report`` writes ``RUN/report/report.{md,html}``. Their fingerprints
include every upstream stage's, so a new teacher or new bundles re-run them.
"""

from __future__ import annotations

from pathlib import Path

from ..pipeline import STAGES, RunContext, RunSettings, stage


def _upstream(s: RunSettings, below: int) -> dict:
    return {st.name: st.fingerprint(s) for st in STAGES.values() if st.order < below}


def _bench_fp(s: RunSettings) -> dict:
    return {"upstream": _upstream(s, 50), "arm": getattr(s, "arm", False), "arm_cpu": getattr(s, "arm_cpu", None),
            "arm_limit": getattr(s, "arm_limit", None), "threads": list(getattr(s, "bench_threads", (1,)))}


def bundles_of(run_dir: Path) -> list[Path]:
    root = run_dir / "bundles"
    return sorted(p for p in root.glob("*") if (p / "manifest.json").is_file()) if root.is_dir() else []


@stage("bench", "benchmark every bundle (local; --arm adds emulated arm64) and the source Keras models", _bench_fp,
       order=50)
def run_bench_stage(ctx: RunContext) -> dict:
    from ..errors import EdgekitError
    from .harness import BenchPlan, prune_results, run_bench

    s = ctx.settings
    bundles = bundles_of(ctx.out)
    if not bundles:
        raise EdgekitError(f"no bundles under {ctx.out / 'bundles'} to benchmark (did the convert stage run?)")
    test = ctx.out / "data" / "test.jsonl"
    targets = ["local"]
    limits = {}
    if getattr(s, "arm", False):
        from .targets import arm64

        arm64.prepare(log=ctx.log)
        spec = f"arm64:{getattr(s, 'arm_cpu', arm64.DEFAULT_CPU)}"
        targets.append(spec)
        limits[spec] = getattr(s, "arm_limit", 100)
    plan = BenchPlan(bundles=bundles, targets=targets, threads=list(getattr(s, "bench_threads", (1,))), data=test,
                     target_limits=limits)
    out = ctx.out / "results" / "results.jsonl"
    summary = run_bench(plan, out, log=ctx.log, progress=True)
    prune_results(plan, out)
    if summary["failed"]:
        raise EdgekitError(f"{summary['failed']} benchmark(s) failed; first: {summary['failures'][0]}")
    return {"results": str(out), "measurements": summary["planned"], "targets": ",".join(targets),
            "bundles": len(bundles)}


def _report_fp(s: RunSettings) -> dict:
    return {"bench": _bench_fp(s)}


@stage("report", "write the benchmark report (Markdown + HTML) and the pick under a budget", _report_fp, order=60)
def run_report_stage(ctx: RunContext) -> dict:
    from ..reports.bench import write_report

    paths = write_report([ctx.out / "results" / "results.jsonl"], ctx.out / "report",
                         title="edgekit run — benchmark report")
    return {"report": str(paths["html"]), "recommendation": paths["recommendation"] or "-"}
