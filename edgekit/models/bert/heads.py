"""Attention heads narrower than ``hidden_dim / num_heads``: what a head-pruned BERT needs.

keras-hub's ``TransformerEncoder`` sizes each head as ``hidden_dim // num_heads``; ``BertBackbone`` and
``ElectraBackbone`` take no per-head width. Removing heads must keep the width of the heads that stay
(a 12-head, 384-wide MiniLM keeps 32 dimensions per head however many heads remain), so a pruned model's
config carries ``head_dim`` and its backbone is built with :class:`HeadDimEncoder`: keras-hub's layer
whose attention has ``num_heads`` heads of ``head_dim`` (query/key/value kernels ``[hidden, heads,
head_dim]``, output kernel ``[heads, head_dim, hidden]``; Keras' ``MultiHeadAttention`` projects back to
the query's width whatever ``heads × head_dim`` is). Same layer names and weight paths as keras-hub's, so
features, students, exporters and their op-name patterns work unchanged (docs/pruning.md).
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any, Callable, Iterator

HEAD_DIM = "head_dim"  # optional backbone config key: the per-head width when it is not hidden_dim // num_heads


@functools.cache
def encoder_class() -> type:
    """keras-hub's TransformerEncoder with an explicit per-head width (defined on first use: imports Keras)."""
    import keras
    from keras_hub.layers import TransformerEncoder
    from keras_hub.src.utils.keras_utils import clone_initializer

    class HeadDimEncoder(TransformerEncoder):
        def __init__(self, head_dim: int, **kwargs):
            super().__init__(**kwargs)
            self.head_dim = int(head_dim)

        def build(self, inputs_shape):
            super().build(inputs_shape)  # keras-hub's sublayers; its attention has hidden_dim // num_heads per head
            self._tracker.untrack(self._self_attention_layer)  # noqa: SLF001  (replaced before the layer locks)
            self._self_attention_layer = keras.layers.MultiHeadAttention(
                num_heads=self.num_heads, key_dim=self.head_dim, dropout=self.dropout,
                kernel_initializer=clone_initializer(self.kernel_initializer),
                bias_initializer=clone_initializer(self.bias_initializer),
                dtype=self.dtype_policy, name="self_attention_layer")
            self._self_attention_layer.build(query_shape=inputs_shape, value_shape=inputs_shape)

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "head_dim": self.head_dim}

    return HeadDimEncoder


@contextlib.contextmanager
def _encoders_with_head_dim(head_dim: int) -> Iterator[None]:
    """While a backbone is built, its transformer layers are :class:`HeadDimEncoder` of ``head_dim``: the
    backbones construct ``TransformerEncoder`` by the name their module imported, and take no option for it."""
    from keras_hub.src.models.bert import bert_backbone
    from keras_hub.src.models.electra import electra_backbone

    modules = (bert_backbone, electra_backbone)
    saved = [m.TransformerEncoder for m in modules]
    for m in modules:
        m.TransformerEncoder = functools.partial(encoder_class(), head_dim=head_dim)
    try:
        yield
    finally:
        for m, cls in zip(modules, saved):
            m.TransformerEncoder = cls


def build_backbone(make: Callable[..., Any], backbone: dict[str, Any]):
    """``make(**backbone)`` (a keras-hub backbone class), with heads of ``backbone["head_dim"]`` when the key is
    there and differs from ``hidden_dim // num_heads``."""
    backbone = dict(backbone)
    width = backbone.pop(HEAD_DIM, None)
    if width is None or int(width) == int(backbone["hidden_dim"]) // int(backbone["num_heads"]):
        return make(**backbone)
    if int(width) < 1:
        from ...errors import ModelLoadError

        raise ModelLoadError(f"head_dim must be >= 1, got {width}")
    with _encoders_with_head_dim(int(width)):
        return make(**backbone)


def head_dim(backbone) -> int:
    """The width of each attention head of a built backbone."""
    return int(backbone.transformer_layers[0]._self_attention_layer.key_dim)  # noqa: SLF001


def head_dim_config(backbone) -> dict[str, int]:
    """``{"head_dim": d}`` for a backbone whose heads are not ``hidden_dim // num_heads`` wide, else ``{}``."""
    d = head_dim(backbone)
    return {} if d == int(backbone.hidden_dim) // int(backbone.num_heads) else {HEAD_DIM: d}
