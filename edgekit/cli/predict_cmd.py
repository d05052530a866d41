"""``edgekit predict``: classify texts with a bundle, from the command line, a file or stdin."""

from __future__ import annotations

import json

import click


@click.command("predict")
@click.argument("bundle", type=click.Path())
@click.argument("texts", nargs=-1, required=True)
@click.option("--mode", default=None, help="Mode to run (default: dynamic_int8 if present, else the first).")
@click.option("--threads", default=1, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per text.")
def predict_cmd(bundle, texts, mode, threads, as_json) -> None:
    """Classify TEXTS with a bundle (tokenize, smallest bucket that fits, LiteRT, softmax)."""
    from ..runtime.bundle import Bundle
    from ..runtime.model import BundleModel

    b = Bundle.open(bundle)
    mode = mode or ("dynamic_int8" if "dynamic_int8" in b.modes else b.modes[0])
    model = BundleModel(b, mode, threads=threads)
    for text in texts:
        r = model.classify(text)
        if as_json:
            click.echo(json.dumps({"text": text, "mode": mode, **r}))
        else:
            probs = "  ".join(f"{k} {v:.3f}" for k, v in r["probabilities"].items())
            click.echo(f"{r['label']:<10} {probs}  [{mode}, seq{r['bucket']}, {r['num_tokens']} tokens]  {text}")


def register(cli: click.Group) -> None:
    cli.add_command(predict_cmd)
