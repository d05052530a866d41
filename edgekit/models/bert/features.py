"""The BERT family's feature forward for distillation losses (see :mod:`edgekit.distill.features`)."""

from __future__ import annotations

from typing import Any, Callable



def feature_forward(model, wanted: set[str], teacher_width: int | None = None) -> Callable[[dict, bool], dict]:
    """``logits``; ``embeddings`` (after the embedding layer norm), ``hidden`` (every transformer layer's output)
    and ``sentence`` (the pooled output the head reads) when asked. Shares the model's variables."""
    import keras

    b = model.backbone
    outputs: dict[str, Any] = {"pooled": b.output["pooled_output"]}
    if "embeddings" in wanted:
        outputs["embeddings"] = b.get_layer("embeddings_layer_norm").output
    if "hidden" in wanted:
        outputs.update({f"hidden_{i}": b.get_layer(f"transformer_layer_{i}").output for i in range(b.num_layers)})
    features = keras.Model(b.input, outputs, name="bert_features")
    n = b.num_layers

    def forward(inputs: dict, training: bool = False) -> dict[str, Any]:
        out = features(inputs, training=training)
        result = {"logits": model.output_dense(model.output_dropout(out["pooled"], training=training))}
        if "sentence" in wanted:
            result["sentence"] = out["pooled"]
        if "embeddings" in wanted:
            result["embeddings"] = out["embeddings"]
        if "hidden" in wanted:
            result["hidden"] = [out[f"hidden_{i}"] for i in range(n)]
        return result

    return forward
