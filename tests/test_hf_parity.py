"""``edgekit import``'s live check against the PyTorch original, and where its figures go.

The live tests need torch + transformers in this interpreter or in $EDGEKIT_TORCH_PYTHON (not in CI);
without them the import must still work, say so in one line and record why.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgekit.cli import cli
from edgekit.hf.parity import TOLERANCE, unavailable

FIXTURES = Path(__file__).parent / "fixtures" / "hf"
CHECKPOINTS = ["bert", "bert_bare", "bert_legacy", "distilbert", "electra", "electra_small"]
LABELS = {"bert_bare": ["--labels", "negative,neutral,positive"]}
SKIP_LINE = "live parity check against PyTorch skipped: "
LIVE_SKIP = unavailable()
live = pytest.mark.skipif(LIVE_SKIP is not None, reason=f"PyTorch side unavailable: {LIVE_SKIP}")


def run_import(src: Path, out: Path, *extra: str):
    return CliRunner().invoke(cli, ["import", str(src), "--out", str(out), *extra])


def source_record(model_dir: Path) -> dict:
    return json.loads((model_dir / "edgekit_model.json").read_text())["source"]


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    return err


# ------------------------------------------------------------------------------ without the PyTorch side
@pytest.mark.skipif(LIVE_SKIP is None, reason="torch and transformers are installed: the live check runs")
def test_without_torch_the_import_works_records_why_and_says_so_once(tmp_path):
    result = run_import(FIXTURES / "bert", tmp_path / "out")
    assert result.exit_code == 0, result.output
    source = source_record(tmp_path / "out")
    assert source["parity_vs_pytorch"] is None and "not installed" in source["parity_skipped"]
    assert "edgekit[hf]" in source["parity_skipped"]
    skipped = [line for line in result.stderr.splitlines() if line.startswith(SKIP_LINE)]
    assert len(skipped) == 1, result.stderr


def test_a_torch_python_that_does_not_run_is_a_skip_with_its_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEKIT_TORCH_PYTHON", str(tmp_path / "no-such-python"))
    result = run_import(FIXTURES / "bert", tmp_path / "out")
    assert result.exit_code == 0, result.output
    reason = source_record(tmp_path / "out")["parity_skipped"]
    assert reason.startswith(f"EDGEKIT_TORCH_PYTHON={tmp_path / 'no-such-python'} does not run"), reason
    assert sum(line.startswith(SKIP_LINE) for line in result.stderr.splitlines()) == 1, result.stderr


def test_no_parity_skips_the_check_silently_and_says_so_in_the_record(tmp_path):
    result = run_import(FIXTURES / "bert", tmp_path / "out", "--no-parity")
    assert result.exit_code == 0, result.output
    source = source_record(tmp_path / "out")
    assert source["parity_vs_pytorch"] is None and source["parity_skipped"] == "--no-parity"
    assert SKIP_LINE not in result.stderr


def test_data_without_the_check_is_refused(tmp_path):
    err = one_error_line(run_import(FIXTURES / "bert", tmp_path / "out", "--no-parity", "--data", "x.jsonl"))
    assert "--data feeds the parity check, which --no-parity turns off" in err
    assert not (tmp_path / "out").exists()


def test_the_bundle_manifest_carries_the_source_record(tmp_path, default_splits):
    model_dir = tmp_path / "imported"
    assert run_import(FIXTURES / "electra", model_dir).exit_code == 0
    split_dir = tmp_path / "split"
    default_splits.save(split_dir)
    bundle = tmp_path / "bundle"
    result = CliRunner().invoke(cli, ["convert", str(model_dir), "--split-dir", str(split_dir), "--out", str(bundle),
                                      "--modes", "fp32", "--buckets", "16", "--no-metadata"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((bundle / "manifest.json").read_text())
    source = source_record(model_dir)
    assert manifest["model"]["source"] == source
    assert "parity_vs_pytorch" in manifest["model"]["source"]


# ------------------------------------------------------------------------------ live
@live
@pytest.mark.parametrize("name", CHECKPOINTS)
def test_import_checks_itself_against_pytorch_on_built_in_probes(name, tmp_path):
    result = run_import(FIXTURES / name, tmp_path / "out", *LABELS.get(name, []))
    assert result.exit_code == 0, result.output
    figures = source_record(tmp_path / "out")["parity_vs_pytorch"]
    assert figures["probes"] == 32 and figures["probe_source"].startswith("built-in")
    assert figures["max_abs_logit_diff"] <= TOLERANCE and figures["argmax_agreement"] == 1.0, figures
    assert figures["tokenizer_agreement"] == 1.0 and figures["torch"] and figures["transformers"], figures


@live
def test_import_probes_the_users_data(tmp_path):
    data = tmp_path / "probes.jsonl"
    sentences = json.loads((FIXTURES / "bert" / "reference.json").read_text())["sentences"]
    data.write_text("".join(json.dumps({"text": s, "label": ["up", "down"][i % 2]}) + "\n"
                            for i, s in enumerate(sentences)))
    result = run_import(FIXTURES / "bert", tmp_path / "out", "--data", str(data), "--probes", "5")
    assert result.exit_code == 0, result.output
    figures = source_record(tmp_path / "out")["parity_vs_pytorch"]
    assert figures["probes"] == 5 and figures["probe_source"] == str(data), figures


@live
def test_a_vocabulary_that_disagrees_with_the_checkpoints_tokenizer_stops_the_import(tmp_path):
    """vocab.txt (edgekit reads it) and tokenizer.json (transformers reads it) with two ids swapped."""
    src = Path(shutil.copytree(FIXTURES / "bert", tmp_path / "src"))
    vocab = (src / "vocab.txt").read_text(encoding="utf-8").splitlines()
    i = vocab.index("the")
    vocab[i], vocab[i + 1] = vocab[i + 1], vocab[i]
    (src / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    err = one_error_line(run_import(src, tmp_path / "out"))
    assert "the imported model disagrees with PyTorch: the checkpoint's tokenizer gives other ids on" in err, err
    assert err.endswith("nothing written")
    assert not (tmp_path / "out").exists()


@live
@pytest.mark.parametrize("shift, expected", [(5 * TOLERANCE, "with PyTorch: max |Δlogit| 5.0"),
                                             (-100.0, "with PyTorch: argmax differs on")])
def test_the_gate_catches_a_model_that_computes_something_else(shift, expected, tmp_path):
    """The imported model with the bias of the first probe's predicted class moved, against the untouched
    PyTorch original: a small shift breaks the logit tolerance, a large one flips that probe's argmax."""
    from edgekit.hf.parity import PytorchParityError, check_parity, probe_texts
    from edgekit.models.modeldir import load_model_dir

    assert run_import(FIXTURES / "bert", tmp_path / "out", "--no-parity").exit_code == 0
    loaded = load_model_dir(tmp_path / "out")
    texts, _ = probe_texts(None, 32)
    ids, mask, segments, _ = loaded.tokenizer.encode_batch(texts[:1], loaded.max_length)
    predicted = int(np.argmax(loaded.model({"token_ids": ids, "padding_mask": mask, "segment_ids": segments})))
    bias = loaded.model.output_dense.bias
    bias.assign(bias.numpy() + shift * np.eye(len(loaded.labels), dtype=np.float32)[predicted])
    with pytest.raises(PytorchParityError, match="disagrees with PyTorch") as caught:
        check_parity(FIXTURES / "bert", loaded.model, loaded.tokenizer, texts, loaded.max_length)
    assert expected in str(caught.value) and len(str(caught.value).splitlines()) == 1
