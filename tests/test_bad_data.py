"""Bad data input through the CLI: each class ends as one ``error:`` line and exit 2 with nothing written, or
loads with one ``warning:`` line where the input is legal but suspicious; good files load as before."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgekit.cli import cli
from edgekit.data import Splits, load_dataset
from edgekit.errors import DataError

ROWS = [(f"sentence number {i} about {'profit' if i % 2 else 'loss'}", "pos" if i % 2 else "neg") for i in range(40)]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def files(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


def assert_error(result, *fragments: str) -> str:
    """Exit 2, exactly one stderr line ``error: ...`` holding every fragment, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.output
    return lines[0]


def assert_warning(result, *fragments: str) -> str:
    """Exit 0 and exactly one stderr line ``warning: ...`` holding every fragment."""
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def split_fails(tmp_path: Path, data: Path, *args, fragments: tuple[str, ...]) -> str:
    """``data split`` of ``data`` is one error and writes nothing."""
    before = files(tmp_path)
    line = assert_error(invoke("data", "split", data, "--out", tmp_path / "out", *args), *fragments)
    assert files(tmp_path) == before
    return line


def tsv(rows=ROWS, header="text\tlabel") -> str:
    return header + "\n" + "".join(f"{t}\t{lab}\n" for t, lab in rows)


def jsonl(objects) -> str:
    return "".join(json.dumps(o) + "\n" for o in objects)


GOOD_JSONL = [{"text": t, "label": lab} for t, lab in ROWS]


# ------------------------------------------------------------------------------------------------ labels
@pytest.mark.parametrize("labels,fragments", [
    ("pos,pos,neg", ("label 'pos' is given twice", "--labels pos,pos,neg")),
    ("neg,pos,neg", ("label 'neg' is given twice",)),
    (",", ("the label set (--labels) is empty",)),
])
def test_a_bad_label_set_is_one_error(tmp_path, labels, fragments):
    data = tmp_path / "d.tsv"
    data.write_text(tsv())
    split_fails(tmp_path, data, "--labels", labels, fragments=fragments)


# ---------------------------------------------------------------------------------------------- encodings
def test_invalid_bytes_name_line_and_offset_and_the_encoding_to_use(tmp_path):
    data = tmp_path / "d.tsv"
    data.write_bytes(tsv().encode() + "Caf\xe9 sales up\tpos\n".encode("latin-1"))
    split_fails(tmp_path, data, fragments=(f"{data}:42: byte 0xe9 at offset ", "not valid utf-8",
                                           "--encoding latin-1"))
    assert invoke("data", "split", data, "--encoding", "latin-1", "--out", tmp_path / "out").exit_code == 0


@pytest.mark.parametrize("encoding", ["klingon", "rot13", "base64"])
def test_unknown_or_non_text_encoding_is_one_error(tmp_path, encoding):
    data = tmp_path / "d.tsv"
    data.write_text(tsv())
    split_fails(tmp_path, data, "--encoding", encoding, fragments=(f"unknown text encoding {encoding!r}",))


@pytest.mark.parametrize("bom,wide", [(codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
                                      (codecs.BOM_UTF32_LE, "utf-32")])
def test_a_utf16_or_utf32_file_names_its_encoding(tmp_path, bom, wide):
    data = tmp_path / "d.tsv"
    codec = {codecs.BOM_UTF16_LE: "utf-16-le", codecs.BOM_UTF16_BE: "utf-16-be", codecs.BOM_UTF32_LE: "utf-32-le"}
    data.write_bytes(bom + tsv().encode(codec[bom]))
    split_fails(tmp_path, data, fragments=(f"byte-order mark; pass --encoding {wide}",))
    assert invoke("data", "split", data, "--encoding", wide, "--out", tmp_path / "out").exit_code == 0


def test_nul_bytes_are_not_text(tmp_path):
    data = tmp_path / "Sentences_BinAgree.txt"
    data.write_bytes(b"profit up@positive\r\n\x00\x01\x02@neutral\r\n")
    split_fails(tmp_path, data, fragments=(f"{data}:2: NUL character",))


def test_a_utf8_bom_is_dropped_without_a_word(tmp_path):
    data = tmp_path / "d.csv"
    data.write_bytes(codecs.BOM_UTF8 + ("text,label\n" + "".join(f"{t},{lab}\n" for t, lab in ROWS)).encode())
    result = invoke("data", "split", data, "--out", tmp_path / "out")
    assert result.exit_code == 0 and not result.stderr, result.output
    plain = tmp_path / "plain.csv"
    plain.write_bytes(data.read_bytes()[3:])
    assert load_dataset(data).sha256 == load_dataset(plain).sha256
    fpb = tmp_path / "Sentences_BomAgree.txt"
    fpb.write_bytes(codecs.BOM_UTF8 + b"Profit up@positive\r\nLoss@negative\r\n")
    assert load_dataset(fpb, encoding="utf-8").texts == ["Profit up", "Loss"]


def test_utf8_read_as_latin1_loads_with_one_warning_naming_the_encoding(tmp_path):
    data = tmp_path / "Sentences_Utf8Agree.txt"
    data.write_bytes("Profit up at the café@positive\r\nLoss at Nokia’s unit@negative\r\n".encode())
    line = assert_warning(invoke("data", "stats", data), "UTF-8 read as latin-1", "line 1",
                          "'cafÃ©@positive' is 'café@positive'", "pass --encoding utf-8")
    assert str(data) in line
    result = invoke("data", "stats", data, "--encoding", "utf-8", "--json")
    assert result.exit_code == 0 and not result.stderr
    assert json.loads(result.stdout)["examples"] == 2
    assert load_dataset(data, encoding="utf-8").texts == ["Profit up at the café", "Loss at Nokia’s unit"]


def test_an_ascii_file_read_as_utf16_is_never_silent(tmp_path):
    data = tmp_path / "d.tsv"
    data.write_text(tsv() + "x" * (len(tsv()) % 2))  # an even number of bytes: decodes, as CJK garbage
    result = invoke("data", "stats", data, "--encoding", "utf-16")
    assert result.exit_code == 2
    warning, error = result.stderr.splitlines()
    assert warning.startswith("warning: ") and "looks like UTF-8 read as utf-16" in warning
    assert error.startswith("error: ") and "no column 'text' in header" in error and len(error) < 300


# ---------------------------------------------------------------------------------------------------- JSONL
@pytest.mark.parametrize("bad,fragment", [
    ({"text": None, "label": "pos"}, "'text' is null, expected a string"),
    ({"text": 12, "label": "pos"}, "'text' is a number, expected a string"),
    ({"text": ["a", "b"], "label": "pos"}, "'text' is an array"),
    ({"text": "ok", "label": 1}, "'label' is a number, expected a string (write \"1\""),
    ({"text": "ok", "label": 1.0}, "'label' is a number"),
    ({"text": "ok", "label": True}, "'label' is a boolean"),
    ({"text": "ok", "label": None}, "'label' is null"),
    ({"text": "ok"}, "no 'label' key (found 'text')"),
    ({"sentence": "ok", "label": "pos"}, "no 'text' key"),
    (["ok", "pos"], "expected an object with 'text' and 'label'"),
    ("ok", "expected an object"),
])
def test_jsonl_values_that_are_not_strings_name_file_and_line(tmp_path, bad, fragment):
    data = tmp_path / "d.jsonl"
    data.write_text(jsonl(GOOD_JSONL[:3] + [bad] + GOOD_JSONL[3:]))
    split_fails(tmp_path, data, fragments=(f"{data}:4: ", fragment))


@pytest.mark.parametrize("line,fragment", [
    ('{"text": "a", "label": ', "invalid JSON"),
    ("[" * 100_000, "invalid JSON (nested too deeply)"),
    ('{"text": "a", "label": "pos", "n": ' + "7" * 5000 + "}", "invalid JSON (Exceeds the limit"),
])
def test_jsonl_lines_that_are_not_json_name_file_and_line(tmp_path, line, fragment):
    data = tmp_path / "d.jsonl"
    data.write_text(jsonl(GOOD_JSONL[:2]) + line + "\n" + jsonl(GOOD_JSONL[2:]))
    split_fails(tmp_path, data, fragments=(f"{data}:3: {fragment}",))


def test_the_text_and_label_column_must_differ(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text(jsonl(GOOD_JSONL))
    split_fails(tmp_path, data, "--text-column", "label", fragments=("the text and the label column are both 'label'",))


# ------------------------------------------------------------------------------------------------ CSV / TSV
@pytest.mark.parametrize("name,content,fragment", [
    ("d.tsv", tsv(ROWS[:2]) + "some text\twith a tab\tpos\n" + tsv(ROWS[2:], header=""),
     ":4: 3 fields, the header has 2 (an unquoted tab in the text? quote the field)"),
    ("d.csv", "text,label\nProfit rose, strongly,pos\n" + "".join(f"{t},{lab}\n" for t, lab in ROWS),
     ":2: 3 fields, the header has 2 (an unquoted comma in the text? quote the field)"),
    ("d.csv", "id,text,label\n1,Profit rose,pos\n2,Profit fell\n", ":3: 2 fields, the header has 3"),
    ("d.tsv", "text\tlabel\nonly text\n", ":2: 1 field, the header has 2"),
    ("d.csv", "sentence,label\nProfit rose,pos\n", ":1: no column 'text' in header ['sentence', 'label']"),
    ("d.csv", "text,text,label\na,b,pos\n", ":1: 2 columns 'text' in header"),
    ("d.csv", 'text,label\n"' + "x" * 200_000 + '",pos\n', "field larger than field limit"),
])
def test_csv_and_tsv_rows_must_match_the_header(tmp_path, name, content, fragment):
    data = tmp_path / name
    data.write_text(content)
    split_fails(tmp_path, data, fragments=(fragment,))


def test_a_quoted_delimiter_is_text(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text('text,label\n"Profit rose, strongly",pos\n' + "".join(f"{t},{lab}\n" for t, lab in ROWS))
    assert load_dataset(data).texts[0] == "Profit rose, strongly"


# ------------------------------------------------------------------------------------------ empty inputs
@pytest.mark.parametrize("name,content,fragment", [
    ("d.csv", "", "d.csv: the file is empty"),
    ("d.jsonl", " \n\n \r\n", "d.jsonl: the file is empty"),
    ("Sentences_EmptyAgree.txt", "\r\n", "Sentences_EmptyAgree.txt: the file is empty"),
    ("d.csv", "text,label\n", "no examples in"),
    ("d.tsv", "text\tlabel\n \tpos\n\u200b\tneg\n", "every row has empty text (the first at"),
])
def test_an_empty_file_is_one_error(tmp_path, name, content, fragment):
    data = tmp_path / name
    data.write_text(content)
    split_fails(tmp_path, data, fragments=(fragment,))


def test_rows_with_empty_text_are_skipped_with_one_warning(tmp_path):
    data = tmp_path / "d.tsv"
    data.write_text(tsv(ROWS[:1] + [("   ", "pos")] + ROWS[1:5] + [("\u200b\u00a0", "neg")] + ROWS[5:]))
    result = invoke("data", "split", data, "--out", tmp_path / "out")
    assert_warning(result, f"{data}: skipped 2 rows with empty text (the first at {data}:3)")
    assert sum(len(part) for part in Splits.load(tmp_path / "out")) == len(ROWS)


def test_an_empty_label_is_an_error(tmp_path):
    data = tmp_path / "d.tsv"
    data.write_text(tsv(ROWS + [("profit", " ")]))
    split_fails(tmp_path, data, fragments=(f"{data}:42: empty label",))


# ------------------------------------------------------------------------------------------------ fractions
@pytest.mark.parametrize("fractions,fragment", [
    ("1,0,0", "must be three numbers above 0 summing to 1, got [1.0, 0.0, 0.0]"),
    ("0,0.5,0.5", "must be three numbers above 0"),
    ("0.5,0.5,0.5", "summing to 1"),
    ("1.2,-0.1,-0.1", "above 0"),
    ("nan,0.5,0.5", "got [nan, 0.5, 0.5]"),
    ("inf,0.5,0.5", "above 0 summing to 1"),
    ("0.8,0.2", "three numbers"),
    ("0.8,0.1,0.05,0.05", "three numbers"),
    ("a,b,c", "three numbers"),
])
def test_bad_fractions_are_one_error(tmp_path, fractions, fragment):
    data = tmp_path / "d.tsv"
    data.write_text(tsv())
    split_fails(tmp_path, data, "--fractions", fractions, fragments=(fragment,))


def test_a_split_that_would_be_empty_is_an_error(tmp_path):
    data = tmp_path / "d.tsv"
    data.write_text(tsv(ROWS[:8]))  # 4 per label: 10 % of 4 rounds to 0
    split_fails(tmp_path, data, fragments=("the validation split would be empty (0.1 of 8 sentences",))
    split_fails(tmp_path, data, "--fractions", "0.5,0.4,0.1", fragments=("the test split would be empty",))
    assert invoke("data", "split", data, "--fractions", "0.5,0.25,0.25", "--out", tmp_path / "out").exit_code == 0


def test_a_split_of_identical_sentences_is_an_error(tmp_path):
    data = tmp_path / "d.tsv"
    data.write_text(tsv([("Same sentence", "pos")] * 20 + [("same  SENTENCE", "neg")] * 20))
    split_fails(tmp_path, data, fragments=("split would be empty (0.8 of 0 sentences after deduplication",))


# ------------------------------------------------------------------------------------- other data options
def test_level_with_a_file_or_non_fpb_data_is_an_error(tmp_path, fpb_dir):
    split_fails(tmp_path, fpb_dir / "Sentences_75Agree.txt", "--level", "50",
                fragments=("--level picks a file of the Financial PhraseBank folder",))
    data = tmp_path / "d.tsv"
    data.write_text(tsv())
    split_fails(tmp_path, data, "--level", "50", fragments=("--level is for the Financial PhraseBank folder",))


def test_out_that_cannot_be_a_folder_fails_before_loading(tmp_path):
    data = tmp_path / "d.tsv"
    data.write_text(tsv())
    split_fails(tmp_path, data, "--out", data / "split", fragments=(f"{data} is a file",))
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    before = files(tmp_path)
    assert_error(invoke("data", "split", tmp_path / "missing.tsv", "--out", tmp_path / "full"),
                 "exists and is not empty (pass --overwrite to replace it)")
    assert files(tmp_path) == before


@pytest.mark.parametrize("content,fragment", [
    (b"hello\nworld\n", "not a BERT vocab.txt (vocabulary has no [UNK] token)"),
    (b"[PAD]\n[UNK]\n[CLS]\n\xff\xfe[SEP]\n", "not a UTF-8 vocab.txt"),
])
def test_a_bad_vocab_for_stats_is_one_error(tmp_path, content, fragment):
    vocab = tmp_path / "vocab.txt"
    vocab.write_bytes(content)
    assert_error(invoke("data", "stats", "--vocab", vocab), f"--vocab {vocab}: {fragment}")


def test_a_split_folder_with_a_bad_split_json_is_one_error(tmp_path):
    folder = tmp_path / "split"
    folder.mkdir()
    (folder / "split.json").write_text('{"dataset": "x", "labels": ')
    with pytest.raises(DataError, match="split.json is not valid JSON"):
        Splits.load(folder)
    (folder / "split.json").write_text('{"dataset": "x"}')
    with pytest.raises(DataError, match="expected 'dataset' \\(a name\\) and 'labels' \\(a list\\)"):
        Splits.load(folder)


# ---------------------------------------------------------------------------------------------- good files
def test_the_embedded_default_data_loads_as_before():
    result = invoke("data", "stats", "--json")
    assert result.exit_code == 0 and not result.stderr, result.output
    out = json.loads(result.stdout)
    assert out["examples"] == 2400 and out["counts"] == {"negative": 800, "neutral": 800, "positive": 800}


@pytest.mark.parametrize("level,examples", [("75Agree", 3453), ("AllAgree", 2264), ("50Agree", 4846),
                                            ("66Agree", 4217)])
def test_financial_phrasebank_loads_as_before_without_a_warning(fpb_dir, level, examples):
    result = invoke("data", "stats", fpb_dir / f"Sentences_{level}.txt", "--json")
    assert result.exit_code == 0 and not result.stderr, result.output
    assert json.loads(result.stdout)["examples"] == examples


def test_run_takes_the_encoding_of_its_data(tmp_path):
    """`edgekit run --data` reads with --encoding like the data verbs: an unknown one is one line before any
    stage runs, and the data stage's fingerprint follows it."""
    from dataclasses import replace

    from click.testing import CliRunner

    from edgekit.cli import cli
    from edgekit.pipeline import DataSettings, RunSettings, fingerprints, registered_stages

    data = tmp_path / "d.tsv"
    data.write_text("text\tlabel\ncafé up\tpositive\n", encoding="latin-1")
    result = CliRunner().invoke(cli, ["run", "--data", str(data), "--encoding", "klingon", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "unknown text encoding 'klingon'" in result.stderr
    assert not (tmp_path / "r").exists()
    base = RunSettings(out=tmp_path, data=DataSettings(path=str(data)))
    latin = replace(base, data=DataSettings(path=str(data), encoding="latin-1"))
    assert fingerprints(base, registered_stages())["data"] != fingerprints(latin, registered_stages())["data"]
