"""The command line speaks Chinese: click's own usage errors, help labels and suggestions, and tables
that stay aligned where …, —, “” take two columns."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from ledger_xl.cli import cli
from ledger_xl.cli_zh import ZH
from ledger_xl.textui import table, width

ENGLISH = re.compile(r"\b(Usage|Error|Options|Commands|Missing|Try|Show|required|default|Did you mean|No such|"
                     r"TEXT|PATH|DIRECTORY|FILE|OPTIONS|COMMAND|ARGS)\b")


def run(*args: str) -> click.testing.Result:
    return CliRunner().invoke(cli, list(args), prog_name="ledger-xl")


@pytest.mark.parametrize("args, expected", [
    (["chek"], "错误：没有“chek”这个命令。 是不是要用 check？"),
    (["export"], "错误：缺少必填选项 '-o'"),  # (--period may be left out: the command chooses and says so)
    (["templates", "--period"], "错误：选项 --period 后面要跟一个值。"),
    (["templates", "--perod", "2024H1"], "错误：没有“--perod”这个选项。 是不是要用 --period？"),
    (["mail", "rep", "--period", "2024H1"], "错误：没有“rep”这个命令。 是不是要用 report？"),
    (["report", "--period", "2024H1", "-w"], "错误：选项 -w 后面要跟一个值。"),
    (["init", "ws"], "错误：缺少必填选项 '--ledger'"),
    (["import-ledger"], "错误：缺少参数 '台账.docx|台账.xlsx'"),
])
def test_usage_errors_are_chinese_with_exit_2(args, expected):
    r = run(*args)
    assert r.exit_code == 2
    assert expected in r.output, r.output
    assert "用法：ledger-xl" in r.output or r.output.startswith("错误：")
    assert not ENGLISH.search(r.output), r.output


@pytest.mark.parametrize("args", [["--help"], ["report", "--help"], ["mail", "--help"], ["mail", "report", "-h"],
                                  ["ingest", "--help"], ["init", "--help"], ["ledger", "show", "--help"], ["demo", "--help"]])
def test_help_pages_have_no_english_labels(args):
    r = run(*args)
    assert r.exit_code == 0
    assert "选项：" in r.output and "显示本帮助并退出。" in r.output
    assert not ENGLISH.search(r.output), r.output


def test_help_columns_line_up_by_display_width():
    r = run("report", "--help")
    starts = {width(line[: line.index(text)]) for line in r.output.splitlines()
              for text in ("报送期", "报告文件", "成文日期", "工作目录。", "显示本帮助") if text in line}
    assert len(starts) == 1, r.output


def test_version_is_chinese():
    r = run("--version")
    assert r.exit_code == 0 and r.output.startswith("ledger-xl 版本 ")


def test_every_text_click_can_show_the_clerk_is_translated():
    import click.core
    import click.exceptions

    for module in (click.core, click.exceptions):
        assert module._("Usage:") != "Usage:" or module is click.core
        assert module._("Missing option") == ZH["Missing option"]
    for text in ("Usage:", "Options", "Commands", "Show this message and exit.", "required", "Aborted!",
                 "No such command {name!r}.", "Did you mean {possibility}?", "Missing argument",
                 "Try '{command} {option}' for help.", "Error: {message}", "Invalid value for {param_hint}: {message}"):
        assert re.search(r"[\u4e00-\u9fff]", ZH[text]), text


def test_table_aligns_with_ambiguous_characters_two_columns_wide():
    rows = [["市交通运输局", "滞后", "差 2 个……“关键”"], ["—", "已完成", "ok"], ["№1", "未报", "—"]]
    out = table(["单位", "状态", "说明"], rows, ambiguous=2)
    lines = out.splitlines()
    starts = {width(line[: line.index(s)], 2) for line, s in zip(lines[2:], ["滞后", "已完成", "未报"], strict=True)}
    assert starts == {width("市交通运输局", 2) + 2}
    assert width("…—“”", 2) == 8 and width("…—“”", 1) == 4 and width("abc") == 3


def test_long_cells_wrap_instead_of_being_cut():
    text = "本期新增5个，累计13个，较计划差2个，请牵头单位对照计划查找原因并加快推进。"
    out = table(["序号", "说明"], [["9", text]], max_width=20, ambiguous=2)
    assert "…" not in out
    assert "".join(line[6:].strip() for line in out.splitlines()[2:]) == text.replace(" ", "")
    assert all(width(line, 2) <= 6 + 20 for line in out.splitlines())


def test_wrap_gives_what_breaking_character_by_character_gives():
    """textui.wrap hands back a paragraph that fits whole without walking its characters: for any text (CJK,
    ambiguous, combining, control and astral characters, spaces, line breaks), limit and ambiguous width, the
    lines are those of the character-by-character rule — the check's and the status's tables do not move."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from ledger_xl.textui import char_width, wrap

    def by_characters(text: str, limit: int, amb: int) -> list[str]:
        lines: list[str] = []
        for para in str(text).split("\n"):
            para = " ".join(para.split())
            out, w = "", 0
            for ch in para:
                cw = char_width(ch, amb)
                if out and w + cw > limit:
                    lines.append(out.rstrip())
                    out, w = "", 0
                    if ch == " ":
                        continue
                out, w = out + ch, w + cw
            lines.append(out)
        return lines or [""]

    chars = st.sampled_from(list("ab 1，。重点任务…—“\n\t") + ["\u0301", "\u200b", "😀"]) | st.characters()

    @settings(max_examples=400, deadline=None)
    @given(st.text(chars, max_size=80), st.integers(-1, 40), st.sampled_from([1, 2]))
    def run(text: str, limit: int, amb: int) -> None:
        assert wrap(text, limit, amb) == by_characters(text, limit, amb)

    run()


def test_width_is_the_sum_of_its_characters_widths():
    """textui.width measures a text through a table of the characters met so far: for any text and ambiguous
    width, what adding up char_width over its characters gives."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from ledger_xl.textui import char_width

    chars = st.sampled_from(list("ab 1，。重点任务…—“”\n\t") + ["\u0301", "\u200b", "😀", "\uff21"]) | st.characters()

    @settings(max_examples=400, deadline=None)
    @given(st.text(chars, max_size=80), st.sampled_from([1, 2, 3]))
    def run(text: str, amb: int) -> None:
        assert width(text, amb) == sum(char_width(ch, amb) for ch in text)

    run()
