"""The indicator table as files for people: an Excel workbook and a CSV, with Chinese
headers, one row per region and part, the same numbers as the JSON answer.

Text that a spreadsheet would take for a formula (starting with = + - @, a tab or a
carriage return) is written with a leading apostrophe, so a region name can never run as
one when the file is opened.
"""

import csv
import io

import xlsxwriter
from flask import Response

LEVELS = {"province": "省", "prefecture": "市", "county": "县", "township": "乡镇", "village": "村"}
KINDS = {"urban": "城镇", "rural": "农村", "other": "其他"}
PARTS = {None: "合计", "urban": "城镇部分", "rural": "农村部分"}
CHRONIC = {"hypertension": "高血压", "diabetes": "糖尿病"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# (header, path of the value in a region's figures); a rate's header ends in (%).
COLUMNS = [
    ("常住人口", ("population",)),
    ("建档数", ("archived",)),
    ("建档率(%)", ("coverage_rate",)),
    ("建档率目标(%)", ("target", "rate")),
    ("是否达标", ("target", "met")),
    ("基本信息完整档案数", ("complete",)),
    ("完整率(%)", ("completeness_rate",)),
    ("活档数", ("active",)),
    ("使用率(%)", ("usage_rate",)),
    ("抽查档案数", ("checked",)),
    ("合格档案数", ("qualified",)),
    ("合格率(%)", ("qualified_rate",)),
    ("真实档案数", ("authentic",)),
    ("真实率(%)", ("authenticity_rate",)),
    ("签约人数", ("contracted",)),
    ("签约率(%)", ("contract_rate",)),
    ("65岁及以上建档数", ("elderly", "archived")),
    ("年内体检人数", ("elderly", "checked_up")),
    ("老年人健康管理率(%)", ("elderly", "management_rate")),
    *((f"{name}{header}", (key, field)) for key, name in CHRONIC.items() for header, field in (
        ("建档人数", "archived"), ("已管理人数", "managed"), ("规范管理人数", "standardised"),
        ("规范管理率(%)", "standardised_rate"), ("控制人数", "controlled"), ("控制率(%)", "control_rate"))),
]
HEADERS = ["截至日期", "考核期起", "考核期止", "地区代码", "地区名称", "级别", "类别", "范围",
           *(header for header, _value in COLUMNS)]


def rows(table):
    """The table's rows, the region first, then each region one level down; a township or
    wider region is followed by its urban and rural parts."""
    dates = [table["as_of"].isoformat(), table["period"]["from"].isoformat(), table["period"]["to"].isoformat()]
    for region in [table, *table["children"]]:
        head = [region["region"], region["name"], LEVELS[region["level"]], KINDS.get(region["kind"])]
        for part in PARTS:
            figures = region if part is None else region[part]
            if figures is not None:
                yield [*dates, *head, PARTS[part], *(value(figures, path) for _header, path in COLUMNS)]


def value(figures, path):
    for key in path:
        figures = figures[key]
    if isinstance(figures, bool):
        return "是" if figures else "否"
    return figures


def neutral(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(table):
    """UTF-8 with a byte-order mark, so Excel opens the Chinese text as such."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for row in rows(table):
        writer.writerow(["" if value is None else neutral(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table):
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("建档指标")
    bold, tenths = book.add_format({"bold": True}), book.add_format({"num_format": "0.0"})
    rate_columns = {index for index, header in enumerate(HEADERS) if header.endswith("(%)")}
    for column, header in enumerate(HEADERS):
        sheet.write_string(0, column, header, bold)
    for line, row in enumerate(rows(table), start=1):
        for column, value in enumerate(row):
            if isinstance(value, str):
                sheet.write_string(line, column, neutral(value))
            elif value is not None:
                sheet.write_number(line, column, value, tenths if column in rate_columns else None)
    sheet.freeze_panes(1, 8)
    sheet.set_column(0, 2, 11)
    sheet.set_column(3, 4, 14)
    book.close()
    return out.getvalue()


# format: (media type, maker); the API and the dashboard offer the same files.
FILES = {
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx),
    "csv": ("text/csv; charset=utf-8", to_csv),
}


def download(table, file_format):
    """The table as a file to save, for the API and the dashboard alike. The content type
    is given whole: `mimetype` would add a second charset to the CSV's."""
    media_type, make = FILES[file_format]
    name = f"coverage-{table['region']}-{table['as_of'].isoformat()}.{file_format}"
    return Response(make(table), content_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
