"""BiLSTM students: the reference study's architecture over the teacher's WordPiece vocabulary.

``bilstm:embedding_dim=64,lstm_units=128,dropout=0.5,pooling=final|max|mean,embedding_init=context|pca|random,
embedding_trainable=0|1``. How the embedding starts is :mod:`edgekit.distill.embedding_init` (default
``context``: every vocabulary token through the teacher, projected to the embedding width), applied by
:func:`prepare_student` before distillation; ``embedding_trainable=0`` freezes it.
"""

from __future__ import annotations

from typing import Any

from ...errors import EdgekitError
from . import model as bilstm_model

ARCH_OPTIONS = tuple(k for k in bilstm_model.DEFAULTS if k not in ("vocabulary_size", "num_classes"))
INIT_OPTIONS = ("embedding_init", "embedding_trainable")  # applied by prepare_student, not the builder


def check_options(options: dict[str, Any]) -> None:
    from ...distill.embedding_init import DEFAULT_INIT, check_embedding_init

    unknown = set(options) - set(ARCH_OPTIONS) - set(INIT_OPTIONS)
    if unknown:
        raise EdgekitError(f"unknown option(s) {sorted(unknown)} for student 'bilstm'")
    listed = sorted(k for k, v in options.items() if isinstance(v, list))
    if listed:
        raise EdgekitError(f"student 'bilstm' option(s) {listed} take one value each")
    check_embedding_init(options.get("embedding_init", DEFAULT_INIT))
    bilstm_model.check_pooling(options.get("pooling", "final"))
    if options.get("embedding_trainable", 1) not in (0, 1):
        raise EdgekitError(f"embedding_trainable must be 0 or 1, got {options['embedding_trainable']!r}")


def build_student(spec, teacher, num_classes: int, vocab_size: int):
    from ...distill.students import Student

    arch = {k: v for k, v in spec.options.items() if k in ARCH_OPTIONS}
    model = bilstm_model.build({**bilstm_model.DEFAULTS, **arch, "vocabulary_size": vocab_size,
                                "num_classes": num_classes})
    return Student(model, "bilstm", bilstm_model.config_of(model), init={"from_teacher": False})


def prepare_student(student, teacher, spec, cache_dir) -> None:
    """The embedding's start (``embedding_init``) and whether it trains (``embedding_trainable``)."""
    from ...distill.embedding_init import DEFAULT_INIT, init_embedding

    layer = student.model.get_layer("embedding")
    student.init = init_embedding(layer, str(spec.options.get("embedding_init", DEFAULT_INIT)), teacher, cache_dir)
    trainable = spec.options.get("embedding_trainable", 1)  # 0 or 1 (check_options checked)
    layer.trainable = bool(trainable)
    student.init["embedding_trainable"] = bool(trainable)
