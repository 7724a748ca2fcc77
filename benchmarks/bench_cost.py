"""Cost of the flagship as synthesized: idle monthly cost and cost per 1,000 documents of 1 MB.

Each configuration of ``examples/document_pipeline`` is synthesized and priced by the library's
cost model (``serverless-patterns cost``, us-east-1 list prices of the shipped price table).
Targets (issue 13): idle at most $12 a month for the default (dev) configuration and $35 for prod
(VPC, trail, web ACL), in the first year.
"""

from __future__ import annotations

import sys
import tempfile

from common import ROOT, print_table, verdict

IDLE_TARGETS = {"dev": 12.0, "prod": 35.0}


def main() -> list[tuple]:
    sys.path[:0] = [str(ROOT), str(ROOT / "src")]
    from aws_cdk import App

    from examples.document_pipeline import app as flagship
    from serverless_patterns.cost import PRICES_AS_OF, estimate

    rows = []
    for name, target in IDLE_TARGETS.items():
        outdir = tempfile.mkdtemp()
        app = App(outdir=outdir, context={"env": name})
        flagship.build(app)
        app.synth()
        priced = estimate(outdir)
        year_1, year_2, year_3 = priced.idle_by_year
        rows.append((name, f"{year_1:.2f}", f"{year_2:.2f}", f"{year_3:.2f}", f"<= {target:.2f}",
                     verdict(year_1 <= target), f"{priced.per_1000_total:.3f}", f"{priced.storage_per_1000_total:.4f}"))
    print_table(
        f"Flagship cost at us-east-1 list prices of {PRICES_AS_OF} (serverless-patterns cost; documents of 1 MB)",
        ["configuration", "idle $/month year 1", "year 2", "year 3+", "target year 1", "verdict", "$ per 1,000 documents",
         "storage $/month per 1,000 kept"],
        rows,
    )
    return rows


if __name__ == "__main__":
    main()
