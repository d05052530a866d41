"""``edgekit run``: the main job, offline, on the embedded default data unless told otherwise."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ..benchmarks.targets.arm64 import CPUS
from ..converters.modes import modes_help
from ..pipeline import BenchSettings, ConvertSettings, DataSettings, RunSettings, StudentsSettings, TeacherSettings
from .options import POSITIVE_FLOAT, int_list

_D = RunSettings()  # the defaults, in one place
RUN_MARKER = ".stages"  # what a run folder holds once its first stage has finished


def _joined(values, sep: str = ",") -> str:
    return sep.join(str(v) for v in values)


@click.command("run")
@click.option("--data", default=None,
              help="Labelled data instead of the embedded default (FPB file, csv/tsv/jsonl with text,label).")
@click.option("--format", "data_format", default=_D.data.format, show_default=True, help="Format of --data.")
@click.option("--encoding", default=None, help="Encoding of --data (default: latin-1 for FPB, utf-8 otherwise).")
@click.option("--out", default=str(_D.out), show_default=True, type=click.Path(),
              help="Run folder: data split, models, bundles, results, report. An existing run folder is resumed "
                   "(see --fresh), never replaced; a non-empty folder that is not a run folder is refused.")
@click.option("--model", "model", default=None,
              help="Start from this fine-tuned classifier instead of training a teacher: what 'edgekit import' "
                   "takes (a local Hugging Face folder, hf://ORG/NAME) or an edgekit model directory. Its labels "
                   "must be the data's.")
@click.option("--backbone", default=_D.teacher.backbone, show_default=True,
              help="Teacher backbone (see 'train teacher').")
@click.option("--teacher-epochs", default=_D.teacher.epochs, show_default=True, type=click.IntRange(min=1))
@click.option("--teacher-lr", default=_D.teacher.lr, show_default=True, type=POSITIVE_FLOAT)
@click.option("--max-length", default=_D.teacher.max_length, show_default=True, type=click.IntRange(min=8))
@click.option("--seed", default=_D.data.seed, show_default=True, type=int)
@click.option("--fresh", is_flag=True, help="Redo every stage instead of reusing finished ones.")
@click.option("--arm", is_flag=True, help="Also benchmark on the emulated arm64 target (qemu; prepared on first use).")
@click.option("--arm-cpu", default=_D.bench.arm_cpu, show_default=True,
              help=f"Emulated core for --arm: {', '.join(CPUS)}.")
@click.option("--students", default=_joined(_D.students.specs, ";"), show_default=True,
              help="Students, ';'-separated: specs as in 'edgekit distill --student' (bilstm, bert:layers=2,...), or "
                   "'pruned:layers=4,heads=8,ffn=768' for the teacher pruned and recovered (keys as 'edgekit prune' "
                   "takes them, plus vocab=train|full, epochs, samples; docs/pruning.md). Empty: none.")
@click.option("--modes", default=_joined(_D.convert.modes), show_default=True,
              help=f"TFLite modes of every bundle: {modes_help()}.")
@click.option("--buckets", default=_joined(_D.convert.buckets), show_default=True,
              help="Sequence-length buckets (signatures).")
@click.option("--calibration-samples", default=_D.convert.calibration_samples, show_default=True,
              type=click.IntRange(min=1),
              help="Training sentences used to calibrate full-integer modes.")
@click.option("--threads", default=_joined(_D.bench.threads), show_default=True,
              help="Benchmark thread counts (>= 1), e.g. 1,2.")
@click.pass_context
def run_cmd(ctx, data, data_format, encoding, out, model, backbone, teacher_epochs, teacher_lr, max_length, seed, fresh, arm,
            arm_cpu, students, modes, buckets, calibration_samples, threads) -> None:
    """Run the whole pipeline: data → teacher (→ students → TFLite → benchmark → report).

    With no options it trains on the embedded default financial-news dataset with the offline
    all-MiniLM-L6-v2 backbone, so it works on a fresh machine without internet. Finished stages are
    reused when their settings have not changed; --fresh redoes them. With --model the teacher is that
    classifier (imported, not trained; evaluated on the test split) and the students learn from it.
    """
    from ..converters.stage import convert_options
    from ..distill.stage import check_students
    from ..errors import EdgekitError
    from ..fsutil import check_output, removed_if_failed
    from ..pipeline import run_pipeline

    given = [f"--{name.replace('_', '-')}" for name in ("backbone", "teacher_epochs", "teacher_lr")
             if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT]
    if model is not None and given:
        raise EdgekitError(f"--model uses a trained classifier, so {', '.join(given)} (teacher training) does not apply")
    check_output(out, reuse=True, marker=RUN_MARKER)
    if model is not None:  # a model whose labels are not the data's fails here, before any stage runs
        from ..train.given import check_labels_of_data

        check_labels_of_data(model, data, data_format, encoding)
    bucket_list = tuple(int_list(buckets, "--buckets", "16,32,64")) if buckets.strip() else ()
    thread_list = tuple(int_list(threads, "--threads", "1,2"))
    if encoding:
        from ..data.textfile import codec_name

        codec_name(encoding)  # an unknown encoding fails here, before any stage runs
    if model is not None and bucket_list:
        bucket_list = _model_buckets(model, bucket_list, ctx.get_parameter_source("buckets"))
    settings = RunSettings(
        out=Path(out), fresh=fresh,
        data=DataSettings(path=data, format=data_format, seed=seed, encoding=encoding),
        teacher=TeacherSettings(model=model, backbone=backbone, epochs=teacher_epochs, lr=teacher_lr, max_length=max_length,
                                seed=seed),
        students=StudentsSettings(specs=_items(students, ";"), seed=seed),
        convert=ConvertSettings(modes=_items(modes, ","), buckets=bucket_list,
                                calibration_samples=calibration_samples, seed=seed),
        bench=BenchSettings(arm=arm, arm_cpu=arm_cpu, threads=thread_list))
    convert_options(settings.convert)  # a bad --modes or --buckets fails here, before any training
    check_students(settings.students.specs)  # and so does a bad student spec
    with removed_if_failed(out):
        summary = run_pipeline(settings)
    click.echo(f"\nedgekit run → {out}")
    for name, result in summary["stages"].items():
        shown = {k: v for k, v in result.items() if isinstance(v, (int, float, str)) and k != "reused"}
        click.echo(f"  {name:<10} " + ", ".join(f"{k}={_fmt(k, v)}" for k, v in shown.items()))


def _model_buckets(model: str, buckets: tuple[int, ...], source) -> tuple[int, ...]:
    """The default buckets fitted to a given model's positions; buckets the user chose are checked, not changed."""
    from ..errors import EdgekitError
    from ..train.given import fit_buckets, source_positions

    positions = source_positions(model)
    fitted = fit_buckets(buckets, positions)
    if fitted == buckets:
        return buckets
    if source is not click.core.ParameterSource.DEFAULT:
        raise EdgekitError(f"--buckets {max(buckets)} is longer than --model's {positions} token positions")
    logging.getLogger(__name__).info(f"buckets {_joined(fitted)}: --model has {positions} token positions")
    return fitted


def _items(value: str, sep: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(sep) if v.strip())


def _fmt(key: str, v) -> str:
    if isinstance(v, float):
        return f"{v:.1f}" if key.endswith("seconds") else f"{v:.4f}"
    return str(v)


def register(cli: click.Group) -> None:
    cli.add_command(run_cmd)
