"""Property-based fuzzing of every operation in the live OpenAPI document (schemathesis):
no answer is a server error, and every answer, errors included, has a status code, a
content type and a body that the document declares for that operation. A client can then
rely on the document, and a fuzzer that follows it makes requests the service takes.

Each operation is called mostly with the token of a role that may use it (otherwise with
another's, whose refusal must be documented too), and half of the ids a path asks for are
ones that exist (an archive, its record, a team, a contract, an access request, an
emergency opening, a transfer, a sample), so the cases reach the service's rules rather
than stopping at 404. The stateful test walks the document's links: create
an archive, then read, change, close it, add records, read and amend them."""

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.stateful import run_state_machine_as_test
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from healthrec.db import client_for
from healthrec.ids import CodeLayout
from tests import factories

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Bounded so the module stays within about a minute and a half on two shared cores.
EXAMPLES = 15
QUIET = settings(deadline=None, suppress_health_check=list(HealthCheck), database=None, print_blob=True)

SUPERVISED = ("/api/v1/metrics", "/api/v1/audit/counts", "/api/v1/break-glass/counts")
# Mostly a role that may use the operation (None); otherwise another, whose 403 must be documented too.
WHO = st.sampled_from([None, None, None, "doc", "far", "sup", "staff", "admin"])


def test_the_document_answers_every_error_with_a_problem_and_names_the_site_layout(client, app):
    spec = client.get("/api/v1/openapi.json").get_json()
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert spec["components"]["schemas"]["Problem"]["properties"]["status"]["type"] == "integer"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            answers = operation["responses"]
            assert "default" not in answers and {"400", "503"} <= set(answers), (method, path)
            for status, answer in answers.items():
                if int(status) >= 400:
                    name = answer.get("$ref", "").rpartition("/")[2]
                    assert (spec["components"]["responses"][name] if name else answer)["content"] == problem
    archive = spec["paths"]["/api/v1/archives/{archive_id}"]["parameters"][0]["schema"]["pattern"]
    assert archive == CodeLayout(app.config["ARCHIVE_SERIAL_DIGITS"], app.config["VILLAGE_CODES"]).pattern
    assert re.fullmatch(archive, factories.code(1)) and not re.fullmatch(archive, factories.code(1) + "0")
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}


@pytest.fixture(scope="module")
def county(devdb, keys):
    """An app with a user of every role and one of each thing the API keeps."""
    app = factories.fresh_app(devdb.uri, keys)
    client = app.test_client()
    tokens = {}
    for name in ("staff", "doc", "sup", "urban_doc", "far", "admin"):
        role, region = factories.CAST[name]
        factories.make_user(app, name, role, region)
        tokens[name] = factories.bearer(client, name)
    archive_id = factories.make_archive(client, tokens["doc"])
    team = factories.make_team(client, tokens["staff"], members=("doc",), lead="staff")
    opened = client.post(f"/api/v1/archives/{archive_id}/break-glass", headers=tokens["urban_doc"],
                         json={"reason": "急诊抢救,患者昏迷"})
    transfer = factories.ask_transfer(client, tokens["urban_doc"], archive_id, factories.URBAN)
    existing = {
        "archive_id": archive_id,
        "record_id": factories.make_record(client, tokens["doc"], archive_id, factories.checkup())["id"],
        "team_id": team,
        "contract_id": factories.make_contract(client, tokens["staff"], archive_id, team)["id"],
        "request_id": factories.file_request(client, tokens["sup"], archive_id)["id"],
        "opening_id": opened.get_json()["id"],
        "transfer_id": transfer.get_json()["id"],
        "sample_id": factories.draw_sample(client, tokens["sup"], factories.COUNTY, 1)["id"],
    }
    yield app, tokens, existing
    client_for(devdb.uri).drop_database(app.config["DB_NAME"])


def headers_for(case, app, tokens, who=None):
    """The bearer token of `who`, by default of a role that may use the operation."""
    if case.method == "DELETE" and case.path == "/api/v1/auth/token":
        # It revokes the token it is sent: a token of its own each time.
        return factories.bearer(app.test_client(), "staff")
    if case.path == "/api/v1/auth/token":
        return {}
    return tokens[who or ("sup" if case.path.startswith(SUPERVISED) else "staff")]


@pytest.fixture(scope="module")
def api_schema(county):
    app, _, existing = county
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        # Either what was generated (almost always no such thing: 404) or what exists.
        if not path_parameters:
            return st.just(path_parameters)
        known = {name: existing[name] for name in path_parameters if name in existing}
        return st.sampled_from([path_parameters, {**path_parameters, **known}])

    @schema.hook
    def flatmap_body(context, body):
        # A generated archive is refused (no such village, an ID card whose check digit is
        # wrong): half are a new resident's, so the links from a new archive are walked.
        if context.operation.label != "POST /api/v1/archives":
            return st.just(body)
        return st.one_of(st.just(body), st.integers(1, 20_000).map(factories.resident))

    return schema


def test_every_operation_answers_as_documented(api_schema, county):
    app, tokens, _ = county
    failures = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 50

    for operation in operations:
        @given(case=operation.as_strategy(), who=WHO)
        @settings(QUIET, max_examples=EXAMPLES, phases=[Phase.explicit, Phase.generate])
        def fuzz(case, who):
            case.call_and_validate(headers=headers_for(case, app, tokens, who), checks=CHECKS)

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as error:  # each operation's failures, all reported at the end
            failures[operation.label] = error
    assert not failures, "\n\n".join(f"{label}: {error}" for label, error in failures.items())


def test_links_from_a_new_archive_answer_as_documented(county):
    app, tokens, _ = county

    residents = iter(range(20_001, 24_000))  # born 2012-2023, each with a card of their own
    made, followed = set(), []

    # Without the hooks above: what a walk does must follow from what it drew and the
    # answers to its own steps, never from things earlier walks changed.
    archives = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app).include(path_regex="^/api/v1/archives")

    class Flow(archives.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case):
            if case.operation.label == "POST /api/v1/archives":
                case.body = factories.resident(next(residents))  # each walk starts from an archive made
            elif (case.path_parameters or {}).get("archive_id") in made:
                followed.append(case.operation.label)
            # Instead of the bearer token generated from the security scheme.
            case.headers = {**(case.headers or {}), **headers_for(case, app, tokens)}

        def after_call(self, response, case):
            super().after_call(response, case)
            if case.operation.label == "POST /api/v1/archives" and response.status_code == 201:
                made.add(response.json()["id"])

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS)

    run_state_machine_as_test(Flow, settings=settings(QUIET, max_examples=15, stateful_step_count=5))
    assert made and followed  # archives were made, and the links from them walked
