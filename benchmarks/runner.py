"""The on-device benchmark runner: one bundle mode on one labelled eval file, one result record.

Imports numpy, a TFLite runtime (LiteRT → tflite-runtime → tf.lite, see :mod:`.runtime`) and the
standard library only, so it runs unchanged on a board or phone-class Linux device, under qemu, or
over ssh. Usage::

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
import json
import os
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import __version__
from ..contracts import RESULT_SCHEMA_VERSION, check_result
from ..data.loaders import load_dataset
from ..errors import DataError, EdgekitError
from ..metrics import classification_report, latency_stats
from ..provenance import git_commit, utc_now
from .bundle import Bundle, BundleError, BundleModel
from .device import device_info, peak_rss_mb
from .runtime import select_runtime

RESULT_KIND = "edgekit-benchmark-result"


def _ms(t0: float, t1: float) -> float:
    return (t1 - t0) * 1000.0


def dataset_identity(path: Path, name: str | None, split: str | None) -> tuple[str, str]:
    """Name and split from ``--dataset-name/--split``, else a ``split.json`` beside the file, else its stem."""
    stem = path.stem
    base = None
    info = path.parent / "split.json"
    if info.is_file():
        try:
            base = json.loads(info.read_text(encoding="utf-8")).get("dataset")
        except (ValueError, AttributeError):
            base = None
    split = split or (stem if stem in ("train", "validation", "test") else "eval")
    return name or (f"{base}:{stem}" if base else stem), split


def load_eval(path: str | Path, labels: Sequence[str], fmt: str = "auto", text_column: str = "text",
              label_column: str = "label", limit: int | None = None):
    """The labelled eval file (JSONL/TSV/CSV/FPB) checked against the bundle's labels."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"eval file not found: {path}")
    try:
        ds = load_dataset(path, format=fmt, labels=list(labels), text_column=text_column, label_column=label_column)
    except DataError as exc:
        msg = str(exc)
        if "unknown label" in msg:
            msg += " — the eval file's labels must be the bundle's"
        raise DataError(msg) from None
    if limit is not None and limit < len(ds):
        ds = ds.head(limit)
    return ds


def _record_base(bundle: Bundle, mode: str, model: BundleModel | None, threads: int, target: str,
                 emulated: str | None) -> dict:
    entry = bundle.mode_entry(mode)
    runtime = model.runtime if model else None
    device = device_info(target, emulated)
    device["runtime"] = runtime.describe() if runtime else {"name": "unknown", "version": "unknown"}
    return {
        "schema_version": RESULT_SCHEMA_VERSION,
        "kind": RESULT_KIND,
        "device": device,
        "bundle": {
            "path": str(bundle.path),
            "model": bundle.manifest["model"]["name"],
            "family": bundle.manifest["model"].get("family"),
            "mode": mode,
            "file": entry["file"],
            "bytes": int(entry["bytes"]),
            "sha256": entry["sha256"],
            "buckets": [length for length, _ in bundle.buckets],
            "parity": entry.get("parity"),
        },
        "threads": threads,
    }


def _finish(record: dict) -> dict:
    record["memory"] = {"peak_rss_mb": peak_rss_mb(),
                        "note": ("includes the emulator" if record["device"].get("emulated") else "whole process")}
    record["edgekit"] = {"version": __version__, "git_commit": git_commit()}
    record["timestamp"] = utc_now()
    problems = check_result(record)
    if problems:  # a programming error, not a user mistake
        raise AssertionError(f"incomplete result record: {problems}")
    return record


def run_eval(bundle_path: str | Path, mode: str, data: str | Path, *, threads: int = 1, warmup: int = 3,
             limit: int | None = None, fmt: str = "auto", text_column: str = "text", label_column: str = "label",
             dataset_name: str | None = None, split: str | None = None, target: str = "local",
             emulated: str | None = None, runtime: str | None = None, log=None) -> dict:
    """Benchmark one mode of a bundle on a labelled eval file; returns the result record."""
    bundle = Bundle.open(bundle_path)
    rt = select_runtime(runtime)
    rt.check_mode(mode)
    bundle.verify(mode)
    ds = load_eval(data, bundle.labels, fmt, text_column, label_column, limit)
    name, split = dataset_identity(Path(data), dataset_name, split)

    t0 = time.perf_counter()
    model = BundleModel(bundle, mode, threads=threads, runtime=rt, verify=False)
    load_ms = _ms(t0, time.perf_counter())

    texts = ds.texts
    encoded = []
    tok_ms = []
    for text in texts:
        a = time.perf_counter()
        enc = model.encode(text)
        tok_ms.append(_ms(a, time.perf_counter()))
        encoded.append(enc)

    # first inference: the first example, cold
    _, sig0, ids0, mask0, seg0, _ = encoded[0]
    a = time.perf_counter()
    model.run(sig0, ids0, mask0, seg0)
    first_ms = _ms(a, time.perf_counter())

    # warm-up on every bucket the data uses
    seen: dict[str, int] = {}
    for i, enc in enumerate(encoded):
        seen.setdefault(enc[1], i)
    for sig, i in seen.items():
        _, _, ids, mask, seg, _ = encoded[i]
        for _ in range(max(0, warmup)):
            model.run(sig, ids, mask, seg)

    infer_ms: list[float] = []
    preds: list[int] = []
    by_bucket: dict[int, list[float]] = {}
    for length, sig, ids, mask, seg, _ in encoded:
        a = time.perf_counter()
        logits = model.run(sig, ids, mask, seg)
        dt = _ms(a, time.perf_counter())
        infer_ms.append(dt)
        by_bucket.setdefault(length, []).append(dt)
        preds.append(int(np.argmax(logits)))
        if log and len(preds) % 100 == 0:
            log(f"{len(preds)}/{len(encoded)}")

    e2e = [t + i for t, i in zip(tok_ms, infer_ms)]
    quality = classification_report(ds.label_ids, preds, bundle.labels)
    record = _record_base(bundle, mode, model, threads, target, emulated)
    record["timing_ms"] = {
        "tokenization": latency_stats(tok_ms),
        "load": load_ms,
        "first_inference": first_ms,
        "warmup_runs_per_bucket": max(0, warmup),
        "inference": latency_stats(infer_ms),
        "end_to_end": latency_stats(e2e),
        "inference_by_bucket": {str(k): latency_stats(v) for k, v in sorted(by_bucket.items())},
    }
    record["buckets_used"] = {str(k): len(v) for k, v in sorted(by_bucket.items())}
    record["truncated"] = sum(1 for enc in encoded if enc[5] > enc[0])
    record["quality"] = quality
    record["dataset"] = {"name": name, "split": split, "sha256": ds.sha256, "path": str(data), "n": len(ds),
                         "limit": limit}
    record["predictions"] = preds
    return _finish(record)


def run_synthetic(bundle_path: str | Path, mode: str, length: int, *, threads: int = 1, iterations: int = 50,
                  warmup: int = 3, seed: int = 0, target: str = "local", emulated: str | None = None,
                  runtime: str | None = None) -> dict:
    """Fixed-length random ids (like ``benchmark_model``): latency of one bucket, no quality figures."""
    bundle = Bundle.open(bundle_path)
    rt = select_runtime(runtime)
    rt.check_mode(mode)
    bundle.verify(mode)
    lengths = {length_: sig for length_, sig in bundle.buckets}
    if length not in lengths:
        raise BundleError(f"bundle {bundle.path} has no bucket of length {length}; it has {sorted(lengths)}")
    if iterations < 1:
        raise EdgekitError("--iterations must be at least 1")
    t0 = time.perf_counter()
    model = BundleModel(bundle, mode, threads=threads, runtime=rt, verify=False)
    load_ms = _ms(t0, time.perf_counter())
    rng = np.random.default_rng(seed)
    vocab_size = len(bundle.tokenizer.vocab)
    tok = bundle.tokenizer
    ids = rng.integers(1000 if vocab_size > 1000 else 1, vocab_size, size=length).astype(np.int32)
    ids[0], ids[-1] = tok.cls_id, tok.sep_id
    mask = np.ones(length, np.int32)
    seg = np.zeros(length, np.int32)
    sig = lengths[length]
    a = time.perf_counter()
    model.run(sig, ids, mask, seg)
    first_ms = _ms(a, time.perf_counter())
    for _ in range(max(0, warmup)):
        model.run(sig, ids, mask, seg)
    times = []
    for _ in range(iterations):
        a = time.perf_counter()
        model.run(sig, ids, mask, seg)
        times.append(_ms(a, time.perf_counter()))
    stats = latency_stats(times)
    record = _record_base(bundle, mode, model, threads, target, emulated)
    record["timing_ms"] = {"tokenization": None, "load": load_ms, "first_inference": first_ms,
                           "warmup_runs_per_bucket": max(0, warmup), "inference": stats, "end_to_end": None,
                           "inference_by_bucket": {str(length): stats}}
    record["buckets_used"] = {str(length): iterations}
    record["synthetic"] = {"seq_len": length, "iterations": iterations, "seed": seed}
    record["quality"] = _no_quality(bundle.labels)
    record["dataset"] = {"name": f"synthetic:seq{length}", "split": "synthetic", "sha256": None}
    return _finish(record)


def _no_quality(labels: Sequence[str]) -> dict:
    return {"n": 0, "accuracy": None, "macro_f1": None, "weighted_f1": None, "per_class": None,
            "labels": list(labels), "confusion_matrix": None}


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
    p.add_argument("--runtime", default=None, choices=["litert", "tflite-runtime", "tf"],
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
    try:
        if args.threads < 1:
            raise EdgekitError("--threads must be at least 1")
        if args.synthetic is not None:
            record = run_synthetic(args.bundle, args.mode, args.synthetic, threads=args.threads,
                                   iterations=args.iterations, warmup=args.warmup, target=args.target,
                                   emulated=args.emulated, runtime=args.runtime)
        else:
            record = run_eval(args.bundle, args.mode, args.data, threads=args.threads, warmup=args.warmup,
                              limit=args.limit, fmt=args.format, text_column=args.text_column,
                              label_column=args.label_column, dataset_name=args.dataset_name, split=args.split,
                              target=args.target, emulated=args.emulated, runtime=args.runtime)
    except EdgekitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(record, indent=1) + "\n"
    if args.out:
        tmp = Path(args.out).with_name(f".{Path(args.out).name}.tmp")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, args.out)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
