"""``edgekit qat``: quantization-aware fine-tuning of a model directory for its int8 file."""

from __future__ import annotations

import click

from .distill_cmds import transfer_options
from .options import POSITIVE_FLOAT, load_splits, splits_options
from .prune_cmd import recovery_settings


@click.command("qat")
@click.argument("model_dir", type=click.Path())
@splits_options
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Model directory to write.")
@click.option("--recipe", default="family", show_default=True,
              help="The int8 recipe to simulate (and then to convert with): 'family' (the family's own), a named "
                   "recipe, a recipe JSON file or a bundle whose int8 file was made by recipe.")
@click.option("--epochs", default=2, show_default=True, type=click.IntRange(min=1), help="Fine-tuning epochs.")
@click.option("--lr", "learning_rate", default=1e-5, show_default=True, type=POSITIVE_FLOAT,
              help="Peak learning rate (linear warm-up and decay).")
@click.option("--loss", default="logit_mse,hidden_mse", show_default=True,
              help="Loss terms against the float original, as for 'edgekit distill --loss' (hidden terms map "
                   "layer i to layer i).")
@click.option("--temperature", "-T", default=2.0, show_default=True, type=POSITIVE_FLOAT,
              help="Temperature of a kl term.")
@click.option("--batch-size", default=32, show_default=True, type=click.IntRange(min=1))
@transfer_options
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--cache-dir", default=None, type=click.Path(),
              help="Teacher-output cache shared with 'edgekit distill' and 'edgekit prune' (default: "
                   "$EDGEKIT_CACHE_DIR or ~/.cache/edgekit).")
@click.option("--name", default="qat", show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace an existing model directory.")
def qat_cmd(model_dir, data_path, split_dir, split_seed, fmt, text_column, label_column, labels, level, encoding,
            out_dir, recipe, epochs, learning_rate, loss, temperature, batch_size, augment, augment_multiplier,
            augment_seed, unlabelled, seed, cache_dir, name, overwrite) -> None:
    """Fine-tune a model through the rounding its int8 file will do, so that the file agrees with the float model.

    Each dense layer computes as the recipe quantizes it (static int8 inputs and outputs on calibrated
    ranges, or dynamic-range inputs; int8 per-channel weights), gradients pass straight through the
    rounding, and the loss distils the model's own float original (its outputs cached like a
    teacher's), dropout off. The epoch kept is the one whose validation answers agree best with the
    float original's. Prints the simulated int8 model's agreement with the float original before and
    after. The output is an ordinary model directory: convert it with the same recipe. On the FPB
    teacher it did not beat post-training int8 by the family recipe on validation; it helps where
    post-training rounding costs more (docs/quantization.md). Example:

    \b
      edgekit qat runs/teacher-fpb75 --data ../shared/data/financial_phrasebank/Sentences_75Agree.txt \\
          --out runs/teacher-qat
      edgekit convert runs/teacher-qat --data ../shared/data/financial_phrasebank/Sentences_75Agree.txt \\
          --modes fp32,dynamic_int8,int8 --out bundles/teacher-qat
    """
    from ..fsutil import check_output
    from ..models.modeldir import load_model_dir, read_meta
    from ..prune.recover import check_recover_settings
    from ..qat.job import QatSettings, qat, resolve_recipe

    check_output(out_dir, overwrite=overwrite, inputs=(model_dir, data_path, split_dir, unlabelled))
    if cache_dir:
        check_output(cache_dir, what="--cache-dir", reuse=True)
    family = read_meta(model_dir)["family"]
    resolve_recipe(recipe, family)  # no recipe to simulate: one line, before loading anything
    recover = recovery_settings(True, loss=loss, temperature=temperature, alpha=0.5, cache_dir=cache_dir,
                                epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed,
                                unlabelled=unlabelled, augment=augment, augment_multiplier=augment_multiplier,
                                augment_seed=augment_seed)
    check_recover_settings(recover, family)
    source = load_model_dir(model_dir)
    splits = load_splits(data_path, split_dir, split_seed, fmt, text_column, label_column, labels, level, encoding)
    m = qat(source, splits, out_dir, QatSettings(recipe=recipe, recover=recover, name=name))
    click.echo(f"quantization-aware fine-tuning → {out_dir} ({m['recipe']['name']}: {m['schemes']['static']} static, "
               f"{m['schemes']['dynamic']} dynamic-range layers)")
    for part in ("validation", "test"):
        b, a = m["source"]["simulated_int8"][part], m["simulated_int8"][part]
        click.echo(f"  {part}: simulated int8 agreement with the float original {b['agreement_with_source_float']:.4f}"
                   f" → {a['agreement_with_source_float']:.4f}; macro-F1 float "
                   f"{m['source']['float'][part]['macro_f1']:.4f}, simulated int8 {b['macro_f1']:.4f} → "
                   f"{a['macro_f1']:.4f}")


def register(cli: click.Group) -> None:
    cli.add_command(qat_cmd)
