"""Fine-tune a MiniLM classifier with plain PyTorch + transformers, outside edgekit (issue 16 benchmark).

Standalone: run it with a Python that has torch and transformers; it never imports TensorFlow
(transformers and torch crash in a process that has loaded it). It reads a split folder written by
``edgekit data split`` (train/validation/test.jsonl + split.json) and tokenizes with edgekit's
pure-Python WordPiece tokenizer (``edgekit.tokenizer``, standard library only) when the repository is
importable, so the fine-tune and the imported TFLite model see the same token ids.

Recipe (the usual Hugging Face sequence-classification one): AutoModelForSequenceClassification on the
backbone folder, AdamW (weight decay 0.01, none on biases and LayerNorm), linear warm-up over 10 % of
the steps then linear decay to 0, lr 5e-5, batch 32, max length 64, seed 42; the epoch with the best
validation macro-F1 is kept. Writes an HF folder (``save_pretrained`` + the backbone's tokenizer files,
id2label from split.json) and ``finetune.json`` with the test macro-F1 and accuracy.

    python benchmarks/hf_finetune.py --split SPLIT_DIR --backbone MINILM_DIR --out OUT_DIR
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, get_linear_schedule_with_warmup

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from edgekit.tokenizer import WordPieceTokenizer  # noqa: E402  (pure Python, no TensorFlow)

TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def read_split(folder: Path, part: str, labels: list[str]) -> tuple[list[str], np.ndarray]:
    rows = [json.loads(line) for line in (folder / f"{part}.jsonl").read_text(encoding="utf-8").splitlines() if line]
    index = {name: i for i, name in enumerate(labels)}
    return [r["text"] for r in rows], np.array([index[r["label"]] for r in rows], dtype=np.int64)


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> float:
    scores = []
    for c in range(n):
        tp = int(np.sum((y_pred == c) & (y_true == c)))
        fp = int(np.sum((y_pred == c) & (y_true != c)))
        fn = int(np.sum((y_pred != c) & (y_true == c)))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def batches(ids: np.ndarray, mask: np.ndarray, y: np.ndarray, size: int, order: np.ndarray):
    for start in range(0, len(order), size):
        pick = order[start:start + size]
        width = int(mask[pick].sum(axis=1).max())  # trim padding columns: same logits, less compute
        yield (torch.from_numpy(ids[pick, :width]).long(), torch.from_numpy(mask[pick, :width]).long(),
               torch.from_numpy(y[pick]))


@torch.no_grad()
def predict(model, ids: np.ndarray, mask: np.ndarray, size: int = 64) -> np.ndarray:
    model.eval()
    out = []
    dummy = np.zeros(len(ids), dtype=np.int64)
    for x, m, _ in batches(ids, mask, dummy, size, np.arange(len(ids))):
        out.append(model(input_ids=x, attention_mask=m).logits.float().numpy())
    return np.concatenate(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", type=Path, required=True, help="folder written by `edgekit data split`")
    ap.add_argument("--backbone", type=Path, required=True, help="HF MiniLM folder (config, weights, vocab)")
    ap.add_argument("--out", type=Path, required=True, help="HF folder to write")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-length", type=int, default=64)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup", type=float, default=0.1, help="fraction of steps for linear warm-up")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)

    labels = json.loads((args.split / "split.json").read_text(encoding="utf-8"))["labels"]
    tok = WordPieceTokenizer.from_file(args.backbone / "vocab.txt")
    data = {}
    for part in ("train", "validation", "test"):
        texts, y = read_split(args.split, part, labels)
        ids, mask, _, _ = tok.encode_batch(texts, args.max_length)
        data[part] = (ids.astype(np.int64), mask.astype(np.int64), y)

    model = AutoModelForSequenceClassification.from_pretrained(
        args.backbone, num_labels=len(labels),
        id2label=dict(enumerate(labels)), label2id={n: i for i, n in enumerate(labels)})
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],
         "weight_decay": args.weight_decay},
        {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=args.lr)
    ids, mask, y = data["train"]
    steps_per_epoch = -(-len(y) // args.batch_size)
    total = steps_per_epoch * args.epochs
    scheduler = get_linear_schedule_with_warmup(optimizer, int(args.warmup * total), total)
    rng = np.random.default_rng(args.seed)

    best_f1, best_state, history = -1.0, None, []
    for epoch in range(1, args.epochs + 1):
        model.train()
        start, losses = time.time(), []
        for x, m, t in batches(ids, mask, y, args.batch_size, rng.permutation(len(y))):
            loss = model(input_ids=x, attention_mask=m, labels=t).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            losses.append(loss.item())
        vi, vm, vy = data["validation"]
        val_f1 = macro_f1(vy, predict(model, vi, vm).argmax(1), len(labels))
        history.append({"epoch": epoch, "loss": float(np.mean(losses)), "val_macro_f1": val_f1,
                        "seconds": round(time.time() - start, 1)})
        print(json.dumps(history[-1]), flush=True)
        if val_f1 > best_f1:
            best_f1, best_state = val_f1, copy.deepcopy(model.state_dict())

    model.load_state_dict(best_state)
    ti, tm, ty = data["test"]
    pred = predict(model, ti, tm).argmax(1)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out)
    for name in TOKENIZER_FILES:
        if (args.backbone / name).is_file():
            shutil.copyfile(args.backbone / name, args.out / name)
    result = {
        "test_macro_f1": macro_f1(ty, pred, len(labels)),
        "test_accuracy": float(np.mean(pred == ty)),
        "best_epoch": max(history, key=lambda h: h["val_macro_f1"])["epoch"],
        "best_val_macro_f1": best_f1,
        "history": history,
        "labels": labels,
        "recipe": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "torch": torch.__version__,
    }
    (args.out / "finetune.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("test_macro_f1", "test_accuracy", "best_epoch")}))


if __name__ == "__main__":
    main()
