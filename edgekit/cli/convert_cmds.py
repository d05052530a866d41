"""``edgekit convert``, ``edgekit inspect``."""

from __future__ import annotations

import json
import math

import click

from ..converters.convert import CONVERTER_RECIPE, DEFAULT_MODES, FALLBACKS, FAMILY_RECIPE
from ..converters.modes import modes_help
from ..converters.recipes import recipes_help
from ..converters.task_files import DEFAULT_TASK_MODES, task_modes_help
from ..runtime.buckets import DEFAULT_BUCKETS, SIGNATURE_PREFIX
from .options import SHARE, int_list, load_splits, splits_options

# --threshold KEY → (the Thresholds field, the largest legal value: agreements and F1 drops are shares)
THRESHOLD_KEYS = {"agreement": ("min_argmax_agreement", 1.0), "f1_drop": ("max_macro_f1_drop", 1.0),
                  "logit_error": ("max_abs_logit_error", math.inf)}
THRESHOLD_KEYS.update({field: (field, top) for field, top in THRESHOLD_KEYS.values()})


def _thresholds(values: tuple[str, ...]) -> dict[str, dict]:
    """``MODE:KEY=VALUE`` → {mode: {key: value}}, each value in its legal range."""
    from ..errors import EdgekitError

    out: dict[str, dict] = {}
    for v in values:
        try:
            mode, rest = v.split(":", 1)
            key, num = rest.split("=", 1)
            field, top = THRESHOLD_KEYS[key.strip()]
            value = float(num)
        except (ValueError, KeyError):
            raise EdgekitError(f"--threshold takes MODE:KEY=VALUE with KEY one of agreement, f1_drop, logit_error "
                               f"(e.g. int8:agreement=0.95), got {v!r}") from None
        if not 0.0 <= value <= top:  # nan fails too
            raise EdgekitError(f"--threshold {v}: {key.strip()} must be between 0 and {top:g}")
        out.setdefault(mode.strip(), {})[field] = value
    return out


@click.command("convert")
@click.argument("model_dir", type=click.Path())
@splits_options
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Bundle folder to write.")
@click.option("--modes", default=",".join(DEFAULT_MODES), show_default=True,
              help=f"Comma-separated, or all: {modes_help()}.")
@click.option("--buckets", default=",".join(map(str, DEFAULT_BUCKETS)), show_default=True,
              help="Sequence-length buckets: one [1,L] signature per bucket in every file. 'auto' (8 buckets) or "
                   "'auto:K': K lengths in steps of 8 up to 128, chosen from the training split's token counts to "
                   "pad the least (FPB: 1.13x the real length against 1.38x for 16,32,64,128); free in size: "
                   "every mode stores one weight copy for all buckets.")
@click.option("--signature-prefix", default=SIGNATURE_PREFIX, show_default=True, help="Signature names are PREFIX<length>.")
@click.option("--calibration-samples", default=200, show_default=True, type=click.IntRange(min=1),
              help="Training sentences used to calibrate int8/int16x8, spread evenly over the buckets.")
@click.option("--int8-io", is_flag=True, help="int8: make the logits output int8 too (ids stay int32).")
@click.option("--fallback", type=click.Choice(FALLBACKS), default="auto", show_default=True,
              help="int16x8, and int8 by --recipe converter: float fallback none; family (BERT: LayerNorm kept "
                   "float); auto (family + ops chosen by measured per-layer error until --target-agreement on "
                   "held-out training sentences).")
@click.option("--target-agreement", default=0.99, show_default=True, type=SHARE,
              help="Agreement the auto fallback search aims for.")
@click.option("--recipe", default=FAMILY_RECIPE, show_default=True, metavar="family|converter|NAME|FILE|BUNDLE",
              help="How int8 is made. 'family': the model family's recipe (int8_dyn_rows for BERT models, the TF "
                   "converter's int8 for the BiLSTM); 'converter': the TF converter's calibrated int8 with the "
                   "measured float fallback (--fallback); or an ai-edge-quantizer recipe applied to the fp32 file: "
                   f"a named recipe ({recipes_help()}), a JSON file (a list of rules, or an object with rules, "
                   "ranges and smooth: see docs/toolchain.md §7.4), or a bundle whose int8 was made by one (its "
                   "manifest records the recipe).")
@click.option("--threshold", "thresholds", multiple=True, metavar="MODE:KEY=VALUE",
              help="Override a parity threshold, e.g. int8:agreement=0.95, fp16:f1_drop=0.02, "
                   "fp32:logit_error=0.1. Repeatable.")
@click.option("--no-metadata", is_flag=True,
              help="Skip the task files (single-signature files with TFLite metadata for MediaPipe / Task Library).")
@click.option("--task-modes", default=",".join(DEFAULT_TASK_MODES), show_default=True, metavar="MODE[,MODE...]",
              help="BERT models: one task file (a single [1,128] signature with TFLite metadata, what MediaPipe "
                   "TextClassifier and the Task Library's BertNLClassifier load) per mode; the first becomes the "
                   "manifest's task_library, the others other_task_files. Each loads in both clients: "
                   f"{task_modes_help()}. Check them with python -m edgekit.benchmarks.clients.")
@click.option("--allow-other-data", is_flag=True,
              help="Convert against data other than the split the model was trained on.")
@click.option("--overwrite", is_flag=True, help="Replace an existing bundle folder.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the calibration sample.")
def convert_cmd(model_dir, data_path, split_dir, split_seed, fmt, text_column, label_column, labels, level, encoding,
                out_dir, modes, buckets, signature_prefix, calibration_samples, int8_io, fallback, target_agreement,
                recipe, thresholds, no_metadata, task_modes, allow_other_data, overwrite, seed) -> None:
    """Convert a model directory (teacher or student) into a bundle of TFLite files.

    One .tflite per mode, each with one fixed [1,L] signature per bucket (inputs ids, mask, segment_ids
    int32; output float logits). Each file is checked against the Keras model on the validation split
    (argmax agreement, max/mean |Δlogit|, macro-F1 delta); a failed gate writes nothing. Calibration
    uses real sentences of the training split. Give the same --data/--split-dir the model was trained
    on (default: the embedded default dataset). Example:

    \b
      edgekit convert runs/teacher-fpb75 --data ../shared/data/financial_phrasebank/Sentences_75Agree.txt \\
          --modes fp32,dynamic_int8,int8 --out bundles/teacher-fpb75
    """
    from ..contracts import OTHER_TASK_FILES, TASK_LIBRARY
    from ..converters.convert import ConvertOptions, convert_model_dir
    from ..fsutil import check_output
    from ..models.modeldir import read_meta

    check_output(out_dir, overwrite=overwrite, inputs=(model_dir, data_path, split_dir))
    # every option checked once, here, into a frozen value (a bad mode, bucket or threshold is a one-line error)
    from ..converters.bucket_choice import parse_auto

    auto = parse_auto(buckets)
    lengths = DEFAULT_BUCKETS if auto else int_list(buckets, "--buckets", "16,32,64")
    options = ConvertOptions(modes=modes, buckets=lengths, auto_buckets=auto,
                             signature_prefix=signature_prefix, calibration_samples=calibration_samples,
                             int8_io=int8_io, fallback=fallback, target_agreement=target_agreement,
                             thresholds=_thresholds(thresholds), metadata=not no_metadata,
                             task_modes=task_modes, overwrite=overwrite, seed=seed,
                             allow_other_data=allow_other_data,
                             recipe=None if recipe == CONVERTER_RECIPE else recipe)
    read_meta(model_dir)  # a missing or wrong model dir fails here, before any data work
    splits = load_splits(data_path, split_dir, split_seed, fmt, text_column, label_column, labels, level, encoding)
    manifest = convert_model_dir(model_dir, out_dir, splits, options)
    click.echo(f"bundle → {out_dir}")
    click.echo(f"  {'mode':<13} {'MB':>7} {'agree':>7} {'max|Δ|':>8} {'F1 Δ':>8}")
    for name, e in manifest["modes"].items():
        p = e["parity"]
        click.echo(f"  {name:<13} {e['bytes'] / 1e6:7.2f} {p['argmax_agreement']:7.4f} "
                   f"{p['max_abs_logit_error']:8.3g} {p.get('macro_f1_delta', 0.0):+8.4f}")
    tasks = [manifest[TASK_LIBRARY]] if TASK_LIBRARY in manifest else []
    for entry in tasks + list((manifest.get(OTHER_TASK_FILES) or {}).values()):
        if "file" in entry:
            click.echo(f"  task file {entry['mode']}: {entry['file']} ({entry['bytes'] / 1e6:.2f} MB, agreement "
                       f"{entry['parity']['argmax_agreement']:.4f}, {entry['status']})")
        else:
            click.echo(f"  task file {entry['mode']}: not written ({entry['status']})")


@click.command("inspect")
@click.argument("target", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the full description as JSON.")
@click.option("--mode", default=None, help="For a bundle: inspect this mode only.")
@click.option("--profile", is_flag=True,
              help="Also measure a per-op time profile of one signature of each model file: every distinct op "
                   "configuration timed as 64 copies vs 1 (the call overhead cancels), summed by op type, beside "
                   "the whole signature's time.")
@click.option("--signature", default=None, help="The signature --profile measures (default: each file's first).")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(min=1), help="Threads --profile uses.")
def inspect_cmd(target, as_json, mode, profile, signature, threads) -> None:
    """Describe a .tflite file or every file of a bundle.

    Inputs and outputs per signature (shape and shape_signature, dtype, quantization scale/zero point),
    op histogram with op versions, and for integer files the float ops left in them. --profile adds
    which ops cost what (measured here; LiteRT's op profiler is not in its Python package).
    """
    from ..converters.inspect import inspect_target

    reports = inspect_target(target, mode)
    if profile:
        from ..converters.op_profile import profile_signature

        for rep in reports:
            if not rep.get("task_file"):  # model files; a task file's one signature is the fp16/8-bit twin
                rep["profile"] = profile_signature(rep["file"], signature, threads=threads)
    if as_json:
        click.echo(json.dumps(reports if len(reports) != 1 else reports[0], indent=2))
        return
    for rep in reports:
        click.echo(_render(rep))


def _render(rep: dict) -> str:
    lines = [f"{rep['file']}  ({rep['bytes'] / 1e6:.2f} MB, {rep['subgraphs']} subgraph(s), {rep['ops']} ops"
             + (f", mode {rep['mode']}" if rep.get("mode") else "") + ")"]
    if rep.get("runtime"):
        lines.append(f"  loads with {rep['runtime']}")
    for sig in rep["signatures"]:
        lines.append(f"  signature {sig['key']!s} (subgraph {sig['subgraph']})")
        for kind in ("inputs", "outputs"):
            for name, t in sig[kind].items():
                q = ""
                if "quantization" in t:
                    qd = t["quantization"]
                    q = (f"  per-channel x{qd['per_channel']}" if "per_channel" in qd
                         else f"  scale={qd['scale']:.6g} zero_point={qd['zero_point']}")
                lines.append(f"    {kind[:-1]:<6} {name:<12} {t['dtype']:<8} shape={t['shape']} "
                             f"shape_signature={t['shape_signature']}{q}")
    hist = ", ".join(f"{k}×{v}" for k, v in rep["op_histogram"].items())
    lines.append(f"  ops: {hist}")
    if rep.get("quantized_activations"):
        fl = rep.get("float_ops") or {}
        lines.append("  float ops left: " + (", ".join(f"{k}×{v}" for k, v in fl.items()) if fl else "none"))
    if rep.get("metadata"):
        lines.append("  metadata: " + ", ".join(f"{k} ({v} B)" for k, v in rep["metadata"].items()))
    if rep.get("profile"):
        from ..converters.op_profile import render

        lines.append(render(rep["profile"]))
    return "\n".join(lines)


def register(cli: click.Group) -> None:
    cli.add_command(convert_cmd)
    cli.add_command(inspect_cmd)
