"""The runtime layer (edgekit.runtime): bundle validation, the bucket rule, the timed loop and the one
result-record builder, the results JSONL reader/writer, sizes in MB — and that the whole layer is
part of the runner's device payload."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from edgekit import contracts
from edgekit.data import Dataset, Example
from edgekit.errors import DataError, EdgekitError
from edgekit.fsutil import sha256_file
from edgekit.metrics import classification_report, latency_stats
from edgekit.runtime.buckets import pick_bucket, pick_length
from edgekit.runtime.bundle import Bundle, BundleError
from edgekit.runtime.evaldata import dataset_identity, load_eval
from edgekit.runtime.measure import Measurement, measure_repeated, measure_texts
from edgekit.runtime.records import (append_record, bundle_fields, eval_dataset, eval_fields, latest_records,
                                     no_quality, read_records, result_record, synthetic_fields, write_records)
from edgekit.runtime.units import MB, megabytes
from edgekit.tokenizer import load_vocab

LABELS = ["negative", "neutral", "positive"]
GOLDEN_VOCAB = Path(__file__).resolve().parent.parent / "android_demo/core/src/test/resources/golden/vocab.txt"
GOLDEN_TOKENS = load_vocab(GOLDEN_VOCAB)


# ---------------------------------------------------------------------------------------------
# the bucket rule


def test_bucket_rule_is_smallest_that_holds_else_largest():
    buckets = [(16, "seq16"), (32, "seq32"), (64, "seq64"), (128, "seq128")]
    assert pick_bucket(buckets, 2) == (16, "seq16")
    assert pick_bucket(buckets, 16) == (16, "seq16")  # [CLS] + 14 + [SEP] fits exactly
    assert pick_bucket(buckets, 17) == (32, "seq32")
    assert pick_bucket(buckets, 128) == (128, "seq128")
    assert pick_bucket(buckets, 129) == (128, "seq128")  # truncated into the largest
    assert pick_bucket(list(reversed(buckets)), 17) == (32, "seq32")  # any order
    assert pick_length([128, 16, 64, 32], 17) == 32
    assert pick_length([16, 32, 64, 128], 2) == 16 and pick_length([16, 32, 64, 128], 129) == 128
    with pytest.raises(ValueError):
        pick_bucket([], 3)


# ---------------------------------------------------------------------------------------------
# bundle validation (fake model bytes: size and sha256 are what is checked here)


def _manifest(buckets=((16, "seq16"), (32, "seq32")), modes=("fp32", "dynamic_int8")) -> dict:
    sigs = [s for _, s in buckets]
    return {
        "schema_version": contracts.MANIFEST_SCHEMA_VERSION, "format": "edgekit-bundle",
        "model": {"name": "tiny", "family": "fixture", "source_checkpoint": "none",
                  "embedding_rows": len(GOLDEN_TOKENS), "num_classes": len(LABELS)},
        "labels": list(LABELS),
        "tokenizer": {"type": "bert_wordpiece", "vocab_file": "vocab.txt", "lower_case": True, "strip_accents": True,
                      "special_tokens": {"unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]", "pad": "[PAD]",
                                         "mask": "[MASK]"},
                      "vocab_size": len(GOLDEN_TOKENS), "vocab_sha256": sha256_file(GOLDEN_VOCAB)},
        "inputs": [{"name": n, "dtype": "int32"} for n in contracts.INPUT_NAMES],
        "outputs": [{"name": "logits", "dtype": "float32"}],
        "buckets": [{"length": n, "signature": s} for n, s in buckets],
        "modes": {m: {"file": f"model_{m}.tflite", "bytes": 0, "sha256": "", "signatures": sigs,
                      "parity": {"passed": True}} for m in modes},
    }


def make_bundle(root: Path, manifest: dict | None = None) -> Path:
    manifest = manifest or _manifest()
    root.mkdir(parents=True)
    for mode, entry in manifest["modes"].items():
        f = root / entry["file"]
        f.write_bytes(f"not really a model: {mode}".encode() * 10)
        entry.update(bytes=f.stat().st_size, sha256=sha256_file(f))
    (root / contracts.MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
    (root / contracts.LABELS_NAME).write_text("\n".join(LABELS) + "\n", encoding="utf-8")
    shutil.copyfile(GOLDEN_VOCAB, root / contracts.VOCAB_NAME)
    return root


def _rewrite(root: Path, change) -> None:
    m = json.loads((root / contracts.MANIFEST_NAME).read_text())
    change(m)
    (root / contracts.MANIFEST_NAME).write_text(json.dumps(m), encoding="utf-8")


def test_bundle_opens_and_describes_itself(tmp_path):
    b = Bundle.open(make_bundle(tmp_path / "b"))
    assert (b.name, b.labels, b.modes) == ("tiny", LABELS, ["fp32", "dynamic_int8"])
    assert b.buckets == [(16, "seq16"), (32, "seq32")] and b.pick_bucket(20) == (32, "seq32")
    assert b.files == ["manifest.json", "vocab.txt", "labels.txt", "model_fp32.tflite", "model_dynamic_int8.tflite"]
    for mode in b.modes:
        b.verify(mode)
    assert b.tokenizer.count_tokens("profit rose") >= 3


@pytest.mark.parametrize("change, fragment", [
    (lambda m: m.pop("buckets"), "missing buckets"),
    (lambda m: m["modes"]["fp32"].pop("sha256"), "mode fp32: missing sha256"),
    (lambda m: m.update(buckets=[{"length": 16}]), "buckets must be a non-empty list"),
    (lambda m: m.update(buckets=[]), "buckets must be a non-empty list"),
    (lambda m: m.update(modes={}), "no modes"),
    (lambda m: m["modes"]["fp32"].update(signatures=["seq16"]), "mode fp32: lacks signatures ['seq32']"),
    (lambda m: m.update(schema_version=99), "schema_version 99 is not one this edgekit reads"),
])
def test_bundle_manifest_problems_are_one_line(tmp_path, change, fragment):
    root = make_bundle(tmp_path / "b")
    _rewrite(root, change)
    with pytest.raises(BundleError) as err:
        Bundle.open(root)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_bundle_file_problems_are_one_line(tmp_path):
    with pytest.raises(BundleError, match="bundle not found"):
        Bundle.open(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BundleError, match="no manifest.json"):
        Bundle.open(tmp_path / "empty")
    bad_json = make_bundle(tmp_path / "bad_json")
    (bad_json / "manifest.json").write_text("{ not json")
    with pytest.raises(BundleError, match="not valid JSON"):
        Bundle.open(bad_json)
    no_vocab = make_bundle(tmp_path / "no_vocab")
    (no_vocab / "vocab.txt").unlink()
    with pytest.raises(BundleError, match="vocabulary 'vocab.txt' is missing"):
        Bundle.open(no_vocab)
    labels = make_bundle(tmp_path / "labels")
    (labels / "labels.txt").write_text("positive\nnegative\nneutral\n")
    with pytest.raises(BundleError, match="differs from the manifest labels"):
        Bundle.open(labels)

    b = Bundle.open(make_bundle(tmp_path / "files"))
    with pytest.raises(BundleError, match="no mode 'fp16'; it has fp32, dynamic_int8"):
        b.verify("fp16")
    (b.path / "model_dynamic_int8.tflite").unlink()
    with pytest.raises(BundleError, match="mode dynamic_int8: missing model_dynamic_int8.tflite"):
        b.verify("dynamic_int8")
    f = b.path / "model_fp32.tflite"
    data = bytearray(f.read_bytes())
    data[-1] ^= 0xFF  # same size, other content
    f.write_bytes(bytes(data))
    b.verify("fp32", sha256=False)
    with pytest.raises(BundleError, match="differs from the manifest.s sha256"):
        b.verify("fp32")
    f.write_bytes(bytes(data[: len(data) // 2]))  # truncated: caught by the size alone
    with pytest.raises(BundleError, match="bytes, the manifest says"):
        b.verify("fp32", sha256=False)


def test_bundle_without_labels_file_reads_labels_from_the_manifest(tmp_path):
    root = make_bundle(tmp_path / "b")
    (root / "labels.txt").unlink()
    b = Bundle.open(root)
    assert b.labels == LABELS and "labels.txt" not in b.files


# ---------------------------------------------------------------------------------------------
# eval data


def test_eval_data_identity_and_labels(tmp_path):
    ds = Dataset("x", [Example("Profit rose.", "positive"), Example("Fine.", "neutral"), Example("Bad.", "negative")],
                 tuple(LABELS))
    path = ds.to_jsonl(tmp_path / "test.jsonl")
    assert dataset_identity(path) == ("test", "test")
    assert dataset_identity(ds.to_jsonl(tmp_path / "mine.jsonl")) == ("mine", "eval")
    (tmp_path / "split.json").write_text(json.dumps({"dataset": "fpb75"}))
    assert dataset_identity(path) == ("fpb75:test", "test")
    assert dataset_identity(path, "named", "dev") == ("named", "dev")
    assert len(load_eval(path, LABELS)) == 3 and len(load_eval(path, LABELS, limit=2)) == 2
    with pytest.raises(DataError, match="unknown label 'positive'.*the bundle's"):
        load_eval(path, ["negative", "neutral"])
    with pytest.raises(DataError, match="eval file not found"):
        load_eval(tmp_path / "nope.jsonl", LABELS)
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(DataError, match="no examples"):
        load_eval(tmp_path / "empty.jsonl", LABELS)


# ---------------------------------------------------------------------------------------------
# the timed loop and the record builder


def test_measure_texts_buckets_warmup_and_predictions():
    calls = []

    def encode(text: str):
        n = len(text.split()) + 2
        length = pick_length([4, 8], n)
        return length, n, (length, text)

    def run(inputs) -> np.ndarray:
        calls.append(inputs)
        return np.asarray([0.0, 1.0, 0.0]) if "up" in inputs[1] else np.asarray([1.0, 0.0, 0.0])

    texts = ["up", "down a b c", "up " + "x " * 10, "down"]
    m = measure_texts(texts, encode, run, warmup=2)
    assert m.predictions == [1, 0, 1, 0]
    assert {k: len(v) for k, v in m.by_bucket.items()} == {4: 2, 8: 2}
    assert m.truncated == 1  # 13 tokens into the 8 bucket
    # 1 cold run, 2 warm-up runs on each of the two buckets (on its first sentence), then 4 timed runs
    assert calls == [(4, "up"), (4, "up"), (4, "up"), (8, "down a b c"), (8, "down a b c"),
                     *[encode(t)[2] for t in texts]]
    assert len(m.tokenization_ms) == len(m.inference_ms) == 4 and m.warmup_runs_per_bucket == 2
    first, times = measure_repeated(run, (4, "up"), iterations=5, warmup=1)
    assert first >= 0 and len(times) == 5


def _fixed_measurement() -> Measurement:
    return Measurement(tokenization_ms=[0.1, 0.2, 0.3], first_inference_ms=5.0, warmup_runs_per_bucket=3,
                       inference_ms=[1.0, 2.0, 4.0], by_bucket={32: [2.0], 16: [1.0, 4.0]}, predictions=[0, 2, 2],
                       truncated=0)


def test_eval_record_is_complete_and_computed_from_the_measurement(tmp_path):
    b = Bundle.open(make_bundle(tmp_path / "b"))
    ds = Dataset("d", [Example("a", "negative"), Example("b", "neutral"), Example("c", "positive")], tuple(LABELS))
    fields = eval_fields(_fixed_measurement(), 12.5, ds.label_ids, LABELS,
                         eval_dataset(ds, tmp_path / "test.jsonl", "d:test", "test", None))
    device = {"arch": "x86_64", "cpu_model": "x", "os": "Linux", "target": "local", "emulated": False,
              "runtime": {"name": "ai-edge-litert", "version": "2.3.0"}}
    r = result_record(device=device, bundle=bundle_fields(b, "fp32"), threads=2, memory={"peak_rss_mb": 50.0},
                      caveats=["one"], **fields)
    assert contracts.check_result(r) == [] and r["kind"] == contracts.RESULT_KIND
    assert r["bundle"]["sha256"] == b.mode_entry("fp32")["sha256"] and r["bundle"]["buckets"] == [16, 32]
    t = r["timing_ms"]
    assert t["inference"] == latency_stats([1.0, 2.0, 4.0]) and t["load"] == 12.5 and t["first_inference"] == 5.0
    assert t["end_to_end"]["mean"] == pytest.approx((1.1 + 2.2 + 4.3) / 3)
    assert list(t["inference_by_bucket"]) == ["16", "32"] and r["buckets_used"] == {"16": 2, "32": 1}
    assert r["quality"] == classification_report([0, 1, 2], [0, 2, 2], LABELS)
    assert r["dataset"] == {"name": "d:test", "split": "test", "sha256": ds.sha256,
                            "path": str(tmp_path / "test.jsonl"), "n": 3, "limit": None}
    assert r["predictions"] == [0, 2, 2] and r["caveats"] == ["one"] and r["edgekit"]["version"]
    incomplete = dict(fields, quality={"n": 3})
    with pytest.raises(AssertionError, match="quality.macro_f1"):
        result_record(device=device, bundle=bundle_fields(b, "fp32"), threads=1, memory={"peak_rss_mb": 1.0},
                      **incomplete)


def test_synthetic_record_has_null_quality():
    stats = latency_stats([1.0, 2.0])
    f = synthetic_fields(64, stats, 2, LABELS, load_ms=3.0, first_ms=4.0, quality_note="latency only",
                         warmup_mean=1.5)
    assert f["timing_ms"]["warmup_mean"] == 1.5 and f["timing_ms"]["inference_by_bucket"] == {"64": stats}
    assert f["buckets_used"] == {"64": 2} and f["dataset"]["split"] == "synthetic"
    assert f["quality"] == {**no_quality(LABELS), "note": "latency only"} and f["quality"]["macro_f1"] is None


# ---------------------------------------------------------------------------------------------
# the results file


def _rec(key: str | None, **more) -> dict:
    return {"schema_version": contracts.RESULT_SCHEMA_VERSION, "kind": contracts.RESULT_KIND, "run_key": key, **more}


def test_results_file_appends_reads_and_survives_a_torn_line(tmp_path):
    out = tmp_path / "r" / "results.jsonl"
    assert read_records(out) == []
    append_record(out, _rec("a"))
    append_record(out, _rec("b"))
    with out.open("a") as fh:  # a kill in the middle of a write
        fh.write(json.dumps(_rec("c"))[:15])
    assert [r["run_key"] for r in read_records(out)] == ["a", "b"]
    append_record(out, _rec("d"))  # the torn line is cut before appending
    assert [json.loads(line)["run_key"] for line in out.read_text().splitlines()] == ["a", "b", "d"]
    with out.open("a") as fh:  # a complete last line without its newline is kept
        fh.write(json.dumps(_rec("e")))
    assert [r["run_key"] for r in read_records(out)] == ["a", "b", "d", "e"]
    append_record(out, _rec("f"))
    assert [json.loads(line)["run_key"] for line in out.read_text().splitlines()] == ["a", "b", "d", "e", "f"]
    write_records(out, [_rec("f")])
    assert read_records(out) == [_rec("f")]


def test_results_file_mistakes_are_one_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(_rec("a")) + "\n{ torn but followed by a newline\n" + json.dumps(_rec("b")) + "\n")
    with pytest.raises(EdgekitError, match=r"bad.jsonl:2: not a JSON line"):
        read_records(bad)
    other = tmp_path / "other.jsonl"
    other.write_text('{"kind": "something-else"}\n')
    with pytest.raises(EdgekitError, match=r"other.jsonl:1: not an edgekit benchmark result"):
        read_records(other)
    with pytest.raises(EdgekitError, match="results file not found"):
        latest_records([tmp_path / "nope.jsonl"])
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(EdgekitError, match="no benchmark records"):
        latest_records([tmp_path / "empty.jsonl"])


def test_latest_records_keeps_the_last_record_of_each_run_key(tmp_path):
    first, second = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    write_records(first, [_rec("a", v=1), _rec("b", v=1), {**_rec(None), "v": "no key"}])
    write_records(second, [_rec("a", v=2), {**_rec(None), "v": "no key either"}])
    got = latest_records([first, second])
    assert [(r.get("run_key"), r["v"]) for r in got] == [("a", 2), ("b", 1), (None, "no key"),
                                                         (None, "no key either")]


# ---------------------------------------------------------------------------------------------
# units and the device payload


def test_megabytes_are_decimal():
    assert MB == 10**6 and megabytes(23_000_000) == 23.0 and megabytes(1024 * 1024) == pytest.approx(1.048576)


def test_every_runtime_module_is_in_the_device_payload():
    import edgekit.runtime
    from edgekit.benchmarks import payload

    folder = Path(edgekit.runtime.__file__).parent
    modules = {f"runtime/{p.name}" for p in folder.glob("*.py")}
    assert modules <= set(payload.EDGEKIT_FILES), sorted(modules - set(payload.EDGEKIT_FILES))


# ---------------------------------------------------------------------------------------------
# a real model


@pytest.fixture(scope="module")
def real_bundle(tmp_path_factory, vocab_path) -> Path:
    pytest.importorskip("tensorflow")
    from edgekit.benchmarks.fixtures import build_bundle

    return build_bundle(tmp_path_factory.mktemp("runtime") / "bundle", vocab_path, modes=("fp32",))


def test_bundle_model_runs_each_sentence_in_its_bucket(real_bundle):
    from edgekit.runtime.model import BundleModel, SignatureModel

    b = Bundle.open(real_bundle)
    fp32 = BundleModel(b, "fp32")
    for text in ("Profit rose.", " ".join(["Operating profit rose to EUR 13.1 mn from EUR 8.7 mn."] * 5)):
        enc = fp32.encode(text)
        assert (enc.length, enc.signature) == pick_bucket(b.buckets, b.tokenizer.count_tokens(text))
        assert enc.ids.shape == (enc.length,) and enc.num_tokens == b.tokenizer.count_tokens(text)
        r = fp32.classify(text)
        assert r["bucket"] == enc.length and sum(r["probabilities"].values()) == pytest.approx(1.0)
        assert r["logits"] == pytest.approx(fp32.logits(text).tolist())
    with pytest.raises(BundleError, match="no signature 'seq999'"):
        SignatureModel(b.model_file("fp32"), ["seq999"])
