"""The one catalogue of every finding and refusal code ledger-xl can emit, with its severity and message.

Why: `ingest --json`, the master ledger's 问题清单 and the tests all key on these codes, so they are an
API; one list (as pyxform's ErrorCode and frictionless' error classes are) keeps a name from meaning
two things in two modules and gives the README its list of codes.

How to add a code (other engineers, read this):
1. Add one member below, in the group of the stage that emits it:
       NAME = ("kebab-name", E, "{where}……。请……。")   # E error (refuses), W warning (提示), N note (说明)
   The template is plain Chinese in the order a clerk reads it — what is wrong, then what to do — with
   `{placeholders}` for the parts that vary. The place (file › sheet › cell) is NOT in the template: a
   Finding carries it and renders it first; a LedgerError gets it from `file=`.
2. Build findings and refusals from it, never from a bare string:
       Finding.of(Code.NAME, file=…, sheet=…, cell=…, value=…, **params)
       raise LedgerError.of(Code.NAME, file=…, **params)
3. Run `cog -r README.md` (the README's code list is generated from here) and
   `pytest tests/test_house.py` (every catalogued code is used, every used code is catalogued).
This module imports nothing from the package: everything may import it.
"""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


SEVERITY_LABEL = {Severity.ERROR: "错误", Severity.WARNING: "提示", Severity.INFO: "说明"}

E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO  # N: a note (说明)
STORE_ADVICE = "请用备份恢复（ledger-xl restore 备份文件），或用 archive/ 中的原件重建（ledger-xl rebuild）；现有的数据库文件请不要删除。"
RESTORE = "请用备份恢复（ledger-xl restore 备份文件）"


class Code(StrEnum):
    """A code: its value is the kebab-case name tools see; `severity` and `template` ride along."""

    severity: Severity
    template: str

    def __new__(cls, value: str, severity: Severity, template: str) -> Code:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.severity = severity
        obj.template = template
        return obj

    def message(self, **params: object) -> str:
        """The message for this code with its placeholders filled."""
        return self.template.format(**params)

    # ---- files handed to any command (definition, Word ledger, inputs)
    NOT_FOUND = ("not-found", E, "找不到{what} {path}。{fix}。")
    UNREADABLE = ("unreadable", E, "{problem}。{fix}。")
    TOO_LARGE = ("too-large", E, "文件过大（{mb} MB），不像是{kind}。请检查后重新{action}。")
    EMPTY_FILE = ("empty-file", E, "文件是空的（0 字节）{why}。请重新保存后再{action}。")
    CORRUPT = ("corrupt", E, "{problem}。{fix}。")
    OLD_OR_ENCRYPTED = ("old-or-encrypted", E, "这是旧格式（.doc/.xls/.et）文件或设置了打开密码的文件。"
                        "请取消密码，并用 Word/Excel/WPS“另存为” {ext} 格式后重试。")
    NOT_OOXML = ("not-ooxml", E, "不是有效的{kind}文件（可能是网页、文本或改了扩展名的文件）。请用{kind}/WPS 打开后“另存为” {ext} 格式。")
    ZIP_BOMB = ("zip-bomb", E, "文件{problem}，疑似压缩炸弹或经过特殊构造，为安全起见已拒收。{fix}。")
    XML_ENCODING = ("xml-encoding", E, "文件内部的 XML {problem}，文件可能已损坏或经过特殊构造，为安全起见已拒收。{fix}。")
    MACRO = ("macro", E, "文件含有宏（{what}），为安全起见不予读取。请在 {app} 中“另存为”不含宏的{format}，再{then}。")
    EXTERNAL_LINK = ("external-link", E, "文件含有外部链接（引用了其他工作簿的数据），为安全起见不予读取。请断开链接后重新保存"
                     "（Excel：数据 → 编辑链接 → 断开链接；WPS：数据 → 编辑链接），再{then}。")
    XML_DOCTYPE = ("xml-doctype", E, "文件内含不安全的 XML 声明（DOCTYPE/ENTITY）。{fix}。")
    FILE_BUSY = ("file-busy", E, "无法写入 {name}：文件可能正在 Excel/WPS 中打开，或文件夹是只读的。请关闭该文件（或改名）后重试。")

    # ---- the Word ledger (import-ledger)
    OLD_FORMAT = ("old-format", E, "这是{what}文件。请用 {app} 打开后“另存为” {ext} 格式{then}。")
    NOT_DOCX = ("not-docx", E, "不是有效的 Word（.docx）文件，无法打开。请用 Word/WPS 重新保存为 .docx。")
    NOT_XLSX = ("not-xlsx", E, "不是有效的 Excel（.xlsx）文件，无法打开（{why}）。请用 Excel/WPS 重新保存为 .xlsx 后再导入。")
    NO_SUCH_SHEET = ("no-such-sheet", E, "没有名为“{sheet_name}”的工作表。工作表有：{names}。请用 --sheet 指定其中之一。")
    SEVERAL_SHEETS = ("several-sheets", E, "有 {n} 张工作表像是台账（{names}）。请用 --sheet 指定要导入的一张，例如 --sheet {first}。")
    SHEET_NOT_EXCEL = ("sheet-not-excel", E, "--sheet 只用于 Excel 台账（.xlsx）。")
    FORMULA_CACHED = ("formula-cached", N, "是公式，按 Excel 保存的计算结果“{shown}”读取。")
    NO_LEDGER_TABLE = ("no-ledger-table", E, "{problem}。{fix}")
    NO_TASKS = ("no-tasks", E, "台账表格中没有任务行（表头在{header_at}）。请检查表格内容。")
    IMPORT_NO_YEARS = ("import-no-years", E, "读不出台账的年份（没有年度列，标题和完成时限中也没有年份）。请在标题中写明年份，"
                       "例如“2025年重点任务分解表”，再导入。")
    NO_LEAD = ("no-lead", W, "第 {task} 项任务没有牵头单位。请在定义表中补填。")
    DUPLICATE_ID = ("duplicate-id", W, "序号有重复（可能每个分类重新编号），已按顺序重新编为 1—{n}，原序号写在备注中。")
    TOTAL_ROW = ("total-row", N, "合计/小计行，不作为任务，已跳过。")
    CATEGORY_ROW = ("category-row", N, "“{name}”是分类行，作为其下各项任务的分类，不作为任务。")
    ROW_DROPPED = ("row-dropped", W, "这一行没有任务内容，已跳过。如是任务请补上任务内容后重新导入。")
    DEADLINE_UNREAD = ("deadline-unread", W, "第 {task} 项的完成时限“{raw}”读不出日期，已留空。请在定义表“完成时限”列填写日期。")
    ACCUMULATION_GUESS = ("accumulation-guess", W, "第 {task} 项“{metric}”：{guess}。如不对请在定义表“数量指标”的“累计方式”列改正。")
    TARGET_GUESS = ("target-guess", W, "第 {task} 项“{metric}”：{note}。")
    TARGET_UNREAD = ("target-unread", W, "第 {task} 项的目标“{raw}”中有数字“{figure}”，但读不出它是哪个指标（没有单位，或单位不认识），"
                     "没有作为指标核对。如是数量指标，请在定义表“数量指标”表补一行（序号填 {task}，写明指标名称、单位和各年数字）。")
    TARGET_YEAR_GUESS = ("target-year-guess", W, "第 {task} 项的数量目标写在文字中，没有分年数字，已全部计在 {year} 年。"
                         "请在定义表“数量指标”中按年分解。")
    GROUP_UNIT = ("group-unit", N, "“{name}”是统称。可在定义表“单位”表的“包含单位”列填写它包含的具体单位（用顿号分隔）；不填则按一个单位发模板。")
    UNIT_PREFIX = ("unit-prefix", N, "单位“{written}”按同格第一个单位补全为“{full}”。如不对请在定义表中改正。")
    MEMBERS_ASSUMED = ("members-assumed", N, "文件提到领导小组但没有列出成员单位，已把除领导小组办公室和统称外的各单位标为成员单位"
                       "（“各成员单位”即指它们）。请在定义表“单位”表的“领导小组成员”列核对。")
    NO_LEADING_GROUP = ("no-leading-group", N, "文件中没有提到领导小组，各单位均未标为领导小组成员单位。")
    DEADLINE_RULE_UNREAD = ("deadline-rule-unread", W, "文件中的报送时限“{rule}”无法换算为每期的截止日期，未采用。"
                            "请在定义表“设置 › 报送截止”中填写，如“次月10日前”。")
    REPORTING_READ = ("reporting-read", N, "按文件中的要求，{said}。")

    # ---- the definition workbook (a clerk's edits)
    DEF_MISSING_SHEET = ("def-missing-sheet", E, "缺少工作表“{sheets}”，不是 ledger-xl 的台账定义表。")
    DEF_YEARS = ("def-years", E, "年份没有填写或无法识别。请填写如“2023、2024、2025”。")
    DEF_CHOICE = ("def-choice", E, "{field}“{raw}”无法识别。请{fix}。")
    DEF_REQUIRED = ("def-required", E, "{what}。{fix}。")
    DEF_DUPLICATE = ("def-duplicate", E, "{what}重复{where}。请{fix}。")
    DEF_EMAIL = ("def-email", E, "电子邮箱“{address}”{why}。请填写如 name@example.gov.cn，多个地址用 ; 分隔。")
    DEF_MISSING_COLUMN = ("def-missing-column", E, "缺少“{header}”列（设置中的年份为 {year}）。请补上该列或修改设置中的年份。")
    DEF_UNKNOWN_BUREAU = ("def-unknown-bureau", E, "{role}“{name}”不在“单位”表中{note}。{fix}。")
    DEF_NOT_NUMBER = ("def-not-number", E, "{field}“{raw}”{problem}。{fix}。")
    DEF_DATE = ("def-date", E, "完成时限“{raw}”不是日期。请填写如 2025-06-30，没有完成时限就留空。")
    DEF_UNKNOWN_TASK = ("def-unknown-task", E, "序号“{task}”在“任务”表中不存在。请改为正确的序号。")
    PLAN_SUM = ("plan-sum", W, "第 {task} 项“{metric}”各年分解 {parts} = {total}，与总目标 {target} 不一致。请核对原台账。")
    DEFINITION_INVALID = ("definition-invalid", E, "台账定义表有 {n} 处错误，请改正后重试：\n{lines}")

    # ---- periods and the workspace
    PERIOD_FORMAT = ("period-format", E, "报送期“{text}”{problem}。{help}")
    PERIOD_RANGE = ("period-range", E, "报送期 {period} 不在本台账的年份内（{years}）。请检查 --period。")
    NO_YEARS = ("no-years", E, "台账定义表的“设置”中没有年份，无法确定报送期。请填写年份，或用 --period 指定。")
    DEADLINE_RULE = ("deadline-rule", E, "{where}“{text}”{problem}。{fix}。")
    DEF_DEADLINE_RULE = ("def-deadline-rule", E, "{detail}")  # a deadline-rule message, reported at its cell in 设置
    PERIOD_KIND = ("period-kind", E, "本台账按{kind}报送，报送期 {period} 与之不符。请改用{example}这样的写法。")
    NO_WORKSPACE = ("no-workspace", E, "{root} 不是 ledger-xl 工作目录（没有 {config}）。请先运行 ledger-xl init，或用 -w 指定工作目录。")
    CONFIG = ("config", E, "配置文件格式有误（{error}）。请按注释修改，或删除后重新 init。")
    CONFIG_VALUE = ("config-value", E, "{problem}。{fix}")
    EXISTS = ("exists", E, "{path} {what}，未做改动。{fix}")
    BUSY = ("busy", E, "工作目录 {root} 正被另一个 ledger-xl 命令使用（{what}）。请稍后再试。")
    DATE_FORMAT = ("date-format", E, "日期“{text}”写法不对，请写成 2024-07-15。")
    USAGE_EXPORT_PERIOD = ("usage-export-period", E, "请用 --period 指定一个报送期（如 2024H1），或用 --all 导出全部，二者选一。")
    USAGE_MAIL_KIND = ("usage", E, "未知的邮件类型“{kind}”：可选 templates、remind、report。")

    # ---- the store, its key file, backups
    STORE_MISSING = ("store-missing", E, "数据库 {name}（{folder}）{what}。" + STORE_ADVICE)
    STORE_DAMAGED = ("store-damaged", E, "数据库 {name} 已损坏（{why}），无法使用。" + STORE_ADVICE)
    STORE_NEWER = ("store-newer", E, "数据库 {name} 由较新版本的 ledger-xl 建立（数据库版本 {found}，本程序只认识到 {known}）。"
                   "请升级 ledger-xl 后再使用；数据库未做改动。")
    STORE_VERSION_UNKNOWN = ("store-version-unknown", E, "数据库 {name} 的版本“{found}”无法识别，可能不是 ledger-xl 的数据库或已被改动。"
                             + STORE_ADVICE)
    STORE_ERROR = ("store-error", E, "数据库 {name} 出错（{why}）。" + STORE_ADVICE)
    DISK_FULL = ("disk-full", E, "无法写入 {what}：{why}。请清理磁盘空间后重新运行同一命令。")
    READ_ONLY = ("read-only", E, "无法写入 {what}：{why}。请把工作目录复制到可写的位置，或取消只读属性后重试。")
    KEY_MISSING = ("key-missing", E, "没有密钥文件 {key}：已下发模板的签名密钥无从找回，无法重建。" + RESTORE + "。")
    KEY_DAMAGED = ("key-damaged", E, "密钥文件 {key} {problem}。" + RESTORE + "。")
    KEY_MISMATCH = ("key-mismatch", E, "数据库 {store} 与密钥文件 {key} 不属于同一个工作目录（可能复制时混用了两个工作目录的文件）。" + RESTORE + "。")
    STORE_SOUND = ("store-sound", E, "数据库 {store} 完好，无需重建，未做改动。")
    NOT_BACKUP = ("not-backup", E, "{problem}。{fix}。")
    PATH_KIND = ("path-kind", E, "{problem}。{fix}。")

    # ---- templates
    NO_TASKS_FOR_BUREAU = ("no-tasks-for-bureau", E, "单位“{bureau}”在台账中没有任务，不生成模板。")
    BUREAU_OPTION_UNKNOWN = ("bureau-option-unknown", E, "单位“{names}”在台账中没有任务或名称不对。请写单位全称，可选：{choices}。")

    # ---- intake: a returned file refused whole
    LOCK_FILE = ("lock-file", E, "这是 Excel/WPS 打开文件时产生的临时文件（~$ 开头），不是报表，已跳过。可以删除它。")
    ENCRYPTED = ("encrypted", E, "文件设置了打开密码，无法读取。请取消密码后重新报送（文件 → 信息 → 保护工作簿 → 删除密码）。")
    HTML_AS_XLS = ("html-as-xls", E, "这是网页格式的文件（改成了 .xls/.xlsx 扩展名），不是真正的工作簿。请在模板中填写后另存为 .xlsx 重新报送。")
    CSV_OR_TEXT = ("csv-or-text", E, "这是 CSV/文本文件，不是填报模板。请在下发的模板中填写，保存为 .xlsx 后重新报送。")
    WRONG_EXTENSION = ("wrong-extension", E, "文件扩展名为 {suffix}，不是 .xlsx 工作簿。请在下发的模板中填写，保存为 .xlsx 后重新报送。")
    ABSURD_EXTENT = ("absurd-extent", E, "{problem}。{fix}。")
    NOT_TEMPLATE = ("not-template", E, "{problem}。请在下发的{which}模板中填写后报送。")
    OTHER_LEDGER = ("other-ledger", E, "这是另一份台账（《{title}》）的模板，不能汇入本台账。请确认文件是否发错。")
    OTHER_WORKSPACE = ("other-workspace", E, "这是《{title}》的模板，但由另一个工作目录签发（签名密钥不同，可能是换了电脑或重新运行了 init）。"
                       "请用原工作目录的备份恢复（ledger-xl restore 备份文件）后再汇总；如已找不回，请用本工作目录重新生成模板下发。")
    META_TAMPERED = ("meta-tampered", E, "模板的隐藏信息被改动或已损坏，无法确认报送单位和报送期。请使用下发的原模板重新填写。")
    TEMPLATE_BUREAU_UNKNOWN = ("template-bureau-unknown", E, "模板所属单位“{bureau}”已不在台账定义中。请核对台账定义表的“单位”表。")
    BAD_PERIOD = ("bad-period", E, "模板的报送期“{period}”无法识别。")
    MISSING_SHEET = ("missing-sheet", E, "找不到“{form}”工作表（可能被改名或删除）。请使用下发的原模板重新填写。")
    TAMPERED = ("tampered", E, "模板的锁定内容被改动（行被移动、删除或任务文字被修改）：{detail}。请使用下发的原模板重新填写。")
    OUTSIDE_INPUT = ("outside-input", W, "这里写有“{shown}”，不在填写区（黄色格）内，未读取。如是要报送的内容，请填到对应的填写格中后重新报送。")
    MERGED_INPUT = ("merged-input", E, "填写区的单元格被合并了（{range}），合并会丢掉其中的内容。请取消合并后重新填写，或使用下发的原模板。")
    WRONG_SHEET = ("wrong-sheet", E, "“{form}”中没有填写内容，而工作表{where}中有数据：可能把数据粘贴到了错误的工作表。"
                   "请把内容填写在“{form}”的黄色格子中后重新报送。")
    EXTRA_SHEET = ("extra-sheet", W, "文件中多了工作表{where}，其中的内容不会被汇总。如有需要填报的内容，请填写在“{form}”中。")
    CHANGED_WHILE_READING = ("changed-while-reading", E, "文件在汇总过程中被改动（可能仍在保存或复制中），本次未汇入。"
                             "请等文件保存完成后重新运行汇总。")
    READER_CRASH = ("reader-crash", E, "读取此文件时读取程序异常退出（{why}），文件可能已损坏或经过特殊构造。"
                    "请用 Excel/WPS 打开后重新保存为 .xlsx，再报送。")

    # ---- intake: one cell of a returned form
    FORMULA_NO_VALUE = ("formula-no-value", E, "{where}是公式，但没有计算结果。{fix}。")
    ERROR_CELL = ("error-cell", E, "{where}显示错误值 {shown}。{fix}。")
    MISSING = ("missing", E, "{where}{problem}。{fix}。")
    MISSING_OPTIONAL = ("missing-optional", W, "{where}未填写；本期若尚无数据可留空，但请在工作进展中说明。")
    MISSING_TEXT = ("missing-text", W, "{where}未填写。")
    PRECISION_LOST = ("precision-lost", E, "{where}的数字位数过多（{digits}），Excel 已丢失精度。请先把单元格设为“文本”格式，再重新填写。")
    INVISIBLE_CHARS = ("invisible-chars", W, "{where}含有不可见的文字方向控制符或零宽字符（会改变或隐藏显示的内容），已去除。")
    CONTROL_CHARS = ("control-chars", W, "{where}含有不可见的控制字符，已去除。")
    BAD_VALUE = ("bad-value", E, "{where}填的“{typed}”{problem}。{fix}")
    UNIT_CONVERTED = ("unit-converted", W, "{where}填的“{typed}”{note}。如有误，请改正后重新报送。")
    TIME_AS_RATIO = ("time-as-ratio", W, "{where}填的比值被 Excel/WPS 存成了时间 {time}，已按比值 {ratio} 读取（即 {read}）。"
                     "如不对请改正后重报；填比值时可在前面加英文单引号，如 '3.5:1，就不会变成时间。")
    TIME_VALUE = ("time-value", E, "{where}填的内容被 Excel/WPS 存成了时间 {time}（输入带冒号的内容时会这样），不能当作{what}。请{fix}。")
    DELIVERABLE_DATE_ODD = ("deliverable-date-odd", W, "第 {task} 项的完成日期 {date} {why}，可能填错了年份或月份。请核对；如确实无误，可不理会。")
    DELIVERABLE_INCOMPLETE = ("deliverable-incomplete", W, "第 {task} 项成果已完成，但“{label}”未填写。请补填。")

    # ---- checks: the plan against what the store holds
    NOT_REPORTED = ("not-reported", W, "{task}：{why}无法判断进度。")
    RESPONSIBLE_MISSING = ("responsible-missing", W, "{bureau}（责任单位）{what}。")
    DUTY_MISSED = ("duty-missed", W, "{task}：{why}")
    LEAD_DISAGREE = ("lead-disagree", W, "{task}：“{metric}”{period} 两个牵头单位报送的数字不一致（{detail}），请核实。以{first}为准。")
    INDICATOR_MISMATCH = ("indicator-mismatch", W, "{task}：“{indicator}”填报为{reported}%，但按期初{base}、本期{current}计算应为"
                          "{computed}%，请核实。")
    DELIVERABLE_UNPROVEN = ("deliverable-unproven", W, "{task}：成果报为已完成，但缺少{missing}。请补报。")
    BEHIND = ("behind", W, "{task}：{status}。{why}")
    WARN = ("warn", W, "{task}：预警。{why}")
    CUMULATIVE_DOWN = ("cumulative-down", W, "{bureau} {period} 第 {task} 项的数字由 {before}（{before_file}）改为 {after}（{after_file}），"
                       "累计数因此下降。请核实更正的原因。")

    # ---- intake from the mailbox (fetch), passwords, received times, the office's time zone
    IMAP_CONFIG = ("imap-config", E, "ledger-xl.toml › [imap] {key}：{problem}。{fix}。")  # a missing, wrong or unusable setting
    IMAP_TLS = ("imap-tls", E, "收件服务器 {host} 的证书无法验证（{why}）。如是单位内部服务器，请在 ledger-xl.toml 的 [imap] ca_file "
                "中配置其 CA 证书文件；否则请核对 [imap] host 是否写对。")
    IMAP_CONNECT = ("imap-connect", E, "无法连接收件服务器 {host}（{why}）。请检查网络，以及 ledger-xl.toml 中 [imap] 的 host、port 和 security。")
    IMAP_LOST = ("imap-lost", E, "与收件服务器 {host} 的连接中断（{why}），{state}。请检查网络，稍后重新运行同一命令。")
    IMAP_AUTH = ("imap-auth", E, "收件邮箱 {account}（{host}）登录失败：{reason}。请核对 ledger-xl.toml 中 [imap] 的 user 和授权码"
                 "（环境变量 {env}）：QQ 邮箱、163/126 邮箱须用在网页邮箱“设置 › 账户”中开启 IMAP 后生成的授权码，不是登录密码。")
    IMAP_FOLDER = ("imap-folder", E, "收件邮箱中没有文件夹“{folder}”（邮箱中有：{have}）。请把 ledger-xl.toml 中 [imap] folder 改为其中之一。")
    IMAP_MOVE = ("imap-move", E, "收件服务器 {host} 不支持移动邮件（MOVE），无法把收取的邮件移到“{folder}”；邮件已加标记 {keyword}，"
                 "未删除。请删去 ledger-xl.toml 中 [imap] processed_folder（只加标记）。")
    MAIL_CONFIG_TEXT = ("mail-config-reply", E, "ledger-xl.toml 的 [mail] 没有填写{missing}，无法回复发件人。请补填，或加 --no-reply 只收取不回复。")
    SECRET_MISSING = ("secret-missing", E, "没有{what}：命令不在终端中运行，无法询问。请设置环境变量 {env}（密码或授权码）后重试，不要写在文件里。")
    RECEIVED_FORMAT = ("received-format", E, "收到时间“{typed}”写法不对，请写成 2024-07-05 09:30（按办公所在时区）。")
    TIMEZONE = ("bad-timezone", E, "ledger-xl.toml › [ledger] timezone：“{name}”不是可识别的时区。请填写如 Asia/Shanghai；"
                "Windows 上还需安装 tzdata（pip install tzdata）。")

    # ---- the report ([report] letterhead, the office's own 版头 .docx)
    LETTERHEAD_MISSING = ("letterhead-missing", E, "找不到{where}。请填写办公室提供的版头 .docx 文件的路径，或留空。")
    LETTERHEAD_DOCTYPE = ("letterhead-doctype", E, "{where}含有不安全的 XML 声明（DOCTYPE）。请在 Word 中另存为新的 .docx 后再用。")
    LETTERHEAD_UNREADABLE = ("letterhead-unreadable", E, "{where}不是可读取的 Word（.docx）文件：{why}。请用 Word 或 WPS 另存为 .docx。")

    # ---- mail
    MAIL_CONFIG = ("mail-config", E, "{problem}。{fix}。")
    MAIL_PASSWORD = ("mail-password", E, "没有邮箱密码：请设置环境变量 {env}（密码或授权码），不要写在文件里。")
    BAD_ADDRESS = ("bad-address", E, "{who}的邮箱“{address}”{why}。")
    MAIL_AUTH = ("mail-auth", E, "{problem}。{fix}。")
    MAIL_TLS = ("mail-tls", E, "邮件服务器 {host} 的证书无法验证（{why}）。如是单位内部服务器，请在 ca_file 中配置其 CA 证书。")
    MAIL_CONNECT = ("mail-connect", E, "无法连接邮件服务器 {host}:{port}（{why}）。请检查网络和 [mail] 设置。")

    # ---- a refused return handed back filled in
    FIELD_GONE = ("field-gone", W, "台账定义已修改，新表中已没有这一项，原填内容未能放回。请核对是否需要改填到其他格子。")

    # ---- export
    EXPORT_FORMAT = ("export-format", E, "导出文件“{name}”的扩展名应为 .xlsx 或 .csv。")

    # ---- the demo and the office helpers
    NO_SAMPLES = ("no-samples", E, "{problem}。{fix}")
    NO_LIBREOFFICE = ("no-libreoffice", E, "没有找到 LibreOffice（soffice）。请先运行 scripts/setup-system.sh 安装。")
    CONVERT_FAILED = ("convert-failed", E, "LibreOffice 转换 {name} 失败：{why}")
    NO_PDFTOPPM = ("no-pdftoppm", E, "没有找到 pdftoppm。请安装 poppler-utils。")


def catalogue_markdown() -> str:
    """The README's list of codes: one row per code, in catalogue order."""
    lines = ["| code | severity | message template |", "|---|---|---|"]
    for c in Code:
        text = c.template.replace("\n", " ").replace("|", "\\|")
        lines.append(f"| `{c.value}` | {SEVERITY_LABEL[c.severity]} | {text} |")
    return "\n".join(lines)
