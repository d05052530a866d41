"""Student specs and how a student is made from the teacher.

A student spec is what the user writes after ``--student``: ``FAMILY`` or ``FAMILY:key=value,...``
(``bilstm:lstm_units=64``, ``bert:layers=3,strategy=skip``, ``bert:layers=2,4,5``). The family
(:mod:`edgekit.models.registry`) validates its options and builds the student; its options are listed
by ``edgekit distill --help`` and documented in the family's ``student`` module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import EdgekitError


@dataclass(frozen=True)
class StudentSpec:
    family: str
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


def split_spec(text: str) -> tuple[str, dict[str, Any]]:
    """``NAME:key=value,...`` → (lower-cased name, options); a list value continues after a comma (``layers=2,4,5``)."""
    name, _, rest = text.strip().partition(":")
    options: dict[str, Any] = {}
    key = None
    for item in filter(None, (p.strip() for p in rest.split(","))):
        if "=" in item:
            key, _, value = item.partition("=")
            key = key.strip()
            if key in options:
                raise EdgekitError(f"student option {key!r} given twice in {text!r}")
            options[key] = _parse_number(value.strip())
        elif key is not None:  # continuation of a list value: layers=2,4,5
            prev = options[key]
            options[key] = (prev if isinstance(prev, list) else [prev]) + [_parse_number(item)]
        else:
            raise EdgekitError(f"cannot read student option {item!r} in {text!r} (expected key=value)")
    return name.strip().lower(), options


def parse_student(text: str) -> StudentSpec:
    """``bilstm``, ``bilstm:lstm_units=64``, ``bert:layers=3,strategy=skip``, ``bert:layers=2,4,5``."""
    from ..models.registry import FAMILIES, family_names

    name = text.strip().partition(":")[0].strip().lower()
    students = family_names(students_only=True)
    if name not in students:
        raise EdgekitError(f"unknown student {name!r}; known: {', '.join(students)}")
    _, options = split_spec(text)
    FAMILIES[name].parse_student_options(options, text)
    return StudentSpec(name, options, text.strip())


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


def build_student(spec: StudentSpec | str, teacher, num_classes: int, vocab_size: int) -> Student:
    from ..models.registry import get_family

    spec = parse_student(spec) if isinstance(spec, str) else spec
    return get_family(spec.family).build_student(spec, teacher, num_classes, vocab_size)
