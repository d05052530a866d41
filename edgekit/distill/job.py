"""One distillation run: teacher model dir + splits + student spec + loss recipe → student model dir.

The transfer set is the training split, optionally grown by augmentation
(:mod:`edgekit.distill.augment`). Original sentences keep their gold label for the hard loss;
synthetic sentences take the teacher's argmax as their hard label. Teacher outputs come from the
on-disk cache (:mod:`edgekit.distill.cache`), so a sweep runs the teacher once. The student is
trained by the project's one training loop (:func:`edgekit.train.loop.fit`), and written as a
model directory exactly like the teacher's (family, config, weights, vocab, labels, metrics.json),
so the converters convert it the same way.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from ..data import Splits
from ..errors import EdgekitError
from ..train.loop import TrainConfig

logger = logging.getLogger(__name__)


@dataclass
class DistillSettings:
    student: str = "bilstm"
    loss: str = "hard,kl"
    temperature: float = 2.0
    alpha: float = 0.5
    layer_map: list[tuple[int, int]] | None = None  # None: Student.default_layer_map (hidden-state losses only)
    augment: str | None = None  # None/"none", "tang" or "mask=0.1,ngram=0.25,swap=0.1"
    augment_multiplier: int = 1
    augment_seed: int = 0
    unlabelled: str | None = None  # file of in-domain sentences the teacher labels (edgekit.distill.unlabelled)
    train: TrainConfig = field(default_factory=TrainConfig)
    cache_dir: str | None = None
    name: str = "student"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["train"] = self.train.to_dict()
        return d


def train_config_for(family: str, **overrides) -> TrainConfig:
    """The family's training defaults (``ModelFamily.train_defaults``), with every non-None override applied."""
    from ..models.registry import get_family

    base = {**get_family(family).train_defaults, **{k: v for k, v in overrides.items() if v is not None}}
    return TrainConfig(**base)


@dataclass
class DistillResult:
    model_dir: Path
    metrics: dict

    def summary(self) -> dict:
        m = self.metrics
        return {
            "student": m["student"]["spec"], "family": m["family"], "loss": m["loss"]["text"],
            "temperature": m["loss"]["temperature"], "alpha": m["settings"]["alpha"],
            "augment": m["transfer_set"]["augment"], "transfer_size": m["transfer_set"]["size"],
            "val_macro_f1": m["validation"]["macro_f1"], "val_accuracy": m["validation"]["accuracy"],
            "test_macro_f1": m["test"]["macro_f1"], "test_accuracy": m["test"]["accuracy"],
            "params": m["params"], "keras_bytes": m.get("keras_bytes"),
            "train_seconds": m["history"]["train_seconds"], "best_epoch": m["history"]["best_epoch"],
            "teacher_test_macro_f1": m["teacher"]["test"]["macro_f1"],
            "teacher_val_macro_f1": m["teacher"]["validation"]["macro_f1"],
            "model_dir": str(self.model_dir),
        }


def distill(
    teacher_dir: str | Path,
    splits: Splits,
    out_dir: str | Path | None,
    settings: DistillSettings,
    progress: bool = True,
) -> DistillResult:
    """Train one student from the teacher; write it to ``out_dir`` (skipped when None)."""
    import keras

    from ..metrics import classification_report
    from ..models.modeldir import WEIGHTS_NAME, load_model_dir, save_model_dir
    from ..models.registry import get_family
    from ..train.encode import encode_texts
    from ..train.loop import evaluate, fit
    from .cache import teacher_fingerprint, teacher_outputs
    from .features import check_features, feature_forward
    from .losses import make_recipe
    from .students import build_student, parse_student
    from .transfer import build_transfer_set

    t_start = time.perf_counter()
    teacher = load_model_dir(teacher_dir)
    labels = teacher.labels
    if list(splits.train.labels) != labels:
        raise EdgekitError(f"teacher labels {labels} differ from the data's {list(splits.train.labels)}")
    _check_teacher_split(teacher, splits)
    cfg = settings.train
    max_length = cfg.max_length or teacher.max_length
    spec = parse_student(settings.student)
    recipe = make_recipe(settings.loss, settings.alpha, settings.temperature)
    needs = recipe.student_needs
    check_features(spec.family, needs)
    keras.utils.set_random_seed(cfg.seed)
    student = build_student(spec, teacher.model, len(labels), len(teacher.tokenizer.vocab))
    family = get_family(student.family)
    teacher_family = get_family(teacher.family)
    if "hidden" in needs:
        n_teacher = teacher_family.num_layers(teacher.model)
        layer_map = settings.layer_map or student.default_layer_map(n_teacher)
        _check_layer_map(layer_map, student.num_layers, n_teacher)
        recipe = recipe.with_layer_map(layer_map)
    family.prepare_student(student, teacher, spec, settings.cache_dir)

    # transfer set: the training split (+ unlabelled in-domain sentences) (+ augmentation); teacher outputs cached
    transfer = build_transfer_set(teacher, splits, settings.unlabelled, settings.augment, settings.augment_multiplier,
                                  settings.augment_seed, settings.cache_dir)
    num_gold = transfer.num_gold
    enc = {"train": encode_texts(teacher.tokenizer, transfer.texts, max_length),
           "validation": encode_texts(teacher.tokenizer, splits.validation.texts, max_length),
           "test": encode_texts(teacher.tokenizer, splits.test.texts, max_length)}
    t_out = teacher_outputs(teacher, transfer.texts, enc["train"], hidden_layers=recipe.teacher_layers,
                            embeddings="embeddings" in recipe.teacher_needs,
                            sentence="sentence" in recipe.teacher_needs, cache_dir=settings.cache_dir)
    train_labels = transfer.labels(splits.train.label_ids, t_out.logits)
    teacher_reports = {}
    for part in ("validation", "test"):
        texts = getattr(splits, part).texts
        lg = teacher_outputs(teacher, texts, enc[part], cache_dir=settings.cache_dir).logits
        teacher_reports[part] = classification_report(getattr(splits, part).label_ids, lg.argmax(-1), labels)

    forward = None
    if recipe.student_needs - {"logits"}:
        forward = feature_forward(student.model, student.family, recipe.student_needs,
                                  teacher_width=teacher_family.width(teacher.model))
    targets = {k: v for k, v in t_out.targets().items() if k != "teacher_logits" or "logits" in recipe.teacher_needs}

    import tensorflow as tf

    @tf.autograph.experimental.do_not_convert  # plain tensor code; autograph only warns about the closure
    def loss_fn(logits, batch):
        return recipe.per_example(batch.get("outputs") or {"logits": logits}, batch)

    logger.info(f"student {spec.label}: {student.family}, {student.model.count_params():,} params; "
                f"loss {recipe.describe()}; transfer set {len(transfer.texts)} ({num_gold} gold-labelled)")
    history = fit(student.model, enc["train"], train_labels, enc["validation"],
                  np.asarray(splits.validation.label_ids, np.int32), labels, replace(cfg, max_length=max_length),
                  loss_fn=loss_fn, extra_targets=targets, progress=progress, forward_fn=forward)
    reports = {part: evaluate(student.model, enc[part], np.asarray(getattr(splits, part).label_ids), labels,
                              cfg.eval_batch_size) for part in ("validation", "test")}
    logger.info(f"student {spec.label}: val macro-F1 {reports['validation']['macro_f1']:.4f}, test macro-F1 "
                f"{reports['test']['macro_f1']:.4f} (teacher {teacher_reports['test']['macro_f1']:.4f})")

    metrics = {
        "model": settings.name,
        "family": student.family,
        "role": "student",
        "student": {"spec": spec.label, "options": spec.options, "teacher_layers": student.teacher_layers,
                    "strategy": student.strategy, "init": student.init,
                    "describe": family.describe(student.model)},
        "teacher": {"model_dir": str(teacher.path), "fingerprint": teacher_fingerprint(teacher.path)[:16],
                    "validation": teacher_reports["validation"], "test": teacher_reports["test"],
                    "params": int(teacher.model.count_params())},
        "loss": recipe.to_dict(),
        "settings": settings.to_dict(),
        "transfer_set": {**transfer.info(train_labels, len(labels)),
                         "teacher_cache": t_out.key, "teacher_cache_hit": not t_out.computed},
        "params": int(student.model.count_params()),
        "train_config": cfg.to_dict(),
        "history": history.to_dict(),
        "validation": reports["validation"],
        "test": reports["test"],
        "data": splits.info,
        "total_seconds": round(time.perf_counter() - t_start, 2),
    }
    if out_dir is None:
        return DistillResult(Path(""), metrics)
    from ..fsutil import atomic_write_json
    from ..models.modeldir import METRICS_NAME
    from ..plots import training_curves

    out = save_model_dir(
        out_dir, model=student.model, family=student.family, config=family.config_of(student.model),
        labels=labels, vocab=teacher.tokenizer.vocab, tokenizer_settings=teacher.tokenizer.settings,
        max_length=max_length,
        extra_meta={"name": settings.name, "role": "student", "source_checkpoint": str(teacher.path),
                    "teacher": metrics["teacher"]["model_dir"], "student_spec": spec.label,
                    "loss": recipe.to_dict(), "data": {"dataset": splits.info.get("dataset"),
                                                       "sha256": splits.info.get("sha256")}},
        metrics=metrics,
        write_curves=lambda p: training_curves(history.epochs, p, title=f"{settings.name} ({spec.label})"),
    )
    metrics["keras_bytes"] = (out / WEIGHTS_NAME).stat().st_size
    atomic_write_json(out / METRICS_NAME, metrics)
    return DistillResult(out, metrics)


def _check_layer_map(layer_map, student_layers: int, teacher_layers: int) -> None:
    for name, side, k in (("student", 0, student_layers), ("teacher", 1, teacher_layers)):
        bad = sorted({pair[side] for pair in layer_map if not 0 <= pair[side] < k})
        if bad:
            raise EdgekitError(f"layer map names {name} layers {bad}; the {name} has 0..{k - 1}")


def _check_teacher_split(teacher, splits: Splits) -> None:
    """Warn when the teacher was trained on another split: its training sentences may sit in this test split."""
    import json

    path = teacher.path / "metrics.json"
    if not path.is_file():
        return
    try:
        trained_on = json.loads(path.read_text()).get("data", {}).get("sha256", {})
    except (json.JSONDecodeError, UnicodeDecodeError):
        return
    if trained_on and trained_on != splits.info.get("sha256"):
        logger.warning("warning: this split differs from the teacher's training split (hashes in its metrics.json); "
                       "teacher figures and distillation may see test sentences the teacher trained on")
