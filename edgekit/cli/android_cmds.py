"""``edgekit android golden`` and ``edgekit android-assets``: the Android demo app's helpers."""

from __future__ import annotations

from pathlib import Path

import click

from .. import android

ASSETS = Path("app", "src", "main", "assets")  # what android.copy_assets writes under --app


def register(cli: click.Group) -> None:
    cli.add_command(android_group)
    cli.add_command(android_assets)


@click.group("android")
def android_group() -> None:
    """Helpers for the Android demo app (android_demo/)."""


@android_group.command("golden")
@click.option("--vocab", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="WordPiece vocab.txt (default: the offline MiniLM test package's uncased BERT vocab).")
@click.option("--out", type=click.Path(path_type=Path), default=android.GOLDEN_DIR, show_default=True,
              help="Folder for the fixture files: a new or empty folder, or one holding golden fixtures, which "
                   "are rewritten.")
@click.option("--count", type=click.IntRange(min=len(android._fixed_cases())), default=600, show_default=True,
              help="Number of golden sentences.")
@click.option("--seed", type=int, default=android.GOLDEN_SEED, show_default=True)
def golden(vocab: Path | None, out: Path, count: int, seed: int) -> None:
    """Write the golden fixtures the Java core's JUnit tests must reproduce.

    Generated sentences (accents, currency, punctuation, CJK, control characters, literal special
    tokens, long and unknown words) with their ids/masks at several max lengths, a
    per-character normalisation table, metrics computed by edgekit.metrics and the contract
    field lists. Commit the result; tests/test_android.py checks it regenerates identically.
    """
    from ..fsutil import check_output

    check_output(out, reuse=True, marker=android.GOLDEN_FILES[0])
    vocab = vocab or android.default_golden_vocab()
    paths = android.write_golden(vocab, out, count=count, seed=seed)
    total = sum(p.stat().st_size for p in paths)
    click.echo(f"wrote {len(paths)} golden files ({total / 1024:.0f} KiB, {count} sentences) to {out}")


@click.command("android-assets")
@click.argument("bundles", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--eval", "eval_path", required=True, type=click.Path(path_type=Path),
              help="Labelled eval data (JSONL text/label, or any format edgekit data reads).")
@click.option("--limit", type=int, default=None,
              help="Keep N >= 1 examples, stratified by label (seeded; default: all of them).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the --limit subset.")
@click.option("--app", "app_dir", type=click.Path(path_type=Path), default=android.ANDROID_DEMO,
              show_default=True, help="The Android demo project folder; its app/src/main/assets/bundle, bundles/, "
                                      "eval.jsonl and eval.meta.json are replaced.")
@click.option("--name", default=None, help="Dataset name for result records (default: from split.json or the file).")
@click.option("--split", default=None, help="Dataset split for result records (default: from the file name).")
@click.option("--no-verify-sha", is_flag=True, help="Skip re-hashing the model files against the manifest.")
def android_assets(bundles: tuple[Path, ...], eval_path: Path, limit: int | None, seed: int, app_dir: Path,
                   name: str | None, split: str | None, no_verify_sha: bool) -> None:
    """Copy BUNDLES and an eval subset into the Android app's assets.

    The first bundle becomes assets/bundle/, further ones assets/bundles/<model name>/ (the app's
    model picker lists them all); the eval subset becomes assets/eval.jsonl plus eval.meta.json.
    Every bundle is validated against the manifest contract and every eval label must be one of
    the bundle's labels before anything is written.
    """
    from ..fsutil import check_output

    check_output(app_dir / ASSETS, what="--app", reuse=True)
    out = android.copy_assets(list(bundles), eval_path, app_dir, limit=limit, seed=seed, name=name, split=split,
                              verify_sha=not no_verify_sha)
    for b in out["bundles"]:
        click.echo(f"bundle {b['name']} ({', '.join(b['modes'])}) from {b['path']}")
    ev = out["eval"]
    counts = ", ".join(f"{k} {v}" for k, v in ev["counts"].items())
    click.echo(f"eval {ev['name']} [{ev['split']}]: {ev['n']} examples ({counts}), sha256 {ev['sha256'][:12]}")
    click.echo(f"assets written to {out['assets']}")
