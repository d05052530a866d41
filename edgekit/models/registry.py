"""Model family registry: family name → builder. Converters keep a parallel registry of exporters.

A family turns a JSON-able config into a fresh Keras functional model whose inputs are the dict
``{"token_ids", "padding_mask", "segment_ids"}`` (int32 ``[batch, length]``) and whose output is
float logits ``[batch, num_classes]``. Everything downstream — training, distillation, export,
parity checks — talks to models only through that interface.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..errors import ModelLoadError

INPUT_KEYS = ("token_ids", "padding_mask", "segment_ids")


class ModelFamily(Protocol):
    name: str

    def build(self, config: dict[str, Any]) -> Any:
        """A fresh (randomly initialised) Keras model for ``config``."""

    def describe(self, model: Any) -> dict[str, Any]:
        """Facts worth recording about a built model (layers, width, parameters...)."""


FAMILIES: dict[str, ModelFamily] = {}


def register_family(family: ModelFamily) -> ModelFamily:
    FAMILIES[family.name] = family
    return family


def get_family(name: str) -> ModelFamily:
    _load_builtin_families()
    try:
        return FAMILIES[name]
    except KeyError:
        raise ModelLoadError(f"unknown model family {name!r}; known: {', '.join(sorted(FAMILIES))}") from None


# Modules that register a family when imported (imported lazily: they import TensorFlow).
FAMILY_MODULES = ("edgekit.models.bert", "edgekit.models.bilstm")


def _load_builtin_families() -> None:
    import importlib

    for module in FAMILY_MODULES:
        importlib.import_module(module)
