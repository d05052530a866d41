"""Recovery: distil the pruned model from the unpruned one on the training split (plus, optionally, unlabelled
in-domain sentences and augmented copies: the transfer set of ``edgekit distill``).

The existing distillation machinery, with the pruned model as the student: the loss recipe
(:mod:`edgekit.distill.losses`), the unpruned model's outputs from the on-disk cache
(:mod:`edgekit.distill.cache`, shared with ``edgekit distill`` runs of the same model and split) and the
training loop (:func:`edgekit.train.loop.fit`, best validation epoch kept). Hidden-state terms compare
pruned layer j with the source layer it was cut from (``plan.layers[j]``): the width is unchanged.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import numpy as np

from ..train.loop import History, TrainConfig

logger = logging.getLogger(__name__)


@dataclass
class RecoverSettings:
    loss: str = "hard,kl,hidden_mse"  # the BERT family's run loss: pruned layers keep the source's width
    temperature: float = 2.0
    alpha: float = 0.5
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=3, learning_rate=5e-5, schedule="linear",
                                                                   patience=3))
    cache_dir: str | None = None
    # the transfer set beyond the training split, as for edgekit distill (edgekit.distill.transfer)
    unlabelled: str | None = None  # file of in-domain sentences the unpruned model labels
    augment: str | None = None  # None/"none", "tang" or "mask=0.1,ngram=0.25,swap=0.1"
    augment_multiplier: int = 1
    augment_seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def check_recover_settings(settings: RecoverSettings, family: str) -> None:
    """A bad loss recipe or one the family cannot compute: one line, before any work."""
    from ..distill.features import check_features
    from ..distill.losses import make_recipe

    check_features(family, make_recipe(settings.loss, settings.alpha, settings.temperature).student_needs)


def recover(source, model, kept_layers: tuple[int, ...], splits, enc: dict, settings: RecoverSettings,
            progress: bool = True, val_labels: np.ndarray | None = None, tokenizer=None) -> tuple[History, dict]:
    """Train ``model`` (pruned from ``source``, a LoadedModel) in place; returns its history and loss recipe.
    ``val_labels`` are the answers each epoch's validation macro-F1 is scored against (default: the gold labels).
    ``tokenizer``: the model's own when it reads differently from ``source`` (a vocabulary cut); ``enc`` is then
    in its tokenization, the source reads its own, and the recipe's terms must be logit terms."""
    import tensorflow as tf

    from ..distill.cache import teacher_outputs
    from ..distill.features import feature_forward
    from ..distill.losses import make_recipe
    from ..distill.transfer import build_transfer_set
    from ..models.registry import get_family
    from ..train.encode import encode_texts
    from ..train.loop import fit

    recipe = make_recipe(settings.loss, settings.alpha, settings.temperature)
    if "hidden" in recipe.student_needs:
        recipe = recipe.with_layer_map(list(enumerate(kept_layers)))
    transfer = build_transfer_set(source, splits, settings.unlabelled, settings.augment, settings.augment_multiplier,
                                  settings.augment_seed, settings.cache_dir)
    length = settings.train.max_length
    train = (enc["train"] if len(transfer.texts) == transfer.num_gold
             else encode_texts(tokenizer or source.tokenizer, transfer.texts, length))
    seen = train if tokenizer is None else encode_texts(source.tokenizer, transfer.texts, length)
    outputs = teacher_outputs(source, transfer.texts, seen, hidden_layers=recipe.teacher_layers,
                              embeddings="embeddings" in recipe.teacher_needs,
                              sentence="sentence" in recipe.teacher_needs, cache_dir=settings.cache_dir)
    labels = transfer.labels(splits.train.label_ids, outputs.logits)
    targets = {k: v for k, v in outputs.targets().items()
               if k != "teacher_logits" or "logits" in recipe.teacher_needs}
    forward = None
    if recipe.student_needs - {"logits"}:
        forward = feature_forward(model, source.family, recipe.student_needs,
                                  teacher_width=get_family(source.family).width(source.model))

    @tf.autograph.experimental.do_not_convert  # plain tensor code; autograph only warns about the closure
    def loss_fn(logits, batch):
        return recipe.per_example(batch.get("outputs") or {"logits": logits}, batch)

    logger.info(f"recovery: {recipe.describe()}, {settings.train.epochs} epoch(s) on a transfer set of "
                f"{len(transfer.texts)} sentences ({transfer.num_gold} gold-labelled)")
    if val_labels is None:
        val_labels = np.asarray(splits.validation.label_ids, np.int32)
    history = fit(model, train, labels, enc["validation"], val_labels, source.labels, settings.train, loss_fn=loss_fn,
                  extra_targets=targets, progress=progress, forward_fn=forward)
    return history, {**recipe.to_dict(), "teacher_cache": outputs.key, "teacher_cache_hit": not outputs.computed,
                     "transfer_set": transfer.info(labels, len(source.labels))}
