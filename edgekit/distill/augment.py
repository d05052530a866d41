"""Transfer-set augmentation after Tang et al. (2019), offline and deterministic.

Rules (a registry; ``--augment mask=0.1,ngram=0.25,swap=0.1`` or the preset ``tang``):

word-level (each word gets at most one, drawn in this order with its probability)
    ``mask``   replace the word with ``[MASK]`` (p 0.1 in Tang et al.)
    ``swap``   swap the word with its right neighbour — a local word-order perturbation; this is our
               offline stand-in for Tang et al.'s POS-guided replacement, which needs a POS tagger
               and the original vocabulary's word lists (a swap keeps every word and nearly all of
               the sentiment cues of a financial sentence)
    ``delete`` drop the word (EDA-style random deletion; not in the preset)
    ``neighbour`` replace the word with one of its nearest words in the teacher's token space
               (:mod:`edgekit.distill.neighbours`; TinyBERT's embedding-neighbour replacement, and the
               closest offline relative of Tang et al.'s synonym replacement). Applies to words that
               are one whole WordPiece token; neighbours may be antonyms ("strong" ↔ "weak") — the
               teacher labels the new sentence, so such a pair teaches the student what flips it.
sentence-level
    ``ngram``  with probability p, keep only a random window of n words, n uniform in 1..5 (p 0.25)

Every synthetic sentence is derived from one source sentence with its own generator seeded by
``(seed, source index, attempt)``, so the set does not depend on the order of work and is the same
for the same seed. Synthetic sentences equal to their source or to an earlier synthetic sentence
are dropped and redrawn (a bounded number of attempts). The teacher labels them (see
:mod:`edgekit.distill.job`); ``source`` records where each came from, and its gold label is kept
as ``source_label`` for analysis — it is not used for training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from ..errors import EdgekitError

MASK_TOKEN = "[MASK]"
NGRAM_MAX = 5
TANG_PRESET = {"mask": 0.1, "swap": 0.1, "ngram": 0.25}
# rules that need the teacher's word-neighbour map (built by the distillation job)
NEEDS_NEIGHBOURS = frozenset({"neighbour"})

Neighbours = Mapping[str, Sequence[str]]  # lower-cased word → its nearest words, nearest first


def _mask(words: list[str], i: int, rng: np.random.Generator, neighbours: Neighbours) -> None:
    words[i] = MASK_TOKEN


def _swap(words: list[str], i: int, rng: np.random.Generator, neighbours: Neighbours) -> None:
    if i + 1 < len(words):
        words[i], words[i + 1] = words[i + 1], words[i]


def _delete(words: list[str], i: int, rng: np.random.Generator, neighbours: Neighbours) -> None:
    words[i] = None  # type: ignore[call-overload]  # removed after the pass


def _neighbour(words: list[str], i: int, rng: np.random.Generator, neighbours: Neighbours) -> None:
    near = neighbours.get(words[i].lower())
    if near:
        words[i] = near[int(rng.integers(len(near)))]


WORD_RULES: dict[str, Callable[[list[str], int, np.random.Generator, Neighbours], None]] = {
    "mask": _mask,
    "swap": _swap,
    "delete": _delete,
    "neighbour": _neighbour,
}


def _ngram(words: list[str], rng: np.random.Generator) -> list[str]:
    n = int(rng.integers(1, NGRAM_MAX + 1))
    if len(words) <= n:
        return words
    start = int(rng.integers(0, len(words) - n + 1))
    return words[start:start + n]


SENTENCE_RULES: dict[str, Callable[[list[str], np.random.Generator], list[str]]] = {"ngram": _ngram}


@dataclass(frozen=True)
class AugmentConfig:
    rules: tuple[tuple[str, float], ...] = tuple(TANG_PRESET.items())
    multiplier: int = 1  # transfer set = originals + (multiplier − 1) synthetic sentences per original
    seed: int = 0
    max_attempts: int = 4  # redraws per wanted sentence before giving up on it

    def to_dict(self) -> dict:
        return {"rules": dict(self.rules), "multiplier": self.multiplier, "seed": self.seed}

    @property
    def enabled(self) -> bool:
        return self.multiplier > 1 and bool(self.rules)

    @property
    def needs_neighbours(self) -> bool:
        return self.enabled and any(n in NEEDS_NEIGHBOURS and p > 0 for n, p in self.rules)


def parse_augment(text: str | None, multiplier: int = 1, seed: int = 0) -> AugmentConfig:
    """``none``, ``tang`` or ``mask=0.1,ngram=0.25,swap=0.1``."""
    if multiplier < 1:
        raise EdgekitError(f"augmentation multiplier must be >= 1, got {multiplier}")
    if not text or text.strip().lower() in ("none", "off", "0"):
        return AugmentConfig(rules=(), multiplier=1, seed=seed)
    if text.strip().lower() == "tang":
        rules = dict(TANG_PRESET)
    else:
        rules = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, p = part.partition("=")
            if name not in WORD_RULES and name not in SENTENCE_RULES:
                raise EdgekitError(f"unknown augmentation rule {name!r}; known: "
                                   f"{', '.join([*WORD_RULES, *SENTENCE_RULES])} (or 'tang', 'none')")
            try:
                rules[name] = float(p)
            except ValueError:
                raise EdgekitError(f"augmentation rule {name} needs a probability, like {name}=0.1") from None
            if not 0.0 <= rules[name] <= 1.0:
                raise EdgekitError(f"augmentation probability for {name} must be in [0, 1]")
    word_total = sum(p for n, p in rules.items() if n in WORD_RULES)
    if word_total > 1.0:
        raise EdgekitError(f"word-level augmentation probabilities add up to {word_total} > 1")
    return AugmentConfig(rules=tuple(rules.items()), multiplier=max(1, multiplier), seed=seed)


def augment_sentence(text: str, config: AugmentConfig, rng: np.random.Generator,
                     neighbours: Neighbours | None = None) -> str:
    words: list = text.split()
    word_rules = [(n, p) for n, p in config.rules if n in WORD_RULES]
    i = 0
    while i < len(words):
        x = rng.random()
        acc = 0.0
        for name, p in word_rules:
            acc += p
            if x < acc:
                WORD_RULES[name](words, i, rng, neighbours or {})
                if name == "swap":
                    i += 1  # the swapped neighbour is not perturbed again
                break
        i += 1
    words = [w for w in words if w is not None]
    for name, p in config.rules:
        if name in SENTENCE_RULES and rng.random() < p:
            words = SENTENCE_RULES[name](words, rng)
    return " ".join(words)


@dataclass
class AugmentedSet:
    texts: list[str]  # originals first (unchanged, in order), then synthetic sentences
    source: np.ndarray  # [len(texts)] index of the original each sentence comes from
    num_original: int
    config: AugmentConfig = field(default_factory=AugmentConfig)

    @property
    def is_synthetic(self) -> np.ndarray:
        return np.arange(len(self.texts)) >= self.num_original

    def source_labels(self, original_label_ids) -> np.ndarray:
        return np.asarray(original_label_ids)[self.source]


def augment_texts(texts: list[str], config: AugmentConfig, neighbours: Neighbours | None = None) -> AugmentedSet:
    """Originals plus up to ``(multiplier − 1) × len(texts)`` distinct synthetic sentences."""
    if config.needs_neighbours and neighbours is None:
        raise EdgekitError("the neighbour augmentation rule needs the teacher's word-neighbour map")
    out = list(texts)
    source = list(range(len(texts)))
    if config.enabled:
        seen = set(texts)
        per_source = config.multiplier - 1
        for i, text in enumerate(texts):
            made = 0
            for attempt in range(per_source * config.max_attempts):
                if made == per_source:
                    break
                rng = np.random.default_rng([config.seed, i, attempt])
                new = augment_sentence(text, config, rng, neighbours)
                if not new or new in seen:
                    continue
                seen.add(new)
                out.append(new)
                source.append(i)
                made += 1
    return AugmentedSet(out, np.asarray(source, np.int64), len(texts), config)
