"""The pruned student of ``edgekit run`` (``pruned:layers=...``): spec, one-line errors, the stage making it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from edgekit.distill.stage import check_students, student_name
from edgekit.errors import EdgekitError
from edgekit.prune.student import parse_pruned
from edgekit.prune.targets import Targets


def test_spec_reads_targets_vocabulary_and_recovery():
    s = parse_pruned("pruned:layers=4,heads=8,ffn=768")
    assert (s.targets, s.vocab, s.epochs, s.samples) == (Targets(4, 8, 768), "train", 3, 1000)
    assert s.name == "pruned-l4-h8-f768"
    s = parse_pruned("Pruned: params=40%, vocab=full, epochs=1, samples=50")
    assert (s.targets, s.vocab, s.epochs, s.samples) == (Targets(params="40%"), "full", 1, 50)
    assert s.name == "pruned-p40pct-fullvocab"
    assert student_name("pruned:layers=2,ffn=384") == "pruned-l2-f384"
    assert student_name("bert:layers=2,strategy=skip") == "bert-layers2-skip"  # other students keep their names


@pytest.mark.parametrize("spec, match", [
    ("pruned", "needs a target"),
    ("pruned:depth=3", "unknown pruned-student option depth"),
    ("pruned:layers=0", "layers must be a whole number >= 1"),
    ("pruned:heads=2.5", "heads must be a whole number >= 1"),
    ("pruned:layers=2,vocab=tweets", "vocab must be train or full"),
    ("pruned:params=12X", "is not a budget"),
    ("pruned:layers=2,layers=3", "given twice"),
])
def test_bad_specs_are_one_line_errors(spec, match):
    with pytest.raises(EdgekitError, match=match):
        check_students([spec])


def test_two_students_in_one_folder_are_refused():
    with pytest.raises(EdgekitError, match="would share the folder 'pruned-l2'"):
        check_students(["pruned:layers=2", "pruned:layers=2,epochs=1"])
    with pytest.raises(EdgekitError, match="unknown student 'lstm'"):
        check_students(["bilstm", "lstm"])


def test_run_refuses_a_bad_pruned_student_before_any_stage(tmp_path):
    from edgekit.cli import cli

    res = CliRunner().invoke(cli, ["run", "--students", "bilstm;pruned:layers=0", "--out", str(tmp_path / "run")])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1 and "layers must be" in res.stderr, res.stderr
    assert not (tmp_path / "run").exists()


def test_students_stage_prunes_the_teacher_and_shrinks_its_vocabulary(tmp_path, tiny_teacher_dir):
    """The real stage on the tiny teacher (2 layers, 2 heads, FFN 128): pruned, recovered one epoch, vocabulary
    cut to the training split's tokens; the convert stage then takes the folder like any student."""
    from dataclasses import replace

    from edgekit.models.modeldir import load_model_dir
    from edgekit.pipeline import RunSettings, StudentsSettings, registered_stages, run_pipeline

    stages = [replace(st, run=lambda ctx: {"model_dir": str(tiny_teacher_dir)}) if st.name == "teacher" else st
              for st in registered_stages()]
    spec = "pruned:layers=1,heads=1,ffn=64,epochs=1,samples=64"
    settings = RunSettings(out=tmp_path / "run", students=StudentsSettings(specs=(spec,)))
    result = run_pipeline(settings, only=["data", "teacher", "students"], stages=stages)["stages"]["students"]
    path = result["models"]["pruned-l1-h1-f64"]
    teacher, student = load_model_dir(tiny_teacher_dir), load_model_dir(path)
    assert student.meta["role"] == "pruned" and student.meta["pruned_from"] == str(tiny_teacher_dir)
    backbone = student.meta["config"]["backbone"]
    assert (backbone["num_layers"], backbone["num_heads"], backbone["intermediate_dim"]) == (1, 1, 64)
    rows = len(student.tokenizer.vocab)
    assert backbone["vocabulary_size"] == rows < len(teacher.tokenizer.vocab) // 2
    assert result["pruned_l1_h1_f64_params"] == student.model.count_params() < teacher.model.count_params() / 2
    metrics = json.loads((tmp_path / "run" / "students" / "pruned-l1-h1-f64" / "metrics.json").read_text())
    assert metrics["prune"]["recovered"] is not None and metrics["rows"] == rows
    assert metrics["test"]["macro_f1"] == result["pruned_l1_h1_f64_test_macro_f1"]
    assert sorted(p.name for p in (tmp_path / "run" / "students").iterdir()) == ["pruned-l1-h1-f64"]  # no leftovers
