"""Each word's nearest words in the teacher's token space, for the ``neighbour`` augmentation rule.

The space is the teacher's per-token table (:func:`edgekit.distill.embedding_init.cached_context_table`:
each vocabulary token alone through the teacher, averaged over layers — the table the BiLSTM's
embedding starts from, cached once per teacher). Only whole-word tokens take part, on both sides: a
word of the transfer set is replaced only if the tokenizer's vocabulary has it as one token, and only
by whole-word tokens with a letter or digit (no ``##`` pieces, no ``[unused]``/special tokens).
Neighbours are ranked by cosine similarity; the word itself is excluded.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

DEFAULT_K = 8


def candidate_tokens(vocab: Sequence[str]) -> np.ndarray:
    """Vocabulary indices of whole-word tokens (no ``##`` piece, no ``[...]`` token, some letter or digit)."""
    return np.asarray([i for i, w in enumerate(vocab)
                       if not w.startswith(("##", "[")) and any(c.isalnum() for c in w)], np.int64)


def word_neighbours(words: Iterable[str], vocab: Sequence[str], table: np.ndarray, k: int = DEFAULT_K,
                    chunk: int = 1024) -> dict[str, list[str]]:
    """``{word: its k nearest whole-word tokens}`` for every (lower-cased) word that is one vocabulary token."""
    index = {w: i for i, w in enumerate(vocab)}
    cand = candidate_tokens(vocab)
    is_cand = np.zeros(len(vocab), bool)
    is_cand[cand] = True
    wanted = sorted({w.lower() for w in words if w.lower() in index and is_cand[index[w.lower()]]})
    if not wanted or k < 1:
        return {}
    unit = table / np.maximum(np.linalg.norm(table, axis=1, keepdims=True), 1e-12)
    space = unit[cand]
    out: dict[str, list[str]] = {}
    for start in range(0, len(wanted), chunk):
        part = wanted[start:start + chunk]
        rows = np.asarray([index[w] for w in part])
        sims = unit[rows] @ space.T  # [n, C]
        sims[cand[None, :] == rows[:, None]] = -np.inf  # never the word itself
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        for w, r, t in zip(part, sims, top):
            order = t[np.argsort(-r[t], kind="stable")]
            out[w] = [vocab[int(cand[j])] for j in order]
    return out
