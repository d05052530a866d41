"""The benchmark runner: statistics and F1 against hand-computed references, a real bundle run
locally and in an interpreter that cannot import TensorFlow, and user mistakes as one clear line."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edgekit import contracts
from edgekit.data import Dataset, Example
from edgekit.metrics import classification_report, latency_stats, percentile

LABELS = ["negative", "neutral", "positive"]


# ---------------------------------------------------------------------------------------------
# statistics and F1, computed by hand


def test_percentiles_match_hand_computed_linear_interpolation():
    values = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5]  # unsorted on purpose
    # sorted 1..10; position (n-1)*q: p50 → 4.5 → 5.5; p90 → 8.1 → 9.1; p99 → 8.91 → 9.91
    assert percentile(values, 50) == pytest.approx(5.5)
    assert percentile(values, 90) == pytest.approx(9.1)
    assert percentile(values, 99) == pytest.approx(9.91)
    s = latency_stats(values)
    assert s["mean"] == pytest.approx(5.5)
    assert s["std"] == pytest.approx(math.sqrt(8.25))  # population std: sum((x-5.5)^2)/10 = 8.25
    assert (s["min"], s["max"], s["count"]) == (1.0, 10.0, 10)
    one = latency_stats([7.0])
    assert one["p50"] == one["p99"] == one["min"] == 7.0 and one["std"] == 0.0
    # two values: p90 = 1 + 0.9 * (3 - 1)
    assert percentile([3.0, 1.0], 90) == pytest.approx(2.8)
    with pytest.raises(ValueError):
        latency_stats([])


def test_f1_matches_hand_computed_reference():
    y_true = [0, 0, 0, 1, 1, 2]
    y_pred = [0, 0, 1, 1, 2, 2]
    r = classification_report(y_true, y_pred, LABELS)
    # negative: tp 2, predicted 2, support 3 → P 1, R 2/3, F1 0.8
    # neutral:  tp 1, predicted 2, support 2 → P 1/2, R 1/2, F1 1/2
    # positive: tp 1, predicted 2, support 1 → P 1/2, R 1, F1 2/3
    neg, neu, pos = (r["per_class"][k] for k in LABELS)
    assert (neg["precision"], neg["recall"], neg["f1"]) == pytest.approx((1.0, 2 / 3, 0.8))
    assert (neu["precision"], neu["recall"], neu["f1"]) == pytest.approx((0.5, 0.5, 0.5))
    assert (pos["precision"], pos["recall"], pos["f1"]) == pytest.approx((0.5, 1.0, 2 / 3))
    assert r["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert r["weighted_f1"] == pytest.approx((0.8 * 3 + 0.5 * 2 + 2 / 3 * 1) / 6)
    assert r["accuracy"] == pytest.approx(4 / 6)
    assert r["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    # a class never predicted counts as F1 0 in the macro average
    r2 = classification_report([0, 1, 2], [0, 0, 0], LABELS)
    assert r2["macro_f1"] == pytest.approx((0.5 + 0 + 0) / 3)
    assert r2["per_class"]["neutral"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


# ---------------------------------------------------------------------------------------------
# a real bundle


@pytest.fixture(scope="session")
def bench_bundle(tmp_path_factory, vocab_path) -> Path:
    """A real three-mode bundle (fp32, dynamic_int8, int8) of a small model, built with TensorFlow."""
    pytest.importorskip("tensorflow")
    from edgekit.benchmarks.fixtures import build_bundle

    return build_bundle(tmp_path_factory.mktemp("bench") / "bundle", vocab_path)


@pytest.fixture(scope="session")
def fpb_test_split(tmp_path_factory, fpb_dir) -> Path:
    from edgekit.data import load_dataset, split_dataset

    out = tmp_path_factory.mktemp("fpb") / "split"
    split_dataset(load_dataset(fpb_dir / "Sentences_75Agree.txt"), seed=42).save(out)
    return out / "test.jsonl"


def run_runner(*args, env=None, cwd=None, python=sys.executable, flags=()):
    return subprocess.run([python, *flags, "-m", "edgekit.benchmarks.runner", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


def test_runner_record_is_complete_and_consistent(bench_bundle, fpb_test_split, tmp_path):
    out = tmp_path / "r.json"
    proc = run_runner("--bundle", bench_bundle, "--mode", "dynamic_int8", "--data", fpb_test_split, "--limit", 60,
                      "--threads", 2, "--out", out)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(out.read_text())
    assert contracts.check_result(r) == []
    assert r["kind"] == "edgekit-benchmark-result" and r["threads"] == 2
    assert r["device"]["target"] == "local" and r["device"]["emulated"] is False
    assert r["device"]["runtime"]["name"] == "ai-edge-litert"
    manifest = json.loads((bench_bundle / "manifest.json").read_text())
    assert r["bundle"]["sha256"] == manifest["modes"]["dynamic_int8"]["sha256"]
    assert r["bundle"]["bytes"] == (bench_bundle / "model_dynamic_int8.tflite").stat().st_size
    assert r["dataset"]["name"] == "Sentences_75Agree:test" and r["dataset"]["split"] == "test"
    # quality is exactly the report of the recorded predictions
    truth = [LABELS.index(json.loads(line)["label"]) for line in fpb_test_split.read_text().splitlines()[:60]]
    assert r["quality"] == classification_report(truth, r["predictions"], LABELS)
    assert r["quality"]["n"] == 60 and sum(map(sum, r["quality"]["confusion_matrix"])) == 60
    t = r["timing_ms"]
    for block in ("tokenization", "inference", "end_to_end"):
        s = t[block]
        assert s["count"] == 60 and 0 < s["min"] <= s["p50"] <= s["p90"] <= s["p99"] <= s["max"]
    assert t["end_to_end"]["mean"] == pytest.approx(t["tokenization"]["mean"] + t["inference"]["mean"])
    assert t["load"] > 0 and t["first_inference"] > 0
    # the smallest bucket holding each sentence; per-bucket counts add up
    from edgekit.tokenizer import WordPieceTokenizer

    tok = WordPieceTokenizer.from_file(bench_bundle / "vocab.txt")
    texts = [json.loads(line)["text"] for line in fpb_test_split.read_text().splitlines()[:60]]
    expected: dict[str, int] = {}
    for text in texts:
        n = tok.count_tokens(text)
        length = next((L for L in (16, 32, 64, 128) if n <= L), 128)
        expected[str(length)] = expected.get(str(length), 0) + 1
    assert r["buckets_used"] == expected
    assert {k: v["count"] for k, v in t["inference_by_bucket"].items()} == expected
    assert r["memory"]["peak_rss_mb"] > 10


def test_runner_synthetic_mode_is_like_benchmark_model(bench_bundle, tmp_path):
    out = tmp_path / "s.json"
    proc = run_runner("--bundle", bench_bundle, "--mode", "fp32", "--synthetic", 64, "--iterations", 20, "--out", out)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(out.read_text())
    assert contracts.check_result(r) == []
    assert r["timing_ms"]["inference"]["count"] == 20 and r["buckets_used"] == {"64": 20}
    assert r["quality"]["macro_f1"] is None and r["dataset"]["split"] == "synthetic"
    bad = run_runner("--bundle", bench_bundle, "--mode", "fp32", "--synthetic", 50)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "no bucket of length 50" in bad.stderr


def _isolated_site(tmp_path: Path) -> Path:
    """A folder with only numpy and ai-edge-litert (symlinked from this environment)."""
    import ai_edge_litert
    import numpy

    site = tmp_path / "site"
    site.mkdir()
    roots = {Path(numpy.__file__).parent, Path(ai_edge_litert.__file__).parent}
    for root in roots:
        (site / root.name).symlink_to(root)
        parent = root.parent
        for extra in list(parent.glob(f"{root.name}.libs")) + list(parent.glob(f"{root.name}-*.dist-info")):
            (site / extra.name).symlink_to(extra)
    return site


def test_runner_runs_without_tensorflow_from_its_payload(bench_bundle, fpb_test_split, tmp_path):
    from edgekit.benchmarks import payload

    code = payload.build(tmp_path / "payload")
    site = _isolated_site(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = f"{code}{os.pathsep}{site}"
    probe = ("import sys, edgekit.benchmarks.runner\n"
             "for banned in ('tensorflow', 'click', 'matplotlib', 'keras'):\n"
             "    try:\n        __import__(banned)\n        print('IMPORTABLE', banned)\n"
             "    except ImportError:\n        pass\n"
             "mods = [m for m in sys.modules if m.startswith('edgekit')]\n"
             f"assert all(sys.modules[m].__file__.startswith({str(code)!r}) for m in mods), mods\n"
             "print('ok', len(mods))\n")
    # -S: no site-packages at all, so only the payload, numpy and LiteRT can be imported
    proc = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "IMPORTABLE" not in proc.stdout and proc.stdout.startswith("ok")
    out = tmp_path / "iso.json"
    proc = run_runner("--bundle", bench_bundle, "--mode", "int8", "--data", fpb_test_split, "--limit", 25,
                      "--out", out, env=env, cwd=tmp_path, flags=("-S",))
    assert proc.returncode == 0, proc.stderr
    r = json.loads(out.read_text())
    assert contracts.check_result(r) == [] and r["quality"]["n"] == 25
    assert r["device"]["runtime"] == {"name": "ai-edge-litert", "version": "2.3.0"}


# ---------------------------------------------------------------------------------------------
# user mistakes: one line, non-zero exit


def _copy_bundle(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _one_error_line(proc) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = [line for line in proc.stderr.strip().splitlines() if not line.startswith("INFO:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_runner_user_mistakes_are_one_line(bench_bundle, fpb_test_split, tmp_path):
    data = ["--data", fpb_test_split, "--limit", 5]
    malformed = _copy_bundle(bench_bundle, tmp_path / "malformed")
    (malformed / "manifest.json").write_text("{ not json", encoding="utf-8")
    assert "not valid JSON" in _one_error_line(run_runner("--bundle", malformed, "--mode", "fp32", *data))

    incomplete = _copy_bundle(bench_bundle, tmp_path / "incomplete")
    m = json.loads((incomplete / "manifest.json").read_text())
    del m["buckets"]
    (incomplete / "manifest.json").write_text(json.dumps(m))
    assert "missing buckets" in _one_error_line(run_runner("--bundle", incomplete, "--mode", "fp32", *data))

    no_file = _copy_bundle(bench_bundle, tmp_path / "no_file")
    (no_file / "model_int8.tflite").unlink()
    line = _one_error_line(run_runner("--bundle", no_file, "--mode", "int8", *data))
    assert "model_int8.tflite" in line and "missing" in line

    line = _one_error_line(run_runner("--bundle", bench_bundle, "--mode", "fp16", *data))
    assert "no mode 'fp16'" in line

    truncated = _copy_bundle(bench_bundle, tmp_path / "truncated")
    blob = (truncated / "model_fp32.tflite").read_bytes()
    (truncated / "model_fp32.tflite").write_bytes(blob[: len(blob) // 2])
    assert "truncated or replaced" in _one_error_line(run_runner("--bundle", truncated, "--mode", "fp32", *data))

    odd = tmp_path / "odd.jsonl"
    Dataset("odd", [Example("Profit rose.", "positive"), Example("Fine.", "neutral")], tuple(LABELS)).to_jsonl(odd)
    with odd.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"text": "Meh.", "label": "mixed"}) + "\n")
    line = _one_error_line(run_runner("--bundle", bench_bundle, "--mode", "fp32", "--data", odd))
    assert "odd.jsonl:3" in line and "unknown label 'mixed'" in line

    missing = _one_error_line(run_runner("--bundle", bench_bundle, "--mode", "fp32", "--data", tmp_path / "nope.jsonl"))
    assert "not found" in missing

    nobundle = _one_error_line(run_runner("--bundle", tmp_path / "nowhere", "--mode", "fp32", *data))
    assert "bundle not found" in nobundle


def test_runner_reads_tsv_and_csv(bench_bundle, tmp_path):
    rows = [("Operating profit rose to EUR 13.1 mn.", "positive"), ("The company has offices in Helsinki.", "neutral"),
            ("Sales fell, \"sharply\".", "negative")]
    tsv = tmp_path / "eval.tsv"
    tsv.write_text("text\tlabel\n" + "".join(f"{t}\t{lab}\n" for t, lab in rows), encoding="utf-8")
    csv_path = tmp_path / "eval.csv"
    import csv

    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["sentence", "label"])
        w.writerows(rows)
    a = run_runner("--bundle", bench_bundle, "--mode", "fp32", "--data", tsv)
    b = run_runner("--bundle", bench_bundle, "--mode", "fp32", "--data", csv_path, "--text-column", "sentence")
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    ra, rb = json.loads(a.stdout), json.loads(b.stdout)
    assert ra["quality"]["n"] == rb["quality"]["n"] == 3
    assert ra["predictions"] == rb["predictions"] and ra["dataset"]["sha256"] == rb["dataset"]["sha256"]


def test_bench_synthetic_matrix_without_source_model(bench_bundle, tmp_path):
    """`edgekit bench --synthetic`: modes × lengths × threads, latency only; no Keras row (no data)."""
    from click.testing import CliRunner

    from edgekit.cli import cli

    out = tmp_path / "syn.jsonl"
    args = ["bench", str(bench_bundle), "--synthetic", "16,64", "--iterations", "5", "--modes", "fp32,int8",
            "--threads", "1,2", "--out", str(out), "--no-progress"]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 8 and len({x["run_key"] for x in records}) == 8
    assert {(x["bundle"]["mode"], x["threads"], x["synthetic"]["seq_len"]) for x in records} == {
        (m, t, L) for m in ("fp32", "int8") for t in (1, 2) for L in (16, 64)}
    assert all(x["timing_ms"]["inference"]["count"] == 5 and x["quality"]["macro_f1"] is None for x in records)
    assert all(contracts.check_result(x) == [] for x in records)
    assert "0 measured, 8 already there" in CliRunner().invoke(cli, args).stdout
