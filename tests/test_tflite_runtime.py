"""The runner on the legacy tflite-runtime 2.14 (its last release; numpy < 2, so a venv of its own): a
real venv with only tflite-runtime and numpy runs the runner's payload on the fp32, per-tensor dynamic
int8 and full int8 files of a converted tiny teacher, with the same predictions as LiteRT, and names the
per-channel dynamic-int8 file it cannot run in one line.

The venv is made once under .cache/ (pip from PyPI); without network the test skips, unless
EDGEKIT_REQUIRE_TFLITE_RUNTIME is set (CI sets it), then it fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".cache" / "tflite-runtime-2.14"
REQUIREMENTS = ("tflite-runtime==2.14.0", "numpy<2")
RUNS = ("fp32", "dynamic_int8_pt", "int8")


def _python() -> Path:
    return VENV / "bin" / "python"


@pytest.fixture(scope="module")
def legacy_python() -> Path:
    marker = VENV / ".ready"
    if not marker.is_file():
        try:
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True, capture_output=True,
                           timeout=300)
            subprocess.run([str(_python()), "-m", "pip", "install", "-q", *REQUIREMENTS], check=True,
                           capture_output=True, timeout=600)
            marker.write_text(" ".join(REQUIREMENTS) + "\n")
        except (subprocess.SubprocessError, OSError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            why = f"cannot build the tflite-runtime venv: {exc} {detail.decode(errors='replace')[-300:]}"
            if os.environ.get("EDGEKIT_REQUIRE_TFLITE_RUNTIME"):
                pytest.fail(why)
            pytest.skip(why)
    return _python()


@pytest.fixture(scope="module")
def legacy_bundle(tmp_path_factory, tiny_teacher_dir, default_splits) -> Path:
    from edgekit.converters.convert import ConvertOptions, convert_model_dir

    out = tmp_path_factory.mktemp("legacy") / "bundle"
    options = ConvertOptions(modes=("fp32", "dynamic_int8", "dynamic_int8_pt", "int8"), buckets=(16, 32),
                             calibration_samples=60, search_samples=120, metadata=False)
    convert_model_dir(tiny_teacher_dir, out, default_splits, options, progress=False)
    return out


@pytest.fixture(scope="module")
def payload_dir(tmp_path_factory) -> Path:
    from edgekit.benchmarks import payload

    return payload.build(tmp_path_factory.mktemp("payload") / "p")


def _runner(python: Path, payload: Path, bundle: Path, mode: str, data: Path, out: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "EDGEKIT_RUNTIME"}
    return subprocess.run([str(python), "-m", "edgekit.benchmarks.runner", "--bundle", str(bundle), "--mode", mode,
                           "--data", str(data), "--limit", "40", "--out", str(out)],
                          capture_output=True, text=True, cwd=payload, env=env, timeout=600)


@pytest.fixture(scope="module")
def eval_file(default_splits, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("eval") / "test.jsonl"
    default_splits.test.to_jsonl(path)
    return path


@pytest.mark.parametrize("mode", RUNS)
def test_tflite_runtime_runs_the_file_as_litert_does(mode, legacy_python, legacy_bundle, payload_dir, eval_file,
                                                     tmp_path):
    legacy = _runner(legacy_python, payload_dir, legacy_bundle, mode, eval_file, tmp_path / "legacy.json")
    assert legacy.returncode == 0, legacy.stderr[-2000:]
    current = _runner(Path(sys.executable), payload_dir, legacy_bundle, mode, eval_file, tmp_path / "litert.json")
    assert current.returncode == 0, current.stderr[-2000:]
    old, new = (json.loads((tmp_path / f).read_text()) for f in ("legacy.json", "litert.json"))
    assert old["device"]["runtime"] == {"name": "tflite-runtime", "version": "2.14.0"}
    assert new["device"]["runtime"]["name"] == "ai-edge-litert"
    assert old["quality"]["n"] == new["quality"]["n"] == 40
    assert old["quality"]["confusion_matrix"] == new["quality"]["confusion_matrix"]


def test_what_tflite_runtime_cannot_run_is_one_line(legacy_python, legacy_bundle, payload_dir, eval_file, tmp_path):
    proc = _runner(legacy_python, payload_dir, legacy_bundle, "dynamic_int8", eval_file, tmp_path / "r.json")
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [ln for ln in proc.stderr.strip().splitlines() if not ln.startswith("INFO:")]
    assert len(lines) == 1 and "tflite-runtime 2.14.0 cannot run mode 'dynamic_int8'" in lines[0], proc.stderr
    assert "dynamic_int8_pt" in lines[0]
    assert not (tmp_path / "r.json").exists()
