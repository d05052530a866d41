"""Option groups shared by several commands, and the loaders behind them."""

from __future__ import annotations

import functools
import math
from typing import Callable

import click

from ..errors import DataError, EdgekitError



class FiniteRange(click.FloatRange):
    """click's FloatRange without nan and ±inf (which pass every range comparison or limit)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{number} is not a finite number.", param, ctx)
        return number


POSITIVE_FLOAT = FiniteRange(min=0, min_open=True)  # learning rates, temperatures, budgets: > 0
SHARE = FiniteRange(0, 1)  # agreements, weights, ratios: in [0, 1]


def int_list(value: str, what: str, example: str, minimum: int = 1) -> list[int]:
    """``"16,32"`` → ``[16, 32]`` for a comma-separated option of numbers >= ``minimum``; one clear error
    otherwise."""
    try:
        out = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise EdgekitError(f"{what} takes comma-separated integers like {example} (got {value!r})") from None
    if not out:
        raise EdgekitError(f"{what} is empty")
    if min(out) < minimum:
        raise EdgekitError(f"{what} takes numbers >= {minimum} (got {value!r})")
    return out


def float_list(value: str | None, what: str, example: str, low: float, high: float | None = None,
               low_open: bool = False) -> list[float] | None:
    """``"0.3,0.5"`` → ``[0.3, 0.5]`` for a comma-separated option of numbers in a range (None when not
    given); one clear error otherwise."""
    if not value:
        return None
    try:
        out = [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise EdgekitError(f"{what} takes comma-separated numbers like {example} (got {value!r})") from None
    bad = [v for v in out if not math.isfinite(v) or not (v > low if low_open else v >= low)
           or (high is not None and v > high)]
    if bad or not out:
        shown = f"> {low:g}" if low_open else f">= {low:g}"
        shown += f" and <= {high:g}" if high is not None else ""
        raise EdgekitError(f"{what} takes numbers {shown} like {example} (got {value!r})")
    return out


def split_csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def data_options(fn: Callable) -> Callable:
    """--format/--text-column/--label-column/--labels/--level/--encoding for a DATA argument or option."""
    options = [
        click.option("--format", "fmt", default="auto", show_default=True,
                     help="fpb (Financial PhraseBank sentence@label), csv, tsv, jsonl, hf (Hugging Face "
                          "datasets name, online) or auto (from the file name)."),
        click.option("--text-column", default="text", show_default=True, help="Text field for csv/tsv/jsonl/hf."),
        click.option("--label-column", default="label", show_default=True, help="Label field for csv/tsv/jsonl/hf."),
        click.option("--labels", default=None,
                     help="Comma-separated label set in output order (default: sorted labels found; "
                          "FPB: negative,neutral,positive). Any other label is an error."),
        click.option("--level", default=None, help="FPB agreement level when DATA is the FPB folder: 50, 66, 75, all."),
        click.option("--encoding", default=None, help="File encoding (default: latin-1 for FPB, utf-8 otherwise)."),
    ]
    return functools.reduce(lambda f, opt: opt(f), reversed(options), fn)


def load_data(path: str | None, fmt: str, text_column: str, label_column: str, labels: str | None,
              level: str | None, encoding: str | None):
    """The dataset named on the command line, or the embedded default when ``path`` is None."""
    from ..data import load_dataset
    from ..data.default import load_default

    if path is None:
        return load_default()
    extra = {"level": level} if level else {}
    return load_dataset(path, format=fmt, labels=split_csv(labels), text_column=text_column,
                        label_column=label_column, encoding=encoding, **extra)


def parse_fractions(value: str) -> tuple[float, float, float]:
    try:
        parts = tuple(float(v) for v in value.split(","))
    except ValueError:
        raise DataError(f"--fractions takes three numbers like 0.8,0.1,0.1, got {value!r}") from None
    if len(parts) != 3:
        raise DataError(f"--fractions takes three numbers like 0.8,0.1,0.1, got {value!r}")
    return parts  # type: ignore[return-value]


def splits_options(fn: Callable) -> Callable:
    """--data/--split-dir plus the data options and split seed, for commands that train."""
    options = [
        click.option("--data", "data_path", default=None,
                     help="Labelled data (FPB file or folder, csv/tsv/jsonl, hf:NAME). Default: the embedded "
                          "default dataset."),
        click.option("--split-dir", default=None, type=click.Path(file_okay=False),
                     help="Use a split written by 'edgekit data split' instead of --data."),
        click.option("--split-seed", default=42, show_default=True, type=int, help="Seed of the data split."),
    ]
    return functools.reduce(lambda f, opt: opt(f), reversed(options), data_options(fn))


def load_splits(data_path, split_dir, split_seed, fmt, text_column, label_column, labels, level, encoding):
    from ..data import Splits, split_dataset

    if split_dir and data_path:
        raise DataError("give either --data or --split-dir, not both")
    if split_dir:
        return Splits.load(split_dir)
    ds = load_data(data_path, fmt, text_column, label_column, labels, level, encoding)
    return split_dataset(ds, seed=split_seed)
