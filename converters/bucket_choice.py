"""Bucket lengths chosen from the training data (``edgekit convert --buckets auto[:K]``).

A sentence runs padded to the smallest bucket that holds it, so the work per sentence follows the
bucket's length, not the sentence's: 16/32/64/128 pads FPB's test sentences to 1.38× their real
length. :func:`choose_buckets` picks ``count`` lengths, multiples of ``step`` up to the largest bucket
asked for (kept as the largest, so long sentences truncate where they did), that minimise the mean
padded length over the training split's token counts (an exact dynamic programme over the candidate
lengths). Every bucket is one more signature: free in size for files whose signatures share weights
(fp32, fp16, dynamic int8, int8 by recipe), one more copy of the weights for the TF converter's int8.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Sequence

from ..errors import EdgekitError
from ..runtime.buckets import pick_length

DEFAULT_COUNT = 8
STEP = 8


def parse_auto(value: str) -> int | None:
    """``auto`` → :data:`DEFAULT_COUNT`, ``auto:K`` → K, anything else → None (explicit lengths)."""
    value = value.strip()
    if value == "auto":
        return DEFAULT_COUNT
    if value.startswith("auto:"):
        try:
            count = int(value[5:])
        except ValueError:
            count = 0
        if count < 1:
            raise EdgekitError(f"--buckets {value}: auto:K takes a bucket count K >= 1")
        return count
    return None


def padded_mean(lengths: Sequence[int], buckets: Sequence[int]) -> float:
    """Mean padded length of ``lengths`` (token counts) run in ``buckets`` by the one bucket rule (longer ones
    truncated to the largest)."""
    return sum(pick_length(buckets, n) for n in lengths) / max(len(lengths), 1)


def padding_factor(lengths: Sequence[int], buckets: Sequence[int]) -> float:
    """How many times their real length (truncated to the largest bucket) ``lengths`` run at in ``buckets``."""
    largest = max(buckets)
    real = sum(min(n, largest) for n in lengths) / max(len(lengths), 1)
    return padded_mean(lengths, buckets) / real if real else 1.0


def choose_buckets(lengths: Sequence[int], largest: int, count: int, step: int = STEP) -> tuple[int, ...]:
    """``count`` bucket lengths (multiples of ``step``, ``largest`` always among them) that minimise the mean
    padded length of ``lengths``."""
    if not lengths:
        raise EdgekitError("cannot choose buckets: no training sentences")
    candidates = sorted({*range(step, largest, step), largest})
    counts = [min(n, largest) for n in lengths]
    # cost[i][j]: padded tokens of the sentences that fall between candidate i-1 (exclusive) and j (inclusive),
    # all padded to candidate j
    prefix = [0] * (len(candidates) + 1)
    by_candidate = [0] * len(candidates)
    for n in counts:
        by_candidate[bisect_left(candidates, n)] += 1
    for j, c in enumerate(by_candidate):
        prefix[j + 1] = prefix[j] + c

    def cost(i: int, j: int) -> int:  # sentences in (candidates[i-1], candidates[j]] padded to candidates[j]
        return (prefix[j + 1] - prefix[i]) * candidates[j]

    last = len(candidates) - 1
    k = min(count, len(candidates))
    inf = float("inf")
    # best[b][j]: least cost covering candidates 0..j with b buckets, the last at j
    best = [[inf] * len(candidates) for _ in range(k + 1)]
    back = [[-1] * len(candidates) for _ in range(k + 1)]
    for j in range(len(candidates)):
        best[1][j] = cost(0, j)
    for b in range(2, k + 1):
        for j in range(len(candidates)):
            for i in range(j):
                value = best[b - 1][i] + cost(i + 1, j)
                if value < best[b][j]:
                    best[b][j], back[b][j] = value, i
    b = min(range(1, k + 1), key=lambda n: (best[n][last], n))
    chosen, j = [], last
    while b >= 1 and j >= 0:
        chosen.append(candidates[j])
        j, b = back[b][j], b - 1
    return tuple(sorted(chosen))
