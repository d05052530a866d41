"""The unconverted baseline: the source Keras model of a bundle, measured like the runner measures TFLite.

Same eval file, same pure-Python tokenization (timed separately), same smallest-bucket choice,
one example at a time through a ``tf.function`` traced once per bucket at ``[1, L]``, same warm-up,
same statistics and the same result record, with ``bundle.mode = "keras"`` and the runtime
``tensorflow``. It needs TensorFlow, so it is a harness component, never part of the device runner;
the harness starts it as its own process (``python -m edgekit.benchmarks.keras_baseline``) so that
the thread settings and the peak RSS belong to it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import __version__
from ..contracts import RESULT_SCHEMA_VERSION, check_result
from ..errors import EdgekitError
from ..fsutil import sha256_file
from ..metrics import classification_report, latency_stats
from ..provenance import git_commit, utc_now
from .device import device_info, peak_rss_mb
from .runner import dataset_identity, load_eval

MODE = "keras"


def _ms(a: float, b: float) -> float:
    return (b - a) * 1000.0


def run_baseline(model_dir: str | Path, data: str | Path, buckets: Sequence[int], *, threads: int = 1,
                 warmup: int = 3, limit: int | None = None, dataset_name: str | None = None,
                 split: str | None = None, bundle_model: str | None = None) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from ..models.modeldir import WEIGHTS_NAME, load_model_dir

    model_dir = Path(model_dir)
    t0 = time.perf_counter()
    loaded = load_model_dir(model_dir)
    load_ms = _ms(t0, time.perf_counter())
    model, tok, labels = loaded.model, loaded.tokenizer, loaded.labels
    ds = load_eval(data, labels, limit=limit)
    name, split = dataset_identity(Path(data), dataset_name, split)
    # a family with a fixed sequence length (the unrolled BiLSTM) takes that length only
    fixed = None
    try:
        dims = {int(inp.shape[1]) for inp in model.inputs if inp.shape[1] is not None}
        fixed = dims.pop() if len(dims) == 1 else None
    except (AttributeError, TypeError, IndexError):
        fixed = None
    lengths = sorted({fixed} if fixed else set(int(b) for b in buckets))

    fns = {}

    def fn_for(length: int):
        if length not in fns:
            spec = {k: tf.TensorSpec([1, length], tf.int32) for k in ("token_ids", "padding_mask", "segment_ids")}
            fns[length] = tf.function(lambda inputs: model(inputs, training=False), input_signature=[spec])
        return fns[length]

    def run(length, enc):
        feeds = {"token_ids": tf.constant(np.asarray([enc.ids], np.int32)),
                 "padding_mask": tf.constant(np.asarray([enc.mask], np.int32)),
                 "segment_ids": tf.constant(np.asarray([enc.segment_ids], np.int32))}
        return fn_for(length)(feeds).numpy().reshape(-1)

    tok_ms, encoded = [], []
    for text in ds.texts:
        a = time.perf_counter()
        n = tok.count_tokens(text)
        length = next((L for L in lengths if n <= L), lengths[-1])
        enc = tok.encode(text, length)
        tok_ms.append(_ms(a, time.perf_counter()))
        encoded.append((length, enc))
    a = time.perf_counter()
    run(*encoded[0])  # first inference includes tracing: that is the Keras cold start
    first_ms = _ms(a, time.perf_counter())
    seen: dict[int, int] = {}
    for i, (length, _) in enumerate(encoded):
        seen.setdefault(length, i)
    for length, i in seen.items():
        for _ in range(max(1, warmup)):  # at least once: tracing must not be timed
            run(*encoded[i])
    infer_ms, preds, by_bucket = [], [], {}
    for length, enc in encoded:
        a = time.perf_counter()
        logits = run(length, enc)
        dt = _ms(a, time.perf_counter())
        infer_ms.append(dt)
        by_bucket.setdefault(length, []).append(dt)
        preds.append(int(np.argmax(logits)))
    weights = model_dir / WEIGHTS_NAME
    device = device_info("local")
    device["runtime"] = {"name": "tensorflow", "version": tf.__version__}
    record = {
        "schema_version": RESULT_SCHEMA_VERSION,
        "kind": "edgekit-benchmark-result",
        "device": device,
        "bundle": {"path": str(model_dir), "model": bundle_model or loaded.meta.get("name") or model_dir.name,
                   "family": loaded.family, "mode": MODE, "file": WEIGHTS_NAME, "bytes": weights.stat().st_size,
                   "sha256": sha256_file(weights), "buckets": lengths, "source": True},
        "threads": threads,
        "timing_ms": {
            "tokenization": latency_stats(tok_ms), "load": load_ms, "first_inference": first_ms,
            "warmup_runs_per_bucket": max(1, warmup), "inference": latency_stats(infer_ms),
            "end_to_end": latency_stats([t + i for t, i in zip(tok_ms, infer_ms)]),
            "inference_by_bucket": {str(k): latency_stats(v) for k, v in sorted(by_bucket.items())},
        },
        "buckets_used": {str(k): len(v) for k, v in sorted(by_bucket.items())},
        "quality": classification_report(ds.label_ids, preds, labels),
        "dataset": {"name": name, "split": split, "sha256": ds.sha256, "path": str(data), "n": len(ds), "limit": limit},
        "predictions": preds,
        "memory": {"peak_rss_mb": peak_rss_mb(), "note": "whole process, TensorFlow included"},
        "edgekit": {"version": __version__, "git_commit": git_commit()},
        "timestamp": utc_now(),
    }
    assert not check_result(record), check_result(record)
    return record


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m edgekit.benchmarks.keras_baseline")
    p.add_argument("--model-dir", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--buckets", default="16,32,64,128")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--dataset-name", default=None)
    p.add_argument("--split", default=None)
    p.add_argument("--bundle-model", default=None, help="name of the bundle this model was converted into")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    try:
        record = run_baseline(args.model_dir, args.data, [int(b) for b in args.buckets.split(",")],
                              threads=args.threads, warmup=args.warmup, limit=args.limit,
                              dataset_name=args.dataset_name, split=args.split, bundle_model=args.bundle_model)
    except EdgekitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
