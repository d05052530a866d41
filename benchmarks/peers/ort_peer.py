"""The ONNX Runtime peer as ``edgekit bench`` sees it: is it available, which rows, run one.

For each BERT-family bundle measured on local data, four rows on the weights of its source model
directory, at every thread count: :data:`ORT_MODES`. The ONNX files come from :mod:`.ort_files`
(exported once, cached next to the results); each row is measured by :mod:`.ort_runner` in a process
of its own, on the bundle's tokenizer, buckets and labels.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ...errors import EdgekitError
from ...hf.export import EXPORT_FAMILY
from ..targets import Job, runner_error
from ...hf.torch_env import TORCH_PYTHON_ENV, missing_here, missing_in_torch_python, torch_python
from .ort_files import EXPORT_MODULES, INT8_ROLES, MEASURE_MODULES, OnnxFiles, choose_int8, onnx_files

INSTALL = "pip install 'edgekit[onnx]'"


@dataclass(frozen=True)
class OrtMode:
    precision: str  # "fp32" | "dynamic_int8"
    padded: bool  # padded to the largest bucket, else each sentence at its own length


ORT_MODES: dict[str, OrtMode] = {
    "ort_fp32": OrtMode("fp32", padded=False),
    "ort_fp32_padded": OrtMode("fp32", padded=True),
    "ort_dynamic_int8": OrtMode("dynamic_int8", padded=False),
    "ort_dynamic_int8_padded": OrtMode("dynamic_int8", padded=True),
}


@functools.lru_cache(maxsize=None)
def _unavailable(python: str) -> str | None:
    here = missing_here(MEASURE_MODULES)
    try:
        export = missing_in_torch_python(EXPORT_MODULES)
    except EdgekitError as exc:
        return f"ONNX Runtime peer skipped: {exc}"
    if python == sys.executable:
        missing = list(dict.fromkeys(here + export))
        problems = [f"{', '.join(missing)} not installed ({INSTALL})"] if missing else []
    else:
        problems = [f"{', '.join(here)} not installed ({INSTALL})"] if here else []
        if export:
            problems.append(f"{', '.join(export)} not installed in {TORCH_PYTHON_ENV}={python} "
                            f"(pip install {' '.join(export)} there)")
    return "ONNX Runtime peer skipped: " + "; ".join(problems) if problems else None


def unavailable() -> str | None:
    """None when the peer can run; else the one line that says what to install."""
    return _unavailable(torch_python())


def applies(family: str | None) -> bool:
    """Whether bundles of ``family`` get ORT rows: the family ``edgekit export hf`` (and import) speaks."""
    return family == EXPORT_FAMILY


class OrtPeer:
    """Runs planned ORT rows; exports each model directory once per bench run (a failure too)."""

    def __init__(self, cache_root: str | Path):
        self.cache_root = Path(cache_root)
        self._files: dict[Path, OnnxFiles | EdgekitError] = {}

    def files(self, model_dir: Path) -> OnnxFiles:
        key = model_dir.resolve()
        if key not in self._files:
            try:
                self._files[key] = onnx_files(model_dir, self.cache_root)
            except EdgekitError as exc:
                self._files[key] = exc
        found = self._files[key]
        if isinstance(found, EdgekitError):
            raise found
        return found

    def run(self, job: Job, model_dir: Path, timeout: float = 7200) -> dict:
        """The result record of one ORT row (``job.mode`` one of :data:`ORT_MODES`)."""
        mode = ORT_MODES[job.mode]
        files = self.files(model_dir)
        peer = {"export": {k: files.info.get(k) for k in ("hf_form", "weights_sha256", "model_dir", "opset",
                                                           "fused_operators", "fp32_vs_pytorch", "versions")}}
        role, label = "fp32", "ONNX Runtime, fused fp32"
        if mode.precision == "dynamic_int8":
            choice = choose_int8(files, job.bundle, job.data, job.limit)
            role = choice["chosen"]
            label = f"ONNX Runtime, fused dynamic int8 {INT8_ROLES[role]}"
            peer["int8_choice"] = choice
        peer.update(file_role=role, label=label)
        with tempfile.TemporaryDirectory(prefix="edgekit-ort-") as tmp:
            out, peer_file = Path(tmp) / "r.json", Path(tmp) / "peer.json"
            peer_file.write_text(json.dumps(peer), encoding="utf-8")
            cmd = [sys.executable, "-m", "edgekit.benchmarks.peers.ort_runner", "--onnx", str(files.path(role)),
                   "--bundle", str(job.bundle), "--mode", job.mode, "--data", str(job.data),
                   "--threads", str(job.threads), "--warmup", str(job.warmup), "--peer", str(peer_file),
                   "--out", str(out)]
            if mode.padded:
                cmd.append("--padded")
            if job.limit is not None:
                cmd += ["--limit", str(job.limit)]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            if proc.returncode != 0 or not out.is_file():
                raise EdgekitError(runner_error(proc.stderr + proc.stdout, f"{job.mode} of {model_dir}"))
            return json.loads(out.read_text(encoding="utf-8"))
