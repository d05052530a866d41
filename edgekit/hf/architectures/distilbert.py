"""``DistilBertForSequenceClassification`` ↔ the BERT family: the same math with two settings.

DistilBERT is BERT without token-type embeddings and with ``pre_classifier`` + ReLU where BERT has its
tanh pooler. A zero segment table adds exactly nothing, and the BERT family's ``pooler_activation:
relu`` makes its pooler the pre-classifier; the layers (post-norm attention and feed-forward, LayerNorm
epsilon 1e-12, 1/sqrt(head_dim) scaling) are BERT's under other names. So a DistilBERT checkpoint
becomes an ordinary BERT-family model directory: students, exporter and Android assets take it as they are.

On export the model's segment-0 row (which training may have moved off zero; edgekit feeds segment 0
only) is added into the position table, where DistilBERT's embeddings sum it for every token.
"""

from __future__ import annotations

import numpy as np

from .base import (Architecture, ConfigKey, LayerKeys, Port, dense_ports, embedding_ports, encoder_ports,
                   family_config_from, hf_config_from)

POOLER = "relu"
POSITIONS = "embeddings.position_embeddings.weight"
DISTILBERT_KEYS = (
    ConfigKey("vocabulary_size", ("vocab_size",)),
    ConfigKey("num_layers", ("n_layers", "num_hidden_layers")),
    ConfigKey("num_heads", ("n_heads", "num_attention_heads")),
    ConfigKey("hidden_dim", ("dim", "hidden_size")),
    ConfigKey("intermediate_dim", ("hidden_dim", "intermediate_size")),
    ConfigKey("max_sequence_length", ("max_position_embeddings",)),
    ConfigKey("num_segments", (), 2),  # no token types
    ConfigKey("dropout", ("dropout",), 0.1),
    ConfigKey("head_dropout", ("seq_classif_dropout",), None),
    ConfigKey("hidden_act", ("activation", "hidden_act")),
)
DISTILBERT_LAYER = LayerKeys(
    query="transformer.layer.{i}.attention.q_lin", key="transformer.layer.{i}.attention.k_lin",
    value="transformer.layer.{i}.attention.v_lin", attention_output="transformer.layer.{i}.attention.out_lin",
    attention_norm="transformer.layer.{i}.sa_layer_norm", intermediate="transformer.layer.{i}.ffn.lin1",
    output="transformer.layer.{i}.ffn.lin2", output_norm="transformer.layer.{i}.output_layer_norm")


def family_config(config: dict, num_labels: int) -> dict:
    return family_config_from(config, DISTILBERT_KEYS, num_labels, POOLER)


def hf_config(family_config: dict) -> dict:
    return {**hf_config_from(family_config, DISTILBERT_KEYS), "attention_dropout": family_config["backbone"]["dropout"],
            "sinusoidal_pos_embds": False}


def ports(model) -> list[Port]:
    b = model.backbone
    # no token types: a zero segment table adds nothing
    return (embedding_ports(b, with_segments=False) + encoder_ports(b, DISTILBERT_LAYER)
            + dense_ports(b.get_layer("pooled_dense"), "pre_classifier")
            + dense_ports(model.output_dense, "classifier"))


def fold_segments(model, tensors: dict[str, np.ndarray]) -> None:
    segment_0 = np.asarray(model.backbone.get_layer("segment_embedding").embeddings.numpy()[0], np.float32)
    tensors[POSITIONS] = tensors[POSITIONS] + segment_0


ARCHITECTURE = Architecture(name="DistilBertForSequenceClassification", model_type="distilbert", prefix="distilbert.",
                            head=("pre_classifier.", "classifier."), family="bert", pooler_activation=POOLER,
                            family_config=family_config, hf_config=hf_config, ports=ports,
                            fold_on_export=fold_segments)
