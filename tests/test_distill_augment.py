"""Augmentation: deterministic by seed, originals preserved with their labels, rules do what they say;
teacher-output cache: computed once, reused, ragged batches exact."""

from __future__ import annotations

import numpy as np
import pytest

SENTENCES = [
    "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn in the corresponding period in 2007 .",
    "The company said that its net sales fell by 5 % in the third quarter .",
    "Finnish Talentum reports its operating profit increased to EUR 20.5 mn in 2005 from EUR 9.3 mn in 2004 .",
    "Nokia shares were flat .",
]


def test_same_seed_same_set_other_seed_other_set():
    from edgekit.distill.augment import augment_texts, parse_augment

    a = augment_texts(SENTENCES, parse_augment("tang", 6, seed=3))
    b = augment_texts(SENTENCES, parse_augment("tang", 6, seed=3))
    c = augment_texts(SENTENCES, parse_augment("tang", 6, seed=4))
    assert a.texts == b.texts and np.array_equal(a.source, b.source)
    assert a.texts != c.texts
    # a sentence's synthetic set depends on (seed, its position), not on the other sentences
    changed = augment_texts(SENTENCES[:3] + ["Something else entirely happened today ."], parse_augment("tang", 6, seed=3))
    assert [t for t, s in zip(changed.texts, changed.source) if s == 1] == [t for t, s in zip(a.texts, a.source) if s == 1]


def test_originals_first_unchanged_and_labels_follow_the_source():
    from edgekit.distill.augment import augment_texts, parse_augment

    labels = [2, 0, 2, 1]
    aug = augment_texts(SENTENCES, parse_augment("tang", 5, seed=0))
    assert aug.texts[:4] == SENTENCES and aug.num_original == 4
    assert list(aug.source[:4]) == [0, 1, 2, 3]
    assert len(aug.texts) <= 4 * 5 and len(aug.texts) > 4 * 3  # near the multiplier (duplicates redrawn)
    assert len(set(aug.texts)) == len(aug.texts)  # no duplicates, none equal to an original
    src_labels = aug.source_labels(labels)
    for text, src, lab in zip(aug.texts, aug.source, src_labels):
        assert lab == labels[src]
        words = set(text.split()) - {"[MASK]"}
        assert words <= set(SENTENCES[src].split())  # every word comes from its own source sentence


def test_rules_act_as_documented():
    from edgekit.distill.augment import AugmentConfig, augment_sentence

    text = " ".join(f"w{i}" for i in range(400))
    masked = augment_sentence(text, AugmentConfig(rules=(("mask", 0.1),), multiplier=2), np.random.default_rng(0))
    share = masked.split().count("[MASK]") / 400
    assert 0.06 < share < 0.14 and len(masked.split()) == 400
    swapped = augment_sentence(text, AugmentConfig(rules=(("swap", 1.0),), multiplier=2), np.random.default_rng(0))
    assert swapped.split()[:4] == ["w1", "w0", "w3", "w2"] and sorted(swapped.split()) == sorted(text.split())
    for seed in range(20):
        g = augment_sentence(text, AugmentConfig(rules=(("ngram", 1.0),), multiplier=2), np.random.default_rng(seed))
        assert 1 <= len(g.split()) <= 5 and g in text
    deleted = augment_sentence(text, AugmentConfig(rules=(("delete", 0.5),), multiplier=2), np.random.default_rng(0))
    assert 150 < len(deleted.split()) < 250


def test_neighbour_rule_replaces_words_from_their_own_neighbour_list_only():
    from edgekit.distill.augment import augment_texts, parse_augment
    from edgekit.errors import EdgekitError

    near = {"rose": ["risen", "fell"], "profit": ["earnings"], "shares": ["stock", "stocks"]}
    cfg = parse_augment("neighbour=1.0", 4, seed=1)
    assert cfg.needs_neighbours and not parse_augment("tang", 4).needs_neighbours
    aug = augment_texts(SENTENCES, cfg, near)
    assert aug.texts == augment_texts(SENTENCES, cfg, near).texts  # deterministic
    synthetic = list(zip(aug.texts[aug.num_original:], aug.source[aug.num_original:]))
    assert synthetic  # "rose", "profit", "shares" occur: sentences 0, 2 and 3 can change
    for text, src in synthetic:
        orig = SENTENCES[src].split()
        new = text.split()
        assert len(new) == len(orig)
        for a, b in zip(orig, new):  # p = 1: every word with neighbours is replaced by one of them
            assert b in near[a.lower()] if a.lower() in near else b == a
    assert {s for _, s in synthetic} == {0, 2, 3}  # sentence 1 has no word with neighbours: nothing to make
    with pytest.raises(EdgekitError, match="neighbour"):
        augment_texts(SENTENCES, cfg)  # the rule needs the map


def test_word_neighbours_rank_whole_word_tokens_by_cosine():
    from edgekit.distill.neighbours import word_neighbours

    vocab = ["[PAD]", "[UNK]", "up", "rise", "##s", "down", "fall", ",", "[unused0]"]
    table = np.array([[0, 0], [0, 0],
                      [1.0, 0.1],   # up
                      [0.9, 0.2],   # rise: nearest to up
                      [1.0, 0.1],   # ##s: a piece, never a neighbour (identical to "up")
                      [-1.0, 0.1],  # down
                      [-0.9, 0.3],  # fall
                      [0.95, 0.1],  # ",": no letter or digit, never a neighbour
                      [1.0, 0.1]])  # [unused0]: never a neighbour
    near = word_neighbours(["Up", "rise", "Down", "unknownword", "##s", ","], vocab, table, k=2)
    assert set(near) == {"up", "rise", "down"}  # lower-cased; only whole-word tokens are looked up
    assert near["up"] == ["rise", "fall"]  # itself excluded; then by cosine
    assert near["down"] == ["fall", "rise"]
    assert near["rise"][0] == "up"


def test_bad_augmentation_specs_are_user_errors():
    from edgekit.distill.augment import parse_augment
    from edgekit.errors import EdgekitError

    assert not parse_augment("none", 5).enabled
    for bad in ("shuffle=0.1", "mask=2", "mask=0.6,swap=0.6", "mask"):
        with pytest.raises(EdgekitError):
            parse_augment(bad, 2)


def test_ragged_tokens_batches_are_exact():
    from edgekit.distill.cache import RaggedTokens

    rng = np.random.default_rng(0)
    padded = rng.normal(size=(4, 6, 3)).astype(np.float32)
    lengths = np.array([6, 2, 4, 9])
    r = RaggedTokens.from_padded(padded, lengths, dtype=np.float32)
    batch = r.take_batch(np.array([3, 1]), 4)
    np.testing.assert_array_equal(batch[0], padded[3, :4])
    np.testing.assert_array_equal(batch[1, :2], padded[1, :2])
    assert not batch[1, 2:].any()
    np.testing.assert_array_equal(r.subset(np.array([2])).take_batch(np.array([0]), 6)[0, :4], padded[2, :4])


def test_teacher_outputs_are_computed_once_and_reused(tiny_teacher_dir, tmp_path, default_splits):
    from edgekit.distill.cache import teacher_outputs
    from edgekit.models.modeldir import load_model_dir
    from edgekit.train.encode import encode_texts
    from edgekit.train.loop import predict_logits

    teacher = load_model_dir(tiny_teacher_dir)
    texts = default_splits.validation.texts
    enc = encode_texts(teacher.tokenizer, texts, 64)
    first = teacher_outputs(teacher, texts, enc, hidden_layers=[1], embeddings=True, cache_dir=tmp_path)
    assert first.computed and len(list(tmp_path.glob("*.npz"))) == 3
    np.testing.assert_allclose(first.logits, predict_logits(teacher.model, enc), atol=1e-4)
    again = teacher_outputs(teacher, texts, enc, hidden_layers=[1], cache_dir=tmp_path)
    assert not again.computed and again.key == first.key
    np.testing.assert_array_equal(again.logits, first.logits)
    assert len(first.hidden[1]) == len(texts)
    assert first.hidden[1].flat.shape == (int(np.minimum(enc.num_tokens, 64).sum()), 64)
    other = teacher_outputs(teacher, texts[:-1], encode_texts(teacher.tokenizer, texts[:-1], 64), cache_dir=tmp_path)
    assert other.computed and other.key != first.key  # another transfer set, another key
    # the sentence vector (pooled output) is one more file, computed only when first asked for
    with_sentence = teacher_outputs(teacher, texts, enc, sentence=True, cache_dir=tmp_path)
    assert with_sentence.computed and (tmp_path / f"{first.key}.sentence.npz").is_file()
    pooled = teacher.model.backbone(enc.inputs(np.arange(len(texts)), 64))["pooled_output"].numpy()
    np.testing.assert_allclose(with_sentence.sentence, pooled, atol=2e-3)  # stored float16
    assert with_sentence.targets()["teacher_sentence"].shape == (len(texts), 64)
    assert not teacher_outputs(teacher, texts, enc, sentence=True, cache_dir=tmp_path).computed
