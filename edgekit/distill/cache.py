"""Teacher outputs on a transfer set, computed once and cached on disk (``.npz``).

Sweeps train many students on the same transfer set; the teacher runs once per (teacher, transfer
set). The cache key hashes the teacher's weights file, family and config, the tokenizer settings,
the encoded length and the transfer texts in order. Each component is its own file so a later run
that needs more (e.g. hidden states of another layer) computes only what is missing::

    CACHE_DIR/<key>.logits.npz          logits [N, C] float32
    CACHE_DIR/<key>.hidden_3.npz        transformer layer 3 output, ragged float16
    CACHE_DIR/<key>.embeddings.npz      embedding block output, ragged float16
    CACHE_DIR/<key>.sentence.npz        the vector the classifier head reads (pooled output) [N, H] float16

Per-token arrays are stored ragged (only each sentence's real tokens, float16) — FPB sentences
have a median of 28 tokens in a 64-token window, so this is ~2.3x smaller than padded, and float16
halves it again. :class:`RaggedTokens` assembles padded float32 batches for the training loop.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..fsutil import atomic_write_bytes, sha256_file

logger = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    root = os.environ.get("EDGEKIT_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "edgekit")
    return Path(root) / "teacher-outputs"


def cache_root(cache_dir: str | Path | None) -> Path:
    """``cache_dir`` as given, or :func:`default_cache_dir` when it is None."""
    return Path(cache_dir) if cache_dir else default_cache_dir()


class RaggedTokens:
    """Per-token vectors of N sentences of different lengths, stored flat: ``flat[offsets[i]:offsets[i+1]]``."""

    dtype = np.float32

    def __init__(self, flat: np.ndarray, offsets: np.ndarray):
        self.flat = flat
        self.offsets = offsets.astype(np.int64)
        self.tail_shape = tuple(flat.shape[1:])

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def take_batch(self, idx: np.ndarray, length: int) -> np.ndarray:
        out = np.zeros((len(idx), length, *self.tail_shape), np.float32)
        for j, i in enumerate(np.asarray(idx)):
            a, b = self.offsets[i], self.offsets[i + 1]
            n = min(b - a, length)
            out[j, :n] = self.flat[a:a + n]
        return out

    def subset(self, idx: np.ndarray) -> "RaggedTokens":
        parts = [self.flat[self.offsets[i]:self.offsets[i + 1]] for i in idx]
        lengths = np.array([len(p) for p in parts], np.int64)
        flat = np.concatenate(parts) if parts else self.flat[:0]
        return RaggedTokens(flat, np.concatenate([[0], np.cumsum(lengths)]))

    @classmethod
    def from_padded(cls, padded: np.ndarray, lengths: np.ndarray, dtype=np.float16) -> "RaggedTokens":
        lengths = np.minimum(lengths, padded.shape[1]).astype(np.int64)
        flat = np.concatenate([padded[i, :n] for i, n in enumerate(lengths)]).astype(dtype)
        return cls(flat, np.concatenate([[0], np.cumsum(lengths)]))


@dataclass
class TeacherOutputs:
    logits: np.ndarray
    hidden: dict[int, RaggedTokens] = field(default_factory=dict)
    embeddings: RaggedTokens | None = None
    sentence: np.ndarray | None = None
    key: str = ""
    computed: bool = False  # False when everything came from the cache

    def targets(self) -> dict:
        """``extra_targets`` for the training loop."""
        from .losses import teacher_hidden_key

        out: dict = {"teacher_logits": self.logits.astype(np.float32)}
        out.update({teacher_hidden_key(t): h for t, h in self.hidden.items()})
        if self.embeddings is not None:
            out["teacher_embeddings"] = self.embeddings
        if self.sentence is not None:
            out["teacher_sentence"] = self.sentence
        return out


def teacher_fingerprint(teacher_dir: str | Path) -> str:
    """Hash of what determines the teacher's outputs: weights, family, config, tokenizer settings.

    One distillation run asks for it several times (each cached output, the embedding start, the
    metrics); the 90 MB weights file is hashed once per (folder, files' size and mtime).
    """
    teacher_dir = Path(teacher_dir).resolve()
    files = [teacher_dir / n for n in ("edgekit_model.json", "model.weights.h5", "vocab.txt")]
    return _fingerprint(teacher_dir, tuple((f.stat().st_size, f.stat().st_mtime_ns) for f in files))


@functools.lru_cache(maxsize=16)
def _fingerprint(teacher_dir: Path, stamp: tuple) -> str:
    meta = json.loads((teacher_dir / "edgekit_model.json").read_text())
    h = hashlib.sha256()
    h.update(sha256_file(teacher_dir / "model.weights.h5").encode())
    h.update(json.dumps({k: meta.get(k) for k in ("family", "config", "tokenizer")}, sort_keys=True).encode())
    h.update(sha256_file(teacher_dir / "vocab.txt").encode())
    return h.hexdigest()


def transfer_key(teacher_fp: str, texts: list[str], max_length: int) -> str:
    h = hashlib.sha256(f"{teacher_fp}\n{max_length}\n".encode())
    for t in texts:
        h.update(t.encode("utf-8") + b"\x1e")
    return h.hexdigest()[:24]


def save_npz(path: Path, **arrays) -> None:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def _load_ragged(path: Path) -> RaggedTokens:
    with np.load(path) as z:
        return RaggedTokens(z["flat"], z["offsets"])


def load_array(path: Path, name: str) -> np.ndarray:
    with np.load(path) as z:
        return z[name].astype(np.float32)


def teacher_outputs(
    teacher,  # LoadedModel
    texts: list[str],
    enc,  # Encoded
    *,
    hidden_layers: list[int] = (),
    embeddings: bool = False,
    sentence: bool = False,
    cache_dir: str | Path | None = None,
    batch_size: int = 64,
) -> TeacherOutputs:
    """Logits (always) and the asked-for per-token outputs of ``teacher`` on ``enc``, cached."""
    cache_dir = cache_root(cache_dir)
    key = transfer_key(teacher_fingerprint(teacher.path), texts, enc.token_ids.shape[1])
    paths = {"logits": cache_dir / f"{key}.logits.npz"}
    paths.update({f"hidden_{t}": cache_dir / f"{key}.hidden_{t}.npz" for t in hidden_layers})
    for name, asked in (("embeddings", embeddings), ("sentence", sentence)):
        if asked:
            paths[name] = cache_dir / f"{key}.{name}.npz"
    missing = [name for name, p in paths.items() if not p.is_file()]
    if missing:
        logger.info(f"teacher outputs: computing {', '.join(missing)} for {len(texts)} sentences (cache {key})")
        computed = _run_teacher(teacher, enc, missing, batch_size)
        for name in missing:
            value = computed[name]
            if isinstance(value, RaggedTokens):
                save_npz(paths[name], flat=value.flat, offsets=value.offsets)
            else:
                save_npz(paths[name], **{name: value})
    else:
        logger.debug(f"teacher outputs: reused from cache {key}")
    return TeacherOutputs(
        logits=load_array(paths["logits"], "logits"),
        hidden={t: _load_ragged(paths[f"hidden_{t}"]) for t in hidden_layers},
        embeddings=_load_ragged(paths["embeddings"]) if embeddings else None,
        sentence=load_array(paths["sentence"], "sentence") if sentence else None,
        key=key,
        computed=bool(missing),
    )


VECTOR_DTYPES = {"logits": np.float32, "sentence": np.float16}  # per-sentence outputs and their stored dtype


def _run_teacher(teacher, enc, names: list[str], batch_size: int) -> dict:
    import tensorflow as tf

    from .features import feature_forward

    wanted = set()
    if any(n.startswith("hidden_") for n in names):
        wanted.add("hidden")
    wanted.update({"embeddings", "sentence"}.intersection(names))
    forward = feature_forward(teacher.model, teacher.family, wanted)
    spec = {k: tf.TensorSpec([None, None], tf.int32) for k in ("token_ids", "padding_mask", "segment_ids")}

    @tf.function(input_signature=[spec], reduce_retracing=True)
    def run(inputs):
        out = forward(inputs, training=False)
        result = {"logits": out["logits"]}
        for name in ("embeddings", "sentence"):
            if name in out:
                result[name] = out[name]
        for i, h in enumerate(out.get("hidden", [])):
            result[f"hidden_{i}"] = h
        return result

    n = len(enc)
    lengths = np.minimum(enc.num_tokens, enc.token_ids.shape[1])
    order = np.argsort(enc.num_tokens, kind="stable")
    # one vector per sentence ([N, D], width known after the first batch), logits always
    vectors = {name: np.zeros((n, 0), dtype) for name, dtype in VECTOR_DTYPES.items()
               if name == "logits" or name in names}
    per_token: dict[str, list] = {name: [None] * n for name in names if name not in VECTOR_DTYPES}
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        L = enc.trim_length(idx)
        out = run({k: tf.constant(v) for k, v in enc.inputs(idx, L).items()})
        for name, stored in vectors.items():
            batch = out[name].numpy()
            if stored.shape[1] == 0:
                stored = vectors[name] = np.zeros((n, batch.shape[1]), stored.dtype)
            stored[idx] = batch
        for name in per_token:
            arr = out[name].numpy()
            for j, i in enumerate(idx):
                per_token[name][i] = arr[j, :lengths[i]].astype(np.float16)
    result: dict = dict(vectors)
    for name, rows in per_token.items():
        flat = np.concatenate(rows) if rows else np.zeros((0, 0), np.float16)
        result[name] = RaggedTokens(flat, np.concatenate([[0], np.cumsum(lengths)]))
    return result
