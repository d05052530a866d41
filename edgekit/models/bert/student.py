"""Shallow BERT students: the teacher's width, k layers, initialised from the teacher.

``bert:layers=3,strategy=skip`` / ``bert:layers=2,4,5`` / ``bert:layers=3,strategy=truncate``: embeddings
(token, position, segment, layer norm), the chosen transformer layers in order, the pooler and the
classifier head are copied exactly. Strategies (a registry, :data:`LAYER_STRATEGIES`):

- ``first``: teacher layers 0..k-1
- ``last``: the top k layers
- ``skip``: evenly spaced, the top layer of each of k equal blocks (6→3: 1,3,5; 6→2: 2,5;
  12→4: 2,5,8,11 as in the related studies)
- ``truncate``: the baseline — the teacher cut after layer k-1 (same layers as ``first``), meant to be
  fine-tuned on hard labels only; recorded separately so tables can tell it apart
- an explicit list ``layers=2,4,5`` (0-based teacher layer indices, kept in the given order)

Layer indices are 0-based everywhere (``transformer_layer_i`` in keras-hub).
"""

from __future__ import annotations

import math
from typing import Any, Callable

from ...errors import EdgekitError
from . import model as bert_model

STUDENT_OPTIONS = ("layers", "strategy", "copy_head")


def _first(n: int, k: int) -> list[int]:
    return list(range(k))


def _last(n: int, k: int) -> list[int]:
    return list(range(n - k, n))


def _skip(n: int, k: int) -> list[int]:
    return [math.ceil((i + 1) * n / k) - 1 for i in range(k)]


LAYER_STRATEGIES: dict[str, Callable[[int, int], list[int]]] = {
    "first": _first,
    "last": _last,
    "skip": _skip,
    "truncate": _first,
}


def select_layers(num_teacher_layers: int, k: int | None = None, strategy: str = "skip",
                  explicit: list[int] | None = None) -> list[int]:
    """Teacher layer indices (0-based) that initialise student layers 0..k-1."""
    n = num_teacher_layers
    if explicit:
        bad = [i for i in explicit if not 0 <= i < n]
        if bad:
            raise EdgekitError(f"teacher has layers 0..{n - 1}; cannot take {bad}")
        if len(set(explicit)) != len(explicit):
            raise EdgekitError(f"layer list {explicit} repeats a layer")
        return list(explicit)
    if strategy not in LAYER_STRATEGIES:
        raise EdgekitError(f"unknown layer strategy {strategy!r}; known: {', '.join(LAYER_STRATEGIES)} "
                           "or an explicit list like layers=2,4,5")
    if k is None or not 1 <= k <= n:
        raise EdgekitError(f"a student needs 1..{n} layers for this teacher, got {k}")
    return LAYER_STRATEGIES[strategy](n, k)


def check_options(options: dict[str, Any]) -> None:
    layers = options.get("layers", 3)
    if isinstance(layers, list):
        if "strategy" in options:
            raise EdgekitError("give either an explicit layer list or a strategy, not both")
        if not all(isinstance(i, int) for i in layers):
            raise EdgekitError(f"layer list must be integers, got {layers}")
    elif not isinstance(layers, int):
        raise EdgekitError(f"layers must be a count or a list, got {layers!r}")
    unknown = set(options) - set(STUDENT_OPTIONS)
    if unknown:
        raise EdgekitError(f"unknown option(s) {sorted(unknown)} for student 'bert'")


def build_student(spec, teacher, num_classes: int, vocab_size: int):
    from ...distill.students import Student

    opts = spec.options
    teacher_cfg = bert_model.config_of(teacher)
    n = teacher_cfg["backbone"]["num_layers"]
    layers = opts.get("layers", 3)
    if isinstance(layers, list):
        chosen, strategy = select_layers(n, explicit=layers), "list"
    else:
        strategy = str(opts.get("strategy", "skip"))
        chosen = select_layers(n, layers, strategy)
    config = {**teacher_cfg, "backbone": {**teacher_cfg["backbone"], "num_layers": len(chosen)}}
    model = bert_model.build(config)
    copied = copy_teacher_layers(teacher, model, chosen, copy_head=bool(opts.get("copy_head", 1)))
    return Student(model, "bert", bert_model.config_of(model), chosen, strategy, copied, num_layers=len(chosen))


EMBEDDING_LAYERS = ("token_embedding", "position_embedding", "segment_embedding", "embeddings_layer_norm")


def copy_teacher_layers(teacher, student, chosen: list[int], copy_head: bool = True) -> dict:
    """Copy embeddings, teacher layers ``chosen`` (→ student layers 0..k-1), pooler and head exactly."""
    tb, sb = teacher.backbone, student.backbone
    names = EMBEDDING_LAYERS + ((bert_model.PROJECTION,) if bert_model.embedding_projection(tb) is not None else ())
    pairs = [(tb.get_layer(name), sb.get_layer(name)) for name in names]
    pairs += [(tb.get_layer(f"transformer_layer_{t}"), sb.get_layer(f"transformer_layer_{s}"))
              for s, t in enumerate(chosen)]
    pairs.append((tb.get_layer("pooled_dense"), sb.get_layer("pooled_dense")))
    if copy_head:
        pairs.append((teacher.output_dense, student.output_dense))
    for src, dst in pairs:
        dst.set_weights(src.get_weights())
    return {"embeddings": True, "layers": {f"student_{s}": f"teacher_{t}" for s, t in enumerate(chosen)},
            "pooler": True, "head": copy_head}
