"""Regions (county, township, village): their resident population per year, their validity
over time, and the township each village belongs to now.

A region is never removed. One retired by a merger keeps its code and name with
`valid_to` (its last day) and `successor`, so old archives and old reports still resolve
it. A village's township is its `parent`: the one its code names, until a merger moves it
to another (`reparent`); `parents` keeps the earlier ones with their last day.

Look-ups go through `regions.cache`, which each service process keeps for a minute; what
changes regions here makes this process forget its copies.
"""

import csv
import io
import time
from datetime import date, timedelta

from flask import current_app
from pymongo.errors import DuplicateKeyError

from healthrec.audit.log import record, refusals
from healthrec.clock import now, today
from healthrec.db import get_db
from healthrec.errors import Conflict, Invalid, NotFound
from healthrec.ids import prefix_range
from healthrec.regions import cache, policy
from healthrec.regions.codes import KINDS, LEVELS, RegionCodeError, ascii_digits, level_of, parent_of, village_kind


def get_region(code):
    return present(_find(code))


def _find(code):
    try:
        level_of(code)
    except RegionCodeError as error:
        raise Invalid(str(error), {"code": [str(error)]}) from None
    doc = cache.region(code)
    if doc is None:
        raise NotFound(f"No region {code}.")
    return doc


def present(doc):
    region = {
        "code": doc["_id"], "name": doc["name"], "level": doc["level"],
        "parent": doc.get("parent"), "population": doc.get("population", {}),
        "valid_from": doc.get("valid_from"), "valid_to": doc.get("valid_to"),
        "successor": doc.get("successor"), "former_parents": doc.get("parents", []),
    }
    if doc.get("kind"):
        region["kind"] = doc["kind"]
    return region


def children(code):
    return [present(doc) for doc in get_db().regions.find({"parent": code}).sort("_id", 1)]


def retired_on(doc, day=None):
    """The last day of a region no longer valid on `day` (default today), else None."""
    valid_to = doc.get("valid_to")
    return valid_to if valid_to and valid_to < (day or today()).isoformat() else None


def current(code, field, level="village"):
    """Region `code` of `level` as it stands today, for a new use (an archive, a transfer,
    a merger), or Invalid keyed by `field` that says why it cannot be used."""
    what = level.capitalize()
    problem = doc = None
    digits = {name: length for length, name in LEVELS.items()}[level]
    if len(code or "") != digits or not ascii_digits(code):
        problem = f"Give a {level} code ({digits} digits)."
    else:
        doc = cache.region(code)
        if doc is None:
            problem = f"There is no {level} {code}; an administrator adds regions with `flask regions import`."
        elif retired_on(doc):
            problem = f"{what} {code} ({doc['name']}) was retired on {doc['valid_to']}" + (
                f"; use {doc['successor']} instead." if doc.get("successor") else ".")
        elif doc.get("valid_from") and doc["valid_from"] > today().isoformat():
            problem = f"{what} {code} ({doc['name']}) is valid from {doc['valid_from']}."
    if problem:
        raise Invalid(problem, {field: [problem]})
    return doc


def custody_of(code):
    """The custody fields (village, township, county: as far as `code` goes down) of region
    `code` as they stand now: a village's township is its current parent."""
    levels = {}
    doc = cache.region(code)
    if doc is None:
        raise NotFound(f"No region {code}.")
    while doc is not None:
        levels[doc["level"]] = doc["_id"]
        doc = cache.region(doc["parent"]) if doc.get("parent") else None
    return levels


def predecessors(township):
    """The townships merged into `township`: their staff's history is its history."""
    return sorted(doc["_id"] for doc in get_db().regions.find({"successor": township}, {"_id": 1}))


def within(prefix):
    """{code: region} of every region whose code starts with `prefix`, itself included."""
    return {doc["_id"]: present(doc) for doc in get_db().regions.find({"_id": prefix_range(prefix)})}


# --- Villages whose custody a merger is moving -----------------------------------------

def claim_villages(move_id, villages):
    """Mark `villages` as being moved by `move_id`, by inserting one lock per village
    (docs/concurrency.md); Conflict naming the move that holds one already."""
    db = get_db()
    taken: list[str] = []
    for village in villages:
        try:
            db.region_locks.insert_one({"_id": village, "move": move_id, "at": now()})
        except DuplicateKeyError:
            holder = db.region_locks.find_one({"_id": village})
            if holder is None or holder["move"] == move_id:
                continue  # released meanwhile (a finished move), or ours from a run before
            release_villages(move_id, taken)
            raise Conflict(f"Village {village} is being moved by {holder['move']}; finish that first.") from None
        taken.append(village)
    cache.forget()


def release_villages(move_id, villages):
    for village in villages:
        get_db().region_locks.delete_one({"_id": village, "move": move_id})
    cache.forget()


def settle():
    """Wait until every service process has read regions and locks again after this one
    changed them: HEALTHREC_REGIONS_CACHE_SECONDS (see `regions.cache`)."""
    time.sleep(current_app.config["REGIONS_CACHE_SECONDS"])


def moving(village):
    """The move under way for `village`, or None."""
    lock = cache.lock(village)
    return lock["move"] if lock else None


def check_settled(village):
    """Conflict while a merger is moving the custody of `village`."""
    move = moving(village)
    if move:
        raise Conflict(f"The archives of village {village} are being handed to another township ({move}); "
                       "try again when the county's administrator has finished.")


def reparent(village, township, effective):
    """Make `township` the parent of `village` from day `effective` on; repeating it changes nothing."""
    db = get_db()
    doc = db.regions.find_one({"_id": village}, {"parent": 1})
    if doc["parent"] == township:
        return
    until = (effective - timedelta(days=1)).isoformat()
    db.regions.update_one({"_id": village, "parent": doc["parent"]},
                          {"$set": {"parent": township}, "$push": {"parents": {"code": doc["parent"], "until": until}}})
    cache.forget()


def retire(code, successor, effective):
    """Region `code` ends the day before `effective`; `successor` takes over what it held."""
    get_db().regions.update_one({"_id": code}, {"$set": {"valid_to": (effective - timedelta(days=1)).isoformat(),
                                                         "successor": successor}})
    cache.forget()


# --- Import ----------------------------------------------------------------------------

COLUMNS = ("code", "name", "population", "year", "kind", "valid_from", "valid_to")


def parse_rows(text, actor=None):
    """Check every row (within the region of `actor`, an administrator on a page); return
    (rows, problems) where problems are (line, reason)."""
    rows: list[dict] = []
    problems: list[tuple[int, str]] = []
    known = {doc["_id"]: doc for doc in get_db().regions.find({}, {"valid_to": 1})}
    rule = current_app.config["VILLAGE_CODES"]
    for number, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not fields or all(not f.strip() for f in fields):
            continue
        if number == 1 and fields[0].strip().lower() == "code":
            continue  # header
        try:
            row = parse_row(fields, known, rule)
        except ValueError as error:
            problems.append((number, str(error)))
            continue
        if actor is not None and (reason := policy.outside(actor, row["_id"])):
            problems.append((number, reason))
            continue
        rows.append(row)
        known.setdefault(row["_id"], {"_id": row["_id"]})
    return rows, problems


def _day(value, name):
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError(f"{name} must be a date YYYY-MM-DD, got {value!r}") from None


def parse_row(fields, known, rule="archive"):
    """One row `code,name,population,year[,kind[,valid_from[,valid_to]]]` checked against
    the regions `known` (by code) and the village-code `rule`."""
    if not 4 <= len(fields) <= len(COLUMNS):
        raise ValueError(f"expected 4 to 7 fields {','.join(COLUMNS)}, got {len(fields)}")
    code, name, population, year, kind, valid_from, valid_to = (
        [f.strip() for f in fields] + [""] * len(COLUMNS))[:len(COLUMNS)]
    level = level_of(code)
    if not name:
        raise ValueError("the name is empty")
    parent = parent_of(code)
    if parent and code not in known:
        if parent not in known:
            raise ValueError(f"parent region {parent} is neither imported nor earlier in the file")
        if retired_on(known[parent]):
            raise ValueError(f"parent region {parent} was retired on {known[parent]['valid_to']}; "
                             "a new region goes under one that is still valid")
    row = {"_id": code, "name": name, "level": level, "parent": parent}
    if level == "village":
        guess = village_kind(code, rule)
        if kind and kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        row["kind"] = kind or guess
    elif kind:
        raise ValueError("kind (urban, rural, other) is given for villages only")
    if valid_from:
        row["valid_from"] = _day(valid_from, "valid_from")
    if valid_to:
        row["valid_to"] = _day(valid_to, "valid_to")
        if valid_from and row["valid_to"] < row["valid_from"]:
            raise ValueError(f"valid_to {valid_to} is before valid_from {valid_from}")
    if population or year:
        if not ascii_digits(population):
            raise ValueError(f"population must be a whole number, got {population!r}")
        if not (ascii_digits(year) and len(year) == 4 and 1949 <= int(year) <= 2100):
            raise ValueError(f"year must be a four-digit year, got {year!r}")
        row["population"] = (year, int(population))
    return row


def import_csv(text, actor=None):
    """All or nothing: if any row is bad, nothing is written and every problem is named.
    `actor` is the administrator importing on a page (None: an operator's command).

    Importing again updates names, kinds, validity dates given and population years; a
    region's parent is set when it is first imported and afterwards only by a merger.
    """
    if actor is not None:
        with refusals(actor, "regions.import"):
            policy.check_import(actor)
    rows, problems = parse_rows(text, actor)
    if problems:
        raise Invalid(
            f"{len(problems)} bad rows; nothing was imported.",
            {f"line {n}": [reason] for n, reason in problems},
            lines=[{"line": n, "reason": reason} for n, reason in problems],
        )
    db = get_db()
    for row in rows:
        changes = {k: v for k, v in row.items() if k not in ("_id", "population", "parent")}
        if "population" in row:
            year, count = row["population"]
            changes[f"population.{year}"] = count
        db.regions.update_one({"_id": row["_id"]}, {"$set": changes, "$setOnInsert": {"parent": row["parent"]}},
                              upsert=True)
    cache.forget()
    if actor is not None:
        record(actor, "regions.import", detail={"rows": len(rows)})
    return len(rows)
