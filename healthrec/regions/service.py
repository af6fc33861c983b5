"""Regions (county, township, village) with their resident population per year.

Regions change only by import, and most requests that create something check one, so
each service process keeps the regions it has read (`_cached`). A region it has not
read yet is looked up at once, so a newly imported village is usable in every process
straight away; a changed name or population reaches the other processes within
CACHE_SECONDS, and the importing process forgets its copies at once.
"""

import csv
import io
from datetime import timedelta

from flask import current_app

from healthrec.clock import now
from healthrec.db import get_db
from healthrec.errors import Invalid, NotFound
from healthrec.ids import prefix_range
from healthrec.regions.codes import RegionCodeError, ascii_digits, level_of, parent_of, village_kind

CACHE_SECONDS = 60


def _cached():
    """This process's {code: (region document, when read)}."""
    return current_app.extensions.setdefault("healthrec.regions", {})


def get_region(code):
    try:
        level_of(code)
    except RegionCodeError as error:
        raise Invalid(str(error), {"code": [str(error)]}) from None
    cached, at = _cached().get(code), now()
    if cached is None or cached[1] <= at - timedelta(seconds=CACHE_SECONDS):
        doc = get_db().regions.find_one({"_id": code})
        if doc is None:
            raise NotFound(f"No region {code}.")
        cached = _cached()[code] = (doc, at)
    return present(cached[0])


def present(doc):
    region = {
        "code": doc["_id"], "name": doc["name"], "level": doc["level"],
        "parent": doc.get("parent"), "population": doc.get("population", {}),
    }
    if doc.get("kind"):
        region["kind"] = doc["kind"]
    return region


def villages_under(code):
    """The codes of the villages within region `code` (a village, or any prefix of one)."""
    if len(code) == 12:
        return [code]
    query = {"level": "village", "_id": prefix_range(code)}
    return [doc["_id"] for doc in get_db().regions.find(query, {"_id": 1}).sort("_id", 1)]


def children(code):
    return [present(doc) for doc in get_db().regions.find({"parent": code}).sort("_id", 1)]


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
    _cached().clear()
    return len(rows)
