"""``adb[:serial]``: TFLite's ``benchmark_model`` on an Android device, parsed into a result record.

The user supplies the ``benchmark_model`` binary built for the device (``--benchmark-binary``); the
model file and the binary are pushed to ``/data/local/tmp/edgekit``, one signature (length bucket) is
run with random inputs, and the output is parsed. Latency only: the quality fields of the record are
null (F1 on Android comes from the demo app's own JSON, which is the same record).

:func:`parse_benchmark_output` understands both forms ``benchmark_model`` prints — the per-phase
``count=… first=… curr=… min=… max=… avg=… std=…`` lines (newer builds add ``p5= median= p95=``) and
the ``Inference timings in us: Init: …, First inference: …, Warmup (avg): …, Inference (avg): …``
summary — with or without a log prefix (``INFO:``, logcat's ``I tflite  :``).
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

from ...errors import EdgekitError
from ...runtime.bundle import Bundle
from ...runtime.records import bundle_fields, result_record, synthetic_fields
from . import Job, Target, register

DEVICE_DIR = "/data/local/tmp/edgekit"
_NUM = r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_KV = re.compile(rf"\b([a-z0-9_]+)=({_NUM})")
_SUMMARY = re.compile(
    rf"Inference timings in us:\s*Init:\s*({_NUM}),\s*First inference:\s*({_NUM}),\s*"
    rf"Warmup \(avg\):\s*({_NUM}),\s*Inference \(avg\):\s*({_NUM})")
_MEMORY = re.compile(rf"(Peak memory footprint|Memory footprint delta from the start of the tool) \(MB\):\s*"
                     rf"init=({_NUM})\s+overall=({_NUM})")
_PEAK_MONITOR = re.compile(rf"Overall peak memory footprint \(MB\) via periodic monitoring:\s*({_NUM})")
_INIT_SESSION = re.compile(rf"Initialized session in\s*({_NUM})\s*ms")
_MODEL_SIZE = re.compile(rf"The input model file size \(MB\):\s*({_NUM})")


def parse_benchmark_output(text: str) -> dict:
    """benchmark_model's stdout/stderr → ``{"inference": {...ms}, "load", "first_inference", "warmup_mean", ...}``.

    The last ``count=`` line with ``avg=`` is the measured phase (earlier ones are warm-up). Values
    are converted from microseconds to milliseconds. Percentiles the tool does not print (p90, p99)
    are None; p50 is ``median`` when printed. Raises ValueError when neither form is present.
    """
    runs = []
    for line in text.splitlines():
        if "count=" not in line:
            continue
        fields = {k: float(v) for k, v in _KV.findall(line)}
        if "count" in fields:
            runs.append(fields)
    summary = None
    for m in _SUMMARY.finditer(text):
        summary = [float(x) for x in m.groups()]
    if not runs and summary is None:
        raise ValueError("no benchmark_model timings found (neither 'count=… avg=…' nor 'Inference timings in us')")
    measured = next((r for r in reversed(runs) if "avg" in r), None)
    warmup = runs[0] if len(runs) > 1 and runs[0] is not measured else None

    def ms(v):
        return None if v is None else v / 1000.0

    inference = {"p50": None, "p90": None, "p99": None, "mean": None, "std": None, "min": None, "max": None,
                 "count": None}
    if measured:
        inference.update(p50=ms(measured.get("median")), mean=ms(measured["avg"]), std=ms(measured.get("std")),
                         min=ms(measured.get("min")), max=ms(measured.get("max")), count=int(measured["count"]))
        if "p5" in measured:
            inference["p5"] = ms(measured["p5"])
        if "p95" in measured:
            inference["p95"] = ms(measured["p95"])
    out = {"inference": inference, "load": None, "first_inference": ms(measured.get("first")) if measured else None,
           "warmup_mean": ms(warmup.get("avg", warmup.get("curr"))) if warmup else None,
           "warmup_count": int(warmup["count"]) if warmup else None, "forms": []}
    if measured:
        out["forms"].append("count")
    if summary is not None:
        init, first, warm, avg = summary
        out["forms"].append("summary")
        out["load"] = ms(init)
        out["first_inference"] = ms(first)
        out["warmup_mean"] = ms(warm)
        if inference["mean"] is None:
            inference["mean"] = ms(avg)
    if out["load"] is None and (m := _INIT_SESSION.search(text)):
        out["load"] = float(m.group(1))
    mem = None
    for m in _MEMORY.finditer(text):
        mem = {"init_mb": float(m.group(2)), "overall_mb": float(m.group(3)),
               "kind": "peak" if m.group(1).startswith("Peak") else "delta"}
    if (m := _PEAK_MONITOR.search(text)):
        mem = {**(mem or {}), "peak_monitored_mb": float(m.group(1))}
    out["memory"] = mem
    if (m := _MODEL_SIZE.search(text)):
        out["model_size_mb"] = float(m.group(1))
    return out


class AdbTarget(Target):
    measures_quality = False

    def __init__(self, serial: str | None = None, benchmark_binary: str | Path | None = None,
                 timeout: float = 1800) -> None:
        self.serial = serial or None
        self.binary = Path(benchmark_binary) if benchmark_binary else None
        self.timeout = timeout
        self.spec = f"adb:{serial}" if serial else "adb"
        self._pushed: set[str] = set()

    def _adb(self, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
        argv = ["adb"] + (["-s", self.serial] if self.serial else []) + list(args)
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=timeout or self.timeout)
        except FileNotFoundError:
            raise EdgekitError("adb not found (install Android platform-tools, or Debian's 'adb' package)") from None
        except subprocess.TimeoutExpired:
            raise EdgekitError(f"{self.spec}: adb {' '.join(args[:2])} timed out") from None

    def _shell(self, command: str, timeout: float | None = None) -> str:
        proc = self._adb("shell", command, timeout=timeout)
        if proc.returncode != 0:
            raise EdgekitError(f"{self.spec}: adb shell failed ({(proc.stderr or proc.stdout).strip().splitlines()[-1:]})")
        return proc.stdout

    def check(self) -> None:
        proc = self._adb("get-state", timeout=30)
        if proc.returncode != 0 or proc.stdout.strip() != "device":
            lines = [ln.strip() for ln in (proc.stderr + proc.stdout).splitlines()
                     if ln.strip() and not ln.startswith("*")]  # "* daemon started" chatter
            msg = lines[-1] if lines else "no device"
            which = f"device {self.serial!r}" if self.serial else "an Android device"
            raise EdgekitError(f"{self.spec}: {which} is not attached or not authorised ({msg}); "
                               "check `adb devices`")
        if self.binary is None:
            raise EdgekitError(f"{self.spec}: pass --benchmark-binary PATH (TFLite's benchmark_model built for the device)")
        if not self.binary.is_file():
            raise EdgekitError(f"benchmark binary not found: {self.binary}")

    def _push(self, local: Path, remote: str) -> None:
        if remote in self._pushed:
            return
        proc = self._adb("push", str(local), remote)
        if proc.returncode != 0:
            raise EdgekitError(f"{self.spec}: adb push {local.name} failed ({proc.stderr.strip()})")
        self._pushed.add(remote)

    def device(self) -> dict:
        props = {}
        for key in ("ro.product.model", "ro.product.cpu.abi", "ro.soc.model", "ro.build.version.release"):
            props[key] = self._shell(f"getprop {key}", timeout=30).strip()
        cores = self._shell("cat /sys/devices/system/cpu/possible", timeout=30).strip()
        return {"arch": props["ro.product.cpu.abi"] or "unknown",
                "cpu_model": props["ro.soc.model"] or props["ro.product.model"] or "unknown",
                "os": f"Android {props['ro.build.version.release']}", "model": props["ro.product.model"],
                "cores_possible": cores, "target": self.spec, "emulated": False,
                "runtime": {"name": "benchmark_model", "version": "user-supplied"}}

    def run(self, job: Job) -> dict:
        self.check()
        bundle = Bundle.open(job.bundle)
        bundle.verify(job.mode)
        entry = bundle.mode_entry(job.mode)
        buckets = dict(bundle.buckets)
        length = job.synthetic or max(buckets)
        if length not in buckets:
            raise EdgekitError(f"bundle has no bucket of length {length}; it has {sorted(buckets)}")
        self._shell(f"mkdir -p {DEVICE_DIR}")
        binary = f"{DEVICE_DIR}/benchmark_model"
        self._push(self.binary, binary)
        self._shell(f"chmod 755 {binary}")
        model = f"{DEVICE_DIR}/{entry['sha256'][:12]}-{Path(entry['file']).name}"
        self._push(bundle.model_file(job.mode), model)
        cmd = [binary, f"--graph={model}", f"--num_threads={job.threads}", f"--num_runs={job.iterations}",
               f"--warmup_runs={job.warmup}", f"--signature_to_run_for={buckets[length]}",
               f"--input_layer_value_range=ids,0,{max(1, len(bundle.tokenizer.vocab) - 1)}:mask,1,1:segment_ids,0,0"]
        out = self._shell(" ".join(shlex.quote(c) for c in cmd))
        try:
            parsed = parse_benchmark_output(out)
        except ValueError as exc:
            raise EdgekitError(f"{self.spec}: {exc}") from None
        return record_from_benchmark(parsed, bundle, job.mode, job.threads, length, self.device(), raw=out)


def record_from_benchmark(parsed: dict, bundle: Bundle, mode: str, threads: int, length: int, device: dict,
                          raw: str | None = None) -> dict:
    """A result record (latency only) from :func:`parse_benchmark_output`."""
    inference = parsed["inference"]
    fields = synthetic_fields(length, inference, inference["count"], bundle.labels, load_ms=parsed["load"],
                              first_ms=parsed["first_inference"], warmup_mean=parsed["warmup_mean"],
                              quality_note="latency only: F1 on Android comes from the demo app's result JSON")
    extra = {"raw_output_tail": raw.strip().splitlines()[-8:]} if raw is not None else {}
    memory = {"peak_rss_mb": (parsed.get("memory") or {}).get("overall_mb"), "benchmark_model": parsed.get("memory")}
    return result_record(device=device, bundle=bundle_fields(bundle, mode), threads=threads, memory=memory,
                         synthetic={"seq_len": length, "tool": "benchmark_model", "forms": parsed["forms"]},
                         **fields, **extra)


@register("adb", "adb[:serial] (a phone; TFLite benchmark_model)")
def _factory(rest: str, **options) -> Target:
    return AdbTarget(rest or None, benchmark_binary=options.get("benchmark_binary"),
                     timeout=options.get("timeout") or 1800)
