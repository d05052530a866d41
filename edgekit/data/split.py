"""Deduplication and a seeded, stratified, leak-free train/validation/test split."""

from __future__ import annotations

import math
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..errors import DataError
from ..fsutil import atomic_directory, atomic_write_json, read_json_object
from .dataset import Dataset, Example

SPLIT_NAMES = ("train", "validation", "test")
_WS = re.compile(r"\s+")


def dedup_key(text: str) -> str:
    """Sentences equal up to white space and case are the same sentence (no leak through them)."""
    return _WS.sub(" ", text).strip().lower()


def deduplicate(dataset: Dataset) -> tuple[Dataset, dict]:
    """Keep the first copy of every sentence; drop every copy of a sentence with conflicting labels."""
    by_key: dict[str, list[Example]] = defaultdict(list)
    order: list[str] = []
    for ex in dataset.examples:
        key = dedup_key(ex.text)
        if key not in by_key:
            order.append(key)
        by_key[key].append(ex)
    kept, duplicates, conflicts = [], 0, 0
    for key in order:
        group = by_key[key]
        if len({e.label for e in group}) > 1:
            conflicts += 1
            continue
        duplicates += len(group) - 1
        kept.append(group[0])
    report = {"input": len(dataset), "kept": len(kept), "duplicates_dropped": duplicates,
              "conflicting_sentences_dropped": conflicts}
    return Dataset(dataset.name, kept, dataset.labels, dataset.source, dict(dataset.notes)), report


@dataclass
class Splits:
    train: Dataset
    validation: Dataset
    test: Dataset
    info: dict

    def __iter__(self):
        return iter((self.train, self.validation, self.test))

    def save(self, out_dir: str | Path, overwrite: bool = False) -> Path:
        """``train.jsonl``, ``validation.jsonl``, ``test.jsonl`` and ``split.json``, written atomically."""
        with atomic_directory(out_dir, overwrite=overwrite) as tmp:
            for part in self:
                part.to_jsonl(tmp / f"{part.notes.get('split', part.name)}.jsonl")
            atomic_write_json(tmp / "split.json", self.info)
        return Path(out_dir)

    @classmethod
    def load(cls, split_dir: str | Path) -> "Splits":
        from .loaders import load_dataset

        split_dir = Path(split_dir)
        info_path = split_dir / "split.json"
        if not info_path.is_file():
            raise DataError(f"{split_dir} is not a split folder (no split.json)")
        info = read_json_object(info_path, DataError)
        labels, dataset = info.get("labels"), info.get("dataset")
        if not isinstance(labels, list) or not isinstance(dataset, str):
            raise DataError(f"{info_path}: expected 'dataset' (a name) and 'labels' (a list); not written by "
                            "'edgekit data split'?")
        parts = []
        for name in SPLIT_NAMES:
            ds = load_dataset(split_dir / f"{name}.jsonl", format="jsonl", labels=labels, name=f"{dataset}:{name}")
            ds.notes["split"] = name
            parts.append(ds)
        return cls(*parts, info=info)


def check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    """Three finite numbers above 0 (every split gets sentences) summing to 1, or a DataError."""
    try:
        values = tuple(float(f) for f in fractions)
    except (TypeError, ValueError):
        values = ()
    if len(values) != 3 or not all(math.isfinite(f) and f > 0 for f in values) or abs(sum(values) - 1.0) > 1e-6:
        raise DataError(f"split fractions (train,validation,test) must be three numbers above 0 summing to 1, "
                        f"got {list(fractions) if isinstance(fractions, (list, tuple)) else fractions!r}")
    return values  # type: ignore[return-value]


def split_dataset(
    dataset: Dataset,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 42,
) -> Splits:
    """Deduplicate, then split every label's sentences in the given proportions.

    Stratified per label (each split keeps the label proportions to within one sentence per
    label), deterministic for a seed, and leak-free: a sentence (up to case and white space) is
    in exactly one split. The returned ``info`` records counts and content hashes.
    """
    fractions = check_fractions(fractions)
    unique, dedup_report = deduplicate(dataset)
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, ex in enumerate(unique.examples):
        by_label[ex.label].append(i)
    assigned: list[list[int]] = [[], [], []]
    for label in unique.labels:
        idx = by_label.get(label, [])
        rng.shuffle(idx)
        n = len(idx)
        n_val = round(n * fractions[1])
        n_test = round(n * fractions[2])
        n_train = n - n_val - n_test
        if n and n_train <= 0:
            raise DataError(f"label {label!r} has only {n} sentences: too few to split")
        assigned[0] += idx[:n_train]
        assigned[1] += idx[n_train:n_train + n_val]
        assigned[2] += idx[n_train + n_val:]
    for name, idx, fraction in zip(SPLIT_NAMES, assigned, fractions):
        if not idx:
            raise DataError(f"the {name} split would be empty ({fraction:g} of {len(unique)} sentences after "
                            f"deduplication, rounded per label); give it a larger fraction or use more data")
    parts = []
    for name, idx in zip(SPLIT_NAMES, assigned):
        rng.shuffle(idx)  # interleave labels: source files are often grouped by label
        part = unique.subset(idx, name=f"{dataset.name}:{name}")
        part.notes["split"] = name
        parts.append(part)
    info = {
        "dataset": dataset.name,
        "source": dataset.source,
        "source_sha256": dataset.sha256,
        "labels": list(dataset.labels),
        "seed": seed,
        "fractions": list(fractions),
        "dedup": dedup_report,
        "counts": {p.notes["split"]: p.counts() for p in parts},
        "sha256": {p.notes["split"]: p.sha256 for p in parts},
    }
    return Splits(*parts, info=info)
