"""Atomic file and directory writes: a reader never sees a half-written file or bundle; and
:func:`check_output`, the one check of an output path every writing command runs before any work."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal

from .errors import EdgekitError

OutputKind = Literal["directory", "file"]


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temp file in the same folder and a rename."""
    path = Path(path)
    with removed_if_failed(path.parent):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            os.chmod(tmp, 0o666 & ~_umask())
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    # numpy scalars and arrays without importing numpy at module import time
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Build a directory in a hidden temp sibling; it appears at ``path`` only if the block succeeds.

    With ``overwrite`` an existing directory is replaced (after the new one is complete);
    otherwise an existing non-empty directory is an error.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{path} exists and is not a directory")
    if path.exists() and any(path.iterdir()) and not overwrite:
        raise FileExistsError(f"{path} exists and is not empty (pass overwrite to replace it)")
    with removed_if_failed(path.parent):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
        os.chmod(tmp, 0o777 & ~_umask())
        try:
            yield tmp
            if path.exists():
                old = path.with_name(f".{path.name}.old-{os.getpid()}")
                os.replace(path, old)
                os.replace(tmp, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


@contextlib.contextmanager
def removed_if_failed(path: str | os.PathLike) -> Iterator[None]:
    """Folders the block creates on the way to ``path`` (``path`` included) are removed again, if still
    empty, when the block fails: a failed command leaves no empty folder behind; one that wrote
    something it can resume from keeps it."""
    path = Path(os.path.abspath(path))
    missing = [p for p in (path, *path.parents) if not p.exists()]  # deepest first
    try:
        yield
    except BaseException:
        for p in missing:
            with contextlib.suppress(OSError):
                p.rmdir()
        raise


def check_output(path: str | os.PathLike, *, what: str = "--out", kind: OutputKind = "directory",
                 overwrite: bool = False, reuse: bool = False, marker: str | None = None,
                 inputs: Iterable[str | os.PathLike | None] = ()) -> Path:
    """Refuse an output path a command could not write, before the command does any work.

    Raises :class:`EdgekitError` with one line naming ``what`` (the option) and the path when a
    folder on the way is a regular file, the target is the wrong kind (a file where a folder goes
    or the reverse), the folder the target goes into is not writable, or the target exists:
    an existing non-empty target is refused unless ``overwrite`` (then it is replaced) or
    ``reuse`` (commands that resume or append write into it; with ``marker``, an existing non-empty
    folder must hold that entry, so a folder of something else is never written into). A target
    that would be replaced may not be or contain one of ``inputs`` or the current folder.
    """
    given = Path(path)
    target = Path(os.path.abspath(given))
    existing, blocker = _nearest_existing(target)
    if blocker is not None:
        shown = blocker if given.is_absolute() else os.path.relpath(blocker)
        raise EdgekitError(f"{what} {given}: {shown} is a file, not a folder")
    if existing == target:
        _check_existing(given, target, what=what, kind=kind, overwrite=overwrite, reuse=reuse, marker=marker,
                        inputs=inputs)
        parent = target.parent
    else:
        parent = existing
    if not os.access(parent, os.W_OK | os.X_OK):
        raise EdgekitError(f"{what} {given}: folder {parent} is not writable")
    _check_names(given, target, parent, what)
    return given


TEMP_SIBLING_EXTRA = len("..12345678.partial")  # atomic writes go through a hidden sibling named after the target


def _check_names(given: Path, target: Path, parent: Path, what: str) -> None:
    """Every folder still to be made, and the hidden temp sibling of the target, fit the file system's
    name limit (else the write would fail only at its end)."""
    limit = os.pathconf(parent, "PC_NAME_MAX")
    parts = target.relative_to(parent).parts
    for i, part in enumerate(parts):
        room = limit - (TEMP_SIBLING_EXTRA if i == len(parts) - 1 else 0)
        if len(os.fsencode(part)) > room:
            raise EdgekitError(f"{what} {given}: the name {part[:24]}… is too long ({len(os.fsencode(part))} "
                               f"bytes; at most {room} here)")


def _nearest_existing(target: Path) -> tuple[Path, Path | None]:
    """The nearest of ``target`` and its ancestors that exists, and the ancestor (not ``target``) that is
    not a folder, if that is what it is."""
    for p in (target, *target.parents):
        try:
            is_dir = p.is_dir()
            exists = is_dir or p.exists()
        except OSError:  # e.g. a folder on the way we may not look into
            continue
        if exists:
            return p, (None if is_dir or p == target else p)
    return Path(target.anchor), None


def _check_existing(given: Path, target: Path, *, what: str, kind: OutputKind, overwrite: bool, reuse: bool,
                    marker: str | None, inputs: Iterable[str | os.PathLike | None]) -> None:
    if kind == "directory" and not target.is_dir():
        raise EdgekitError(f"{what} {given} is a file, not a folder")
    if kind == "file" and target.is_dir():
        raise EdgekitError(f"{what} {given} is a folder, not a file")
    if reuse:
        if not os.access(target, os.W_OK | (os.X_OK if kind == "directory" else 0)):
            raise EdgekitError(f"{what} {given} is not writable")
        if marker and kind == "directory" and any(target.iterdir()) and not (target / marker).exists():
            raise EdgekitError(f"{what} {given} is not empty and holds no {marker}, so this command did not make "
                               "it and leaves it alone; choose another folder")
        return
    if kind == "directory" and not any(target.iterdir()):
        return
    if not overwrite:
        what_is = "exists and is not empty" if kind == "directory" else "exists"
        raise EdgekitError(f"{what} {given} {what_is} (pass --overwrite to replace it)")
    keep = [(f"the input {p}", Path(p).resolve()) for p in inputs if p is not None and Path(p).exists()]
    for name, kept in [*keep, ("the current folder", Path.cwd().resolve())]:
        if kept == target.resolve() or target.resolve() in kept.parents:
            raise EdgekitError(f"{what} {given} would replace {name}; choose another path")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_json_object(path: str | os.PathLike, error: type[Exception], name: str | None = None) -> dict:
    """A JSON file that must hold an object; anything else raises ``error`` with one line naming the file."""
    name = name or str(path)
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{name} is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise error(f"{name} is not a JSON object")
    return value


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()

