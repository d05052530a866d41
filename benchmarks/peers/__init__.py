"""Peers: other runtimes measured on the same weights, sentences and threads as edgekit's files.

ONNX Runtime (the ``edgekit[onnx]`` extra) is the one peer today, in four modules with one job each:

* :mod:`.onnx_export` — a standalone script (torch + transformers + onnx + onnxruntime, no edgekit
  import) that turns a Hugging Face folder into fused fp32 and dynamic int8 ONNX files;
* :mod:`.ort_files` — on the host: where the Hugging Face form comes from, running that script, the
  cache keyed by the weights' sha256 and the choice between the per-tensor and per-channel int8 files;
* :mod:`.ort_session` — an ONNX Runtime session fed with edgekit's tokenizer (onnxruntime + numpy);
* :mod:`.ort_runner` — the measuring process (``python -m edgekit.benchmarks.peers.ort_runner``): one
  ORT mode on one eval file, one result record; torch is never imported there;
* :mod:`.ort_peer` — what the bench harness asks: is the peer available, which rows, run one.
"""
