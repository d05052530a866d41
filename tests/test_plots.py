"""Point labels on the report's scatter plots: placed without overlapping each other, the markers or the lines."""

from __future__ import annotations

import itertools

from matplotlib.text import Text
from matplotlib.transforms import Bbox

from edgekit.plots import label_points, line_pieces, png_bytes, pyplot

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


def test_labels_do_not_overlap_each_other_the_markers_the_legend_or_the_line():
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
    pieces = line_pieces(ax)
    assert len(pieces) > 50 and not any(box.overlaps(p) for box in boxes for p in pieces)
    frame = ax.get_window_extent(renderer)
    assert all(frame.contains(b.x0, b.y0) and frame.contains(b.x1, b.y1) for b in boxes)
    assert any(a.arrow_patch is not None for a in anns) and any(a.arrow_patch is None for a in anns)
    assert png_bytes(fig)[:8] == b"\x89PNG\r\n\x1a\n"


def test_placement_is_deterministic():
    first = [a.xyann for a in _plot()[2]]
    assert first == [a.xyann for a in _plot()[2]]


def test_line_pieces_follow_step_lines():
    fig, ax = pyplot().subplots()
    ax.step([0, 1, 2], [0, 1, 2], where="post")
    ax.set_xlim(-1, 3)
    ax.set_ylim(-1, 3)
    pieces = line_pieces(ax)
    corner = ax.transData.transform((1, 0))  # steps-post turns at (1, 0), which the straight line misses
    assert any(p.x0 - 1 <= corner[0] <= p.x1 + 1 and p.y0 - 1 <= corner[1] <= p.y1 + 1 for p in pieces)
    middle = ax.transData.transform((0.5, 0.5))  # on the straight line, not on the steps
    assert not any(p.x0 - 1 <= middle[0] <= p.x1 + 1 and p.y0 - 1 <= middle[1] <= p.y1 + 1 for p in pieces)
