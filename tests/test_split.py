"""Split invariants: deduplicated, leak-free, stratified, deterministic, hashed."""

from __future__ import annotations

import pytest

from edgekit.data import Splits, load_dataset, split_dataset
from edgekit.data.split import dedup_key
from edgekit.errors import DataError


@pytest.fixture(scope="module")
def fpb75(fpb_dir):
    return load_dataset(fpb_dir / "Sentences_75Agree.txt")


def test_no_sentence_in_two_splits_and_duplicates_dropped(fpb75):
    splits = split_dataset(fpb75, seed=7)
    keys = [{dedup_key(t) for t in part.texts} for part in splits]
    assert not (keys[0] & keys[1]) and not (keys[0] & keys[2]) and not (keys[1] & keys[2])
    assert sum(len(k) for k in keys) == sum(len(p) for p in splits) == 3448  # 5 exact duplicates dropped
    assert splits.info["dedup"]["duplicates_dropped"] == 5


def test_label_proportions_kept(fpb75):
    splits = split_dataset(fpb75, (0.8, 0.1, 0.1), seed=1)
    total = {k: sum(p.counts()[k] for p in splits) for k in fpb75.labels}
    for part, frac in zip(splits, (0.8, 0.1, 0.1)):
        for label, n in part.counts().items():
            assert abs(n - frac * total[label]) <= 1, (part.name, label)


def test_same_seed_same_split_other_seed_other_split(fpb75):
    a, b, c = (split_dataset(fpb75, seed=s) for s in (3, 3, 4))
    assert a.info["sha256"] == b.info["sha256"]
    assert [p.texts for p in a] == [p.texts for p in b]
    assert a.info["sha256"]["test"] != c.info["sha256"]["test"]


def test_conflicting_labels_are_dropped(fpb_dir):
    splits = split_dataset(load_dataset(fpb_dir / "Sentences_50Agree.txt"))
    assert splits.info["dedup"]["conflicting_sentences_dropped"] == 2


def test_save_and_load_round_trip(tmp_path, fpb75):
    splits = split_dataset(fpb75, seed=5)
    splits.save(tmp_path / "split")
    again = Splits.load(tmp_path / "split")
    assert [p.sha256 for p in again] == [p.sha256 for p in splits]
    assert again.info["seed"] == 5
    with pytest.raises(FileExistsError):
        splits.save(tmp_path / "split")


def test_bad_fractions(fpb75):
    with pytest.raises(DataError, match="fractions"):
        split_dataset(fpb75, (0.5, 0.5, 0.5))
