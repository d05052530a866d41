"""What an architecture mapping is, and the pieces BERT-like mappings share.

An :class:`Architecture` turns a Hugging Face ``config.json`` into an edgekit family config and lists,
for a model built from that config, which checkpoint tensor fills which Keras variable
(:class:`Port`). :func:`load_weights` checks every shape against the config before any variable is
assigned, then checks that no tensor was left over.

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
    """Keras ``variable`` ← checkpoint tensor ``key`` in ``layout`` (a key of :data:`LAYOUTS`); ``key`` None:
    zeros (a part the Hugging Face architecture lacks)."""

    variable: Any
    key: str | None
    layout: str = "same"


def _prod(dims) -> int:
    return int(math.prod(dims))


# layout → (the checkpoint shape a Keras variable shape implies, checkpoint array → Keras array)
LAYOUTS: dict[str, tuple[Callable[[tuple], tuple], Callable[[np.ndarray, tuple], np.ndarray]]] = {
    "same": (lambda s: s, lambda a, s: a),
    "dense": (lambda s: (s[1], s[0]), lambda a, s: a.T),
    "heads_in": (lambda s: (_prod(s[1:]), s[0]), lambda a, s: a.T.reshape(s)),
    "heads_out": (lambda s: (s[2], _prod(s[:2])), lambda a, s: a.T.reshape(s)),
    "bias": (lambda s: (_prod(s),), lambda a, s: a.reshape(s)),
}


@dataclass(frozen=True)
class Architecture:
    name: str  # the ``architectures`` entry of config.json
    model_type: str
    prefix: str  # the backbone's key prefix in a task checkpoint
    family: str  # the edgekit family the checkpoint maps onto
    family_config: Callable[[dict, int], dict]  # (config.json, number of labels) → family config
    ports: Callable[[Any], list[Port]]  # built model → what fills what


def load_weights(ports: list[Port], checkpoint: Checkpoint) -> None:
    arrays = []
    for port in ports:
        shape = tuple(int(d) for d in port.variable.shape)
        if port.key is None:
            arrays.append(np.zeros(shape, np.float32))
            continue
        hf_shape, convert = LAYOUTS[port.layout]
        arrays.append(convert(checkpoint.take(port.key, hf_shape(shape)), shape))
    left = checkpoint.unused()
    if left:
        shown = ", ".join(left[:3]) + (f" and {len(left) - 3} more" if len(left) > 3 else "")
        raise ModelLoadError(f"{checkpoint.name} holds tensors config.json does not account for ({shown}): "
                             "more layers than num_hidden_layers, or another architecture")
    for port, array in zip(ports, arrays):
        port.variable.assign(array)


# ------------------------------------------------------------------------------ config.json
def need(config: dict, *keys: str) -> Any:
    """The first of ``keys`` config.json has (architectures rename some); one line if none."""
    for key in keys:
        if key in config:
            return config[key]
    raise ModelLoadError(f"config.json lacks {keys[0]!r}")


# Hugging Face hidden_act → the BERT family's. gelu_new / gelu_pytorch_tanh are the tanh approximation.
HIDDEN_ACTS = {"gelu": "gelu", "gelu_new": "gelu_approximate", "gelu_pytorch_tanh": "gelu_approximate"}
# keras-hub's BERT layers fix these
LAYER_NORM_EPS = 1e-12


def hidden_act(config: dict, *keys: str) -> str:
    act = need(config, *keys)
    if act not in HIDDEN_ACTS:
        raise ModelLoadError(f"{keys[0]} {act!r} is not supported (supported: {', '.join(HIDDEN_ACTS)})")
    return HIDDEN_ACTS[act]


def check_bert_like(config: dict) -> None:
    """What keras-hub's BERT layers cannot express: another LayerNorm epsilon, relative positions."""
    eps = float(config.get("layer_norm_eps", LAYER_NORM_EPS))
    if not math.isclose(eps, LAYER_NORM_EPS, rel_tol=1e-6):
        raise ModelLoadError(f"layer_norm_eps {eps:g} is not supported (edgekit's BERT layers use {LAYER_NORM_EPS:g})")
    position = config.get("position_embedding_type", "absolute")
    if position != "absolute":
        raise ModelLoadError(f"position_embedding_type {position!r} is not supported (only absolute)")


def bert_family_config(*, vocab_size: int, layers: int, heads: int, hidden: int, intermediate: int,
                       max_positions: int, segments: int, num_labels: int, dropout: float, hidden_act: str,
                       pooler_activation: str) -> dict:
    if hidden % heads:
        raise ModelLoadError(f"hidden size {hidden} is not a multiple of the {heads} attention heads")
    return {
        "backbone": {"vocabulary_size": int(vocab_size), "num_layers": int(layers), "num_heads": int(heads),
                     "hidden_dim": int(hidden), "intermediate_dim": int(intermediate), "dropout": float(dropout),
                     "max_sequence_length": int(max_positions), "num_segments": int(segments)},
        "num_classes": int(num_labels),
        "dropout": float(dropout),
        "hidden_act": hidden_act,
        "pooler_activation": pooler_activation,
    }


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
