"""Quantization-aware fine-tuning: a model directory + splits → the same architecture, trained to round well.

The model is fine-tuned inside :func:`.fake_quant.fake_quantized` (its dense layers computing as the
int8 recipe will quantize them) and distilled from its own float original: the loss, teacher-output cache,
transfer set (training split, unlabelled sentences, augmentation) and training loop of pruning's recovery
(:mod:`edgekit.prune.recover`), where the "pruned" model is a copy of the source that keeps every layer.
Dropout is off: the model learns to reproduce its float original's outputs, not to regularize. The epoch kept
is the one whose simulated int8 answers on validation best match the float original's (macro-F1 against
those answers). Measured before and after: macro-F1 of the float and of the simulated int8 model, and their
argmax agreement with the float original on validation and test. The output is an ordinary model directory; its
int8 file comes from ``edgekit convert`` with the same recipe.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..converters.convert import FAMILY_RECIPE
from ..errors import EdgekitError
from ..prune.recover import RecoverSettings
from ..train.loop import TrainConfig


@dataclass
class QatSettings:
    recipe: str = FAMILY_RECIPE  # the int8 recipe to simulate: a name, a JSON file, a bundle, or "family"
    recover: RecoverSettings = field(default_factory=lambda: RecoverSettings(
        loss="logit_mse,hidden_mse", train=TrainConfig(epochs=2, learning_rate=1e-5, schedule="linear", patience=2)))
    name: str = "qat"
    calibration_samples: int = 200  # training sentences whose min/max fix the static layers' ranges


def resolve_recipe(spec: str, family: str):
    """The :class:`~edgekit.converters.recipes.Recipe` to simulate (one line when the family has none)."""
    from ..converters.exporters import get_exporter
    from ..converters.recipes import load_recipe

    if spec == FAMILY_RECIPE:
        name = get_exporter(family).int8_recipe
        if name is None:
            raise EdgekitError(f"the {family} family has no int8 recipe to simulate; give --recipe NAME|FILE")
        spec = name
    return load_recipe(spec)


def copy_model(loaded):
    """A second model of ``loaded``'s architecture with its weights."""
    from ..models.registry import get_family

    family = get_family(loaded.family)
    model = family.build(family.config_of(loaded.model))
    model.set_weights(loaded.model.get_weights())
    return model


@contextmanager
def without_dropout(model):
    """Dropout off inside the context: the fine-tuning matches the float model's own outputs, which dropout's noise
    would blur (every Dropout layer's rate is 0, then restored)."""
    import keras

    layers = [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.Dropout)]
    rates = [layer.rate for layer in layers]
    try:
        for layer in layers:
            layer.rate = 0.0
        yield layers
    finally:
        for layer, rate in zip(layers, rates):
            layer.rate = rate


def _all_layers(loaded) -> tuple[int, ...]:
    """Identity layer map for the hidden-state terms: layer i learns from the original's layer i."""
    from ..models.registry import get_family

    pruner = getattr(get_family(loaded.family), "pruner", None)
    return tuple(range(pruner.shape_of(loaded.model).layers)) if pruner is not None else ()


def qat(source, splits, out_dir: str | Path | None, settings: QatSettings, progress: bool = True) -> dict:
    """Fine-tune a copy of ``source`` (a LoadedModel) through its simulated int8 forward pass; returns metrics and
    writes the model directory to ``out_dir`` (skipped when None)."""
    from ..metrics import classification_report
    from ..prune.job import sample_indices
    from ..prune.recover import recover
    from ..train.encode import encode_texts
    from ..train.loop import predict_logits
    from .fake_quant import DYNAMIC, FLOAT, STATIC, calibrated, fake_quantized, plan_schemes

    t_start = time.perf_counter()
    if list(splits.train.labels) != source.labels:
        raise EdgekitError(f"model labels {source.labels} differ from the data's {list(splits.train.labels)}")
    recipe = resolve_recipe(settings.recipe, source.family)
    schemes = plan_schemes(source.model, recipe.rules)
    if all(s.activations == FLOAT for s in schemes):
        raise EdgekitError(f"recipe {recipe.name} quantizes none of the model's dense layers: nothing to simulate")
    length = source.max_length
    parts = ("validation", "test")
    enc = {part: encode_texts(source.tokenizer, getattr(splits, part).texts, length)
           for part in ("train", *parts)}
    gold = {part: np.asarray(getattr(splits, part).label_ids, np.int32) for part in parts}
    reference = {part: predict_logits(source.model, enc[part]) for part in parts}

    def scored(logits: dict) -> dict:
        return {part: {**classification_report(gold[part], logits[part].argmax(-1), source.labels),
                       "agreement_with_source_float": float((logits[part].argmax(-1) ==
                                                             reference[part].argmax(-1)).mean())}
                for part in parts}

    def measure(model) -> dict:
        return scored({part: predict_logits(model, enc[part]) for part in parts})

    sample = sample_indices(len(enc["train"]), settings.calibration_samples, settings.recover.train.seed)
    schemes = calibrated(source.model, schemes, enc["train"].take(sample))
    with fake_quantized(source.model, schemes):
        before = measure(source.model)
    model = copy_model(source)
    rs = replace(settings.recover, train=replace(settings.recover.train, max_length=length))
    with fake_quantized(model, schemes), without_dropout(model):
        # the best epoch is the one whose validation answers agree best with the float original's
        history, loss = recover(source, model, _all_layers(source), splits, enc, rs, progress=progress,
                                val_labels=reference["validation"].argmax(-1).astype(np.int32))
        simulated = measure(model)
    metrics = {
        "model": settings.name, "family": source.family, "role": "qat",
        "recipe": recipe.to_dict(),
        "schemes": {s: sum(1 for x in schemes if x.activations == s) for s in (STATIC, DYNAMIC, FLOAT)},
        "static_ranges": {x.path: {"input": x.input_range, "output": x.output_range}
                          for x in schemes if x.input_range is not None},
        "calibration_samples": len(sample),
        "source": {"model_dir": str(source.path), "float": scored(reference),
                   "simulated_int8": before},
        "float": measure(model),
        "simulated_int8": simulated,
        "loss": loss, "settings": {**rs.to_dict(), "recipe": settings.recipe},
        "history": history.to_dict(), "history_val_macro_f1_against": "the float original's validation answers",
        "data": splits.info,
        "params": int(model.count_params()),
    }
    metrics["total_seconds"] = round(time.perf_counter() - t_start, 2)
    if out_dir is not None:
        _save(Path(out_dir), source, model, metrics, history, settings.name)
    return metrics


def _save(out_dir: Path, source, model, metrics: dict, history, name: str) -> None:
    from ..fsutil import atomic_write_json
    from ..models.modeldir import METRICS_NAME, WEIGHTS_NAME, save_model_dir
    from ..models.registry import get_family
    from ..plots import training_curves

    save_model_dir(
        out_dir, model=model, family=source.family, config=get_family(source.family).config_of(model),
        labels=source.labels, vocab=source.tokenizer.vocab, tokenizer_settings=source.tokenizer.settings,
        max_length=source.max_length,
        extra_meta={"name": name, "role": "qat", "source_checkpoint": str(source.path), "qat_from": str(source.path),
                    "qat": {"recipe": metrics["recipe"]["name"]},
                    "data": {"dataset": metrics["data"].get("dataset"), "sha256": metrics["data"].get("sha256")}},
        metrics=metrics,
        write_curves=lambda p: training_curves(history.epochs, p, title=f"{name} (quantization-aware fine-tuning)"),
    )
    metrics["keras_bytes"] = (out_dir / WEIGHTS_NAME).stat().st_size
    atomic_write_json(out_dir / METRICS_NAME, metrics)
