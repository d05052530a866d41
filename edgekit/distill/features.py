"""Intermediate outputs of a model for feature losses; each family provides its forward.

``feature_forward(model, family, wanted)`` returns ``fn(inputs, training) -> dict`` with ``logits``
and, when asked, ``embeddings`` (the embedding block's output after its layer norm, ``[B, L, H]``)
and ``hidden`` (a list with the output of every transformer layer, ``[B, L, H]`` each; the BiLSTM's
one entry is its per-token states through a hint projection to the teacher's width) and ``sentence``
(the vector the classifier head reads, ``[B, D]``: BERT's pooled output, the BiLSTM's concatenated
final states). The function shares the model's variables, so gradients through it train the model
itself. What a family can expose is its ``features`` set (:mod:`edgekit.models.registry`).
"""

from __future__ import annotations

from typing import Any, Callable

from ..errors import EdgekitError

Forward = Callable[[dict, bool], dict[str, Any]]


def check_features(family: str, wanted: set[str] | frozenset[str]) -> None:
    from ..models.registry import get_family

    missing = set(wanted) - get_family(family).features
    if missing:
        raise EdgekitError(f"the {family} student has no {'/'.join(sorted(missing))} comparable to the teacher's; "
                           "use logit losses (hard, kl, logit_mse), similarity or hidden-state losses for it")


def feature_forward(model, family: str, wanted: set[str] | frozenset[str], teacher_width: int | None = None) -> Forward:
    """The family's forward; ``teacher_width`` sizes a student's projection to the teacher where one is needed.

    A forward may carry ``extra_variables``: trainable variables of its own (the BiLSTM's hint
    projection) that the training loop trains with the model's and that are not saved with it.
    """
    from ..models.registry import get_family

    check_features(family, wanted)
    return get_family(family).feature_forward(model, set(wanted), teacher_width)
