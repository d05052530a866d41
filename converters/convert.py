"""Model directory → bundle, in steps with explicit inputs and results.

``convert_model_dir`` is what ``edgekit convert`` and the ``convert`` pipeline stage call:

1. :func:`load_source` — the model, its family's exporter, the buckets, the modes it can be converted
   to, and the check set (the validation split with the source model's logits: every gate's reference);
2. :func:`calibrate` — real training sentences for full-integer modes, and held-out ones the measured
   float-fallback search scores on;
3. :func:`export_graphs` — one SavedModel per graph the modes need (``float``, ``quant``);
4. :func:`convert_mode` — one mode's .tflite bytes and quantization report;
5. :func:`gate` — that file's parity figures against the source model;
6. :func:`write_bundle` — the files that passed, the task files (:mod:`.task_files`), vocabulary, labels, the
   manifest last.

The bundle is built in a hidden sibling folder (:func:`edgekit.fsutil.atomic_directory`) and appears only
when every file is written and every gate passed: a failed gate leaves nothing that looks complete. With
``on_gate_failure="drop"`` a mode whose conversion or gate fails is left out and named under
``failed_modes`` instead.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from ..contracts import (INPUT_NAMES, LABELS_NAME, MANIFEST_NAME, MANIFEST_SCHEMA_VERSION, VOCAB_NAME, check_manifest,
                         vocab_sha256, vocab_text)
from ..errors import DataError, EdgekitError, first_line
from ..fsutil import atomic_directory, atomic_write_bytes, atomic_write_json, atomic_write_text, sha256_file
from ..runtime.buckets import DEFAULT_BUCKETS, SIGNATURE_PREFIX, signature_name
from .calibration import calibration_samples
from .exporters import Exporter, export_saved_model, get_exporter
from .modes import CalibrationData, Converted, ConvertJob, Mode, Thresholds, get_mode, parse_modes
from .parity import CheckSet, ParityError, check_file, compare, make_check_set, tflite_logits
from .task_files import DEFAULT_TASK_MODES, TASK_MODES, parse_task_modes

if TYPE_CHECKING:
    from ..data import Splits
    from ..models.modeldir import LoadedModel

logger = logging.getLogger(__name__)

DEFAULT_MODES = ("fp32", "fp16", "dynamic_int8", "int8")
FALLBACKS = ("none", "family", "auto")
GATE_FAILURE = ("fail", "drop")
FAMILY_RECIPE = "family"  # --recipe family: the family's own int8 recipe (Exporter.int8_recipe)
CONVERTER_RECIPE = "converter"  # --recipe converter: the TF converter's int8 (ConvertOptions.recipe None)


@dataclass(frozen=True)
class ConvertOptions:
    """How to convert; checked and normalised once, when built (known unique modes, sorted unique buckets)."""

    modes: tuple[str, ...] = DEFAULT_MODES
    buckets: tuple[int, ...] = DEFAULT_BUCKETS
    signature_prefix: str = SIGNATURE_PREFIX
    calibration_samples: int = 200
    int8_io: bool = False
    fallback: str = "auto"  # none | family | auto
    target_agreement: float = 0.99
    search_samples: int = 300  # held-out training sentences for the measured-fallback search
    mask_value: float = -30.0
    thresholds: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # mode → {min_argmax_agreement: …}
    check_limit: int | None = None  # parity on the first N validation examples only (tests)
    metadata: bool = True  # the single-signature task files with TFLite metadata (BERT classifiers)
    task_modes: tuple[str, ...] = DEFAULT_TASK_MODES  # the first is the manifest's task_library (.task_files)
    metadata_length: int = 128
    threads: int = 1
    seed: int = 0
    overwrite: bool = False
    allow_other_data: bool = False
    # "fail": a failed conversion or parity gate fails the export (nothing written); "drop": that mode
    # is left out of the bundle and the manifest records why under failed_modes (edgekit run uses this)
    on_gate_failure: str = "fail"
    # int8 from a recipe (converters/recipes.py): a name, a JSON file of rules, a bundle whose int8 entry
    # recorded one, or "family" (the family exporter's int8_recipe, if it has one); None: the TF converter's
    # calibrated int8 with the measured float fallback
    recipe: str | None = None
    # buckets chosen from the training split's token counts (converters/bucket_choice.py): this many,
    # the largest of ``buckets`` kept as the largest; None: ``buckets`` as given
    auto_buckets: int | None = None

    def __post_init__(self) -> None:
        normalised = {"modes": parse_modes(self.modes), "buckets": _buckets(self.buckets),
                      "thresholds": _thresholds(self.thresholds), "task_modes": parse_task_modes(self.task_modes)}
        for name, value in normalised.items():
            object.__setattr__(self, name, value)  # the one place a frozen dataclass sets its own fields
        if self.fallback not in FALLBACKS:
            raise EdgekitError(f"--fallback must be none, family or auto, got {self.fallback!r}")
        if self.calibration_samples < 1:
            raise DataError("--calibration-samples must be >= 1")
        if self.on_gate_failure not in GATE_FAILURE:
            raise EdgekitError(f"on_gate_failure must be fail or drop, got {self.on_gate_failure!r}")
        if self.recipe is not None and self.recipe != FAMILY_RECIPE:
            from .recipes import load_recipe

            load_recipe(self.recipe)  # a recipe that cannot be read fails here, before any work

    def to_dict(self) -> dict:
        """The options as the manifest records them (``overwrite`` left out)."""
        out = {}
        for f in dataclasses.fields(self):
            if f.name != "overwrite":
                value = getattr(self, f.name)
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


def _buckets(values: Iterable[int]) -> tuple[int, ...]:
    given = [int(b) for b in values]
    if not given:
        raise EdgekitError("no buckets given")
    if any(b < 2 for b in given):
        raise EdgekitError(f"bucket lengths must be >= 2, got {given}")
    return tuple(sorted(set(given)))


def _thresholds(value: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
    keys = [f.name for f in dataclasses.fields(Thresholds)]
    out = {}
    for mode, overrides in value.items():
        if mode not in TASK_MODES:  # a task mode's name is a mode name too, or one of its own
            get_mode(mode)
        unknown = sorted(set(overrides) - set(keys))
        if unknown:
            raise EdgekitError(f"unknown parity threshold {', '.join(unknown)} for mode {mode}; "
                               f"known: {', '.join(keys)}")
        out[mode] = {k: float(v) for k, v in overrides.items()}
    return out


def convert_model_dir(model_dir: str | Path, out: str | Path, splits: Splits, options: ConvertOptions | None = None,
                      progress: bool = True) -> dict:
    """Convert the model in ``model_dir`` into the bundle ``out``; returns the manifest."""
    options = options or ConvertOptions()
    started = time.perf_counter()
    source = load_source(model_dir, splits, options, progress)
    work = Path(tempfile.mkdtemp(prefix="edgekit-convert-"))
    try:
        with atomic_directory(out, overwrite=options.overwrite) as bundle:
            calibration = calibrate(source, splits, options)
            graphs = export_graphs(source, options, work)
            outcomes = [run_mode(i, mode, graphs[mode.graph], source, calibration, options, work, progress)
                        for i, mode in enumerate(source.modes, start=1)]
            manifest = write_bundle(bundle, source, outcomes, options, work, started, progress,
                                    calibration_pools(splits, options)[0])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    logger.info(f"bundle → {out} ({time.perf_counter() - started:.0f}s)")
    return manifest


# ------------------------------------------------------------------------------------------ 1. load
@dataclass(frozen=True)
class Source:
    """The model to convert and what every later step reads from it."""

    model_dir: Path
    loaded: LoadedModel
    exporter: Exporter
    buckets: tuple[tuple[int, str], ...]  # (length, signature), shortest first
    modes: tuple[Mode, ...]  # the requested modes the family can be converted to
    skipped: dict[str, str]  # the requested modes it cannot, with the reason
    check: CheckSet  # the validation split with the source model's logits: every gate's reference


def load_source(model_dir: str | Path, splits: Splits, options: ConvertOptions, progress: bool) -> Source:
    from ..models.modeldir import load_model_dir

    loaded = load_model_dir(model_dir)
    exporter = get_exporter(loaded.family)
    limit = (loaded.meta.get("config", {}).get("backbone") or {}).get("max_sequence_length")
    if limit and options.buckets[-1] > int(limit):
        raise EdgekitError(f"bucket {options.buckets[-1]} is longer than the model's {limit} positions")
    lengths = options.buckets
    if options.auto_buckets:
        from .bucket_choice import choose_buckets, padding_factor

        counts = [loaded.tokenizer.count_tokens(t) for t in splits.train.texts]
        lengths = choose_buckets(counts, options.buckets[-1], options.auto_buckets)
        logger.info(f"buckets {','.join(map(str, lengths))} from the training split's lengths (padded to "
                    f"{padding_factor(counts, lengths):.2f}x the real length; {','.join(map(str, options.buckets))}: "
                    f"{padding_factor(counts, options.buckets):.2f}x)")
    buckets = tuple((L, signature_name(L, options.signature_prefix)) for L in lengths)
    _check_data(loaded, splits, options)
    skipped = {m: exporter.unsupported_modes[m] for m in options.modes if m in exporter.unsupported_modes}
    for m, why in skipped.items():
        logger.warning(f"skipping {m}: {why}")
    modes = tuple(get_mode(m) for m in options.modes if m not in skipped)
    if not modes:
        raise EdgekitError(f"none of the requested modes can be converted for family {loaded.family!r}")
    val = splits.validation
    texts = [e.text for e in val.examples]
    gold = [loaded.labels.index(e.label) for e in val.examples]
    if options.check_limit:
        texts, gold = texts[:options.check_limit], gold[:options.check_limit]
    logger.info(f"source model: {loaded.family} from {model_dir}; check set {len(texts)} {val.name} examples")
    check = make_check_set(loaded.model, loaded.tokenizer, texts, gold, loaded.labels, buckets[-1][0],
                           name=val.name, progress="source logits" if progress else None)
    return Source(Path(model_dir), loaded, exporter, buckets, modes, skipped, check)


def _check_data(loaded: LoadedModel, splits: Splits, options: ConvertOptions) -> None:
    trained = (loaded.meta.get("data") or {}).get("sha256")
    given = splits.info.get("sha256")
    if trained and given and trained != given and not options.allow_other_data:
        raise DataError(f"the data given is not the split {loaded.path} was trained on "
                        f"({(loaded.meta.get('data') or {}).get('dataset')}); pass the same --data/--split-dir "
                        "or --allow-other-data")
    if len(splits.validation) == 0:
        raise DataError("the validation split is empty: nothing to check the conversion against")


# ------------------------------------------------------------------------------------- 2. calibrate
@dataclass(frozen=True)
class Calibration:
    data: CalibrationData
    search: CheckSet | None  # held-out training sentences for fallback="auto" (never the gate's validation split)


def calibrate(source: Source, splits: Splits, options: ConvertOptions) -> Calibration | None:
    """Calibration data and the fallback search's held-out set, from two halves of the training split
    (None when no requested mode needs calibration)."""
    if not any(m.needs_calibration for m in source.modes):
        return None
    calib_pool, search_pool = calibration_pools(splits, options)
    if not calib_pool:
        raise DataError("calibration data has no examples (the training split is empty)")
    samples, summary = calibration_samples(calib_pool, source.loaded.tokenizer, list(source.buckets),
                                           options.calibration_samples, seed=options.seed)
    search = None
    if options.fallback == "auto":
        search = make_check_set(source.loaded.model, source.loaded.tokenizer, search_pool[:options.search_samples],
                                None, source.loaded.labels, source.buckets[-1][0],
                                name=f"{splits.train.name} (held out from calibration)")
    return Calibration(CalibrationData(tuple(samples), summary), search)


def calibration_pools(splits: Splits, options: ConvertOptions) -> tuple[list[str], list[str]]:
    """The training sentences in two seeded halves: calibration draws from the first (the full-integer modes
    and the 8-bit task files), the fallback search scores on the second."""
    shuffled = [e.text for e in splits.train.examples]
    random.Random(options.seed).shuffle(shuffled)
    half = len(shuffled) // 2 if len(shuffled) > 1 else 1
    return shuffled[:half] or shuffled, shuffled[half:] or shuffled


# ---------------------------------------------------------------------------------------- 3. export
@dataclass(frozen=True)
class SavedModel:
    path: Path
    signature_keys: tuple[str, ...]


def export_graphs(source: Source, options: ConvertOptions, work: Path) -> dict[str, SavedModel]:
    """One SavedModel (one ``[1, L]`` endpoint per bucket) per graph the modes need, by graph name."""
    graphs = {}
    for graph in dict.fromkeys(m.graph for m in source.modes):
        logger.info(f"exporting the {graph} graph ({len(source.buckets)} bucket signatures)")
        path = work / f"saved_model_{graph}"
        keys = export_saved_model(source.exporter, source.loaded, list(source.buckets), path, graph,
                                  {"mask_value": options.mask_value})
        graphs[graph] = SavedModel(path, tuple(keys))
    return graphs


# ---------------------------------------------------------------------------- 4-5. convert and gate
@dataclass(frozen=True)
class ModeOutcome:
    """One mode after conversion and gate: its file, or why it was left out (``on_gate_failure="drop"``)."""

    mode: Mode
    file: Path | None = None  # in the work folder; write_bundle moves it into the bundle
    parity: dict | None = None
    quantization: dict = field(default_factory=dict)  # the manifest entry's "quantization" (calibrated modes)
    failure: dict | None = None  # the manifest's failed_modes entry: {"reason": …[, "parity": …]}


def run_mode(index: int, mode: Mode, graph: SavedModel, source: Source, calibration: Calibration | None,
             options: ConvertOptions, work: Path, progress: bool) -> ModeOutcome:
    """Convert and gate one mode; a failure raises (``on_gate_failure="fail"``) or is returned (``"drop"``)."""
    t0 = time.perf_counter()
    logger.info(f"[{index}/{len(source.modes)}] {mode.name}: {mode.description}")
    try:
        converted = convert_mode(mode, graph, source, calibration, options, work)
    except Exception as exc:
        error = exc if isinstance(exc, EdgekitError) else EdgekitError(
            f"{mode.name}: conversion failed: {first_line(exc)}")
        if options.on_gate_failure == "fail":
            raise error from None
        logger.warning(f"    {error}: left out of the bundle")
        return ModeOutcome(mode, failure={"reason": str(error)})
    path = atomic_write_bytes(work / mode.file_name, converted.model)
    figures = gate(path, mode, source, options, progress)
    logger.info(f"    {path.stat().st_size / 1e6:.1f} MB, agreement {figures['argmax_agreement']:.4f}, "
                f"max |Δlogit| {figures['max_abs_logit_error']:.3g}, macro-F1 Δ "
                f"{figures.get('macro_f1_delta', float('nan')):+.4f} ({time.perf_counter() - t0:.0f}s)")
    if not figures["passed"]:
        reason = f"parity gate failed for mode {mode.name}: " + "; ".join(figures["failures"])
        if options.on_gate_failure == "fail":
            raise ParityError(reason + " (no bundle written; thresholds can be overridden with --threshold)")
        path.unlink()
        logger.warning(f"    {reason}: left out of the bundle")
        return ModeOutcome(mode, failure={"reason": reason, "parity": figures})
    quantization = converted.report
    if mode.needs_calibration:  # what the mode was given, then what it reported
        quantization = {"calibration": calibration.data.summary, "target_agreement": options.target_agreement,
                        **converted.report}
    return ModeOutcome(mode, file=path, parity=figures, quantization=quantization)


def convert_mode(mode: Mode, graph: SavedModel, source: Source, calibration: Calibration | None,
                 options: ConvertOptions, work: Path) -> Converted:
    """One mode's .tflite bytes (full-integer modes calibrate, quantize and search their float fallback here)."""
    exporter = source.exporter
    calibration = calibration if mode.needs_calibration else None
    search = calibration.search if calibration is not None else None
    job = ConvertJob(str(graph.path), graph.signature_keys,
                     calibration=calibration.data if calibration is not None else None,
                     float_fallback_patterns=exporter.float_fallback_patterns if options.fallback != "none" else (),
                     fallback_groups=exporter.fallback_groups, int8_io=options.int8_io and mode.name == "int8",
                     fallback=options.fallback, fill_calibration=exporter.fill_calibration,
                     target_agreement=options.target_agreement,
                     evaluate=_evaluator(search, source.buckets, work, options.threads) if search is not None else None,
                     recipe=_int8_recipe(options.recipe, exporter) if mode.name == "int8" else None)
    return mode.convert(job)


def _int8_recipe(recipe: str | None, exporter: Exporter) -> str | None:
    return exporter.int8_recipe if recipe == FAMILY_RECIPE else recipe


def gate(path: Path, mode: Mode, source: Source, options: ConvertOptions, progress: bool) -> dict:
    """The file's parity figures against the source model on the check set (``figures["passed"]``)."""
    thresholds = mode.thresholds.replace(**options.thresholds.get(mode.name, {}))
    return check_file(path, source.check, list(source.buckets), thresholds, threads=options.threads,
                      progress=f"parity {mode.name}" if progress else None)


def _evaluator(search, buckets, work: Path, threads: int):
    from ..runtime.model import SignatureModel

    counter = {"n": 0}

    def evaluate(model_bytes: bytes) -> dict:
        counter["n"] += 1
        path = work / f"trial_{counter['n']}.tflite"
        path.write_bytes(model_bytes)
        runner = SignatureModel(path, [s for _, s in buckets], threads=threads)
        res = compare(search.source_logits, tflite_logits(runner, search, buckets), None, [])
        path.unlink()
        return {k: res[k] for k in ("argmax_agreement", "mean_abs_logit_error", "max_abs_logit_error")}

    return evaluate


# ------------------------------------------------------------------------------------------ 6. write
def write_bundle(bundle: Path, source: Source, outcomes: list[ModeOutcome], options: ConvertOptions, work: Path,
                 started: float, progress: bool, calibration_texts: list[str]) -> dict:
    """The passing mode files, the task files, vocabulary, labels and the manifest (last) into ``bundle``
    (``calibration_texts``: the training sentences the 8-bit task files calibrate on)."""
    from ..provenance import stamp

    failed = {o.mode.name: o.failure for o in outcomes if o.failure is not None}
    passed = [o for o in outcomes if o.failure is None]
    if not passed:
        raise ParityError("every mode failed its conversion or parity gate: " + "; ".join(
            f["reason"] for f in failed.values()))
    manifest: dict[str, Any] = _manifest_head(source, stamp())
    if source.skipped:
        manifest["skipped_modes"] = dict(source.skipped)
    for o in passed:
        path = Path(shutil.move(o.file, bundle / o.mode.file_name))
        manifest["modes"][o.mode.name] = _mode_entry(o, path, source, options)
    if failed:
        manifest["failed_modes"] = failed
    if options.metadata and source.exporter.supports_metadata:
        from .task_files import TaskInputs, write_task_files

        manifest.update(write_task_files(TaskInputs(source.loaded, source.exporter, source.check, calibration_texts),
                                         bundle, work, options, progress))
    atomic_write_text(bundle / VOCAB_NAME, vocab_text(source.loaded.tokenizer.vocab))
    atomic_write_text(bundle / LABELS_NAME, "\n".join(source.loaded.labels) + "\n")
    manifest["conversion"] = {"seconds": round(time.perf_counter() - started, 1),
                              "check_set": {"name": source.check.name, "examples": len(source.check)},
                              "options": options.to_dict()}
    problems = check_manifest(manifest)
    if problems:  # a bug, not a user mistake
        raise RuntimeError("manifest incomplete: " + "; ".join(problems))
    atomic_write_json(bundle / MANIFEST_NAME, manifest)
    return manifest


def _manifest_head(source: Source, provenance: dict) -> dict:
    from ..models.registry import get_family

    loaded = source.loaded
    meta = loaded.meta
    tok = {k: v for k, v in meta["tokenizer"].items()}
    tok["vocab_file"] = VOCAB_NAME
    tok.setdefault("type", "bert_wordpiece")
    tok["vocab_size"] = len(loaded.tokenizer.vocab)
    tok["vocab_sha256"] = vocab_sha256(loaded.tokenizer.vocab)
    rows, classes = get_family(loaded.family).embedding_rows(loaded.model), int(loaded.model.output_shape[-1])
    if tok["vocab_size"] > rows or classes != len(loaded.labels):  # a bug, not a user mistake
        raise RuntimeError(f"model/vocabulary/labels disagree: {tok['vocab_size']} tokens for {rows} embedding "
                           f"rows, {len(loaded.labels)} labels for {classes} outputs")
    return {
        "schema_version": MANIFEST_SCHEMA_VERSION,
        "format": "edgekit-bundle",
        "model": {
            "name": meta.get("name") or source.model_dir.name,
            "family": loaded.family,
            "role": meta.get("role"),
            "source_checkpoint": str(source.model_dir.resolve()),
            "source_backbone": meta.get("source_checkpoint"),
            # an imported checkpoint: where it came from and its parity vs PyTorch (edgekit/hf/importer.py)
            **({"source": meta["source"]} if meta.get("source") else {}),
            "params": meta.get("params"),
            "embedding_rows": rows,
            "num_classes": classes,
            "created": provenance["created"],
            "edgekit_version": provenance["edgekit_version"],
            "git_commit": provenance["git_commit"],
        },
        "labels": loaded.labels,
        "tokenizer": tok,
        "inputs": [{"name": n, "dtype": "int32"} for n in INPUT_NAMES],
        "outputs": [{"name": "logits", "dtype": "float32"}],
        "buckets": [{"length": L, "signature": s} for L, s in source.buckets],
        "bucket_rule": "smallest bucket whose length holds the token count with [CLS]/[SEP]; the largest, "
                       "truncated, when none does",
        "modes": {},
    }


def _mode_entry(outcome: ModeOutcome, path: Path, source: Source, options: ConvertOptions) -> dict:
    from .tflite_file import read_tflite

    mode, buckets = outcome.mode, source.buckets
    info = read_tflite(path)
    sharing = info.weight_sharing()
    shared = len(buckets) == 1 or sharing["shared_fraction"] >= 0.5
    entry: dict[str, Any] = {
        "file": path.name,
        "bytes": path.stat().st_size,
        "sha256": sha256_file(path),
        "signatures": [s for _, s in buckets],
        "weights_shared_across_buckets": shared,
        "weights": sharing,  # measured in the file: constant bytes and the share used by several signatures
        "description": mode.description,
        "output_dtype": next(iter(info.signature_io(info.signatures[0])[1].values())).dtype,
        "parity": outcome.parity,
        "ops": info.op_histogram(),
    }
    if not shared:
        entry["weights_note"] = source.exporter.notes.get(
            "weights_shared_across_buckets",
            "the converter keeps one copy of the weights per signature in this mode (quantization parameters are "
            "per subgraph)")
    if mode.note:
        entry["note"] = mode.note
    if mode.graph == "quant":
        entry["graph"] = source.exporter.graph_info(options)
    if outcome.quantization:
        entry["quantization"] = outcome.quantization
    return entry
