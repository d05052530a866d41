"""The on-device benchmark runner: one bundle mode on one labelled eval file, one result record.

Imports numpy, a TFLite runtime (LiteRT → tflite-runtime → tf.lite, see
:mod:`edgekit.runtime.interpreters`) and the standard library only — the runtime layer
(:mod:`edgekit.runtime`) does the work — so it runs unchanged on a board or phone-class Linux
device, under qemu, or over ssh. Usage::

    python -m edgekit.benchmarks.runner --bundle BUNDLE --mode dynamic_int8 --data test.jsonl \\
        --threads 1 --out result.json
    python -m edgekit.benchmarks.runner --bundle BUNDLE --mode fp32 --synthetic 128 --iterations 50

What is measured, in order, inside one process (so peak RSS belongs to this one model):

1. ``load``: interpreter creation and one signature runner per length bucket (sha256 checked first,
   outside the timing);
2. ``first_inference``: the first example, cold (tokenization not included);
3. warm-up: ``--warmup`` runs on each bucket the data uses (not recorded);
4. every example: tokenization (the pure-Python WordPiece, on the device) and inference timed
   separately; ``end_to_end`` = both. The smallest bucket holding the sentence is used.

The record is :data:`edgekit.contracts.RESULT_REQUIRED` plus per-bucket latency, bucket use,
predictions and the runtime's caveats. ``--synthetic L`` instead runs random ids at fixed length L
for ``--iterations`` runs, like TFLite's ``benchmark_model`` (latency only; quality fields null).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import EdgekitError
from ..metrics import latency_stats
from ..provenance import git_commit
from ..runtime.bundle import Bundle, BundleError
from ..runtime.device import device_info
from ..runtime.evaldata import dataset_identity, load_eval
from ..runtime.interpreters import RUNTIMES, Runtime, select_runtime
from ..runtime.measure import elapsed_ms, measure_repeated, measure_texts
from ..runtime.model import BundleModel, Encoded
from ..runtime.records import (bundle_fields, emit_record, eval_dataset, eval_fields, process_memory, result_record,
                               synthetic_fields)


def _open(bundle_path: str | Path, mode: str, runtime: str | None) -> tuple[Bundle, Runtime]:
    """The bundle and the interpreter, checked for ``mode`` before anything is timed."""
    bundle = Bundle.open(bundle_path)
    rt = select_runtime(runtime)
    rt.check_mode(mode)
    bundle.verify(mode)
    return bundle, rt


def _load(bundle: Bundle, mode: str, threads: int, rt: Runtime) -> tuple[BundleModel, float]:
    t0 = time.perf_counter()
    model = BundleModel(bundle, mode, threads=threads, runtime=rt, verify=False)
    return model, elapsed_ms(t0)


def _record(bundle: Bundle, mode: str, rt: Runtime, threads: int, target: str, emulated: str | None,
            **fields) -> dict:
    device = device_info(target, emulated, rt.describe())
    memory = process_memory("includes the emulator" if device["emulated"] else "whole process")
    return result_record(device=device, bundle=bundle_fields(bundle, mode), threads=threads, memory=memory, **fields)


def run_eval(bundle_path: str | Path, mode: str, data: str | Path, *, threads: int = 1, warmup: int = 3,
             limit: int | None = None, fmt: str = "auto", text_column: str = "text", label_column: str = "label",
             dataset_name: str | None = None, split: str | None = None, target: str = "local",
             emulated: str | None = None, runtime: str | None = None) -> dict:
    """Benchmark one mode of a bundle on a labelled eval file; returns the result record."""
    bundle, rt = _open(bundle_path, mode, runtime)
    ds = load_eval(data, bundle.labels, fmt, text_column, label_column, limit)
    name, split = dataset_identity(data, dataset_name, split)
    model, load_ms = _load(bundle, mode, threads, rt)

    def encode(text: str) -> tuple[int, int, Encoded]:
        enc = model.encode(text)
        return enc.length, enc.num_tokens, enc

    measured = measure_texts(ds.texts, encode, model.run_encoded, warmup)
    fields = eval_fields(measured, load_ms, ds.label_ids, bundle.labels,
                         eval_dataset(ds, data, name, split, limit))
    return _record(bundle, mode, rt, threads, target, emulated, **fields)


def run_synthetic(bundle_path: str | Path, mode: str, length: int, *, threads: int = 1, iterations: int = 50,
                  warmup: int = 3, seed: int = 0, target: str = "local", emulated: str | None = None,
                  runtime: str | None = None) -> dict:
    """Fixed-length random ids (like ``benchmark_model``): latency of one bucket, no quality figures."""
    bundle, rt = _open(bundle_path, mode, runtime)
    lengths = dict(bundle.buckets)
    if length not in lengths:
        raise BundleError(f"bundle {bundle.path} has no bucket of length {length}; it has {sorted(lengths)}")
    if iterations < 1:
        raise EdgekitError("--iterations must be at least 1")
    model, load_ms = _load(bundle, mode, threads, rt)
    rng = np.random.default_rng(seed)
    tok = bundle.tokenizer
    vocab_size = len(tok.vocab)
    ids = rng.integers(1000 if vocab_size > 1000 else 1, vocab_size, size=length).astype(np.int32)
    ids[0], ids[-1] = tok.cls_id, tok.sep_id
    enc = Encoded(length, lengths[length], ids, np.ones(length, np.int32), np.zeros(length, np.int32), length)
    first_ms, times = measure_repeated(model.run_encoded, enc, iterations, warmup)
    fields = synthetic_fields(length, latency_stats(times), iterations, bundle.labels, load_ms=load_ms,
                              first_ms=first_ms, warmup_runs_per_bucket=max(0, warmup))
    return _record(bundle, mode, rt, threads, target, emulated, **fields,
                   synthetic={"seq_len": length, "iterations": iterations, "seed": seed})


# ------------------------------------------------------------------------------------------ command line
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m edgekit.benchmarks.runner",
                                description="Benchmark one mode of an edgekit bundle (numpy + LiteRT only).")
    p.add_argument("--bundle", required=True, help="bundle folder (manifest.json, vocab.txt, labels.txt, *.tflite)")
    p.add_argument("--mode", required=True, help="mode in the bundle's manifest, e.g. fp32, dynamic_int8")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="labelled eval file: JSONL (text, label), TSV/CSV with a header, or FPB")
    src.add_argument("--synthetic", type=int, metavar="L", help="fixed-length random input of length L (a bucket)")
    p.add_argument("--format", default="auto", help="eval file format: auto, jsonl, tsv, csv, fpb")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--dataset-name", default=None)
    p.add_argument("--split", default=None)
    p.add_argument("--limit", type=int, default=None, help="first N examples only")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=3, help="warm-up runs per bucket used (default 3)")
    p.add_argument("--iterations", type=int, default=50, help="timed runs with --synthetic (default 50)")
    p.add_argument("--runtime", default=None, choices=list(RUNTIMES),
                   help="force a runtime (default: first that imports; env EDGEKIT_RUNTIME)")
    p.add_argument("--target", default="local", help="target name written into the record (set by drivers)")
    p.add_argument("--emulated", default=None, help="emulator description when emulated (set by the arm64 driver)")
    p.add_argument("--git-commit", default=None, help="edgekit commit to record (a device has no git checkout)")
    p.add_argument("--out", default=None, help="write the record here (default: stdout)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.git_commit:
        os.environ["EDGEKIT_GIT_COMMIT"] = args.git_commit
        git_commit.cache_clear()

    def measure() -> dict:
        if args.threads < 1:
            raise EdgekitError("--threads must be at least 1")
        if args.synthetic is not None:
            return run_synthetic(args.bundle, args.mode, args.synthetic, threads=args.threads,
                                 iterations=args.iterations, warmup=args.warmup, target=args.target,
                                 emulated=args.emulated, runtime=args.runtime)
        return run_eval(args.bundle, args.mode, args.data, threads=args.threads, warmup=args.warmup,
                        limit=args.limit, fmt=args.format, text_column=args.text_column,
                        label_column=args.label_column, dataset_name=args.dataset_name, split=args.split,
                        target=args.target, emulated=args.emulated, runtime=args.runtime)

    return emit_record(measure, args.out)


if __name__ == "__main__":
    sys.exit(main())
