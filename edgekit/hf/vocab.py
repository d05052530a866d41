"""The WordPiece vocabulary and tokenizer settings of a Hugging Face checkpoint folder.

The vocabulary comes from ``vocab.txt`` or, failing that, from the WordPiece model inside
``tokenizer.json``; anything else (BPE, SentencePiece, Unigram) is refused, since edgekit's tokenizer,
its device runtime and the Android core serve BERT WordPiece only. Settings: ``tokenizer_config.json``
(``do_lower_case``, ``strip_accents``, ``tokenize_chinese_chars``, special tokens, ``model_max_length``),
then the ``BertNormalizer`` of ``tokenizer.json`` for what it leaves out, then BERT's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelLoadError
from ..fsutil import read_json_object
from ..tokenizer import WordPieceTokenizer, load_vocab

# tokenizer_config.json's "no limit" sentinel is ~1e30
_NO_LIMIT = 1_000_000
_SPECIAL = {"unk": "unk_token", "cls": "cls_token", "sep": "sep_token", "pad": "pad_token", "mask": "mask_token"}


@dataclass(frozen=True)
class CheckpointVocab:
    tokens: list[str]
    tokenizer: WordPieceTokenizer
    model_max_length: int | None  # None: the checkpoint sets no limit
    origin: str  # the file the tokens came from


def read_vocab(folder: Path) -> CheckpointVocab:
    tokenizer_json = _read_json(folder / "tokenizer.json")
    config = _read_json(folder / "tokenizer_config.json") or {}
    if (folder / "vocab.txt").is_file():
        tokens, origin = load_vocab(folder / "vocab.txt"), "vocab.txt"
    elif tokenizer_json is not None:
        tokens, origin = _wordpiece_tokens(tokenizer_json), "tokenizer.json"
    else:
        raise ModelLoadError(f"{folder} has no vocab.txt or tokenizer.json: edgekit import needs the WordPiece "
                             "vocabulary")
    normalizer = (tokenizer_json or {}).get("normalizer") or {}
    if normalizer.get("type") != "BertNormalizer":
        normalizer = {}
    lower = _first(config.get("do_lower_case"), normalizer.get("lowercase"), True)
    settings = {
        "lower_case": bool(lower),
        "strip_accents": _first(config.get("strip_accents"), normalizer.get("strip_accents"), None),
        "clean_text": bool(_first(normalizer.get("clean_text"), True)),
        "handle_chinese_chars": bool(_first(config.get("tokenize_chinese_chars"),
                                            normalizer.get("handle_chinese_chars"), True)),
    }
    special = {f"{name}_token": _token_text(config.get(key)) for name, key in _SPECIAL.items()
               if _token_text(config.get(key))}
    try:
        tokenizer = WordPieceTokenizer(tokens, **settings, **special)
    except ValueError as exc:
        raise ModelLoadError(f"{origin}: {exc}") from None
    limit = config.get("model_max_length")
    limit = int(limit) if isinstance(limit, (int, float)) and 0 < limit < _NO_LIMIT else None
    return CheckpointVocab(tokens, tokenizer, limit, origin)


def _wordpiece_tokens(tokenizer_json: dict) -> list[str]:
    model = tokenizer_json.get("model") or {}
    if model.get("type") != "WordPiece":
        raise ModelLoadError(f"tokenizer.json holds a {model.get('type') or 'unknown'} tokenizer: edgekit serves "
                             "BERT WordPiece tokenizers only")
    vocab: dict[str, int] = model.get("vocab") or {}
    tokens = sorted(vocab, key=vocab.__getitem__)
    if [vocab[t] for t in tokens] != list(range(len(tokens))):
        raise ModelLoadError("tokenizer.json: the WordPiece ids are not 0..N-1")
    return tokens


def _read_json(path: Path) -> dict | None:
    if not path.is_file():
        return None
    return read_json_object(path, ModelLoadError, path.name)


def _first(*values):
    return next((v for v in values if v is not None), None)


def _token_text(value) -> str | None:
    """A special token as tokenizer_config.json spells it: a string or an AddedToken record."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) and value else None
