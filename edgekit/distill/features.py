"""Intermediate outputs of a model for feature losses: a forward function per family (a registry).

``feature_forward(model, family, wanted)`` returns ``fn(inputs, training) -> dict`` with ``logits``
and, when asked, ``embeddings`` (the embedding block's output after its layer norm, ``[B, L, H]``)
and ``hidden`` (a list with the output of every transformer layer, ``[B, L, H]`` each; the BiLSTM's
one entry is its per-token states through a hint projection to the teacher's width) and ``sentence``
(the vector the classifier head reads, ``[B, D]``: BERT's pooled output, the BiLSTM's concatenated
final states). The function shares the model's variables, so gradients through it train the model
itself.
"""

from __future__ import annotations

from typing import Any, Callable

from ..errors import EdgekitError

Forward = Callable[[dict, bool], dict[str, Any]]


def _bert_forward(model, wanted: set[str], teacher_width: int | None = None) -> Forward:
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


def _bilstm_forward(model, wanted: set[str], teacher_width: int | None = None) -> Forward:
    """The BiLSTM with its final and (for ``hidden``) per-token states exposed, in one recurrence.

    Each direction's LSTM cell runs as a sequence-returning RNN (the model's own cells, so the same
    variables). Masked steps repeat the previous output, so the last step of each direction is its
    final state: the forward's last output and the backward's (which ran from the end) are exactly
    what the model's Bidirectional layer concatenates (``sentence``; the logits are the model's). With a
    ``pooling`` other than ``final`` the sentence vector is the model's pooling of the per-token states.
    ``hidden`` is ``[hint(states)]``: the per-token ``[B, L, 2·units]`` states through a linear *hint
    projection* to the teacher's width (FitNets' regressor; TinyBERT's W_h), trained with the student
    (the forward's ``extra_variables``) and dropped after training.
    """
    import keras

    from ..models.bilstm import BILSTM, pool_states

    pooling = BILSTM.config_of(model)["pooling"]
    bi = model.get_layer("bilstm")
    directions = [keras.layers.RNN(layer.cell, return_sequences=True, go_backwards=layer.go_backwards,
                                   name=f"{layer.name}_sequence") for layer in (bi.forward_layer, bi.backward_layer)]
    hint = None
    if "hidden" in wanted:
        if not teacher_width:
            raise EdgekitError("the BiLSTM's hidden-state losses need the teacher's width for the hint projection")
        hint = keras.layers.Dense(int(teacher_width), name="hint_projection")
        hint.build((None, None, 2 * bi.forward_layer.units))
    embed, embed_drop = model.get_layer("embedding"), model.get_layer("embedding_dropout")
    out_drop, dense = model.get_layer("output_dropout"), model.get_layer("logits")

    def forward(inputs: dict, training: bool = False) -> dict[str, Any]:
        mask = keras.ops.not_equal(inputs["padding_mask"], 0)
        x = embed_drop(embed(inputs["token_ids"]), training=training)
        fwd, bwd = (rnn(x, mask=mask, training=training) for rnn in directions)
        states = None  # the per-token states of both directions, time-aligned: only when something reads them
        if hint is not None or pooling != "final":
            states = keras.ops.concatenate([fwd, keras.ops.flip(bwd, axis=1)], axis=-1)
        if pooling == "final":
            sentence = keras.ops.concatenate([fwd[:, -1], bwd[:, -1]], axis=-1)
        else:
            sentence = pool_states(states, mask, pooling)
        result = {"logits": dense(out_drop(sentence, training=training))}
        if "sentence" in wanted:
            result["sentence"] = sentence
        if hint is not None:
            result["hidden"] = [hint(states)]
        return result

    forward.extra_variables = hint.trainable_variables if hint is not None else []  # type: ignore[attr-defined]
    return forward


FORWARDS: dict[str, Callable[..., Forward]] = {"bert": _bert_forward, "bilstm": _bilstm_forward}
# What each family can expose for losses. The BiLSTM has one "hidden layer" (its per-token states,
# through the hint projection); its 64-wide embeddings have no counterpart of the teacher's.
FEATURES: dict[str, set[str]] = {"bert": {"logits", "hidden", "embeddings", "sentence"},
                                 "bilstm": {"logits", "hidden", "sentence"}}


def check_features(family: str, wanted: set[str] | frozenset[str]) -> None:
    missing = set(wanted) - FEATURES.get(family, {"logits"})
    if missing:
        raise EdgekitError(f"the {family} student has no {'/'.join(sorted(missing))} comparable to the teacher's; "
                           "use logit losses (hard, kl, logit_mse), similarity or hidden-state losses for it")


def feature_forward(model, family: str, wanted: set[str] | frozenset[str], teacher_width: int | None = None) -> Forward:
    """The family's forward; ``teacher_width`` sizes a student's projection to the teacher where one is needed.

    A forward may carry ``extra_variables``: trainable variables of its own (the BiLSTM's hint
    projection) that the training loop trains with the model's and that are not saved with it.
    """
    if family not in FORWARDS:
        raise EdgekitError(f"no feature extraction for model family {family!r}")
    check_features(family, wanted)
    return FORWARDS[family](model, set(wanted), teacher_width)
