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
import os
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from ..fsutil import sha256_file
from ..runtime.buckets import DEFAULT_BUCKETS, pick_length
from ..runtime.device import device_info
from ..runtime.evaldata import dataset_identity, load_eval
from ..runtime.measure import elapsed_ms, measure_texts
from ..runtime.records import emit_record, eval_dataset, eval_fields, process_memory, result_record

MODE = "keras"


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
    load_ms = elapsed_ms(t0)
    model, tok, labels = loaded.model, loaded.tokenizer, loaded.labels
    ds = load_eval(data, labels, limit=limit)
    name, split = dataset_identity(data, dataset_name, split)
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

    def encode(text: str):
        num_tokens = tok.count_tokens(text)
        length = pick_length(lengths, num_tokens)
        return length, num_tokens, (length, tok.encode(text, length))

    def run(inputs) -> np.ndarray:
        length, enc = inputs
        feeds = {"token_ids": tf.constant(np.asarray([enc.ids], np.int32)),
                 "padding_mask": tf.constant(np.asarray([enc.mask], np.int32)),
                 "segment_ids": tf.constant(np.asarray([enc.segment_ids], np.int32))}
        return fn_for(length)(feeds).numpy().reshape(-1)

    # the first inference includes tracing (the Keras cold start); warm-up at least once per bucket so
    # that no tracing is timed
    measured = measure_texts(ds.texts, encode, run, max(1, warmup))
    weights = model_dir / WEIGHTS_NAME
    bundle = {"path": str(model_dir), "model": bundle_model or loaded.meta.get("name") or model_dir.name,
              "family": loaded.family, "mode": MODE, "file": WEIGHTS_NAME, "bytes": weights.stat().st_size,
              "sha256": sha256_file(weights), "buckets": lengths, "source": True}
    fields = eval_fields(measured, load_ms, ds.label_ids, labels, eval_dataset(ds, data, name, split, limit))
    return result_record(device=device_info("local", runtime={"name": "tensorflow", "version": tf.__version__}),
                         bundle=bundle, threads=threads, memory=process_memory("whole process, TensorFlow included"),
                         **fields)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m edgekit.benchmarks.keras_baseline")
    p.add_argument("--model-dir", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--buckets", default=",".join(map(str, DEFAULT_BUCKETS)))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--dataset-name", default=None)
    p.add_argument("--split", default=None)
    p.add_argument("--bundle-model", default=None, help="name of the bundle this model was converted into")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    return emit_record(lambda: run_baseline(args.model_dir, args.data, [int(b) for b in args.buckets.split(",")],
                                            threads=args.threads, warmup=args.warmup, limit=args.limit,
                                            dataset_name=args.dataset_name, split=args.split,
                                            bundle_model=args.bundle_model), args.out)


if __name__ == "__main__":
    sys.exit(main())
