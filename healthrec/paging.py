"""One page of a list, the same for every list: `{items, total, page, per_page}`, newest
or lowest first as the caller sorts. `page` is bounded by the query schemas
(schemas/paging.py), so `skip` never overflows.

Each page costs one query, plus one count only when it is needed: `total` counts the same
query the page was read with, which leads with an equality on a stored field
(docs/database.md), so the count reads only the matching documents; a page that is not
full is the last one, and then the total follows from it. A list that belongs to one
resident (a timeline: a few hundred records in a lifetime) is read whole and cut here,
which never needs a count.
"""

import heapq

from flask import current_app


def _known_total(docs, skip, limit):
    """The total when `docs` (read from `skip` on, at most `limit`) show the list's end."""
    return skip + len(docs) if 0 < len(docs) < limit or (skip == 0 and not docs) else None


def page_of(collection, query, sort, page, per_page, present, projection=None, whole=False):
    per_page = per_page or current_app.config["PAGE_SIZE"]
    skip = (page - 1) * per_page
    cursor = collection.find(query, projection).sort(sort)
    if whole:
        docs = list(cursor.batch_size(1000))
        total, docs = len(docs), docs[skip:skip + per_page]
    else:
        docs = list(cursor.skip(skip).limit(per_page).batch_size(per_page))
        total = _known_total(docs, skip, per_page)
        if total is None:
            total = collection.count_documents(query)
    return {"items": [present(doc) for doc in docs], "total": total, "page": page, "per_page": per_page}


def page_of_union(collection, queries, sort, page, per_page, present):
    """One page of the documents any of `queries` matches, where no document matches two
    of them: each query leads with its own equality, as FerretDB hands no `$or` to its
    backend. Each is read up to the page's end and the results merged; `sort` keys must
    all go the same way."""
    per_page = per_page or current_app.config["PAGE_SIZE"]
    skip, end = (page - 1) * per_page, page * per_page
    keys, directions = zip(*sort, strict=True)
    assert len(set(directions)) == 1, "a merge needs every sort key in one direction"
    parts = [list(collection.find(query).sort(sort).limit(end).batch_size(end)) for query in queries]
    merged = heapq.merge(*parts, key=lambda doc: [doc[key] for key in keys], reverse=directions[0] < 0)
    docs = list(merged)[skip:end]
    total = 0
    for query, part in zip(queries, parts, strict=True):
        known = _known_total(part, 0, end)
        total += collection.count_documents(query) if known is None else known
    return {"items": [present(doc) for doc in docs], "total": total, "page": page, "per_page": per_page}


def page_in_hand(items, page, per_page):
    """One page of a list the service has already built in full: for short lists whose
    rows are chosen by a condition no query can state."""
    per_page = per_page or current_app.config["PAGE_SIZE"]
    start = (page - 1) * per_page
    return {"items": items[start:start + per_page], "total": len(items), "page": page, "per_page": per_page}
