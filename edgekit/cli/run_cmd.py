"""``edgekit run``: the main job, offline, on the embedded default data unless told otherwise."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("run")
@click.option("--data", default=None,
              help="Labelled data instead of the embedded default (FPB file, csv/tsv/jsonl with text,label).")
@click.option("--format", "data_format", default="auto", show_default=True, help="Format of --data.")
@click.option("--out", default="edgekit-run", show_default=True, type=click.Path(file_okay=False),
              help="Run folder: data split, models, bundles, results, report.")
@click.option("--backbone", default="default", show_default=True, help="Teacher backbone (see 'train teacher').")
@click.option("--teacher-epochs", default=3, show_default=True, type=int)
@click.option("--teacher-lr", default=5e-5, show_default=True, type=float)
@click.option("--max-length", default=64, show_default=True, type=int)
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--fresh", is_flag=True, help="Redo every stage instead of reusing finished ones.")
@click.option("--arm", is_flag=True, help="Also benchmark on the emulated arm64 target (qemu; prepared on first use).")
@click.option("--arm-cpu", default="cortex-a72", show_default=True,
              help="Emulated core for --arm: cortex-a53, cortex-a72, cortex-a76, neoverse-n1.")
@click.option("--students", default="bilstm;bert:layers=2,strategy=skip", show_default=True,
              help="Students to distill, ';'-separated specs as in 'edgekit distill --student' (empty: none).")
@click.option("--modes", default="fp32,dynamic_int8,int8", show_default=True,
              help="TFLite modes for the teacher bundle: fp32, fp16, dynamic_int8, int8, int16x8.")
@click.option("--buckets", default="16,32,64,128", show_default=True, help="Sequence-length buckets (signatures).")
@click.option("--calibration-samples", default=200, show_default=True, type=int,
              help="Training sentences used to calibrate full-integer modes.")
@click.option("--threads", default="1", show_default=True, help="Benchmark thread counts, e.g. 1,2.")
def run_cmd(data, data_format, out, backbone, teacher_epochs, teacher_lr, max_length, seed, fresh, arm,
            arm_cpu, students, modes, buckets, calibration_samples, threads) -> None:
    """Run the whole pipeline: data → teacher (→ students → TFLite → benchmark → report).

    With no options it trains on the embedded default financial-news dataset with the offline
    all-MiniLM-L6-v2 backbone, so it works on a fresh machine without internet. Finished stages are
    reused when their settings have not changed; --fresh redoes them.
    """
    from ..errors import EdgekitError
    from ..pipeline import RunSettings, run_pipeline

    try:
        bucket_list = tuple(int(b) for b in _items(buckets, ","))
        thread_list = tuple(int(t) for t in _items(threads, ","))
    except ValueError:
        raise EdgekitError("--buckets and --threads take comma-separated whole numbers, e.g. 16,32,64") from None
    settings = RunSettings(out=Path(out), data=data, data_format=data_format, backbone=backbone,
                           teacher_epochs=teacher_epochs, teacher_lr=teacher_lr, max_length=max_length, seed=seed,
                           fresh=fresh, arm=arm, arm_cpu=arm_cpu, students=_items(students, ";"),
                           convert_modes=_items(modes, ","), convert_buckets=bucket_list,
                           calibration_samples=calibration_samples, bench_threads=thread_list)
    summary = run_pipeline(settings, log=lambda m: click.echo(m, err=True))
    click.echo(f"\nedgekit run → {out}")
    for name, result in summary["stages"].items():
        shown = {k: v for k, v in result.items() if isinstance(v, (int, float, str)) and k != "reused"}
        click.echo(f"  {name:<10} " + ", ".join(f"{k}={_fmt(k, v)}" for k, v in shown.items()))


def _items(value: str, sep: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(sep) if v.strip())


def _fmt(key: str, v) -> str:
    if isinstance(v, float):
        return f"{v:.1f}" if key.endswith("seconds") else f"{v:.4f}"
    return str(v)


def register(cli: click.Group) -> None:
    cli.add_command(run_cmd)
