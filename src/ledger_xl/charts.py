"""Charts for the report (matplotlib, imported only here). Chinese labels need a CJK font: one is looked up
among the installed fonts, and without one no chart is drawn (a chart of empty boxes helps no one).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import Future

from .status import SHOWN_ORDER

CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC", "Noto Serif CJK SC"]
STATUS_COLORS = {str(s): s.chart_color for s in SHOWN_ORDER}


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


def _figure(width: float, height: float) -> tuple[Any, Any] | None:
    """A figure and its axes on the Agg canvas, or None without a CJK font.

    The object-oriented API, not pyplot: no global figure registry to close, and a third less to import.
    """
    font = cjk_font()
    if font is None:
        return None
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    matplotlib.rcParams["font.family"] = [font]
    matplotlib.rcParams["axes.unicode_minus"] = False
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def _png(fig: object) -> bytes:
    buf = io.BytesIO()
    # zlib level 1: a fifth of the encoding time, and these flat-coloured charts come out no bigger
    fig.savefig(buf, format="png", dpi=160, bbox_inches="tight", pil_kwargs={"compress_level": 1})  # type: ignore[attr-defined]
    return buf.getvalue()


def metric_progress(bars: list[MetricBar], title: str) -> bytes | None:
    """Horizontal bars: actual against total target, with a mark where the plan stands now."""
    made = _figure(7.2, 0.42 * len(bars) + 1.2) if bars else None
    if made is None:
        return None
    fig, ax = made
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
    from matplotlib.patches import Rectangle

    handles = [Rectangle((0, 0), 1, 1, color=c) for s, c in STATUS_COLORS.items() if any(b.status == s for b in bars)]
    labels = [s for s in STATUS_COLORS if any(b.status == s for b in bars)]
    ax.legend(handles, labels, fontsize=7, loc="lower right", frameon=False)
    return _png(fig)


def status_mix(counts: dict[str, int], title: str) -> bytes | None:
    """How many tasks are in each status: one horizontal stacked bar with counts, easy to read in grey print."""
    items = [(s, n) for s, n in counts.items() if n]
    made = _figure(7.2, 1.9) if items else None
    if made is None:
        return None
    fig, ax = made
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


def _warm() -> None:
    import matplotlib.backends.backend_agg  # noqa: F401
    import matplotlib.figure  # noqa: F401

    cjk_font()


def render(jobs: list[tuple[str, tuple[Any, ...]]]) -> list[bytes | None]:
    """Draw charts given as (name of a chart function here, its arguments); None where one is not drawn."""
    drawers: dict[str, Callable[..., bytes | None]] = {"metric_progress": metric_progress, "status_mix": status_mix}
    return [drawers[name](*args) for name, args in jobs]


class Rendering:
    """Charts drawn in a forked process while the caller goes on composing; result() waits for them.

    Importing matplotlib and drawing take most of a report's time, and none of it needs the document: on
    a machine with a second core the report is done in about the time the slower of the two takes. Where
    there is no fork (Windows), or the process fails, the charts are drawn here instead.
    """

    def __init__(self) -> None:
        """Start the drawing process now, so that it imports matplotlib while the caller runs its checks."""
        import multiprocessing
        import os

        self.jobs: list[tuple[str, tuple[Any, ...]]] = []
        self._pool: Any = None
        self._future: Future[list[bytes | None]] | None = None
        if "fork" not in multiprocessing.get_all_start_methods() or os.environ.get("LEDGER_XL_WORKERS") == "0":
            return
        from concurrent.futures import ProcessPoolExecutor

        try:
            from .workspace import forked_child

            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"),
                                             initializer=forked_child, initargs=(os.getpid(),))
            self._pool.submit(_warm)
        except (OSError, RuntimeError):
            self._pool = None

    def draw(self, jobs: list[tuple[str, tuple[Any, ...]]]) -> None:
        self.jobs = jobs
        if self._pool is not None and jobs:
            try:
                self._future = self._pool.submit(render, jobs)
            except RuntimeError:  # the process is gone: result() draws here
                self._future = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def result(self) -> list[bytes | None]:
        if self._future is not None:
            if not self._future.done():
                _warm()  # idle otherwise: the next report of this process forks a child that has matplotlib already
            try:
                return self._future.result(timeout=60)  # charts take about a second
            except Exception:  # the drawing process died or hung: draw here, the report must not fail for it
                pass
            finally:
                self.close()
        self.close()
        return render(self.jobs)
