"""The runner's self-contained file set: what is copied to a device (ssh), or put on qemu's path.

``build(dest)`` writes ``dest/edgekit/...`` with exactly the modules the runner imports (stdlib +
numpy + a TFLite runtime, nothing else of edgekit), so on the device::

    cd DEST && python3 -m edgekit.benchmarks.runner --bundle ... --mode ... --data ...

The list is checked by a test that runs the payload in an interpreter that cannot import
TensorFlow, click or matplotlib (and under qemu, where only numpy + LiteRT exist at all).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

# relative to the edgekit package / the edgekit.benchmarks package
EDGEKIT_FILES = (
    "__init__.py", "contracts.py", "errors.py", "fsutil.py", "metrics.py", "provenance.py",
    "tokenizer/__init__.py", "tokenizer/wordpiece.py",
    "data/__init__.py", "data/dataset.py", "data/loaders.py", "data/split.py", "data/textfile.py",
    "runtime/__init__.py", "runtime/buckets.py", "runtime/bundle.py", "runtime/device.py", "runtime/evaldata.py",
    "runtime/interpreters.py", "runtime/measure.py", "runtime/model.py", "runtime/records.py", "runtime/units.py",
)
BENCHMARKS_FILES = ("__init__.py", "runner.py")


def _sources() -> list[tuple[Path, str]]:
    import edgekit
    import edgekit.benchmarks

    core = Path(edgekit.__file__).resolve().parent
    bench = Path(edgekit.benchmarks.__file__).resolve().parent
    files = [(core / f, f"edgekit/{f}") for f in EDGEKIT_FILES]
    files += [(bench / f, f"edgekit/benchmarks/{f}") for f in BENCHMARKS_FILES]
    return files


def digest() -> str:
    """Content hash of the file set (a remote copy is reused while it matches)."""
    h = hashlib.sha256()
    for src, rel in _sources():
        h.update(rel.encode() + b"\0" + src.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def build(dest: str | os.PathLike) -> Path:
    """Copy the runner's modules into ``dest`` (created; existing files overwritten)."""
    dest = Path(dest)
    for src, rel in _sources():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    (dest / "PAYLOAD").write_text(f"edgekit runner payload {digest()}\n"
                                  "run: python3 -m edgekit.benchmarks.runner --help\n")
    return dest


def cached(cache_root: str | os.PathLike) -> Path:
    """A payload under ``cache_root/payload-DIGEST``, built once."""
    dest = Path(cache_root) / f"payload-{digest()}"
    if not (dest / "PAYLOAD").is_file():
        tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        build(tmp)
        try:
            os.replace(tmp, dest)
        except OSError:  # built concurrently by another process
            shutil.rmtree(tmp, ignore_errors=True)
    return dest
