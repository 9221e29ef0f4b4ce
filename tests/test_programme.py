"""The whole programme: six half-years of generated returns ingested for real, then checked every period.

Expected figures are recomputed here from what the generator typed, independently of checks.py.
"""

from __future__ import annotations

import json
import math
import unicodedata

import pytest
from click.testing import CliRunner

from ledger_xl.cli import cli
from ledger_xl.pipeline import check


def typed_number(v: object) -> float:
    t = unicodedata.normalize("NFKC", str(v))
    return float("".join(ch for ch in t if ch.isdigit() or ch == "."))


def test_every_period_checks_against_an_independent_sum(programme):
    ws, run, ledger = programme
    for period in run.periods:
        result = check(ws, period.code).result
        by_id = {t.id: t for t in result.tasks}
        for task in ledger.tasks:
            tc = by_id[task.id]
            lead = task.lead[0]
            if (lead, period.code) not in run.typed:
                assert tc.status == "未报", (task.id, period.code)
                continue
            for i, m in enumerate(task.metrics):
                expected = sum(typed_number(run.typed[(lead, p.code)][(task.id, "metric", i)])
                               for p in run.periods if p <= period and (lead, p.code) in run.typed)
                mc = tc.metrics[i]
                assert mc.actual == pytest.approx(expected), (task.id, i, period.code)
                before = sum(v for y, v in m.yearly.items() if y < period.year)
                plan = before + m.yearly[period.year] * (1 if period.index == 2 else 0.5)
                if m.unit in ("个", "家", "座", "辆", "户", "人", "项", "条", "台"):  # counted things: whole units reached
                    plan = math.floor(plan)
                total = m.target.value if m.target else m.planned_total()
                want = ("已完成" if expected >= total else "超额" if expected > plan else "按进度" if expected >= plan
                        else "滞后" if period.index == 2 else "预警")
                assert mc.status == want, (task.id, i, period.code, expected, plan)
        bureaus = {b.name: b for b in result.bureaus}
        assert bureaus[run.missing[period.code]].submitted is False
        assert bureaus[run.late[period.code]].submitted is True


def test_resubmission_counts_the_corrected_value(programme):
    ws, run, ledger = programme
    bureau, period = run.resubmitted
    from ledger_xl.store import Store

    with Store(ws / "ledger.sqlite") as store:
        subs = [s for s in store.submissions() if s.bureau == bureau and s.period == period]
        assert [s.current for s in subs] == [False, True]
        current = {(v.task_id, v.kind, v.idx): v.num for v in store.current_values() if v.bureau == bureau and v.period == period}
    for key, typed in run.typed[(bureau, period)].items():
        if key[1] == "metric":
            assert current[key] == typed_number(typed)


def test_final_period_behind_exits_1_and_json_is_well_formed(programme):
    ws, run, ledger = programme
    r = CliRunner().invoke(cli, ["check", "-w", str(ws), "--period", run.periods[-1].code, "--json"])
    data = json.loads(r.stdout)
    statuses = {t["status"] for t in data["tasks"]}
    assert r.exit_code == (1 if statuses & {"滞后", "未达标"} else 0)
    assert statuses & {"滞后", "未达标"}, "the generator's slow bureaus should leave something behind at the end"
    assert {"已完成"} <= statuses
    slow_leads = set(run.slow)
    behind = {t["id"] for t in data["tasks"] if t["status"] in ("滞后", "未达标")}
    assert all(next(t for t in ledger.tasks if t.id == i).lead[0] in slow_leads for i in behind)
