"""Where a checkpoint comes from: a local Hugging Face folder, or ``hf://ORG/NAME[@REVISION]`` downloaded.

Either way the result is a local folder with ``config.json``, ``model.safetensors`` and a vocabulary, and
the record the model directory keeps of it (path or hub id and revision, sha256 of the weights file).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelLoadError, first_line

HUB_SCHEME = "hf://"
WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
# what an import reads from a hub repository (nothing else is downloaded)
HUB_FILES = (CONFIG_NAME, WEIGHTS_NAME, "vocab.txt", "tokenizer.json", "tokenizer_config.json")
PICKLED_WEIGHTS = ("pytorch_model.bin", "tf_model.h5", "flax_model.msgpack")


@dataclass(frozen=True)
class CheckpointSource:
    folder: Path
    record: dict  # what the model directory stores under "source"

    @property
    def weights(self) -> Path:
        return self.folder / WEIGHTS_NAME


def resolve_source(spec: str) -> CheckpointSource:
    """The local folder of ``spec`` (downloaded first for ``hf://``), its files checked."""
    if spec.startswith(HUB_SCHEME):
        folder, record = _download(spec[len(HUB_SCHEME):])
    else:
        folder = Path(spec).expanduser().resolve()
        if not folder.is_dir():
            raise ModelLoadError(f"{spec} is not a folder (give a local Hugging Face folder or hf://ORG/NAME)")
        record = {"kind": "local", "path": str(folder)}
    _check_files(folder, spec)
    return CheckpointSource(folder, {**record, "weights_file": WEIGHTS_NAME,
                                     "weights_sha256": sha256_file(folder / WEIGHTS_NAME)})


def _check_files(folder: Path, spec: str) -> None:
    if not (folder / CONFIG_NAME).is_file():
        raise ModelLoadError(f"{spec} has no {CONFIG_NAME}: not a Hugging Face model folder")
    if not (folder / WEIGHTS_NAME).is_file():
        if (folder / f"{WEIGHTS_NAME}.index.json").is_file():
            raise ModelLoadError(f"{spec} holds sharded safetensors; edgekit import reads one {WEIGHTS_NAME}")
        found = [name for name in PICKLED_WEIGHTS if (folder / name).is_file()]
        what = f"only {', '.join(found)}" if found else "no weights"
        raise ModelLoadError(f"{spec} has {what}: edgekit import reads {WEIGHTS_NAME} only and never unpickles "
                             "(save it with transformers' save_pretrained(..., safe_serialization=True))")


def _download(name: str) -> tuple[Path, dict]:
    repo_id, _, revision = name.partition("@")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ModelLoadError(f"hf://{name}: expected hf://ORG/NAME or hf://ORG/NAME@REVISION")
    try:
        import huggingface_hub
    except ImportError:
        raise ModelLoadError("hf:// sources need huggingface_hub (pip install 'edgekit[hf]'); "
                             "or download the folder and give its path") from None
    try:
        info = huggingface_hub.HfApi().model_info(repo_id, revision=revision or None)
        folder = huggingface_hub.snapshot_download(repo_id, revision=info.sha, allow_patterns=list(HUB_FILES))
    except Exception as exc:  # network, authentication, unknown repository or revision
        raise ModelLoadError(f"cannot download hf://{name}: {first_line(exc)}") from None
    return Path(folder), {"kind": "hub", "hub_id": repo_id, "revision": info.sha,
                          "requested_revision": revision or "main"}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
