"""``python -m edgekit.benchmarks.nonuniform_study``: uniform and global selections of one shape, recovered on the
masked model, same totals, one record per selection and seed (resumable)."""

from __future__ import annotations

import json

import pytest

from edgekit.benchmarks.nonuniform_study import main


def test_selections_keep_the_same_totals_and_a_rerun_resumes(tmp_path, tiny_teacher_dir, default_splits, capsys):
    split = default_splits.save(tmp_path / "split")
    out, work = tmp_path / "study.json", tmp_path / "work"
    args = [str(tiny_teacher_dir), "--split", str(split), "--work", str(work), "--out", str(out), "--layers", "2",
            "--heads", "1", "--ffn", "48", "--seeds", "0", "--epochs", "1", "--samples", "60"]
    assert main(args) == 0
    result = json.loads(out.read_text())
    records = {r["selection"]: r for r in result["records"]}
    assert set(records) == {"uniform", "global"} and [r["selection"] for r in result["rows"]] == ["uniform", "global"]
    assert records["uniform"]["heads"] == [1, 1] and records["uniform"]["neurons"] == [48, 48]
    assert sum(records["global"]["heads"]) == 2 and sum(records["global"]["neurons"]) == 96
    assert min(records["global"]["neurons"]) >= 1
    for r in records.values():
        assert 0.0 <= r["after"]["test"] <= 1.0 and r["best_epoch"] == 1
    assert "| uniform | 1 |" in capsys.readouterr().out
    first = (work / "global@0.json").read_text()
    assert main(args) == 0  # every record is on disk: nothing is recomputed
    assert (work / "global@0.json").read_text() == first
    assert json.loads(out.read_text())["records"] == result["records"]


def test_an_unknown_selection_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="unknown selection"):
        main(["x", "--split", "s", "--work", str(tmp_path), "--out", str(tmp_path / "o.json"), "--layers", "1",
              "--heads", "1", "--ffn", "1", "--selections", "uniform,random"])
