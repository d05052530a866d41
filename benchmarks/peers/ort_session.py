"""An ONNX file in an ONNX Runtime session, fed by edgekit's tokenizer the way a bundle is.

Each sentence runs either at its own length (the ONNX graph has dynamic axes; capped at the bundle's
largest bucket, truncating like edgekit) and is filed under the bucket edgekit would run it in, so
per-bucket latencies line up with edgekit's rows; or padded to the largest bucket, and filed there.
onnxruntime + numpy + edgekit's runtime layer; never torch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import EdgekitError, first_line
from ...runtime.bundle import Bundle
from ...runtime.measure import elapsed_ms

_DTYPES = {"tensor(int64)": np.int64, "tensor(int32)": np.int32}


def runtime_info() -> dict:
    """The record's ``device.runtime`` block."""
    import onnxruntime as ort

    return {"name": "onnxruntime", "version": ort.__version__}


@dataclass
class OrtModel:
    """One ONNX file loaded for batch-1 inference with ``threads`` intra-op threads."""

    path: Path
    threads: int
    session: object
    inputs: dict[str, type]  # input name → numpy integer type
    load_ms: float

    @classmethod
    def load(cls, path: str | Path, threads: int) -> "OrtModel":
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        t0 = time.perf_counter()
        try:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for unreadable models
            raise EdgekitError(f"{path}: onnxruntime cannot load it ({first_line(exc)})") from None
        load_ms = elapsed_ms(t0)
        inputs = {}
        for inp in session.get_inputs():
            if inp.type not in _DTYPES:
                raise EdgekitError(f"{path}: input {inp.name} is {inp.type}, expected integer token ids")
            inputs[inp.name] = _DTYPES[inp.type]
        return cls(Path(path), threads, session, inputs, load_ms)

    @property
    def settings(self) -> dict:
        """What the record says about the session."""
        return {"intra_op_threads": self.threads, "inter_op_threads": 1, "execution_mode": "sequential",
                "graph_optimization": "all", "provider": "CPUExecutionProvider"}

    def feeds(self, ids, mask, segment_ids) -> dict[str, np.ndarray]:
        """Batch-1 feeds for the graph's inputs (DistilBERT's graph has no token_type_ids)."""
        arrays = {"input_ids": ids, "attention_mask": mask, "token_type_ids": segment_ids}
        return {name: np.asarray(arrays[name], dtype).reshape(1, -1) for name, dtype in self.inputs.items()}

    def run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """Logits ``[num_labels]`` (float32) of one prepared example."""
        return np.asarray(self.session.run(["logits"], feeds)[0], np.float32).reshape(-1)


def encoder(bundle: Bundle, model: OrtModel, padded: bool):
    """``encode(text) → (bucket, token count, feeds)`` for :func:`edgekit.runtime.measure.measure_texts`."""
    largest = max(length for length, _ in bundle.buckets)
    tokenizer = bundle.tokenizer

    def encode(text: str) -> tuple[int, int, dict[str, np.ndarray]]:
        num_tokens = tokenizer.count_tokens(text)
        length = largest if padded else bundle.pick_bucket(num_tokens)[0]
        enc = tokenizer.encode(text, largest if padded else min(num_tokens, largest))
        return length, num_tokens, model.feeds(enc.ids, enc.mask, enc.segment_ids)

    return encode
