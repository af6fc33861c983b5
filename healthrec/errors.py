"""Domain errors raised by services, and the one handler that turns them into answers.

The API answers application/problem+json (RFC 9457); web pages get an error page.
"""

from flask import current_app, jsonify, render_template, request
from pymongo.errors import ConnectionFailure
from werkzeug.exceptions import HTTPException

PASSED_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")
PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail, **extra):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
        self.headers = {}


class Invalid(DomainError):
    status = 422
    title = "Invalid input"

    def __init__(self, detail, errors=None, **extra):
        super().__init__(detail, **extra)
        if errors:
            self.extra["errors"] = errors


class BadRequest(Invalid):
    """A request refused before any view reads it, with `errors` keyed by field."""

    status = 400
    title = "Bad request"


class Unauthorized(DomainError):
    status = 401
    title = "Authentication required"

    def __init__(self, detail):
        super().__init__(detail)
        self.headers["WWW-Authenticate"] = 'Bearer realm="healthrec"'


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class PreconditionFailed(DomainError):
    status = 412
    title = "Precondition failed"


class PreconditionRequired(DomainError):
    status = 428
    title = "Precondition required"


class TooManyRequests(DomainError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail, retry_after):
        super().__init__(detail)
        self.headers["Retry-After"] = str(int(retry_after))


def dotted(messages, prefix=""):
    """Marshmallow's {"general": {"weight": [...]}} as {"general.weight": [...]}: one key
    per field, nested fields and list items by their dotted path."""
    if not isinstance(messages, dict):
        return {prefix.rstrip(".") or "_body": messages}
    out = {}
    for key, value in messages.items():
        if isinstance(value, dict):
            out.update(dotted(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def field_errors(messages):
    """Flatten webargs' {location: {field: [...]}} into {dotted field path: [...]}."""
    errors = {}
    for location, fields in (messages or {}).items():
        if isinstance(fields, dict):
            errors.update(dotted(fields))
        else:
            errors[location] = fields
    return errors


def problem(status, title, detail, headers=None, **extra):
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update(extra)
    if wants_html():
        response = current_app.make_response(
            (render_template("error.html", problem=body), status)
        )
    else:
        response = jsonify(body)
        response.status_code = status
        response.mimetype = PROBLEM_JSON
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def wants_html():
    return not request.path.startswith("/api/") and request.path not in ("/healthz", "/readyz")


def from_domain_error(error):
    return problem(error.status, error.title, error.detail, error.headers, **error.extra)


def from_http_exception(error):
    extra = {}
    data = getattr(error, "data", None) or {}
    if data.get("messages"):
        extra["errors"] = field_errors(data["messages"])
    detail = error.description
    if error.code == 422 and extra.get("errors"):
        detail = "Some fields are invalid: " + ", ".join(sorted(extra["errors"]))
    headers = {
        name: value for name, value in error.get_headers() if name in PASSED_HEADERS
    }
    return problem(error.code, error.name, detail, headers, **extra)


# A write cut off by the database may have landed before it failed: only a read can say
# that nothing changed.
READ_DOWN = "The database does not answer; nothing was changed. Try again shortly."
WRITE_DOWN = ("The database stopped answering during this request, so it may or may not have been applied. "
              "Try again shortly, unchanged and with the same Idempotency-Key: what was applied is then "
              "answered, and nothing is applied twice.")


def from_database_down(error):
    current_app.logger.warning("database unavailable: %s", error)
    detail = READ_DOWN if request.method in ("GET", "HEAD", "OPTIONS") else WRITE_DOWN
    return problem(503, "Service unavailable", detail, {"Retry-After": "5"})


def from_unexpected(error):
    current_app.logger.exception("unhandled error")
    return problem(500, "Internal server error", "Something went wrong; the error was logged.")


def register(app):
    app.register_error_handler(DomainError, from_domain_error)
    app.register_error_handler(HTTPException, from_http_exception)
    app.register_error_handler(ConnectionFailure, from_database_down)
    app.register_error_handler(Exception, from_unexpected)
