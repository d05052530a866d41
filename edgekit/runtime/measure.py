"""The timed loop over eval sentences, shared by the runner (TFLite) and the Keras baseline.

In order: every sentence is tokenized and encoded at its bucket's length (timed per sentence); the
first sentence runs cold (``first_inference``); ``warmup`` untimed runs on every bucket the data
uses; then every sentence, timed per call. numpy + the standard library; ``encode`` and ``run``
bring the model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np

# encode(text) → (bucket length, true token count, whatever ``run`` takes)
Encode = Callable[[str], tuple[int, int, Any]]
Run = Callable[[Any], np.ndarray]


def elapsed_ms(since: float) -> float:
    """Milliseconds since ``since`` (a ``time.perf_counter()`` value)."""
    return (time.perf_counter() - since) * 1000.0


@dataclass
class Measurement:
    tokenization_ms: list[float]
    first_inference_ms: float
    warmup_runs_per_bucket: int
    inference_ms: list[float]
    by_bucket: dict[int, list[float]]
    predictions: list[int]
    truncated: int


def warm_up(run: Run, items: Iterable[tuple[int, Any]], warmup: int) -> int:
    """``warmup`` untimed runs of the first input of every bucket length among ``items`` ((length, inputs)
    pairs); returns the number of runs per bucket (``warmup``, at least 0)."""
    warmup = max(0, warmup)
    first_of_bucket: dict[int, Any] = {}
    for length, inputs in items:
        first_of_bucket.setdefault(length, inputs)
    for inputs in first_of_bucket.values():
        for _ in range(warmup):
            run(inputs)
    return warmup


def measure_texts(texts: Sequence[str], encode: Encode, run: Run, warmup: int) -> Measurement:
    """Tokenize, warm up and time ``run`` over ``texts`` (at least one), one sentence at a time."""
    encoded, tok_ms = [], []
    for text in texts:
        t0 = time.perf_counter()
        encoded.append(encode(text))
        tok_ms.append(elapsed_ms(t0))

    t0 = time.perf_counter()
    run(encoded[0][2])
    first_ms = elapsed_ms(t0)

    warmup = warm_up(run, ((length, inputs) for length, _, inputs in encoded), warmup)

    infer_ms: list[float] = []
    preds: list[int] = []
    by_bucket: dict[int, list[float]] = {}
    for length, _, inputs in encoded:
        t0 = time.perf_counter()
        logits = run(inputs)
        dt = elapsed_ms(t0)
        infer_ms.append(dt)
        by_bucket.setdefault(length, []).append(dt)
        preds.append(int(np.argmax(logits)))
    truncated = sum(1 for length, num_tokens, _ in encoded if num_tokens > length)
    return Measurement(tok_ms, first_ms, warmup, infer_ms, by_bucket, preds, truncated)


def measure_repeated(run: Run, inputs: Any, iterations: int, warmup: int) -> tuple[float, list[float]]:
    """One fixed input (``benchmark_model``-style): the cold first run's ms, then ``warmup`` untimed
    runs, then ``iterations`` timed runs; returns ``(first_ms, times_ms)``."""
    t0 = time.perf_counter()
    run(inputs)
    first_ms = elapsed_ms(t0)
    for _ in range(max(0, warmup)):
        run(inputs)
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        run(inputs)
        times.append(elapsed_ms(t0))
    return first_ms, times
