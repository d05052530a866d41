"""The Hugging Face architectures ``edgekit import`` maps, one module each, keyed by ``architectures``.

``find_architecture`` reads ``config.json``: its ``architectures`` entry names the mapping; a checkpoint
without one is taken by its ``model_type``. Anything else stops with one line naming what is supported.
``export_architecture`` goes the other way: a BERT-family model's pooler activation names the one
architecture whose head computes it (tanh: BERT, relu: DistilBERT, gelu: ELECTRA).
A new architecture is one module with an ``ARCHITECTURE``, added to :data:`ARCHITECTURES`.
"""

from __future__ import annotations

from ...errors import ModelLoadError
from . import bert, distilbert, electra
from .base import Architecture

ARCHITECTURES: dict[str, Architecture] = {
    a.name: a for a in (bert.ARCHITECTURE, distilbert.ARCHITECTURE, electra.ARCHITECTURE)}
BY_MODEL_TYPE: dict[str, Architecture] = {a.model_type: a for a in ARCHITECTURES.values()}
BY_POOLER: dict[str, Architecture] = {a.pooler_activation: a for a in ARCHITECTURES.values()}


def supported() -> str:
    return ", ".join(ARCHITECTURES)


def find_architecture(config: dict) -> Architecture:
    named = config.get("architectures") or []
    for name in named:
        if name in ARCHITECTURES:
            return ARCHITECTURES[name]
    model_type = config.get("model_type")
    if named:
        what = f"{', '.join(named)} ({model_type})" if model_type else ", ".join(named)
        hint = ("; a base encoder without a fine-tuned head trains with `edgekit train teacher --backbone`"
                if model_type in BY_MODEL_TYPE else "")
        raise ModelLoadError(f"{what} is not supported: edgekit import takes {supported()} "
                             f"(WordPiece tokenizers){hint}")
    if model_type in BY_MODEL_TYPE:
        return BY_MODEL_TYPE[model_type]
    raise ModelLoadError(f"model_type {model_type!r} is not supported: edgekit import takes {supported()} "
                         "(WordPiece tokenizers)")


def export_architecture(family_config: dict) -> Architecture:
    """The architecture a BERT-family model exports as, by its pooler activation (every one the family
    knows has one); one line when that architecture cannot hold a projected embedding."""
    from ...models.bert.model import EMBEDDING_DIM

    architecture = BY_POOLER[family_config["pooler_activation"]]
    if EMBEDDING_DIM in family_config["backbone"] and not architecture.projects_embeddings:
        raise ModelLoadError(f"a {family_config['pooler_activation']} pooler with a projected embedding "
                             f"(embedding_dim {family_config['backbone'][EMBEDDING_DIM]}) has no Hugging Face "
                             f"form: {architecture.name} has no embedding projection")
    return architecture
