"""Files through Ray's object store onto a node, and the node's paths mapped back to the driver's.

No filesystem is assumed to be shared between the driver and the nodes. A :class:`Shipment` is a set
of files (relative path → bytes) with a digest of their names and contents; the driver puts it into
the object store once, and a node writes it once into its scratch folder
(``$EDGEKIT_RAY_SCRATCH``, default ``<tmp>/edgekit-ray``) under ``KIND/DIGEST/``, where every task on
that node reads it. The scratch folder is a cache: deleting it between runs is safe.

Work done on a node names that node's paths (a student's ``metrics.json`` records the teacher folder
it read); :func:`relocate` maps them back to the driver's before anything is written on the driver,
so a record made on a node equals the one the in-process executor makes.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..fsutil import atomic_directory

SCRATCH_ENV = "EDGEKIT_RAY_SCRATCH"


def node_scratch() -> Path:
    """This node's folder for shipped files and per-task work (resolved: the paths the work records are the
    ones :func:`relocate` looks for)."""
    return Path(os.environ.get(SCRATCH_ENV) or Path(tempfile.gettempdir()) / "edgekit-ray").resolve()


def read_files(root: str | os.PathLike) -> dict[str, bytes]:
    """Every regular file below ``root``, by relative POSIX path."""
    root = Path(root)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def write_files(root: str | os.PathLike, files: dict[str, bytes]) -> Path:
    root = Path(root)
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


@dataclass(frozen=True)
class Shipment:
    """Files by relative path, and a digest of their names and bytes: what one ``ray.put`` carries."""

    files: dict[str, bytes]
    digest: str

    @classmethod
    def of(cls, files: dict[str, bytes]) -> "Shipment":
        h = hashlib.sha256()
        for name in sorted(files):
            h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
        return cls(files, h.hexdigest()[:24])

    @classmethod
    def of_dir(cls, root: str | os.PathLike) -> "Shipment":
        return cls.of(read_files(root))

    def unpack(self, kind: str) -> Path:
        """The files in a folder of this node (``SCRATCH/KIND/DIGEST``), written by the first task that needs
        them; the others (at the same time too) find it complete or not at all."""
        dest = node_scratch() / kind / self.digest
        if not dest.is_dir():
            try:
                with atomic_directory(dest) as tmp:
                    write_files(tmp, self.files)
            except OSError:  # another task on this node renamed its copy into place first
                if not dest.is_dir():
                    raise
        return dest


def relocate(obj: Any, mapping: dict[str, str | None]) -> Any:
    """``obj`` (JSON-like) with every string that is, or lies under, a node path of ``mapping`` replaced by the
    driver's path (a node path mapped to None is replaced by None where it stands alone)."""
    if isinstance(obj, str):
        for node_path, driver_path in mapping.items():
            if obj == node_path:
                return driver_path
            if driver_path is not None and obj.startswith(node_path + os.sep):
                return driver_path + obj[len(node_path):]
        return obj
    if isinstance(obj, dict):
        return {k: relocate(v, mapping) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [relocate(v, mapping) for v in obj]
    return obj


def relocate_json_files(root: str | os.PathLike, mapping: dict[str, str | None]) -> None:
    """:func:`relocate` applied to every ``*.json`` file below ``root`` (rewritten in place, on the node)."""
    for path in Path(root).rglob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        moved = relocate(data, mapping)
        if moved != data:
            path.write_text(json.dumps(moved, indent=2) + "\n", encoding="utf-8")
