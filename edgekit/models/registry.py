"""Model families: one object per family, registered once; every other module asks it.

A family turns a JSON-able config into a fresh Keras functional model whose inputs are the dict
``{"token_ids", "padding_mask", "segment_ids"}`` (int32 ``[batch, length]``) and whose output is
float logits ``[batch, num_classes]``. Everything downstream — training, distillation, export,
parity checks — talks to models only through that interface and through the family object.

A family lives in one folder (``edgekit/models/<name>/``: model, student, features, export) and
registers one :class:`ModelFamily` instance in its ``__init__``. What a family answers:

========================  =====================================================================
``build`` / ``config_of``  a fresh model for a config (``sequence_length`` for a fixed-length twin);
                           the config of a built model; ``describe`` for the record
``tiny_config``            a small config for smoke runs and the family loop test (``smoke_student``:
                           a student spec any teacher can give)
``from_pretrained``        a pretrained backbone with a fresh head (teacher families)
``parse_student_options``  validate the options of a ``--student NAME:k=v,...`` spec
``build_student``          a student of this family from a teacher (:class:`edgekit.distill.students.Student`)
``prepare_student``        family-specific initialisation from the teacher before distillation
``features`` / ``feature_forward``  what a distillation loss can read and the forward that exposes it
``exporter``               the converters' :class:`edgekit.converters.exporters.Exporter`
``pruner``                 head/neuron/layer importance and slicing for ``edgekit prune`` (BERT only)
``train_defaults`` / ``sweep_grid`` / ``run_loss``  distillation defaults, T × alpha grid, the run's loss
========================  =====================================================================

A new family is one new folder and one line in :data:`FAMILY_MODULES`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Callable

from ..errors import EdgekitError, ModelLoadError

if TYPE_CHECKING:  # imported for annotations only: these modules import TensorFlow or the converters
    from ..converters.exporters import Exporter
    from ..distill.students import Student, StudentSpec
    from ..prune.plan import Pruner

INPUT_KEYS = ("token_ids", "padding_mask", "segment_ids")

# Training defaults a student family inherits unless it says otherwise (the CLI's "auto" values);
# max_length 0 = the teacher's.
BASE_TRAIN_DEFAULTS: dict[str, Any] = {"learning_rate": 5e-5, "epochs": 6, "patience": 3, "batch_size": 32,
                                       "max_length": 0, "schedule": "linear"}


class ModelFamily:
    """Base class of a family: every hook exists, so a family that lacks one fails with one clear line."""

    name: str = ""
    title: str = ""  # one line for help texts
    student_help: str = ""  # the options of ``--student NAME:...``, for help texts
    features: frozenset[str] = frozenset({"logits"})  # what feature losses can read from a student
    train_defaults: dict[str, Any] = BASE_TRAIN_DEFAULTS
    sweep_grid: dict[str, list[float]] = {"temperature": [1, 2, 3], "alpha": [0.2, 0.5, 0.8]}
    run_loss: str = "hard,kl"  # the loss recipe ``edgekit run`` distills this family with

    @property
    def smoke_student(self) -> str:
        """A ``--student`` spec that builds from any teacher of the family's kind (smoke runs, tests)."""
        return self.name

    # ------------------------------------------------------------------------------ architecture
    def build(self, config: dict[str, Any], sequence_length: int | None = None) -> Any:
        raise NotImplementedError

    def config_of(self, model) -> dict[str, Any]:
        raise NotImplementedError

    def describe(self, model) -> dict[str, Any]:
        return {"params": int(model.count_params())}

    def tiny_config(self, vocabulary_size: int, num_classes: int) -> dict[str, Any]:
        raise NotImplementedError

    def embedding_rows(self, model) -> int:
        """Rows of the token embedding table: the most vocabulary entries the model can take (a bundle's
        ``model.embedding_rows``, checked against its vocab.txt on every load)."""
        raise NotImplementedError

    def with_vocabulary_size(self, config: dict[str, Any], size: int) -> dict[str, Any]:
        """``config`` with a token embedding table of ``size`` rows (``edgekit prune-vocab``)."""
        raise NotImplementedError

    def from_pretrained(self, source, num_classes: int, dropout: float = 0.1):
        raise EdgekitError(f"model family {self.name!r} has no pretrained backbones")

    # ------------------------------------------------------------------------------ as a teacher
    def num_layers(self, model) -> int:
        """Layers a hidden-state loss can address."""
        return 1

    def width(self, model) -> int | None:
        """Width of the per-token states (a student's hint projection maps to it); None: not comparable."""
        return None

    # ------------------------------------------------------------------------------ as a student
    def parse_student_options(self, options: dict[str, Any], text: str) -> None:
        """Raise :class:`EdgekitError` for an option this family does not take."""
        if options:
            raise EdgekitError(f"student {self.name!r} takes no options, got {sorted(options)}")

    def build_student(self, spec: "StudentSpec", teacher, num_classes: int, vocab_size: int) -> "Student":
        raise EdgekitError(f"model family {self.name!r} cannot be distilled into")

    def prepare_student(self, student: "Student", teacher, spec: "StudentSpec", cache_dir) -> None:
        """Family-specific initialisation from the loaded teacher before training (default: none)."""

    def feature_forward(self, model, wanted: set[str], teacher_width: int | None) -> Callable:
        raise EdgekitError(f"no feature extraction for model family {self.name!r}")

    # ------------------------------------------------------------------------------ conversion
    @property
    def exporter(self) -> "Exporter":
        raise EdgekitError(f"no converter for model family {self.name!r}")

    # ------------------------------------------------------------------------------ pruning
    @property
    def pruner(self) -> "Pruner":
        """Importance and slicing for ``edgekit prune`` (:mod:`edgekit.prune`)."""
        raise EdgekitError(f"{self.name} models cannot be pruned: edgekit prune removes attention heads, FFN neurons "
                           "and layers of BERT-family models")

    @property
    def is_student(self) -> bool:
        return type(self).build_student is not ModelFamily.build_student


FAMILIES: dict[str, ModelFamily] = {}

# Modules that register a family when imported (imported lazily: they import Keras).
FAMILY_MODULES = ("edgekit.models.bert", "edgekit.models.bilstm")


def register_family(family: ModelFamily) -> ModelFamily:
    if not family.name:
        raise ValueError("a model family needs a name")
    FAMILIES[family.name] = family
    return family


def _load_builtin_families() -> None:
    for module in FAMILY_MODULES:
        importlib.import_module(module)


def family_names(students_only: bool = False) -> list[str]:
    _load_builtin_families()
    return sorted(name for name, f in FAMILIES.items() if f.is_student or not students_only)


def get_family(name: str) -> ModelFamily:
    _load_builtin_families()
    try:
        return FAMILIES[name]
    except KeyError:
        raise ModelLoadError(f"unknown model family {name!r}; known: {', '.join(sorted(FAMILIES))}") from None
