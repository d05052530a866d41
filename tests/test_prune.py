"""Structured pruning (edgekit prune): targets and the budget rule, importance against finite differences of the
real Keras model, the sliced model against the source with the removed structures gated off, nothing removed →
identical logits, conversion of a pruned model with fixed signatures and parity, recovery, and one-line errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from edgekit.errors import EdgekitError
from edgekit.prune.plan import Plan, Shape, select_global, select_plan, top_indices
from edgekit.prune.targets import Targets, parse_budget, resolve_shape

PRUNED = {"layers": 1, "heads": 1, "ffn": 48}  # of the tiny teacher: 2 layers, 2 heads of 32, FFN 128, hidden 64


# ------------------------------------------------------------------------------------------ targets (no TF)
def _params(shape: Shape) -> int:  # a stand-in model: 1000 fixed + per layer 10 per head + 1 per neuron
    return 1000 + shape.layers * (10 * shape.heads + shape.ffn)


FULL = Shape(layers=6, heads=12, ffn=100)
TOTAL = _params(FULL)  # 2320


@pytest.mark.parametrize("text,expected", [("0.5", 1160), ("50%", 1160), ("1", TOTAL), ("12.5%", 290),
                                           ("4k", 4000), ("1.5M", 1_500_000), ("5000", 5000)])
def test_budget_forms(text, expected):
    assert parse_budget(text, TOTAL) == expected


@pytest.mark.parametrize("text,match", [("12X", "is not a budget"), ("1.5", "is not a budget"),
                                        ("abc", "is not a budget"), ("0", r"must be in \(0, 1\]"),
                                        ("150%", r"must be in \(0, 1\]"), ("-0.2", r"must be in \(0, 1\]")])
def test_bad_budget_forms_are_one_line_errors(text, match):
    with pytest.raises(EdgekitError, match=match):
        parse_budget(text, TOTAL)


def test_explicit_targets_are_kept_and_the_rest_stays_whole():
    shape, budget = resolve_shape(Targets(heads=4), FULL, TOTAL, _params)
    assert shape == Shape(6, 4, 100) and budget is None


def _shapes_on_a_grid(targets: Targets) -> list[Shape]:
    """The shapes one keep share s gives the free dimensions (max(1, round(s × size))), s on a fine grid."""
    return [Shape(*(getattr(targets, d) or max(1, math.floor(s * getattr(FULL, d) + 0.5))
                    for d in ("layers", "heads", "ffn"))) for s in np.linspace(0, 1, 20_001)]


@pytest.mark.parametrize("targets", [Targets(params="0.5"), Targets(layers=6, params="0.5"),
                                     Targets(heads=3, params="2000"), Targets(params="0.9"),
                                     Targets(params="1011")])  # 1011: only 1 layer, 1 head, 1 neuron fits
def test_the_budget_rule_takes_the_largest_common_keep_share_that_fits(targets):
    shape, budget = resolve_shape(targets, FULL, TOTAL, _params)
    assert budget == parse_budget(targets.params, TOTAL) and _params(shape) <= budget
    family = _shapes_on_a_grid(targets)
    assert shape in family  # one share for every free dimension; the given ones as given
    assert _params(shape) == max(_params(s) for s in family if _params(s) <= budget)  # the largest that fits


@pytest.mark.parametrize("targets,match", [
    (Targets(heads=13), "--heads 13: the model has 12 attention heads per layer; keep 1..12"),
    (Targets(layers=0), "--layers 0: the model has 6 layers; keep 1..6"),
    (Targets(ffn=101), "--ffn 101: the model has 100 FFN neurons per layer; keep 1..100"),
    (Targets(), "nothing to prune"),
    (Targets(layers=1, heads=1, ffn=1, params="0.5"), "--params has nothing to choose"),
    (Targets(params="100"), "below the smallest model these targets allow: 1 layer"),
])
def test_impossible_targets_are_one_line_errors(targets, match):
    with pytest.raises(EdgekitError, match=match):
        resolve_shape(targets, FULL, TOTAL, _params)


def test_each_layer_keeps_its_own_most_important_heads_and_neurons():
    heads = np.array([[0.1, 0.9, 0.5], [0.7, 0.2, 0.7]])
    neurons = np.array([[1.0, 3.0, 2.0, 0.0], [0.0, 0.1, 0.3, 0.2]])
    plan = select_plan(Shape(2, 2, 2), (0, 1), heads, neurons)
    assert plan == Plan((0, 1), ((1, 2), (0, 2)), ((1, 2), (2, 3)))  # ties: the lower index
    assert top_indices(np.array([0.0, 0.0, 1.0]), 2) == (0, 2)


def test_a_global_ranking_keeps_the_best_across_layers_above_a_floor():
    heads = np.array([[0.9, 0.8, 0.7], [0.1, 0.2, 0.0], [0.5, 0.6, 0.95]])  # layer 1 is weak
    neurons = np.array([[4.0, 3.0], [0.0, 0.0], [1.0, 2.0]])
    plan = select_global((0, 2), heads, neurons, total_heads=4, total_neurons=3)
    assert plan == Plan((0, 2), ((0, 1, 2), (2,)), ((0, 1), (1,)))  # each layer's best, then 0.8 and 0.7 over 0.6
    plan = select_global((0, 1, 2), heads, neurons, total_heads=5, total_neurons=4)
    # the floor gives layer 1 its best head (0.2) and neuron (the lower index of a tie); the rest by score
    assert plan.heads == ((0, 1, 2), (1,), (2,)) and plan.neurons == ((0, 1), (0,), (1,))
    assert not plan.uniform and plan.counts() == {"heads": [3, 1, 1], "neurons": [2, 1, 1]}
    with pytest.raises(ValueError):
        plan.shape
    normalised = select_global((0, 1), heads, neurons, total_heads=3, total_neurons=2, normalise=True)
    assert normalised.heads == ((0, 1), (1,))  # by norm: layer 0's 0.8 (0.57) over layer 1's 0.1 (0.45)
    with pytest.raises(ValueError, match="at least 1 in each of 3"):
        select_global((0, 1, 2), heads, neurons, total_heads=2, total_neurons=3)


# --------------------------------------------------------------------------------------- BERT importance
def _random_bert(layers: int, hidden: int = 16, heads: int = 4, ffn: int = 8, scale: float = 20.0, seed: int = 3):
    """An untrained BERT with weights scaled up (a clear loss signal) and a small fixed batch."""
    import keras

    from edgekit.models.bert import model as bert_model
    from edgekit.train.encode import Encoded

    keras.utils.set_random_seed(seed)
    model = bert_model.build(bert_model.sized_config(60, 3, layers=layers, hidden=hidden, heads=heads,
                                                     intermediate=ffn, max_len=16))
    for v in model.weights:
        if v.path.endswith(("kernel", "/embeddings")):  # LayerNorms stay as built (gamma 1, beta 0)
            v.assign(v.numpy() * scale)
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, 60, (5, 7)).astype(np.int32)
    mask = np.ones_like(ids)
    mask[1, 4:] = mask[3, 2:] = 0
    return model, Encoded(ids, mask, np.zeros_like(ids), mask.sum(1)), np.array([0, 1, 2, 1, 0])


def _example_losses(model, data, labels) -> np.ndarray:
    """Each example's cross-entropy, from the Keras model (examples do not interact: one batch)."""
    import keras

    logits = model(data.inputs(slice(None)), training=False)
    return keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True).numpy()


def _finite_difference_importance(model, data, labels, variable, row: int, eps: float = 1e-2) -> float:
    """mean_x |∂L_x/∂g| for a gate g on one head (or neuron): scaling its rows of the output projection by g is the
    same function, so the derivative comes from the real Keras model at g = 1 ± eps."""
    base = variable.numpy()
    losses = []
    for g in (1 + eps, 1 - eps):
        w = base.copy()
        w[row] *= g
        variable.assign(w)
        losses.append(_example_losses(model, data, labels))
    variable.assign(base)
    return float(np.mean(np.abs(losses[0] - losses[1]) / (2 * eps)))


def test_head_and_neuron_importance_are_the_gate_derivatives_of_the_real_model():
    from edgekit.models.bert.prune import PRUNER

    model, data, labels = _random_bert(layers=1)
    layer = model.backbone.transformer_layers[0]
    attention_out = layer._self_attention_layer.output_dense.kernel  # [heads, head_dim, hidden]
    ffn_out = layer._feedforward_output_dense.kernel  # [ffn, hidden]
    # by hand: a head (neuron) whose output projection is zero cannot change the loss: importance exactly 0
    attention_out.assign(np.concatenate([np.zeros_like(attention_out.numpy()[:1]), attention_out.numpy()[1:]]))
    ffn_out.assign(np.concatenate([ffn_out.numpy()[:-1], np.zeros_like(ffn_out.numpy()[-1:])]))
    heads, neurons = PRUNER.importance(model, data, labels, (0,), batch_size=2)
    assert heads.shape == (1, 4) and neurons.shape == (1, 8)
    assert heads[0, 0] == 0.0 and neurons[0, -1] == 0.0
    expected_heads = [_finite_difference_importance(model, data, labels, attention_out, h) for h in range(4)]
    expected_neurons = [_finite_difference_importance(model, data, labels, ffn_out, j) for j in range(8)]
    assert min(heads[0, 1:]) > 1e-3 and min(neurons[0, :-1]) > 1e-3  # a signal, not noise
    np.testing.assert_allclose(heads[0], expected_heads, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(neurons[0], expected_neurons, rtol=1e-3, atol=1e-5)


def test_layer_removal_measures_the_loss_of_the_model_without_each_layer():
    import keras

    from edgekit.models.bert.prune import PRUNER, GatedForward

    model, data, labels = _random_bert(layers=2)
    # layer 0 writes nothing into the residual stream: it is the identity (LayerNorm of a normalised input)
    sub = model.backbone.transformer_layers[0]
    for dense in (sub._self_attention_layer.output_dense, sub._feedforward_output_dense):
        dense.kernel.assign(np.zeros(dense.kernel.shape, np.float32))
        dense.bias.assign(np.zeros(dense.bias.shape, np.float32))
    (step,) = PRUNER.remove_layers(model, data, labels, count=1, batch_size=2)
    full_loss = GatedForward(model).mean_loss(data, labels, (0, 1), batch_size=5)
    assert step["candidates"]["0"] == pytest.approx(full_loss, abs=1e-5)
    # without layer 1: the same as a 1-layer model holding layer 0 alone, computed by Keras
    only_0 = PRUNER.apply(model, Plan((0,), (tuple(range(4)),), (tuple(range(8)),)))
    loss = keras.losses.sparse_categorical_crossentropy(labels, only_0(data.inputs(slice(None)), training=False),
                                                        from_logits=True)
    assert step["candidates"]["1"] == pytest.approx(float(np.mean(loss)), abs=1e-5)
    assert step["removed"] == min((0, 1), key=lambda i: step["candidates"][str(i)])


# ---------------------------------------------------------------------------------------- the sliced model
@pytest.mark.parametrize("projected", [False, True], ids=["bert", "electra-embedding"])
def test_the_pruned_model_computes_the_source_with_removed_structures_gated_off(projected):
    import tensorflow as tf

    from edgekit.models.bert import model as bert_model
    from edgekit.models.bert.prune import PRUNER, GatedForward

    model, data, _ = _random_bert(layers=3, scale=3.0)
    if projected:  # an ELECTRA-style backbone (narrow embedding + projection) prunes the same way
        config = bert_model.config_of(model)
        config["backbone"]["embedding_dim"] = 8
        model = bert_model.build(config)
    inputs = {k: tf.constant(v) for k, v in data.inputs(slice(None)).items()}
    gated = GatedForward(model)
    np.testing.assert_allclose(gated.logits(inputs, (0, 1, 2)).numpy(), model(inputs, training=False).numpy(),
                               atol=1e-5)
    plan = Plan((0, 2), ((1, 3), (0, 2)), (tuple(range(0, 8, 2)), (1, 2, 5, 7)))
    pruned = PRUNER.apply(model, plan)
    heads, ffn = np.zeros((1, 3, 4), np.float32), np.zeros((1, 3, 8), np.float32)
    for j, i in enumerate(plan.layers):
        heads[0, i, list(plan.heads[j])] = 1
        ffn[0, i, list(plan.neurons[j])] = 1
    masked = gated.logits(inputs, plan.layers, tf.constant(heads), tf.constant(ffn)).numpy()
    np.testing.assert_allclose(pruned(inputs, training=False).numpy(), masked, atol=1e-5)
    assert pruned.count_params() == PRUNER.params(model, plan.shape)
    config = bert_model.config_of(pruned)["backbone"]
    assert (config["num_layers"], config["num_heads"], config["intermediate_dim"], config["head_dim"]) == (2, 2, 4, 4)


@pytest.fixture(scope="module")
def pruned_dir(tmp_path_factory, tiny_teacher_dir, default_splits):
    from edgekit.models.modeldir import load_model_dir
    from edgekit.prune.job import PruneSettings, prune

    out = tmp_path_factory.mktemp("pruned") / "tiny-pruned"
    prune(load_model_dir(tiny_teacher_dir), default_splits, out, PruneSettings(Targets(**PRUNED), samples=400),
          progress=False)
    return out


def test_a_pruned_model_directory_has_the_smaller_matrices(pruned_dir, tiny_teacher_dir):
    from edgekit.models.bert.prune import PRUNER
    from edgekit.models.modeldir import load_model_dir

    loaded = load_model_dir(pruned_dir)
    backbone = loaded.meta["config"]["backbone"]
    assert (backbone["num_layers"], backbone["num_heads"], backbone["intermediate_dim"]) == (1, 1, 48)
    assert backbone["head_dim"] == 32 and backbone["hidden_dim"] == 64  # heads keep their width
    layer = loaded.model.backbone.transformer_layers[0]
    attention = layer._self_attention_layer
    assert tuple(attention.query_dense.kernel.shape) == (64, 1, 32)
    assert tuple(attention.output_dense.kernel.shape) == (1, 32, 64)
    assert tuple(layer._feedforward_intermediate_dense.kernel.shape) == (64, 48)
    assert tuple(layer._feedforward_output_dense.kernel.shape) == (48, 64)
    source = load_model_dir(tiny_teacher_dir).model
    assert loaded.model.count_params() == loaded.meta["params"] == PRUNER.params(source, Shape(**PRUNED))
    metrics = json.loads((pruned_dir / "metrics.json").read_text())
    assert metrics["shape"] == PRUNED and metrics["importance"]["sentences"] == 400
    assert len(metrics["importance"]["layer_removal"]) == 1 and len(metrics["plan"]["neurons"][0]) == 48
    assert loaded.meta["role"] == "pruned" and loaded.meta["pruned_from"] == str(tiny_teacher_dir)


def test_export_hf_refuses_a_model_with_narrow_heads_in_one_line(pruned_dir, tmp_path):
    from edgekit.cli import cli

    r = CliRunner().invoke(cli, ["export", "hf", str(pruned_dir), "--out", str(tmp_path / "hf")])
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1, r.output
    assert "pruned attention heads" in r.stderr and not (tmp_path / "hf").exists()


def test_nothing_removed_gives_identical_logits(tmp_path, tiny_teacher_dir, default_splits):
    from edgekit.models.modeldir import load_model_dir
    from edgekit.prune.job import PruneSettings, prune
    from edgekit.train.encode import encode_texts
    from edgekit.train.loop import predict_logits

    source = load_model_dir(tiny_teacher_dir)
    full = source.meta["config"]["backbone"]
    targets = Targets(layers=full["num_layers"], heads=full["num_heads"], ffn=full["intermediate_dim"])
    result = prune(source, default_splits, tmp_path / "same", PruneSettings(targets, samples=64), progress=False)
    kept = load_model_dir(result.model_dir)
    assert "head_dim" not in kept.meta["config"]["backbone"]  # a plain BERT config
    enc = encode_texts(source.tokenizer, default_splits.test.texts, source.max_length)
    np.testing.assert_array_equal(predict_logits(kept.model, enc), predict_logits(source.model, enc))


def test_a_pruned_model_converts_with_fixed_signatures_and_parity(tmp_path, pruned_dir, default_splits):
    from edgekit.converters.convert import ConvertOptions, convert_model_dir
    from edgekit.converters.tflite_file import read_tflite

    out = tmp_path / "bundle"
    manifest = convert_model_dir(pruned_dir, out, default_splits,
                                 ConvertOptions(modes=["fp32", "dynamic_int8"], buckets=[16, 32], metadata=False),
                                 progress=False)
    for mode in ("fp32", "dynamic_int8"):
        entry = manifest["modes"][mode]
        assert entry["parity"]["passed"] and entry["parity"]["examples"] > 0
        info = read_tflite(out / entry["file"])
        assert [s.key for s in info.signatures] == ["seq16", "seq32"]
        for sig in info.signatures:
            ins, outs = info.signature_io(sig)
            L = int(sig.key[3:])
            assert sorted(ins) == ["ids", "mask", "segment_ids"]
            assert all(t.dtype == "int32" and t.shape == t.shape_signature == [1, L] for t in ins.values())
            assert [t.shape_signature for t in outs.values()] == [[1, 3]]
    assert manifest["modes"]["fp32"]["parity"]["max_abs_logit_error"] < 1e-3
    # the file holds the sliced matrices: FFN 48 wide, attention 1 head × 32, nothing of the source's 128
    info = read_tflite(out / manifest["modes"]["fp32"]["file"])
    weights = {tuple(sg.tensors[op.inputs[1]].shape) for sg in info.subgraphs for op in sg.ops
               if op.opcode == "FULLY_CONNECTED"}
    assert {(48, 64), (64, 48), (32, 64), (64, 32)} <= weights
    assert not any(128 in shape for shape in weights)


# -------------------------------------------------------------------------------------------- the CLI
def _prune(*args: str):
    from edgekit.cli import cli

    return CliRunner().invoke(cli, ["prune", *args])


def test_cli_prunes_and_recovers_in_one_epoch(tmp_path, tiny_teacher_dir):
    out = tmp_path / "recovered"
    r = _prune(str(tiny_teacher_dir), "--out", str(out), "--layers", "1", "--params", "0.99", "--samples", "200",
               "--recover", "--epochs", "1", "--cache-dir", str(tmp_path / "cache"), "--result-json",
               str(tmp_path / "r.json"))
    assert r.exit_code == 0, r.output
    assert "pruned → " in r.output and "recovered" in r.output
    metrics = json.loads((out / "metrics.json").read_text())
    recovered = metrics["recovered"]
    assert len(recovered["history"]["epochs"]) == 1
    assert recovered["loss"]["layer_map"] == [[0, metrics["plan"]["layers"][0]]]
    assert metrics["params"] <= metrics["budget_params"] == math.floor(0.99 * metrics["source"]["params"])
    assert metrics["shape"]["layers"] == 1
    summary = json.loads((tmp_path / "r.json").read_text())
    assert summary["kind"] == "edgekit-prune-result" and summary["recovered"] is True
    assert (out / "training_curves.png").is_file()


def test_recovery_learns_from_unlabelled_and_augmented_sentences_too(tmp_path, tiny_teacher_dir, default_splits):
    """The transfer set of edgekit distill: the training split, unlabelled sentences the unpruned model labels
    (sentences already in the split dropped), augmented copies."""
    extra = tmp_path / "extra.txt"
    extra.write_text("Quarterly revenue rose sharply.\nThe bank cut its outlook.\nQuarterly revenue rose sharply.\n"
                     + default_splits.test.texts[0] + "\n", encoding="utf-8")
    out = tmp_path / "recovered"
    r = _prune(str(tiny_teacher_dir), "--out", str(out), "--heads", "1", "--samples", "100", "--recover", "--epochs",
               "1", "--unlabelled", str(extra), "--augment", "tang", "--augment-multiplier", "2", "--cache-dir",
               str(tmp_path / "cache"))
    assert r.exit_code == 0, r.output
    transfer = json.loads((out / "metrics.json").read_text())["recovered"]["loss"]["transfer_set"]
    n = len(default_splits.train)
    assert transfer["unlabelled"]["kept"] == 2 and transfer["unlabelled"]["dropped_in_split"] == 1
    # augmented copies (repeats of an original dropped) come on top of the n + 2 originals
    assert transfer["original"] == n and n + 2 < transfer["size"] <= 2 * (n + 2)
    assert sum(transfer["teacher_labelled_counts"]) == transfer["size"] - n
    r = _prune(str(tiny_teacher_dir), "--out", str(tmp_path / "x"), "--heads", "1", "--unlabelled", str(extra))
    assert r.exit_code == 2 and "give --recover" in r.stderr and r.stderr.count("\n") == 1, r.stderr


def test_a_latency_budget_is_met_by_measuring_the_candidates(tmp_path, tiny_teacher_dir):
    """--latency: each candidate shape converted to dynamic int8 and timed; the largest within the budget wins,
    found by bisection (fewer measurements than candidates)."""
    from edgekit.models.modeldir import load_model_dir
    from edgekit.prune.job import target_shape
    from edgekit.prune.latency import LatencyProbe

    source = load_model_dir(tiny_teacher_dir)
    probe = LatencyProbe(source, length=16, runs=5, warmup=1)
    full = Shape(2, 2, 128)
    # a stand-in clock that grows with the shape's size, to check the search; the probe's own numbers are real
    measured = []

    def clock(shape: Shape) -> float:
        measured.append(shape)
        return shape.layers * (shape.heads * 10 + shape.ffn)

    shape, budget = target_shape(source, Targets(layers=2, latency="0.5"), clock)
    visited = set(measured)
    assert len(visited) < 10  # bisection over ~130 candidate shapes
    assert budget is None and clock(shape) <= 0.5 * clock(full)
    bigger = [s for s in map(lambda f: Shape(2, max(1, round(f * 2)), max(1, round(f * 128))),
                             [i / 256 for i in range(1, 257)]) if clock(s) <= 0.5 * clock(full)]
    assert shape == max(bigger, key=clock)
    ms = probe(Shape(1, 1, 8))
    # real timings, so no order between them is asserted (a loaded machine can invert two sub-millisecond times)
    assert ms > 0 and probe(full) > 0 and set(probe.measured) == {Shape(1, 1, 8), full}
    assert probe.record()["measured_ms"][0] == {"layers": 1, "heads": 1, "ffn": 8, "ms": round(ms, 4)}
    with pytest.raises(EdgekitError, match="below the fastest model these targets allow"):
        target_shape(source, Targets(layers=2, heads=2, latency="1%"), clock)


@pytest.mark.parametrize("args,message", [
    (["--heads", "3"], "error: --heads 3: the model has 2 attention heads per layer; keep 1..2"),
    (["--layers", "0"], "error: --layers 0: the model has 2 layers; keep 1..2"),
    (["--ffn", "129"], "error: --ffn 129: the model has 128 FFN neurons per layer; keep 1..128"),
    (["--params", "12X"], "error: --params '12X' is not a budget; use one of:"),
    (["--params", "1000"], "error: --params 1000 (1,000 parameters) is below the smallest model"),
    ([], "error: nothing to prune: give --heads, --ffn, --layers, --params or --latency"),
    (["--params", "0.5", "--latency", "0.5"], "error: --params and --latency are two budgets: give one"),
    (["--latency", "1.5"], "error: --latency 1.5: a share of the model's latency must be in (0, 1]"),
    (["--layers", "1", "--heads", "1", "--ffn", "8", "--latency", "50%"], "error: --latency has nothing to choose"),
    (["--heads", "1", "--recover", "--loss", "hard,nope"], "error: unknown loss 'nope'"),
])
def test_bad_targets_are_one_line_errors(tmp_path, tiny_teacher_dir, args, message):
    r = _prune(str(tiny_teacher_dir), "--out", str(tmp_path / "out"), *args)
    assert r.exit_code == 2 and r.stderr.startswith(message) and r.stderr.count("\n") == 1, r.stderr
    assert not (tmp_path / "out").exists()


def test_a_model_that_is_not_bert_is_refused_in_one_line(tmp_path, tokenizer, default_splits):
    from edgekit.models.modeldir import save_model_dir
    from edgekit.models.registry import get_family

    family = get_family("bilstm")
    config = {"vocabulary_size": len(tokenizer.vocab), "embedding_dim": 8, "lstm_units": 8, "dropout": 0.1,
              "num_classes": 3}
    save_model_dir(tmp_path / "bilstm", model=family.build(config), family="bilstm", config=config,
                   labels=list(default_splits.train.labels), vocab=tokenizer.vocab,
                   tokenizer_settings=tokenizer.settings, max_length=32)
    r = _prune(str(tmp_path / "bilstm"), "--out", str(tmp_path / "out"), "--heads", "1")
    assert r.exit_code == 2 and r.stderr == ("error: bilstm models cannot be pruned: edgekit prune removes attention "
                                             "heads, FFN neurons and layers of BERT-family models\n")
    r = _prune(str(tmp_path), "--out", str(tmp_path / "out"), "--heads", "1")
    assert r.exit_code == 2 and "is not an edgekit model directory" in r.stderr


# ------------------------------------------------------------------------------------- the masked model
def test_the_masked_model_computes_and_trains_as_the_pruned_one():
    import keras
    import tensorflow as tf

    from edgekit.models.bert.prune import PRUNER, GatedForward

    model, data, labels = _random_bert(layers=3, scale=3.0)
    inputs = {k: tf.constant(v) for k, v in data.inputs(slice(None)).items()}
    # non-uniform: 3 heads in layer 0, 1 in layer 2; 6 and 2 neurons
    plan = Plan((0, 2), ((0, 1, 3), (2,)), ((0, 1, 2, 4, 5, 7), (3, 6)))
    masked = PRUNER.masked(model, plan)
    heads, ffn = np.zeros((1, 3, 4), np.float32), np.zeros((1, 3, 8), np.float32)
    for j, i in enumerate(plan.layers):
        heads[0, i, list(plan.heads[j])] = 1
        ffn[0, i, list(plan.neurons[j])] = 1
    gated = GatedForward(model).logits(inputs, plan.layers, tf.constant(heads), tf.constant(ffn)).numpy()
    np.testing.assert_allclose(masked(inputs, training=False).numpy(), gated, atol=1e-5)

    def step(m):  # one Adam step on the cross-entropy, dropout off
        optimizer = keras.optimizers.Adam(1e-2)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(labels, m(inputs, training=False),
                                                                               from_logits=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, m.trainable_variables), m.trainable_variables))

    step(masked)
    layer = masked.backbone.transformer_layers[1]
    removed_head = layer._self_attention_layer.output_dense.kernel.numpy()[[0, 1, 3]]
    removed_neurons = layer._feedforward_intermediate_dense.kernel.numpy()[:, [0, 1, 2, 4, 5, 7]]
    assert not removed_head.any() and not removed_neurons.any()  # held at zero
    kept = layer._self_attention_layer.output_dense.kernel.numpy()[2]
    assert np.abs(kept).sum() > 0
    # a uniform plan: one step of the masked model = one step of the sliced model (same kept weights after)
    uniform = Plan((0, 2), ((1, 3), (0, 2)), ((0, 2, 4, 6), (1, 2, 5, 7)))
    masked, sliced = PRUNER.masked(model, uniform), PRUNER.apply(model, uniform)
    step(masked)
    step(sliced)
    np.testing.assert_allclose(PRUNER.apply(masked, Plan((0, 1), uniform.heads, uniform.neurons))(inputs).numpy(),
                               sliced(inputs, training=False).numpy(), atol=1e-5)

