"""A teacher given instead of trained (``edgekit run --model SRC``): imported or copied, then evaluated.

SRC is what ``edgekit import`` takes (a local Hugging Face folder or ``hf://ORG/NAME[@REV]``) or an
existing edgekit model directory. The model lands in the run's teacher folder, where the students,
conversion and benchmark read it as they read a trained teacher, and it is evaluated on the test
split with the training code's :func:`.loop.evaluate`, so the summary and report read the same.
Its labels must be the data's labels in the same order (the students learn from its logits against
the split's label ids); that is checked before anything is imported (docs/architecture.md §8).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np

from ..data import Splits
from ..errors import EdgekitError
from ..fsutil import atomic_directory, atomic_write_json, read_json_object, sha256_file
from ..models.modeldir import META_NAME, METRICS_NAME, WEIGHTS_NAME, load_model_dir, read_meta
from .encode import encode_texts
from .loop import evaluate

logger = logging.getLogger(__name__)


def is_model_dir(spec: str) -> bool:
    return not spec.startswith("hf://") and (Path(spec).expanduser() / META_NAME).is_file()


def source_facts(spec: str) -> dict:
    """What the teacher stage's fingerprint covers of SRC: its weights' sha256 (a hub id: the spec itself)."""
    from ..hf.source import WEIGHTS_NAME as HF_WEIGHTS

    if spec.startswith("hf://"):
        return {"model": spec}
    folder = Path(spec).expanduser()
    weights = folder / (WEIGHTS_NAME if is_model_dir(spec) else HF_WEIGHTS)
    return {"model": spec, "weights_sha256": sha256_file(weights) if weights.is_file() else None}


def _hf_config(spec: str) -> dict:
    """SRC's config.json (a Hugging Face folder or hub id)."""
    from ..hf.source import CONFIG_NAME, resolve_source

    return read_json_object(resolve_source(spec).folder / CONFIG_NAME, EdgekitError, CONFIG_NAME)


def source_labels(spec: str) -> list[str]:
    """SRC's label names in output order, read without importing it."""
    from ..hf.importer import GENERIC_LABEL, label_names

    if is_model_dir(spec):
        return list(read_meta(Path(spec).expanduser())["labels"])
    config = _hf_config(spec)
    names = [str(v) for _, v in sorted((int(k), v) for k, v in (config.get("id2label") or {}).items())]
    if names and all(GENERIC_LABEL.fullmatch(n) for n in names):
        raise EdgekitError(f"{spec} has generic labels ({', '.join(names)}): import it first with "
                           f"'edgekit import {spec} --out DIR --labels a,b,c', then run --model DIR")
    return label_names(config, None)


def source_positions(spec: str) -> int | None:
    """How many token positions SRC's model has (None when its config does not say), read without importing."""
    if is_model_dir(spec):
        backbone = (read_meta(Path(spec).expanduser()).get("config") or {}).get("backbone") or {}
        positions = backbone.get("max_sequence_length")
    else:
        positions = _hf_config(spec).get("max_position_embeddings")
    return int(positions) if isinstance(positions, int) and positions > 0 else None


def fit_buckets(buckets: tuple[int, ...], positions: int | None) -> tuple[int, ...]:
    """``buckets`` cut to a model of ``positions`` token positions: the ones that fit, then ``positions``
    itself as the last bucket when a longer one was cut (64 positions: 16,32,64,128 → 16,32,64)."""
    if positions is None or max(buckets) <= positions:
        return buckets
    kept = tuple(b for b in buckets if b < positions)
    return kept + (positions,)


def check_labels(spec: str, data_labels: list[str]) -> None:
    model_labels = source_labels(spec)
    if model_labels != list(data_labels):
        raise EdgekitError(f"--model {spec} has labels {','.join(model_labels)} but the data has "
                           f"{','.join(data_labels)} (same names in the same order needed)")


def check_labels_of_data(spec: str, path: str | None, format: str, encoding: str | None = None) -> None:
    """:func:`check_labels` against a data file (None: the embedded default) before any stage runs."""
    from ..data import load_dataset
    from ..data.default import load_default

    data = load_default() if path is None else load_dataset(path, format=format, encoding=encoding)
    check_labels(spec, list(data.labels))


def adopt_teacher(spec: str, splits: Splits, out_dir: str | Path, *, max_length: int,
                  batch_size: int = 64) -> dict:
    """Import or copy SRC into ``out_dir`` and evaluate it on the split; returns its metrics."""
    labels = list(splits.train.labels)
    check_labels(spec, labels)
    out_dir = Path(out_dir)
    if is_model_dir(spec):
        with atomic_directory(out_dir, overwrite=True) as tmp:
            shutil.copytree(Path(spec).expanduser(), tmp, dirs_exist_ok=True)
        logger.info(f"teacher: edgekit model directory {spec} copied to {out_dir} (no training)")
    else:
        from ..hf import import_checkpoint

        import_checkpoint(spec, out_dir, max_length=max_length, overwrite=True)
        logger.info(f"teacher: {spec} imported to {out_dir} (no training)")
    loaded = load_model_dir(out_dir)
    reports = {}
    for part in splits:
        name = part.notes["split"]
        if name in ("validation", "test"):
            enc = encode_texts(loaded.tokenizer, part.texts, loaded.max_length)
            reports[name] = evaluate(loaded.model, enc, np.asarray(part.label_ids, np.int32), labels, batch_size)
    logger.info(f"teacher test macro-F1 {reports['test']['macro_f1']:.4f}  accuracy {reports['test']['accuracy']:.4f}")
    metrics = {"model": loaded.meta.get("name", out_dir.name), "family": loaded.family, "source_model": spec,
               "validation": reports["validation"], "test": reports["test"], "data": splits.info}
    atomic_write_json(out_dir / METRICS_NAME, metrics)
    return metrics
