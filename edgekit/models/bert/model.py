"""The BERT family's architecture: keras-hub ``BertBackbone`` + classification head (teacher and shallow students).

A config whose backbone has ``embedding_dim`` (narrower than ``hidden_dim``) builds keras-hub's
``ElectraBackbone`` instead: the same layers under the same names, plus ``embeddings_projection``
(a dense ``embedding_dim → hidden_dim`` after the embedding LayerNorm), as ELECTRA-small computes it.
Without the key, configs and model directories are the plain BERT ones, unchanged. A pruned model's
backbone may also carry ``head_dim``: heads narrower than ``hidden_dim / num_heads`` (:mod:`.heads`).
"""

from __future__ import annotations

import functools
from typing import Any

from ...errors import ModelLoadError, first_line
from ..backbones import BackboneSource
from .heads import build_backbone, head_dim_config

_BACKBONE_KEYS = ("vocabulary_size", "num_layers", "num_heads", "hidden_dim", "intermediate_dim", "dropout",
                  "max_sequence_length", "num_segments")
EMBEDDING_DIM = "embedding_dim"  # optional backbone key: a projected (factorised) embedding
PROJECTION = "embeddings_projection"  # keras-hub ElectraBackbone's dense from embedding_dim to hidden_dim


def embedding_projection(backbone):
    """The backbone's embedding projection layer, or None when its embeddings are as wide as its layers."""
    return next((layer for layer in backbone.layers if layer.name == PROJECTION), None)


def embedding_dim(config: dict[str, Any]) -> int:
    """The width of the embedding table (``hidden_dim`` unless projected)."""
    backbone = config["backbone"]
    return int(backbone.get(EMBEDDING_DIM, backbone["hidden_dim"]))


def _backbone(config: dict[str, Any]):
    import keras_hub

    backbone = dict(config["backbone"])
    width = backbone.pop(EMBEDDING_DIM, None)
    if width is None or int(width) == int(backbone["hidden_dim"]):
        return build_backbone(keras_hub.models.BertBackbone, backbone)
    if not 0 < int(width) < int(backbone["hidden_dim"]):
        raise ModelLoadError(f"embedding_dim {width} must be between 1 and hidden_dim {backbone['hidden_dim']}")
    electra = functools.partial(keras_hub.models.ElectraBackbone, vocab_size=backbone.pop("vocabulary_size"),
                                embedding_dim=int(width))
    return build_backbone(electra, backbone)


def build(config: dict[str, Any]):
    """The classifier for ``config`` (any length: the same model serves every bucket)."""
    import keras_hub

    backbone = _backbone(config)
    _set_activations(backbone, config)
    return keras_hub.models.BertTextClassifier(
        backbone=backbone,
        num_classes=int(config["num_classes"]),
        preprocessor=None,
        activation=None,
        dropout=float(config.get("dropout", 0.1)),
    )


def config_of(model) -> dict[str, Any]:
    backbone_cfg = model.backbone.get_config()
    if "vocab_size" in backbone_cfg:  # ElectraBackbone's spelling
        backbone_cfg["vocabulary_size"] = backbone_cfg["vocab_size"]
    projected = {}
    if int(backbone_cfg.get(EMBEDDING_DIM, backbone_cfg["hidden_dim"])) != int(backbone_cfg["hidden_dim"]):
        projected = {EMBEDDING_DIM: int(backbone_cfg[EMBEDDING_DIM])}
    return {
        "backbone": {**{k: backbone_cfg[k] for k in _BACKBONE_KEYS}, **projected, **head_dim_config(model.backbone)},
        "num_classes": int(model.num_classes),
        "dropout": float(model.dropout),
        **_activations_of(model.backbone),
    }


# What the feed-forward layers (Hugging Face ``hidden_act``) and the pooler compute. keras-hub's BertBackbone
# hard-codes the tanh GELU and a tanh pooler; a PyTorch-trained checkpoint computes the exact (erf) GELU,
# DistilBERT's head a ReLU, ELECTRA's an exact GELU (edgekit/hf). A config without these keys gets
# keras-hub's forms, so model directories written before them load unchanged. Both GELUs export as
# the builtin TFLite GELU op.
ACTIVATION_KEYS = {"hidden_act": ("gelu_approximate", "gelu"), "pooler_activation": ("tanh", "relu", "gelu")}
DEFAULT_ACTIVATIONS = {"hidden_act": "gelu_approximate", "pooler_activation": "tanh"}


def _activation_functions() -> dict[str, Any]:
    import keras
    from keras_hub.src.utils.keras_utils import gelu_approximate

    return {"gelu_approximate": gelu_approximate, "gelu": keras.activations.gelu,  # approximate=False
            "tanh": keras.activations.tanh, "relu": keras.activations.relu}


def _set_activations(backbone, config: dict[str, Any]) -> None:
    """Swap the activations keras-hub built in: the functional graph calls each layer's ``activation``
    at run time, so the model, its training and its export compute the swapped form."""
    chosen = {key: config.get(key, DEFAULT_ACTIVATIONS[key]) for key in ACTIVATION_KEYS}
    for key, name in chosen.items():
        if name not in ACTIVATION_KEYS[key]:
            raise ModelLoadError(f"{key} {name!r} is not one of {', '.join(ACTIVATION_KEYS[key])}")
    functions = _activation_functions()
    for layer in backbone.transformer_layers:
        layer.activation = functions[chosen["hidden_act"]]
        layer._feedforward_intermediate_dense.activation = functions[chosen["hidden_act"]]  # noqa: SLF001
    backbone.pooled_dense.activation = functions[chosen["pooler_activation"]]


def _activations_of(backbone) -> dict[str, str]:
    names = {id(fn): name for name, fn in _activation_functions().items()}
    hidden = backbone.transformer_layers[0]._feedforward_intermediate_dense.activation  # noqa: SLF001
    return {"hidden_act": names[id(hidden)], "pooler_activation": names[id(backbone.pooled_dense.activation)]}


def describe(model) -> dict[str, Any]:
    b = model.backbone
    return {"layers": b.num_layers, "hidden": b.hidden_dim, "heads": b.num_heads,
            "intermediate": b.intermediate_dim, "embedding": int(getattr(b, EMBEDDING_DIM, b.hidden_dim)),
            "params": int(model.count_params())}


def sized_config(vocabulary_size: int, num_classes: int, *, layers: int, hidden: int, heads: int,
                 intermediate: int, max_len: int, dropout: float = 0.1) -> dict[str, Any]:
    """A config from sizes (random backbones for smoke runs, tiny models for tests)."""
    return {
        "backbone": {"vocabulary_size": vocabulary_size, "num_layers": layers, "num_heads": heads,
                     "hidden_dim": hidden, "intermediate_dim": intermediate, "dropout": 0.1,
                     "max_sequence_length": max_len, "num_segments": 2},
        "num_classes": num_classes,
        "dropout": dropout,
    }


def from_pretrained(source: BackboneSource, num_classes: int, dropout: float = 0.1):
    """A classifier with pretrained backbone weights and a fresh head; returns (model, vocab, lower_case)."""
    import keras_hub

    if source.kind == "random":
        vocab = _read_vocab(source.vocab_path)
        c = source.random_config
        config = sized_config(len(vocab), num_classes, layers=c["layers"], hidden=c["hidden"], heads=c["heads"],
                              intermediate=c["intermediate"], max_len=c["max_len"], dropout=dropout)
        return build(config), vocab, True
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
    from ...tokenizer import load_vocab

    if not path:
        raise ModelLoadError("no vocabulary file for this backbone")
    return load_vocab(path)
