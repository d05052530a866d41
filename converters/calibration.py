"""Calibration data for full-integer modes: real training sentences, every bucket covered.

Each sentence goes to the bucket it would use at run time (the smallest that holds its tokens). A
bucket with fewer natural sentences than its share is topped up with the sentences nearest in length
(longer ones truncated into a small bucket, shorter ones padded into a large one), so no signature is
quantized from ranges it never saw.
"""

from __future__ import annotations

import random
from typing import Iterable

import numpy as np

from ..errors import DataError
from ..runtime.buckets import pick_bucket


def encode_feeds(tokenizer, text: str, length: int) -> dict[str, np.ndarray]:
    enc = tokenizer.encode(text, length)
    return {"ids": np.asarray([enc.ids], np.int32), "mask": np.asarray([enc.mask], np.int32),
            "segment_ids": np.asarray([enc.segment_ids], np.int32)}


def calibration_samples(texts: Iterable[str], tokenizer, buckets: list[tuple[int, str]], samples: int,
                        seed: int = 0) -> tuple[list[tuple[str, dict]], dict]:
    """``(signature, feeds)`` pairs, about ``samples`` in all and an equal share per bucket, plus a summary."""
    texts = [t for t in texts if t and t.strip()]
    if not texts:
        raise DataError("calibration data has no examples (the training split is empty)")
    if samples < len(buckets):
        raise DataError(f"--calibration-samples {samples} is fewer than the {len(buckets)} buckets")
    buckets = sorted(buckets)
    rng = random.Random(seed)
    order = list(range(len(texts)))
    rng.shuffle(order)
    counts = [tokenizer.count_tokens(texts[i]) for i in order]
    natural: dict[str, list[int]] = {sig: [] for _, sig in buckets}
    for pos, n in enumerate(counts):
        natural[pick_bucket(buckets, n)[1]].append(pos)
    share = samples // len(buckets)
    out: list[tuple[str, dict]] = []
    summary = {"samples": 0, "source": "train split", "per_bucket": {}}
    for length, sig in buckets:
        chosen = natural[sig][:share]
        topped = 0
        if len(chosen) < share:  # nearest lengths first
            used = set(chosen)
            rest = sorted((p for p in range(len(order)) if p not in used), key=lambda p: abs(counts[p] - length))
            extra = rest[:share - len(chosen)]
            topped = len(extra)
            chosen = chosen + extra
        for pos in chosen:
            out.append((sig, encode_feeds(tokenizer, texts[order[pos]], length)))
        summary["per_bucket"][sig] = {"natural": len(chosen) - topped, "topped_up": topped}
    rng.shuffle(out)
    summary["samples"] = len(out)
    return out, summary


def filled_samples(samples: list[tuple[str, dict]], per_bucket: int = 2) -> list[tuple[str, dict]]:
    """Calibration samples that fill their bucket: real sentences joined ``[CLS] a [SEP] b [SEP] ...``.

    Natural samples rarely fill a bucket, so a tensor that only sees padded steps (the first steps of a
    backward LSTM over a long bucket: the state stays 0) gets a zero range; int16x8 then has a zero
    scale and LiteRT aborts. A few filled samples per bucket give every step a real range.
    """
    by_sig: dict[str, list[dict]] = {}
    for sig, feeds in samples:
        by_sig.setdefault(sig, []).append(feeds)
    pieces, cls, sep = [], None, None
    for _, feeds in samples:
        real = feeds["ids"][0][feeds["mask"][0] != 0]
        if len(real) > 2:
            cls, sep = int(real[0]), int(real[-1])
            pieces.append(real[1:-1])
    if not pieces:
        return []
    pieces.sort(key=len, reverse=True)
    out: list[tuple[str, dict]] = []
    for sig, group in by_sig.items():
        length = group[0]["ids"].shape[1]
        for k in range(per_bucket):
            ids, i = [cls], k
            while len(ids) < length - 1:
                ids.extend(pieces[i % len(pieces)].tolist() + [sep])
                i += per_bucket
            ids = ids[:length - 1] + [sep]
            out.append((sig, {"ids": np.asarray([ids], np.int32), "mask": np.ones((1, length), np.int32),
                              "segment_ids": np.zeros((1, length), np.int32)}))
    return out
