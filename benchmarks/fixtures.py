"""A small but real bundle built with TensorFlow, for tests of the runner and its targets.

Not part of the runner (it imports TensorFlow). The model is a bag-of-embeddings classifier with the
contract's signatures (one fixed ``[1, L]`` endpoint per bucket, inputs ``ids``/``mask``/``segment_ids``,
float32 ``logits``), converted to fp32, dynamic-int8 and full-int8 TFLite files, with a schema-1
manifest whose sizes and sha256 are real. Bundles from ``edgekit convert`` are used where a test
needs the real model families.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

from ..contracts import (INPUT_NAMES, LABELS_NAME, MANIFEST_NAME, MANIFEST_SCHEMA_VERSION, VOCAB_NAME, check_manifest,
                         vocab_sha256, vocab_text)
from ..fsutil import sha256_file
from ..runtime.buckets import default_buckets

BUCKETS = default_buckets()
LABELS = ("negative", "neutral", "positive")


def _module(vocab_size: int, dim: int = 32, hidden: int = 32, seed: int = 7):
    import tensorflow as tf

    class BagOfEmbeddings(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = tf.Variable(tf.random.stateless_normal([vocab_size, dim], seed=[seed, 1]))
            self.w1 = tf.Variable(tf.random.stateless_normal([dim, hidden], seed=[seed, 2]) * 0.5)
            self.b1 = tf.Variable(tf.zeros([hidden]))
            self.w2 = tf.Variable(tf.random.stateless_normal([hidden, len(LABELS)], seed=[seed, 3]) * 0.5)

        def logits(self, ids, mask, segment_ids):
            e = tf.gather(self.emb, ids)
            m = tf.cast(mask, tf.float32)[..., None]
            pooled = tf.reduce_sum(e * m, axis=1) / tf.maximum(tf.reduce_sum(m, axis=1), 1.0)
            pooled += tf.cast(tf.reduce_sum(segment_ids, axis=1, keepdims=True), tf.float32) * 0.0
            h = tf.nn.relu(tf.matmul(pooled, self.w1) + self.b1)
            return {"logits": tf.matmul(h, self.w2)}

    return BagOfEmbeddings()


def build_bundle(out: str | Path, vocab_path: str | Path, modes: Sequence[str] = ("fp32", "dynamic_int8", "int8"),
                 name: str = "bag_of_embeddings", source_checkpoint: str = "none (test fixture)") -> Path:
    """Write a complete bundle to ``out`` (a new folder) and return its path."""
    import numpy as np
    import tensorflow as tf

    out = Path(out)
    out.mkdir(parents=True)
    vocab = [line.rstrip("\n") for line in Path(vocab_path).read_text(encoding="utf-8").splitlines()]
    model = _module(len(vocab))
    signatures = {}
    for length, sig in BUCKETS:
        spec = [tf.TensorSpec([1, length], tf.int32, name=n) for n in INPUT_NAMES]
        fn = tf.function(lambda ids, mask, segment_ids: model.logits(ids, mask, segment_ids), input_signature=spec)
        signatures[sig] = fn.get_concrete_function()
    work = Path(tempfile.mkdtemp(prefix="edgekit-fixture-"))
    try:
        tf.saved_model.save(model, str(work / "saved"), signatures=signatures)
        rng = np.random.default_rng(0)

        def representative():
            for _ in range(40):
                for length, sig in BUCKETS:
                    n = int(rng.integers(3, length + 1))
                    ids = np.zeros((1, length), np.int32)
                    ids[0, :n] = rng.integers(0, len(vocab), n)
                    mask = np.zeros((1, length), np.int32)
                    mask[0, :n] = 1
                    yield sig, {"ids": ids, "mask": mask, "segment_ids": np.zeros((1, length), np.int32)}

        entries = {}
        for mode in modes:
            conv = tf.lite.TFLiteConverter.from_saved_model(str(work / "saved"), signature_keys=[s for _, s in BUCKETS])
            if mode == "dynamic_int8":
                conv.optimizations = [tf.lite.Optimize.DEFAULT]
            elif mode == "int8":
                conv.optimizations = [tf.lite.Optimize.DEFAULT]
                conv.representative_dataset = representative
                conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            elif mode != "fp32":
                raise ValueError(f"fixture mode {mode!r} not supported")
            file = f"model_{mode}.tflite"
            (out / file).write_bytes(conv.convert())
            entries[mode] = {
                "file": file, "bytes": (out / file).stat().st_size, "sha256": sha256_file(out / file),
                "signatures": [s for _, s in BUCKETS], "weights_shared_across_buckets": True,
                "parity": {"examples": 0, "argmax_agreement": None, "passed": True, "note": "test fixture"},
            }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (out / VOCAB_NAME).write_text(vocab_text(vocab), encoding="utf-8")
    (out / LABELS_NAME).write_text("\n".join(LABELS) + "\n", encoding="utf-8")
    manifest = {
        "schema_version": MANIFEST_SCHEMA_VERSION,
        "format": "edgekit-bundle",
        "model": {"name": name, "family": "fixture", "source_checkpoint": source_checkpoint,
                  "embedding_rows": len(vocab), "num_classes": len(LABELS)},
        "labels": list(LABELS),
        "tokenizer": {"type": "bert_wordpiece", "vocab_file": VOCAB_NAME, "lower_case": True, "strip_accents": True,
                      "clean_text": True, "handle_chinese_chars": True, "max_input_chars_per_word": 100,
                      "continuing_subword_prefix": "##",
                      "special_tokens": {"unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]", "pad": "[PAD]",
                                         "mask": "[MASK]"},
                      "vocab_size": len(vocab), "vocab_sha256": vocab_sha256(vocab)},
        "inputs": [{"name": n, "dtype": "int32"} for n in INPUT_NAMES],
        "outputs": [{"name": "logits", "dtype": "float32"}],
        "buckets": [{"length": n, "signature": s} for n, s in BUCKETS],
        "modes": entries,
    }
    problems = check_manifest(manifest)
    assert not problems, problems
    (out / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return out
