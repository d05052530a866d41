"""``ElectraForSequenceClassification`` ↔ the BERT family when the embeddings are as wide as the layers.

ELECTRA's discriminator is BERT's encoder; its head reads the [CLS] state through ``dense`` + exact GELU
(where BERT has its tanh pooler) and ``out_proj``: the BERT family with ``pooler_activation: gelu``.
ELECTRA-small's embeddings are narrower than its layers (``embedding_size`` < ``hidden_size``, joined by
a projection keras-hub's BertBackbone has no place for): refused with one line.
"""

from __future__ import annotations

from ...errors import ModelLoadError
from .base import (BERT_KEYS, BERT_LAYER, Architecture, Port, bert_like_extras, check_bert_like, dense_ports,
                   embedding_ports, encoder_ports, family_config_from, hf_config_from, need)

POOLER = "gelu"


def family_config(config: dict, num_labels: int) -> dict:
    check_bert_like(config)
    hidden = need(config, "hidden_size")
    embedding = config.get("embedding_size", hidden)
    if embedding != hidden:
        raise ModelLoadError(f"ELECTRA with embedding_size {embedding} != hidden_size {hidden} (a projected "
                             "embedding, as in electra-small) is not supported yet")
    return family_config_from(config, BERT_KEYS, num_labels, POOLER)


def hf_config(family_config: dict) -> dict:
    return {**hf_config_from(family_config, BERT_KEYS), "embedding_size": family_config["backbone"]["hidden_dim"],
            **bert_like_extras(family_config)}


def ports(model) -> list[Port]:
    b = model.backbone
    return (embedding_ports(b) + encoder_ports(b, BERT_LAYER)
            + dense_ports(b.get_layer("pooled_dense"), "classifier.dense")
            + dense_ports(model.output_dense, "classifier.out_proj"))


ARCHITECTURE = Architecture(name="ElectraForSequenceClassification", model_type="electra", prefix="electra.",
                            head=("classifier.",), family="bert", pooler_activation=POOLER,
                            family_config=family_config, hf_config=hf_config, ports=ports)
