"""The BERT family: keras-hub ``BertBackbone`` + classification head, for the teacher and shallow students."""

from __future__ import annotations

from typing import Any

from ..errors import ModelLoadError, first_line
from .backbones import BackboneSource
from .registry import register_family

_BACKBONE_KEYS = ("vocabulary_size", "num_layers", "num_heads", "hidden_dim", "intermediate_dim", "dropout",
                  "max_sequence_length", "num_segments")


class BertFamily:
    name = "bert"

    def build(self, config: dict[str, Any]):
        import keras_hub

        backbone = keras_hub.models.BertBackbone(**config["backbone"])
        return keras_hub.models.BertTextClassifier(
            backbone=backbone,
            num_classes=int(config["num_classes"]),
            preprocessor=None,
            activation=None,
            dropout=float(config.get("dropout", 0.1)),
        )

    def config_of(self, model) -> dict[str, Any]:
        backbone_cfg = model.backbone.get_config()
        return {
            "backbone": {k: backbone_cfg[k] for k in _BACKBONE_KEYS},
            "num_classes": int(model.num_classes),
            "dropout": float(model.dropout),
        }

    def describe(self, model) -> dict[str, Any]:
        b = model.backbone
        return {"layers": b.num_layers, "hidden": b.hidden_dim, "heads": b.num_heads,
                "intermediate": b.intermediate_dim, "params": int(model.count_params())}

    def from_pretrained(self, source: BackboneSource, num_classes: int, dropout: float = 0.1):
        """A classifier with pretrained backbone weights and a fresh head; returns (model, vocab, lower_case)."""
        import keras_hub

        if source.kind == "random":
            c = source.random_config
            config = {
                "backbone": {
                    "vocabulary_size": _vocab_size(source.vocab_path), "num_layers": c["layers"],
                    "num_heads": c["heads"], "hidden_dim": c["hidden"], "intermediate_dim": c["intermediate"],
                    "dropout": 0.1, "max_sequence_length": c["max_len"], "num_segments": 2,
                },
                "num_classes": num_classes,
                "dropout": dropout,
            }
            return self.build(config), _read_vocab(source.vocab_path), True
        try:
            model = keras_hub.models.BertTextClassifier.from_preset(
                source.preset, num_classes=num_classes, preprocessor=None, activation=None, dropout=dropout)
        except Exception as exc:
            raise ModelLoadError(f"cannot load BERT backbone {source.spec!r}: {first_line(exc)}") from None
        lower_case = True
        try:
            tokenizer = keras_hub.models.BertTokenizer.from_preset(source.preset)
            vocab = list(tokenizer.get_vocabulary())
            lower_case = bool(tokenizer.lowercase)
        except Exception:
            if not source.vocab_path:
                raise ModelLoadError(f"backbone {source.spec!r} has no readable vocabulary") from None
            vocab = _read_vocab(source.vocab_path)
        return model, vocab, lower_case


def _read_vocab(path: str | None) -> list[str]:
    from ..tokenizer import load_vocab

    if not path:
        raise ModelLoadError("no vocabulary file for this backbone")
    return load_vocab(path)


def _vocab_size(path: str | None) -> int:
    return len(_read_vocab(path))


BERT = register_family(BertFamily())
