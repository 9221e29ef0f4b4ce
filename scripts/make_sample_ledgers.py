"""Write the example ledgers of each common shape (Word and Excel twins) to samples/ledgers/.

The shapes are drawn in tests/ledger_shapes.py; the tests check that these files import as built there.
Run: python3 scripts/make_sample_ledgers.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from ledger_shapes import SHAPES, write_docx, write_xlsx  # noqa: E402


def main() -> None:
    out = ROOT / "samples" / "ledgers"
    out.mkdir(parents=True, exist_ok=True)
    for key, make in SHAPES.items():
        write_docx(make(), out / f"{key}.docx")
        write_xlsx(make(), out / f"{key}.xlsx")
        print(out / f"{key}.docx", out / f"{key}.xlsx")


if __name__ == "__main__":
    main()
