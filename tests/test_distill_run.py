"""Real distillation runs on the tiny teacher: CLI end to end, sweep interrupted and resumed, run stage."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

SMALL_BILSTM = "bilstm:embedding_dim=16,lstm_units=8"


def _cli(args):
    from edgekit.cli import cli

    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return result


def test_distill_cli_end_to_end_bilstm_with_augmentation(tiny_teacher_dir, tmp_path, default_splits):
    from edgekit.models.bilstm import bilstm_param_count
    from edgekit.models.modeldir import load_model_dir
    from edgekit.train.encode import encode_texts
    from edgekit.train.loop import evaluate

    out = tmp_path / "bilstm"
    test_sentence = default_splits.test.texts[0]
    unlabelled = tmp_path / "news.txt"  # 2 new sentences, one repeated; a test sentence in another case/spacing
    unlabelled.write_text(f"Quarterly sales at Foo Oyj rose sharply.\n  {test_sentence.upper()}  \n\n"
                          "Quarterly sales at Foo Oyj rose sharply.\nBar Corp cut its outlook.\n")
    r = _cli(["distill", "--teacher", str(tiny_teacher_dir), "--student", SMALL_BILSTM,
              "--loss", "hard,kl,similarity=0.5,hidden_mse=2", "-T", "2", "--alpha", "0.7",
              "--augment", "mask=0.1,swap=0.05,neighbour=0.1,ngram=0.25",
              "--augment-multiplier", "2", "--epochs", "2",
              "--unlabelled", str(unlabelled), "--schedule", "linear",
              "--cache-dir", str(tmp_path / "cache"), "--out", str(out), "--result-json", str(tmp_path / "r.json")])
    assert r.exit_code == 0, r.output
    assert "words have teacher-space neighbours" in r.output  # the neighbour rule got its map
    metrics = json.loads((out / "metrics.json").read_text())
    ts = metrics["transfer_set"]
    assert ts["unlabelled"] == {"source": str(unlabelled.resolve()), "read": 4, "dropped_in_split": 1,
                                "dropped_repeats": 1, "kept": 2}
    assert ts["original"] == len(default_splits.train) and ts["size"] > 1.5 * (ts["original"] + 2)
    assert sum(ts["teacher_labelled_counts"]) == ts["size"] - ts["original"]  # teacher labels them
    assert ts["augment"]["rules"] == {"mask": 0.1, "swap": 0.05, "neighbour": 0.1, "ngram": 0.25}
    assert metrics["train_config"]["schedule"] == "linear"
    assert metrics["loss"]["weights"] == {"hard": pytest.approx(0.3), "kl": 0.7, "similarity": 0.5, "hidden_mse": 2}
    assert metrics["loss"]["layer_map"] == [[0, 1]]  # the BiLSTM's token states ↔ the 2-layer teacher's last
    for name in ("sentence", "hidden_1"):  # the teacher's side, cached
        assert len(list((tmp_path / "cache").glob(f"{ts['teacher_cache']}.{name}.npz"))) == 1
    assert metrics["student"]["init"]["embedding"] == "teacher_context"
    loaded = load_model_dir(out)
    assert loaded.family == "bilstm" and loaded.meta["role"] == "student"
    assert loaded.model.count_params() == bilstm_param_count(len(loaded.tokenizer.vocab), 16, 8, 3)  # no projection
    assert (out / "vocab.txt").read_text() == (tiny_teacher_dir / "vocab.txt").read_text()
    val = default_splits.validation
    report = evaluate(loaded.model, encode_texts(loaded.tokenizer, val.texts, loaded.max_length),
                      np.asarray(val.label_ids), loaded.labels)
    assert report["macro_f1"] == pytest.approx(metrics["validation"]["macro_f1"])
    summary = json.loads((tmp_path / "r.json").read_text())
    assert summary["params"] == loaded.model.count_params() and summary["git_commit"]
    assert summary["keras_bytes"] == (out / "model.weights.h5").stat().st_size


def test_distill_bert_student_with_feature_losses_learns(tiny_teacher_dir, tmp_path, default_splits):
    from edgekit.distill.job import DistillSettings, distill, train_config_for

    settings = DistillSettings(student="bert:layers=1,strategy=last",
                               loss="hard,kl,hidden_mse,embedding_mse,hidden_cos,similarity",
                               temperature=2.0, alpha=0.5, train=train_config_for("bert", epochs=2, learning_rate=5e-4),
                               cache_dir=str(tmp_path / "cache"))
    result = distill(tiny_teacher_dir, default_splits, tmp_path / "bert1", settings, progress=False)
    m = result.metrics
    assert m["student"]["teacher_layers"] == [1] and m["loss"]["layer_map"] == [[0, 1]]
    assert m["params"] < json.loads((tiny_teacher_dir / "edgekit_model.json").read_text())["params"]
    assert m["test"]["macro_f1"] > 0.45, m["test"]  # chance is ~0.33; the 1-layer student starts from the teacher
    losses = [e["train_loss"] for e in m["history"]["epochs"]]
    assert np.isfinite(losses).all()


def test_bad_cli_input_is_one_line(tiny_teacher_dir, tmp_path):
    for args in (["--student", "bert:layers=9"], ["--loss", "hard,nope"], ["--augment", "shuffle=0.1"],
                 ["--student", "bilstm", "--loss", "hard,embedding_mse"],
                 ["--student", "bilstm", "--loss", "hard,hidden_mse", "--layer-map", "0:7"],
                 ["--student", "bilstm:embedding_init=glove"], ["--student", "bilstm:embedding_trainable=2"]):
        r = _cli(["distill", "--teacher", str(tiny_teacher_dir), "--out", str(tmp_path / "x"),
                  "--epochs", "1", "--cache-dir", str(tmp_path / "c"), *args])
        assert r.exit_code == 2, (args, r.output)
        assert r.output.strip().startswith("error:") and len(r.output.strip().splitlines()) == 1, r.output


class StopAfter:
    """An executor that is killed (KeyboardInterrupt) after ``n`` finished points."""

    def __init__(self, n: int):
        from edgekit.distill.executor import InProcessExecutor

        self.inner, self.n = InProcessExecutor(), n

    def run(self, fn, tasks):
        for done, item in enumerate(self.inner.run(fn, tasks), 1):
            yield item
            if done >= self.n:
                raise KeyboardInterrupt


def test_sweep_interrupted_after_one_point_resumes_at_the_next(tiny_teacher_dir, tmp_path, default_splits):
    from edgekit.distill.executor import InProcessExecutor, run_point
    from edgekit.distill.job import DistillSettings, train_config_for
    from edgekit.distill.sweep import run_sweep

    base = DistillSettings(student=SMALL_BILSTM, loss="hard,kl", train=train_config_for("bilstm", epochs=1),
                           cache_dir=str(tmp_path / "cache"))
    ran: list[str] = []

    def counting(task):
        ran.append(task.id)
        return run_point(task)

    kw = dict(temperatures=[1, 2], alphas=[0.5], keep_models=False, point_fn=counting)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(tiny_teacher_dir, default_splits, tmp_path / "sw", base, executor=StopAfter(1), **kw)
    assert ran == ["T1_a0.5"]
    first = (tmp_path / "sw" / "points" / "T1_a0.5.json").read_text()
    summary = run_sweep(tiny_teacher_dir, default_splits, tmp_path / "sw", base,
                        executor=InProcessExecutor(), **kw)
    assert ran == ["T1_a0.5", "T2_a0.5"]  # the finished point was not redone
    assert (tmp_path / "sw" / "points" / "T1_a0.5.json").read_text() == first
    assert summary["complete"] and len(summary["points"]) == 2
    assert summary["best"]["val_macro_f1"] == max(p["val_macro_f1"] for p in summary["points"])
    for p in summary["points"]:
        assert {"val_macro_f1", "test_macro_f1", "val_accuracy", "test_accuracy", "params", "train_seconds"} <= set(p)
    assert (tmp_path / "sw" / "heatmap.png").stat().st_size > 1000
    assert "| **" in (tmp_path / "sw" / "sweep.md").read_text()
    # every point after the first reused the teacher-output cache
    assert all(p["transfer_size"] == len(default_splits.train) for p in summary["points"])


def test_run_pipeline_students_stage_trains_and_is_reused(tmp_path, tiny_teacher_dir):
    from dataclasses import replace

    from edgekit.models.modeldir import load_model_dir
    from edgekit.pipeline import RunSettings, StudentsSettings, registered_stages, run_pipeline

    # the real data stage, and the tiny teacher standing in for the teacher stage (its result names the model)
    stages = [replace(st, run=lambda ctx: {"model_dir": str(tiny_teacher_dir)}) if st.name == "teacher" else st
              for st in registered_stages()]
    settings = RunSettings(out=tmp_path / "run", students=StudentsSettings(
        specs=(SMALL_BILSTM, "bert:layers=1,strategy=skip"), epochs=1))
    only = ["data", "teacher", "students"]
    first = run_pipeline(settings, only=only, stages=stages)["stages"]["students"]
    assert not first["reused"] and set(first["models"]) == {"bilstm-embedding-dim-16-lstm-units-8", "bert-layers1-skip"}
    for name, path in first["models"].items():
        loaded = load_model_dir(path)
        assert loaded.meta["role"] == "student" and loaded.family == name.split("-")[0]
    assert 0.0 <= first["bert_layers1_skip_test_macro_f1"] <= 1.0
    again = run_pipeline(settings, only=only, stages=stages)["stages"]["students"]
    assert again["reused"]
