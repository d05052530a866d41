"""A Hugging Face sequence classifier → ONNX: fp32 fused by ONNX Runtime's transformer optimizer, and
dynamic int8 (per-tensor and per-channel weights) quantized from the fused graph.

A standalone script: the standard library, numpy, torch, transformers, onnx and onnxruntime — no edgekit
import — so any Python that has those runs it by path (the host picks which one, see
:mod:`.ort_files`)::

    python onnx_export.py --hf HF_FOLDER --out DIR

writes into DIR ``fp32.onnx``, ``dynamic_int8_per_tensor.onnx``, ``dynamic_int8_per_channel.onnx`` and
``export.json`` (versions, opset, fused operators, fp32 parity against PyTorch). Steps (docs/toolchain.md
§7.9): ``torch.onnx.export(..., dynamo=False, opset_version=17)`` with dynamic batch and sequence axes
and eager attention (the pattern the fusion recognises); ``optimize_model(model_type="bert")`` with the
heads and width from config.json (it cannot always detect them; it imports torch, so it runs here too);
``quantize_dynamic`` on the fused graph with ``DefaultTensorType`` FLOAT (its shape inference fails on
the fused operators otherwise). The fused fp32 file must reproduce PyTorch's logits within
``--tolerance`` on probe inputs (own length and padded), else the script exits 2 with one line (the
host writes DIR as a temporary folder and drops it).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Sequence

OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
FILES = {"fp32": "fp32.onnx", "dynamic_int8_per_tensor": "dynamic_int8_per_tensor.onnx",
         "dynamic_int8_per_channel": "dynamic_int8_per_channel.onnx"}
INFO_NAME = "export.json"
PROBE_LENGTHS = (7, 23)


class ExportError(Exception):
    """A folder this script cannot export; one line for the host."""


def _heads_and_width(config: dict) -> tuple[int, int]:
    heads = config.get("num_attention_heads", config.get("n_heads"))
    width = config.get("hidden_size", config.get("dim"))
    if not isinstance(heads, int) or not isinstance(width, int):
        raise ExportError("config.json names no attention heads / hidden size (not a BERT-family classifier)")
    return heads, width


def _load(folder: Path):
    import torch
    from transformers import AutoModelForSequenceClassification

    try:
        model = AutoModelForSequenceClassification.from_pretrained(str(folder), dtype=torch.float32,
                                                                   attn_implementation="eager")
    except (OSError, ValueError, KeyError) as exc:
        raise ExportError(f"transformers cannot load {folder}: {str(exc).splitlines()[0]}") from None
    return model.eval()


def _input_names(model) -> list[str]:
    import inspect

    params = inspect.signature(model.forward).parameters
    return [name for name in INPUTS if name in params]  # DistilBERT has no token_type_ids


def _probes(names: list[str], vocab_size: int, max_positions: int):
    """(own-length, padded) probe batches of 1: random ids, masks of ones / ones then zeros."""
    import numpy as np

    rng = np.random.default_rng(0)
    low = 1000 if vocab_size > 1000 else 1
    probes = []
    for length in PROBE_LENGTHS:
        length = min(length, max_positions)
        ids = rng.integers(low, vocab_size, size=(1, length)).astype(np.int64)
        mask = np.ones((1, length), np.int64)
        padded = mask.copy()
        padded[0, length // 2:] = 0
        for m in (mask, padded):
            feeds = {"input_ids": ids, "attention_mask": m, "token_type_ids": np.zeros_like(ids)}
            probes.append({n: feeds[n] for n in names})
    return probes


def _export_fp32(model, names: list[str], path: Path) -> None:
    import torch

    example = tuple(torch.ones(1, 8, dtype=torch.long) if n != "token_type_ids" else torch.zeros(1, 8, dtype=torch.long)
                    for n in names)
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["logits"] = {0: "batch"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python-side shape checks
        torch.onnx.export(model, example, str(path), input_names=names, output_names=["logits"], dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)


def _fuse(raw: Path, out: Path, heads: int, width: int) -> dict:
    from onnxruntime.transformers.optimizer import optimize_model

    optimized = optimize_model(str(raw), model_type="bert", num_heads=heads, hidden_size=width)
    optimized.save_model_to_file(str(out))
    return {k: int(v) for k, v in optimized.get_fused_operator_statistics().items() if v}


def _quantize(fused: Path, out: Path, per_channel: bool) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fused), str(out), per_channel=per_channel, weight_type=QuantType.QInt8,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def _max_diff(model, path: Path, probes) -> float:
    import numpy as np
    import onnxruntime as ort
    import torch

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    worst = 0.0
    for feeds in probes:
        with torch.no_grad():
            expected = model(**{k: torch.from_numpy(v) for k, v in feeds.items()}).logits.numpy()
        got = session.run(["logits"], feeds)[0]
        worst = max(worst, float(np.abs(got - expected).max()))
    return worst


def export(folder: Path, out: Path, tolerance: float) -> dict:
    import importlib.metadata as md

    if not (folder / "config.json").is_file():
        raise ExportError(f"{folder} has no config.json: not a Hugging Face model folder")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    heads, width = _heads_and_width(config)
    model = _load(folder)
    names = _input_names(model)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="edgekit-onnx-") as tmp:
        raw = Path(tmp) / "raw.onnx"
        _export_fp32(model, names, raw)
        fused = _fuse(raw, out / FILES["fp32"], heads, width)
    probes = _probes(names, int(config["vocab_size"]), int(config.get("max_position_embeddings", 512)))
    diff = _max_diff(model, out / FILES["fp32"], probes)
    if not diff <= tolerance:
        raise ExportError(f"the fused fp32 ONNX file misses PyTorch's logits by {diff:.2e} (> {tolerance:g})")
    _quantize(out / FILES["fp32"], out / FILES["dynamic_int8_per_tensor"], per_channel=False)
    _quantize(out / FILES["fp32"], out / FILES["dynamic_int8_per_channel"], per_channel=True)
    versions = {name: md.version(name) for name in ("torch", "transformers", "onnx", "onnxruntime")}
    return {"opset": OPSET, "inputs": names, "architecture": (config.get("architectures") or ["?"])[0],
            "num_heads": heads, "hidden_size": width, "attention": "eager", "fused_operators": fused,
            "fp32_vs_pytorch": {"max_abs_diff": diff, "tolerance": tolerance,
                                "probes": f"random ids at lengths {list(PROBE_LENGTHS)}, full and half masks"},
            "int8": "onnxruntime.quantization.quantize_dynamic of the fused graph, QInt8 weights, uint8 activations",
            "files": dict(FILES), "versions": versions}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Hugging Face classifier folder → fused fp32 + dynamic int8 ONNX files.")
    p.add_argument("--hf", required=True, help="Hugging Face folder (config.json + model.safetensors)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--tolerance", type=float, default=1e-4, help="max |Δlogit| of fused fp32 against PyTorch")
    args = p.parse_args(argv)
    try:
        info = export(Path(args.hf), Path(args.out), args.tolerance)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    (Path(args.out) / INFO_NAME).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
