"""Pick a TFLite interpreter: LiteRT first, then the legacy tflite-runtime, then TensorFlow's tf.lite.

Only the standard library is imported here; the interpreter's module is imported lazily so the
runner works on a device that has just one of them.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import EdgekitError


@dataclass(frozen=True)
class Runtime:
    name: str
    version: str
    interpreter_cls: Callable[..., Any]
    # modes this runtime is known not to run, with the reason
    unsupported_modes: dict[str, str]

    def describe(self) -> dict:
        return {"name": self.name, "version": self.version}

    def check_mode(self, mode: str) -> None:
        if mode in self.unsupported_modes:
            raise EdgekitError(f"{self.name} {self.version} cannot run mode {mode!r}: {self.unsupported_modes[mode]}")


def _litert() -> Runtime:
    from ai_edge_litert import interpreter as mod  # type: ignore[import-not-found]

    version = _dist_version("ai-edge-litert")
    return Runtime("ai-edge-litert", version, mod.Interpreter, {})


def _tflite_runtime() -> Runtime:
    from tflite_runtime import interpreter as mod  # type: ignore[import-not-found]

    version = _dist_version("tflite-runtime")
    reason = ("tflite-runtime is a legacy fallback (last release 2.14): it rejects the per-channel "
              "FULLY_CONNECTED version 12 of TF 2.21 dynamic-int8 files; convert with --modes dynamic_int8_pt "
              "(per-tensor) for it, or install ai-edge-litert")
    return Runtime("tflite-runtime", version, mod.Interpreter, {"dynamic_int8": reason})


def _tf_lite() -> Runtime:
    tf = importlib.import_module("tensorflow")
    return Runtime("tensorflow.lite", tf.__version__, tf.lite.Interpreter, {})


RUNTIMES: dict[str, Callable[[], Runtime]] = {
    "litert": _litert,
    "tflite-runtime": _tflite_runtime,
    "tf": _tf_lite,
}
DEFAULT_ORDER = ("litert", "tflite-runtime", "tf")


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def select_runtime(preferred: str | None = None) -> Runtime:
    """The first runtime that imports, in ``EDGEKIT_RUNTIME`` / ``preferred`` order or the default order."""
    wanted = preferred or os.environ.get("EDGEKIT_RUNTIME")
    order = (wanted,) if wanted else DEFAULT_ORDER
    errors = []
    for key in order:
        if key not in RUNTIMES:
            raise EdgekitError(f"unknown runtime {key!r}; known: {', '.join(RUNTIMES)}")
        try:
            return RUNTIMES[key]()
        except ImportError as exc:
            errors.append(f"{key}: {exc}")
    raise EdgekitError("no TFLite runtime found (pip install ai-edge-litert); tried " + "; ".join(errors))
