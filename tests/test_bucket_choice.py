"""Buckets chosen from the training data's lengths (converters/bucket_choice.py, ``convert --buckets auto``)."""

from __future__ import annotations

import itertools
import json

import pytest
from click.testing import CliRunner

from edgekit.cli import cli
from edgekit.converters.bucket_choice import choose_buckets, padded_mean, padding_factor, parse_auto


def test_the_choice_is_the_least_padding_of_all_candidate_sets():
    lengths = [9, 10, 12, 14, 20, 21, 22, 30, 33, 40, 41, 47, 60, 90, 150]
    for count in (1, 2, 3, 4):
        chosen = choose_buckets(lengths, 128, count)
        assert chosen[-1] == 128 and len(chosen) <= count
        candidates = list(range(8, 128, 8))
        brute = min(padded_mean(lengths, (*c, 128)) for c in itertools.combinations(candidates, count - 1))
        assert padded_mean(lengths, chosen) == pytest.approx(brute)


def test_more_buckets_never_pad_more_and_auto_parses():
    lengths = list(range(5, 100, 3))
    factors = [padding_factor(lengths, choose_buckets(lengths, 128, k)) for k in range(1, 9)]
    assert all(a >= b for a, b in zip(factors, factors[1:])) and factors[-1] < factors[0]
    assert parse_auto("auto") == 8 and parse_auto("auto:3") == 3 and parse_auto("16,32") is None


def test_convert_with_auto_buckets(tiny_teacher_dir, tmp_path):
    out = tmp_path / "b"
    result = CliRunner().invoke(cli, ["-q", "convert", str(tiny_teacher_dir), "--modes", "fp32", "--buckets", "auto:3",
                                      "--no-metadata", "--out", str(out)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    lengths = [b["length"] for b in manifest["buckets"]]
    assert len(lengths) <= 3 and lengths[-1] == 128 and all(n % 8 == 0 for n in lengths)
    assert manifest["conversion"]["options"]["auto_buckets"] == 3


@pytest.mark.parametrize("value", ["auto:0", "auto:x"])
def test_a_bad_auto_is_one_line(value, tiny_teacher_dir, tmp_path):
    result = CliRunner().invoke(cli, ["convert", str(tiny_teacher_dir), "--buckets", value, "--out", str(tmp_path / "b")])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "auto:K takes a bucket count" in result.stderr
