"""Vocabulary pruning (edgekit prune-vocab): the kept rows, identical logits for the corpus sentences, a bundle
whose device tokenizer (the bundle's vocab.txt) gives the model the same ids as before, the BiLSTM too, and
one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner


def _logits(model, tokenizer, texts, length=64):
    from edgekit.train.encode import encode_texts
    from edgekit.train.loop import predict_logits

    return predict_logits(model, encode_texts(tokenizer, texts, length))


def test_kept_ids_are_the_corpus_tokens_specials_and_characters(tokenizer):
    from edgekit.prune.vocab import kept_ids

    text = "Operating profit rose to EUR 13.1 mn"
    corpus_only = kept_ids(tokenizer, [text], single_characters=False)
    expected = set(tokenizer.convert_tokens_to_ids(tokenizer.tokenize(text)))
    expected |= {tokenizer.token_to_id[t] for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")}
    assert set(corpus_only.tolist()) == expected and list(corpus_only) == sorted(corpus_only)
    with_chars = kept_ids(tokenizer, [text])
    assert {tokenizer.token_to_id["q"], tokenizer.token_to_id["##q"]} <= set(with_chars.tolist())


@pytest.fixture(scope="module")
def vocab_pruned(tmp_path_factory, tiny_teacher_dir, default_splits):
    from edgekit.models.modeldir import load_model_dir
    from edgekit.prune.vocab import prune_vocabulary_dir

    out = tmp_path_factory.mktemp("vocab") / "tiny-vocab"
    metrics = prune_vocabulary_dir(load_model_dir(tiny_teacher_dir), default_splits, out, corpus=[])
    return out, metrics


def test_corpus_sentences_keep_their_pieces_and_logits(vocab_pruned, tiny_teacher_dir, default_splits):
    from edgekit.models.modeldir import load_model_dir

    out, metrics = vocab_pruned
    source, pruned = load_model_dir(tiny_teacher_dir), load_model_dir(out)
    assert metrics["rows"] == len(pruned.tokenizer.vocab) < len(source.tokenizer.vocab)
    assert pruned.meta["config"]["backbone"]["vocabulary_size"] == metrics["rows"]
    texts = default_splits.train.texts[:40]
    for text in texts[:10]:  # greedy WordPiece with every piece the corpus used kept: the same pieces
        assert pruned.tokenizer.tokenize(text) == source.tokenizer.tokenize(text)
    np.testing.assert_allclose(_logits(pruned.model, pruned.tokenizer, texts),
                               _logits(source.model, source.tokenizer, texts), rtol=1e-5, atol=1e-5)
    assert pruned.model.count_params() == metrics["params"] < source.model.count_params()


def test_a_vocab_pruned_bundle_feeds_the_model_what_the_device_tokenizer_reads(vocab_pruned, default_splits,
                                                                                tmp_path):
    """The bundle's vocab.txt is the remapped one: tokenized on the device side (Bundle.tokenizer, what the
    runner and the Android core read), a training sentence gets the source model's logits."""
    from edgekit.converters.convert import ConvertOptions, convert_model_dir
    from edgekit.models.modeldir import load_model_dir
    from edgekit.runtime.bundle import Bundle
    from edgekit.runtime.model import SignatureModel

    out, metrics = vocab_pruned
    convert_model_dir(out, tmp_path / "bundle", default_splits,
                      ConvertOptions(modes=["fp32"], buckets=[64], metadata=False), progress=False)
    bundle = Bundle.open(tmp_path / "bundle")
    assert bundle.manifest["model"]["embedding_rows"] == metrics["rows"] == len(bundle.tokenizer.vocab)
    model = SignatureModel(bundle.model_file("fp32"), ["seq64"])
    source = load_model_dir(metrics["source"]["model_dir"])
    texts = default_splits.train.texts[:5]
    expected = _logits(source.model, source.tokenizer, texts)
    for text, want in zip(texts, expected):
        enc = bundle.tokenizer.encode(text, 64)
        got = model.run("seq64", np.asarray(enc.ids), np.asarray(enc.mask), np.asarray(enc.segment_ids))
        np.testing.assert_allclose(np.ravel(got), want, atol=1e-4)


def test_the_bilstm_prunes_its_vocabulary_too(tokenizer, default_splits, tmp_path):
    from edgekit.models.modeldir import load_model_dir, save_model_dir
    from edgekit.models.registry import get_family
    from edgekit.prune.vocab import kept_ids, prune_vocabulary

    family = get_family("bilstm")
    model = family.build(family.tiny_config(len(tokenizer.vocab), 3))
    model_dir = save_model_dir(tmp_path / "bilstm", model=model, family="bilstm", config=family.config_of(model),
                               labels=list(default_splits.train.labels), vocab=tokenizer.vocab,
                               tokenizer_settings=tokenizer.settings, max_length=32)
    loaded = load_model_dir(model_dir)
    texts = default_splits.train.texts[:20]
    smaller, vocab = prune_vocabulary(loaded, kept_ids(tokenizer, texts))
    assert family.embedding_rows(smaller) == len(vocab) < len(tokenizer.vocab)
    from edgekit.tokenizer.wordpiece import WordPieceTokenizer

    np.testing.assert_allclose(_logits(smaller, WordPieceTokenizer.with_settings(vocab, tokenizer.settings), texts, 32),
                               _logits(loaded.model, tokenizer, texts, 32), rtol=1e-5, atol=1e-5)


def test_bad_input_is_one_line(tiny_teacher_dir, tmp_path):
    from edgekit.cli import cli
    from edgekit.models.modeldir import load_model_dir
    from edgekit.prune.vocab import VocabularyError, prune_vocabulary

    with pytest.raises(VocabularyError, match="kept token ids must lie in"):
        prune_vocabulary(load_model_dir(tiny_teacher_dir), np.asarray([0, 10 ** 6]))
    r = CliRunner().invoke(cli, ["prune-vocab", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1, r.output
    assert not (tmp_path / "o").exists()


def test_recovery_distils_the_cut_model_on_its_own_tokenization(vocab_pruned, tiny_teacher_dir, tmp_path):
    """--recover: the cut model learns from the uncut one, each reading its own pieces; the result differs from the
    plain cut (fixture) and metrics.json keeps the cut's figures beside the recovered ones."""
    from edgekit.cli import cli
    from edgekit.models.modeldir import load_model_dir

    out = tmp_path / "recovered"
    r = CliRunner().invoke(cli, ["prune-vocab", str(tiny_teacher_dir), "--out", str(out), "--recover", "--epochs", "1",
                                 "--cache-dir", str(tmp_path / "cache")])
    assert r.exit_code == 0, r.output
    assert "recovery on its own tokenization" in r.output
    metrics = json.loads((out / "metrics.json").read_text())
    plain_metrics = vocab_pruned[1]
    assert metrics["rows"] == plain_metrics["rows"]
    rec = metrics["recovered"]
    assert rec["cut"]["test"]["macro_f1"] == pytest.approx(plain_metrics["test"]["macro_f1"])
    assert len(rec["history"]["epochs"]) == 1 and set(rec["loss"]["weights"]) == {"hard", "kl"}
    plain, recovered = load_model_dir(vocab_pruned[0]).model, load_model_dir(out).model
    assert any(not np.array_equal(a, b) for a, b in zip(plain.get_weights(), recovered.get_weights()))


@pytest.mark.parametrize("args, match", [
    (["--recover", "--loss", "hard,hidden_mse"], "logit terms only"),
    (["--augment-multiplier", "2"], "give --recover"),
])
def test_bad_recovery_settings_are_one_line(tiny_teacher_dir, tmp_path, args, match):
    from edgekit.cli import cli

    r = CliRunner().invoke(cli, ["prune-vocab", str(tiny_teacher_dir), "--out", str(tmp_path / "o"), *args])
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1 and match in r.stderr, r.stderr
    assert not (tmp_path / "o").exists()
