"""The BiLSTM student family: WordPiece-id embedding → dropout → BiLSTM → dropout → dense logits.

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

``build(config)`` gives the training model (any length; Keras 3 turns the LSTM into a WHILE loop).
``build(config, sequence_length=L)`` gives the same architecture at a fixed length with
``LSTM(unroll=True)``: no loop, so it converts to TFLite in every mode including full int8
(DESIGN §3). Both have the same weight layout: ``fixed.set_weights(model.get_weights())`` works.
"""

from __future__ import annotations

from typing import Any

from .registry import register_family

DEFAULTS: dict[str, Any] = {
    "vocabulary_size": 30522,
    "embedding_dim": 64,
    "lstm_units": 128,
    "dropout": 0.5,
    "num_classes": 3,
}


def bilstm_param_count(vocabulary_size: int, embedding_dim: int, lstm_units: int, num_classes: int) -> int:
    """Closed-form parameter count (the docstring's arithmetic)."""
    lstm = 2 * 4 * (lstm_units * (embedding_dim + lstm_units) + lstm_units)
    return vocabulary_size * embedding_dim + lstm + (2 * lstm_units + 1) * num_classes


class BiLSTMFamily:
    name = "bilstm"

    def build(self, config: dict[str, Any], sequence_length: int | None = None):
        import keras

        c = {**DEFAULTS, **config}
        shape = (sequence_length,) if sequence_length else (None,)
        inputs = {k: keras.Input(shape=shape, dtype="int32", name=k)
                  for k in ("token_ids", "padding_mask", "segment_ids")}
        mask = keras.ops.not_equal(inputs["padding_mask"], 0)
        x = keras.layers.Embedding(int(c["vocabulary_size"]), int(c["embedding_dim"]), name="embedding")(
            inputs["token_ids"])
        x = keras.layers.Dropout(float(c["dropout"]), name="embedding_dropout")(x)
        lstm = keras.layers.LSTM(int(c["lstm_units"]), unroll=sequence_length is not None, name="lstm")
        x = keras.layers.Bidirectional(lstm, merge_mode="concat", name="bilstm")(x, mask=mask)
        x = keras.layers.Dropout(float(c["dropout"]), name="output_dropout")(x)
        logits = keras.layers.Dense(int(c["num_classes"]), name="logits")(x)
        model = keras.Model(inputs=inputs, outputs=logits, name="bilstm_classifier")
        model._edgekit_config = dict(c)  # what config_of returns (functional models keep no such record)
        return model

    def config_of(self, model) -> dict[str, Any]:
        emb = model.get_layer("embedding")
        bi = model.get_layer("bilstm")
        return {
            "vocabulary_size": int(emb.input_dim),
            "embedding_dim": int(emb.output_dim),
            "lstm_units": int(bi.forward_layer.units),
            "dropout": float(model.get_layer("embedding_dropout").rate),
            "num_classes": int(model.get_layer("logits").units),
        }

    def describe(self, model) -> dict[str, Any]:
        c = self.config_of(model)
        return {"embedding_dim": c["embedding_dim"], "lstm_units": c["lstm_units"],
                "vocabulary_size": c["vocabulary_size"], "params": int(model.count_params())}

    def fresh(self, vocabulary_size: int, num_classes: int, **overrides):
        """A new randomly initialised student over a vocabulary of the given size."""
        return self.build({**DEFAULTS, **overrides, "vocabulary_size": vocabulary_size, "num_classes": num_classes})


BILSTM = register_family(BiLSTMFamily())
