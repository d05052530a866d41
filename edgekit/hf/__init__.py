"""Bring your own model: fine-tuned Hugging Face classifiers into edgekit model directories, and back out.

``edgekit import SRC --out MODEL_DIR`` (:func:`.importer.import_checkpoint`): SRC is a local Hugging Face
folder or ``hf://ORG/NAME[@REVISION]`` (:mod:`.source`); the weights are read from safetensors with
numpy, never unpickled (:mod:`.checkpoint`); the architecture's mapping onto an edgekit family is
chosen from ``config.json`` (:mod:`.architectures`, one module per architecture); the WordPiece
vocabulary and tokenizer settings come from the checkpoint's tokenizer files (:mod:`.vocab`); with
torch and transformers the imported model is checked against the PyTorch original before anything is
written (:mod:`.parity`, PyTorch in a process of its own: :mod:`.torch_reference`).

``edgekit export hf MODEL_DIR --out DIR`` (:func:`.export.export_model_dir`): a BERT-family model
directory written through the same mapping as a Hugging Face folder.
"""

from .importer import import_checkpoint

__all__ = ["import_checkpoint"]
