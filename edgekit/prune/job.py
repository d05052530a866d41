"""One pruning run: model directory + splits + targets → a smaller model directory.

Steps: the uniform shape the targets ask for (:mod:`.targets`); the layers to drop, greedily by the loss
their skipping costs; head and FFN-neuron importance of the model run through the kept layers; each kept
layer keeps its own most important heads and neurons (:mod:`.plan`); the family slices the weights; optional
recovery by distillation from the unpruned model (:mod:`.recover`). Every measurement uses the training
split (``samples`` caps the sentences importance reads). The output is an ordinary model directory (family,
config with the smaller sizes, weights, vocab, labels, metrics.json) that every converter mode takes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..errors import EdgekitError
from .plan import Plan, Shape, select_plan
from .recover import RecoverSettings
from .targets import Targets, check_targets, parse_latency_share, resolve_shape

logger = logging.getLogger(__name__)


@dataclass
class PruneSettings:
    targets: Targets
    samples: int | None = None  # training sentences importance reads (None: all)
    batch_size: int = 32
    seed: int = 42
    recover: RecoverSettings | None = None  # None: no recovery
    name: str = "pruned"
    latency_length: int = 64  # tokens of the signature a --latency budget is measured at


@dataclass
class PruneResult:
    model_dir: Path
    metrics: dict = field(default_factory=dict)

    def summary(self) -> dict:
        m = self.metrics
        after = m.get("recovered") or m["pruned"]
        return {"source": m["source"]["model_dir"], "model_dir": str(self.model_dir), "shape": m["shape"],
                "source_shape": m["source"]["shape"], "params": m["params"], "source_params": m["source"]["params"],
                "val_macro_f1": after["validation"]["macro_f1"], "test_macro_f1": after["test"]["macro_f1"],
                "pruned_val_macro_f1": m["pruned"]["validation"]["macro_f1"],
                "source_val_macro_f1": m["source"]["validation"]["macro_f1"],
                "source_test_macro_f1": m["source"]["test"]["macro_f1"], "recovered": m.get("recovered") is not None}


def target_shape(source, targets: Targets, probe=None) -> tuple[Shape, int | None]:
    """The shape ``targets`` ask of the loaded model ``source`` and the parameter budget (one line when impossible).
    A ``--latency`` budget measures shapes with ``probe`` (:class:`.latency.LatencyProbe`)."""
    from ..models.registry import get_family

    pruner = get_family(source.family).pruner
    model = source.model
    return resolve_shape(targets, pruner.shape_of(model), int(model.count_params()),
                         lambda shape: pruner.params(model, shape), probe)


def check_target_shape(source, targets: Targets) -> None:
    """Impossible targets of ``source``: one line, before any data is read (a latency budget's form only: meeting
    it takes measurements)."""
    from ..models.registry import get_family

    if targets.latency is None:
        target_shape(source, targets)
    else:
        check_targets(targets, get_family(source.family).pruner.shape_of(source.model))


def sample_indices(n: int, samples: int | None, seed: int) -> np.ndarray:
    """Sorted indices of ``samples`` of ``n`` items drawn with ``seed`` (all of them when None or not fewer)."""
    if samples is None or samples >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, samples, replace=False))


@dataclass
class Importance:
    """What pruning measured on the training split: the layers kept and the head/neuron importance through them."""
    sentences: int
    layer_removal: list[dict]  # one record per greedy step (Pruner.remove_layers)
    layers: tuple[int, ...]  # the kept layers of the source, in order
    heads: np.ndarray  # [source layers, heads]; zeros when nothing was ranked
    neurons: np.ndarray  # [source layers, ffn]
    seconds: float


def measure_importance(source, splits, train_enc, keep_layers: int, rank_units: bool, samples: int | None, seed: int,
                       batch_size: int) -> Importance:
    """Layers first (greedy removal down to ``keep_layers``), then, when ``rank_units``, head and neuron importance of
    the model through the kept layers, on ``samples`` training sentences drawn with ``seed`` (``train_enc``: the
    whole training split encoded)."""
    from ..models.registry import get_family

    pruner = get_family(source.family).pruner
    full = pruner.shape_of(source.model)
    pick = sample_indices(len(train_enc), samples, seed)
    data = train_enc.take(pick)
    labels = np.asarray(splits.train.label_ids, np.int32)[pick]
    t0 = time.perf_counter()
    steps = pruner.remove_layers(source.model, data, labels, full.layers - keep_layers, batch_size)
    removed = {s["removed"] for s in steps}
    kept = tuple(i for i in range(full.layers) if i not in removed)
    if rank_units:
        heads, neurons = pruner.importance(source.model, data, labels, kept, batch_size)
    else:  # every head and neuron stays: nothing to rank
        heads, neurons = np.zeros((full.layers, full.heads)), np.zeros((full.layers, full.ffn))
    return Importance(int(len(pick)), steps, kept, heads, neurons, round(time.perf_counter() - t0, 2))


def prune(source, splits, out_dir: str | Path | None, settings: PruneSettings, progress: bool = True) -> PruneResult:
    """Prune the loaded model ``source`` (a LoadedModel); write the result to ``out_dir`` (skipped when None)."""
    from ..models.registry import get_family
    from ..train.encode import encode_texts
    from ..train.loop import evaluate

    t_start = time.perf_counter()
    family = get_family(source.family)
    pruner = family.pruner
    if list(splits.train.labels) != source.labels:
        raise EdgekitError(f"model labels {source.labels} differ from the data's {list(splits.train.labels)}")
    full = pruner.shape_of(source.model)
    probe = None
    if settings.targets.latency is not None:
        from .latency import LatencyProbe

        probe = LatencyProbe(source, settings.latency_length)
    shape, budget = target_shape(source, settings.targets, probe)
    length = source.max_length
    enc = {part: encode_texts(source.tokenizer, getattr(splits, part).texts, length)
           for part in ("train", "validation", "test")}
    gold = {part: np.asarray(getattr(splits, part).label_ids, np.int32) for part in ("validation", "test")}

    ranked = (shape.heads, shape.ffn) != (full.heads, full.ffn)
    found = measure_importance(source, splits, enc["train"], shape.layers, ranked, settings.samples, settings.seed,
                               settings.batch_size)
    kept, heads, neurons = found.layers, found.heads, found.neurons
    plan = select_plan(shape, kept, heads, neurons)
    model = pruner.apply(source.model, plan)
    logger.info(f"pruned {full.to_dict()} → {shape.to_dict()}: kept layers {list(kept)}, "
                f"{source.model.count_params():,} → {model.count_params():,} params ({found.seconds:.0f}s "
                f"importance on {found.sentences} sentences)")

    def reports(m) -> dict:
        return {part: evaluate(m, enc[part], gold[part], source.labels) for part in ("validation", "test")}

    metrics = {
        "model": settings.name,
        "family": source.family,
        "role": "pruned",
        "source": {"model_dir": str(source.path), "shape": full.to_dict(), "params": int(source.model.count_params()),
                   **reports(source.model)},
        "targets": settings.targets.to_dict(),
        "budget_params": budget,
        "latency_budget": None if probe is None else _latency_record(probe, settings.targets.latency, full, shape),
        "shape": shape.to_dict(),
        "params": int(model.count_params()),
        "plan": plan.to_dict(),
        "importance": {"loss": "cross-entropy on the gold labels", "sentences": found.sentences,
                       "seconds": found.seconds, "layer_removal": found.layer_removal,
                       "heads": np.round(heads, 8).tolist(),
                       "kept_neuron_share": _kept_share(neurons, plan)},
        "pruned": reports(model),
        "recovered": None,
        "data": splits.info,
    }
    history = None
    if settings.recover is not None:
        from .recover import recover

        rs = replace(settings.recover, train=replace(settings.recover.train, max_length=length))
        history, recipe = recover(source, model, kept, splits, enc, rs, progress=progress)
        metrics["recovered"] = {**reports(model), "loss": recipe, "settings": rs.to_dict(),
                                "history": history.to_dict()}
    metrics["total_seconds"] = round(time.perf_counter() - t_start, 2)
    result = PruneResult(Path(out_dir) if out_dir is not None else Path(""), metrics)
    if out_dir is not None:
        _save(result, source, model, family, plan, history, settings)
    return result


def _latency_record(probe, share_text: str, full: Shape, shape: Shape) -> dict:
    """What a ``--latency`` budget measured: the share, its limit, the chosen shape's time, every probe."""
    share = parse_latency_share(share_text)
    return {"share": share, "limit_ms": round(share * probe(full), 4), "shape_ms": round(probe(shape), 4),
            **probe.record()}


def _kept_share(neurons: np.ndarray, plan: Plan) -> list[float]:
    """Per kept layer: the share of the layer's summed neuron importance its kept neurons hold."""
    out = []
    for j, i in enumerate(plan.layers):
        total = float(neurons[i].sum())
        out.append(round(float(neurons[i][list(plan.neurons[j])].sum()) / total, 6) if total > 0 else 1.0)
    return out


def _save(result: PruneResult, source, model, family, plan: Plan, history, settings: PruneSettings) -> None:
    from ..fsutil import atomic_write_json
    from ..models.modeldir import METRICS_NAME, WEIGHTS_NAME, save_model_dir
    from ..plots import training_curves

    m = result.metrics
    save_model_dir(
        result.model_dir, model=model, family=source.family, config=family.config_of(model), labels=source.labels,
        vocab=source.tokenizer.vocab, tokenizer_settings=source.tokenizer.settings, max_length=source.max_length,
        extra_meta={"name": settings.name, "role": "pruned", "source_checkpoint": str(source.path),
                    "pruned_from": str(source.path), "prune": {"shape": m["shape"], "layers": list(plan.layers),
                                                                "recovered": history is not None},
                    "data": {"dataset": m["data"].get("dataset"), "sha256": m["data"].get("sha256")}},
        metrics=m,
        write_curves=None if history is None else
        (lambda p: training_curves(history.epochs, p, title=f"{settings.name} (pruned, recovery)")),
    )
    m["keras_bytes"] = (result.model_dir / WEIGHTS_NAME).stat().st_size
    atomic_write_json(result.model_dir / METRICS_NAME, m)
