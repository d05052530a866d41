"""``ElectraForSequenceClassification`` ↔ the BERT family.

ELECTRA's discriminator is BERT's encoder; its head reads the [CLS] state through ``dense`` + exact GELU
(where BERT has its tanh pooler) and ``out_proj``: the BERT family with ``pooler_activation: gelu``.
ELECTRA-small's embeddings are narrower than its layers (``embedding_size`` < ``hidden_size``, joined by
``embeddings_project``): the family's ``embedding_dim`` (keras-hub's ``ElectraBackbone`` with its
``embeddings_projection``).
"""

from __future__ import annotations

from ...errors import ModelLoadError
from ...models.bert.model import EMBEDDING_DIM, embedding_dim, embedding_projection
from .base import (BERT_KEYS, BERT_LAYER, Architecture, Port, bert_like_extras, check_bert_like, dense_ports,
                   embedding_ports, encoder_ports, family_config_from, hf_config_from, need)

POOLER = "gelu"


def family_config(config: dict, num_labels: int) -> dict:
    check_bert_like(config)
    hidden = int(need(config, "hidden_size"))
    embedding = int(config.get("embedding_size", hidden))
    if not 0 < embedding <= hidden:
        raise ModelLoadError(f"ELECTRA with embedding_size {embedding} wider than hidden_size {hidden} is not "
                             "supported (the projection narrows, as in electra-small)")
    family = family_config_from(config, BERT_KEYS, num_labels, POOLER)
    if embedding != hidden:
        family["backbone"][EMBEDDING_DIM] = embedding
    return family


def hf_config(family_config: dict) -> dict:
    return {**hf_config_from(family_config, BERT_KEYS), "embedding_size": embedding_dim(family_config),
            **bert_like_extras(family_config)}


def ports(model) -> list[Port]:
    b = model.backbone
    layer = embedding_projection(b)
    projection = [] if layer is None else dense_ports(layer, "embeddings_project")
    return (embedding_ports(b) + projection + encoder_ports(b, BERT_LAYER)
            + dense_ports(b.get_layer("pooled_dense"), "classifier.dense")
            + dense_ports(model.output_dense, "classifier.out_proj"))


ARCHITECTURE = Architecture(name="ElectraForSequenceClassification", model_type="electra", prefix="electra.",
                            head=("classifier.",), family="bert", pooler_activation=POOLER,
                            family_config=family_config, hf_config=hf_config, ports=ports,
                            projects_embeddings=True)
