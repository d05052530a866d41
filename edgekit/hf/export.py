"""``edgekit export hf``: a BERT-family model directory → a Hugging Face folder transformers loads.

The teacher, its BERT students and imported checkpoints all are the BERT family; the architecture the
folder names follows from what the model's head computes (:func:`.architectures.export_architecture`:
a tanh pooler is ``BertForSequenceClassification``, an imported DistilBERT's ReLU pre-classifier
``DistilBertForSequenceClassification``, an imported ELECTRA's GELU head
``ElectraForSequenceClassification``), and its tensors and config keys are written through the same
mapping ``edgekit import`` reads (:mod:`.architectures`), so ``import(export(m))`` rebuilds ``m``.

The folder: ``model.safetensors`` (numpy, no torch), ``config.json`` (the architecture, ``hidden_act``
in the model's GELU form — keras-hub's tanh approximation is ``gelu_pytorch_tanh`` — and
``id2label``/``label2id``), ``vocab.txt``, ``tokenizer_config.json`` and ``special_tokens_map.json``.
Written atomically: it appears only when complete.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..errors import EdgekitError
from .architectures import export_architecture
from .architectures.base import export_tensors
from .source import CONFIG_NAME, WEIGHTS_NAME

logger = logging.getLogger(__name__)

EXPORT_FAMILY = "bert"
# edgekit tokenizer setting → the value Hugging Face's BertTokenizer has no option but to use
FIXED_TOKENIZER_SETTINGS = {"clean_text": True, "max_input_chars_per_word": 100, "continuing_subword_prefix": "##"}
SPECIAL_TOKEN_KEYS = ("unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


def export_model_dir(model_dir: str | Path, out_dir: str | Path, *, overwrite: bool = False) -> Path:
    """Write the Hugging Face folder of the BERT-family model directory ``model_dir`` into ``out_dir``."""
    from safetensors.numpy import save_file

    from ..fsutil import atomic_directory, atomic_write_json, atomic_write_text, check_output
    from ..models.modeldir import load_model_dir, read_meta
    from ..models.registry import get_family

    model_dir, out_dir = Path(model_dir), Path(out_dir)
    check_output(out_dir, overwrite=overwrite, inputs=(model_dir,))  # before any work
    meta = read_meta(model_dir)
    if meta["family"] != EXPORT_FAMILY:
        raise EdgekitError(f"{model_dir} is a {meta['family']} model: export hf takes BERT-family model "
                           "directories (the teacher, bert students, imported checkpoints)")
    loaded = load_model_dir(model_dir)
    tokenizer_config = tokenizer_config_of(loaded.tokenizer.settings)
    config = get_family(EXPORT_FAMILY).config_of(loaded.model)
    if "head_dim" in config["backbone"]:
        raise EdgekitError(f"{model_dir} has pruned attention heads ({config['backbone']['num_heads']} heads of width "
                           f"{config['backbone']['head_dim']}): Hugging Face BERT configs have no head width of their "
                           "own (it is hidden_size / num_attention_heads), so export hf cannot write it")
    architecture = export_architecture(config)
    labels = loaded.labels
    hf_config = {
        "architectures": [architecture.name],
        "model_type": architecture.model_type,
        **architecture.hf_config(config),
        "pad_token_id": loaded.tokenizer.pad_id,
        "id2label": {str(i): name for i, name in enumerate(labels)},
        "label2id": {name: i for i, name in enumerate(labels)},
        "problem_type": "single_label_classification",
        "dtype": "float32",
    }
    tensors = export_tensors(architecture, loaded.model)
    with atomic_directory(out_dir, overwrite=overwrite) as tmp:
        save_file(tensors, str(tmp / WEIGHTS_NAME), metadata={"format": "pt"})
        atomic_write_json(tmp / CONFIG_NAME, hf_config)
        atomic_write_text(tmp / "vocab.txt", "\n".join(loaded.tokenizer.vocab) + "\n")
        atomic_write_json(tmp / "tokenizer_config.json", {**tokenizer_config,
                                                          "model_max_length": loaded.max_length})
        atomic_write_json(tmp / "special_tokens_map.json", {k: tokenizer_config[k] for k in SPECIAL_TOKEN_KEYS})
    logger.info(f"{model_dir} → {out_dir}: {architecture.name}, {config['backbone']['num_layers']} layers, "
                f"hidden_act {config['hidden_act']}, labels {', '.join(labels)}")
    return out_dir


def tokenizer_config_of(settings: dict) -> dict:
    """``tokenizer_config.json`` (without its length) for an edgekit tokenizer's settings; one line for a
    setting Hugging Face's BERT tokenizer cannot express."""
    for key, fixed in FIXED_TOKENIZER_SETTINGS.items():
        if settings[key] != fixed:
            raise EdgekitError(f"tokenizer setting {key}={settings[key]!r} has no Hugging Face BertTokenizer "
                                 f"equivalent (it always uses {json.dumps(fixed)})")
    return {
        "tokenizer_class": "BertTokenizer",
        "do_lower_case": settings["lower_case"],
        "strip_accents": settings["strip_accents"],
        "tokenize_chinese_chars": settings["handle_chinese_chars"],
        **{f"{name}_token": token for name, token in settings["special_tokens"].items()},
    }
