"""A quiet terminal: real verbs in a subprocess print no TensorFlow/absl/oneDNN/CUDA/LiteRT chatter and no
library warnings on stderr; ``--verbose`` shows it all plus edgekit's debug lines; ``--quiet`` drops the
progress bar."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

CLI = [sys.executable, "-c", "from edgekit.cli import main; main()"]
TINY = "random:layers=1,hidden=32,heads=2,intermediate=64"

# One pattern per kind of line the terminal must not show by default.
NOISE = [re.compile(p, re.IGNORECASE) for p in (
    r"absl::InitializeLog",
    r"^[IWEF]\d{4} [\d:.]+\s+\d+ \S+:\d+\]",  # absl/glog-format lines (TensorFlow, XLA, oneDNN, CUDA)
    r"oneDNN|TF_ENABLE_ONEDNN_OPTS",
    r"cuda|cuInit|GPU will not be used",
    r"XNNPACK delegate",
    r"WARNING:(absl|tensorflow)",
    r"\w+Warning:",  # a Python warning (UserWarning, DeprecationWarning, ...)
    r"deprecated",
    r"fully_quantize",
    r"rebuild TensorFlow",
    r"site-packages",  # a library's file named in a warning or log line
)]

# Real lines from TensorFlow 2.21 / LiteRT 2.3 on this machine.
CHATTER = (
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    b"I0000 00:00:1795926787.520549    4563 port.cc:153] oneDNN custom operations are on. You may see slightly "
    b"different numerical results due to floating-point round-off errors from different computation orders. To "
    b"turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.\n"
    b"I0000 00:00:1795926787.521067    4563 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU "
    b"will not be used.\n"
    b"E0000 00:00:1795926790.825734    4563 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: "
    b"Failed call to cuInit: UNKNOWN ERROR (303)\n"
    b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n"
    b"fully_quantize: 0, inference_type: 6, input_inference_type: FLOAT32, output_inference_type: FLOAT32\n"
)


def noise_in(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if any(p.search(line) for p in NOISE)]


def edgekit(*args, check: bool = True) -> subprocess.CompletedProcess:
    # A user's shell: none of the settings the CLI makes itself (conftest sets TF_CPP_MIN_LOG_LEVEL).
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "TQDM_DISABLE")}
    proc = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, env=env, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    """90 labelled sentences (TSV) and a JSONL eval file: enough to split, train, convert and bench."""
    folder = tmp_path_factory.mktemp("quiet-data")
    words = {"negative": "fell sharply", "neutral": "was unchanged", "positive": "rose strongly"}
    rows = [(f"company {i} said its quarter {i % 7} profit {w}", label)
            for label, w in words.items() for i in range(30)]
    data = folder / "tiny.tsv"
    data.write_text("text\tlabel\n" + "".join(f"{t}\t{lab}\n" for t, lab in rows), encoding="utf-8")
    evalf = folder / "eval.jsonl"
    evalf.write_text("".join(json.dumps({"text": t, "label": lab}) + "\n" for t, lab in rows[::10]), encoding="utf-8")
    return data, evalf


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory, tiny_data):
    """``train teacher`` and ``convert`` (full int8: the converter's quantizer and calibrator) run for real;
    returns the bundle and both commands' stderr."""
    data, _ = tiny_data
    folder = tmp_path_factory.mktemp("quiet-run")
    model, bundle = folder / "teacher", folder / "bundle"
    train = edgekit("train", "teacher", "--data", data, "--backbone", TINY, "--epochs", 1, "--out", model)
    convert = edgekit("convert", model, "--data", data, "--modes", "int8", "--buckets", 16, "--fallback", "family",
                      "--no-metadata", "--threshold", "int8:agreement=0", "--threshold", "int8:f1_drop=1",
                      "--out", bundle)
    return bundle, {"train teacher": train.stderr, "convert": convert.stderr}


def test_tensorflow_verbs_print_no_library_chatter(tiny_bundle):
    bundle, stderrs = tiny_bundle
    stderrs["predict"] = edgekit("predict", bundle, "profit rose strongly").stderr
    for verb, stderr in stderrs.items():
        assert noise_in(stderr) == [], f"edgekit {verb}:\n{stderr}"
    assert "macro-F1" in stderrs["train teacher"] and "int8" in stderrs["convert"]  # edgekit's own lines stay


def test_verbose_shows_library_chatter_and_debug_lines(tiny_bundle, tiny_data):
    data, _ = tiny_data
    bundle, _ = tiny_bundle
    train = edgekit("--verbose", "train", "teacher", "--data", data, "--backbone", TINY, "--epochs", 1,
                    "--out", bundle.parent / "verbose-teacher")
    assert "verbose: library output unfiltered" in train.stderr
    assert any("absl::InitializeLog" in line for line in noise_in(train.stderr)), train.stderr
    predict = edgekit("-v", "predict", bundle, "profit rose")
    assert any("XNNPACK delegate" in line for line in noise_in(predict.stderr)), predict.stderr


def test_quiet_drops_the_progress_bar(tiny_bundle, tiny_data, tmp_path):
    bundle, _ = tiny_bundle
    _, evalf = tiny_data
    args = ("bench", bundle, "--data", evalf, "--no-baseline", "--limit", 3)
    normal = edgekit(*args, "--out", tmp_path / "a.jsonl")
    quiet = edgekit("--quiet", *args, "--out", tmp_path / "b.jsonl")
    assert "bench:" in normal.stderr and "bench:" not in quiet.stderr, (normal.stderr, quiet.stderr)
    assert "1 measured" in quiet.stdout
    assert noise_in(normal.stderr) == noise_in(quiet.stderr) == []


def test_quiet_and_verbose_exclude_each_other():
    proc = edgekit("--quiet", "--verbose", "data", "stats", "x", check=False)
    assert proc.returncode == 2 and proc.stderr.strip() == "error: --quiet and --verbose exclude each other"


def test_native_filter_keeps_real_lines_and_survives_a_crash():
    """Chatter written to descriptor 2 is dropped; other native lines, a line without its newline and a
    fatal line pass, also when the process dies in native code right after writing them."""
    code = (
        "import os, sys\n"
        "from edgekit.cli import quiet\n"
        "quiet.configure(quiet.Verbosity.NORMAL)\n"
        "print('from python', file=sys.stderr)\n"
        f"os.write(2, {CHATTER!r} + b'a native line\\nF0000 00:00:1.0  1 x.cc:1] Check failed\\nno newline')\n"
        "os.abort()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    lines = proc.stderr.splitlines()
    assert noise_in(proc.stderr) == [lines[-2]] and "Check failed" in lines[-2], proc.stderr
    assert lines[0] == "from python" and lines[-3:] == ["a native line", lines[-2], "no newline"], proc.stderr
