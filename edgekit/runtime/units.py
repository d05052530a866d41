"""Sizes as edgekit prints them: "MB" is 10⁶ bytes everywhere (as the README tables use)."""

from __future__ import annotations

MB = 1_000_000


def megabytes(num_bytes: int | float) -> float:
    """``num_bytes`` in MB (10⁶ bytes), unrounded."""
    return num_bytes / MB
