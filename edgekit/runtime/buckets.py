"""The one bucket rule: a sentence runs in the smallest length bucket that holds its tokens.

``num_tokens`` counts ``[CLS]`` and ``[SEP]``; when no bucket holds it, the largest one is used and
the sentence is truncated. The runner, ``edgekit predict``, the parity gate, calibration, the Keras
baseline and the Android golden fixture all pick buckets here (``docs/contracts.md``).
"""

from __future__ import annotations

from typing import Iterable, TypeVar

S = TypeVar("S")

# The default length buckets (one ``[1, L]`` signature each) of conversion, ``edgekit run``, the Android
# golden fixture and the benchmark fixtures: the one place they are written.
DEFAULT_BUCKETS: tuple[int, ...] = (16, 32, 64, 128)
SIGNATURE_PREFIX = "seq"


def signature_name(length: int, prefix: str = SIGNATURE_PREFIX) -> str:
    """The signature of a bucket: ``seq16`` for length 16 (``prefix`` + length)."""
    return f"{prefix}{int(length)}"


def default_buckets() -> tuple[tuple[int, str], ...]:
    """``((16, "seq16"), ...)``: the default buckets with their signature names."""
    return tuple((length, signature_name(length)) for length in DEFAULT_BUCKETS)


def pick_bucket(buckets: Iterable[tuple[int, S]], num_tokens: int) -> tuple[int, S]:
    """The ``(length, signature)`` of ``buckets`` (any order) with the smallest length that holds
    ``num_tokens``; the largest (truncating) when none does."""
    ordered = sorted(buckets, key=lambda b: b[0])
    if not ordered:
        raise ValueError("no buckets")
    for bucket in ordered:
        if num_tokens <= bucket[0]:
            return bucket
    return ordered[-1]


def pick_length(lengths: Iterable[int], num_tokens: int) -> int:
    """:func:`pick_bucket` over bare lengths."""
    return pick_bucket(((int(length), None) for length in lengths), num_tokens)[0]
