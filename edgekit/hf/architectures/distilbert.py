"""``DistilBertForSequenceClassification`` → the BERT family: the same math with two settings.

DistilBERT is BERT without token-type embeddings and with ``pre_classifier`` + ReLU where BERT has its
tanh pooler. A zero segment table adds exactly nothing, and the BERT family's ``pooler_activation:
relu`` makes its pooler the pre-classifier; the layers (post-norm attention and feed-forward, LayerNorm
epsilon 1e-12, 1/sqrt(head_dim) scaling) are BERT's under other names. So a DistilBERT checkpoint
becomes an ordinary BERT-family model directory: students, exporter and Android assets take it as they are.
"""

from __future__ import annotations

from .base import (Architecture, LayerKeys, Port, bert_family_config, dense_ports, embedding_ports, encoder_ports,
                   hidden_act, need)

DISTILBERT_LAYER = LayerKeys(
    query="transformer.layer.{i}.attention.q_lin", key="transformer.layer.{i}.attention.k_lin",
    value="transformer.layer.{i}.attention.v_lin", attention_output="transformer.layer.{i}.attention.out_lin",
    attention_norm="transformer.layer.{i}.sa_layer_norm", intermediate="transformer.layer.{i}.ffn.lin1",
    output="transformer.layer.{i}.ffn.lin2", output_norm="transformer.layer.{i}.output_layer_norm")


def family_config(config: dict, num_labels: int) -> dict:
    return bert_family_config(
        vocab_size=need(config, "vocab_size"), layers=need(config, "n_layers", "num_hidden_layers"),
        heads=need(config, "n_heads", "num_attention_heads"), hidden=need(config, "dim", "hidden_size"),
        intermediate=need(config, "hidden_dim", "intermediate_size"),
        max_positions=need(config, "max_position_embeddings"), segments=2, num_labels=num_labels,
        dropout=config.get("dropout", 0.1), hidden_act=hidden_act(config, "activation", "hidden_act"),
        pooler_activation="relu")


def ports(model) -> list[Port]:
    b = model.backbone
    # no token types: a zero segment table adds nothing
    return (embedding_ports(b, with_segments=False) + encoder_ports(b, DISTILBERT_LAYER)
            + dense_ports(b.get_layer("pooled_dense"), "pre_classifier")
            + dense_ports(model.output_dense, "classifier"))


ARCHITECTURE = Architecture(name="DistilBertForSequenceClassification", model_type="distilbert", prefix="distilbert.",
                            family="bert", family_config=family_config, ports=ports)
