"""Shared fixtures: real data through a path (never copied into the repo), real vocab, tiny models."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parent.parent
FPB_DIR = Path(os.environ.get("EDGEKIT_FPB_DIR", REPO.parent / "shared" / "data" / "financial_phrasebank"))
TINY_BACKBONE = "random:layers=2,hidden=64,heads=2,intermediate=128,max_len=128"


@pytest.fixture(autouse=True)
def edgekit_logger_as_a_library_has_it():
    """A command run in-process (CliRunner) sets edgekit's logger up for a terminal (edgekit.cli.quiet: its own
    handler, no propagation); every test starts and ends with it as a library user has it, so ``caplog`` sees it."""
    logger = logging.getLogger("edgekit")
    saved = logger.level, logger.propagate, list(logger.handlers)
    yield
    logger.setLevel(saved[0])
    logger.propagate = saved[1]
    logger.handlers[:] = saved[2]


@pytest.fixture(scope="session")
def fpb_dir() -> Path:
    if not (FPB_DIR / "Sentences_75Agree.txt").is_file():
        pytest.fail(f"Financial PhraseBank not found at {FPB_DIR} (set EDGEKIT_FPB_DIR)")
    return FPB_DIR


@pytest.fixture(scope="session")
def vocab_path() -> Path:
    from edgekit.models.backbones import minilm_dir

    return minilm_dir() / "vocab.txt"


@pytest.fixture(scope="session")
def tokenizer(vocab_path):
    from edgekit.tokenizer import WordPieceTokenizer

    return WordPieceTokenizer.from_file(vocab_path)


@pytest.fixture(scope="session")
def default_splits():
    from edgekit.data import split_dataset
    from edgekit.data.default import load_default

    return split_dataset(load_default(), seed=42)


@pytest.fixture(scope="session")
def tiny_teacher_dir(tmp_path_factory, default_splits) -> Path:
    """A tiny randomly initialised BERT fine-tuned on the embedded default data (seconds)."""
    from edgekit.train.loop import TrainConfig
    from edgekit.train.teacher import train_teacher

    out = tmp_path_factory.mktemp("models") / "tiny-teacher"
    train_teacher(default_splits, out, backbone=TINY_BACKBONE,
                  config=TrainConfig(epochs=12, learning_rate=1e-3, batch_size=16, max_length=64, patience=4),
                  progress=False)
    return out


@pytest.fixture(scope="session")
def minilm_teacher(tmp_path_factory, fpb_dir):
    """The real pretrained MiniLM backbone fine-tuned briefly on a Financial PhraseBank subset.

    Returns ``(model_dir, splits)``; the splits are the small ones it was trained on. Shared by the
    slow tests of training and conversion so the backbone is fine-tuned once per session.
    """
    from edgekit.data import load_dataset, split_dataset
    from edgekit.data.split import Splits
    from edgekit.train.loop import TrainConfig
    from edgekit.train.teacher import train_teacher

    full = split_dataset(load_dataset(fpb_dir / "Sentences_75Agree.txt"), seed=11)
    small = Splits(full.train.head(640), full.validation.head(160), full.test.head(240), full.info)
    for part, name in zip(small, ("train", "validation", "test")):
        part.notes["split"] = name
    out = tmp_path_factory.mktemp("models") / "minilm"
    train_teacher(small, out, backbone="default",
                  config=TrainConfig(epochs=3, learning_rate=1e-4, batch_size=32, max_length=48, patience=3),
                  progress=False)
    return out, small
