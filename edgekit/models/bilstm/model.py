"""The BiLSTM student family's architecture: WordPiece-id embedding → dropout → BiLSTM → dropout → dense logits.

The default is the reference study's architecture: embedding width 64 over the teacher's WordPiece
vocabulary (so a device needs one tokenizer for teacher and students), dropout 0.5, one
bidirectional LSTM with 128 units per direction (final states of both directions concatenated),
dropout 0.5 and a dense layer to the labels. With the 30522-token uncased BERT vocabulary and
3 labels that is

    embedding  30522 × 64                          = 1 953 408
    LSTM       2 × 4 × (128 × (64 + 128) + 128)    =   197 632   (kernel, recurrent kernel, bias)
    dense      256 × 3 + 3                         =       771
    total                                            2 151 811   (≈ 2.15 M, 91 % of it the embedding)

Inputs are the family contract's dict (``token_ids``, ``padding_mask``, ``segment_ids``, int32
``[batch, length]``). ``padding_mask`` masks the recurrence (padded steps keep the state, so the
logits do not depend on how much padding a batch carries); ``segment_ids`` is accepted and unused.

``pooling`` chooses the sentence vector the dense layer reads: ``final`` (default, the reference
study's) the last state of each direction; ``max`` / ``mean`` the per-token states of both
directions pooled over the real tokens (the LSTM then returns sequences; no extra parameters).

``build(config)`` gives the training model (any length; Keras 3 turns the LSTM into a WHILE loop).
``build(config, sequence_length=L)`` gives the same architecture at a fixed length with
``LSTM(unroll=True)``: no loop, so it converts to TFLite in every mode including full int8
(docs/toolchain.md §3). Both have the same weight layout: ``fixed.set_weights(model.get_weights())`` works.
"""

from __future__ import annotations

from typing import Any

from ...errors import EdgekitError

DEFAULTS: dict[str, Any] = {
    "vocabulary_size": 30522,
    "embedding_dim": 64,
    "lstm_units": 128,
    "dropout": 0.5,
    "num_classes": 3,
    "pooling": "final",
}


def _masked_max(states, keep):
    """Max over the real tokens. LSTM outputs lie in (-1, 1), so -1 at padded steps never wins and keeps
    the tensor's range (and a full-int8 file's scale) what it is at real steps."""
    import keras

    return keras.ops.max(keras.ops.where(keras.ops.expand_dims(keep, -1), states, -1.0), axis=1)


def _masked_mean(states, keep):
    import keras

    weights = keras.ops.expand_dims(keras.ops.cast(keep, states.dtype), -1)
    return keras.ops.sum(states * weights, axis=1) / keras.ops.maximum(keras.ops.sum(weights, axis=1), 1.0)


# How the per-token states become the sentence vector. "final" (the reference study's readout) is the
# Bidirectional layer's own output, the last state of each direction; the others pool the per-token states
# of both directions over the real tokens. Same parameters either way.
SEQUENCE_POOLINGS = {"max": _masked_max, "mean": _masked_mean}
POOLINGS = ("final", *SEQUENCE_POOLINGS)


def check_pooling(pooling: str) -> None:
    if pooling not in POOLINGS:
        raise EdgekitError(f"unknown BiLSTM pooling {pooling!r}; known: {', '.join(POOLINGS)}")


def pool_states(states, keep, pooling: str):
    """``states`` [B, L, 2·units] (both directions, time-aligned), ``keep`` bool [B, L] → [B, 2·units]."""
    return SEQUENCE_POOLINGS[pooling](states, keep)


def _pooling_layer(mode: str):
    """A named, weightless layer (so ``config_of`` can read the pooling back from a built model)."""
    import keras

    class SequencePooling(keras.layers.Layer):
        def __init__(self, mode: str, **kwargs):
            super().__init__(**kwargs)
            self.mode = mode

        def call(self, states, keep, mask=None):  # ``keep`` is the padding mask; the Keras mask stops here
            return pool_states(states, keep, self.mode)

        def compute_mask(self, inputs, mask=None):
            return None

        def compute_output_shape(self, states_shape, keep_shape=None):
            return (states_shape[0], states_shape[-1])

        def get_config(self):
            return {**super().get_config(), "mode": self.mode}

    return SequencePooling(mode, name="pooling")


def bilstm_param_count(vocabulary_size: int, embedding_dim: int, lstm_units: int, num_classes: int) -> int:
    """Closed-form parameter count (the docstring's arithmetic)."""
    lstm = 2 * 4 * (lstm_units * (embedding_dim + lstm_units) + lstm_units)
    return vocabulary_size * embedding_dim + lstm + (2 * lstm_units + 1) * num_classes


def build(config: dict[str, Any], sequence_length: int | None = None):
    import keras

    c = {**DEFAULTS, **config}
    shape = (sequence_length,) if sequence_length else (None,)
    inputs = {k: keras.Input(shape=shape, dtype="int32", name=k)
              for k in ("token_ids", "padding_mask", "segment_ids")}
    mask = keras.ops.not_equal(inputs["padding_mask"], 0)
    x = keras.layers.Embedding(int(c["vocabulary_size"]), int(c["embedding_dim"]), name="embedding")(
        inputs["token_ids"])
    x = keras.layers.Dropout(float(c["dropout"]), name="embedding_dropout")(x)
    pooling = str(c["pooling"])
    check_pooling(pooling)
    lstm = keras.layers.LSTM(int(c["lstm_units"]), unroll=sequence_length is not None,
                             return_sequences=pooling != "final", name="lstm")
    bilstm = keras.layers.Bidirectional(lstm, merge_mode="concat", name="bilstm")
    for direction in (bilstm.forward_layer, bilstm.backward_layer):
        # Bidirectional forces zeros at padded steps of returned sequences; Keras's unrolled loop applies
        # that with the mask in the wrong time order for the backward direction (zeroing real steps). The
        # pooling masks padded steps itself, so the zeroing is not needed.
        direction.zero_output_for_mask = False
    x = bilstm(x, mask=mask)
    if pooling != "final":
        x = _pooling_layer(pooling)(x, mask)
    x = keras.layers.Dropout(float(c["dropout"]), name="output_dropout")(x)
    logits = keras.layers.Dense(int(c["num_classes"]), name="logits")(x)
    return keras.Model(inputs=inputs, outputs=logits, name="bilstm_classifier")


def config_of(model) -> dict[str, Any]:
    emb = model.get_layer("embedding")
    bi = model.get_layer("bilstm")
    return {
        "vocabulary_size": int(emb.input_dim),
        "embedding_dim": int(emb.output_dim),
        "lstm_units": int(bi.forward_layer.units),
        "dropout": float(model.get_layer("embedding_dropout").rate),
        "num_classes": int(model.get_layer("logits").units),
        "pooling": next((layer.mode for layer in model.layers if layer.name == "pooling"), "final"),
    }


def describe(model) -> dict[str, Any]:
    c = config_of(model)
    return {"embedding_dim": c["embedding_dim"], "lstm_units": c["lstm_units"],
            "vocabulary_size": c["vocabulary_size"], "params": int(model.count_params())}
