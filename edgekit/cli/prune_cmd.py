"""``edgekit prune``: remove attention heads, FFN neurons and layers of a BERT-family model directory."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable

import click

from .distill_cmds import transfer_options
from .options import POSITIVE_FLOAT, SHARE, load_splits, splits_options


def recovery_options(epochs: int, loss: str, learning_rate: float, loss_help: str) -> Callable:
    """--epochs, --loss, -T, --alpha and --lr of a recovery by distillation, with this command's defaults."""
    options = [
        click.option("--epochs", default=epochs, show_default=True, type=click.IntRange(min=1),
                     help="Recovery epochs."),
        click.option("--loss", default=loss, show_default=True, help=loss_help),
        click.option("--temperature", "-T", default=2.0, show_default=True, type=POSITIVE_FLOAT,
                     help="Recovery kl temperature."),
        click.option("--alpha", default=0.5, show_default=True, type=SHARE,
                     help="Weight of the soft loss in recovery; the hard-label loss gets 1-alpha."),
        click.option("--lr", "learning_rate", default=learning_rate, show_default=True, type=POSITIVE_FLOAT,
                     help="Recovery peak learning rate (linear warm-up and decay)."),
    ]
    return lambda fn: functools.reduce(lambda f, opt: opt(f), reversed(options), fn)


def recovery_settings(recover: bool, *, loss: str, temperature: float, alpha: float, cache_dir, epochs: int,
                      batch_size: int, learning_rate: float, seed: int, unlabelled, augment, augment_multiplier: int,
                      augment_seed: int):
    """The RecoverSettings the options ask for, None without ``recover``. Transfer-set options without it, or bad
    augmentation rules: one line, before any work."""
    from ..distill.augment import parse_augment
    from ..errors import EdgekitError
    from ..prune.recover import RecoverSettings
    from ..train.loop import TrainConfig

    if not recover:
        if unlabelled or augment_multiplier > 1 or augment not in (None, "none"):
            raise EdgekitError("--augment, --augment-multiplier and --unlabelled shape the recovery: give --recover")
        return None
    parse_augment(augment, augment_multiplier, augment_seed)
    return RecoverSettings(loss=loss, temperature=temperature, alpha=alpha, cache_dir=cache_dir,
                           train=TrainConfig(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                                             schedule="linear", patience=epochs, seed=seed),
                           unlabelled=str(Path(unlabelled).resolve()) if unlabelled else None,
                           augment=augment, augment_multiplier=augment_multiplier, augment_seed=augment_seed)


@click.command("prune")
@click.argument("model_dir", type=click.Path())
@splits_options
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Model directory to write.")
@click.option("--heads", type=int, default=None, help="Attention heads every layer keeps (its most important).")
@click.option("--ffn", type=int, default=None, help="FFN intermediate neurons every layer keeps (its most important).")
@click.option("--layers", type=int, default=None,
              help="Layers kept, in order; the others are dropped greedily by the training loss their removal costs.")
@click.option("--params", "budget", default=None, metavar="N|SHARE",
              help="Parameter budget: a share of the model's parameters (0.4 or 40%) or a count (12M, 800k, "
                   "12000000). Sizes the dimensions not given by --heads/--ffn/--layers with one keep share: the "
                   "largest model within the budget.")
@click.option("--latency", default=None, metavar="SHARE",
              help="Latency budget: a share of the model's measured latency (0.4 or 40%): the largest model with one "
                   "keep share (as --params) whose dynamic-int8 file runs within it, at 1 thread and "
                   "--latency-length tokens; each candidate is converted and timed (~log2 of the candidates).")
@click.option("--latency-length", default=64, show_default=True, type=click.IntRange(min=2),
              help="Tokens of the signature --latency measures.")
@click.option("--samples", type=click.IntRange(min=1), default=None,
              help="Training sentences the importance measures read (default: all).")
@click.option("--batch-size", default=32, show_default=True, type=click.IntRange(min=1),
              help="Batch size of the importance measures and of recovery.")
@click.option("--recover", is_flag=True,
              help="Then distil the pruned model from the unpruned one (edgekit distill's losses and teacher-output "
                   "cache; the best validation epoch is kept).")
@recovery_options(epochs=3, loss="hard,kl,hidden_mse", learning_rate=5e-5,
                  loss_help="Recovery loss terms, as for 'edgekit distill --loss'; hidden terms map pruned layer j "
                            "to the source layer it was cut from.")
@transfer_options
@click.option("--seed", default=42, show_default=True, type=int, help="Seed of the importance sample and of recovery.")
@click.option("--cache-dir", default=None, type=click.Path(),
              help="Teacher-output cache shared with 'edgekit distill' (default: $EDGEKIT_CACHE_DIR or "
                   "~/.cache/edgekit).")
@click.option("--name", default="pruned", show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace an existing model directory (and --result-json file).")
@click.option("--result-json", type=click.Path(), default=None, help="Also write a one-record summary.")
def prune_cmd(model_dir, data_path, split_dir, split_seed, fmt, text_column, label_column, labels, level, encoding,
              out_dir, heads, ffn, layers, budget, latency, latency_length, samples, batch_size, recover, epochs, loss, temperature, alpha,
              learning_rate, augment, augment_multiplier, augment_seed, unlabelled, seed, cache_dir, name, overwrite,
              result_json) -> None:
    """Prune a BERT-family model directory (teacher, BERT student, imported model) to smaller matrices.

    Removes whole layers, attention heads and FFN intermediate neurons by importance measured on the
    training split (heads and neurons: |gradient of the loss w.r.t. a gate on each|, Michel et al. 2019;
    layers: greedily, the one whose skipping raises the loss least). Every kept layer keeps the same
    number of heads and neurons, each layer its own most important ones. The result is an ordinary
    model directory: 'edgekit convert' takes it in every mode. Details: docs/pruning.md. Example:

    \b
      edgekit prune runs/teacher-fpb75 --data ../shared/data/financial_phrasebank/Sentences_75Agree.txt \\
          --layers 4 --heads 8 --ffn 768 --recover --out runs/teacher-pruned
    """
    from ..fsutil import atomic_write_json, check_output
    from ..models.modeldir import load_model_dir, read_meta
    from ..models.registry import get_family
    from ..prune.job import PruneSettings, check_target_shape, prune
    from ..prune.recover import check_recover_settings
    from ..prune.targets import Targets
    from ..provenance import stamp

    inputs = (model_dir, data_path, split_dir, unlabelled)
    check_output(out_dir, overwrite=overwrite, inputs=inputs)
    if result_json:
        check_output(result_json, what="--result-json", kind="file", overwrite=overwrite, inputs=inputs)
    if cache_dir:
        check_output(cache_dir, what="--cache-dir", reuse=True)
    family = read_meta(model_dir)["family"]
    get_family(family).pruner  # noqa: B018  (a family that cannot be pruned: one line, before loading anything)
    targets = Targets(layers=layers, heads=heads, ffn=ffn, params=budget, latency=latency)
    recovery = recovery_settings(recover, loss=loss, temperature=temperature, alpha=alpha, cache_dir=cache_dir,
                                 epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed,
                                 unlabelled=unlabelled, augment=augment, augment_multiplier=augment_multiplier,
                                 augment_seed=augment_seed)
    if recovery is not None:
        check_recover_settings(recovery, family)
    source = load_model_dir(model_dir)
    check_target_shape(source, targets)  # impossible targets: one line, before reading any data
    splits = load_splits(data_path, split_dir, split_seed, fmt, text_column, label_column, labels, level, encoding)
    result = prune(source, splits, out_dir, PruneSettings(targets, samples=samples, batch_size=batch_size, seed=seed,
                                                          recover=recovery, name=name,
                                                          latency_length=latency_length))
    s = result.summary()
    was, now = s["source_shape"], s["shape"]
    click.echo(f"pruned → {result.model_dir}: layers {was['layers']}→{now['layers']}, heads {was['heads']}→"
               f"{now['heads']}, FFN {was['ffn']}→{now['ffn']}; {s['source_params']:,} → {s['params']:,} params "
               f"({s['params'] / s['source_params']:.1%})")
    after = "recovered" if s["recovered"] else "pruned"
    click.echo(f"  validation macro-F1: source {s['source_val_macro_f1']:.4f}, pruned {s['pruned_val_macro_f1']:.4f}"
               + (f", recovered {s['val_macro_f1']:.4f}" if s["recovered"] else "")
               + f"; test macro-F1 ({after}) {s['test_macro_f1']:.4f} (source {s['source_test_macro_f1']:.4f})")
    if result_json:
        atomic_write_json(result_json, {"kind": "edgekit-prune-result", **s, **stamp()})
        click.echo(f"result → {result_json}")


@click.command("prune-vocab")
@click.argument("model_dir", type=click.Path())
@splits_options
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Model directory to write.")
@click.option("--corpus", "corpus_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="More domain text whose tokens to keep, one sentence per line (UTF-8). Repeatable.")
@click.option("--no-characters", is_flag=True,
              help="Do not keep every single-character piece (then words outside the corpus become [UNK]).")
@click.option("--recover", is_flag=True,
              help="Then distil the cut model from MODEL_DIR, each reading its own tokenization (words outside the "
                   "corpus come in smaller pieces; --unlabelled sentences bring more of them). Logit terms only.")
@recovery_options(epochs=2, loss="hard,kl", learning_rate=3e-5, loss_help="Recovery loss terms: hard, kl, logit_mse.")
@click.option("--batch-size", default=32, show_default=True, type=click.IntRange(min=1))
@transfer_options
@click.option("--seed", default=42, show_default=True, type=int, help="Seed of recovery.")
@click.option("--cache-dir", default=None, type=click.Path(),
              help="Teacher-output cache shared with 'edgekit distill' and 'edgekit prune'.")
@click.option("--name", default="vocab-pruned", show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace an existing model directory.")
def prune_vocab_cmd(model_dir, data_path, split_dir, split_seed, fmt, text_column, label_column, labels, level,
                    encoding, out_dir, corpus_files, no_characters, recover, epochs, loss, temperature, alpha,
                    learning_rate, batch_size, augment, augment_multiplier, augment_seed, unlabelled, seed, cache_dir,
                    name, overwrite) -> None:
    """Keep only the vocabulary rows a domain corpus uses (the token embedding table shrinks).

    The corpus is the training split plus any --corpus files; the special tokens and every
    single-character piece stay, so words outside the corpus are spelled out in pieces. A corpus
    sentence tokenizes as before and gets the same logits; the model directory gets the remapped
    vocab.txt, which every bundle and device tokenizer then reads. Prints the rows kept and the
    validation/test macro-F1 before and after. Details: docs/pruning.md. Example:

    \b
      edgekit prune-vocab runs/teacher-fpb75 --data ../shared/data/financial_phrasebank/Sentences_75Agree.txt \\
          --out runs/teacher-fpb75-vocab
    """
    from ..data.textfile import read_text
    from ..fsutil import check_output
    from ..models.modeldir import load_model_dir, read_meta
    from ..prune.vocab import check_cut_loss, prune_vocabulary_dir

    inputs = (model_dir, data_path, split_dir, unlabelled, *corpus_files)
    check_output(out_dir, overwrite=overwrite, inputs=inputs)
    read_meta(model_dir)  # a missing or wrong model dir fails here, before any data work
    recovery = recovery_settings(recover, loss=loss, temperature=temperature, alpha=alpha, cache_dir=cache_dir,
                                 epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed,
                                 unlabelled=unlabelled, augment=augment, augment_multiplier=augment_multiplier,
                                 augment_seed=augment_seed)
    if recovery is not None:
        check_cut_loss(recovery)
    corpus = [line for f in corpus_files for line in read_text(f, "utf-8").splitlines() if line.strip()]
    splits = load_splits(data_path, split_dir, split_seed, fmt, text_column, label_column, labels, level, encoding)
    m = prune_vocabulary_dir(load_model_dir(model_dir), splits, out_dir, corpus, not no_characters, name,
                             recover=recovery)
    src = m["source"]
    click.echo(f"vocabulary pruned → {out_dir}: {src['rows']:,} → {m['rows']:,} rows; {src['params']:,} → "
               f"{m['params']:,} params ({m['params'] / src['params']:.1%})")
    click.echo(f"  macro-F1 validation {src['validation']['macro_f1']:.4f} → {m['validation']['macro_f1']:.4f}, test "
               f"{src['test']['macro_f1']:.4f} → {m['test']['macro_f1']:.4f} ([UNK] share of test tokens "
               f"{src['test']['unk_share']:.2%} → {m['test']['unk_share']:.2%})")
    if m["recovered"]:
        cut = m["recovered"]["cut"]
        click.echo(f"  recovery on its own tokenization: macro-F1 validation {cut['validation']['macro_f1']:.4f} → "
                   f"{m['validation']['macro_f1']:.4f}, test {cut['test']['macro_f1']:.4f} → "
                   f"{m['test']['macro_f1']:.4f}")


def register(cli: click.Group) -> None:
    cli.add_command(prune_cmd)
    cli.add_command(prune_vocab_cmd)
