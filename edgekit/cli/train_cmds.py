"""``edgekit train teacher``."""

from __future__ import annotations

import time

import click

from .options import POSITIVE_FLOAT, FiniteRange, load_splits, splits_options


@click.group("train")
def train_group() -> None:
    """Fine-tune models (the teacher; students come from 'edgekit distill')."""


@train_group.command("teacher")
@splits_options
@click.option("--backbone", default="default", show_default=True,
              help="default (offline all-MiniLM-L6-v2), a local HF-format folder, hf://ORG/NAME or ORG/NAME "
                   "(online), a keras-hub preset name, or random:layers=2,hidden=64,... for smoke tests.")
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Model directory to write.")
@click.option("--overwrite", is_flag=True, help="Replace an existing model directory (and --result-json file).")
@click.option("--epochs", default=4, show_default=True, type=click.IntRange(min=1))
@click.option("--batch-size", default=32, show_default=True, type=click.IntRange(min=1))
@click.option("--lr", "learning_rate", default=3e-5, show_default=True, type=POSITIVE_FLOAT,
              help="Adam learning rate at step 0 (exponential decay, see --decay-rate/--decay-steps).")
@click.option("--decay-rate", default=0.9, show_default=True, type=FiniteRange(0, 1, min_open=True),
              help="Learning-rate factor per --decay-steps (1 = constant).")
@click.option("--decay-steps", default=10_000, show_default=True, type=click.IntRange(min=1))
@click.option("--max-length", default=64, show_default=True, type=click.IntRange(min=8),
              help="Longest token sequence in training (64 covers 98 % of FPB sentences).")
@click.option("--class-weights", type=click.Choice(["none", "balanced"]), default="none", show_default=True)
@click.option("--patience", default=2, show_default=True, type=click.IntRange(min=1),
              help="Stop after this many epochs without a better validation macro-F1.")
@click.option("--dropout", default=0.1, show_default=True, type=FiniteRange(0, 1, max_open=True),
              help="Dropout before the classifier head.")
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--result-json", type=click.Path(), default=None,
              help="Also write a one-record summary (test macro-F1, accuracy, training time, commit) here.")
def teacher_cmd(data_path, split_dir, split_seed, fmt, text_column, label_column, labels, level, encoding, backbone,
                out_dir, overwrite, epochs, batch_size, learning_rate, decay_rate, decay_steps, max_length,
                class_weights, patience, dropout, seed, result_json) -> None:
    """Fine-tune a BERT classifier and keep the epoch with the best validation macro-F1.

    Writes OUT with model.weights.h5, edgekit_model.json, vocab.txt, labels.txt, metrics.json (per-epoch
    curves, test classification report) and training_curves.png. Example (Financial PhraseBank 75Agree):

    \b
      edgekit train teacher --data ../shared/data/financial_phrasebank/Sentences_75Agree.txt \\
          --out runs/teacher-fpb75 --lr 5e-5 --epochs 5 --result-json results/teacher-fpb75.json
    """
    from ..fsutil import check_output
    from ..train.loop import TrainConfig
    from ..train.teacher import train_teacher, write_result_json

    inputs = (data_path, split_dir, backbone)
    check_output(out_dir, overwrite=overwrite, inputs=inputs)  # before training: a bad --out must not waste a run
    if result_json:
        check_output(result_json, what="--result-json", kind="file", overwrite=overwrite, inputs=inputs)
    splits = load_splits(data_path, split_dir, split_seed, fmt, text_column, label_column, labels, level, encoding)
    config = TrainConfig(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, decay_rate=decay_rate,
                         decay_steps=decay_steps, max_length=max_length,
                         class_weights=None if class_weights == "none" else class_weights, seed=seed,
                         patience=patience)
    t0 = time.perf_counter()
    result = train_teacher(splits, out_dir, backbone=backbone, config=config, dropout=dropout)
    test = result.metrics["test"]
    click.echo(f"teacher → {result.model_dir}: test macro-F1 {test['macro_f1']:.4f}, accuracy {test['accuracy']:.4f} "
               f"({time.perf_counter() - t0:.0f}s)")
    if result_json:
        write_result_json(result, result_json)
        click.echo(f"result → {result_json}")


def register(cli: click.Group) -> None:
    cli.add_command(train_group)
