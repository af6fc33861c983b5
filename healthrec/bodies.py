"""What a request body must be before any view reads it.

JSON that Python parses but nothing after it can use is refused at the door with a 400
that says why, instead of a 500 somewhere deeper: a lone UTF-16 surrogate ("\\ud800")
parses into a string that no database or hash can encode, and deep nesting exhausts the
parser's recursion; the NUL character (U+0000) is text that PostgreSQL under the dev
database cannot store or even compare, and no field means it, in an API body, a page's
form, a path or a query string. API calls that send a body must send it as JSON (415
otherwise), so a form-encoded body is never silently read as "no fields".
"""

from flask import current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

MAX_DEPTH = 32  # the deepest form (a checkup's nested findings) is far below this
NUL = "\x00"
NUL_PROBLEM = "a string holds the NUL character (\\u0000), which no field takes; leave it out"


class StrictJSONProvider(DefaultJSONProvider):
    def loads(self, s, **kwargs):
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError(f"the JSON is nested more than {MAX_DEPTH} levels deep") from None
        problem = _problem(value)
        if problem:
            raise ValueError(problem)
        return value


def _problem(value):
    """Why a parsed JSON value is unusable, or None."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"the JSON is nested more than {MAX_DEPTH} levels deep"
        if isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "a string holds a lone UTF-16 surrogate (\\ud800-\\udfff); send valid Unicode text"
            if NUL in item:
                return NUL_PROBLEM
    return None


def check():
    """Before every request: an API body is JSON, and JSON that can be used; the path,
    query string and a page's form hold no NUL."""
    if NUL in request.path or any(NUL in name or NUL in value for name, value in request.args.items(multi=True)):
        raise BadRequest(f"The address cannot be used: {NUL_PROBLEM}.")
    if not request.path.startswith("/api/"):
        if request.method == "POST" and any(NUL in name or NUL in value
                                            for name, value in request.form.items(multi=True)):
            raise BadRequest(f"The form cannot be used: {NUL_PROBLEM}.")
        return
    if request.method in ("POST", "PUT", "PATCH") and request.content_length:
        if not request.is_json:
            raise UnsupportedMediaType("Send the body as JSON with 'Content-Type: application/json'.")
        try:
            current_app.json.loads(request.get_data(cache=True))
        except ValueError as error:
            raise BadRequest(f"The body cannot be used: {error}.") from None
