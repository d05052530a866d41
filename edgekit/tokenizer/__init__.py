"""Pure-Python BERT WordPiece tokenizer (no TensorFlow): runs on the host, on devices and in tests."""

from .wordpiece import Encoding, WordPieceTokenizer, load_vocab, parse_vocab

__all__ = ["Encoding", "WordPieceTokenizer", "load_vocab", "parse_vocab"]
