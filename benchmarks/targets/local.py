"""``local``: the runner in a fresh process of this machine's Python."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ...errors import EdgekitError
from . import Job, Target, register, runner_error


class LocalTarget(Target):
    spec = "local"

    def __init__(self, python: str | None = None, timeout: float = 3600) -> None:
        self.python = python or sys.executable
        self.timeout = timeout

    def run(self, job: Job) -> dict:
        with tempfile.TemporaryDirectory(prefix="edgekit-bench-") as tmp:
            out = Path(tmp) / "result.json"
            cmd = [self.python, "-m", "edgekit.benchmarks.runner",
                   *job.runner_args(str(job.bundle), str(job.data) if job.data else None),
                   "--target", self.spec, "--out", str(out)]
            env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout, env=env)
            except subprocess.TimeoutExpired:
                raise EdgekitError(f"local: {job.mode} timed out after {self.timeout:.0f}s") from None
            if proc.returncode != 0 or not out.is_file():
                raise EdgekitError(runner_error(proc.stderr + proc.stdout, f"local {job.bundle.name}/{job.mode}"))
            return json.loads(out.read_text(encoding="utf-8"))


@register("local", "local (this machine)")
def _factory(rest: str, **options) -> Target:
    if rest:
        raise EdgekitError(f"target 'local' takes no argument (got 'local:{rest}')")
    return LocalTarget(timeout=options.get("timeout") or 3600)
