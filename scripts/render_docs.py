"""Render the README's pictures from a demo run: a bureau template page, the master ledger's 一览表, and
the report's first page (with an illustrative letterhead, 主送机关 and the full issuer), a table page and
the signature page.

    python3 scripts/render_docs.py          (needs LibreOffice and pdftoppm: scripts/setup-system.sh)
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ledger_xl.demo import run_demo
from ledger_xl.pipeline import make_report
from ledger_xl.testing.office import convert, pdf_to_png

REPO = Path(__file__).resolve().parents[1]
ISSUER_FULL = "南阳市绿色货运配送示范工程创建工作领导小组办公室"


def letterhead(path: Path) -> Path:
    """An illustrative 版头 as an office's Word file has it: the red 发文机关标志 and a red rule under it."""
    from ledger_xl.testing.letterhead import make_letterhead

    return make_letterhead(path, ISSUER_FULL)


def pages_text(pdf: Path) -> list[str]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    n = int(re.search(r"Pages:\s+(\d+)", info)[1])  # type: ignore[index]
    return [subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout for i in range(1, n + 1)]


def office_report(ws: Path, out: Path) -> Path:
    """The demo's report as an office configures it: letterhead, addressee, full issuer."""
    letterhead(ws / "版头.docx")
    cfg = ws / "ledger-xl.toml"
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(text.replace('addressee = ""', 'addressee = "市人民政府"').replace('issuer_full = ""', f'issuer_full = "{ISSUER_FULL}"')
                   .replace('letterhead = ""', 'letterhead = "版头.docx"'), encoding="utf-8")
    path, _ = make_report(ws, "2025H2", out, date=dt.date(2026, 1, 10))
    return path


def main() -> None:
    docs = REPO / "docs"
    docs.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lx-docs-") as d:
        tmp = Path(d)
        result = run_demo(tmp / "demo", log=lambda *_: None)
        ws = result.root / "workspace"
        outputs = ws / "outputs"
        template = max((outputs / "templates" / "2025H2").glob("*.xlsx"), key=lambda p: p.stat().st_size)
        report = office_report(ws, tmp / "2025H2_总结报告.docx")
        report_pdf = convert(report, "pdf", tmp / "pdf")
        texts = pages_text(report_pdf)
        table_page = next(i for i, t in enumerate(texts, start=1) if "累计计划" in t)
        shots = [(convert(template, "pdf", tmp / "pdf"), "template.png", 2),
                 (convert(outputs / "master_ledger.xlsx", "pdf", tmp / "pdf"), "master-ledger.png", 1),
                 (report_pdf, "report-page1.png", 1), (report_pdf, "report-table.png", table_page),
                 (report_pdf, "report-signature.png", len(texts))]
        for pdf, name, page in shots:
            (png,) = pdf_to_png(pdf, tmp / "png" / Path(name).stem, dpi=80, first=page, last=page)
            shutil.copyfile(png, docs / name)
            print(f"docs/{name} ← {pdf.name} (page {page})")


if __name__ == "__main__":
    main()
