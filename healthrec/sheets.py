"""Reading a table that an operator hands over: a CSV file or the first sheet of an Excel
workbook (.xlsx). Rows come with the line number the operator sees in a spreadsheet
program, so a problem can be named by its line.

CSV files are read as UTF-8 (with or without the byte-order mark Excel writes) or, failing
that, as GB18030: Excel on a Chinese Windows saves "CSV" in that encoding.
"""

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException


class TableError(ValueError):
    """The file cannot be read as a table; the message says what to do."""


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, list]]  # (line number, cells); cells are text, numbers or dates


def read_table(path):
    """The table in the file at `path` (.csv or .xlsx): its first non-empty row is the
    header; empty rows are left out."""
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".txt"):
        lines = enumerate(csv.reader(io.StringIO(_text(Path(path).read_bytes()))), start=1)
    elif suffix in (".xlsx", ".xlsm"):
        lines = _sheet(path)
    elif suffix == ".xls":
        raise TableError("This is an old-style Excel file (.xls): open it in Excel or WPS and save it as .xlsx.")
    else:
        raise TableError(f"Give a .csv or .xlsx file, not {suffix or 'a file without an extension'}.")
    header: list[str] | None = None
    rows = []
    for number, cells in lines:
        if all(cell is None or str(cell).strip() == "" for cell in cells):
            continue
        if header is None:
            header = [str(cell or "").strip() for cell in cells]
        else:
            rows.append((number, list(cells)))
    if header is None:
        raise TableError("The file is empty.")
    return Table(header, rows)


def _text(data):
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def _sheet(path):
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as error:
        raise TableError(f"The file is not an Excel workbook that can be read ({error}); "
                         "save it again as .xlsx.") from None
    try:
        # Rows as numbered in Excel; the sheet's own dimensions may be missing or wrong.
        yield from enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1)
    finally:
        workbook.close()
