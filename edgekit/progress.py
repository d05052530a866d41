"""Progress bars for long work: one definition, quiet when edgekit's logger is (``edgekit --quiet``).

A bar shows on a terminal and hides itself when stderr is not one (tqdm's ``disable=None``); under
``--quiet`` (edgekit's logger above INFO) it never shows. edgekit's log lines are written between bars
(:mod:`edgekit.cli.quiet`).
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Iterable


def progress_bar(iterable: Iterable | None = None, *, desc: str, total: int | None = None, leave: bool = False,
                 **options: Any):
    from tqdm.auto import tqdm

    quiet = not logging.getLogger("edgekit").isEnabledFor(logging.INFO)
    return tqdm(iterable, desc=desc, total=total, leave=leave, disable=True if quiet else None, dynamic_ncols=True,
                file=sys.stderr, **options)
