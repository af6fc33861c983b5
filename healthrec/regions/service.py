"""Regions (county, township, village) with their resident population per year."""

import csv
import io

from healthrec.db import get_db
from healthrec.errors import Invalid, NotFound
from healthrec.ids import prefix_range
from healthrec.regions.codes import RegionCodeError, ascii_digits, level_of, parent_of, village_kind


def get_region(code):
    try:
        level_of(code)
    except RegionCodeError as error:
        raise Invalid(str(error), {"code": [str(error)]}) from None
    doc = get_db().regions.find_one({"_id": code})
    if doc is None:
        raise NotFound(f"No region {code}.")
    return present(doc)


def present(doc):
    region = {
        "code": doc["_id"], "name": doc["name"], "level": doc["level"],
        "parent": doc.get("parent"), "population": doc.get("population", {}),
    }
    if doc.get("kind"):
        region["kind"] = doc["kind"]
    return region


def children(code):
    return [present(doc) for doc in get_db().regions.find({"parent": code}).sort("_id", 1)]


def within(prefix):
    """{code: region} of every region whose code starts with `prefix`, itself included."""
    return {doc["_id"]: present(doc) for doc in get_db().regions.find({"_id": prefix_range(prefix)})}


def parse_rows(text):
    """Check every row; return (rows, problems) where problems are (line, reason)."""
    rows: list[dict] = []
    problems: list[tuple[int, str]] = []
    seen: set[str] = set()
    known = {doc["_id"] for doc in get_db().regions.find({}, {"_id": 1})}
    for number, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not fields or all(not f.strip() for f in fields):
            continue
        if number == 1 and fields[0].strip().lower() == "code":
            continue  # header
        try:
            rows.append(parse_row(fields, known | seen))
            seen.add(rows[-1]["_id"])
        except ValueError as error:
            problems.append((number, str(error)))
    return rows, problems


def parse_row(fields, known):
    if len(fields) != 4:
        raise ValueError(f"expected 4 fields code,name,population,year, got {len(fields)}")
    code, name, population, year = (f.strip() for f in fields)
    level = level_of(code)
    if not name:
        raise ValueError("the name is empty")
    parent = parent_of(code)
    if parent and parent not in known:
        raise ValueError(f"parent region {parent} is neither imported nor earlier in the file")
    row = {"_id": code, "name": name, "level": level, "parent": parent}
    if level == "village":
        row["kind"] = village_kind(code)
    if population or year:
        if not ascii_digits(population):
            raise ValueError(f"population must be a whole number, got {population!r}")
        if not (ascii_digits(year) and len(year) == 4 and 1949 <= int(year) <= 2100):
            raise ValueError(f"year must be a four-digit year, got {year!r}")
        row["population"] = (year, int(population))
    return row


def import_csv(text):
    """All or nothing: if any row is bad, nothing is written and every problem is named."""
    rows, problems = parse_rows(text)
    if problems:
        raise Invalid(
            f"{len(problems)} bad rows; nothing was imported.",
            {f"line {n}": [reason] for n, reason in problems},
            lines=[{"line": n, "reason": reason} for n, reason in problems],
        )
    db = get_db()
    for row in rows:
        changes = {k: v for k, v in row.items() if k not in ("_id", "population")}
        if "population" in row:
            year, count = row["population"]
            changes[f"population.{year}"] = count
        db.regions.update_one({"_id": row["_id"]}, {"$set": changes}, upsert=True)
    return len(rows)
