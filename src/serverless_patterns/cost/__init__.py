"""Cost model: what a synthesized app costs at us-east-1 list prices, read from its templates.

``estimate(path)`` prices a cloud assembly directory (``cdk.out``) or template file: the fixed
monthly cost while idle, the variable cost per 1,000 documents under a usage profile (default:
the document pipeline's flow) and the storage they leave per month. Every line names the
resource that causes it. No jsii: only JSON is read. See ``docs/cost.md``.
"""

from __future__ import annotations

from pathlib import Path

from .idle import idle_lines
from .model import CostLine, Estimate, Notes
from .prices import PRICES_AS_OF, PriceTable, load_prices
from .report import compare, render
from .templates import Stack, load_stacks
from .usage import DOCUMENT_PIPELINE, PROFILES, Assumptions, Call, Step, UsageProfile, usage_lines

__all__ = [
    "DOCUMENT_PIPELINE", "PRICES_AS_OF", "PROFILES", "Assumptions", "Call", "CostLine", "Estimate", "PriceTable",
    "Stack", "Step", "UsageProfile", "compare", "estimate", "estimate_stacks", "load_prices", "load_stacks", "render",
]


def estimate(
    path: str | Path,
    *,
    profile: UsageProfile | None = DOCUMENT_PIPELINE,
    assumptions: Assumptions | None = None,
    prices: PriceTable | None = None,
) -> Estimate:
    """Price the templates at ``path`` (a cloud assembly directory or a template file)."""
    return estimate_stacks(load_stacks(path), source=str(path), profile=profile, assumptions=assumptions, prices=prices)


def estimate_stacks(
    stacks: list[Stack],
    *,
    source: str = "templates",
    profile: UsageProfile | None = DOCUMENT_PIPELINE,
    assumptions: Assumptions | None = None,
    prices: PriceTable | None = None,
) -> Estimate:
    """Price already loaded stacks (e.g. ``[Stack("app", template_dict)]``)."""
    if not stacks:
        raise ValueError("estimate_stacks: no stacks to price")
    prices = prices or load_prices()
    assumptions = assumptions or Assumptions()
    if assumptions.document_mb <= 0:
        raise ValueError(f"document_mb must be positive, got {assumptions.document_mb!r}")
    notes = Notes()
    idle = [line for stack in stacks for line in idle_lines(stack, prices, notes)]
    per_1000: list[CostLine] = []
    storage: list[CostLine] = []
    if profile is not None:
        per_1000, storage = usage_lines(stacks, profile, assumptions, prices, notes)
        if per_1000:
            for text in assumptions.describe():
                notes.assume(text)
    regions = sorted({stack.region for stack in stacks if stack.region})
    region = regions[0] if len(regions) == 1 else prices.region
    if any(r != prices.region for r in regions):
        notes.assume(
            f"the templates target {', '.join(regions)}; prices are {prices.region} list prices "
            f"(AWS publishes only WAF as priced the same in every Region)"
        )
    used = sorted({line.price_key for line in [*idle, *per_1000, *storage]})
    return Estimate(
        source=source, region=region, prices_as_of=prices.as_of, profile=profile.name if profile else None,
        document_mb=assumptions.document_mb,
        idle=sorted(idle, key=lambda line: line.sort_key), per_1000=sorted(per_1000, key=lambda line: line.sort_key),
        storage_per_1000=sorted(storage, key=lambda line: line.sort_key), notes=notes,
        prices_used={key: {"usd": prices.price(key).usd, "unit": prices.price(key).unit, "checked": prices.price(key).checked,
                           "source": prices.price(key).source} for key in used},
    )
