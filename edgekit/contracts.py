"""The two contracts between edgekit's rooms, as data: the bundle manifest and the result record.

Stdlib only (it runs on devices). ``docs/contracts.md`` explains every field with an example; the
Android core writes the same result record and is tested against :data:`RESULT_REQUIRED`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from .errors import EdgekitError
from .fsutil import read_json_object

MANIFEST_SCHEMA_VERSION = 2
SUPPORTED_MANIFEST_VERSIONS = (2,)
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


@dataclass(frozen=True)
class Problem:
    """One rule a manifest or bundle breaks: ``code`` (one of :data:`PROBLEM_CODES`, shared with the
    Android core and its golden test) and a readable ``message``."""

    code: str
    message: str


# The rules a bundle is held to on every load, by code (docs/contracts.md, "Validation"). The Python
# reader (edgekit.runtime.bundle) and the Java core (dev.edgekit.core.Bundle) report the same code for
# the same broken bundle: android_demo/core/src/test/resources/golden/bundles_golden.json.
PROBLEM_CODES = {
    "manifest": "manifest.json missing, not JSON or not an object",
    "schema_version": "schema_version not an integer this edgekit reads",
    "missing_field": "a required field absent or of the wrong type",
    "labels": "labels not a non-empty list of distinct non-empty strings",
    "label_count": "label count differs from the model's output width (model.num_classes)",
    "buckets": "buckets not a non-empty list of distinct positive lengths with distinct signatures",
    "modes": "no modes, or a mode entry incomplete",
    "signatures": "a mode lacks a bucket's signature",
    "path": "a file name that is absolute, has '..' or a backslash, or leaves the bundle",
    "vocab_rows": "more vocabulary entries than the model has embedding rows",
    "file_missing": "a file the manifest names is not there",
    "vocab_size": "vocab.txt's entry count differs from tokenizer.vocab_size",
    "labels_file": "labels.txt differs from the manifest's labels",
    "file_size": "a model file's size differs from the manifest",
    "sha256": "a file's sha256 differs from the manifest",
}

# schema 2 adds what ties the text files to the model (model.embedding_rows, model.num_classes,
# tokenizer.vocab_sha256); a schema-1 bundle is refused with the advice to convert again.
SCHEMA_ADDED = {2: ("model.embedding_rows", "model.num_classes", "tokenizer.vocab_size", "tokenizer.vocab_sha256")}


def vocab_text(vocab: list[str]) -> str:
    """vocab.txt as a bundle holds it: one token per line, the line number is the id."""
    return "\n".join(vocab) + "\n"


def vocab_sha256(vocab: list[str]) -> str:
    """The manifest's ``tokenizer.vocab_sha256``: the sha256 of :func:`vocab_text`."""
    import hashlib

    return hashlib.sha256(vocab_text(vocab).encode("utf-8")).hexdigest()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def bad_file_name(name: Any) -> str | None:
    """Why ``name`` cannot be a file of a bundle (None when it can): a relative path of plain parts,
    no ``..``, no backslash or drive, so that it stays inside the bundle folder."""
    if not isinstance(name, str) or not name:
        return "is not a file name"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "has a control character"
    if name.startswith("/") or "\\" in name or ":" in name.split("/")[0]:
        return "is not a relative path inside the bundle"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return "has an empty, '.' or '..' part"
    return None


# The single-signature files with TFLite metadata for MediaPipe / the Task Library (optional keys):
# ``task_library`` is the first task file (fp16 by default; the one the Android app reads) and
# ``other_task_files`` maps each further task mode (the 8-bit file) to an entry of the same shape.
TASK_LIBRARY = "task_library"
OTHER_TASK_FILES = "other_task_files"


def task_entries(manifest: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Every task-file entry that names a file, by its place in the manifest (``"task_library"``,
    ``"other_task_files.int8"``); entries without a ``file`` are not files of the bundle."""
    found: dict[str, Any] = {TASK_LIBRARY: manifest.get(TASK_LIBRARY)}
    others = manifest.get(OTHER_TASK_FILES)
    if isinstance(others, Mapping):
        found.update({f"{OTHER_TASK_FILES}.{mode}": entry for mode, entry in others.items()})
    return {where: entry for where, entry in found.items() if isinstance(entry, Mapping) and "file" in entry}


def manifest_files(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """What each file the manifest names is (``"vocabulary"``, ``"mode fp32"``, ``"task file"``,
    ``"task file int8"``) → its name."""
    files: dict[str, Any] = {"vocabulary": (manifest.get("tokenizer") or {}).get("vocab_file")}
    for mode, entry in (manifest.get("modes") or {}).items():
        files[f"mode {mode}"] = entry.get("file") if isinstance(entry, Mapping) else None
    for where, entry in task_entries(manifest).items():
        files[" ".join(["task file", *where.split(".", 1)[1:]])] = entry["file"]
    return files


def _schema_problems(manifest: Mapping[str, Any]) -> list[Problem]:
    version = manifest.get("schema_version")
    if not _is_int(version) or version not in SUPPORTED_MANIFEST_VERSIONS:
        if _is_int(version) and 0 < version < min(SUPPORTED_MANIFEST_VERSIONS):
            why = (f"schema_version {version} predates the checks of the vocabulary and labels against the model: "
                   "convert the model again")
        else:
            why = (f"schema_version {version!r} is not one this edgekit reads "
                   f"({', '.join(map(str, SUPPORTED_MANIFEST_VERSIONS))})")
        return [Problem("schema_version", why)]
    required = MANIFEST_REQUIRED + tuple(f for v, added in SCHEMA_ADDED.items() if version >= v for f in added)
    missing = [Problem("missing_field", f"missing {p}") for p in missing_fields(manifest, required)]
    if missing:
        return missing
    return [Problem("missing_field", f"{p} has the wrong type") for p, ok in FIELD_TYPES
            if _has(manifest, p) and not ok(_get(manifest, p))]


def _positive_int(value: Any) -> bool:
    return _is_int(value) and value > 0


def _names(value: Any) -> bool:
    """A list of ``{"name": str, ...}`` objects (the inputs and outputs)."""
    return (isinstance(value, list) and bool(value)
            and all(isinstance(v, Mapping) and isinstance(v.get("name"), str) for v in value))


# what the fields the readers use must be (a present field of another type is ``missing_field``)
FIELD_TYPES: tuple[tuple[str, Callable[[Any], bool]], ...] = (
    ("model.name", lambda v: isinstance(v, str)),
    ("model.embedding_rows", _positive_int),
    ("model.num_classes", _positive_int),
    ("tokenizer.vocab_file", lambda v: isinstance(v, str)),
    ("tokenizer.vocab_size", _positive_int),
    ("tokenizer.vocab_sha256", lambda v: isinstance(v, str)),
    ("tokenizer.lower_case", lambda v: isinstance(v, bool)),
    ("tokenizer.strip_accents", lambda v: v is None or isinstance(v, bool)),
    ("tokenizer.special_tokens", lambda v: isinstance(v, Mapping) and all(isinstance(t, str) for t in v.values())),
    ("inputs", _names),
    ("outputs", _names),
    ("modes", lambda v: isinstance(v, Mapping)),
)


def _has(obj: Mapping[str, Any], dotted: str) -> bool:
    return not missing_fields(obj, (dotted,))


def _label_problems(manifest: Mapping[str, Any]) -> list[Problem]:
    labels = manifest["labels"]
    if (not isinstance(labels, list) or not labels
            or any(not isinstance(x, str) or not x.strip() or x != x.strip() for x in labels)
            or len(set(labels)) != len(labels)):
        return [Problem("labels", f"labels must be a non-empty list of distinct names without surrounding "
                                  f"spaces, got {labels!r}"[:200])]
    classes = _get(manifest, "model.num_classes")
    if len(labels) != classes:
        return [Problem("label_count", f"{len(labels)} labels but the model has {classes} outputs")]
    return []


def _bucket_problems(manifest: Mapping[str, Any]) -> list[Problem]:
    buckets = manifest["buckets"]
    bad = Problem("buckets", "buckets must be a non-empty list of {length, signature} with distinct positive "
                             "lengths and distinct signatures")
    if not isinstance(buckets, list) or not buckets:
        return [bad]
    if any(not isinstance(b, Mapping) or not _is_int(b.get("length")) or b["length"] <= 0
           or not isinstance(b.get("signature"), str) or not b["signature"] for b in buckets):
        return [bad]
    if len({b["length"] for b in buckets}) != len(buckets) or len({b["signature"] for b in buckets}) != len(buckets):
        return [bad]
    return []


def _mode_problems(manifest: Mapping[str, Any]) -> list[Problem]:
    modes = manifest["modes"]
    if not modes:
        return [Problem("modes", "no modes")]
    problems = []
    signatures = {b["signature"] for b in manifest["buckets"]}
    for mode, entry in modes.items():
        if not isinstance(entry, Mapping):
            problems.append(Problem("modes", f"mode {mode}: not an object"))
            continue
        problems += [Problem("modes", f"mode {mode}: missing {p}") for p in missing_fields(entry, MODE_REQUIRED)]
        if "bytes" in entry and (not _is_int(entry["bytes"]) or entry["bytes"] < 0):
            problems.append(Problem("modes", f"mode {mode}: bytes must be a whole number"))
        listed = entry.get("signatures", [])
        if not isinstance(listed, list) or not all(isinstance(x, str) for x in listed):
            problems.append(Problem("modes", f"mode {mode}: signatures must be a list of names"))
        elif signatures - set(listed):
            problems.append(Problem("signatures", f"mode {mode}: lacks signatures {sorted(signatures - set(listed))}"))
    return problems


def _path_problems(manifest: Mapping[str, Any]) -> list[Problem]:
    return [Problem("path", f"{what} {name!r} {why}") for what, name in manifest_files(manifest).items()
            if (why := bad_file_name(name))]


def _vocab_problems(manifest: Mapping[str, Any]) -> list[Problem]:
    size, rows = _get(manifest, "tokenizer.vocab_size"), _get(manifest, "model.embedding_rows")
    if size > rows:
        return [Problem("vocab_rows", f"tokenizer.vocab_size {size} exceeds the model's {rows} embedding rows")]
    return []


# in this order; each group runs only when the ones before it found nothing (later rules read what earlier
# ones checked), so a broken manifest reports its first problem class, the same one the Java core reports
MANIFEST_RULES = (_schema_problems, _label_problems, _bucket_problems, _mode_problems, _path_problems, _vocab_problems)


def manifest_problems(manifest: Any) -> list[Problem]:
    """What is wrong with a parsed manifest (empty when it may be read): the rules of :data:`MANIFEST_RULES`."""
    if not isinstance(manifest, Mapping):
        return [Problem("manifest", "manifest.json is not a JSON object")]
    for rule in MANIFEST_RULES:
        problems = rule(manifest)
        if problems:
            return problems
    return []


def check_manifest(manifest: Mapping[str, Any]) -> list[str]:
    """:func:`manifest_problems` as readable strings (empty when the manifest is complete)."""
    return [p.message for p in manifest_problems(manifest)]


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
