"""A Hugging Face folder run by PyTorch on given token ids: the logits, and its own tokenizer's ids.

A standalone script — the standard library, numpy, torch and transformers, no edgekit import — run by
path in its own process by :mod:`.parity` (TensorFlow and torch in one process can crash: triton's
native module segfaults when imported after TensorFlow), so the torch Python may be another
environment than edgekit's::

    python torch_reference.py --folder HF_FOLDER --inputs probes.json --out reference.json

``probes.json``: ``{"texts": [...], "batches": [{"ids": [[...]], "mask": [[...]], "segment_ids": [[...]]}],
"max_length": L}``. ``reference.json``: ``{"logits": [[...]], "tokenizer_ids": [[...]] | null,
"tokenizer_error": str | null, "torch": version, "transformers": version}``. A folder transformers
cannot load: exit 2 with one line on stderr.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from pathlib import Path
from typing import Sequence


class LoadError(Exception):
    """A folder transformers cannot load; one line for the host."""


def first_line(exc: BaseException) -> str:
    return next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)[:300]


def run(folder: Path, probes: dict) -> dict:
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    try:
        model = transformers.AutoModelForSequenceClassification.from_pretrained(str(folder))
    except Exception as exc:  # transformers raises OSError, ValueError, KeyError... for what it cannot load
        raise LoadError(f"transformers cannot load {folder}: {first_line(exc)}") from None
    model = model.float().eval()
    takes_segments = "token_type_ids" in inspect.signature(model.forward).parameters  # DistilBERT: no
    logits = []
    with torch.no_grad():
        for batch in probes["batches"]:
            inputs = {"input_ids": torch.tensor(batch["ids"]), "attention_mask": torch.tensor(batch["mask"])}
            if takes_segments:
                inputs["token_type_ids"] = torch.tensor(batch["segment_ids"])
            logits += model(**inputs).logits.double().tolist()
    record = {"logits": logits, "tokenizer_ids": None, "tokenizer_error": None, "torch": torch.__version__,
              "transformers": transformers.__version__}
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    except Exception as exc:  # as above
        record["tokenizer_error"] = first_line(exc)
        return record
    record["tokenizer_ids"] = [tokenizer(text, truncation=True, max_length=probes["max_length"])["input_ids"]
                               for text in probes["texts"]]
    return record


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--folder", required=True, type=Path)
    p.add_argument("--inputs", required=True, type=Path)
    p.add_argument("--out", required=True, type=Path)
    args = p.parse_args(argv)
    try:
        record = run(args.folder, json.loads(args.inputs.read_text(encoding="utf-8")))
    except LoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.write_text(json.dumps(record), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
