"""``BertForSequenceClassification`` ↔ the BERT family, one to one (pooler + tanh, classifier).

The BERT family computes the checkpoint's ``hidden_act`` (exact GELU for PyTorch-trained BERTs). Keys
with and without the ``bert.`` prefix and both LayerNorm spellings are read (:mod:`..checkpoint`);
export writes the current spelling, with the prefix.
"""

from __future__ import annotations

from .base import (BERT_KEYS, BERT_LAYER, Architecture, Port, bert_like_extras, check_bert_like, dense_ports,
                   embedding_ports, encoder_ports, family_config_from, hf_config_from)

POOLER = "tanh"


def family_config(config: dict, num_labels: int) -> dict:
    check_bert_like(config)
    return family_config_from(config, BERT_KEYS, num_labels, POOLER)


def hf_config(family_config: dict) -> dict:
    return {**hf_config_from(family_config, BERT_KEYS), **bert_like_extras(family_config)}


def ports(model) -> list[Port]:
    b = model.backbone
    return (embedding_ports(b) + encoder_ports(b, BERT_LAYER) + dense_ports(b.get_layer("pooled_dense"), "pooler.dense")
            + dense_ports(model.output_dense, "classifier"))


ARCHITECTURE = Architecture(name="BertForSequenceClassification", model_type="bert", prefix="bert.",
                            head=("classifier.",), family="bert", pooler_activation=POOLER,
                            family_config=family_config, hf_config=hf_config, ports=ports)
