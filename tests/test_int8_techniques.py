"""``python -m edgekit.benchmarks.int8_techniques``: variants over calibration draws, scored against the fp32 file on
validation, test and (``--unlabelled``) a pool of unseen sentences without labels."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("ai_edge_quantizer")


def test_variants_are_scored_on_every_part_and_the_pool_leaves_out_the_split(tmp_path, tiny_teacher_dir,
                                                                                default_splits, capsys):
    from edgekit.benchmarks.int8_techniques import main
    from edgekit.converters.convert import ConvertOptions, convert_model_dir

    split = default_splits.save(tmp_path / "split")
    bundle = tmp_path / "bundle"
    convert_model_dir(tiny_teacher_dir, bundle, default_splits,
                      ConvertOptions(modes=["fp32"], buckets=[16, 32], metadata=False), progress=False)
    pool = tmp_path / "pool.txt"
    fresh = ["Quarterly revenue rose sharply on strong demand .", "The company cut its dividend ."]
    pool.write_text("\n".join([*fresh, default_splits.test.texts[0], fresh[0]]) + "\n", encoding="utf-8")
    out = tmp_path / "r.json"
    variants = "int8_small + bias correction,int8_small + bias correction + per-row table"
    assert main([str(bundle), "--split", str(split), "--seeds", "0", "--samples", "20", "--variants", variants,
                 "--unlabelled", str(pool), "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["unlabelled"]["kept"] == 2  # the test sentence and the repeat are dropped
    assert result["variants"]["int8_small + bias correction + per-row table"]["per_row_tables"] is True
    for name in variants.split(","):
        row = result["runs"][name][0]
        for part in ("validation", "test", "unlabelled"):
            assert 0.0 <= row[f"{part}_agreement"] <= 1.0 and row[f"{part}_kl"] >= 0.0
        assert "unlabelled_macro_f1" not in row and "test_macro_f1" in row
    assert result["reference"]["fp32"]["unlabelled_agreement"] == 1.0
    assert "unlabelled agreement" in capsys.readouterr().out


def test_an_unknown_variant_is_one_line(tmp_path, capsys):
    from edgekit.benchmarks.int8_techniques import main

    assert main(["b", "--split", "s", "--variants", "nope", "--out", str(tmp_path / "o.json")]) == 2
    assert "unknown variants ['nope']" in capsys.readouterr().err



# one tensor name per role of a keras-hub BERT file (the names its FULLY_CONNECTED and GATHER outputs carry)
_LAYER = "bert_text_classifier_1/bert_backbone_1/transformer_layer_0_1/"
ROLE_NAMES = [(f"{_LAYER}self_attention_layer_1/{role}_1/MatMul", "FULLY_CONNECTED")
              for role in ("query", "key", "value", "attention_output")] + [
    (f"{_LAYER}feedforward_intermediate_dense_1/Tensordot", "FULLY_CONNECTED"),
    (f"{_LAYER}feedforward_output_dense_1/Tensordot", "FULLY_CONNECTED"),
    ("bert_text_classifier_1/bert_backbone_1/pooled_dense_1/MatMul", "FULLY_CONNECTED"),
    ("StatefulPartitionedCall_1:0", "FULLY_CONNECTED"),
    ("bert_text_classifier_1/bert_backbone_1/token_embedding_1/GatherV2", "GATHER"),
    (f"{_LAYER}self_attention_layer_norm_1/add", "ADD")]


def _scheme(rules: list[dict], name: str, operation: str) -> dict:
    """The rule that decides ``name``'s op: the last one that matches (later rules override earlier ones)."""
    import re

    matching = [r for r in rules if r["operation"] in ("*", operation) and re.fullmatch(r["regex"], name)]
    return {k: v for k, v in matching[-1].items() if k != "regex"}


@pytest.mark.parametrize("variant, recipe", [
    ("int8_small + bias correction + per-row table", "int8_rows"),
    ("int8_small + bias correction + per-row table + QKV dynamic", "int8_dyn_rows"),
])
def test_the_named_recipes_are_the_measured_variants(variant, recipe):
    """The numbers in RECIPE_NOTES and results/ come from the benchmark's variants: each named recipe quantizes every
    role of a BERT file as its variant does, with the same ranges, smoothing and passes."""
    from edgekit.benchmarks.int8_techniques import _variant
    from edgekit.converters.recipes import load_recipe

    measured, named = _variant(variant).to_dict(), load_recipe(recipe).to_dict()
    for name, operation in ROLE_NAMES:
        assert _scheme(measured["rules"], name, operation) == _scheme(named["rules"], name, operation), name
    for d in (measured, named):
        d.pop("name"), d.pop("rules")
    assert measured == named


def test_an_attribution_variant_leaves_its_group_float_and_the_rest_as_int8_rows():
    from edgekit.benchmarks.int8_techniques import _variant
    from edgekit.converters.recipes import load_recipe

    rows, variant = load_recipe("int8_rows").rules, _variant("int8_rows with query/key/value float").rules
    for name, operation in ROLE_NAMES:
        expected = ({"operation": "FULLY_CONNECTED", "algorithm_key": "no_quantize"}
                    if any(f"/{role}_1/" in name for role in ("query", "key", "value")) else _scheme(rows, name, operation))
        assert _scheme(variant, name, operation) == expected, name


def test_every_variant_can_be_named_on_the_command_line():
    """``--variants`` is comma-separated: a name with a comma could never be asked for."""
    from edgekit.benchmarks.int8_techniques import VARIANTS

    assert not [name for name in VARIANTS if "," in name]
