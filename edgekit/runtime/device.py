"""What machine a result was measured on, and how much memory the process peaked at (stdlib only)."""

from __future__ import annotations

import os
import platform
import resource
from pathlib import Path

# ARM "CPU part" numbers (MIDR) of the cores edgekit emulates or commonly meets on boards and phones
ARM_PARTS = {
    0xD03: "Cortex-A53", 0xD04: "Cortex-A35", 0xD05: "Cortex-A55", 0xD07: "Cortex-A57", 0xD08: "Cortex-A72",
    0xD09: "Cortex-A73", 0xD0A: "Cortex-A75", 0xD0B: "Cortex-A76", 0xD0C: "Neoverse-N1", 0xD0D: "Cortex-A77",
    0xD40: "Neoverse-V1", 0xD41: "Cortex-A78", 0xD44: "Cortex-X1", 0xD46: "Cortex-A510", 0xD47: "Cortex-A710",
    0xD48: "Cortex-X2", 0xD49: "Neoverse-N2", 0xD4B: "Cortex-A78C",
}


def _cpuinfo(path: str = "/proc/cpuinfo") -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def cpu_model(text: str | None = None) -> str:
    """``model name`` on x86; the core names from ``CPU part`` on ARM (``Cortex-A72 (0xd08)``)."""
    text = _cpuinfo() if text is None else text
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        if ":" in line:
            key, _, value = line.partition(":")
            fields.setdefault(key.strip().lower(), []).append(value.strip())
    for key in ("model name", "hardware", "processor name"):
        if fields.get(key) and not fields[key][0].isdigit():
            return fields[key][0]
    parts = []
    for raw in fields.get("cpu part", []):
        try:
            part = int(raw, 16)
        except ValueError:
            continue
        name = f"{ARM_PARTS.get(part, 'ARM core')} (0x{part:03x})"
        if name not in parts:
            parts.append(name)
    if parts:
        return " + ".join(parts)
    return platform.processor() or platform.machine() or "unknown"


def device_info(target: str = "local", emulated: str | None = None, runtime: dict | None = None) -> dict:
    """The record's ``device`` block for this machine. ``emulated``: a description of the emulator
    (e.g. ``qemu-aarch64 -cpu cortex-a72``) or None; ``runtime``: ``{name, version}`` of what ran the model."""
    emulated = emulated or os.environ.get("EDGEKIT_EMULATED") or None
    uname = platform.uname()
    info = {
        "arch": platform.machine(),
        "cpu_model": cpu_model(),
        "os": f"{uname.system} {uname.release}",
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "target": target,
        "emulated": bool(emulated),
        "runtime": runtime or {"name": "unknown", "version": "unknown"},
    }
    if emulated:
        info["emulator"] = emulated
        info["note"] = ("emulated: latencies are qemu user-mode timings (~400-550x slower than the modelled core), "
                        "not ARM timings; predictions and F1 are real")
    return info


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (VmHWM from /proc, else getrusage)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024.0, 2)
    except (OSError, ValueError, IndexError):
        pass
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is KiB on Linux, bytes on macOS
    return round((kb / 1024.0 / 1024.0) if platform.system() == "Darwin" else kb / 1024.0, 2)
