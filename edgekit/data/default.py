"""The embedded default dataset: financial-news sentences written by this project.

``edgekit run`` trains on it when no data is given, so the main job works offline on a fresh
machine without any third-party data. The sentences are composed from templates and fictional
companies (any resemblance to a real one is accidental), with the sentiment an investor would
read: positive, negative or neutral. The shipped file ``resources/default_financial_news.tsv`` is
the output of :func:`generate` for the default seed; a test checks that they agree.

Regenerate with ``python -m edgekit.data.default``.
"""

from __future__ import annotations

import random
from importlib import resources
from pathlib import Path

from .dataset import Dataset, Example

RESOURCE = "default_financial_news.tsv"
LABELS = ("negative", "neutral", "positive")
PER_LABEL = 200
SEED = 20261122

COMPANIES = [
    "Nordvik Steel", "Aurora Paper", "Kestrel Telecom", "Baltic Freight", "Helmi Foods", "Lumen Systems",
    "Fjord Energy", "Tammer Bank", "Oskari Retail", "Vantaa Logistics", "Sarja Pharma", "Koivu Packaging",
    "Polaris Software", "Rautio Engineering", "Meri Shipping", "Ilves Media", "Kallio Construction",
    "Northwind Airlines", "Saimaa Chemicals", "Lapland Mining", "Aalto Robotics", "Harbor Insurance",
]
METRICS = ["net sales", "operating profit", "pre-tax profit", "net profit", "revenue", "order intake",
           "operating margin", "earnings per share", "comparable sales", "cash flow from operations"]
PERIODS = ["the first quarter of 2025", "the second quarter", "the third quarter of 2024", "the fourth quarter",
           "the first half of the year", "January-September", "the full year 2024", "the reporting period"]
PRODUCTS = ["paper machines", "container cranes", "mobile networks", "frozen foods", "cloud services",
            "wind turbines", "packaging board", "generic medicines", "cargo ships", "mining equipment"]
CITIES = ["Helsinki", "Tampere", "Oulu", "Stockholm", "Tallinn", "Riga", "Gothenburg", "Turku", "Espoo"]
CURRENCIES = ["EUR", "USD", "SEK"]

POSITIVE = [
    "{c} said its {m} rose {p} % to {cur} {a} mn in {per}, up from {cur} {b} mn a year earlier.",
    "{c} won a {cur} {a} mn order to supply {prod} to a customer in {city}.",
    "{c} raised its outlook for the year after strong demand for its {prod}.",
    "Shares of {c} jumped {p} % after the company reported record {m} for {per}.",
    "{c}'s {m} increased to {cur} {a} mn from {cur} {b} mn in the corresponding period.",
    "{c} swung to an operating profit of {cur} {a} mn in {per} from a loss a year earlier.",
    "The net loss of {c} narrowed to {cur} {b} mn, and the company expects to return to profit.",
    "{c} will expand its plant in {city}, creating some {n} new jobs as orders for {prod} grow.",
    "Analysts upgraded {c} to buy, citing improving margins and a growing order backlog.",
    "{c} agreed to sell its non-core {prod} unit for {cur} {a} mn, above market expectations.",
    "Demand for {prod} remained strong and {c} doubled its {m} in {per}.",
    "{c} proposes a dividend of {cur} 0.{d} per share, an increase on the previous year.",
]
NEGATIVE = [
    "{c} said its {m} fell {p} % to {cur} {b} mn in {per}, down from {cur} {a} mn a year earlier.",
    "{c} swung to an operating loss of {cur} {b} mn in {per} from a profit a year earlier.",
    "{c} cut its full-year guidance, blaming weak demand for {prod}.",
    "Shares of {c} dropped {p} % after the company warned that {m} will decline this year.",
    "{c} will lay off {n} employees and close its factory in {city}.",
    "The net loss of {c} widened to {cur} {a} mn as sales of {prod} slumped.",
    "{c}'s {m} decreased to {cur} {b} mn from {cur} {a} mn in the corresponding period.",
    "A customer cancelled a {cur} {a} mn order for {prod}, {c} said, and the company expects lower {m}.",
    "Analysts downgraded {c} to sell after it missed expectations for the third time in a row.",
    "{c} booked a {cur} {a} mn write-down on its {prod} business and suspended its dividend.",
    "Rising raw material costs squeezed the margins of {c}, and its {m} shrank in {per}.",
    "{c} started negotiations on temporary lay-offs affecting {n} people at its {city} unit.",
]
NEUTRAL = [
    "{c} will publish its interim report for {per} on {day} {month}.",
    "{c} is headquartered in {city} and employs about {n} people.",
    "{c} makes {prod} and sells them mainly in the Nordic and Baltic countries.",
    "The annual general meeting of {c} will be held in {city} on {day} {month}.",
    "{c} has appointed a new chief financial officer, who will start on {day} {month}.",
    "The agreement between {c} and a customer in {city} covers deliveries of {prod}.",
    "{c}'s shares are listed on the stock exchange in {city}.",
    "The company's {m} figures for {per} are not comparable because of a change in accounting rules.",
    "{c} will hold a conference call for analysts and investors on {day} {month}.",
    "The board of {c} consists of {k} members, and its chairman was re-elected.",
    "{c} said the value of the contract with the city of {city} was not disclosed.",
    "{c} operates {k} production sites, one of them in {city}.",
]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]


def _fill(template: str, rng: random.Random) -> str:
    a = rng.randint(12, 950) + rng.choice([0, 0.1, 0.4, 0.7, 0.9])
    b = round(a * rng.uniform(0.4, 0.85), 1)
    return template.format(
        c=rng.choice(COMPANIES), m=rng.choice(METRICS), per=rng.choice(PERIODS), prod=rng.choice(PRODUCTS),
        city=rng.choice(CITIES), cur=rng.choice(CURRENCIES), a=round(a, 1), b=b,
        p=rng.choice([2.5, 4.1, 6.8, 9.3, 12, 15.6, 21, 34.2]), n=rng.choice([40, 85, 120, 250, 400, 1200]),
        d=rng.randint(10, 95), day=rng.randint(1, 28), month=rng.choice(MONTHS), k=rng.randint(3, 9),
    )


def generate(per_label: int = PER_LABEL, seed: int = SEED) -> list[Example]:
    """``per_label`` distinct sentences for each label, deterministic for ``seed``."""
    rng = random.Random(seed)
    out: list[Example] = []
    for label, templates in (("positive", POSITIVE), ("negative", NEGATIVE), ("neutral", NEUTRAL)):
        seen: set[str] = set()
        while len(seen) < per_label:
            text = _fill(rng.choice(templates), rng)
            if text not in seen:
                seen.add(text)
                out.append(Example(text, label))
    rng.shuffle(out)
    return out


def to_tsv(examples: list[Example]) -> str:
    return "text\tlabel\n" + "".join(f"{e.text}\t{e.label}\n" for e in examples)


def resource_path() -> Path:
    return Path(str(resources.files("edgekit") / "resources" / RESOURCE))


def load_default() -> Dataset:
    """The shipped default dataset (``edgekit run`` without ``--data``)."""
    from .loaders import load_dataset

    return load_dataset(resource_path(), format="tsv", labels=LABELS, name="edgekit-default-financial-news")


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    from ..fsutil import atomic_write_text

    path = Path(__file__).resolve().parent.parent / "resources" / RESOURCE
    atomic_write_text(path, to_tsv(generate()))
    print(f"wrote {path}")
