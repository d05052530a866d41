"""The Android demo's Python side: golden fixtures, `edgekit android-assets`, and the Java core's tests.

Real files throughout: a real (tiny, four-signature) .tflite built with TensorFlow, real bundle
directories, the committed golden fixtures, and javac + JUnit 4 when the machine has them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgekit import android, contracts
from edgekit.data import Dataset, Example, load_dataset
from edgekit.fsutil import sha256_file
from edgekit.tokenizer import load_vocab

LABELS = ["negative", "neutral", "positive"]
RUN_TESTS = android.ANDROID_DEMO / "core" / "run_tests.sh"
JUNIT = Path("/usr/share/java/junit4.jar")


# ---------------------------------------------------------------------------------------------
# golden fixtures


@pytest.fixture(scope="module")
def golden_vocab() -> Path:
    try:
        return android.default_golden_vocab()
    except Exception as exc:  # the offline MiniLM test package is part of the test install
        pytest.skip(f"golden vocab unavailable: {exc}")


@pytest.fixture(scope="module")
def regenerated(golden_vocab) -> dict[str, str]:
    return android.build_golden(golden_vocab)


def test_committed_golden_fixture_regenerates_identically(regenerated):
    assert sorted(regenerated) == sorted(android.GOLDEN_FILES)
    stale = [name for name, text in regenerated.items()
             if (android.GOLDEN_DIR / name).read_text(encoding="utf-8") != text]
    assert not stale, f"golden fixtures out of date: {stale}; run `edgekit android golden` and commit"


def test_golden_fixture_is_small_and_covers_the_phenomena(regenerated):
    assert sum(len(t.encode()) for t in regenerated.values()) < 2 * 1024 * 1024
    cases = json.loads(regenerated["tokenizer_golden.json"])["cases"]
    texts = [c["text"] for c in cases]
    assert len(cases) >= 300 and len(set(texts)) == len(texts)

    def some(pred) -> int:
        return sum(1 for t in texts if pred(t))

    assert some(lambda t: any(c in t for c in "€£¥¼")) >= 20
    assert some(lambda t: any("\u4e00" <= c <= "\u9fff" for c in t)) >= 20
    assert some(lambda t: any(c in t for c in "éüçñøå")) >= 20
    assert some(lambda t: any(ord(c) < 32 or c in "\u200b\ufeff\u00ad\x7f" for c in t)) >= 20
    assert some(lambda t: "[CLS]" in t or "[SEP]" in t or "[MASK]" in t) >= 10
    assert some(lambda t: any(len(w) > 100 for w in t.split())) >= 3
    assert sum(1 for c in cases if "[UNK]" in c["tokens"]) >= 20
    assert sum(1 for c in cases if c["num_tokens"] > 64) >= 10  # truncation at the largest length
    # the fixture's subset vocab gives the same tokens as the full vocab (checked while building)
    assert json.loads(regenerated["tokenizer_golden.json"])["source_vocab_size"] == 30522


def test_golden_sentences_are_generated_not_copied():
    sentences = android.golden_sentences()
    assert sentences == android.golden_sentences()  # deterministic
    assert len(sentences) == 600
    fpb = Path(__file__).resolve().parents[2] / "shared" / "data" / "financial_phrasebank" / "Sentences_50Agree.txt"
    if fpb.is_file():
        fpb_sentences = {line.rsplit("@", 1)[0].strip()
                         for line in fpb.read_text(encoding="latin-1").splitlines() if "@" in line}
        assert not fpb_sentences.intersection(sentences)


def test_golden_command_writes_the_files(tmp_path, golden_vocab):
    from edgekit.cli import cli

    result = CliRunner().invoke(cli, ["android", "golden", "--vocab", str(golden_vocab), "--out", str(tmp_path),
                                      "--count", "150"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(android.GOLDEN_FILES)
    assert json.loads((tmp_path / "tokenizer_golden.json").read_text())["count"] == 150


def test_stratified_subset_keeps_proportions_and_order():
    labels = [0] * 50 + [1] * 30 + [2] * 20
    chosen = android.stratified_subset(labels, 10, seed=3)
    assert chosen == sorted(chosen) and len(chosen) == 10
    assert [sum(labels[i] == k for i in chosen) for k in range(3)] == [5, 3, 2]
    assert android.stratified_subset(labels, 10, seed=3) == chosen
    assert android.stratified_subset(labels, 500) == list(range(100))


# ---------------------------------------------------------------------------------------------
# a real bundle


def _build_tflite(path: Path) -> None:
    """A tiny model with the contract's four [1, L] int32 signatures and float logits."""
    import tensorflow as tf

    class Tiny(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = tf.Variable(tf.random.stateless_normal([64, len(LABELS)], seed=[1, 2]))

        def logits(self, ids, mask, segment_ids):
            emb = tf.gather(self.w, tf.math.floormod(ids + segment_ids, 64))
            m = tf.cast(mask, tf.float32)[..., None]
            return {"logits": tf.reduce_sum(emb * m, axis=1) / tf.maximum(tf.reduce_sum(m, axis=1), 1.0)}

    model = Tiny()
    signatures = {}
    for length, name in android.DEFAULT_BUCKETS:
        spec = [tf.TensorSpec([1, length], tf.int32, name=n) for n in contracts.INPUT_NAMES]
        fn = tf.function(lambda ids, mask, segment_ids: model.logits(ids, mask, segment_ids), input_signature=spec)
        signatures[name] = fn.get_concrete_function()
    saved = path.parent / "saved_model"
    tf.saved_model.save(model, str(saved), signatures=signatures)
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved), signature_keys=list(signatures))
    path.write_bytes(converter.convert())
    shutil.rmtree(saved)


@pytest.fixture(scope="module")
def tflite_file(tmp_path_factory) -> Path:
    pytest.importorskip("tensorflow")
    path = tmp_path_factory.mktemp("tflite") / "tiny.tflite"
    _build_tflite(path)
    return path


def make_bundle(root: Path, tflite: Path, name: str = "teacher", modes=("fp32", "dynamic_int8")) -> Path:
    root.mkdir(parents=True)
    manifest = android.example_manifest()
    manifest["model"]["name"] = name
    entries = {}
    for mode in modes:
        file = f"model_{mode}.tflite"
        shutil.copyfile(tflite, root / file)
        entry = dict(manifest["modes"]["fp32"])
        entry.update(file=file, bytes=(root / file).stat().st_size, sha256=sha256_file(root / file))
        entries[mode] = entry
    manifest["modes"] = entries
    vocab = load_vocab(android.GOLDEN_DIR / "vocab.txt")
    manifest["tokenizer"].update(vocab_size=len(vocab), vocab_sha256=contracts.vocab_sha256(vocab))
    manifest["model"]["embedding_rows"] = len(vocab)
    assert contracts.check_manifest(manifest) == []
    (root / contracts.MANIFEST_NAME).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    (root / contracts.LABELS_NAME).write_text("\n".join(LABELS) + "\n", encoding="utf-8")
    (root / contracts.VOCAB_NAME).write_text(contracts.vocab_text(vocab), encoding="utf-8")
    return root


def make_eval(path: Path, n: int = 30, bad_label: str | None = None) -> Path:
    examples = [Example(f"Sentence {i}: profit {'rose' if i % 3 == 2 else 'fell'} {i} %", LABELS[i % 3])
                for i in range(n)]
    Dataset("eval", examples, tuple(LABELS)).to_jsonl(path)
    if bad_label:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"text": "odd one", "label": bad_label}) + "\n")
    return path


def make_app(root: Path) -> Path:
    (root / "app" / "src" / "main").mkdir(parents=True)
    return root


def invoke(*args: str):
    from edgekit.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args])


def test_android_assets_copies_bundles_and_eval_subset(tmp_path, tflite_file):
    bundle = make_bundle(tmp_path / "b1", tflite_file)
    student = make_bundle(tmp_path / "b2", tflite_file, name="student_2l", modes=("int8",))
    eval_file = make_eval(tmp_path / "test.jsonl")
    app = make_app(tmp_path / "app")

    result = invoke("android-assets", bundle, student, "--eval", eval_file, "--limit", "12", "--app", app)
    assert result.exit_code == 0, result.output
    assert "eval test [test]: 12 examples (negative 4, neutral 4, positive 4)" in result.output

    assets = app / "app" / "src" / "main" / "assets"
    copied = assets / android.BUNDLE_ASSET
    assert sorted(p.name for p in copied.iterdir()) == sorted(
        ["manifest.json", "labels.txt", "vocab.txt", "model_fp32.tflite", "model_dynamic_int8.tflite"])
    assert sha256_file(copied / "model_fp32.tflite") == sha256_file(tflite_file)
    assert (assets / "bundles" / "student_2l" / "model_int8.tflite").is_file()
    assert not [p for p in assets.iterdir() if p.name.startswith(".")]  # no temp leftovers

    written = load_dataset(assets / android.EVAL_ASSET, labels=LABELS)
    meta = json.loads((assets / android.EVAL_META_ASSET).read_text())
    assert len(written) == meta["n"] == 12
    assert meta["sha256"] == Dataset(meta["name"], written.examples, tuple(LABELS)).sha256
    assert meta["subset"] == {"limit": 12, "of": 30, "seed": 0}
    assert meta["edgekit"]["version"] and meta["labels"] == LABELS

    # the copied model file is a real LiteRT model with the contract's signatures
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(copied / "model_dynamic_int8.tflite"))
    assert set(interp.get_signature_list()) == {s for _, s in android.DEFAULT_BUCKETS}
    import numpy as np

    runner = interp.get_signature_runner("seq16")
    out = runner(ids=np.ones((1, 16), np.int32), mask=np.ones((1, 16), np.int32),
                 segment_ids=np.zeros((1, 16), np.int32))
    assert out["logits"].shape == (1, 3)

    # again with one bundle: the extra bundles folder goes, the rest is replaced in place
    result = invoke("android-assets", bundle, "--eval", eval_file, "--app", app)
    assert result.exit_code == 0, result.output
    assert not (assets / "bundles").exists()
    assert len(load_dataset(assets / android.EVAL_ASSET, labels=LABELS)) == 30
    assert json.loads((assets / android.EVAL_META_ASSET).read_text())["subset"] is None


def _assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code != 0
    text = result.output.strip()
    assert "Traceback" not in text
    assert len(text.splitlines()) == 1, text
    assert text.startswith("error: "), text
    for fragment in fragments:
        assert fragment in text, text


def test_android_assets_errors_are_one_clear_line(tmp_path, tflite_file):
    good = make_bundle(tmp_path / "good", tflite_file)
    eval_file = make_eval(tmp_path / "eval.jsonl")
    app = make_app(tmp_path / "app")
    assets = app / "app" / "src" / "main" / "assets"

    _assert_one_line_error(invoke("android-assets", tmp_path / "nope", "--eval", eval_file, "--app", app),
                           "bundle not found")
    empty = tmp_path / "empty"
    empty.mkdir()
    _assert_one_line_error(invoke("android-assets", empty, "--eval", eval_file, "--app", app),
                           "is not a complete bundle: no manifest.json")

    malformed = make_bundle(tmp_path / "malformed", tflite_file)
    (malformed / "manifest.json").write_text('{"schema_version": 1,', encoding="utf-8")
    _assert_one_line_error(invoke("android-assets", malformed, "--eval", eval_file, "--app", app), "not valid JSON")

    incomplete = make_bundle(tmp_path / "incomplete", tflite_file)
    m = json.loads((incomplete / "manifest.json").read_text())
    del m["modes"]["fp32"]["sha256"]
    (incomplete / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    _assert_one_line_error(invoke("android-assets", incomplete, "--eval", eval_file, "--app", app),
                           "mode fp32: missing sha256")

    no_model = make_bundle(tmp_path / "no_model", tflite_file)
    (no_model / "model_dynamic_int8.tflite").unlink()
    _assert_one_line_error(invoke("android-assets", no_model, "--eval", eval_file, "--app", app),
                           "mode dynamic_int8 'model_dynamic_int8.tflite' is missing")

    tampered = make_bundle(tmp_path / "tampered", tflite_file)
    data = bytearray((tampered / "model_fp32.tflite").read_bytes())
    data[-1] ^= 0xFF
    (tampered / "model_fp32.tflite").write_bytes(bytes(data))
    _assert_one_line_error(invoke("android-assets", tampered, "--eval", eval_file, "--app", app),
                           "differs from the manifest's sha256")

    bad_labels = make_bundle(tmp_path / "bad_labels", tflite_file)
    (bad_labels / "labels.txt").write_text("positive\nnegative\nneutral\n", encoding="utf-8")
    _assert_one_line_error(invoke("android-assets", bad_labels, "--eval", eval_file, "--app", app),
                           "differs from the manifest labels")

    unknown = make_eval(tmp_path / "unknown.jsonl", n=6, bad_label="bullish")
    _assert_one_line_error(invoke("android-assets", good, "--eval", unknown, "--app", app), "bullish")
    _assert_one_line_error(invoke("android-assets", good, "--eval", tmp_path / "missing.jsonl", "--app", app),
                           "not found")
    _assert_one_line_error(invoke("android-assets", good, "--eval", eval_file, "--app", tmp_path),
                           "not the Android demo project")
    _assert_one_line_error(invoke("android-assets", good, "--eval", eval_file, "--app", app, "--limit", "0"),
                           "--limit must be at least 1")
    twin = make_bundle(tmp_path / "twin", tflite_file)
    _assert_one_line_error(invoke("android-assets", good, twin, "--eval", eval_file, "--app", app),
                           "share a model name")
    # nothing was written by any failed call
    assert not assets.exists() or not any(assets.iterdir())


# ---------------------------------------------------------------------------------------------
# the Java core


def test_java_core_unit_tests_pass(tmp_path):
    missing = [what for what, ok in (("javac", shutil.which("javac")), ("java", shutil.which("java")),
                                     (str(JUNIT), JUNIT.is_file())) if not ok]
    if missing and os.environ.get("EDGEKIT_REQUIRE_JAVA"):
        pytest.fail(f"EDGEKIT_REQUIRE_JAVA is set but {', '.join(missing)} is missing")
    if missing:
        pytest.skip(f"Java core tests need {', '.join(missing)} (apt-get install default-jdk-headless junit4)")
    proc = subprocess.run(["bash", str(RUN_TESTS)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "BUILD_DIR": str(tmp_path / "build")})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "OK (" in proc.stdout
    assert "golden tokenizer: 600 sentences, 1800 encodings matched" in proc.stdout
