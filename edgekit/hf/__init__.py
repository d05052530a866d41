"""Bring your own model: fine-tuned Hugging Face classifiers into edgekit model directories.

``edgekit import SRC --out MODEL_DIR`` (:func:`.importer.import_checkpoint`): SRC is a local Hugging Face
folder or ``hf://ORG/NAME[@REVISION]`` (:mod:`.source`); the weights are read from safetensors with
numpy, never unpickled (:mod:`.checkpoint`); the architecture's mapping onto an edgekit family is
chosen from ``config.json`` (:mod:`.architectures`, one module per architecture); the WordPiece
vocabulary and tokenizer settings come from the checkpoint's tokenizer files (:mod:`.vocab`).
"""

from .importer import import_checkpoint

__all__ = ["import_checkpoint"]
