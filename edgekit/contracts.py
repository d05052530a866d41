"""The two contracts between edgekit's rooms, as data: the bundle manifest and the result record.

Stdlib only (it runs on devices). ``docs/contracts.md`` explains every field with an example; the
Android core writes the same result record and is tested against :data:`RESULT_REQUIRED`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from .errors import EdgekitError
from .fsutil import read_json_object

MANIFEST_SCHEMA_VERSION = 1
RESULT_SCHEMA_VERSION = 1
RESULT_KIND = "edgekit-benchmark-result"
MANIFEST_NAME = "manifest.json"
VOCAB_NAME = "vocab.txt"
LABELS_NAME = "labels.txt"

INPUT_NAMES = ("ids", "mask", "segment_ids")

# dotted paths that must be present
MANIFEST_REQUIRED = (
    "schema_version",
    "model.name",
    "model.family",
    "model.source_checkpoint",
    "labels",
    "tokenizer.type",
    "tokenizer.vocab_file",
    "tokenizer.lower_case",
    "tokenizer.strip_accents",
    "tokenizer.special_tokens",
    "inputs",
    "outputs",
    "buckets",
    "modes",
)
MODE_REQUIRED = ("file", "bytes", "sha256", "signatures", "parity")

RESULT_REQUIRED = (
    "schema_version",
    "kind",
    "device.arch",
    "device.cpu_model",
    "device.os",
    "device.runtime.name",
    "device.runtime.version",
    "device.target",
    "device.emulated",
    "bundle.model",
    "bundle.mode",
    "bundle.sha256",
    "threads",
    "timing_ms.tokenization",
    "timing_ms.load",
    "timing_ms.first_inference",
    "timing_ms.inference.p50",
    "timing_ms.inference.p90",
    "timing_ms.inference.p99",
    "timing_ms.inference.mean",
    "timing_ms.inference.std",
    "timing_ms.inference.min",
    "timing_ms.inference.max",
    "memory.peak_rss_mb",
    "quality.n",
    "quality.accuracy",
    "quality.macro_f1",
    "quality.weighted_f1",
    "quality.per_class",
    "quality.confusion_matrix",
    "dataset.name",
    "dataset.split",
    "dataset.sha256",
    "edgekit.version",
    "edgekit.git_commit",
    "timestamp",
)


def _get(obj: Mapping[str, Any], dotted: str) -> Any:
    cur: Any = obj
    for part in dotted.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            raise KeyError(dotted)
        cur = cur[part]
    return cur


def missing_fields(obj: Mapping[str, Any], required: tuple[str, ...]) -> list[str]:
    out = []
    for path in required:
        try:
            _get(obj, path)
        except KeyError:
            out.append(path)
    return out


def _bucket_signatures(buckets: Any) -> set[str] | None:
    """The signature names of a well-formed ``buckets`` list, else None."""
    if not isinstance(buckets, list) or not buckets:
        return None
    if any(not isinstance(b, Mapping) or "length" not in b or "signature" not in b for b in buckets):
        return None
    return {str(b["signature"]) for b in buckets}


def check_manifest(manifest: Mapping[str, Any]) -> list[str]:
    """Problems with a manifest, as readable strings (empty when it is complete): required fields,
    well-formed buckets, at least one mode, every mode with a signature per bucket."""
    problems = [f"missing {p}" for p in missing_fields(manifest, MANIFEST_REQUIRED)]
    signatures = _bucket_signatures(manifest.get("buckets"))
    if "buckets" in manifest and signatures is None:
        problems.append("buckets must be a non-empty list of {length, signature}")
    if "modes" in manifest and not manifest["modes"]:
        problems.append("no modes")
    for mode, entry in (manifest.get("modes") or {}).items():
        problems += [f"mode {mode}: missing {p}" for p in missing_fields(entry, MODE_REQUIRED)]
        lacking = sorted((signatures or set()) - set(entry.get("signatures") or ()))
        if "signatures" in entry and lacking:
            problems.append(f"mode {mode}: lacks signatures {lacking}")
    if manifest.get("schema_version", MANIFEST_SCHEMA_VERSION) > MANIFEST_SCHEMA_VERSION:
        problems.append(f"schema_version {manifest['schema_version']} is newer than this edgekit reads")
    return problems


def check_result(record: Mapping[str, Any]) -> list[str]:
    return [f"missing {p}" for p in missing_fields(record, RESULT_REQUIRED)]


def read_manifest(bundle_dir: str | Path, error: type[EdgekitError] = EdgekitError) -> dict:
    """The parsed ``manifest.json`` of a bundle folder; a missing or malformed one raises ``error``
    with one line. Completeness is :func:`check_manifest`'s job."""
    bundle_dir = Path(bundle_dir)
    if not bundle_dir.is_dir():
        raise error(f"bundle not found: {bundle_dir} (expected a folder with {MANIFEST_NAME})")
    path = bundle_dir / MANIFEST_NAME
    if not path.is_file():
        raise error(f"{bundle_dir} is not a complete bundle: no {MANIFEST_NAME}")
    return read_json_object(path, error)
