"""Where a figure came from: edgekit version, git commit, time, machine."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
from functools import lru_cache
from pathlib import Path

from . import __version__


@lru_cache(maxsize=1)
def git_commit() -> str:
    """The commit of the edgekit checkout (``+dirty`` when it has uncommitted changes), or ``unknown``."""
    if os.environ.get("EDGEKIT_GIT_COMMIT"):
        return os.environ["EDGEKIT_GIT_COMMIT"]
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def stamp() -> dict:
    return {"edgekit_version": __version__, "git_commit": git_commit(), "created": utc_now(),
            "host": {"machine": platform.machine(), "system": platform.system(), "python": platform.python_version()}}
