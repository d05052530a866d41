"""Run a bundle's models: tokenize, pick the smallest length bucket, invoke, return logits.

numpy + a TFLite runtime + the standard library only: this is what runs on a device, and what the
converters' parity gate, ``edgekit predict`` and the benchmark runner share.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..contracts import INPUT_NAMES
from ..errors import first_line
from .bundle import Bundle, BundleError
from .interpreters import Runtime, select_runtime


class SignatureModel:
    """A .tflite file with one ``[1, L]`` signature per bucket, loaded into an interpreter.

    What :class:`BundleModel` runs, usable on its own for a file that is not in a bundle yet (the
    converters' parity gate). An int8 logits output is dequantized with its scale and zero point.
    """

    def __init__(self, path: str | Path, signatures: list[str], threads: int = 1, runtime: Runtime | None = None,
                 input_names: list[str] | None = None, output_name: str = "logits",
                 lengths: dict[str, int] | None = None, num_outputs: int | None = None) -> None:
        self.path = Path(path)
        self.runtime = runtime or select_runtime()
        try:
            self.interpreter = self.runtime.interpreter_cls(model_path=str(self.path), num_threads=threads)
        except (ValueError, RuntimeError) as exc:
            raise BundleError(f"{self.path}: cannot load with {self.runtime.name} "
                              f"({first_line(exc, 'unreadable model')})") from None
        available = set(self.interpreter.get_signature_list())
        self.runners: dict[str, Any] = {}
        self._dequant: dict[str, tuple[float, int] | None] = {}
        for signature in signatures:
            if signature not in available:
                raise BundleError(f"{self.path}: no signature {signature!r} (has {sorted(available)})")
            try:
                runner = self.interpreter.get_signature_runner(signature)
            except (ValueError, RuntimeError) as exc:
                raise BundleError(f"{self.path}: signature {signature!r} does not load "
                                  f"({first_line(exc, 'cannot prepare')})") from None
            self.runners[signature] = runner
            self._dequant[signature] = None
            _check_shapes(self.path, signature, runner, list(input_names or INPUT_NAMES), output_name,
                          (lengths or {}).get(signature), num_outputs)
            try:
                detail = runner.get_output_details()[output_name]
                if np.dtype(detail["dtype"]) in (np.int8, np.int16, np.uint8):
                    scale, zero = detail["quantization"]
                    self._dequant[signature] = (float(scale), int(zero))
            except (AttributeError, KeyError):
                pass
        self.output_name = output_name
        self.input_names = list(input_names or INPUT_NAMES)

    def run(self, signature: str, ids: np.ndarray, mask: np.ndarray, segment_ids: np.ndarray) -> np.ndarray:
        """Logits ``[num_labels]`` (float32) for one example already encoded at the bucket's length."""
        feeds = {"ids": ids, "mask": mask, "segment_ids": segment_ids}
        out = self.runners[signature](**{name: np.asarray(feeds[name]).reshape(1, -1).astype(np.int32)
                                         for name in self.input_names})
        raw = np.asarray(out[self.output_name]).reshape(-1)
        dq = self._dequant.get(signature)
        if dq is not None:
            return ((raw.astype(np.float32) - dq[1]) * dq[0]).astype(np.float32)
        return raw.astype(np.float32)


def _check_shapes(path: Path, signature: str, runner, input_names: list[str], output_name: str,
                 length: int | None, num_outputs: int | None) -> None:
    """The signature takes the bundle's inputs at ``[1, length]`` and gives ``[1, num_outputs]`` logits: a file
    that does not (another model's, a manifest edited by hand) fails here instead of computing nonsense."""
    try:
        inputs, outputs = runner.get_input_details(), runner.get_output_details()
    except AttributeError:  # tflite-runtime 2.14's runner has no details: the manifest's sha256 vouches
        return
    missing = [n for n in input_names if n not in inputs] + ([output_name] if output_name not in outputs else [])
    if missing:
        raise BundleError(f"{path}: signature {signature!r} lacks {', '.join(missing)} "
                          f"(has {', '.join(sorted(inputs))} → {', '.join(sorted(outputs))})", "signatures")
    for name in input_names:
        shape = [int(d) for d in inputs[name]["shape"]]
        if length is not None and shape != [1, length]:
            raise BundleError(f"{path}: signature {signature!r} input {name} has shape {shape}, the bucket "
                              f"[1, {length}]", "signatures")
    width = int(np.prod(outputs[output_name]["shape"]))
    if num_outputs is not None and width != num_outputs:
        raise BundleError(f"{path}: signature {signature!r} gives {width} logits for {num_outputs} labels",
                          "label_count")


@dataclass(frozen=True)
class Encoded:
    """One sentence encoded at the length of the bucket it runs in."""

    length: int
    signature: str
    ids: np.ndarray
    mask: np.ndarray
    segment_ids: np.ndarray
    num_tokens: int


class BundleModel:
    """One mode of a bundle, loaded into an interpreter, with one signature runner per bucket."""

    def __init__(self, bundle: Bundle, mode: str, threads: int = 1, runtime: Runtime | None = None,
                 verify: bool = True) -> None:
        self.bundle = bundle
        self.mode = mode
        self.runtime = runtime or select_runtime()
        self.runtime.check_mode(mode)
        if verify:
            bundle.verify(mode)
        self.model = SignatureModel(bundle.model_file(mode), [sig for _, sig in bundle.buckets], threads=threads,
                                    runtime=self.runtime, input_names=[i["name"] for i in bundle.manifest["inputs"]],
                                    output_name=bundle.manifest["outputs"][0]["name"],
                                    lengths={sig: length for length, sig in bundle.buckets},
                                    num_outputs=len(bundle.labels))

    def run(self, signature: str, ids: np.ndarray, mask: np.ndarray, segment_ids: np.ndarray) -> np.ndarray:
        """Logits ``[num_labels]`` for one example already encoded at the bucket's length."""
        return self.model.run(signature, ids, mask, segment_ids)

    def run_encoded(self, enc: Encoded) -> np.ndarray:
        return self.model.run(enc.signature, enc.ids, enc.mask, enc.segment_ids)

    def encode(self, text: str) -> Encoded:
        num_tokens = self.bundle.tokenizer.count_tokens(text)
        length, signature = self.bundle.pick_bucket(num_tokens)
        enc = self.bundle.tokenizer.encode(text, length)
        return Encoded(length, signature, np.asarray(enc.ids, np.int32), np.asarray(enc.mask, np.int32),
                       np.asarray(enc.segment_ids, np.int32), num_tokens)

    def logits(self, text: str) -> np.ndarray:
        return self.run_encoded(self.encode(text))

    def classify(self, text: str) -> dict:
        enc = self.encode(text)
        logits = self.run_encoded(enc)
        z = np.exp(logits - logits.max())
        probs = z / z.sum()
        labels = self.bundle.labels
        return {
            "label": labels[int(np.argmax(logits))],
            "probabilities": {lab: float(p) for lab, p in zip(labels, probs)},
            "logits": [float(v) for v in logits],
            "bucket": enc.length,
            "num_tokens": enc.num_tokens,
        }
