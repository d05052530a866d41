"""Make a converted file smaller without changing what it computes.

* **One buffer per distinct constant.** The TF converter's full-integer path quantizes each bucket's signature on its own, so a constant that
every signature reads can come out as several byte-identical buffers (the BiLSTM's int8 embedding table
came out twice, 1.95 MB each). :func:`dedupe_constants` points every tensor whose data equals an earlier
buffer's at that buffer and drops the copies. Tensors keep their own type, shape and quantization, so the
interpreter computes exactly what it computed before; only the storage is shared.
* **Short tensor names.** The quantizer names a tensor after every op fused into it, joined by ``;``: in
  the BiLSTM's unrolled int8 file those names took 3.4 MB of 7.0 (one name held 7,315 characters).
  :func:`short_names` keeps each name's first part (``bilstm_1/backward_lstm_1/unstack_1``). Names are
  labels for people and tools: the runtime finds a signature's inputs and outputs by index, and those
  names (``serving_default_ids:0``, ``StatefulPartitionedCall:0``) have a single part and stay as they are.
"""

from __future__ import annotations

import hashlib


def _merge_constants(m, schema) -> dict:
    """Point every tensor whose buffer repeats an earlier buffer's bytes at that buffer (in place)."""
    first: dict[tuple[str, int], int] = {}
    remap: dict[int, int] = {}
    for index, buf in enumerate(m.buffers):
        if buf.data is None or len(buf.data) == 0:
            continue
        raw = bytes(buf.data)
        key = (hashlib.sha256(raw).hexdigest(), len(raw))
        if key in first:
            remap[index] = first[key]
        else:
            first[key] = index
    saved = sum(len(m.buffers[i].data) for i in remap)
    for sg in m.subgraphs:
        for t in sg.tensors:
            t.buffer = remap.get(t.buffer, t.buffer)
    for index in remap:  # an empty buffer keeps the indices of every other buffer valid
        m.buffers[index] = schema.BufferT()
    return {"merged_buffers": len(remap), "saved_bytes": saved}


def _shorten_names(m) -> dict:
    """Cut every ``;``-joined tensor name to its first part (in place)."""
    saved = 0
    for sg in m.subgraphs:
        for t in sg.tensors:
            if t.name and b";" in t.name:
                short = t.name.split(b";", 1)[0]
                saved += len(t.name) - len(short)
                t.name = short
    return {"shortened_name_bytes": saved}


def _rewrite(model: bytes, *passes) -> tuple[bytes, dict]:
    """``model`` through ``passes`` (each edits the flatbuffer object and reports what it saved), read and
    written once; the bytes are returned unchanged when no pass saved anything."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    m = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
    facts: dict = {}
    for run in passes:
        facts.update(run(m, schema))
    if not any(facts.values()):
        return model, facts
    return bytes(flatbuffer_utils.convert_object_to_bytearray(m)), facts


def dedupe_constants(model: bytes) -> tuple[bytes, dict]:
    """``model`` with byte-identical constant buffers merged, and what it saved (for the manifest)."""
    return _rewrite(model, _merge_constants)


def short_names(model: bytes) -> tuple[bytes, dict]:
    """``model`` with every ``;``-joined tensor name cut to its first part, and the bytes saved."""
    return _rewrite(model, lambda m, schema: _shorten_names(m))


def compact(model: bytes) -> tuple[bytes, dict]:
    """Both passes, shared constants then short names, in one read and one write of the file; returns it
    and what each pass saved."""
    return _rewrite(model, _merge_constants, lambda m, schema: _shorten_names(m))
