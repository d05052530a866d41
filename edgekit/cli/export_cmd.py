"""``edgekit export``: a model directory in another framework's format (``export hf``: Hugging Face)."""

from __future__ import annotations

import click


@click.group("export")
def export_group() -> None:
    """Export a model directory for another framework."""


@export_group.command("hf")
@click.argument("model_dir", type=click.Path(file_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Hugging Face folder to write.")
@click.option("--overwrite", is_flag=True, help="Replace an existing folder.")
def export_hf(model_dir, out_dir, overwrite) -> None:
    """A BERT-family model directory as a Hugging Face folder (PyTorch / ONNX serving).

    Takes the teacher, its BERT students and imported checkpoints; writes model.safetensors (no torch
    needed), config.json (BertForSequenceClassification; an imported DistilBERT or ELECTRA keeps its
    architecture, whose head computes what the model's does), vocab.txt, tokenizer_config.json and
    special_tokens_map.json. `edgekit import` of the folder rebuilds the same model. Example:

    \b
      edgekit export hf runs/teacher --out hf/teacher
      python -c "from transformers import pipeline; print(pipeline('text-classification', 'hf/teacher')('Profit rose'))"
    """
    from ..hf.export import export_model_dir

    export_model_dir(model_dir, out_dir, overwrite=overwrite)


def register(cli: click.Group) -> None:
    cli.add_command(export_group)
