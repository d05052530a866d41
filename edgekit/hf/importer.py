"""``edgekit import``: a fine-tuned Hugging Face classifier → an ordinary edgekit model directory.

Everything is read and checked before anything is written: the source's files, the architecture,
the labels, the vocabulary, every tensor's shape against ``config.json`` and that no tensor is left
over. Only then is the model directory written, atomically (:func:`edgekit.models.modeldir.save_model_dir`).
The directory records where the weights came from (``source``: path or hub id and revision, sha256
of ``model.safetensors``, architecture) beside the usual family, config, labels and tokenizer settings,
and how the imported model compares with the PyTorch original (``source.parity_vs_pytorch``,
:mod:`.parity`: run before writing when torch and transformers are installed, else ``null`` and why
in ``source.parity_skipped``).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from ..errors import EdgekitError, ModelLoadError
from ..fsutil import read_json_object
from .architectures import find_architecture
from .architectures.base import load_weights
from .checkpoint import Checkpoint
from .parity import DEFAULT_PROBES, check_parity, probe_texts, unavailable
from .source import CONFIG_NAME, resolve_source
from .vocab import read_vocab

GENERIC_LABEL = re.compile(r"LABEL_\d+")

logger = logging.getLogger(__name__)


def import_checkpoint(spec: str, out_dir: str | Path, *, labels: list[str] | None = None,
                      max_length: int | None = None, overwrite: bool = False, parity: bool = True,
                      probe_data: str | None = None, probes: int = DEFAULT_PROBES) -> Path:
    """Import the checkpoint ``spec`` (a folder or ``hf://ORG/NAME[@REV]``) into ``out_dir``; with ``parity``
    the live check against PyTorch runs on ``probes`` texts of ``probe_data`` (default: built-in ones)."""
    from ..fsutil import check_output
    from ..models.modeldir import save_model_dir
    from ..models.registry import get_family

    out_dir = Path(out_dir)
    if probe_data is not None and not parity:
        raise EdgekitError("--data feeds the parity check, which --no-parity turns off: give one of them")
    check_output(out_dir, overwrite=overwrite, inputs=(spec, probe_data))
    source = resolve_source(spec)
    config = _read_config(source.folder / CONFIG_NAME)
    architecture = find_architecture(config)
    names = label_names(config, labels)
    vocab = read_vocab(source.folder)
    family_config = architecture.family_config(config, len(names))
    backbone = family_config["backbone"]
    if len(vocab.tokens) > backbone["vocabulary_size"]:
        raise ModelLoadError(f"{vocab.origin} has {len(vocab.tokens)} tokens but config.json vocab_size is "
                             f"{backbone['vocabulary_size']}")
    length = _max_length(max_length, vocab.model_max_length, backbone["max_sequence_length"])
    checkpoint = Checkpoint.read(source.weights, architecture.prefix)

    family = get_family(architecture.family)
    model = family.build(family_config)
    load_weights(architecture.ports(model), checkpoint)
    record = {**source.record, "architecture": architecture.name, "model_type": config.get("model_type"),
              "transformers_version": config.get("transformers_version"), "vocab_from": vocab.origin,
              "model_max_length": vocab.model_max_length,
              **_parity_record(parity, source.folder, model, vocab.tokenizer, length, probe_data, probes)}
    out = save_model_dir(
        out_dir, model=model, family=family.name, config=family.config_of(model), labels=names, vocab=vocab.tokens,
        tokenizer_settings=vocab.tokenizer.settings, max_length=length,
        extra_meta={"name": out_dir.name, "role": "teacher", "source_checkpoint": spec, "source": record},
        overwrite=overwrite)
    logger.info(f"{spec}: {architecture.name}, {backbone['num_layers']} layers, hidden {backbone['hidden_dim']}, "
                f"labels {', '.join(names)} → {out}")
    return out


def _parity_record(enabled: bool, folder: Path, model, tokenizer, length: int, data: str | None,
                   count: int) -> dict:
    """``parity_vs_pytorch``: the live check's figures, or None with ``parity_skipped`` saying why."""
    if not enabled:
        return {"parity_vs_pytorch": None, "parity_skipped": "--no-parity"}
    reason = unavailable()
    if reason is not None:
        logger.warning(f"live parity check against PyTorch skipped: {reason}")
        return {"parity_vs_pytorch": None, "parity_skipped": reason}
    texts, origin = probe_texts(data, count)
    figures = {**check_parity(folder, model, tokenizer, texts, length), "probe_source": origin}
    logger.info(f"parity vs PyTorch (torch {figures['torch']}, transformers {figures['transformers']}): "
                f"{figures['probes']} probes, max |Δlogit| {figures['max_abs_logit_diff']:.1e}, "
                f"argmax agreement {figures['argmax_agreement']:.0%}")
    return {"parity_vs_pytorch": figures}


def label_names(config: dict, given: list[str] | None) -> list[str]:
    """Output-order label names: ``given`` (``--labels``) or config.json's ``id2label`` unless generic."""
    problem = config.get("problem_type") or "single_label_classification"
    if problem != "single_label_classification":
        raise ModelLoadError(f"problem_type {problem!r} is not supported: edgekit serves single-label classifiers")
    id2label = {int(k): str(v) for k, v in (config.get("id2label") or {}).items()}
    if sorted(id2label) != list(range(len(id2label))):
        raise ModelLoadError(f"config.json id2label ids are {sorted(id2label)}, not 0..N-1")
    names = [id2label[i] for i in range(len(id2label))]
    if given is not None:
        if names and len(given) != len(names):
            raise EdgekitError(f"--labels names {len(given)} labels but the checkpoint has {len(names)}")
        names = list(given)
    elif not names or all(GENERIC_LABEL.fullmatch(n) for n in names):
        shown = ", ".join(names) if names else "none"
        raise EdgekitError(f"config.json labels are generic ({shown}): name them in output order with "
                           "--labels a,b,c")
    if len(names) < 2:
        raise ModelLoadError(f"a classifier needs at least 2 labels, this one has {len(names)}")
    if any(not n.strip() for n in names) or len(set(names)) != len(names):
        raise EdgekitError(f"labels must be distinct and non-empty, got {names}")
    return names


def _max_length(given: int | None, tokenizer_limit: int | None, positions: int) -> int:
    if given is not None:
        if not 2 <= given <= positions:
            raise EdgekitError(f"--max-length must be 2..{positions} (the model's positions), got {given}")
        return given
    return min(tokenizer_limit or positions, positions)


def _read_config(path: Path) -> dict:
    return read_json_object(path, ModelLoadError, path.name)
