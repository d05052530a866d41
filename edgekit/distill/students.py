"""Student specs and how a student is made from the teacher.

A student spec is what the user writes after ``--student``:

``bilstm`` / ``bilstm:embedding_dim=64,lstm_units=128,dropout=0.5,pooling=final|max|mean,embedding_init=context|pca|random``
    the BiLSTM family (:mod:`edgekit.models.bilstm`) over the teacher's vocabulary; ``pooling`` is how the
    per-token states become the sentence vector (default ``final``, the reference study's); how its embedding
    starts is :mod:`edgekit.distill.embedding_init` (default ``context``: every vocabulary token through
    the teacher, projected to 64 dims); ``embedding_trainable=0`` freezes it.
``bert:layers=3,strategy=skip`` / ``bert:layers=2,4,5`` / ``bert:layers=3,strategy=truncate``
    a shallow BERT of the teacher's width, initialised from the teacher: embeddings (token, position,
    segment, layer norm), the chosen transformer layers in order, the pooler and the classifier head
    are copied exactly. Strategies (a registry, :data:`LAYER_STRATEGIES`):

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
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import EdgekitError


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


@dataclass(frozen=True)
class StudentSpec:
    family: str  # "bilstm" | "bert"
    options: dict[str, Any] = field(default_factory=dict)
    text: str = ""

    @property
    def label(self) -> str:
        return self.text or self.family


def _parse_number(value: str) -> int | float | str:
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def parse_student(text: str) -> StudentSpec:
    """``bilstm``, ``bilstm:lstm_units=64``, ``bert:layers=3,strategy=skip``, ``bert:layers=2,4,5``."""
    family, _, rest = text.strip().partition(":")
    family = family.strip().lower()
    if family not in STUDENT_BUILDERS:
        raise EdgekitError(f"unknown student {family!r}; known: {', '.join(STUDENT_BUILDERS)}")
    options: dict[str, Any] = {}
    key = None
    for item in filter(None, (p.strip() for p in rest.split(","))):
        if "=" in item:
            key, _, value = item.partition("=")
            key = key.strip()
            if key in options:
                raise EdgekitError(f"student option {key!r} given twice in {text!r}")
            options[key] = _parse_number(value.strip())
        elif key == "layers":  # continuation of an explicit layer list: layers=2,4,5
            prev = options["layers"]
            options["layers"] = (prev if isinstance(prev, list) else [prev]) + [_parse_number(item)]
        else:
            raise EdgekitError(f"cannot read student option {item!r} in {text!r} (expected key=value)")
    if family == "bert":
        layers = options.get("layers", 3)
        if isinstance(layers, list):
            if "strategy" in options:
                raise EdgekitError("give either an explicit layer list or a strategy, not both")
            if not all(isinstance(i, int) for i in layers):
                raise EdgekitError(f"layer list must be integers, got {layers}")
        elif not isinstance(layers, int):
            raise EdgekitError(f"layers must be a count or a list, got {layers!r}")
        unknown = set(options) - {"layers", "strategy", "copy_head"}
    else:
        from ..models.bilstm import DEFAULTS, check_pooling

        from .embedding_init import DEFAULT_INIT, check_embedding_init

        unknown = set(options) - (set(DEFAULTS) - {"vocabulary_size", "num_classes"}) - BILSTM_INIT_OPTIONS
        check_embedding_init(options.get("embedding_init", DEFAULT_INIT))
        check_pooling(options.get("pooling", "final"))
        if options.get("embedding_trainable", 1) not in (0, 1):
            raise EdgekitError(f"embedding_trainable must be 0 or 1, got {options['embedding_trainable']!r}")
    if unknown:
        raise EdgekitError(f"unknown option(s) {sorted(unknown)} for student {family!r}")
    return StudentSpec(family, options, text.strip())


BILSTM_INIT_OPTIONS = {"embedding_init", "embedding_trainable"}  # applied by edgekit.distill.job, not the builder


@dataclass
class Student:
    model: Any
    family: str
    config: dict
    teacher_layers: list[int] | None = None  # bert: which teacher layer initialised each student layer
    strategy: str | None = None
    init: dict = field(default_factory=dict)  # what was copied from the teacher
    num_layers: int = 1  # layers a hidden-state loss can address (BiLSTM: its one recurrent layer)

    def default_layer_map(self, teacher_num_layers: int) -> list[tuple[int, int]]:
        """Student layer → teacher layer for hidden-state losses when none is given: each layer of a
        teacher-initialised student ↔ the layer it was copied from; otherwise last ↔ last."""
        if self.teacher_layers is not None:
            return list(enumerate(self.teacher_layers))
        return [(self.num_layers - 1, teacher_num_layers - 1)]


def _build_bilstm(spec: StudentSpec, teacher, num_classes: int, vocab_size: int) -> Student:
    from ..models.bilstm import BILSTM, DEFAULTS

    arch = {k: v for k, v in spec.options.items() if k in DEFAULTS}
    config = {**DEFAULTS, **arch, "vocabulary_size": vocab_size, "num_classes": num_classes}
    model = BILSTM.build(config)
    return Student(model, "bilstm", BILSTM.config_of(model), init={"from_teacher": False})


def _build_bert(spec: StudentSpec, teacher, num_classes: int, vocab_size: int) -> Student:
    from ..models.bert import BERT

    opts = spec.options
    teacher_cfg = BERT.config_of(teacher)
    n = teacher_cfg["backbone"]["num_layers"]
    layers = opts.get("layers", 3)
    if isinstance(layers, list):
        chosen, strategy = select_layers(n, explicit=layers), "list"
    else:
        strategy = str(opts.get("strategy", "skip"))
        chosen = select_layers(n, layers, strategy)
    config = {**teacher_cfg, "backbone": {**teacher_cfg["backbone"], "num_layers": len(chosen)}}
    model = BERT.build(config)
    copied = copy_teacher_layers(teacher, model, chosen, copy_head=bool(opts.get("copy_head", 1)))
    return Student(model, "bert", BERT.config_of(model), chosen, strategy, copied, num_layers=len(chosen))


STUDENT_BUILDERS: dict[str, Callable[[StudentSpec, Any, int, int], Student]] = {
    "bilstm": _build_bilstm,
    "bert": _build_bert,
}


def build_student(spec: StudentSpec | str, teacher, num_classes: int, vocab_size: int) -> Student:
    spec = parse_student(spec) if isinstance(spec, str) else spec
    return STUDENT_BUILDERS[spec.family](spec, teacher, num_classes, vocab_size)


EMBEDDING_LAYERS = ("token_embedding", "position_embedding", "segment_embedding", "embeddings_layer_norm")


def copy_teacher_layers(teacher, student, chosen: list[int], copy_head: bool = True) -> dict:
    """Copy embeddings, teacher layers ``chosen`` (→ student layers 0..k-1), pooler and head exactly."""
    tb, sb = teacher.backbone, student.backbone
    pairs = [(tb.get_layer(name), sb.get_layer(name)) for name in EMBEDDING_LAYERS]
    pairs += [(tb.get_layer(f"transformer_layer_{t}"), sb.get_layer(f"transformer_layer_{s}"))
              for s, t in enumerate(chosen)]
    pairs.append((tb.get_layer("pooled_dense"), sb.get_layer("pooled_dense")))
    if copy_head:
        pairs.append((teacher.output_dense, student.output_dense))
    for src, dst in pairs:
        dst.set_weights(src.get_weights())
    return {"embeddings": True, "layers": {f"student_{s}": f"teacher_{t}" for s, t in enumerate(chosen)},
            "pooler": True, "head": copy_head}
