"""Render the README's pictures from a demo run: a bureau template and the report's first page.

    python3 scripts/render_docs.py          (needs LibreOffice and pdftoppm: scripts/setup-system.sh)
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ledger_xl.demo import run_demo
from ledger_xl.testing.office import convert, pdf_to_png

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    docs = REPO / "docs"
    docs.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lx-docs-") as d:
        tmp = Path(d)
        result = run_demo(tmp / "demo", log=lambda *_: None)
        ws = result.root / "workspace" / "outputs"
        template = max((ws / "templates" / "2025H2").glob("*.xlsx"), key=lambda p: p.stat().st_size)
        for src, name, page in ((template, "template.png", 2), (ws / "reports" / "2025H2_总结报告.docx", "report-page1.png", 1),
                                (ws / "master_ledger.xlsx", "master-ledger.png", 1)):
            pdf = convert(src, "pdf", tmp / "pdf")
            (png,) = pdf_to_png(pdf, tmp / "png" / Path(name).stem, dpi=110, first=page, last=page)
            shutil.copyfile(png, docs / name)
            print(f"docs/{name} ← {src.name} (page {page})")


if __name__ == "__main__":
    main()
