"""``edgekit distill``, ``edgekit sweep`` and ``edgekit distill-benchmark``."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Callable

import click

from ..distill.losses import losses_help
from ..models.registry import family_names, get_family
from .options import POSITIVE_FLOAT, SHARE, FiniteRange, float_list, load_splits, splits_options


def _family_defaults(key: str) -> str:
    """``Default per family: bilstm 15, bert 6.`` from the families' training defaults."""
    return "Default per family: " + ", ".join(
        f"{name} {get_family(name).train_defaults[key]:g}" for name in family_names(students_only=True)) + "."


TRANSFER_OPTIONS = [
    click.option("--augment", default="none", show_default=True,
                 help="Transfer-set augmentation: none, tang (mask=0.1,swap=0.1,ngram=0.25) or explicit "
                      "rules like mask=0.1,ngram=0.25,swap=0.1,delete=0.05; neighbour=0.1 replaces a word "
                      "with one of its 8 nearest words in the teacher's token space."),
    click.option("--augment-multiplier", default=1, show_default=True, type=click.IntRange(min=1),
                 help="Transfer set size as a multiple of the training split (synthetic sentences are "
                      "labelled by the teacher)."),
    click.option("--augment-seed", default=0, show_default=True, type=int),
    click.option("--unlabelled", default=None, type=click.Path(dir_okay=False, exists=True),
                 help="In-domain sentences without labels to add to the transfer set (.txt one per line, or any "
                      "data format; labels ignored). The teacher labels them; sentences in the split are dropped."),
]


def transfer_options(fn: Callable) -> Callable:
    """The transfer set beyond the training split (augmentation, unlabelled sentences): distill, sweep, prune."""
    return functools.reduce(lambda f, opt: opt(f), reversed(TRANSFER_OPTIONS), fn)


def distill_options(fn: Callable) -> Callable:
    """Student, loss, augmentation and training options shared by distill and sweep."""
    options = [
        click.option("--teacher", "teacher_dir", required=True, type=click.Path(file_okay=False),
                     help="Teacher model directory (from 'edgekit train teacher')."),
        click.option("--student", default="bilstm", show_default=True,
                     help="FAMILY[:key=value,...], one of: " + "; ".join(
                         get_family(name).student_help for name in family_names(students_only=True)) + "."),
        click.option("--loss", default="hard,kl", show_default=True,
                     help=f"Comma-separated terms, each name[=weight]: {losses_help()}. Hidden-state terms compare "
                          "per-token states (a BiLSTM's through a learned projection to the teacher's width). "
                          "Without weights: hard gets 1-alpha, the soft logit term alpha, feature terms 1."),
        click.option("--alpha", default=0.5, show_default=True, type=SHARE,
                     help="Weight of the SOFT loss; the hard-label loss gets 1-alpha (alpha=1: pure distillation)."),
        click.option("--layer-map", default=None,
                     help="student:teacher hidden-layer pairs for hidden losses, e.g. 0:1,1:3,2:5 "
                          "(default: the teacher layer that initialised each student layer; a BiLSTM's one "
                          "layer 0 ↔ the teacher's last)."),
        *TRANSFER_OPTIONS,
        click.option("--epochs", default=None, type=click.IntRange(min=1), help=_family_defaults("epochs")),
        click.option("--batch-size", default=None, type=click.IntRange(min=1), help="Default 32."),
        click.option("--lr", "learning_rate", default=None, type=POSITIVE_FLOAT,
                     help=_family_defaults("learning_rate")),
        click.option("--patience", default=None, type=click.IntRange(min=1),
                     help="Stop after this many epochs without a better validation macro-F1. "
                          + _family_defaults("patience")),
        click.option("--schedule", default=None, type=click.Choice(["exponential", "linear", "constant"]),
                     help="Learning-rate schedule (default: linear = warm-up, then linear decay to 0 at the last "
                          "epoch)."),
        click.option("--warmup-ratio", default=None, type=FiniteRange(0, 1, max_open=True),
                     help="Share of the planned steps spent warming up (linear schedule; default 0.1)."),
        click.option("--class-weights", type=click.Choice(["none", "balanced"]), default="none", show_default=True,
                     help="balanced: weight each example's loss by the inverse frequency of its (hard) label."),
        click.option("--ema", default=None, type=FiniteRange(0, 1, max_open=True),
                     help="Polyak averaging: keep an exponential moving average of the weights with this decay "
                          "(e.g. 0.99); each epoch evaluates, and the best is kept, with the averaged weights. "
                          "Default 0 = off."),
        click.option("--max-length", default=None, type=click.IntRange(min=8), help="Default: the teacher's."),
        click.option("--seed", default=42, show_default=True, type=int),
        click.option("--cache-dir", default=None, type=click.Path(),
                     help="Teacher-output cache, reused across runs (default: $EDGEKIT_CACHE_DIR or "
                          "~/.cache/edgekit)."),
    ]
    return functools.reduce(lambda f, opt: opt(f), reversed(options), splits_options(fn))


def executor_options(fn: Callable) -> Callable:
    """--executor and --ray-cpus-per-task (sweep, distill-benchmark)."""
    from ..distill.executor import EXECUTOR_HELP

    options = [
        click.option("--executor", default="in-process", show_default=True,
                     help=f"Where the points run: {EXECUTOR_HELP}."),
        click.option("--ray-cpus-per-task", default=1.0, show_default=True, type=POSITIVE_FLOAT,
                     help="CPUs each point asks Ray for (and TensorFlow threads it uses); with --executor ray."),
    ]
    return functools.reduce(lambda f, opt: opt(f), reversed(options), fn)


RESUMABLE_MARKER = "data/split.json"  # what a sweep or distill-benchmark folder holds from its first run on

SPLIT_KEYS = ("data_path", "split_dir", "split_seed", "fmt", "text_column", "label_column", "labels", "level",
              "encoding")


def _inputs(teacher_dir: str, opts: dict) -> tuple:
    """The paths a command reads, which an output it replaces must not be or contain."""
    return teacher_dir, opts.get("data_path"), opts.get("split_dir"), opts.get("unlabelled")


def _check_cache(cache_dir: str | None) -> None:
    if cache_dir:
        from ..fsutil import check_output

        check_output(cache_dir, what="--cache-dir", reuse=True)


def _splits(opts: dict):
    """The splits named by the shared data options (popped from ``opts``)."""
    return load_splits(*(opts.pop(k) for k in SPLIT_KEYS))


def _settings(opts: dict, temperature: float, name: str):
    """DistillSettings from the options of :func:`distill_options` (popped from ``opts``)."""
    from ..distill.augment import parse_augment
    from ..distill.features import check_features
    from ..distill.job import DistillSettings, train_config_for
    from ..distill.losses import make_recipe, parse_layer_map
    from ..distill.students import parse_student

    o = {k: opts.pop(k) for k in ("student", "loss", "alpha", "layer_map", "augment", "augment_multiplier",
                                  "augment_seed", "unlabelled", "epochs", "batch_size", "learning_rate", "patience",
                                  "schedule", "warmup_ratio", "class_weights", "ema", "max_length", "seed",
                                  "cache_dir")}
    spec = parse_student(o["student"])  # fail early on a bad spec, before loading anything heavy
    check_features(spec.family, make_recipe(o["loss"], o["alpha"], temperature or 1.0).student_needs)
    parse_augment(o["augment"], o["augment_multiplier"], o["augment_seed"])
    train = train_config_for(spec.family, epochs=o["epochs"], batch_size=o["batch_size"],
                             learning_rate=o["learning_rate"], patience=o["patience"], schedule=o["schedule"],
                             warmup_ratio=o["warmup_ratio"], ema=o["ema"],
                             class_weights=None if o["class_weights"] in (None, "none") else o["class_weights"],
                             max_length=o["max_length"], seed=o["seed"])
    return DistillSettings(student=o["student"], loss=o["loss"], temperature=temperature or 1.0, alpha=o["alpha"],
                           layer_map=parse_layer_map(o["layer_map"]), augment=o["augment"],
                           augment_multiplier=o["augment_multiplier"], augment_seed=o["augment_seed"],
                           unlabelled=str(Path(o["unlabelled"]).resolve()) if o["unlabelled"] else None, train=train,
                           cache_dir=o["cache_dir"], name=name)


@click.command("distill")
@distill_options
@click.option("--temperature", "-T", default=2.0, show_default=True, type=POSITIVE_FLOAT,
              help="Softmax temperature of kl.")
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Student model directory.")
@click.option("--overwrite", is_flag=True, help="Replace an existing model directory (and --result-json file).")
@click.option("--name", default="student", show_default=True)
@click.option("--result-json", type=click.Path(), default=None, help="Also write a one-record summary.")
def distill_cmd(teacher_dir, temperature, out_dir, overwrite, name, result_json, **opts) -> None:
    """Distill the teacher into a BiLSTM or a shallow BERT; writes a model directory like the teacher's.

    \b
    Examples (Financial PhraseBank 75Agree, same split as the teacher):
      edgekit distill --teacher runs/teacher-fpb75 --data ../shared/data/financial_phrasebank/Sentences_75Agree.txt \\
          --student bilstm --loss hard,kl -T 2 --alpha 0.7 --augment tang --augment-multiplier 8 --out runs/bilstm
      edgekit distill --teacher runs/teacher-fpb75 --data ... --student bert:layers=3,strategy=skip \\
          --loss hard,kl,hidden_mse --out runs/bert3
    """
    from ..distill.job import distill
    from ..fsutil import atomic_write_json, check_output
    from ..provenance import stamp

    inputs = _inputs(teacher_dir, opts)
    check_output(out_dir, overwrite=overwrite, inputs=inputs)  # before training: a bad --out must not waste a run
    if result_json:
        check_output(result_json, what="--result-json", kind="file", overwrite=overwrite, inputs=inputs)
    _check_cache(opts["cache_dir"])
    settings = _settings(opts, temperature, name)
    splits = _splits(opts)
    result = distill(teacher_dir, splits, out_dir, settings)
    s = result.summary()
    click.echo(f"{s['student']} → {result.model_dir}: val macro-F1 {s['val_macro_f1']:.4f}, test macro-F1 "
               f"{s['test_macro_f1']:.4f} (teacher {s['teacher_test_macro_f1']:.4f}), {s['params']:,} params, "
               f"{s['train_seconds']:.0f}s")
    if result_json:
        atomic_write_json(result_json, {"kind": "edgekit-distill-result", **s, **stamp()})
        click.echo(f"result → {result_json}")


@click.command("sweep")
@distill_options
@click.option("--temperatures", default=None,
              help="Comma-separated T grid, each > 0 (default: bilstm 1,2,5; bert 1,2,3).")
@click.option("--alphas", default=None,
              help="Comma-separated alpha grid, each in [0, 1] (default: bilstm 0.3,0.5,0.7; bert 0.2,0.5,0.8).")
@click.option("--out", "out_dir", required=True, type=click.Path(),
              help="Sweep folder (points/*.json, sweep.json, sweep.md, heatmap.png). Rerun to resume: an existing "
                   "sweep folder is continued, never replaced.")
@executor_options
@click.option("--no-models", is_flag=True, help="Do not keep each point's student model directory.")
def sweep_cmd(teacher_dir, temperatures, alphas, out_dir, executor, ray_cpus_per_task, no_models, **opts) -> None:
    """Distill at every temperature × alpha of a grid; best point by validation macro-F1.

    Each finished point is a JSON file; rerunning the same command after an interruption continues
    with the unfinished points, whichever executor ran the others. (--alpha is ignored: the grid sets it.)
    """
    from ..distill.executor import make_executor
    from ..distill.sweep import run_sweep
    from ..fsutil import check_output, removed_if_failed

    check_output(out_dir, reuse=True, marker=RESUMABLE_MARKER)
    _check_cache(opts["cache_dir"])
    grid = (float_list(temperatures, "--temperatures", "1,2,5", 0, low_open=True),
            float_list(alphas, "--alphas", "0.3,0.5,0.7", 0, 1))
    settings = _settings(opts, 1.0, "sweep")
    with make_executor(executor, ray_cpus_per_task) as runner:  # connects first: a bad address costs seconds
        splits = _splits(opts)
        with removed_if_failed(out_dir):
            summary = run_sweep(teacher_dir, splits, out_dir, settings, *grid, executor=runner,
                                keep_models=not no_models)
    if summary["points"]:
        click.echo((_read(out_dir, "sweep.md")))
    best = summary["best"]
    if best:
        click.echo(f"best (validation macro-F1): T={best['temperature']:g} alpha={best['alpha']:g} → val "
                   f"{best['val_macro_f1']:.4f}, test {best['test_macro_f1']:.4f}")
    if summary["failures"]:
        from ..errors import EdgekitError

        raise EdgekitError(f"{len(summary['failures'])} point(s) failed: "
                           + "; ".join(f"{i}: {e}" for i, e in summary["failures"]))


def _read(out_dir, name):
    from pathlib import Path

    return (Path(out_dir) / name).read_text()


@click.command("distill-benchmark")
@splits_options
@click.option("--teacher", "teacher_dir", required=True, type=click.Path(file_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(),
              help="Benchmark folder (points, models, benchmark.json, benchmark.md). Rerun to resume: an existing "
                   "benchmark folder is continued, never replaced.")
@click.option("--only", default=None, help="Comma-separated run ids (default: all; see benchmark.py).")
@click.option("--bilstm-epochs", default=None, type=click.IntRange(min=1))
@click.option("--bert-epochs", default=None, type=click.IntRange(min=1))
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--cache-dir", default=None, type=click.Path(), help="Teacher-output cache, reused across runs.")
@click.option("--result-json", type=click.Path(), default=None,
              help="Also copy benchmark.json here (e.g. results/distill-fpb75.json); replaced on every run, "
                   "like benchmark.json.")
@executor_options
def benchmark_cmd(teacher_dir, out_dir, only, bilstm_epochs, bert_epochs, seed, cache_dir, result_json, executor,
                  ray_cpus_per_task, **opts) -> None:
    """Teacher vs BiLSTM (hard/distilled, ± augmentation) vs shallow BERT (3/2 layers, two inits).

    \b
      edgekit distill-benchmark --teacher runs/teacher-fpb75 \\
          --data ../shared/data/financial_phrasebank/Sentences_75Agree.txt --out runs/distill-fpb75 \\
          --result-json results/distill-fpb75.json
    """
    from ..distill.executor import make_executor
    from ..distill.study import run_benchmark
    from ..fsutil import atomic_write_json, check_output, removed_if_failed

    check_output(out_dir, reuse=True, marker=RESUMABLE_MARKER)
    if result_json:
        check_output(result_json, what="--result-json", kind="file", overwrite=True,
                     inputs=_inputs(teacher_dir, opts))
    _check_cache(cache_dir)
    with make_executor(executor, ray_cpus_per_task) as runner:
        splits = _splits(opts)
        with removed_if_failed(out_dir):
            result = run_benchmark(teacher_dir, splits, out_dir, epochs={"bilstm": bilstm_epochs,
                                                                         "bert": bert_epochs},
                                   only=[s.strip() for s in only.split(",")] if only else None, seed=seed,
                                   cache_dir=cache_dir, executor=runner)
    click.echo(_read(out_dir, "benchmark.md"))
    if result_json:
        atomic_write_json(result_json, result)
        click.echo(f"result → {result_json}")
    click.echo(json.dumps({"commit": result["git_commit"], "complete": result["complete"]}))


def register(cli: click.Group) -> None:
    cli.add_command(distill_cmd)
    cli.add_command(sweep_cmd)
    cli.add_command(benchmark_cmd)
