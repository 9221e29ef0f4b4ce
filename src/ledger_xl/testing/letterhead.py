"""An illustrative office letterhead (版头) for tests and the docs pictures: offices supply their own."""

from __future__ import annotations

from pathlib import Path


def make_letterhead(path: Path, issuer: str) -> Path:
    """The red 发文机关标志 in 方正小标宋 and a red rule under it, as an office's Word file has them."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    d = docx.Document()
    p = d.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    r = p.add_run(f"{issuer}文件")
    r.font.size, r.font.color.rgb, r.font.name = Pt(26), RGBColor(0xE6, 0, 0), "方正小标宋简体"
    rule = d.add_paragraph()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("val", "single"), ("sz", "18"), ("space", "1"), ("color", "E60000")):
        bottom.set(qn(f"w:{k}"), v)
    border.append(bottom)
    rule._p.get_or_add_pPr().append(border)
    d.save(str(path))
    return path
