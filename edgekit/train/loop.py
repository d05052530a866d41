"""A small, explicit training loop for Keras models on TensorFlow.

Why not ``model.fit``: keras-hub's ``fit`` on numpy silently ignores ``shuffle=True`` (Financial
PhraseBank files are grouped by label), and ``save_weights`` on a compiled model stores optimizer
state. This loop shuffles every epoch with its own seeded generator, trims each batch to the
shortest length bucket that holds it (2-4x faster on short sentences), evaluates macro-F1 on the
validation split after every epoch, keeps the best weights in memory and stops early.

The loss is pluggable — ``loss_fn(logits, batch) -> per-example loss`` — so distillation reuses
the loop with teacher targets carried in ``batch``:

- ``extra_targets`` are per-example arrays sliced into every batch (``v[idx]``), or objects with a
  ``take_batch(idx, length)`` method (:class:`BatchTarget`, e.g. per-token teacher hidden states stored
  ragged) that return the batch already trimmed to the batch's length bucket.
- ``forward_fn(inputs, training) -> dict`` replaces ``model(inputs)`` in the training step when the
  loss needs more than logits (hidden states, embeddings); its ``"logits"`` entry is passed as
  ``logits`` and the whole dict as ``batch["outputs"]``. It must use ``model``'s variables; trainable
  variables of its own (a projection used only by a loss) go in its ``extra_variables`` attribute and
  are trained alongside but not kept with the model.
"""

from __future__ import annotations

import logging
import math
import time
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Protocol

import numpy as np

from ..errors import EdgekitError
from ..metrics import classification_report
from .encode import Encoded

LossFn = Callable[[Any, dict[str, Any]], Any]
ForwardFn = Callable[[dict[str, Any], bool], dict[str, Any]]

logger = logging.getLogger(__name__)


class BatchTarget(Protocol):
    """A per-example target that assembles its own batches (e.g. ragged per-token arrays)."""

    dtype: Any
    tail_shape: tuple  # per-example shape after the length axis, e.g. (hidden,) for [B, L, hidden]

    def take_batch(self, idx: np.ndarray, length: int) -> np.ndarray:
        """The batch ``idx`` as ``[len(idx), length, *tail_shape]``."""


@dataclass
class TrainConfig:
    epochs: int = 4
    batch_size: int = 32
    learning_rate: float = 3e-5
    decay_rate: float = 0.9
    decay_steps: int = 10_000
    schedule: str = "exponential"  # see edgekit.train.schedules: exponential | linear | constant
    warmup_ratio: float = 0.1  # linear schedule: share of the planned steps spent warming up
    max_length: int = 64
    class_weights: str | None = None  # None or "balanced"
    seed: int = 42
    patience: int = 2  # epochs without a better validation macro-F1 before stopping
    ema: float = 0.0  # > 0: evaluate and keep an exponential moving average of the weights (Polyak averaging)
    eval_batch_size: int = 64

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class History:
    epochs: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_val_macro_f1: float = -1.0
    stopped_early: bool = False
    train_seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def balanced_class_weights(label_ids: np.ndarray, num_classes: int) -> np.ndarray:
    counts = np.bincount(label_ids, minlength=num_classes).astype(np.float64)
    weights = np.where(counts > 0, len(label_ids) / (num_classes * np.maximum(counts, 1)), 0.0)
    return weights.astype(np.float32)


def predict_logits(model, data: Encoded, batch_size: int = 64, progress: str | None = None) -> np.ndarray:
    """Logits for every example, in order, batches trimmed to their length bucket."""
    import tensorflow as tf

    fn = _predict_fn(model)
    out = []
    order = np.argsort(data.num_tokens, kind="stable")  # similar lengths together: less padding
    for start in _progress(range(0, len(data), batch_size), progress):
        idx = order[start:start + batch_size]
        L = data.trim_length(idx)
        out.append(fn({k: tf.constant(v) for k, v in data.inputs(idx, L).items()}).numpy())
    logits = np.concatenate(out) if out else np.zeros((0, 0), np.float32)
    result = np.empty_like(logits)
    result[order] = logits
    return result


_PREDICT_CACHE: dict[int, Any] = {}


def _predict_fn(model):
    import tensorflow as tf

    key = id(model)
    if key not in _PREDICT_CACHE:
        spec = {k: tf.TensorSpec([None, None], tf.int32) for k in ("token_ids", "padding_mask", "segment_ids")}

        @tf.function(input_signature=[spec], reduce_retracing=True)
        def fn(inputs):
            return model(inputs, training=False)

        _PREDICT_CACHE.clear()
        _PREDICT_CACHE[key] = fn
    return _PREDICT_CACHE[key]


def forget_traces(model) -> None:
    """Drop ``model``'s traced predict function: the next prediction traces its layers' ``call`` anew (after
    :func:`edgekit.qat.fake_quant.fake_quantized` swaps them)."""
    _PREDICT_CACHE.pop(id(model), None)


def _progress(iterable, desc: str | None):
    if desc is None:
        return iterable
    from ..progress import progress_bar

    return progress_bar(iterable, desc=desc)


def evaluate(model, data: Encoded, label_ids: np.ndarray, labels: list[str], batch_size: int = 64) -> dict:
    logits = predict_logits(model, data, batch_size)
    return classification_report(label_ids, logits.argmax(-1), labels)


def fit(
    model,
    train: Encoded,
    train_labels: np.ndarray,
    val: Encoded,
    val_labels: np.ndarray,
    labels: list[str],
    config: TrainConfig,
    loss_fn: LossFn | None = None,
    extra_targets: dict[str, np.ndarray] | None = None,
    progress: bool = True,
    forward_fn: ForwardFn | None = None,
) -> History:
    """Train ``model`` in place; on return it holds the weights of the best validation epoch."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    num_classes = len(labels)
    weights = (balanced_class_weights(train_labels, num_classes) if config.class_weights == "balanced"
               else np.ones(num_classes, np.float32))
    from .schedules import make_schedule

    steps = math.ceil(len(train) / config.batch_size)
    optimizer = keras.optimizers.Adam(learning_rate=make_schedule(config, steps * config.epochs))
    # Create the optimizer's slots now: variables created inside the first trace make tf.function trace twice.
    variables = list(model.trainable_variables) + list(getattr(forward_fn, "extra_variables", ()))
    optimizer.build(variables)
    loss_fn = loss_fn or hard_label_loss
    extra_targets = extra_targets or {}
    ema = WeightAverage(model, config.ema) if config.ema > 0 else None

    seq_spec = tf.TensorSpec([None, None], tf.int32)
    batch_spec = {
        "token_ids": seq_spec, "padding_mask": seq_spec, "segment_ids": seq_spec,
        "labels": tf.TensorSpec([None], tf.int32), "sample_weight": tf.TensorSpec([None], tf.float32),
        **{k: _target_spec(v) for k, v in extra_targets.items()},
    }

    @tf.function(input_signature=[batch_spec], reduce_retracing=True)
    def train_step(batch):
        inputs = {k: batch[k] for k in ("token_ids", "padding_mask", "segment_ids")}
        with tf.GradientTape() as tape:
            if forward_fn is None:
                logits = model(inputs, training=True)
                per_example = loss_fn(logits, batch)
            else:
                outputs = forward_fn(inputs, training=True)
                logits = outputs["logits"]
                per_example = loss_fn(logits, {**batch, "outputs": outputs})
            loss = tf.reduce_sum(per_example * batch["sample_weight"]) / tf.reduce_sum(batch["sample_weight"])
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(grads, variables))
        if ema is not None:
            ema.update(optimizer.iterations)
        return loss

    history = History()
    best_weights = None
    stale = 0
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        t0 = time.perf_counter()
        order = rng.permutation(len(train))
        losses = []
        bar = _progress(range(steps), f"epoch {epoch}/{config.epochs}" if progress else None)
        for s in bar:
            idx = order[s * config.batch_size:(s + 1) * config.batch_size]
            L = train.trim_length(idx)
            batch = {
                **train.inputs(idx, L),
                "labels": train_labels[idx].astype(np.int32),
                "sample_weight": weights[train_labels[idx]],
                **{k: _take(v, idx, L) for k, v in extra_targets.items()},
            }
            losses.append(float(train_step(batch)))
            if hasattr(bar, "set_postfix") and s % 10 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-10:]):.4f}")
        # with Polyak averaging, the averaged weights are evaluated (and kept, if best); training goes on from the raw
        with ema.swapped_in() if ema is not None else nullcontext():
            report = evaluate(model, val, val_labels, labels, config.eval_batch_size)
            improved = report["macro_f1"] > history.best_val_macro_f1
            if improved:
                best_weights = [w.numpy().copy() for w in model.weights]
        record = {
            "epoch": epoch,
            "train_loss": float(np.mean(losses)),
            "val_macro_f1": report["macro_f1"],
            "val_accuracy": report["accuracy"],
            "seconds": round(time.perf_counter() - t0, 2),
        }
        history.epochs.append(record)
        if improved:
            history.best_val_macro_f1 = report["macro_f1"]
            history.best_epoch = epoch
            stale = 0
        else:
            stale += 1
        logger.info(f"epoch {epoch}: loss {record['train_loss']:.4f}  val macro-F1 {report['macro_f1']:.4f}  "
                    f"val acc {report['accuracy']:.4f}  ({record['seconds']:.0f}s){'  *best' if improved else ''}")
        if stale >= config.patience:
            history.stopped_early = epoch < config.epochs
            break
    history.train_seconds = round(time.perf_counter() - start, 2)
    if best_weights is not None:
        for var, value in zip(model.weights, best_weights):
            var.assign(value)
    return history


class WeightAverage:
    """Exponential moving average of a model's trainable weights, updated inside the train step.

    The decay ramps up as ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates (TensorFlow's
    ``ExponentialMovingAverage(num_updates=...)`` rule), so the first steps do not drag the random
    initial weights along. ``swapped_in()`` puts the averages into the model for evaluation and
    restores the raw weights afterwards.
    """

    def __init__(self, model, decay: float):
        import tensorflow as tf

        if not 0.0 < decay < 1.0:
            raise EdgekitError(f"ema decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.targets = list(model.trainable_variables)
        self.shadow = [tf.Variable(v, trainable=False, name=f"ema_{i}") for i, v in enumerate(self.targets)]

    def update(self, step) -> None:
        import tensorflow as tf

        n = tf.cast(step, tf.float32)
        d = tf.minimum(self.decay, (1.0 + n) / (10.0 + n))
        for s, v in zip(self.shadow, self.targets):
            s.assign(d * s + (1.0 - d) * tf.cast(v, s.dtype))

    @contextmanager
    def swapped_in(self):
        raw = [v.numpy().copy() for v in self.targets]
        for v, s in zip(self.targets, self.shadow):
            v.assign(s)
        try:
            yield
        finally:
            for v, value in zip(self.targets, raw):
                v.assign(value)


def _target_spec(value):
    import tensorflow as tf

    if hasattr(value, "take_batch"):
        return tf.TensorSpec([None, None, *value.tail_shape], tf.as_dtype(value.dtype))
    return tf.TensorSpec([None, *value.shape[1:]], tf.as_dtype(value.dtype))


def _take(value, idx: np.ndarray, length: int) -> np.ndarray:
    return value.take_batch(idx, length) if hasattr(value, "take_batch") else value[idx]


def hard_label_loss(logits, batch):
    import keras

    return keras.losses.sparse_categorical_crossentropy(batch["labels"], logits, from_logits=True)
