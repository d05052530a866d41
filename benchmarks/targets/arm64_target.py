"""``arm64[:CPU]``: the runner in the aarch64 Python of :mod:`.arm64` under qemu user-mode emulation."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from ...errors import EdgekitError
from .. import payload
from . import Job, Target, arm64, register, runner_error


class Arm64Target(Target):
    emulated = True

    def __init__(self, cpu: str = arm64.DEFAULT_CPU, cache: str | Path | None = None, timeout: float = 7200) -> None:
        if cpu not in arm64.CPUS:
            raise EdgekitError(f"unknown arm64 CPU {cpu!r}; choose one of {', '.join(sorted(arm64.CPUS))} "
                               "(never 'max': QEMU's max CPU advertises SME and computed wrong int8 results)")
        self.cpu = cpu
        self.cache = cache
        self.timeout = timeout
        self.spec = f"arm64:{cpu}"
        self._env: arm64.Arm64Env | None = None

    @property
    def env(self) -> arm64.Arm64Env:
        if self._env is None:
            self._env = arm64.load(self.cache)
        return self._env

    def check(self) -> None:
        self.env  # noqa: B018 - raises a clear error when not prepared

    def emulator(self) -> str:
        return f"{self.env.qemu_version()} -cpu {self.cpu}"

    def run(self, job: Job) -> dict:
        env = self.env
        code = payload.cached(env.cache)
        with tempfile.TemporaryDirectory(prefix="edgekit-arm64-") as tmp:
            out = Path(tmp) / "result.json"
            cmd = [*env.python_command(self.cpu), "-m", "edgekit.benchmarks.runner",
                   *job.runner_args(str(Path(job.bundle).resolve()), str(Path(job.data).resolve()) if job.data else None),
                   "--target", self.spec, "--emulated", self.emulator(), "--out", str(out)]
            run_env = env.env()
            run_env["PYTHONPATH"] = str(code)
            from ...provenance import git_commit

            run_env["EDGEKIT_GIT_COMMIT"] = git_commit()
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout, env=run_env, cwd=code)
            except subprocess.TimeoutExpired:
                raise EdgekitError(f"{self.spec}: {job.mode} timed out after {self.timeout:.0f}s under emulation "
                                   "(use --limit for a smaller eval subset)") from None
            if proc.returncode != 0 or not out.is_file():
                raise EdgekitError(runner_error(proc.stderr + proc.stdout, f"{self.spec} {job.bundle.name}/{job.mode}"))
            record = json.loads(out.read_text(encoding="utf-8"))
        caveat = self.caveat(job)
        if caveat:
            record.setdefault("caveats", []).append(caveat)
        return record

    def caveat(self, job: Job) -> str | None:
        """Known-unreliable combinations of this emulation (measured, see benchmarks/README.md)."""
        if job.mode == "int8" and job.threads > 1 and self.cpu in ("cortex-a53", "cortex-a72"):
            return (f"full-int8 with {job.threads} threads on emulated {self.cpu} (ARMv8.0, no dot-product) gave "
                    "wrong logits here in XNNPACK's int8 kernels (mean |Δlogit| 0.39 vs x86; 1 thread, the builtin "
                    "kernels, and cortex-a76/neoverse-n1 agree): "
                    "do not trust these predictions without real hardware")
        return None


@register("arm64", f"arm64[:CPU] (qemu user-mode; CPU one of {', '.join(arm64.CPUS)})")
def _factory(rest: str, **options) -> Target:
    return Arm64Target(rest or arm64.DEFAULT_CPU, cache=options.get("arm64_cache"), timeout=options.get("timeout") or 7200)
