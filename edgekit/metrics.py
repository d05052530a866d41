"""Classification metrics and latency statistics in plain numpy.

The on-device runner and the Android app's Java core compute the same figures; the definitions
here are the reference. Macro-F1 is the unweighted mean of the per-class F1 over every label of the
label set, with 0 for a class that is never predicted or never present (scikit-learn's
``zero_division=0`` with ``labels=`` given). Percentiles interpolate linearly (numpy's default).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

PERCENTILES = (50, 90, 99)


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> np.ndarray:
    """Rows are true labels, columns predicted labels."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError("y_true and y_pred differ in length")
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def classification_report(
    y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str]
) -> dict:
    """Accuracy, macro/weighted F1 and per-class precision/recall/F1/support, JSON-ready.

    Every class in ``labels`` counts in the macro average (zero_division=0), so a model that
    never predicts a class is penalised for it.
    """
    k = len(labels)
    cm = confusion_matrix(y_true, y_pred, k)
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1).astype(np.float64)
    predicted = cm.sum(axis=0).astype(np.float64)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(k), where=denom > 0)
    n = support.sum()
    per_class = {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(labels)
    }
    return {
        "n": int(n),
        "accuracy": float(tp.sum() / n) if n else 0.0,
        "macro_f1": float(f1.mean()) if k else 0.0,
        "weighted_f1": float((f1 * support).sum() / n) if n else 0.0,
        "macro_precision": float(precision.mean()) if k else 0.0,
        "macro_recall": float(recall.mean()) if k else 0.0,
        "per_class": per_class,
        "labels": list(labels),
        "confusion_matrix": cm.tolist(),
    }


def macro_f1(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> float:
    return classification_report(y_true, y_pred, [str(i) for i in range(num_classes)])["macro_f1"]


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default, the same rule as the Java core)."""
    arr = np.sort(np.asarray(values, dtype=np.float64))
    if arr.size == 0:
        raise ValueError("no values")
    pos = (arr.size - 1) * (q / 100.0)
    lo = int(np.floor(pos))
    hi = min(lo + 1, arr.size - 1)
    return float(arr[lo] + (arr[hi] - arr[lo]) * (pos - lo))


def latency_stats(values_ms: Sequence[float]) -> dict:
    """p50/p90/p99/mean/std(population)/min/max of latencies in milliseconds."""
    arr = np.asarray(values_ms, dtype=np.float64)
    if arr.size == 0:
        raise ValueError("no latency samples")
    out = {f"p{q}": percentile(arr, q) for q in PERCENTILES}
    out.update(
        mean=float(arr.mean()),
        std=float(arr.std()),
        min=float(arr.min()),
        max=float(arr.max()),
        count=int(arr.size),
    )
    return out


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    z = logits - logits.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)
