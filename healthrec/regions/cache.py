"""Regions, and the locks a merger holds on villages, as this process last read them.

Most requests check a region or need a village's township (a new archive's custody, an
audit entry's chain, a list's scope), and regions change only by `flask regions import`
and by a merger, both in processes of their own. So each service process keeps what it
read for HEALTHREC_REGIONS_CACHE_SECONDS (default 60):

- a region it has not read is looked up at once, so a newly imported village can be used
  in every process straight away; a changed name, population, validity or parent reaches
  the other processes within those seconds, and the process that changed it forgets its
  copies at once;
- a merger keeps its villages locked that long before it moves anything and again before
  it unlocks them (`custody.mergers`), so no process files a new archive under a township
  it no longer knows to be wrong, nor sees a village unlocked that a merger is moving.
"""

from datetime import timedelta

from flask import current_app

from healthrec.clock import now
from healthrec.db import get_db


def _kept(collection, key, keep_missing):
    kept = current_app.extensions.setdefault("healthrec.regions_cache", {})
    at, db = now(), get_db()
    entry = kept.get((db.name, collection, key))
    if entry is None or entry[1] <= at - timedelta(seconds=current_app.config["REGIONS_CACHE_SECONDS"]):
        doc = db[collection].find_one({"_id": key})
        if doc is None and not keep_missing:
            return None
        entry = kept[(db.name, collection, key)] = (doc, at)
    return entry[0]


def region(code):
    """The region document `code`, or None (not kept: a region imported meanwhile is found)."""
    return _kept("regions", code, keep_missing=False)


def lock(village):
    """The lock a merger holds on `village`, or None."""
    return _kept("region_locks", village, keep_missing=True)


def forget():
    """Drop what this process kept, after it changed regions or locks itself."""
    current_app.extensions.setdefault("healthrec.regions_cache", {}).clear()
