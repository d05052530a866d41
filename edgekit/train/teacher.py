"""Fine-tune the BERT teacher: pretrained backbone + fresh head, best validation macro-F1 kept."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data import Splits
from ..models.backbones import resolve_backbone
from ..models.modeldir import save_model_dir
from ..tokenizer import WordPieceTokenizer
from .encode import encode_texts
from .loop import TrainConfig, evaluate, fit

TEACHER_FAMILY = "bert"  # the family whose from_pretrained loads --backbone

logger = logging.getLogger(__name__)


@dataclass
class TeacherResult:
    model_dir: Path
    metrics: dict


def train_teacher(
    splits: Splits,
    out_dir: str | Path,
    *,
    backbone: str | None = None,
    config: TrainConfig | None = None,
    dropout: float = 0.1,
    name: str = "teacher",
    progress: bool = True,
) -> TeacherResult:
    import keras

    from ..models.registry import get_family

    config = config or TrainConfig()
    keras.utils.set_random_seed(config.seed)
    labels = list(splits.train.labels)
    source = resolve_backbone(backbone)
    t0 = time.perf_counter()
    family = get_family(TEACHER_FAMILY)
    model, vocab, lower_case = family.from_pretrained(source, num_classes=len(labels), dropout=dropout)
    load_seconds = time.perf_counter() - t0
    tokenizer = WordPieceTokenizer(vocab, lower_case=lower_case)
    logger.info(f"backbone {source.spec}: {family.describe(model)} (loaded in {load_seconds:.1f}s)")

    enc = {part.notes["split"]: encode_texts(tokenizer, part.texts, config.max_length) for part in splits}
    ids = {part.notes["split"]: np.asarray(part.label_ids, np.int32) for part in splits}
    history = fit(model, enc["train"], ids["train"], enc["validation"], ids["validation"], labels, config,
                  progress=progress)
    test_report = evaluate(model, enc["test"], ids["test"], labels, config.eval_batch_size)
    val_report = evaluate(model, enc["validation"], ids["validation"], labels, config.eval_batch_size)
    logger.info(f"test macro-F1 {test_report['macro_f1']:.4f}  accuracy {test_report['accuracy']:.4f} "
                f"(best epoch {history.best_epoch})")
    truncated = {k: float(np.mean(v.num_tokens > config.max_length)) for k, v in enc.items()}
    metrics = {
        "model": name,
        "family": family.name,
        "backbone": source.spec,
        "train_config": config.to_dict(),
        "history": history.to_dict(),
        "validation": val_report,
        "test": test_report,
        "data": splits.info,
        "truncated_share": truncated,
    }
    from ..plots import training_curves

    out = save_model_dir(
        out_dir,
        model=model,
        family=family.name,
        config=family.config_of(model),
        labels=labels,
        vocab=vocab,
        tokenizer_settings=tokenizer.settings,
        max_length=config.max_length,
        extra_meta={"name": name, "source_checkpoint": source.spec, "role": "teacher",
                    "data": {"dataset": splits.info.get("dataset"), "sha256": splits.info.get("sha256")}},
        metrics=metrics,
        write_curves=lambda p: training_curves(history.epochs, p, title=f"{name} ({source.spec})"),
    )
    return TeacherResult(out, metrics)


def write_result_json(result: TeacherResult, path: str | Path) -> Path:
    """A one-record summary of a training run, for README figures (with the commit that made it)."""
    from ..fsutil import atomic_write_json
    from ..provenance import stamp

    m = result.metrics
    record = {
        "kind": "edgekit-teacher-result",
        "model_dir": str(result.model_dir),
        "backbone": m["backbone"],
        "dataset": m["data"].get("dataset"),
        "split_sha256": m["data"].get("sha256"),
        "test_macro_f1": m["test"]["macro_f1"],
        "test_accuracy": m["test"]["accuracy"],
        "test_weighted_f1": m["test"]["weighted_f1"],
        "val_macro_f1": m["validation"]["macro_f1"],
        "best_epoch": m["history"]["best_epoch"],
        "epochs_run": len(m["history"]["epochs"]),
        "train_seconds": m["history"]["train_seconds"],
        "train_config": m["train_config"],
        **stamp(),
    }
    return atomic_write_json(path, record)
