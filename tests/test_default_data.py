"""The embedded default dataset: real financial tweets, their loader, notice and reproducible build."""

from __future__ import annotations

import configparser
import csv
import fnmatch
import os
from pathlib import Path

import pytest

from conftest import REPO
from edgekit.data.dataset import Dataset, Example
from edgekit.data.default import (LABELS, NOTICE, PER_LABEL, RESOURCE, SOURCE_LABELS, build_default, clean_text,
                                  load_default, resource_path, sample_per_label)
from edgekit.data.split import dedup_key
from edgekit.errors import DataError

TWEETS_DIR = Path(os.environ.get("EDGEKIT_TWEETS_DIR", REPO.parent / "shared" / "data" / "twitter_financial_news"))
SOURCE_CSV = TWEETS_DIR / "sent_train.csv"
needs_source = pytest.mark.skipif(not SOURCE_CSV.is_file(),
                                  reason=f"Twitter Financial News not found at {TWEETS_DIR} (set EDGEKIT_TWEETS_DIR)")

# (source text as sent_train.csv holds it, its label there): a multi-line tweet, one with quotes and a double
# space, one with a cashtag and a URL
KNOWN = [
    ("CITRON SAYS IT'S LONG ON LUCKIN COFFEE\n\nMW vs CItron", "1"),
    ('"Fade The Rip": BofA Warns "Bear Market Far From Over Unless We Escape A Recession"  '
     "https://t.co/Ia791Nmx1l", "0"),
    ("$WIRES: On The Wires https://t.co/n52v1FvpNW", "2"),
]


def _source_rows() -> list[tuple[str, str]]:
    with open(SOURCE_CSV, encoding="utf-8", newline="") as fh:
        return [(row["text"], row["label"]) for row in csv.DictReader(fh)]


def test_loader_gives_equal_counts_in_label_order():
    ds = load_default()
    assert ds.labels == LABELS == ("negative", "neutral", "positive")
    assert ds.counts() == {"negative": 800, "neutral": 800, "positive": 800} and PER_LABEL == 800
    assert len({dedup_key(t) for t in ds.texts}) == len(ds)  # already deduplicated
    assert not any(c in t for t in ds.texts for c in "\t\r\n")


def test_known_tweets_are_in_the_default_after_cleaning():
    rows = {(e.text, e.label) for e in load_default().examples}
    for text, label in KNOWN:
        assert (clean_text(text), SOURCE_LABELS[label]) in rows
    assert ("CITRON SAYS IT'S LONG ON LUCKIN COFFEE MW vs CItron", "positive") in rows  # quotes, URLs, spaces kept


def test_clean_text_only_collapses_line_breaks():
    assert clean_text(" $AAPL up\n\n  2% https://t.co/x \r\n") == "$AAPL up 2% https://t.co/x"
    assert clean_text('a "b"  c\u00a0d') == 'a "b"  c\u00a0d'
    assert clean_text("a\tb") == "a b"


def test_sample_per_label_is_equal_seeded_and_bounded():
    ds = Dataset("t", [Example(f"n{i}", "negative") for i in range(2)] + [Example(f"u{i}", "neutral") for i in range(7)]
                 + [Example(f"p{i}", "positive") for i in range(3)], LABELS)
    picked = sample_per_label(ds, 2, seed=1)
    assert sorted(e.label for e in picked) == ["negative"] * 2 + ["neutral"] * 2 + ["positive"] * 2
    assert picked == sample_per_label(ds, 2, seed=1) and len({e.text for e in picked}) == 6
    assert {e.text for e in picked} != {e.text for e in sample_per_label(ds, 2, seed=2)}
    with pytest.raises(DataError, match="cannot sample 3 examples of label 'negative': the source has 2"):
        sample_per_label(ds, 3, seed=1)


def test_notice_names_the_data_set_source_and_mit_licence_and_is_package_data():
    notice = resource_path(NOTICE)
    text = notice.read_text(encoding="utf-8")
    for needle in ("Twitter Financial News", "zeroshot/twitter-financial-news-sentiment", "MIT License",
                   "Permission is hereby granted", "The above copyright notice and this permission notice",
                   "umaima-aman/Twee_Sentiment_Analysis-DeepLearning", RESOURCE, f"{PER_LABEL} of each label"):
        assert needle in text, needle
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    patterns = [p.strip() for p in cfg["options.package_data"]["edgekit"].replace(",", "\n").split()]
    for shipped in (f"resources/{RESOURCE}", f"resources/{NOTICE}"):
        assert any(fnmatch.fnmatch(shipped, p) for p in patterns), (shipped, patterns)


@needs_source
def test_every_row_is_a_source_tweet_with_its_mapped_label():
    source = _source_rows()
    assert set(KNOWN) <= set(source)
    cleaned = {(clean_text(text), SOURCE_LABELS[label]) for text, label in source}
    assert all((e.text, e.label) in cleaned for e in load_default().examples)


@needs_source
def test_build_reproduces_the_shipped_file(tmp_path):
    out = build_default(SOURCE_CSV, tmp_path / RESOURCE)
    assert out.read_bytes() == resource_path().read_bytes(), "rebuild with python -m edgekit.data.default SRC_CSV"
