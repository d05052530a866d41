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




def label_points(ax, points, labels, fontsize: float = 7, marker_radius_pt: float = 6.5, gap_pt: float = 2.0,
                 max_rows: int = 8) -> list:
    """Write ``labels[i]`` beside ``points[i]`` (data coordinates) so that no two labels overlap.

    Call it once the axes are final (scales, limits, legend, lines). A deterministic greedy pass:
    points from the bottom of the axes up; each label tries the right of its point, then the left,
    one text row higher, one lower, two higher, … and takes the first box that meets no placed
    label, no legend and no other point's marker (kept two marker radii clear, so that a label
    never seems to name a neighbour). Among those it prefers a box inside the axes, then one that
    no plotted line crosses. A label moved off its point's row gets a thin leader line. Returns the
    annotations.
    """
    from matplotlib.transforms import Bbox

    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    px_per_pt = fig.dpi / 72
    display = [tuple(ax.transData.transform(p)) for p in points]
    r = 2 * marker_radius_pt * px_per_pt
    markers = [Bbox.from_extents(x - r, y - r, x + r, y + r) for x, y in display]
    taken = [ax.get_legend().get_window_extent(renderer)] if ax.get_legend() is not None else []
    lines = line_pieces(ax)
    frame = ax.get_window_extent(renderer)
    dx = marker_radius_pt + gap_pt

    def annotate(i: int, offset: tuple[float, float], leader: bool = False):
        arrow = {"arrowstyle": "-", "lw": 0.5, "color": "0.45", "shrinkA": 0, "shrinkB": marker_radius_pt / 2}
        return ax.annotate(labels[i], points[i], xytext=offset, textcoords="offset points", fontsize=fontsize,
                           ha="left" if offset[0] > 0 else "right", va="center", annotation_clip=False,
                           arrowprops=arrow if leader else None)

    def box_at(i: int, offset: tuple[float, float]):
        ann = annotate(i, offset)
        box = ann.get_window_extent(renderer).padded(gap_pt * px_per_pt / 2)
        ann.remove()
        return box

    def cost(i: int, box) -> tuple[bool, bool, bool]:
        hit = any(box.overlaps(t) for t in taken) or any(box.overlaps(m) for j, m in enumerate(markers) if j != i)
        inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
        return hit, not inside, any(box.overlaps(piece) for piece in lines)

    placed = []
    for i in sorted(range(len(points)), key=lambda i: (display[i][1], display[i][0])):
        row_pt = box_at(i, (dx, 0.0)).height / px_per_pt
        offsets = [(side * dx, k * sign * row_pt) for k in range(max_rows + 1)
                   for sign in ((1,) if k == 0 else (1, -1)) for side in (1, -1)]
        boxes = [box_at(i, offset) for offset in offsets]
        best = min(range(len(offsets)), key=lambda c: (cost(i, boxes[c]), c))
        placed.append(annotate(i, offsets[best], leader=offsets[best][1] != 0))
        taken.append(boxes[best])
    return placed


def line_pieces(ax, step_px: float = 6.0) -> list:
    """The axes' plotted lines (step styles included) as small display-space boxes, for overlap tests."""
    import numpy as np
    from matplotlib.cbook import STEP_LOOKUP_MAP
    from matplotlib.transforms import Bbox

    pieces = []
    for line in ax.lines:
        xs, ys = STEP_LOOKUP_MAP[line.get_drawstyle()](*(np.asarray(v, float) for v in line.get_data()))
        pts = ax.transData.transform(np.column_stack([xs, ys]))
        for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:]):
            n = max(1, int(np.hypot(x1 - x0, y1 - y0) // step_px) + 1)
            ts = np.linspace(0, 1, n + 1)
            for a, b in zip(ts[:-1], ts[1:]):
                pieces.append(Bbox.from_extents(min(x0 + a * (x1 - x0), x0 + b * (x1 - x0)),
                                                min(y0 + a * (y1 - y0), y0 + b * (y1 - y0)),
                                                max(x0 + a * (x1 - x0), x0 + b * (x1 - x0)),
                                                max(y0 + a * (y1 - y0), y0 + b * (y1 - y0))))
    return pieces
