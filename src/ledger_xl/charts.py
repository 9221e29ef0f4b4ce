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

from .status import SHOWN_ORDER, Status

# serif first: the charts sit beside 仿宋 text; a sans face only where no CJK serif is installed
CJK_FONTS = ["Noto Serif CJK SC", "Source Han Serif SC", "SimSun", "FangSong", "Songti SC", "STSong",
             "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC"]
# readable on a black-and-white printer: grey levels far apart (Status.chart_color), each status with its
# own hatching, and every bar labelled in words; the colour is only a help on screen
HATCHES = {Status.DONE: "", Status.AHEAD: "++", Status.ON_TRACK: "//", Status.WARNING: "..", Status.BEHIND: "xx",
           Status.NOT_MET: "\\\\", Status.REFUSED: "||", Status.NOT_REPORTED: "--"}
STATUS_STYLE = {str(s): (s.chart_color, HATCHES[s]) for s in SHOWN_ORDER}
STATUS_COLORS = {s: c for s, (c, _) in STATUS_STYLE.items()}
LABEL_CHARS = 14  # a metric's label wraps onto a second line after this many characters, never cut
DPI = 160
PAD_IN = 0.1  # white margin around what is drawn (savefig's pad_inches)


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
    fig = Figure(figsize=(width, height), dpi=DPI)  # measured at the dpi it is saved at (see _png)
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def saved_box(fig: Any) -> Any:
    """What of the figure is saved (inches): the box round everything drawn — long wrapped labels, the
    labels beside the bars, title, legend — and a margin, so that nothing is cut.

    This is what savefig(bbox_inches="tight") saves, found without its first pass: "tight" draws the whole
    figure once without painting to measure it, then again to paint; the box is measured here straight from
    the artists' extents, and the PNG is the same byte for byte (tested), one draw instead of two.
    """
    return fig.get_tightbbox(fig.canvas.get_renderer()).padded(PAD_IN)


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    # zlib level 1: a fifth of the encoding time, and these flat-coloured charts come out no bigger
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches=saved_box(fig), pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def wrap_label(text: str, n: int = LABEL_CHARS) -> str:
    """A label in lines of at most n characters (CJK text has no spaces to break at)."""
    return "\n".join(text[i:i + n] for i in range(0, len(text), n)) or text


def _bar(ax: Any, y: float, width: float, left: float, status: str, height: float) -> None:
    color, hatch = STATUS_STYLE.get(status, ("#BDBDBD", ""))
    ax.barh(y, width, left=left, color=color, hatch=hatch, edgecolor="#212121", linewidth=0.6, height=height)


def _legend(ax: Any, statuses: list[str], **kwargs: Any) -> Any:
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=STATUS_STYLE[s][0], hatch=STATUS_STYLE[s][1], edgecolor="#212121", label=s)
               for s in STATUS_STYLE if s in statuses]
    return ax.legend(handles=handles, fontsize=LEGEND_PT, frameon=False, **kwargs)


# the metrics chart is drawn at the size it is printed (CHART_WIDTH_IN wide, shown 150 mm in the report), so
# its 8 pt stays 8 pt on paper; sizes in points
METRIC_PT = 8  # y labels, bar labels, ticks, axis label, legend
LEGEND_PT = 8
CHART_WIDTH_IN = 5.45  # plus the saved margins: about 150 mm, printed at about its drawn size
LABEL_COL_IN = LABEL_CHARS * METRIC_PT / 72 + 0.1  # the y labels' column left of the axes
BAR_LABEL_IN = 0.95  # room right of a bar (or its plan mark) for "244%（未达标）"
LABEL_GAP_PT = 3  # between a bar's end or plan mark and its label
BELOW_AXES_PT = 32  # tick marks, tick labels and the axis label below the axes: the legend goes under them


def _row_pitches(rows: list[str]) -> list[float]:
    """Height (points) of each bar's row: its label's lines at line spacing 1 and a gap to the next row."""
    return [METRIC_PT * (r.count("\n") + 1) + (6 if "\n" not in r else 1.5) for r in rows]


def _legend_columns(statuses: list[str]) -> int:
    """Legend columns that fit across the chart in one or more rows of equal length."""
    n = max(1, len(statuses))
    column_pt = (max((len(s) for s in statuses), default=3) + 3.6) * LEGEND_PT
    fit = max(1, min(n, int(CHART_WIDTH_IN * 72 // column_pt)))
    rows = -(-n // fit)
    return -(-n // rows)


def metric_progress(bars: list[MetricBar], title: str) -> bytes | None:
    """Horizontal bars: actual against total target, with a mark where the plan stands now; each bar hatched
    by its status and labelled with its share, so the chart reads the same in grey print.

    Laid out in inches: each row as tall as its label, each label right of its bar and its plan mark, the
    legend under the axis label (it never covers a bar or a label, whatever the number of statuses)."""
    rows = [wrap_label(b.label) for b in bars]
    pitches = _row_pitches(rows)
    statuses = [s for s in STATUS_STYLE if s in {b.status for b in bars}]
    ncol = _legend_columns(statuses)
    legend_pt = -(-len(statuses) // ncol) * LEGEND_PT * 1.7 + 4
    top_in, bottom_in = 0.28, (BELOW_AXES_PT + legend_pt) / 72
    axes_in = (sum(pitches) + 4) / 72
    made = _figure(CHART_WIDTH_IN, axes_in + top_in + bottom_in) if bars else None
    if made is None:
        return None
    fig, ax = made
    _place_axes(fig, axes_in, top_in, bottom_in)
    ys, y = [], sum(pitches) + 2
    for pitch in pitches:  # y in points from the axes' bottom: rows as tall as their labels
        ys.append(y - pitch / 2)
        y -= pitch
    _metric_bars(fig, ax, bars, ys)
    ax.set_yticks(ys)
    ax.set_yticklabels(rows, fontsize=METRIC_PT, linespacing=1.0)
    ax.tick_params(axis="x", labelsize=METRIC_PT)
    ax.set_ylim(0, sum(pitches) + 4)
    ax.axvline(100, color="#424242", linestyle="--", linewidth=0.8, zorder=1)
    ax.set_xlabel("占总目标的比例（%）；黑色竖线为截至本期的计划进度，虚线为总目标", fontsize=METRIC_PT)
    ax.set_title(title, fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    from matplotlib.transforms import offset_copy

    centre = (CHART_WIDTH_IN / 2 - LABEL_COL_IN / 2) / (CHART_WIDTH_IN - LABEL_COL_IN - 0.1)
    _legend(ax, statuses, loc="upper center", ncol=ncol, handlelength=1.5, handletextpad=0.5, columnspacing=1.2,
            bbox_to_anchor=(centre, 0), bbox_transform=offset_copy(ax.transAxes, fig=fig, y=-BELOW_AXES_PT, units="points"),
            borderaxespad=0)
    return _png(fig)


def _place_axes(fig: Any, axes_in: float, top_in: float, bottom_in: float) -> None:
    height = axes_in + top_in + bottom_in
    fig.subplots_adjust(left=LABEL_COL_IN / CHART_WIDTH_IN, right=1 - 0.1 / CHART_WIDTH_IN,
                        bottom=bottom_in / height, top=1 - top_in / height)


def _metric_bars(fig: Any, ax: Any, bars: list[MetricBar], ys: list[float]) -> None:
    """Each bar, its plan mark and its label, which starts past both the bar's end and the plan mark."""
    from matplotlib.transforms import ScaledTranslation

    beyond = ax.transData + ScaledTranslation(LABEL_GAP_PT / 72, 0, fig.dpi_scale_trans)
    ends = []
    for y, b in zip(ys, bars, strict=True):
        shown, plan = min(b.actual_share, 1.5) * 100, b.planned_share * 100
        _bar(ax, y, shown, 0, b.status, 9)
        ax.plot([plan] * 2, [y - 6, y + 6], color="#000000", linewidth=1.8)
        ax.text(max(shown, plan), y, f"{b.actual_share * 100:.0f}%（{b.status}）", va="center", fontsize=METRIC_PT,
                transform=beyond)
        ends.append(max(shown, plan))
    axes_w = CHART_WIDTH_IN - LABEL_COL_IN - 0.1
    room = 1 - (BAR_LABEL_IN + LABEL_GAP_PT / 72) / axes_w  # the share of the axes' width left of the labels
    ax.set_xlim(0, max(125, max(ends) / room))


def status_mix(counts: dict[str, int], title: str, height_in: float = 1.9) -> bytes | None:
    """How many tasks are in each status: a bar per status, hatched, named and labelled with its count and
    share, so that even the smallest is read in grey print; `height_in` fills what is left of page 1."""
    items = [(s, n) for s, n in counts.items() if n]
    made = _figure(7.2, max(1.6, height_in)) if items else None
    if made is None:
        return None
    fig, ax = made
    total = sum(n for _, n in items)
    ys = list(range(len(items)))[::-1]
    for y, (s, n) in zip(ys, items, strict=True):
        _bar(ax, y, n, 0, s, 0.62)
        ax.text(n + total * 0.01, y, f"{n}项（{n / total * 100:.0f}%）", va="center", fontsize=9)
    ax.set_yticks(ys)
    ax.set_yticklabels([s for s, _ in items], fontsize=10)
    ax.set_xlim(0, max(n for _, n in items) * 1.25)
    ax.set_xlabel(f"任务数（共 {total} 项）", fontsize=9)
    ax.set_title(title, fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
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
        self._futures: list[Future[list[bytes | None]] | None] = []
        self._ahead: list[tuple[tuple[str, tuple[Any, ...]], Future[list[bytes | None]]]] = []
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

    def ahead(self, name: str, args: tuple[Any, ...]) -> None:
        """Start drawing a chart the caller already knows it will ask for, before the rest of its data is
        gathered; draw() takes it from here when asked for the same chart with the same arguments."""
        future = self._submit([(name, args)])
        if future is not None:
            self._ahead.append(((name, args), future))

    def draw(self, jobs: list[tuple[str, tuple[Any, ...]]]) -> None:
        self.jobs = jobs
        if self._pool is None:
            return
        ahead = list(self._ahead)
        for job in jobs:
            found = next((k for k, (drawn, _) in enumerate(ahead) if drawn == job), None)
            self._futures.append(ahead.pop(found)[1] if found is not None else self._submit([job]))

    def _submit(self, jobs: list[tuple[str, tuple[Any, ...]]]) -> Future[list[bytes | None]] | None:
        if self._pool is None:
            return None
        try:
            return self._pool.submit(render, jobs)
        except RuntimeError:  # the process is gone: result() draws here
            return None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def result(self) -> list[bytes | None]:
        """The charts asked for by draw(), in its order; any the process did not deliver are drawn here."""
        import time

        got: list[bytes | None] = []
        deadline = time.monotonic() + 60  # the charts take about a second
        # no importing matplotlib here meanwhile: a `ledger-xl report` process makes one report, and on two
        # cores that import (~1 s) outlasted the drawing it waited for, or slowed it
        for job, future in zip(self.jobs, self._futures or [None] * len(self.jobs), strict=True):
            try:
                got += future.result(timeout=max(0.0, deadline - time.monotonic())) if future is not None else render([job])
            except Exception:  # the drawing process died or hung: draw here, the report must not fail for it
                got += render([job])
        self.close()
        return got
