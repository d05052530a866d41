"""Model directory → bundle: export, convert every mode, gate every file, write the manifest last.

``convert_model_dir`` is what ``edgekit convert`` and the ``convert`` pipeline stage call. The bundle is
built in a hidden sibling folder (:func:`edgekit.fsutil.atomic_directory`) and appears only when every
file is written and every parity gate passed: a failed gate leaves nothing that looks complete.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


from ..contracts import INPUT_NAMES, LABELS_NAME, MANIFEST_NAME, MANIFEST_SCHEMA_VERSION, VOCAB_NAME, check_manifest
from ..errors import DataError, EdgekitError, first_line
from ..fsutil import atomic_directory, atomic_write_bytes, atomic_write_json, atomic_write_text, sha256_file
from .calibration import calibration_samples
from .exporters import export_saved_model, get_exporter, signature_name
from .modes import ConvertJob, get_mode, parse_modes
from .parity import ParityError, check_file, compare, make_check_set, tflite_logits

DEFAULT_MODES = ("fp32", "fp16", "dynamic_int8", "int8")
DEFAULT_BUCKETS = (16, 32, 64, 128)


@dataclass
class ConvertOptions:
    modes: list[str] = field(default_factory=lambda: list(DEFAULT_MODES))
    buckets: list[int] = field(default_factory=lambda: list(DEFAULT_BUCKETS))
    signature_prefix: str = "seq"
    calibration_samples: int = 200
    int8_io: bool = False
    fallback: str = "auto"  # none | family | auto
    target_agreement: float = 0.99
    search_samples: int = 300  # held-out training sentences for the measured-fallback search
    mask_value: float = -30.0
    thresholds: dict[str, dict] = field(default_factory=dict)  # mode → {min_argmax_agreement: ...}
    check_limit: int | None = None  # parity on the first N validation examples only (tests)
    metadata: bool = True
    metadata_mode: str = "fp16"
    metadata_length: int = 128
    threads: int = 1
    seed: int = 0
    overwrite: bool = False
    allow_other_data: bool = False
    # "fail": a failed conversion or parity gate fails the export (nothing written); "drop": that mode
    # is left out of the bundle and the manifest records why under failed_modes (edgekit run uses this)
    on_gate_failure: str = "fail"

    def validate(self) -> None:
        self.modes = parse_modes(self.modes)
        if not self.buckets:
            raise EdgekitError("no buckets given")
        if any(int(b) < 2 for b in self.buckets):
            raise EdgekitError(f"bucket lengths must be >= 2, got {self.buckets}")
        self.buckets = sorted({int(b) for b in self.buckets})
        if self.fallback not in ("none", "family", "auto"):
            raise EdgekitError(f"--fallback must be none, family or auto, got {self.fallback!r}")
        if self.calibration_samples < 1:
            raise DataError("--calibration-samples must be >= 1")
        if self.on_gate_failure not in ("fail", "drop"):
            raise EdgekitError(f"on_gate_failure must be fail or drop, got {self.on_gate_failure!r}")
        get_mode(self.metadata_mode)


def _log_default(msg: str) -> None:
    print(msg)


def _max_positions(loaded) -> int | None:
    cfg = loaded.meta.get("config", {})
    return (cfg.get("backbone") or {}).get("max_sequence_length")


def convert_model_dir(model_dir: str | Path, out: str | Path, splits, options: ConvertOptions | None = None,
                      log: Callable[[str], None] = _log_default, progress: bool = True) -> dict:
    """Convert the model in ``model_dir`` into the bundle ``out``; returns the manifest."""
    from ..models.modeldir import load_model_dir
    from ..provenance import stamp

    options = options or ConvertOptions()
    options.validate()
    t_start = time.perf_counter()
    loaded = load_model_dir(model_dir)
    exporter = get_exporter(loaded.family)
    limit = _max_positions(loaded)
    if limit and options.buckets[-1] > int(limit):
        raise EdgekitError(f"bucket {options.buckets[-1]} is longer than the model's {limit} positions")
    buckets = [(L, signature_name(L, options.signature_prefix)) for L in options.buckets]
    labels = loaded.labels
    _check_data(loaded, splits, options)

    skipped = {m: exporter.unsupported_modes[m] for m in options.modes if m in exporter.unsupported_modes}
    for m, why in skipped.items():
        log(f"skipping {m}: {why}")
    options.modes = [m for m in options.modes if m not in skipped]
    if not options.modes:
        raise EdgekitError(f"none of the requested modes can be converted for family {loaded.family!r}")

    # ---- the check set (validation split) and the source model's logits on it
    val = splits.validation
    texts = [e.text for e in val.examples]
    gold = [labels.index(e.label) for e in val.examples]
    if options.check_limit:
        texts, gold = texts[:options.check_limit], gold[:options.check_limit]
    log(f"source model: {loaded.family} from {model_dir}; check set {len(texts)} {val.name} examples")
    check = make_check_set(loaded.model, loaded.tokenizer, texts, gold, labels, buckets[-1][0],
                           name=val.name, progress="source logits" if progress else None)

    # ---- calibration data and the held-out set for the measured-fallback search (training split)
    modes = [get_mode(m) for m in options.modes]
    calib, calib_summary, search = None, None, None
    if any(m.needs_calibration for m in modes):
        train_texts = [e.text for e in splits.train.examples]
        if not train_texts:
            raise DataError("calibration data has no examples (the training split is empty)")
        rng = random.Random(options.seed)
        shuffled = train_texts[:]
        rng.shuffle(shuffled)
        half = len(shuffled) // 2 if len(shuffled) > 1 else 1
        calib_pool, search_pool = shuffled[:half] or shuffled, shuffled[half:] or shuffled
        calib, calib_summary = calibration_samples(calib_pool, loaded.tokenizer, buckets,
                                                   options.calibration_samples, seed=options.seed)
        if options.fallback == "auto":
            search = make_check_set(loaded.model, loaded.tokenizer, search_pool[:options.search_samples], None,
                                    labels, buckets[-1][0], name=f"{splits.train.name} (held out from calibration)")

    manifest: dict[str, Any] = _manifest_head(loaded, model_dir, buckets, exporter, stamp())
    if skipped:
        manifest["skipped_modes"] = skipped
    work = Path(tempfile.mkdtemp(prefix="edgekit-convert-"))
    try:
        with atomic_directory(out, overwrite=options.overwrite) as tmp:
            saved: dict[str, list[str]] = {}
            for i, mode in enumerate(modes, start=1):
                t0 = time.perf_counter()
                log(f"[{i}/{len(modes)}] {mode.name}: {mode.description}")
                sm_dir = work / f"saved_model_{mode.graph}"
                if mode.graph not in saved:
                    saved[mode.graph] = export_saved_model(exporter, loaded, buckets, sm_dir, mode.graph,
                                                           {"mask_value": options.mask_value})
                job = ConvertJob(str(sm_dir), saved[mode.graph], float_fallback_patterns=exporter.float_fallback_patterns
                                 if options.fallback != "none" else (),
                                 int8_io=options.int8_io and mode.name == "int8", fallback=options.fallback, log=log,
                                 fallback_groups=exporter.fallback_groups, fill_calibration=exporter.fill_calibration)
                if mode.needs_calibration:
                    job.representative_dataset = _rep(calib)
                    job.report["calibration"] = calib_summary
                    job.report["target_agreement"] = options.target_agreement
                    job.report["_samples"] = calib
                    if search is not None:
                        job.evaluate = _evaluator(search, buckets, work, options.threads)
                try:
                    model_bytes = mode.convert(job)
                except Exception as exc:
                    error = exc if isinstance(exc, EdgekitError) else EdgekitError(
                        f"{mode.name}: conversion failed: {first_line(exc)}")
                    if options.on_gate_failure == "fail":
                        raise error from None
                    manifest.setdefault("failed_modes", {})[mode.name] = {"reason": str(error)}
                    log(f"    {error}: left out of the bundle")
                    continue
                path = atomic_write_bytes(tmp / mode.file_name, model_bytes)
                thresholds = mode.thresholds.replace(**options.thresholds.get(mode.name, {}))
                figures = check_file(path, check, buckets, thresholds, threads=options.threads,
                                     progress=f"parity {mode.name}" if progress else None)
                seconds = time.perf_counter() - t0
                log(f"    {path.stat().st_size / 1e6:.1f} MB, agreement {figures['argmax_agreement']:.4f}, "
                    f"max |Δlogit| {figures['max_abs_logit_error']:.3g}, macro-F1 Δ "
                    f"{figures.get('macro_f1_delta', float('nan')):+.4f} ({seconds:.0f}s)")
                if not figures["passed"]:
                    reason = f"parity gate failed for mode {mode.name}: " + "; ".join(figures["failures"])
                    if options.on_gate_failure == "fail":
                        raise ParityError(reason + " (no bundle written; thresholds can be overridden with "
                                                   "--threshold)")
                    path.unlink()
                    manifest.setdefault("failed_modes", {})[mode.name] = {"reason": reason, "parity": figures}
                    log(f"    {reason}: left out of the bundle")
                    continue
                entry = _mode_entry(mode, path, buckets, exporter, figures, job, options)
                manifest["modes"][mode.name] = entry
            if not manifest["modes"]:
                raise ParityError("every mode failed its conversion or parity gate: " + "; ".join(
                    e["reason"] for e in manifest.get("failed_modes", {}).values()))
            if options.metadata and exporter.supports_metadata:
                from .metadata import write_task_library_file

                manifest["task_library"] = write_task_library_file(
                    loaded, exporter, tmp, work, check, options, log, progress)
            atomic_write_text(tmp / VOCAB_NAME, "\n".join(loaded.tokenizer.vocab) + "\n")
            atomic_write_text(tmp / LABELS_NAME, "\n".join(labels) + "\n")
            manifest["conversion"] = {"seconds": round(time.perf_counter() - t_start, 1),
                                      "check_set": {"name": check.name, "examples": len(check)},
                                      "options": {k: v for k, v in options.__dict__.items()
                                                  if k not in ("overwrite",)}}
            problems = check_manifest(manifest)
            if problems:  # a bug, not a user mistake
                raise RuntimeError("manifest incomplete: " + "; ".join(problems))
            atomic_write_json(tmp / MANIFEST_NAME, manifest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log(f"bundle → {out} ({time.perf_counter() - t_start:.0f}s)")
    return manifest


def _check_data(loaded, splits, options: ConvertOptions) -> None:
    trained = (loaded.meta.get("data") or {}).get("sha256")
    given = splits.info.get("sha256")
    if trained and given and trained != given and not options.allow_other_data:
        raise DataError(f"the data given is not the split {loaded.path} was trained on "
                        f"({(loaded.meta.get('data') or {}).get('dataset')}); pass the same --data/--split-dir "
                        "or --allow-other-data")
    if len(splits.validation) == 0:
        raise DataError("the validation split is empty: nothing to check the conversion against")


def _rep(samples):
    def gen():
        for sig, feeds in samples:
            yield sig, feeds

    return gen


def _evaluator(search, buckets, work: Path, threads: int):
    from ..benchmarks.bundle import SignatureModel

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


def _manifest_head(loaded, model_dir, buckets, exporter, provenance: dict) -> dict:
    meta = loaded.meta
    tok = {k: v for k, v in meta["tokenizer"].items()}
    tok["vocab_file"] = VOCAB_NAME
    tok.setdefault("type", "bert_wordpiece")
    tok.setdefault("vocab_size", len(loaded.tokenizer.vocab))
    return {
        "schema_version": MANIFEST_SCHEMA_VERSION,
        "format": "edgekit-bundle",
        "model": {
            "name": meta.get("name") or Path(model_dir).name,
            "family": loaded.family,
            "role": meta.get("role"),
            "source_checkpoint": str(Path(model_dir).resolve()),
            "source_backbone": meta.get("source_checkpoint"),
            "params": meta.get("params"),
            "created": provenance["created"],
            "edgekit_version": provenance["edgekit_version"],
            "git_commit": provenance["git_commit"],
        },
        "labels": loaded.labels,
        "tokenizer": tok,
        "inputs": [{"name": n, "dtype": "int32"} for n in INPUT_NAMES],
        "outputs": [{"name": "logits", "dtype": "float32"}],
        "buckets": [{"length": L, "signature": s} for L, s in buckets],
        "bucket_rule": "smallest bucket whose length holds the token count with [CLS]/[SEP]; the largest, "
                       "truncated, when none does",
        "modes": {},
    }


def _mode_entry(mode, path: Path, buckets, exporter, figures: dict, job: ConvertJob, options) -> dict:
    from .tflite_file import read_tflite

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
        "parity": figures,
        "ops": info.op_histogram(),
    }
    if not shared:
        entry["weights_note"] = exporter.notes.get(
            "weights_shared_across_buckets",
            "the converter keeps one copy of the weights per signature in this mode (quantization parameters are "
            "per subgraph)")
    if mode.note:
        entry["note"] = mode.note
    if mode.graph == "quant":
        entry["graph"] = {"attention_mask_value": options.mask_value} if exporter.family == "bert" else {}
    report = {k: v for k, v in job.report.items() if not k.startswith("_")}
    if report:
        entry["quantization"] = report
    return entry
