"""One table model for ledgers kept in Word or in Excel: rows of cells with their merges and line breaks.

A Word table and an Excel sheet are read by two front ends (wordimport, xlsximport) into this model;
one reader (ledgerimport) finds the columns' roles and the rows' kinds in it. A cell remembers where it
came from so that a finding can name the table row (Word) or the sheet and cell (Excel).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class TCell:
    """One grid position. Merged positions share `key` and carry the merged cell's text."""

    text: str  # as written, line breaks kept, stripped at both ends
    key: object  # the same object for every grid position of one merged cell
    ref: str  # "C7" in a sheet, "" in a Word table (Word findings name the row)


@dataclass(slots=True)
class TableModel:
    """A ledger table and the lines written above and below it (title, 附件 line, notes)."""

    file: str  # the file name findings name
    sheet: str  # the sheet name, or "表格" for a Word table
    rows: list[list[TCell]]
    above: list[str] = field(default_factory=list)  # lines before the table: 附件1, title, 填报说明 …
    below: list[str] = field(default_factory=list)  # lines after it: 备注, 报送要求 …
    word: bool = True  # Word tables are placed by row ("第3行"), sheets by cell ("C7")

    def place(self, row: int, col: int | None = None) -> str:
        """Where a finding points: "第3行" in a Word table; "C7" (or "第7行") in a sheet. `row` is 0-based."""
        if self.word or col is None or row >= len(self.rows) or col >= len(self.rows[row]):
            if not self.word and self.rows and row < len(self.rows) and self.rows[row]:
                ref = self.rows[row][0].ref
                return f"第{''.join(ch for ch in ref if ch.isdigit())}行" if ref else f"第{row + 1}行"
            return f"第{row + 1}行"
        return self.rows[row][col].ref or f"第{row + 1}行"

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)


def merged_across(row: list[TCell]) -> bool:
    """Every non-empty position of the row belongs to one merged cell that spans at least half the row."""
    keys = [c.key for c in row if c.text]
    if not keys or len(set(map(id, keys))) != 1:
        return False
    span = sum(1 for c in row if c.key is keys[0])
    return span >= max(2, (len(row) + 1) // 2)
