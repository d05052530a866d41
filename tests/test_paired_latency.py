"""``python -m edgekit.benchmarks.paired_latency``: files timed in one process, sentence by sentence, order rotated."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest


def test_every_sentence_runs_on_every_file_in_a_rotated_order():
    from edgekit.benchmarks.paired_latency import time_interleaved

    calls = []
    runs = [lambda x, f=f: calls.append((f, x.s)) for f in range(3)]
    inputs = [[SimpleNamespace(s=s, length=16) for s in range(4)] for _ in range(3)]
    times = time_interleaved(runs, inputs, rounds=2, warmup=1)
    assert times.shape == (2, 4, 3) and (times >= 0).all()
    timed = calls[3:]  # after one warm-up run per file (one bucket)
    assert len(timed) == 2 * 4 * 3
    firsts = [timed[i][0] for i in range(0, len(timed), 3)]  # the file that ran first for each sentence
    assert firsts == [0, 1, 2, 0, 1, 2, 0, 1]
    for i in range(0, len(timed), 3):  # each sentence once on every file, the same sentence
        assert sorted(f for f, _ in timed[i:i + 3]) == [0, 1, 2] and len({s for _, s in timed[i:i + 3]}) == 1


def test_ratios_and_their_intervals_against_the_reference():
    from edgekit.benchmarks.paired_latency import ratios

    rng = np.random.default_rng(0)
    base = rng.uniform(1.0, 3.0, size=(3, 50, 1))
    times = np.concatenate([base, base * 2.0, base * rng.uniform(0.9, 1.1, size=base.shape)], axis=2)
    r = ratios(times, samples=200)
    assert r[0]["p50_ratio"] == 1.0 and r[0]["mean_ratio_ci95"] == [1.0, 1.0]
    assert r[1]["p50_ratio"] == pytest.approx(2.0) and r[1]["mean_ratio_ci95"] == pytest.approx([2.0, 2.0])
    lo, hi = r[2]["mean_ratio_ci95"]
    assert lo < r[2]["mean_ratio"] < hi and 0.95 < lo and hi < 1.05


def test_two_files_of_a_bundle_end_to_end(tmp_path, tiny_teacher_dir, default_splits, capsys):
    from edgekit.benchmarks.paired_latency import main
    from edgekit.converters.convert import ConvertOptions, convert_model_dir

    bundle = tmp_path / "bundle"
    convert_model_dir(tiny_teacher_dir, bundle, default_splits,
                      ConvertOptions(modes=["fp32", "dynamic_int8"], buckets=[16, 32], metadata=False), progress=False)
    split = default_splits.save(tmp_path / "split")
    out = tmp_path / "p.json"
    assert main([f"{bundle}:fp32", f"{bundle}:dynamic_int8", "--data", str(split / "test.jsonl"), "--rounds", "2",
                 "--limit", "6", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["sentences"] == 6 and [f["mode"] for f in result["files"]] == ["fp32", "dynamic_int8"]
    assert result["files"][1]["latency_ms"]["count"] == 12 and result["files"][0]["p50_ratio"] == 1.0
    assert "git_commit" in result and "dynamic_int8: p50" in capsys.readouterr().out

    # --processes: fresh processes, files loaded in a rotated order; ratios always against the first file given
    assert main([f"{bundle}:fp32", f"{bundle}:dynamic_int8", "--data", str(split / "test.jsonl"), "--rounds", "1",
                 "--limit", "3", "--processes", "2", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    reference, other = result["files"]
    assert result["processes"] == 2 and len(other["processes"]) == 2
    assert reference["p50_ratio"] == {"median": 1.0, "min": 1.0, "max": 1.0}
    assert other["p50_ratio"]["min"] <= other["p50_ratio"]["median"] <= other["p50_ratio"]["max"]


@pytest.mark.parametrize("argv, fragment", [(["only:fp32"], "two or more"), (["nocolon", "b:fp32"], "BUNDLE:MODE")])
def test_bad_arguments_are_one_line(tmp_path, capsys, argv, fragment):
    from edgekit.benchmarks.paired_latency import main

    assert main([*argv, "--data", "d.jsonl", "--out", str(tmp_path / "o.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and fragment in err and not (tmp_path / "o.json").exists()
