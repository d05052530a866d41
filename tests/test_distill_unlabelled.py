"""Unlabelled transfer sentences: formats read, and nothing of the split (nor a repeat) gets in."""

from __future__ import annotations

import pytest

from edgekit.data import Dataset, Example, Splits
from edgekit.distill.unlabelled import read_sentences, unlabelled_sentences
from edgekit.errors import DataError


def _splits() -> Splits:
    def ds(name, *texts):
        return Dataset(name=name, examples=[Example(t, "neutral") for t in texts],
                       labels=("negative", "neutral", "positive"))

    return Splits(ds("train", "Sales rose 5 %."), ds("validation", "Profit fell."), ds("test", "The CEO resigned."),
                  info={})


def test_fpb_file_labels_ignored_and_split_sentences_dropped(tmp_path):
    fpb = tmp_path / "Sentences_50Agree.txt"  # Financial PhraseBank format, latin-1
    fpb.write_bytes("Sales rose 5 %.@positive\nthe ceo  RESIGNED.@negative\nOrders at Espoo-based Ab grew .@positive\n"
                    "Net sales were EUR 1.2 mn ( \xe9 ) .@neutral\nOrders at Espoo-based Ab grew .@neutral\n"
                    .encode("latin-1"))
    got = unlabelled_sentences(fpb, _splits())
    assert got.texts == ["Orders at Espoo-based Ab grew .", "Net sales were EUR 1.2 mn ( \xe9 ) ."]
    assert got.info() == {"source": str(fpb), "read": 5, "dropped_in_split": 2, "dropped_repeats": 1, "kept": 2}


def test_plain_text_one_sentence_per_line(tmp_path):
    txt = tmp_path / "news.txt"
    txt.write_text("  First line.\n\n\nProfit fell.\nSecond line.\n", encoding="utf-8")
    assert read_sentences(txt) == ["First line.", "Profit fell.", "Second line."]
    assert unlabelled_sentences(txt, _splits()).texts == ["First line.", "Second line."]


def test_missing_or_undecodable_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_sentences(tmp_path / "nope.txt")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"caf\xe9\n")
    with pytest.raises(DataError, match="encoding"):
        read_sentences(bad)
    assert read_sentences(bad, encoding="latin-1") == ["caf\xe9"]
