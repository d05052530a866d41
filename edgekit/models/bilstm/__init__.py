"""The BiLSTM student family: the reference study's architecture (embedding → BiLSTM → dense).

One folder: :mod:`.model` (architecture, fixed-length twin, poolings), :mod:`.student` (options and the
embedding's start from the teacher), :mod:`.features` (the forward feature losses read), :mod:`.export`
(how it converts: one unrolled graph per bucket).
"""

from __future__ import annotations

from typing import Any

from ..registry import ModelFamily, register_family
from . import model as _model
from . import student as _student
from .model import DEFAULTS, POOLINGS, bilstm_param_count, check_pooling, pool_states

__all__ = ["BILSTM", "BiLSTMFamily", "DEFAULTS", "POOLINGS", "bilstm_param_count", "check_pooling", "pool_states"]


class BiLSTMFamily(ModelFamily):
    name = "bilstm"
    title = "BiLSTM student (the reference study's: WordPiece embedding → BiLSTM → dense)"
    student_help = ("bilstm:embedding_dim=64,lstm_units=128,dropout=0.5,pooling=final|max|mean,"
                    "embedding_init=context|pca|random,embedding_trainable=0|1")
    features = frozenset({"logits", "hidden", "sentence"})
    # warm-up + linear decay too (with a near-constant 2e-3 validation F1 swung by ±3 points between
    # epochs); patience 5 so the decayed tail gets its chance.
    train_defaults = {"learning_rate": 2e-3, "epochs": 15, "patience": 5, "batch_size": 32, "max_length": 0,
                      "schedule": "linear"}
    sweep_grid = {"temperature": [1, 2, 5], "alpha": [0.3, 0.5, 0.7]}
    run_loss = "hard,kl"

    def build(self, config: dict[str, Any], sequence_length: int | None = None):
        return _model.build(config, sequence_length)

    def config_of(self, model) -> dict[str, Any]:
        return _model.config_of(model)

    def describe(self, model) -> dict[str, Any]:
        return _model.describe(model)

    def tiny_config(self, vocabulary_size: int, num_classes: int) -> dict[str, Any]:
        return {**DEFAULTS, "vocabulary_size": vocabulary_size, "num_classes": num_classes, "embedding_dim": 8,
                "lstm_units": 8}

    def embedding_rows(self, model) -> int:
        return int(model.get_layer("embedding").input_dim)

    def with_vocabulary_size(self, config: dict[str, Any], size: int) -> dict[str, Any]:
        return {**config, "vocabulary_size": int(size)}

    def parse_student_options(self, options: dict[str, Any], text: str) -> None:
        _student.check_options(options)

    def build_student(self, spec, teacher, num_classes: int, vocab_size: int):
        return _student.build_student(spec, teacher, num_classes, vocab_size)

    def prepare_student(self, student, teacher, spec, cache_dir) -> None:
        _student.prepare_student(student, teacher, spec, cache_dir)

    def feature_forward(self, model, wanted: set[str], teacher_width: int | None):
        from .features import feature_forward

        return feature_forward(model, wanted, teacher_width)

    @property
    def exporter(self):
        from .export import EXPORTER

        return EXPORTER


BILSTM = register_family(BiLSTMFamily())
