"""The BiLSTM family's feature forward for distillation losses (see :mod:`edgekit.distill.features`)."""

from __future__ import annotations

from typing import Any, Callable

from ...errors import EdgekitError



def feature_forward(model, wanted: set[str], teacher_width: int | None = None) -> Callable[[dict, bool], dict]:
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

    from .model import config_of, pool_states

    pooling = config_of(model)["pooling"]
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
