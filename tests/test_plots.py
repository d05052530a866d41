"""Point labels on the report's scatter plots: placed without overlapping each other or the markers."""

from __future__ import annotations

import itertools

from matplotlib.text import Text
from matplotlib.transforms import Bbox

from edgekit.plots import label_points, png_bytes, pyplot

# a crowded latency/F1 plot: two identical points, near-ties in F1, a cluster at the low end, a legend
POINTS = [(3.1, 0.80), (3.1, 0.80), (3.0, 0.801), (1.2, 0.797), (2.0, 0.79), (0.5, 0.70), (0.45, 0.702),
          (0.2, 0.69), (0.21, 0.69), (0.9, 0.75), (0.95, 0.751), (1.0, 0.749), (0.3, 0.70)]
LABELS = [f"model{i}/{'dynamic_int8' if i % 2 else 'fp32'} t1" for i in range(len(POINTS))]


def _plot():
    fig, ax = pyplot().subplots(figsize=(7, 4.2))
    for x, y in POINTS:
        ax.scatter([x], [y], s=45, zorder=3)
    ax.plot([0.2, 3.1], [0.69, 0.80], label="Pareto frontier")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_xscale("log")
    ax.margins(x=0.2, y=0.15)
    return fig, ax, label_points(ax, POINTS, LABELS)


def test_labels_do_not_overlap_each_other_the_markers_or_the_legend():
    fig, ax, anns = _plot()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert [a.get_text() for a in anns] == [LABELS[i] for i in sorted(range(len(POINTS)),
                                                                       key=lambda i: (POINTS[i][1], POINTS[i][0]))]
    boxes = [Text.get_window_extent(a, renderer) for a in anns]  # the text alone, without its leader line
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)
    r = 4  # pixels: the markers themselves (s=45 is a 6.7 pt disc)
    for x, y in (ax.transData.transform(p) for p in POINTS):
        marker = Bbox.from_extents(x - r, y - r, x + r, y + r)
        assert not any(box.overlaps(marker) for box in boxes)
    legend = ax.get_legend().get_window_extent(renderer)
    assert not any(box.overlaps(legend) for box in boxes)
    frame = ax.get_window_extent(renderer)
    assert all(frame.contains(b.x0, b.y0) and frame.contains(b.x1, b.y1) for b in boxes)
    assert any(a.arrow_patch is not None for a in anns) and any(a.arrow_patch is None for a in anns)
    assert png_bytes(fig)[:8] == b"\x89PNG\r\n\x1a\n"


def test_placement_is_deterministic():
    first = [a.xyann for a in _plot()[2]]
    assert first == [a.xyann for a in _plot()[2]]
