"""Figures (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path


def pyplot():
    """matplotlib.pyplot on the headless Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png_bytes(fig, dpi: int = 110) -> bytes:
    """Render and close a figure."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    pyplot().close(fig)
    return buf.getvalue()


def save_png(fig, path: str | Path, dpi: int = 110) -> Path:
    """Render, close and write a figure atomically."""
    from .fsutil import atomic_write_bytes

    return atomic_write_bytes(path, png_bytes(fig, dpi))


def training_curves(epochs: list[dict], path: str | Path, title: str = "training") -> Path:
    """Train loss and validation macro-F1 / accuracy per epoch, best epoch marked."""
    plt = pyplot()
    xs = [e["epoch"] for e in epochs]
    from matplotlib.ticker import MaxNLocator

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax1.plot(xs, [e["train_loss"] for e in epochs], marker="o")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("train loss")
    ax1.grid(alpha=0.3)
    ax2.plot(xs, [e["val_macro_f1"] for e in epochs], marker="o", label="val macro-F1")
    ax2.plot(xs, [e["val_accuracy"] for e in epochs], marker="s", label="val accuracy")
    if epochs:
        best = max(epochs, key=lambda e: e["val_macro_f1"])
        ax2.axvline(best["epoch"], color="grey", ls="--", lw=1, label=f"best (epoch {best['epoch']})")
    ax2.set_xlabel("epoch")
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return save_png(fig, path)
