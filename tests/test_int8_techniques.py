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
