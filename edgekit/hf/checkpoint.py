"""The tensors of a ``model.safetensors`` file, read with numpy (no torch, no pickle), under canonical names.

Canonical names are those of a current ``transformers`` task checkpoint without the backbone prefix:
``embeddings.word_embeddings.weight``, ``encoder.layer.0.attention.self.query.weight``,
``classifier.weight``. Two older spellings are folded in: keys without the ``bert.`` (``distilbert.``,
``electra.``) prefix stay as they are, and TF-era LayerNorm parameters ``gamma``/``beta`` become
``weight``/``bias``.

:meth:`Checkpoint.take` hands a tensor out once and checks its shape; :meth:`Checkpoint.unused` lists what
was never taken, so a checkpoint with more layers (or another head) than its config says is caught.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ModelLoadError, first_line

# buffers some checkpoints carry that hold no learned weights
IGNORED_SUFFIXES = (".position_ids",)
_LEGACY_NORM = {".gamma": ".weight", ".beta": ".bias"}


class Checkpoint:
    def __init__(self, tensors: dict[str, np.ndarray], prefix: str, name: str):
        self.name = name
        self.tensors: dict[str, np.ndarray] = {}
        for key, value in tensors.items():
            if key.endswith(IGNORED_SUFFIXES):
                continue
            canonical = _canonical(key.removeprefix(prefix))
            if canonical in self.tensors:
                raise ModelLoadError(f"{name} holds {canonical!r} twice (with and without the {prefix!r} prefix)")
            self.tensors[canonical] = value
        self._taken: set[str] = set()

    @classmethod
    def read(cls, path: Path, prefix: str) -> "Checkpoint":
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        try:
            tensors = load_file(str(path))
        except (SafetensorError, OSError, ValueError, TypeError) as exc:
            raise ModelLoadError(f"cannot read {path.name} with numpy: {first_line(exc)}") from None
        return cls(tensors, prefix, path.name)

    def has(self, key: str) -> bool:
        return key in self.tensors

    def take(self, key: str, shape: tuple[int, ...]) -> np.ndarray:
        """The float32 tensor ``key``, which must have ``shape`` (what config.json implies)."""
        if key not in self.tensors:
            raise ModelLoadError(f"{self.name} has no tensor {key!r}: not the architecture config.json names, "
                                 "or not a fine-tuned classifier")
        value = self.tensors[key]
        if tuple(value.shape) != tuple(shape):
            raise ModelLoadError(f"{self.name}: {key} has shape {list(value.shape)} but config.json implies "
                                 f"{list(shape)}")
        self._taken.add(key)
        return value.astype(np.float32)

    def unused(self) -> list[str]:
        return sorted(set(self.tensors) - self._taken)


def _canonical(key: str) -> str:
    for old, new in _LEGACY_NORM.items():
        if key.endswith(old):
            return key[: -len(old)] + new
    return key
