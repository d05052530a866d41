"""Where a benchmark runs: a registry of targets, each turning a :class:`Job` into a result record.

Target specs (``--target``): ``local``; ``arm64[:CPU]`` (qemu user-mode, CPU one of cortex-a53,
cortex-a72, cortex-a76, neoverse-n1); ``ssh://user@host[:port]``; ``adb[:serial]``. A driver module
registers its scheme with :func:`register`; :func:`get_target` parses a spec. Drivers use the
host's standard library only (plus the runner, which they start as a separate process so its peak
RSS is its own).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ...errors import EdgekitError

_FACTORIES: dict[str, Callable[..., "Target"]] = {}
DRIVER_MODULES = ("local", "arm64_target", "ssh", "adb")


@dataclass(frozen=True)
class Job:
    bundle: Path
    mode: str
    threads: int = 1
    data: Path | None = None
    synthetic: int | None = None  # fixed length instead of data
    iterations: int = 50
    warmup: int = 3
    limit: int | None = None
    dataset_name: str | None = None
    split: str | None = None
    extra: dict = field(default_factory=dict)

    def runner_args(self, bundle: str, data: str | None) -> list[str]:
        """Runner command-line arguments (a list: quoting is the transport's job)."""
        args = ["--bundle", bundle, "--mode", self.mode, "--threads", str(self.threads), "--warmup", str(self.warmup)]
        if self.synthetic is not None:
            args += ["--synthetic", str(self.synthetic), "--iterations", str(self.iterations)]
        else:
            if data is None:
                raise EdgekitError("a benchmark job needs --data or a synthetic length")
            args += ["--data", data]
            if self.limit is not None:
                args += ["--limit", str(self.limit)]
            if self.dataset_name:
                args += ["--dataset-name", self.dataset_name]
            if self.split:
                args += ["--split", self.split]
        return args


class Target:
    """A place to run the runner. ``spec`` is the canonical name written into records."""

    spec: str = "?"
    emulated: bool = False
    # True when records carry predictions/F1 (False for adb's benchmark_model: latency only)
    measures_quality: bool = True

    def run(self, job: Job) -> dict:  # pragma: no cover - interface
        raise NotImplementedError

    def check(self) -> None:
        """Fail early with one clear line when the target cannot run at all."""

    def close(self) -> None:
        """Release whatever the target holds (remote temp folders...)."""

    def __enter__(self) -> "Target":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_USAGE: dict[str, str] = {}


def register(scheme: str, usage: str) -> Callable:
    """Register a driver's factory for specs ``SCHEME[:...]``; ``usage`` is its spec form for help texts."""
    def deco(factory: Callable[..., Target]) -> Callable[..., Target]:
        _FACTORIES[scheme] = factory
        _USAGE[scheme] = usage
        return factory

    return deco


def _load_drivers() -> None:
    for name in DRIVER_MODULES:
        importlib.import_module(f"{__name__}.{name}")


def targets_help() -> str:
    """``local, arm64[:CPU] (...), ...``: every registered target's spec form, for help texts."""
    _load_drivers()
    return ", ".join(_USAGE[scheme] for scheme in _FACTORIES)


def get_target(spec: str, **options) -> Target:
    """``local`` | ``arm64[:cpu]`` | ``ssh://user@host[:port]`` | ``adb[:serial]`` → a Target."""
    _load_drivers()
    spec = spec.strip()
    scheme, sep, rest = spec.partition("://")
    if not sep:
        scheme, _, rest = spec.partition(":")
    if scheme not in _FACTORIES:
        raise EdgekitError(f"unknown target {spec!r}; use local, arm64[:CPU], ssh://user@host[:port] or adb[:serial]")
    return _FACTORIES[scheme](rest, **options)


def runner_error(output: str, what: str) -> str:
    """The runner's one-line ``error: ...`` (or the last line of its output) for a failed run."""
    lines = [line for line in output.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("error:"):
            return f"{what}: {line[len('error:'):].strip()}"
    tail = lines[-1] if lines else "no output"
    return f"{what}: runner failed ({tail})"
