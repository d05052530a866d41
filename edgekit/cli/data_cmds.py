"""``edgekit data stats|split``."""

from __future__ import annotations

import json

import click

from .options import data_options, load_data, parse_fractions


@click.group("data")
def data_group() -> None:
    """Inspect and split labelled text (Financial PhraseBank, CSV/TSV, JSONL, HF datasets)."""


@data_group.command("stats")
@click.argument("path", required=False)
@data_options
@click.option("--vocab", type=click.Path(dir_okay=False), default=None,
              help="A vocab.txt: also report WordPiece lengths and how many sentences fit 16/32/64/128 tokens.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def stats_cmd(path, fmt, text_column, label_column, labels, level, encoding, vocab, as_json) -> None:
    """Counts per label, sentence lengths, duplicates and the content hash of PATH.

    Without PATH: the embedded default dataset. Example:

      edgekit data stats ../shared/data/financial_phrasebank/Sentences_75Agree.txt --vocab VOCAB
    """
    from ..data.split import deduplicate

    tokenizer = _tokenizer(vocab) if vocab else None
    ds = load_data(path, fmt, text_column, label_column, labels, level, encoding)
    out = ds.stats(tokenizer)
    out["dedup"] = deduplicate(ds)[1]
    if as_json:
        click.echo(json.dumps(out, indent=2))
        return
    click.echo(f"{out['name']}  ({out['source']})")
    click.echo(f"  examples: {out['examples']}   sha256: {out['sha256'][:16]}…")
    total = max(out["examples"], 1)
    for label, n in out["counts"].items():
        click.echo(f"  {label:>12}: {n:6d}  ({100 * n / total:5.1f} %)")
    click.echo(f"  words per sentence: {out['words']}")
    if "tokens_with_specials" in out:
        click.echo(f"  WordPiece tokens (with [CLS]/[SEP]): {out['tokens_with_specials']}")
        click.echo("  share that fits: " + ", ".join(f"{L}: {100 * s:.1f} %" for L, s in out["coverage"].items()))
    d = out["dedup"]
    click.echo(f"  duplicates: {d['duplicates_dropped']}, sentences with conflicting labels: "
               f"{d['conflicting_sentences_dropped']}")


def _tokenizer(vocab: str):
    """The WordPiece tokenizer of a vocab.txt given with --vocab, or one clear error."""
    from ..errors import DataError
    from ..tokenizer import WordPieceTokenizer

    try:
        return WordPieceTokenizer.from_file(vocab)
    except UnicodeDecodeError:
        raise DataError(f"--vocab {vocab}: not a UTF-8 vocab.txt") from None
    except OSError as exc:
        raise DataError(f"--vocab {vocab}: cannot read it ({exc.strerror or exc})") from None
    except ValueError as exc:  # no [UNK] / [CLS] / [SEP] / [PAD]
        raise DataError(f"--vocab {vocab}: not a BERT vocab.txt ({exc})") from None


@data_group.command("split")
@click.argument("path", required=False)
@data_options
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Folder to write.")
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--fractions", default="0.8,0.1,0.1", show_default=True, help="train,validation,test")
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
def split_cmd(path, fmt, text_column, label_column, labels, level, encoding, out_dir, seed, fractions,
              overwrite) -> None:
    """Deduplicate PATH and write a seeded, stratified, leak-free train/validation/test split.

    Writes train.jsonl, validation.jsonl, test.jsonl and split.json (seed, counts, content hashes).
    """
    from ..data import split_dataset
    from ..errors import EdgekitError
    from ..fsutil import check_output

    check_output(out_dir, overwrite=overwrite, inputs=(path,))  # before loading: a bad --out wastes nothing
    ds = load_data(path, fmt, text_column, label_column, labels, level, encoding)
    splits = split_dataset(ds, parse_fractions(fractions), seed=seed)
    try:
        splits.save(out_dir, overwrite=overwrite)
    except OSError as exc:  # e.g. the disk is full
        raise EdgekitError(f"cannot write {out_dir}: {exc.strerror or exc}") from None
    for name, counts in splits.info["counts"].items():
        click.echo(f"{name:>10}: {sum(counts.values()):5d}  {counts}")
    click.echo(f"wrote {out_dir}")


def register(cli: click.Group) -> None:
    cli.add_command(data_group)
