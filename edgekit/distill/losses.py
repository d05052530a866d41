"""Distillation losses: a registry of per-example terms combined with weights.

Terms (``--loss name[=weight],...``):

============== ======================================================================== =========
name           per-example value                                                        needs
============== ======================================================================== =========
``hard``       cross-entropy of the student logits against the label                    labels
``kl``         T² · KL( softmax(t/T) ‖ softmax(s/T) ), Hinton et al.                    t logits
``logit_mse``  mean over classes of (s − t)², the reference study's / Tang et al.'s BiLSTM loss; T is not applied
``hidden_mse`` mean over mapped layers of the mean over real tokens and hidden units of (hₛ − hₜ)²
``embedding_mse`` the same on the embedding block's output (after its layer norm)
``hidden_cos`` mean over mapped layers of the mean over real tokens of 1 − cos(hₛ, hₜ)
``similarity`` ‖gₛ,ᵢ − gₜ,ᵢ‖², row i of the batch's sentence-similarity matrices       t sentence
============== ======================================================================== =========

``similarity`` is similarity-preserving distillation (Tung & Mori, ICCV 2019): with S the batch's
student sentence vectors [B, dₛ] and T the teacher's [B, dₜ], G = row-L2-normalised S·Sᵀ (and T·Tᵀ),
and example i contributes the squared distance between row i of the two B×B matrices (in [0, 4]; the
paper's ‖Gₜ − Gₛ‖²_F / B² is this averaged over the batch, divided by B). It compares how the student
arranges sentences relative to each other, not the vectors themselves, so the widths may differ: it
works for the BiLSTM without any added parameters (its 256-wide final states vs the teacher's pooled
output). The "sentence" vector is what the classifier head reads: the BERT pooled output, the
BiLSTM's concatenated final states.

Padding tokens never count (``padding_mask``). Hidden-state terms compare student layer ``s`` with
teacher layer ``layer_map[s]`` (0-based; by default the layer that initialised it, and for the
BiLSTM — one layer, 0 — the teacher's last). Shallow BERT students have the teacher's width; the
BiLSTM's per-token states (same WordPiece tokens as the teacher, so positions align exactly) reach
the teacher's width through a linear hint projection trained alongside and dropped afterwards
(:mod:`edgekit.distill.features`). ``embedding_mse`` needs the teacher's width (BERT students).

**The alpha convention** (the reference study used alpha for the hard loss in one place and for the
soft loss in another; edgekit uses one convention everywhere): **alpha is the weight of the soft
logit loss, and 1 − alpha the weight of the hard-label loss**::

    loss = (1 − alpha) · hard + alpha · soft  (+ weight · feature term, for each feature term)

so alpha = 1 is pure distillation and alpha = 0 is hard labels only. "soft" is ``kl`` or
``logit_mse``. alpha only sets the weights of ``hard`` and of the soft logit terms that have no
explicit weight; an explicit ``name=weight`` always wins; a lone soft term (no ``hard``) gets
weight 1; feature terms default to weight 1 and are added on top.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable

from ..errors import EdgekitError

TermFn = Callable[[dict, dict, "LossContext"], Any]


@dataclass(frozen=True)
class LossContext:
    temperature: float = 1.0
    layer_map: tuple[tuple[int, int], ...] = ()  # (student layer, teacher layer) pairs, 0-based


@dataclass(frozen=True)
class LossTerm:
    name: str
    fn: TermFn
    kind: str  # "hard" | "soft" | "feature"
    student_needs: frozenset[str] = frozenset({"logits"})
    teacher_needs: frozenset[str] = frozenset()  # "logits", "hidden", "embeddings", "sentence"
    doc: str = ""


LOSSES: dict[str, LossTerm] = {}


def register_loss(term: LossTerm) -> LossTerm:
    LOSSES[term.name] = term
    return term


# ------------------------------------------------------------------------------------ the terms
def _hard(out: dict, batch: dict, ctx: LossContext):
    import keras

    return keras.losses.sparse_categorical_crossentropy(batch["labels"], out["logits"], from_logits=True)


def _kl(out: dict, batch: dict, ctx: LossContext):
    import tensorflow as tf

    T = ctx.temperature
    t = tf.cast(batch["teacher_logits"], tf.float32) / T
    s = tf.cast(out["logits"], tf.float32) / T
    p_t = tf.nn.softmax(t, axis=-1)
    kl = tf.reduce_sum(p_t * (tf.nn.log_softmax(t, axis=-1) - tf.nn.log_softmax(s, axis=-1)), axis=-1)
    return (T * T) * kl


def _logit_mse(out: dict, batch: dict, ctx: LossContext):
    import tensorflow as tf

    diff = tf.cast(out["logits"], tf.float32) - tf.cast(batch["teacher_logits"], tf.float32)
    return tf.reduce_mean(tf.square(diff), axis=-1)


def _token_mean(per_token, mask):
    """Mean over real tokens: per_token [B, L], mask [B, L] → [B]."""
    import tensorflow as tf

    m = tf.cast(mask, tf.float32)
    return tf.reduce_sum(per_token * m, axis=1) / tf.maximum(tf.reduce_sum(m, axis=1), 1.0)


def _mse_tokens(a, b, mask):
    import tensorflow as tf

    return _token_mean(tf.reduce_mean(tf.square(tf.cast(a, tf.float32) - tf.cast(b, tf.float32)), axis=-1), mask)


def _cos_tokens(a, b, mask):
    import tensorflow as tf

    a = tf.math.l2_normalize(tf.cast(a, tf.float32), axis=-1)
    b = tf.math.l2_normalize(tf.cast(b, tf.float32), axis=-1)
    return _token_mean(1.0 - tf.reduce_sum(a * b, axis=-1), mask)


def _over_layers(compare: Callable) -> TermFn:
    def fn(out: dict, batch: dict, ctx: LossContext):
        if not ctx.layer_map:
            raise EdgekitError("hidden-state losses need a student→teacher layer map")
        terms = [compare(out["hidden"][s], batch[teacher_hidden_key(t)], batch["padding_mask"])
                 for s, t in ctx.layer_map]
        return sum(terms) / len(terms)

    return fn


def _embedding_mse(out: dict, batch: dict, ctx: LossContext):
    return _mse_tokens(out["embeddings"], batch["teacher_embeddings"], batch["padding_mask"])


def _similarity(out: dict, batch: dict, ctx: LossContext):
    import tensorflow as tf

    def gram(x):
        x = tf.cast(x, tf.float32)
        return tf.math.l2_normalize(tf.matmul(x, x, transpose_b=True), axis=-1)

    return tf.reduce_sum(tf.square(gram(out["sentence"]) - gram(batch["teacher_sentence"])), axis=-1)


def teacher_hidden_key(layer: int) -> str:
    return f"teacher_hidden_{layer}"


register_loss(LossTerm("hard", _hard, "hard", doc="cross-entropy with the (gold or teacher) label"))
register_loss(LossTerm("kl", _kl, "soft", teacher_needs=frozenset({"logits"}),
                       doc="T²·KL(softmax(t/T) ‖ softmax(s/T))"))
register_loss(LossTerm("logit_mse", _logit_mse, "soft", teacher_needs=frozenset({"logits"}),
                       doc="mean squared error between student and teacher logits"))
register_loss(LossTerm("hidden_mse", _over_layers(_mse_tokens), "feature", frozenset({"hidden"}),
                       frozenset({"hidden"}), doc="MSE of mapped hidden states, real tokens only"))
register_loss(LossTerm("hidden_cos", _over_layers(_cos_tokens), "feature", frozenset({"hidden"}),
                       frozenset({"hidden"}), doc="1 − cosine of mapped hidden states, real tokens only"))
register_loss(LossTerm("embedding_mse", _embedding_mse, "feature", frozenset({"embeddings"}),
                       frozenset({"embeddings"}), doc="MSE of the embedding block outputs, real tokens only"))
register_loss(LossTerm("similarity", _similarity, "feature", frozenset({"sentence"}), frozenset({"sentence"}),
                       doc="similarity-preserving: rows of the batch's sentence-similarity matrices"))


def losses_help() -> str:
    """``hard (cross-entropy ...), kl (...)``: every registered term with its description, for help texts."""
    return ", ".join(f"{t.name} ({t.doc})" for t in LOSSES.values())


# ---------------------------------------------------------------------------------- the recipe
@dataclass(frozen=True)
class LossRecipe:
    """Weighted terms + temperature + layer map: ``per_example(outputs, batch)`` is the total loss."""

    weights: tuple[tuple[str, float], ...]
    context: LossContext = field(default_factory=LossContext)

    @property
    def terms(self) -> list[tuple[LossTerm, float]]:
        return [(LOSSES[name], w) for name, w in self.weights]

    @property
    def student_needs(self) -> set[str]:
        return set().union(*(t.student_needs for t, w in self.terms if w))

    @property
    def teacher_needs(self) -> set[str]:
        return set().union(*(t.teacher_needs for t, w in self.terms if w))

    @property
    def teacher_layers(self) -> list[int]:
        return sorted({t for _, t in self.context.layer_map}) if "hidden" in self.teacher_needs else []

    def with_layer_map(self, layer_map: list[tuple[int, int]] | tuple) -> "LossRecipe":
        """The same terms and temperature with a student→teacher layer map (known once the student is built)."""
        return replace(self, context=replace(self.context, layer_map=tuple((int(s), int(t)) for s, t in layer_map)))

    def per_example(self, outputs: dict, batch: dict):
        total = None
        for term, weight in self.terms:
            if not weight:
                continue
            value = weight * term.fn(outputs, batch, self.context)
            total = value if total is None else total + value
        return total

    def describe(self) -> str:
        return " + ".join(f"{w:g}·{n}" for n, w in self.weights if w) + (
            f" (T={self.context.temperature:g})" if any(LOSSES[n].name == "kl" for n, _ in self.weights) else "")

    def to_dict(self) -> dict:
        return {"weights": dict(self.weights), "temperature": self.context.temperature,
                "layer_map": [list(p) for p in self.context.layer_map], "text": self.describe()}


def parse_loss_weights(text: str, alpha: float) -> tuple[tuple[str, float], ...]:
    """``hard,kl`` + alpha → ((hard, 1 − alpha), (kl, alpha)); ``hard=0.3,kl=0.7,hidden_mse=2`` as written."""
    if not 0.0 <= alpha <= 1.0:
        raise EdgekitError(f"alpha must be in [0, 1], got {alpha}")
    items: list[tuple[str, float | None]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, w = part.partition("=")
        name = name.strip()
        if name not in LOSSES:
            raise EdgekitError(f"unknown loss {name!r}; known: {', '.join(LOSSES)}")
        if any(n == name for n, _ in items):
            raise EdgekitError(f"loss {name!r} given twice")
        try:
            items.append((name, float(w) if w else None))
        except ValueError:
            raise EdgekitError(f"loss weight for {name!r} must be a number, got {w!r}") from None
    if not items:
        raise EdgekitError("no loss given (e.g. --loss hard,kl)")
    has_hard = any(LOSSES[n].kind == "hard" for n, _ in items)
    has_soft = any(LOSSES[n].kind == "soft" for n, _ in items)
    out = []
    for name, w in items:
        if w is None:
            kind = LOSSES[name].kind
            if kind == "hard":
                w = 1.0 - alpha if has_soft else 1.0
            elif kind == "soft":
                w = alpha if has_hard else 1.0
            else:
                w = 1.0
        if w < 0:
            raise EdgekitError(f"loss weight for {name!r} must be >= 0, got {w}")
        out.append((name, float(w)))
    return tuple(out)


def make_recipe(text: str, alpha: float = 0.5, temperature: float = 1.0) -> LossRecipe:
    """The weighted terms of ``text`` at ``temperature``; a layer map is added by :meth:`LossRecipe.with_layer_map`."""
    if temperature <= 0:
        raise EdgekitError(f"temperature must be > 0, got {temperature}")
    return LossRecipe(parse_loss_weights(text, alpha), LossContext(float(temperature)))


def parse_layer_map(text: str | None) -> list[tuple[int, int]] | None:
    """``0:1,1:3,2:5`` → [(0, 1), (1, 3), (2, 5)] (student:teacher, 0-based)."""
    if not text:
        return None
    pairs = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        s, sep, t = part.partition(":")
        if not sep:
            raise EdgekitError(f"layer map entries are student:teacher, got {part!r}")
        try:
            pairs.append((int(s), int(t)))
        except ValueError:
            raise EdgekitError(f"layer map entries are integers, got {part!r}") from None
    return pairs
