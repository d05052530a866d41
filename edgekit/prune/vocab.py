"""Vocabulary pruning: keep only the token embedding rows a domain corpus uses.

A BERT student keeps the teacher's 30,522-row WordPiece table (11.7 M of the 2-layer student's 15.6 M
parameters), though a financial corpus uses a few thousand of its tokens. :func:`kept_ids` tokenizes the
corpus with the model's own tokenizer and keeps every token id it produces, the special tokens, and by
default every single-character piece (``a``, ``##a``, ...) so that a word outside the corpus is still
spelled out in pieces instead of becoming ``[UNK]``. :func:`prune_vocabulary` builds the same model with
a table of those rows, in their original order, and returns the remapped vocabulary, which goes into the
model directory's vocab.txt and from there into every bundle (the device tokenizer and the Android core
read it like any other).

WordPiece is greedy longest-match-first, and every piece the corpus produced is kept, so a corpus
sentence tokenizes to the same pieces with the smaller vocabulary, and the model gives it the same
logits. A word outside the corpus may split differently (a longer piece it used is gone) or become
``[UNK]``: the macro-F1 on the test split measures what that costs.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from ..errors import EdgekitError


class VocabularyError(EdgekitError):
    pass


def kept_ids(tokenizer, texts: Iterable[str], single_characters: bool = True) -> np.ndarray:
    """Sorted ids of the tokens ``texts`` produce, the special tokens and (optionally) single characters."""
    keep = {tokenizer.token_to_id[t] for t in (tokenizer.pad_token, tokenizer.unk_token, tokenizer.cls_token,
                                                tokenizer.sep_token, tokenizer.mask_token) if t in tokenizer.token_to_id}
    for text in texts:
        keep.update(tokenizer.convert_tokens_to_ids(tokenizer.tokenize(text)))
    if single_characters:
        prefix = tokenizer.prefix
        keep.update(i for i, t in enumerate(tokenizer.vocab)
                    if len(t) == 1 or (t.startswith(prefix) and len(t) == len(prefix) + 1))
    return np.asarray(sorted(keep), np.int64)


def prune_vocabulary(loaded, keep: np.ndarray):
    """``(model, vocab)``: the loaded model with the embedding rows ``keep`` only, and the vocabulary they are."""
    from ..models.registry import get_family

    family = get_family(loaded.family)
    rows = family.embedding_rows(loaded.model)
    if len(keep) == 0 or keep.min() < 0 or keep.max() >= rows:
        raise VocabularyError(f"kept token ids must lie in 0..{rows - 1}")
    try:
        config = family.with_vocabulary_size(family.config_of(loaded.model), len(keep))
    except NotImplementedError:
        raise VocabularyError(f"the {loaded.family} family cannot change its vocabulary size") from None
    model = family.build(config)
    weights = []
    for old, new in zip(loaded.model.get_weights(), model.get_weights()):
        if old.shape == new.shape:
            weights.append(old)
        elif old.shape[0] == rows and new.shape == (len(keep), *old.shape[1:]):
            weights.append(old[keep])
        else:
            raise VocabularyError(f"a weight of shape {old.shape} has no counterpart of shape {new.shape}")
    model.set_weights(weights)
    return model, [loaded.tokenizer.vocab[i] for i in keep]


def check_cut_loss(settings) -> None:
    """Recovery after a vocabulary cut takes logit terms only: one line otherwise, before any work."""
    from ..distill.losses import make_recipe

    if make_recipe(settings.loss, settings.alpha, settings.temperature).student_needs - {"logits"}:
        raise VocabularyError(f"recovery after a vocabulary cut takes logit terms only (hard, kl, logit_mse), "
                              f"not {settings.loss}: the cut model's tokens do not line up with the source's")


def recover_cut(source, model, tokenizer, splits, settings, progress: bool = True):
    """Distil the vocabulary-cut ``model`` (reading with ``tokenizer``) from ``source``, the same model before the
    cut, each on its own tokenization: the source reads every sentence with its full vocabulary, the cut model
    with its own, so words outside the corpus, spelled in smaller pieces, are learned from the source's answers
    (the more so with ``settings.unlabelled`` in-domain sentences). Pruning's recovery
    (:func:`edgekit.prune.recover.recover`) with logit terms only: the two tokenizations' positions differ.
    Returns the history and the loss recipe."""
    from ..train.encode import encode_texts
    from .recover import recover

    check_cut_loss(settings)
    enc = {part: encode_texts(tokenizer, getattr(splits, part).texts, settings.train.max_length)
           for part in ("train", "validation")}
    return recover(source, model, (), splits, enc, settings, progress=progress, tokenizer=tokenizer)


def prune_vocabulary_dir(loaded, splits, out_dir, corpus: list[str], single_characters: bool = True,
                         name: str = "vocab-pruned", extra_meta: dict | None = None,
                         extra_metrics: dict | None = None, recover=None, progress: bool = True) -> dict:
    """Keep the rows the training split and ``corpus`` use; write the model directory; return its metrics
    (rows, parameters, validation and test macro-F1 of the source and of the smaller model). ``recover``
    (:class:`~edgekit.prune.recover.RecoverSettings`): then distil the cut model from ``loaded`` on its own
    tokenization (:func:`recover_cut`). ``extra_meta`` overrides keys of edgekit_model.json (a pruned student
    names its teacher); ``extra_metrics`` adds keys to metrics.json."""
    from ..models.modeldir import save_model_dir
    from ..models.registry import get_family
    from ..tokenizer.wordpiece import WordPieceTokenizer
    from ..train.encode import encode_texts
    from ..train.loop import evaluate

    if list(splits.train.labels) != loaded.labels:
        raise VocabularyError(f"model labels {loaded.labels} differ from the data's {list(splits.train.labels)}")
    keep = kept_ids(loaded.tokenizer, [*splits.train.texts, *corpus], single_characters)
    model, vocab = prune_vocabulary(loaded, keep)
    tokenizer = WordPieceTokenizer.with_settings(vocab, loaded.tokenizer.settings)

    def report(m, tok) -> dict:
        out = {}
        for part in ("validation", "test"):
            ds = getattr(splits, part)
            enc = encode_texts(tok, ds.texts, loaded.max_length)
            out[part] = evaluate(m, enc, np.asarray(ds.label_ids, np.int32), loaded.labels)
            real = enc.token_ids[enc.padding_mask.astype(bool)]
            out[part]["unk_share"] = round(float((real == tok.unk_id).mean()) if real.size else 0.0, 6)
        return out

    family = get_family(loaded.family)
    recovered = None
    if recover is not None:
        from dataclasses import replace

        settings = replace(recover, train=replace(recover.train, max_length=loaded.max_length))
        before = report(model, tokenizer)
        history, loss = recover_cut(loaded, model, tokenizer, splits, settings, progress=progress)
        recovered = {"cut": before, "loss": loss, "settings": settings.to_dict(), "history": history.to_dict()}
    metrics = {
        "model": name, "family": loaded.family, "role": "vocab-pruned",
        "source": {"model_dir": str(loaded.path), "rows": len(loaded.tokenizer.vocab),
                   "params": int(loaded.model.count_params()), **report(loaded.model, loaded.tokenizer)},
        "rows": len(vocab), "params": int(model.count_params()),
        "corpus": {"train_sentences": len(splits.train.texts), "extra_sentences": len(corpus),
                   "single_characters": single_characters},
        **report(model, tokenizer), "recovered": recovered, "data": splits.info, **(extra_metrics or {}),
    }
    save_model_dir(out_dir, model=model, family=loaded.family, config=family.config_of(model), labels=loaded.labels,
                   vocab=vocab, tokenizer_settings=loaded.tokenizer.settings, max_length=loaded.max_length,
                   extra_meta={"name": name, "role": "vocab-pruned", "source_checkpoint": str(loaded.path),
                               "vocab_pruned_from": str(loaded.path), **(extra_meta or {})},
                   metrics=metrics)
    return metrics
