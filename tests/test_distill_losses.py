"""Every distillation loss against values computed by hand on small arrays; the alpha convention."""

from __future__ import annotations

import math

import numpy as np
import pytest


def _ctx(T=1.0, layer_map=()):
    from edgekit.distill.losses import LossContext

    return LossContext(T, tuple(layer_map))


def _term(name):
    from edgekit.distill.losses import LOSSES

    return LOSSES[name].fn


def _np(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def test_hard_cross_entropy_by_hand():
    out = {"logits": np.array([[0.0, 0.0], [math.log(3.0), 0.0]], np.float32)}
    batch = {"labels": np.array([0, 1], np.int32)}
    # softmax([0,0]) = [.5,.5] → -ln .5; softmax([ln3, 0]) = [.75,.25] → -ln .25
    np.testing.assert_allclose(_np(_term("hard")(out, batch, _ctx())), [math.log(2), math.log(4)], rtol=1e-6)


@pytest.mark.parametrize("T", [1.0, 2.0])
def test_kl_is_t_squared_times_kl_of_tempered_softmaxes(T):
    # teacher logits T·[ln 3, 0] → softmax at T is [.75, .25]; student [0, 0] → [.5, .5]
    out = {"logits": np.array([[0.0, 0.0]], np.float32)}
    batch = {"teacher_logits": np.array([[T * math.log(3.0), 0.0]], np.float32)}
    kl = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)  # 0.130812...
    assert kl == pytest.approx(0.1308121, abs=1e-6)
    np.testing.assert_allclose(_np(_term("kl")(out, batch, _ctx(T))), [T * T * kl], rtol=1e-5)


def test_kl_is_zero_for_identical_logits_and_positive_otherwise():
    z = np.array([[1.0, -2.0, 0.5]], np.float32)
    assert _np(_term("kl")({"logits": z}, {"teacher_logits": z}, _ctx(3.0)))[0] == pytest.approx(0.0, abs=1e-6)
    assert _np(_term("kl")({"logits": -z}, {"teacher_logits": z}, _ctx(3.0)))[0] > 0.1


def test_logit_mse_by_hand_ignores_temperature():
    out = {"logits": np.array([[1.0, 2.0, 3.0]], np.float32)}
    batch = {"teacher_logits": np.array([[1.0, 0.0, 6.0]], np.float32)}
    # ((0)² + (2)² + (-3)²) / 3 = 13/3
    for T in (1.0, 5.0):
        np.testing.assert_allclose(_np(_term("logit_mse")(out, batch, _ctx(T))), [13 / 3], rtol=1e-6)


def _hidden_case():
    # one example, 3 positions (last is padding), width 2
    s = np.array([[[1.0, 0.0], [0.0, 2.0], [9.0, 9.0]]], np.float32)
    t = np.array([[[1.0, 2.0], [0.0, 0.0], [-9.0, 0.0]]], np.float32)
    mask = np.array([[1, 1, 0]], np.int32)
    return s, t, mask


def test_hidden_mse_by_hand_masks_padding_and_averages_mapped_layers():
    from edgekit.distill.losses import teacher_hidden_key

    s, t, mask = _hidden_case()
    # token 0: ((0)² + (-2)²)/2 = 2 ; token 1: ((0)² + (2)²)/2 = 2 ; padding ignored → 2
    out = {"hidden": [s, np.zeros_like(s)]}
    batch = {teacher_hidden_key(4): t, teacher_hidden_key(1): np.zeros_like(t), "padding_mask": mask}
    np.testing.assert_allclose(_np(_term("hidden_mse")(out, batch, _ctx(layer_map=[(0, 4)]))), [2.0], rtol=1e-6)
    # a second, perfectly matched layer pair halves the mean over layers
    two = _ctx(layer_map=[(0, 4), (1, 1)])
    np.testing.assert_allclose(_np(_term("hidden_mse")(out, batch, two)), [1.0], rtol=1e-6)


def test_hidden_cosine_by_hand():
    from edgekit.distill.losses import teacher_hidden_key

    s, t, mask = _hidden_case()
    # token 0: cos([1,0],[1,2]) = 1/√5 ; token 1: cos([0,2],[0,0]) = 0 (zero vector) → mean of (1-1/√5, 1)
    expected = ((1 - 1 / math.sqrt(5)) + 1.0) / 2
    out = {"hidden": [s]}
    batch = {teacher_hidden_key(2): t, "padding_mask": mask}
    np.testing.assert_allclose(_np(_term("hidden_cos")(out, batch, _ctx(layer_map=[(0, 2)]))), [expected], rtol=1e-5)


def test_embedding_mse_by_hand():
    s, t, mask = _hidden_case()
    out = {"embeddings": s}
    np.testing.assert_allclose(_np(_term("embedding_mse")(out, {"teacher_embeddings": t, "padding_mask": mask},
                                                          _ctx())), [2.0], rtol=1e-6)


def test_similarity_by_hand_compares_batch_gram_rows_of_any_widths():
    # student [2, 2]: S·Sᵀ = [[1, 1], [1, 2]] → rows / norms √2, √5
    s = np.array([[1.0, 0.0], [1.0, 1.0]], np.float32)
    # teacher [2, 3]: T·Tᵀ = [[4, 0], [0, 1]] → rows [1, 0], [0, 1]
    t = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 1.0]], np.float32)
    r2, r5 = 1 / math.sqrt(2), 1 / math.sqrt(5)
    expected = [(r2 - 1) ** 2 + r2 ** 2, r5 ** 2 + (2 * r5 - 1) ** 2]
    value = _np(_term("similarity")({"sentence": s}, {"teacher_sentence": t}, _ctx()))
    np.testing.assert_allclose(value, expected, rtol=1e-5)
    # scale-free in each model (a global rescale of either side's vectors changes nothing), zero for a match
    np.testing.assert_allclose(_np(_term("similarity")({"sentence": 7 * s}, {"teacher_sentence": t / 3}, _ctx())),
                               expected, rtol=1e-5)
    assert np.allclose(_np(_term("similarity")({"sentence": t}, {"teacher_sentence": 5 * t}, _ctx())), 0.0, atol=1e-6)


def test_alpha_is_the_soft_weight_and_recipe_sums_weighted_terms():
    from edgekit.distill.losses import make_recipe, parse_loss_weights

    assert parse_loss_weights("hard,kl", 0.7) == (("hard", pytest.approx(0.3)), ("kl", 0.7))
    assert parse_loss_weights("hard,logit_mse", 0.0) == (("hard", 1.0), ("logit_mse", 0.0))
    assert parse_loss_weights("kl", 0.3) == (("kl", 1.0),)  # a lone soft term is the whole loss
    assert parse_loss_weights("hard=0.1,kl,hidden_mse", 0.5) == (("hard", 0.1), ("kl", 0.5), ("hidden_mse", 1.0))
    recipe = make_recipe("hard,kl", alpha=0.25, temperature=2.0)
    logits = np.array([[0.0, 0.0]], np.float32)
    batch = {"labels": np.array([1], np.int32), "teacher_logits": np.array([[2 * math.log(3.0), 0.0]], np.float32)}
    expected = 0.75 * math.log(2) + 0.25 * 4 * 0.1308121
    np.testing.assert_allclose(_np(recipe.per_example({"logits": logits}, batch)), [expected], rtol=1e-5)
    assert recipe.teacher_needs == {"logits"} and recipe.student_needs == {"logits"}
    hinted = make_recipe("hard,hidden_mse", alpha=0.5, temperature=3.0)
    assert hinted.teacher_layers == []  # no map yet: the student decides it
    mapped = hinted.with_layer_map([(0, 1), (1, "3")])
    assert mapped.teacher_layers == [1, 3] and mapped.context.layer_map == ((0, 1), (1, 3))
    assert mapped.weights == hinted.weights and mapped.context.temperature == 3.0


@pytest.mark.parametrize("text,alpha", [("nope", 0.5), ("hard,hard", 0.5), ("hard,kl", 1.5), ("kl=x", 0.5), ("", 0.5)])
def test_bad_loss_specs_are_user_errors(text, alpha):
    from edgekit.distill.losses import parse_loss_weights
    from edgekit.errors import EdgekitError

    with pytest.raises(EdgekitError):
        parse_loss_weights(text, alpha)
