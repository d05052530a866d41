"""BiLSTM embedding initialisers: projection arithmetic, the teacher's per-token context table, its cache."""

import logging

import numpy as np
import pytest

from edgekit.distill.embedding_init import (KERAS_UNIFORM_STD, cached_context_table, context_table, init_embedding,
                                            project)
from edgekit.errors import EdgekitError


def test_projection_keeps_the_top_components_at_keras_scale():
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(16, 16)))[0]
    # variance 9, 4, 1 along three directions, ~0 along the rest
    table = rng.normal(size=(2000, 3)) * [3.0, 2.0, 1.0] @ basis[:3] + rng.normal(scale=1e-4, size=(2000, 16)) + 5.0
    proj, explained = project(table, 2)
    assert proj.shape == (2000, 2) and proj.dtype == np.float32
    assert explained == pytest.approx(13 / 14, abs=0.01)
    assert proj.std() == pytest.approx(KERAS_UNIFORM_STD, rel=1e-4)
    np.testing.assert_allclose(proj.mean(axis=0), 0.0, atol=1e-6)
    # the columns are the data's coordinates on its two main axes (up to sign), largest first
    centred = table - table.mean(axis=0)
    for col, axis in zip(proj.T, basis[:2]):
        assert abs(np.corrcoef(col, centred @ axis)[0, 1]) > 0.999  # sample vs. true axes
    assert proj[:, 0].var() > proj[:, 1].var()


def test_projection_wider_than_the_teacher_pads_with_small_random_columns():
    table = np.random.default_rng(1).normal(size=(50, 4))
    proj, explained = project(table, 6)
    assert proj.shape == (50, 6) and explained == pytest.approx(1.0)
    assert np.abs(proj[:, 4:]).max() <= 0.05


@pytest.fixture(scope="module")
def tiny_teacher(tiny_teacher_dir):
    from edgekit.models.modeldir import load_model_dir

    return load_model_dir(tiny_teacher_dir)


def test_context_table_is_each_token_alone_through_the_teacher_averaged_over_layers(tiny_teacher):
    import keras

    table = context_table(tiny_teacher, batch_size=4096)
    tok = tiny_teacher.tokenizer
    assert table.shape == (len(tok.vocab), tiny_teacher.model.backbone.hidden_dim)
    b = tiny_teacher.model.backbone
    layers = keras.Model(b.input, [b.get_layer(f"transformer_layer_{i}").output for i in range(b.num_layers)])
    ids = np.array([tok.token_to_id[t] for t in ("profit", "loss", "rose", "[UNK]")] + [len(tok.vocab) - 1])
    x = np.stack([np.full(len(ids), tok.cls_id), ids, np.full(len(ids), tok.sep_id)], axis=1).astype(np.int32)
    hidden = layers({"token_ids": x, "padding_mask": np.ones_like(x), "segment_ids": np.zeros_like(x)}, training=False)
    expected = np.mean([h.numpy()[:, 1] for h in hidden], axis=0)
    np.testing.assert_allclose(table[ids], expected, atol=1e-5)
    assert not np.allclose(table[ids[0]], table[ids[1]])


def test_context_table_is_cached_per_teacher(tiny_teacher, tmp_path, monkeypatch, caplog):
    import edgekit.distill.embedding_init as ei

    caplog.set_level(logging.INFO, logger="edgekit")
    first = cached_context_table(tiny_teacher, tmp_path)
    assert len(caplog.records) == 1 and len(list(tmp_path.glob("*.token_context.npz"))) == 1
    assert "running the teacher" in caplog.records[0].getMessage()

    def boom(*args, **kwargs):
        raise AssertionError("the teacher ran again")

    monkeypatch.setattr(ei, "context_table", boom)
    again = cached_context_table(tiny_teacher, tmp_path)
    np.testing.assert_array_equal(again, first)  # the first run sees the stored (float16) table too
    assert len(caplog.records) == 1


@pytest.mark.parametrize("name", ["context", "pca", "random"])
def test_init_embedding_sets_the_student_table(tiny_teacher, tmp_path, name):
    import keras

    emb = keras.layers.Embedding(len(tiny_teacher.tokenizer.vocab), 8)
    emb.build((None,))
    before = emb.get_weights()[0].copy()
    info = init_embedding(emb, name, tiny_teacher, cache_dir=tmp_path)
    after = emb.get_weights()[0]
    if name == "random":
        assert info == {"embedding": "random"} and np.array_equal(before, after)
        return
    assert info["embedding"] == f"teacher_{name}" and 0 < info["explained_variance"] <= 1
    assert after.std() == pytest.approx(KERAS_UNIFORM_STD, rel=1e-3) and not np.allclose(before, after)


def test_init_embedding_errors_are_one_clear_line(tiny_teacher, tmp_path):
    import keras

    emb = keras.layers.Embedding(10, 8)
    emb.build((None,))
    with pytest.raises(EdgekitError, match="unknown embedding_init 'glove'"):
        init_embedding(emb, "glove", tiny_teacher)
    with pytest.raises(EdgekitError, match="vocabulary has"):
        init_embedding(emb, "pca", tiny_teacher, cache_dir=tmp_path)
