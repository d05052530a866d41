"""Student families: BiLSTM architecture/parameters/fixed-length twin; shallow BERT copies exactly the chosen layers."""

from __future__ import annotations

import numpy as np
import pytest


def _inputs(rng, batch=3, length=12, real=(12, 7, 3)):
    ids = rng.integers(1000, 5000, (batch, length)).astype(np.int32)
    mask = np.zeros_like(ids)
    for i, n in enumerate(real):
        mask[i, :n] = 1
    ids = ids * mask
    return {"token_ids": ids, "padding_mask": mask, "segment_ids": np.zeros_like(ids)}


def test_bilstm_reference_architecture_has_2_151_811_parameters():
    from edgekit.models.bilstm import BILSTM, bilstm_param_count

    model = BILSTM.build({"vocabulary_size": 30522, "num_classes": 3})
    assert model.count_params() == bilstm_param_count(30522, 64, 128, 3) == 2_151_811
    assert 30522 * 64 + 2 * 4 * (128 * 192 + 128) + 257 * 3 == 2_151_811
    assert BILSTM.config_of(model) == {"vocabulary_size": 30522, "embedding_dim": 64, "lstm_units": 128,
                                       "dropout": 0.5, "num_classes": 3, "pooling": "final"}
    pooled = BILSTM.build({"vocabulary_size": 30522, "num_classes": 3, "pooling": "max"})
    assert pooled.count_params() == 2_151_811 and BILSTM.config_of(pooled)["pooling"] == "max"


@pytest.mark.parametrize("pooling", ["final", "max", "mean"])
def test_bilstm_fixed_length_twin_shares_weights_and_padding_does_not_change_logits(pooling):
    # for the pooled readouts this also holds Keras's unrolled backward sequence to the loop's (Bidirectional's
    # zeroing of padded steps used the mask in the wrong time order there and zeroed real steps)
    from edgekit.models.registry import get_family

    fam = get_family("bilstm")
    cfg = {"vocabulary_size": 6000, "embedding_dim": 8, "lstm_units": 6, "num_classes": 3, "pooling": pooling}
    model = fam.build(cfg)
    fixed = fam.build(fam.config_of(model), sequence_length=12)
    fixed.set_weights(model.get_weights())  # identical layout
    assert fixed.get_layer("bilstm").forward_layer.unroll and not model.get_layer("bilstm").forward_layer.unroll
    x = _inputs(np.random.default_rng(0))
    full = model(x, training=False).numpy()
    np.testing.assert_allclose(fixed(x, training=False).numpy(), full, atol=1e-5)
    trimmed = model({k: v[:, :7] for k, v in x.items()}, training=False).numpy()
    np.testing.assert_allclose(trimmed[1:], full[1:], atol=1e-5)  # rows whose sentence fits in 7 tokens
    seg = dict(x, segment_ids=np.ones_like(x["segment_ids"]))
    np.testing.assert_allclose(model(seg, training=False).numpy(), full, atol=1e-6)  # segment ids unused


@pytest.mark.parametrize("n,k,strategy,expected", [
    (6, 3, "first", [0, 1, 2]), (6, 3, "last", [3, 4, 5]), (6, 3, "skip", [1, 3, 5]), (6, 2, "skip", [2, 5]),
    (12, 4, "skip", [2, 5, 8, 11]), (6, 3, "truncate", [0, 1, 2]), (4, 4, "skip", [0, 1, 2, 3]),
])
def test_layer_strategies(n, k, strategy, expected):
    from edgekit.models.bert.student import select_layers

    assert select_layers(n, k, strategy) == expected


def test_student_spec_parsing_and_errors():
    from edgekit.distill.students import parse_student
    from edgekit.errors import EdgekitError

    assert parse_student("bert:layers=2,4,5").options == {"layers": [2, 4, 5]}
    assert parse_student("bert:layers=3,strategy=last").options == {"layers": 3, "strategy": "last"}
    assert parse_student("bilstm:lstm_units=64").options == {"lstm_units": 64}
    assert parse_student("bilstm:pooling=max").options == {"pooling": "max"}
    for bad in ("gpt", "bert:depth=3", "bert:layers=2,4,strategy=skip", "bilstm:layers=2", "bert:layers=x",
                "bilstm:embedding_init=glove", "bilstm:embedding_trainable=2", "bilstm:pooling=attention"):
        with pytest.raises(EdgekitError):
            parse_student(bad)


@pytest.fixture(scope="module")
def random_teacher():
    from edgekit.models.bert import BERT

    cfg = {"backbone": {"vocabulary_size": 6000, "num_layers": 4, "num_heads": 2, "hidden_dim": 32,
                        "intermediate_dim": 64, "dropout": 0.1, "max_sequence_length": 32, "num_segments": 2},
           "num_classes": 3, "dropout": 0.1}
    return BERT.build(cfg)


@pytest.mark.parametrize("spec,chosen", [("bert:layers=2,strategy=skip", [1, 3]), ("bert:layers=2,strategy=first", [0, 1]),
                                         ("bert:layers=3,strategy=last", [1, 2, 3]), ("bert:layers=3,0,2", [3, 0, 2])])
def test_shallow_bert_copies_exactly_the_chosen_teacher_weights(random_teacher, spec, chosen):
    from edgekit.distill.students import build_student
    from edgekit.models.bert.student import EMBEDDING_LAYERS

    student = build_student(spec, random_teacher, 3, 6000)
    assert student.teacher_layers == chosen
    tb, sb = random_teacher.backbone, student.model.backbone
    assert sb.num_layers == len(chosen) and sb.hidden_dim == tb.hidden_dim

    def same(a, b):
        wa, wb = a.get_weights(), b.get_weights()
        return len(wa) == len(wb) and all(np.array_equal(x, y) for x, y in zip(wa, wb))

    for name in EMBEDDING_LAYERS + ("pooled_dense",):
        assert same(tb.get_layer(name), sb.get_layer(name)), name
    for s, t in enumerate(chosen):
        assert same(tb.get_layer(f"transformer_layer_{t}"), sb.get_layer(f"transformer_layer_{s}"))
        others = [o for o in range(tb.num_layers) if o != t]
        assert not any(same(tb.get_layer(f"transformer_layer_{o}"), sb.get_layer(f"transformer_layer_{s}"))
                       for o in others)
    assert same(random_teacher.output_dense, student.model.output_dense)
    # with every layer in order, the student is the teacher: same logits
    x = _inputs(np.random.default_rng(1), length=10, real=(10, 6, 2))
    full = build_student("bert:layers=4,strategy=first", random_teacher, 3, 6000).model
    np.testing.assert_allclose(full(x, training=False).numpy(), random_teacher(x, training=False).numpy(), atol=1e-5)


def test_bert_feature_forward_matches_the_model_and_exposes_hidden_states(random_teacher):
    from edgekit.distill.features import feature_forward

    fwd = feature_forward(random_teacher, "bert", {"hidden", "embeddings"})
    x = _inputs(np.random.default_rng(2), length=10, real=(10, 6, 2))
    out = fwd(x, training=False)
    np.testing.assert_allclose(out["logits"].numpy(), random_teacher(x, training=False).numpy(), atol=1e-6)
    assert len(out["hidden"]) == 4 and tuple(out["hidden"][0].shape) == (3, 10, 32)
    assert tuple(out["embeddings"].shape) == (3, 10, 32)
    pooled = feature_forward(random_teacher, "bert", {"sentence"})(x, training=False)["sentence"]
    np.testing.assert_allclose(pooled.numpy(), random_teacher.backbone(x)["pooled_output"].numpy(), atol=1e-6)


def test_bilstm_feature_forward_exposes_its_final_states_and_trains_the_model():
    import keras
    import tensorflow as tf

    from edgekit.distill.features import feature_forward
    from edgekit.errors import EdgekitError
    from edgekit.models.bilstm import BILSTM

    model = BILSTM.build({"vocabulary_size": 6000, "embedding_dim": 8, "lstm_units": 6, "num_classes": 3})
    fwd = feature_forward(model, "bilstm", {"sentence"})
    x = _inputs(np.random.default_rng(3))
    out = fwd(x, training=False)
    np.testing.assert_allclose(out["logits"].numpy(), model(x, training=False).numpy(), atol=1e-6)
    states = keras.Model(model.inputs, model.get_layer("bilstm").output)(x).numpy()
    assert out["sentence"].shape == (3, 12) and np.allclose(out["sentence"].numpy(), states, atol=1e-6)
    with tf.GradientTape() as tape:  # the forward shares the model's variables
        loss = tf.reduce_sum(fwd(x, training=True)["sentence"])
    grads = tape.gradient(loss, model.trainable_variables)
    assert any(g is not None and float(tf.reduce_sum(tf.abs(g))) > 0 for g in grads)
    with pytest.raises(EdgekitError, match="no embeddings"):
        feature_forward(model, "bilstm", {"embeddings"})
    with pytest.raises(EdgekitError, match="teacher's width"):
        feature_forward(model, "bilstm", {"hidden"})


@pytest.mark.parametrize("pooling", ["max", "mean"])
def test_bilstm_pooling_reads_the_real_tokens_states(pooling):
    import keras

    from edgekit.distill.features import feature_forward
    from edgekit.models.bilstm import BILSTM

    model = BILSTM.build({"vocabulary_size": 6000, "embedding_dim": 8, "lstm_units": 6, "num_classes": 3,
                          "pooling": pooling})
    x = _inputs(np.random.default_rng(5))
    mask = x["padding_mask"].astype(bool)
    # reference: a sequence-returning Bidirectional LSTM with the model's weights, pooled in numpy
    reference = keras.layers.Bidirectional(keras.layers.LSTM(6, return_sequences=True))
    embedded = model.get_layer("embedding")(x["token_ids"])
    reference(embedded, mask=mask)
    reference.set_weights(model.get_layer("bilstm").get_weights())
    states = reference(embedded, mask=mask).numpy()
    expected = np.stack([getattr(np, pooling)(s[m], axis=0) for s, m in zip(states, mask)])
    pooled = keras.Model(model.inputs, model.get_layer("pooling").output)(x).numpy()
    np.testing.assert_allclose(pooled, expected, atol=1e-6)
    dense = model.get_layer("logits")
    np.testing.assert_allclose(model(x, training=False).numpy(),
                               expected @ dense.kernel.numpy() + dense.bias.numpy(), atol=1e-5)
    out = feature_forward(model, "bilstm", {"sentence"})(x, training=False)  # what distillation trains
    np.testing.assert_allclose(out["sentence"].numpy(), expected, atol=1e-6)
    np.testing.assert_allclose(out["logits"].numpy(), model(x, training=False).numpy(), atol=1e-6)


def test_bilstm_token_states_are_its_bidirectional_sequence_in_one_recurrence():
    import keras
    import tensorflow as tf

    from edgekit.distill.features import feature_forward
    from edgekit.models.bilstm import BILSTM

    model = BILSTM.build({"vocabulary_size": 6000, "embedding_dim": 8, "lstm_units": 6, "num_classes": 3})
    x = _inputs(np.random.default_rng(4))
    fwd = feature_forward(model, "bilstm", {"hidden", "sentence"}, teacher_width=12)
    kernel, bias = fwd.extra_variables  # the hint projection: identity here, so hidden = the raw token states
    kernel.assign(np.eye(12, dtype=np.float32))
    bias.assign(np.zeros(12, np.float32))
    out = fwd(x, training=False)
    np.testing.assert_allclose(out["logits"].numpy(), model(x, training=False).numpy(), atol=1e-6)
    final = keras.Model(model.inputs, model.get_layer("bilstm").output)(x).numpy()
    np.testing.assert_allclose(out["sentence"].numpy(), final, atol=1e-6)
    # reference: a sequence-returning Bidirectional LSTM with the model's weights
    reference = keras.layers.Bidirectional(keras.layers.LSTM(6, return_sequences=True))
    embedded = model.get_layer("embedding")(x["token_ids"])
    mask = x["padding_mask"].astype(bool)
    reference(embedded, mask=mask)
    reference.set_weights(model.get_layer("bilstm").get_weights())
    tokens = out["hidden"][0].numpy()
    assert len(out["hidden"]) == 1 and tokens.shape == (3, 12, 12)
    np.testing.assert_allclose(tokens[mask], reference(embedded, mask=mask).numpy()[mask], atol=1e-6)
    # the per-token loss trains the model and the projection
    wide = feature_forward(model, "bilstm", {"hidden"}, teacher_width=20)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(wide(x, training=True)["hidden"][0]))
    grads = tape.gradient(loss, [model.get_layer("embedding").embeddings, *wide.extra_variables])
    assert all(g is not None and float(tf.reduce_sum(tf.abs(tf.convert_to_tensor(g)))) > 0 for g in grads)
    assert tuple(wide.extra_variables[0].shape) == (12, 20)
