"""int8 by recipe (converters/recipes.py): ai-edge-quantizer rules applied to the fp32 file give one int8
file whose bucket signatures share one copy of the weights and one set of activation ranges; the manifest
records the rules and ``--recipe BUNDLE`` reproduces the file; bad recipes are one line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from edgekit.cli import cli

pytest.importorskip("ai_edge_quantizer")

BUCKETS = [16, 32]


def _convert(model_dir, out, splits, **kw):
    from edgekit.converters.convert import ConvertOptions, convert_model_dir

    opts = ConvertOptions(**{"calibration_samples": 60, "metadata": False, "modes": ["fp32", "int8"],
                             "buckets": BUCKETS, **kw})
    return convert_model_dir(model_dir, out, splits, opts, progress=False)


@pytest.fixture(scope="module")
def recipe_bundle(tmp_path_factory, tiny_teacher_dir, default_splits):
    out = tmp_path_factory.mktemp("recipe") / "bundle"
    return out, _convert(tiny_teacher_dir, out, default_splits, recipe="int8_fc")


def test_the_weights_are_stored_once_for_every_bucket(recipe_bundle):
    from edgekit.converters.tflite_file import read_tflite

    out, manifest = recipe_bundle
    entry = manifest["modes"]["int8"]
    assert entry["weights_shared_across_buckets"] is True and entry["weights"]["shared_fraction"] > 0.9
    assert entry["parity"]["passed"]
    info = read_tflite(out / entry["file"])
    # the recipe's fully-connected layers take int8 activations, except the ones its dynamic rules name
    import re

    dynamic = [re.compile(r["regex"]) for r in entry["quantization"]["recipe"]["rules"]
               if r["operation"] == "FULLY_CONNECTED" and "activation_tensor_config" not in r.get("op_config", {"x": 1})]
    assert dynamic
    for sg in info.subgraphs:
        for op in sg.ops:
            if op.opcode == "FULLY_CONNECTED":
                name = sg.tensors[op.outputs[0]].name
                float_input = sg.tensors[op.inputs[0]].dtype == "float32"
                assert float_input == any(rx.fullmatch(name) for rx in dynamic), name
    assert entry["quantization"]["recipe"]["name"] == "int8_fc"


STATIC_FC = [{"regex": ".*", "operation": "*", "algorithm_key": "no_quantize"},
             {"regex": ".*", "operation": "FULLY_CONNECTED", "algorithm_key": "min_max_uniform_quantize",
              "op_config": {"activation_tensor_config": {"num_bits": 8, "symmetric": False, "granularity": "TENSORWISE",
                                                         "dtype": "INT"},
                            "weight_tensor_config": {"num_bits": 8, "symmetric": True, "granularity": "CHANNELWISE",
                                                     "dtype": "INT"},
                            "compute_precision": "INTEGER", "explicit_dequantize": False}}]


def _scales_by_layer(model: bytes) -> dict[int, set]:
    """Per fully-connected layer (its weight buffer, shared by the signatures): the distinct (input scale,
    bias scale) pairs its ops in the bucket signatures were quantized with."""
    from edgekit.converters.tflite_file import read_tflite

    out: dict[int, set] = {}
    for sg in read_tflite(model).subgraphs:
        for op in sg.ops:
            if op.opcode == "FULLY_CONNECTED" and len(op.inputs) > 2 and op.inputs[2] >= 0:
                x, w, b = (sg.tensors[i] for i in op.inputs[:3])
                out.setdefault(w.buffer, set()).add((tuple(x.scales), tuple(b.scales)))
    return out


def test_shared_layers_get_one_activation_range_for_every_bucket(recipe_bundle, default_splits, monkeypatch):
    """A static int8 layer's int32 bias (scale = input scale × weight scale) is one buffer shared by the
    bucket signatures, so every signature must quantize the layer's input with the same scale: the
    calibrated ranges are widened over the signatures. Without that, the signatures disagree and each
    overwrites the shared bias with its own scale (wrong for the others)."""
    from edgekit.converters import recipes
    from edgekit.converters.calibration import calibration_samples
    from edgekit.runtime.bundle import Bundle

    out, _ = recipe_bundle
    bundle = Bundle.open(out)
    fp32 = bundle.model_file("fp32").read_bytes()
    samples, _ = calibration_samples(default_splits.train.texts, bundle.tokenizer, bundle.buckets, 60)

    static = recipes.Recipe("static_fc", STATIC_FC)
    layers = _scales_by_layer(recipes.quantize_with_recipe(fp32, static, samples)[0])
    assert layers and all(len(pairs) == 1 for pairs in layers.values())

    monkeypatch.setattr(recipes, "shared_ranges", lambda model, qsvs: qsvs)
    apart = _scales_by_layer(recipes.quantize_with_recipe(fp32, static, samples)[0])
    assert any(len(pairs) > 1 for pairs in apart.values())


def _mean_errors(fp32: bytes, quantized: bytes, samples) -> dict[int, float]:
    """Per static int8 layer (bias buffer): mean over channels of |mean over tokens of (int8 output − float)|."""
    import numpy as np

    from edgekit.converters.bias_correction import _static_int8_fcs
    from edgekit.converters.ranges import preserved_runs
    from edgekit.converters.tflite_file import read_tflite

    q, f = read_tflite(quantized), read_tflite(fp32)
    layers, _ = _static_int8_fcs(q)
    f_index = {sg.index: {t.name: t.index for t in sg.tensors} for sg in f.subgraphs}
    ref = [{name: read(f_index[sg][name]) for outs in layers.values() for _, _, name in outs if name in f_index[sg]}
           for sg, read in preserved_runs(fp32, samples)]
    sums: dict[int, list] = {}
    for (sg, read), r in zip(preserved_runs(quantized, samples), ref):
        for buffer, outs in layers.items():
            for s_, index, name in outs:
                if s_ == sg:
                    t = q.subgraphs[sg].tensors[index]
                    y = (read(index).astype(np.float32) - t.zero_points[0]) * t.scales[0]
                    sums.setdefault(buffer, []).append((y - r[name]).reshape(-1, y.shape[-1]))
    return {b: float(np.abs(np.concatenate(e).mean(0)).mean()) for b, e in sums.items()}


def test_bias_correction_takes_the_mean_error_out_of_each_static_layer(recipe_bundle, default_splits):
    """"bias_correction": the int32 biases of the static int8 layers absorb each layer's mean output error on
    the calibration sentences; nothing else in the file changes, and every layer's mean error shrinks."""
    import numpy as np

    from edgekit.converters import recipes
    from edgekit.converters.calibration import calibration_samples
    from edgekit.converters.task_files import inline_buffers
    from edgekit.converters.tflite_file import read_tflite
    from edgekit.runtime.bundle import Bundle

    out, _ = recipe_bundle
    bundle = Bundle.open(out)
    fp32 = bundle.model_file("fp32").read_bytes()
    samples, _ = calibration_samples(default_splits.train.texts, bundle.tokenizer, bundle.buckets, 60)
    plain, _ = recipes.quantize_with_recipe(fp32, recipes.Recipe("static_fc", STATIC_FC, "minmax"), samples)
    fixed, facts = recipes.quantize_with_recipe(fp32, recipes.Recipe("static_fc", STATIC_FC, "minmax",
                                                                     bias_correction=True), samples)
    assert facts["bias_correction"]["layers"] > 0
    a, b = read_tflite(inline_buffers(plain)), read_tflite(fixed)
    changed = {i for i, (x, y) in enumerate(zip(a.buffer_sizes, b.buffer_sizes)) if x != y}
    assert not changed
    int32 = {t.buffer for sg in a.subgraphs for t in sg.tensors if t.dtype == "int32" and t.is_constant}
    from ai_edge_litert import schema_py_generated as schema

    ma, mb = (schema.ModelT.InitFromPackedBuf(m, 0) for m in (inline_buffers(plain), fixed))
    differ = {i for i, (x, y) in enumerate(zip(ma.buffers, mb.buffers))
              if not np.array_equal(np.asarray(x.data if x.data is not None else []),
                                    np.asarray(y.data if y.data is not None else []))}
    assert differ and differ <= int32
    before, after = _mean_errors(fp32, plain, samples), _mean_errors(fp32, fixed, samples)
    assert set(before) == set(after)
    assert all(after[k] <= before[k] for k in before) and sum(after.values()) < 0.5 * sum(before.values())


def test_the_recorded_recipe_reproduces_the_file(recipe_bundle, tiny_teacher_dir, default_splits, tmp_path):
    out, manifest = recipe_bundle
    again = _convert(tiny_teacher_dir, tmp_path / "again", default_splits, recipe=str(out))
    assert again["modes"]["int8"]["quantization"]["recipe"]["rules"] == manifest["modes"]["int8"]["quantization"]["recipe"]["rules"]
    # the TF converter's fp32 bytes differ from run to run (not the weights): compare what the files compute
    figures = ("argmax_agreement", "max_abs_logit_error", "mean_abs_logit_error")
    assert ({k: again["modes"]["int8"]["parity"][k] for k in figures}
            == {k: manifest["modes"]["int8"]["parity"][k] for k in figures})
    assert again["modes"]["int8"]["bytes"] == manifest["modes"]["int8"]["bytes"]


@pytest.mark.parametrize("content, fragment", [
    ("[]", "a recipe is a non-empty JSON list of rules"),
    ('[{"regex": ".*"}]', "rule 0 needs regex, operation and algorithm_key"),
    ('[{"regex": ".*", "operation": "*", "algorithm_key": "no_quantize", "colour": 1}]', "unknown keys ['colour']"),
    ('[{"regex": "(", "operation": "*", "algorithm_key": "no_quantize"}]', "rule 0 regex: bad regular expression"),
    ('[{"regex": ".*", "operation": "CONVOLVE", "algorithm_key": "no_quantize"}]', "unknown operation 'CONVOLVE'"),
    ('{"rules": [{"regex": ".*", "operation": "*", "algorithm_key": "no_quantize"}], "ranges": "median"}',
     "unknown range method 'median'"),
    ('{"rules": [{"regex": ".*", "operation": "*", "algorithm_key": "no_quantize"}], "ranges": "percentile:120"}',
     "percentile needs a number in (50, 100]"),
    ('{"rules": [{"regex": ".*", "operation": "*", "algorithm_key": "no_quantize"}], "smooth": {"alpha": 1.5}}',
     "smooth alpha must be a number between 0 and 1"),
    ('{"rules": [{"regex": ".*", "operation": "*", "algorithm_key": "no_quantize"}], "smooth": {"alpha": 0.5, '
     '"layers": "(("}}', "smooth layers: bad regular expression"),
    ('{"rules": [{"regex": ".*", "operation": "*", "algorithm_key": "no_quantize"}], "per_row_tables": "yes"}',
     "per_row_tables must be true or false"),
    ('{"rules": [], "colour": 1}', "unknown recipe keys ['colour']"),
    ('{"ranges": "minmax"}', 'an object with "rules"'),
    ("{not json", "not JSON"),
    (None, "not a recipe name"),
])
def test_a_bad_recipe_is_one_line_before_any_work(content, fragment, tmp_path, tiny_teacher_dir):
    recipe = tmp_path / "recipe.json"
    if content is not None:
        recipe.write_text(content)
    result = CliRunner().invoke(cli, ["convert", str(tiny_teacher_dir), "--modes", "int8", "--recipe",
                                      str(recipe), "--out", str(tmp_path / "b")])
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and fragment in err, err
    assert not (tmp_path / "b").exists()


def test_every_named_recipe_reads_and_is_described():
    from edgekit.converters.recipes import RECIPE_NOTES, load_recipe, recipe_names

    assert set(recipe_names()) == set(RECIPE_NOTES)
    for name in recipe_names():
        assert load_recipe(name).name == name


def test_the_family_recipe_is_the_bert_recipe_and_none_for_the_bilstm(tiny_teacher_dir, default_splits, tokenizer,
                                                                      tmp_path):
    """``--recipe family`` (the default; what edgekit run uses): BERT models get int8_dyn_rows; the BiLSTM keeps the TF
    converter's int8 (ai-edge-quantizer 0.10's own calibration fails on its unrolled graph, and its file,
    calibrated by edgekit, fails to load under XNNPACK: "failed to create XNNPACK runtime")."""
    from edgekit.models.modeldir import save_model_dir
    from edgekit.models.registry import get_family

    bert = _convert(tiny_teacher_dir, tmp_path / "bert", default_splits, modes=["int8"], recipe="family",
                    buckets=[16])
    assert bert["modes"]["int8"]["quantization"]["recipe"]["name"] == "int8_dyn_rows"

    family = get_family("bilstm")
    model = family.build(family.tiny_config(len(tokenizer.vocab), 3))
    bilstm_dir = save_model_dir(tmp_path / "bilstm-model", model=model, family="bilstm",
                                config=family.config_of(model), labels=list(default_splits.train.labels),
                                vocab=tokenizer.vocab, tokenizer_settings=tokenizer.settings, max_length=32)
    bilstm = _convert(bilstm_dir, tmp_path / "bilstm", default_splits, modes=["int8"], recipe="family", buckets=[16],
                      thresholds={"int8": {"min_argmax_agreement": 0.0, "max_macro_f1_drop": 1.0}})
    assert "recipe" not in bilstm["modes"]["int8"]["quantization"]
