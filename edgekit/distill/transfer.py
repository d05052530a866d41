"""The transfer set a student (or a pruned model in recovery) learns from: the training split, plus unlabelled
in-domain sentences (:mod:`.unlabelled`), plus augmented copies (:mod:`.augment`).

The first ``num_gold`` sentences are the training split with their gold labels; every other sentence takes the
teacher's argmax as its hard label (:meth:`TransferSet.labels`). Shared by ``edgekit distill`` and
``edgekit prune --recover``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


@dataclass
class TransferSet:
    texts: list[str]
    num_gold: int
    augment: Any  # AugmentConfig
    unlabelled: Any = None  # Unlabelled, or None

    def labels(self, gold, teacher_logits: np.ndarray) -> np.ndarray:
        """Gold labels of the training split, then the teacher's argmax for the rest."""
        return np.concatenate([np.asarray(gold, np.int32),
                               teacher_logits[self.num_gold:].argmax(-1).astype(np.int32)])

    def info(self, labels: np.ndarray, num_classes: int) -> dict:
        return {"size": len(self.texts), "original": self.num_gold, "augment": self.augment.to_dict(),
                "unlabelled": self.unlabelled.info() if self.unlabelled else None,
                "teacher_labelled_counts": np.bincount(labels[self.num_gold:], minlength=num_classes).tolist()}


def build_transfer_set(teacher, splits, unlabelled: str | None = None, augment: str | None = None,
                       multiplier: int = 1, augment_seed: int = 0, cache_dir: str | None = None) -> TransferSet:
    from .augment import augment_texts, parse_augment
    from .unlabelled import unlabelled_sentences

    extra = unlabelled_sentences(unlabelled, splits) if unlabelled else None
    if extra is not None:
        logger.info(f"unlabelled sentences: {len(extra.texts)} of {extra.read} kept ({extra.dropped_in_split} in the "
                    f"split, {extra.dropped_repeats} repeats dropped)")
    config = parse_augment(augment, multiplier, augment_seed)
    sources = splits.train.texts + (extra.texts if extra else [])
    aug = augment_texts(sources, config, _neighbours(sources, teacher, cache_dir) if config.needs_neighbours else None)
    return TransferSet(aug.texts, len(splits.train.texts), config, extra)


def _neighbours(texts: list[str], teacher, cache_dir) -> dict[str, list[str]]:
    """The ``neighbour`` augmentation rule's map for the words of ``texts``, in the teacher's token space."""
    from .embedding_init import cached_context_table
    from .neighbours import word_neighbours

    table = cached_context_table(teacher, cache_dir)
    near = word_neighbours((w for t in texts for w in t.split()), teacher.tokenizer.vocab, table)
    logger.info(f"augmentation: {len(near):,} words have teacher-space neighbours")
    return near
