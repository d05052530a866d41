"""What an architecture mapping is, and the pieces BERT-like mappings share — read both ways.

An :class:`Architecture` turns a Hugging Face ``config.json`` into an edgekit family config through a
table of :class:`ConfigKey` entries, and lists, for a model built from that config, which checkpoint
tensor fills which Keras variable (:class:`Port`). ``edgekit import`` reads through them
(:func:`family_config_from`, :func:`load_weights`: every shape is checked against the config before
any variable is assigned, then that no tensor was left over); ``edgekit export hf`` writes through the
same tables (:func:`hf_config_from`, :func:`export_tensors`), so each name is mapped in one place.

Hugging Face ``nn.Linear`` weights are ``[out, in]``; Keras kernels are ``[in, out]``, and keras-hub's
attention kernels split the heads: query/key/value ``[in, heads, head_dim]``, output
``[heads, head_dim, out]`` (:data:`LAYOUTS`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ...errors import ModelLoadError
from ..checkpoint import Checkpoint


@dataclass(frozen=True)
class Port:
    """Keras ``variable`` ↔ checkpoint tensor ``key`` in ``layout`` (a key of :data:`LAYOUTS`); ``key`` None:
    a part the Hugging Face architecture lacks, zeros on import (its ``fold_on_export`` carries it out)."""

    variable: Any
    key: str | None
    layout: str = "same"


def _prod(dims) -> int:
    return int(math.prod(dims))


@dataclass(frozen=True)
class Layout:
    """How a checkpoint tensor relates to a Keras variable of shape ``s``."""

    hf_shape: Callable[[tuple], tuple]  # the checkpoint shape a Keras variable shape implies
    to_keras: Callable[[np.ndarray, tuple], np.ndarray]  # (checkpoint array, Keras shape) → Keras array
    to_hf: Callable[[np.ndarray], np.ndarray]  # Keras array → checkpoint array


LAYOUTS: dict[str, Layout] = {
    "same": Layout(lambda s: s, lambda a, s: a, lambda k: k),
    "dense": Layout(lambda s: (s[1], s[0]), lambda a, s: a.T, lambda k: k.T),
    "heads_in": Layout(lambda s: (_prod(s[1:]), s[0]), lambda a, s: a.T.reshape(s),
                       lambda k: k.reshape(k.shape[0], -1).T),
    "heads_out": Layout(lambda s: (s[2], _prod(s[:2])), lambda a, s: a.T.reshape(s),
                        lambda k: k.reshape(-1, k.shape[-1]).T),
    "bias": Layout(lambda s: (_prod(s),), lambda a, s: a.reshape(s), lambda k: k.reshape(-1)),
}


@dataclass(frozen=True)
class Architecture:
    name: str  # the ``architectures`` entry of config.json
    model_type: str
    prefix: str  # the backbone's key prefix in a task checkpoint
    head: tuple[str, ...]  # key beginnings of the task head, which has no prefix
    family: str  # the edgekit family the checkpoint maps onto
    pooler_activation: str  # what its head computes on [CLS] before the classifier (the family's key)
    family_config: Callable[[dict, int], dict]  # (config.json, number of labels) → family config
    hf_config: Callable[[dict], dict]  # family config → config.json's architecture keys (no labels)
    ports: Callable[[Any], list[Port]]  # built model → what fills what
    # on export: carries what the checkpoint has no tensor for (ports with key None) into tensors it has
    fold_on_export: Callable[[Any, dict[str, np.ndarray]], None] | None = None
    projects_embeddings: bool = False  # has a place for an embedding narrower than the layers


def load_weights(ports: list[Port], checkpoint: Checkpoint) -> None:
    arrays = []
    for port in ports:
        shape = tuple(int(d) for d in port.variable.shape)
        if port.key is None:
            arrays.append(np.zeros(shape, np.float32))
            continue
        layout = LAYOUTS[port.layout]
        arrays.append(layout.to_keras(checkpoint.take(port.key, layout.hf_shape(shape)), shape))
    left = checkpoint.unused()
    if left:
        shown = ", ".join(left[:3]) + (f" and {len(left) - 3} more" if len(left) > 3 else "")
        raise ModelLoadError(f"{checkpoint.name} holds tensors config.json does not account for ({shown}): "
                             "more layers than num_hidden_layers, or another architecture")
    for port, array in zip(ports, arrays):
        port.variable.assign(array)


def export_tensors(architecture: Architecture, model) -> dict[str, np.ndarray]:
    """The checkpoint tensors of ``model`` under ``architecture``'s names, with its prefix: what
    :func:`load_weights` reads back into the same variables."""
    tensors = {}
    for port in architecture.ports(model):
        if port.key is not None:
            value = np.asarray(port.variable.numpy(), np.float32)
            tensors[port.key] = LAYOUTS[port.layout].to_hf(value)
    if architecture.fold_on_export is not None:
        architecture.fold_on_export(model, tensors)
    return {(key if key.startswith(architecture.head) else architecture.prefix + key): np.ascontiguousarray(value)
            for key, value in tensors.items()}


# ------------------------------------------------------------------------------ config.json
REQUIRED = object()


@dataclass(frozen=True)
class ConfigKey:
    """Family config key ``field`` (a ``backbone`` key, ``head_dropout`` or ``hidden_act``) ↔ config.json:
    read from the first of ``hf`` the file has (architectures renamed some), else ``default``; written
    under ``hf[0]``. No ``hf`` names: the architecture has no such setting, the family gets ``default``."""

    field: str
    hf: tuple[str, ...]
    default: Any = REQUIRED


def need(config: dict, *keys: str) -> Any:
    """The first of ``keys`` config.json has (architectures rename some); one line if none."""
    for key in keys:
        if key in config:
            return config[key]
    raise ModelLoadError(f"config.json lacks {keys[0]!r}")


# Hugging Face hidden_act → the BERT family's. gelu_new / gelu_pytorch_tanh are the tanh approximation.
HIDDEN_ACTS = {"gelu": "gelu", "gelu_new": "gelu_approximate", "gelu_pytorch_tanh": "gelu_approximate"}
# the BERT family's → what export writes (transformers' names for the same functions)
EXPORT_ACTS = {"gelu": "gelu", "gelu_approximate": "gelu_pytorch_tanh"}
# keras-hub's BERT layers fix these
LAYER_NORM_EPS = 1e-12
BACKBONE_KEYS = ("vocabulary_size", "num_layers", "num_heads", "hidden_dim", "intermediate_dim", "dropout",
                 "max_sequence_length", "num_segments")

# BERT's config.json names (ELECTRA's are the same)
BERT_KEYS = (
    ConfigKey("vocabulary_size", ("vocab_size",)),
    ConfigKey("num_layers", ("num_hidden_layers",)),
    ConfigKey("num_heads", ("num_attention_heads",)),
    ConfigKey("hidden_dim", ("hidden_size",)),
    ConfigKey("intermediate_dim", ("intermediate_size",)),
    ConfigKey("max_sequence_length", ("max_position_embeddings",)),
    ConfigKey("num_segments", ("type_vocab_size",), 2),
    ConfigKey("dropout", ("hidden_dropout_prob",), 0.1),
    ConfigKey("head_dropout", ("classifier_dropout",), None),  # None: the hidden dropout
    ConfigKey("hidden_act", ("hidden_act",)),
)


def _read(config: dict, key: ConfigKey) -> Any:
    if key.default is REQUIRED:
        return need(config, *key.hf)
    return next((config[name] for name in key.hf if name in config), key.default)


def family_config_from(config: dict, keys: tuple[ConfigKey, ...], num_labels: int, pooler_activation: str) -> dict:
    """The BERT family config of ``config.json`` read through ``keys``."""
    values = {key.field: _read(config, key) for key in keys}
    act_key = next(key for key in keys if key.field == "hidden_act")
    if values["hidden_act"] not in HIDDEN_ACTS:
        raise ModelLoadError(f"{act_key.hf[0]} {values['hidden_act']!r} is not supported "
                             f"(supported: {', '.join(HIDDEN_ACTS)})")
    hidden, heads = int(values["hidden_dim"]), int(values["num_heads"])
    if hidden % heads:
        raise ModelLoadError(f"hidden size {hidden} is not a multiple of the {heads} attention heads")
    dropout = float(values["dropout"])
    head_dropout = values["head_dropout"]
    return {
        "backbone": {k: dropout if k == "dropout" else int(values[k]) for k in BACKBONE_KEYS},
        "num_classes": int(num_labels),
        "dropout": dropout if head_dropout is None else float(head_dropout),
        "hidden_act": HIDDEN_ACTS[values["hidden_act"]],
        "pooler_activation": pooler_activation,
    }


def hf_config_from(family_config: dict, keys: tuple[ConfigKey, ...]) -> dict:
    """config.json's entries for ``keys`` from a BERT family config (the reverse of :func:`family_config_from`)."""
    values = {**family_config["backbone"], "head_dropout": family_config["dropout"],
              "hidden_act": EXPORT_ACTS[family_config["hidden_act"]]}
    return {key.hf[0]: values[key.field] for key in keys if key.hf}


def check_bert_like(config: dict) -> None:
    """What keras-hub's BERT layers cannot express: another LayerNorm epsilon, relative positions."""
    eps = float(config.get("layer_norm_eps", LAYER_NORM_EPS))
    if not math.isclose(eps, LAYER_NORM_EPS, rel_tol=1e-6):
        raise ModelLoadError(f"layer_norm_eps {eps:g} is not supported (edgekit's BERT layers use {LAYER_NORM_EPS:g})")
    position = config.get("position_embedding_type", "absolute")
    if position != "absolute":
        raise ModelLoadError(f"position_embedding_type {position!r} is not supported (only absolute)")


def bert_like_extras(family_config: dict) -> dict:
    """What :func:`check_bert_like` reads, and the attention dropout, as BERT and ELECTRA configs spell them."""
    return {"layer_norm_eps": LAYER_NORM_EPS, "position_embedding_type": "absolute",
            "attention_probs_dropout_prob": family_config["backbone"]["dropout"]}


# ------------------------------------------------------------------------------ weights
@dataclass(frozen=True)
class LayerKeys:
    """Checkpoint names of one transformer layer's parts (``{i}`` is the layer index)."""

    query: str
    key: str
    value: str
    attention_output: str
    attention_norm: str
    intermediate: str
    output: str
    output_norm: str


BERT_LAYER = LayerKeys(
    query="encoder.layer.{i}.attention.self.query", key="encoder.layer.{i}.attention.self.key",
    value="encoder.layer.{i}.attention.self.value", attention_output="encoder.layer.{i}.attention.output.dense",
    attention_norm="encoder.layer.{i}.attention.output.LayerNorm", intermediate="encoder.layer.{i}.intermediate.dense",
    output="encoder.layer.{i}.output.dense", output_norm="encoder.layer.{i}.output.LayerNorm")


def dense_ports(layer, key: str, kernel_layout: str = "dense", bias_layout: str = "same") -> list[Port]:
    return [Port(layer.kernel, f"{key}.weight", kernel_layout), Port(layer.bias, f"{key}.bias", bias_layout)]


def norm_ports(layer, key: str) -> list[Port]:
    return [Port(layer.gamma, f"{key}.weight"), Port(layer.beta, f"{key}.bias")]


def encoder_ports(backbone, names: LayerKeys) -> list[Port]:
    """Every transformer layer of a keras-hub BERT backbone (attention, its norm, feed-forward, its norm)."""
    ports: list[Port] = []
    for i, block in enumerate(backbone.transformer_layers):
        attention = block._self_attention_layer  # noqa: SLF001 (keras-hub keeps its sublayers private)
        k = {field: getattr(names, field).format(i=i) for field in names.__dataclass_fields__}
        ports += dense_ports(attention.query_dense, k["query"], "heads_in", "bias")
        ports += dense_ports(attention.key_dense, k["key"], "heads_in", "bias")
        ports += dense_ports(attention.value_dense, k["value"], "heads_in", "bias")
        ports += dense_ports(attention.output_dense, k["attention_output"], "heads_out")
        ports += norm_ports(block._self_attention_layer_norm, k["attention_norm"])  # noqa: SLF001
        ports += dense_ports(block._feedforward_intermediate_dense, k["intermediate"])  # noqa: SLF001
        ports += dense_ports(block._feedforward_output_dense, k["output"])  # noqa: SLF001
        ports += norm_ports(block._feedforward_layer_norm, k["output_norm"])  # noqa: SLF001
    return ports


def embedding_ports(backbone, with_segments: bool = True) -> list[Port]:
    """Word, position and token-type (zeros ``with_segments=False``) embeddings and their LayerNorm."""
    segments = "embeddings.token_type_embeddings.weight" if with_segments else None
    return [Port(backbone.get_layer("token_embedding").embeddings, "embeddings.word_embeddings.weight"),
            Port(backbone.get_layer("position_embedding").position_embeddings, "embeddings.position_embeddings.weight"),
            Port(backbone.get_layer("segment_embedding").embeddings, segments),
            *norm_ports(backbone.get_layer("embeddings_layer_norm"), "embeddings.LayerNorm")]
