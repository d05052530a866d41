"""Mode comparison: every conversion mode of one model on the test split — size, per-bucket latency, agreement, F1.

    python -m edgekit.converters.compare_modes --model runs/teacher-fpb75 \\
        --data ../shared/data/financial_phrasebank/Sentences_75Agree.txt --out results/converters-fpb75.json

Converts the model (or reuses ``--bundle``), then for each mode: file size; median latency of each
bucket's signature at ``--threads`` threads (LiteRT, real test sentences encoded at that length, after
warm-up); argmax agreement with the Keras model and macro-F1 on the test split, each sentence run in
the smallest bucket that holds it. Prints a table and writes JSON stamped with the git commit.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

from ..runtime.buckets import DEFAULT_BUCKETS


def _latency(runner, sig: str, L: int, check, reps: int, warmup: int = 5) -> dict:
    n = len(check)
    idx = [i for i in range(n) if check.num_tokens[i] <= L][:16] or list(range(min(16, n)))
    for k in range(warmup):
        i = idx[k % len(idx)]
        runner.run(sig, check.token_ids[i, :L], check.padding_mask[i, :L], check.segment_ids[i, :L])
    times = []
    for k in range(reps):
        i = idx[k % len(idx)]
        t0 = time.perf_counter()
        runner.run(sig, check.token_ids[i, :L], check.padding_mask[i, :L], check.segment_ids[i, :L])
        times.append((time.perf_counter() - t0) * 1e3)
    return {"p50_ms": round(float(np.median(times)), 3), "mean_ms": round(float(np.mean(times)), 3),
            "min_ms": round(float(np.min(times)), 3), "runs": reps}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m edgekit.converters.compare_modes", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="model directory (teacher or student)")
    ap.add_argument("--data", default=None, help="labelled data the model was trained on (default: embedded)")
    ap.add_argument("--split-seed", type=int, default=42)
    ap.add_argument("--bundle", default=None, help="existing bundle to measure (else converted into --work)")
    ap.add_argument("--work", default=None, help="where to write the bundle (default: bundles/<model name>)")
    ap.add_argument("--modes", default="fp32,fp16,dynamic_int8,int8")
    ap.add_argument("--buckets", default=",".join(map(str, DEFAULT_BUCKETS)))
    ap.add_argument("--calibration-samples", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=50, help="timed runs per bucket")
    ap.add_argument("--out", required=True, help="JSON result file")
    args = ap.parse_args(argv)
    logging.basicConfig(format="%(message)s")  # the conversion's progress lines (edgekit's logger) on stderr
    logging.getLogger("edgekit").setLevel(logging.INFO)

    from ..data import load_dataset, split_dataset
    from ..data.default import load_default
    from ..errors import EdgekitError
    from ..fsutil import atomic_write_json
    from ..metrics import classification_report
    from ..models.modeldir import load_model_dir
    from ..provenance import stamp
    from ..runtime.bundle import Bundle
    from ..runtime.interpreters import select_runtime
    from ..runtime.model import SignatureModel
    from ..runtime.units import megabytes
    from .convert import ConvertOptions, convert_model_dir
    from .parity import compare, make_check_set, tflite_logits

    try:
        splits = split_dataset(load_default() if args.data is None else load_dataset(args.data), seed=args.split_seed)
        bundle_dir = Path(args.bundle) if args.bundle else Path(args.work or f"bundles/{Path(args.model).name}")
        if not args.bundle:
            convert_model_dir(args.model, bundle_dir, splits, ConvertOptions(
                modes=args.modes.split(","), buckets=[int(b) for b in args.buckets.split(",")],
                calibration_samples=args.calibration_samples, overwrite=True))
        bundle = Bundle.open(bundle_dir)
        loaded = load_model_dir(args.model)
        test = splits.test
        labels = loaded.labels
        gold = [labels.index(e.label) for e in test.examples]
        check = make_check_set(loaded.model, loaded.tokenizer, [e.text for e in test.examples], gold, labels,
                               bundle.buckets[-1][0], name=test.name)
        source = classification_report(gold, check.source_logits.argmax(-1), labels)
        rows = {}
        for mode in bundle.modes:
            entry = bundle.mode_entry(mode)
            runner = SignatureModel(bundle.model_file(mode), [s for _, s in bundle.buckets], threads=args.threads)
            logits = tflite_logits(runner, check, bundle.buckets)
            cmp = compare(check.source_logits, logits, np.asarray(gold), labels)
            lat = {sig: _latency(runner, sig, L, check, args.reps) for L, sig in bundle.buckets}
            rows[mode] = {"file": entry["file"], "bytes": entry["bytes"], "mb": round(megabytes(entry["bytes"]), 2),
                          "latency_ms_p50": {s: v["p50_ms"] for s, v in lat.items()}, "latency": lat,
                          "argmax_agreement": round(cmp["argmax_agreement"], 4),
                          "macro_f1": round(cmp["tflite_macro_f1"], 4), "accuracy": round(cmp["tflite_accuracy"], 4),
                          "macro_f1_delta": round(cmp["macro_f1_delta"], 4),
                          "max_abs_logit_error": round(cmp["max_abs_logit_error"], 4),
                          "mean_abs_logit_error": round(cmp["mean_abs_logit_error"], 4),
                          "weights_shared_across_buckets": entry.get("weights_shared_across_buckets"),
                          "validation_parity": entry["parity"]}
            if "quantization" in entry:
                rows[mode]["float_fallback"] = {k: entry["quantization"]["float_fallback"].get(k) for k in
                                                ("family_patterns", "measured_groups", "held_out_agreement")}
                rows[mode]["float_ops"] = entry["quantization"].get("float_ops")
            print(f"{mode}: done", file=sys.stderr)
    except EdgekitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = {"kind": "edgekit-conversion-benchmark", "model": str(Path(args.model).resolve()),
              "bundle": str(bundle_dir), "dataset": test.name, "test_examples": len(check),
              "threads": args.threads, "runtime": select_runtime().describe(),
              "source_keras": {"macro_f1": round(source["macro_f1"], 4), "accuracy": round(source["accuracy"], 4)},
              "skipped_modes": bundle.manifest.get("skipped_modes", {}), "modes": rows, **stamp()}
    atomic_write_json(args.out, result)
    sigs = [s for _, s in bundle.buckets]
    print(f"{'mode':<13} {'MB':>7} " + " ".join(f"{s + ' ms':>10}" for s in sigs) + f" {'agree':>7} {'macroF1':>8}")
    print(f"{'keras fp32':<13} {'':>7} " + " ".join(f"{'':>10}" for _ in sigs) + f" {'':>7} {source['macro_f1']:8.4f}")
    for mode, r in rows.items():
        print(f"{mode:<13} {r['mb']:7.2f} " + " ".join(f"{r['latency_ms_p50'][s]:10.2f}" for s in sigs)
              + f" {r['argmax_agreement']:7.4f} {r['macro_f1']:8.4f}")
    print(f"→ {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
