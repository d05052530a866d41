"""TFLite metadata for the task files (:mod:`.task_files`): tflite-support 0.4.4's ``bert_nl_classifier`` writer.

MediaPipe Tasks ``TextClassifier`` and the Task Library's ``BertNLClassifier`` read the BERT tokenizer
options, the packed vocab.txt and labels.txt from the file's metadata (docs/toolchain.md §5.2-5.3); the
writer names the output ``probability`` (the name BertNLClassifier expects) and matches the inputs by
TFLite tensor name.

tflite-support 0.4.4 cannot be installed beside TensorFlow 2.21 with its dependencies (it pins
protobuf 3.20). Install it without them, e.g. ``pip install --no-deps --target DIR tflite-support==0.4.4``
and point ``EDGEKIT_TFLITE_SUPPORT_PATH`` at DIR (default: ``.cache/tflite-support`` in the checkout). Its two native helpers need
libusb on this machine; edgekit then substitutes a pure-Python version of the one the writer uses (the
minimum-metadata-parser-version rule of tflite-support's metadata_version.cc). Without tflite-support
a task file is still written, without metadata, and the manifest says so.
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

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

