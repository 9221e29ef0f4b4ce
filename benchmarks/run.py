"""ledger-xl benchmarks: figures and ratios measured in one run (the machines are shared and noisy).

    python -m benchmarks.run [--only templates,ingest,...] [--cities N]

Every section prints what it measured and, where the issue sets a target, the ratio against it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "samples" / "nanyang_key_task_ledger.docx"


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    """Median wall time of fn over repeat runs."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bench_templates(tmp: Path, args: argparse.Namespace) -> None:
    from ledger_xl.model import Period
    from ledger_xl.templates import write_templates
    from ledger_xl.wordimport import import_docx

    ledger = import_docx(SEED).ledger
    period = Period(ledger.years[1], "half-year", 1)
    n = len(ledger.bureaus_with_tasks())
    t = timed(lambda: write_templates(ledger, period, tmp / "tpl", key=b"k" * 32, ledger_id="bench"))
    print(f"templates: {n} templates for {period.code} in {t:.3f} s — {t / n * 1000:.1f} ms per template "
          f"(target: {n} well under 1 s; ratio to target {t / 1.0:.2f})")


SECTIONS: dict[str, Callable[[Path, argparse.Namespace], None]] = {"templates": bench_templates}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections: " + ",".join(SECTIONS))
    ap.add_argument("--cities", type=int, default=20, help="cities in the province corpus (14 bureaus × 6 half-years each)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lx-bench-") as d:
        for name in args.only.split(","):
            SECTIONS[name.strip()](Path(d), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
