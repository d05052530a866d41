"""The ONNX Runtime measuring process: one ONNX file on one labelled eval file, one result record.

Started by the harness as its own process (``python -m edgekit.benchmarks.peers.ort_runner``) so that
its threads and peak RSS are its own and torch is never loaded beside the timed session
(docs/toolchain.md §7.6). It measures exactly like the TFLite runner — the bundle's tokenizer (timed
separately), the first inference cold, warm-up per bucket, every sentence one at a time
(:func:`edgekit.runtime.measure.measure_texts`) — and writes the same record
(:func:`edgekit.runtime.records.result_record`) with ``device.runtime`` = onnxruntime and the peer's
details under ``bundle.peer``. ``--padded`` pads every sentence to the bundle's largest bucket; without
it each runs at its own length. Usage::

    python -m edgekit.benchmarks.peers.ort_runner --onnx fp32.onnx --bundle BUNDLE --mode ort_fp32 \\
        --data test.jsonl --threads 1 --peer peer.json --out result.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from ...errors import EdgekitError
from ...fsutil import sha256_file
from ...runtime.bundle import Bundle
from ...runtime.device import device_info
from ...runtime.evaldata import dataset_identity, load_eval
from ...runtime.measure import measure_texts
from ...runtime.records import emit_record, eval_dataset, eval_fields, process_memory, result_record
from .ort_session import OrtModel, encoder, runtime_info


def run_ort(onnx_path: str | Path, bundle_path: str | Path, mode: str, data: str | Path, *, padded: bool,
            threads: int = 1, warmup: int = 3, limit: int | None = None, peer: dict | None = None) -> dict:
    """Benchmark one ONNX file on a labelled eval file with a bundle's tokenizer; returns the result record."""
    onnx_path = Path(onnx_path)
    if not onnx_path.is_file():
        raise EdgekitError(f"ONNX file not found: {onnx_path}")
    bundle = Bundle.open(bundle_path)
    ds = load_eval(data, bundle.labels, limit=limit)
    name, split = dataset_identity(data)
    sha = sha256_file(onnx_path)
    model = OrtModel.load(onnx_path, threads)
    measured = measure_texts(ds.texts, encoder(bundle, model, padded), model.run, warmup)
    largest = max(length for length, _ in bundle.buckets)
    block = {"path": str(onnx_path.parent), "model": bundle.name, "family": bundle.manifest["model"].get("family"),
             "mode": mode, "file": onnx_path.name, "bytes": onnx_path.stat().st_size, "sha256": sha,
             "buckets": [largest] if padded else [length for length, _ in bundle.buckets],
             "peer": {**(peer or {}), "runtime": "onnxruntime", "session": model.settings,
                      "input_length": f"padded to {largest}" if padded else "own length",
                      "tokenizer_from": str(bundle.path.resolve())}}
    fields = eval_fields(measured, model.load_ms, ds.label_ids, bundle.labels,
                         eval_dataset(ds, data, name, split, limit))
    return result_record(device=device_info("local", runtime=runtime_info()), bundle=block, threads=threads,
                         memory=process_memory("whole process, ONNX Runtime"), **fields)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m edgekit.benchmarks.peers.ort_runner",
                                description="Benchmark one ONNX file with an edgekit bundle's tokenizer and labels.")
    p.add_argument("--onnx", required=True, help="the ONNX file")
    p.add_argument("--bundle", required=True, help="the bundle whose tokenizer, buckets and labels to use")
    p.add_argument("--mode", required=True, help="mode name written into the record, e.g. ort_fp32")
    p.add_argument("--data", required=True, help="labelled eval file (JSONL, TSV/CSV with a header, FPB)")
    p.add_argument("--padded", action="store_true", help="pad every sentence to the largest bucket")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--peer", default=None, help="JSON file whose object goes into the record's bundle.peer")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)

    def measure() -> dict:
        if args.threads < 1:
            raise EdgekitError("--threads must be at least 1")
        peer = json.loads(Path(args.peer).read_text(encoding="utf-8")) if args.peer else None
        return run_ort(args.onnx, args.bundle, args.mode, args.data, padded=args.padded, threads=args.threads,
                       warmup=args.warmup, limit=args.limit, peer=peer)

    return emit_record(measure, args.out)


if __name__ == "__main__":
    sys.exit(main())
