"""Loaders for labelled text, one per format, chosen from a registry (no if-chains).

Every loader yields ``(text, label, where)`` where ``where`` is ``file:line`` so that a bad record
is reported with its place. :func:`load_dataset` validates the label set and builds a
:class:`~edgekit.data.Dataset`.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ..errors import DataError, first_line
from .dataset import Dataset, Example

Record = tuple[str, str, str]  # text, label, where
Loader = Callable[..., Iterator[Record]]

FPB_LABELS = ("negative", "neutral", "positive")
FPB_LEVELS = ("50Agree", "66Agree", "75Agree", "AllAgree")

FORMATS: dict[str, Loader] = {}


def register_format(name: str) -> Callable[[Loader], Loader]:
    def deco(fn: Loader) -> Loader:
        FORMATS[name] = fn
        return fn

    return deco


def _open_text(path: Path, encoding: str):
    try:
        return open(path, encoding=encoding, newline="")
    except FileNotFoundError:
        raise DataError(f"data file not found: {path}") from None
    except IsADirectoryError:
        raise DataError(f"expected a file, got a directory: {path}") from None
    except PermissionError:
        raise DataError(f"cannot read {path}: permission denied") from None


@register_format("fpb")
def load_fpb(path: str | os.PathLike, *, level: str | None = None, encoding: str = "latin-1", **_) -> Iterator[Record]:
    """Financial PhraseBank v1.0: ``sentence@label`` per line, latin-1, CRLF; split on the last ``@``.

    ``path`` is a ``Sentences_*Agree.txt`` file, or the folder holding them with ``level`` given
    (``50``, ``66``, ``75``, ``all`` or the full ``75Agree`` form).
    """
    path = Path(path)
    if path.is_dir():
        path = path / f"Sentences_{_fpb_level(level or '75')}.txt"
    with _open_text(path, encoding) as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            if "@" not in line:
                raise DataError(f"{path}:{lineno}: expected 'sentence@label', found no '@'")
            text, label = line.rsplit("@", 1)
            yield text.strip(), label.strip(), f"{path}:{lineno}"


def _fpb_level(level: str) -> str:
    key = str(level).lower().removesuffix("agree")
    for name in FPB_LEVELS:
        if name.lower().removesuffix("agree") == key:
            return name
    raise DataError(f"unknown Financial PhraseBank level {level!r}; use one of 50, 66, 75, all")


def _load_delimited(path: str | os.PathLike, delimiter: str, *, text_column: str = "text",
                    label_column: str = "label", encoding: str = "utf-8", **_) -> Iterator[Record]:
    path = Path(path)
    with _open_text(path, encoding) as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        header = reader.fieldnames or []
        for column in (text_column, label_column):
            if column not in header:
                raise DataError(f"{path}:1: no column {column!r} in header {header}")
        try:
            for row in reader:
                where = f"{path}:{reader.line_num}"
                text, label = row.get(text_column), row.get(label_column)
                if text is None or label is None:
                    raise DataError(f"{where}: row has fewer fields than the header")
                yield text.strip(), label.strip(), where
        except csv.Error as exc:
            raise DataError(f"{path}:{reader.line_num}: {exc}") from None
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: not {encoding} text ({exc.reason}); pass --encoding") from None


@register_format("csv")
def load_csv(path, **kw) -> Iterator[Record]:
    """Comma-separated with a header row; ``text_column`` / ``label_column`` name the fields."""
    return _load_delimited(path, ",", **kw)


@register_format("tsv")
def load_tsv(path, **kw) -> Iterator[Record]:
    """Tab-separated with a header row; ``text_column`` / ``label_column`` name the fields."""
    return _load_delimited(path, "\t", **kw)


@register_format("jsonl")
def load_jsonl(path: str | os.PathLike, *, text_column: str = "text", label_column: str = "label",
               encoding: str = "utf-8", **_) -> Iterator[Record]:
    """One JSON object per line with ``text_column`` and ``label_column`` keys."""
    path = Path(path)
    with _open_text(path, encoding) as fh:
        try:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{lineno}"
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"{where}: invalid JSON ({exc.msg})") from None
                if not isinstance(obj, dict) or text_column not in obj or label_column not in obj:
                    raise DataError(f"{where}: expected an object with {text_column!r} and {label_column!r}")
                yield str(obj[text_column]).strip(), str(obj[label_column]).strip(), where
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: not {encoding} text ({exc.reason}); pass --encoding") from None


@register_format("hf")
def load_hf(name: str, *, config: str | None = None, split: str = "train", text_column: str = "sentence",
            label_column: str = "label", **_) -> Iterator[Record]:
    """A Hugging Face ``datasets`` name (needs the ``hub`` extra and internet).

    ``name`` may carry the config after a colon: ``financial_phrasebank:sentences_75agree``.
    Integer labels are mapped to their ClassLabel names.
    """
    if ":" in name and config is None:
        name, config = name.split(":", 1)
    try:
        import datasets  # noqa: PLC0415  (optional dependency)
    except ImportError:
        raise DataError("Hugging Face datasets need the 'hub' extra: pip install 'edgekit[hub]'") from None
    try:
        ds = datasets.load_dataset(name, config, split=split)
    except Exception as exc:  # network, missing dataset, missing config...
        raise DataError(f"cannot load Hugging Face dataset {name!r}: {first_line(exc)}") from None
    feature = ds.features.get(label_column)
    names = getattr(feature, "names", None)
    for i, row in enumerate(ds):
        label = row[label_column]
        if names is not None and isinstance(label, int):
            label = names[label]
        yield str(row[text_column]).strip(), str(label), f"{name}[{split}]#{i}"


def detect_format(source: str | os.PathLike) -> str:
    s = str(source)
    if s.startswith("hf:"):
        return "hf"
    path = Path(s)
    if path.is_dir() and any(path.glob("Sentences_*Agree.txt")):
        return "fpb"
    if path.name.startswith("Sentences_") and path.suffix == ".txt":
        return "fpb"
    by_suffix = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
    if path.suffix.lower() in by_suffix:
        return by_suffix[path.suffix.lower()]
    if not path.exists():
        raise DataError(f"data not found: {s}")
    raise DataError(f"cannot tell the format of {s}; pass --format ({', '.join(sorted(FORMATS))})")


def load_dataset(
    source: str | os.PathLike,
    *,
    format: str = "auto",
    labels: Sequence[str] | None = None,
    name: str | None = None,
    **options,
) -> Dataset:
    """Load labelled text from ``source`` with the loader of ``format`` (``auto`` detects it).

    ``labels`` fixes the label set and its order; a record with another label is an error that
    names its file and line. Without it the label set is the sorted set of labels found (for
    Financial PhraseBank: negative, neutral, positive).
    """
    fmt = detect_format(source) if format == "auto" else format
    if fmt not in FORMATS:
        raise DataError(f"unknown data format {fmt!r}; known: {', '.join(sorted(FORMATS))}")
    if fmt == "hf":
        source = str(source).removeprefix("hf:")
    elif not Path(source).exists():
        raise DataError(f"data not found: {source}")
    allowed = tuple(labels) if labels else None
    if allowed is None and fmt == "fpb":
        allowed = FPB_LABELS
    examples: list[Example] = []
    for text, label, where in FORMATS[fmt](source, **options):
        if not text:
            raise DataError(f"{where}: empty text")
        if not label:
            raise DataError(f"{where}: empty label")
        if allowed is not None and label not in allowed:
            raise DataError(f"{where}: unknown label {label!r} (expected one of {', '.join(allowed)})")
        examples.append(Example(text, label))
    if not examples:
        raise DataError(f"no examples in {source}")
    label_set = allowed or tuple(sorted({e.label for e in examples}))
    if len(label_set) < 2:
        raise DataError(f"{source}: a classifier needs at least two labels, found {list(label_set)}")
    display = name or (Path(str(source)).stem if fmt != "hf" else str(source))
    return Dataset(name=display, examples=examples, labels=label_set, source=str(source),
                   notes={"format": fmt})
