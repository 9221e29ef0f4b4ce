"""Charts for the report (matplotlib, imported only here). Chinese labels need a CJK font: one is looked up
among the installed fonts, and without one no chart is drawn (a chart of empty boxes helps no one).
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC", "Noto Serif CJK SC"]
STATUS_COLORS = {"已完成": "#2E7D32", "超额": "#66BB6A", "按进度": "#1E88E5", "预警": "#FBC02D", "滞后": "#E53935",
                 "未达标": "#8E24AA", "未报": "#9E9E9E"}


@dataclass(frozen=True)
class MetricBar:
    label: str
    planned_share: float  # cumulative plan now / total, 0..1+
    actual_share: float  # cumulative actual / total
    status: str


@functools.cache
def cjk_font() -> str | None:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in CJK_FONTS if n in names), None)


def _setup() -> object:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = cjk_font()
    if font is None:
        return None
    plt.rcParams["font.family"] = [font]
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _png(fig: object) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=160, bbox_inches="tight")  # type: ignore[attr-defined]
    import matplotlib.pyplot as plt

    plt.close(fig)  # type: ignore[arg-type]
    return buf.getvalue()


def metric_progress(bars: list[MetricBar], title: str) -> bytes | None:
    """Horizontal bars: actual against total target, with a mark where the plan stands now."""
    plt = _setup()
    if plt is None or not bars:
        return None
    h = 0.42 * len(bars) + 1.2
    fig, ax = plt.subplots(figsize=(7.2, h))  # type: ignore[attr-defined]
    ys = list(range(len(bars)))[::-1]
    for y, b in zip(ys, bars, strict=True):
        ax.barh(y, min(b.actual_share, 1.5) * 100, color=STATUS_COLORS.get(b.status, "#1E88E5"), height=0.6)
        ax.plot([b.planned_share * 100] * 2, [y - 0.38, y + 0.38], color="#212121", linewidth=1.6)
        ax.text(min(b.actual_share, 1.5) * 100 + 1.5, y, f"{b.actual_share * 100:.0f}%", va="center", fontsize=8)
    ax.set_yticks(ys)
    ax.set_yticklabels([b.label for b in bars], fontsize=8)
    ax.set_xlim(0, max(115, max(min(b.actual_share, 1.5) * 100 for b in bars) + 12))
    ax.axvline(100, color="#757575", linestyle="--", linewidth=0.8)
    ax.set_xlabel("占总目标的比例（%）；黑色竖线为截至本期的计划进度", fontsize=8)
    ax.set_title(title, fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for s, c in STATUS_COLORS.items() if any(b.status == s for b in bars)]  # type: ignore[attr-defined]
    labels = [s for s in STATUS_COLORS if any(b.status == s for b in bars)]
    ax.legend(handles, labels, fontsize=7, loc="lower right", frameon=False)
    return _png(fig)


def status_mix(counts: dict[str, int], title: str) -> bytes | None:
    """How many tasks are in each status: one horizontal stacked bar with counts, easy to read in grey print."""
    plt = _setup()
    items = [(s, n) for s, n in counts.items() if n]
    if plt is None or not items:
        return None
    fig, ax = plt.subplots(figsize=(7.2, 1.9))  # type: ignore[attr-defined]
    left = 0
    total = sum(n for _, n in items)
    for s, n in items:
        ax.barh(0, n, left=left, color=STATUS_COLORS.get(s, "#757575"), height=0.55)
        if n / total > 0.06:
            ax.text(left + n / 2, 0, f"{s}\n{n}项", ha="center", va="center", fontsize=8, color="white")
        left += n
    ax.set_xlim(0, total)
    ax.set_yticks([])
    ax.set_xlabel(f"共 {total} 项任务", fontsize=8)
    ax.set_title(title, fontsize=11)
    ax.spines[["top", "right", "left"]].set_visible(False)
    small = [f"{s} {n}项" for s, n in items if n / total <= 0.06]
    if small:
        ax.text(total, -0.55, "；".join(small), ha="right", va="top", fontsize=7)
    return _png(fig)
