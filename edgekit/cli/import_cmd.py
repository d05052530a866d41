"""``edgekit import``: bring a fine-tuned Hugging Face classifier in as an edgekit model directory."""

from __future__ import annotations

import click


@click.command("import")
@click.argument("src")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Model directory to write.")
@click.option("--labels", default=None,
              help="Comma-separated label names in output order (required when config.json has only LABEL_0, "
                   "LABEL_1, ...; otherwise renames them).")
@click.option("--max-length", type=int, default=None,
              help="Token length the model directory records for training and evaluation "
                   "[default: the tokenizer's model_max_length, at most the model's positions].")
@click.option("--overwrite", is_flag=True, help="Replace an existing model directory.")
def import_cmd(src, out_dir, labels, max_length, overwrite) -> None:
    """Import a fine-tuned Hugging Face classifier: SRC is a local folder or hf://ORG/NAME[@REVISION].

    Takes BertForSequenceClassification, DistilBertForSequenceClassification and
    ElectraForSequenceClassification (embeddings as wide as the layers) checkpoints with WordPiece
    vocabularies: config.json, model.safetensors
    (read with numpy; pickled .bin files are refused) and vocab.txt or tokenizer.json. Writes an ordinary
    model directory (what training writes) with the fine-tuned head, the labels of config.json, the
    checkpoint's tokenizer settings and where it came from, so convert, distill --teacher, bench and
    android-assets take it unchanged. Example:

    \b
      edgekit import ./finbert-tone --out runs/finbert
      edgekit convert runs/finbert --data PATH --modes fp32,dynamic_int8 --out bundles/finbert
    """
    from ..hf import import_checkpoint

    names = [n.strip() for n in labels.split(",")] if labels is not None else None
    import_checkpoint(src, out_dir, labels=names, max_length=max_length, overwrite=overwrite,
                      log=lambda m: click.echo(m, err=True))


def register(cli: click.Group) -> None:
    cli.add_command(import_cmd)
