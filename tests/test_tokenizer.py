"""The pure-Python WordPiece tokenizer against Hugging Face's fast BERT tokenizer."""

from __future__ import annotations

import pytest

from edgekit.data import load_dataset
from edgekit.data.loaders import FPB_LEVELS

EDGE_CASES = [
    "Héllo wörld ÀÉÎ naïve café Föreningssparbanken",
    "中文字符 and 日本語 mixed with English",
    "¼ of €5.5bn, £3m and ¥120 — up 12.5 % (y/y)!",
    "a" * 150,
    "supercalifragilisticexpialidociousness unknownwordzzzqqq",
    "[CLS] literal [SEP] tokens [MASK] stay whole",
    "İstanbul ΣΑΣ ǅ ﬁnance",
    "tab\there\x00ctrl\u200bzero\u2028line\r\nbreak",
    "Ⅷ ① ²³ ¾ ½",
    "",
    "   ",
]


def _fpb_sentences(fpb_dir) -> list[str]:
    seen: dict[str, None] = {}
    for level in FPB_LEVELS:
        for text in load_dataset(fpb_dir / f"Sentences_{level}.txt").texts:
            seen.setdefault(text)
    return list(seen)


def test_identical_ids_to_hf_on_all_of_financial_phrasebank(fpb_dir, tokenizer, vocab_path):
    from tokenizers.implementations import BertWordPieceTokenizer

    hf = BertWordPieceTokenizer(str(vocab_path), lowercase=True)
    sentences = _fpb_sentences(fpb_dir) + EDGE_CASES
    assert len(sentences) > 4800
    mismatches = []
    for text in sentences:
        expected = hf.encode(text).ids
        ours = tokenizer.convert_tokens_to_ids([tokenizer.cls_token, *tokenizer.tokenize(text), tokenizer.sep_token])
        if ours != expected:
            mismatches.append(text)
    assert mismatches == [], f"{len(mismatches)} sentences differ, first: {mismatches[:3]}"


def test_encode_fixed_length_with_truncation_and_true_count(tokenizer):
    text = "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn"
    full = tokenizer.tokenize(text)
    enc = tokenizer.encode(text, max_length=8)
    assert len(enc.ids) == len(enc.mask) == len(enc.segment_ids) == 8
    assert enc.num_tokens == len(full) + 2 and enc.truncated
    assert enc.ids[0] == tokenizer.cls_id and enc.ids[-1] == tokenizer.sep_id
    assert enc.ids[1:7] == tokenizer.convert_tokens_to_ids(full[:6])
    assert enc.mask == [1] * 8 and set(enc.segment_ids) == {0}

    padded = tokenizer.encode("profit rose", max_length=16)
    n = padded.num_tokens
    assert not padded.truncated and padded.mask == [1] * n + [0] * (16 - n)
    assert padded.ids[n:] == [tokenizer.pad_id] * (16 - n)
    assert tokenizer.count_tokens("profit rose") == n


def test_wordpiece_rules(tokenizer):
    assert tokenizer.tokenize("a" * 101) == ["[UNK]"]  # longer than max_input_chars_per_word
    pieces = tokenizer.tokenize("unaffordable")
    assert len(pieces) > 1 and all(p.startswith("##") for p in pieces[1:])
    assert tokenizer.tokenize("Crème BRÛLÉE") == tokenizer.tokenize("creme brulee")
    assert tokenizer.tokenize("profit,loss.") == ["profit", ",", "loss", "."]
    assert tokenizer.tokenize("中文") == ["中", "文"]
    assert tokenizer.tokenize("a\x00b\u0007c") == tokenizer.tokenize("abc")
    assert tokenizer.decode(tokenizer.encode("unaffordable housing", 16).ids) == "unaffordable housing"


def test_cased_tokenizer_keeps_case_and_accents(vocab_path):
    from edgekit.tokenizer import WordPieceTokenizer

    cased = WordPieceTokenizer.from_file(vocab_path, lower_case=False)
    assert cased.normalize("Café") == "Café"
    assert WordPieceTokenizer.from_file(vocab_path, strip_accents=False).normalize("Café") == "café"


def test_settings_round_trip(tokenizer, vocab_path):
    from edgekit.tokenizer import WordPieceTokenizer

    again = WordPieceTokenizer.from_settings(vocab_path, tokenizer.settings)
    assert again.settings == tokenizer.settings


def test_encode_rejects_length_below_two(tokenizer):
    with pytest.raises(ValueError):
        tokenizer.encode("x", max_length=1)
