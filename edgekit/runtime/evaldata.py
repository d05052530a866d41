"""A labelled eval file as a bundle sees it: checked against the bundle's labels, named for records.

Used by the runner, the harness, the Keras baseline and the Android assets (stdlib + edgekit.data).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from ..data import Dataset
from ..data.loaders import load_dataset
from ..errors import DataError

SPLIT_NAMES = ("train", "validation", "test")


def dataset_identity(path: str | Path, name: str | None = None, split: str | None = None) -> tuple[str, str]:
    """Name and split of an eval file for result records: ``name``/``split`` when given; else the
    ``dataset`` of a ``split.json`` beside the file (``edgekit data split``) joined with the file's
    stem, and the stem as split when it is one of :data:`SPLIT_NAMES` (``eval`` otherwise)."""
    path = Path(path)
    stem = path.stem
    base = None
    info = path.parent / "split.json"
    if info.is_file():
        try:
            base = json.loads(info.read_text(encoding="utf-8")).get("dataset")
        except (ValueError, AttributeError):
            base = None
    split = split or (stem if stem in SPLIT_NAMES else "eval")
    return name or (f"{base}:{stem}" if base else stem), split


def load_eval(path: str | Path, labels: Sequence[str], fmt: str = "auto", text_column: str = "text",
              label_column: str = "label", limit: int | None = None, name: str | None = None) -> Dataset:
    """The labelled eval file (JSONL/TSV/CSV/FPB) checked against the bundle's ``labels``; the first
    ``limit`` examples when given. An empty file or a label outside ``labels`` is a DataError."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"eval file not found: {path}")
    try:
        ds = load_dataset(path, format=fmt, labels=list(labels), name=name, text_column=text_column,
                          label_column=label_column)
    except DataError as exc:
        msg = str(exc)
        if "unknown label" in msg:
            msg += " — the eval file's labels must be the bundle's"
        raise DataError(msg) from None
    if len(ds) == 0:
        raise DataError(f"{path}: no examples")
    if limit is not None and limit < len(ds):
        ds = ds.head(limit)
    return ds
