"""Rendering estimates as Markdown (for a pull request), aligned text or JSON; comparing two."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .model import CostLine, Estimate

FORMATS = ("markdown", "text", "json")


def money(value: float, digits: int = 2) -> str:
    return f"${value:,.{digits}f}"


def quantity(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def unit_price(value: float) -> str:
    return f"${value:.10f}".rstrip("0").rstrip(".") if value else "$0"


def _table(header: Sequence[str], rows: list[list[str]], fmt: str, right: Sequence[int] = ()) -> str:
    if fmt == "markdown":
        align = ["---:" if index in right else "---" for index in range(len(header))]
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(r[i])) for r in [list(header), *rows]) for i in range(len(header))]
    out = []
    for row in [list(header), ["-" * w for w in widths], *rows]:
        cells = [cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def _heading(text: str, fmt: str, level: int = 2) -> str:
    return f"{'#' * level} {text}" if fmt == "markdown" else f"{text}\n{'=' * len(text)}"


def _resource(line: CostLine, stacks: int) -> str:
    return f"{line.stack}/{line.logical_id}" if stacks > 1 else line.logical_id


def render(estimate: Estimate, fmt: str = "markdown") -> str:
    """The estimate as ``markdown``, ``text`` or ``json``; lines sorted, so equal input renders equal output."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt == "json":
        return json.dumps(estimate.to_dict(), indent=2, sort_keys=True)
    stacks = len({line.stack for line in [*estimate.idle, *estimate.per_1000]}) or 1
    year1, year2, year3 = estimate.idle_by_year
    parts = [
        _heading(f"Cost estimate: {estimate.source}", fmt, 1),
        f"{estimate.region} list prices as of {estimate.prices_as_of} (USD, no free tier). "
        f"Idle: {money(year1)}/month (year 1), {money(year2)} (year 2), {money(year3)} (year 3+)."
        + (f" Per 1,000 documents of {estimate.document_mb:g} MB: {money(estimate.per_1000_total, 4)}, "
           f"plus {money(estimate.storage_per_1000_total, 4)} a month for as long as they are kept." if estimate.per_1000 else ""),
        _heading("Fixed monthly cost while idle", fmt),
        _table(
            ["Resource", "Type", "Charge", "Quantity", "Unit price", "Year 1", "Year 2", "Year 3+"],
            [[_resource(l, stacks), l.resource_type, l.item, f"{quantity(l.quantity)} {l.unit}", unit_price(l.unit_price),
              *(money(v) for v in (l.cost_by_year or (l.cost,) * 3))] for l in estimate.idle]
            + [["**Total**" if fmt == "markdown" else "Total", "", "", "", "", money(year1), money(year2), money(year3)]],
            fmt, right=(3, 4, 5, 6, 7),
        ),
    ]
    if estimate.per_1000:
        parts += [
            _heading(f"Variable cost per 1,000 documents (profile {estimate.profile})", fmt),
            _table(
                ["Resource", "Type", "Charge", "Quantity", "Unit price", "Cost"],
                [[_resource(l, stacks), l.resource_type, l.item, f"{quantity(l.quantity)} {l.unit}", unit_price(l.unit_price), money(l.cost, 4)]
                 for l in estimate.per_1000]
                + [["**Total**" if fmt == "markdown" else "Total", "", "", "", "", money(estimate.per_1000_total, 4)]],
                fmt, right=(3, 4, 5),
            ),
            _heading("Storage per month, per 1,000 documents kept", fmt),
            _table(
                ["Resource", "Type", "Charge", "Quantity", "Unit price", "Cost"],
                [[_resource(l, stacks), l.resource_type, l.item, f"{quantity(l.quantity)} {l.unit}", unit_price(l.unit_price), money(l.cost, 4)]
                 for l in estimate.storage_per_1000]
                + [["**Total**" if fmt == "markdown" else "Total", "", "", "", "", money(estimate.storage_per_1000_total, 4)]],
                fmt, right=(3, 4, 5),
            ),
        ]
    bullet = "- " if fmt == "markdown" else "  - "
    for title, items in (
        ("Assumptions", estimate.notes.assumptions),
        ("Facts the figures rely on", sorted(estimate.notes.facts)),
        ("Not priced", sorted(estimate.notes.unpriced_items)),
    ):
        if items:
            parts += [_heading(title, fmt), "\n".join(bullet + item for item in items)]
    parts += [
        _heading("Prices used", fmt),
        _table(
            ["Price", "USD", "Per", "Checked", "Source"],
            [[key, f"{p['usd']:g}", p["unit"], p["checked"], p["source"]] for key, p in sorted(estimate.prices_used.items())],
            fmt, right=(1,),
        ),
    ]
    return "\n\n".join(parts) + "\n"


def compare(old: Estimate, new: Estimate, fmt: str = "markdown") -> str:
    """The lines whose cost differs between ``old`` and ``new``, and the change of each total."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    sections = []
    data = {}
    for title, before, after, digits in (
        ("Idle, monthly (year 1)", old.idle, new.idle, 2),
        ("Idle, monthly (year 3+)", old.idle, new.idle, 2),
        ("Per 1,000 documents", old.per_1000, new.per_1000, 4),
    ):
        year3 = "year 3+" in title
        value = (lambda l: (l.cost_by_year or (l.cost,) * 3)[2]) if year3 else (lambda l: l.cost)
        single = len({l.stack for l in [*old.idle, *old.per_1000]}) <= 1 and len({l.stack for l in [*new.idle, *new.per_1000]}) <= 1
        a, b = _by_key(before, value, single), _by_key(after, value, single)
        rows = []
        for key in sorted(set(a) | set(b)):
            if abs(a.get(key, 0) - b.get(key, 0)) > 1e-9:
                rows.append([key[1] if single else f"{key[0]}/{key[1]}", key[2], money(a.get(key, 0), digits), money(b.get(key, 0), digits),
                             _signed(b.get(key, 0) - a.get(key, 0), digits)])
        total_a, total_b = sum(a.values()), sum(b.values())
        data[title] = {"old": round(total_a, 6), "new": round(total_b, 6), "change": round(total_b - total_a, 6),
                       "lines": [dict(zip(("resource", "charge", "old", "new", "change"), row)) for row in rows]}
        rows.append(["**Total**" if fmt == "markdown" else "Total", "", money(total_a, digits), money(total_b, digits), _signed(total_b - total_a, digits)])
        sections += [_heading(title, fmt), _table(["Resource", "Charge", "Old", "New", "Change"], rows, fmt, right=(2, 3, 4))]
    if fmt == "json":
        return json.dumps({"old": old.source, "new": new.source, "prices_as_of": new.prices_as_of, **data}, indent=2, sort_keys=True)
    head = _heading(f"Cost change: {old.source} -> {new.source}", fmt, 1)
    return "\n\n".join([head, f"{new.region} list prices as of {new.prices_as_of} (USD).", *sections]) + "\n"


def _by_key(lines: list[CostLine], value, single_stack: bool) -> dict[tuple[str, str, str], float]:
    """Cost per line identity; the stack name is left out when each side has one stack (it may be renamed)."""
    totals: dict[tuple[str, str, str], float] = {}
    for line in lines:
        key = ("", *line.key[1:]) if single_stack else line.key
        totals[key] = totals.get(key, 0) + value(line)
    return totals


def _signed(value: float, digits: int) -> str:
    sign = "+" if value > 0 else "-" if value < 0 else ""
    return f"{sign}{money(abs(value), digits)}"
