"""How the converters export the BiLSTM family (see :class:`edgekit.converters.exporters.Exporter`)."""

from __future__ import annotations

from ...converters.exporters import Exporter


def fixed_length_model(loaded, length: int):
    """The same BiLSTM at a fixed length with ``LSTM(unroll=True)`` (no WHILE loop; converts in every mode)."""
    from .model import build

    fixed = build(loaded.meta["config"], sequence_length=int(length))
    fixed.set_weights(loaded.model.get_weights())
    return fixed


EXPORTER = Exporter(
    family="bilstm",
    model_for_length=fixed_length_model,
    weights_shared_across_buckets=False,  # separate graphs; the converter may still de-duplicate the buffers
    fill_calibration=True,  # every unrolled step of every bucket gets a real range
    notes={"weights_shared_across_buckets": "each bucket is its own unrolled graph with its own copy of the weights"},
)
