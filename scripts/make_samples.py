"""Regenerate samples/: returned workbooks for every period and typical mistakes (deterministic).

    python3 scripts/make_samples.py [--seed 2024]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ledger_xl.testing.samples import generate

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args()
    run = generate(REPO / "workbook_templates" / "nanyang" / "ledger.xlsx", REPO / "samples", seed=args.seed)
    print(f"samples/returns：{sum(len(v) for v in run.returns.values())} 份；samples/bad：{len(run.bad)} 份")


if __name__ == "__main__":
    main()
