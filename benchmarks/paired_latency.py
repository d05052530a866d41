"""Paired latency: is file B slower than file A? Several bundle files timed in one process, sentence by sentence.

``edgekit bench`` times each file in a process of its own, one after the other. On this 2-core VM two such
passes of the same file differ by up to ±5 % (p50), and a file measured second in a pass can read slower than
the one measured first, so a difference of 1–2 % between two files needs many passes and still depends on how
they were ordered. Here every file is loaded once in the same process, and each sentence of ``--data`` runs
on every file in turn, the order rotated from sentence to sentence and round to round, so drift in the
machine's speed falls on all files alike. Reported per file: p50 and mean latency over all runs, and against
the first file (the reference) the ratio of p50s and of means with a bootstrap 95 % interval over sentences
(resampling sentences, all rounds of a sentence together). Latency only: quality is ``edgekit bench``'s.

    python -m edgekit.benchmarks.paired_latency BUNDLE:dynamic_int8 BUNDLE:int8 OTHER:int8 \\
        --data SPLIT/test.jsonl --threads 1 --rounds 5 --out results/F.json

Within one process the interval is tight, but a file's speed also depends on where its interpreter landed in
memory: the same two files loaded again read up to ~2 % apart the other way. ``--processes K`` therefore runs
the comparison K times, each in a fresh process with the files loaded in a rotated order, and reports each
file's ratios per process and their median and range: a difference smaller than that range is not one this
machine can resolve.

numpy + LiteRT, like the runner. Writes JSON (commit recorded).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import EdgekitError
from ..fsutil import atomic_write_json
from ..metrics import latency_stats
from ..provenance import stamp
from ..runtime.evaldata import load_eval
from ..runtime.measure import warm_up
from .runner import _load, _open

BOOTSTRAP = 2000


def parse_file(spec: str) -> tuple[str, str]:
    """``BUNDLE:MODE`` → (bundle path, mode)."""
    path, sep, mode = spec.rpartition(":")
    if not sep or not path or not mode:
        raise EdgekitError(f"expected BUNDLE:MODE, got {spec!r}")
    return path, mode


def time_interleaved(runs: Sequence, inputs: Sequence[Sequence], rounds: int, warmup: int = 3) -> np.ndarray:
    """``[rounds, sentences, files]`` milliseconds: ``runs[f](inputs[f][s])`` for every sentence ``s``, the files
    in an order rotated by one from sentence to sentence and shifted every round. ``inputs[f]`` is file ``f``'s
    encoding of the sentences (warmed up first: ``warmup`` runs of each file's first input per bucket)."""
    files, sentences = len(runs), len(inputs[0])
    for run, encoded in zip(runs, inputs):
        warm_up(run, ((x.length, x) for x in encoded), warmup)
    out = np.zeros((rounds, sentences, files))
    for r in range(rounds):
        for s in range(sentences):
            for k in range(files):
                f = (s + r + k) % files
                t0 = time.perf_counter()
                runs[f](inputs[f][s])
                out[r, s, f] = (time.perf_counter() - t0) * 1000.0
    return out


def ratios(times: np.ndarray, reference: int = 0, seed: int = 0, samples: int = BOOTSTRAP) -> list[dict]:
    """Per file: p50 and mean ratio to the reference file, each with a bootstrap 95 % interval over sentences."""
    rng = np.random.default_rng(seed)
    rounds, sentences, files = times.shape
    picks = rng.integers(0, sentences, size=(samples, sentences))
    out = []
    for f in range(files):
        def both(idx):
            a, b = times[:, idx, f].ravel(), times[:, idx, reference].ravel()
            return np.median(a) / np.median(b), a.mean() / b.mean()
        p50, mean = both(np.arange(sentences))
        boot = np.array([both(p) for p in picks])
        out.append({"p50_ratio": float(p50), "p50_ratio_ci95": [float(x) for x in np.percentile(boot[:, 0], [2.5, 97.5])],
                    "mean_ratio": float(mean), "mean_ratio_ci95": [float(x) for x in np.percentile(boot[:, 1], [2.5, 97.5])]})
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m edgekit.benchmarks.paired_latency", description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="+", help="BUNDLE:MODE, two or more; the first is the reference")
    ap.add_argument("--data", required=True, help="labelled eval file (its texts are timed)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5, help="passes over the sentences")
    ap.add_argument("--limit", type=int, default=None, help="only the first N sentences")
    ap.add_argument("--processes", type=int, default=1,
                    help="repeat in this many fresh processes, the files loaded in a rotated order")
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args(argv)
    try:
        if len(args.files) < 2 or args.rounds < 1 or args.threads < 1 or args.processes < 1:
            raise EdgekitError("need two or more BUNDLE:MODE files, --rounds, --threads and --processes >= 1")
        specs = [parse_file(s) for s in args.files]
        if args.processes > 1:
            return across_processes(args)
        models = []
        for path, mode in specs:  # the runner's checks: the bundle, the file's sha256, the runtime takes the mode
            bundle, runtime = _open(path, mode, None)
            models.append(_load(bundle, mode, args.threads, runtime)[0])
        texts = load_eval(args.data, models[0].bundle.labels, "auto", "text", "label", args.limit).texts
    except EdgekitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    inputs = [[m.encode(t) for t in texts] for m in models]
    times = time_interleaved([m.run_encoded for m in models], inputs, args.rounds)
    result = []
    for f, ((path, mode), m, r) in enumerate(zip(specs, models, ratios(times))):
        entry = m.bundle.mode_entry(mode)
        result.append({"bundle": str(path), "mode": mode, "file": entry["file"], "sha256": entry.get("sha256"),
                       "latency_ms": latency_stats(times[:, :, f].ravel()), **r})
    print(f"{len(texts)} sentences x {args.rounds} rounds, {args.threads} thread(s); ratios against {args.files[0]}")
    for spec, r in zip(args.files, result):
        lat = r["latency_ms"]
        print(f"  {spec}: p50 {lat['p50']:.3f} ms (x{r['p50_ratio']:.3f}, 95% {r['p50_ratio_ci95'][0]:.3f}-"
              f"{r['p50_ratio_ci95'][1]:.3f}), mean {lat['mean']:.3f} ms (x{r['mean_ratio']:.3f}, 95% "
              f"{r['mean_ratio_ci95'][0]:.3f}-{r['mean_ratio_ci95'][1]:.3f})")
    atomic_write_json(args.out, {"kind": "edgekit-paired-latency", **stamp(), "data": str(args.data),
                                 "sentences": len(texts), "rounds": args.rounds, "threads": args.threads,
                                 "files": result})
    return 0


def across_processes(args) -> int:
    """``--processes K``: the comparison in K fresh processes, the files' load order rotated; per file the p50 and
    mean ratios to the first file in each process, with their median and range."""
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.processes):
            order = args.files[i % len(args.files):] + args.files[:i % len(args.files)]
            out = Path(tmp) / f"{i}.json"
            command = [sys.executable, "-m", "edgekit.benchmarks.paired_latency", *order, "--data", str(args.data),
                       "--threads", str(args.threads), "--rounds", str(args.rounds), "--out", str(out)]
            if args.limit:
                command += ["--limit", str(args.limit)]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                raise EdgekitError(f"process {i + 1} failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
            runs.append(json.loads(out.read_text()))
    reference = args.files[0]
    files = []
    for spec in args.files:
        per = []
        for run in runs:
            by = {f"{f['bundle']}:{f['mode']}": f["latency_ms"] for f in run["files"]}
            per.append({"p50_ratio": by[spec]["p50"] / by[reference]["p50"],
                        "mean_ratio": by[spec]["mean"] / by[reference]["mean"],
                        "p50_ms": by[spec]["p50"], "mean_ms": by[spec]["mean"]})
        summary = {k: {"median": statistics.median(p[k] for p in per), "min": min(p[k] for p in per),
                       "max": max(p[k] for p in per)} for k in ("p50_ratio", "mean_ratio")}
        files.append({"file": spec, "processes": per, **summary})
    print(f"{runs[0]['sentences']} sentences x {args.rounds} rounds x {args.processes} processes, {args.threads} "
          f"thread(s); ratios against {reference} (median, range over processes)")
    for f in files:
        p, m = f["p50_ratio"], f["mean_ratio"]
        print(f"  {f['file']}: p50 x{p['median']:.3f} ({p['min']:.3f}-{p['max']:.3f}), "
              f"mean x{m['median']:.3f} ({m['min']:.3f}-{m['max']:.3f})")
    atomic_write_json(args.out, {"kind": "edgekit-paired-latency-processes", **stamp(), "data": str(args.data),
                                 "rounds": args.rounds, "threads": args.threads, "processes": args.processes,
                                 "files": files})
    return 0


if __name__ == "__main__":
    sys.exit(main())
