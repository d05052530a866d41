"""Activation ranges for int8 by recipe, measured by edgekit over real training sentences.

ai-edge-quantizer's own calibrator keeps an exponential moving average of each tensor's per-sentence
min/max (factor 0.95), so a range is set by the last few dozen sentences of each bucket and moves with
their order; it also reads every tensor of a subgraph, and fails on a file with tensors the interpreter
never fills (the BiLSTM's unrolled steps: "Tensor data is null"). Here instead:

1. **Observe** (:func:`observe`): run the float file on every sample (each bucket's signature) with all
   intermediate tensors preserved; per float activation tensor, the global min/max (pass 1) and a
   histogram of its values between them (pass 2). Tensors the interpreter leaves empty are skipped.
2. **Choose** a range per tensor by a method from :data:`RANGE_METHODS`: ``minmax`` (all values
   covered), ``percentile:P`` (the central P % of values; the rest saturates), ``mse`` (the clipping
   with the least int8 round-trip squared error over the histogram).

The ranges go to the quantizer in its calibration-result format (``{name: {"min", "max"}}`` arrays of
shape ``(1,) * rank``) and are then shared over the buckets by :func:`.recipes.shared_ranges`.
What each method buys on the FPB teacher is measured in docs/toolchain.md (int8 by recipe).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from ..errors import EdgekitError

BINS = 2048


class RangeError(EdgekitError):
    pass


@dataclass
class Observed:
    """What calibration saw of one tensor: its rank, global min/max and a histogram between them."""

    rank: int
    low: float
    high: float
    counts: np.ndarray | None = None

    def edges(self) -> np.ndarray:
        return np.linspace(self.low, self.high, BINS + 1)


def _activation_tensors(model: bytes) -> dict[int, dict[str, int]]:
    """Per subgraph: name → index of every non-constant float32 tensor."""
    from .tflite_file import read_tflite

    return {sg.index: {t.name: t.index for t in sg.tensors if t.dtype == "float32" and not t.is_constant}
            for sg in read_tflite(model).subgraphs}


def preserved_runs(model: bytes, samples: list[tuple[str, dict]], threads: int = 2
                   ) -> Iterator[tuple[int, Callable[[int], np.ndarray | None]]]:
    """Run ``model`` on each ``(signature, feeds)`` sample with every intermediate tensor kept; yields the
    signature's subgraph and a reader of its tensors by index (None for one the interpreter left empty)."""
    from ai_edge_litert.interpreter import Interpreter

    from .tflite_file import read_tflite

    subgraph_of = {s.key: s.subgraph for s in read_tflite(model).signatures}
    with warnings.catch_warnings():  # "intended for debugging": here it is the point (every tensor's values)
        warnings.simplefilter("ignore", UserWarning)
        interpreter = Interpreter(model_content=model, num_threads=threads, experimental_preserve_all_tensors=True)
    runners = {key: interpreter.get_signature_runner(key) for key in subgraph_of}
    for signature, feeds in samples:
        if signature not in runners:
            raise RangeError(f"calibration sample for unknown signature {signature!r}")
        runners[signature](**feeds)
        subgraph = subgraph_of[signature]

        def read(index: int, subgraph: int = subgraph) -> np.ndarray | None:
            try:
                return np.asarray(interpreter.get_tensor(index, subgraph))
            except ValueError:  # a tensor the interpreter never filled (e.g. an unused step output)
                return None

        yield subgraph, read


def _passes(model: bytes, samples: list[tuple[str, dict]], visit: Callable[[str, np.ndarray], None],
            threads: int) -> None:
    tensors = _activation_tensors(model)
    for subgraph, read in preserved_runs(model, samples, threads):
        for name, index in tensors[subgraph].items():
            values = read(index)
            if values is not None:
                visit(name, values)


def observe(model: bytes, samples: list[tuple[str, dict]], threads: int = 2) -> dict[str, Observed]:
    """Min/max and a value histogram of every float activation tensor over ``samples`` (two passes)."""
    seen: dict[str, Observed] = {}

    def extent(name: str, values: np.ndarray) -> None:
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return
        low, high = float(finite.min()), float(finite.max())
        o = seen.get(name)
        if o is None:
            seen[name] = Observed(values.ndim, low, high)
        else:
            o.low, o.high = min(o.low, low), max(o.high, high)

    def histogram(name: str, values: np.ndarray) -> None:
        o = seen.get(name)
        if o is None or o.high <= o.low:
            return
        counts, _ = np.histogram(values[np.isfinite(values)], bins=BINS, range=(o.low, o.high))
        o.counts = counts if o.counts is None else o.counts + counts

    _passes(model, samples, extent, threads)
    _passes(model, samples, histogram, threads)
    return seen


def _int8_error(centers: np.ndarray, counts: np.ndarray, low: float, high: float) -> float:
    """Squared error of the int8 round trip (asymmetric, 256 steps over [low, high] ∋ 0), histogram-weighted."""
    low, high = min(low, 0.0), max(high, 0.0)
    scale = (high - low) / 255.0
    if scale <= 0:
        return 0.0
    zero = np.round(-low / scale) - 128
    q = np.clip(np.round(centers / scale) + zero, -128, 127)
    return float(np.sum(counts * ((q - zero) * scale - centers) ** 2))


def _minmax(o: Observed) -> tuple[float, float]:
    return o.low, o.high


def _percentile(p: float) -> Callable[[Observed], tuple[float, float]]:
    def choose(o: Observed) -> tuple[float, float]:
        if o.counts is None or o.counts.sum() == 0:
            return o.low, o.high
        cdf = np.cumsum(o.counts) / o.counts.sum()
        edges = o.edges()
        tail = (1.0 - p / 100.0) / 2.0
        low = edges[int(np.searchsorted(cdf, tail))]
        high = edges[min(int(np.searchsorted(cdf, 1.0 - tail)) + 1, BINS)]
        return float(low), float(high)
    return choose


# the clipping fractions of each side that "mse" tries: geometric, so a lone far outlier can be cut to 1/64
MSE_FRACTIONS = np.geomspace(1 / 64, 1.0, 31)


def _mse(o: Observed) -> tuple[float, float]:
    if o.counts is None or o.counts.sum() == 0:
        return o.low, o.high
    edges = o.edges()
    centers = (edges[:-1] + edges[1:]) / 2
    best = (_int8_error(centers, o.counts, o.low, o.high), o.low, o.high)
    for a in MSE_FRACTIONS:
        for c in MSE_FRACTIONS:
            err = _int8_error(centers, o.counts, o.low * a, o.high * c)
            if err < best[0]:
                best = (err, o.low * a, o.high * c)
    return best[1], best[2]


def range_method(spec: str) -> Callable[[Observed], tuple[float, float]]:
    """The chooser named by ``spec``: ``minmax``, ``mse`` or ``percentile:P`` (50 < P ≤ 100)."""
    name, _, arg = spec.partition(":")
    if name in ("minmax", "mse") and not arg:
        return _minmax if name == "minmax" else _mse
    if name == "percentile":
        try:
            p = float(arg)
        except ValueError:
            p = float("nan")
        if 50.0 < p <= 100.0:
            return _percentile(p)
        raise RangeError(f"range method {spec!r}: percentile needs a number in (50, 100], e.g. percentile:99.99")
    raise RangeError(f"unknown range method {spec!r}; known: {', '.join(RANGE_METHODS)}")


RANGE_METHODS = ("minmax", "percentile:P", "mse")


def calibration_ranges(observed: dict[str, Observed], method: str) -> dict[str, dict]:
    """The quantizer's calibration result (``{name: {"min", "max"}}``) for ``observed`` under ``method``."""
    choose = range_method(method)
    out = {}
    for name, o in observed.items():
        low, high = choose(o)
        shape = (1,) * o.rank
        out[name] = {"min": np.full(shape, low, np.float32), "max": np.full(shape, high, np.float32)}
    return out
