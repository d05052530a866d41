"""`edgekit report`: Pareto frontier by hand, the pick under a budget, Markdown + self-contained HTML."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from edgekit import contracts
from edgekit.errors import EdgekitError
from edgekit.reports.results_report import Budget, Row, pareto, recommend

LABELS = ["negative", "neutral", "positive"]


def record(model: str, mode: str, p50: float, f1: float | None, mb: float, target: str = "local", threads: int = 1,
           emulated: bool = False) -> dict:
    lat = {"p50": p50, "p90": p50 * 1.5, "p99": p50 * 2, "mean": p50 * 1.1, "std": 0.1, "min": p50 * 0.8,
           "max": p50 * 3, "count": 100}
    r = {
        "schema_version": contracts.RESULT_SCHEMA_VERSION, "kind": "edgekit-benchmark-result",
        "device": {"arch": "aarch64" if emulated else "x86_64", "cpu_model": "Cortex-A72 (0xd08)" if emulated else "Xeon",
                   "os": "Linux 6.1", "runtime": {"name": "ai-edge-litert", "version": "2.3.0"}, "target": target,
                   "emulated": emulated, **({"emulator": "qemu-aarch64 7.2 -cpu cortex-a72"} if emulated else {})},
        "bundle": {"model": model, "mode": mode, "sha256": "0" * 64, "bytes": int(mb * 1_000_000), "file": f"{mode}.tflite"},
        "threads": threads,
        "timing_ms": {"tokenization": dict(lat, p50=0.2), "load": 3.0, "first_inference": p50 * 2, "inference": lat,
                      "end_to_end": dict(lat, p50=p50 + 0.2),
                      "inference_by_bucket": {"16": dict(lat, p50=p50 / 2), "32": lat, "64": dict(lat, p50=p50 * 2)}},
        "memory": {"peak_rss_mb": 60.0},
        "quality": {"n": 100, "accuracy": f, "macro_f1": f, "weighted_f1": f, "per_class": {}, "labels": LABELS,
                    "confusion_matrix": []} if (f := f1) is not None else
                   {"n": 0, "accuracy": None, "macro_f1": None, "weighted_f1": None, "per_class": None, "labels": LABELS,
                    "confusion_matrix": None},
        "dataset": {"name": "fpb:test", "split": "test" if f1 is not None else "synthetic", "sha256": "1" * 64},
        "edgekit": {"version": "0.1.0", "git_commit": "abc1234"}, "timestamp": "2026-11-22T06:00:00Z",
        "run_key": f"{model}|{mode}|{target}|t{threads}",
    }
    assert contracts.check_result(r) == []
    return r


RECORDS = [
    record("teacher", "keras", 20.0, 0.880, 87.0),
    record("teacher", "fp32", 8.0, 0.880, 86.0),
    record("teacher", "dynamic_int8", 3.0, 0.878, 22.0),
    record("teacher", "int8", 3.5, 0.850, 45.0),  # dominated by dynamic_int8 (slower, worse)
    record("bilstm", "int8", 0.2, 0.760, 2.7),
    record("bilstm", "fp32", 0.5, 0.770, 8.5),
    record("teacher", "dynamic_int8", 1500.0, 0.878, 22.0, target="arm64:cortex-a72", emulated=True),
    record("bilstm", "int8", 90.0, 0.760, 2.7, target="arm64:cortex-a72", emulated=True),
    record("teacher", "dynamic_int8", 2.0, None, 22.0, target="adb:R5CT"),  # latency only
]


def test_pareto_frontier_by_hand():
    # (latency, f1): A(1, .70) B(2, .80) C(3, .75) D(4, .90) E(4, .85) F(0.5, .60)
    pts = [(1, .70), (2, .80), (3, .75), (4, .90), (4, .85), (0.5, .60)]
    assert pareto(pts) == [5, 0, 1, 3]  # F, A, B, D — C and E are dominated
    assert pareto([(1, .5), (1, .5)]) == [0]
    assert pareto([]) == []


def test_recommendation_under_budgets():
    rows = [Row(r) for r in RECORDS]
    best, why, target, threads = recommend(rows, Budget())
    # keras and fp32 tie on F1: the faster one wins
    assert (best.variant, target, threads) == ("teacher/fp32", "local", 1)
    best, why, *_ = recommend(rows, Budget(max_latency_ms=5))
    assert best.variant == "teacher/dynamic_int8"
    best, why, *_ = recommend(rows, Budget(max_latency_ms=5, max_size_mb=10))
    assert best.variant == "bilstm/fp32" and "size ≤ 10 MB" in why
    best, why, *_ = recommend(rows, Budget(max_latency_ms=0.3, min_f1=0.8))
    assert best is None and "no variant meets" in why
    best, why, target, _ = recommend(rows, Budget(max_size_mb=5), target="arm64:cortex-a72")
    assert best.variant == "bilstm/int8" and target == "arm64:cortex-a72" and "emulated" in why
    with pytest.raises(EdgekitError, match="no records for target"):
        recommend(rows, Budget(), target="ssh://pi@board")


def test_report_files_are_complete_and_html_is_self_contained(tmp_path):
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(r) + "\n" for r in RECORDS) + '{"kind": "edgekit-bench', encoding="utf-8")
    from edgekit.cli import cli

    res = CliRunner().invoke(cli, ["report", str(results), "--out", str(tmp_path / "rep"), "--max-latency-ms", "5",
                                   "--max-size-mb", "30"])
    assert res.exit_code == 0, res.output
    assert "recommended: teacher/dynamic_int8" in res.stdout
    md = (tmp_path / "rep" / "report.md").read_text()
    page = (tmp_path / "rep" / "report.html").read_text()
    # one table per target, emulated target labelled as such with emulated latency columns
    for heading in ("## local", "## arm64:cortex-a72 — EMULATED", "## adb:R5CT"):
        assert heading in md
    assert "p50 emulated ms" in md and "not ARM timings" in md
    assert "| teacher | dynamic_int8 | 1 | 22.00 | 3.000 |" in md and "6.7×" in md  # 20 ms Keras / 3 ms
    # every figure the Markdown links exists; the HTML embeds them all and fetches nothing
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert {"latency_f1_local.png", "size_f1.png", "buckets_local.png", "latency_f1_arm64_cortex_a72.png"} <= set(linked)
    for name in linked:
        assert (tmp_path / "rep" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.count('src="data:image/png;base64,') == len(linked)
    assert not re.search(r'(src|href)="(?!data:)', page)
    assert "EMULATED" in page and "Recommendation" in page
    # the front of each target, named: local 1 thread is bilstm/int8 (0.2 ms), bilstm/fp32, teacher/dynamic_int8,
    # teacher/fp32 (keras ties fp32 on F1 and is slower; teacher/int8 is dominated)
    front = next(line for line in md.splitlines() if line.startswith("On the latency–F1 front") and "bilstm" in line)
    assert [m.group(1) for m in re.finditer(r"(\w+/[\w ()]+?) \(", front)] == [
        "bilstm/int8", "bilstm/fp32", "teacher/dynamic_int8", "teacher/fp32"]
    assert front in page.replace("&#x27;", "'")


def test_report_errors_are_one_line(tmp_path):
    from edgekit.cli import cli

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "something-else"}\n')
    future = tmp_path / "future.jsonl"
    future.write_text(json.dumps({**RECORDS[1], "schema_version": 99}) + "\n")
    incomplete = tmp_path / "incomplete.jsonl"
    incomplete.write_text(json.dumps({k: v for k, v in RECORDS[1].items() if k != "timing_ms"}) + "\n")
    for args, fragment in (([str(tmp_path / "nope.jsonl")], "not found"), ([str(bad)], "not an edgekit benchmark"),
                           ([str(future)], "schema_version 99 is not one this edgekit reads"),
                           ([str(incomplete)], "teacher/fp32 is incomplete: missing timing_ms")):
        res = CliRunner().invoke(cli, ["report", *args, "--out", str(tmp_path / "rep")])
        assert res.exit_code == 2 and res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr
        assert fragment in res.stderr, res.stderr
        assert not (tmp_path / "rep").exists()


def test_peer_rows_are_shown_with_their_runtime_and_label_but_never_recommended(tmp_path):
    from edgekit.reports.results_report import write_report

    peer = record("teacher", "ort_dynamic_int8", 1.0, 0.95, 20.0)  # faster and better than every bundle file
    peer["device"]["runtime"] = {"name": "onnxruntime", "version": "1.32.0"}
    peer["bundle"]["peer"] = {"label": "ONNX Runtime, fused dynamic int8 per-channel"}
    best, *_ = recommend([Row(r) for r in RECORDS + [peer]], Budget())
    assert best.variant == "teacher/fp32"
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(r) + "\n" for r in RECORDS + [peer]), encoding="utf-8")
    md = write_report([results], tmp_path / "rep")["markdown"].read_text()
    assert "| teacher | ort_dynamic_int8 (ONNX Runtime, fused dynamic int8 per-channel) | 1 | 20.00 | 1.000 |" in md
    assert "ai-edge-litert 2.3.0, onnxruntime 1.32.0" in md
