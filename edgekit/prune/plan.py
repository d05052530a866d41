"""What pruning keeps: the shape of a pruned model, which structures stay, and what a family provides.

A :class:`Shape` is uniform — every kept layer keeps the same number of heads and FFN neurons, which is what
keras-hub's backbone can express (docs/pruning.md, "Uniform only"). A :class:`Plan` names the structures
that stay: the kept layers in order and, per kept layer, its own kept heads and neurons (each layer keeps
its own most important ones, :func:`select_plan`). :func:`select_global` ranks heads and neurons across the
kept layers instead, which gives a non-uniform plan: the backbone cannot hold it as a smaller model, but
``Pruner.masked`` trains and evaluates its function (the study of docs/pruning.md, "Non-uniform after
recovery"). A model family that can be pruned provides a :class:`Pruner` (``ModelFamily.pruner``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class Shape:
    layers: int
    heads: int  # per layer
    ffn: int  # FFN intermediate width, per layer

    def to_dict(self) -> dict[str, int]:
        return {"layers": self.layers, "heads": self.heads, "ffn": self.ffn}


@dataclass(frozen=True)
class Plan:
    layers: tuple[int, ...]  # kept layers of the source model, 0-based, in order
    heads: tuple[tuple[int, ...], ...]  # per kept layer: its kept heads, ascending
    neurons: tuple[tuple[int, ...], ...]  # per kept layer: its kept FFN neurons, ascending

    @property
    def uniform(self) -> bool:
        return len({len(h) for h in self.heads}) <= 1 and len({len(n) for n in self.neurons}) <= 1

    @property
    def shape(self) -> Shape:
        if not self.uniform:
            raise ValueError("a non-uniform plan has no single shape")
        return Shape(len(self.layers), len(self.heads[0]), len(self.neurons[0]))

    def counts(self) -> dict[str, list[int]]:
        """Heads and neurons each kept layer keeps."""
        return {"heads": [len(h) for h in self.heads], "neurons": [len(n) for n in self.neurons]}

    def to_dict(self) -> dict[str, Any]:
        return {"layers": list(self.layers), "heads": [list(h) for h in self.heads],
                "neurons": [list(n) for n in self.neurons]}


class Pruner(Protocol):
    """A family's pruning operations. ``data`` is an :class:`edgekit.train.encode.Encoded` and ``labels`` its
    gold label ids; losses are the model's cross-entropy on them."""

    def shape_of(self, model) -> Shape:
        """The model's own (unpruned) shape."""

    def params(self, model, shape: Shape) -> int:
        """Parameters of ``model`` pruned to ``shape`` (exact, without building it)."""

    def remove_layers(self, model, data, labels: np.ndarray, count: int, batch_size: int) -> list[dict]:
        """Greedily drop ``count`` layers, each time the one whose skipping raises the mean loss least; one record
        per step: ``{"removed": i, "loss": mean loss after, "candidates": {layer: mean loss without it}}``."""

    def importance(self, model, data, labels: np.ndarray, layers: tuple[int, ...],
                   batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """Head importance ``[layers, heads]`` and FFN-neuron importance ``[layers, ffn]`` of the source model
        run through ``layers`` only (the others skipped): the mean over examples of |∂loss/∂gate|."""

    def apply(self, model, plan: Plan):
        """A new model holding only the structures of ``plan`` (uniform), weights sliced from ``model``."""

    def masked(self, model, plan: Plan):
        """A new model of ``plan.layers`` at the source's widths whose structures outside ``plan`` (uniform or not)
        are zero and stay zero in training: the function, and the training, of the plan's pruned model."""


def top_indices(scores: np.ndarray, k: int) -> tuple[int, ...]:
    """The ``k`` highest-scoring indices, ascending (ties: the lower index wins)."""
    order = np.argsort(-np.asarray(scores, np.float64), kind="stable")
    return tuple(sorted(int(i) for i in order[:k]))


def select_plan(shape: Shape, layers: tuple[int, ...], heads: np.ndarray, neurons: np.ndarray) -> Plan:
    """Each kept layer keeps its own ``shape.heads`` most important heads and ``shape.ffn`` neurons."""
    return Plan(tuple(layers), tuple(top_indices(heads[i], shape.heads) for i in layers),
                tuple(top_indices(neurons[i], shape.ffn) for i in layers))


def select_global(layers: tuple[int, ...], heads: np.ndarray, neurons: np.ndarray, total_heads: int,
                  total_neurons: int, normalise: bool = False, minimum: int = 1) -> Plan:
    """Keep the ``total_heads`` heads and ``total_neurons`` neurons of highest importance across the kept
    ``layers`` (each layer keeps at least ``minimum`` of each): a non-uniform plan. ``normalise`` divides each
    layer's scores by their L2 norm first (Michel et al. 2019)."""
    def ranked(scores: np.ndarray, total: int) -> tuple[tuple[int, ...], ...]:
        rows = np.asarray(scores, np.float64)[list(layers)]
        if normalise:
            norms = np.linalg.norm(rows, axis=1, keepdims=True)
            rows = rows / np.where(norms > 0, norms, 1.0)
        if not minimum * len(layers) <= total <= rows.size:
            raise ValueError(f"cannot keep {total} of {rows.size} with at least {minimum} in each of "
                             f"{len(layers)} layers")
        keep = np.zeros(rows.shape, bool)
        for j in range(len(layers)):  # the floor: each layer's own best
            keep[j, list(top_indices(rows[j], minimum))] = True
        flat = np.where(keep, -np.inf, rows).ravel()
        order = np.argsort(-flat, kind="stable")[:total - int(keep.sum())]  # ties: earlier layer, lower index
        keep.flat[order] = True
        return tuple(tuple(int(i) for i in np.flatnonzero(row)) for row in keep)

    return Plan(tuple(layers), ranked(heads, total_heads), ranked(neurons, total_neurons))
