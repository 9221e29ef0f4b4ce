"""Sample returned workbooks for any ledger: every period, every bureau, filled as real staff would.

Deterministic (a seeded random generator, fixed times). Works from the ledger definition alone: nothing
here knows one city's tasks or bureaus. Per period, one bureau does not submit, one submits late, some
type full-width digits and units, the slow bureaus fall behind, and one resubmission corrects a value.
The templates of each period carry the cumulative figures merged before it, so the generator ingests
period by period, as the office would.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..demo import ARRIVALS
from ..layout import FieldSpec
from ..model import DEFAULT_DEADLINE_DAYS, Ledger, Period, Task
from ..templates import deadline, period_end, safe_filename
from .fill import FieldKey, fill_template, template_fields

if TYPE_CHECKING:
    from ..workspace import Workspace

DEMO_IDENTITY = {"ledger_id": "0d3e5c1a9b7f4e2d8c6a5b4f3e2d1c0b",
                 "template_key": "6c65646765722d786c2d64656d6f2d6b65792d7075626c69632d6e6f742d736563726574"}
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴婷", "徐斌", "孙丽", "马超", "朱琳"]
PROBLEMS = ["无", "项目资金到位较慢", "用地审批周期较长", "部分企业参与积极性不高", "数据统计口径尚需统一", "无"]


@dataclass
class SampleRun:
    periods: list[Period]
    returns: dict[str, list[Path]] = field(default_factory=dict)  # period → files in arrival order
    typed: dict[tuple[str, str], dict[FieldKey, object]] = field(default_factory=dict)  # (bureau, period) → final values
    missing: dict[str, str] = field(default_factory=dict)  # period → bureau
    late: dict[str, str] = field(default_factory=dict)  # period → bureau
    resubmitted: tuple[str, str] | None = None  # (bureau, period)
    slow: list[str] = field(default_factory=list)
    bad: list[Path] = field(default_factory=list)


def _pace(ledger: Ledger) -> dict[str, float]:
    """Every third lead bureau is slow; the rest keep to the plan or run ahead."""
    index = ledger.role_index()
    leads = [b for b in ledger.bureaus_with_tasks() if any(r == "lead" for _, r in index.get(b, []))]
    return {b: (0.55 if i % 3 == 2 else 1.0 + 0.05 * (i % 3)) for i, b in enumerate(leads)}


def _metric_plan(ledger: Ledger, pace: dict[str, float], rng: random.Random) -> dict[tuple[str, int, str], int]:
    """Additions per (task, metric, period): each year's figure × pace, split between the periods."""
    out: dict[tuple[str, int, str], int] = {}
    for t in ledger.tasks:
        p = pace.get(t.lead[0], 1.0) if t.lead else 1.0
        for i, m in enumerate(t.metrics):
            for y in ledger.years:
                periods = Period.all_in_year(y, ledger.period_kind)
                annual = round(m.yearly.get(y, 0) * p * rng.uniform(0.95, 1.15))
                left = annual
                for k, per in enumerate(periods):
                    share = left if k == len(periods) - 1 else round(annual * rng.uniform(0.3, 0.6) / (len(periods) - 1 or 1))
                    share = max(0, min(share, left))
                    out[(t.id, i, per.code)] = share
                    left -= share
    return out


def _indicator_value(task: Task, i: int, k: int, n: int, p: float, rng: random.Random) -> tuple[object, float | None, float | None]:
    """(typed value, baseline, current) for indicator i at the k-th of n periods."""
    ind = task.indicators[i]
    progress = (k + 1) / n
    if ind.unit == "ratio":
        ratio = round(ind.value * (1.6 - 0.75 * progress * p), 1)
        return f"{ratio}:1", None, None
    value = round(ind.value * (0.5 + 0.6 * progress * p) * rng.uniform(0.97, 1.03), 2)
    if not ind.baseline:
        return (value / 100 if k % 2 == 0 else f"{value}%"), None, None
    base = round(rng.uniform(2.0, 5.0), 2) if ind.change else float(rng.randrange(800, 2000, 50))
    if ind.change == "decrease":
        cur = round(base * (1 - value / 100), 4)
    elif ind.change == "increase":
        cur = round(base * (1 + value / 100), 4)
    else:
        cur = round(base * value / 100, 2)
    return value / 100, base, cur


_UNSET = object()  # a field left for later (a deliverable's date and name) or not filled at all


def _values_for(ledger: Ledger, bureau: str, period: Period, fields: list[FieldSpec], plan: dict[tuple[str, int, str], int],
                pace: dict[str, float], cumulative: dict[tuple[str, int], float], rng: random.Random,
                when: dt.datetime, k: int, n: int, fullwidth: bool) -> dict[FieldKey, object]:
    """What a bureau types into its form for a period: task fields from the plan and its pace, then its own."""
    tasks = {t.id: t for t in ledger.tasks}
    p = pace.get(bureau, 1.0)
    vals: dict[FieldKey, object] = {}
    drawn: dict[tuple[str, int], tuple[object, float | None, float | None]] = {}  # one draw per indicator
    for f in fields:
        t = tasks.get(f.task_id or "")
        if f.kind in _TASK_KINDS:
            value = _task_value(ledger, f, t, bureau, period, plan, cumulative, drawn, rng, p, k, n, fullwidth) if t else _UNSET
        else:
            value = _bureau_value(ledger, f, bureau, rng, p, when)
        if value is not _UNSET:
            vals[(f.task_id, f.kind, f.index)] = value
    for f in fields:
        if f.kind == "deliv_status" and vals.get((f.task_id, f.kind, 0)) == "已完成":
            t = tasks[f.task_id or ""]
            vals[(f.task_id, "deliv_date", 0)] = (period_end(period) - dt.timedelta(days=20)).isoformat()
            vals[(f.task_id, "deliv_name", 0)] = t.deliverable if (t.deliverable or "").startswith("《") else f"《{t.deliverable}》"
            vals[(f.task_id, "deliv_no", 0)] = f"〔{period.year}〕{10 + int(t.id) if t.id.isdigit() else 10}号"
    return {k2: v for k2, v in vals.items() if v is not None}


_TASK_KINDS = frozenset({"metric", "ind_value", "ind_baseline", "ind_current", "duty_count", "deliv_status", "deliv_date",
                         "deliv_name", "deliv_no", "progress", "plan", "evidence"})


def _task_value(ledger: Ledger, f: FieldSpec, t: Task, bureau: str, period: Period, plan: dict[tuple[str, int, str], int],
                cumulative: dict[tuple[str, int], float], drawn: dict[tuple[str, int], tuple[object, float | None, float | None]],
                rng: random.Random, p: float, k: int, n: int, fullwidth: bool) -> object:
    """A field of one task: its addition, indicator, duty count, deliverable progress or text."""
    if f.kind == "metric":
        n_add = plan.get((t.id, f.index, period.code), 0)
        return f"{n_add}{f.unit}".translate(FULLWIDTH) if fullwidth and n_add else n_add
    if f.kind.startswith("ind_"):
        if (t.id, f.index) not in drawn:
            drawn[(t.id, f.index)] = _indicator_value(t, f.index, k, n, p, rng)
        typed, base, cur = drawn[(t.id, f.index)]
        return {"ind_value": typed, "ind_baseline": base, "ind_current": cur}[f.kind]
    if f.kind == "duty_count":
        assert t.frequency is not None
        need = t.frequency_count
        if t.frequency == "year" and ledger.period_kind != "year":
            return need if period.is_year_end else 0
        missed = p < 0.9 and k == n - 2
        return 0 if missed else need * (2 if t.frequency == "quarter" and ledger.period_kind == "half-year" else 1)
    if f.kind == "deliv_status":
        done_at = 1 + (int(t.id) if t.id.isdigit() else len(t.id)) % max(n - 1, 1)
        return "已完成" if k >= done_at and p >= 0.9 else ("推进中" if k >= 1 else "未启动")
    if f.kind == "progress":
        return _progress_text(t, f.role or "", bureau, period, plan, cumulative)
    if f.kind == "plan":
        return f"继续推进“{_short(t.title)}”，确保完成{period.year}年度目标。"
    if f.kind == "evidence":
        return f"{safe_filename(bureau)}_{period.code}_第{t.id}项佐证材料.pdf"
    return _UNSET  # deliv_date, deliv_name, deliv_no: filled once the status is known


def _bureau_value(ledger: Ledger, f: FieldSpec, bureau: str, rng: random.Random, p: float, when: dt.datetime) -> object:
    """A field of the bureau's own: its problems, who filled the form, the phone, the date."""
    if f.kind == "problems":
        return PROBLEMS[rng.randrange(len(PROBLEMS))] if p >= 0.9 else "推进进度偏慢，正在协调解决"
    if f.kind in ("filler", "reviewer"):
        i = ledger.bureau_names().index(bureau) if bureau in ledger.bureau_names() else 0
        return NAMES[(2 * i + (f.kind == "reviewer")) % len(NAMES)] + ("（科长）" if f.kind == "reviewer" else "")
    if f.kind == "phone":
        return f"139{rng.randrange(10**7, 10**8)}"
    if f.kind == "fill_date":
        return when.date().isoformat()
    return _UNSET


def _short(text: str) -> str:
    """How a bureau's clerk names a task in a sentence: its own part after "—", else its first clause (never
    cut mid-word with "…")."""
    import re

    name = text.split("—")[-1] if "—" in text else re.split(r"[，。；,;]", text)[0]
    return name.strip().rstrip("。") or text


def _progress_text(t: Task, role: str, bureau: str, period: Period, plan: dict[tuple[str, int, str], int],
                   cumulative: dict[tuple[str, int], float]) -> str:
    if role == "responsible":
        return f"配合{'、'.join(t.lead)}推进“{_short(t.title)}”，按职责做好相关保障工作。"
    if t.metrics:
        parts = []
        for i, m in enumerate(t.metrics):
            add = plan.get((t.id, i, period.code), 0)
            parts.append(f"{m.name}本期新增{add}{m.unit}，累计{int(cumulative.get((t.id, i), 0) + add)}{m.unit}")
        return "；".join(parts) + "。"
    return f"按计划推进“{_short(t.title)}”，{period.label}完成阶段性工作。"


def generate(definition: Path, out_dir: Path, *, seed: int = 2024, work: Path | None = None,
             periods: list[Period] | None = None, log: Callable[..., object] = print) -> SampleRun:
    """Write returned workbooks under out_dir/returns/<period>/ and typical mistakes under out_dir/bad/."""
    import tempfile

    from ..definition import load_ledger
    from ..pipeline import ingest
    from ..workspace import init_workspace

    out_dir = Path(out_dir)
    tmp = None
    if work is None:
        tmp = tempfile.TemporaryDirectory(prefix="lx-samples-")
        work = Path(tmp.name) / "ws"
    try:
        ws = init_workspace(work, definition, identity=DEMO_IDENTITY)
        ledger = load_ledger(ws.definition_path)
        rng = random.Random(seed)
        pace = _pace(ledger)
        plan = _metric_plan(ledger, pace, rng)
        periods = periods or ledger.periods()
        run = SampleRun(periods, slow=[b for b, p in pace.items() if p < 0.9])
        bureaus = ledger.bureaus_with_tasks()
        index = ledger.role_index()
        responsible_only = [b for b in bureaus if all(r == "responsible" for _, r in index.get(b, []))] or bureaus[-1:]
        on_time_pool = [b for b in bureaus if b not in responsible_only]
        main_lead = max(bureaus, key=lambda b: sum(len(t.metrics) for t, r in index.get(b, []) if r == "lead"))
        for k, period in enumerate(periods):
            missing = responsible_only[k % len(responsible_only)]
            late = on_time_pool[(3 * k + 1) % len(on_time_pool)]
            run.missing[period.code], run.late[period.code] = missing, late
            files = _period_returns(ws, ledger, run, period, k, len(periods), plan, pace, rng, out_dir, main_lead)
            run.returns[period.code] = files
            report = ingest(ws.root, files)
            refused = [o for o in report.outcomes if o.status != "merged"]
            if refused:
                raise RuntimeError(f"sample returns refused: {[(o.path.name, [f.render() for f in o.findings]) for o in refused]}")
            log(f"  {period.label}：{len(files)} 份（未报 {missing}，逾期 {late}）")
        from zoneinfo import ZoneInfo

        from ..workspace import DEFAULT_TIMEZONE

        office = ZoneInfo(DEFAULT_TIMEZONE)  # arrival times as the office's clock shows them
        arrivals = {f"{p}/{f.name}": dt.datetime.fromtimestamp(f.stat().st_mtime, office).replace(tzinfo=None).isoformat()
                    for p, fs in run.returns.items() for f in fs}
        # git does not keep modification times: the arrival times travel in a file of their own
        (out_dir / "returns" / ARRIVALS).write_text(json.dumps(arrivals, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        run.bad = _bad_samples(ledger, ws.outputs / "templates" / periods[-1].code, out_dir / "bad", rng)
        (out_dir / "identity.json").write_text(json.dumps(DEMO_IDENTITY, indent=2) + "\n", encoding="utf-8")
        return run
    finally:
        if tmp is not None:
            tmp.cleanup()


def _period_returns(ws: Workspace, ledger: Ledger, run: SampleRun, period: Period, k: int, n_periods: int,
                    plan: dict[tuple[str, int, str], int], pace: dict[str, float], rng: random.Random, out_dir: Path,
                    main_lead: str) -> list[Path]:
    """One period's returns: every bureau but the missing one fills its template, the late one after the
    deadline; the bureau reporting most metrics first sends a slip of the finger, then its correction."""
    from ..templates import write_templates
    from ..workspace import open_store

    missing, late = run.missing[period.code], run.late[period.code]
    due = deadline(period, DEFAULT_DEADLINE_DAYS)
    with open_store(ws) as store:
        prior = store.cumulative_before(ledger, period)
        key, ledger_id = store.template_key, store.ledger_id
    gen_time = dt.datetime.combine(period_end(period), dt.time(9, 0))
    tpl = write_templates(ledger, period, ws.outputs / "templates" / period.code, key=key, ledger_id=ledger_id,
                          prior=prior, now=gen_time)
    pdir = out_dir / "returns" / period.code
    if pdir.exists():
        shutil.rmtree(pdir)
    pdir.mkdir(parents=True)
    files: list[Path] = []
    for i, (bureau, path, meta) in enumerate(tpl.written):
        if bureau == missing:
            continue
        when = dt.datetime.combine(due, dt.time(10 + i % 6, 7 * i % 60)) + dt.timedelta(days=-(1 + i % 7))
        if bureau == late:
            when = dt.datetime.combine(due + dt.timedelta(days=5 + k % 4), dt.time(15, 30))
        values = _values_for(ledger, bureau, period, meta.fields, plan, pace, prior, rng, when, k, n_periods,
                             fullwidth=(i + k) % 4 == 1)
        name = f"{safe_filename(bureau)}_{period.code}.xlsx"
        if bureau == main_lead and k == min(2, n_periods - 1):
            # a first file with a slip of the finger, corrected the next day
            wrong = dict(values)
            mkey = next((key2 for key2 in values if key2[1] == "metric"), None)
            if mkey is not None:
                wrong[mkey] = _times_ten(values[mkey])
                first = fill_template(path, pdir / f"{safe_filename(bureau)}_{period.code}_初报.xlsx", wrong,
                                      mtime=when - dt.timedelta(days=1))
                files.append(first)
                name = f"{safe_filename(bureau)}_{period.code}_更正.xlsx"
                run.resubmitted = (bureau, period.code)
        files.append(fill_template(path, pdir / name, values, mtime=when))
        run.typed[(bureau, period.code)] = values
    return files


def _times_ten(value: object) -> object:
    if isinstance(value, int | float):
        return value * 10 + 10
    return "１００" if value else 100


def _bad_samples(ledger: Ledger, templates: Path, out: Path, rng: random.Random) -> list[Path]:
    """Typical mistakes, one per file, with the message each should get listed in out/README.md."""
    import openpyxl

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    src = max(templates.glob("*.xlsx"), key=lambda p: sum(1 for f in template_fields(p) if f.kind == "metric"))
    fields = template_fields(src)
    metric = next(f for f in fields if f.kind == "metric")
    base = {(f.task_id, f.kind, f.index): v for f, v in zip(fields, [None] * len(fields), strict=True)}
    complete: dict[FieldKey, object] = {}
    for key in base:
        complete[key] = {"metric": 1, "ind_value": 0.1, "ind_baseline": 3, "ind_current": 2.8, "duty_count": 1,
                         "deliv_status": "推进中", "progress": "按计划推进。", "problems": "无", "plan": "继续推进。",
                         "evidence": "材料.pdf", "filler": "张伟", "phone": "13900000000", "reviewer": "王芳",
                         "fill_date": "2026-01-05"}.get(key[1])
    ratio_keys = [(f.task_id, f.kind, f.index) for f in fields if f.kind == "ind_value" and f.unit == "ratio"]
    for key in ratio_keys:
        complete[key] = "3.5:1"
    complete = {k: v for k, v in complete.items() if v is not None}
    mk = (metric.task_id, metric.kind, metric.index)
    made: list[tuple[str, str]] = []

    def fill(name: str, changes: dict[FieldKey, object], why: str) -> Path:
        vals = dict(complete)
        vals.update(changes)
        p = fill_template(src, out / name, vals)
        made.append((name, why))
        return p

    fill("01_约数.xlsx", {mk: "约5个"}, f"{metric.cell}：约数，请填写具体数字")
    fill("02_汉字数字.xlsx", {mk: "三"}, f"{metric.cell}：请用阿拉伯数字")
    fill("03_负数.xlsx", {mk: "-2"}, f"{metric.cell}：不能为负数")
    p = fill("04_公式无结果.xlsx", {}, f"{metric.cell}：公式没有计算结果")
    wb = openpyxl.load_workbook(p)
    wb["填报表"][metric.cell] = "=SUM(1,2)"
    wb.save(p)
    p = fill("05_改了任务文字.xlsx", {}, "D4：锁定内容被改动")
    wb = openpyxl.load_workbook(p)
    wb["填报表"]["D4"] = str(wb["填报表"]["D4"].value) + "（已改）"
    wb.save(p)
    (out / "06_导出的.csv").write_text("序号,本期新增\n1,2\n", encoding="utf-8")
    made.append(("06_导出的.csv", "CSV/文本文件，不是填报模板"))
    from msoffcrypto.format.ooxml import OOXMLFile

    with open(out / "01_约数.xlsx", "rb") as fh, open(out / "07_设了密码.xlsx", "wb") as o:
        OOXMLFile(fh).encrypt("123456", o)
    made.append(("07_设了密码.xlsx", "设置了打开密码，请取消密码后重新报送"))
    (out / "08_网页另存.xls").write_text("<html><body><table><tr><td>1</td></tr></table></body></html>", encoding="utf-8")
    made.append(("08_网页另存.xls", "网页格式，不是真正的工作簿"))
    (out / "09_损坏.xlsx").write_bytes(src.read_bytes()[: src.stat().st_size // 3])
    made.append(("09_损坏.xlsx", "文件已损坏"))
    lines = ["# 典型错误样例", "", "每个文件带一种常见错误；`ledger-xl ingest samples/bad` 应逐一拒收，并给出如下提示。", "",
             "| 文件 | 应有的提示 |", "|---|---|"] + [f"| {n} | {w} |" for n, w in made]
    (out / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sorted(p for p in out.iterdir() if p.name != "README.md")
