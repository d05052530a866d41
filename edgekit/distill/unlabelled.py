"""Unlabelled in-domain sentences for the transfer set (``--unlabelled FILE``).

Distillation needs the teacher's outputs, not gold labels, so any in-domain text can join the
transfer set: the teacher labels it like an augmented sentence. ``FILE`` is a plain ``.txt`` file
(one sentence per line) or any labelled format the data loaders read (labels are ignored).

No leak: every sentence that is in the split — train, validation or test, compared as the split
compares sentences (:func:`edgekit.data.split.dedup_key`) — and every repeat is dropped, and the
counts are recorded. For Financial PhraseBank this makes ``Sentences_50Agree.txt`` next to a
75Agree split exactly the sentences the annotators agreed on less (4,846 − 3,453 = 1,393, minus
repeats).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from ..data import Splits
from ..data.loaders import detect_format, load_dataset
from ..data.split import dedup_key
from ..errors import DataError


@dataclass
class Unlabelled:
    texts: list[str]
    source: str
    read: int
    dropped_in_split: int
    dropped_repeats: int

    def info(self) -> dict:
        d = asdict(self)
        del d["texts"]
        return {**d, "kept": len(self.texts)}


def read_sentences(path: str | Path, encoding: str | None = None) -> list[str]:
    p = Path(path)
    if not p.is_file():
        raise DataError(f"unlabelled sentences not found: {p}")
    try:
        fmt = detect_format(p)
    except DataError:
        if p.suffix.lower() != ".txt":
            raise
        fmt = "lines"
    if fmt == "lines":
        try:
            lines = p.read_text(encoding=encoding or "utf-8").splitlines()
        except UnicodeDecodeError as e:
            raise DataError(f"{p}: not {encoding or 'utf-8'} text ({e.reason}); pass the file's encoding") from None
        return [line.strip() for line in lines if line.strip()]
    return load_dataset(p, format=fmt, encoding=encoding).texts


def unlabelled_sentences(path: str | Path, splits: Splits, encoding: str | None = None) -> Unlabelled:
    """The sentences of ``path`` that are not in ``splits`` (any part), each once, in file order."""
    texts = read_sentences(path, encoding)
    held = {dedup_key(t) for part in splits for t in part.texts}
    kept, seen, in_split, repeats = [], set(), 0, 0
    for text in texts:
        key = dedup_key(text)
        if key in held:
            in_split += 1
        elif key in seen:
            repeats += 1
        else:
            seen.add(key)
            kept.append(text)
    return Unlabelled(kept, str(path), len(texts), in_split, repeats)
