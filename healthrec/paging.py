"""One page of a list, the same for every list: `{items, total, page, per_page}`, newest
or lowest first as the caller sorts. `page` is bounded by the query schemas
(schemas/paging.py), so `skip` never overflows."""

from flask import current_app


def page_of(collection, query, sort, page, per_page, present, projection=None):
    per_page = per_page or current_app.config["PAGE_SIZE"]
    total = collection.count_documents(query)
    docs = collection.find(query, projection).sort(sort).skip((page - 1) * per_page).limit(per_page)
    return {"items": [present(doc) for doc in docs], "total": total, "page": page, "per_page": per_page}


def page_in_hand(items, page, per_page):
    """One page of a list the service has already built in full: for short lists whose
    rows are chosen by a condition no query can state."""
    per_page = per_page or current_app.config["PAGE_SIZE"]
    start = (page - 1) * per_page
    return {"items": items[start:start + per_page], "total": len(items), "page": page, "per_page": per_page}
