"""Fuzzing the bundle reader (Hypothesis, bounded and derandomized for CI): a manifest.json of arbitrary
bytes, and the valid golden bundle with arbitrary JSON values put at arbitrary places of its manifest, or
its text files replaced by arbitrary bytes. Whatever the bundle, opening it and verifying every mode
either works or raises BundleError with one line and a known rule code — never another exception."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgekit import bundlecases, contracts
from edgekit.runtime.bundle import Bundle, BundleError

FUZZ = settings(derandomize=True, database=None, deadline=None, print_blob=False, max_examples=150,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
MANIFEST, FILES = bundlecases.valid_bundle()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8)


def _paths(node, prefix=()):
    """Every place of the manifest a value sits (dicts and lists, to any depth)."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, prefix + (i,))


PATHS = [p for p in _paths(MANIFEST) if p]


def _replace(manifest: dict, path: tuple, value) -> dict:
    out = copy.deepcopy(manifest)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def _open_everything(folder: Path) -> None:
    try:
        bundle = Bundle.open(folder)
        for mode in bundle.modes:
            bundle.verify(mode)
    except BundleError as exc:
        assert exc.code in contracts.PROBLEM_CODES, exc.code
        assert len(str(exc).splitlines()) == 1, str(exc)


def _write(folder: Path, manifest_bytes: bytes, files: dict[str, bytes]) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / contracts.MANIFEST_NAME).write_bytes(manifest_bytes)
    return folder


TEXT_FILES = {name: text.encode("utf-8") for name, text in FILES.items()}


@FUZZ
@given(data=st.binary(max_size=300))
def test_a_manifest_of_arbitrary_bytes(tmp_path, data):
    _open_everything(_write(tmp_path / "b", data, TEXT_FILES))


@FUZZ
@given(path=st.sampled_from(PATHS), value=json_values)
def test_any_value_anywhere_in_the_manifest(tmp_path, path, value):
    manifest = _replace(MANIFEST, path, value)
    _open_everything(_write(tmp_path / "b", json.dumps(manifest).encode("utf-8"), TEXT_FILES))


@FUZZ
@given(name=st.sampled_from(sorted(TEXT_FILES)), data=st.binary(max_size=200))
def test_any_bytes_in_any_file(tmp_path, name, data):
    files = {**TEXT_FILES, name: data}
    _open_everything(_write(tmp_path / "b", json.dumps(MANIFEST).encode("utf-8"), files))
