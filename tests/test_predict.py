"""``edgekit predict`` reads texts from arguments, a file or stdin (one per line), skips blank lines with a
warning, refuses a blank text or no text with one line, and classifies a 1 MB text (truncated to the
largest bucket) that could not be passed on a command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgekit.cli import cli

SENTENCES = ["Profit rose 5 % in the third quarter.", "The company cut its outlook.", "Sales were flat."]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, vocab_path) -> Path:
    from edgekit.benchmarks.fixtures import build_bundle

    return build_bundle(tmp_path_factory.mktemp("predict") / "bundle", vocab_path, modes=("fp32",))


def predict(*args, stdin: str | bytes | None = None):
    return CliRunner().invoke(cli, ["predict", *map(str, args)], input=stdin)


def rows(result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def one_line_error(result, fragment: str) -> None:
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and fragment in err, err


def test_arguments_file_and_stdin_give_the_same_predictions(bundle, tmp_path):
    direct = rows(predict(bundle, *SENTENCES, "--json"))
    f = tmp_path / "texts.txt"
    f.write_text("\ufeff" + "\n".join(SENTENCES) + "\n", encoding="utf-8")  # a BOM is not part of the first text
    from_file = rows(predict(bundle, "--file", f, "--json"))
    from_stdin = rows(predict(bundle, "-", "--json", stdin="\n".join(SENTENCES)))
    from_stdin_option = rows(predict(bundle, "--file", "-", "--json", stdin="\n".join(SENTENCES)))
    assert [r["text"] for r in direct] == SENTENCES
    assert from_file == direct == from_stdin == from_stdin_option


def test_blank_lines_are_skipped_with_a_warning(bundle, tmp_path):
    f = tmp_path / "texts.txt"
    f.write_text(f"{SENTENCES[0]}\n\n   \n{SENTENCES[1]}\n", encoding="utf-8")
    result = predict(bundle, "--file", f, "--json")
    assert [r["text"] for r in rows(result)] == SENTENCES[:2]
    assert "skipped 2 blank line(s)" in result.stderr


def test_a_megabyte_text_from_a_file_runs_in_the_largest_bucket(bundle, tmp_path):
    f = tmp_path / "long.txt"
    f.write_text("profit rose " * 90_000 + "\n", encoding="utf-8")  # ~1 MB on one line
    [row] = rows(predict(bundle, "--file", f, "--json"))
    assert row["bucket"] == max(b["length"] for b in json.loads((bundle / "manifest.json").read_text())["buckets"])
    assert row["num_tokens"] > 100_000


@pytest.mark.parametrize("args, stdin, fragment", [
    (["  "], None, "text 1 is empty or white space only"),
    (["ok", ""], None, "text 2 is empty or white space only"),
    ([], None, "nothing to classify"),
    (["text", "--file", "x.txt"], None, "not both"),
    (["-"], "\n  \n", "stdin has no text to classify"),
    (["-"], b"\xff\xfe caf\xe9", "stdin is not utf-8 text"),
    (["--file", "missing.txt"], None, "missing.txt"),
])
def test_bad_texts_are_one_line(bundle, args, stdin, fragment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one_line_error(predict(bundle, *args, stdin=stdin), fragment)
