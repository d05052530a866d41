"""``ElectraForSequenceClassification`` → the BERT family when the embeddings are as wide as the layers.

ELECTRA's discriminator is BERT's encoder; its head reads the [CLS] state through ``dense`` + exact GELU
(where BERT has its tanh pooler) and ``out_proj``: the BERT family with ``pooler_activation: gelu``.
ELECTRA-small's embeddings are narrower than its layers (``embedding_size`` < ``hidden_size``, joined by
a projection keras-hub's BertBackbone has no place for): refused with one line.
"""

from __future__ import annotations

from ...errors import ModelLoadError
from .base import (BERT_LAYER, Architecture, Port, bert_family_config, check_bert_like, dense_ports,
                   embedding_ports, encoder_ports, hidden_act, need)


def family_config(config: dict, num_labels: int) -> dict:
    check_bert_like(config)
    hidden = need(config, "hidden_size")
    embedding = config.get("embedding_size", hidden)
    if embedding != hidden:
        raise ModelLoadError(f"ELECTRA with embedding_size {embedding} != hidden_size {hidden} (a projected "
                             "embedding, as in electra-small) is not supported yet")
    return bert_family_config(
        vocab_size=need(config, "vocab_size"), layers=need(config, "num_hidden_layers"),
        heads=need(config, "num_attention_heads"), hidden=hidden, intermediate=need(config, "intermediate_size"),
        max_positions=need(config, "max_position_embeddings"), segments=config.get("type_vocab_size", 2),
        num_labels=num_labels, dropout=config.get("hidden_dropout_prob", 0.1),
        hidden_act=hidden_act(config, "hidden_act"), pooler_activation="gelu")


def ports(model) -> list[Port]:
    b = model.backbone
    return (embedding_ports(b) + encoder_ports(b, BERT_LAYER)
            + dense_ports(b.get_layer("pooled_dense"), "classifier.dense")
            + dense_ports(model.output_dense, "classifier.out_proj"))


ARCHITECTURE = Architecture(name="ElectraForSequenceClassification", model_type="electra", prefix="electra.",
                            family="bert", family_config=family_config, ports=ports)
