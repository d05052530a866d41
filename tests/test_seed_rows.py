"""``python -m edgekit.benchmarks.seed_rows``: a row's mean ± SD over its seeds' model directories."""

from __future__ import annotations

import json

import pytest

from edgekit.benchmarks.seed_rows import final_report, main


def _model_dir(path, test_f1: float, where: str):
    path.mkdir()
    report = {"validation": {"macro_f1": test_f1 + 0.01}, "test": {"macro_f1": test_f1}}
    metrics = {"model": path.name, "params": 1000, **({"recovered": report, "pruned": {}} if where == "recovered"
                                                       else report)}
    (path / "metrics.json").write_text(json.dumps(metrics))
    (path / "edgekit_model.json").write_text(json.dumps({"git_commit": "abc"}))
    return path


def test_a_row_is_the_mean_and_sd_of_its_seeds(tmp_path, capsys):
    dirs = [_model_dir(tmp_path / f"m{i}", f1, where) for i, (f1, where) in
            enumerate([(0.80, "recovered"), (0.84, "top"), (0.82, "recovered")])]
    out = tmp_path / "rows.json"
    assert main(["--row", "r=" + ",".join(map(str, dirs)), "--out", str(out)]) == 0
    row = json.loads(out.read_text())["rows"][0]
    assert (row["seeds"], row["test_macro_f1"], row["test_macro_f1_sd"]) == (3, 0.82, 0.02)
    assert row["test_macro_f1_each"] == [0.8, 0.84, 0.82] and row["commits"] == ["abc"]
    assert "| r | 3 |" in capsys.readouterr().out


def test_missing_reports_and_directories_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit, match="no test report"):
        final_report({"model": "x", "pruned": None})
    assert main(["--row", f"r={tmp_path / 'nothing'}", "--out", str(tmp_path / "o.json")]) == 2
    assert "no metrics.json" in capsys.readouterr().err and not (tmp_path / "o.json").exists()
