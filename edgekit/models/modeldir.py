"""The model directory: what training and distillation write and what converters read.

```
MODEL_DIR/
  edgekit_model.json   family, config, labels, tokenizer settings, max length, provenance
  model.weights.h5     Keras-format weights, model only (no optimizer state, no pickle)
  vocab.txt            WordPiece vocabulary
  labels.txt           one label per line, output order
  metrics.json         per-epoch curves and the test-split classification report
  training_curves.png  loss and validation macro-F1 per epoch
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ModelLoadError, first_line
from ..fsutil import atomic_directory, atomic_write_json, atomic_write_text, read_json_object
from ..tokenizer import WordPieceTokenizer

META_NAME = "edgekit_model.json"
WEIGHTS_NAME = "model.weights.h5"
METRICS_NAME = "metrics.json"
CURVES_NAME = "training_curves.png"
SCHEMA_VERSION = 1


@dataclass
class LoadedModel:
    model: Any
    meta: dict
    tokenizer: WordPieceTokenizer
    path: Path

    @property
    def labels(self) -> list[str]:
        return list(self.meta["labels"])

    @property
    def family(self) -> str:
        return self.meta["family"]

    @property
    def max_length(self) -> int:
        return int(self.meta["max_length"])


def save_model_dir(
    out_dir: str | Path,
    *,
    model,
    family: str,
    config: dict,
    labels: list[str],
    vocab: list[str],
    tokenizer_settings: dict,
    max_length: int,
    extra_meta: dict | None = None,
    metrics: dict | None = None,
    write_curves=None,
    overwrite: bool = True,
) -> Path:
    """Write a complete model directory atomically (it appears only when every file is written)."""
    from ..provenance import stamp

    meta = {
        "schema_version": SCHEMA_VERSION,
        "family": family,
        "config": config,
        "labels": list(labels),
        "max_length": int(max_length),
        "tokenizer": {**tokenizer_settings, "vocab_file": "vocab.txt"},
        "params": int(model.count_params()),
        **stamp(),
        **(extra_meta or {}),
    }
    with atomic_directory(out_dir, overwrite=overwrite) as tmp:
        save_model_weights(model, tmp / WEIGHTS_NAME)
        atomic_write_text(tmp / "vocab.txt", "\n".join(vocab) + "\n")
        atomic_write_text(tmp / "labels.txt", "\n".join(labels) + "\n")
        if metrics is not None:
            atomic_write_json(tmp / METRICS_NAME, metrics)
        if write_curves is not None:
            write_curves(tmp / CURVES_NAME)
        atomic_write_json(tmp / META_NAME, meta)
    return Path(out_dir)


def save_model_weights(model, path: Path) -> None:
    """Keras-format weights of the model alone: keras-hub tasks compile themselves with a default
    optimizer, whose state would otherwise ride along (docs/toolchain.md §2.2: 273 MB instead of 91 MB)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        model.optimizer = None
    try:
        model.save_weights(str(path))
    finally:
        if optimizer is not None:
            model.optimizer = optimizer


def read_meta(model_dir: str | Path) -> dict:
    model_dir = Path(model_dir)
    meta_path = model_dir / META_NAME
    if not model_dir.is_dir():
        raise ModelLoadError(f"model directory not found: {model_dir}")
    if not meta_path.is_file():
        raise ModelLoadError(f"{model_dir} is not an edgekit model directory (no {META_NAME})")
    meta = read_json_object(meta_path, ModelLoadError)
    for key in ("family", "config", "labels", "max_length", "tokenizer"):
        if key not in meta:
            raise ModelLoadError(f"{meta_path} lacks {key!r}")
    return meta


def load_model_dir(model_dir: str | Path) -> LoadedModel:
    """Rebuild the architecture from its family and config, then load the weights."""
    from .registry import get_family

    model_dir = Path(model_dir)
    meta = read_meta(model_dir)
    weights = model_dir / WEIGHTS_NAME
    if not weights.is_file():
        raise ModelLoadError(f"{model_dir} has no {WEIGHTS_NAME}")
    model = get_family(meta["family"]).build(meta["config"])
    # keras-hub tasks compile themselves; the file holds no optimizer state (see save_model_weights)
    if getattr(model, "optimizer", None) is not None:
        model.optimizer = None
    try:
        model.load_weights(str(weights))
    except Exception as exc:
        raise ModelLoadError(f"cannot load weights {weights}: {first_line(exc)}") from None
    vocab_path = model_dir / meta["tokenizer"].get("vocab_file", "vocab.txt")
    if not vocab_path.is_file():
        raise ModelLoadError(f"{model_dir} has no {vocab_path.name}")
    tokenizer = WordPieceTokenizer.from_settings(vocab_path, meta["tokenizer"])
    return LoadedModel(model=model, meta=meta, tokenizer=tokenizer, path=model_dir)

