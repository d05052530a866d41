"""``edgekit predict``: classify texts with a bundle, from the command line, a file or stdin."""

from __future__ import annotations

import json
import logging
import sys

import click

logger = logging.getLogger(__name__)


def _texts(texts: tuple[str, ...], file: str | None, encoding: str) -> list[str]:
    """The texts to classify: TEXTS, or the lines of --file / stdin (``-``); blank lines of a file are
    skipped with one warning, a blank TEXT is an error."""
    from ..data.textfile import read_text
    from ..errors import EdgekitError

    if file is not None and texts:
        raise EdgekitError("give TEXTS or --file, not both")
    if file is None and not texts:
        raise EdgekitError("nothing to classify: give TEXTS, --file FILE, or - to read stdin (one text per line)")
    if file is None and texts != ("-",):
        blank = [i + 1 for i, t in enumerate(texts) if not t.strip()]
        if blank:
            raise EdgekitError(f"text {blank[0]} is empty or white space only: nothing to classify")
        return list(texts)
    if file in (None, "-"):
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8")
        try:
            content = data.decode(encoding).removeprefix("\ufeff")
        except (UnicodeDecodeError, LookupError) as exc:
            raise EdgekitError(f"stdin is not {encoding} text ({exc.__class__.__name__})") from None
    else:
        content = read_text(file, encoding)
    lines = content.splitlines()
    kept = [line for line in lines if line.strip()]
    if not kept:
        raise EdgekitError(f"{'stdin' if file in (None, '-') else file} has no text to classify")
    if len(kept) < len(lines):
        logger.warning(f"skipped {len(lines) - len(kept)} blank line(s)")
    return kept


@click.command("predict")
@click.argument("bundle", type=click.Path())
@click.argument("texts", nargs=-1)
@click.option("--file", "file", default=None, metavar="FILE",
              help="Classify each non-blank line of FILE ('-': standard input) instead of TEXTS.")
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of --file / standard input.")
@click.option("--mode", default=None, help="Mode to run (default: dynamic_int8 if present, else the first).")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per text.")
def predict_cmd(bundle, texts, file, encoding, mode, threads, as_json) -> None:
    """Classify TEXTS with a bundle (tokenize, smallest bucket that fits, LiteRT, softmax).

    \b
    edgekit predict BUNDLE "Profit rose 5 %." "Sales fell."
    edgekit predict BUNDLE --file sentences.txt --json     one text per line
    cat sentences.txt | edgekit predict BUNDLE -           the same from standard input

    Texts longer than the largest bucket are truncated to it (the output says how many tokens it had).
    """
    from ..runtime.bundle import Bundle
    from ..runtime.model import BundleModel

    items = _texts(texts, file, encoding)
    b = Bundle.open(bundle)
    mode = mode or ("dynamic_int8" if "dynamic_int8" in b.modes else b.modes[0])
    model = BundleModel(b, mode, threads=threads)
    for text in items:
        r = model.classify(text)
        if as_json:
            click.echo(json.dumps({"text": text, "mode": mode, **r}))
        else:
            probs = "  ".join(f"{k} {v:.3f}" for k, v in r["probabilities"].items())
            shown = text if len(text) <= 200 else text[:197] + "..."
            click.echo(f"{r['label']:<10} {probs}  [{mode}, seq{r['bucket']}, {r['num_tokens']} tokens]  {shown}")


def register(cli: click.Group) -> None:
    cli.add_command(predict_cmd)
