"""The CLI end to end: user mistakes are one line and a non-zero exit; the main job reuses its stages."""

from __future__ import annotations

import json
import logging

import pytest
from click.testing import CliRunner

from conftest import TINY_BACKBONE
from edgekit.cli import cli


def invoke(*args, env=None):
    return CliRunner().invoke(cli, list(map(str, args)), env=env, catch_exceptions=False)


def assert_one_line_error(result, fragment: str):
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert fragment in err, err
    assert "Traceback" not in result.output


def test_help_teaches():
    result = invoke("--help")
    assert result.exit_code == 0 and "edgekit run" in result.output
    assert "--backbone" in invoke("train", "teacher", "--help").output


def test_missing_data_file(tmp_path):
    assert_one_line_error(invoke("data", "stats", tmp_path / "nope.csv"), "data not found")
    assert_one_line_error(invoke("train", "teacher", "--data", tmp_path / "nope.jsonl", "--out", tmp_path / "m"),
                          "data not found")
    assert not (tmp_path / "m").exists()


def test_unknown_label_names_file_and_line(tmp_path):
    f = tmp_path / "d.tsv"
    f.write_text("text\tlabel\nprofit up\tpositive\nprofit flat\tmeh\n")
    result = invoke("data", "stats", f, "--labels", "negative,neutral,positive")
    assert_one_line_error(result, f"{f}:3: unknown label 'meh'")


@pytest.mark.parametrize("backbone,fragment", [
    ("./no/such/dir", "backbone folder not found"),
    ("random:layers=two", "needs an integer"),
])
def test_bad_backbone(tmp_path, backbone, fragment):
    result = invoke("train", "teacher", "--backbone", backbone, "--out", tmp_path / "m")
    assert_one_line_error(result, fragment)
    assert not (tmp_path / "m").exists()


def test_unreadable_checkpoint(tmp_path):
    bad = tmp_path / "bad-ckpt"
    bad.mkdir()
    (bad / "config.json").write_text('{"model_type": "bert", "hidden_size": ')
    (bad / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n")
    result = invoke("train", "teacher", "--backbone", bad, "--out", tmp_path / "m")
    assert_one_line_error(result, "cannot load BERT backbone")


def test_hub_id_offline(tmp_path):
    result = invoke("train", "teacher", "--backbone", "google-bert/bert-base-uncased", "--out", tmp_path / "m",
                    env={"HF_HUB_OFFLINE": "1"})
    assert_one_line_error(result, "cannot download 'google-bert/bert-base-uncased'")


def test_split_then_train_from_split_with_result_json(tmp_path):
    split = tmp_path / "split"
    result = invoke("data", "split", "--out", split, "--seed", 3)
    assert result.exit_code == 0, result.output
    assert {p.name for p in split.iterdir()} == {"train.jsonl", "validation.jsonl", "test.jsonl", "split.json"}
    assert_one_line_error(invoke("data", "split", "--out", split), "exists and is not empty")

    out, res = tmp_path / "teacher", tmp_path / "res.json"
    result = invoke("train", "teacher", "--split-dir", split, "--backbone", TINY_BACKBONE, "--epochs", 2,
                    "--lr", "1e-3", "--out", out, "--result-json", res)
    assert result.exit_code == 0, result.output
    record = json.loads(res.read_text())
    for key in ("test_macro_f1", "test_accuracy", "train_seconds", "git_commit", "edgekit_version"):
        assert key in record
    assert record["split_sha256"] == json.loads((split / "split.json").read_text())["sha256"]
    assert (out / "model.weights.h5").is_file()


def test_pipeline_data_and_teacher_stages_are_reused(tmp_path, caplog):
    from dataclasses import replace

    from edgekit.pipeline import RunSettings, TeacherSettings, run_pipeline

    settings = RunSettings(out=tmp_path / "run", teacher=TeacherSettings(backbone=TINY_BACKBONE, epochs=1, lr=1e-3))
    first = run_pipeline(settings, only=["data", "teacher"])
    assert not first["stages"]["teacher"]["reused"]
    assert (tmp_path / "run" / "teacher" / "model.weights.h5").is_file()
    caplog.set_level(logging.INFO, logger="edgekit")
    caplog.clear()  # only the second run's lines
    second = run_pipeline(settings, only=["data", "teacher"])
    assert second["stages"]["data"]["reused"] and second["stages"]["teacher"]["reused"]
    assert [r.name for r in caplog.records] == ["edgekit.pipeline"] * 2  # one "reused" line per stage, nothing else
    assert all("reused" in r.getMessage() for r in caplog.records)
    settings = replace(settings, teacher=replace(settings.teacher, epochs=2))  # the teacher runs again, not the data
    third = run_pipeline(settings, only=["data", "teacher"])
    assert third["stages"]["data"]["reused"] and not third["stages"]["teacher"]["reused"]
