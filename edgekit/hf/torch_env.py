"""Where PyTorch runs for edgekit: this interpreter, or ``$EDGEKIT_TORCH_PYTHON`` when torch lives elsewhere.

PyTorch always runs in a process of its own: transformers with the default (CUDA) torch wheel
segfaults in a process that has imported TensorFlow. Both users — the live parity check of
``edgekit import`` (:mod:`.parity`) and the ONNX Runtime peer's export (``benchmarks/peers``) — ask here
which interpreter that process uses and what it lacks.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from typing import Iterable

from ..errors import EdgekitError

TORCH_PYTHON_ENV = "EDGEKIT_TORCH_PYTHON"
PROBE_TIMEOUT_S = 120


def torch_python() -> str:
    """The interpreter that runs PyTorch: ``$EDGEKIT_TORCH_PYTHON`` or this one."""
    return os.environ.get(TORCH_PYTHON_ENV) or sys.executable


def missing_here(modules: Iterable[str]) -> list[str]:
    """Which of ``modules`` this interpreter lacks (found without importing them)."""
    return [m for m in modules if importlib.util.find_spec(m) is None]


def missing_in_torch_python(modules: Iterable[str]) -> list[str]:
    """Which of ``modules`` the torch Python lacks, found without importing them; one-line
    :class:`EdgekitError` when that interpreter does not run."""
    modules = tuple(modules)
    python = torch_python()
    if python == sys.executable:
        return missing_here(modules)
    probe = f"import importlib.util; print(','.join(m for m in {modules!r} if importlib.util.find_spec(m) is None))"
    try:
        proc = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    except OSError as exc:
        raise EdgekitError(f"{TORCH_PYTHON_ENV}={python} does not run ({exc.strerror or exc})") from None
    except subprocess.TimeoutExpired:
        raise EdgekitError(f"{TORCH_PYTHON_ENV}={python} does not run (no answer in {PROBE_TIMEOUT_S} s)") from None
    if proc.returncode != 0:
        raise EdgekitError(f"{TORCH_PYTHON_ENV}={python} does not run (exit {proc.returncode})")
    return [m for m in proc.stdout.strip().split(",") if m]
