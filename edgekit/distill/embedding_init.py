"""How a BiLSTM student's WordPiece embedding starts: a registry of initialisers.

The BiLSTM embeds the teacher's 30 522-token vocabulary at width 64 — 91 % of its parameters — but a
training split of a few thousand sentences touches only a few thousand rows, so the rest keep
whatever they started with and test sentences full of unseen words lean on that start. Options
(``--student bilstm:embedding_init=NAME``):

``context`` (default)
    each vocabulary token on its own (``[CLS] token [SEP]``) through the fine-tuned teacher, the
    token position's output averaged over all transformer layers, projected to the student's width on
    the top principal components. The teacher's view of every word — including the task it was
    fine-tuned for — in 64 dims (the idea of Model2Vec, here from the classifier itself; on the
    FPB teacher the top 64 components keep ~74 % of the variance, against ~45 % for ``pca``). Computed
    once per teacher (~1 min on 2 CPU cores) and cached next to the teacher outputs.
``pca``
    the teacher's input token-embedding table projected the same way (no teacher forward pass).
``random``
    Keras' default uniform(-0.05, 0.05).

Projected tables are rescaled to the standard deviation of Keras' default initialiser, so the
LSTM sees inputs of the scale it is tuned for whichever start is chosen.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import EdgekitError

DEFAULT_INIT = "context"
KERAS_UNIFORM_STD = 0.05 / np.sqrt(3.0)  # std of uniform(-0.05, 0.05)

logger = logging.getLogger(__name__)


def project(table: np.ndarray, width: int, seed: int = 0) -> tuple[np.ndarray, float]:
    """``table`` [V, H] on its top ``width`` principal components, rescaled; (projection, explained variance).

    A teacher narrower than ``width`` gives all its components plus small random columns.
    """
    centred = table.astype(np.float64) - table.mean(axis=0)
    eigval, eigvec = np.linalg.eigh(centred.T @ centred)  # H × H: much faster than an SVD of the table
    top = np.argsort(eigval)[::-1][:width]
    proj = centred @ eigvec[:, top]
    proj *= KERAS_UNIFORM_STD / proj.std()
    if proj.shape[1] < width:
        rng = np.random.default_rng(seed)
        proj = np.concatenate([proj, rng.uniform(-0.05, 0.05, (proj.shape[0], width - proj.shape[1]))], axis=1)
    explained = float(eigval[top].sum() / eigval.sum()) if eigval.sum() > 0 else 0.0
    return proj.astype(np.float32), explained


def input_table(teacher) -> np.ndarray:
    """The teacher's input token-embedding table [V, H]."""
    return teacher.model.backbone.get_layer("token_embedding").get_weights()[0]


def context_table(teacher, batch_size: int = 1024) -> np.ndarray:
    """[V, H]: each token alone through the teacher, its position's output averaged over all layers."""
    import tensorflow as tf

    from .features import feature_forward

    forward = feature_forward(teacher.model, teacher.family, {"hidden"})
    tok = teacher.tokenizer
    size = len(tok.vocab)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32)])
    def run(ids):
        n = tf.shape(ids)[0]
        token_ids = tf.stack([tf.fill([n], tok.cls_id), ids, tf.fill([n], tok.sep_id)], axis=1)
        out = forward({"token_ids": token_ids, "padding_mask": tf.ones_like(token_ids),
                       "segment_ids": tf.zeros_like(token_ids)}, training=False)
        return tf.add_n([h[:, 1] for h in out["hidden"]]) / len(out["hidden"])

    table = None
    for start in range(0, size, batch_size):
        rows = run(tf.range(start, min(size, start + batch_size), dtype=tf.int32)).numpy()
        if table is None:
            table = np.zeros((size, rows.shape[1]), np.float32)
        table[start:start + len(rows)] = rows
    return table


def cached_context_table(teacher, cache_dir: str | Path | None) -> np.ndarray:
    """:func:`context_table`, computed once per teacher fingerprint and kept under the teacher-output cache."""
    from .cache import cache_root, load_array, save_npz, teacher_fingerprint

    path = cache_root(cache_dir) / f"{teacher_fingerprint(teacher.path)[:24]}.token_context.npz"
    if path.is_file():
        return load_array(path, "table")
    logger.info(f"embedding init: running the teacher over its {len(teacher.tokenizer.vocab):,} vocabulary tokens "
                f"(once per teacher; cache {path.name})")
    table = context_table(teacher).astype(np.float16)  # stored as float16: the first run starts where later ones do
    save_npz(path, table=table)
    return table.astype(np.float32)


def _from_table(get_table: Callable[..., np.ndarray], label: str):
    def init(embedding, teacher, cache_dir) -> dict:
        if teacher.family != "bert":
            raise EdgekitError(f"embedding_init={label} needs a BERT teacher, not {teacher.family!r}")
        table = get_table(teacher, cache_dir)
        if table.shape[0] != embedding.input_dim:
            raise EdgekitError(f"teacher vocabulary has {table.shape[0]} tokens, the student embedding "
                               f"{embedding.input_dim}")
        proj, explained = project(table, embedding.output_dim)
        embedding.set_weights([proj])
        return {"embedding": f"teacher_{label}", "explained_variance": round(explained, 4)}

    return init


EMBEDDING_INITS: dict[str, Callable] = {
    "context": _from_table(cached_context_table, "context"),
    "pca": _from_table(lambda teacher, cache_dir: input_table(teacher), "pca"),
    "random": lambda embedding, teacher, cache_dir: {"embedding": "random"},
}


def check_embedding_init(name: str) -> None:
    """One clear error for an initialiser name that is not registered."""
    if name not in EMBEDDING_INITS:
        raise EdgekitError(f"unknown embedding_init {name!r}; known: {', '.join(EMBEDDING_INITS)}")


def init_embedding(embedding, name: str, teacher, cache_dir: str | Path | None = None) -> dict:
    """Initialise the Keras ``Embedding`` layer by initialiser ``name``; returns what was done (for metrics)."""
    check_embedding_init(name)
    return EMBEDDING_INITS[name](embedding, teacher, cache_dir)
