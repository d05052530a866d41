"""Loaders on the real Financial PhraseBank files and on malformed ones."""

from __future__ import annotations

import json

import pytest

from edgekit.data import load_dataset
from edgekit.errors import DataError


@pytest.mark.parametrize("level,rows,counts", [
    ("75Agree", 3453, {"negative": 420, "neutral": 2146, "positive": 887}),
    ("AllAgree", 2264, {"negative": 303, "neutral": 1391, "positive": 570}),
    ("50Agree", 4846, {"negative": 604, "neutral": 2879, "positive": 1363}),
])
def test_fpb_counts_match_the_release(fpb_dir, level, rows, counts):
    ds = load_dataset(fpb_dir / f"Sentences_{level}.txt")
    assert len(ds) == rows and ds.counts() == counts
    assert ds.labels == ("negative", "neutral", "positive")
    assert not any(t.endswith("\r") or "@" in t[-12:] for t in ds.texts)


def test_fpb_is_read_as_latin1_and_split_on_last_at(fpb_dir, tmp_path):
    ds = load_dataset(fpb_dir / "Sentences_50Agree.txt")
    assert any("£" in t or "ä" in t or "é" in t for t in ds.texts)
    f = tmp_path / "Sentences_TestAgree.txt"
    f.write_bytes("Mail me @ home, the caf\xe9 said@neutral\r\nProfit up@positive\r\n".encode("latin-1"))
    ds = load_dataset(f)
    assert ds.examples[0].text == "Mail me @ home, the café said" and ds.examples[0].label == "neutral"


def test_fpb_folder_with_level(fpb_dir):
    assert len(load_dataset(fpb_dir, level="all")) == 2264
    with pytest.raises(DataError, match="unknown Financial PhraseBank level"):
        load_dataset(fpb_dir, level="90")


@pytest.mark.parametrize("content,message", [
    (b"Good sentence@positive\r\nno separator here\r\n", r"Sentences_BadAgree.txt:2: expected 'sentence@label'"),
    (b"Good@positive\r\nBad label@great\r\n", r"Sentences_BadAgree.txt:2: unknown label 'great'"),
    (b"@positive\r\n", r"every row has empty text \(the first at \S*Sentences_BadAgree.txt:1\)"),
    (b"", r"no examples"),
])
def test_malformed_fpb_names_file_and_line(tmp_path, content, message):
    f = tmp_path / "Sentences_BadAgree.txt"
    f.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_dataset(f)


def test_csv_tsv_jsonl_with_custom_columns(tmp_path):
    (tmp_path / "d.csv").write_text('sentence,y\n"Sales rose, strongly",up\nSales fell,down\n')
    ds = load_dataset(tmp_path / "d.csv", text_column="sentence", label_column="y")
    assert ds.texts == ["Sales rose, strongly", "Sales fell"] and ds.labels == ("down", "up")
    (tmp_path / "d.tsv").write_text("text\tlabel\nA\tx\nB\ty\n")
    assert load_dataset(tmp_path / "d.tsv").label_ids == [0, 1]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps({"t": t, "l": lab}) for t, lab in [("a", "p"), ("b", "q")]))
    ds = load_dataset(tmp_path / "d.jsonl", text_column="t", label_column="l", labels=["q", "p"])
    assert ds.labels == ("q", "p") and ds.label_ids == [1, 0]


@pytest.mark.parametrize("name,content,kw,message", [
    ("a.csv", "text,label\nok,pos\n", {"label_column": "y"}, r"a.csv:1: no column 'y'"),
    ("a.csv", "text,label\nok,pos\nbad,neg\n", {"labels": ["pos"]}, r"a.csv:3: unknown label 'neg'"),
    ("a.jsonl", '{"text": "a", "label": "x"}\n{"text": "b", "label": \n', {}, r"a.jsonl:2: invalid JSON"),
    ("a.jsonl", '{"text": "a", "label": "x"}\n["b", "y"]\n', {}, r"a.jsonl:2: expected an object"),
    ("a.jsonl", '{"text": "a", "label": "x"}\n', {}, r"at least two labels"),
    ("a.txt", "whatever", {}, r"cannot tell the format"),
])
def test_malformed_files_name_their_place(tmp_path, name, content, kw, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(DataError, match=message):
        load_dataset(tmp_path / name, **kw)


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_dataset(tmp_path / "missing.csv")
    (tmp_path / "x.csv").write_text("text,label\na,b\n")
    with pytest.raises(DataError, match="unknown data format 'xml'"):
        load_dataset(tmp_path / "x.csv", format="xml")


def test_hf_dataset_offline_is_one_clear_error(monkeypatch):
    pytest.importorskip("datasets", reason="the optional 'hub' extra is not installed")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(DataError, match="cannot load Hugging Face dataset"):
        load_dataset("hf:financial_phrasebank:sentences_75agree")
