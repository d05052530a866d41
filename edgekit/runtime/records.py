"""The result record (``docs/contracts.md`` §2): the one builder, and the results JSONL file.

Every record — the runner's (TFLite on an eval file or synthetic input), the Keras baseline's and
the adb target's — is assembled by :func:`result_record` from the blocks built here and checked
against :data:`edgekit.contracts.RESULT_REQUIRED`. A results file holds one record per line:
:func:`append_record` adds one (flushed and fsynced; a line torn by a kill is cut first),
:func:`read_records` reads one file (a torn last line is skipped), :func:`latest_records` reads
several and keeps the latest record of each ``run_key``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from .. import __version__
from ..contracts import RESULT_KIND, RESULT_SCHEMA_VERSION, check_result
from ..data import Dataset
from ..errors import EdgekitError
from ..fsutil import atomic_write_text
from ..metrics import classification_report, latency_stats
from ..provenance import git_commit, utc_now
from .bundle import Bundle
from .device import peak_rss_mb
from .measure import Measurement


# ----------------------------------------------------------------------------------------------- building
def result_record(*, device: dict, bundle: dict, threads: int, timing_ms: dict, buckets_used: dict, quality: dict,
                  dataset: dict, memory: dict, **extra: Any) -> dict:
    """A complete result record; ``extra`` adds fields beyond the contract's (predictions, caveats, …).
    An incomplete one is a programming error (AssertionError), not a user mistake."""
    record = {"schema_version": RESULT_SCHEMA_VERSION, "kind": RESULT_KIND, "device": device, "bundle": bundle,
              "threads": threads, "timing_ms": timing_ms, "buckets_used": buckets_used, "quality": quality,
              "dataset": dataset, "memory": memory, **extra,
              "edgekit": {"version": __version__, "git_commit": git_commit()}, "timestamp": utc_now()}
    problems = check_result(record)
    if problems:
        raise AssertionError(f"incomplete result record: {problems}")
    return record


def bundle_fields(bundle: Bundle, mode: str) -> dict:
    """The ``bundle`` block for one mode of a bundle."""
    entry = bundle.mode_entry(mode)
    return {"path": str(bundle.path), "model": bundle.name, "family": bundle.manifest["model"].get("family"),
            "mode": mode, "file": entry["file"], "bytes": int(entry["bytes"]), "sha256": entry["sha256"],
            "buckets": [length for length, _ in bundle.buckets], "parity": entry.get("parity")}


def process_memory(note: str) -> dict:
    """The ``memory`` block of this process (peak RSS, MiB, as :func:`.device.peak_rss_mb` reads it)."""
    return {"peak_rss_mb": peak_rss_mb(), "note": note}


def eval_dataset(ds: Dataset, path: str | Path, name: str, split: str, limit: int | None) -> dict:
    """The ``dataset`` block of a labelled eval file."""
    return {"name": name, "split": split, "sha256": ds.sha256, "path": str(path), "n": len(ds), "limit": limit}


def eval_fields(m: Measurement, load_ms: float, label_ids: Sequence[int], labels: Sequence[str],
                dataset: dict) -> dict:
    """Timing, bucket use, quality and predictions of a :class:`.measure.Measurement` on an eval file."""
    e2e = [t + i for t, i in zip(m.tokenization_ms, m.inference_ms)]
    return {
        "timing_ms": {
            "tokenization": latency_stats(m.tokenization_ms),
            "load": load_ms,
            "first_inference": m.first_inference_ms,
            "warmup_runs_per_bucket": m.warmup_runs_per_bucket,
            "inference": latency_stats(m.inference_ms),
            "end_to_end": latency_stats(e2e),
            "inference_by_bucket": {str(k): latency_stats(v) for k, v in sorted(m.by_bucket.items())},
        },
        "buckets_used": {str(k): len(v) for k, v in sorted(m.by_bucket.items())},
        "truncated": m.truncated,
        "quality": classification_report(label_ids, m.predictions, list(labels)),
        "dataset": dataset,
        "predictions": m.predictions,
    }


def no_quality(labels: Sequence[str], note: str | None = None) -> dict:
    """The ``quality`` block of a latency-only record (every figure null)."""
    out = {"n": 0, "accuracy": None, "macro_f1": None, "weighted_f1": None, "per_class": None,
           "labels": list(labels), "confusion_matrix": None}
    if note:
        out["note"] = note
    return out


def synthetic_fields(length: int, inference: dict, runs: int | None, labels: Sequence[str], *, load_ms: float | None,
                     first_ms: float | None, quality_note: str | None = None, **timing: Any) -> dict:
    """Timing, bucket use, quality and dataset of a fixed-length random-input run of one bucket
    (``--synthetic``, ``benchmark_model``); ``timing`` adds fields to ``timing_ms``."""
    return {
        "timing_ms": {"tokenization": None, "load": load_ms, "first_inference": first_ms, **timing,
                      "inference": inference, "end_to_end": None, "inference_by_bucket": {str(length): inference}},
        "buckets_used": {str(length): runs},
        "quality": no_quality(labels, quality_note),
        "dataset": {"name": f"synthetic:seq{length}", "split": "synthetic", "sha256": None},
    }


# ------------------------------------------------------------------------------------------ results file
def _line(record: dict) -> str:
    return json.dumps(record, separators=(",", ":"), default=str) + "\n"


def read_records(path: str | Path) -> list[dict]:
    """The records of one results JSONL file ([] when it does not exist). A last line without its
    newline that does not parse was torn by a kill and is skipped; any other bad line (not UTF-8 JSON,
    not a result record, a ``run_key`` that is not a string) is an error naming the line."""
    path = Path(path)
    if not path.is_file():
        return []
    try:
        lines = path.read_bytes().split(b"\n")
    except OSError as exc:
        raise EdgekitError(f"cannot read {path}: {exc.strerror or exc}") from None
    records = []
    for n, raw in enumerate(lines, start=1):
        try:
            line = raw.decode("utf-8")
            if not line.strip():
                continue
            rec = json.loads(line)
        except (ValueError, RecursionError):  # not UTF-8, not JSON, an integer too long, nested too deeply
            if n == len(lines):  # no newline after it: torn
                break
            raise EdgekitError(f"{path}:{n}: not a JSON line (not an edgekit results file?)") from None
        if not isinstance(rec, dict) or rec.get("kind") != RESULT_KIND:
            raise EdgekitError(f"{path}:{n}: not an edgekit benchmark result")
        if not isinstance(rec.get("run_key"), (str, type(None))):
            raise EdgekitError(f"{path}:{n}: its run_key is not a string")
        if rec.get("schema_version") != RESULT_SCHEMA_VERSION:
            raise EdgekitError(f"{path}:{n}: result schema_version {rec.get('schema_version')!r} is not one this "
                               f"edgekit reads ({RESULT_SCHEMA_VERSION})")
        records.append(rec)
    return records


def latest_records(paths: Iterable[str | Path]) -> list[dict]:
    """Records of several results files; a later record with the same ``run_key`` replaces an earlier one."""
    paths = list(paths)
    by_key: dict[str, dict] = {}
    for path in paths:
        if not Path(path).is_file():
            raise EdgekitError(f"results file not found: {path}")
        for rec in read_records(path):
            by_key[rec.get("run_key") or f"#{len(by_key)}"] = rec
    if not by_key:
        raise EdgekitError("no benchmark records in " + ", ".join(map(str, paths)))
    return list(by_key.values())


def _end_cleanly(path: Path) -> None:
    """Make the file end with a newline: a torn last line (from a kill mid-write) is cut off, a
    complete one without its newline gets it."""
    with open(path, "r+b") as fh:
        if fh.seek(0, os.SEEK_END) == 0:
            return
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return
        fh.seek(0)
        data = fh.read()
        cut = data.rfind(b"\n") + 1
        try:
            json.loads(data[cut:])
        except (ValueError, RecursionError):
            fh.truncate(cut)
        else:
            fh.write(b"\n")


def append_record(path: str | Path, record: dict) -> None:
    """Append one record as a JSON line, flushed and fsynced (a kill loses at most this line)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file():
        _end_cleanly(path)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(_line(record))
        fh.flush()
        os.fsync(fh.fileno())


def write_records(path: str | Path, records: Iterable[dict]) -> None:
    """Replace the results file with ``records`` (atomically)."""
    atomic_write_text(path, "".join(_line(r) for r in records))


def emit_record(make: Callable[[], dict], out: str | os.PathLike | None) -> int:
    """The exit of a measuring process (runner, Keras baseline, ONNX Runtime peer): the record ``make()``
    returns, written to ``out`` (stdout when None), exit 0; edgekit's own error: one ``error:`` line on
    stderr and exit 2, nothing written."""
    try:
        record = make()
    except EdgekitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(record, indent=1) + "\n"
    if out:
        atomic_write_text(out, text)
    else:
        sys.stdout.write(text)
    return 0
