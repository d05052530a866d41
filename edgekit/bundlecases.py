"""Broken bundles, one or more per bundle rule: the golden cases both bundle readers are held to.

:func:`bundle_cases` starts from one small valid bundle (a 12-token vocabulary, three labels, two
modes whose "model files" are a few bytes — the rules check files against the manifest, not what a
file computes) and breaks it one way per case. Each case names the rule code it must fail with
(:data:`edgekit.contracts.PROBLEM_CODES`), or None for bundles that must load. ``edgekit android
golden`` writes them to ``bundles_golden.json``; ``tests/test_bundle_rules.py`` runs the Python reader
(:class:`edgekit.runtime.bundle.Bundle`) on them and the Java core's ``BundleRulesTest`` runs
``dev.edgekit.core.Bundle`` on the same file, so both readers refuse the same bundles with the same code.
A case's files are text; a model file is written as UTF-8 bytes of its text.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Callable

from . import contracts
from .runtime.buckets import signature_name

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "profit", "rose", "fell", "the", "sales", "##s", "."]
LABELS = ["negative", "neutral", "positive"]
MODEL_FILES = {"fp32": "model_fp32.tflite", "dynamic_int8": "model_dynamic_int8.tflite"}
BUCKETS = (16, 32)

Files = dict[str, str]
Manifest = dict[str, Any]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def valid_bundle() -> tuple[Manifest, Files]:
    """A small bundle every rule accepts: its manifest and its other files (name → text)."""
    files: Files = {contracts.VOCAB_NAME: contracts.vocab_text(VOCAB), contracts.LABELS_NAME: "\n".join(LABELS) + "\n"}
    files.update({name: f"not a real model: {mode}\n" for mode, name in MODEL_FILES.items()})
    sigs = [signature_name(n) for n in BUCKETS]
    manifest: Manifest = {
        "schema_version": contracts.MANIFEST_SCHEMA_VERSION,
        "format": "edgekit-bundle",
        "model": {"name": "golden", "family": "bert", "source_checkpoint": "none (golden case)",
                  "embedding_rows": len(VOCAB), "num_classes": len(LABELS)},
        "labels": list(LABELS),
        "tokenizer": {"type": "bert_wordpiece", "vocab_file": contracts.VOCAB_NAME, "lower_case": True,
                      "strip_accents": True, "clean_text": True, "handle_chinese_chars": True,
                      "max_input_chars_per_word": 100, "continuing_subword_prefix": "##",
                      "special_tokens": {"unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]", "pad": "[PAD]",
                                         "mask": "[MASK]"},
                      "vocab_size": len(VOCAB), "vocab_sha256": contracts.vocab_sha256(VOCAB)},
        "inputs": [{"name": n, "dtype": "int32"} for n in contracts.INPUT_NAMES],
        "outputs": [{"name": "logits", "dtype": "float32"}],
        "buckets": [{"length": n, "signature": s} for n, s in zip(BUCKETS, sigs)],
        "modes": {mode: {"file": name, "bytes": len(files[name].encode("utf-8")), "sha256": _sha(files[name]),
                         "signatures": list(sigs), "parity": {"passed": True}}
                  for mode, name in MODEL_FILES.items()},
    }
    return manifest, files


# ------------------------------------------------------------------------------ how each case breaks it
Breaker = Callable[[Manifest, Files], None]


def _set(dotted: str, value: Any) -> Breaker:
    def apply(manifest: Manifest, files: Files) -> None:
        *parents, last = dotted.split(".")
        node = manifest
        for part in parents:
            node = node[part]
        node[last] = value
    return apply


def _drop(dotted: str) -> Breaker:
    def apply(manifest: Manifest, files: Files) -> None:
        *parents, last = dotted.split(".")
        node = manifest
        for part in parents:
            node = node[part]
        del node[last]
    return apply


def _file(name: str, text: str | None) -> Breaker:
    """Replace a file's text (None: remove the file)."""
    def apply(manifest: Manifest, files: Files) -> None:
        if text is None:
            files.pop(name)
        else:
            files[name] = text
    return apply


def _consistent_vocab(vocab: list[str]) -> Breaker:
    """A vocabulary the manifest agrees with (size and sha256): only the model's rows can object."""
    def apply(manifest: Manifest, files: Files) -> None:
        files[contracts.VOCAB_NAME] = contracts.vocab_text(vocab)
        manifest["tokenizer"].update(vocab_size=len(vocab), vocab_sha256=contracts.vocab_sha256(vocab))
    return apply


def _consistent_labels(labels: list[str]) -> Breaker:
    def apply(manifest: Manifest, files: Files) -> None:
        manifest["labels"] = list(labels)
        files[contracts.LABELS_NAME] = "\n".join(labels) + "\n"
    return apply


TASK_FILES = {"fp16": "model_fp16_task.tflite", "int8_weights": "model_int8_weights_task.tflite"}


def _task_files(manifest: Manifest, files: Files) -> None:
    """The task files a BERT bundle carries by default: ``task_library`` (fp16) and the 8-bit one under
    ``other_task_files`` (the same rules hold for both)."""
    entries = {}
    for mode, name in TASK_FILES.items():
        files[name] = f"not a real model: {mode} task file\n"
        entries[mode] = {"mode": mode, "file": name, "bytes": len(files[name].encode("utf-8")),
                         "sha256": _sha(files[name]), "metadata": True, "parity": {"passed": True}}
    manifest[contracts.TASK_LIBRARY] = entries.pop("fp16")
    manifest[contracts.OTHER_TASK_FILES] = entries


def _both(*breakers: Breaker) -> Breaker:
    def apply(manifest: Manifest, files: Files) -> None:
        for breaker in breakers:
            breaker(manifest, files)
    return apply


FP32 = MODEL_FILES["fp32"]
# (case name, expected code or None, how the valid bundle is broken)
CASES: tuple[tuple[str, str | None, Breaker], ...] = (
    ("valid", None, _both()),
    ("valid_buckets_unordered", None, _set("buckets", [{"length": 32, "signature": "seq32"},
                                                       {"length": 16, "signature": "seq16"}])),
    # an imported checkpoint may have more embedding rows than vocabulary entries (padded tables)
    ("valid_fewer_tokens_than_rows", None, _set("model.embedding_rows", len(VOCAB) + 8)),
    ("valid_with_task_files", None, _task_files),
    # an entry without a file (a task file that failed its gate and was left out) names no file
    ("valid_task_file_left_out", None, _both(_task_files, _drop("other_task_files.int8_weights.file"),
                                             _file(TASK_FILES["int8_weights"], None))),
    ("manifest_not_json", "manifest", _file(contracts.MANIFEST_NAME, "{not json")),
    ("manifest_a_list", "manifest", _file(contracts.MANIFEST_NAME, "[1, 2]")),
    ("schema_version_old", "schema_version", _set("schema_version", 1)),
    ("schema_version_future", "schema_version", _set("schema_version", 99)),
    ("schema_version_string", "schema_version", _set("schema_version", "2")),
    ("no_modes_field", "missing_field", _drop("modes")),
    ("no_embedding_rows", "missing_field", _drop("model.embedding_rows")),
    ("no_vocab_sha256", "missing_field", _drop("tokenizer.vocab_sha256")),
    ("num_classes_not_int", "missing_field", _set("model.num_classes", "3")),
    ("embedding_rows_zero", "missing_field", _set("model.embedding_rows", 0)),
    ("lower_case_not_a_flag", "missing_field", _set("tokenizer.lower_case", "yes")),
    ("special_tokens_not_an_object", "missing_field", _set("tokenizer.special_tokens", "[UNK]")),
    ("outputs_without_names", "missing_field", _set("outputs", [{"dtype": "float32"}])),
    ("labels_empty", "labels", _consistent_labels([])),
    ("label_with_surrounding_spaces", "labels", _consistent_labels([" negative", "neutral", "positive"])),
    ("labels_repeated", "labels", _consistent_labels(["negative", "negative", "positive"])),
    ("labels_fewer_than_outputs", "label_count", _consistent_labels(["negative", "positive"])),
    ("labels_more_than_outputs", "label_count", _consistent_labels(["negative", "neutral", "positive", "mixed"])),
    ("buckets_empty", "buckets", _set("buckets", [])),
    ("bucket_length_zero", "buckets", _set("buckets", [{"length": 0, "signature": "seq0"}])),
    ("bucket_length_string", "buckets", _set("buckets", [{"length": "16", "signature": "seq16"}])),
    ("bucket_signature_twice", "buckets", _set("buckets", [{"length": 16, "signature": "seq16"},
                                                          {"length": 32, "signature": "seq16"}])),
    ("modes_empty", "modes", _set("modes", {})),
    ("mode_without_sha256", "modes", _drop("modes.fp32.sha256")),
    ("mode_signatures_not_names", "modes", _set("modes.fp32.signatures", [["seq16"], "seq32"])),
    ("mode_lacks_a_signature", "signatures", _set("modes.fp32.signatures", ["seq16"])),
    ("vocab_path_parent", "path", _set("tokenizer.vocab_file", "../vocab.txt")),
    ("model_path_absolute", "path", _set("modes.fp32.file", "/etc/passwd")),
    ("model_path_climbs_out", "path", _set("modes.fp32.file", "sub/../../model_fp32.tflite")),
    ("model_path_backslash", "path", _set("modes.fp32.file", "..\\model_fp32.tflite")),
    ("model_path_control_character", "path", _set("modes.fp32.file", "model\u0000fp32.tflite")),
    ("task_file_parent", "path", _set("task_library", {"file": "../task.tflite"})),
    ("other_task_file_parent", "path", _both(_task_files, _set("other_task_files.int8_weights.file",
                                                              "../model_int8_weights_task.tflite"))),
    ("other_task_file_absolute", "path", _both(_task_files, _set("other_task_files.int8_weights.file",
                                                                "/tmp/x.tflite"))),
    ("vocab_longer_than_embedding", "vocab_rows", _consistent_vocab(VOCAB + ["extra", "tokens"])),
    ("vocab_missing", "file_missing", _file(contracts.VOCAB_NAME, None)),
    ("model_file_missing", "file_missing", _file(FP32, None)),
    ("task_file_missing", "file_missing", _both(_task_files, _file(TASK_FILES["fp16"], None))),
    ("other_task_file_missing", "file_missing", _both(_task_files, _file(TASK_FILES["int8_weights"], None))),
    ("model_file_truncated", "file_size", _file(FP32, "not a real")),
    ("vocab_shorter", "vocab_size", _file(contracts.VOCAB_NAME, contracts.vocab_text(VOCAB[:-2]))),
    ("vocab_longer", "vocab_size", _file(contracts.VOCAB_NAME, contracts.vocab_text(VOCAB + ["extra"]))),
    ("vocab_token_changed", "sha256", _file(contracts.VOCAB_NAME, contracts.vocab_text(VOCAB[:-1] + ["!"]))),
    ("labels_file_fewer", "labels_file", _file(contracts.LABELS_NAME, "negative\npositive\n")),
    ("labels_file_reordered", "labels_file", _file(contracts.LABELS_NAME, "positive\nneutral\nnegative\n")),
    ("model_file_changed_same_size", "sha256", _file(FP32, "not a real model: fp33\n")),
)


def bundle_cases() -> list[dict]:
    """Every case as ``{"name", "expect", "files"}``: ``files`` maps each file of the bundle, the manifest
    included, to its text; ``expect`` is the rule code the readers must report (None: the bundle loads)."""
    out = []
    for name, expect, breaker in CASES:
        manifest, files = valid_bundle()
        manifest, files = copy.deepcopy(manifest), dict(files)
        breaker(manifest, files)
        files.setdefault(contracts.MANIFEST_NAME, json.dumps(manifest, indent=1, ensure_ascii=True) + "\n")
        out.append({"name": name, "expect": expect, "files": dict(sorted(files.items()))})
    return out


def write_case(case: dict, folder: str | Path) -> Path:
    """Materialise a case as a bundle folder (files as UTF-8 text)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in case["files"].items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def golden_text() -> str:
    codes = dict(contracts.PROBLEM_CODES)
    return json.dumps({"generator": "edgekit android golden", "codes": codes, "cases": bundle_cases()},
                      indent=1, ensure_ascii=True) + "\n"
