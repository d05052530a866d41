"""``edgekit inspect``: describe a .tflite file, or every file of a bundle, and prove it loads."""

from __future__ import annotations

from pathlib import Path

from ..contracts import MANIFEST_NAME, task_entries
from ..errors import EdgekitError, first_line
from ..runtime.bundle import Bundle
from ..runtime.interpreters import select_runtime
from .tflite_file import TFLiteFileError, describe, read_tflite


def inspect_file(path: str | Path, load: bool = True) -> dict:
    info = read_tflite(path)
    rep = describe(info)
    if load:
        rt = select_runtime()
        try:
            interp = rt.interpreter_cls(model_path=str(path))
            for sig in info.signatures:
                interp.get_signature_runner(sig.key)
            if not info.signatures:
                interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise TFLiteFileError(f"{path}: {rt.name} cannot load it ({first_line(exc, 'cannot load')}); "
                                  "corrupt or truncated copy?") from None
        rep["runtime"] = f"{rt.name} {rt.version}"
    return rep


def inspect_target(target: str | Path, mode: str | None = None) -> list[dict]:
    target = Path(target)
    if target.is_dir():
        if not (target / MANIFEST_NAME).is_file():
            raise EdgekitError(f"{target} is neither a .tflite file nor a bundle (no {MANIFEST_NAME})")
        bundle = Bundle.open(target)
        if mode is not None:
            bundle.mode_entry(mode)  # an unknown mode: one clear line
        out = []
        for name in [mode] if mode is not None else bundle.modes:
            bundle.verify(name)  # the file the manifest describes, not another one under its name
            rep = inspect_file(bundle.model_file(name))
            rep["mode"] = name
            out.append(rep)
        for where, entry in task_entries(bundle.manifest).items() if mode is None else ():
            rep = inspect_file(target / entry["file"])  # Bundle.open checked that it is there
            rep["mode"] = f"{where} ({entry.get('mode')})"
            rep["task_file"] = True
            out.append(rep)
        return out
    if not target.exists():
        raise EdgekitError(f"not found: {target}")
    return [inspect_file(target)]
