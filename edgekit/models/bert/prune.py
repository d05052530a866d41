"""Pruning the BERT family: importance of heads, FFN neurons and layers, and the sliced smaller model.

The measuring forward (:class:`GatedForward`) runs the classifier layer by layer with a gate on every head's
output (before the attention output projection) and on every FFN intermediate neuron (after the GELU), and
can skip layers. With every gate 1 and no layer skipped it computes the model's logits; with a plan's gates
(1 kept, 0 removed) and its layers it computes the pruned model's logits — which is how the tests check
the slicing. Definitions (docs/pruning.md):

- head importance (Michel et al. 2019): ``I_lh = mean_x |∂L_x/∂ξ_lh|``, ξ the head gate, L_x example x's
  cross-entropy on its gold label; the gates are per example, so one backward pass per batch gives every
  example's own derivative;
- neuron importance: the same for the FFN gate ζ_lj, i.e. ``mean_x |Σ_t a_xtj · ∂L_x/∂a_xtj|``
  (activation × gradient, summed over the sentence's tokens);
- layers: removed greedily, each step the layer whose skipping raises the mean loss least.

The sliced model (:func:`apply_plan`): query/key/value kernels ``[hidden, heads, head_dim]`` keep the rows of the
kept heads, the output kernel ``[heads, head_dim, hidden]`` too; FFN kernels keep the kept neurons' columns
(intermediate) and rows (output); kept layers are copied in order; embeddings, pooler and head unchanged.
Heads keep their width: the pruned config carries ``head_dim`` (:mod:`.heads`).

The masked model (:func:`masked_model`) keeps a plan's layers at the source's widths and zeroes every weight of
a removed head (its query/key/value columns and biases, its rows of the output projection) and neuron (its
intermediate column and bias, its output row), each held at zero by a Keras constraint: the pruned model's
function and its training, for a non-uniform plan too, which the uniform backbone cannot hold as smaller
matrices (docs/pruning.md, "Non-uniform after recovery").
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ...prune.plan import Plan, Shape
from . import model as bert_model
from .heads import HEAD_DIM, head_dim
from .student import EMBEDDING_LAYERS

MASKED_SCORE = -1e9  # what keras' masked softmax adds to masked attention scores


def _sublayers(layer) -> tuple[Any, Any, Any, Any, Any]:
    """attention, its LayerNorm, FFN intermediate, FFN output, their LayerNorm of a keras-hub TransformerEncoder."""
    return (layer._self_attention_layer, layer._self_attention_layer_norm,  # noqa: SLF001
            layer._feedforward_intermediate_dense, layer._feedforward_output_dense,  # noqa: SLF001
            layer._feedforward_layer_norm)  # noqa: SLF001


class GatedForward:
    """The classifier's inference forward with head/neuron gates and skippable layers (shares its variables)."""

    def __init__(self, model):
        import keras

        self.model = model
        b = model.backbone
        projection = bert_model.embedding_projection(b)
        embedded = (b.get_layer("embeddings_layer_norm") if projection is None else projection).output
        self._embed = keras.Model(b.input, embedded, name="bert_embeddings")
        self.num_layers, self.num_heads = int(b.num_layers), int(b.num_heads)
        self.ffn, self.head_dim = int(b.intermediate_dim), head_dim(b)
        self._compiled: dict[tuple, Callable] = {}

    def logits(self, inputs: dict, layers: tuple[int, ...], head_gates=None, ffn_gates=None):
        """Logits through ``layers`` only; ``head_gates`` ``[B or 1, num_layers, heads]`` and ``ffn_gates``
        ``[B or 1, num_layers, ffn]`` multiply each head's output and each intermediate neuron (None: 1)."""
        import tensorflow as tf

        b = self.model.backbone
        x = self._embed(inputs, training=False)
        mask = tf.cast(inputs["padding_mask"], tf.bool)[:, None, None, :]  # [B, 1, 1, keys]
        for i in layers:
            x = self._layer(b.transformer_layers[i], x, mask, None if head_gates is None else head_gates[:, i],
                            None if ffn_gates is None else ffn_gates[:, i])
        return self.model.output_dense(b.pooled_dense(x[:, 0, :]))

    def _layer(self, layer, x, mask, head_gate, ffn_gate):
        import tensorflow as tf

        attention, attention_norm, intermediate, output, output_norm = _sublayers(layer)
        q = attention.query_dense(x) * (1.0 / math.sqrt(self.head_dim))  # [B, T, heads, head_dim]
        k, v = attention.key_dense(x), attention.value_dense(x)
        scores = tf.where(mask, tf.einsum("bqhd,bkhd->bhqk", q, k), MASKED_SCORE)
        context = tf.einsum("bhqk,bkhd->bqhd", tf.nn.softmax(scores, axis=-1), v)
        if head_gate is not None:
            context = context * head_gate[:, None, :, None]
        x = attention_norm(x + attention.output_dense(context))
        h = intermediate(x)
        if ffn_gate is not None:
            h = h * ffn_gate[:, None, :]
        return output_norm(x + output(h))

    # ------------------------------------------------------------------------------ measurements
    def _fn(self, kind: str, layers: tuple[int, ...]) -> Callable:
        """A traced function per (measurement, kept layers)."""
        import tensorflow as tf

        key = (kind, layers)
        if key not in self._compiled:
            spec = ({k: tf.TensorSpec([None, None], tf.int32) for k in ("token_ids", "padding_mask", "segment_ids")},
                    tf.TensorSpec([None], tf.int32))
            body = self._losses if kind == "loss" else self._gate_gradients
            self._compiled[key] = tf.function(lambda inputs, labels: body(inputs, labels, layers),
                                              input_signature=spec, reduce_retracing=True)
        return self._compiled[key]

    def _losses(self, inputs, labels, layers):
        import tensorflow as tf

        return tf.reduce_sum(_cross_entropy(labels, self.logits(inputs, layers)))

    def _gate_gradients(self, inputs, labels, layers):
        import tensorflow as tf

        batch = tf.shape(labels)[0]
        head_gates = tf.ones([batch, self.num_layers, self.num_heads])
        ffn_gates = tf.ones([batch, self.num_layers, self.ffn])
        with tf.GradientTape() as tape:
            tape.watch([head_gates, ffn_gates])
            loss = tf.reduce_sum(_cross_entropy(labels, self.logits(inputs, layers, head_gates, ffn_gates)))
        # the summed loss: each example's gate gradient is its own loss's, as examples do not interact
        g_heads, g_ffn = tape.gradient(loss, [head_gates, ffn_gates])
        return tf.reduce_sum(tf.abs(g_heads), axis=0), tf.reduce_sum(tf.abs(g_ffn), axis=0)

    def _batches(self, data, labels: np.ndarray, batch_size: int):
        import tensorflow as tf

        order = np.argsort(data.num_tokens, kind="stable")  # similar lengths together: less padding
        for start in range(0, len(data), batch_size):
            idx = order[start:start + batch_size]
            inputs = {k: tf.constant(v) for k, v in data.inputs(idx, data.trim_length(idx)).items()}
            yield inputs, tf.constant(labels[idx].astype(np.int32))

    def mean_loss(self, data, labels: np.ndarray, layers: tuple[int, ...], batch_size: int) -> float:
        fn = self._fn("loss", tuple(layers))
        return float(sum(float(fn(x, y)) for x, y in self._batches(data, labels, batch_size)) / len(data))

    def importance(self, data, labels: np.ndarray, layers: tuple[int, ...],
                   batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        fn = self._fn("gates", tuple(layers))
        heads = np.zeros((self.num_layers, self.num_heads), np.float64)
        neurons = np.zeros((self.num_layers, self.ffn), np.float64)
        for x, y in self._batches(data, labels, batch_size):
            h, n = fn(x, y)
            heads += h.numpy()
            neurons += n.numpy()
        return heads / len(data), neurons / len(data)


def _cross_entropy(labels, logits):
    import tensorflow as tf

    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=tf.cast(logits, tf.float32))


# ---------------------------------------------------------------------------------- the pruner
def _layer_params(hidden: int, head_width: int, heads: int, ffn: int) -> int:
    """One transformer layer: query/key/value/output kernels and biases, two LayerNorms, the FFN."""
    inner = heads * head_width
    return 4 * hidden * inner + 3 * inner + hidden + 4 * hidden + 2 * hidden * ffn + ffn + hidden


class BertPruner:
    """The BERT family's :class:`edgekit.prune.plan.Pruner`."""

    def shape_of(self, model) -> Shape:
        b = model.backbone
        return Shape(int(b.num_layers), int(b.num_heads), int(b.intermediate_dim))

    def params(self, model, shape: Shape) -> int:
        b, full = model.backbone, self.shape_of(model)
        hidden, width = int(b.hidden_dim), head_dim(b)
        return (int(model.count_params()) - full.layers * _layer_params(hidden, width, full.heads, full.ffn)
                + shape.layers * _layer_params(hidden, width, shape.heads, shape.ffn))

    def remove_layers(self, model, data, labels: np.ndarray, count: int, batch_size: int) -> list[dict]:
        forward = GatedForward(model)
        kept = list(range(forward.num_layers))
        steps = []
        for _ in range(count):
            candidates = {i: forward.mean_loss(data, labels, tuple(j for j in kept if j != i), batch_size)
                          for i in kept}
            removed = min(candidates, key=lambda i: (candidates[i], i))
            kept.remove(removed)
            steps.append({"removed": removed, "loss": candidates[removed],
                          "candidates": {str(i): v for i, v in candidates.items()}})
        return steps

    def importance(self, model, data, labels: np.ndarray, layers: tuple[int, ...],
                   batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        return GatedForward(model).importance(data, labels, layers, batch_size)

    def apply(self, model, plan: Plan):
        return apply_plan(model, plan)

    def masked(self, model, plan: Plan):
        return masked_model(model, plan)


PRUNER = BertPruner()


def pruned_config(model, shape: Shape) -> dict[str, Any]:
    config = bert_model.config_of(model)
    backbone = {**config["backbone"], "num_layers": shape.layers, "num_heads": shape.heads,
                "intermediate_dim": shape.ffn, HEAD_DIM: head_dim(model.backbone)}
    return {**config, "backbone": backbone}


def apply_plan(model, plan: Plan):
    """A new classifier holding the structures ``plan`` keeps, its weights sliced from ``model``."""
    pruned = bert_model.build(pruned_config(model, plan.shape))
    src, dst = model.backbone, pruned.backbone
    names = EMBEDDING_LAYERS + ((bert_model.PROJECTION,) if bert_model.embedding_projection(src) is not None else ())
    for name in names + ("pooled_dense",):
        dst.get_layer(name).set_weights(src.get_layer(name).get_weights())
    pruned.output_dense.set_weights(model.output_dense.get_weights())
    for j, i in enumerate(plan.layers):
        _copy_layer(src.transformer_layers[i], dst.transformer_layers[j], list(plan.heads[j]), list(plan.neurons[j]))
    return pruned


def _copy_layer(src, dst, heads: list[int], neurons: list[int]) -> None:
    s_att, s_att_norm, s_inter, s_out, s_out_norm = _sublayers(src)
    d_att, d_att_norm, d_inter, d_out, d_out_norm = _sublayers(dst)
    for name in ("query_dense", "key_dense", "value_dense"):  # kernel [hidden, heads, head_dim], bias [heads, head_dim]
        s, d = getattr(s_att, name), getattr(d_att, name)
        d.kernel.assign(s.kernel.numpy()[:, heads])
        d.bias.assign(s.bias.numpy()[heads])
    d_att.output_dense.kernel.assign(s_att.output_dense.kernel.numpy()[heads])  # [heads, head_dim, hidden]
    d_att.output_dense.bias.assign(s_att.output_dense.bias.numpy())
    d_inter.kernel.assign(s_inter.kernel.numpy()[:, neurons])
    d_inter.bias.assign(s_inter.bias.numpy()[neurons])
    d_out.kernel.assign(s_out.kernel.numpy()[neurons])
    d_out.bias.assign(s_out.bias.numpy())
    for s, d in ((s_att_norm, d_att_norm), (s_out_norm, d_out_norm)):
        d.set_weights(s.get_weights())


class _KeepOnly:
    """A Keras constraint: zero outside the kept slices of one axis (applied after every optimizer step)."""

    def __init__(self, shape: tuple[int, ...], axis: int, kept: list[int]):
        mask = np.zeros(shape[axis], np.float32)
        mask[kept] = 1.0
        self.mask = mask.reshape([-1 if a == axis else 1 for a in range(len(shape))])

    def __call__(self, w):
        return w * self.mask


def masked_model(model, plan: Plan):
    """``plan.layers`` of ``model`` at full width, with everything outside ``plan`` zeroed and held at zero."""
    b = model.backbone
    heads, ffn = int(b.num_heads), int(b.intermediate_dim)
    out = apply_plan(model, Plan(plan.layers, tuple(tuple(range(heads)) for _ in plan.layers),
                                 tuple(tuple(range(ffn)) for _ in plan.layers)))
    for layer, kept_heads, kept_neurons in zip(out.backbone.transformer_layers, plan.heads, plan.neurons):
        attention, _, intermediate, output, _ = _sublayers(layer)
        masks = [(getattr(attention, n).kernel, 1, kept_heads) for n in ("query_dense", "key_dense", "value_dense")]
        masks += [(getattr(attention, n).bias, 0, kept_heads) for n in ("query_dense", "key_dense", "value_dense")]
        masks += [(attention.output_dense.kernel, 0, kept_heads), (intermediate.kernel, 1, kept_neurons),
                  (intermediate.bias, 0, kept_neurons), (output.kernel, 0, kept_neurons)]
        for variable, axis, kept in masks:
            constraint = _KeepOnly(tuple(variable.shape), axis, list(kept))
            variable.assign(constraint(variable.numpy()))
            variable.constraint = constraint
    return out
