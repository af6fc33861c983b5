"""The plan's indicators (plan §五.三) of a region and of each region one level down,
as of a day: coverage, completeness, usage, qualified, authenticity and contract rates,
coverage targets, and the key populations' management.

A whole county takes a fixed number of queries, whatever its size: one pipeline over the
archives, three over the records, one over the sample results, the family-doctor
contracts' counts and one read of the regions. Each pipeline starts with a `$match` on a
custody field and a date, served by a declared index, and has at most one `$group` with
one accumulator (docs/database.md). Archives and records meet in Python, by archive id, so
that an archive counts only where it was archived on the day asked for: established on or
before it and not closed by then. Counts are kept per village and summed upwards; rates
are computed last (`rates`).
"""

from collections import Counter, defaultdict
from datetime import date, timedelta

from flask import current_app

from healthrec.archives import service as archives
from healthrec.archives.custody import custody_query
from healthrec.archives.rules import CHRONIC, ELDERLY_AGE, age_on
from healthrec.audit.log import refusals
from healthrec.clock import today
from healthrec.contracts import service as contracts
from healthrec.db import get_db
from healthrec.errors import Invalid, NotFound
from healthrec.metrics import policy, samples
from healthrec.metrics.rates import coverage_target, figures
from healthrec.records import worklists
from healthrec.regions import service as regions

LEVELS = {2: "province", 4: "prefecture", 6: "county", 9: "township", 12: "village"}
# "Within the last year": records dated from this many days before the day asked for up to
# that day, both included.
YEAR_DAYS = 365
# Standardised management of hypertension and diabetes: face-to-face follow-ups (at the
# clinic or at home; a phone call is not one) on at least this many days within the year.
FACE_TO_FACE = ("clinic", "home")
STANDARD_FOLLOWUPS = 4
CONTROLLED = "satisfactory"
PARTS = ("urban", "rural")
EARLIEST = date(1900, 1, 1)  # the first day figures can be asked for

# What the census reads of each archive: the flags only as keyed tokens, matched without
# decrypting anything.
ARCHIVE_FIELDS = {"village": 1, "completeness.complete": 1, "closed.date": 1, "birth_date": 1,
                  "key_population_bi": 1}


def coverage(user, region=None, as_of=None, period=None):
    """The indicators of `region` (default: the user's) and of each region one level down,
    as of the day `as_of` (default today), with sample results checked in `period`, a
    (first day, last day) pair (default: 1 January of `as_of`'s year to `as_of`)."""
    region = region or user.region
    with refusals(user, "metrics.coverage", region=region):
        policy.check_indicators(user, region, regions.custody_of(region) if len(region) > 6 else {})
    as_of = as_of or today()
    if as_of > today():
        message = f"as_of lies in the future; give today ({today().isoformat()}) or an earlier day."
        raise Invalid(message, {"as_of": [message]})
    if as_of < EARLIEST:
        # Nobody was archived then, and ages counted back from such a day leave the calendar.
        message = f"as_of lies before {EARLIEST.isoformat()}; give a day since."
        raise Invalid(message, {"as_of": [message]})
    period = period or (date(as_of.year, 1, 1), as_of)
    start = current_app.config["PROGRAMME_START_YEAR"]
    tree = Tree(region, as_of)
    table = Table(tree, census(region, as_of, period), as_of.year, start)
    return {
        "as_of": as_of, "period": {"from": period[0], "to": period[1]},
        "programme_year": as_of.year - start + 1 if as_of.year >= start else None,
        "basis": {"usage_rate": "all", "qualified_rate": "samples", "authenticity_rate": "samples"},
        **table.row(region), "children": [table.row(code) for code in tree.children(region)],
    }


def census(region, as_of, period):
    """{village: Counter} of everything the indicators count, for the archives in custody
    under `region` that were archived on `as_of`."""
    counts: dict[str, Counter] = defaultdict(Counter)
    archived: dict[str, str] = {}  # archive id -> village
    elderly: set[str] = set()
    flagged: dict[str, set[str]] = {population: set() for population in CHRONIC}
    pipeline = [{"$match": {**custody_query(region), "established_on": {"$lte": as_of.isoformat()}}},
                {"$project": ARCHIVE_FIELDS}]
    for doc in get_db().archives.aggregate(pipeline):
        closed = doc.get("closed", {}).get("date")
        if closed and closed <= as_of.isoformat():
            continue
        tally = counts[doc["village"]]
        archived[doc["_id"]] = doc["village"]
        tally["archived"] += 1
        tally["complete"] += int(bool(doc.get("completeness", {}).get("complete")))
        if age_on(date.fromisoformat(doc["birth_date"]), as_of) >= ELDERLY_AGE:
            elderly.add(doc["_id"])
            tally["elderly"] += 1
        for population in CHRONIC:
            if archives.has_population(doc, population):
                flagged[population].add(doc["_id"])
                tally[population] += 1

    year_ago = as_of - timedelta(days=YEAR_DAYS)
    for archive_id in worklists.archives_with_service_since(region, year_ago, as_of) & archived.keys():
        counts[archived[archive_id]]["active"] += 1
    for archive_id in worklists.archives_with_checkup(region, date(as_of.year, 1, 1), as_of) & elderly:
        counts[archived[archive_id]]["elderly_checked_up"] += 1
    for (archive_id, population), followups in worklists.chronic_followups(region, year_ago, as_of).items():
        if archive_id in flagged[population]:
            counts[archived[archive_id]].update(managed(population, followups))
    for village, tally in samples.tally(region, *period).items():
        counts[village].update(tally)
    for village, contracted in contracts.contracted_by_village(region, as_of).items():
        counts[village]["contracted"] += contracted["contracted"]
    return counts


def managed(population, followups):
    """The counts one managed patient adds, from their follow-ups of the year as
    (date, method, control): standardised with enough face-to-face days, controlled when
    every follow-up of the last day says so."""
    days = {day for day, method, _control in followups if method in FACE_TO_FACE}
    last = max(day for day, _method, _control in followups)
    return Counter({
        f"{population}_managed": 1,
        f"{population}_standardised": int(len(days) >= STANDARD_FOLLOWUPS),
        f"{population}_controlled": int(all(control == CONTROLLED for day, _m, control in followups
                                            if day == last)),
    })


class Tree:
    """The regions under the one asked for, with their population in `year`. Townships and
    villages hang from their current parent, so after a merger a village counts under the
    township it was handed to, whatever its code says; a region retired before the day
    asked for is left out."""

    def __init__(self, region, as_of):
        # A village handed to another township keeps its code, so a township's villages
        # are looked for in its whole county.
        found = regions.within(region if len(region) <= 6 else region[:6])
        if len(region) in (2, 4):
            if not any(doc["level"] == "county" for doc in found.values()):
                raise NotFound(f"No county has a code starting with {region}.")
        elif region not in found:
            raise NotFound(f"No region {region}.")
        day = as_of.isoformat()
        self.regions = {code: doc for code, doc in found.items()
                        if code == region or not (doc.get("valid_to") and doc["valid_to"] < day)}
        self.year = str(as_of.year)

    def children(self, code):
        if len(code) in (2, 4):
            return sorted(child for child in self.regions if len(child) == 6 and child.startswith(code))
        return sorted(child for child, doc in self.regions.items() if doc.get("parent") == code)

    def villages(self, code, kind=None):
        """The villages under `code` now (of `kind` when given)."""
        if len(code) == 12:
            found = [code]
        elif len(code) == 9:
            found = self.children(code)
        else:
            found = [village for village in self.regions if len(village) == 12 and village.startswith(code)]
        return [village for village in found if kind is None or self.regions[village].get("kind") == kind]

    def population(self, code):
        """Its own figure for the year, else the sum of its children's; None when a figure is missing."""
        own = self.regions.get(code, {}).get("population", {}).get(self.year)
        if own is not None or len(code) == 12:
            return own
        return total([self.population(child) for child in self.children(code)])


def total(populations):
    return None if not populations or None in populations else sum(populations)


class Table:
    """The rows of the answer: a region's figures, and for a township or wider region its
    urban and rural parts, each against its own coverage target."""

    def __init__(self, tree, counts, year, start_year):
        self.tree, self.counts, self.year, self.start_year = tree, counts, year, start_year

    def sum(self, villages):
        return sum((self.counts[village] for village in villages if village in self.counts), Counter())

    def row(self, code):
        doc = self.tree.regions.get(code, {})
        head = {"region": code, "name": doc.get("name"), "level": LEVELS[len(code)]}
        if len(code) == 12:
            kind = doc.get("kind")
            goal = coverage_target(kind, self.year, self.start_year)
            return {**head, "kind": kind, **figures(self.tree.population(code), self.sum([code]), goal),
                    "urban": None, "rural": None}
        parts = {kind: self.part(code, kind) for kind in PARTS}
        row = {**head, "kind": None, **figures(self.tree.population(code), self.sum(self.tree.villages(code))),
               **parts}
        # A mixed region meets its targets when each part with a target meets its own.
        verdicts = [part["target"]["met"] for part in parts.values() if part and part["target"]["met"] is not None]
        row["target"] = {"rate": None, "met": all(verdicts) if verdicts else None}
        return row

    def part(self, code, kind):
        villages = self.tree.villages(code, kind)
        if not villages:
            return None
        population = total([self.tree.population(village) for village in villages])
        return figures(population, self.sum(villages), coverage_target(kind, self.year, self.start_year))
