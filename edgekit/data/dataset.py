"""The in-memory dataset type shared by training, distillation, conversion and benchmarks."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from ..errors import DataError
from ..fsutil import atomic_write_text
from ..runtime.buckets import DEFAULT_BUCKETS


@dataclass(frozen=True)
class Example:
    text: str
    label: str


@dataclass
class Dataset:
    """Labelled sentences with an ordered label set; ``label_ids`` index into ``labels``."""

    name: str
    examples: list[Example]
    labels: tuple[str, ...]
    source: str = ""
    notes: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        known = set(self.labels)
        if len(known) != len(self.labels):
            raise DataError(f"{self.name}: the label set {list(self.labels)} names a label twice")
        for ex in self.examples:
            if ex.label not in known:
                raise DataError(f"{self.name}: label {ex.label!r} is not in the label set {list(self.labels)}")

    def __len__(self) -> int:
        return len(self.examples)

    @property
    def texts(self) -> list[str]:
        return [e.text for e in self.examples]

    @property
    def label_ids(self) -> list[int]:
        index = {label: i for i, label in enumerate(self.labels)}
        return [index[e.label] for e in self.examples]

    def counts(self) -> dict[str, int]:
        c = Counter(e.label for e in self.examples)
        return {label: c.get(label, 0) for label in self.labels}

    @property
    def sha256(self) -> str:
        """Content hash: order-sensitive over (label, text) pairs and the label set."""
        h = hashlib.sha256()
        h.update(("\x1f".join(self.labels) + "\n").encode("utf-8"))
        for e in self.examples:
            h.update(f"{e.label}\t{e.text}\n".encode("utf-8"))
        return h.hexdigest()

    def subset(self, indices: Iterable[int], name: str | None = None) -> "Dataset":
        return Dataset(
            name=name or self.name,
            examples=[self.examples[i] for i in indices],
            labels=self.labels,
            source=self.source,
        )

    def head(self, n: int) -> "Dataset":
        return self.subset(range(min(n, len(self))))

    def to_jsonl(self, path: str | Path) -> Path:
        lines = [json.dumps({"text": e.text, "label": e.label}, ensure_ascii=False) for e in self.examples]
        return atomic_write_text(path, "\n".join(lines) + ("\n" if lines else ""))

    def stats(self, tokenizer=None) -> dict:
        words = [len(e.text.split()) for e in self.examples]
        out = {
            "name": self.name,
            "source": self.source,
            "examples": len(self),
            "labels": list(self.labels),
            "counts": self.counts(),
            "words": _describe(words),
            "sha256": self.sha256,
        }
        if tokenizer is not None:
            toks = [tokenizer.count_tokens(e.text) for e in self.examples]
            out["tokens_with_specials"] = _describe(toks)
            out["coverage"] = {str(L): _share(toks, L) for L in DEFAULT_BUCKETS}
        return out


def _describe(values: Sequence[int]) -> dict:
    if not values:
        return {}
    s = sorted(values)
    return {
        "min": s[0],
        "median": s[len(s) // 2],
        "p95": s[min(len(s) - 1, int(0.95 * len(s)))],
        "max": s[-1],
        "mean": round(sum(s) / len(s), 2),
    }


def _share(values: Sequence[int], limit: int) -> float:
    return round(sum(v <= limit for v in values) / len(values), 4) if values else 0.0
