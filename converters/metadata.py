"""The single-signature file with TFLite metadata for standard BERT-classifier clients.

MediaPipe Tasks ``TextClassifier`` and the Task Library's ``BertNLClassifier`` need exactly three int32
inputs (ids, mask, segment_ids), a float ``[1, N]`` output, a *single* subgraph and TFLite metadata with
the BERT tokenizer, the packed vocab.txt and labels.txt (docs/toolchain.md §5.2). The bucketed files cannot serve
them (MediaPipe rejects several signatures), so a bundle of a BERT model also carries
``model_<mode>_task.tflite``: one ``[1, metadata_length]`` signature, converted in ``metadata_mode``
(default fp16, which loads in every client; dynamic int8 is written with per-tensor dense weights, the
variant tflite-support 0.4.4 loads, but on the MiniLM teacher it agreed with Keras on only 97 %), gated
like every other file, with metadata written by tflite-support 0.4.4's ``bert_nl_classifier`` writer
(output named ``probability``: the name BertNLClassifier expects).

tflite-support 0.4.4 cannot be installed beside TensorFlow 2.21 with its dependencies (it pins
protobuf 3.20). Install it without them, e.g. ``pip install --no-deps --target DIR tflite-support==0.4.4``
and point ``EDGEKIT_TFLITE_SUPPORT_PATH`` at DIR (default: ``.cache/tflite-support`` in the checkout). Its two native helpers need
libusb on this machine; edgekit then substitutes a pure-Python version of the one the writer uses (the
minimum-metadata-parser-version rule of tflite-support's metadata_version.cc). Without tflite-support
the file is still written, without metadata, and the manifest says so.
"""

from __future__ import annotations

import logging
import os
import sys
import types
from pathlib import Path

from ..contracts import LABELS_NAME, VOCAB_NAME
from ..errors import EdgekitError
from ..fsutil import atomic_write_bytes, sha256_file
from ..runtime.units import megabytes

logger = logging.getLogger(__name__)

SIGNATURE = "serving_default"
# where `make tflite-support` / the README's pip --target line puts it (outside site-packages)
DEFAULT_PATH = Path(__file__).resolve().parent.parent / ".cache" / "tflite-support"


def _min_parser_version(buffer: bytes) -> str:
    """tflite-support's rule: the newest schema member the metadata uses decides the version."""
    from tensorflow_lite_support.metadata import metadata_schema_py_generated as fb  # type: ignore

    md = fb.ModelMetadata.GetRootAsModelMetadata(buffer, 0)
    version = (1, 0, 0)

    def bump(v):
        nonlocal version
        version = max(version, v)

    def files(n, get):
        for i in range(n):
            if get(i).Type() == fb.AssociatedFileType.VOCABULARY:
                bump((1, 0, 1))

    def units(n, get):
        for i in range(n):
            t = get(i).OptionsType()
            if t in (fb.ProcessUnitOptions.BertTokenizerOptions, fb.ProcessUnitOptions.SentencePieceTokenizerOptions):
                bump((1, 1, 0))
            if t == getattr(fb.ProcessUnitOptions, "RegexTokenizerOptions", -1):
                bump((1, 2, 1))

    def tensors(n, get):
        for i in range(n):
            tm = get(i)
            files(tm.AssociatedFilesLength(), tm.AssociatedFiles)
            units(tm.ProcessUnitsLength(), tm.ProcessUnits)
            c = tm.Content()
            if c is not None and c.ContentPropertiesType() == getattr(fb.ContentProperties, "AudioProperties", -1):
                bump((1, 3, 0))

    for s in range(md.SubgraphMetadataLength()):
        sg = md.SubgraphMetadata(s)
        tensors(sg.InputTensorMetadataLength(), sg.InputTensorMetadata)
        tensors(sg.OutputTensorMetadataLength(), sg.OutputTensorMetadata)
        files(sg.AssociatedFilesLength(), sg.AssociatedFiles)
        if not sg.InputProcessUnitsIsNone():
            bump((1, 1, 0))
            units(sg.InputProcessUnitsLength(), sg.InputProcessUnits)
        if not sg.OutputProcessUnitsIsNone():
            bump((1, 1, 0))
            units(sg.OutputProcessUnitsLength(), sg.OutputProcessUnits)
        if not sg.InputTensorGroupsIsNone() or not sg.OutputTensorGroupsIsNone():
            bump((1, 2, 0))
    files(md.AssociatedFilesLength(), md.AssociatedFiles)
    return ".".join(str(v) for v in version)


def _shim_native_modules() -> None:
    pkg = "tensorflow_lite_support.metadata"
    ver = types.ModuleType(f"{pkg}.cc.python._pywrap_metadata_version")
    ver.GetMinimumMetadataParserVersion = lambda buf: _min_parser_version(bytes(buf))  # type: ignore[attr-defined]
    flat = types.ModuleType(f"{pkg}.flatbuffers_lib._pywrap_flatbuffers")

    def _unavailable(*a, **k):
        raise RuntimeError("metadata → JSON display needs tflite-support's native flatbuffers helper")

    flat.IDLOptions = flat.Parser = flat.generate_text = _unavailable  # type: ignore[attr-defined]
    import importlib

    for full, mod in ((ver.__name__, ver), (flat.__name__, flat)):
        parent_name, _, leaf = full.rpartition(".")
        parent = importlib.import_module(parent_name)
        sys.modules[full] = mod
        setattr(parent, leaf, mod)


def load_writer():
    """``(bert_nl_classifier, metadata_info, how)`` from tflite-support 0.4.4, or raise ImportError."""
    extra = os.environ.get("EDGEKIT_TFLITE_SUPPORT_PATH") or str(DEFAULT_PATH)
    if Path(extra).is_dir() and extra not in sys.path:
        sys.path.append(extra)
    # the writers themselves, not the tflite_support package (whose __init__ loads every Task native module)
    try:
        from tensorflow_lite_support.metadata.python.metadata_writers import (  # type: ignore
            bert_nl_classifier, metadata_info)
        return bert_nl_classifier, metadata_info, "tflite-support 0.4.4"
    except ImportError as exc:
        if "libusb" not in str(exc) and "_pywrap" not in str(exc):
            raise
    for name in [m for m in sys.modules if m.startswith("tensorflow_lite_support.metadata.python")]:
        del sys.modules[name]
    _shim_native_modules()
    from tensorflow_lite_support.metadata.python.metadata_writers import (  # type: ignore
        bert_nl_classifier, metadata_info)
    return bert_nl_classifier, metadata_info, "tflite-support 0.4.4 (pure-Python metadata-version helper)"


def add_metadata(model_bytes: bytes, vocab_path: Path, labels_path: Path, tensor_names: dict[str, str]) -> tuple[bytes, str]:
    bert_nl_classifier, metadata_info, how = load_writer()
    writer = bert_nl_classifier.MetadataWriter.create_for_inference(
        model_bytes, metadata_info.BertTokenizerMd(str(vocab_path)), [str(labels_path)],
        ids_name=tensor_names["ids"], mask_name=tensor_names["mask"], segment_name=tensor_names["segment_ids"])
    return writer.populate(), how


def write_task_library_file(loaded, exporter, bundle_tmp: Path, work: Path, check, options, progress) -> dict:
    """Export, convert, gate and annotate the single-signature file; returns its manifest entry."""
    from .exporters import export_saved_model
    from .modes import ConvertJob, get_mode
    from .parity import ParityError, check_file
    from .tflite_file import read_tflite

    mode = get_mode(options.metadata_mode)
    if mode.needs_calibration:
        raise EdgekitError(f"--metadata-mode {mode.name}: use a mode without calibration (fp32, fp16, dynamic_int8)")
    length = int(options.metadata_length)
    if options.buckets[-1] < length:
        length = options.buckets[-1]
    logger.info(f"[task] single-signature [1,{length}] {mode.name} file with TFLite metadata "
                "(MediaPipe / Task Library)")
    sm = work / "saved_model_task"
    export_saved_model(exporter, loaded, [(length, SIGNATURE)], sm, "float", {})
    job = ConvertJob(str(sm), (SIGNATURE,), per_tensor_dense=mode.name == "dynamic_int8")
    model_bytes = mode.convert(job).model
    info = read_tflite(model_bytes)
    ins, _ = info.signature_io(info.signatures[0])
    names = {k: t.name for k, t in ins.items()}
    # vocab and labels as files for the writer to pack (the bundle's copies are written afterwards)
    vocab, labels = work / VOCAB_NAME, work / LABELS_NAME
    vocab.write_text("\n".join(loaded.tokenizer.vocab) + "\n", encoding="utf-8")
    labels.write_text("\n".join(loaded.labels) + "\n", encoding="utf-8")
    entry: dict = {"mode": mode.name, "signature": SIGNATURE, "length": length,
                   "per_tensor_dense_weights": mode.name == "dynamic_int8",
                   "clients": ["MediaPipe Tasks TextClassifier", "TFLite Task Library BertNLClassifier"],
                   "client_tokenizer_note": "these clients lower-case but do not strip accents; this model was "
                                            f"trained with strip_accents={loaded.tokenizer.strip_accents}"}
    try:
        model_bytes, how = add_metadata(model_bytes, vocab, labels, names)
        entry.update({"metadata": True, "metadata_writer": how, "status": "with metadata"})
        name = f"model_{mode.name}_task.tflite"
    except Exception as exc:  # ImportError or a writer failure: keep the file, say why
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
        entry.update({"metadata": False, "status": f"no metadata: tflite-support unavailable ({first[:160]})"})
        name = f"model_{mode.name}_single.tflite"
        logger.warning(f"    metadata skipped: {entry['status']}")
    path = atomic_write_bytes(bundle_tmp / name, model_bytes)
    figures = check_file(path, check, [(length, SIGNATURE)], mode.thresholds.replace(
        **options.thresholds.get(mode.name, {})), threads=options.threads,
        progress="parity task file" if progress else None)
    if not figures["passed"]:
        raise ParityError("parity gate failed for the task-library file: " + "; ".join(figures["failures"]))
    logger.info(f"    {megabytes(path.stat().st_size):.1f} MB, agreement {figures['argmax_agreement']:.4f} "
                f"({entry['status']})")
    entry.update({"file": name, "bytes": path.stat().st_size, "sha256": sha256_file(path), "parity": figures})
    return entry
