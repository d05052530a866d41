"""Intermediate outputs of a model for feature losses: a forward function per family (a registry).

``feature_forward(model, family, wanted)`` returns ``fn(inputs, training) -> dict`` with ``logits``
and, when asked, ``embeddings`` (the embedding block's output after its layer norm, ``[B, L, H]``)
and ``hidden`` (a list with the output of every transformer layer, ``[B, L, H]`` each) and ``sentence``
(the vector the classifier head reads, ``[B, D]``: BERT's pooled output, the BiLSTM's concatenated
final states). The function shares the model's variables, so gradients through it train the model
itself.
"""

from __future__ import annotations

from typing import Any, Callable

from ..errors import EdgekitError

Forward = Callable[[dict, bool], dict[str, Any]]


def _bert_forward(model, wanted: set[str]) -> Forward:
    import keras

    b = model.backbone
    outputs: dict[str, Any] = {"pooled": b.output["pooled_output"]}
    if "embeddings" in wanted:
        outputs["embeddings"] = b.get_layer("embeddings_layer_norm").output
    if "hidden" in wanted:
        outputs.update({f"hidden_{i}": b.get_layer(f"transformer_layer_{i}").output for i in range(b.num_layers)})
    features = keras.Model(b.input, outputs, name="bert_features")
    n = b.num_layers

    def forward(inputs: dict, training: bool = False) -> dict[str, Any]:
        out = features(inputs, training=training)
        result = {"logits": model.output_dense(model.output_dropout(out["pooled"], training=training))}
        if "sentence" in wanted:
            result["sentence"] = out["pooled"]
        if "embeddings" in wanted:
            result["embeddings"] = out["embeddings"]
        if "hidden" in wanted:
            result["hidden"] = [out[f"hidden_{i}"] for i in range(n)]
        return result

    return forward


def _bilstm_forward(model, wanted: set[str]) -> Forward:
    import keras

    check_features("bilstm", wanted)
    outputs = {"logits": model.output}
    if "sentence" in wanted:
        outputs["sentence"] = model.get_layer("bilstm").output
    features = keras.Model(model.inputs, outputs, name="bilstm_features")

    def forward(inputs: dict, training: bool = False) -> dict[str, Any]:
        return features(inputs, training=training)

    return forward


FORWARDS: dict[str, Callable[[Any, set[str]], Forward]] = {"bert": _bert_forward, "bilstm": _bilstm_forward}
# What each family can expose for losses (the BiLSTM's 64-wide embeddings and 256-wide states have no
# per-token counterpart of the teacher's width: logit losses and the width-free sentence similarity).
FEATURES: dict[str, set[str]] = {"bert": {"logits", "hidden", "embeddings", "sentence"},
                                 "bilstm": {"logits", "sentence"}}


def check_features(family: str, wanted: set[str] | frozenset[str]) -> None:
    missing = set(wanted) - FEATURES.get(family, {"logits"})
    if missing:
        raise EdgekitError(f"the {family} student has no {'/'.join(sorted(missing))} comparable to the teacher's; "
                           "use logit losses (hard, kl, logit_mse) or similarity for it")


def feature_forward(model, family: str, wanted: set[str] | frozenset[str]) -> Forward:
    if family not in FORWARDS:
        raise EdgekitError(f"no feature extraction for model family {family!r}")
    return FORWARDS[family](model, set(wanted))
