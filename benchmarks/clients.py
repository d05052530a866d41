"""Do the standard clients load a bundle's task files, and what do they answer?

    python -m edgekit.benchmarks.clients BUNDLE --data TEST.jsonl --python /work/clientvenv/bin/python

For every task file of the bundle (``task_library`` and ``other_task_files``: single-signature files
with TFLite metadata) and every client — MediaPipe Tasks ``TextClassifier`` and the TFLite Task
Library's ``BertNLClassifier`` — one process of the clients' venv (:mod:`.client_worker`) loads the
file and classifies every sentence of the eval file with the client's own tokenizer. Per file and
client: whether it loads (and why not), macro-F1 and accuracy on the file's labels, and argmax
agreement with the bundle's fp32 file run by edgekit (bucketed, edgekit's tokenizer): what a user of
the client gets against what edgekit's runner gives. Figures in docs/toolchain.md §5.9.

The clients cannot share a venv with TensorFlow (tflite-support 0.4.4 pins protobuf 3.20, MediaPipe
needs protobuf 4): build one with ``python3.11 -m venv DIR && DIR/bin/pip install mediapipe==0.10.21
&& DIR/bin/pip install --no-deps tflite-support==0.4.4`` (Debian needs ``libusb-1.0-0`` for
tflite-support's native helpers) and pass its python with ``--python`` or ``EDGEKIT_CLIENTS_PYTHON``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from ..contracts import task_entries
from ..errors import DataError, EdgekitError
from ..fsutil import atomic_write_json
from ..metrics import classification_report
from ..runtime.bundle import Bundle
from ..runtime.evaldata import load_eval

CLIENTS = ("mediapipe", "tflite-support")
WORKER = Path(__file__).resolve().with_name("client_worker.py")
REFERENCE_MODE = "fp32"


class ClientsError(EdgekitError):
    pass


def run_client(python: str, client: str, model: Path, texts_file: Path, timeout: float) -> dict:
    """One client on one file in its own process: the worker's answer, or why there is none (a crash
    while loading is the file not loading in that client)."""
    try:
        proc = subprocess.run([python, str(WORKER), client, str(model), str(texts_file)], capture_output=True,
                              text=True, timeout=timeout)
    except FileNotFoundError:
        raise ClientsError(f"--python {python}: not found (the clients' venv; see --help)") from None
    except subprocess.TimeoutExpired:
        return {"loads": False, "error": f"no answer within {timeout:.0f} s"}
    if proc.returncode == 3:  # the worker's "client not installed": a broken venv, not a file that fails
        raise ClientsError(f"--python {python}: {proc.stdout.strip() or proc.stderr.strip()}")
    if proc.returncode != 0:
        tail = [ln for ln in proc.stderr.splitlines() if ln.strip()][-1:] or ["no message"]
        how = f"killed by signal {-proc.returncode}" if proc.returncode < 0 else f"exit code {proc.returncode}"
        return {"loads": False, "error": f"the client process crashed ({how}): {tail[0][:200]}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def check_clients(bundle_dir: str | Path, data: str | Path, python: str, clients: Sequence[str] = CLIENTS,
                  limit: int | None = None, timeout: float = 1800.0) -> dict:
    """Every task file of the bundle in every client, scored on ``data`` against the bundle's fp32 file."""
    from ..runtime.model import BundleModel

    bundle = Bundle.open(bundle_dir)
    files = task_entries(bundle.manifest)
    if not files:
        raise ClientsError(f"bundle {bundle.path} has no task files (converted with --no-metadata, or not a BERT "
                           "classifier)")
    if REFERENCE_MODE not in bundle.modes:
        raise ClientsError(f"bundle {bundle.path} has no {REFERENCE_MODE} file to compare the clients with")
    ds = load_eval(data, bundle.labels, limit=limit)
    texts = [e.text for e in ds.examples]
    gold = np.asarray([bundle.labels.index(e.label) for e in ds.examples])
    bundle.verify(REFERENCE_MODE)
    reference = BundleModel(bundle, REFERENCE_MODE)
    ref_pred = np.asarray([int(np.argmax(reference.logits(t))) for t in texts])
    out = {"bundle": str(bundle.path), "model": bundle.name, "data": str(data), "examples": len(texts),
           "reference": {"mode": REFERENCE_MODE, **_quality(gold, ref_pred, bundle.labels)}, "files": []}
    with tempfile.TemporaryDirectory(prefix="edgekit-clients-") as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(texts), encoding="utf-8")
        for where, entry in files.items():
            row = {"manifest": where, "mode": entry.get("mode"), "file": entry["file"],
                   "bytes": (bundle.path / entry["file"]).stat().st_size, "clients": {}}
            for client in clients:
                answer = run_client(python, client, bundle.path / entry["file"], texts_file, timeout)
                result = {k: answer[k] for k in ("client", "version", "loads", "error") if k in answer}
                if answer.get("loads"):
                    pred = np.asarray([bundle.labels.index(max(s, key=s.get)) for s in answer["scores"]])
                    result.update(_quality(gold, pred, bundle.labels),
                                  agreement_with_fp32=float(np.mean(pred == ref_pred)))
                row["clients"][client] = result
            out["files"].append(row)
    return out


def _quality(gold: np.ndarray, pred: np.ndarray, labels: list[str]) -> dict:
    rep = classification_report(gold, pred, labels)
    return {"macro_f1": rep["macro_f1"], "accuracy": rep["accuracy"]}


def render(report: dict) -> str:
    ref = report["reference"]
    w = max([len("file")] + [len(row["file"]) for row in report["files"]])
    lines = [f"{report['model']}: {report['examples']} sentences of {report['data']}; edgekit {ref['mode']}: "
             f"macro-F1 {ref['macro_f1']:.4f}, accuracy {ref['accuracy']:.4f}",
             f"  {'file':<{w}} {'MB':>6}  {'client':<22} {'loads':<5} {'macro-F1':>8} {'accuracy':>8} "
             f"{'agree fp32':>10}"]
    for row in report["files"]:
        for client, r in row["clients"].items():
            if r["loads"]:
                figures = f"{r['macro_f1']:8.4f} {r['accuracy']:8.4f} {r['agreement_with_fp32']:10.4f}"
            else:
                figures = f"  {r.get('error', '')[:90]}"
            name = f"{client} {r.get('version') or ''}".strip()
            lines.append(f"  {row['file']:<{w}} {row['bytes'] / 1e6:6.1f}  {name:<22} "
                         f"{'yes' if r['loads'] else 'no':<5} {figures}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edgekit.benchmarks.clients", description=__doc__.split("\n\n")[0],
                                     epilog="Example: python -m edgekit.benchmarks.clients bundles/teacher --data "
                                            "split/test.jsonl --python /work/clientvenv/bin/python --out clients.json")
    parser.add_argument("bundle", help="bundle folder with task files (edgekit convert's default --task-modes)")
    parser.add_argument("--data", required=True, help="labelled eval file (JSONL text/label, TSV/CSV, FPB)")
    parser.add_argument("--python", default=os.environ.get("EDGEKIT_CLIENTS_PYTHON"),
                        help="python of the clients' venv (mediapipe + tflite-support); default "
                             "$EDGEKIT_CLIENTS_PYTHON")
    parser.add_argument("--clients", default=",".join(CLIENTS), help=f"comma-separated subset of {', '.join(CLIENTS)}")
    parser.add_argument("--limit", type=int, default=None, help="only the first N sentences")
    parser.add_argument("--out", default=None, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    try:
        clients = [c.strip() for c in args.clients.split(",") if c.strip()]
        unknown = sorted(set(clients) - set(CLIENTS)) or ([] if clients else ["(none)"])
        if unknown:
            raise ClientsError(f"--clients: unknown {', '.join(unknown)}; known: {', '.join(CLIENTS)}")
        if not args.python:
            raise ClientsError("no clients' python: pass --python or set EDGEKIT_CLIENTS_PYTHON (see --help)")
        if args.limit is not None and args.limit < 1:
            raise DataError("--limit must be >= 1")
        report = check_clients(args.bundle, args.data, args.python, clients, args.limit)
    except EdgekitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(render(report))
    if args.out:
        from ..provenance import stamp

        atomic_write_json(Path(args.out), {**report, **stamp()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
