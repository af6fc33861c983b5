"""Bringing in archives kept on paper or in an earlier system (`flask archives import`).

The file is checked whole before anything is written, as `regions import` checks its file:
every row as `create_archive` would check it, the importing user's right to import into
each village, and every person and number against the rest of the file and the database.
If any row is bad or anything is there twice, nothing is imported and each line is named.

Then each new row is created through `service.create_archive` under the number it
already has, with the day it was established: the same checks, identity lock, sealing,
completeness and audit entry as an archive made in the app. A row whose number already
belongs to the same person was imported before and is left alone, so importing a file
again creates nothing.
"""

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from marshmallow import ValidationError

from healthrec.archives import locks
from healthrec.archives import service as archives
from healthrec.archives.policy import IMPORT
from healthrec.audit.log import record
from healthrec.db import get_db
from healthrec.errors import DomainError, Forbidden, Invalid
from healthrec.sheets import TableError, read_table
from schemas.legacy import LegacyArchive

# The columns, each with the headers it may have; the first is the one the README shows.
COLUMNS = {
    "archive_code": ("档案编号", "archive_code"),
    "name": ("姓名", "name"),
    "sex": ("性别", "sex"),
    "birth_date": ("出生日期", "birth_date"),
    "id_card": ("身份证号", "身份证号码", "id_card"),
    "established_on": ("建档日期", "established_on"),
    "phone": ("联系电话", "本人电话", "电话", "phone"),
    "address": ("现住址", "住址", "address"),
    "responsible_doctor": ("责任医生", "responsible_doctor"),
    "guardian_name": ("监护人姓名", "guardian_name"),
    "guardian_relation": ("监护人关系", "guardian_relation"),
    "guardian_phone": ("监护人电话", "guardian_phone"),
    "guardian_id_card": ("监护人身份证号", "guardian_id_card"),
    "allergies": ("药物过敏史", "过敏史", "allergies"),
    "key_populations": ("重点人群", "key_populations"),
}
REQUIRED = ("archive_code", "name", "sex", "birth_date", "established_on")

SEXES = {"男": "male", "女": "female", "1": "male", "2": "female", "male": "male", "female": "female"}
RELATIONS = {
    "父亲": "father", "父": "father", "母亲": "mother", "母": "mother",
    "祖父": "grandparent", "祖母": "grandparent", "外祖父": "grandparent", "外祖母": "grandparent",
    "祖父母": "grandparent", "配偶": "spouse", "丈夫": "spouse", "妻子": "spouse",
    "子女": "child", "儿子": "child", "女儿": "child", "兄弟姐妹": "sibling", "哥哥": "sibling",
    "姐姐": "sibling", "弟弟": "sibling", "妹妹": "sibling", "其他": "other",
}
POPULATIONS = {
    "高血压": "hypertension", "糖尿病": "diabetes", "2型糖尿病": "diabetes", "孕产妇": "maternal",
    "严重精神障碍": "severe_mental_disorder", "肺结核": "tuberculosis", "结核病": "tuberculosis",
    "老年人": "elderly", "儿童": "child",
}
NONE = ("无", "none")  # "asked, none": an empty list, unlike an empty cell
SEPARATORS = re.compile(r"[,，、;；/\s]+")
DATE = re.compile(r"(\d{4})(?:[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{2})(\d{2}))")
NUMBER_CELL = ("Excel stored this as a number, which keeps only 15 digits: format the column as "
               "text (文本), type the numbers again and save.")


def _key(header):
    return "".join(unicodedata.normalize("NFKC", header).split()).lower()


HEADERS = {_key(header): name for name, headers in COLUMNS.items() for header in headers}


@dataclass
class Sheet:
    labels: dict[str, str]  # column name -> its header in the file
    rows: list[tuple[int, dict]]  # (line, {column name: cell})


@dataclass
class Row:
    line: int
    code: str
    established_on: date
    data: dict  # the fields of ArchiveCreate
    card: str | None  # the ID card number, normalised
    name: str


@dataclass
class Plan:
    new: list[Row]
    present: list[Row]  # imported before: left as they are
    failed: list[tuple[int, str]] = field(default_factory=list)  # refused while writing


class RowProblem(Exception):
    def __init__(self, reasons):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


# --- The file ---------------------------------------------------------------------------

def read(path):
    """The rows of the file at `path` (.csv or .xlsx) by column. Raises Invalid for a file
    that cannot be read, an unknown or repeated column, or a missing required one."""
    try:
        table = read_table(path)
    except TableError as error:
        raise Invalid(f"{error} Nothing was imported.", {"file": [str(error)]}) from None
    found: dict[str, int] = {}
    problems = []
    for index, header in enumerate(table.header):
        name = HEADERS.get(_key(header))
        if not header:
            continue  # an empty header over an empty column, as spreadsheets leave them
        if name is None:
            problems.append(f"column {index + 1} '{header}' is not one the import knows")
        elif name in found:
            problems.append(f"column {index + 1} '{header}' repeats column {found[name] + 1}")
        else:
            found[name] = index
    missing = [COLUMNS[name][0] for name in REQUIRED if name not in found]
    if missing:
        problems.append("required columns missing: " + "、".join(missing))
    if problems:
        known = "、".join(headers[0] for headers in COLUMNS.values())
        raise Invalid(f"The header row is not right ({'; '.join(problems)}). The columns are: {known}. "
                      "Nothing was imported.", {"header": problems})
    rows = [(line, {name: cells[index] if index < len(cells) else None for name, index in found.items()})
            for line, cells in table.rows]
    return Sheet({name: table.header[index] for name, index in found.items()}, rows)


def _text(cell):
    if cell is None:
        return None
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell).strip() or None


def _digits(cell):
    """An archive or ID card number: never a number cell, whose last digits Excel lost."""
    if isinstance(cell, int | float):
        raise ValueError(NUMBER_CELL)
    return _text(cell)


def _date(cell):
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    text = _text(cell)
    if text is None:
        return None
    match = DATE.fullmatch(text)
    if not match:
        raise ValueError("Write the date as YYYY-MM-DD (2019-03-08).")
    year, month, day = match.group(1), match.group(2) or match.group(4), match.group(3) or match.group(5)
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        raise ValueError(f"{text} is not a real date.") from None


def _choice(cell, names, what):
    text = _text(cell)
    if text is None:
        return None
    value = names.get(text.lower())
    if value is None:
        raise ValueError(f"'{text}' is not a {what}; write one of {'、'.join(names)}.")
    return value


def _items(cell, names=None, what=None):
    """A list cell: items separated by commas, 、 or spaces; 无 for none."""
    text = _text(cell)
    if text is None:
        return None
    if text.lower() in NONE:
        return []
    items = [item for item in SEPARATORS.split(text) if item]
    return [_choice(item, names, what) for item in items] if names else items


READERS = {
    "archive_code": _digits, "id_card": _digits, "guardian_id_card": _digits,
    "birth_date": _date, "established_on": _date,
    "sex": lambda cell: _choice(cell, SEXES, "sex"),
    "guardian_relation": lambda cell: _choice(cell, RELATIONS, "relation"),
    "allergies": _items,
    "key_populations": lambda cell: _items(cell, POPULATIONS, "key population"),
}


def _fields(cells):
    """The row's cells as LegacyArchive's fields, and problems by column."""
    values, problems = {}, {}
    for name, cell in cells.items():
        try:
            value = READERS.get(name, _text)(cell)
        except ValueError as error:
            problems[name] = [str(error)]
            continue
        if value is not None:
            values[name] = value
    data = {name: value for name, value in values.items() if not name.startswith("guardian_")}
    guardian = {name.removeprefix("guardian_"): value for name, value in values.items()
                if name.startswith("guardian_")}
    if guardian:
        data["guardian"] = guardian
    return data, problems


def _column(key):
    """The column a field error (`guardian.relation`, `allergies.0`) belongs to."""
    head, _, rest = key.partition(".")
    if head == "guardian" and rest:
        return "guardian_" + rest.split(".")[0]
    return {"village_code": "archive_code", "guardian": "guardian_name"}.get(head, head)


def _flat(messages, prefix=""):
    """marshmallow's nested messages as {dotted key: [message]}."""
    flat = {}
    for key, value in messages.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _reasons(problems, labels):
    return [f"{labels.get(_column(key), COLUMNS.get(_column(key), (key,))[0])}: {message}"
            for key, messages in problems.items() for message in messages]


# --- Checking ---------------------------------------------------------------------------

def _row(user, line, cells, labels, refused):
    data, problems = _fields(cells)
    if not problems:
        try:
            data = LegacyArchive().load(data)
        except ValidationError as error:
            problems = _flat(error.messages)
    if problems:
        raise RowProblem(_reasons(problems, labels))
    village = data["village_code"]
    if village not in refused:  # asked once per village, so a refusal is audited once
        try:
            archives.authorized(user, IMPORT, village, "archive.import")
            refused[village] = None
        except Forbidden as error:
            refused[village] = error.detail
    if refused[village]:
        raise RowProblem([refused[village]])
    code, established_on = data.pop("archive_code"), data.pop("established_on")
    try:
        plain, card, _warnings = archives.check_new(user, data, established_on)
    except Invalid as error:
        raise RowProblem(_reasons(error.extra["errors"], labels)) from None
    return Row(line, code, established_on, data, card.number if card else None, plain["name"])


def _repeats(rows):
    """(lines, reason) for each number or ID card that more than one row carries."""
    codes, cards = defaultdict(list), defaultdict(list)
    for row in rows:
        codes[row.code].append(row.line)
        if row.card:
            cards[row.card].append(row.line)
    return ([(lines, f"the same archive number {code}") for code, lines in codes.items() if len(lines) > 1]
            + [(lines, "the same ID card number") for lines in cards.values() if len(lines) > 1])


def _same_person(stored, row, bi):
    """Whether the stored archive is the row's person: the same ID card, or for residents
    without one the same name and birth date."""
    if bi or stored.get("id_card_bi"):
        return stored.get("id_card_bi") == bi
    born = row.data["birth_date"].isoformat()
    return stored["name_bi"] == archives.name_index(row.name) and stored["birth_date"] == born


def _against_database(rows):
    """(rows imported before, (lines, reason) of rows whose number or person another
    archive has).

    The archives of each village in the file are read once, by custody (one indexed
    equality per village); each new row's ID card is then looked up by its blind index.
    A number whose archive has moved to another village's custody is not among them: the
    row's ID card finds it, and failing that the insert itself refuses the number.
    """
    db = get_db()
    stored: dict[str, dict] = {}
    for village in sorted({row.data["village_code"] for row in rows}):
        stored.update((doc["_id"], doc) for doc in db.archives.find(
            {"village": village}, {"id_card_bi": 1, "name_bi": 1, "birth_date": 1}))
    present, taken = [], []
    for row in rows:
        bi = archives.card_index(row.card) if row.card else None
        if row.code in stored:
            if _same_person(stored[row.code], row, bi):
                present.append(row)
            else:
                taken.append(([row.line], f"archive number {row.code} belongs to another resident's archive"))
        elif bi and (holder := locks.card_holder(bi)):
            if holder == row.code:
                present.append(row)
            else:
                taken.append(([row.line], f"this ID card already has archive {holder}"))
    return present, taken


def check(user, sheet, rows=None):
    """Check every row of `sheet` (`rows`: the same rows, e.g. wrapped in a progress bar);
    the Plan of what to create. Writes nothing but the audit entries of refusals.

    Raises Invalid naming every bad line (`lines`) and every person or number that is there
    twice (`duplicates`): then nothing may be imported.
    """
    problems: list[tuple[int, str]] = []
    good = []
    refused: dict[str, str | None] = {}  # village -> why the user may not import there, or None
    for line, cells in sheet.rows if rows is None else rows:
        try:
            good.append(_row(user, line, cells, sheet.labels, refused))
        except RowProblem as problem:
            problems.append((line, "; ".join(problem.reasons)))
    repeats = _repeats(good)
    repeated = {line for lines, _ in repeats for line in lines}
    present, taken = _against_database([row for row in good if row.line not in repeated])
    duplicates = sorted(repeats + taken)
    if problems or duplicates:
        raise Invalid(
            f"{len(problems)} bad rows and {len(duplicates)} duplicates; nothing was imported.",
            {f"line {line}": [reason] for line, reason in problems}
            | {"lines " + ", ".join(map(str, lines)): [reason] for lines, reason in duplicates},
            lines=[{"line": line, "reason": reason} for line, reason in problems],
            duplicates=[{"lines": lines, "reason": reason} for lines, reason in duplicates])
    done = {row.line for row in present}
    return Plan([row for row in good if row.line not in done], present)


# --- Writing ----------------------------------------------------------------------------

def write(user, plan):
    """Create the archive of each new row of `plan`, yielding each row when done.

    A row the database refuses now (someone registered the same person or number since the
    check) goes to `plan.failed`; importing the file again later finishes the rest.
    """
    for row in plan.new:
        try:
            archives.create_archive(user, row.data, code=row.code, established_on=row.established_on)
        except DomainError as error:
            plan.failed.append((row.line, error.detail))
        yield row
    record(user, "archive.import_file", region=user.region, detail={
        "created": len(plan.new) - len(plan.failed), "present": len(plan.present), "failed": len(plan.failed)})
