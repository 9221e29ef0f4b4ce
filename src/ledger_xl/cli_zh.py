"""Click's own words in Chinese: usage errors, help labels, suggestions, prompts.

Click marks every text it prints with `gettext.gettext` / `ngettext`, imported by name into each of its
modules. Rebinding those names there to a lookup in the table below makes them Chinese without a
compiled catalogue or a locale on the clerk's machine; a text missing from the table stays as click
wrote it (a test asserts none of the texts a clerk can meet is missing). The placeholders are kept,
since click formats the translated template with the same keyword arguments.
"""

from __future__ import annotations

import sys
from typing import Any

import click

ZH: dict[str, str] = {
    # help pages
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本号并退出。",
    "%(prog)s, version %(version)s": "%(prog)s 版本 %(version)s",
    "required": "必填",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "(dynamic)": "（动态）",
    "deprecated": "已弃用",
    # usage errors
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行“{command} {option}”查看用法。",
    "Missing command.": "缺少命令。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少必填选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "argument": "参数",
    "option": "选项",
    "parameter": "参数",
    "No such option {name!r}.": "没有“{name}”这个选项。",
    "No such command {name!r}.": "没有“{name}”这个命令。",
    "Did you mean {possibility}?": "是不是要用 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "是不是要用其中之一：{possibilities}？",
    "Got unexpected extra argument ({args})": "多出了参数（{args}）",
    "Got unexpected extra arguments ({args})": "多出了参数（{args}）",
    "Invalid value: {message}": "取值不对：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的取值不对：{message}",
    "Option {name!r} requires an argument.": "选项 {name} 后面要跟一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name} 后面要跟 {nargs} 个值。",
    "Option {name!r} does not take a value.": "选项 {name} 后面不跟值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name} 要 {nargs} 个值。",
    "Takes {nargs} values but 1 was given.": "要 {nargs} 个值，只给了 1 个。",
    "Takes {nargs} values but {len} were given.": "要 {nargs} 个值，给了 {len} 个。",
    "unknown error": "未知错误",
    "Could not open file {filename!r}: {message}": "无法打开文件“{filename}”：{message}",
    # values
    "{value!r} is not a valid {number_type}.": "“{value}”不是有效的{number_type}。",
    "integer": "整数",
    "float": "数字",
    "{value} is not in the range {range}.": "{value} 不在 {range} 范围内。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "“{value}”不是是/否值，可用：{states}",
    "{value!r} is not {choice}.": "“{value}”不对，只能是 {choice}。",
    "{value!r} is not one of {choices}.": "“{value}”不对，可选：{choices}。",
    "{value!r} does not match the format {format}.": "“{value}”不符合格式 {format}。",
    "{value!r} does not match the formats {formats}.": "“{value}”不符合以下任一格式：{formats}。",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "file": "文件",
    "directory": "目录",
    "path": "路径",
    "{name} {filename!r} does not exist.": "{name}“{filename}”不存在。",
    "{name} {filename!r} is a file.": "{name}“{filename}”是文件，这里要目录。",
    "{name} {filename!r} is a directory.": "{name}“{filename}”是目录，这里要文件。",
    "{name} {filename!r} is not readable.": "{name}“{filename}”无法读取。",
    "{name} {filename!r} is not writable.": "{name}“{filename}”无法写入。",
    "{name} {filename!r} is not executable.": "{name}“{filename}”无法执行。",
    # prompts
    "Aborted!": "已取消。",
    "Do you want to continue?": "是否继续？",
    "Repeat for confirmation": "再输入一次以确认",
    "Error: The two entered values do not match.": "错误：两次输入不一致。",
    "Error: invalid input": "错误：输入无效，请输入 y 或 n",
}

# the metavars click derives from a parameter's type name ("TEXT", "PATH"…), shown in help and errors
METAVARS = {"text": "文字", "path": "路径", "directory": "目录", "file": "文件", "integer": "整数", "float": "数字",
            "boolean": "是否", "choice": "选项"}


def translate(message: str) -> str:
    return ZH.get(message, message)


def ntranslate(singular: str, plural: str, n: int) -> str:
    return translate(singular if n == 1 else plural)


CLICK_MODULES = ("core", "exceptions", "parser", "types", "decorators", "formatting", "termui", "utils", "_termui_impl")


def display_width(x: str) -> int:
    """Columns a help text takes: click's own measure counts a CJK character as one and misaligns."""
    from click._compat import strip_ansi

    from .textui import width

    return width(strip_ansi(x))


def _possibilities(possibilities: list[str]) -> str:
    """Click's "Did you mean" with the names bare and joined by 、 instead of quoted with repr."""
    names = "、".join(sorted(possibilities))
    return ntranslate("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)",
                      len(possibilities)).format(possibility=names, possibilities=names)


def install() -> None:
    """Rebind the gettext names inside click's modules to the Chinese table (idempotent, no I/O)."""
    import click.exceptions
    import click.formatting

    click.formatting.term_len = display_width
    if hasattr(click.exceptions, "_format_possibilities"):
        click.exceptions._format_possibilities = _possibilities
    for name in CLICK_MODULES:
        module = sys.modules.get(f"click.{name}")
        if module is None:
            continue
        if hasattr(module, "_"):
            module._ = translate  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ntranslate  # type: ignore[attr-defined]


def _zh_metavars(params: list[click.Parameter]) -> None:
    for p in params:
        if isinstance(p, click.Option) and p.metavar is None and not p.is_flag:
            type_name = getattr(p.type, "name", "")
            if type_name in METAVARS:
                p.metavar = METAVARS[type_name]


class ZhFormatter(click.HelpFormatter):
    """Headings end in a full-width colon, as Chinese headings do."""

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, translate("Usage:") if prefix is None else prefix)


class ZhContext(click.Context):
    formatter_class = ZhFormatter


class ZhCommand(click.Command):
    """A command whose usage line and option metavars are Chinese."""

    context_class = ZhContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        super().__init__(*args, **kwargs)
        _zh_metavars(self.params)


class ZhGroup(click.Group):
    """A group whose usage line, commands and sub-groups are Chinese."""

    command_class = ZhCommand
    context_class = ZhContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        kwargs.setdefault("subcommand_metavar", "命令 [参数]...")
        super().__init__(*args, **kwargs)
        _zh_metavars(self.params)


ZhGroup.group_class = ZhGroup
