"""The security matrix and the web's defences.

The matrix walks every route of the app (from its URL map) with every user of
factories.CAST and without one, on a county where each kind of thing exists once: an
archive of VILLAGE with a referral, an access request, an emergency opening, a team and a
contract, a verification sample and a transfer. EXPECTED says for each route who may use
it on those things; everyone else must be refused (403 or 404) — or, from a list, get
only what is theirs — and nobody an error (5xx). A route missing from EXPECTED fails the
matrix: a new endpoint needs its line there (see Expect).
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from healthrec.clock import now
from tests import factories
from tests.factories import (
    CAST,
    PASSWORD,
    SELF_SIGNED,
    TOWNSHIP,
    URBAN,
    VILLAGE,
    days_ago,
    file_request,
    make_archive,
    make_contract,
    make_record,
    make_team,
    record_body,
    resident,
)

# Who is who (factories.CAST): the archive's clinicians, the other users.
CLINICIANS = frozenset({"doc", "staff", "staff2"})
STAFF = frozenset({"staff", "staff2"})
# Clinicians of other villages and townships of its county (who may open it in an
# emergency; "far", of another county, may not), and of the village it is being
# transferred to.
EMERGENCY_OPENERS = frozenset({"doc2", "urban_doc", "town2"})
RECEIVING = frozenset({"urban_doc", "town2"})
EVERYONE = frozenset(CAST)
ADMINS = frozenset({"admin"})
NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Expect:
    """Who may use a route on the world's things.

    `ok`: the CAST names served (2xx, or a page's redirect); everyone else is refused
    (`refusals`: 403, 404). A `listing` (a list, a search, a blank form) answers everyone
    with what is theirs. Either way nobody outside `ok` sees the resident's name or ID
    card. `body` (world -> JSON or form data) is a valid request, so that a refusal
    comes from who asks, not from what they sent; writes are sent only by those who must
    be refused (the domain tests make them succeed), with the ETag of the thing when
    `if_match`. `public` routes answer without a user; `params` fill path parameters the
    world does not name, `query` the query string ("{name}" takes the world's).
    """

    ok: frozenset = NOBODY
    listing: bool = False
    body: object = None
    public: bool = False
    params: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)
    if_match: bool = False
    refusals: tuple = (403, 404)


def PUBLIC(**params):
    return Expect(public=True, params=params)


def ARCHIVE_FORM(n):
    """A new archive of VILLAGE as the page's form sends it."""
    body = resident(n)
    return {"village_code": VILLAGE, "name": body["name"], "sex": "female", "birth_date": body["birth_date"],
            "id_card": body["id_card"], "enrolment_consent.given_by": "self",
            "enrolment_consent.method": "signature"}


CLOSE = {"reason": "other", "date": days_ago(0), "note": "测试"}
TRANSFER = {"to_village": URBAN, "reason": "随子女迁居", "moved_on": days_ago(3)}
EMERGENCY = {"reason": "急诊昏迷,需查既往史"}
AMEND = {"changes": {"reason": "血压控制不佳,复查"}, "reason": "录入错误"}

EXPECTED = {
    # The service, its documents and files, the language, signing in and out
    "GET /healthz": PUBLIC(),
    "GET /readyz": PUBLIC(),
    "GET /api/v1/openapi.json": PUBLIC(),
    "GET /api/docs": PUBLIC(),
    "GET /api/docs/assets/<path:filename>": PUBLIC(filename="swagger-ui.css"),
    "GET /assets/<path:filename>": PUBLIC(filename="app.css"),
    "GET /static/<path:filename>": PUBLIC(filename="app.css"),
    "GET /lang/<code>": PUBLIC(code="en"),
    "GET /login": PUBLIC(),
    "POST /login": PUBLIC(),
    "POST /api/v1/auth/token": PUBLIC(),
    "DELETE /api/v1/auth/token": Expect(ok=EVERYONE),
    "GET /api/v1/auth/me": Expect(ok=EVERYONE),
    "POST /logout": Expect(ok=EVERYONE),
    "GET /api/v1/regions/<code>": Expect(ok=EVERYONE),

    # Archives and records
    "POST /api/v1/archives": Expect(ok=CLINICIANS, body=lambda w: resident(7)),
    "GET /api/v1/archives": Expect(ok=CLINICIANS, listing=True),
    "POST /api/v1/archives/search": Expect(ok=CLINICIANS, listing=True, body=lambda w: {}),
    "GET /api/v1/archives/<archive_id>": Expect(ok=CLINICIANS),
    "PATCH /api/v1/archives/<archive_id>": Expect(ok=CLINICIANS, body=lambda w: {"phone": "13900000000"},
                                                  if_match=True),
    "POST /api/v1/archives/<archive_id>/close": Expect(ok=CLINICIANS, body=lambda w: CLOSE),
    "POST /api/v1/archives/<archive_id>/review": Expect(
        ok=STAFF, body=lambda w: {"verdict": "needs_correction", "note": "补充既往史"}),
    "GET /api/v1/archives/<archive_id>/records": Expect(ok=CLINICIANS),
    "POST /api/v1/archives/<archive_id>/records": Expect(ok=CLINICIANS, body=lambda w: record_body("encounter")),
    "POST /api/v1/archives/<archive_id>/records/batch": Expect(
        ok=CLINICIANS, body=lambda w: {"records": [record_body("encounter")]}),
    "GET /api/v1/archives/<archive_id>/records/<record_id>": Expect(ok=CLINICIANS),
    "POST /api/v1/archives/<archive_id>/records/<record_id>/amend": Expect(ok=CLINICIANS, body=lambda w: AMEND),
    # The referral goes to the township: its staff receive it.
    "POST /api/v1/archives/<archive_id>/records/<record_id>/receive": Expect(ok=STAFF, body=lambda w: {}),
    "GET /api/v1/followups/due": Expect(ok=CLINICIANS, query={"village": VILLAGE}),
    "GET /api/v1/followups/urgent": Expect(ok=CLINICIANS, listing=True),
    "GET /api/v1/referrals/incoming": Expect(ok=STAFF, listing=True),

    # Access beyond scope: requests, consent, emergency openings
    "POST /api/v1/access-requests": Expect(ok=EVERYONE - {"admin"}, body=lambda w: {
        "archive_id": w["archive_id"], "purpose": "质量抽查", "application": "申请查阅", "days": 7}),
    "GET /api/v1/access-requests": Expect(ok=CLINICIANS | {"sup"}, listing=True),
    "GET /api/v1/access-requests/<request_id>": Expect(ok=CLINICIANS | {"sup"}),
    "POST /api/v1/access-requests/<request_id>/decision": Expect(ok=STAFF, body=lambda w: {"decision": "approve"}),
    "POST /api/v1/access-requests/<request_id>/consent": Expect(ok=CLINICIANS, body=lambda w: SELF_SIGNED),
    "POST /api/v1/access-requests/<request_id>/revoke": Expect(ok=STAFF | {"sup"}, body=lambda w: {}),
    "GET /api/v1/archives/<archive_id>/consents": Expect(ok=CLINICIANS),
    "POST /api/v1/archives/<archive_id>/consents": Expect(ok=CLINICIANS, body=lambda w: SELF_SIGNED),
    # Clinicians outside the archive's region, in its county, may open it in an emergency.
    # (Within one's own region there is nothing to open: 409; another county's: 404.)
    "POST /api/v1/archives/<archive_id>/break-glass": Expect(ok=EMERGENCY_OPENERS, body=lambda w: EMERGENCY,
                                                             refusals=(403, 404, 409)),
    "GET /api/v1/break-glass": Expect(ok=STAFF, listing=True),
    "GET /api/v1/break-glass/alerts": Expect(ok=STAFF | {"sup"}, listing=True),
    "GET /api/v1/break-glass/counts": Expect(ok=frozenset({"sup"})),
    "POST /api/v1/break-glass/<opening_id>/acknowledge": Expect(ok=STAFF, body=lambda w: {}),

    # Family-doctor teams and contracts (the doctor is in the team)
    "POST /api/v1/teams": Expect(ok=STAFF, body=lambda w: {"township": TOWNSHIP, "name": "第二团队",
                                                           "lead": "staff", "members": []}),
    "GET /api/v1/teams": Expect(ok=CLINICIANS, listing=True),
    "GET /api/v1/teams/<team_id>": Expect(ok=CLINICIANS | {"doc2", "sup"}),
    "PATCH /api/v1/teams/<team_id>": Expect(ok=STAFF, body=lambda w: {"name": "第一团队"}, if_match=True),
    "POST /api/v1/archives/<archive_id>/contracts": Expect(ok=CLINICIANS, body=lambda w: {
        "team": w["team_id"], "package": "basic", "consent": {"given_by": "self", "method": "signature"}}),
    "GET /api/v1/archives/<archive_id>/contracts": Expect(ok=CLINICIANS),
    "GET /api/v1/contracts/<contract_id>": Expect(ok=CLINICIANS),
    "POST /api/v1/contracts/<contract_id>/renew": Expect(ok=CLINICIANS, body=lambda w: {
        "consent": {"given_by": "self", "method": "signature"}}),
    "POST /api/v1/contracts/<contract_id>/terminate": Expect(ok=CLINICIANS, body=lambda w: {
        "reason": "other", "note": "测试"}),
    "GET /api/v1/contracts/due": Expect(ok=CLINICIANS, listing=True),
    "GET /api/v1/contracts/to-sign": Expect(ok=CLINICIANS, listing=True),

    # Transfers: asked for by the receiving side (URBAN), decided by the releasing township
    "POST /api/v1/archives/<archive_id>/transfers": Expect(ok=RECEIVING, body=lambda w: TRANSFER),
    "GET /api/v1/transfers": Expect(ok=CLINICIANS | RECEIVING, listing=True),
    "GET /api/v1/transfers/<transfer_id>": Expect(ok=CLINICIANS | RECEIVING),
    "POST /api/v1/transfers/<transfer_id>/decision": Expect(ok=STAFF, body=lambda w: {"decision": "confirm"}),

    # Audit (admins see the whole trail)
    "GET /api/v1/audit": Expect(ok=STAFF | {"admin"}, listing=True),
    "GET /api/v1/audit/counts": Expect(ok=frozenset({"sup", "admin"}), listing=True),
    "GET /api/v1/audit/verify": Expect(ok=STAFF | {"sup", "admin"}, listing=True),
    "GET /api/v1/archives/<archive_id>/disclosures": Expect(ok=STAFF | {"admin"}),

    # Indicators and verification samples (drawn by sup, checked by staff2)
    "GET /api/v1/metrics/coverage": Expect(ok=EVERYONE - {"admin"}, listing=True),
    "POST /api/v1/metrics/samples": Expect(ok=STAFF | {"sup"}, body=lambda w: {"region": TOWNSHIP, "size": 1}),
    "GET /api/v1/metrics/samples": Expect(ok=frozenset({"sup", "staff2"}), listing=True),
    "GET /api/v1/metrics/samples/<sample_id>": Expect(ok=STAFF | {"sup"}),
    "POST /api/v1/metrics/samples/<sample_id>/close": Expect(ok=STAFF | {"sup"}, body=lambda w: {}),
    "POST /api/v1/metrics/samples/<sample_id>/results": Expect(ok=frozenset({"staff2"}), body=lambda w: {
        "archive_id": w["archive_id"], "qualified": True, "authentic": True, "method": "phone"}),

    # Pages
    "GET /": Expect(ok=CLINICIANS, listing=True),
    "POST /archives/search": Expect(ok=CLINICIANS, listing=True, body=lambda w: {"name": resident(0)["name"]}),
    "GET /archives/new": Expect(ok=EVERYONE, listing=True),
    "POST /archives/new": Expect(ok=CLINICIANS, body=lambda w: ARCHIVE_FORM(8)),
    "GET /archives/<archive_id>": Expect(ok=CLINICIANS),
    "GET /archives/<archive_id>/edit": Expect(ok=CLINICIANS),
    "POST /archives/<archive_id>/edit": Expect(ok=CLINICIANS, body=lambda w: {"phone": "13900000000"}),
    "GET /archives/<archive_id>/close": Expect(ok=CLINICIANS),
    "POST /archives/<archive_id>/close": Expect(ok=CLINICIANS, body=lambda w: CLOSE),
    "GET /archives/<archive_id>/visit": Expect(ok=CLINICIANS),
    "POST /archives/<archive_id>/visit": Expect(ok=CLINICIANS, body=lambda w: {"forms": "encounter"}),
    "GET /archives/<archive_id>/records/<record_id>/amend": Expect(ok=CLINICIANS),
    "POST /archives/<archive_id>/records/<record_id>/amend": Expect(ok=CLINICIANS, body=lambda w: {
        "reason": "录入错误", "reason_for_referral": "复查"}),
    "POST /archives/<archive_id>/break-glass": Expect(ok=EMERGENCY_OPENERS, body=lambda w: EMERGENCY),
    "GET /archives/<archive_id>/disclosures": Expect(ok=STAFF | {"admin"}),
    # Asking for a transfer starts from an archive code the resident brings: the form
    # shows nothing of the archive.
    "GET /archives/<archive_id>/transfer": Expect(ok=RECEIVING, listing=True),
    "POST /archives/<archive_id>/transfer": Expect(ok=RECEIVING, body=lambda w: TRANSFER),
    "GET /transfers/ask": Expect(ok=RECEIVING, listing=True, query={"archive_id": "{archive_id}"}),
    "GET /transfers": Expect(ok=CLINICIANS | RECEIVING, listing=True),
    "POST /transfers/<transfer_id>/decision": Expect(ok=STAFF, body=lambda w: {"decision": "confirm"}),
    "GET /review": Expect(ok=CLINICIANS, listing=True),
    "POST /review/<archive_id>": Expect(ok=STAFF, body=lambda w: {"verdict": "needs_correction", "note": "补充"}),
    "GET /access-requests": Expect(ok=CLINICIANS | {"sup"}, listing=True),
    "GET /access-requests/new": Expect(ok=EVERYONE - {"admin"}, listing=True),
    "POST /access-requests/new": Expect(ok=EVERYONE - {"admin"}, body=lambda w: {
        "archive_id": w["archive_id"], "purpose": "质量抽查", "application": "申请查阅", "days": "7"}),
    "GET /access-requests/<request_id>": Expect(ok=CLINICIANS | {"sup"}),
    "POST /access-requests/<request_id>/<step>": Expect(ok=STAFF, body=lambda w: {"decision": "approve"}),
    "GET /break-glass": Expect(ok=STAFF, listing=True),
    "POST /break-glass/<opening_id>/acknowledge": Expect(ok=STAFF, body=lambda w: {}),
    "GET /referrals": Expect(ok=STAFF, listing=True),
    "POST /referrals/<archive_id>/<record_id>/receive": Expect(ok=STAFF, body=lambda w: {}),
    "GET /audit": Expect(ok=STAFF | {"admin"}, listing=True),
    "GET /audit/verify": Expect(ok=STAFF | {"admin"}, listing=True),
    # Printed forms: whoever may read what they print.
    "GET /archives/<archive_id>/cover.pdf": Expect(ok=CLINICIANS),
    "GET /archives/<archive_id>/basic-info.pdf": Expect(ok=CLINICIANS),
    "GET /archives/<archive_id>/disclosures.pdf": Expect(ok=STAFF | {"admin"}),
    "GET /access-requests/<request_id>.pdf": Expect(ok=CLINICIANS | {"sup"}),
    # The indicators and verification samples.
    "GET /dashboard": Expect(ok=EVERYONE - {"admin"}, listing=True),
    "GET /dashboard.<any(xlsx, csv):file_format>": Expect(ok=EVERYONE - {"admin"}, listing=True,
                                                         params={"file_format": "csv"}),
    "GET /samples": Expect(ok=frozenset({"sup", "staff2"}), listing=True),
    "GET /samples/new": Expect(ok=STAFF | {"sup"}, listing=True),
    "POST /samples/new": Expect(ok=STAFF | {"sup"}, body=lambda w: {"region": TOWNSHIP, "size": "1"}),
    "GET /samples/<sample_id>": Expect(ok=STAFF | {"sup"}),
    "GET /samples/<sample_id>/archives/<archive_id>": Expect(ok=STAFF | {"sup"}),
    "POST /samples/<sample_id>/archives/<archive_id>": Expect(ok=frozenset({"staff2"}), body=lambda w: {
        "qualified": "true", "authentic": "true", "method": "phone"}),
    "POST /samples/<sample_id>/close": Expect(ok=STAFF | {"sup"}, body=lambda w: {}),
    # The administrators' pages.
    "GET /admin/users": Expect(ok=ADMINS),
    "GET /admin/users/new": Expect(ok=ADMINS),
    "POST /admin/users/new": Expect(ok=ADMINS, body=lambda w: {
        "username": "new.doctor", "role": "village_doctor", "region": VILLAGE}),
    "GET /admin/users/<username>": Expect(ok=ADMINS, params={"username": "doc"}),
    "POST /admin/users/<username>/password": Expect(ok=ADMINS, params={"username": "doc"}, body=lambda w: {}),
    "POST /admin/users/<username>/disable": Expect(ok=ADMINS, params={"username": "doc"}, body=lambda w: {}),
    "GET /admin/regions": Expect(ok=ADMINS),
    "POST /admin/regions": Expect(ok=ADMINS, body=lambda w: {}),
    "GET /admin/keys": Expect(ok=ADMINS),
}


# --- The world ---------------------------------------------------------------------------

@pytest.fixture
def world(app, client, people, make_user):
    """{name: id} of one thing of each kind, all in VILLAGE's township; every CAST user's
    bearer headers made."""
    for name in CAST:
        people[name]
    archive = make_archive(client, people["doc"])
    referral = make_record(client, people["doc"], archive, record_body("referral"))
    request = file_request(client, people["sup"], archive)
    # An emergency opening by someone outside the cast, so that it lets none of them in.
    make_user("er_doc", "village_doctor", URBAN)
    opened = client.post(f"/api/v1/archives/{archive}/break-glass", json=EMERGENCY,
                         headers=factories.bearer(client, "er_doc"))
    assert opened.status_code == 201, opened.get_json()
    team = make_team(client, people["staff"], members=("doc",), lead="staff")
    contract = make_contract(client, people["staff"], archive, team)
    sample = factories.draw_sample(client, people["sup"], TOWNSHIP, 1, checkers=["staff2"])
    transfer = factories.ask_transfer(client, people["urban_doc"], archive, URBAN)
    assert transfer.status_code == 201, transfer.get_json()
    return {
        "archive_id": archive, "record_id": referral["id"], "request_id": request["id"],
        "opening_id": opened.get_json()["id"], "team_id": team, "contract_id": contract["id"],
        "sample_id": sample["id"], "transfer_id": transfer.get_json()["id"], "step": "decision",
        "code": TOWNSHIP,
    }


def routes(app):
    """Every (method, rule) the app answers, as EXPECTED names it."""
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield f"{method} {rule.rule}", method, rule


def browsers(app):
    """A signed-in browser (test client with its session cookie) per CAST user."""
    signed_in = {}
    for name in CAST:
        signed_in[name] = app.test_client()
        assert signed_in[name].post("/login", data={"username": name, "password": PASSWORD}).status_code == 302
    return signed_in


def to_sign_in(answer):
    return answer.status_code == 302 and "/login" in answer.headers["Location"]


def judged(expect, name, api, answer, secrets):
    """What is wrong with `answer` to `name` (None: nobody signed in), or None. `secrets`
    are the resident's: shown to nobody the route does not serve."""
    status = answer.status_code
    if status >= 500:
        return f"{status}"
    if expect.public:
        return f"{status} without a user" if status == 401 or to_sign_in(answer) else None
    if name is None:
        right = status == 401 if api else to_sign_in(answer)
        return None if right else f"{status}, not {'401' if api else 'the sign-in page'}"
    if name in expect.ok:
        return f"{status} for a user it serves" if status >= 400 or to_sign_in(answer) else None
    if not expect.listing and status not in expect.refusals:
        return f"{status}, not refused"
    if expect.listing and (status == 401 or to_sign_in(answer)):
        return f"{status}: the user was not recognised"
    shown = [secret for secret in secrets if secret in answer.get_data(as_text=True)]
    return f"shows {shown}" if shown else None


def test_every_route_serves_only_those_it_should(app, client, world, people):
    known = {key for key, _method, _rule in routes(app)}
    assert not known - set(EXPECTED), f"give these routes a line in EXPECTED: {sorted(known - set(EXPECTED))}"
    assert not set(EXPECTED) - known, f"EXPECTED names routes that are gone: {sorted(set(EXPECTED) - known)}"
    pages = browsers(app)
    anonymous = app.test_client()
    wrong = []
    for key, method, rule in sorted(routes(app)):
        expect = EXPECTED[key]
        values = {**world, **expect.params}
        path = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]
        query = {name: value.format(**world) for name, value in expect.query.items()}
        api = path.startswith("/api/")
        body = expect.body(world) if expect.body else None
        # What a request sent may come back (a search form keeps the name typed in).
        secrets = [secret for secret in (resident(0)["name"], resident(0)["id_card"]) if secret not in str(body)]
        headers = {}
        if expect.if_match:
            headers["If-Match"] = client.get(path, headers=people["staff"]).headers["ETag"]
        for name in (None, *CAST):
            if method != "GET" and name in expect.ok:
                continue  # a write that succeeds changes the world: the domain's tests make them
            if api:
                answer = client.open(path, method=method, query_string=query, json=body,
                                     headers={**headers, **(people[name] if name else {})})
            else:
                answer = (pages[name] if name else anonymous).open(path, method=method, query_string=query,
                                                                   data=body)
            problem = judged(expect, name, api, answer, secrets)
            if problem:
                wrong.append(f"{key} as {name or 'nobody'}: {problem}")
    assert not wrong, "\n".join(wrong)


# --- Forms, cookies, headers ---------------------------------------------------------------

def counts(db):
    return {name: db[name].count_documents({}) for name in db.list_collection_names()}


def csrf_token(browser, base_url="http://localhost"):
    """The token the sign-in form carries for this browser's session."""
    page = browser.get("/login", base_url=base_url).get_data(as_text=True)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def test_every_form_without_its_token_is_refused_and_saves_nothing(app, client, db, people):
    archive = make_archive(client, people["doc"])
    people["staff"]
    app.config["WTF_CSRF_ENABLED"] = True
    browser = app.test_client()
    form = {"username": "staff", "password": PASSWORD, "csrf_token": csrf_token(browser)}
    assert browser.post("/login", data=form).status_code == 302
    # The token is checked before anything else: the ids need not exist, nor the bodies be right.
    world = {"archive_id": archive, "step": "decision"}
    before = counts(db)
    forms = [rule for _key, method, rule in sorted(routes(app))
             if method == "POST" and not rule.rule.startswith("/api/")]
    assert len(forms) > 10
    for rule in forms:
        path = rule.build({name: world.get(name, "1") for name in rule.arguments}, append_unknown=False)[1]
        answer = browser.post(path, data={"reason": "急诊", "decision": "approve", "name": "李秀英"})
        assert answer.status_code == 400, rule.rule
        assert "表单已失效，没有保存任何内容" in answer.get_data(as_text=True), rule.rule
    assert counts(db) == before
    assert browser.get("/").status_code == 200  # still signed in: only the forms were refused


def test_a_web_session_does_not_authenticate_the_api(app, client, people):
    # The API takes no CSRF token, so a browser's cookie must not work there.
    archive = make_archive(client, people["doc"])
    browser, _ = signed_in(app)
    assert browser.get(f"/archives/{archive}").status_code == 200
    assert browser.get(f"/api/v1/archives/{archive}").status_code == 401
    assert browser.post("/api/v1/archives", json=resident(9)).status_code == 401


def signed_in(app, username="doc"):
    browser = app.test_client()
    answer = browser.post("/login", data={"username": username, "password": PASSWORD})
    assert answer.status_code == 302
    return browser, answer


def test_the_session_cookie_is_http_only_and_same_site(app, people):
    people["doc"]
    _browser, answer = signed_in(app)
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie and "Expires" not in cookie  # plain http in tests; gone with the browser


def test_in_production_cookies_are_secure_and_https_is_required(app, people):
    people["doc"]
    production = factories.restarted(app, ENV="production", PASSWORD_PROFILE="rfc_9106_low_memory")
    browser = production.test_client()
    form = {"username": "doc", "password": PASSWORD, "csrf_token": csrf_token(browser, "https://localhost")}
    # Over https Flask-WTF also wants the form to come from the site's own page.
    answer = browser.post("/login", data=form, base_url="https://localhost",
                          headers={"Referer": "https://localhost/login"})
    assert answer.status_code == 302
    assert "Secure" in answer.headers["Set-Cookie"] and "HttpOnly" in answer.headers["Set-Cookie"]
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"


HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


def test_every_answer_carries_the_security_headers(app, people):
    headers = people["doc"]
    browser, _answer = signed_in(app)
    answers = {
        "a page": browser.get("/"),
        "an API answer": browser.get("/api/v1/auth/me", headers=headers),
        "an API problem": browser.get("/api/v1/archives/0", headers=headers),
        "an error page": browser.get(f"/archives/{factories.code(999)}"),
        "the token": browser.post("/api/v1/auth/token", json={"username": "doc", "password": PASSWORD}),
        "a probe": browser.get("/readyz"),
    }
    for what, answer in answers.items():
        assert answer.status_code < 500, what
        for name, value in HEADERS.items():
            assert answer.headers[name] == value, (what, name)
        policy = answer.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, what
        assert "unsafe" not in policy, what
        assert answer.headers["Cache-Control"] == "no-store", what  # personal data, or a token
        assert "Strict-Transport-Security" not in answer.headers, what  # plain http, cookies not secure
    assert browser.get("/", base_url="https://localhost").headers["Strict-Transport-Security"] == "max-age=31536000"
    # The same for everyone: the browser may keep it.
    style = browser.get("/assets/app.css")
    assert style.status_code == 200 and "no-store" not in style.headers.get("Cache-Control", "")
    assert style.headers["X-Content-Type-Options"] == "nosniff"


def test_no_template_has_an_inline_script_style_or_handler():
    # The content security policy allows none, so each would silently not work. Printed
    # forms are drawn by WeasyPrint into a PDF and never reach a browser as HTML: their
    # styles stay inline, so that drawing one fetches nothing (web/pdf.py).
    root = Path(__file__).resolve().parent.parent / "healthrec"
    inline = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=|javascript:", re.I)
    found = [f"{path.relative_to(root)}: {match.group()}" for path in root.rglob("templates/**/*.html")
             if "prints" not in path.parts
             for match in inline.finditer(path.read_text(encoding="utf-8"))]
    assert not found


# --- Sessions and tokens -------------------------------------------------------------------

def test_signing_out_ends_the_session_here_and_everywhere(app, people):
    people["doc"]
    browser, answer = signed_in(app)
    other_device, _ = signed_in(app)
    cookie = answer.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    assert browser.post("/logout").status_code == 302
    # The cookie as it was before signing out, kept by someone else: no longer valid.
    copied = app.test_client()
    copied.set_cookie("session", cookie)
    assert to_sign_in(copied.get("/"))
    assert to_sign_in(other_device.get("/"))
    again, _ = signed_in(app)
    assert again.get("/").status_code == 200


def test_a_new_password_ends_the_web_sessions(app, runner, people):
    people["doc"]
    browser, _ = signed_in(app)
    reset = runner.invoke(args=["users", "reset-password", "doc", "--password-stdin"], input="a brand new password\n")
    assert reset.exit_code == 0, reset.output
    assert to_sign_in(browser.get("/"))


def test_a_session_ends_when_idle_and_after_its_longest_time(app, people):
    people["doc"]

    def used(browser, key, minutes):
        with browser.session_transaction() as session:
            session[key] = int((now() - timedelta(minutes=minutes)).timestamp())
        return browser.get("/")

    for key, minutes, message in (("seen", 31, "您已 30 分钟未操作，系统已自动退出，请重新登录。"),
                                  ("started", 12 * 60 + 1, "登录已满 12 小时，系统已自动退出，请重新登录。")):
        browser, _ = signed_in(app)
        answer = used(browser, key, minutes)
        assert to_sign_in(answer), key
        assert message in browser.get(answer.headers["Location"]).get_data(as_text=True)
        assert to_sign_in(browser.get("/")), key  # the cookie was emptied

    browser, _ = signed_in(app)
    assert used(browser, "seen", 29).status_code == 200
    with browser.session_transaction() as session:
        assert now().timestamp() - session["seen"] < 60  # used now: another 30 minutes


def test_tokens_end_when_they_expire_or_are_revoked(client, db, people):
    headers, other = people["sup"], factories.bearer(client, "sup")
    assert client.delete("/api/v1/auth/token", headers=other).status_code == 204
    revoked = client.get("/api/v1/auth/me", headers=other)
    assert revoked.status_code == 401 and "not valid" in revoked.get_json()["detail"]
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200  # only the token sent ends
    db.tokens.update_many({}, {"$set": {"expires_at": now() - timedelta(seconds=1)}})
    expired = client.get("/api/v1/auth/me", headers=headers)
    assert expired.status_code == 401 and "expired" in expired.get_json()["detail"]
