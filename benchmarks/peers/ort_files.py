"""The ONNX files of a model directory, made once and cached by the sha256 of its weights.

Where the Hugging Face form comes from, in order: an imported model's own checkpoint (the ``source``
its model directory records, when that folder still holds the same ``model.safetensors``), else
``edgekit export hf MODEL_DIR`` into a temporary folder. The script :mod:`.onnx_export` then runs in
the torch Python — this interpreter, or ``$EDGEKIT_TORCH_PYTHON`` when torch lives in another
environment — and writes the fused fp32 and both dynamic int8 files into
``CACHE/<weights sha256[:16]>/``, which appears only when complete.

Which int8 file a bench uses is chosen on the eval set: the higher argmax agreement with the fused
fp32 file, then the lower p50 latency (1 thread, own length); the choice is cached beside the files
per eval set (``int8_choice_<dataset sha256[:12]>.json``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ...errors import EdgekitError
from ...fsutil import atomic_directory, atomic_write_json, sha256_file
from ...hf.torch_env import torch_python
from ...metrics import latency_stats
from ...runtime.bundle import Bundle
from ...runtime.evaldata import load_eval
from ...runtime.measure import measure_texts
from .onnx_export import INFO_NAME

logger = logging.getLogger(__name__)

EXPORT_SCRIPT = Path(__file__).with_name("onnx_export.py")
# what the export needs in the torch Python, and what measuring needs here
EXPORT_MODULES = ("torch", "transformers", "onnx", "onnxruntime")
MEASURE_MODULES = ("onnxruntime",)
# the two dynamic int8 files (onnx_export.FILES roles) → how their weights are quantized
INT8_ROLES = {"dynamic_int8_per_tensor": "per-tensor", "dynamic_int8_per_channel": "per-channel"}
WEIGHTS_NAME = "model.weights.h5"
_CLI = "from edgekit.cli import main; main()"  # `edgekit ...` of this installation


def weights_sha256(model_dir: str | Path) -> str:
    weights = Path(model_dir) / WEIGHTS_NAME
    if not weights.is_file():
        raise EdgekitError(f"{model_dir} has no {WEIGHTS_NAME}")
    return sha256_file(weights)


@dataclass(frozen=True)
class OnnxFiles:
    folder: Path
    info: dict  # export.json

    def path(self, role: str) -> Path:
        return self.folder / self.info["files"][role]


def onnx_files(model_dir: str | Path, cache_root: str | Path) -> OnnxFiles:
    """The fused fp32 and dynamic int8 files of ``model_dir``, exported on first use."""
    model_dir = Path(model_dir)
    sha = weights_sha256(model_dir)
    folder = Path(cache_root) / sha[:16]
    if not (folder / INFO_NAME).is_file():
        logger.info("ONNX export of %s (torch: %s) → %s", model_dir, torch_python(), folder)
        with atomic_directory(folder, overwrite=True) as tmp:
            hf, source = _hf_folder(model_dir, tmp / "hf")
            _run([torch_python(), str(EXPORT_SCRIPT), "--hf", str(hf), "--out", str(tmp)],
                 f"ONNX export of {model_dir}")
            info = json.loads((tmp / INFO_NAME).read_text(encoding="utf-8"))
            shutil.rmtree(tmp / "hf", ignore_errors=True)  # an exported copy, not an imported checkpoint
            info.update({"model_dir": str(model_dir.resolve()), "weights_sha256": sha, "hf_form": source})
            atomic_write_json(tmp / INFO_NAME, info)
    return OnnxFiles(folder, json.loads((folder / INFO_NAME).read_text(encoding="utf-8")))


def _hf_folder(model_dir: Path, dest: Path) -> tuple[Path, dict]:
    """A Hugging Face folder of ``model_dir``'s weights, and how it was obtained."""
    from ...models.modeldir import read_meta

    source = read_meta(model_dir).get("source") or {}
    if source.get("kind") == "local":
        folder = Path(source["path"])
        weights = folder / source.get("weights_file", "model.safetensors")
        if (folder / "config.json").is_file() and weights.is_file() and \
                sha256_file(weights) == source.get("weights_sha256"):
            return folder, {"from": "the imported checkpoint", "path": str(folder),
                            "weights_sha256": source["weights_sha256"]}
        logger.info("%s: the imported checkpoint %s changed or is gone; exporting the model directory",
                    model_dir, folder)
    _run([sys.executable, "-c", _CLI, "export", "hf", str(model_dir), "--out", str(dest)],
         f"edgekit export hf {model_dir}")
    return dest, {"from": "edgekit export hf"}


def _run(cmd: list[str], what: str) -> None:
    from ..targets import runner_error

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TRANSFORMERS_VERBOSITY": "error",
           "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, env=env)
    except OSError as exc:
        raise EdgekitError(f"{what}: cannot start {cmd[0]} ({exc.strerror})") from None
    if proc.returncode != 0:
        raise EdgekitError(runner_error(proc.stderr + proc.stdout, what))


# ------------------------------------------------------------------------------------- the int8 file
def choose_int8(files: OnnxFiles, bundle_path: str | Path, data: str | Path, limit: int | None) -> dict:
    """``{"chosen": role, "candidates": {role: {agreement, p50_ms, mean_ms}}, ...}`` on the eval set."""
    from .ort_session import OrtModel, encoder

    bundle = Bundle.open(bundle_path)
    ds = load_eval(data, bundle.labels, limit=limit)
    path = files.folder / f"int8_choice_{ds.sha256[:12]}.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))

    def measure(role: str):
        model = OrtModel.load(files.path(role), threads=1)
        return measure_texts(ds.texts, encoder(bundle, model, padded=False), model.run, 1)

    reference = measure("fp32").predictions
    candidates = {}
    for role in INT8_ROLES:
        m = measure(role)
        stats = latency_stats(m.inference_ms)
        agree = sum(a == b for a, b in zip(m.predictions, reference)) / len(reference)
        candidates[role] = {"agreement_with_fp32": round(agree, 6), "p50_ms": stats["p50"], "mean_ms": stats["mean"]}
    chosen = max(INT8_ROLES, key=lambda r: (candidates[r]["agreement_with_fp32"], -candidates[r]["p50_ms"]))
    choice = {"chosen": chosen, "candidates": candidates, "dataset_sha256": ds.sha256, "n": len(ds),
              "rule": "higher argmax agreement with the fused fp32 file, then lower p50 (1 thread, own length)"}
    atomic_write_json(path, choice)
    logger.info("ONNX Runtime dynamic int8: %s (%s)", chosen, ", ".join(
        f"{r}: agreement {c['agreement_with_fp32']:.4f}, p50 {c['p50_ms']:.3f} ms" for r, c in candidates.items()))
    return choice
