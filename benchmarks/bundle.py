"""Read a bundle and run its models: tokenize, pick the smallest length bucket, invoke, return logits.

numpy + a TFLite runtime + the standard library only: this is what runs on a device, and what the
converters' parity gate, ``edgekit predict`` and the benchmark runner share.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..contracts import LABELS_NAME, MANIFEST_NAME, check_manifest, read_manifest
from ..errors import EdgekitError, first_line
from ..fsutil import sha256_file
from ..tokenizer import WordPieceTokenizer
from .runtime import Runtime, select_runtime


def pick_bucket(buckets: list[tuple[int, str]], num_tokens: int) -> tuple[int, str]:
    """The smallest ``(length, signature)`` of the sorted ``buckets`` that holds ``num_tokens``; the
    largest (truncating) when none does. The one bucket rule of the runner, parity gate and calibration."""
    for length, signature in buckets:
        if num_tokens <= length:
            return length, signature
    return buckets[-1]


class BundleError(EdgekitError):
    """A bundle that is missing, incomplete or inconsistent."""


@dataclass
class Bundle:
    path: Path
    manifest: dict
    tokenizer: WordPieceTokenizer

    @classmethod
    def open(cls, path: str | Path) -> "Bundle":
        path = Path(path)
        manifest = read_manifest(path, BundleError)
        mpath = path / MANIFEST_NAME
        problems = check_manifest(manifest)
        if problems:
            raise BundleError(f"{mpath}: " + "; ".join(problems[:5]))
        tok_settings = manifest["tokenizer"]
        vocab = path / tok_settings["vocab_file"]
        if not vocab.is_file():
            raise BundleError(f"{path}: vocabulary {tok_settings['vocab_file']} is missing")
        labels_file = path / LABELS_NAME
        if labels_file.is_file():
            labels = [line.strip() for line in labels_file.read_text(encoding="utf-8").splitlines() if line.strip()]
            if labels != list(manifest["labels"]):
                raise BundleError(f"{path}: {LABELS_NAME} disagrees with the manifest's labels")
        try:
            tokenizer = WordPieceTokenizer.from_settings(vocab, tok_settings)
        except ValueError as exc:
            raise BundleError(f"{path}: bad vocabulary ({exc})") from None
        return cls(path, manifest, tokenizer)

    @property
    def labels(self) -> list[str]:
        return list(self.manifest["labels"])

    @property
    def modes(self) -> list[str]:
        return list(self.manifest["modes"])

    @property
    def buckets(self) -> list[tuple[int, str]]:
        return sorted((int(b["length"]), str(b["signature"])) for b in self.manifest["buckets"])

    def mode_entry(self, mode: str) -> dict:
        if mode not in self.manifest["modes"]:
            raise BundleError(f"bundle {self.path} has no mode {mode!r}; it has {', '.join(self.modes)}")
        return self.manifest["modes"][mode]

    def model_file(self, mode: str) -> Path:
        entry = self.mode_entry(mode)
        f = self.path / entry["file"]
        if not f.is_file():
            raise BundleError(f"bundle {self.path}: file {entry['file']} of mode {mode!r} is missing")
        return f

    def verify(self, mode: str) -> None:
        """Size and sha256 of a mode's file against the manifest (a truncated copy fails here)."""
        entry = self.mode_entry(mode)
        f = self.model_file(mode)
        if f.stat().st_size != int(entry["bytes"]) or sha256_file(f) != entry["sha256"]:
            raise BundleError(f"{f}: size or sha256 differs from the manifest (corrupt or truncated copy)")

    def pick_bucket(self, num_tokens: int) -> tuple[int, str]:
        return pick_bucket(self.buckets, num_tokens)


class SignatureModel:
    """A .tflite file with one ``[1, L]`` signature per bucket, loaded into an interpreter.

    What :class:`BundleModel` runs, usable on its own for a file that is not in a bundle yet (the
    converters' parity gate). An int8 logits output is dequantized with its scale and zero point.
    """

    def __init__(self, path: str | Path, signatures: list[str], threads: int = 1, runtime: Runtime | None = None,
                 input_names: list[str] | None = None, output_name: str = "logits") -> None:
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
            try:
                detail = runner.get_output_details()[output_name]
                if np.dtype(detail["dtype"]) in (np.int8, np.int16, np.uint8):
                    scale, zero = detail["quantization"]
                    self._dequant[signature] = (float(scale), int(zero))
            except (AttributeError, KeyError):
                pass
        self.output_name = output_name
        self.input_names = list(input_names or ("ids", "mask", "segment_ids"))

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
        path = bundle.model_file(mode)
        self.model = SignatureModel(path, [sig for _, sig in bundle.buckets], threads=threads, runtime=self.runtime,
                                    input_names=[i["name"] for i in bundle.manifest["inputs"]],
                                    output_name=bundle.manifest["outputs"][0]["name"])
        self.interpreter = self.model.interpreter
        self.runners = self.model.runners
        self.output_name = self.model.output_name
        self.input_names = self.model.input_names

    def run(self, signature: str, ids: np.ndarray, mask: np.ndarray, segment_ids: np.ndarray) -> np.ndarray:
        """Logits ``[num_labels]`` for one example already encoded at the bucket's length."""
        return self.model.run(signature, ids, mask, segment_ids)

    def encode(self, text: str) -> tuple[int, str, np.ndarray, np.ndarray, np.ndarray, int]:
        num_tokens = self.bundle.tokenizer.count_tokens(text)
        length, signature = self.bundle.pick_bucket(num_tokens)
        enc = self.bundle.tokenizer.encode(text, length)
        return (length, signature, np.asarray(enc.ids, np.int32), np.asarray(enc.mask, np.int32),
                np.asarray(enc.segment_ids, np.int32), num_tokens)

    def logits(self, text: str) -> np.ndarray:
        _, signature, ids, mask, seg, _ = self.encode(text)
        return self.run(signature, ids, mask, seg)

    def classify(self, text: str) -> dict:
        length, signature, ids, mask, seg, num_tokens = self.encode(text)
        logits = self.run(signature, ids, mask, seg)
        z = np.exp(logits - logits.max())
        probs = z / z.sum()
        labels = self.bundle.labels
        return {
            "label": labels[int(np.argmax(logits))],
            "probabilities": {lab: float(p) for lab, p in zip(labels, probs)},
            "logits": [float(v) for v in logits],
            "bucket": length,
            "num_tokens": num_tokens,
        }
