"""BERT WordPiece tokenization, written to give the same ids as Hugging Face's uncased fast tokenizer.

The normalisation follows ``tokenizers``' ``BertNormalizer`` step for step (clean text, space out CJK
ideographs, strip accents, lower-case — in that order), the pre-tokenisation its ``BertPreTokenizer``
(split on white space, isolate every punctuation character) and the model its ``WordPiece``
(greedy longest-match-first with the ``##`` continuation prefix, ``[UNK]`` for a word longer than
``max_input_chars_per_word`` or with no match). Special tokens written literally in the text
(``[CLS]``, ``[SEP]``, ...) are kept whole, as the HF tokenizer does.

Only the standard library is used, so the same file runs on a phone-class board.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Sequence

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def parse_vocab(text: str) -> list[str]:
    """The tokens of a vocab.txt's text: one per line (LF, CRLF or CR ends a line), the line number is the
    id; empty lines at the end are dropped."""
    tokens = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while tokens and tokens[-1] == "":
        tokens.pop()
    return tokens


def load_vocab(path: str | os.PathLike) -> list[str]:
    """One token per line, the line number is the id (BERT's vocab.txt)."""
    with open(path, encoding="utf-8", newline="") as fh:
        return parse_vocab(fh.read())


def _is_control(ch: str) -> bool:
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")


def _is_whitespace(ch: str) -> bool:
    return ch in " \t\n\r" or ch.isspace()


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


@dataclass(frozen=True)
class Encoding:
    """One encoded text, fixed length: ``ids``, ``mask`` and ``segment_ids`` of ``max_length`` each.

    ``num_tokens`` is the true length with ``[CLS]`` and ``[SEP]`` before truncation: the runner uses
    it to pick the smallest length bucket that holds the whole sentence.
    """

    ids: list[int]
    mask: list[int]
    segment_ids: list[int]
    num_tokens: int
    tokens: list[str] = field(default_factory=list)

    @property
    def truncated(self) -> bool:
        return self.num_tokens > len(self.ids)


class WordPieceTokenizer:
    """Uncased (by default) BERT WordPiece tokenizer over a vocab list.

    >>> tok = WordPieceTokenizer.from_file("vocab.txt")          # doctest: +SKIP
    >>> tok.encode("Profit rose 5 %", max_length=16).ids          # doctest: +SKIP
    """

    def __init__(
        self,
        vocab: Sequence[str],
        *,
        lower_case: bool = True,
        strip_accents: bool | None = None,
        clean_text: bool = True,
        handle_chinese_chars: bool = True,
        max_input_chars_per_word: int = 100,
        continuing_subword_prefix: str = "##",
        unk_token: str = "[UNK]",
        cls_token: str = "[CLS]",
        sep_token: str = "[SEP]",
        pad_token: str = "[PAD]",
        mask_token: str = "[MASK]",
    ) -> None:
        self.vocab = list(vocab)
        self.token_to_id = {tok: i for i, tok in enumerate(self.vocab)}
        self.lower_case = lower_case
        # HF: strip_accents=None follows lower_case
        self.strip_accents = lower_case if strip_accents is None else strip_accents
        self.clean_text = clean_text
        self.handle_chinese_chars = handle_chinese_chars
        self.max_input_chars_per_word = max_input_chars_per_word
        self.prefix = continuing_subword_prefix
        self.unk_token, self.cls_token, self.sep_token = unk_token, cls_token, sep_token
        self.pad_token, self.mask_token = pad_token, mask_token
        for name in (unk_token, cls_token, sep_token, pad_token):
            if name not in self.token_to_id:
                raise ValueError(f"vocabulary has no {name} token")
        self.unk_id = self.token_to_id[unk_token]
        self.cls_id = self.token_to_id[cls_token]
        self.sep_id = self.token_to_id[sep_token]
        self.pad_id = self.token_to_id[pad_token]
        specials = [t for t in (pad_token, unk_token, cls_token, sep_token, mask_token) if t in self.token_to_id]
        self._special_re = re.compile("(" + "|".join(re.escape(t) for t in specials) + ")")
        self._cache: dict[str, list[str]] = {}

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_file(cls, vocab_path: str | os.PathLike, **settings) -> "WordPieceTokenizer":
        return cls(load_vocab(vocab_path), **settings)

    @property
    def settings(self) -> dict:
        """The settings a bundle manifest records so a device rebuilds the same tokenizer."""
        return {
            "type": "bert_wordpiece",
            "lower_case": self.lower_case,
            "strip_accents": self.strip_accents,
            "clean_text": self.clean_text,
            "handle_chinese_chars": self.handle_chinese_chars,
            "max_input_chars_per_word": self.max_input_chars_per_word,
            "continuing_subword_prefix": self.prefix,
            "special_tokens": {
                "unk": self.unk_token,
                "cls": self.cls_token,
                "sep": self.sep_token,
                "pad": self.pad_token,
                "mask": self.mask_token,
            },
            "vocab_size": len(self.vocab),
        }

    @classmethod
    def from_settings(cls, vocab_path: str | os.PathLike, settings: dict) -> "WordPieceTokenizer":
        return cls.with_settings(load_vocab(vocab_path), settings)

    @classmethod
    def with_settings(cls, vocab: list[str], settings: dict) -> "WordPieceTokenizer":
        """The tokenizer of ``vocab`` with a manifest's / model directory's tokenizer ``settings``."""
        special = settings.get("special_tokens", {})
        return cls(
            vocab,
            lower_case=settings.get("lower_case", True),
            strip_accents=settings.get("strip_accents"),
            clean_text=settings.get("clean_text", True),
            handle_chinese_chars=settings.get("handle_chinese_chars", True),
            max_input_chars_per_word=settings.get("max_input_chars_per_word", 100),
            continuing_subword_prefix=settings.get("continuing_subword_prefix", "##"),
            unk_token=special.get("unk", "[UNK]"),
            cls_token=special.get("cls", "[CLS]"),
            sep_token=special.get("sep", "[SEP]"),
            pad_token=special.get("pad", "[PAD]"),
            mask_token=special.get("mask", "[MASK]"),
        )

    # ------------------------------------------------------------------ normalisation
    def normalize(self, text: str) -> str:
        if self.clean_text:
            out = []
            for ch in text:
                cp = ord(ch)
                if cp == 0 or cp == 0xFFFD or _is_control(ch):
                    continue
                out.append(" " if _is_whitespace(ch) else ch)
            text = "".join(out)
        if self.handle_chinese_chars:
            text = "".join(f" {ch} " if _is_cjk(ord(ch)) else ch for ch in text)
        if self.strip_accents:
            text = "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")
        if self.lower_case:
            # per character, like the Rust normaliser (no context-dependent final sigma)
            text = "".join(ch.lower() for ch in text)
        return text

    @staticmethod
    def pre_tokenize(text: str) -> list[str]:
        words: list[str] = []
        current: list[str] = []
        for ch in text:
            if _is_whitespace(ch):
                if current:
                    words.append("".join(current))
                    current = []
            elif _is_punctuation(ch):
                if current:
                    words.append("".join(current))
                    current = []
                words.append(ch)
            else:
                current.append(ch)
        if current:
            words.append("".join(current))
        return words

    def wordpiece(self, word: str) -> list[str]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        if len(word) > self.max_input_chars_per_word:
            pieces = [self.unk_token]
        else:
            pieces = []
            start = 0
            while start < len(word):
                end = len(word)
                match = None
                while start < end:
                    piece = word[start:end]
                    if start > 0:
                        piece = self.prefix + piece
                    if piece in self.token_to_id:
                        match = piece
                        break
                    end -= 1
                if match is None:
                    pieces = [self.unk_token]
                    break
                pieces.append(match)
                start = end
        if len(self._cache) < 200_000:
            self._cache[word] = pieces
        return pieces

    # ------------------------------------------------------------------ public API
    def tokenize(self, text: str) -> list[str]:
        tokens: list[str] = []
        for i, part in enumerate(self._special_re.split(text)):
            if i % 2 == 1:  # a literal special token
                tokens.append(part)
                continue
            for word in self.pre_tokenize(self.normalize(part)):
                tokens.extend(self.wordpiece(word))
        return tokens

    def convert_tokens_to_ids(self, tokens: Iterable[str]) -> list[int]:
        return [self.token_to_id.get(t, self.unk_id) for t in tokens]

    def count_tokens(self, text: str) -> int:
        """Length with [CLS] and [SEP]: what a sentence needs to fit a length bucket untruncated."""
        return len(self.tokenize(text)) + 2

    def encode(self, text: str, max_length: int = 128) -> Encoding:
        if max_length < 2:
            raise ValueError("max_length must be at least 2 ([CLS] and [SEP])")
        tokens = self.tokenize(text)
        num_tokens = len(tokens) + 2
        kept = [self.cls_token, *tokens[: max_length - 2], self.sep_token]
        ids = self.convert_tokens_to_ids(kept)
        pad = max_length - len(ids)
        return Encoding(
            ids=ids + [self.pad_id] * pad,
            mask=[1] * len(ids) + [0] * pad,
            segment_ids=[0] * max_length,
            num_tokens=num_tokens,
            tokens=kept,
        )

    def encode_batch(self, texts: Sequence[str], max_length: int = 128):
        """Numpy arrays ``(ids, mask, segment_ids, num_tokens)``; imports numpy lazily."""
        import numpy as np

        encs = [self.encode(t, max_length) for t in texts]
        ids = np.array([e.ids for e in encs], dtype=np.int32).reshape(len(encs), max_length)
        mask = np.array([e.mask for e in encs], dtype=np.int32).reshape(len(encs), max_length)
        seg = np.zeros_like(ids)
        num = np.array([e.num_tokens for e in encs], dtype=np.int32)
        return ids, mask, seg, num

    def decode(self, ids: Iterable[int], skip_special: bool = True) -> str:
        specials = {self.cls_token, self.sep_token, self.pad_token}
        out: list[str] = []
        for i in ids:
            tok = self.vocab[i] if 0 <= i < len(self.vocab) else self.unk_token
            if skip_special and tok in specials:
                continue
            if tok.startswith(self.prefix) and out:
                out[-1] += tok[len(self.prefix):]
            else:
                out.append(tok)
        return " ".join(out)
