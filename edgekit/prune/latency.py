"""Measured latency of a pruned shape, for the ``--latency`` budget of ``edgekit prune``.

Latency is not a function of the parameter count (embedding rows cost memory, not time; attention costs grow
with the sentence length), so a latency budget is met by measuring: :class:`LatencyProbe` slices the source
model to a shape (which heads and neurons does not matter for time, so the first ones), exports one signature
at ``length`` tokens, converts it to dynamic int8 — the mode a device runs a BERT in — and times it in the
LiteRT interpreter at one thread (median of ``runs`` invokes after warm-up). Each shape is measured once per
probe; the budget search (:func:`edgekit.prune.targets.resolve_shape`) visits about log2 of the candidate
shapes. The source model itself is measured the same way, so the budget is a share of like against like.
"""

from __future__ import annotations

import logging
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from .plan import Plan, Shape

logger = logging.getLogger(__name__)

SIGNATURE = "serving_probe"


class LatencyProbe:
    def __init__(self, source, length: int = 64, runs: int = 30, warmup: int = 5, threads: int = 1) -> None:
        self.source = source
        self.length = int(length)
        self.runs, self.warmup, self.threads = runs, warmup, threads
        self.measured: dict[Shape, float] = {}

    def __call__(self, shape: Shape) -> float:
        """Median dynamic-int8 latency in ms of the source model pruned to ``shape``."""
        if shape not in self.measured:
            t0 = time.perf_counter()
            self.measured[shape] = self._measure(shape)
            logger.info(f"latency of {shape.to_dict()} at {self.length} tokens: {self.measured[shape]:.3f} ms "
                        f"(measured in {time.perf_counter() - t0:.0f}s)")
        return self.measured[shape]

    def record(self) -> dict:
        return {"mode": "dynamic_int8", "length": self.length, "threads": self.threads, "runs": self.runs,
                "measured_ms": [{**s.to_dict(), "ms": round(ms, 4)} for s, ms in self.measured.items()]}

    def _measure(self, shape: Shape) -> float:
        from dataclasses import replace

        from ..converters.exporters import export_saved_model, get_exporter
        from ..converters.modes import ConvertJob, get_mode
        from ..models.registry import get_family
        from ..runtime.measure import measure_repeated
        from ..runtime.model import SignatureModel

        pruner = get_family(self.source.family).pruner
        full = pruner.shape_of(self.source.model)
        model = self.source.model
        if shape != full:
            model = pruner.apply(model, Plan(tuple(range(shape.layers)), (tuple(range(shape.heads)),) * shape.layers,
                                             (tuple(range(shape.ffn)),) * shape.layers))
        work = Path(tempfile.mkdtemp(prefix="edgekit-latency-"))
        try:
            export_saved_model(get_exporter(self.source.family), replace(self.source, model=model),
                               [(self.length, SIGNATURE)], work / "saved_model")
            tflite = get_mode("dynamic_int8").convert(ConvertJob(str(work / "saved_model"), (SIGNATURE,))).model
            (work / "probe.tflite").write_bytes(tflite)
            runner = SignatureModel(work / "probe.tflite", [SIGNATURE], threads=self.threads)
            feeds = (np.full(self.length, 1000, np.int32), np.ones(self.length, np.int32),
                     np.zeros(self.length, np.int32))
            # the first run is one of the warm-up runs
            _, times = measure_repeated(lambda f: runner.run(SIGNATURE, *f), feeds, self.runs, self.warmup - 1)
            return float(statistics.median(times))
        finally:
            shutil.rmtree(work, ignore_errors=True)
