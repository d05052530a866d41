"""The live check of ``edgekit import``: the imported Keras model against the PyTorch original.

With ``torch`` and ``transformers`` in the torch Python — this interpreter (``pip install
'edgekit[hf]'``) or ``$EDGEKIT_TORCH_PYTHON`` — both models run on probe sentences: the first texts
of the user's ``--data``, else of edgekit's embedded financial tweets (:mod:`edgekit.data.default`).
Both see the same token ids (edgekit's tokenizer at the model directory's max length, padded batches
with their mask); PyTorch runs in a process of its own (:mod:`.torch_reference`). The import stops
with one line, nothing written, when an argmax differs, when the largest |Δlogit| exceeds
:data:`TOLERANCE`, or when the checkpoint's own tokenizer (``AutoTokenizer``) gives other token ids
than edgekit's for a probe. The figures are what the model directory records under
``source.parity_vs_pytorch``; without torch the import records ``null`` and why (:func:`unavailable`).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from ..errors import EdgekitError
from .torch_env import TORCH_PYTHON_ENV, missing_in_torch_python, torch_python

logger = logging.getLogger(__name__)

TOLERANCE = 1e-4
DEFAULT_PROBES = 32
BATCH = 16
NEEDS = ("torch", "transformers")
INSTALL = "pip install 'edgekit[hf]'"
SCRIPT = Path(__file__).with_name("torch_reference.py")
TIMEOUT_S = 1800


class PytorchParityError(EdgekitError):
    """The imported model computes something else than the PyTorch original."""


def unavailable() -> str | None:
    """Why the live check cannot run (the torch Python lacks a module, or does not start), or None."""
    python = torch_python()
    try:
        missing = missing_in_torch_python(NEEDS)
    except EdgekitError as exc:
        return str(exc)
    if not missing:
        return None
    where = f" in {TORCH_PYTHON_ENV}={python}" if python != sys.executable else ""
    return f"{' and '.join(missing)} not installed{where} ({INSTALL})"


def probe_texts(data: str | None, count: int) -> tuple[list[str], str]:
    """The first ``count`` texts of ``data`` (any format edgekit's loaders read) or of the embedded data."""
    from ..data import load_dataset
    from ..data.default import NAME, load_default

    if count < 1:
        raise EdgekitError(f"--probes must be at least 1, got {count}")
    dataset = load_dataset(data) if data is not None else load_default()
    return dataset.texts[:count], data if data is not None else f"built-in ({NAME})"


def check_parity(folder: Path, model, tokenizer, texts: list[str], max_length: int) -> dict:
    """Run ``model`` (Keras, here) and the checkpoint in ``folder`` (PyTorch) on ``texts``: the figures, or
    :class:`PytorchParityError` (one line)."""
    ids, mask, segments, _ = tokenizer.encode_batch(texts, max_length)
    batches, ours = [], []
    for start in range(0, len(texts), BATCH):
        part = slice(start, start + BATCH)
        width = int(mask[part].sum(axis=1).max())  # the longest probe of the batch; the rest is padding
        batch = {"token_ids": ids[part, :width], "padding_mask": mask[part, :width],
                 "segment_ids": segments[part, :width]}
        ours.append(np.asarray(model(batch, training=False), np.float64))
        batches.append({"ids": batch["token_ids"].tolist(), "mask": batch["padding_mask"].tolist(),
                        "segment_ids": batch["segment_ids"].tolist()})
    reference = _run_reference(folder, {"texts": texts, "batches": batches, "max_length": max_length})
    ours_all, theirs = np.concatenate(ours), np.asarray(reference["logits"], np.float64)
    diff = np.abs(ours_all - theirs)
    argmax_same = ours_all.argmax(axis=1) == theirs.argmax(axis=1)
    tokens_same = None
    if reference["tokenizer_ids"] is None:
        logger.warning(f"tokenizer check skipped: transformers cannot load the checkpoint's tokenizer "
                       f"({reference['tokenizer_error']})")
    else:
        tokens_same = [theirs_ids == ids[i, : int(mask[i].sum())].tolist()
                       for i, theirs_ids in enumerate(reference["tokenizer_ids"])]
    versions = f"torch {reference['torch']}, transformers {reference['transformers']}"
    problems = []
    if not argmax_same.all():
        problems.append(f"argmax differs on {int((~argmax_same).sum())} of {len(texts)} probes")
    if diff.max() > TOLERANCE:
        problems.append(f"max |Δlogit| {diff.max():.2e} > {TOLERANCE:g}")
    if tokens_same is not None and not all(tokens_same):
        first = texts[tokens_same.index(False)]
        problems.append(f"the checkpoint's tokenizer gives other ids on {tokens_same.count(False)} of {len(texts)} "
                        f"probes (first: {first[:60]!r})")
    if problems:
        raise PytorchParityError(f"the imported model disagrees with PyTorch: {'; '.join(problems)} ({versions}); "
                                 "nothing written")
    return {
        "probes": len(texts),
        "max_length": int(max_length),
        "max_abs_logit_diff": float(diff.max()),
        "mean_abs_logit_diff": float(diff.mean()),
        "argmax_agreement": float(argmax_same.mean()),
        "tokenizer_agreement": None if tokens_same is None else float(np.mean(tokens_same)),
        "tolerance": TOLERANCE,
        "torch": reference["torch"],
        "transformers": reference["transformers"],
    }


def _run_reference(folder: Path, probes: dict) -> dict:
    """:mod:`.torch_reference` in the torch Python on ``probes``."""
    env = {**os.environ, "TRANSFORMERS_VERBOSITY": "error", "HF_HUB_OFFLINE": "1",
           "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TOKENIZERS_PARALLELISM": "false"}
    with tempfile.TemporaryDirectory(prefix="edgekit-parity-") as tmp:
        inputs, out = Path(tmp) / "probes.json", Path(tmp) / "reference.json"
        inputs.write_text(json.dumps(probes), encoding="utf-8")
        cmd = [torch_python(), str(SCRIPT), "--folder", str(folder), "--inputs", str(inputs), "--out", str(out)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, env=env)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EdgekitError(f"the PyTorch side of the parity check did not run ({exc})") from None
        if proc.returncode != 0:
            lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
            last = lines[-1].removeprefix("error: ") if lines else f"exit {proc.returncode}"
            raise EdgekitError(f"the PyTorch side of the parity check failed: {last} (--no-parity skips it)")
        return json.loads(out.read_text(encoding="utf-8"))
