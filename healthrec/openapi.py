"""What the OpenAPI document says besides each operation's own schemas: the Problem body
of every error answer, the statuses every operation of a kind can answer, and what path
parameters look like. The document is then true enough for clients and fuzzers to make
requests the service takes, and to check every answer, errors included
(tests/test_openapi_fuzz.py).

An operation declares its own answers: its success, and the errors particular to it with
`@blp.alt_response(409, description="…")` — no schema: every answer from 400 up is the
Problem body as application/problem+json. What follows from the operation's shape is added
here, so a new route gets it without a line (docs/api.md, "Errors"):

- every operation: 400 (a NUL character in the path or query, a body that is no usable
  JSON) and 503 (the database does not answer);
- every operation but the public ones (`@blp.doc(security=[])`): 401;
- an operation with path parameters: 404 (nothing by that id), and 422 when one of them is
  an archive or region code that is none;
- an operation on an archive (`{archive_id}` in its path): 403;
- an operation with a body: 413 (over 2 MB), 415 (not JSON);
  `@blp.arguments` adds 422 itself, for a body or a query.
"""

from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin

from healthrec.errors import PROBLEM_JSON
from healthrec.ids import CodeLayout
from healthrec.regions.codes import REGION_PATTERN
from schemas.common import ArchiveId

PROBLEM = {"$ref": "#/components/schemas/Problem"}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before trying again",
                               "schema": {"type": "integer"}}}

EVERY = {
    400: "The request cannot be used: a NUL character in the path or query, or a body that is not usable JSON "
         "(malformed, a lone UTF-16 surrogate, nested too deep)",
    503: "The database does not answer; nothing was saved. Try again after `Retry-After` seconds",
}
AUTHENTICATED = {401: "No valid bearer token: get one at POST /api/v1/auth/token"}
WITH_PATH = {404: "Nothing by that id"}
# Every use of an archive is checked against the user's region, grants and role.
WITH_ARCHIVE = {403: "Outside your region with no grant, or a role that does not use archives: `detail` says "
                     "what you can do instead"}
# Codes in a path are checked as codes: one that is none is an invalid field, not a missing thing.
CODES = ("{archive_id}", "{code}")
WITH_CODE = {422: "Not a code: `errors` says what it should look like"}
WITH_BODY = {
    413: "The body is over 2 MB",
    415: "The body is not sent as application/json",
}

OBJECT_ID = {"type": "string", "pattern": "^[0-9a-f]{24}$", "description": "24 hexadecimal digits"}


def path_parameters(layout):
    """What each path parameter of the API looks like, by name."""
    archive = layout.pattern[1:-1]
    return {
        "archive_id": {"type": "string", "pattern": layout.pattern,
                       "description": f"archive code ({layout.length} digits)"},
        "code": {"type": "string", "pattern": REGION_PATTERN,
                 "description": "region code: county (6 digits), township (9) or village (12)"},
        "contract_id": {"type": "string", "pattern": f"^{archive}-[0-9]{{3}}$",
                        "description": "archive code, '-' and the contract's number (001, 002, …)"},
        "transfer_id": {"type": "string", "pattern": f"^{archive}-[1-9][0-9]{{0,5}}$",
                        "description": "archive code, '-' and the attempt (1, 2, …)"},
        "record_id": OBJECT_ID,
        "request_id": OBJECT_ID,
        "opening_id": OBJECT_ID,
        "sample_id": OBJECT_ID,
        "team_id": OBJECT_ID,
    }


class Answers(BasePlugin):
    """The apispec plugin that completes each path of the document."""

    def __init__(self, layout: CodeLayout):
        self.layout = layout
        self.parameters = path_parameters(layout)

    def init_spec(self, spec):
        pattern = self.layout.pattern

        def archive_code_pattern(converter, field, **kwargs):
            # ArchiveId checks the site's layout, which a pattern fixed in the schema cannot know.
            return {"pattern": pattern} if isinstance(field, ArchiveId) else {}

        for plugin in spec.plugins:
            if isinstance(plugin, MarshmallowPlugin) and plugin.converter:
                plugin.converter.add_attribute_function(archive_code_pattern)

    def path_helper(self, path=None, operations=None, parameters=None, **kwargs):
        for parameter in parameters or ():
            if isinstance(parameter, dict) and parameter.get("in") == "path" and parameter["name"] in self.parameters:
                parameter["schema"] = dict(self.parameters[parameter["name"]])

    def operation_helper(self, path=None, operations=None, rule=None, **kwargs):
        for operation in (operations or {}).values():
            # The Flask endpoint: links name the operations they lead to by it.
            operation.setdefault("operationId", rule.endpoint)
            responses = {str(status): answer for status, answer in operation.get("responses", {}).items()}
            kinds = [EVERY]
            if operation.get("security") != []:
                kinds.append(AUTHENTICATED)
            if "{" in path:
                kinds.append(WITH_PATH)
            if "{archive_id}" in path:
                kinds.append(WITH_ARCHIVE)
            if any(code in path for code in CODES):
                kinds.append(WITH_CODE)
            if "requestBody" in operation:
                kinds.append(WITH_BODY)
            for kind in kinds:
                for code, description in kind.items():
                    responses.setdefault(str(code), {"description": description})
            for status, answer in responses.items():
                if status.isdigit() and int(status) >= 400 and isinstance(answer, dict) and "content" not in answer:
                    answer["content"] = {PROBLEM_JSON: {"schema": PROBLEM}}
                if status in ("429", "503") and isinstance(answer, dict):
                    answer.setdefault("headers", RETRY_AFTER)
            operation["responses"] = dict(sorted(responses.items()))


def links(status, targets):
    """`@blp.doc(**links(201, {endpoint: {parameter: expression}}))`: the operations an
    answer leads to, and what each takes from it (OpenAPI links) — a client's next steps,
    and the paths the stateful fuzzer walks."""
    return {"responses": {status: {"links": {
        endpoint: {"operationId": endpoint, "parameters": parameters} for endpoint, parameters in targets.items()}}}}
