"""A summary as a spreadsheet (.xlsx, openpyxl) or as CSV (UTF-8 with BOM, so Excel reads the Chinese)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

# The overview's figures: key, Chinese, English.
FIGURES = (
    ("received", "信访事项", "Petitions received"),
    ("persons", "涉及人数", "Persons involved (headcount)"),
    ("group_petitions", "集体访", "Group petitions (5 or more people)"),
    ("closed", "办结", "Closed or ended"),
    ("escalations", "上报", "Escalations"),
    ("supervisions", "督办", "Supervisions"),
    ("deadlines_met", "按期办理", "Deadlines met"),
    ("deadlines_missed", "超期", "Deadlines missed"),
    ("on_time_rate", "按期办理率", "On-time rate"),
    ("ratings", "评价", "Ratings"),
    ("satisfied", "满意", "Satisfied"),
    ("basically_satisfied", "基本满意", "Basically satisfied"),
    ("dissatisfied", "不满意", "Dissatisfied"),
    ("satisfaction_rate", "满意率", "Satisfaction rate"),
    ("repeat_cases", "重复访", "Repeat petitions"),
    ("repeat_rate", "重复信访率", "Repeat rate"),
)
RATES = frozenset({"on_time_rate", "satisfaction_rate", "repeat_rate"})
# The breakdowns: key in the summary, section name in the CSV, Chinese, English.
SECTIONS = (
    ("by_channel", "channel", "按信访形式", "By channel"),
    ("by_category", "category", "按问题类别", "By category"),
    ("by_area", "area", "按地区（乡镇）", "By area (township)"),
    ("by_status", "status", "按办理状态", "By status"),
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
# A text cell beginning with one of these is read as a formula by spreadsheet programs; categories
# and unit names are free text, so such a cell is written as text (formula injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def risky(value: Any) -> bool:
    """True for text a spreadsheet program would take for a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_safe(value: Any) -> Any:
    """Text that would start a formula, behind an apostrophe; numbers and other text unchanged."""
    return "'" + value if risky(value) else value


def title(summary: dict[str, Any]) -> str:
    """The report's title line: what, where, when."""
    return (f"信访统计 Petition statistics — {summary['unit_name']} ({summary['unit']}) — "
            f"{summary['period']} ({summary['from']} – {summary['to']})")


def percent(value: float | None) -> str:
    """A rate as Excel reads a percentage, or empty when there is none."""
    return "" if value is None else f"{value * 100:.2f}%"


def csv_rows(summary: dict[str, Any]) -> Iterator[list[Any]]:
    """Long format: section, key, name, value."""
    yield ["section", "key", "name", "value"]
    yield ["report", "period", "统计期间 Period", summary["period"]]
    yield ["report", "from", "起始日期 From", str(summary["from"])]
    yield ["report", "to", "截止日期 To", str(summary["to"])]
    yield ["report", "unit", f"单位 Unit: {summary['unit_name']}", summary["unit"]]
    for key, chinese, english in FIGURES:
        value = summary[key]
        yield ["overview", key, f"{chinese} {english}", percent(value) if key in RATES else value]
    for key, section, _, _ in SECTIONS:
        for row in summary[key]:
            yield [section, row["key"], row["name"], row["count"]]


def to_csv(summary: dict[str, Any]) -> bytes:
    """The summary as CSV in UTF-8 with a byte order mark."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([csv_safe(v) for v in row] for row in csv_rows(summary))
    return out.getvalue().encode("utf-8-sig")


BOLD = Font(bold=True)
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")


def to_xlsx(summary: dict[str, Any]) -> bytes:
    """The summary as one sheet: a title row, the overview, then a table per breakdown."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = "统计 Statistics"
    sheet.append([title(summary)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.merge_cells("A1:D1")

    def heading(text: str, columns: tuple[str, ...]) -> None:
        sheet.append([])
        sheet.append([text])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True, size=12)
        sheet.append(list(columns))
        for cell in sheet[sheet.max_row]:
            cell.font, cell.fill = BOLD, HEAD_FILL

    def append(values: list[Any]) -> None:
        sheet.append(values)
        for cell in sheet[sheet.max_row]:
            if risky(cell.value):
                cell.data_type = "s"  # openpyxl stores text beginning with = as a formula

    heading("概况 Overview", ("指标 Figure", "代码 Code", "数值 Value"))
    for key, chinese, english in FIGURES:
        sheet.append([f"{chinese} {english}", key, summary[key]])
        if key in RATES:
            sheet.cell(sheet.max_row, 3).number_format = "0.00%"
    received = summary["received"]
    for key, _, chinese, english in SECTIONS:
        heading(f"{chinese} {english}", ("名称 Name", "代码 Code", "件数 Count", "占比 Share"))
        for row in summary[key]:
            append([row["name"], row["key"], row["count"], row["count"] / received if received else None])
            sheet.cell(sheet.max_row, 4).number_format = "0.00%"
        sheet.append(["合计 Total", "total", sum(row["count"] for row in summary[key])])
        sheet.cell(sheet.max_row, 1).font = BOLD
    for column, width in zip("ABCD", (36, 22, 12, 12), strict=True):
        sheet.column_dimensions[column].width = width
    sheet["A1"].alignment = Alignment(vertical="center")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
