"""``python -m edgekit.benchmarks.table_rank``: macro-F1 with the token table cut to rank r (no recovery)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgekit.benchmarks.table_rank import main, token_table


def test_full_rank_keeps_the_model_and_lower_ranks_are_scored(tmp_path, tiny_teacher_dir, default_splits, capsys):
    from edgekit.models.modeldir import load_model_dir
    from edgekit.train.encode import encode_texts
    from edgekit.train.loop import evaluate

    split = default_splits.save(tmp_path / "split")
    loaded = load_model_dir(tiny_teacher_dir)
    table = token_table(loaded)
    vocab, width = (int(d) for d in table.shape)
    test = encode_texts(loaded.tokenizer, default_splits.test.texts, loaded.max_length)
    f1 = evaluate(loaded.model, test, np.asarray(default_splits.test.label_ids, np.int32), loaded.labels)["macro_f1"]
    out = tmp_path / "rank.json"
    assert main([str(tiny_teacher_dir), "--split", str(split), "--ranks", f"{width},1", "--out", str(out)]) == 0
    full, one = json.loads(out.read_text())["rows"]
    assert full["energy"] == 1.0 and full["test_macro_f1"] == pytest.approx(round(f1, 4), abs=1e-4)
    assert full["int8_table_bytes"] == width * (vocab + width) and full["full_int8_table_bytes"] == vocab * width
    assert 0.0 < one["energy"] < 1.0 and one["int8_table_bytes"] == vocab + width
    assert "| 1 |" in capsys.readouterr().out


def test_bad_ranks_are_one_line(tmp_path):
    for ranks, message in (("a,b", "comma-separated integers"), ("0", ">= 1")):
        with pytest.raises(SystemExit, match=message):
            main(["m", "--split", "s", "--ranks", ranks, "--out", str(tmp_path / "o.json")])
