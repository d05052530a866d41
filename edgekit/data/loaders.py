"""Loaders for labelled text, one per format, chosen from a registry (no if-chains).

Every loader yields ``(text, label, where)`` where ``where`` is ``file:line`` so that a bad record
is reported with its place. Files are decoded by :func:`.textfile.read_text` (encoding errors, byte-order
marks, mojibake). The loaders are strict: a row with more or fewer fields than the header, a JSON
value that is not a string (``null``, a number), a missing key or column is an error naming its
line, never a guess. :func:`load_dataset` validates the label set, skips rows with empty text (with
one warning counting them) and builds a :class:`~edgekit.data.Dataset`.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ..errors import DataError, first_line
from .dataset import Dataset, Example
from .textfile import read_text

Record = tuple[str, str, str]  # text, label, where
Loader = Callable[..., Iterator[Record]]

FPB_LABELS = ("negative", "neutral", "positive")
FPB_LEVELS = ("50Agree", "66Agree", "75Agree", "AllAgree")

FORMATS: dict[str, Loader] = {}

logger = logging.getLogger(__name__)


def register_format(name: str) -> Callable[[Loader], Loader]:
    def deco(fn: Loader) -> Loader:
        FORMATS[name] = fn
        return fn

    return deco


def _file_text(path: Path, encoding: str) -> str:
    text = read_text(path, encoding)
    if not text.strip():
        raise DataError(f"no examples in {path}: the file is empty")
    return text


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """Numbered lines without their ending; LF, CRLF and CR end a line, as in a file opened with
    ``newline=""`` (not the other Unicode line breaks, which JSON strings may hold)."""
    for lineno, line in enumerate(io.StringIO(text, newline=""), start=1):
        yield lineno, line.rstrip("\r\n")


def _distinct_columns(text_column: str, label_column: str) -> None:
    if text_column == label_column:
        raise DataError(f"the text and the label column are both {text_column!r}; pass --text-column / --label-column")


@register_format("fpb")
def load_fpb(path: str | os.PathLike, *, level: str | None = None, encoding: str = "latin-1", **_) -> Iterator[Record]:
    """Financial PhraseBank v1.0: ``sentence@label`` per line, latin-1, CRLF; split on the last ``@``.

    ``path`` is a ``Sentences_*Agree.txt`` file, or the folder holding them with ``level`` given
    (``50``, ``66``, ``75``, ``all`` or the full ``75Agree`` form).
    """
    path = Path(path)
    if path.is_dir():
        path = path / f"Sentences_{_fpb_level(level or '75')}.txt"
    elif level is not None:
        raise DataError(f"--level picks a file of the Financial PhraseBank folder, but {path} is a file")
    for lineno, line in _lines(_file_text(path, encoding)):
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


_DELIMITER_NAMES = {",": "comma", "\t": "tab"}


def _load_delimited(path: str | os.PathLike, delimiter: str, *, text_column: str = "text",
                    label_column: str = "label", encoding: str = "utf-8", **_) -> Iterator[Record]:
    """Rows of exactly the header's width; a blank line is skipped, any other width is an error (an
    unquoted delimiter inside the text would otherwise shift the label column)."""
    path = Path(path)
    _distinct_columns(text_column, label_column)
    reader = csv.reader(io.StringIO(_file_text(path, encoding), newline=""), delimiter=delimiter)
    try:
        header: list[str] = []
        while not header:  # the file has non-blank text, so a header row comes
            header = next(reader)
        columns = []
        for column in (text_column, label_column):
            if header.count(column) != 1:
                found = "no column" if column not in header else f"{header.count(column)} columns"
                shown = repr(header) if len(repr(header)) <= 120 else repr(header)[:117] + "..."
                raise DataError(f"{path}:{reader.line_num}: {found} {column!r} in header {shown}")
            columns.append(header.index(column))
        text_at, label_at = columns
        end = reader.line_num
        for row in reader:
            where, end = f"{path}:{end + 1}", reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != len(header):
                hint = (f" (an unquoted {_DELIMITER_NAMES.get(delimiter, repr(delimiter))} in the text? quote "
                        "the field)") if len(row) > len(header) else ""
                raise DataError(f"{where}: {len(row)} field{'s' * (len(row) > 1)}, the header has {len(header)}{hint}")
            yield row[text_at].strip(), row[label_at].strip(), where
    except csv.Error as exc:
        raise DataError(f"{path}:{reader.line_num}: {exc}") from None


@register_format("csv")
def load_csv(path, **kw) -> Iterator[Record]:
    """Comma-separated with a header row; ``text_column`` / ``label_column`` name the fields."""
    return _load_delimited(path, ",", **kw)


@register_format("tsv")
def load_tsv(path, **kw) -> Iterator[Record]:
    """Tab-separated with a header row; ``text_column`` / ``label_column`` name the fields."""
    return _load_delimited(path, "\t", **kw)


_JSON_TYPES = ((type(None), "null"), (bool, "a boolean"), (int, "a number"), (float, "a number"),
               (list, "an array"), (dict, "an object"))


def _json_string(obj: dict, key: str, where: str) -> str:
    if key not in obj:
        raise DataError(f"{where}: no {key!r} key (found {', '.join(map(repr, list(obj)[:8])) or 'none'})")
    value = obj[key]
    if not isinstance(value, str):
        kind = next(name for cls, name in _JSON_TYPES if isinstance(value, cls))
        hint = f' (write "{value}" for a label named so)' if kind == "a number" else ""
        raise DataError(f"{where}: {key!r} is {kind}, expected a string{hint}")
    return value.strip()


@register_format("jsonl")
def load_jsonl(path: str | os.PathLike, *, text_column: str = "text", label_column: str = "label",
               encoding: str = "utf-8", **_) -> Iterator[Record]:
    """One JSON object per line with ``text_column`` and ``label_column`` keys, both strings."""
    path = Path(path)
    _distinct_columns(text_column, label_column)
    for lineno, line in _lines(_file_text(path, encoding)):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: invalid JSON ({exc.msg})") from None
        except RecursionError:
            raise DataError(f"{where}: invalid JSON (nested too deeply)") from None
        except ValueError as exc:  # e.g. an integer of more than 4300 digits
            raise DataError(f"{where}: invalid JSON ({first_line(exc)})") from None
        if not isinstance(obj, dict):
            raise DataError(f"{where}: expected an object with {text_column!r} and {label_column!r}")
        yield _json_string(obj, text_column, where), _json_string(obj, label_column, where), where


@register_format("hf")
def load_hf(name: str, *, config: str | None = None, split: str = "train", text_column: str = "sentence",
            label_column: str = "label", **_) -> Iterator[Record]:
    """A Hugging Face ``datasets`` name (needs the ``hub`` extra and internet).

    ``name`` may carry the config after a colon: ``financial_phrasebank:sentences_75agree``.
    Integer labels are mapped to their ClassLabel names.
    """
    if ":" in name and config is None:
        name, config = name.split(":", 1)
    _distinct_columns(text_column, label_column)
    try:
        import datasets  # noqa: PLC0415  (optional dependency)
    except ImportError:
        raise DataError("Hugging Face datasets need the 'hub' extra: pip install 'edgekit[hub]'") from None
    try:
        ds = datasets.load_dataset(name, config, split=split)
    except Exception as exc:  # network, missing dataset, missing config...
        raise DataError(f"cannot load Hugging Face dataset {name!r}: {first_line(exc)}") from None
    for column in (text_column, label_column):
        if column not in ds.column_names:
            raise DataError(f"Hugging Face dataset {name!r} has no column {column!r} (columns: {ds.column_names})")
    names = getattr(ds.features.get(label_column), "names", None)
    for i, row in enumerate(ds):
        where = f"{name}[{split}]#{i}"
        text, label = row[text_column], row[label_column]
        if not isinstance(text, str):
            raise DataError(f"{where}: {text_column!r} is {type(text).__name__}, expected a string")
        if names is not None and isinstance(label, int):
            if not 0 <= label < len(names):  # -1: an unlabelled split
                raise DataError(f"{where}: label {label} is none of the {len(names)} classes {names}")
            label = names[label]
        yield text.strip(), str(label).strip(), where


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


def _label_set(labels: Sequence[str] | None) -> tuple[str, ...] | None:
    """A given label set, checked: non-empty names without surrounding white space, each once (a
    repeated label would be split, and written, twice)."""
    if labels is None:
        return None
    out = tuple(labels)
    if not out:
        raise DataError("the label set (--labels) is empty")
    for label in out:
        if not isinstance(label, str) or not label.strip() or label != label.strip():
            raise DataError(f"label {label!r} of the label set (--labels) is empty or has white space around it")
    repeated = [label for label, n in Counter(out).items() if n > 1]
    if repeated:
        raise DataError(f"label {repeated[0]!r} is given twice in the label set (--labels {','.join(out)})")
    return out


def is_blank(text: str) -> bool:
    """No visible character: only white space, control and format characters (a zero-width space)."""
    return all(unicodedata.category(ch)[0] in "ZC" for ch in text)


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
    Financial PhraseBank: negative, neutral, positive). Rows whose text is blank are skipped with
    one warning counting them; a file with no other rows is an error. No ``encoding`` (or None, or empty)
    reads with the format's own default (latin-1 for FPB, utf-8 otherwise).
    """
    if "encoding" in options and not options["encoding"]:
        del options["encoding"]
    allowed = _label_set(labels)
    try:
        fmt = detect_format(source) if format == "auto" else format
        if fmt not in FORMATS:
            raise DataError(f"unknown data format {fmt!r}; known: {', '.join(sorted(FORMATS))}")
        if fmt == "hf":
            source = str(source).removeprefix("hf:")
        elif not Path(source).exists():
            raise DataError(f"data not found: {source}")
    except OSError as exc:  # a name too long, a loop of links...
        raise DataError(f"cannot read {source}: {exc.strerror or exc}") from None
    if options.get("level") is not None and fmt != "fpb":
        raise DataError(f"--level is for the Financial PhraseBank folder, not {fmt} data")
    if allowed is None and fmt == "fpb":
        allowed = FPB_LABELS
    examples: list[Example] = []
    blank, first_blank = 0, ""
    for text, label, where in FORMATS[fmt](source, **options):
        if is_blank(text):
            blank, first_blank = blank + 1, first_blank or where
            continue
        if not label:
            raise DataError(f"{where}: empty label")
        if allowed is not None and label not in allowed:
            raise DataError(f"{where}: unknown label {label!r} (expected one of {', '.join(allowed)})")
        examples.append(Example(text, label))
    if not examples:
        raise DataError(f"no examples in {source}" + (f": every row has empty text (the first at {first_blank})"
                                                      if blank else ""))
    found = allowed or tuple(sorted({e.label for e in examples}))
    if len(found) < 2:
        raise DataError(f"{source}: a classifier needs at least two labels, found {list(found)}")
    if blank:
        logger.warning(f"warning: {source}: skipped {blank} row{'s' * (blank > 1)} with empty text "
                       f"(the first at {first_blank})")
    display = name or (Path(str(source)).stem if fmt != "hf" else str(source))
    return Dataset(name=display, examples=examples, labels=found, source=str(source), notes={"format": fmt})
