"""``edgekit run --model SRC``: the teacher stage imports (or copies) a given classifier instead of training,
evaluates it on the test split, fingerprints its weights; bad label sets and teacher-training options
stop with one line."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgekit.cli import cli
from edgekit.fsutil import sha256_file
from edgekit.models.modeldir import METRICS_NAME, read_meta
from edgekit.pipeline import RunSettings, TeacherSettings, fingerprints, registered_stages, run_pipeline

FIXTURES = Path(__file__).parent / "fixtures" / "hf"


def run_from(model: str | Path, out: Path) -> dict:
    settings = RunSettings(out=out, teacher=TeacherSettings(model=str(model)))
    return run_pipeline(settings, only=["data", "teacher"])


@pytest.fixture(scope="module")
def imported_run(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("run-model")
    return out, run_from(FIXTURES / "bert", out)


def test_the_teacher_stage_imports_the_model_instead_of_training(imported_run):
    out, summary = imported_run
    teacher = summary["stages"]["teacher"]
    model_dir = Path(teacher["model_dir"])
    assert model_dir == out / "teacher"
    meta = read_meta(model_dir)
    assert meta["source"]["weights_sha256"] == sha256_file(FIXTURES / "bert" / "model.safetensors")
    assert meta["labels"] == ["negative", "neutral", "positive"] and meta["max_length"] == 64
    metrics = json.loads((model_dir / METRICS_NAME).read_text())
    assert "history" not in metrics and "best_epoch" not in teacher and "train_seconds" not in teacher
    assert 0.0 <= teacher["test_macro_f1"] <= 1.0 and teacher["test_macro_f1"] == metrics["test"]["macro_f1"]


def test_an_edgekit_model_directory_is_copied_and_evaluated_the_same(imported_run, tmp_path):
    out, summary = imported_run
    again = run_from(out / "teacher", tmp_path / "run")["stages"]["teacher"]
    assert Path(again["model_dir"]) == tmp_path / "run" / "teacher"
    assert (tmp_path / "run" / "teacher" / "model.weights.h5").is_file()
    assert again["test_macro_f1"] == pytest.approx(summary["stages"]["teacher"]["test_macro_f1"], abs=1e-6)


def test_the_teacher_fingerprint_follows_the_given_weights(tmp_path):
    src = Path(shutil.copytree(FIXTURES / "bert", tmp_path / "src"))
    stages = registered_stages()
    base = RunSettings(out=tmp_path, teacher=TeacherSettings(model=str(src)))
    before = fingerprints(base, stages)
    assert before["teacher"] != fingerprints(RunSettings(out=tmp_path), stages)["teacher"]
    weights = src / "model.safetensors"
    weights.write_bytes(weights.read_bytes() + b" ")
    after = fingerprints(base, stages)
    assert after["data"] == before["data"]
    assert all(after[n] != before[n] for n in before if n != "data")
    assert fingerprints(replace(base, teacher=TeacherSettings(model=str(src), epochs=9)), stages) != after


def one_line_error(args: list[str]):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0, result.output
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert "Traceback" not in result.output
    return err


@pytest.mark.parametrize("option", [["--backbone", "tiny"], ["--teacher-epochs", "1"], ["--teacher-lr", "0.1"]])
def test_model_with_teacher_training_options_is_one_line(option, tmp_path):
    err = one_line_error(["run", "--model", str(FIXTURES / "bert"), *option, "--out", str(tmp_path / "r")])
    assert option[0] in err
    assert not (tmp_path / "r").exists()


def test_labels_that_are_not_the_datas_stop_before_the_import(tmp_path):
    err = one_line_error(["run", "--model", str(FIXTURES / "distilbert"), "--out", str(tmp_path / "r")])
    assert "positive,negative,neutral" in err and "negative,neutral,positive" in err
    assert not (tmp_path / "r").exists()
    err = one_line_error(["run", "--model", str(FIXTURES / "bert_bare"), "--out", str(tmp_path / "g")])
    assert "generic labels" in err and "edgekit import" in err


def test_default_buckets_fit_a_model_with_fewer_positions():
    from edgekit.train.given import fit_buckets

    assert fit_buckets((16, 32, 64, 128), 64) == (16, 32, 64)
    assert fit_buckets((16, 32, 64, 128), 100) == (16, 32, 64, 100)
    assert fit_buckets((16, 32, 64, 128), 512) == (16, 32, 64, 128)
    assert fit_buckets((16, 32, 64, 128), None) == (16, 32, 64, 128)


def test_buckets_longer_than_the_models_positions_are_one_line(tmp_path):
    err = one_line_error(["run", "--model", str(FIXTURES / "bert"), "--buckets", "32,128",
                          "--out", str(tmp_path / "r")])
    assert "--buckets 128 is longer than --model's 64 token positions" in err
    assert not (tmp_path / "r").exists()


def test_run_model_converts_a_64_position_model_with_the_default_buckets(tmp_path):
    """The fixture has 64 positions: the default 16,32,64,128 become 16,32,64 and every stage finishes."""
    out = tmp_path / "r"
    result = CliRunner().invoke(cli, ["-q", "run", "--model", str(FIXTURES / "bert"), "--students", "",
                                      "--modes", "fp32", "--out", str(out)])
    assert result.exit_code == 0, result.output
    manifests = list(out.glob("**/manifest.json"))
    assert manifests, sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    buckets = json.loads(manifests[0].read_text())["buckets"]
    assert [b["length"] for b in buckets] == [16, 32, 64]
