"""The bundle rules on every load (edgekit.runtime.bundle, docs/contracts.md "Validation"): each golden
broken bundle (edgekit/bundlecases.py, the same file the Java core's BundleRulesTest reads) fails with its
rule's code and one line naming the bundle; the valid ones load. Through the CLI, predict / inspect / bench
refuse a broken bundle with one line and exit 2, and a link out of the bundle is refused."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgekit import bundlecases, contracts
from edgekit.cli import cli
from edgekit.runtime.bundle import Bundle, BundleError

CASES = bundlecases.bundle_cases()


def open_and_verify(path: Path) -> Bundle:
    """What every reader does before it runs a mode: open, then each mode's sha256."""
    bundle = Bundle.open(path)
    for mode in bundle.modes:
        bundle.verify(mode)
    return bundle


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_each_golden_case_gets_its_rules_code(case, tmp_path):
    path = bundlecases.write_case(case, tmp_path / "bundle")
    if case["expect"] is None:
        assert open_and_verify(path).labels == bundlecases.LABELS
        return
    with pytest.raises(BundleError) as info:
        open_and_verify(path)
    assert info.value.code == case["expect"], str(info.value)
    message = str(info.value)
    assert len(message.splitlines()) == 1 and str(path) in message, message


def test_every_rule_has_a_case_and_every_case_a_rule():
    expected = {c["expect"] for c in CASES} - {None}
    assert expected == set(contracts.PROBLEM_CODES)


def test_the_committed_golden_file_is_the_cases():
    from edgekit.android import GOLDEN_DIR

    assert (GOLDEN_DIR / "bundles_golden.json").read_text() == bundlecases.golden_text(), \
        "run `edgekit android golden` and commit"


def test_a_link_out_of_the_bundle_is_refused(tmp_path):
    valid = next(c for c in CASES if c["name"] == "valid")
    path = bundlecases.write_case(valid, tmp_path / "bundle")
    outside = tmp_path / "elsewhere.tflite"
    shutil.move(path / bundlecases.FP32, outside)
    os.symlink(outside, path / bundlecases.FP32)
    with pytest.raises(BundleError) as info:
        Bundle.open(path)
    assert info.value.code == "path" and "leaves the bundle" in str(info.value)


BROKEN = [c for c in CASES if c["name"] in ("schema_version_future", "labels_fewer_than_outputs", "vocab_shorter",
                                               "model_path_climbs_out", "modes_empty", "model_file_changed_same_size")]


@pytest.mark.parametrize("verb", [["predict", "{b}", "Profit rose."], ["inspect", "{b}"],
                                  ["bench", "{b}", "--synthetic", "16", "--out", "{o}"]], ids=lambda v: v[0])
@pytest.mark.parametrize("case", BROKEN, ids=[c["name"] for c in BROKEN])
def test_verbs_refuse_a_broken_bundle_with_one_line(verb, case, tmp_path):
    path = bundlecases.write_case(case, tmp_path / "bundle")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, [a.format(b=path, o=out / "r.jsonl") for a in verb])
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in result.output, err
    assert str(path) in err
    assert not out.exists()

