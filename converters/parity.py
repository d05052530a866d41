"""The parity gate: a converted file against its source Keras model, example by example.

Both see the same token ids: the check split is encoded once at the largest bucket; each example runs
in the TFLite signature of the smallest bucket that holds it (what a device does), through the same
runner ``edgekit predict`` and the benchmark runner use (:class:`edgekit.runtime.model.SignatureModel`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import EdgekitError
from ..metrics import classification_report
from ..runtime.buckets import pick_bucket


class ParityError(EdgekitError):
    """A converted file that disagrees with its source model beyond the mode's thresholds."""


@dataclass
class CheckSet:
    """Encoded examples (at the largest bucket) with the source model's logits and the gold labels."""

    token_ids: np.ndarray
    padding_mask: np.ndarray
    segment_ids: np.ndarray
    num_tokens: np.ndarray
    source_logits: np.ndarray
    label_ids: np.ndarray | None
    labels: list[str]
    name: str

    def __len__(self) -> int:
        return int(self.token_ids.shape[0])


def make_check_set(model, tokenizer, texts: list[str], label_ids, labels: list[str], max_length: int,
                   name: str, progress: str | None = None) -> CheckSet:
    from ..train.encode import encode_texts
    from ..train.loop import predict_logits

    if not texts:
        raise EdgekitError(f"the {name} set has no examples: nothing to check the conversion against")
    enc = encode_texts(tokenizer, texts, max_length)
    logits = predict_logits(model, enc, progress=progress)
    return CheckSet(enc.token_ids, enc.padding_mask, enc.segment_ids, enc.num_tokens, logits,
                    None if label_ids is None else np.asarray(label_ids), list(labels), name)


def tflite_logits(runner, check: CheckSet, buckets: list[tuple[int, str]], progress: str | None = None
                  ) -> np.ndarray:
    """Logits of ``runner`` (a SignatureModel) for every example, each in its bucket."""
    out = np.zeros_like(check.source_logits, dtype=np.float32)
    it = range(len(check))
    if progress:
        from ..progress import progress_bar

        it = progress_bar(it, desc=progress)
    for i in it:
        L, sig = pick_bucket(buckets, int(check.num_tokens[i]))
        out[i] = runner.run(sig, check.token_ids[i, :L], check.padding_mask[i, :L], check.segment_ids[i, :L])
    return out


def compare(source: np.ndarray, converted: np.ndarray, label_ids, labels: list[str]) -> dict:
    if not np.all(np.isfinite(converted)):
        bad = int((~np.isfinite(converted)).any(axis=1).sum())
        return {"examples": int(len(source)), "non_finite_outputs": bad, "argmax_agreement": 0.0,
                "max_abs_logit_error": float("inf"), "mean_abs_logit_error": float("inf")}
    diff = np.abs(source - converted)
    out = {
        "examples": int(len(source)),
        "argmax_agreement": float(np.mean(source.argmax(-1) == converted.argmax(-1))) if len(source) else 1.0,
        "max_abs_logit_error": float(diff.max()) if diff.size else 0.0,
        "mean_abs_logit_error": float(diff.mean()) if diff.size else 0.0,
    }
    if label_ids is not None:
        src = classification_report(label_ids, source.argmax(-1), labels)
        conv = classification_report(label_ids, converted.argmax(-1), labels)
        out.update({"source_macro_f1": src["macro_f1"], "tflite_macro_f1": conv["macro_f1"],
                    "macro_f1_delta": conv["macro_f1"] - src["macro_f1"],
                    "source_accuracy": src["accuracy"], "tflite_accuracy": conv["accuracy"]})
    return out


def gate(figures: dict, thresholds) -> tuple[bool, list[str]]:
    """Whether ``figures`` pass ``thresholds`` (a modes.Thresholds), and the reasons when not."""
    why = []
    if figures.get("non_finite_outputs"):
        why.append(f"{figures['non_finite_outputs']} examples gave NaN/inf logits")
    if figures["argmax_agreement"] < thresholds.min_argmax_agreement:
        why.append(f"argmax agreement {figures['argmax_agreement']:.4f} < {thresholds.min_argmax_agreement}")
    if "macro_f1_delta" in figures and -figures["macro_f1_delta"] > thresholds.max_macro_f1_drop:
        why.append(f"macro-F1 drop {-figures['macro_f1_delta']:.4f} > {thresholds.max_macro_f1_drop}")
    if thresholds.max_abs_logit_error is not None and figures["max_abs_logit_error"] > thresholds.max_abs_logit_error:
        why.append(f"max |Δlogit| {figures['max_abs_logit_error']:.4g} > {thresholds.max_abs_logit_error}")
    return not why, why


def check_file(path: str | Path, check: CheckSet, buckets: list[tuple[int, str]], thresholds, threads: int = 1,
               runtime=None, progress: str | None = None) -> dict:
    from ..runtime.model import SignatureModel

    runner = SignatureModel(path, [sig for _, sig in buckets], threads=threads, runtime=runtime)
    converted = tflite_logits(runner, check, buckets, progress=progress)
    figures = compare(check.source_logits, converted, check.label_ids, check.labels)
    passed, why = gate(figures, thresholds)
    figures.update({"check_set": check.name, "thresholds": thresholds.to_dict(), "passed": passed})
    if why:
        figures["failures"] = why
    return figures
