"""The distillation benchmark's bookkeeping: seeds per row, their mean, and which row a target judges."""

from pathlib import Path

import pytest

from edgekit.distill.study import BenchRun, bench_tasks, check_targets, markdown, rows_of


def _record(point, family, val, test, row=None, seed=None, title="t"):
    r = {"id": point, "title": title, "family": family, "params": 10, "keras_bytes": 2_000_000,
         "val_macro_f1": val, "test_macro_f1": test, "val_accuracy": val, "test_accuracy": test,
         "train_seconds": 60.0}
    if row:
        r.update(row=row, seed=seed)
    return r


def test_multi_seed_runs_get_one_point_per_seed_and_single_runs_keep_their_id(tmp_path):
    runs = (BenchRun("b", "BiLSTM", "bilstm", "hard", seeds=3), BenchRun("t", "BERT", "bert:layers=3", "hard"))
    (tmp_path / "split").mkdir()
    tasks = bench_tasks(tmp_path / "teacher", tmp_path / "split", tmp_path, runs, seed=7)
    assert [t.id for t in tasks] == ["b@7", "b@8", "b@9", "t"]
    assert [t.settings["train"]["seed"] for t in tasks] == [7, 8, 9, 7]
    assert tasks[0].tags == {"title": "BiLSTM", "row": "b", "seed": 7} and tasks[3].tags == {"title": "BERT"}
    assert len({t.hash for t in tasks}) == 4
    assert Path(tasks[1].result_path).name == "b@8.json"


def test_rows_average_their_seeds_and_targets_judge_the_row_chosen_by_validation():
    records = [_record("b@1", "bilstm", 0.84, 0.85, "b", 1), _record("b@2", "bilstm", 0.86, 0.83, "b", 2),
               _record("b@3", "bilstm", 0.85, 0.84, "b", 3), _record("a@1", "bilstm", 0.84, 0.86, "a", 1),
               _record("a@2", "bilstm", 0.84, 0.86, "a", 2), _record("bert3-x", "bert", 0.90, 0.87)]
    rows = {r["id"]: r for r in rows_of(records)}
    b = rows["b"]
    assert b["n"] == 3 and b["seeds"] == [1, 2, 3]
    assert b["val_macro_f1"] == pytest.approx(0.85) and b["test_macro_f1"] == pytest.approx(0.84)
    assert b["test_macro_f1_sd"] == pytest.approx(0.01) and b["test_macro_f1_each"] == [0.85, 0.83, 0.84]
    assert rows["bert3-x"]["n"] == 1 and rows["bert3-x"]["test_macro_f1_sd"] is None
    targets = check_targets({"test_macro_f1": 0.885}, list(rows.values()))
    # b has the better mean validation (0.85 > 0.84) though a is better on test: b is judged
    assert targets["bilstm"] == {"chosen_by_val": "b", "test_macro_f1": 0.84, "seeds": 3, "needed": 0.845,
                                 "met": False, "best_test_any": 0.86}
    assert targets["bert3"]["met"] and targets["bert3"]["seeds"] == 1
    md = markdown({"title": "teacher", "params": 100, "keras_bytes": 4e6, "val_macro_f1": 0.9,
                   "test_macro_f1": 0.885}, list(rows.values()), targets)
    assert "| t | 3 | 0.8500 ± 0.0100 | 0.8400 ± 0.0100 | -4.5 pt |" in md
    assert "b (chosen by validation, mean of 3 seeds) reached 0.8400: **not met**" in md
    assert "bert3-x (chosen by validation) reached 0.8700: **met**" in md


def test_a_late_settings_field_at_its_neutral_value_keeps_the_point_hash():
    from edgekit.distill.executor import PointTask

    def task(**train):
        settings = {"student": "bilstm", "train": {"epochs": 3, **train}}
        return PointTask(id="p", teacher_dir="t", split_dir="s", settings=settings, result_path="r.json")

    before = task()  # recorded before TrainConfig had ``ema``
    assert task(ema=0.0).hash == before.hash
    assert task(ema=0.99).hash != before.hash
    assert task(epochs=4).hash != before.hash
    assert before.settings == {"student": "bilstm", "train": {"epochs": 3}}  # hashing does not edit the task
