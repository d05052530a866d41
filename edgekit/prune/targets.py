"""Pruning targets: ``--heads`` / ``--ffn`` / ``--layers`` and the ``--params`` budget → one uniform :class:`Shape`.

Explicit targets are kept as given. A ``--params`` budget sizes the dimensions left free with one keep share
``s`` (docs/pruning.md, "The budget rule"): each free dimension keeps ``max(1, round(s × its size))``, and
``s`` is the largest value whose model fits the budget. So ``--params 0.5`` alone shrinks depth, heads and
FFN width by the same share; ``--layers 3 --params 0.5`` keeps 3 layers and narrows heads and FFN until
the model fits.

Budget forms (a registry, :data:`BUDGET_FORMS`, tried in order): ``40%`` or a number in (0, 1] — a share of
the model's parameters; ``12M``, ``800k`` — a count with a suffix; ``12000000`` — a count.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Callable

from ..errors import EdgekitError
from .plan import Shape

DIMENSIONS = ("layers", "heads", "ffn")
OPTION = {"layers": "--layers", "heads": "--heads", "ffn": "--ffn"}
WHAT = {"layers": "layers", "heads": "attention heads per layer", "ffn": "FFN neurons per layer"}


@dataclass(frozen=True)
class Targets:
    layers: int | None = None
    heads: int | None = None
    ffn: int | None = None
    params: str | None = None  # a budget form, see BUDGET_FORMS
    latency: str | None = None  # a share of the model's measured latency: 0.4 or 40% (edgekit.prune.latency)

    def to_dict(self) -> dict:
        return asdict(self)


_SUFFIXES = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}


def _percent(text: str, total: int) -> int | None:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)%", text)
    return None if m is None else _share(float(m.group(1)) / 100, text, total)


def _fraction(text: str, total: int) -> int | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return _share(value, text, total) if value <= 1 else None


def _suffixed(text: str, total: int) -> int | None:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmMgG])", text)
    return None if m is None else round(float(m.group(1)) * _SUFFIXES[m.group(2).lower()])


def _count(text: str, total: int) -> int | None:
    return int(text) if re.fullmatch(r"\d+", text) else None


def _share(value: float, text: str, total: int) -> int:
    if not (math.isfinite(value) and 0 < value <= 1):
        raise EdgekitError(f"--params {text}: a share of the model's parameters must be in (0, 1] (or 0-100%)")
    return math.floor(value * total)


# name → parser(text, the model's parameter count) → the budget in parameters, or None when not its form
BUDGET_FORMS: dict[str, Callable[[str, int], int | None]] = {
    "percent (40%)": _percent,
    "share (0.4)": _fraction,
    "count with suffix (12M, 800k)": _suffixed,
    "count (12000000)": _count,
}


def parse_budget(text: str, total: int) -> int:
    """The parameter budget ``text`` means for a model of ``total`` parameters; one line for an unknown form."""
    text = text.strip()
    for parse in BUDGET_FORMS.values():
        budget = parse(text, total)
        if budget is not None:
            if budget < 1:
                raise EdgekitError(f"--params {text} is a budget of {budget} parameters")
            return budget
    raise EdgekitError(f"--params {text!r} is not a budget; use one of: {', '.join(BUDGET_FORMS)}")


def parse_latency_share(text: str) -> float:
    """``0.4`` or ``40%``: the share of the model's measured latency a ``--latency`` budget allows."""
    text = text.strip()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)%", text)
    try:
        value = float(m.group(1)) / 100 if m else float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= 1):
        raise EdgekitError(f"--latency {text}: a share of the model's latency must be in (0, 1] (or 0-100%)")
    return value


def check_targets(targets: Targets, full: Shape) -> None:
    """Each explicit target within 1..the model's size; at least one target; a budget with something to choose."""
    given = {d: getattr(targets, d) for d in DIMENSIONS if getattr(targets, d) is not None}
    if not given and targets.params is None and targets.latency is None:
        raise EdgekitError("nothing to prune: give --heads, --ffn, --layers, --params or --latency")
    for dim, value in given.items():
        size = getattr(full, dim)
        if not 1 <= value <= size:
            raise EdgekitError(f"{OPTION[dim]} {value}: the model has {size} {WHAT[dim]}; keep 1..{size}")
    if targets.params is not None and targets.latency is not None:
        raise EdgekitError("--params and --latency are two budgets: give one")
    budget = "--params" if targets.params is not None else "--latency" if targets.latency is not None else None
    if budget and len(given) == len(DIMENSIONS):
        raise EdgekitError(f"{budget} has nothing to choose: --heads, --ffn and --layers are all given")
    if targets.latency is not None:
        parse_latency_share(targets.latency)


def _shape_at(share: Fraction, targets: Targets, full: Shape) -> Shape:
    def keep(dim: str) -> int:  # round half up, exactly
        fixed = getattr(targets, dim)
        return fixed if fixed is not None else max(1, math.floor(share * getattr(full, dim) + Fraction(1, 2)))

    return Shape(**{d: keep(d) for d in DIMENSIONS})


def resolve_shape(targets: Targets, full: Shape, total: int, params: Callable[[Shape], int],
                  latency: Callable[[Shape], float] | None = None) -> tuple[Shape, int | None]:
    """The uniform shape the targets ask for, and the budget in parameters (None without ``--params``).

    ``params(shape)`` counts a pruned model's parameters, ``total`` the unpruned model's; ``latency(shape)``
    measures one (ms; needed for a ``--latency`` budget only)."""
    check_targets(targets, full)
    if targets.params is None and targets.latency is None:
        return Shape(**{d: getattr(targets, d) or getattr(full, d) for d in DIMENSIONS}), None
    free = [d for d in DIMENSIONS if getattr(targets, d) is None]
    # 0 and every share at which some free dimension steps up to k (round(s × size) = k from s = (k − ½) / size on):
    # every distinct shape, largest first; parameters and latency grow with s
    shares = sorted({Fraction(0), Fraction(1)} | {Fraction(2 * k - 1, 2 * getattr(full, d)) for d in free
                                                  for k in range(2, getattr(full, d) + 1)}, reverse=True)
    shapes = list(dict.fromkeys(_shape_at(share, targets, full) for share in shares))
    smallest = shapes[-1]
    what = f"{smallest.layers} layer(s), {smallest.heads} head(s), FFN {smallest.ffn}"
    if targets.latency is not None:
        if latency is None:
            raise EdgekitError("a --latency budget needs a latency probe")
        limit = parse_latency_share(targets.latency) * latency(full)
        fastest = latency(smallest)
        if fastest > limit:
            raise EdgekitError(f"--latency {targets.latency} ({limit:.3f} ms) is below the fastest model these "
                               f"targets allow: {what} = {fastest:.3f} ms")
        lo, hi = 0, len(shapes) - 1  # shapes[hi] fits; the largest that fits is found in ~log2(len) measurements
        while lo < hi:
            mid = (lo + hi) // 2
            if latency(shapes[mid]) <= limit:
                hi = mid
            else:
                lo = mid + 1
        return shapes[hi], None
    budget = parse_budget(targets.params, total)
    for shape in shapes:
        if params(shape) <= budget:
            return shape, budget
    raise EdgekitError(f"--params {targets.params} ({budget:,} parameters) is below the smallest model these targets "
                       f"allow: {what} = {params(smallest):,} parameters")
