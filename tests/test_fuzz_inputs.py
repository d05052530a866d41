"""Property-based fuzzing (Hypothesis) of what reads user input: the data loaders, the WordPiece tokenizer,
the split and the results-file reader. No exception but edgekit's own escapes, and the round-trip properties
hold. Derandomized with a bounded number of examples, so CI runs the same cases every time, in seconds."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgekit.contracts import RESULT_KIND, RESULT_SCHEMA_VERSION
from edgekit.data import Dataset, Example, load_dataset, split_dataset
from edgekit.data.loaders import is_blank
from edgekit.data.split import SPLIT_NAMES, dedup_key, deduplicate
from edgekit.errors import DataError, EdgekitError
from edgekit.runtime.records import append_record, latest_records, read_records

FUZZ = settings(derandomize=True, database=None, deadline=None, print_blob=False, max_examples=100,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

LABELS = ("negative", "neutral", "positive")  # FPB's, which an FPB file without --labels must use
FILE_NAMES = {"csv": "d.csv", "tsv": "d.tsv", "jsonl": "d.jsonl", "fpb": "Sentences_FuzzAgree.txt"}
ENCODINGS = (None, "utf-8", "latin-1", "cp1252", "utf-16")

# text that stresses every layer: delimiters, quotes, line breaks of every kind, BOMs, zero-width and
# control characters, non-ASCII letters, CJK, emoji (and, for hostile input, NUL)
NASTY = st.sampled_from(list(",\t\"'@\r\n \x0b\x0c\x1c\x85\u2028\u2029\ufeff\u200b\u00a0éÃ©€中😀\\{}[]:"))
TEXT = st.lists(st.one_of(NASTY, st.characters(codec="utf-8", exclude_characters="\x00"), st.just("profit ")),
                max_size=30).map("".join)
HOSTILE_TEXT = st.tuples(TEXT, st.integers(0, 30)).map(lambda p: p[0] + "\x00" if p[1] == 0 else p[0])
LABEL = st.one_of(st.sampled_from(LABELS), HOSTILE_TEXT)
ROW = st.tuples(TEXT, st.sampled_from(LABELS))


def write(folder: Path, fmt: str, data: bytes) -> Path:
    path = folder / FILE_NAMES[fmt]
    path.write_bytes(data)
    return path


def load(path: Path, fmt: str, labels, encoding):
    options = {"encoding": encoding} if encoding else {}
    return load_dataset(path, format=fmt, labels=labels, **options)


def check_loaded(ds: Dataset, labels) -> None:
    assert len(ds) > 0
    for ex in ds.examples:
        assert ex.text and ex.text == ex.text.strip() and not is_blank(ex.text)
        assert ex.label and ex.label in ds.labels
    if labels is not None:
        assert ds.labels == tuple(labels)
    assert len(set(ds.labels)) == len(ds.labels) >= 2


def body(fmt: str, rows: list[tuple[str, str]]) -> str:
    """``rows`` as well-formed lines of ``fmt`` (the csv module's quoting, JSON's escaping), no header."""
    if fmt == "jsonl":
        return "".join(json.dumps({"text": t, "label": lab}, ensure_ascii=False) + "\n" for t, lab in rows)
    if fmt == "fpb":
        return "".join(f"{t}@{lab}\r\n" for t, lab in rows)
    buf = io.StringIO()
    csv.writer(buf, delimiter="," if fmt == "csv" else "\t").writerows(rows)  # CRLF: quotes a field with \r or \n
    return buf.getvalue()


def written(fmt: str, rows: list[tuple[str, str]]) -> str:
    header = {"csv": "text,label\r\n", "tsv": "text\tlabel\r\n"}.get(fmt, "")
    return header + body(fmt, rows)


# ------------------------------------------------------------------------------------------ (a) data loaders
@FUZZ
@given(fmt=st.sampled_from(sorted(FILE_NAMES)), data=st.binary(max_size=300),
       labels=st.sampled_from([None, LABELS]), encoding=st.sampled_from(ENCODINGS))
def test_loaders_on_arbitrary_bytes_raise_only_data_errors(tmp_path, fmt, data, labels, encoding):
    path = write(tmp_path, fmt, data)
    try:
        ds = load(path, fmt, labels, encoding)
    except DataError:
        return
    check_loaded(ds, labels)


def hostile_lines(fmt: str):
    """Lines that look like the format but break it (wrong widths, wrong JSON types, stray separators, NUL),
    mixed with well-formed ones, after a header that may be wrong."""
    json_value = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), HOSTILE_TEXT,
                           st.lists(st.integers(), max_size=2), st.sampled_from(LABELS))
    hostile = {
        "csv": st.lists(st.one_of(HOSTILE_TEXT, LABEL), max_size=4).map(",".join),
        "tsv": st.lists(st.one_of(HOSTILE_TEXT, LABEL), max_size=4).map("\t".join),
        "jsonl": st.one_of(st.dictionaries(st.sampled_from(["text", "label", "x"]), json_value, max_size=3)
                           .map(json.dumps), HOSTILE_TEXT),
        "fpb": st.tuples(HOSTILE_TEXT, LABEL).map("@".join),
    }[fmt]
    good = st.lists(ROW, min_size=1, max_size=3).map(lambda rows: body(fmt, rows).rstrip("\r\n"))
    header = {"csv": st.sampled_from(["text,label", "text,label", "label,text", "text,text,label", "id,text,label"]),
              "tsv": st.sampled_from(["text\tlabel", "text\tlabel", "text\tlabel\textra", "label"]),
              "jsonl": st.just(None), "fpb": st.just(None)}[fmt]
    return st.tuples(header, st.lists(st.one_of(good, hostile), max_size=10))


@FUZZ
@given(st.data())
def test_loaders_on_hostile_rows_raise_only_data_errors(tmp_path, data):
    fmt = data.draw(st.sampled_from(sorted(FILE_NAMES)))
    header, lines = data.draw(hostile_lines(fmt))
    newline = data.draw(st.sampled_from(["\n", "\r\n", "\r"]))
    encoding = data.draw(st.sampled_from(ENCODINGS))
    labels = data.draw(st.sampled_from([None, LABELS] * 4 + [("pos", "pos", "neg"), (), ("pos ", "neg")]))
    text = newline.join(([header] if header else []) + lines) + newline
    raw = text.encode(encoding or ("latin-1" if fmt == "fpb" else "utf-8"), "replace")
    path = write(tmp_path, fmt, data.draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + raw)
    try:
        ds = load(path, fmt, labels, encoding)
    except DataError:
        return
    check_loaded(ds, labels)


@FUZZ
@given(fmt=st.sampled_from(sorted(FILE_NAMES)), rows=st.lists(ROW, max_size=15))
def test_well_formed_files_load_exactly_their_non_blank_rows(tmp_path, fmt, rows):
    if fmt == "fpb":  # one line per sentence, latin-1
        rows = [(t.replace("\r", " ").replace("\n", " ").encode("latin-1", "replace").decode("latin-1"), lab)
                for t, lab in rows]
    encoding = "latin-1" if fmt == "fpb" else "utf-8"
    path = write(tmp_path, fmt, written(fmt, rows).encode(encoding))
    expected = [(t.strip(), lab) for t, lab in rows if not is_blank(t.strip())]
    try:
        ds = load_dataset(path, format=fmt, labels=LABELS, encoding=encoding)
    except DataError as exc:  # only when no row has text
        assert not expected and ("empty" in str(exc) or "no examples" in str(exc)), exc
        return
    assert [(e.text, e.label) for e in ds.examples] == expected


# ------------------------------------------------------------------------------------------- (b) tokenizer
SPECIAL = st.sampled_from(["[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]", "##", "##s", "[cls]", "[CLS"])
TOKENIZER_TEXT = st.lists(st.one_of(st.text(max_size=20), SPECIAL, NASTY, st.sampled_from(["x" * 150, "ab" * 60])),
                          max_size=12).map("".join)


@pytest.fixture(scope="module")
def tokenizers(vocab_path):
    from edgekit.tokenizer import WordPieceTokenizer

    return WordPieceTokenizer.from_file(vocab_path), WordPieceTokenizer.from_file(vocab_path)


@FUZZ
@given(text=TOKENIZER_TEXT, max_length=st.integers(2, 48))
def test_tokenizer_never_raises_and_stays_in_the_vocabulary(tokenizers, text, max_length):
    warm, fresh = tokenizers
    enc = warm.encode(text, max_length=max_length)
    used = sum(enc.mask)
    assert len(enc.ids) == len(enc.mask) == len(enc.segment_ids) == max_length
    assert 2 <= used <= max_length and enc.mask == [1] * used + [0] * (max_length - used)
    assert all(0 <= i < len(warm.vocab) for i in enc.ids)
    assert enc.ids[0] == warm.cls_id and enc.ids[used - 1] == warm.sep_id
    assert all(i == warm.pad_id for i in enc.ids[used:])
    assert enc.num_tokens == warm.count_tokens(text) and used == min(enc.num_tokens, max_length)
    assert enc == warm.encode(text, max_length=max_length) == fresh.encode(text, max_length=max_length)


# ----------------------------------------------------------------------------------------------- (c) split
WORDS = st.lists(st.one_of(st.sampled_from(["Profit", "profit", "loss", " ", "DOWN"]), st.integers(0, 30).map(str)),
                 min_size=1, max_size=3)
SPLIT_ROWS = st.lists(st.tuples(WORDS.map(" ".join).filter(str.strip), st.sampled_from(LABELS)), min_size=5,
                      max_size=150)
FRACTIONS = st.tuples(*[st.integers(2, 8)] * 3).map(lambda w: tuple(x / sum(w) for x in w))


@FUZZ
@given(rows=SPLIT_ROWS, fractions=FRACTIONS, seed=st.integers(0, 2**16))
def test_splits_are_disjoint_complete_and_stratified(rows, fractions, seed):
    ds = Dataset("fuzz", [Example(t.strip(), lab) for t, lab in rows], LABELS)
    try:
        splits = split_dataset(ds, fractions, seed=seed)
    except DataError as exc:
        assert "too few to split" in str(exc) or "split would be empty" in str(exc), exc
        return
    keys = [[dedup_key(t) for t in part.texts] for part in splits]
    assert all(len(k) == len(set(k)) for k in keys)
    assert not (set(keys[0]) & set(keys[1]) or set(keys[0]) & set(keys[2]) or set(keys[1]) & set(keys[2]))
    unique, _ = deduplicate(ds)
    assert sorted(k for part in keys for k in part) == sorted(dedup_key(t) for t in unique.texts)
    per_label = Counter(e.label for e in unique.examples)
    for part, fraction in zip(splits, fractions):
        assert part.notes["split"] in SPLIT_NAMES and len(part) > 0
        for label, n in part.counts().items():
            assert abs(n - fraction * per_label[label]) <= 1, (part.notes["split"], label)
    assert split_dataset(ds, fractions, seed=seed).info["sha256"] == splits.info["sha256"]


# -------------------------------------------------------------------------------------- (d) results reader
def record(key: str) -> dict:
    return {"schema_version": RESULT_SCHEMA_VERSION, "kind": RESULT_KIND, "run_key": key, "quality": {"macro_f1": 0.5}}


RECORD_LINE = st.text(alphabet="abcxyz", min_size=1, max_size=6).map(lambda k: json.dumps(record(k)))
ANY_LINE = st.one_of(RECORD_LINE, TEXT, st.sampled_from(["[" * 5000, "1" * 5000, "null", "{}", '{"kind": 1}',
                                                         json.dumps({**record("k"), "run_key": [1]})]))


@FUZZ
@given(lines=st.lists(st.one_of(ANY_LINE.map(str.encode), st.binary(max_size=40)), max_size=8),
       trailing_newline=st.booleans())
def test_results_reader_returns_records_or_raises_edgekit_errors(tmp_path, lines, trailing_newline):
    path = tmp_path / "results.jsonl"
    path.write_bytes(b"\n".join(lines) + (b"\n" if trailing_newline else b""))
    for read in (read_records, lambda p: latest_records([p])):
        try:
            records = read(path)
        except EdgekitError:
            continue
        assert all(isinstance(r, dict) and r["kind"] == RESULT_KIND for r in records)
        assert all(isinstance(r.get("run_key"), (str, type(None))) for r in records)


@FUZZ
@given(keys=st.lists(st.text(alphabet="abcxyz", min_size=1, max_size=6), max_size=6), cut=st.integers(1, 200),
       new=st.text(alphabet="abcxyz", min_size=1, max_size=6))
def test_a_line_torn_by_a_kill_is_skipped_and_cut_before_the_next_append(tmp_path, keys, cut, new):
    path = tmp_path / "results.jsonl"
    torn = json.dumps(record("torn"), separators=(",", ":"))
    path.write_text("".join(json.dumps(record(k)) + "\n" for k in keys) + torn[:cut % len(torn) or 1])
    assert [r["run_key"] for r in read_records(path)] == keys
    append_record(path, record(new))
    assert [r["run_key"] for r in read_records(path)] == [*keys, new]
