"""int8 by recipe, technique by technique: how much each one buys, over several calibration samples.

Quantizes a bundle's fp32 file under each variant (a named recipe with its activation ranges and
smoothing replaced, :data:`VARIANTS`), each with ``--seeds`` different draws of calibration sentences
from the training split, and scores every file against the fp32 file on the validation and test splits:
argmax agreement, mean KL divergence of the softmax (a finer measure than agreement, which a handful of
near-tie sentences decide), macro-F1 against the labels, size. Prints mean ± SD per variant and writes
JSON (commit recorded). ``--unlabelled FILE`` adds a larger pool of unseen sentences (split sentences and
repeats dropped, as ``edgekit distill --unlabelled`` drops them), scored for agreement and KL: neither needs
labels. Variants are chosen on the unseen non-test columns (validation and the pool); test is reported, not
tuned on.
``--reference`` scores against another bundle's fp32 file instead: for a model fine-tuned for quantization
(``edgekit qat``), its float original, whose answers the int8 file is meant to keep.

    python -m edgekit.benchmarks.int8_techniques BUNDLE --split SPLIT --seeds 0,1,2,3,4 \\
        --out results/int8-techniques-fpb75.json
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

LN_FED = "(query|key|value|feedforward_intermediate_dense)"  # BERT layers that read a LayerNorm output
FFN_IN_DYNAMIC = {"regex": ".*feedforward_intermediate_dense.*", "operation": "FULLY_CONNECTED",
                  "algorithm_key": "min_max_uniform_quantize",
                  "op_config": {"weight_tensor_config": {"num_bits": 8, "symmetric": True,
                                                         "granularity": "CHANNELWISE", "dtype": "INT"},
                                "compute_precision": "INTEGER", "explicit_dequantize": False}}
QKV_DYNAMIC = {**FFN_IN_DYNAMIC, "regex": ".*(query|key|value).*"}
GATHER_FLOAT = {"regex": ".*", "operation": "GATHER", "algorithm_key": "no_quantize"}

# name → (named recipe whose rules are the base, how this variant prepares and ranges activations,
# whether the FFN input layers take dynamic activations); every setting is explicit, so a variant means
# the same thing whatever the named recipes' defaults become
SMOOTH = {"alpha": 0.5, "layers": LN_FED}
VARIANTS: dict[str, tuple[str, dict]] = {
    "quantizer ranges (moving average)": ("int8_fc", {"ranges": "quantizer", "smooth": None, "ffn_in_dynamic": False}),
    "minmax ranges": ("int8_fc", {"ranges": "minmax", "smooth": None, "ffn_in_dynamic": False}),
    "mse ranges": ("int8_fc", {"ranges": "mse", "smooth": None, "ffn_in_dynamic": False}),
    "smooth 0.5 + minmax": ("int8_fc", {"ranges": "minmax", "smooth": SMOOTH, "ffn_in_dynamic": False}),
    "smooth 0.5 + mse": ("int8_fc", {"ranges": "mse", "smooth": SMOOTH, "ffn_in_dynamic": False}),
    "smooth 0.4 + minmax": ("int8_fc", {"ranges": "minmax", "smooth": {**SMOOTH, "alpha": 0.4}, "ffn_in_dynamic": False}),
    "smooth 0.5 + minmax + FFN input dynamic": ("int8_fc", {"ranges": "minmax", "smooth": SMOOTH,
                                                            "ffn_in_dynamic": True}),
    "int8_small rules + smooth 0.5 + minmax": ("int8_small", {"ranges": "minmax", "smooth": SMOOTH,
                                                             "ffn_in_dynamic": False}),
    "int8_small rules + smooth 0.5 + minmax + FFN input dynamic": ("int8_small", {
        "ranges": "minmax", "smooth": SMOOTH, "ffn_in_dynamic": True}),
    "int8_small + bias correction": ("int8_small", {"ranges": "minmax", "smooth": SMOOTH, "ffn_in_dynamic": True,
                                                    "bias_correction": True}),
    # the token table as int8 rows with a scale each (converters/row_tables.py) instead of the quantizer's one scale
    "int8_small + per-row table": ("int8_small", {
        "ranges": "minmax", "smooth": SMOOTH, "ffn_in_dynamic": True, "per_row_tables": True}),
    "int8_small + bias correction + per-row table": ("int8_small", {
        "ranges": "minmax", "smooth": SMOOTH, "ffn_in_dynamic": True, "bias_correction": True,
        "per_row_tables": True}),
    # query/key/value dynamic-range too: static int8 activations left in the pooler and logits only (int8_dyn_rows)
    "int8_small + bias correction + per-row table + QKV dynamic": ("int8_small", {
        "ranges": "minmax", "smooth": SMOOTH, "ffn_in_dynamic": True, "bias_correction": True,
        "per_row_tables": True, "qkv_dynamic": True}),
    # ... with the FFN input not smoothed (six MULs fewer)
    "int8_small + bias correction + per-row table + QKV dynamic (QKV smoothed only)": ("int8_small", {
        "ranges": "minmax", "smooth": {**SMOOTH, "layers": "(query|key|value)"}, "ffn_in_dynamic": True,
        "bias_correction": True, "per_row_tables": True, "qkv_dynamic": True}),
    # where int8_rows' error is: one group of its layers left float at a time (error attribution)
    **{f"int8_rows with {group} float": ("int8_small", {
        "ranges": "minmax", "smooth": SMOOTH, "ffn_in_dynamic": True, "bias_correction": True, "per_row_tables": True,
        "float_fc": regex}) for group, regex in {
            "query/key/value": ".*(query|key|value).*", "attention output": ".*attention_output.*",
            "FFN intermediate": ".*feedforward_intermediate_dense.*", "FFN output": ".*feedforward_output_dense.*",
        }.items()},
    # every FULLY_CONNECTED static (none dynamic-range): where post-training rounding costs most, for edgekit qat
    "all FULLY_CONNECTED static + bias correction": ("int8_small", {"ranges": "minmax", "smooth": SMOOTH,
                                                                    "ffn_in_dynamic": False, "bias_correction": True,
                                                                    "all_static": True}),
}


def _variant(name: str):
    from edgekit.converters.recipes import load_recipe

    base, v = VARIANTS[name]
    recipe = load_recipe(base)
    rules = [r for r in recipe.rules if r["regex"] != FFN_IN_DYNAMIC["regex"]]
    if v.get("all_static"):  # drop the weight-only (dynamic-range) FULLY_CONNECTED rules
        rules = [r for r in rules if r["operation"] != "FULLY_CONNECTED" or r["algorithm_key"] == "no_quantize"
                 or "activation_tensor_config" in r.get("op_config", {})]
    rules += [FFN_IN_DYNAMIC] if v["ffn_in_dynamic"] else []
    rules += [QKV_DYNAMIC] if v.get("qkv_dynamic") else []
    rules += [{"regex": v["float_fc"], "operation": "FULLY_CONNECTED", "algorithm_key": "no_quantize"}] \
        if v.get("float_fc") else []
    rules += [GATHER_FLOAT] if v.get("per_row_tables") else []  # the quantizer leaves the table to row_tables
    return replace(recipe, name=name, rules=rules, ranges=v["ranges"], smooth=v["smooth"],
                   bias_correction=v.get("bias_correction", False), per_row_tables=v.get("per_row_tables", False))


def _kl(p_logits: np.ndarray, q_logits: np.ndarray) -> float:
    from edgekit.metrics import softmax

    p, q = softmax(p_logits), softmax(q_logits)
    return float((p * (np.log(p + 1e-12) - np.log(q + 1e-12))).sum(1).mean())


class Scorer:
    """The fp32 file's logits on validation and test, and the figures of any other file against them."""

    def __init__(self, bundle, splits, reference=None, unlabelled: list[str] | None = None):
        self.bundle = bundle
        texts = {"validation": splits.validation.texts, "test": splits.test.texts}
        self.gold = {k: [bundle.labels.index(e.label) for e in getattr(splits, k).examples] for k in texts}
        if unlabelled:  # agreement and KL only: no labels
            texts["unlabelled"] = unlabelled
        self.feeds = {k: [self._feed(t) for t in v] for k, v in texts.items()}
        source = reference or bundle
        if (source.buckets, source.tokenizer.vocab) != (bundle.buckets, bundle.tokenizer.vocab):
            raise SystemExit("error: --reference must have the bundle's buckets and vocabulary")
        self.reference = self.logits(source.model_file("fp32").read_bytes())

    def _feed(self, text: str):
        b = self.bundle
        length, signature = b.pick_bucket(b.tokenizer.count_tokens(text))
        enc = b.tokenizer.encode(text, length)
        return signature, {"ids": np.asarray([enc.ids], np.int32), "mask": np.asarray([enc.mask], np.int32),
                           "segment_ids": np.asarray([enc.segment_ids], np.int32)}

    def logits(self, model: bytes) -> dict[str, np.ndarray]:
        """``model``'s logits on every part, from one interpreter."""
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_content=model, num_threads=1)
        runners = {s: interpreter.get_signature_runner(s) for _, s in self.bundle.buckets}
        return {part: np.concatenate([next(iter(runners[s](**f).values())) for s, f in feeds])
                for part, feeds in self.feeds.items()}

    def score(self, model: bytes) -> dict:
        from edgekit.metrics import macro_f1

        out = {"bytes": len(model)}
        for part, lg in self.logits(model).items():
            ref = self.reference[part]
            out[f"{part}_agreement"] = float((lg.argmax(1) == ref.argmax(1)).mean())
            out[f"{part}_kl"] = _kl(ref, lg)
            if part in self.gold:
                out[f"{part}_macro_f1"] = macro_f1(self.gold[part], lg.argmax(1).tolist(), len(self.bundle.labels))
        return out


COLUMNS = ("validation_agreement", "validation_kl", "test_agreement", "test_kl", "test_macro_f1",
           "unlabelled_agreement", "unlabelled_kl")


def summarize(rows: list[dict]) -> dict:
    out = {"bytes": rows[0]["bytes"], "seeds": len(rows)}
    for c in (c for c in COLUMNS if c in rows[0]):
        values = [r[c] for r in rows]
        out[c] = statistics.mean(values)
        out[c + "_sd"] = statistics.stdev(values) if len(values) > 1 else 0.0
    return out


TABLE = (("validation_agreement", "val. agreement", 1.0, 4), ("validation_kl", "val. KL ×1000", 1000.0, 2),
         ("test_agreement", "test agreement", 1.0, 4), ("test_kl", "test KL ×1000", 1000.0, 2),
         ("test_macro_f1", "test macro-F1", 1.0, 4), ("unlabelled_agreement", "unlabelled agreement", 1.0, 4),
         ("unlabelled_kl", "unlabelled KL ×1000", 1000.0, 2))


def table(summary: dict[str, dict], reference: dict) -> str:
    rows = {**reference, **summary}
    columns = [c for c in TABLE if all(c[0] in s for s in rows.values())]
    lines = ["| variant | MB | " + " | ".join(c[1] for c in columns) + " |",
             "|---|---:|" + "---:|" * len(columns)]
    for name, s in rows.items():
        def cell(c, k, d):
            return f"{s[c] * k:.{d}f} ± {s[c + '_sd'] * k:.{d}f}" if s.get("seeds", 1) > 1 else f"{s[c] * k:.{d}f}"
        cells = " | ".join(cell(c, k, d) for c, _, k, d in columns)
        lines.append(f"| {name} | {s['bytes'] / 1e6:.1f} | {cells} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from edgekit.converters.calibration import calibration_samples
    from edgekit.converters.recipes import quantize_with_recipe
    from edgekit.data.split import Splits
    from edgekit.distill.unlabelled import unlabelled_sentences
    from edgekit.fsutil import atomic_write_json
    from edgekit.provenance import stamp
    from edgekit.runtime.bundle import Bundle

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle")
    ap.add_argument("--split", required=True, help="split folder (edgekit data split) the model was trained on")
    ap.add_argument("--seeds", default="0,1,2,3,4", help="calibration draws (comma-separated seeds)")
    ap.add_argument("--samples", type=int, default=200, help="calibration sentences per draw")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated names from VARIANTS")
    ap.add_argument("--reference", default=None,
                    help="bundle whose fp32 file agreement is measured against (default: BUNDLE's own)")
    ap.add_argument("--unlabelled", default=None,
                    help="more unseen in-domain sentences (edgekit distill --unlabelled FILE: split sentences dropped) "
                         "scored for agreement and KL with the fp32 file: a larger sample than validation")
    ap.add_argument("--out", required=True, help="JSON results file")
    args = ap.parse_args(argv)

    names = [v for v in args.variants.split(",") if v]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        print(f"error: unknown variants {unknown}; known: {list(VARIANTS)}", file=sys.stderr)
        return 2
    bundle, splits = Bundle.open(args.bundle), Splits.load(args.split)
    for mode in ("fp32", "dynamic_int8"):
        if mode in bundle.modes:
            bundle.verify(mode)
    source = Bundle.open(args.reference) if args.reference else None
    unlabelled = unlabelled_sentences(args.unlabelled, splits) if args.unlabelled else None
    scorer = Scorer(bundle, splits, source, unlabelled.texts if unlabelled else None)
    fp32 = bundle.model_file("fp32").read_bytes()
    reference = {} if source is None else {"fp32 of --reference": {
        **scorer.score(source.model_file("fp32").read_bytes()), "seeds": 1}}
    for mode in ("fp32", "dynamic_int8"):
        if mode in bundle.modes:
            reference[mode] = {**scorer.score(bundle.model_file(mode).read_bytes()), "seeds": 1}
    runs: dict[str, list[dict]] = {n: [] for n in names}
    for seed in [int(s) for s in args.seeds.split(",")]:
        samples, _ = calibration_samples(splits.train.texts, bundle.tokenizer, bundle.buckets, args.samples, seed=seed)
        for name in names:
            started = time.perf_counter()
            model, _ = quantize_with_recipe(fp32, _variant(name), samples)
            row = {"seed": seed, **scorer.score(model), "seconds": round(time.perf_counter() - started, 1)}
            runs[name].append(row)
            print(f"seed {seed} {name}: " + ", ".join(f"{c} {row[c]:.5f}" for c in COLUMNS if c in row),
                  file=sys.stderr)
    summary = {n: summarize(rows) for n, rows in runs.items()}
    print(table(summary, reference))
    atomic_write_json(Path(args.out), {"kind": "edgekit-int8-techniques", **stamp(), "bundle": str(args.bundle),
                                       "reference_bundle": args.reference, "split": str(args.split),
                                       "samples": args.samples,
                                       "unlabelled": unlabelled.info() if unlabelled else None,
                                       "variants": {n: _variant(n).to_dict() for n in names},
                                       "reference": reference, "summary": summary, "runs": runs})
    return 0


if __name__ == "__main__":
    sys.exit(main())
