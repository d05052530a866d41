"""A pruned student (``edgekit run --students 'pruned:layers=4,heads=8,ffn=768'``): the teacher made smaller.

The teacher pruned to a shape (:mod:`.targets`: ``layers``, ``heads``, ``ffn`` and/or a ``params`` or ``latency`` budget,
as ``edgekit prune`` takes them), recovered by distillation from the teacher (:mod:`.recover`), then, with
``vocab=train`` (the default), its token embedding table cut to the rows the training split uses
(:mod:`.vocab`; ``vocab=full`` keeps the teacher's). Other keys: ``epochs`` (recovery epochs, default 3),
``samples`` (training sentences importance reads, default 1000). The result is an ordinary model directory
that the convert stage takes like any student.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import EdgekitError
from .targets import Targets, parse_budget, parse_latency_share

KIND = "pruned"
VOCABS = ("train", "full")
_INT_KEYS = ("layers", "heads", "ffn", "epochs", "samples")


@dataclass(frozen=True)
class PrunedSpec:
    targets: Targets
    vocab: str = "train"
    epochs: int = 3
    samples: int = 1000
    text: str = ""

    @property
    def name(self) -> str:
        """A folder name: ``pruned-l4-h8-f768`` (``-p0.5`` for a budget, ``-fullvocab`` when the table stays)."""
        t = self.targets
        parts = [f"{k}{v}" for k, v in (("l", t.layers), ("h", t.heads), ("f", t.ffn)) if v is not None]
        parts += [f"{k}{v}".replace("%", "pct") for k, v in (("p", t.params), ("t", t.latency)) if v is not None]
        return "-".join([KIND, *parts] + (["fullvocab"] if self.vocab == "full" else []))


def parse_pruned(text: str) -> PrunedSpec:
    """``pruned:layers=4,heads=8,ffn=768[,params=0.5][,vocab=train|full][,epochs=3][,samples=1000]``; one line
    when a key is unknown or a value is not what it must be."""
    from ..distill.students import split_spec

    kind, options = split_spec(text)
    if kind != KIND:
        raise EdgekitError(f"not a pruned student spec: {text!r}")
    known = (*_INT_KEYS, "params", "latency", "vocab")
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise EdgekitError(f"unknown pruned-student option {', '.join(unknown)} in {text!r}; known: {', '.join(known)}")
    for key in _INT_KEYS:
        value = options.get(key)
        if value is not None and (not isinstance(value, int) or value < 1):
            raise EdgekitError(f"pruned-student option {key} must be a whole number >= 1, got {value!r} in {text!r}")
    vocab = str(options.get("vocab", "train"))
    if vocab not in VOCABS:
        raise EdgekitError(f"pruned-student option vocab must be {' or '.join(VOCABS)}, got {vocab!r}")
    params, latency = options.get("params"), options.get("latency")
    targets = Targets(layers=options.get("layers"), heads=options.get("heads"), ffn=options.get("ffn"),
                      params=None if params is None else str(params), latency=None if latency is None else str(latency))
    if targets == Targets():
        raise EdgekitError(f"a pruned student needs a target (layers, heads, ffn, params or latency) in {text!r}")
    if targets.params is not None:
        parse_budget(targets.params, 10**9)  # an unknown budget form: one line now, not after the teacher's training
    if targets.latency is not None:
        parse_latency_share(targets.latency)
    return PrunedSpec(targets, vocab, options.get("epochs", 3), options.get("samples", 1000), text.strip())


def make_pruned(spec: PrunedSpec, teacher_dir: str | Path, splits, out_dir: str | Path, *, cache_dir: str | None,
                seed: int, temperature: float, alpha: float) -> dict:
    """Prune, recover and (``vocab=train``) shrink the vocabulary; write ``out_dir``; return its summary."""
    from ..models.modeldir import load_model_dir
    from ..train.loop import TrainConfig
    from .job import PruneSettings, check_target_shape, prune
    from .recover import RecoverSettings
    from .vocab import prune_vocabulary_dir

    out_dir = Path(out_dir)
    teacher = load_model_dir(teacher_dir)
    check_target_shape(teacher, spec.targets)  # impossible for this teacher: one line, before any work
    recover = RecoverSettings(temperature=temperature, alpha=alpha, cache_dir=cache_dir,
                              train=TrainConfig(epochs=spec.epochs, learning_rate=5e-5, schedule="linear",
                                                patience=spec.epochs, seed=seed))
    full = out_dir if spec.vocab == "full" else out_dir.with_name(f".{out_dir.name}.full-vocab")
    result = prune(teacher, splits, full, PruneSettings(spec.targets, samples=spec.samples, seed=seed,
                                                        recover=recover, name=spec.name))
    summary = result.summary()
    if spec.vocab == "train":
        try:
            m = prune_vocabulary_dir(
                load_model_dir(full), splits, out_dir, [], name=spec.name,
                extra_meta={"role": "pruned", "source_checkpoint": str(teacher.path), "pruned_from": str(teacher.path)},
                extra_metrics={"prune": result.metrics})
        finally:
            shutil.rmtree(full, ignore_errors=True)
        summary.update(model_dir=str(out_dir), params=m["params"], test_macro_f1=m["test"]["macro_f1"],
                       val_macro_f1=m["validation"]["macro_f1"], vocab_rows=m["rows"])
    return {**summary, "train_seconds": result.metrics["total_seconds"]}
