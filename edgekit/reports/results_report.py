"""``edgekit report``: benchmark records → Markdown + self-contained HTML, plots, and a pick under a budget.

Tables per target (emulated targets say so in their heading and their latency column names);
latency-vs-F1 and size-vs-F1 scatter plots with the Pareto frontier (lower latency/size, higher F1)
marked; p50 latency per length bucket; the recommendation is the highest macro-F1 variant within
``--max-latency-ms`` / ``--max-size-mb`` / ``--min-f1`` on one target and thread count, ties broken
by latency then size. Peers (another runtime on the same weights, e.g. ONNX Runtime: records with
``bundle.peer``) sit in the tables and plots with their label, but are never recommended: no bundle
holds them. The HTML embeds its PNGs as base64, so it is one file to share.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..contracts import check_result
from ..errors import EdgekitError
from ..fsutil import atomic_write_bytes, atomic_write_text
from ..runtime.records import latest_records
from ..runtime.units import megabytes


@dataclass(frozen=True)
class Budget:
    max_latency_ms: float | None = None
    max_size_mb: float | None = None
    min_f1: float | None = None

    def describe(self) -> str:
        parts = []
        if self.max_latency_ms is not None:
            parts.append(f"p50 latency ≤ {self.max_latency_ms:g} ms")
        if self.max_size_mb is not None:
            parts.append(f"size ≤ {self.max_size_mb:g} MB")
        if self.min_f1 is not None:
            parts.append(f"macro-F1 ≥ {self.min_f1:g}")
        return ", ".join(parts) or "no budget (best macro-F1)"


@dataclass
class Row:
    rec: dict

    @property
    def target(self) -> str:
        return self.rec["device"]["target"]

    @property
    def emulated(self) -> bool:
        return bool(self.rec["device"].get("emulated"))

    @property
    def model(self) -> str:
        return self.rec["bundle"]["model"]

    @property
    def mode(self) -> str:
        return self.rec["bundle"]["mode"]

    @property
    def variant(self) -> str:
        return f"{self.model}/{self.mode}"

    @property
    def mode_label(self) -> str:
        """The mode as the table shows it: the source model and peers (another runtime) say what they are."""
        if self.mode == "keras":
            return "keras (source)"
        peer = self.rec["bundle"].get("peer") or {}
        return f"{self.mode} ({peer['label']})" if peer.get("label") else self.mode

    @property
    def threads(self) -> int:
        return int(self.rec["threads"])

    @property
    def size_mb(self) -> float:
        return megabytes(self.rec["bundle"]["bytes"])

    @property
    def f1(self) -> float | None:
        return self.rec["quality"].get("macro_f1")

    @property
    def p50(self) -> float | None:
        return (self.rec["timing_ms"].get("inference") or {}).get("p50")

    def stat(self, block: str, key: str = "p50") -> float | None:
        b = self.rec["timing_ms"].get(block)
        if isinstance(b, dict):
            return b.get(key)
        return b if key == "p50" and isinstance(b, (int, float)) else None

    @property
    def synthetic(self) -> bool:
        return self.rec["dataset"].get("split") == "synthetic"


def pareto(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of points not dominated (x lower is better, y higher is better), sorted by x."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best_y = [], float("-inf")
    for i in order:
        if points[i][1] > best_y:
            front.append(i)
            best_y = points[i][1]
    return front


def recommend(rows: Sequence[Row], budget: Budget, target: str | None = None, threads: int | None = None
              ) -> tuple[Row | None, str, str, int]:
    """(best row or None, explanation, target used, threads used)."""
    # peers (another runtime on the same weights, e.g. ONNX Runtime) are shown, not recommended: no bundle holds them
    quality_rows = [r for r in rows if r.f1 is not None and r.p50 is not None and not r.rec["bundle"].get("peer")]
    if not quality_rows:
        return None, "no record with both latency and F1", target or "-", threads or 1
    if target is None:
        local = [r.target for r in quality_rows if not r.emulated]
        target = local[0] if local else quality_rows[0].target
    pool = [r for r in quality_rows if r.target == target]
    if not pool:
        raise EdgekitError(f"no records for target {target!r}; have {sorted({r.target for r in quality_rows})}")
    threads = threads if threads is not None else min(r.threads for r in pool)
    pool = [r for r in pool if r.threads == threads]
    if not pool:
        raise EdgekitError(f"no records for target {target!r} with {threads} thread(s)")
    ok = []
    dropped = {"latency": 0, "size": 0, "f1": 0}
    for r in pool:
        if budget.max_latency_ms is not None and r.p50 > budget.max_latency_ms:
            dropped["latency"] += 1
            continue
        if budget.max_size_mb is not None and r.size_mb > budget.max_size_mb:
            dropped["size"] += 1
            continue
        if budget.min_f1 is not None and r.f1 < budget.min_f1:
            dropped["f1"] += 1
            continue
        ok.append(r)
    if not ok:
        why = ", ".join(f"{v} over the {k} limit" if k != "f1" else f"{v} under the F1 floor"
                        for k, v in dropped.items() if v)
        return None, f"no variant meets {budget.describe()} ({why})", target, threads
    best = max(ok, key=lambda r: (round(r.f1, 4), -r.p50, -r.size_mb))
    emu = " (emulated latency)" if best.emulated else ""
    why = (f"{best.variant}: macro-F1 {best.f1:.4f}, p50 {best.p50:.3f} ms{emu}, {best.size_mb:.2f} MB "
           f"on {target}, {threads} thread(s) — best macro-F1 of {len(ok)} variant(s) within {budget.describe()}")
    return best, why, target, threads


def front_line(rows: Sequence[Row]) -> str:
    """The variants on the p50-latency–macro-F1 Pareto front of one target, fastest first (per thread count)."""
    parts = []
    for threads in sorted({r.threads for r in rows}):
        pool = [r for r in rows if r.threads == threads]
        front = pareto([(r.p50, r.f1) for r in pool])
        parts.append(f"{threads} thread(s): " + ", ".join(
            f"{pool[i].model}/{pool[i].mode_label} ({pool[i].p50:.3f} ms, F1 {pool[i].f1:.4f})" for i in front))
    return "On the latency–F1 front (p50, nothing faster has a higher macro-F1): " + "; ".join(parts) + "."


# --------------------------------------------------------------------------------------------- figures
def _pyplot():
    from ..plots import pyplot

    return pyplot()


def _png(fig) -> bytes:
    from ..plots import png_bytes

    return png_bytes(fig, dpi=100)


def _scatter(rows: Sequence[Row], x_of, x_label: str, title: str, logx: bool = False) -> bytes:
    from ..plots import label_points

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    pts = [(x_of(r), r.f1) for r in rows]
    markers = {1: "o", 2: "s", 4: "^"}
    for r, (x, y) in zip(rows, pts):
        src = r.mode == "keras"
        ax.scatter([x], [y], marker="*" if src else markers.get(r.threads, "D"), s=90 if src else 45,
                   color="black" if src else None, zorder=3)
    front = pareto(pts)
    if front:
        xs, ys = zip(*[pts[i] for i in front])
        ax.step(xs, ys, where="post", color="tab:red", lw=1.5, alpha=0.8, label="Pareto frontier", zorder=2)
        ax.scatter(xs, ys, facecolors="none", edgecolors="tab:red", s=160, lw=1.5, zorder=4)
        ax.legend(fontsize=8, loc="lower right")
    if logx:
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        ax.set_xscale("log")  # ticks at 1, 2, 5 × 10^k written plainly: log minor labels collide on short ranges
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(x_label)
    ax.set_ylabel("macro-F1")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.margins(x=0.2, y=0.15)  # room for the labels inside the axes
    label_points(ax, pts, [f"{r.variant} t{r.threads}" for r in rows])
    return _png(fig)


def _buckets(rows: Sequence[Row], title: str) -> bytes | None:
    series = [(f"{r.variant} t{r.threads}", {int(k): v["p50"] for k, v in
                                            (r.rec["timing_ms"].get("inference_by_bucket") or {}).items()})
              for r in rows]
    series = [s for s in series if s[1]]
    if not series:
        return None
    plt = _pyplot()
    lengths = sorted({L for _, d in series for L in d})
    fig, ax = plt.subplots(figsize=(7, 4.2))
    width = 0.8 / len(series)
    for i, (name, d) in enumerate(series):
        xs = [j + i * width for j, L in enumerate(lengths) if L in d]
        ax.bar(xs, [d[L] for L in lengths if L in d], width=width, label=name)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(lengths))])
    ax.set_xticklabels([f"L={L}" for L in lengths])
    ax.set_ylabel("p50 inference latency (ms)")
    ax.set_yscale("log")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=6, ncol=2)
    ax.grid(alpha=0.3, axis="y")
    return _png(fig)


# ---------------------------------------------------------------------------------------------- tables
def _f(v, digits=3) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _table(rows: Sequence[Row]) -> tuple[list[str], list[list[str]]]:
    emulated = any(r.emulated for r in rows)
    lat = "emulated ms" if emulated else "ms"
    head = ["model", "mode", "threads", "size MB", f"p50 {lat}", f"p90 {lat}", f"p99 {lat}", f"mean {lat}",
            f"e2e p50 {lat}", f"tokenize p50 {lat}", f"load {lat}", "peak RSS MiB", "n", "accuracy", "macro-F1",
            "weighted-F1", "speed-up vs Keras"]
    keras = {(r.model, r.threads): r.p50 for r in rows if r.mode == "keras"}
    body = []
    for r in sorted(rows, key=lambda r: (r.model, r.mode != "keras", r.mode, r.threads)):
        q = r.rec["quality"]
        k = keras.get((r.model, r.threads))
        speed = f"{k / r.p50:.1f}×" if k and r.p50 and r.mode != "keras" else ("1.0×" if r.mode == "keras" else "–")
        body.append([r.model, r.mode_label, str(r.threads), f"{r.size_mb:.2f}",
                     _f(r.stat("inference", "p50")), _f(r.stat("inference", "p90")), _f(r.stat("inference", "p99")),
                     _f(r.stat("inference", "mean")), _f(r.stat("end_to_end")), _f(r.stat("tokenization")),
                     _f(r.stat("load"), 1), _f(r.rec["memory"].get("peak_rss_mb"), 1), str(q.get("n")),
                     _f(q.get("accuracy"), 4), _f(q.get("macro_f1"), 4), _f(q.get("weighted_f1"), 4), speed])
    return head, body


def _md_table(head, body) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(out)


def _html_table(head, body) -> str:
    h = "".join(f"<th>{html.escape(c)}</th>" for c in head)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{rows}</tbody></table>"


def _target_heading(target: str, rows: Sequence[Row]) -> tuple[str, str]:
    r0 = rows[0].rec["device"]
    runtimes = dict.fromkeys("{name} {version}".format(**r.rec["device"]["runtime"]) for r in rows)
    desc = f"{r0.get('arch')}, {r0.get('cpu_model')}, {r0.get('os')}, {', '.join(runtimes)}"
    caveats = sorted({c for r in rows for c in r.rec.get("caveats", [])})
    if caveats:
        desc = desc + ". Caveats: " + " | ".join(caveats)
    if any(r.emulated for r in rows):
        return (f"{target} — EMULATED ({r0.get('emulator', 'qemu')})",
                f"{desc}. Emulated: latencies are qemu user-mode timings (roughly 400–550× slower than the "
                "modelled core), not ARM timings; predictions and F1 are real.")
    return target, desc


def write_report(results: Sequence[str | Path], out: str | Path, budget: Budget = Budget(), target: str | None = None,
                 threads: int | None = None, title: str = "edgekit benchmark report") -> dict:
    records = latest_records(results)
    for rec in records:  # what the report reads of each record must be there (docs/contracts.md §2)
        problems = check_result(rec)
        if problems:
            what = f"{(rec.get('bundle') or {}).get('model', '?')}/{(rec.get('bundle') or {}).get('mode', '?')}"
            raise EdgekitError(f"a result record of {what} is incomplete: {'; '.join(problems[:3])} (not written by "
                               "edgekit bench?)")
    rows = [Row(r) for r in records]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    targets = list(dict.fromkeys(r.target for r in rows))
    figures: list[tuple[str, str, bytes]] = []  # (file, caption, png)
    md = [f"# {title}", ""]
    commits = sorted({r.rec["edgekit"]["git_commit"] for r in rows})
    datasets = sorted({f"{r.rec['dataset']['name']} ({r.rec['quality'].get('n')} examples)" for r in rows
                       if not r.synthetic})
    md.append(f"{len(rows)} measurements; edgekit commit(s) {', '.join(commits)}; data: {', '.join(datasets) or '–'}.")
    md.append("Latency is per example, batch 1, smallest length bucket that holds the sentence; "
              "p50/p90/p99 of inference only unless marked e2e (tokenization + inference).")
    md.append("")
    best, why, rec_target, rec_threads = recommend(rows, budget, target, threads)
    md += ["## Recommendation", "", f"Budget: {budget.describe()} — target {rec_target}, {rec_threads} thread(s).", "",
           f"**{why}**" if best else f"**{why}**", ""]
    sections_html = []
    for t in targets:
        trows = [r for r in rows if r.target == t]
        heading, desc = _target_heading(t, trows)
        head, body = _table(trows)
        md += [f"## {heading}", "", desc, "", _md_table(head, body), ""]
        section = [f"<h2>{html.escape(heading)}</h2><p>{html.escape(desc)}</p>", _html_table(head, body)]
        slug = "".join(c if c.isalnum() else "_" for c in t)
        q = [r for r in trows if r.f1 is not None and r.p50 is not None]
        emu = " (emulated)" if any(r.emulated for r in trows) else ""
        if q:
            front = front_line(q)
            md += [front, ""]
            section.append(f"<p>{html.escape(front)}</p>")
            png = _scatter(q, lambda r: r.p50, f"p50 inference latency, ms{emu} (log)", f"latency vs macro-F1 — {t}",
                           logx=True)
            figures.append((f"latency_f1_{slug}.png", f"Latency vs macro-F1 on {t}{emu}; Pareto frontier in red", png))
            section.append(figures[-1])
        b = _buckets(trows, f"p50 latency per bucket — {t}{emu}")
        if b:
            figures.append((f"buckets_{slug}.png", f"p50 latency per length bucket on {t}{emu}", b))
            section.append(figures[-1])
        for fig in section[2:]:
            if not isinstance(fig, str):
                md += [f"![{fig[1]}]({fig[0]})", ""]
        sections_html.append(section)
    # size is a property of the file: one point per variant (first target that has F1 for it)
    seen, size_rows = set(), []
    for r in rows:
        if r.f1 is not None and r.variant not in seen and not r.emulated:
            seen.add(r.variant)
            size_rows.append(r)
    size_fig = None
    if size_rows:
        png = _scatter(size_rows, lambda r: r.size_mb, "model size, MB (log)", "size vs macro-F1", logx=True)
        size_fig = ("size_f1.png", "Size vs macro-F1 (Pareto frontier in red)", png)
        figures.append(size_fig)
        md += ["## Size vs F1", "", f"![{size_fig[1]}]({size_fig[0]})", ""]
    for name, _, png in figures:
        atomic_write_bytes(out / name, png)
    atomic_write_text(out / "report.md", "\n".join(md) + "\n")

    def img(fig) -> str:
        b64 = base64.b64encode(fig[2]).decode()
        return f'<figure><img alt="{html.escape(fig[1])}" src="data:image/png;base64,{b64}"><figcaption>{html.escape(fig[1])}</figcaption></figure>'

    body = [f"<h1>{html.escape(title)}</h1>", f"<p>{html.escape(md[2])}</p><p>{html.escape(md[3])}</p>",
            "<h2>Recommendation</h2>", f"<p>Budget: {html.escape(budget.describe())} — target {html.escape(rec_target)}, "
            f"{rec_threads} thread(s).</p><p class=rec>{html.escape(why)}</p>"]
    for section in sections_html:
        body += [s if isinstance(s, str) else img(s) for s in section]
    if size_fig:
        body += ["<h2>Size vs F1</h2>", img(size_fig)]
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>" + html.escape(title) + "</title><style>"
            "body{font-family:system-ui,sans-serif;margin:2em;max-width:1300px}table{border-collapse:collapse;"
            "font-size:12px;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
            "th{background:#f3f3f3}td:first-child,td:nth-child(2){text-align:left}.rec{font-weight:bold}"
            "figure{display:inline-block;margin:0 1em 1em 0}figcaption{font-size:12px;color:#555}"
            "</style></head><body>" + "\n".join(body) + "</body></html>\n")
    atomic_write_text(out / "report.html", page)
    return {"markdown": out / "report.md", "html": out / "report.html", "figures": [out / f for f, _, _ in figures],
            "recommendation": why if best else None, "best": best.rec if best else None}
