"""The training loop: Polyak averaging (update rule, swap, fit keeps what it evaluated) and a forward's extra variables."""

import numpy as np
import pytest

from edgekit.errors import EdgekitError
from edgekit.train.loop import TrainConfig, WeightAverage, evaluate, fit


def _dense():
    import keras

    layer = keras.layers.Dense(2)
    model = keras.Sequential([keras.Input((3,)), layer])
    return model, layer


def test_update_follows_the_ramped_decay():
    model, layer = _dense()
    w0 = [v.numpy().copy() for v in model.trainable_variables]
    avg = WeightAverage(model, 0.9)
    w1 = [np.full_like(w, 2.0) for w in w0]
    for v, value in zip(model.trainable_variables, w1):
        v.assign(value)
    avg.update(0)  # decay min(0.9, 1/10) = 0.1: mostly the new weights
    for s, a, b in zip(avg.shadow, w0, w1):
        np.testing.assert_allclose(s.numpy(), 0.1 * a + 0.9 * b, rtol=1e-6)
    before = [s.numpy().copy() for s in avg.shadow]
    avg.update(10_000)  # ramp (10001/10010) above 0.9: the configured decay
    for s, a, b in zip(avg.shadow, before, w1):
        np.testing.assert_allclose(s.numpy(), 0.9 * a + 0.1 * b, rtol=1e-6)


def test_swapped_in_puts_the_averages_in_and_restores_the_raw_weights_even_on_error():
    model, _ = _dense()
    avg = WeightAverage(model, 0.5)
    raw = [v.numpy().copy() for v in model.trainable_variables]
    for s in avg.shadow:
        s.assign(np.zeros(s.shape, np.float32))
    with pytest.raises(RuntimeError):
        with avg.swapped_in():
            assert all(not v.numpy().any() for v in model.trainable_variables)
            raise RuntimeError("evaluation failed")
    for v, r in zip(model.trainable_variables, raw):
        np.testing.assert_array_equal(v.numpy(), r)


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.1])
def test_bad_decay_is_one_clear_error(decay):
    with pytest.raises(EdgekitError, match="ema decay"):
        WeightAverage(_dense()[0], decay)


def test_fit_keeps_the_averaged_weights_it_evaluated(tokenizer, default_splits):
    from edgekit.models.bilstm import BILSTM
    from edgekit.train.encode import encode_texts

    s = default_splits
    labels = list(s.train.labels)
    enc = {p: encode_texts(tokenizer, getattr(s, p).texts, 32) for p in ("train", "validation")}
    y = {p: np.asarray(getattr(s, p).label_ids, np.int32) for p in ("train", "validation")}
    results = {}
    for ema in (0.0, 0.9):
        import keras

        keras.utils.set_random_seed(3)
        model = BILSTM.build({"vocabulary_size": len(tokenizer.vocab), "num_classes": len(labels), "embedding_dim": 8,
                              "lstm_units": 8})
        cfg = TrainConfig(epochs=3, batch_size=16, learning_rate=5e-3, schedule="constant", patience=3, ema=ema,
                          max_length=32)
        history = fit(model, enc["train"], y["train"], enc["validation"], y["validation"], labels, cfg, progress=False)
        after = evaluate(model, enc["validation"], y["validation"], labels)
        assert after["macro_f1"] == pytest.approx(history.best_val_macro_f1)
        results[ema] = [w.copy() for w in model.get_weights()]
    assert not all(np.array_equal(a, b) for a, b in zip(results[0.0], results[0.9]))


def test_fit_trains_the_forwards_extra_variables_and_keeps_them_out_of_the_model(tokenizer, default_splits):
    import keras
    import tensorflow as tf

    from edgekit.distill.features import feature_forward
    from edgekit.models.bilstm import BILSTM
    from edgekit.train.encode import encode_texts

    s = default_splits
    labels = list(s.train.labels)
    enc = {p: encode_texts(tokenizer, getattr(s, p).texts, 32) for p in ("train", "validation")}
    y = {p: np.asarray(getattr(s, p).label_ids, np.int32) for p in ("train", "validation")}
    keras.utils.set_random_seed(5)
    model = BILSTM.build({"vocabulary_size": len(tokenizer.vocab), "num_classes": len(labels), "embedding_dim": 8,
                          "lstm_units": 8})
    forward = feature_forward(model, "bilstm", {"hidden"}, teacher_width=4)
    before = [v.numpy().copy() for v in forward.extra_variables]
    n_weights = len(model.weights)

    def loss_fn(logits, batch):  # pull every token state's projection towards 1
        hidden = batch["outputs"]["hidden"][0]
        return tf.reduce_mean(tf.square(hidden - 1.0), axis=[1, 2])

    cfg = TrainConfig(epochs=1, batch_size=16, learning_rate=5e-3, schedule="constant", max_length=32)
    fit(model, enc["train"], y["train"], enc["validation"], y["validation"], labels, cfg, loss_fn=loss_fn,
        progress=False, forward_fn=forward)
    assert all(not np.array_equal(b, v.numpy()) for b, v in zip(before, forward.extra_variables))
    assert len(model.weights) == n_weights
