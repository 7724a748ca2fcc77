"""The dated list-price table shipped with the package (``prices_us_east_1.json``).

Every price carries its unit, the page it was read from and how it was checked (``aws``: read on
the AWS page; ``third-party``: read in a summary of the AWS page; ``unverified``: not confirmed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

PRICE_FILE = Path(__file__).with_name("prices_us_east_1.json")


@dataclass(frozen=True)
class Price:
    key: str
    usd: float
    unit: str
    checked: str
    source: str


@dataclass(frozen=True)
class PriceTable:
    as_of: str
    region: str
    currency: str
    hours_per_month: int
    prices: dict[str, Price]
    region_invariant: dict[str, str]

    def __getitem__(self, key: str) -> float:
        return self.prices[key].usd

    def per_unit(self, key: str) -> float:
        """The price of one unit: keys ending ``_1m``, ``_100k``, ``_10k`` or ``_1k`` are priced per that many."""
        return self.prices[key].usd / unit_count(key)

    def price(self, key: str) -> Price:
        return self.prices[key]

    def holds_in(self, key: str, region: str) -> bool:
        """Whether the price of ``key`` applies in ``region`` (us-east-1, or published as the same everywhere)."""
        return region == self.region or any(key.startswith(prefix) for prefix in self.region_invariant)


_COUNTS = {"_1m": 1_000_000, "_100k": 100_000, "_10k": 10_000, "_1k": 1_000}


def unit_count(key: str) -> int:
    """How many units the listed price of ``key`` is for (1 unless the key ends in ``_1m``, ``_1k``...)."""
    return next((count for suffix, count in _COUNTS.items() if key.endswith(suffix)), 1)


@lru_cache(maxsize=1)
def load_prices(path: Path = PRICE_FILE) -> PriceTable:
    """The price table; ``path`` defaults to the table shipped with the package."""
    raw: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    prices = {key: Price(key, float(p["usd"]), p["unit"], p["checked"], p["source"]) for key, p in raw["prices"].items()}
    unknown = sorted({p.checked for p in prices.values()} - set(raw["checked_meanings"]))
    if unknown:
        raise ValueError(f"{path}: unknown 'checked' values {unknown}")
    return PriceTable(
        as_of=raw["as_of"], region=raw["region"], currency=raw["currency"],
        hours_per_month=int(raw["hours_per_month"]), prices=prices, region_invariant=dict(raw["region_invariant"]),
    )


PRICES_AS_OF = load_prices().as_of
