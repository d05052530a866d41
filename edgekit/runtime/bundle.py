"""Read a bundle folder and hold it to the bundle rules on every load (``docs/contracts.md``, "Validation").

:meth:`Bundle.open` is the one validation every reader goes through (``predict``, ``inspect``, ``bench``,
the runner, the device targets, ``android-assets``): the manifest's rules
(:func:`edgekit.contracts.manifest_problems`), then its files — every one named is a plain relative
path that stays inside the bundle and exists, each model file has the size the manifest says,
``vocab.txt`` has ``tokenizer.vocab_size`` entries and the manifest's sha256, ``labels.txt`` (when
present) equals the manifest's labels. :meth:`Bundle.verify` adds a mode file's sha256 before it is
loaded. Every violation is a :class:`BundleError` of one line naming the bundle, with the rule's
``code`` (the same codes the Android core reports). Standard library + the pure-Python tokenizer only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..contracts import (LABELS_NAME, MANIFEST_NAME, OTHER_TASK_FILES, TASK_LIBRARY, Problem, manifest_files,
                         manifest_problems, read_manifest, task_entries)
from ..errors import EdgekitError
from ..fsutil import sha256_file
from ..tokenizer import WordPieceTokenizer, parse_vocab
from .buckets import pick_bucket


class BundleError(EdgekitError):
    """A bundle that is missing, incomplete or inconsistent; ``code`` names the rule it breaks
    (:data:`edgekit.contracts.PROBLEM_CODES`)."""

    def __init__(self, message: str, code: str = "manifest") -> None:
        super().__init__(message)
        self.code = code


def _fail(path: Path, problems: list[Problem]) -> BundleError:
    return BundleError(f"bundle {path}: " + "; ".join(p.message for p in problems[:3]), problems[0].code)


def _checked_files(path: Path, manifest: dict) -> list[str]:
    """The bundle's files against its manifest (cheap checks: no model file is hashed here); returns the
    vocabulary, read once for its count, its sha256 and the tokenizer."""
    def fail(code: str, message: str) -> BundleError:
        return _fail(path, [Problem(code, message)])

    root = path.resolve()
    for what, name in manifest_files(manifest).items():
        f = path / name
        if not f.resolve().is_relative_to(root):
            raise fail("path", f"{what} {name!r} leaves the bundle (a link pointing outside)")
        if not f.is_file():
            raise fail("file_missing", f"{what} {name!r} is missing")
    for mode, entry in manifest["modes"].items():
        size = (path / entry["file"]).stat().st_size
        if size != entry["bytes"]:
            raise fail("file_size", f"mode {mode}: {entry['file']} has {size} bytes, the manifest says "
                                    f"{entry['bytes']} (truncated or replaced)")
    tok = manifest["tokenizer"]
    data = (path / tok["vocab_file"]).read_bytes()
    try:
        vocab = parse_vocab(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise fail("sha256", f"{tok['vocab_file']} is not UTF-8 (not the file the model was converted with)") from None
    if len(vocab) != tok["vocab_size"]:
        raise fail("vocab_size", f"{tok['vocab_file']} has {len(vocab)} entries, the manifest and model "
                                 f"{tok['vocab_size']}")
    if hashlib.sha256(data).hexdigest() != tok["vocab_sha256"]:
        raise fail("sha256", f"{tok['vocab_file']} differs from the vocabulary the model was converted with (sha256)")
    labels_file = path / LABELS_NAME
    if labels_file.is_file():
        try:
            labels = [ln.strip() for ln in labels_file.read_text(encoding="utf-8").splitlines() if ln.strip()]
        except UnicodeDecodeError:
            labels = None
        if labels != list(manifest["labels"]):
            raise fail("labels_file", f"{LABELS_NAME} {labels} differs from the manifest labels "
                                      f"{list(manifest['labels'])}")
    return vocab


@dataclass
class Bundle:
    path: Path
    manifest: dict
    tokenizer: WordPieceTokenizer

    @classmethod
    def open(cls, path: str | Path) -> "Bundle":
        """The bundle at ``path`` once every rule holds; a :class:`BundleError` naming the first that does not."""
        path = Path(path)
        manifest = read_manifest(path, BundleError)
        problems = manifest_problems(manifest)
        if problems:
            raise _fail(path, problems)
        vocab = _checked_files(path, manifest)
        try:
            tokenizer = WordPieceTokenizer.with_settings(vocab, manifest["tokenizer"])
        except (ValueError, KeyError, TypeError) as exc:
            raise BundleError(f"bundle {path}: tokenizer settings do not load ({exc})", "missing_field") from None
        return cls(path, manifest, tokenizer)

    @property
    def name(self) -> str:
        return str(self.manifest["model"]["name"])

    @property
    def labels(self) -> list[str]:
        return list(self.manifest["labels"])

    @property
    def modes(self) -> list[str]:
        return list(self.manifest["modes"])

    @property
    def buckets(self) -> list[tuple[int, str]]:
        return sorted((int(b["length"]), str(b["signature"])) for b in self.manifest["buckets"])

    @property
    def files(self) -> list[str]:
        """The files a copy of the bundle needs: manifest, vocabulary, labels (when present), every mode's model
        and every task file (the manifest names them: a copy without them would not open)."""
        names = [MANIFEST_NAME, str(self.manifest["tokenizer"]["vocab_file"])]
        if (self.path / LABELS_NAME).is_file():
            names.append(LABELS_NAME)
        names += [str(entry["file"]) for entry in self.manifest["modes"].values()]
        names += [str(entry["file"]) for entry in task_entries(self.manifest).values()]
        return list(dict.fromkeys(names))

    def manifest_for(self, modes: list[str]) -> dict:
        """The manifest of a copy holding only ``modes`` (and no task files): what a device gets when one
        mode's file is sent to it, valid under the same rules."""
        for mode in modes:
            self.mode_entry(mode)
        out = {k: v for k, v in self.manifest.items() if k not in (TASK_LIBRARY, OTHER_TASK_FILES)}
        out["modes"] = {m: self.manifest["modes"][m] for m in modes}
        return out

    def mode_entry(self, mode: str) -> dict:
        if mode not in self.manifest["modes"]:
            raise BundleError(f"bundle {self.path} has no mode {mode!r}; it has {', '.join(self.modes)}", "modes")
        return self.manifest["modes"][mode]

    def model_file(self, mode: str) -> Path:
        entry = self.mode_entry(mode)
        f = self.path / entry["file"]
        if not f.is_file():
            raise BundleError(f"bundle {self.path}: mode {mode}: missing {entry['file']}", "file_missing")
        return f

    def verify(self, mode: str, sha256: bool = True) -> None:
        """A mode's file against the manifest: present, same size and (unless ``sha256`` is False) same
        sha256 — a truncated or changed copy fails here."""
        entry = self.mode_entry(mode)
        f = self.model_file(mode)
        if f.stat().st_size != int(entry["bytes"]):
            raise BundleError(f"bundle {self.path}: mode {mode}: {entry['file']} has {f.stat().st_size} bytes, the "
                              f"manifest says {entry['bytes']} (truncated or replaced)", "file_size")
        if sha256 and sha256_file(f) != entry["sha256"]:
            raise BundleError(f"bundle {self.path}: mode {mode}: {entry['file']} differs from the manifest's sha256 "
                              "(corrupt or changed after conversion)", "sha256")

    def pick_bucket(self, num_tokens: int) -> tuple[int, str]:
        return pick_bucket(self.buckets, num_tokens)
