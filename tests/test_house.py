"""The house rules, read from the source itself: one catalogue of codes, generated docs that match it.

Each test parses src/ledger_xl with ast (nothing is imported but the catalogue), so a rule broken
anywhere in the package fails here with the file and line.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from ledger_xl.codes import Code, catalogue_markdown

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "ledger_xl"


def _modules() -> dict[str, ast.Module]:
    return {str(p.relative_to(PKG)): ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in sorted(PKG.rglob("*.py"))}


def _code_refs(tree: ast.AST) -> list[tuple[str, int]]:
    """Every `Code.NAME` in a module, with its line."""
    return [(n.attr, n.lineno) for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "Code"]


def test_every_code_used_is_catalogued_and_every_catalogued_code_is_used():
    used: dict[str, list[str]] = {}
    for name, tree in _modules().items():
        if name == "codes.py":
            continue
        for attr, line in _code_refs(tree):
            used.setdefault(attr, []).append(f"{name}:{line}")
    unknown = {a: where for a, where in used.items() if a not in Code.__members__}
    assert not unknown, f"not in codes.py: {unknown}"
    unused = [c.name for c in Code if c.name not in used]
    assert not unused, f"catalogued but never emitted (remove them or use them): {unused}"


def test_findings_and_refusals_are_built_from_a_code_never_a_bare_string():
    """No `code="…"`, no `Finding("…", …)`, no `LedgerError("…")`: only Finding.of / LedgerError.of.

    The store may rebuild a Finding from a row it wrote (the code there came from the catalogue)."""
    values = {c.value for c in Code}
    bad = []
    for name, tree in _modules().items():
        for n in ast.walk(tree):
            if not isinstance(n, ast.Call):
                continue
            fn = n.func.id if isinstance(n.func, ast.Name) else n.func.attr if isinstance(n.func, ast.Attribute) else ""
            for kw in n.keywords:
                if kw.arg == "code" and isinstance(kw.value, ast.Constant):
                    bad.append(f"{name}:{n.lineno} code={kw.value.value!r}")
            if fn in ("Finding", "LedgerError") and name not in ("findings.py", "store.py"):
                bad.append(f"{name}:{n.lineno} {fn}(…) instead of {fn}.of(Code.…)")
            if fn == "XlsxError" and n.args and isinstance(n.args[0], ast.Constant):
                bad.append(f"{name}:{n.lineno} XlsxError with a bare string")
            for a in n.args:
                if isinstance(a, ast.Constant) and a.value in values and name != "codes.py":
                    bad.append(f"{name}:{n.lineno} bare code string {a.value!r} passed to {fn}")
    assert not bad, bad


def test_catalogue_templates_fill_and_leave_the_place_to_the_finding():
    """Every template fills with its own placeholders; none takes file/sheet/cell/value (the Finding's)."""
    for c in Code:
        fields = set(re.findall(r"{(\w+)}", c.template))
        assert not fields & {"file", "sheet", "cell", "value", "severity"}, (c, "place words belong to the Finding")
        text = c.message(**dict.fromkeys(fields, "X"))
        assert "{" not in text, c
        assert c.value == c.value.lower() and " " not in c.value, c


def test_readme_code_list_is_generated_from_the_catalogue():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"cog\.outl\(catalogue_markdown\(\)\)\n\]\]\] -->\n(.*?)<!-- \[\[\[end\]\]\] -->", readme, re.S)
    assert m, "README has no generated code list"
    assert m.group(1).strip() == catalogue_markdown().strip(), "README's code list is stale: run cog -r README.md"
    for c in Code:
        assert f"`{c.value}`" in m.group(1)


def test_the_two_unknown_bureau_meanings_have_two_names():
    """templates --bureau with a wrong name, and a returned template whose bureau left the definition."""
    assert Code.BUREAU_OPTION_UNKNOWN.value != Code.TEMPLATE_BUREAU_UNKNOWN.value
    assert len({c.value for c in Code}) == len(Code)


STATUS_USERS = ("checks.py", "report.py", "ledger_book.py", "charts.py", "pipeline.py", "cli.py", "demo.py", "mail.py",
                "master.py", "intake.py", "mailplan.py")


def test_status_words_come_from_the_one_status_type():
    """Where a status is judged, shown or coloured, the word comes from status.Status (a task) or reporting
    (a bureau's return), never a literal: one order, one set of colours, one set of labels."""
    from ledger_xl.reporting import STATES
    from ledger_xl.status import Status

    words = {str(s) for s in Status} | set(STATES)
    mods = _modules()
    bad = [f"{name}:{n.lineno} {n.value!r}" for name in STATUS_USERS for n in ast.walk(mods[name])
           if isinstance(n, ast.Constant) and n.value in words]
    assert not bad, bad


def test_status_order_and_colours():
    from ledger_xl.status import COUNT_ORDER, SHOWN_ORDER, Status, worst

    assert [str(s) for s in COUNT_ORDER] == ["未达标", "滞后", "预警", "按进度", "超额", "已完成", "被退回", "未报"]
    assert [str(s) for s in SHOWN_ORDER] == ["已完成", "超额", "按进度", "预警", "滞后", "未达标", "被退回", "未报"]
    assert worst([Status.DONE, Status.WARNING, Status.AHEAD]) is Status.WARNING and worst([]) is Status.ON_TRACK
    assert Status.BEHIND == "滞后" and f"{Status.NOT_MET}" == "未达标"  # what --json and the tables print
    for s in Status:
        assert re.fullmatch(r"#[0-9A-F]{6}", s.chart_color) and re.fullmatch(r"#[0-9A-F]{6}", s.fill_color) and s.phrase


# ---------------------------------------------------------------- layers and cycles


def _readme_layers() -> list[list[str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- layers -->\n```\n(.*?)```\n<!-- /layers -->", readme, re.S)
    assert m, "README › Design has no layers block"
    layers = []
    for line in m.group(1).splitlines():
        names = re.match(r"^([a-z_]+(?: · [a-z_]+)*)", line.strip())
        assert names, line
        layers.append(names.group(1).split(" · "))
    return layers


def _module_of(rel: str) -> str:
    """'testing/fill.py' → 'testing'; 'pipeline.py' → 'pipeline'."""
    parts = Path(rel).with_suffix("").parts
    return parts[0] if len(parts) > 1 else parts[0]


def _imports() -> dict[str, set[str]]:
    """Module → the package modules it imports anywhere: top level, inside functions, under TYPE_CHECKING."""
    mods = _modules()
    known = {_module_of(r) for r in mods} - {"__init__"}
    out: dict[str, set[str]] = {}
    for rel, tree in mods.items():
        me = _module_of(rel)
        depth = len(Path(rel).parts) - 1  # a module in testing/ reaches the package with two dots
        deps = out.setdefault(me, set())
        for n in ast.walk(tree):
            if isinstance(n, ast.ImportFrom):
                if n.level and n.level == depth + 1:
                    names = [n.module.split(".")[0]] if n.module else [a.name for a in n.names]
                elif n.level:  # within the subpackage
                    names = [me]
                elif n.module and n.module.split(".")[0] == "ledger_xl":
                    names = [n.module.split(".")[1]] if "." in n.module else [a.name for a in n.names]
                else:
                    continue
                deps.update(x for x in names if x in known and x != me)
            elif isinstance(n, ast.Import):
                deps.update(a.name.split(".")[1] for a in n.names if a.name.startswith("ledger_xl.")
                            and a.name.split(".")[1] != me)
    out.pop("__init__", None)
    return out


def test_every_import_follows_the_layers_readme_states():
    layers = _readme_layers()
    level = {m: i for i, names in enumerate(layers) for m in names}
    imports = _imports()
    assert set(imports) == set(level), f"modules missing from README's layers: {set(imports) - set(level)}; " \
                                       f"listed but absent: {set(level) - set(imports)}"
    upward = [f"{m} (line {level[m] + 1}) imports {d} (line {level[d] + 1})"
              for m, deps in imports.items() for d in deps if level[d] > level[m]]
    assert not upward, upward


def test_no_import_cycles():
    imports = _imports()
    seen: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(m: str, path: list[str]) -> None:
        seen[m] = 1
        for d in sorted(imports.get(m, ())):
            assert seen.get(d) != 1, "import cycle: " + " → ".join([*path[path.index(d):], d]) if d in path else d
            if d not in seen:
                visit(d, [*path, d])
        seen[m] = 2

    for m in sorted(imports):
        if m not in seen:
            visit(m, [m])


def test_the_runtime_package_never_imports_its_testing_helpers():
    imports = _imports()
    assert not [m for m, deps in imports.items() if "testing" in deps and m != "testing"]


# ---------------------------------------------------------------- functions a person can read

MAX_LINES = 80


def test_no_function_is_longer_than_80_lines():
    """Split by the reader's steps — one function per sheet, per section, per kind of message (ruff's C901
    holds complexity to 15 beside this, configured in pyproject.toml)."""
    long = [f"{name}:{n.lineno} {n.name} ({n.end_lineno - n.lineno + 1} lines)"
            for name, tree in _modules().items() for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > MAX_LINES]
    assert not long, long


def test_ruff_holds_complexity_to_15():
    import tomllib

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"]["lint"]
    assert "C90" in cfg["select"] or "C901" in cfg["select"]
    assert cfg["mccabe"]["max-complexity"] == 15
