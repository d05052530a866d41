"""Every student family converts with the converters (real TFLite conversion, LiteRT parity gate)."""

from __future__ import annotations

import pytest

STUDENTS = {
    # the BiLSTM in full int8: the mode docs/toolchain.md §3.6 says needs the unrolled fixed-length twin
    "bilstm:embedding_dim=16,lstm_units=8": ["int8"],
    "bert:layers=1,strategy=skip": ["dynamic_int8"],
}


@pytest.mark.parametrize("spec", list(STUDENTS))
def test_distilled_student_converts(spec, tiny_teacher_dir, default_splits, tmp_path):
    from edgekit.converters.convert import ConvertOptions, convert_model_dir
    from edgekit.distill.job import DistillSettings, distill, train_config_for

    family = spec.split(":")[0]
    loss = "hard,kl,hidden_mse" if family == "bert" else "hard,kl"
    # one epoch at a near-constant rate: with the default warm-up + decay, one epoch leaves the tiny student's
    # logits nearly tied, and the parity gate measures argmax flips between near ties rather than conversion
    settings = DistillSettings(student=spec, loss=loss, train=train_config_for(family, epochs=1, schedule="exponential"),
                               cache_dir=str(tmp_path / "cache"))
    student = distill(tiny_teacher_dir, default_splits, tmp_path / "student", settings, progress=False)
    options = ConvertOptions(modes=STUDENTS[spec], buckets=[16, 32], calibration_samples=40, check_limit=40,
                             metadata=False, fallback="none",
                             thresholds={m: {"min_argmax_agreement": 0.9, "max_macro_f1_drop": 0.05}  # 40 check sentences: one flip moves F1 ~2 pt
                                         for m in STUDENTS[spec]})
    manifest = convert_model_dir(student.model_dir, tmp_path / "bundle", default_splits, options, progress=False)
    assert manifest["model"]["family"] == family and manifest["model"]["role"] == "student"
    for mode in STUDENTS[spec]:
        entry = manifest["modes"][mode]
        assert (tmp_path / "bundle" / entry["file"]).is_file()
        assert entry["parity"]["argmax_agreement"] >= 0.9, entry["parity"]
