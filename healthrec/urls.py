"""What never goes in a URL: a resident's name or ID card number. Web servers, proxies
and browsers keep URLs (access logs, history), so a request carrying either in its query
string is refused before any view reads it; the search that takes them is a POST
(/api/v1/archives/search, and the search page's form)."""

from flask import request

from healthrec.errors import BadRequest

IDENTIFIERS = ("name", "id_card")


def refuse_identifiers():
    """Before every request: no name or ID card in the query string."""
    found = [name for name in IDENTIFIERS if name in request.args]
    if found:
        message = ("A name or ID card number is not taken in a URL, where access logs keep it; search with "
                   "POST /api/v1/archives/search, the filters in the body.")
        raise BadRequest(message, {name: [message] for name in found})
