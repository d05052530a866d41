"""``BertForSequenceClassification`` → the BERT family, one to one (pooler + tanh, classifier).

The BERT family computes the checkpoint's ``hidden_act`` (exact GELU for PyTorch-trained BERTs). Keys
with and without the ``bert.`` prefix and both LayerNorm spellings are read (:mod:`..checkpoint`).
"""

from __future__ import annotations

from .base import (BERT_LAYER, Architecture, Port, bert_family_config, check_bert_like, dense_ports,
                   embedding_ports, encoder_ports, hidden_act, need)


def family_config(config: dict, num_labels: int) -> dict:
    check_bert_like(config)
    return bert_family_config(
        vocab_size=need(config, "vocab_size"), layers=need(config, "num_hidden_layers"),
        heads=need(config, "num_attention_heads"), hidden=need(config, "hidden_size"),
        intermediate=need(config, "intermediate_size"), max_positions=need(config, "max_position_embeddings"),
        segments=config.get("type_vocab_size", 2), num_labels=num_labels,
        dropout=config.get("hidden_dropout_prob", 0.1), hidden_act=hidden_act(config, "hidden_act"),
        pooler_activation="tanh")


def ports(model) -> list[Port]:
    b = model.backbone
    return (embedding_ports(b) + encoder_ports(b, BERT_LAYER) + dense_ports(b.get_layer("pooled_dense"), "pooler.dense")
            + dense_ports(model.output_dense, "classifier"))


ARCHITECTURE = Architecture(name="BertForSequenceClassification", model_type="bert", prefix="bert.", family="bert",
                            family_config=family_config, ports=ports)
