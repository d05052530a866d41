"""edgekit's runtime layer: what runs a bundle, on a workstation or on a device.

One module per job, each importing the standard library, numpy and (lazily) a TFLite runtime only,
so the whole folder is part of the runner's device payload (:mod:`edgekit.benchmarks.payload`):

* :mod:`.bundle` — read and validate a bundle folder against the manifest contract;
* :mod:`.interpreters` — pick the TFLite interpreter (LiteRT → tflite-runtime → tf.lite);
* :mod:`.model` — a .tflite file's bucket signatures loaded into that interpreter;
* :mod:`.buckets` — the one bucket rule (smallest length that holds the tokens);
* :mod:`.evaldata` — a labelled eval file checked against a bundle's labels, and its identity;
* :mod:`.device` — the machine a result was measured on, and the process's peak memory;
* :mod:`.measure` — the timed loop over eval sentences (tokenization, first inference, warm-up);
* :mod:`.records` — the one result-record builder, and the results JSONL reader/writer;
* :mod:`.units` — the one meaning of "MB" (10⁶ bytes).

The converters' parity gate and calibration, the benchmark runner, the harness, the Keras
baseline, the report and the Android helpers all use these modules; ``docs/contracts.md`` describes
the bundle and the record they read and write.
"""
