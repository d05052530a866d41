"""Tokenize a dataset once into fixed-length arrays; batches are trimmed to a length bucket."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tokenizer import WordPieceTokenizer

TRIM_LENGTHS = (16, 32, 64, 128, 256, 512)


@dataclass
class Encoded:
    token_ids: np.ndarray  # [N, L] int32
    padding_mask: np.ndarray  # [N, L] int32
    segment_ids: np.ndarray  # [N, L] int32
    num_tokens: np.ndarray  # [N] true lengths with [CLS]/[SEP]

    def __len__(self) -> int:
        return int(self.token_ids.shape[0])

    def inputs(self, idx: np.ndarray | slice, length: int | None = None) -> dict[str, np.ndarray]:
        L = length or self.token_ids.shape[1]
        return {
            "token_ids": self.token_ids[idx, :L],
            "padding_mask": self.padding_mask[idx, :L],
            "segment_ids": self.segment_ids[idx, :L],
        }

    def take(self, idx: np.ndarray) -> "Encoded":
        """The sentences ``idx`` only."""
        return Encoded(self.token_ids[idx], self.padding_mask[idx], self.segment_ids[idx], self.num_tokens[idx])

    def trim_length(self, idx: np.ndarray | slice) -> int:
        """The smallest trim length holding every sentence of the batch (at most the encoded length)."""
        longest = int(self.num_tokens[idx].max()) if np.size(self.num_tokens[idx]) else 1
        full = self.token_ids.shape[1]
        return next((L for L in TRIM_LENGTHS if L >= longest and L <= full), full)


def encode_texts(tokenizer: WordPieceTokenizer, texts: list[str], max_length: int) -> Encoded:
    ids, mask, seg, num = tokenizer.encode_batch(texts, max_length)
    return Encoded(ids, mask, seg, num)
