"""``edgekit import``: bring a fine-tuned Hugging Face classifier in as an edgekit model directory."""

from __future__ import annotations

import click

from ..hf.parity import DEFAULT_PROBES


@click.command("import")
@click.argument("src")
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Model directory to write.")
@click.option("--labels", default=None,
              help="Comma-separated label names in output order (required when config.json has only LABEL_0, "
                   "LABEL_1, ...; otherwise renames them).")
@click.option("--max-length", type=click.IntRange(min=2), default=None,
              help="Token length the model directory records for training and evaluation "
                   "[default: the tokenizer's model_max_length, at most the model's positions].")
@click.option("--data", "probe_data", default=None,
              help="Probe sentences for the parity check against PyTorch: the first --probes texts of this data "
                   "(any format edgekit reads) [default: built-in financial sentences].")
@click.option("--probes", type=click.IntRange(min=1), default=DEFAULT_PROBES, show_default=True,
              help="How many probe sentences the parity check runs.")
@click.option("--no-parity", is_flag=True,
              help="Skip the parity check against PyTorch (it runs when torch and transformers are installed).")
@click.option("--overwrite", is_flag=True, help="Replace an existing model directory.")
def import_cmd(src, out_dir, labels, max_length, probe_data, probes, no_parity, overwrite) -> None:
    """Import a fine-tuned Hugging Face classifier: SRC is a local folder or hf://ORG/NAME[@REVISION].

    Takes BertForSequenceClassification, DistilBertForSequenceClassification and
    ElectraForSequenceClassification (embeddings as wide as the layers) checkpoints with WordPiece
    vocabularies: config.json, model.safetensors
    (read with numpy; pickled .bin files are refused) and vocab.txt or tokenizer.json. Writes an ordinary
    model directory (what training writes) with the fine-tuned head, the labels of config.json, the
    checkpoint's tokenizer settings and where it came from, so convert, distill --teacher, bench and
    android-assets take it unchanged.

    With torch and transformers installed (pip install 'edgekit[hf]', or in the Python that
    $EDGEKIT_TORCH_PYTHON names), the imported model and the PyTorch original run on probe sentences
    first: an argmax difference, a logit more than 1e-4 apart or other token ids from the checkpoint's
    own tokenizer stop the import with nothing written; the figures go into the model directory and
    every bundle converted from it. Example:

    \b
      edgekit import ./finbert-tone --out runs/finbert
      edgekit convert runs/finbert --data PATH --modes fp32,dynamic_int8 --out bundles/finbert
    """
    from ..hf import import_checkpoint

    names = [n.strip() for n in labels.split(",")] if labels is not None else None
    import_checkpoint(src, out_dir, labels=names, max_length=max_length, overwrite=overwrite, parity=not no_parity,
                      probe_data=probe_data, probes=probes)


def register(cli: click.Group) -> None:
    cli.add_command(import_cmd)
