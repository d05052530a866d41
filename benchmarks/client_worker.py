"""One standard client classifying sentences with one task file; run by :mod:`edgekit.benchmarks.clients`.

Runs inside the clients' own venv (MediaPipe and tflite-support pin protobuf versions TensorFlow's
stack cannot share), so it imports nothing from edgekit: the standard library and the client only.
One process per (client, file): a client that aborts or crashes on a file (tflite-support 0.4.4 on a
per-channel dynamic-int8 file, BertNLClassifier on an output not named ``probability``) takes only
this process down, and the caller reports the file as not loading.

    python client_worker.py CLIENT MODEL.tflite TEXTS.json

``TEXTS.json`` is a JSON list of sentences. Prints one JSON object on stdout: ``{"client", "version",
"loads": true, "scores": [{label: score, ...} per sentence]}`` or ``{"loads": false, "error": "..."}``;
exit code 3 (one line on stdout) when the client itself does not import.
The scores are what the client returns (the model's logits: neither client applies softmax).
"""

from __future__ import annotations

import json
import os
import sys
from importlib import metadata
from typing import Callable

# tflite-support 0.4.4's generated protobuf modules predate protobuf 4, which MediaPipe needs; the
# pure-Python protobuf runs both (docs/toolchain.md §5.9)
os.environ.setdefault("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")


def _scores(categories) -> dict[str, float]:
    return {c.category_name: float(c.score) for c in categories}


def _mediapipe(model: str) -> Callable[[str], dict[str, float]]:
    from mediapipe.tasks.python.core.base_options import BaseOptions
    from mediapipe.tasks.python.text import TextClassifier, TextClassifierOptions

    clf = TextClassifier.create_from_options(TextClassifierOptions(base_options=BaseOptions(model_asset_path=model)))
    return lambda text: _scores(clf.classify(text).classifications[0].categories)


def _tflite_support(model: str) -> Callable[[str], dict[str, float]]:
    from tflite_support.task.core import BaseOptions
    from tflite_support.task.text import BertNLClassifier, BertNLClassifierOptions

    clf = BertNLClassifier.create_from_options(BertNLClassifierOptions(base_options=BaseOptions(file_name=model)))
    return lambda text: _scores(clf.classify(text).classifications[0].categories)


# client name → (its distribution on PyPI, the class used, how to build a classify function)
CLIENTS: dict[str, tuple[str, str, Callable[[str], Callable[[str], dict[str, float]]]]] = {
    "mediapipe": ("mediapipe", "MediaPipe Tasks TextClassifier", _mediapipe),
    "tflite-support": ("tflite-support", "TFLite Task Library BertNLClassifier", _tflite_support),
}


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in CLIENTS:
        print(f"usage: client_worker.py {{{','.join(CLIENTS)}}} MODEL.tflite TEXTS.json", file=sys.stderr)
        return 2
    client, model, texts_path = argv
    dist, what, make = CLIENTS[client]
    try:
        version = metadata.version(dist)
    except metadata.PackageNotFoundError:
        version = None
    out: dict = {"client": what, "package": dist, "version": version}
    with open(texts_path, encoding="utf-8") as f:
        texts = json.load(f)
    try:
        classify = make(model)
    except ImportError as exc:  # the venv lacks the client: exit code 3, not an answer about the file
        print(f"{dist} does not import here ({exc})")
        return 3
    except Exception as exc:  # the client refuses the file: that is the answer, not a failure of this script
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        out.update(loads=False, error=f"{type(exc).__name__}: {lines[0] if lines else ''}")
        print(json.dumps(out))
        return 0
    out.update(loads=True, scores=[classify(t) for t in texts])
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
