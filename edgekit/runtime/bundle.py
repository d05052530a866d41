"""Read a bundle folder and validate it against the manifest contract (``docs/contracts.md``).

:meth:`Bundle.open` checks what every reader needs (a complete manifest, the vocabulary, labels
that agree); :meth:`Bundle.verify` checks one mode's file against the manifest (present, size,
sha256). The runner, ``edgekit predict``, the harness, the targets and the Android assets all open
bundles here. Standard library + the pure-Python tokenizer only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..contracts import LABELS_NAME, MANIFEST_NAME, check_manifest, read_manifest
from ..errors import EdgekitError
from ..fsutil import sha256_file
from ..tokenizer import WordPieceTokenizer
from .buckets import pick_bucket


class BundleError(EdgekitError):
    """A bundle that is missing, incomplete or inconsistent."""


@dataclass
class Bundle:
    path: Path
    manifest: dict
    tokenizer: WordPieceTokenizer

    @classmethod
    def open(cls, path: str | Path) -> "Bundle":
        path = Path(path)
        manifest = read_manifest(path, BundleError)
        problems = check_manifest(manifest)
        if problems:
            raise BundleError(f"{path / MANIFEST_NAME}: " + "; ".join(problems[:5]))
        tok_settings = manifest["tokenizer"]
        vocab = path / tok_settings["vocab_file"]
        if not vocab.is_file():
            raise BundleError(f"bundle {path}: missing {tok_settings['vocab_file']} (the vocabulary)")
        labels_file = path / LABELS_NAME
        if labels_file.is_file():
            labels = [line.strip() for line in labels_file.read_text(encoding="utf-8").splitlines() if line.strip()]
            if labels != list(manifest["labels"]):
                raise BundleError(f"bundle {path}: {LABELS_NAME} {labels} differs from manifest labels "
                                  f"{list(manifest['labels'])}")
        try:
            tokenizer = WordPieceTokenizer.from_settings(vocab, tok_settings)
        except ValueError as exc:
            raise BundleError(f"{path}: bad vocabulary ({exc})") from None
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
        """The files a copy of the bundle needs: manifest, vocabulary, labels (when present), every mode's model."""
        names = [MANIFEST_NAME, str(self.manifest["tokenizer"]["vocab_file"])]
        if (self.path / LABELS_NAME).is_file():
            names.append(LABELS_NAME)
        names += [str(entry["file"]) for entry in self.manifest["modes"].values()]
        return list(dict.fromkeys(names))

    def mode_entry(self, mode: str) -> dict:
        if mode not in self.manifest["modes"]:
            raise BundleError(f"bundle {self.path} has no mode {mode!r}; it has {', '.join(self.modes)}")
        return self.manifest["modes"][mode]

    def model_file(self, mode: str) -> Path:
        entry = self.mode_entry(mode)
        f = self.path / entry["file"]
        if not f.is_file():
            raise BundleError(f"bundle {self.path}: mode {mode}: missing {entry['file']}")
        return f

    def verify(self, mode: str, sha256: bool = True) -> None:
        """A mode's file against the manifest: present, same size and (unless ``sha256`` is False) same
        sha256 — a truncated or changed copy fails here."""
        entry = self.mode_entry(mode)
        f = self.model_file(mode)
        if f.stat().st_size != int(entry["bytes"]) or (sha256 and sha256_file(f) != entry["sha256"]):
            raise BundleError(f"{f}: size or sha256 differs from the manifest (corrupt, truncated or changed "
                              "after export)")

    def pick_bucket(self, num_tokens: int) -> tuple[int, str]:
        return pick_bucket(self.buckets, num_tokens)
