"""The cost model's results: lines naming the resource that causes them, totals, assumptions."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class CostLine:
    """One charge caused by one resource.

    ``cost`` is USD a month for idle lines (year 1) and USD per 1,000 documents for usage lines;
    ``cost_by_year`` (idle lines only) is the monthly cost in year 1, year 2 and year 3 and later,
    which differ for rotated KMS keys.
    """

    stack: str
    logical_id: str
    resource_type: str
    item: str
    quantity: float
    unit: str
    unit_price: float
    price_key: str
    cost: float
    cost_by_year: tuple[float, float, float] | None = None

    @property
    def sort_key(self) -> tuple[str, str, str, str]:
        return (self.stack, self.resource_type, self.logical_id, self.item)

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity of the line across two estimates (for ``--compare``)."""
        return (self.stack, self.logical_id, self.item.split(" (")[0])


@dataclass
class Notes:
    """Assumptions the figures rest on, facts worth knowing, and what the model does not price."""

    assumptions: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    unpriced_items: list[str] = field(default_factory=list)

    def assume(self, text: str) -> None:
        if text not in self.assumptions:
            self.assumptions.append(text)

    def note(self, text: str) -> None:
        if text not in self.facts:
            self.facts.append(text)

    def unpriced(self, text: str) -> None:
        if text not in self.unpriced_items:
            self.unpriced_items.append(text)


@dataclass
class Estimate:
    """What a set of templates costs: idle a month, per 1,000 documents, storage per month kept."""

    source: str
    region: str
    prices_as_of: str
    profile: str | None
    document_mb: float
    idle: list[CostLine]
    per_1000: list[CostLine]
    storage_per_1000: list[CostLine]
    notes: Notes
    prices_used: dict[str, dict[str, Any]]

    @property
    def idle_by_year(self) -> tuple[float, float, float]:
        years = [0.0, 0.0, 0.0]
        for line in self.idle:
            for index, value in enumerate(line.cost_by_year or (line.cost,) * 3):
                years[index] += value
        return (years[0], years[1], years[2])

    @property
    def idle_total(self) -> float:
        return self.idle_by_year[0]

    @property
    def per_1000_total(self) -> float:
        return sum(line.cost for line in self.per_1000)

    @property
    def storage_per_1000_total(self) -> float:
        return sum(line.cost for line in self.storage_per_1000)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["totals"] = {
            "idle_monthly_year_1": round(self.idle_by_year[0], 4),
            "idle_monthly_year_2": round(self.idle_by_year[1], 4),
            "idle_monthly_year_3_plus": round(self.idle_by_year[2], 4),
            "per_1000_documents": round(self.per_1000_total, 6),
            "storage_per_month_per_1000_documents_kept": round(self.storage_per_1000_total, 6),
        }
        return data
