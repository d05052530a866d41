"""``edgekit bench``, ``edgekit report`` and ``edgekit arm64 prepare|python``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..benchmarks.targets import targets_help
from ..benchmarks.targets.arm64 import DEFAULT_CPU
from ..errors import EdgekitError
from .options import POSITIVE_FLOAT, SHARE, int_list, split_csv


@click.command("bench")
@click.argument("bundles", nargs=-1, required=True, type=click.Path())
@click.option("--target", "targets", multiple=True, default=("local",), show_default=True,
              help=f"Where to run (repeatable or comma-separated): {targets_help()}.")
@click.option("--modes", default=None, help="Comma-separated modes (default: every mode of each bundle).")
@click.option("--threads", default="1", show_default=True, help="Comma-separated thread counts (>= 1), e.g. 1,2.")
@click.option("--data", type=click.Path(dir_okay=False), default=None,
              help="Labelled eval file (JSONL text/label, TSV/CSV with a header, FPB), e.g. a split's test.jsonl.")
@click.option("--synthetic", default=None, help="Instead of --data: fixed lengths (buckets) with random ids, e.g. 64,128.")
@click.option("--out", required=True, type=click.Path(),
              help="Results JSONL. An existing file is appended to, never replaced: rerunning resumes.")
@click.option("--limit", type=click.IntRange(min=1), default=None, metavar="N",
              help="Only the first N eval examples (N >= 1; default: all of them).")
@click.option("--emulated-limit", type=click.IntRange(min=1), default=None, metavar="N",
              help="Eval examples on emulated targets (arm64 runs ~500x slower). Default: --limit.")
@click.option("--warmup", type=click.IntRange(min=0), default=3, show_default=True,
              help="Warm-up runs per bucket used.")
@click.option("--iterations", type=click.IntRange(min=1), default=50, show_default=True,
              help="Timed runs per --synthetic length.")
@click.option("--no-baseline", is_flag=True, help="Do not measure the source Keras model.")
@click.option("--no-onnx", is_flag=True,
              help="Do not add the ONNX Runtime peer (ort_* rows; needs the edgekit[onnx] extra, else skipped).")
@click.option("--arm64-cache", type=click.Path(), default=None,
              help="Prepared arm64 environment (default: $EDGEKIT_ARM64_CACHE or ~/.cache/edgekit/arm64).")
@click.option("--remote-python", default="python3", show_default=True, help="Python on ssh targets.")
@click.option("--ssh-identity", type=click.Path(dir_okay=False), default=None, help="Private key for ssh targets.")
@click.option("--ssh-option", "ssh_options", multiple=True, help="Extra ssh -o option, e.g. StrictHostKeyChecking=no.")
@click.option("--benchmark-binary", type=click.Path(dir_okay=False), default=None,
              help="TFLite benchmark_model built for the adb device.")
@click.option("--no-progress", is_flag=True, help="Log lines instead of a progress bar.")
@click.option("--executor", default="in-process", show_default=True,
              help="in-process (one measurement after another from here) or ray[:ADDRESS]: each measurement a Ray "
                   "task on the node that declares the resource edgekit-target:TARGET, one at a time per target; "
                   "local is the driver's node, local@NAME the node declaring edgekit-target:local@NAME. No "
                   "ADDRESS: a local Ray instance offering every target. See docs/ray.md.")
@click.option("--ray-cpus-per-task", default=1.0, show_default=True, type=POSITIVE_FLOAT,
              help="CPUs each measurement reserves on its node while it runs; with --executor ray.")
def bench_cmd(bundles, targets, modes, threads, data, synthetic, out, limit, emulated_limit, warmup, iterations,
              no_baseline, no_onnx, arm64_cache, remote_python, ssh_identity, ssh_options, benchmark_binary,
              no_progress, executor, ray_cpus_per_task) -> None:
    """Benchmark bundles: every mode × target × thread count, one JSON record per line in OUT.

    Rerunning the same command skips measurements already in OUT (resume after a kill). With --data,
    the bundle's source Keras model is measured locally in the same run (mode "keras") so converted
    and unconverted figures sit side by side. Example:

    \b
      edgekit bench bundles/teacher bundles/student --data split/test.jsonl --threads 1,2 \\
          --target local --target arm64:cortex-a72 --emulated-limit 60 --out results.jsonl
    """
    from ..benchmarks.harness import BenchPlan, bench_executor, run_bench
    from ..fsutil import check_output, removed_if_failed

    check_output(out, kind="file", reuse=True)
    if arm64_cache:
        check_output(arm64_cache, what="--arm64-cache", reuse=True)
    specs = [s for t in targets for s in split_csv(t) or []]
    target_limits = {}
    if emulated_limit is not None:
        target_limits = {s: emulated_limit for s in specs if s.startswith("arm64")}
    options = {"arm64_cache": arm64_cache, "remote_python": remote_python, "ssh_identity": ssh_identity,
               "ssh_options": [x for o in ssh_options for x in ("-o", o)], "benchmark_binary": benchmark_binary}
    plan = BenchPlan(bundles=[Path(b) for b in bundles], targets=specs, modes=split_csv(modes),
                     threads=int_list(threads, "--threads", "1,2"), data=Path(data) if data else None,
                     synthetic=int_list(synthetic, "--synthetic", "64,128") if synthetic else None,
                     limit=limit,
                     warmup=warmup, iterations=iterations, baseline=not no_baseline, onnx=not no_onnx,
                     target_options=options, target_limits=target_limits)
    runner = bench_executor(executor, ray_cpus_per_task, specs)
    with removed_if_failed(Path(out).parent):
        summary = run_bench(plan, out, progress=not no_progress, executor=runner)
    click.echo(f"bench → {out}: {summary['ran']} measured, {summary['skipped']} already there, "
               f"{summary['failed']} failed ({summary['seconds']:.0f}s)")
    if summary["failed"]:
        raise EdgekitError(f"{summary['failed']} measurement(s) failed; first: {summary['failures'][0]}")


@click.command("report")
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(), help="Folder for report.md, report.html, PNGs.")
@click.option("--overwrite", is_flag=True, help="Replace an existing report folder.")
@click.option("--max-latency-ms", type=POSITIVE_FLOAT, default=None,
              help="Budget: p50 inference latency (ms, non-emulated).")
@click.option("--max-size-mb", type=POSITIVE_FLOAT, default=None, help="Budget: model file size (MB).")
@click.option("--min-f1", type=SHARE, default=None, help="Budget: macro-F1 at least this.")
@click.option("--target", "rec_target", default=None,
              help="Target whose latencies the recommendation uses (default: the first non-emulated one).")
@click.option("--threads", "rec_threads", type=click.IntRange(min=1), default=None,
              help="Thread count for the recommendation (default 1).")
@click.option("--title", default="edgekit benchmark report", show_default=True)
def report_cmd(results, out, overwrite, max_latency_ms, max_size_mb, min_f1, rec_target, rec_threads, title) -> None:
    """Markdown + self-contained HTML report of results JSONL file(s): tables per target, latency-vs-F1
    and size-vs-F1 with the Pareto frontier, latency per bucket, and the best variant under a budget.

    The folder appears only when the whole report is written; a failed run leaves nothing behind."""
    from ..fsutil import atomic_directory, check_output
    from ..reports.results_report import Budget, write_report

    check_output(out, overwrite=overwrite, inputs=results)
    budget = Budget(max_latency_ms=max_latency_ms, max_size_mb=max_size_mb, min_f1=min_f1)
    with atomic_directory(out, overwrite=True) as tmp:
        paths = write_report(results, tmp, budget=budget, target=rec_target, threads=rec_threads, title=title)
    out = Path(out)
    click.echo(f"report → {out / paths['markdown'].name} and {out / paths['html'].name}")
    rec = paths.get("recommendation")
    if rec:
        click.echo(f"recommended: {rec}")


@click.group("arm64")
def arm64_group() -> None:
    """The emulated ARM64 target: an aarch64 Python + LiteRT under qemu user-mode (docs/toolchain.md §4)."""


@arm64_group.command("prepare")
@click.option("--cache", type=click.Path(), default=None,
              help="Where to build it (default: $EDGEKIT_ARM64_CACHE or ~/.cache/edgekit/arm64).")
@click.option("--force", is_flag=True, help="Rebuild the sysroot even if a matching one exists.")
def arm64_prepare(cache, force) -> None:
    """Download arm64 .debs (python3.11 + libraries) and qemu-user-static with a private apt
    configuration, aarch64 wheels (numpy, ai-edge-litert) with pip, unpack them into a sysroot, write
    an ARM /proc/cpuinfo per CPU and smoke-test LiteRT under qemu. Reuses what is cached (~125 MB)."""
    from ..benchmarks.targets import arm64
    from ..fsutil import check_output

    check_output(cache or arm64.default_cache_dir(), what="--cache", reuse=True)
    env = arm64.prepare(cache, force=force)
    info = json.loads((env.cache / arm64.READY).read_text())
    click.echo(f"arm64 ready: {env.cache} ({info['qemu_version']}, numpy {info['numpy']}, ai-edge-litert 2.3.0)")
    for cpu in sorted(arm64.CPUS):
        click.echo(f"  python for -cpu {cpu}: {env.launcher(cpu)}")


@arm64_group.command("python", context_settings={"ignore_unknown_options": True})
@click.option("--cache", type=click.Path(file_okay=False), default=None)
@click.option("--cpu", default=DEFAULT_CPU, show_default=True)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def arm64_python(cache, cpu, args) -> None:
    """Run the emulated aarch64 python with ARGS (e.g. -c 'import platform; print(platform.machine())')."""
    import subprocess
    import sys

    from ..benchmarks.targets import arm64

    env = arm64.load(cache)
    if cpu not in arm64.CPUS:
        raise EdgekitError(f"unknown arm64 CPU {cpu!r}; choose one of {', '.join(sorted(arm64.CPUS))}")
    sys.exit(subprocess.run([*env.python_command(cpu), *args], env=env.env()).returncode)


def register(cli: click.Group) -> None:
    cli.add_command(bench_cmd)
    cli.add_command(report_cmd)
    cli.add_command(arm64_group)
